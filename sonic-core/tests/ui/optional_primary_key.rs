#[derive(sonic_db_core::Table)]
struct User {
    #[column(primary_key)]
    id: Option<String>,
}

fn main() {}
