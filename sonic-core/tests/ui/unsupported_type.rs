use std::collections::HashMap;

#[derive(sonic_db_core::Table)]
struct User {
    #[column(primary_key)]
    id: String,
    tags: HashMap<String, String>,
}

fn main() {}
