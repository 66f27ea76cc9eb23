#[derive(sonic_db_core::Table)]
struct Item {
    #[column(primary_key)]
    id: Option<i32>,
}

fn main() {}
