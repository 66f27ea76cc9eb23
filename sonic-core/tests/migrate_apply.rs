//! `Migrations::apply` and `status`: the migration files run natively in order, each with its
//! record in wrangler's `d1_migrations` table, rows kept across migrations, a failing file
//! leaving no trace.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use sonic_db_core::migrate::{MigrateError, Migrations, MIGRATIONS_TABLE};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::Schema;

mod v1 {
    #[derive(Debug, Clone, sonic_db_core::Table)]
    #[table(name = "notes")]
    pub struct Note {
        #[column(primary_key)]
        pub id: String,
        pub text: String,
    }
}

mod v2 {
    #[derive(Debug, Clone, sonic_db_core::Table)]
    #[table(name = "notes")]
    pub struct Note {
        #[column(primary_key)]
        pub id: String,
        pub text: String,
        #[column(default = "0")]
        pub stars: i64,
    }
}

/// A fresh directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sonic-apply-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn query(sqlite: &SqliteBackend, sql: &str) -> Vec<Vec<String>> {
    sqlite.with_connection(|conn| {
        let mut stmt = conn.prepare(sql).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |row| {
            Ok((0..n)
                .map(|i| match row.get::<_, rusqlite::types::Value>(i).unwrap() {
                    rusqlite::types::Value::Text(t) => t,
                    other => format!("{other:?}"),
                })
                .collect())
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    })
}

#[test]
fn files_apply_in_order_once_each_and_keep_the_rows() {
    let dir = TempDir::new();
    let migrations = Migrations::new(&dir.0);
    let sqlite = SqliteBackend::memory().unwrap();
    assert!(
        migrations.status(&sqlite).unwrap().is_empty(),
        "no files yet"
    );

    migrations
        .write_next("init", &Schema::new().table::<v1::Note>())
        .unwrap();
    assert_eq!(migrations.apply(&sqlite).unwrap(), ["0001_init.sql"]);
    sqlite
        .exec("INSERT INTO notes (id, text) VALUES ('n1', 'kept')")
        .unwrap();

    migrations
        .write_next("stars", &Schema::new().table::<v2::Note>())
        .unwrap();
    let status = migrations.status(&sqlite).unwrap();
    let names: Vec<(&str, bool)> = status
        .iter()
        .map(|s| (s.name.as_str(), s.applied_at.is_some()))
        .collect();
    assert_eq!(names, [("0001_init.sql", true), ("0002_stars.sql", false)]);

    assert_eq!(migrations.apply(&sqlite).unwrap(), ["0002_stars.sql"]);
    assert!(migrations.apply(&sqlite).unwrap().is_empty(), "idempotent");
    assert_eq!(
        query(&sqlite, "SELECT id, text, stars FROM notes"),
        [["n1", "kept", "Integer(0)"]]
    );
    // wrangler's record: the file names, in order.
    assert_eq!(
        query(
            &sqlite,
            &format!("SELECT name FROM {MIGRATIONS_TABLE} ORDER BY id")
        ),
        [["0001_init.sql"], ["0002_stars.sql"]]
    );
    assert!(migrations
        .status(&sqlite)
        .unwrap()
        .iter()
        .all(|s| s.applied_at.is_some()));
}

#[test]
fn a_failing_file_is_neither_applied_nor_recorded_and_stops_the_run() {
    let dir = TempDir::new();
    std::fs::create_dir_all(&dir.0).unwrap();
    let write = |name: &str, sql: &str| std::fs::write(dir.0.join(name), sql).unwrap();
    write("0001_init.sql", "CREATE TABLE t (id TEXT PRIMARY KEY);");
    // Its first statement works, its second does not: the whole file must roll back.
    write(
        "0002_broken.sql",
        "CREATE TABLE half (x); INSERT INTO missing VALUES (1);",
    );
    write("0003_later.sql", "CREATE TABLE later (y);");
    let migrations = Migrations::new(&dir.0);
    let sqlite = SqliteBackend::memory().unwrap();

    let err = migrations.apply(&sqlite).unwrap_err();
    match &err {
        MigrateError::Apply { name, .. } => assert_eq!(name, "0002_broken.sql"),
        other => panic!("expected Apply, got {other:?}"),
    }
    assert!(err.to_string().contains("missing"), "{err}");
    let tables = query(
        &sqlite,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         ORDER BY name",
    );
    assert_eq!(tables, [["d1_migrations"], ["t"]], "no `half`, no `later`");
    let pending: Vec<String> = migrations
        .status(&sqlite)
        .unwrap()
        .into_iter()
        .filter(|s| s.applied_at.is_none())
        .map(|s| s.name)
        .collect();
    assert_eq!(pending, ["0002_broken.sql", "0003_later.sql"]);

    // Fixed, the run continues where it stopped.
    write("0002_broken.sql", "CREATE TABLE half (x);");
    assert_eq!(
        migrations.apply(&sqlite).unwrap(),
        ["0002_broken.sql", "0003_later.sql"]
    );
}

#[test]
fn foreign_keys_are_checked_when_a_file_commits() {
    let dir = TempDir::new();
    std::fs::create_dir_all(&dir.0).unwrap();
    // A child row inserted before its parent within one file is fine (deferred checks, as
    // on D1); a file that commits a dangling reference is refused.
    std::fs::write(
        dir.0.join("0001_init.sql"),
        "CREATE TABLE p (id TEXT PRIMARY KEY);
         CREATE TABLE c (id TEXT PRIMARY KEY, p_id TEXT REFERENCES p(id));
         INSERT INTO c VALUES ('c1', 'p1');
         INSERT INTO p VALUES ('p1');",
    )
    .unwrap();
    std::fs::write(
        dir.0.join("0002_dangling.sql"),
        "INSERT INTO c VALUES ('c2', 'nobody');",
    )
    .unwrap();
    let migrations = Migrations::new(&dir.0);
    let sqlite = SqliteBackend::memory().unwrap();
    let err = migrations.apply(&sqlite).unwrap_err();
    assert!(
        matches!(&err, MigrateError::Apply { name, .. } if name == "0002_dangling.sql"),
        "{err:?}"
    );
    assert_eq!(query(&sqlite, "SELECT id FROM c"), [["c1"]]);
}

#[test]
fn the_record_table_has_wranglers_columns() {
    let dir = TempDir::new();
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::write(dir.0.join("0001_init.sql"), "CREATE TABLE t (x);").unwrap();
    let sqlite = SqliteBackend::memory().unwrap();
    Migrations::new(&dir.0).apply(&sqlite).unwrap();
    // The same columns e2e/tests/migrations.test.mjs reads from a database that
    // `wrangler d1 migrations apply --local` migrated.
    let columns = query(
        &sqlite,
        "SELECT name, type, \"notnull\", quote(dflt_value), pk \
         FROM pragma_table_info('d1_migrations')",
    );
    assert_eq!(
        columns,
        [
            ["id", "INTEGER", "Integer(0)", "NULL", "Integer(1)"],
            ["name", "TEXT", "Integer(0)", "NULL", "Integer(0)"],
            [
                "applied_at",
                "TIMESTAMP",
                "Integer(1)",
                "'CURRENT_TIMESTAMP'",
                "Integer(0)"
            ],
        ]
    );
}
