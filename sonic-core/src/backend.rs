//! What a SQL database must provide, and what it can do.
//!
//! D1 (on Workers) and rusqlite (native) implement [`SqlBackend`]; the query layer only ever
//! talks to this trait and adapts to [`Capabilities`].

use crate::error::Result;
use crate::value::Value;

/// One SQL statement with its bound parameters. Values never appear in `sql`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Statement {
    /// SQL text with `?` placeholders.
    pub sql: String,
    /// One value per placeholder, in order.
    pub params: Vec<Value>,
}

impl Statement {
    /// A statement.
    ///
    /// ```
    /// use sonic_core::{Statement, Value};
    /// let s = Statement::new("SELECT ?", vec![Value::Integer(1)]);
    /// assert_eq!(s.params.len(), 1);
    /// ```
    pub fn new(sql: impl Into<String>, params: Vec<Value>) -> Self {
        Statement {
            sql: sql.into(),
            params,
        }
    }
}

/// The outcome of one statement: result rows (row-major, `columns.len()` values per row) and
/// the write counters.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueryResult {
    /// Result column names, in order.
    pub columns: Vec<String>,
    /// All values, row after row.
    pub values: Vec<Value>,
    /// Rows changed by an `INSERT`/`UPDATE`/`DELETE`.
    pub changes: u64,
    /// Rowid of the last inserted row, when the backend reports it.
    pub last_insert_rowid: Option<i64>,
}

impl QueryResult {
    /// The number of result rows.
    pub fn row_count(&self) -> usize {
        self.values
            .len()
            .checked_div(self.columns.len())
            .unwrap_or(0)
    }

    /// The rows as mutable slices (decoding takes values out of them).
    pub fn rows_mut(&mut self) -> impl Iterator<Item = &mut [Value]> {
        let width = self.columns.len().max(1);
        self.values.chunks_mut(width)
    }
}

/// How eager relations are best loaded on a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EagerStrategy {
    /// One statement: correlated subqueries aggregated with `json_group_array` (Drizzle's way).
    /// Right where a round trip costs milliseconds (D1).
    SingleStatement,
    /// One statement per level with `IN (…)` lists of parent keys. Right where the database is
    /// in-process and the JSON encoding/decoding is what costs (native SQLite).
    PerLevel,
}

/// What a backend can do and where its limits are. The SQL compiler plans with these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Bound parameters allowed in one statement (100 on D1, 32,766 on SQLite).
    pub max_params: usize,
    /// Bytes of SQL text allowed in one statement (100 KB on D1).
    pub max_sql_len: usize,
    /// Statements allowed in one atomic batch.
    pub max_batch_statements: usize,
    /// `RETURNING` clauses.
    pub returning: bool,
    /// The JSON1 functions (`json_group_array`, `json_array`, …).
    pub json: bool,
    /// How to load eager relations.
    pub eager: EagerStrategy,
}

impl Capabilities {
    /// SQLite's own limits, for an in-process database.
    pub const SQLITE: Capabilities = Capabilities {
        max_params: 32_766,
        max_sql_len: 1_000_000_000,
        max_batch_statements: usize::MAX,
        returning: true,
        json: true,
        eager: EagerStrategy::PerLevel,
    };

    /// Cloudflare D1's limits.
    pub const D1: Capabilities = Capabilities {
        max_params: 100,
        max_sql_len: 100_000,
        max_batch_statements: 1_000,
        returning: true,
        json: true,
        eager: EagerStrategy::SingleStatement,
    };
}

/// A SQL database Sonic can run statements on.
///
/// On wasm32 the futures are not `Send` (JavaScript promises), elsewhere they are.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait SqlBackend {
    /// What this backend can do.
    fn capabilities(&self) -> &Capabilities;

    /// Runs one statement.
    async fn execute(&self, statement: &Statement) -> Result<QueryResult>;

    /// Runs statements in order as one atomic unit: if one fails, none has any effect.
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>>;
}
