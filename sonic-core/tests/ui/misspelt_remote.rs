use sonic_db_core::Table;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[relation(many, remote = usr_id)]
    posts: Option<Vec<Post>>,
}

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: String,
    user_id: String,
}

fn main() {}
