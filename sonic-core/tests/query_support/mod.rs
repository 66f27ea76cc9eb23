//! Tables and helpers shared by the query, eager, proptest and chunking tests.
//!
//! users → posts → comments (text and integer keys, `one` and `many` relations), and
//! `Sample`, a table with a column of every kind for round-trip tests. Comments carry the
//! awkward types (bool, `Json<T>`, BLOBs, 64-bit extremes, floats) so that eager loading is
//! checked on them two levels down.

#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{Audit, Capabilities, Db, FixedClock, Json, One, Schema};

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: String,
    pub name: Option<String>,
    #[column(unique)]
    pub email: String,
    pub active: bool,
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    #[relation(many, remote = user_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub posts: Option<Vec<Post>>,
}

impl User {
    pub fn new(id: &str, email: &str) -> User {
        User {
            id: id.into(),
            name: Some(format!("name of {id}")),
            email: email.into(),
            active: true,
            audit: Audit::default(),
            posts: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: String,
    #[column(references = User::ID, on_delete = "cascade")]
    pub user_id: String,
    pub title: String,
    pub views: i64,
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    #[relation(one, local = user_id)]
    #[serde(skip_serializing_if = "One::is_not_loaded", default)]
    pub author: One<User>,
    #[relation(many, remote = post_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comments: Option<Vec<Comment>>,
}

impl Post {
    pub fn new(id: &str, user_id: &str, title: &str, views: i64) -> Post {
        Post {
            id: id.into(),
            user_id: user_id.into(),
            title: title.into(),
            views,
            audit: Audit::default(),
            author: One::NotLoaded,
            comments: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Meta {
    pub tags: Vec<String>,
    pub score: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "comments")]
pub struct Comment {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Post::ID, on_delete = "cascade")]
    pub post_id: String,
    pub body: String,
    pub flag: bool,
    pub meta: Json<Meta>,
    pub blob: Vec<u8>,
    pub maybe_blob: Option<Vec<u8>>,
    pub big: i64,
    pub ratio: f64,
    #[relation(one, local = post_id)]
    #[serde(skip_serializing_if = "One::is_not_loaded", default)]
    pub post: One<Post>,
}

impl Comment {
    pub fn new(id: i64, post_id: &str, body: &str) -> Comment {
        Comment {
            id,
            post_id: post_id.into(),
            body: body.into(),
            flag: id % 2 == 0,
            meta: Json(Meta {
                tags: vec![format!("t{id}"), "\"quoted\"".into()],
                score: Some(id as f64 / 3.0),
            }),
            blob: vec![0, 255, id as u8],
            maybe_blob: if id % 3 == 0 { None } else { Some(vec![]) },
            big: if id % 2 == 0 { i64::MIN } else { i64::MAX },
            ratio: 0.1 + id as f64,
            post: One::NotLoaded,
        }
    }
}

/// One column of every kind, for round trips of hostile values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "samples")]
pub struct Sample {
    #[column(primary_key)]
    pub id: i64,
    pub text: String,
    pub maybe_text: Option<String>,
    pub int: i64,
    pub real: f64,
    pub blob: Vec<u8>,
    pub flag: bool,
    pub json: Json<Vec<String>>,
}

// ---------------------------------------------------------------- databases

pub const NOW: i64 = 1_700_000_000_000;

pub fn schema() -> Schema {
    Schema::new()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Sample>()
}

/// A fresh in-memory database with the test schema, behind a statement counter.
pub fn setup_with(capabilities: Capabilities) -> (Db, CountingSql<SqliteBackend>, FixedClock) {
    let sqlite = SqliteBackend::memory()
        .expect("in-memory SQLite")
        .with_capabilities(capabilities);
    sqlite.exec(&schema().to_sql()).expect("schema");
    let sql = CountingSql::new(sqlite);
    let clock = FixedClock::new(NOW);
    let db = Db::new(sql.clone()).with_clock(clock.clone());
    (db, sql, clock)
}

pub fn setup() -> (Db, CountingSql<SqliteBackend>, FixedClock) {
    setup_with(Capabilities::SQLITE)
}

/// SQLite's limits with the eager strategy of D1 (one statement).
pub fn single_statement() -> Capabilities {
    Capabilities {
        eager: sonic_db_core::EagerStrategy::SingleStatement,
        ..Capabilities::SQLITE
    }
}

/// SQLite's limits with per-level eager loading.
pub fn per_level() -> Capabilities {
    Capabilities {
        eager: sonic_db_core::EagerStrategy::PerLevel,
        ..Capabilities::SQLITE
    }
}
