use sonic_db_core::Audit;

#[derive(sonic_db_core::Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[audit]
    audit: Audit,
    created_on: i64,
    #[column(rename = "updated_on")]
    changed: i64,
}

fn main() {}
