#[derive(sonic_db_core::Table)]
enum User {
    Admin,
}

fn main() {}
