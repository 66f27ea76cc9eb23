#[derive(sonic_core::Table)]
struct User {
    #[column(primary_key)]
    id: Option<String>,
}

fn main() {}
