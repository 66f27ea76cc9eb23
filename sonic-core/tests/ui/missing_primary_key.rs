#[derive(sonic_db_core::Table)]
struct User {
    id: String,
    email: String,
}

fn main() {}
