//! Where audit timestamps come from.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of the current time in Unix milliseconds, injectable so tests can pin it.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock (`Date.now()` on Workers, where `SystemTime` is unavailable).
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
    pub fn new(now_ms: i64) -> Self {
        FixedClock(Arc::new(AtomicI64::new(now_ms)))
    }

    /// Moves the clock forward.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Sets the clock.
    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}
