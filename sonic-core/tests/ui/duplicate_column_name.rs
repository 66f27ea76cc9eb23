#[derive(sonic_db_core::Table)]
struct User {
    #[column(primary_key)]
    id: String,
    email: String,
    #[column(rename = "email")]
    mail: String,
}

fn main() {}
