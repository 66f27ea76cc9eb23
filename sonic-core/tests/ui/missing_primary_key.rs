#[derive(sonic_core::Table)]
struct User {
    id: String,
    email: String,
}

fn main() {}
