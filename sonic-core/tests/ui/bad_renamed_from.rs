// `renamed_from`: not the current name, not a name another field still has, one column per
// former name.
#[derive(sonic_db_core::Table)]
#[table(name = "users", renamed_from = "users")]
struct User {
    #[column(primary_key)]
    id: String,
    #[column(renamed_from = "email")]
    email: String,
    #[column(renamed_from = "id")]
    login: String,
    #[column(renamed_from = "nick")]
    name: String,
    #[column(renamed_from = "nick")]
    handle: String,
}

fn main() {}
