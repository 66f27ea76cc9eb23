use sonic_db_core::Table;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[relation(many, remote = user_id)]
    posts: Option<Vec<Post>>,
}

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: String,
    #[column(references = User::ID)]
    user_id: i64,
}

fn main() {}
