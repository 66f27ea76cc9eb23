#[derive(sonic_core::Table)]
enum User {
    Admin,
}

fn main() {}
