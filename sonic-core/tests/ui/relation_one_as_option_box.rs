// A `one` relation is a `One<T>`: `Option<Box<T>>` cannot tell "not loaded" from "loaded, no
// match", which JSON shows as an absent key and `null`.
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
    user_id: String,
    #[relation(one, local = user_id)]
    author: Option<Box<User>>,
}

fn main() {}
