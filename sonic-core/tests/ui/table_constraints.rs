#[derive(sonic_db_core::Table)]
#[table(
    unique(shop),
    unique(shop, nope),
    index(shop, shop),
    index = "shop",
    check = "price > 0); DROP TABLE items; --",
    check = "(price > 0",
    strict = true
)]
struct Item {
    #[column(primary_key)]
    id: Option<i64>,
    shop: String,
    price: i64,
}

fn main() {}
