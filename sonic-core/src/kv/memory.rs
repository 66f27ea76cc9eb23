//! An in-memory [`KvBackend`] that behaves like Workers KV in one location.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    check_bulk_keys, check_put, list_limit, validate_key, KvBackend, KvKey, KvListOptions,
    KvListPage, KvPutOptions,
};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};

/// An in-memory key-value store with the rules of Workers KV, for native tests.
///
/// Enforced, each with a clear [`Error::Kv`] message: keys are not empty, not `.` or `..`, at
/// most 512 bytes; values at most 25 MiB; metadata at most 1024 bytes of JSON; TTLs at least
/// 60 s; bulk gets at most 100 keys; list pages at most 1000 keys. Expired entries are never
/// returned, by the injected [`Clock`] (a [`crate::FixedClock`] makes expiry testable).
/// Optionally ([`MemoryKv::limit_write_rate`]) a second write to a key within one second fails
/// as the platform's 429 does.
///
/// Not modelled: eventual consistency between locations (this is one location, where writes
/// are visible at once, as on the platform).
///
/// Clones are handles to the same store, so a test can keep one to inspect what the record
/// cache wrote.
///
/// ```
/// use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
/// use sonic_db_core::FixedClock;
/// # pollster::block_on(async {
/// let clock = FixedClock::new(0);
/// let kv = MemoryKv::with_clock(clock.clone());
/// kv.put("k", b"v", &KvPutOptions::ttl(60)).await?;
/// assert_eq!(kv.get("k").await?, Some(b"v".to_vec()));
/// clock.advance(60_000);
/// assert_eq!(kv.get("k").await?, None);
/// assert!(kv.put("k", b"v", &KvPutOptions::ttl(59)).await.is_err());
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemoryKv {
    inner: Arc<Mutex<Inner>>,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct Inner {
    entries: BTreeMap<String, Entry>,
    /// When set, the last write time (ms) per key, for the 1 write/s/key rule.
    last_write_ms: Option<BTreeMap<String, i64>>,
}

struct Entry {
    value: Vec<u8>,
    /// Expiry in Unix milliseconds.
    expires_ms: Option<i64>,
    metadata: Option<serde_json::Value>,
}

impl Entry {
    fn live(&self, now_ms: i64) -> bool {
        self.expires_ms.is_none_or(|at| now_ms < at)
    }
}

impl std::fmt::Debug for MemoryKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryKv")
            .field("entries", &self.lock().entries.len())
            .finish()
    }
}

impl Default for MemoryKv {
    fn default() -> Self {
        MemoryKv::new()
    }
}

impl MemoryKv {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        MemoryKv::with_clock(SystemClock)
    }

    /// An empty store on `clock` (TTLs count on it).
    pub fn with_clock(clock: impl Clock + 'static) -> Self {
        MemoryKv {
            inner: Arc::new(Mutex::new(Inner::default())),
            clock: Arc::new(clock),
        }
    }

    /// Makes a second put or delete of the same key within one second (on the clock) fail, as
    /// the platform's "1 write per second per key" limit does (HTTP 429).
    pub fn limit_write_rate(self) -> Self {
        self.lock().last_write_ms.get_or_insert_with(BTreeMap::new);
        self
    }

    /// The live value under `key`, without going through the async trait (for assertions).
    pub fn peek(&self, key: &str) -> Option<Vec<u8>> {
        self.peek_at(key, self.clock.now_ms())
    }

    /// [`MemoryKv::peek`] at the time `now`: a bulk read reads the clock once.
    fn peek_at(&self, key: &str, now: i64) -> Option<Vec<u8>> {
        self.lock()
            .entries
            .get(key)
            .filter(|e| e.live(now))
            .map(|e| e.value.clone())
    }

    /// Overwrites `key` with `value` without any check or TTL: a way for tests to plant
    /// corrupted or foreign entries.
    pub fn plant(&self, key: &str, value: impl Into<Vec<u8>>) {
        self.lock().entries.insert(
            key.to_string(),
            Entry {
                value: value.into(),
                expires_ms: None,
                metadata: None,
            },
        );
    }

    /// Removes `key` without any check, as if its TTL had ended: a way for tests to make the
    /// next read miss.
    pub fn evict(&self, key: &str) {
        self.lock().entries.remove(key);
    }

    /// The live keys, in order.
    pub fn keys(&self) -> Vec<String> {
        let now = self.clock.now_ms();
        self.lock()
            .entries
            .iter()
            .filter(|(_, e)| e.live(now))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// The live entry's expiry, Unix milliseconds (`None` when absent or without expiry).
    pub fn expires_at_ms(&self, key: &str) -> Option<i64> {
        let now = self.clock.now_ms();
        self.lock()
            .entries
            .get(key)
            .filter(|e| e.live(now))
            .and_then(|e| e.expires_ms)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map half-updated (every update is
        // a single insert or remove), so a poisoned lock is safe to keep using.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check_write_rate(inner: &mut Inner, key: &str, now_ms: i64) -> Result<()> {
        if let Some(last) = inner.last_write_ms.as_mut() {
            if let Some(&at) = last.get(key) {
                if now_ms - at < 1000 {
                    return Err(Error::Kv(format!(
                        "429 too many requests: key `{key}` was written {} ms ago \
                         (at most 1 write per second per key)",
                        now_ms - at
                    )));
                }
            }
            last.insert(key.to_string(), now_ms);
        }
        Ok(())
    }
}

/// When an entry put with `options` at `now_ms` expires (options already checked by
/// [`check_put`]): the earlier of its TTL and its absolute expiry, in Unix milliseconds.
fn expiry_ms(options: &KvPutOptions, now_ms: i64) -> Option<i64> {
    let after_ttl = options.expiration_ttl.map(|ttl| {
        i64::try_from(ttl)
            .ok()
            .and_then(|t| t.checked_mul(1000))
            .and_then(|t| t.checked_add(now_ms))
            .unwrap_or(i64::MAX)
    });
    let at = options
        .expiration
        .map(|at| i64::try_from(at).unwrap_or(i64::MAX).saturating_mul(1000));
    match (after_ttl, at) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl KvBackend for MemoryKv {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        validate_key(key)?;
        Ok(self.peek(key))
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        check_bulk_keys(keys)?;
        let now = self.clock.now_ms();
        Ok(keys.iter().map(|k| self.peek_at(k, now)).collect())
    }

    async fn put(&self, key: &str, value: &[u8], options: &KvPutOptions) -> Result<()> {
        let now = self.clock.now_ms();
        let now_secs = u64::try_from(now.div_euclid(1000)).unwrap_or(0);
        check_put(key, value.len(), options, now_secs)?;
        let expires_ms = expiry_ms(options, now);
        let mut inner = self.lock();
        Self::check_write_rate(&mut inner, key, now)?;
        inner.entries.insert(
            key.to_string(),
            Entry {
                value: value.to_vec(),
                expires_ms,
                metadata: options.metadata.clone(),
            },
        );
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key)?;
        let now = self.clock.now_ms();
        let mut inner = self.lock();
        Self::check_write_rate(&mut inner, key, now)?;
        inner.entries.remove(key);
        Ok(())
    }

    async fn list(&self, options: &KvListOptions) -> Result<KvListPage> {
        let limit = list_limit(options)?;
        let prefix = options.prefix.as_deref().unwrap_or("");
        let now = self.clock.now_ms();
        let inner = self.lock();
        // The cursor is the last key scanned. As on the platform, a page scans `limit` stored
        // keys and returns the live ones: expired keys make pages short, even empty.
        let start = match options.cursor.as_deref() {
            Some(cursor) => {
                if !cursor.starts_with(prefix) {
                    return Err(Error::Kv(format!(
                        "list cursor `{cursor}` does not belong to prefix `{prefix}`"
                    )));
                }
                Bound::Excluded(cursor.to_string())
            }
            None => Bound::Included(prefix.to_string()),
        };
        let mut scanned = inner
            .entries
            .range((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix));
        let mut keys = Vec::new();
        let mut last = None;
        for (name, entry) in scanned.by_ref().take(limit) {
            last = Some(name.clone());
            if entry.live(now) {
                keys.push(KvKey {
                    name: name.clone(),
                    expiration: entry
                        .expires_ms
                        .map(|ms| u64::try_from(ms.div_euclid(1000)).unwrap_or(0)),
                    metadata: entry.metadata.clone(),
                });
            }
        }
        let list_complete = scanned.next().is_none();
        Ok(KvListPage {
            keys,
            list_complete,
            cursor: if list_complete { None } else { last },
        })
    }
}
