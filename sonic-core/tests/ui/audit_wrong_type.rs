#[derive(sonic_db_core::Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[audit]
    audit: i64,
}

fn main() {}
