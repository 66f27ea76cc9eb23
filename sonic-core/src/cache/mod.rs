//! The KV cache of single records: [`Db::find`](crate::Db::find) reads KV first, writes go to
//! SQL first and then put or delete each affected record's key. Everything else reads SQL.
//!
//! The parts: [`config`] (per-table settings), `key` (record keys), `envelope` (the cached
//! form of a row), `state` (what a handle remembers of its writes), `read` (find and fill),
//! `write` (write-through after SQL), [`event`] (what is reported to a [`CacheHook`]).
//!
#![doc = include_str!("../../docs/coherence.md")]

pub mod config;
#[doc(hidden)]
pub mod envelope;
pub mod event;
mod key;
mod read;
mod state;
#[cfg(test)]
#[cfg(feature = "testing")]
mod tests;
mod write;

use std::sync::{Arc, Mutex, MutexGuard};

pub use config::{CacheConfig, TableCache};
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
/// A fill whose SQL read took longer than this is skipped, and a write whose KV operations come
/// later than this after its SQL deletes instead of putting: a row that old may have been
/// replaced by the time it lands.
const MAX_FILL_LAG_MS: i64 = 10_000;

/// The KV cache of one handle: routing, fills, write-through and the handle's memory of what
/// it wrote (see the module docs for the design and the guarantee).
///
/// Clones share everything, including that memory.
#[derive(Clone)]
pub struct KvCache {
    kv: Arc<dyn KvBackend>,
    config: Arc<CacheConfig>,
    /// Also told of every event, besides `tracing` ([`KvCache::with_hook`]).
    hook: Option<Arc<dyn CacheHook>>,
    clock: Arc<dyn Clock>,
    state: Arc<Mutex<HandleState>>,
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
        })
    }

    /// Also hands every event to `hook` (after `tracing`): for tests and metrics.
    pub fn with_hook(mut self, hook: impl CacheHook + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Uses `clock` for the expiry of what the handle remembers (and the fill lag check).
    pub fn with_clock(self, clock: impl Clock + 'static) -> Self {
        self.with_shared_clock(Arc::new(clock))
    }

    /// Uses a clock shared with other code (the [`Db`](crate::Db)'s).
    pub(crate) fn with_shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Whether single-record reads of `T` go through KV.
    pub fn caches<T: Table>(&self) -> bool {
        self.settings(T::DEF).is_some()
    }

    /// Whether single-record reads of the table `def` go through KV.
    pub(crate) fn caches_table(&self, def: &TableDef) -> bool {
        self.settings(def).is_some()
    }

    /// The configuration.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// The KV backend.
    pub fn kv(&self) -> &dyn KvBackend {
        &*self.kv
    }

    /// The settings of `def` if it is cached.
    fn settings(&self, def: &TableDef) -> Option<&TableCache> {
        Some(self.config.for_table(def.name)).filter(|s| s.enabled)
    }

    /// The KV key of record `id` of `T`, or `None` if `T` is not cached or the id has no key.
    pub fn key_of<T: Table>(&self, id: &Value) -> Option<String> {
        self.key(T::DEF, id)
    }

    fn key(&self, def: &TableDef, id: &Value) -> Option<String> {
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

    fn generation(&self, table: &'static str) -> u64 {
        self.state().table(table).generation
    }
}
