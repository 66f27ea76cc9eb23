#[derive(sonic_db_core::Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[column(primary_key)]
    email: String,
}

fn main() {}
