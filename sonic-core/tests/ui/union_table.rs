#[derive(sonic_core::Table)]
union User {
    id: i64,
}

fn main() {}
