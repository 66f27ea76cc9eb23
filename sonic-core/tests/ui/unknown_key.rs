#[derive(sonic_db_core::Table)]
#[table(nme = "users")]
struct User {
    #[column(primary_key, uniqe)]
    id: String,
    #[column(rename = "mail", size(40))]
    email: String,
}

fn main() {}
