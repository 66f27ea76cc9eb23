//! [`CountingSql`]: a backend wrapper that records what reaches the database.
//!
//! Round trips are what cost on D1, so tests assert them: a query that should take one round
//! trip, a batch that should hold n statements, a statement that must bind at most 100 values,
//! an SQL text that must never contain a user's value.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::backend::{Capabilities, QueryResult, SqlBackend, Statement};
use crate::error::Result;
use crate::value::Value;

/// One statement as it was sent.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedStatement {
    /// The SQL text.
    pub sql: String,
    /// The bound values.
    pub params: Vec<Value>,
    /// The round trip it was part of (0-based, counted since the last reset).
    pub round_trip: usize,
    /// Whether it was sent in a batch.
    pub batched: bool,
}

#[derive(Debug, Default)]
struct Log {
    round_trips: usize,
    statements: Vec<LoggedStatement>,
}

/// Wraps a backend and records every statement and round trip (an `execute` or a `batch` is
/// one round trip). Clones share the backend and the record, so keep one clone and give the
/// other to [`Db::new`](crate::Db::new).
///
/// ```
/// # #[cfg(feature = "rusqlite")] {
/// # pollster::block_on(async {
/// use sonic_db_core::{sqlite::SqliteBackend, testing::sql::CountingSql, Db};
///
/// let sql = CountingSql::new(SqliteBackend::memory()?);
/// let db = Db::new(sql.clone());
/// db.sql("SELECT ?").bind(1).run().await?;
/// assert_eq!(sql.round_trips(), 1);
/// assert_eq!(sql.statements()[0].params.len(), 1);
/// sql.reset();
/// assert_eq!(sql.statement_count(), 0);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
#[derive(Debug)]
pub struct CountingSql<S> {
    inner: Arc<S>,
    log: Arc<Mutex<Log>>,
}

impl<S> Clone for CountingSql<S> {
    fn clone(&self) -> Self {
        CountingSql {
            inner: Arc::clone(&self.inner),
            log: Arc::clone(&self.log),
        }
    }
}

impl<S> CountingSql<S> {
    /// Wraps `inner`, with empty counters.
    pub fn new(inner: S) -> Self {
        CountingSql {
            inner: Arc::new(inner),
            log: Arc::default(),
        }
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Round trips since the last reset.
    pub fn round_trips(&self) -> usize {
        self.log().round_trips
    }

    /// Statements sent since the last reset.
    pub fn statement_count(&self) -> usize {
        self.log().statements.len()
    }

    /// The statements sent since the last reset, in order.
    pub fn statements(&self) -> Vec<LoggedStatement> {
        self.log().statements.clone()
    }

    /// The largest number of values any statement bound since the last reset.
    pub fn max_params(&self) -> usize {
        self.log()
            .statements
            .iter()
            .map(|s| s.params.len())
            .max()
            .unwrap_or(0)
    }

    /// Forgets everything recorded so far.
    pub fn reset(&self) {
        let mut log = self.log();
        log.round_trips = 0;
        log.statements.clear();
    }

    fn record(&self, statements: &[Statement], batched: bool) {
        let mut log = self.log();
        let round_trip = log.round_trips;
        log.round_trips += 1;
        log.statements
            .extend(statements.iter().map(|s| LoggedStatement {
                sql: s.sql.to_string(),
                params: s.params.clone(),
                round_trip,
                batched,
            }));
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<S: SqlBackend + crate::backend::MaybeSendSync> SqlBackend for CountingSql<S> {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        self.record(std::slice::from_ref(statement), false);
        self.inner.execute(statement).await
    }

    /// Forwarded, so that tests behind the counter read rows the way the wrapped backend does.
    async fn execute_rows(
        &self,
        sql: &str,
        params: crate::backend::Params<'_>,
        sink: &mut dyn crate::backend::RowSink,
    ) -> Result<crate::backend::RowsRead> {
        self.record(std::slice::from_ref(&params.statement(sql)), false);
        self.inner.execute_rows(sql, params, sink).await
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        self.record(statements, true);
        self.inner.batch(statements).await
    }

    fn transaction(&self, body: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        self.inner.transaction(body)
    }

    async fn execute_script(&self, sql: &str) -> Result<()> {
        self.inner.execute_script(sql).await
    }
}
