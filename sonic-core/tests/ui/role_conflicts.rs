use sonic_db_core::Audit;

#[derive(sonic_db_core::Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[audit]
    #[column(unique)]
    audit: Audit,
    #[audit(created)]
    other: Audit,
    #[column(unique = true)]
    email: String,
    #[column(references = ID)]
    boss_id: String,
}

fn main() {}
