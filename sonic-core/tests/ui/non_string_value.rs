#[derive(sonic_db_core::Table)]
#[table(name = users)]
struct User {
    #[column(primary_key)]
    id: String,
    #[column(rename = 5, default = 0)]
    email: String,
}

fn main() {}
