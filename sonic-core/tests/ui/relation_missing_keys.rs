use sonic_db_core::Table;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[relation(many)]
    posts: Option<Vec<Post>>,
}

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: String,
    user_id: String,
    #[relation(one)]
    author: sonic_db_core::One<User>,
    #[relation(local = user_id)]
    writer: sonic_db_core::One<User>,
}

fn main() {}
