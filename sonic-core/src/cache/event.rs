//! What the cache handled by itself, reported to a [`CacheHook`].

use crate::backend::MaybeSendSync;

/// A KV operation, for [`CacheEvent::KvFailed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvOp {
    /// A read.
    Get,
    /// A fill, a write-through or a repair.
    Put,
    /// An invalidation.
    Delete,
}

/// Something the cache handled by itself that an operator may want to know about.
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
pub trait CacheHook: MaybeSendSync {
    /// Called once per event, synchronously: keep it cheap.
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
