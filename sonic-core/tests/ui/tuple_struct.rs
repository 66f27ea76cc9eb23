#[derive(sonic_db_core::Table)]
struct User(String);

fn main() {}
