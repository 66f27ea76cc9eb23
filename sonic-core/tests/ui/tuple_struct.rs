#[derive(sonic_core::Table)]
struct User(String);

fn main() {}
