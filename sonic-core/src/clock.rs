//! Where audit timestamps come from.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of the current time in Unix milliseconds, injectable so tests can pin it.
///
/// ```
/// # #[cfg(feature = "rusqlite")] {
/// use sonic_db_core::{sqlite::SqliteBackend, Clock, Db};
///
/// /// Every write stamped at the start of the request, however long it runs.
/// struct RequestTime(i64);
/// impl Clock for RequestTime {
///     fn now_ms(&self) -> i64 {
///         self.0
///     }
/// }
///
/// let db = Db::new(SqliteBackend::memory()?).with_clock(RequestTime(1_700_000_000_000));
/// assert_eq!(db.now_ms(), 1_700_000_000_000);
/// # }
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    ///
    /// ```
    /// use sonic_db_core::{Clock, SystemClock};
    /// let before = SystemClock.now_ms();
    /// let after = SystemClock.now_ms();
    /// assert!(before > 1_600_000_000_000 && after >= before);
    /// ```
    fn now_ms(&self) -> i64;
}

/// The system clock (`Date.now()` on Workers, where `SystemTime` is unavailable).
///
/// What [`Db::new`](crate::Db::new) uses.
///
/// ```
/// use std::time::{SystemTime, UNIX_EPOCH};
/// use sonic_db_core::{Clock, SystemClock};
/// let std_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
/// assert!((SystemClock.now_ms() - std_ms).abs() < 60_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[cfg(not(target_arch = "wasm32"))]
    fn now_ms(&self) -> i64 {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    }

    #[cfg(target_arch = "wasm32")]
    fn now_ms(&self) -> i64 {
        // `SystemTime::now()` panics on wasm32-unknown-unknown; `Date.now()` is an integral
        // number of milliseconds well inside ±2^53.
        js_sys::Date::now() as i64
    }
}

/// A clock that returns a set time, advanced by hand. For tests.
///
/// ```
/// use sonic_db_core::{Clock, FixedClock};
/// let clock = FixedClock::new(1_000);
/// clock.advance(5);
/// assert_eq!(clock.now_ms(), 1_005);
/// ```
#[derive(Debug, Clone, Default)]
pub struct FixedClock(Arc<AtomicI64>);

impl FixedClock {
    /// A clock showing `now_ms`.
    ///
    /// ```
    /// use sonic_db_core::{Clock, FixedClock};
    /// let clock = FixedClock::new(1_700_000_000_000);
    /// let shared = clock.clone(); // clones show the same time
    /// clock.advance(1);
    /// assert_eq!(shared.now_ms(), 1_700_000_000_001);
    /// ```
    pub fn new(now_ms: i64) -> Self {
        FixedClock(Arc::new(AtomicI64::new(now_ms)))
    }

    /// Moves the clock forward.
    ///
    /// For tests of what happens later: TTLs, expiry, `updated_on`.
    ///
    /// ```
    /// use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
    /// use sonic_db_core::FixedClock;
    /// # pollster::block_on(async {
    /// let clock = FixedClock::new(0);
    /// let kv = MemoryKv::with_clock(clock.clone());
    /// kv.put("session", b"1", &KvPutOptions::ttl(3_600)).await?;
    /// clock.advance(3_599_999);
    /// assert!(kv.get("session").await?.is_some());
    /// clock.advance(1);
    /// assert!(kv.get("session").await?.is_none()); // expired after one hour
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock.
    ///
    /// Unlike [`advance`](FixedClock::advance), it can go back, as a real clock may (NTP).
    ///
    /// ```
    /// use sonic_db_core::{Clock, FixedClock};
    /// let clock = FixedClock::new(5_000);
    /// clock.set(1_000);
    /// assert_eq!(clock.now_ms(), 1_000);
    /// ```
    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
