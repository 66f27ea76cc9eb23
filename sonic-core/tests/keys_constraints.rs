//! Keys and constraints (#12 item 1): database-generated keys, table-level `UNIQUE`, indexes,
//! `CHECK` and `STRICT`, and declared defaults applied by typed inserts.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(all(feature = "rusqlite", feature = "derive"))]

use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{CacheConfig, Capabilities, Db, Error, MemoryKv, Schema, Table};

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

/// A shop's stock: a generated key, a composite unique key, a two-column index, a `CHECK`,
/// `STRICT`, and a column with a declared default.
#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(
    name = "items",
    unique(shop, sku),
    index(shop, price),
    check = "price >= 0",
    check = "length(sku) > 0",
    strict
)]
struct Item {
    #[column(primary_key)]
    id: Option<i64>,
    shop: String,
    sku: String,
    price: i64,
    #[column(default = "'draft'")]
    state: Option<String>,
    #[column(default = "7")]
    stock: Option<i64>,
}

impl Item {
    fn new(shop: &str, sku: &str, price: i64) -> Item {
        Item {
            id: None,
            shop: shop.into(),
            sku: sku.into(),
            price,
            state: None,
            stock: None,
        }
    }
}

fn setup_with(capabilities: Capabilities) -> (Db, CountingSql<SqliteBackend>) {
    let sqlite = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(capabilities);
    sqlite
        .exec(&Schema::new().table::<Item>().to_sql())
        .unwrap();
    let sql = CountingSql::new(sqlite);
    (Db::new(sql.clone()), sql)
}

fn setup() -> (Db, CountingSql<SqliteBackend>) {
    setup_with(Capabilities::SQLITE)
}

#[test]
fn an_option_i64_key_is_generated_and_returned() {
    let (db, sql) = setup();
    let first = block_on(db.insert(&Item::new("s1", "a", 10))).unwrap();
    let second = block_on(db.insert(&Item::new("s1", "b", 20))).unwrap();
    let (a, b) = (first.id.unwrap(), second.id.unwrap());
    assert_ne!(a, b);
    assert!(sql.statements()[0].sql.contains("RETURNING"));
    assert_eq!(block_on(db.find::<Item>(a)).unwrap(), Some(first.clone()));
    assert_eq!(block_on(db.find::<Item>(b)).unwrap(), Some(second));

    // A key given is kept.
    let mut given = Item::new("s2", "a", 1);
    given.id = Some(1_000);
    assert_eq!(block_on(db.insert(&given)).unwrap().id, Some(1_000));

    // Updates and deletes go by the stored key.
    let mut changed = first.clone();
    changed.price = 11;
    assert_eq!(block_on(db.update(&changed)).unwrap().price, 11);
    assert!(block_on(db.delete::<Item>(a)).unwrap());
    assert_eq!(block_on(db.find::<Item>(a)).unwrap(), None);

    // A record that was never stored has no key to update by.
    let err = block_on(db.update(&Item::new("s1", "c", 1))).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery(m) if m.contains("items") && m.contains("generated")),
        "{err}"
    );
    assert!(
        !Item::DEF.primary_key_column().unwrap().nullable,
        "stored NOT NULL"
    );
}

#[test]
fn bulk_inserts_return_every_generated_key_in_order_across_chunks() {
    // D1's 100 parameters: 6 columns, 16 rows per statement.
    let d1 = Capabilities {
        max_params: 100,
        ..Capabilities::SQLITE
    };
    let (db, sql) = setup_with(d1);
    let items: Vec<Item> = (0..50)
        .map(|i| Item::new("bulk", &format!("sku-{i:02}"), i))
        .collect();
    let stored = block_on(db.insert_many(&items)).unwrap();
    assert!(
        sql.statement_count() >= 4,
        "chunked: {}",
        sql.statement_count()
    );
    assert_eq!(stored.len(), 50);
    let skus: Vec<&str> = stored.iter().map(|i| i.sku.as_str()).collect();
    let expected: Vec<String> = (0..50).map(|i| format!("sku-{i:02}")).collect();
    assert_eq!(
        skus,
        expected.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let ids: Vec<i64> = stored.iter().map(|i| i.id.unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    for item in &stored {
        assert_eq!(
            block_on(db.find::<Item>(item.id.unwrap()))
                .unwrap()
                .as_ref(),
            Some(item)
        );
    }
}

#[test]
fn the_cache_keys_an_inserted_record_by_its_generated_key() {
    let kv = MemoryKv::new();
    let (db, _sql) = setup();
    let db = db.with_kv(kv.clone(), CacheConfig::new()).unwrap();
    let stored = block_on(db.insert(&Item::new("s1", "a", 10))).unwrap();
    let id = stored.id.unwrap();
    assert_eq!(block_on(db.find::<Item>(id)).unwrap(), Some(stored.clone()));
    let keys = kv.keys();
    assert!(
        keys.iter()
            .any(|k| k.contains("items") && k.ends_with(&id.to_string())),
        "{keys:?}"
    );
    // Served from KV: the row changed behind the cache's back is not seen.
    block_on(db.sql("UPDATE items SET price = 99").run()).unwrap();
    assert_eq!(block_on(db.find::<Item>(id)).unwrap(), Some(stored));
}

#[test]
fn an_upsert_without_a_key_inserts() {
    let (db, _sql) = setup();
    let stored = block_on(db.upsert(&Item::new("s1", "a", 10))).unwrap();
    assert!(stored.id.is_some());
    let mut again = stored.clone();
    again.price = 12;
    assert_eq!(block_on(db.upsert(&again)).unwrap(), again);
    assert_eq!(block_on(db.select::<Item>().count()).unwrap(), 1);
}

#[test]
fn table_constraints_are_in_the_ddl() {
    let statements = Schema::new().table::<Item>().statements();
    let create = &statements[0];
    assert!(
        create.contains(r#"CONSTRAINT "items_shop_sku_key" UNIQUE ("shop", "sku")"#),
        "{create}"
    );
    assert!(
        create.contains(r#"CONSTRAINT "items_check_1" CHECK (price >= 0)"#),
        "{create}"
    );
    assert!(
        create.contains(r#"CONSTRAINT "items_check_2" CHECK (length(sku) > 0)"#),
        "{create}"
    );
    assert!(create.ends_with(") STRICT"), "{create}");
    assert!(
        create.contains(r#""id" INTEGER NOT NULL PRIMARY KEY"#),
        "{create}"
    );
    assert_eq!(
        statements[1],
        r#"CREATE INDEX IF NOT EXISTS "items_shop_price_idx" ON "items" ("shop", "price")"#
    );
}

#[test]
fn constraint_violations_name_the_table_and_constraint() {
    let (db, _sql) = setup();
    block_on(db.insert(&Item::new("s1", "a", 10))).unwrap();
    let err = block_on(db.insert(&Item::new("s1", "a", 11))).unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { message } if message.contains("items.shop, items.sku")),
        "{err}"
    );
    // The same sku in another shop is fine.
    block_on(db.insert(&Item::new("s2", "a", 11))).unwrap();

    let err = block_on(db.insert(&Item::new("s1", "b", -1))).unwrap_err();
    assert!(
        matches!(&err, Error::ConstraintViolation { message } if message.contains("items_check_1")),
        "{err}"
    );
    let err = block_on(db.insert(&Item::new("s1", "", 1))).unwrap_err();
    assert!(err.to_string().contains("items_check_2"), "{err}");
    assert_eq!(block_on(db.select::<Item>().count()).unwrap(), 2);
}

#[test]
fn a_strict_table_refuses_values_of_another_type() {
    let (db, _sql) = setup();
    let err = block_on(
        db.sql("INSERT INTO items (shop, sku, price) VALUES ('s', 'x', 'twelve')")
            .run(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("items.price"), "{err}");
    // Not strict, SQLite would have stored the text.
    let loose = SqliteBackend::memory().unwrap();
    loose
        .exec("CREATE TABLE t (price INTEGER); INSERT INTO t VALUES ('twelve');")
        .unwrap();
}

#[test]
fn a_none_takes_the_declared_default_on_every_insert_path() {
    let (db, _sql) = setup();
    let inserted = block_on(db.insert(&Item::new("s1", "a", 1))).unwrap();
    assert_eq!(
        (inserted.state.as_deref(), inserted.stock),
        (Some("draft"), Some(7))
    );
    let many =
        block_on(db.insert_many(&[Item::new("s1", "b", 1), Item::new("s1", "c", 1)])).unwrap();
    assert!(many
        .iter()
        .all(|i| i.state.as_deref() == Some("draft") && i.stock == Some(7)));
    let upserted = block_on(db.upsert(&Item::new("s1", "d", 1))).unwrap();
    assert_eq!(upserted.state.as_deref(), Some("draft"));
    let mut batch = db.batch();
    let pending = batch.insert(&Item::new("s1", "e", 1)).unwrap();
    let mut results = block_on(batch.run()).unwrap();
    assert_eq!(results.take(pending).unwrap().stock, Some(7));

    // A value given is stored as given.
    let mut given = Item::new("s1", "f", 1);
    given.state = Some("live".into());
    given.stock = Some(0);
    let stored = block_on(db.insert(&given)).unwrap();
    assert_eq!(
        (stored.state.as_deref(), stored.stock),
        (Some("live"), Some(0))
    );
    // An update writes NULL: defaults apply to inserts only.
    let mut cleared = stored.clone();
    cleared.state = None;
    assert_eq!(block_on(db.update(&cleared)).unwrap().state, None);
}
