use sonic_db_core::Table;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: String,
}

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: String,
    #[column(references = User::IDD)]
    user_id: String,
    #[column(references = Usr::ID)]
    editor_id: String,
}

fn main() {}
