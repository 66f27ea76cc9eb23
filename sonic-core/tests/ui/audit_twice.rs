use sonic_db_core::Audit;

#[derive(sonic_db_core::Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[audit]
    audit: Audit,
    #[audit]
    again: Audit,
}

fn main() {}
