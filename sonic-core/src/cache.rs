//! Routing between D1 and KV: single records by primary key are cached in KV, everything else
//! reads SQL.
//!
//! A [`Db`](crate::Db) gets a cache with [`Db::with_kv`](crate::Db::with_kv) (or
//! [`Db::with_cache`](crate::Db::with_cache) for a custom [`CacheHook`]); this module is the
//! logic behind it.
//!
//! # Routing
//!
//! * A read of **one record by primary key** (`Db::find`, `Db::find_with_source`, which go
//!   through [`KvCache::find`]) asks KV first. On a hit the record is decoded from the cached
//!   row and reported with [`Source::Kv`]; on a miss it is read from SQL, reported with
//!   [`Source::D1`], and put into KV (a *fill*).
//! * **Lists, filters, sorts, counts and eager relations** always read SQL; the cache never
//!   sees them. A **fresh read** (`Db::find_fresh`) reads SQL and neither reads nor fills KV.
//! * Caching is configured per table ([`CacheConfig`], [`TableCache`]): on/off, TTL, key
//!   prefix. Keys are `{prefix}:{table}:{id}` ([`record_key`]; ids making a key longer than
//!   512 bytes are hashed with SHA-256 and marked `#h`, which no literal id can produce).
//! * Cached values are a JSON envelope ([`envelope`]): a fingerprint of the table's SQL layout
//!   and the raw row, encoded losslessly and decoded through [`Table::decode`], so a KV read
//!   converts exactly as a SQL read does.
//!
//! # Writes: SQL first, then one KV write per record
//!
//! Every write goes to SQL first. **A failed SQL write never touches KV.** After SQL
//! succeeds, each affected record gets **one** KV operation, chosen so that the next read is a
//! hit (the platform allows one write per second per key, so "delete, then fill on the next
//! read" would spend two):
//!
//! | write | KV operation per affected record |
//! |---|---|
//! | insert, insert many, update, upsert, update by filter | `put` of the row the database returned (`RETURNING`) |
//! | delete, delete by filter | `delete` of the key (the keys the database returned) |
//! | … and every record a delete removes or changes through foreign keys | `delete` of the key (the keys selected in the delete's batch, below) |
//!
//! A write that changed nothing (a delete of a missing key, a filter matching no row) does no
//! KV operation. `update_where(..).run()` asks for whole rows when the table is cached, to
//! write them through. A multi-record write spends at most
//! [`CacheConfig::max_kv_writes_per_write`] KV writes (Workers allow 1,000 KV operations per
//! invocation), cascaded records included; records beyond that are handled like a failed KV
//! write, below. An insert that gets back fewer rows than it sent records is an
//! [`Error::Database`], and its keys are suspect (it may have committed).
//!
//! # Deletes and foreign keys
//!
//! The database itself applies `ON DELETE CASCADE`, `SET NULL` and `SET DEFAULT`: deleting a
//! user deletes its posts and their comments, or clears a column of rows elsewhere. Those
//! rows' KV entries are deleted too, when the handle knows the foreign key:
//!
//! * **Which foreign keys are known.** Those of the [`Schema`](crate::Schema) given to
//!   [`Db::with_schema`](crate::Db::with_schema) — every table of it — and, with or without
//!   a schema, those found from the deleted table itself: the foreign keys of the tables of
//!   its `many` relations that reference it (and, from those tables, theirs). A foreign key
//!   found neither way is not followed: the entries of rows it removes or changes stay in KV
//!   and are served, by every handle, until their TTL. Give the handle the schema.
//! * **How the keys are collected.** A delete from a table that cached tables depend on
//!   sends, in the same atomic batch as the `DELETE` and before it (still one round trip),
//!   one `SELECT` of primary keys per path to a cached table: `SELECT "id" FROM "posts"
//!   WHERE "user_id" IN (SELECT "id" FROM "users" WHERE <filter>)`, nested once more for
//!   comments, and so on. `CASCADE` is followed transitively, through uncached tables too;
//!   `SET NULL` / `SET DEFAULT` rows are changed, not deleted, so nothing past them is. A
//!   table that cascades to itself by primary key (a tree of replies) is selected whole with
//!   a recursive CTE. A delete that nothing depends on stays a single statement.
//! * **What happens with them.** They are handled exactly like the deleted records: a KV
//!   `delete` per key after SQL succeeded (the next `find` refills a `SET NULL` row), the
//!   same expectations, the same suspicion when a KV delete fails, when SQL fails
//!   ambiguously (then each dependent table is suspect: its keys are unknown), or when the
//!   write is cancelled.
//! * **When they cannot be collected** — a cascade cycle through several tables, a table
//!   cascading to itself through a column other than its primary key, or `SELECT`s beyond the
//!   backend's limits (parameters or SQL length per statement, statements per batch; each
//!   `SELECT` binds the delete's filter once) or beyond 32 per delete — the cached tables
//!   concerned become suspect **for this handle**, as a whole, for `TTL + 60 s` (and any
//!   keys that were collected are deleted). Other handles can then be served such rows until
//!   their TTL.
//!
//! # Failures, and what a handle remembers
//!
//! KV can fail, or time out after applying a write, at any moment; and KV has no
//! compare-and-swap, so a fill that read SQL just before a write elsewhere can land just after
//! that write's KV operation. A `KvCache` — one per `Db` handle, shared by its clones — keeps
//! a small *expectation* per key it wrote (or repaired) in the last `TTL + 60 s`:
//!
//! * **written**: the KV write succeeded; it remembers a digest of the bytes put (or that the
//!   key was deleted). A later hit is served only if it is exactly those bytes; any other
//!   value (a newer write from elsewhere, or a racing fill from another isolate) is checked
//!   against SQL, which is returned and put back.
//! * **suspect**: the KV write failed, was skipped (over budget, or the row could not be
//!   encoded), may have raced another write of this handle, or the SQL write failed in a way
//!   that leaves open whether it committed (anything but a constraint violation or an error
//!   raised before sending), or the write's future was dropped between SQL and KV. A suspect
//!   key is never read from KV: `find` reads SQL and retries the repair (puts the fresh row,
//!   or deletes the key); if that succeeds, the key is *written* again.
//! * A write by filter whose keys are unknown (its SQL failed ambiguously, or it was
//!   cancelled) makes the **whole table** suspect for this handle for `TTL + 60 s`; keys
//!   repaired after that are trusted again one by one.
//!
//! Expectations expire after `TTL + 60 s`, which keeps the memory bounded: by then every KV
//! entry written before (or by a fill racing) the remembered write has expired, and every
//! location has seen that. Fills are guarded too: a fill is skipped when a write to the same
//! table began in this handle since the find began (or is in flight), or when the SQL read
//! took longer than 10 s; if a write begins while the fill's put is in flight, the key becomes
//! suspect.
//!
//! # The guarantee
//!
//! A write is *acknowledged* when its future returned `Ok`.
//!
//! 1. **Same handle: read your writes.** After an acknowledged write, `find` of an affected
//!    record through the same handle (or a clone) never returns a value older than that
//!    write: it returns the written value or a newer one. This holds whatever KV does (fails,
//!    loses acknowledgements, gets overwritten by a racing fill from another isolate). A find
//!    that runs concurrently with a write of the same handle may return the value before or
//!    after it. For a delete, the affected records include those its known foreign keys
//!    (above) remove or change — also when their keys could not be collected, since their
//!    tables are then suspect; records of foreign keys the handle does not know are not
//!    covered.
//! 2. **A write that returned an error changed nothing in KV** (KV is not touched), and if the
//!    error leaves open whether SQL committed, this handle reads the affected keys (or table)
//!    from SQL until they are repaired.
//! 3. **Other handles in the same location** (other requests, other isolates). KV writes are
//!    visible at once in the writing location, so they see the new value once the write's KV
//!    operation is done — unless that operation failed or was skipped, or a fill from a read
//!    that began before the write landed after it. Then they can be served the older value
//!    until the entry's TTL ends: at most **TTL** after the write (plus ≤ 10 s of fill lag).
//!    Records removed or changed by a delete's foreign keys are the same when their keys were
//!    collected; when they were not (unknown foreign key, cycle, limits: above), other
//!    handles can be served them until their TTL.
//! 4. **Other locations.** Workers KV is eventually consistent: another location may serve the
//!    previous value for up to ~60 s after the KV operation (its read cache). The bound there
//!    is **~60 s**, and **TTL + ~60 s** in the cases of 3.
//! 5. A cached value that does not decode (corrupt, another schema, another version of Sonic)
//!    is never returned and never an error: it is a miss, reported to the [`CacheHook`], and
//!    overwritten from SQL.
//! 6. Reads never fail because of KV: a failing get is a miss, a failing fill is reported and
//!    ignored. Only SQL errors reach the caller.
//!
//! Not covered: writes made outside this API (raw SQL, another application) — call
//! [`KvCache::invalidate`] or [`KvCache::purge`] after them, or rely on the TTL; rows that
//! triggers change, and `ON UPDATE` actions (Sonic never changes a primary key, but
//! `update_where` can change another referenced column); and D1 read
//! replicas: a fill reads whatever the SQL backend returns, so read by key from a session
//! that sees the primary (`first-primary`), or a replica's older row can be cached for up to
//! the TTL.
//!
//! # Observability
//!
//! Healing and failures are reported to a [`CacheHook`]. The default, [`LogHook`], forwards
//! them to the [`log`] facade (`warn` level, target `sonic::cache`): the de-facto standard
//! facade, so the application connects whatever logger it uses (on Workers, one that writes
//! to `console`), and nothing is printed without one. Any `Fn(&CacheEvent)` is a hook too,
//! which is how tests assert healing.

pub mod envelope;
mod key;

use std::collections::HashMap;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard};

pub use envelope::fingerprint;
pub use key::{record_key, table_prefix};

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::kv::{self, KvBackend, KvPutOptions, MaybeSendSync, MIN_TTL_SECS};
use crate::schema::{Table, TableDef};
use crate::value::Value;

/// How long after a KV operation other locations may still see the previous value.
const PROPAGATION_MS: i64 = 60_000;
/// A fill whose SQL read took longer than this is skipped, and a write whose KV operations come
/// later than this after its SQL deletes instead of putting: a row that old may have been
/// replaced by the time it lands.
const MAX_FILL_LAG_MS: i64 = 10_000;
/// KV writes that a multi-record write runs at once.
const KV_WRITE_CONCURRENCY: usize = 16;

/// Where a single record came from.
///
/// Serialises as `"kv"` / `"d1"`, the `source` field of SonicJs's REST responses.
///
/// ```
/// use sonic_db_core::cache::Source;
/// assert_eq!(serde_json::to_string(&Source::Kv).unwrap(), "\"kv\"");
/// assert_eq!(Source::D1.to_string(), "d1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The KV cache.
    Kv,
    /// The SQL database (D1, or SQLite natively).
    D1,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Kv => "kv",
            Source::D1 => "d1",
        })
    }
}

/// A record and where it came from. Serialises as `{"data": …, "source": "kv" | "d1"}`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Found<T> {
    /// The record.
    #[serde(rename = "data")]
    pub record: T,
    /// Where it was read.
    pub source: Source,
}

/// The cache settings of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCache {
    /// Whether single-record reads of the table go through KV.
    pub enabled: bool,
    /// Seconds a cached record lives (at least 60, the platform's minimum). Also the bound on
    /// how long another isolate can serve a stale value after a failed KV write.
    pub ttl_secs: u64,
    /// The first part of every key: `{prefix}:{table}:{id}`. Letters, digits, `-`, `_`,
    /// `.`, `/`; at most 64 bytes.
    pub prefix: String,
}

impl Default for TableCache {
    fn default() -> Self {
        TableCache {
            enabled: true,
            ttl_secs: 300,
            prefix: "sonic".to_string(),
        }
    }
}

impl TableCache {
    /// Caching on, 5-minute TTL, prefix `sonic`.
    pub fn new() -> Self {
        TableCache::default()
    }

    /// Caching off: every read of the table goes to SQL.
    pub fn disabled() -> Self {
        TableCache {
            enabled: false,
            ..TableCache::default()
        }
    }

    /// Sets the TTL in seconds.
    pub fn ttl(mut self, seconds: u64) -> Self {
        self.ttl_secs = seconds;
        self
    }

    /// Sets the key prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn validate(&self, what: &str) -> Result<()> {
        if self.ttl_secs < MIN_TTL_SECS {
            return Err(Error::Kv(format!(
                "cache TTL of {} s for {what} is below the platform minimum of {MIN_TTL_SECS} s",
                self.ttl_secs
            )));
        }
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/');
        if self.prefix.is_empty() || self.prefix.len() > 64 || !self.prefix.chars().all(valid) {
            return Err(Error::Kv(format!(
                "cache key prefix `{}` for {what} must be 1 to 64 of A-Z a-z 0-9 - _ . /",
                self.prefix
            )));
        }
        Ok(())
    }

    /// The window during which this handle remembers a key's KV state.
    fn window_ms(&self) -> i64 {
        i64::try_from(self.ttl_secs)
            .unwrap_or(i64::MAX / 2_000)
            .saturating_mul(1000)
            .saturating_add(PROPAGATION_MS)
    }
}

/// Cache settings for all tables: a default and per-table overrides.
///
/// ```
/// use sonic_db_core::cache::{CacheConfig, TableCache};
/// let config = CacheConfig::new()
///     .ttl(600)
///     .table_named("sessions", TableCache::disabled());
/// assert_eq!(config.for_table("users").ttl_secs, 600);
/// assert!(!config.for_table("sessions").enabled);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    default: TableCache,
    tables: HashMap<String, TableCache>,
    max_kv_writes_per_write: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            default: TableCache::default(),
            tables: HashMap::new(),
            max_kv_writes_per_write: 200,
        }
    }
}

impl CacheConfig {
    /// Every table cached with [`TableCache::default`].
    pub fn new() -> Self {
        CacheConfig::default()
    }

    /// Sets the default TTL (tables configured one by one keep theirs).
    pub fn ttl(mut self, seconds: u64) -> Self {
        self.default.ttl_secs = seconds;
        self
    }

    /// Sets the default key prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.default.prefix = prefix.into();
        self
    }

    /// Sets the settings of tables not configured one by one; `TableCache::disabled()` makes
    /// caching opt-in.
    pub fn default_table(mut self, settings: TableCache) -> Self {
        self.default = settings;
        self
    }

    /// Sets the settings of table `T`.
    pub fn table<T: Table>(self, settings: TableCache) -> Self {
        self.table_named(T::DEF.name, settings)
    }

    /// Sets the settings of the table with this SQL name.
    pub fn table_named(mut self, name: impl Into<String>, settings: TableCache) -> Self {
        self.tables.insert(name.into(), settings);
        self
    }

    /// The most KV writes one write spends (default 200; Workers allow 1,000 KV operations per
    /// invocation). Records beyond it are marked suspect instead (see the module docs).
    pub fn max_kv_writes_per_write(mut self, max: usize) -> Self {
        self.max_kv_writes_per_write = max;
        self
    }

    /// The most KV writes one write spends.
    pub(crate) fn kv_write_budget(&self) -> usize {
        self.max_kv_writes_per_write
    }

    /// The settings that apply to a table.
    pub fn for_table(&self, name: &str) -> &TableCache {
        self.tables.get(name).unwrap_or(&self.default)
    }

    /// Checks every TTL (≥ 60 s) and prefix.
    pub fn validate(&self) -> Result<()> {
        self.default.validate("the default")?;
        for (name, settings) in &self.tables {
            settings.validate(&format!("table `{name}`"))?;
        }
        Ok(())
    }
}

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

/// The default hook: every event as a `warn` record on the [`log`] facade, target
/// `sonic::cache`. Without a logger installed, events are dropped.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogHook;

impl CacheHook for LogHook {
    fn event(&self, event: &CacheEvent) {
        log::warn!(target: "sonic::cache", "{event}");
    }
}

/// What this handle knows about a key's KV entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// It may be stale: never read it from KV.
    Suspect,
    /// We deleted it: a value there is someone else's and must be checked against SQL.
    Absent,
    /// We put these bytes (digest): only they are served.
    Bytes(u64),
}

#[derive(Debug, Clone, Copy)]
struct KeyState {
    expect: Expect,
    until_ms: i64,
    /// Order of events in this handle, to compare with a table-wide suspicion.
    seq: u64,
}

#[derive(Debug, Default)]
struct TableState {
    /// Bumped when a write begins and when it ends.
    generation: u64,
    /// Writes between their start and their KV operation.
    in_flight: u32,
    /// `(until_ms, seq)` of a table-wide suspicion.
    suspect: Option<(i64, u64)>,
}

#[derive(Debug, Default)]
struct HandleState {
    seq: u64,
    tables: HashMap<&'static str, TableState>,
    keys: HashMap<String, KeyState>,
    prune_at: usize,
}

impl HandleState {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    fn table(&mut self, name: &'static str) -> &mut TableState {
        self.tables.entry(name).or_default()
    }

    fn set_key(&mut self, key: &str, expect: Expect, until_ms: i64) {
        let seq = self.next_seq();
        self.keys.insert(
            key.to_string(),
            KeyState {
                expect,
                until_ms,
                seq,
            },
        );
    }

    /// Drops expired expectations, now and then (amortised O(1) per write).
    fn prune(&mut self, now_ms: i64) {
        if self.keys.len() >= self.prune_at {
            self.keys.retain(|_, k| k.until_ms > now_ms);
            self.prune_at = (self.keys.len() * 2).max(64);
        }
    }
}

/// How a find treats the KV entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Serve any decodable hit.
    Trust,
    /// Serve a hit only if its digest is this (`None`: serve no hit, check SQL).
    Verify(Option<u64>),
    /// Do not read KV: read SQL, then repair.
    Bypass,
}

/// A KV operation that a find or a write wants to run on a key.
enum Action {
    Put(Vec<u8>),
    Delete,
}

fn digest(bytes: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// Whether SQL may have applied a write that reported `error`. Only errors raised before the
/// statement ran, or by SQLite rejecting it as a whole, say for certain that it did not.
fn may_have_committed(error: &Error) -> bool {
    !matches!(
        error,
        Error::UniqueViolation { .. }
            | Error::ForeignKeyViolation { .. }
            | Error::ConstraintViolation { .. }
            | Error::InvalidQuery(_)
            | Error::Limit(_)
            | Error::Encode { .. }
            | Error::UnknownColumn { .. }
            | Error::NotFound { .. }
    )
}

/// The KV cache of one handle: routing, fills, write-through and the handle's memory of what
/// it wrote (see the module docs for the design and the guarantee).
///
/// Clones share everything, including that memory.
#[derive(Clone)]
pub struct KvCache {
    kv: Arc<dyn KvBackend>,
    config: Arc<CacheConfig>,
    hook: Arc<dyn CacheHook>,
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
    /// A cache over `kv` with `config`, reporting to [`LogHook`], on the system clock.
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
            hook: Arc::new(LogHook),
            clock: Arc::new(SystemClock),
            state: Arc::default(),
        })
    }

    /// Reports events to `hook` instead of [`LogHook`].
    pub fn with_hook(mut self, hook: impl CacheHook + 'static) -> Self {
        self.hook = Arc::new(hook);
        self
    }

    /// Uses `clock` for the expiry of what the handle remembers (and the fill lag check).
    pub fn with_clock(self, clock: impl Clock + 'static) -> Self {
        self.with_shared_clock(Arc::new(clock))
    }

    /// Uses a clock shared with other code (the [`Db`](crate::Db)'s).
    pub fn with_shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
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
        self.hook.event(&event);
    }

    fn kv_failed(&self, table: &'static str, key: &str, op: KvOp, error: &Error) {
        self.report(CacheEvent::KvFailed {
            table,
            key: key.to_string(),
            op,
            error: error.to_string(),
        });
    }

    /// Reads record `id` of `T`: from KV if it is there and trustworthy, else with `load`
    /// (the SQL read by primary key), filling KV afterwards.
    ///
    /// Only `load`'s error is returned: KV failures and undecodable entries are reported to
    /// the hook and handled as misses.
    pub async fn find<T, F, Fut>(&self, id: &Value, load: F) -> Result<Option<Found<T>>>
    where
        T: Table,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let def = T::DEF;
        let (Some(settings), Some(key)) = (self.settings(def), self.key(def, id)) else {
            return Ok(load().await?.map(|record| Found {
                record,
                source: Source::D1,
            }));
        };
        let started = self.clock.now_ms();
        let (plan, generation, writing) = {
            let mut state = self.state();
            let seq_state = state.keys.get(&key).copied();
            let table = state.table(def.name);
            let (generation, writing) = (table.generation, table.in_flight > 0);
            let table_suspect = table.suspect.filter(|&(until, _)| until > started);
            let key_state = seq_state.filter(|k| k.until_ms > started);
            let plan = match (key_state, table_suspect) {
                (Some(k), Some((_, since))) if k.seq < since => Plan::Bypass,
                (None, Some(_)) => Plan::Bypass,
                (Some(k), _) => match k.expect {
                    Expect::Suspect => Plan::Bypass,
                    Expect::Absent => Plan::Verify(None),
                    Expect::Bytes(d) => Plan::Verify(Some(d)),
                },
                (None, None) => Plan::Trust,
            };
            (plan, generation, writing)
        };

        // Whether KV holds something that must be replaced even if SQL has no record.
        let mut kv_dirty = plan == Plan::Bypass;
        if plan != Plan::Bypass {
            match self.kv.get(&key).await {
                Ok(Some(bytes)) => match self.decode::<T>(def, &key, id, &bytes) {
                    Ok(record) => {
                        let trusted = match plan {
                            Plan::Trust => true,
                            Plan::Verify(expected) => expected == Some(digest(&bytes)),
                            Plan::Bypass => false,
                        };
                        if trusted {
                            return Ok(Some(Found {
                                record,
                                source: Source::Kv,
                            }));
                        }
                        kv_dirty = true;
                    }
                    Err(reason) => {
                        self.report(CacheEvent::Undecodable {
                            table: def.name,
                            key: key.clone(),
                            reason,
                        });
                        kv_dirty = true;
                    }
                },
                Ok(None) => {}
                Err(error) => self.kv_failed(def.name, &key, KvOp::Get, &error),
            }
        }

        let loaded = load().await?;

        let action = match &loaded {
            Some(record) => match Self::envelope(record) {
                Ok(bytes) => Some(Action::Put(bytes)),
                Err(reason) => {
                    self.report(CacheEvent::Undecodable {
                        table: def.name,
                        key: key.clone(),
                        reason,
                    });
                    kv_dirty.then_some(Action::Delete)
                }
            },
            None if kv_dirty => Some(Action::Delete),
            None => None,
        };
        let lag = self.clock.now_ms().saturating_sub(started);
        if let Some(action) = action {
            if !writing && lag <= MAX_FILL_LAG_MS && self.generation(def.name) == generation {
                self.fill(def.name, settings, &key, action, plan, generation)
                    .await;
            }
        }
        Ok(loaded.map(|record| Found {
            record,
            source: Source::D1,
        }))
    }

    /// Runs the fill / repair after a find and records what it means.
    async fn fill(
        &self,
        table: &'static str,
        settings: &TableCache,
        key: &str,
        action: Action,
        plan: Plan,
        generation: u64,
    ) {
        let (result, expect) = self.apply(settings, key, &action).await;
        if let Err(error) = &result {
            self.kv_failed(table, key, action_op(&action), error);
        }
        let now = self.clock.now_ms();
        let raced = {
            let mut state = self.state();
            state.prune(now);
            let raced = state.table(table).generation != generation;
            if raced {
                // A write of this handle began while the put was in flight: the put may have
                // landed after the write's own KV operation, with an older row.
                state.set_key(key, Expect::Suspect, now + settings.window_ms());
            } else if result.is_ok() && plan != Plan::Trust {
                // A repair (or a verified replacement) worked: trust this key again.
                state.set_key(key, expect, now + settings.window_ms());
            }
            raced
        };
        if raced {
            self.report(CacheEvent::Suspect {
                table,
                key: Some(key.to_string()),
                reason: "a write began while a fill was in flight".to_string(),
            });
        }
    }

    /// Runs one KV write; returns its result and the expectation it sets when it succeeds.
    async fn apply(
        &self,
        settings: &TableCache,
        key: &str,
        action: &Action,
    ) -> (Result<()>, Expect) {
        match action {
            Action::Put(bytes) => (
                self.kv
                    .put(key, bytes, &KvPutOptions::ttl(settings.ttl_secs))
                    .await,
                Expect::Bytes(digest(bytes)),
            ),
            Action::Delete => (self.kv.delete(key).await, Expect::Absent),
        }
    }

    fn generation(&self, table: &'static str) -> u64 {
        self.state().table(table).generation
    }

    /// Decodes a cached entry of record `id`, checking that it is that record.
    fn decode<T: Table>(
        &self,
        def: &'static TableDef,
        key: &str,
        id: &Value,
        bytes: &[u8],
    ) -> std::result::Result<T, String> {
        let mut row = envelope::decode(def, envelope::fingerprint_of(def), bytes)?;
        if row.get(def.primary_key) != Some(id) {
            return Err(format!("entry under `{key}` holds another record"));
        }
        T::decode(&mut row).map_err(|e| e.to_string())
    }

    /// The envelope of a record, or why it cannot be built.
    fn envelope<T: Table>(record: &T) -> std::result::Result<Vec<u8>, String> {
        let def = T::DEF;
        let mut row = Vec::with_capacity(def.columns.len());
        record
            .encode_into(&mut row)
            .map(|()| envelope::encode(def, envelope::fingerprint_of(def), &row))
            .map_err(|error| format!("the record does not encode: {error}"))
    }

    /// Announces a write of the records with these primary keys (an insert with the key set,
    /// an update, an upsert, a delete). Call before sending SQL; finish the ticket after.
    pub fn begin_write(&self, def: &'static TableDef, ids: &[Value]) -> WriteTicket<'_> {
        let keys = ids.iter().filter_map(|id| self.key(def, id)).collect();
        self.begin(def, Some(keys))
    }

    /// Announces a write whose records are known only from its result (by filter, or an
    /// insert whose key the database assigns).
    pub fn begin_write_where(&self, def: &'static TableDef) -> WriteTicket<'_> {
        self.begin(def, None)
    }

    fn begin(&self, def: &'static TableDef, keys: Option<Vec<String>>) -> WriteTicket<'_> {
        let settings = self.settings(def).cloned();
        let now = self.clock.now_ms();
        let generation = settings.as_ref().map(|_| {
            let mut state = self.state();
            state.prune(now);
            let table = state.table(def.name);
            table.generation += 1;
            table.in_flight += 1;
            table.generation
        });
        WriteTicket {
            cache: self,
            def,
            settings,
            keys,
            generation,
            started_ms: now,
            budget: self.config.max_kv_writes_per_write,
            suspect_table: None,
            finished: false,
        }
    }

    /// Deletes the cached record `id` of `T`, e.g. after changing it with raw SQL. If the
    /// delete fails, the key is suspect for this handle and the error is returned.
    pub async fn invalidate<T: Table>(&self, id: &Value) -> Result<()> {
        let mut ticket = self.begin_write(T::DEF, std::slice::from_ref(id));
        let errors = ticket.run(vec![(id.clone(), Action::Delete)]).await;
        errors.into_iter().next().map_or(Ok(()), Err)
    }

    /// Deletes every cached record of `T` (following the list cursor to the end) and returns
    /// how many keys were deleted. Mind the 1,000 KV operations per invocation.
    pub async fn purge<T: Table>(&self) -> Result<usize> {
        let Some(settings) = self.settings(T::DEF) else {
            return Ok(0);
        };
        let prefix = table_prefix(&settings.prefix, T::DEF.name);
        let mut ticket = self.begin_write_where(T::DEF);
        let result = kv::delete_prefix(&*self.kv, &prefix).await;
        match &result {
            Ok(_) => ticket.finished = true,
            Err(error) => ticket.suspect_all(&format!("purge failed part-way: {error}")),
        }
        result
    }
}

fn action_op(action: &Action) -> KvOp {
    match action {
        Action::Put(_) => KvOp::Put,
        Action::Delete => KvOp::Delete,
    }
}

/// A write in progress, from before its SQL to after its KV operations.
///
/// Get one from [`KvCache::begin_write`] / [`KvCache::begin_write_where`] before sending SQL,
/// then finish it with exactly one of [`put_rows`](WriteTicket::put_rows) (the rows the
/// database returned), [`delete_ids`](WriteTicket::delete_ids) (the keys it deleted),
/// [`unchanged`](WriteTicket::unchanged) or [`failed`](WriteTicket::failed). A ticket dropped
/// unfinished (the write's future was cancelled) makes its keys — or, when they are unknown,
/// its table — suspect for this handle, since SQL may have committed.
#[must_use = "finish the ticket after the SQL write"]
pub struct WriteTicket<'c> {
    cache: &'c KvCache,
    def: &'static TableDef,
    /// `None` when the table is not cached (the ticket does nothing).
    settings: Option<TableCache>,
    /// The keys announced, or `None` when they are unknown before the SQL result.
    keys: Option<Vec<String>>,
    /// The table generation right after this write began (`None`: not cached).
    generation: Option<u64>,
    /// When the write began (clock ms).
    started_ms: i64,
    /// The most KV writes this ticket spends ([`CacheConfig::max_kv_writes_per_write`], or
    /// what a delete with cascades leaves to this table).
    budget: usize,
    /// Set when the write changed records of the table that cannot all be named: after its KV
    /// operations, the whole table becomes suspect for this handle, for this reason.
    suspect_table: Option<String>,
    /// Whether the outcome has been recorded (else `drop` treats the write as cancelled).
    finished: bool,
}

impl std::fmt::Debug for WriteTicket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTicket")
            .field("table", &self.def.name)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl WriteTicket<'_> {
    /// SQL succeeded and returned these rows (inserted, updated or upserted): puts each one
    /// into KV (write-through). KV failures are reported and make the key suspect; they are
    /// not errors of the write.
    pub async fn put_rows<T: Table>(mut self, rows: &[T]) {
        let mut actions = Vec::with_capacity(rows.len());
        for row in rows {
            let id = match row.primary_key_value() {
                Ok(id) => id,
                Err(error) => {
                    // Without a key the record cannot be found by key either; but to be safe
                    // when the key is unknowable, suspect the whole table.
                    self.suspect_all(&format!("a written row has no usable key: {error}"));
                    continue;
                }
            };
            // A row that does not encode is invalidated instead of written through.
            let action = match KvCache::envelope(row) {
                Ok(bytes) => Action::Put(bytes),
                Err(reason) => {
                    self.cache.report(CacheEvent::Undecodable {
                        table: self.def.name,
                        key: self.cache.key(self.def, &id).unwrap_or_default(),
                        reason,
                    });
                    Action::Delete
                }
            };
            actions.push((id, action));
        }
        self.run(actions).await;
    }

    /// Finishes the ticket with the outcome of a write that returns the rows it wrote:
    /// [`put_rows`](WriteTicket::put_rows) on success, [`failed`](WriteTicket::failed) on
    /// error.
    pub async fn finish_rows<T: Table>(self, result: std::result::Result<&[T], &Error>) {
        match result {
            Ok(rows) => self.put_rows(rows).await,
            Err(error) => self.failed(error),
        }
    }

    /// Finishes the ticket with the outcome of a delete that returns the primary keys it
    /// deleted: [`delete_ids`](WriteTicket::delete_ids) on success,
    /// [`failed`](WriteTicket::failed) on error.
    pub async fn finish_deleted(self, result: std::result::Result<&[Value], &Error>) {
        match result {
            Ok(ids) => self.delete_ids(ids).await,
            Err(error) => self.failed(error),
        }
    }

    /// SQL succeeded and deleted the records with these primary keys: deletes their keys.
    pub async fn delete_ids(mut self, ids: &[Value]) {
        let actions = ids.iter().map(|id| (id.clone(), Action::Delete)).collect();
        self.run(actions).await;
    }

    /// Spends at most `budget` KV writes (less than [`CacheConfig::max_kv_writes_per_write`]
    /// when several tables share one write's budget); records beyond are suspect.
    pub(crate) fn limit_budget(&mut self, budget: usize) {
        self.budget = self.budget.min(budget);
    }

    /// The write also changes records of the table that cannot be named: when it succeeds,
    /// the whole table becomes suspect for this handle after the KV operations (see
    /// [`WriteTicket::failed`] for the same on an ambiguous failure).
    pub(crate) fn suspect_table_on_success(&mut self, reason: String) {
        self.suspect_table = Some(reason);
    }

    /// SQL succeeded and changed nothing (e.g. an update that matched no record).
    pub fn unchanged(mut self) {
        self.finished = true;
    }

    /// SQL failed with `error`. Nothing is sent to KV. If the error leaves open whether the
    /// write committed (anything but a constraint violation or an error raised before
    /// sending), the announced keys — or the table, when they are unknown — become suspect for
    /// this handle.
    pub fn failed(mut self, error: &Error) {
        if may_have_committed(error) {
            self.suspect_all(&format!("the write may have committed: {error}"));
        } else {
            self.finished = true;
        }
    }

    /// Marks the announced keys, or the whole table when they are unknown, suspect.
    fn suspect_all(&mut self, reason: &str) {
        let keys = self.keys.take();
        self.suspect(keys, reason);
    }

    /// Marks these keys, or with `None` the whole table, suspect.
    fn suspect(&mut self, keys: Option<Vec<String>>, reason: &str) {
        self.finished = true;
        let Some(settings) = &self.settings else {
            return;
        };
        let until = self.cache.clock.now_ms() + settings.window_ms();
        let table = self.def.name;
        {
            let mut state = self.cache.state();
            match &keys {
                Some(keys) => {
                    for key in keys {
                        state.set_key(key, Expect::Suspect, until);
                    }
                }
                None => {
                    let seq = state.next_seq();
                    state.table(table).suspect = Some((until, seq));
                }
            }
        }
        match keys {
            Some(keys) => {
                for key in keys {
                    self.cache.report(CacheEvent::Suspect {
                        table,
                        key: Some(key),
                        reason: reason.to_string(),
                    });
                }
            }
            None => self.cache.report(CacheEvent::Suspect {
                table,
                key: None,
                reason: reason.to_string(),
            }),
        }
    }

    /// Runs the KV operations of a committed write, within the budget, and records the
    /// outcome per key. Returns the KV errors.
    async fn run(&mut self, actions: Vec<(Value, Action)>) -> Vec<Error> {
        let cache = self.cache;
        let def = self.def;
        self.finished = true;
        let (Some(settings), Some(generation)) = (self.settings.clone(), self.generation) else {
            return Vec::new();
        };
        // Everything after the budget is suspect rather than written.
        let budget = self.budget;
        let mut jobs = Vec::new();
        let mut over_budget = Vec::new();
        // A write whose KV operations come long after its SQL (a stalled request) deletes
        // instead of putting: a late put of a row that a later write has replaced could
        // outlive every other handle's memory of that later write; a late delete is harmless.
        let late = cache.clock.now_ms().saturating_sub(self.started_ms) > MAX_FILL_LAG_MS;
        for (id, action) in actions {
            let action = if late { Action::Delete } else { action };
            let Some(key) = cache.key(def, &id) else {
                continue;
            };
            if jobs.len() < budget {
                jobs.push((key, action));
            } else {
                over_budget.push(key);
            }
        }

        let mut outcomes = Vec::with_capacity(jobs.len());
        for chunk in jobs.chunks(KV_WRITE_CONCURRENCY) {
            let results = futures_util::future::join_all(
                chunk
                    .iter()
                    .map(|(key, action)| cache.apply(&settings, key, action)),
            )
            .await;
            outcomes.extend(results);
        }

        let now = cache.clock.now_ms();
        let until = now + settings.window_ms();
        let mut errors = Vec::new();
        let mut events = Vec::new();
        {
            let mut state = cache.state();
            // Another write of this handle began or ended since this one began: the order of
            // the two writes' KV operations is unknown, so trust neither.
            let raced = state.table(def.name).generation != generation;
            for ((key, action), (result, expect)) in jobs.iter().zip(outcomes) {
                match result {
                    Ok(()) if !raced => state.set_key(key, expect, until),
                    Ok(()) => {
                        state.set_key(key, Expect::Suspect, until);
                        events.push(CacheEvent::Suspect {
                            table: def.name,
                            key: Some(key.clone()),
                            reason: "another write of this handle ran concurrently".to_string(),
                        });
                    }
                    Err(error) => {
                        state.set_key(key, Expect::Suspect, until);
                        events.push(CacheEvent::KvFailed {
                            table: def.name,
                            key: key.clone(),
                            op: action_op(action),
                            error: error.to_string(),
                        });
                        errors.push(error);
                    }
                }
            }
            for key in &over_budget {
                state.set_key(key, Expect::Suspect, until);
            }
        }
        for event in events {
            cache.report(event);
        }
        if !over_budget.is_empty() {
            cache.report(CacheEvent::Suspect {
                table: def.name,
                key: None,
                reason: format!(
                    "{} records beyond the budget of {budget} KV writes per write were not \
                     written through",
                    over_budget.len()
                ),
            });
        }
        if let Some(reason) = self.suspect_table.take() {
            // After the keys' own expectations, so that the table-wide suspicion is newer.
            self.suspect(None, &reason);
        }
        errors
    }
}

impl Drop for WriteTicket<'_> {
    fn drop(&mut self) {
        if self.generation.is_none() {
            return;
        }
        if !self.finished {
            // The write's future was dropped between its start and its end: SQL may have
            // committed.
            self.suspect_all("the write was cancelled after it began");
        }
        let mut state = self.cache.state();
        let table = state.table(self.def.name);
        table.generation += 1;
        table.in_flight = table.in_flight.saturating_sub(1);
    }
}
