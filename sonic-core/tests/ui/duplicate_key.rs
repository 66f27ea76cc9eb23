#[derive(sonic_db_core::Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[column(unique, unique)]
    email: String,
    #[column(rename = "a")]
    #[column(rename = "b")]
    name: String,
}

fn main() {}
