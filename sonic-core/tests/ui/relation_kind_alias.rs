// Through type aliases, the derive cannot see the relation's shape: the compiler checks it.
use sonic_db_core::Table;

type Posts = sonic_db_core::One<Post>;
type Author = Option<Vec<User>>;

#[derive(Table)]
struct User {
    #[column(primary_key)]
    id: String,
    #[relation(many, remote = user_id)]
    posts: Posts,
}

#[derive(Table)]
struct Post {
    #[column(primary_key)]
    id: String,
    user_id: String,
    #[relation(one, local = user_id)]
    author: Author,
}

fn main() {}
