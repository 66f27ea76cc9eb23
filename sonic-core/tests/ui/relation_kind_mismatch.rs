use sonic_db_core::{One, Table};

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[relation(many, remote = user_id)]
    posts: One<Post>,
}

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: String,
    user_id: String,
    #[relation(one, local = user_id)]
    author: Option<Vec<User>>,
}

fn main() {}
