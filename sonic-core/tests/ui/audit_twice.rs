use sonic_core::Audit;

#[derive(sonic_core::Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[audit]
    audit: Audit,
    #[audit]
    again: Audit,
}

fn main() {}
