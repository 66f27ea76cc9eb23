//! What a scenario works with: its own handles on the backends under test, a clock it
//! controls, and a record of what the cache reported.

use std::fmt::Display;
use std::sync::{Arc, Mutex, MutexGuard};

use sonic_db_core::cache::{CacheEvent, KvCache};
use sonic_db_core::kv::{KvListOptions, KvListPage, KvPutOptions};
use sonic_db_core::{CacheConfig, Db, FixedClock, KvBackend, Result, Table, ToValue};

use crate::check::Step;

/// The KV backend of the [`Db`] given to the suite, shared (a [`KvCache`] exposes its backend
/// only by reference, so this holds a clone of the cache and delegates to its backend).
#[derive(Clone)]
struct SharedKv(KvCache);

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl KvBackend for SharedKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.0.kv().get(key).await
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        self.0.kv().get_bulk(keys).await
    }

    async fn get_bulk_text(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        self.0.kv().get_bulk_text(keys).await
    }

    async fn put(&self, key: &str, value: &[u8], options: &KvPutOptions) -> Result<()> {
        self.0.kv().put(key, value, options).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.0.kv().delete(key).await
    }

    async fn list(&self, options: &KvListOptions) -> Result<KvListPage> {
        self.0.kv().list(options).await
    }
}

/// Cache events reported by the scenario's handles.
#[derive(Clone, Default)]
struct Events(Arc<Mutex<Vec<CacheEvent>>>);

impl Events {
    fn lock(&self) -> MutexGuard<'_, Vec<CacheEvent>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The suite's KV setup: the backend under test and the configuration of the suite's caches.
struct KvSetup {
    kv: SharedKv,
    config: CacheConfig,
    prefix: String,
}

/// One scenario's world.
pub(crate) struct Ctx {
    /// The handle under test: the given database's SQL backend, with a KV cache of its own
    /// over the given database's KV backend (when it has one), on [`Ctx::clock`].
    pub(crate) db: Db,
    /// The same SQL backend without any cache: for arranging data behind the cache's back.
    pub(crate) plain: Db,
    /// The clock of both handles' audit columns (and of the cache's bookkeeping).
    pub(crate) clock: FixedClock,
    kv: Option<KvSetup>,
    events: Events,
}

/// The TTL of the suite's cache entries: the platform minimum, so that leftovers go soon.
const TTL_SECS: u64 = 60;

impl Ctx {
    /// A context on `db`'s backends. `prefix` keeps this scenario's KV keys apart from every
    /// other scenario's and run's (and from the application's).
    pub(crate) fn new(db: &Db, start_ms: i64, prefix: String) -> std::result::Result<Ctx, String> {
        let clock = FixedClock::new(start_ms);
        let plain = Db::from_shared(db.backend().clone()).with_clock(clock.clone());
        let events = Events::default();
        let kv = db.cache().map(|cache| KvSetup {
            kv: SharedKv(cache.clone()),
            config: CacheConfig::new().prefix(prefix.clone()).ttl(TTL_SECS),
            prefix,
        });
        let mut ctx = Ctx {
            db: plain.clone(),
            plain,
            clock,
            kv,
            events,
        };
        if ctx.kv.is_some() {
            ctx.db = ctx.new_handle()?;
        }
        Ok(ctx)
    }

    /// Whether the database under test has a KV cache.
    pub(crate) fn has_kv(&self) -> bool {
        self.kv.is_some()
    }

    /// Fails unless there is a KV cache to test.
    pub(crate) fn require_kv(&self) -> std::result::Result<(), String> {
        if self.has_kv() {
            Ok(())
        } else {
            Err(
                "the Db given to the suite has no KV cache (configure one with Db::with_kv); \
                 the KV scenarios need it"
                    .to_string(),
            )
        }
    }

    /// A new handle on the same SQL and KV backends and the same keys, with a cache that
    /// remembers nothing: what another request or isolate sees. It knows the suite's tables
    /// ([`Db::with_schema`]), so deletes invalidate what they cascade to.
    pub(crate) fn new_handle(&self) -> std::result::Result<Db, String> {
        let setup = self
            .kv
            .as_ref()
            .ok_or_else(|| "no KV cache to open another handle on".to_string())?;
        let events = self.events.clone();
        let cache = KvCache::new(setup.kv.clone(), setup.config.clone())
            .step("configuring the suite's KV cache")?
            .with_hook(move |event: &CacheEvent| events.lock().push(event.clone()));
        Ok(Db::from_shared(self.plain.backend().clone())
            .with_clock(self.clock.clone())
            .with_schema(&crate::tables::schema())
            .with_cache(cache))
    }

    /// Deletes whatever an earlier run left under this scenario's prefix (there is normally
    /// nothing: prefixes are unique per run).
    pub(crate) async fn clear_kv(&self) -> std::result::Result<(), String> {
        if let Some(setup) = &self.kv {
            let prefix = format!("{}:", setup.prefix);
            sonic_db_core::kv::delete_prefix(&setup.kv, &prefix)
                .await
                .step("deleting leftover KV entries of the suite")?;
        }
        Ok(())
    }

    /// The record of `T` that KV would serve for `id` now ([`KvCache::peek`]: its entry, if
    /// tagged with the current generations), read from KV only; `None` when there is no
    /// current entry (absent, stale, or undecodable — the last also reported as an event).
    pub(crate) async fn kv_entry<T: Table>(
        &self,
        id: impl ToValue,
    ) -> std::result::Result<Option<T>, String> {
        let setup = self
            .kv
            .as_ref()
            .ok_or_else(|| "no KV cache to read entries of".to_string())?;
        let id = id
            .to_value()
            .map_err(|e| format!("KV entry: the id does not encode: {e}"))?;
        let cache = KvCache::new(setup.kv.clone(), setup.config.clone())
            .step("configuring a KV cache to read entries with")?;
        cache
            .peek::<T>(&id)
            .await
            .step(format!("reading the current KV entry of {id}"))
    }

    /// Moves the clock one second on and returns the new time.
    pub(crate) fn tick(&self) -> i64 {
        self.clock.advance(1_000);
        sonic_db_core::Clock::now_ms(&self.clock)
    }

    /// The current time of the scenario's clock.
    pub(crate) fn now(&self) -> i64 {
        sonic_db_core::Clock::now_ms(&self.clock)
    }

    /// Cache events that mean the KV backend misbehaved (a failed operation, an entry that
    /// does not decode): a conforming backend never causes them.
    pub(crate) fn kv_problems(&self) -> Vec<String> {
        self.events
            .lock()
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    CacheEvent::KvFailed { .. } | CacheEvent::Undecodable { .. }
                )
            })
            .map(ToString::to_string)
            .collect()
    }

    /// Every cache event so far, for failure messages.
    pub(crate) fn events(&self) -> String {
        let events = self.events.lock();
        if events.is_empty() {
            "none".to_string()
        } else {
            events
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" | ")
        }
    }

    /// Adds the cache events to a failure message.
    pub(crate) fn with_events(&self, message: impl Display) -> String {
        format!("{message} [cache events: {}]", self.events())
    }
}
