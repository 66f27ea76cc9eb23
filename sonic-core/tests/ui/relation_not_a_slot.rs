use sonic_db_core::Table;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[relation(many, remote = user_id)]
    posts: Vec<Post>,
    #[relation(many, remote = user_id)]
    drafts: Option<Post>,
}

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: String,
    user_id: String,
}

fn main() {}
