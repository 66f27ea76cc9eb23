//! A live database read back as a snapshot: through `Db` (any backend; what a Worker runs on
//! D1) and natively through rusqlite, the same answer, covering what SQLite's pragmas report
//! awkwardly (a reference without a column, an expression index, defaults in parentheses).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg(feature = "rusqlite")]

use sonic_db_core::migrate::{inspect, inspect_db, ReferenceSnapshot};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Capabilities, Db};

const DDL: &str = "
    CREATE TABLE shops (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE) STRICT;
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        shop_id INTEGER REFERENCES shops ON DELETE CASCADE,
        sku TEXT NOT NULL,
        price INTEGER DEFAULT 0,
        state TEXT DEFAULT 'draft',
        created_on INTEGER DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
        UNIQUE (shop_id, sku)
    );
    CREATE INDEX items_price_state ON items (price, state);
    CREATE INDEX items_lower_sku ON items (lower(sku));
    CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY, name TEXT);
";

#[test]
fn through_db_and_natively_the_same_snapshot() {
    let native = SqliteBackend::memory().unwrap();
    native.exec(DDL).unwrap();
    let through_db = SqliteBackend::memory().unwrap();
    through_db.exec(DDL).unwrap();
    let db = Db::new(through_db);
    let from_db = pollster::block_on(inspect_db(&db)).unwrap();
    let snapshot = inspect(&native).unwrap();
    assert_eq!(from_db, snapshot);

    let names: Vec<&str> = snapshot.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["shops", "items"], "wrangler's table is left out");
    let shops = snapshot.table("shops").unwrap();
    assert!(shops.strict && shops.column("name").unwrap().unique);
    let items = snapshot.table("items").unwrap();
    assert!(!items.strict);
    assert_eq!(
        items.column("shop_id").unwrap().references,
        Some(ReferenceSnapshot {
            table: "shops".into(),
            column: "id".into(), // the parent's key, which the DDL left implicit
            on_delete: Some("CASCADE".into()),
        })
    );
    assert_eq!(items.unique, [["shop_id", "sku"]]);
    let indexes: Vec<(&str, &str, &[String])> = items
        .indexes
        .iter()
        .map(|i| {
            (
                i.name.as_str(),
                i.column.as_str(),
                i.more_columns.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        indexes,
        [("items_price_state", "price", &["state".to_string()][..])],
        "the expression index is not in a snapshot"
    );
    let default = |c: &str| items.column(c).unwrap().default.clone();
    assert_eq!(default("price").as_deref(), Some("0"));
    assert_eq!(default("state").as_deref(), Some("'draft'"));
    assert_eq!(
        default("created_on").as_deref(),
        Some("(CAST(unixepoch('subsec') * 1000 AS INTEGER))"),
        "an expression default keeps the parentheses the schema writes"
    );
}

#[test]
fn a_round_longer_than_a_batch_goes_in_several() {
    let native = SqliteBackend::memory().unwrap();
    native.exec(DDL).unwrap();
    let small_batches = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(Capabilities {
            max_batch_statements: 2,
            ..Capabilities::SQLITE
        });
    small_batches.exec(DDL).unwrap();
    let db = Db::new(small_batches);
    assert_eq!(
        pollster::block_on(inspect_db(&db)).unwrap(),
        inspect(&native).unwrap()
    );
}
