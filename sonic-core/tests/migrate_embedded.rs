//! `apply_embedded`: migration files compiled in (`embed_migrations!`) applied through a `Db`
//! (what a Durable Object runs when it starts), recorded in wrangler's `d1_migrations` exactly
//! as the native `Migrations::apply` records them, once, and all-or-nothing per file.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::PathBuf;

use sonic_db_core::migrate::{apply_embedded, MigrateError, MigrationFile, Migrations};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Db, Error, Value};

const FIXTURES: &str = "tests/fixtures/embedded_migrations";
const MIGRATIONS: &[MigrationFile] = sonic_db_core::embed_migrations!(
    "tests/fixtures/embedded_migrations": "0002_stars.sql", "0001_init.sql"
);

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(f)
}

/// A database file of its own under the target's temporary directory.
fn db_file(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "sonic-migrate-embedded-{}-{name}.sqlite",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

fn recorded(db: &Db) -> Vec<String> {
    let rows = block_on(
        db.sql("SELECT name FROM d1_migrations ORDER BY id")
            .result(),
    )
    .unwrap();
    rows.values
        .into_iter()
        .map(|v| match v {
            Value::Text(name) => name,
            other => panic!("name {other:?}"),
        })
        .collect()
}

fn columns(db: &Db, table: &str) -> Vec<String> {
    let rows = block_on(
        db.sql(format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        ))
        .result(),
    )
    .unwrap();
    rows.values
        .into_iter()
        .map(|v| match v {
            Value::Text(name) => name,
            other => panic!("column {other:?}"),
        })
        .collect()
}

#[test]
fn the_embedded_files_are_the_ones_on_disk() {
    let on_disk = Migrations::new(FIXTURES).files().unwrap();
    let mut embedded: Vec<_> = MIGRATIONS.iter().map(|f| f.name.to_owned()).collect();
    embedded.sort();
    assert_eq!(embedded, on_disk);
    for file in MIGRATIONS {
        let text = std::fs::read_to_string(PathBuf::from(FIXTURES).join(file.name)).unwrap();
        assert_eq!(file.sql, text, "{}", file.name);
    }
}

#[test]
fn applies_in_name_order_once_and_keeps_rows() {
    let db = Db::new(SqliteBackend::memory().unwrap());
    let applied = block_on(apply_embedded(&db, MIGRATIONS)).unwrap();
    assert_eq!(applied, ["0001_init.sql", "0002_stars.sql"]);
    assert_eq!(recorded(&db), ["0001_init.sql", "0002_stars.sql"]);
    assert_eq!(columns(&db, "notes"), ["id", "text", "stars"]);

    block_on(
        db.sql("INSERT INTO notes (id, text) VALUES ('n1', 'kept')")
            .run(),
    )
    .unwrap();
    // A restart: the same files again apply nothing and touch no row.
    let again = block_on(apply_embedded(&db, MIGRATIONS)).unwrap();
    assert!(again.is_empty(), "{again:?}");
    assert_eq!(recorded(&db), ["0001_init.sql", "0002_stars.sql"]);
    let count = block_on(db.sql("SELECT count(*) FROM notes").result()).unwrap();
    assert_eq!(count.values, [Value::Integer(1)]);
}

#[test]
fn reads_and_writes_the_same_record_as_the_native_apply() {
    // Natively applied first file, then the embedded run adds only the second.
    let path = db_file("shared");
    let first_only = std::env::temp_dir().join(format!(
        "sonic-migrate-embedded-{}-first",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&first_only);
    std::fs::create_dir_all(&first_only).unwrap();
    std::fs::copy(
        PathBuf::from(FIXTURES).join("0001_init.sql"),
        first_only.join("0001_init.sql"),
    )
    .unwrap();
    let native = SqliteBackend::open(&path).unwrap();
    assert_eq!(
        Migrations::new(&first_only).apply(&native).unwrap(),
        ["0001_init.sql"]
    );
    drop(native);

    let db = Db::new(SqliteBackend::open(&path).unwrap());
    assert_eq!(
        block_on(apply_embedded(&db, MIGRATIONS)).unwrap(),
        ["0002_stars.sql"]
    );
    drop(db);

    // And the native status sees both as applied, with their times.
    let native = SqliteBackend::open(&path).unwrap();
    let status = Migrations::new(FIXTURES).status(&native).unwrap();
    assert_eq!(status.len(), 2);
    assert!(status.iter().all(|s| s.applied_at.is_some()), "{status:?}");
    assert!(Migrations::new(FIXTURES).apply(&native).unwrap().is_empty());
    drop(native);
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_dir_all(&first_only);
}

#[test]
fn a_failing_file_leaves_nothing_of_itself_and_is_named() {
    let db = Db::new(SqliteBackend::memory().unwrap());
    let files = [
        MIGRATIONS[1], // 0001_init.sql
        MigrationFile {
            name: "0002_broken.sql",
            // The first statement succeeds; the second fails: both must be undone.
            sql: "ALTER TABLE notes ADD COLUMN stars INTEGER NOT NULL DEFAULT 0;\n\
                  INSERT INTO missing_table (id) VALUES (1);",
        },
        MigrationFile {
            name: "0003_after.sql",
            sql: "CREATE TABLE after_broken (id INTEGER PRIMARY KEY);",
        },
    ];
    let failed = block_on(apply_embedded(&db, &files));
    match failed {
        Err(MigrateError::Apply {
            ref name,
            ref source,
        }) => {
            assert_eq!(name, "0002_broken.sql");
            let message = source.to_string();
            assert!(message.contains("missing_table"), "{message}");
        }
        other => panic!("expected MigrateError::Apply, got {other:?}"),
    }
    let message = failed.unwrap_err().to_string();
    assert!(message.contains("0002_broken.sql"), "{message}");
    assert_eq!(recorded(&db), ["0001_init.sql"]);
    assert_eq!(
        columns(&db, "notes"),
        ["id", "text"],
        "the ALTER was undone"
    );
    assert!(
        columns(&db, "after_broken").is_empty(),
        "later files do not run"
    );

    // Fixed, the run resumes where it stopped.
    let fixed = [files[0], MIGRATIONS[0], files[2]];
    assert_eq!(
        block_on(apply_embedded(&db, &fixed)).unwrap(),
        ["0002_stars.sql", "0003_after.sql"]
    );
}

#[test]
fn a_file_listed_twice_is_refused_before_anything_runs() {
    let db = Db::new(SqliteBackend::memory().unwrap());
    let twice = [MIGRATIONS[1], MIGRATIONS[1]];
    let refused = block_on(apply_embedded(&db, &twice));
    assert!(
        matches!(&refused, Err(MigrateError::Apply { name, .. }) if name == "0001_init.sql"),
        "{refused:?}"
    );
    assert!(columns(&db, "notes").is_empty());
}

#[test]
fn a_backend_without_transactions_is_refused() {
    let sqlite = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(sonic_db_core::Capabilities::D1);
    let db = Db::new(sqlite);
    let refused = block_on(apply_embedded(&db, MIGRATIONS));
    match refused {
        Err(MigrateError::Apply { source, .. }) => {
            assert!(matches!(*source, Error::Unsupported(_)), "{source}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(columns(&db, "notes").is_empty());
}
