//! Migrations generated from derived schemas, written to a temporary `migrations` directory
//! and applied to SQLite: each holds only the change, and applying them in order gives the same
//! tables as the full DDL of the latest schema.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
// The structs only describe schema versions: their relation fields are never read.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::Connection;
use sonic_db_core::migrate::{MigrateError, Migrations};
use sonic_db_core::Schema;

/// Version 1: users and posts.
mod v1 {
    use sonic_db_core::{Audit, Table};

    #[derive(Table)]
    #[table(name = "users")]
    pub struct User {
        #[column(primary_key)]
        pub id: String,
        pub name: Option<String>,
        #[column(unique)]
        pub email: String,
        #[audit]
        pub audit: Audit,
        #[relation(many, remote = user_id)]
        pub posts: Option<Vec<Post>>,
    }

    #[derive(Table)]
    #[table(name = "posts")]
    pub struct Post {
        #[column(primary_key)]
        pub id: String,
        pub title: String,
        #[column(references = User::ID, on_delete = "cascade")]
        pub user_id: String,
    }
}

/// Version 2: a new nullable column and a new indexed column with a default on users, a new
/// comments table.
mod v2 {
    use sonic_db_core::{Audit, Table};

    #[derive(Table)]
    #[table(name = "users")]
    pub struct User {
        #[column(primary_key)]
        pub id: String,
        pub name: Option<String>,
        #[column(unique)]
        pub email: String,
        #[audit]
        pub audit: Audit,
        pub bio: Option<String>,
        #[column(index, default = "0")]
        pub karma: i64,
        #[relation(many, remote = user_id)]
        pub posts: Option<Vec<Post>>,
    }

    #[derive(Table)]
    #[table(name = "posts")]
    pub struct Post {
        #[column(primary_key)]
        pub id: String,
        pub title: String,
        #[column(references = User::ID, on_delete = "cascade")]
        pub user_id: String,
        #[relation(many, remote = post_id)]
        pub comments: Option<Vec<Comment>>,
    }

    #[derive(Table)]
    #[table(name = "comments")]
    pub struct Comment {
        #[column(primary_key)]
        pub id: String,
        #[column(references = Post::ID, on_delete = "cascade")]
        pub post_id: String,
        pub body: String,
    }
}

/// A NOT NULL column without a default added to users.
mod not_null {
    #[derive(sonic_db_core::Table)]
    #[table(name = "users")]
    pub struct User {
        #[column(primary_key)]
        pub id: String,
        pub name: Option<String>,
        #[column(unique)]
        pub email: String,
        #[audit]
        pub audit: sonic_db_core::Audit,
        pub age: i64,
    }
}

/// Posts gain the audit columns.
mod audited {
    #[derive(sonic_db_core::Table)]
    #[table(name = "posts")]
    pub struct Post {
        #[column(primary_key)]
        pub id: String,
        pub title: String,
        #[column(references = super::v1::User::ID, on_delete = "cascade")]
        pub user_id: String,
        #[audit]
        pub audit: sonic_db_core::Audit,
    }
}

fn v1() -> Schema {
    Schema::new().table::<v1::User>().table::<v1::Post>()
}

fn v2() -> Schema {
    Schema::new()
        .table::<v2::User>()
        .table::<v2::Post>()
        .table::<v2::Comment>()
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sonic-migrations-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    fn migrations(&self) -> PathBuf {
        self.0.join("migrations")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn sql_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

/// The statements of a migration file (its header comment dropped).
fn body(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (header, body) = text.split_once("\n\n").unwrap();
    assert!(header.starts_with("-- Migration "), "{header}");
    body.to_string()
}

/// Applies every migration in the directory, in order, as `wrangler d1 migrations apply` does.
fn apply_all(conn: &Connection, dir: &Path) {
    for name in sql_files(dir) {
        conn.execute_batch(&std::fs::read_to_string(dir.join(&name)).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

type Shape = Vec<(String, Vec<String>, Vec<String>, Vec<String>)>;

/// Every table: (name, table_info rows, index_list rows, foreign_key_list rows), as text.
fn shape(conn: &Connection) -> Shape {
    let rows = |sql: String| -> Vec<String> {
        let mut stmt = conn.prepare(&sql).unwrap();
        let n = stmt.column_count();
        let mut out: Vec<String> = stmt
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        out.sort();
        out
    };
    let mut tables = rows(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'".into(),
    );
    tables.sort();
    tables
        .into_iter()
        .map(|t| {
            let t = t
                .trim_start_matches("Text(\"")
                .trim_end_matches("\")")
                .to_string();
            (
                t.clone(),
                rows(format!("PRAGMA table_info(\"{t}\")")),
                rows(format!("PRAGMA index_list(\"{t}\")")),
                rows(format!("PRAGMA foreign_key_list(\"{t}\")")),
            )
        })
        .collect()
}

#[test]
fn initial_then_incremental_migrations() {
    let tmp = TempDir::new();
    let migrations = Migrations::new(tmp.migrations());

    let first = migrations.write_next("init", &v1()).unwrap().unwrap();
    assert_eq!(first, tmp.migrations().join("0001_init.sql"));
    assert_eq!(
        body(&first),
        v1().to_sql(),
        "the first migration is the full DDL"
    );
    let snapshot = migrations.snapshot_path();
    assert_eq!(
        snapshot,
        tmp.migrations().join("meta").join("sonic-snapshot.json")
    );
    assert_eq!(migrations.read_snapshot().unwrap(), v1().snapshot());

    // No change: nothing written.
    assert_eq!(migrations.write_next("again", &v1()).unwrap(), None);
    assert_eq!(sql_files(&tmp.migrations()), ["0001_init.sql"]);

    let second = migrations
        .write_next("Comments and karma", &v2())
        .unwrap()
        .unwrap();
    assert_eq!(second, tmp.migrations().join("0002_comments_and_karma.sql"));
    assert_eq!(
        body(&second),
        r#"CREATE TABLE IF NOT EXISTS "comments" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "post_id" TEXT NOT NULL REFERENCES "posts" ("id") ON DELETE CASCADE,
    "body" TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS "comments_post_id_idx" ON "comments" ("post_id");

ALTER TABLE "users" ADD COLUMN "bio" TEXT;

ALTER TABLE "users" ADD COLUMN "karma" INTEGER NOT NULL DEFAULT 0;

CREATE INDEX IF NOT EXISTS "users_karma_idx" ON "users" ("karma");
"#
    );
    assert_eq!(migrations.read_snapshot().unwrap(), v2().snapshot());
    assert_eq!(migrations.write_next("noop", &v2()).unwrap(), None);

    // 0001 + 0002 on a database with data == the full DDL of v2.
    let migrated = Connection::open_in_memory().unwrap();
    migrated.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    conn_apply_first(&migrated, &tmp.migrations());
    migrated
        .execute_batch(
            "INSERT INTO users (id, email) VALUES ('u1', 'a@x');
             INSERT INTO posts (id, title, user_id) VALUES ('p1', 't', 'u1');",
        )
        .unwrap();
    migrated
        .execute_batch(&std::fs::read_to_string(&second).unwrap())
        .unwrap();
    let karma: i64 = migrated
        .query_row("SELECT karma FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(karma, 0, "existing rows get the default");

    let fresh = Connection::open_in_memory().unwrap();
    fresh.execute_batch(&v2().to_sql()).unwrap();
    assert_eq!(shape(&migrated), shape(&fresh));

    let replayed = Connection::open_in_memory().unwrap();
    apply_all(&replayed, &tmp.migrations());
    assert_eq!(shape(&replayed), shape(&fresh));
}

fn conn_apply_first(conn: &Connection, dir: &Path) {
    conn.execute_batch(&std::fs::read_to_string(dir.join("0001_init.sql")).unwrap())
        .unwrap();
}

#[test]
fn not_null_without_default_is_refused() {
    let tmp = TempDir::new();
    let migrations = Migrations::new(tmp.migrations());
    migrations.write_next("init", &v1()).unwrap().unwrap();

    let schema = Schema::new().table::<not_null::User>().table::<v1::Post>();
    let e = migrations.write_next("age", &schema).unwrap_err();
    assert!(
        matches!(&e, MigrateError::NotNullWithoutDefault { table, column }
            if table == "users" && column == "age"),
        "{e:?}"
    );
    assert!(e
        .to_string()
        .starts_with("cannot add column `users`.`age`: it is NOT NULL without a default"));
    assert_eq!(sql_files(&tmp.migrations()), ["0001_init.sql"]);
    assert_eq!(migrations.read_snapshot().unwrap(), v1().snapshot());
}

#[test]
fn drops_are_refused_unless_allowed() {
    let tmp = TempDir::new();
    Migrations::new(tmp.migrations())
        .write_next("init", &v2())
        .unwrap()
        .unwrap();

    let e = Migrations::new(tmp.migrations())
        .write_next("shrink", &v1())
        .unwrap_err();
    assert!(
        matches!(&e, MigrateError::DropsNotAllowed { tables, columns }
            if tables == &["comments"]
                && columns == &[("users".to_string(), "bio".to_string()),
                                ("users".to_string(), "karma".to_string())]),
        "{e:?}"
    );
    assert_eq!(sql_files(&tmp.migrations()), ["0001_init.sql"]);

    let path = Migrations::new(tmp.migrations())
        .allow_drops(true)
        .write_next("shrink", &v1())
        .unwrap()
        .unwrap();
    assert_eq!(
        body(&path),
        "DROP INDEX IF EXISTS \"users_karma_idx\";\n\n\
         ALTER TABLE \"users\" DROP COLUMN \"bio\";\n\n\
         ALTER TABLE \"users\" DROP COLUMN \"karma\";\n\n\
         DROP TABLE IF EXISTS \"comments\";\n"
    );

    let migrated = Connection::open_in_memory().unwrap();
    migrated.execute_batch("PRAGMA foreign_keys = ON;").unwrap();
    apply_all(&migrated, &tmp.migrations());
    let fresh = Connection::open_in_memory().unwrap();
    fresh.execute_batch(&v1().to_sql()).unwrap();
    assert_eq!(shape(&migrated), shape(&fresh));
}

#[test]
fn audit_columns_are_added_with_a_constant_default() {
    let tmp = TempDir::new();
    let migrations = Migrations::new(tmp.migrations());
    migrations.write_next("init", &v1()).unwrap().unwrap();
    let schema = Schema::new().table::<v1::User>().table::<audited::Post>();
    let sql = migrations.plan(&schema).unwrap().unwrap();
    assert!(sql.contains("-- `created_on` is an audit column"), "{sql}");
    assert!(
        sql.contains("ALTER TABLE \"posts\" ADD COLUMN \"updated_on\" INTEGER NOT NULL DEFAULT 0;")
    );
    let path = migrations
        .write_next("audit posts", &schema)
        .unwrap()
        .unwrap();

    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(&std::fs::read_to_string(tmp.migrations().join("0001_init.sql")).unwrap())
        .unwrap();
    conn.execute_batch(
        "INSERT INTO users (id, email) VALUES ('u1', 'a@x');
         INSERT INTO posts (id, title, user_id) VALUES ('p1', 't', 'u1');",
    )
    .unwrap();
    conn.execute_batch(&std::fs::read_to_string(path).unwrap())
        .unwrap();
    let created: i64 = conn
        .query_row("SELECT created_on FROM posts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(created, 0);
}

#[test]
fn numbering_follows_existing_files() {
    let tmp = TempDir::new();
    std::fs::create_dir_all(tmp.migrations()).unwrap();
    std::fs::write(tmp.migrations().join("0007_by_hand.sql"), "SELECT 1;").unwrap();
    std::fs::write(tmp.migrations().join("notes.txt"), "").unwrap();
    let migrations = Migrations::new(tmp.migrations());
    assert_eq!(migrations.next_number().unwrap(), 8);
    let path = migrations.write_next("init", &v1()).unwrap().unwrap();
    assert_eq!(path.file_name().unwrap(), "0008_init.sql");

    // A hand-written migration, then the snapshot recorded: nothing more to generate.
    let recorded = migrations.record_snapshot(&v2()).unwrap();
    assert_eq!(recorded, migrations.snapshot_path());
    assert_eq!(migrations.write_next("after", &v2()).unwrap(), None);
}

#[test]
fn broken_snapshot_is_a_clear_error() {
    let tmp = TempDir::new();
    let migrations = Migrations::new(tmp.migrations());
    std::fs::create_dir_all(tmp.migrations().join("meta")).unwrap();
    std::fs::write(migrations.snapshot_path(), "{ not json").unwrap();
    let e = migrations.write_next("init", &v1()).unwrap_err();
    assert!(matches!(e, MigrateError::Snapshot { .. }), "{e:?}");
    assert!(e.to_string().contains("sonic-snapshot.json"), "{e}");
}
