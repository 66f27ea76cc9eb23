//! Table-level constraints in generated migrations (#12 item 1): adding or removing a
//! composite `UNIQUE`, a `CHECK` or `STRICT` rebuilds the table (SQLite cannot `ALTER` them)
//! with its rows kept; a multi-column index alone is a `CREATE` / `DROP INDEX`; the live
//! database then agrees with the schema (`check`) and the snapshot with the code.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(all(feature = "rusqlite", feature = "derive"))]

use std::path::PathBuf;

use sonic_db_core::migrate::{check, Migrations, SchemaSnapshot};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::Schema;

mod v1 {
    #[derive(sonic_db_core::Table)]
    #[table(name = "items")]
    pub struct Item {
        #[column(primary_key)]
        pub id: Option<i64>,
        pub shop: String,
        pub sku: String,
        pub price: i64,
    }
}

mod v2 {
    #[derive(sonic_db_core::Table)]
    #[table(
        name = "items",
        unique(shop, sku),
        index(shop, price),
        check = "price >= 0",
        strict
    )]
    pub struct Item {
        #[column(primary_key)]
        pub id: Option<i64>,
        pub shop: String,
        pub sku: String,
        pub price: i64,
    }
}

/// v2 without the index.
mod v3 {
    #[derive(sonic_db_core::Table)]
    #[table(name = "items", unique(shop, sku), check = "price >= 0", strict)]
    pub struct Item {
        #[column(primary_key)]
        pub id: Option<i64>,
        pub shop: String,
        pub sku: String,
        pub price: i64,
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rows(sqlite: &SqliteBackend) -> Vec<(i64, String, String, i64)> {
    sqlite.with_connection(|conn| {
        let mut stmt = conn
            .prepare("SELECT id, shop, sku, price FROM items ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    })
}

fn generate(migrations: &Migrations, name: &str, schema: &Schema) -> String {
    let path = migrations.write_next(name, schema).unwrap().unwrap();
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn constraints_come_and_go_by_rebuilds_and_indexes_by_create_and_drop() {
    let dir =
        TempDir(std::env::temp_dir().join(format!("sonic-constraints-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    let migrations = Migrations::new(&dir.0);
    let sqlite = SqliteBackend::memory().unwrap();
    generate(&migrations, "init", &Schema::new().table::<v1::Item>());
    migrations.apply(&sqlite).unwrap();
    sqlite
        .exec("INSERT INTO items (shop, sku, price) VALUES ('s1', 'a', 1), ('s1', 'b', 2), ('s2', 'a', 3)")
        .unwrap();
    let before = rows(&sqlite);

    let v2 = Schema::new().table::<v2::Item>();
    let sql = generate(&migrations, "constraints", &v2);
    assert!(sql.contains("-- Rebuild \"items\""), "{sql}");
    assert!(sql.contains("new UNIQUE (shop, sku)"), "{sql}");
    assert!(sql.contains("now STRICT"), "{sql}");
    assert!(
        sql.contains("CREATE INDEX IF NOT EXISTS \"items_shop_price_idx\" ON \"items\" (\"shop\", \"price\")"),
        "{sql}"
    );
    migrations.apply(&sqlite).unwrap();
    assert_eq!(
        rows(&sqlite),
        before,
        "the rebuild keeps the rows and their keys"
    );
    assert!(
        check(&sqlite, &v2).unwrap().is_empty(),
        "the database is the schema"
    );
    assert_eq!(
        migrations.plan(&v2).unwrap(),
        None,
        "the snapshot is the schema"
    );
    let duplicate = sqlite.exec("INSERT INTO items (shop, sku, price) VALUES ('s1', 'a', 9)");
    assert!(duplicate.unwrap_err().to_string().contains("UNIQUE"));
    let negative = sqlite.exec("INSERT INTO items (shop, sku, price) VALUES ('s3', 'a', -1)");
    assert!(negative.unwrap_err().to_string().contains("items_check_1"));

    // Only the index goes: no rebuild.
    let v3 = Schema::new().table::<v3::Item>();
    let sql = generate(&migrations, "no_index", &v3);
    let statements: Vec<&str> = sql
        .lines()
        .filter(|l| !l.starts_with("--") && !l.is_empty())
        .collect();
    assert_eq!(
        statements,
        ["DROP INDEX IF EXISTS \"items_shop_price_idx\";"],
        "{sql}"
    );
    migrations.apply(&sqlite).unwrap();

    // Back to v1: the constraints go by a rebuild, rows kept.
    let v1 = Schema::new().table::<v1::Item>();
    let sql = generate(&migrations, "plain", &v1);
    assert!(sql.contains("UNIQUE (shop, sku) removed"), "{sql}");
    assert!(sql.contains("no longer STRICT"), "{sql}");
    migrations.apply(&sqlite).unwrap();
    assert_eq!(rows(&sqlite), before);
    sqlite
        .exec("INSERT INTO items (shop, sku, price) VALUES ('s1', 'a', -9)")
        .unwrap();
}

#[test]
fn snapshots_without_constraints_read_and_write_as_before() {
    let v1 = Schema::new().table::<v1::Item>().snapshot();
    let json = serde_json::to_string(&v1).unwrap();
    assert!(
        !json.contains("unique") && !json.contains("checks") && !json.contains("strict"),
        "{json}"
    );
    let v2 = Schema::new().table::<v2::Item>().snapshot();
    let json = serde_json::to_string(&v2).unwrap();
    let read: SchemaSnapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(read, v2);
    assert!(read.check().is_ok());
    let mut bad = v2.clone();
    bad.tables[0].checks[0] = "1); DROP TABLE items; --".into();
    assert!(bad.check().unwrap_err().contains("CHECK"));
    let mut bad = v2;
    bad.tables[0].unique[0][1] = "nope".into();
    assert!(bad.check().unwrap_err().contains("nope"));
}
