#[derive(sonic_db_core::Table)]
struct User {
    #[column(primary_key, secret)]
    id: String,
    #[column(secret = true)]
    password: String,
    #[column(secret, unique, secret)]
    token: String,
}

fn main() {}
