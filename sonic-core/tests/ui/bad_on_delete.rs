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
    #[column(references = User::ID, on_delete = "destroy")]
    user_id: String,
    #[column(on_delete = "cascade")]
    editor_id: String,
}

fn main() {}
