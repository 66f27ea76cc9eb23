//! The KV cache of single records: [`Db::find`](crate::Db::find) reads KV first (the record
//! and its generations in one round trip), writes go to SQL first and then invalidate by
//! putting fresh generations. Everything else reads SQL.
//!
//! The parts: [`config`] (per-table settings), `key` (record keys), `generation` (generation
//! keys, buckets, tokens), `envelope` (the cached form of a row), `state` (what a handle
//! remembers of failed invalidations), `read` (find and fill), `write` (invalidation after
//! SQL), [`defer`] (fills after the response), [`event`] (what is reported to a
//! [`CacheHook`]).
//!
#![doc = include_str!("../../docs/coherence.md")]

mod committed;
pub mod config;
pub mod defer;
#[doc(hidden)]
pub mod envelope;
pub mod event;
mod generation;
mod key;
mod read;
mod state;
#[cfg(test)]
#[cfg(feature = "testing")]
mod tests;
mod write;

use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) use committed::TransactionLog;
pub use config::{CacheConfig, TableCache};
pub use defer::{Defer, Deferred};
pub use event::{CacheEvent, CacheHook, KvOp};
pub use key::record_key;
pub(crate) use key::table_prefix;
pub use read::{Found, Source};
pub(crate) use write::WriteTicket;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::kv::KvBackend;
use crate::schema::{Table, TableDef};
use crate::value::Value;
use state::HandleState;

/// How long after a KV operation other locations may still see the previous value.
const PROPAGATION_MS: i64 = 60_000;

/// The KV cache of one handle: routing, generation checks, fills, invalidation, and the
/// handle's memory of invalidations KV refused (see the module docs for the design and the
/// guarantee).
///
/// Clones share everything, including that memory.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, Schema, Value};
/// # #[derive(Debug, Clone, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, title: String }
/// # pollster::block_on(async {
/// use sonic_db_core::cache::{CacheConfig, KvCache};
/// use sonic_db_core::MemoryKv;
///
/// let cache = KvCache::new(MemoryKv::new(), CacheConfig::new())?;
/// let db = Db::new(SqliteBackend::memory()?).with_cache(cache.clone());
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// db.insert(&Post { id: "p1".into(), title: "Hello".into() }).await?;
/// let key = cache.key_of::<Post>(&Value::Text("p1".into())).unwrap();
/// assert!(cache.kv().get(&key).await?.is_none()); // an insert writes nothing to KV
/// db.find::<Post>("p1").await?; // a miss: read from SQL, filled
/// assert!(cache.kv().get(&key).await?.is_some()); // seen by the clone
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
#[derive(Clone)]
pub struct KvCache {
    kv: Arc<dyn KvBackend>,
    config: Arc<CacheConfig>,
    /// Also told of every event, besides `tracing` ([`KvCache::with_hook`]).
    hook: Option<Arc<dyn CacheHook>>,
    clock: Arc<dyn Clock>,
    state: Arc<Mutex<HandleState>>,
    /// Runs fills after the response; `None`: fills are awaited inline.
    defer: Option<Arc<dyn Defer>>,
    /// Whether a read that missed puts what it read; off in a read-replication session, whose
    /// reads may come from a replica behind the primary ([`Db::session`](crate::Db::session)).
    fills: bool,
}

impl std::fmt::Debug for KvCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvCache")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl KvCache {
    /// A cache over `kv` with `config`, on the system clock. Its events go to `tracing`
    /// (target `sonic::cache`, see [`crate::trace`]).
    ///
    /// Fails if a TTL is below 60 s or a prefix is invalid ([`CacheConfig::validate`]).
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, KvCache};
    /// use sonic_db_core::kv::MemoryKv;
    /// let cache = KvCache::new(MemoryKv::new(), CacheConfig::new())?;
    /// assert!(KvCache::new(MemoryKv::new(), CacheConfig::new().ttl(30)).is_err());
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn new(kv: impl KvBackend + 'static, config: CacheConfig) -> Result<Self> {
        config.validate()?;
        Ok(KvCache {
            kv: Arc::new(kv),
            config: Arc::new(config),
            hook: None,
            clock: Arc::new(SystemClock),
            state: Arc::default(),
            defer: None,
            fills: true,
        })
    }

    /// The same cache, but reads that miss put nothing in KV (they still read it, and writes
    /// still invalidate): for reads that may come from a replica.
    pub(crate) fn without_fills(&self) -> KvCache {
        KvCache {
            fills: false,
            ..self.clone()
        }
    }

    /// Also hands every event to `hook` (after `tracing`): for tests and metrics.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Schema, Value};
    /// # use sonic_db_core::{cache::{CacheConfig, CacheEvent, KvCache}, kv::KvPutOptions, MemoryKv};
    /// # #[derive(Debug, Clone, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String }
    /// # pollster::block_on(async {
    /// use std::sync::{Arc, Mutex};
    ///
    /// let events = Arc::new(Mutex::new(Vec::new()));
    /// let seen = events.clone();
    /// let cache = KvCache::new(MemoryKv::new(), CacheConfig::new())?
    ///     .with_hook(move |event: &CacheEvent| seen.lock().unwrap().push(event.clone()));
    /// let db = Db::new(SqliteBackend::memory()?).with_cache(cache);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert(&Post { id: "p1".into(), title: "Hello".into() }).await?;
    /// // Corrupt p1's entry: the read is served from SQL, and the hook hears of it.
    /// let key = db.cache().unwrap().key_of::<Post>(&Value::Text("p1".into())).unwrap();
    /// db.cache().unwrap().kv().put(&key, b"garbage", &KvPutOptions::ttl(60)).await?;
    /// assert_eq!(db.find::<Post>("p1").await?.unwrap().title, "Hello");
    /// assert!(matches!(events.lock().unwrap()[0], CacheEvent::Undecodable { .. }));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn with_hook(mut self, hook: impl CacheHook + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Runs fills with `defer` (e.g. after the response, see [`Defer`]) instead of awaiting
    /// them inside `find`.
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, Deferred, KvCache};
    /// use sonic_db_core::MemoryKv;
    /// let cache = KvCache::new(MemoryKv::new(), CacheConfig::new())?
    ///     .with_defer(|work: Deferred| pollster::block_on(work));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn with_defer(mut self, defer: impl Defer + 'static) -> Self {
        self.defer = Some(Arc::new(defer));
        self
    }

    /// The same, with a hook shared with other code (the [`Db`](crate::Db)'s).
    pub(crate) fn with_shared_defer(mut self, defer: Arc<dyn Defer>) -> Self {
        self.defer = Some(defer);
        self
    }

    /// Uses `clock` for the expiry of what the handle remembers.
    pub fn with_clock(self, clock: impl Clock + 'static) -> Self {
        self.with_shared_clock(Arc::new(clock))
    }

    /// Uses a clock shared with other code (the [`Db`](crate::Db)'s).
    pub(crate) fn with_shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Whether single-record reads of `T` go through KV.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::cache::{CacheConfig, KvCache, TableCache};
    /// use sonic_db_core::MemoryKv;
    /// # #[derive(sonic_db_core::Table)]
    /// # struct User { #[column(primary_key)] id: String }
    /// # #[derive(sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    ///
    /// let opt_in = CacheConfig::new()
    ///     .default_table(TableCache::disabled())
    ///     .table::<User>(TableCache::new());
    /// let cache = KvCache::new(MemoryKv::new(), opt_in)?;
    /// assert!(cache.caches::<User>());
    /// assert!(!cache.caches::<Post>());
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn caches<T: Table>(&self) -> bool {
        self.settings(T::DEF).is_some()
    }

    /// Whether single-record reads of the table `def` go through KV.
    pub(crate) fn caches_table(&self, def: &TableDef) -> bool {
        self.settings(def).is_some()
    }

    /// The configuration.
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, KvCache};
    /// use sonic_db_core::MemoryKv;
    ///
    /// let cache = KvCache::new(MemoryKv::new(), CacheConfig::new().ttl(600))?;
    /// let max_age = cache.config().for_table("posts").ttl_secs; // e.g. for a Cache-Control header
    /// assert_eq!(format!("max-age={max_age}"), "max-age=600");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// The KV backend.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, Error, MemoryKv, Schema, Source, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?).with_kv(MemoryKv::new(), CacheConfig::new())?;
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// use sonic_db_core::kv::list_all;
    ///
    /// for id in ["p1", "p2", "p3"] {
    ///     db.find::<Post>(id).await?; // misses: filled
    /// }
    /// let cached = list_all(db.cache().unwrap().kv(), "sonic:posts:").await?;
    /// assert_eq!(cached.len(), 3);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn kv(&self) -> &dyn KvBackend {
        &*self.kv
    }

    /// The settings of `def` if it is cached.
    fn settings(&self, def: &TableDef) -> Option<&TableCache> {
        Some(self.config.for_table(def.name)).filter(|s| s.enabled)
    }

    /// The KV key of record `id` of `T`, or `None` if `T` is not cached or the id has no key.
    /// `id` is the record id ([`TableDef::record_id`]): the key itself for a single-column
    /// key; for a composite key the spelling of its parts (`record.record_id()`), a bare part
    /// having no key.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::cache::{CacheConfig, KvCache};
    /// use sonic_db_core::{MemoryKv, Value};
    /// # #[derive(sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    ///
    /// let cache = KvCache::new(MemoryKv::new(), CacheConfig::new().prefix("blog"))?;
    /// let key = cache.key_of::<Post>(&Value::Text("p1".into()));
    /// assert_eq!(key.as_deref(), Some("blog:posts:p1"));
    /// assert_eq!(cache.key_of::<Post>(&Value::Null), None);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn key_of<T: Table>(&self, id: &Value) -> Option<String> {
        self.key(T::DEF, id)
    }

    fn key(&self, def: &TableDef, id: &Value) -> Option<String> {
        if !def.is_record_id(id) {
            return None; // a bare part of a composite key: no record's
        }
        let settings = self.settings(def)?;
        record_key(&settings.prefix, def.name, id)
    }

    fn state(&self) -> MutexGuard<'_, HandleState> {
        // Every critical section leaves the state consistent before anything can panic, so a
        // poisoned lock is still good to use.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn report(&self, event: CacheEvent) {
        event.trace();
        if let Some(hook) = &self.hook {
            hook.event(&event);
        }
    }

    fn kv_failed(&self, table: &'static str, key: &str, op: KvOp, error: &Error) {
        self.report(CacheEvent::KvFailed {
            table,
            key: key.to_string(),
            op,
            error: error.to_string(),
        });
    }

    /// The table and bucket generation keys of record key `key`.
    fn generation_keys(&self, def: &TableDef, settings: &TableCache, key: &str) -> [String; 2] {
        [
            generation::table_key(&settings.prefix, def.name),
            generation::bucket_key(
                &settings.prefix,
                def.name,
                generation::bucket_of(key, settings.buckets),
            ),
        ]
    }
}
