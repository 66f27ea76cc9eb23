//! What a SQL database must provide, and what it can do.
//!
//! D1 (on Workers) and rusqlite (native) implement [`SqlBackend`]; the query layer only ever
//! talks to this trait and adapts to [`Capabilities`].

use std::sync::Arc;

use crate::error::Result;
use crate::value::Value;

/// One SQL statement with its bound parameters. Values never appear in `sql` (Sonic writes
/// only `LIMIT`/`OFFSET` counts into the text, as integer literals).
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
    /// use sonic_db_core::{Statement, Value};
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
    /// Result column names, in order. Shared: a backend may hand every result of the same
    /// shape the same list (the SQLite backend does) rather than copy the names per query;
    /// build one from a `Vec<String>` with `.into()`.
    pub columns: Arc<[String]>,
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
    /// One statement per level with `IN (…)` lists of parent keys (the first level joined to
    /// the parents' own statement when that is cheaper: a select's only relation, `many`, to
    /// INTEGER keys, without order or limit). Right where the database is in-process and the
    /// JSON encoding/decoding is what costs (native SQLite).
    PerLevel,
}

/// The largest integer a JavaScript number (an IEEE double) holds exactly: 2^53 − 1
/// (`Number.MAX_SAFE_INTEGER`). D1 carries every bound value through JavaScript, so this is
/// its [`Capabilities::max_exact_integer`]; beyond it distinct integers share one double.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// What a backend can do and where its limits are. The SQL compiler plans with these, and
/// every statement is checked against them before it is sent: a statement the backend would
/// refuse fails with [`Error::Limit`](crate::Error::Limit) (naming the table and column when
/// the value belongs to one) and nothing reaches the database.
///
/// Declaring another backend's capabilities on SQLite makes it behave like that backend where
/// it matters for portability (parameter counts, value sizes, integer range, eager strategy):
///
/// ```
/// # #[cfg(feature = "rusqlite")] {
/// # pollster::block_on(async {
/// use sonic_db_core::{sqlite::SqliteBackend, Capabilities, Db, Error};
///
/// let db = Db::new(SqliteBackend::memory()?.with_capabilities(Capabilities::D1));
/// // D1 cannot bind 2^53 exactly, so neither does SQLite declaring D1's capabilities.
/// let err = db.sql("SELECT ?").bind(1_i64 << 53).run().await.unwrap_err();
/// assert!(matches!(err, Error::Limit(_)), "{err}");
/// assert_eq!(db.sql("SELECT ?").bind((1_i64 << 53) - 1).all_json().await?.len(), 1);
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Bound parameters allowed in one statement (100 on D1, 32,766 on SQLite).
    pub max_params: usize,
    /// Bytes of SQL text allowed in one statement (100 KB on D1).
    pub max_sql_len: usize,
    /// Statements allowed in one atomic batch.
    pub max_batch_statements: usize,
    /// Bytes of one `LIKE` (or `GLOB`) pattern (50 on D1; 50,000 on SQLite, its
    /// `SQLITE_MAX_LIKE_PATTERN_LENGTH`). A longer pattern is refused before the statement is
    /// sent.
    pub max_like_pattern_bytes: usize,
    /// Bytes of one TEXT or BLOB value, and of one stored row (2,000,000 on D1;
    /// 1,000,000,000 on SQLite, its `SQLITE_MAX_LENGTH`, which bounds both). Every bound
    /// value is checked, and so is the row of an insert, update or upsert of a whole record,
    /// measured as SQLite's record format encodes it. (An update of some columns only,
    /// [`UpdateWhere`](crate::query::UpdateWhere), checks its values: the rest of the row is
    /// not known before the database has it, so a row grown past the limit that way is
    /// refused by the database itself.)
    pub max_value_bytes: usize,
    /// The largest magnitude of an INTEGER the backend binds exactly: `Some(2^53 − 1)` on D1
    /// ([`MAX_SAFE_INTEGER`], values cross JavaScript as doubles), `None` (every `i64`) on
    /// SQLite. An integer beyond it is refused, never rounded.
    pub max_exact_integer: Option<i64>,
    /// `RETURNING` clauses.
    pub returning: bool,
    /// The JSON1 functions (`json_group_array`, `json_array`, …).
    pub json: bool,
    /// How to load eager relations.
    pub eager: EagerStrategy,
    /// Whether `json_array` writes a REAL so that it reads back bit-exact. SQLite 3.53 (the
    /// bundled one) writes the shortest exact form; D1's SQLite writes 15 significant digits
    /// (measured on workerd: 93% of 20,000 random doubles came back changed, and no SQL
    /// formatting on D1 was exact). Where it is `false`, relations whose tables hold a REAL
    /// column are loaded level by level, never through JSON.
    pub json_exact_reals: bool,
}

impl Capabilities {
    /// SQLite's own limits, for an in-process database.
    pub const SQLITE: Capabilities = Capabilities {
        max_params: 32_766,
        max_sql_len: 1_000_000_000,
        max_batch_statements: usize::MAX,
        max_like_pattern_bytes: 50_000,
        max_value_bytes: 1_000_000_000,
        max_exact_integer: None,
        returning: true,
        json: true,
        eager: EagerStrategy::PerLevel,
        json_exact_reals: true,
    };

    /// Cloudflare D1's limits.
    pub const D1: Capabilities = Capabilities {
        max_params: 100,
        max_sql_len: 100_000,
        max_batch_statements: 1_000,
        max_like_pattern_bytes: 50,
        max_value_bytes: 2_000_000,
        max_exact_integer: Some(MAX_SAFE_INTEGER),
        returning: true,
        json: true,
        eager: EagerStrategy::SingleStatement,
        json_exact_reals: false,
    };

    /// Whether the backend binds `value` exactly: always, unless it is an INTEGER beyond
    /// [`max_exact_integer`](Capabilities::max_exact_integer).
    ///
    /// ```
    /// use sonic_db_core::{Capabilities, MAX_SAFE_INTEGER};
    /// assert!(Capabilities::D1.exact_integer(-MAX_SAFE_INTEGER));
    /// assert!(!Capabilities::D1.exact_integer(MAX_SAFE_INTEGER + 1));
    /// assert!(Capabilities::SQLITE.exact_integer(i64::MIN));
    /// ```
    pub fn exact_integer(&self, value: i64) -> bool {
        self.max_exact_integer
            .is_none_or(|max| value.checked_abs().is_some_and(|abs| abs <= max))
    }
}

/// `Send + Sync` off wasm32, nothing on wasm32: the bound a backend needs to be shared by a
/// [`Db`](crate::Db) on each platform (Workers run single-threaded, and JavaScript handles are not
/// `Send`; natively an async runtime may move futures between threads).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSendSync: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeSendSync for T {}

/// `Send + Sync` off wasm32, nothing on wasm32: the bound a backend needs to be shared by a
/// [`Db`] on each platform (Workers run single-threaded, and JavaScript handles are not
/// `Send`; natively an async runtime may move futures between threads).
#[cfg(target_arch = "wasm32")]
pub trait MaybeSendSync {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeSendSync for T {}

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
