//! What the cache handled by itself, reported to a [`CacheHook`].

use crate::backend::MaybeSendSync;

/// A KV operation, for [`CacheEvent::KvFailed`].
///
/// ```
/// use sonic_db_core::cache::{CacheEvent, KvOp};
/// // A hook that only minds failed writes: reads that fail are served from SQL anyway.
/// let alarming = |event: &CacheEvent| {
///     matches!(event, CacheEvent::KvFailed { op: KvOp::Put | KvOp::Delete, .. })
/// };
/// let failed =
///     |op| CacheEvent::KvFailed { table: "posts", key: "k".into(), op, error: "429".into() };
/// assert!(alarming(&failed(KvOp::Delete)));
/// assert!(!alarming(&failed(KvOp::Get)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvOp {
    /// A read.
    Get,
    /// A fill, or a generation put (an invalidation, or a repair).
    Put,
    /// A delete (a purge).
    Delete,
}

/// Something the cache handled by itself that an operator may want to know about.
///
/// Its `Display` is a sentence for a log line.
///
/// ```
/// use sonic_db_core::cache::CacheEvent;
/// let event = CacheEvent::Suspect { table: "posts", key: None, reason: "a write failed".into() };
/// assert_eq!(event.to_string(), "every `posts` record is read from SQL for now: a write failed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheEvent {
    /// A cached value could not be used (corrupt, another schema fingerprint, another
    /// envelope version, a row that does not decode). It was treated as a miss and overwritten
    /// from SQL.
    Undecodable {
        /// Table name.
        table: &'static str,
        /// The KV key.
        key: String,
        /// What was wrong.
        reason: String,
    },
    /// A KV operation failed; the read was served from SQL, or the key became suspect.
    KvFailed {
        /// Table name.
        table: &'static str,
        /// The KV key.
        key: String,
        /// Which operation.
        op: KvOp,
        /// The error.
        error: String,
    },
    /// A key (or, with `key: None`, every key of the table) may hold a stale value in KV:
    /// this handle reads it from SQL until it is repaired or the TTL has passed.
    Suspect {
        /// Table name.
        table: &'static str,
        /// The KV key, or `None` for the whole table.
        key: Option<String>,
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for CacheEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CacheEvent::Undecodable { table, key, reason } => write!(
                f,
                "cached `{table}` record `{key}` does not decode ({reason}); healed from SQL"
            ),
            CacheEvent::KvFailed {
                table,
                key,
                op,
                error,
            } => write!(f, "KV {op:?} of `{table}` record `{key}` failed: {error}"),
            CacheEvent::Suspect {
                table,
                key: Some(key),
                reason,
            } => write!(
                f,
                "`{table}` record `{key}` is read from SQL for now: {reason}"
            ),
            CacheEvent::Suspect {
                table,
                key: None,
                reason,
            } => write!(
                f,
                "every `{table}` record is read from SQL for now: {reason}"
            ),
        }
    }
}

/// Receives [`CacheEvent`]s. Any `Fn(&CacheEvent)` is one.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use sonic_db_core::cache::{CacheConfig, CacheEvent, CacheHook, KvCache};
/// use sonic_db_core::MemoryKv;
///
/// struct Counter(AtomicU64); // e.g. feeding a metric
/// impl CacheHook for Counter {
///     fn event(&self, _event: &CacheEvent) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// let counter = Counter(AtomicU64::new(0));
/// counter.event(&CacheEvent::Suspect { table: "posts", key: None, reason: "test".into() });
/// assert_eq!(counter.0.load(Ordering::Relaxed), 1);
/// let cache = KvCache::new(MemoryKv::new(), CacheConfig::new())?.with_hook(counter);
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
pub trait CacheHook: MaybeSendSync {
    /// Called once per event, synchronously: keep it cheap.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use sonic_db_core::cache::{CacheEvent, CacheHook};
    ///
    /// let undecodable = AtomicU64::new(0);
    /// let hook = |event: &CacheEvent| {
    ///     if let CacheEvent::Undecodable { .. } = event {
    ///         undecodable.fetch_add(1, Ordering::Relaxed); // cheap: no I/O here
    ///     }
    /// };
    /// let reason = "envelope v0".to_string();
    /// hook.event(&CacheEvent::Undecodable { table: "posts", key: "k".into(), reason });
    /// assert_eq!(undecodable.load(Ordering::Relaxed), 1);
    /// ```
    fn event(&self, event: &CacheEvent);
}

impl<F: Fn(&CacheEvent) + MaybeSendSync> CacheHook for F {
    fn event(&self, event: &CacheEvent) {
        self(event)
    }
}

impl CacheEvent {
    /// Emits the event as a `warn` event of target `sonic::cache` on [`tracing`] (see
    /// [`crate::trace`]). The cache does so for every event, before handing it to its hook.
    pub(super) fn trace(&self) {
        match self {
            CacheEvent::Undecodable { table, key, reason } => tracing::warn!(
                target: "sonic::cache",
                table = %table,
                key = %key,
                reason = reason.as_str(),
                "undecodable"
            ),
            CacheEvent::KvFailed {
                table,
                key,
                op,
                error,
            } => tracing::warn!(
                target: "sonic::cache",
                table = %table,
                key = %key,
                op = ?op,
                error = error.as_str(),
                "kv failed"
            ),
            CacheEvent::Suspect { table, key, reason } => tracing::warn!(
                target: "sonic::cache",
                table = %table,
                key = key.as_deref().map(tracing::field::display),
                reason = reason.as_str(),
                "suspect"
            ),
        }
    }
}
