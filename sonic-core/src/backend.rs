//! What a SQL database must provide, and what it can do.
//!
//! D1 (on Workers) and rusqlite (native) implement [`SqlBackend`]; the query layer only ever
//! talks to this trait and adapts to [`Capabilities`].

use std::borrow::Cow;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::row::Row;
use crate::value::{Cell, Param, Value};

/// A shared SQL backend: what the database handle holds, and what a session or a wrapper hands on.
#[cfg(not(target_arch = "wasm32"))]
pub type SharedBackend = Arc<dyn SqlBackend + Send + Sync>;
/// A shared SQL backend: what the database handle holds, and what a session or a wrapper hands on.
#[cfg(target_arch = "wasm32")]
pub type SharedBackend = Arc<dyn SqlBackend>;

/// One SQL statement with its bound parameters. Values never appear in `sql` (Sonic writes
/// only `LIMIT`/`OFFSET` counts into the text, as integer literals).
///
/// ```
/// # #[cfg(feature = "rusqlite")] {
/// # pollster::block_on(async {
/// use sonic_db_core::{sqlite::SqliteBackend, SqlBackend, Statement, Value};
///
/// let hostile = Value::Text("'; DROP TABLE users; --".into());
/// let statement = Statement::new("SELECT length(?)", vec![hostile]);
/// let result = SqliteBackend::memory()?.execute(&statement).await?;
/// assert_eq!(result.values, [Value::Integer(23)]); // a value, never SQL
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Statement {
    /// SQL text with `?` placeholders: borrowed when Sonic memoized it (a find by key, a
    /// plain select), so that running it copies nothing.
    pub sql: Cow<'static, str>,
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
    pub fn new(sql: impl Into<Cow<'static, str>>, params: Vec<Value>) -> Self {
        Statement {
            sql: sql.into(),
            params,
        }
    }
}

/// The outcome of one statement: result rows (row-major, `columns.len()` values per row) and
/// the write counters.
///
/// A fake backend in a test builds one by hand:
///
/// ```
/// use sonic_db_core::{QueryResult, Value};
/// let result = QueryResult {
///     columns: vec!["id".to_string(), "title".to_string()].into(),
///     values: vec![Value::Integer(1), Value::Text("Hello".into())],
///     ..QueryResult::default()
/// };
/// assert_eq!(result.row_count(), 1);
/// ```
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
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, QueryResult, SqlBackend, Statement};
    ///
    /// let two = Statement::new("SELECT 1, 'a' UNION ALL SELECT 2, 'b'", vec![]);
    /// let result = SqliteBackend::memory()?.execute(&two).await?;
    /// assert_eq!((result.row_count(), result.values.len()), (2, 4));
    /// assert_eq!(QueryResult::default().row_count(), 0); // no columns, no rows
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn row_count(&self) -> usize {
        self.values
            .len()
            .checked_div(self.columns.len())
            .unwrap_or(0)
    }

    /// The rows as mutable slices (decoding takes values out of them).
    ///
    /// ```
    /// use sonic_db_core::{QueryResult, Value};
    /// let text = |s: &str| Value::Text(s.into());
    /// let mut result = QueryResult {
    ///     columns: vec!["id".to_string(), "title".to_string()].into(),
    ///     values: vec![Value::Integer(1), text("a"), Value::Integer(2), text("b")],
    ///     ..QueryResult::default()
    /// };
    /// let titles: Vec<Value> = result.rows_mut().map(|row| std::mem::take(&mut row[1])).collect();
    /// assert_eq!(titles, [text("a"), text("b")]);
    /// assert_eq!(result.values[1], Value::Null); // taken, not cloned
    /// ```
    pub fn rows_mut(&mut self) -> impl Iterator<Item = &mut [Value]> {
        let width = self.columns.len().max(1);
        self.values.chunks_mut(width)
    }
}

/// How eager relations are best loaded on a backend.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # #[derive(Clone, sonic_db_core::Table)]
/// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
/// # #[derive(Clone, sonic_db_core::Table)]
/// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String }
/// use sonic_db_core::{sqlite::SqliteBackend, Capabilities, Db, EagerStrategy};
///
/// assert_eq!(Capabilities::D1.eager, EagerStrategy::SingleStatement);
/// let d1 = Db::new(SqliteBackend::memory()?.with_capabilities(Capabilities::D1));
/// let sql = d1.select::<User>().with(User::POSTS).to_statement()?.sql;
/// assert!(sql.contains("json_group_array"), "{sql}"); // the posts come in the users' rows
/// # }
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
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
/// refuse fails with [`Error::Limit`] (naming the table and column when
/// the value belongs to one) and nothing reaches the database.
///
/// Declaring another backend's capabilities on SQLite makes it behave like that backend where
/// it matters for portability (parameter counts, value sizes, how integers are read, eager
/// strategy):
///
/// ```
/// # #[cfg(feature = "rusqlite")] {
/// # pollster::block_on(async {
/// use sonic_db_core::{sqlite::SqliteBackend, Capabilities, Db, Error};
///
/// let db = Db::new(SqliteBackend::memory()?.with_capabilities(Capabilities::D1));
/// let mut query = db.sql(format!("SELECT {}", vec!["?"; 101].join(", ")));
/// for i in 0..101 {
///     query = query.bind(i);
/// }
/// let err = query.run().await.unwrap_err(); // D1 binds at most 100 parameters
/// assert!(matches!(err, Error::Limit(_)), "{err}");
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
    /// `UpdateWhere`, checks its values: the rest of the row is not known before the database
    /// has it, so a row grown past the limit that way is refused by the database itself.)
    pub max_value_bytes: usize,
    /// The largest magnitude of an INTEGER that crosses the backend's transport as a number
    /// exactly: `Some(2^53 − 1)` on D1 and Durable Objects ([`MAX_SAFE_INTEGER`], values cross
    /// JavaScript as doubles), `None` (every `i64`) on SQLite in-process.
    ///
    /// Every `i64` still round-trips exactly: where it is `Some`, the backend binds an integer
    /// beyond it as its decimal text under a cast to INTEGER, and Sonic selects the INTEGER
    /// columns of records as numbers within ±(2^53 − 1) and as `CAST(col AS TEXT)` beyond,
    /// and reads the text back by the column's declared type (#12 item 3). Where it is `None`,
    /// the SQL is unchanged.
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
    /// Interactive transactions ([`Db::transaction`](crate::Db::transaction)): SQLite in-process
    /// and a Durable Object's SQLite hold them; D1 does not (its atomic unit is a batch).
    pub transactions: bool,
}

impl Capabilities {
    /// SQLite's own limits, for an in-process database.
    ///
    /// What `SqliteBackend` (feature `rusqlite`) declares unless told otherwise.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    ///
    /// let db = Db::new(SqliteBackend::memory()?);
    /// let big = db.sql("SELECT ? AS n").bind(i64::MAX).all_json().await?;
    /// assert_eq!(big[0]["n"], i64::MAX); // beyond 2^53, which D1 would refuse
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
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
        transactions: true,
    };

    /// Cloudflare D1's limits.
    ///
    /// Declared on SQLite, they make tests fail where D1 would:
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Capabilities, Db, Error};
    ///
    /// let d1 = Db::new(SqliteBackend::memory()?.with_capabilities(Capabilities::D1));
    /// let mut query = d1.sql(format!("SELECT {}", vec!["?"; 101].join(", ")));
    /// for i in 0..101 {
    ///     query = query.bind(i);
    /// }
    /// assert!(matches!(query.run().await, Err(Error::Limit(_)))); // D1 binds at most 100
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
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
        transactions: false,
    };

    /// Whether `value` crosses the backend's transport as a number exactly: always, unless it
    /// is an INTEGER beyond [`max_exact_integer`](Capabilities::max_exact_integer) (which the
    /// backend then binds as text).
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
///
/// A wrapper is the usual reason to implement it:
///
/// ```
/// # #[cfg(feature = "rusqlite")] {
/// # pollster::block_on(async {
/// use sonic_db_core::{sqlite::SqliteBackend, Capabilities, Db, Error, QueryResult, Result};
/// use sonic_db_core::{SqlBackend, Statement};
///
/// struct ReadOnly(SqliteBackend); // e.g. for a reporting endpoint
///
/// #[async_trait::async_trait]
/// impl SqlBackend for ReadOnly {
///     fn capabilities(&self) -> &Capabilities { self.0.capabilities() }
///     async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
///         self.batch(std::slice::from_ref(statement)).await.map(|mut r| r.remove(0))
///     }
///     async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
///         match statements.iter().all(|s| s.sql.starts_with("SELECT")) {
///             true => self.0.batch(statements).await,
///             false => Err(Error::Database { message: "read-only".into() }),
///         }
///     }
/// }
///
/// let db = Db::new(ReadOnly(SqliteBackend::memory()?));
/// assert_eq!(db.sql("SELECT 1").all_json().await?.len(), 1);
/// assert!(db.sql("CREATE TABLE t (x)").run().await.is_err());
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait SqlBackend {
    /// What this backend can do.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, Capabilities, SqlBackend};
    /// let sqlite = SqliteBackend::memory()?;
    /// assert_eq!(sqlite.capabilities(), &Capabilities::SQLITE);
    /// assert_eq!(sqlite.capabilities().max_exact_integer, None); // every i64 binds exactly
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn capabilities(&self) -> &Capabilities;

    /// Runs one statement.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, SqlBackend, Statement, Value};
    ///
    /// let sqlite = SqliteBackend::memory()?;
    /// sqlite.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")?;
    /// let body = vec![Value::Text("hi".into())];
    /// let insert = Statement::new("INSERT INTO notes (body) VALUES (?)", body);
    /// let result = sqlite.execute(&insert).await?;
    /// assert_eq!((result.changes, result.last_insert_rowid), (1, Some(1)));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    async fn execute(&self, statement: &Statement) -> Result<QueryResult>;

    /// Runs statements in order as one atomic unit: if one fails, none has any effect.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, SqlBackend, Statement, Value};
    ///
    /// let sqlite = SqliteBackend::memory()?;
    /// sqlite.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)")?;
    /// let insert = |id| Statement::new("INSERT INTO t VALUES (?)", vec![Value::Integer(id)]);
    /// assert!(sqlite.batch(&[insert(1), insert(1)]).await.is_err()); // duplicate key
    /// let count = sqlite.execute(&Statement::new("SELECT count(*) FROM t", vec![])).await?;
    /// assert_eq!(count.values, [Value::Integer(0)]); // the first insert was undone too
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>>;

    /// Runs one statement (`sql` with its `params`) and lends each result row to `sink` while
    /// stepping through it, so that records decode straight from the backend's row (no
    /// [`Value`] per cell), and parameters bind straight from the records they were read from.
    /// A backend that cannot lend rows returns the whole result instead
    /// ([`RowsRead::Returned`]), which is what the default does: wrappers and remote backends
    /// need not implement it.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// # pollster::block_on(async {
    /// use sonic_db_core::backend::{Params, RowSink, RowsRead};
    /// use sonic_db_core::row::Row;
    /// use sonic_db_core::value::Cell;
    /// use sonic_db_core::{sqlite::SqliteBackend, Result, SqlBackend, Value};
    ///
    /// struct Sum(i64);
    /// impl RowSink for Sum {
    ///     fn row(&mut self, row: &dyn Row) -> Result<()> {
    ///         if let Some(Cell::Integer(n)) = row.cell(0) {
    ///             self.0 += n;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// let mut sum = Sum(0);
    /// let two = [Value::Integer(2)];
    /// let sql = "SELECT 1 UNION ALL SELECT ?";
    /// let read = SqliteBackend::memory()?.execute_rows(sql, Params::Values(&two), &mut sum).await?;
    /// assert!(matches!(read, RowsRead::Streamed { changes: 0 }));
    /// assert_eq!(sum.0, 3);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    async fn execute_rows(
        &self,
        sql: &str,
        params: Params<'_>,
        sink: &mut dyn RowSink,
    ) -> Result<RowsRead> {
        let _ = sink;
        self.execute(&params.statement(sql))
            .await
            .map(RowsRead::Returned)
    }

    /// [`SqlBackend::execute_rows`] on the caller's stack, for a backend whose statements run
    /// in-process and never wait (SQLite natively): what a read of one row spends on the
    /// boxed future of the asynchronous call is a tenth of the read. `None`, the default, means
    /// the backend has no such path and [`SqlBackend::execute_rows`] is called.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::backend::{Params, RowSink, RowsRead};
    /// use sonic_db_core::{row::Row, sqlite::SqliteBackend, Result, SqlBackend};
    ///
    /// struct Rows(usize);
    /// impl RowSink for Rows {
    ///     fn row(&mut self, _: &dyn Row) -> Result<()> {
    ///         self.0 += 1;
    ///         Ok(())
    ///     }
    /// }
    /// let mut rows = Rows(0);
    /// let read = SqliteBackend::memory()?.execute_rows_now("SELECT 1", Params::Values(&[]), &mut rows);
    /// assert!(matches!(read, Some(Ok(RowsRead::Streamed { changes: 0 }))));
    /// assert_eq!(rows.0, 1);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn execute_rows_now(
        &self,
        sql: &str,
        params: Params<'_>,
        sink: &mut dyn RowSink,
    ) -> Option<Result<RowsRead>> {
        let _ = (sql, params, sink);
        None
    }

    /// Runs `body` inside one transaction: every statement sent to this backend while `body`
    /// runs (on this thread) is part of it; it commits when `body` returns `Ok`, and rolls back
    /// when it returns an error, which is handed back.
    ///
    /// `body` is synchronous because the backends that can hold a transaction run statements
    /// in-process (SQLite natively, a Durable Object's storage): their futures complete
    /// without waiting, and nothing else may run on the database until the transaction ends.
    /// [`Db::transaction`](crate::Db::transaction) is the API over it. The default is
    /// [`Error::Unsupported`]: D1 runs no interactive transactions (its atomic unit is a
    /// batch), and a wrapper must forward this method to the backend it wraps.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, Error, SqlBackend};
    ///
    /// let sqlite = SqliteBackend::memory()?;
    /// sqlite.exec("CREATE TABLE t (x INTEGER)")?;
    /// let failed = sqlite.transaction(&mut || {
    ///     sqlite.exec("INSERT INTO t VALUES (1)")?;
    ///     Err(Error::InvalidQuery("changed my mind".into()))
    /// });
    /// assert!(failed.is_err());
    /// let count = |c: &rusqlite::Connection| c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0));
    /// assert_eq!(sqlite.with_connection(count)?, 0); // rolled back
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn transaction(&self, body: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        let _ = body;
        Err(Error::Unsupported(
            "this backend runs no interactive transactions (D1 does not: use an atomic \
             `Db::batch()`, or a Durable Object's SQLite)"
                .to_string(),
        ))
    }

    /// Runs SQL text of several statements, without parameters or results: a migration file,
    /// as `wrangler d1 migrations apply` sends it. Inside [`SqlBackend::transaction`] it is part
    /// of the transaction. The default is [`Error::Unsupported`] (D1's files are applied by
    /// wrangler); a wrapper must forward this method to the backend it wraps.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, SqlBackend, Statement, Value};
    ///
    /// let sqlite = SqliteBackend::memory()?;
    /// sqlite.execute_script("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2);").await?;
    /// let count = sqlite.execute(&Statement::new("SELECT count(*) FROM t", vec![])).await?;
    /// assert_eq!(count.values, [Value::Integer(2)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn execute_script(&self, sql: &str) -> Result<()> {
        let _ = sql;
        Err(Error::Unsupported(
            "this backend runs no SQL scripts (D1's migration files are applied by `wrangler d1 \
             migrations apply`)"
                .to_string(),
        ))
    }

    /// A backend on the same database whose statements run in a new session starting at
    /// `bookmark` (D1 read replication: its reads see at least what that bookmark saw, on any
    /// replica). `Ok(None)`, the default, means this backend has no sessions: one copy of the
    /// database, where every read sees every committed write.
    /// [`Db::session`](crate::Db::session) is the API over it. A wrapper that does not forward
    /// it runs without sessions.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, SqlBackend};
    ///
    /// let sqlite = SqliteBackend::memory()?;
    /// assert!(sqlite.session(Some("any bookmark"))?.is_none());
    /// assert_eq!(sqlite.bookmark()?, None);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    fn session(&self, bookmark: Option<&str>) -> Result<Option<SharedBackend>> {
        let _ = bookmark;
        Ok(None)
    }

    /// The latest bookmark of this backend's session (to hand back to the client), `None`
    /// outside of one; the default is `None`.
    fn bookmark(&self) -> Result<Option<String>> {
        Ok(None)
    }
}

/// Receives the rows of one statement, one at a time, while the backend steps through it.
pub trait RowSink: MaybeSendSync {
    /// Takes one row; an error stops the statement and is returned by the backend.
    fn row(&mut self, row: &dyn Row) -> Result<()>;

    /// Whether the sink uses the first row only (a find by key, `first()`): a backend may then
    /// stop a read after that row instead of stepping to the end. Asked once per statement.
    fn first_only(&self) -> bool {
        false
    }

    /// Takes one row of the rusqlite backend. Sinks that decode records override it with the
    /// same code as [`RowSink::row`], compiled for rusqlite's row: every cell is then read
    /// without a virtual call (one per row remains, to this method).
    #[cfg(feature = "rusqlite")]
    fn sqlite_row(&mut self, row: &rusqlite::Row<'_>) -> Result<()> {
        self.row(row)
    }
}

/// What [`SqlBackend::execute_rows`] did with the result.
#[derive(Debug)]
pub enum RowsRead {
    /// Every row went to the sink.
    Streamed {
        /// Rows changed by an `INSERT`/`UPDATE`/`DELETE` (0 for a read).
        changes: u64,
    },
    /// The backend cannot lend rows: here is the whole result, for the caller to decode.
    Returned(QueryResult),
}

/// The parameters of one statement, as [`SqlBackend::execute_rows`] binds them: the values of
/// a [`Statement`], or [`Param`]s borrowed from the records being written.
///
/// ```
/// use sonic_db_core::backend::Params;
/// use sonic_db_core::value::{Cell, Param};
/// use sonic_db_core::{Statement, Value};
///
/// let params = [Param::Borrowed(Cell::Text("a")), Param::Owned(Value::Integer(1))];
/// let params = Params::Borrowed(&params);
/// assert_eq!(params.cells().collect::<Vec<_>>(), [Cell::Text("a"), Cell::Integer(1)]);
/// let values = vec![Value::Text("a".into()), Value::Integer(1)];
/// assert_eq!(params.statement("SELECT ?, ?"), Statement::new("SELECT ?, ?", values));
/// ```
#[derive(Debug, Clone, Copy)]
pub enum Params<'a> {
    /// A statement's own values.
    Values(&'a [Value]),
    /// Parameters borrowed from records ([`Table::encode_params`](crate::Table::encode_params)).
    Borrowed(&'a [Param<'a>]),
}

impl<'a> Params<'a> {
    /// How many there are.
    ///
    /// ```
    /// use sonic_db_core::backend::Params;
    /// use sonic_db_core::Value;
    /// assert_eq!(Params::Values(&[Value::Null, Value::Integer(1)]).len(), 2);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            Params::Values(values) => values.len(),
            Params::Borrowed(params) => params.len(),
        }
    }

    /// Whether there are none.
    ///
    /// ```
    /// use sonic_db_core::backend::Params;
    /// assert!(Params::Borrowed(&[]).is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each parameter as the backend binds it, in order.
    #[inline]
    pub fn cells(self) -> Cells<'a> {
        Cells(match self {
            Params::Values(values) => CellsOf::Values(values.iter()),
            Params::Borrowed(params) => CellsOf::Borrowed(params.iter()),
        })
    }

    /// An owned statement of `sql` with these parameters, for a backend that binds only
    /// [`Statement`]s.
    pub fn statement(self, sql: &str) -> Statement {
        Statement::new(sql.to_owned(), self.cells().map(Cell::to_value).collect())
    }
}

/// The iterator of [`Params::cells`].
///
/// ```
/// use sonic_db_core::backend::Params;
/// use sonic_db_core::value::Cell;
/// use sonic_db_core::Value;
/// let mut cells = Params::Values(&[Value::Integer(1)]).cells();
/// assert_eq!((cells.next(), cells.next()), (Some(Cell::Integer(1)), None));
/// ```
#[derive(Debug, Clone)]
pub struct Cells<'a>(CellsOf<'a>);

#[derive(Debug, Clone)]
enum CellsOf<'a> {
    Values(std::slice::Iter<'a, Value>),
    Borrowed(std::slice::Iter<'a, Param<'a>>),
}

impl<'a> Iterator for Cells<'a> {
    type Item = Cell<'a>;

    #[inline]
    fn next(&mut self) -> Option<Cell<'a>> {
        match &mut self.0 {
            CellsOf::Values(values) => values.next().map(Cell::from),
            CellsOf::Borrowed(params) => params.next().map(Param::cell),
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.0 {
            CellsOf::Values(values) => values.size_hint(),
            CellsOf::Borrowed(params) => params.size_hint(),
        }
    }
}
