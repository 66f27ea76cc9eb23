//! What Sonic reports through [`tracing`]: every statement and batch it sends, the strategy of
//! each select with relations, and every decision of the KV cache.
//!
//! Nothing is printed unless the application installs a subscriber (natively e.g.
//! `tracing_subscriber::fmt()` with an `EnvFilter` of `sonic=debug`; on Workers one that
//! writes to `console`, as `examples/worker` does). Without one, or with these targets
//! filtered out, each event costs a check of a static level: no statement is timed and no
//! field is formatted. An application that wants none of them in its binary compiles them out
//! with `tracing`'s static level features in its own `Cargo.toml` (`max_level_off`,
//! `release_max_level_warn`, …).
//!
//! | target | level | message | fields |
//! |---|---|---|---|
//! | `sonic::sql` | debug | `statement` | `sql` (the text, with `?` placeholders), `params` (the number of bound values; values are never reported), `rows` (returned), `changes` (rows changed), `round_trip` (`"single"`: the statement alone; `"batch"`: one statement of a batch, then with `index`), `duration_ms` (of a single statement's round trip), `error` (when it failed) |
//! | `sonic::sql` | debug | `batch` | `statements`, `rows` and `changes` (totals), `duration_ms` (of the round trip), `error`; one `statement` event per statement follows |
//! | `sonic::eager` | debug | `eager loading` | `table`, `relations` (e.g. `posts(comments), author`), `strategy` (`"single statement"`, `"per level"` or `"joined"`: the first level `LEFT JOIN`ed to the parents' statement, deeper ones per level), `backend_prefers` (the backend's [`EagerStrategy`](crate::EagerStrategy)) |
//! | `sonic::cache` | debug | `hit` | `table`, `key`: served from KV |
//! | `sonic::cache` | debug | `miss` | `table`, `key`, `reason`: `"absent"`, `"stale generation"` (the entry's generations are not the current ones), `"suspect"` (KV refused this handle's invalidation: KV is not read), `"undecodable"`, `"kv error"`; read from SQL |
//! | `sonic::cache` | debug | `fill` | `table`, `key`: the row read after a miss put into KV (deferred when a `Defer` hook (the cache module's) is set) |
//! | `sonic::cache` | debug | `generation put` | `table`, `key` (a bucket or table generation): an invalidation after a write committed in SQL |
//! | `sonic::cache` | debug | `table invalidation` | `table`, `reason`: the table generation is put instead of buckets |
//! | `sonic::cache` | debug | `purge` | `table`, `deleted` (keys) |
//! | `sonic::cache` | warn | `suspect` | `table`, `key` (absent: the whole table), `reason` |
//! | `sonic::cache` | warn | `undecodable` | `table`, `key`, `reason` |
//! | `sonic::cache` | warn | `kv failed` | `table`, `key`, `op`, `error` |
//!
//! The three `warn` events are the cache's `CacheEvent`s, emitted whatever `CacheHook` the
//! cache reports them to.

use crate::backend::{QueryResult, Statement};
use crate::error::Error;

/// Whether the `sonic::sql` events are enabled: only then is a round trip timed.
pub(crate) fn sql_enabled() -> bool {
    tracing::enabled!(target: "sonic::sql", tracing::Level::DEBUG)
}

/// Reports one statement sent alone.
pub(crate) fn statement(statement: &Statement, result: Result<&QueryResult, &Error>, ms: f64) {
    let (rows, changes) = counts(result.ok());
    tracing::debug!(
        target: "sonic::sql",
        sql = %statement.sql,
        params = statement.params.len(),
        rows,
        changes,
        round_trip = "single",
        duration_ms = ms,
        error = result.err().map(tracing::field::display),
        "statement"
    );
}

/// Reports a batch (one round trip), then each of its statements.
pub(crate) fn batch(statements: &[Statement], results: Result<&[QueryResult], &Error>, ms: f64) {
    let (rows, changes) = match results {
        Ok(results) => (
            Some(results.iter().map(QueryResult::row_count).sum::<usize>()),
            Some(results.iter().map(|r| r.changes).sum::<u64>()),
        ),
        Err(_) => (None, None),
    };
    tracing::debug!(
        target: "sonic::sql",
        statements = statements.len(),
        rows,
        changes,
        duration_ms = ms,
        error = results.err().map(tracing::field::display),
        "batch"
    );
    for (index, statement) in statements.iter().enumerate() {
        let (rows, changes) = counts(results.ok().and_then(|r| r.get(index)));
        tracing::debug!(
            target: "sonic::sql",
            sql = %statement.sql,
            params = statement.params.len(),
            rows,
            changes,
            round_trip = "batch",
            index,
            "statement"
        );
    }
}

fn counts(result: Option<&QueryResult>) -> (Option<usize>, Option<u64>) {
    (
        result.map(QueryResult::row_count),
        result.map(|r| r.changes),
    )
}

/// Times a round trip; started only when its event is enabled.
///
/// `std::time::Instant` panics on wasm32-unknown-unknown: there it is `Date.now()` (whole
/// milliseconds; on Workers the clock advances only across I/O, which is what a round trip
/// is).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stopwatch {
    #[cfg(not(target_arch = "wasm32"))]
    start: std::time::Instant,
    #[cfg(target_arch = "wasm32")]
    start_ms: f64,
}

impl Stopwatch {
    /// A stopwatch started now if `enabled`.
    pub(crate) fn start_if(enabled: bool) -> Option<Stopwatch> {
        enabled.then(|| Stopwatch {
            #[cfg(not(target_arch = "wasm32"))]
            start: std::time::Instant::now(),
            #[cfg(target_arch = "wasm32")]
            start_ms: js_sys::Date::now(),
        })
    }

    /// Milliseconds since the start, to the microsecond.
    pub(crate) fn elapsed_ms(&self) -> f64 {
        #[cfg(not(target_arch = "wasm32"))]
        let ms = self.start.elapsed().as_secs_f64() * 1000.0;
        #[cfg(target_arch = "wasm32")]
        let ms = js_sys::Date::now() - self.start_ms;
        (ms * 1000.0).round() / 1000.0
    }
}
