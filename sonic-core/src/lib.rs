//! Sonic: a typed data layer for Cloudflare Workers.
//!
//! D1 (SQLite) is the source of truth and Workers KV caches single records by primary key;
//! one query API routes between them. Natively, an in-memory SQLite backend (feature
//! `rusqlite`) and an in-memory KV let applications unit-test without Cloudflare.

#![warn(missing_docs)]

// The crate's own name inside it, so that unit tests share the integration tests' helpers.
#[cfg(test)]
extern crate self as sonic_db_core;

pub mod backend;
pub mod cache;
pub mod clock;
pub mod db;
pub mod error;
pub mod kv;
pub mod migrate;
pub mod query;
pub mod schema;
pub mod sql;
#[cfg(feature = "rusqlite")]
pub mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
pub mod value;

pub use backend::{
    Capabilities, EagerStrategy, QueryResult, SqlBackend, Statement, MAX_SAFE_INTEGER,
};
pub use cache::{CacheConfig, Found, KvCache, Source, TableCache};
pub use clock::{Clock, FixedClock, SystemClock};
pub use value::{ColumnType, ConvertError, FromValue, Json, ToValue};
pub use db::Db;
pub use schema::Schema;
pub use error::{Error, Result};
pub use kv::{KvBackend, MemoryKv};
pub use query::{Filter, Order, Page};
pub use schema::{
    Audit, AuditRole, Column, ColumnDef, ForeignKey, Relation, RelationDef, RelationKind,
    RelationSlot, Table, TableDef,
};
pub use value::{SqlType, Value};

#[cfg(feature = "derive")]
pub use sonic_db_derive::{Table, TextEnum};

/// What `#[derive(Table)]` expands to refers to, so that applications need no dependency of
/// their own on it. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use serde_json;
}
