//! Past one database: many Sonic databases behind one placement.
//!
//! A D1 database holds 10 GB and has one writer; a Durable Object's SQLite database is one
//! object's. Applications that outgrow one put each tenant (or user) in one of several
//! databases. [`Shards`] names those databases and places every shard key (an id the
//! application supplies: tenant, user) with rendezvous hashing — deterministic, independent
//! of the list's order, and adding a shard moves only the keys the new shard wins. Each shard
//! is an ordinary [`Db`](sonic_db_core::Db): D1 bindings, Durable Object storage and native
//! SQLite mix freely. [`ShardKv`] keeps each shard's cache entries under its own prefix in one
//! KV namespace, so the cache stays coherent per shard.
//!
//! Queries that span shards are explicit: [`Shards::fan_out`] and [`Shards::fan_out_page`]
//! (a merged order, limit and total); nothing fans out by accident, because a `Db` is one
//! shard's.
//!
//! ```
//! # pollster::block_on(async {
//! use sonic_db_core::kv::MemoryKv;
//! use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db};
//! use sonic_db_shard::{ShardKv, Shards};
//!
//! let kv = MemoryKv::new(); // one namespace for every shard
//! let mut shards = Shards::new();
//! for name in ["d1-a", "d1-b", "d1-c"] {
//!     let db = Db::new(SqliteBackend::memory()?) // on Workers: D1Backend::from_env(&env, name)?
//!         .with_kv(ShardKv::new(kv.clone(), name), CacheConfig::new())?;
//!     shards = shards.add(name, db)?;
//! }
//! let tenant_db = shards.for_key("tenant-7")?;
//! # Ok::<(), sonic_db_core::Error>(())
//! # }).unwrap();
//! ```

mod placement;
mod shard_kv;
mod shards;

pub use shard_kv::ShardKv;
pub use shards::Shards;
