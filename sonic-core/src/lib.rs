//! Sonic: a typed data layer for Cloudflare Workers.
//!
//! D1 (SQLite) is the source of truth and Workers KV caches single records by primary key;
//! one query API routes between them. Natively, an in-memory SQLite backend (feature
//! `rusqlite`) and an in-memory KV let applications unit-test without Cloudflare.
//!
//! # Map of the crate
//!
//! Each module depends only on those listed above it.
//!
//! | module | what it holds |
//! |---|---|
//! | [`value`] | [`Value`] and [`SqlType`], and the conversions to and from Rust types ([`ToValue`], [`FromValue`], [`ColumnType`], [`Json`]) |
//! | [`error`] | [`Error`], the one error type |
//! | [`row`] | result rows a backend lends, and the helpers `#[derive(Table)]`'s typed decoding calls |
//! | [`schema`] | what `#[derive(Table)]` produces: [`Table`], [`TableDef`], column and relation handles; [`Schema`], a set of tables |
//! | [`clock`] | where audit timestamps come from |
//! | [`backend`] | the SQL backend trait, [`Statement`], [`QueryResult`] and [`Capabilities`] (D1's limits are [`Capabilities::D1`]) |
//! | [`trace`] | the [`tracing`](https://docs.rs/tracing) events: every statement and batch sent, eager-loading strategies, KV cache decisions |
//! | [`kv`] | the KV backend trait, Workers KV's rules (one copy), [`MemoryKv`] |
//! | `join_futures` | a few futures run concurrently (the cache's KV writes), without `futures_util` on the Worker path |
//! | [`sql`] | the SQL compiler: quoting, conditions, ordering, eager-loading SQL, and every limit check ([`sql::check_statement`]) |
//! | [`cache`] | the KV cache of single records: routing, invalidation by generations, and its coherence guarantee |
//! | [`db`] | [`Db`], the handle: a backend, a clock, a cache; sends statements |
//! | [`query`] | the builders `Db`'s methods return (select, writes, raw SQL, eager relations with options per level, projections and aggregates, joins) and how they run |
//! | `sqlite` | the rusqlite backend (feature `rusqlite`) |
//! | [`migrate`] | DDL and numbered migrations from a [`Schema`] |
//! | `testing` | counting and fault-injecting wrappers for tests (feature `testing`) |
//!
//! # Quick start
//!
//! Applications depend on the facade, `sonic-db`, which re-exports all of this. With features
//! `derive` and `rusqlite`, this crate alone runs a table on in-memory SQLite, cached in an
//! in-memory KV:
//!
//! ```
//! # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
//! # pollster::block_on(async {
//! use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv, Schema, Source};
//!
//! #[derive(Debug, Clone, sonic_db_core::Table)]
//! #[table(name = "posts")]
//! struct Post {
//!     #[column(primary_key)]
//!     id: String,
//!     title: String,
//!     views: i64,
//! }
//!
//! let schema = Schema::new().table::<Post>();
//! let db = Db::new(SqliteBackend::memory()?)
//!     .with_schema(&schema)
//!     .with_kv(MemoryKv::new(), CacheConfig::new())?;
//! for statement in schema.statements() {
//!     db.sql(statement).run().await?;
//! }
//!
//! db.insert(&Post { id: "p1".into(), title: "Hello".into(), views: 3 }).await?;
//! let found = db.find_with_source::<Post>("p1").await?.expect("inserted");
//! assert_eq!(found.source, Source::D1); // an insert writes nothing to KV: read, then cached
//! let found = db.find_with_source::<Post>("p1").await?.expect("inserted");
//! assert_eq!(found.source, Source::Kv);
//! db.update_where::<Post>()
//!     .set_expr(Post::VIEWS, Post::VIEWS + 1) // in SQL: no read first, no lost update
//!     .filter(Post::ID.eq("p1"))
//!     .run()
//!     .await?;
//! let popular = db.select::<Post>().filter(Post::VIEWS.gte(4)).all().await?;
//! assert_eq!(popular[0].title, "Hello");
//! # Ok::<(), sonic_db_core::Error>(())
//! # }).unwrap();
//! # }
//! ```

// The crate's own name inside it: `#[derive(Table)]` output names `::sonic_db_core`, and unit
// tests share the integration tests' helpers.
extern crate self as sonic_db_core;

pub mod backend;
pub mod cache;
pub mod clock;
pub mod db;
pub mod error;
mod join_futures;
pub mod kv;
pub mod migrate;
pub mod query;
pub mod row;
pub mod schema;
pub mod sql;
#[cfg(feature = "rusqlite")]
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
pub mod trace;
pub mod value;

pub use backend::{
    Capabilities, EagerStrategy, QueryResult, SqlBackend, Statement, MAX_SAFE_INTEGER,
};
pub use cache::{CacheConfig, Found, KvCache, Source, TableCache};
pub use clock::{Clock, FixedClock, SystemClock};
pub use db::Db;
pub use error::{Error, Result};
pub use kv::{KvBackend, MemoryKv};
pub use query::{Batch, BatchResults, Filter, Order, Page, Pending, Relation};
pub use schema::{
    Audit, AuditFields, AuditRole, Column, ColumnDef, ForeignKey, NullableAudit, RelationDef,
    RelationKind, RelationSlot, Table, TableDef, ThroughDef,
};
pub use schema::{One, Schema};
pub use value::{ColumnType, ConvertError, FromValue, IntoKey, Json, Key, ToValue};
pub use value::{SqlType, Value};

#[cfg(feature = "derive")]
pub use sonic_db_derive::{Table, TextEnum};

/// What `#[derive(Table)]` expands to refers to, so that applications need no dependency of
/// their own on it. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use serde_json;
}
