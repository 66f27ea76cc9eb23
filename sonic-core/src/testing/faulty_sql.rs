//! [`FaultySql`]: a SQL backend wrapper that fails statements at random before running them.

use crate::backend::{Capabilities, QueryResult, SqlBackend, Statement};
use crate::error::{Error, Result};
use crate::testing::faults::FaultInjector;

/// Failure rates of a [`FaultySql`], each a probability in `[0, 1]`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SqlFaultRates {
    /// A read (a statement or batch of statements starting with `SELECT`, `WITH`, `PRAGMA`
    /// or `EXPLAIN`) fails.
    pub read: f64,
    /// Anything else (a write, or a batch with a write in it) fails.
    pub write: f64,
}

impl SqlFaultRates {
    /// The same rate for reads and writes.
    pub fn uniform(rate: f64) -> Self {
        SqlFaultRates {
            read: rate,
            write: rate,
        }
    }
}

/// Fails statements and batches at random, reproducibly from a seed, **before** passing them
/// on: a failed statement or batch changed nothing, so a test can assert that "a write that
/// returned an error changed nothing" holds for the layers above.
///
/// Failures are [`Error::Database`] messages starting with `"injected fault"`.
///
/// ```
/// use sonic_db_core::testing::faulty_sql::{FaultySql, SqlFaultRates};
/// # use sonic_db_core::{Capabilities, QueryResult, Result, SqlBackend, Statement};
/// # struct Nothing;
/// # #[async_trait::async_trait]
/// # impl SqlBackend for Nothing {
/// #     fn capabilities(&self) -> &Capabilities { &Capabilities::SQLITE }
/// #     async fn execute(&self, _: &Statement) -> Result<QueryResult> { Ok(QueryResult::default()) }
/// #     async fn batch(&self, s: &[Statement]) -> Result<Vec<QueryResult>> { Ok(vec![QueryResult::default(); s.len()]) }
/// # }
/// # pollster::block_on(async {
/// let sql = FaultySql::new(Nothing, 1, SqlFaultRates { read: 0.0, write: 1.0 });
/// assert!(sql.execute(&Statement::new("SELECT 1", vec![])).await.is_ok());
/// assert!(sql.execute(&Statement::new("DELETE FROM t", vec![])).await.is_err());
/// assert_eq!(sql.injected(), 1);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct FaultySql<S> {
    inner: S,
    faults: FaultInjector<SqlFaultRates>,
}

impl<S> FaultySql<S> {
    /// Wraps `inner`, failing statements at `rates`, drawing from a generator seeded `seed`.
    pub fn new(inner: S, seed: u64, rates: SqlFaultRates) -> Self {
        FaultySql {
            inner,
            faults: FaultInjector::new(seed, rates),
        }
    }

    /// Turns fault injection on or off.
    pub fn set_enabled(&self, enabled: bool) {
        self.faults.set_enabled(enabled);
    }

    /// Changes the rates.
    pub fn set_rates(&self, rates: SqlFaultRates) {
        self.faults.set_rates(rates);
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> u64 {
        self.faults.injected()
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn fails(&self, statements: &[Statement]) -> bool {
        self.faults
            .draw(|rates, rng| {
                let rate = if statements.iter().all(is_read) {
                    rates.read
                } else {
                    rates.write
                };
                rng.chance(rate).then_some(())
            })
            .is_some()
    }
}

/// Whether a statement only reads, judged by its first keyword.
fn is_read(statement: &Statement) -> bool {
    let first = statement
        .sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("");
    ["SELECT", "WITH", "PRAGMA", "EXPLAIN"]
        .iter()
        .any(|k| first.eq_ignore_ascii_case(k))
}

fn injected(what: &str) -> Error {
    Error::Database {
        message: format!("injected fault: {what} failed before running"),
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<S: SqlBackend + crate::backend::MaybeSendSync> SqlBackend for FaultySql<S> {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        if self.fails(std::slice::from_ref(statement)) {
            return Err(injected("statement"));
        }
        self.inner.execute(statement).await
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        if self.fails(statements) {
            return Err(injected("batch"));
        }
        self.inner.batch(statements).await
    }

    fn transaction(&self, body: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        self.inner.transaction(body)
    }

    async fn execute_script(&self, sql: &str) -> Result<()> {
        self.inner.execute_script(sql).await
    }
}
