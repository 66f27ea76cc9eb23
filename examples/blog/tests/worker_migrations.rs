//! The example Worker's committed migrations (`examples/worker/migrations`) are up to date with
//! the seed schema: generating the next migration changes nothing, and applying the committed
//! `.sql` files in order gives exactly the tables and indexes of the schema's DDL.
//!
//! When this fails after a schema change, run
//! `cargo run -p sonic-example-blog --bin migrations -- generate <name>` and
//! commit the new migration with the updated `meta/sonic-snapshot.json`.

// Reason: test setup helpers outside `#[test]` functions fail the test by panicking.
#![allow(clippy::expect_used)]
// Reason: `row["name"]` on a JSON row gives `null` for a missing key; it does not panic.
#![allow(clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use sonic_db_core::migrate::Migrations;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::Db;
use sonic_example_blog::migrations::{schema, WORKER_MIGRATIONS};

fn committed() -> PathBuf {
    let package = Path::new(env!("CARGO_MANIFEST_DIR"));
    package
        .ancestors()
        .nth(2)
        .expect("the workspace root")
        .join(WORKER_MIGRATIONS)
}

/// The `NNNN_*.sql` files of `dir`, in the order wrangler applies them (by name).
fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the migrations directory")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    files
}

/// A fresh copy of `from` (files and `meta/`) under the system's temporary directory.
fn temp_copy(from: &Path) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let to = std::env::temp_dir().join(format!(
        "sonic-worker-migrations-{}-{nanos}",
        std::process::id()
    ));
    copy_dir(from, &to);
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the directory") {
        let path = entry.expect("a directory entry").path();
        let target = to.join(path.file_name().expect("a file name"));
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy a file");
        }
    }
}

#[test]
fn generating_the_next_migration_changes_nothing() {
    let dir = committed();
    assert!(
        !sql_files(&dir).is_empty(),
        "no migrations in {}",
        dir.display()
    );
    let copy = temp_copy(&dir);
    let written = Migrations::new(&copy).write_next("check", &schema());
    let after = sql_files(&copy);
    std::fs::remove_dir_all(&copy).expect("remove the copy");
    let written = written.expect("the schema diffs against the committed snapshot");
    assert_eq!(
        written,
        None,
        "the schema changed since {}/meta: generate a migration with \
         `cargo run -p sonic-example-blog --bin migrations -- generate <name>`",
        dir.display()
    );
    assert_eq!(after.len(), sql_files(&dir).len());
}

/// `name → sql` of every table and index in the database.
async fn sqlite_master(db: &Db) -> Vec<(String, String)> {
    db.sql("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .all_json()
        .await
        .expect("read sqlite_master")
        .into_iter()
        .map(|row| {
            (
                row["name"].as_str().unwrap_or_default().to_string(),
                row["sql"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_committed_sql_creates_exactly_the_schema() {
    pollster::block_on(async {
        // The files production runs, applied as wrangler applies them (and recorded in its
        // `d1_migrations` table).
        let migrated = SqliteBackend::memory().expect("in-memory SQLite");
        let applied = Migrations::new(committed())
            .apply(&migrated)
            .unwrap_or_else(|e| panic!("the committed migrations do not apply: {e}"));
        let files: Vec<String> = sql_files(&committed())
            .iter()
            .filter_map(|path| path.file_name()?.to_str().map(String::from))
            .collect();
        assert_eq!(applied, files);
        migrated
            .exec("DROP TABLE d1_migrations")
            .expect("drop the record, which the schema's DDL does not have");
        let expected = SqliteBackend::memory().expect("in-memory SQLite");
        expected.exec(&schema().to_sql()).expect("apply the DDL");

        let migrated = sqlite_master(&Db::new(migrated)).await;
        assert_eq!(migrated, sqlite_master(&Db::new(expected)).await);
        let names: Vec<&str> = migrated.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "comments",
                "comments_post_id_idx",
                "posts",
                "posts_user_id_idx",
                "users"
            ]
        );
    });
}
