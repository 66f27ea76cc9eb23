//! A database created from the seed's own DDL (SonicJs's `users` and `posts` with the shared
//! `auditSchema`: nullable `integer` audit columns without defaults), holding rows written by
//! other tools with NULL audit values, read, written and migrated by a Rust schema whose
//! `#[audit]` fields are `NullableAudit`.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use pollster::block_on;
use serde_json::Value as Json;
use sonic_db_core::migrate::{diff, DiffOptions};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Db, FixedClock, NullableAudit, Schema};

/// The tables of `../shared/seed/tables.mdx` as drizzle-kit writes them for SQLite.
const SEED_DDL: [&str; 2] = [
    "CREATE TABLE `users` (
        `id` text PRIMARY KEY NOT NULL,
        `name` text,
        `email` text,
        `password` text,
        `role` text,
        `created_on` integer,
        `updated_on` integer
    )",
    "CREATE TABLE `posts` (
        `id` text PRIMARY KEY NOT NULL,
        `title` text,
        `body` text,
        `user_id` text,
        `created_on` integer,
        `updated_on` integer
    )",
];

/// Rows as SonicJs (or a hand-written import) leaves them: audit values missing or partial.
const SEED_ROWS: [&str; 4] = [
    "INSERT INTO users (id, name, email, role) VALUES ('u1', 'Ada', 'ada@x', 'admin')",
    "INSERT INTO users (id, name, created_on) VALUES ('u2', 'Bob', 1700000000000)",
    "INSERT INTO posts (id, title, user_id) VALUES ('p1', 'Hello', 'u1')",
    "INSERT INTO posts (id, title, user_id, created_on, updated_on) \
     VALUES ('p2', 'Again', 'u1', 1, 2)",
];

const NOW: i64 = 1_800_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, sonic_db_core::TextEnum)]
enum Role {
    Admin,
    User,
}

/// The seed's tables as they are.
mod v1 {
    use super::Role;
    use sonic_db_core::NullableAudit;

    #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    #[table(name = "users")]
    pub struct User {
        #[column(primary_key)]
        pub id: String,
        pub name: Option<String>,
        pub email: Option<String>,
        pub password: Option<String>,
        pub role: Option<Role>,
        #[audit]
        pub audit: NullableAudit,
    }

    #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    #[table(name = "posts")]
    pub struct Post {
        #[column(primary_key)]
        pub id: String,
        pub title: Option<String>,
        pub body: Option<String>,
        pub user_id: Option<String>,
        #[audit]
        pub audit: NullableAudit,
    }
}

/// The next version: the seed's relations (with the index Sonic gives a foreign key) and a
/// new column.
mod v2 {
    use super::Role;
    use sonic_db_core::{NullableAudit, One};

    #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    #[table(name = "users")]
    pub struct User {
        #[column(primary_key)]
        pub id: String,
        pub name: Option<String>,
        pub email: Option<String>,
        pub password: Option<String>,
        pub role: Option<Role>,
        #[audit]
        pub audit: NullableAudit,
        pub bio: Option<String>,
        #[relation(many, remote = user_id)]
        pub posts: Option<Vec<Post>>,
    }

    #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    #[table(name = "posts")]
    pub struct Post {
        #[column(primary_key)]
        pub id: String,
        pub title: Option<String>,
        pub body: Option<String>,
        pub user_id: Option<String>,
        #[audit]
        pub audit: NullableAudit,
        #[relation(one, local = user_id)]
        pub author: One<User>,
    }
}

fn audit(created_on: Option<i64>, updated_on: Option<i64>) -> NullableAudit {
    NullableAudit {
        created_on,
        updated_on,
    }
}

async fn run_all(db: &Db, statements: impl IntoIterator<Item = impl Into<String>>) {
    for statement in statements {
        db.sql(statement).run().await.unwrap();
    }
}

/// A SonicJs database: the seed's DDL and rows.
fn seeded() -> Db {
    let db = Db::new(SqliteBackend::memory().unwrap()).with_clock(FixedClock::new(NOW));
    block_on(async {
        run_all(&db, SEED_DDL).await;
        run_all(&db, SEED_ROWS).await;
    });
    db
}

/// `PRAGMA table_info` of a table: name, type (upper case), NOT NULL, default, pk.
fn columns(db: &Db, table: &str) -> Vec<(String, String, i64, Json, i64)> {
    let rows = block_on(db.sql(format!("PRAGMA table_info(\"{table}\")")).all_json()).unwrap();
    rows.iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["type"].as_str().unwrap().to_ascii_uppercase(),
                r["notnull"].as_i64().unwrap(),
                r["dflt_value"].clone(),
                r["pk"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn nullable_audit_declares_the_columns_as_the_seed_does() {
    let seed = seeded();
    let ours = Db::new(SqliteBackend::memory().unwrap());
    let schema = Schema::new().table::<v1::User>().table::<v1::Post>();
    block_on(run_all(&ours, schema.statements()));
    for table in ["users", "posts"] {
        assert_eq!(columns(&ours, table), columns(&seed, table), "{table}");
    }
    let created_on = &columns(&ours, "users")[5];
    assert_eq!(
        (created_on.0.as_str(), created_on.2, &created_on.3),
        ("created_on", 0, &Json::Null),
        "nullable, without a default"
    );
}

#[test]
fn rows_with_null_audit_values_are_read_and_written() {
    let db = seeded();
    let ada = block_on(db.find::<v1::User>("u1")).unwrap().unwrap();
    assert_eq!(ada.audit, audit(None, None));
    assert_eq!(ada.role, Some(Role::Admin));
    let bob = block_on(db.find::<v1::User>("u2")).unwrap().unwrap();
    assert_eq!(bob.audit, audit(Some(1_700_000_000_000), None));

    // An update stamps updated_on and leaves created_on as stored, NULL included.
    let renamed = block_on(db.update(&v1::User {
        name: Some("Ada L.".into()),
        ..ada
    }))
    .unwrap();
    assert_eq!(renamed.audit, audit(None, Some(NOW)));
    let touched = block_on(
        db.update_where::<v1::User>()
            .set(v1::User::ROLE, Role::User)
            .filter(v1::User::ID.eq("u2"))
            .returning(),
    )
    .unwrap();
    assert_eq!(touched[0].audit, audit(Some(1_700_000_000_000), Some(NOW)));

    // An insert stamps both.
    let new = v1::User {
        id: "u3".into(),
        name: None,
        email: None,
        password: None,
        role: None,
        audit: NullableAudit::default(),
    };
    let stored = block_on(db.insert(&new)).unwrap();
    assert_eq!(stored.audit, audit(Some(NOW), Some(NOW)));

    // An import keeps what it is given, NULLs too, and the raw row shows it.
    let imported = block_on(db.keeping_audit().insert(&v1::User {
        id: "u4".into(),
        audit: audit(Some(5), None),
        ..new
    }))
    .unwrap();
    assert_eq!(imported.audit, audit(Some(5), None));
    let raw = block_on(
        db.sql("SELECT created_on, updated_on FROM users WHERE id = 'u4'")
            .all_json(),
    )
    .unwrap();
    assert_eq!(
        (&raw[0]["created_on"], &raw[0]["updated_on"]),
        (&Json::from(5), &Json::Null)
    );
}

#[test]
fn a_generated_migration_applies_to_the_seed_database_and_keeps_its_rows() {
    let db = seeded();
    let v1 = Schema::new()
        .table::<v1::User>()
        .table::<v1::Post>()
        .snapshot();
    let v2 = Schema::new()
        .table::<v2::User>()
        .table::<v2::Post>()
        .snapshot();
    let statements = diff(&v1, &v2, &DiffOptions::default()).unwrap();
    assert_eq!(
        statements,
        [
            r#"ALTER TABLE "users" ADD COLUMN "bio" TEXT"#,
            r#"CREATE INDEX IF NOT EXISTS "posts_user_id_idx" ON "posts" ("user_id")"#,
        ]
    );
    block_on(run_all(&db, statements));

    // The rows are all there, read by the new schema with their relations.
    let users = block_on(
        db.select::<v2::User>()
            .with(v2::User::POSTS)
            .order_by(v2::User::ID.asc())
            .all(),
    )
    .unwrap();
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["u1", "u2"]);
    let posts = users[0].posts.as_ref().unwrap();
    let mut audits: Vec<(String, NullableAudit)> =
        posts.iter().map(|p| (p.id.clone(), p.audit)).collect();
    audits.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        audits,
        [
            ("p1".to_string(), audit(None, None)),
            ("p2".to_string(), audit(Some(1), Some(2))),
        ]
    );
    let p1 = block_on(
        db.select::<v2::Post>()
            .with(v2::Post::AUTHOR)
            .filter(v2::Post::ID.eq("p1"))
            .all(),
    )
    .unwrap();
    assert_eq!(
        p1[0].author.get().and_then(|u| u.name.as_deref()),
        Some("Ada")
    );

    // And written through it.
    let bio = block_on(
        db.update_where::<v2::User>()
            .set(v2::User::BIO, "Analyst")
            .filter(v2::User::ID.eq("u1"))
            .returning(),
    )
    .unwrap();
    assert_eq!(bio[0].bio.as_deref(), Some("Analyst"));
    assert_eq!(bio[0].audit, audit(None, Some(NOW)));
}
