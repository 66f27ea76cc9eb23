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
    #[relation(one, local = usr_id)]
    author: sonic_db_core::One<User>,
}

fn main() {}
