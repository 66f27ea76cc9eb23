//! Sonic: a typed data layer for Cloudflare Workers, and the one crate to add.
//!
//! D1 (SQLite) is the source of truth; Workers KV caches single records by primary key. One
//! query API routes between them. Natively, bundled SQLite and an in-memory KV run the same
//! code in unit tests.
//!
//! ```toml
//! [dependencies]
//! sonic-db = { version = "0.1", features = ["sqlite"] }   # native: tests, tools
//! # sonic-db = { version = "0.1", features = ["workers"] } # in a Worker: D1 + KV
//! ```
//!
//! Everything of `sonic-db-core` is here at the root ([`Db`], [`Table`], [`Schema`], …), the
//! derive macros with the default feature `derive`, the SQLite backend in [`sqlite`] with
//! feature `sqlite`, and [`D1Backend`] / [`WorkersKv`] with feature `workers`.
//!
//! # Quick start
//!
//! ```
//! # #[cfg(feature = "sqlite")] {
//! # pollster::block_on(async {
//! use serde::{Deserialize, Serialize};
//! use sonic_db::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv, Schema, Table};
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, Table)]
//! #[table(name = "users")]
//! struct User {
//!     #[column(primary_key)]
//!     id: String,
//!     #[column(unique)]
//!     email: String,
//! }
//!
//! let schema = Schema::new().table::<User>();
//! let db = Db::new(SqliteBackend::memory()?)
//!     .with_schema(&schema)
//!     .with_kv(MemoryKv::new(), CacheConfig::new())?;
//! for statement in schema.statements() {
//!     db.sql(statement).run().await?;
//! }
//!
//! db.insert(&User { id: "u1".into(), email: "ada@example.com".into() }).await?;
//! let found = db.find_with_source::<User>("u1").await?.expect("inserted");
//! assert_eq!(found.record.email, "ada@example.com");
//! assert_eq!(found.source.to_string(), "d1"); // an insert writes nothing to KV; this read fills it
//! let found = db.find_with_source::<User>("u1").await?.expect("inserted");
//! assert_eq!(found.source.to_string(), "kv");
//! let all = db.select::<User>().filter(User::EMAIL.like("%@example.com")).all().await?;
//! assert_eq!(all.len(), 1);
//! # Ok::<(), sonic_db::Error>(())
//! # }).unwrap();
//! # }
//! ```

pub use sonic_db_core::*;

/// The repository's README, a tutorial: each of its Rust blocks is a doctest of this crate.
/// Only under `cfg(doctest)`, so that building or packaging the crate never reads a file
/// outside it; with feature `sqlite`, which its native blocks run on (`cargo test -p sonic-db
/// --all-features --doc`). Its Worker block is `ignore`d here: it is the starter Worker's
/// `src/lib.rs`, which `scripts/starter-worker.sh` builds and tests.
#[cfg(all(doctest, feature = "sqlite"))]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

#[cfg(feature = "workers")]
pub use sonic_db_d1::D1Backend;
#[cfg(feature = "workers")]
pub use sonic_db_kv::WorkersKv;
