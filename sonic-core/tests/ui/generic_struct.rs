#[derive(sonic_db_core::Table)]
struct User<T> {
    #[column(primary_key)]
    id: T,
}

fn main() {}
