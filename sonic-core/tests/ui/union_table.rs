#[derive(sonic_db_core::Table)]
union User {
    id: i64,
}

fn main() {}
