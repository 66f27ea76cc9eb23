//! SQLite through rusqlite: the native backend, in memory for tests or on a file.
//!
//! It is meant to behave like D1 where that matters to an application (foreign keys enforced,
//! batches atomic, constraint errors classified the same way), while its [`Capabilities`]
//! default to SQLite's own limits. Tests that want D1's limits or eager strategy natively
//! declare them with [`SqliteBackend::with_capabilities`].

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{CachedStatement, Connection, StatementStatus};

mod prepared;

use prepared::{Connected, Prepared};

use crate::backend::{Capabilities, QueryResult, SqlBackend, Statement};
use crate::backend::{Params, RowSink, RowsRead};
use crate::error::{Error, Result};
use crate::row::Row;
use crate::value::Cell;
use crate::value::Value;

/// Prepared statements kept per connection. Sonic's SQL text varies with the shape of a query
/// (columns, filters, list lengths), not with values, so a few hundred shapes cover an
/// application; rusqlite's default of 16 would thrash.
const STATEMENT_CACHE_CAPACITY: usize = 512;

/// A SQLite database behind a mutex, so that the backend is `Send + Sync` and its futures are
/// `Send` (an async runtime may move them between threads).
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::sqlite::SqliteBackend;
/// use sonic_db_core::{SqlBackend, Statement, Value};
///
/// let sqlite = SqliteBackend::memory()?;
/// let result = sqlite.execute(&Statement::new("SELECT ? + 1", vec![Value::Integer(41)])).await?;
/// assert_eq!(result.values, vec![Value::Integer(42)]);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct SqliteBackend {
    inner: Mutex<Inner>,
    /// Signalled when a transaction ends, for statements of other threads waiting on it.
    transaction_ended: Condvar,
    capabilities: Capabilities,
}

/// What the mutex guards: the connection (with the typed reads' statements), the result
/// column names it has seen, and the thread whose transaction is open, if any.
#[derive(Debug)]
struct Inner {
    connected: Connected,
    names: ColumnNames,
    /// While a [`SqlBackend::transaction`] runs, only its thread's statements go through; the
    /// others wait for it to end instead of landing inside it.
    transaction_owner: Option<ThreadId>,
}

impl Inner {
    /// The connection, for what does not go through the kept statements.
    fn conn(&self) -> &Connection {
        self.connected.borrow_owner()
    }
}

/// The result column names of each statement, kept with it: a query hands out a shared copy
/// instead of reading every name from SQLite and allocating it again (≈ 600 instructions for a
/// 3-column result, a tenth of a one-row select).
///
/// Kept by SQL text (as rusqlite's statement cache is), and used only while the cached
/// statement is provably the one they were read from, as it ran: its run counter moved by
/// exactly this execution since, and its re-prepare counter not at all. A statement that
/// SQLite re-prepared after a schema change, or that rusqlite evicted and prepared anew, or
/// that code with the connection ran meanwhile, has its names read again.
#[derive(Debug, Default)]
struct ColumnNames {
    by_sql: HashMap<Box<str>, Names, foldhash::fast::RandomState>,
}

#[derive(Debug)]
struct Names {
    names: Arc<[String]>,
    /// The statement's `SQLITE_STMTSTATUS_RUN` and `_REPREPARE` counters when read.
    runs: i32,
    reprepares: i32,
}

/// Statements whose names are kept at most; past it the map starts over.
const MAX_COLUMN_LISTS: usize = 1024;

impl ColumnNames {
    /// The names of `stmt`, which has just run (stepped at least once) for `sql`.
    fn of(&mut self, sql: &str, stmt: &rusqlite::Statement<'_>) -> Result<Arc<[String]>> {
        let runs = stmt.get_status(StatementStatus::Run);
        let reprepares = stmt.get_status(StatementStatus::RePrepare);
        if let Some(known) = self.by_sql.get_mut(sql) {
            if known.reprepares == reprepares && known.runs.checked_add(1) == Some(runs) {
                known.runs = runs;
                return Ok(known.names.clone());
            }
        }
        let names = (0..stmt.column_count())
            .map(|i| stmt.column_name(i).map(str::to_owned).map_err(map_err))
            .collect::<Result<Arc<[String]>>>()?;
        if self.by_sql.len() >= MAX_COLUMN_LISTS {
            self.by_sql.clear();
        }
        self.by_sql.insert(
            sql.into(),
            Names {
                names: names.clone(),
                runs,
                reprepares,
            },
        );
        Ok(names)
    }

    /// Forgets everything (after code ran on the connection directly).
    fn clear(&mut self) {
        self.by_sql.clear();
    }
}

impl SqliteBackend {
    /// A new, empty in-memory database (private to this backend).
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    ///
    /// let (a, b) = (Db::new(SqliteBackend::memory()?), Db::new(SqliteBackend::memory()?));
    /// a.sql("CREATE TABLE t (x)").run().await?;
    /// assert!(b.sql("SELECT * FROM t").run().await.is_err()); // each has its own database
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn memory() -> Result<Self> {
        Self::from_connection(Connection::open_in_memory().map_err(map_err)?)
    }

    /// Opens (or creates) a database file.
    ///
    /// For native tools and local development that keep data between runs.
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    ///
    /// let path = std::env::temp_dir().join(format!("sonic-doc-{}.db", std::process::id()));
    /// Db::new(SqliteBackend::open(&path)?).sql("CREATE TABLE t (x)").run().await?;
    /// let reopened = Db::new(SqliteBackend::open(&path)?);
    /// assert!(reopened.sql("SELECT * FROM t").run().await.is_ok()); // still there
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_connection(Connection::open(path).map_err(map_err)?)
    }

    /// Wraps an open connection, turning foreign keys on (SQLite leaves them off by default;
    /// D1 enforces them).
    ///
    /// ```
    /// use rusqlite::{Connection, OpenFlags};
    /// use sonic_db_core::sqlite::SqliteBackend;
    ///
    /// let conn = Connection::open_with_flags(":memory:", OpenFlags::default())?;
    /// let sqlite = SqliteBackend::from_connection(conn)?;
    /// let pragma = |c: &Connection| c.query_row("PRAGMA foreign_keys", [], |r| r.get(0));
    /// let enforced: bool = sqlite.with_connection(pragma)?;
    /// assert!(enforced);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_connection(conn: Connection) -> Result<Self> {
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(map_err)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        Ok(SqliteBackend {
            inner: Mutex::new(Inner {
                connected: Connected::new(conn, |_| Prepared::default()),
                names: ColumnNames::default(),
                transaction_owner: None,
            }),
            transaction_ended: Condvar::new(),
            capabilities: Capabilities::SQLITE,
        })
    }

    /// Declares other capabilities, e.g. [`Capabilities::D1`] to exercise D1's 100-parameter
    /// limit and single-statement eager loading natively.
    ///
    /// ```
    /// use sonic_db_core::{sqlite::SqliteBackend, Capabilities, SqlBackend};
    ///
    /// let like_d1 = SqliteBackend::memory()?.with_capabilities(Capabilities::D1);
    /// assert_eq!(like_d1.capabilities().max_params, 100);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }

    /// Runs unbound, possibly multi-statement SQL (schema creation, maintenance), like D1's
    /// `exec`. Never pass user input here: nothing is bound.
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    ///
    /// let sqlite = SqliteBackend::memory()?;
    /// sqlite.exec("CREATE TABLE a (x); CREATE TABLE b (y); INSERT INTO a VALUES (1);")?;
    /// let rows = Db::new(sqlite).sql("SELECT x FROM a").all_json().await?;
    /// assert_eq!(rows[0]["x"], 1);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn exec(&self, sql: &str) -> Result<()> {
        let inner = &mut *self.lock();
        inner.names.clear();
        inner.conn().execute_batch(sql).map_err(map_err)
    }

    /// Runs `f` with the connection, for what the [`SqlBackend`] trait does not cover
    /// (pragmas, backups, custom functions).
    ///
    /// The connection is lent shared: statements the backend keeps prepared borrow it. For a
    /// transaction of your own, use `unchecked_transaction` (it is not checked at compile time
    /// that none is open; SQLite reports it).
    ///
    /// ```
    /// use rusqlite::Connection;
    /// use sonic_db_core::sqlite::SqliteBackend;
    ///
    /// let sqlite = SqliteBackend::memory()?;
    /// let query = |c: &Connection| c.query_row("SELECT sqlite_version()", [], |r| r.get(0));
    /// let version: String = sqlite.with_connection(query)?;
    /// assert!(version.starts_with("3."));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_connection<R>(&self, f: impl FnOnce(&Connection) -> R) -> R {
        let inner = &mut *self.lock();
        inner.names.clear();
        f(inner.conn())
    }

    /// Runs one statement synchronously: for native tools (migrations, inspection) that have
    /// no executor.
    pub(crate) fn query(&self, statement: &Statement) -> Result<QueryResult> {
        let Inner {
            connected, names, ..
        } = &mut *self.lock();
        run(connected.borrow_owner(), names, statement)
    }

    /// [`SqlBackend::execute_rows`], which needs no waiting here.
    fn stream(&self, sql: &str, params: Params<'_>, sink: &mut dyn RowSink) -> Result<RowsRead> {
        let inner = &mut *self.lock();
        let changes = inner
            .connected
            .with_dependent_mut(|conn, prepared| stream(conn, prepared, sql, params, sink))?;
        Ok(RowsRead::Streamed { changes })
    }

    /// A panic while the lock was held cannot leave the connection half-way through a batch:
    /// the transaction guard rolls back while unwinding. So a poisoned lock is safe to reuse.
    ///
    /// While another thread's transaction is open, waits for it to end.
    #[inline]
    fn lock(&self) -> MutexGuard<'_, Inner> {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if inner.transaction_owner.is_none() {
            return inner;
        }
        self.wait_for_transaction(inner)
    }

    /// [`lock`](Self::lock) while a transaction is open: this thread's own goes on, another
    /// thread's is waited for.
    #[cold]
    fn wait_for_transaction<'a>(&'a self, inner: MutexGuard<'a, Inner>) -> MutexGuard<'a, Inner> {
        let me = thread::current().id();
        self.transaction_ended
            .wait_while(inner, |inner| {
                inner.transaction_owner.is_some_and(|owner| owner != me)
            })
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// An open transaction of [`SqliteBackend::transaction`]: dropped without
/// [`commit`](OpenTransaction::commit) (an error, or a panic unwinding), it rolls back. Either
/// way it lets other threads' statements through again.
struct OpenTransaction<'a> {
    backend: &'a SqliteBackend,
}

impl<'a> OpenTransaction<'a> {
    fn begin(backend: &'a SqliteBackend) -> Result<Self> {
        let inner = &mut *backend.lock();
        if inner.transaction_owner.is_some() || !inner.conn().is_autocommit() {
            return Err(Error::InvalidQuery(
                "a transaction is already open on this database: transactions do not nest \
                 (use the handle the transaction's body receives)"
                    .to_string(),
            ));
        }
        inner
            .conn()
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(map_err)?;
        inner.transaction_owner = Some(thread::current().id());
        Ok(OpenTransaction { backend })
    }

    fn commit(self) -> Result<()> {
        let inner = &mut *self.backend.lock();
        inner.conn().execute_batch("COMMIT").map_err(map_err)
        // A failed COMMIT leaves the transaction open: `drop` rolls it back.
    }
}

impl Drop for OpenTransaction<'_> {
    fn drop(&mut self) {
        let inner = &mut *self.backend.lock();
        if !inner.conn().is_autocommit() {
            // Nothing to report it to: the body's error (or the failed COMMIT's) is the
            // outcome, and SQLite ends the transaction even when ROLLBACK reports an error.
            let _ = inner.conn().execute_batch("ROLLBACK");
        }
        inner.transaction_owner = None;
        self.backend.transaction_ended.notify_all();
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl SqlBackend for SqliteBackend {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        self.query(statement)
    }

    async fn execute_rows(
        &self,
        sql: &str,
        params: Params<'_>,
        sink: &mut dyn RowSink,
    ) -> Result<RowsRead> {
        self.stream(sql, params, sink)
    }

    fn execute_rows_now(
        &self,
        sql: &str,
        params: Params<'_>,
        sink: &mut dyn RowSink,
    ) -> Option<Result<RowsRead>> {
        Some(self.stream(sql, params, sink))
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        let Inner {
            connected, names, ..
        } = &mut *self.lock();
        let conn = connected.borrow_owner();
        // Dropping the transaction (or, inside an open one, the savepoint) without committing
        // rolls it back: any error below undoes every statement that ran before it. No batch's
        // savepoint is open already: batches run under the lock, one at a time.
        if conn.is_autocommit() {
            let tx = conn.unchecked_transaction().map_err(map_err)?;
            let results = run_each(&tx, names, statements)?;
            tx.commit().map_err(map_err)?;
            Ok(results)
        } else {
            let savepoint = Savepoint::begin(conn)?;
            let results = run_each(conn, names, statements)?;
            savepoint.release()?;
            Ok(results)
        }
    }

    fn transaction(&self, body: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        let open = OpenTransaction::begin(self)?;
        body()?;
        open.commit()
    }

    async fn execute_script(&self, sql: &str) -> Result<()> {
        self.exec(sql)
    }
}

/// A savepoint inside the open transaction, for a batch: released when it succeeded, rolled
/// back to (and released) when dropped otherwise, an error or a panic unwinding.
struct Savepoint<'c> {
    conn: &'c Connection,
    released: bool,
}

impl<'c> Savepoint<'c> {
    fn begin(conn: &'c Connection) -> Result<Self> {
        conn.execute_batch("SAVEPOINT sonic_batch")
            .map_err(map_err)?;
        Ok(Savepoint {
            conn,
            released: false,
        })
    }

    fn release(mut self) -> Result<()> {
        self.conn
            .execute_batch("RELEASE sonic_batch")
            .map_err(map_err)?;
        self.released = true;
        Ok(())
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.released {
            // The batch's error is the outcome; a failed rollback leaves the outer
            // transaction to its owner, who rolls it back on that error.
            let _ = self
                .conn
                .execute_batch("ROLLBACK TO sonic_batch; RELEASE sonic_batch");
        }
    }
}

fn run_each(
    conn: &Connection,
    names: &mut ColumnNames,
    statements: &[Statement],
) -> Result<Vec<QueryResult>> {
    statements
        .iter()
        .map(|statement| run(conn, names, statement))
        .collect()
}

/// The cached prepared statement of `sql`, its parameters bound.
fn prepare<'c>(conn: &'c Connection, sql: &str, params: Params<'_>) -> Result<CachedStatement<'c>> {
    let mut stmt = conn.prepare_cached(sql).map_err(map_err)?;
    bind(&mut stmt, params)?;
    Ok(stmt)
}

/// Binds every parameter of `stmt`, refusing a count that is not the statement's.
fn bind(stmt: &mut rusqlite::Statement<'_>, params: Params<'_>) -> Result<()> {
    let expected = stmt.parameter_count();
    if expected != params.len() {
        return Err(Error::InvalidQuery(format!(
            "the statement has {expected} placeholders but {} values are bound",
            params.len()
        )));
    }
    for (i, cell) in params.cells().enumerate() {
        stmt.raw_bind_parameter(i + 1, ToSqlOutput::Borrowed(value_ref(cell)))
            .map_err(map_err)?;
    }
    Ok(())
}

/// Runs one statement (kept prepared in `prepared`), lending each result row to `sink` as
/// SQLite steps to it; the rows it changed.
fn stream<'c>(
    conn: &'c Connection,
    prepared: &mut Prepared<'c>,
    sql: &str,
    params: Params<'_>,
    sink: &mut dyn RowSink,
) -> Result<u64> {
    let stmt = prepared.statement(conn, sql).map_err(map_err)?;
    bind(stmt, params)?;
    let changes = step(conn, stmt, sink);
    // The statement stays prepared with its bindings (SQLite's copies); a large text or BLOB
    // is not kept alive until the statement's next use.
    let large = |cell: Cell<'_>| match cell {
        Cell::Text(text) => text.len() > KEEP_BOUND_BYTES,
        Cell::Blob(bytes) => bytes.len() > KEEP_BOUND_BYTES,
        Cell::Null | Cell::Integer(_) | Cell::Real(_) => false,
    };
    if params.cells().any(large) {
        stmt.clear_bindings();
    }
    changes
}

/// Bound values up to this length stay bound after a statement ran; longer ones are cleared.
const KEEP_BOUND_BYTES: usize = 1024;

/// Steps the bound `stmt`, lending each row to `sink`; the rows it changed. Dropping its
/// rows resets it, whether it ran to the end or not.
fn step(
    conn: &Connection,
    stmt: &mut rusqlite::Statement<'_>,
    sink: &mut dyn RowSink,
) -> Result<u64> {
    // A read changes nothing: it need not ask the connection (two calls under its mutex).
    let total_before = (!stmt.readonly()).then(|| conn.total_changes());
    // A read for one row ends at it, as rusqlite's `query_row` does (a write steps to the end).
    let first_only = total_before.is_none() && sink.first_only();
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next().map_err(map_err)? {
        sink.sqlite_row(row)?;
        if first_only {
            break;
        }
    }
    Ok(total_before.map_or(0, |before| changes_since(conn, before)))
}

/// `sqlite3_changes` keeps the count of the last INSERT/UPDATE/DELETE, so a SELECT or DDL
/// would report a stale number; the total counter tells whether this statement wrote.
fn changes_since(conn: &Connection, total_before: u64) -> u64 {
    if conn.total_changes() == total_before {
        0
    } else {
        conn.changes()
    }
}

/// A row of rusqlite, read in place.
impl Row for rusqlite::Row<'_> {
    #[inline]
    fn width(&self) -> usize {
        self.as_ref().column_count()
    }

    #[inline]
    fn cell(&self, index: usize) -> Option<Cell<'_>> {
        Some(match self.get_ref(index).ok()? {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Integer(i),
            ValueRef::Real(r) => Cell::Real(r),
            // As `owned_value`: invalid UTF-8 is handed on as the bytes it is.
            ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => Cell::Text(text),
                Err(_) => Cell::Blob(bytes),
            },
            ValueRef::Blob(bytes) => Cell::Blob(bytes),
        })
    }
}

/// Runs one statement on the connection, reading every result row.
fn run(conn: &Connection, names: &mut ColumnNames, statement: &Statement) -> Result<QueryResult> {
    let mut stmt = prepare(conn, &statement.sql, Params::Values(&statement.params))?;
    let total_before = conn.total_changes();
    let guess = stmt.column_count();
    let mut values = Vec::with_capacity(guess);
    if guess == 0 {
        stmt.raw_execute().map_err(map_err)?;
    } else {
        let mut rows = stmt.raw_query();
        let mut width = None;
        while let Some(row) = rows.next().map_err(map_err)? {
            // Read after the first step: a cached statement whose schema changed is
            // re-prepared by it, and may then have other columns.
            let width = *width.get_or_insert_with(|| row.as_ref().column_count());
            for i in 0..width {
                values.push(owned_value(row.get_ref(i).map_err(map_err)?));
            }
        }
    }
    // After stepping, for the same reason: the names of the statement as it ran.
    let columns = if guess == 0 {
        Arc::default()
    } else {
        names.of(&statement.sql, &stmt)?
    };
    let changes = changes_since(conn, total_before);
    Ok(QueryResult {
        columns,
        values,
        changes,
        last_insert_rowid: Some(conn.last_insert_rowid()),
    })
}

/// Binds without copying: rusqlite hands the borrowed bytes straight to SQLite.
fn value_ref(cell: Cell<'_>) -> ValueRef<'_> {
    match cell {
        Cell::Null => ValueRef::Null,
        Cell::Integer(i) => ValueRef::Integer(i),
        Cell::Real(r) => ValueRef::Real(r),
        Cell::Text(s) => ValueRef::Text(s.as_bytes()),
        Cell::Blob(b) => ValueRef::Blob(b),
    }
}

fn owned_value(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        // SQLite does not validate the encoding of TEXT. Invalid UTF-8 is handed on as the
        // bytes it is, and `String`'s conversion reports it with the column's name.
        ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => Value::Text(text.to_owned()),
            Err(_) => Value::Blob(bytes.to_vec()),
        },
        ValueRef::Blob(bytes) => Value::Blob(bytes.to_vec()),
    }
}

/// Keeps SQLite's own message: the constraint variants are recognised by it, as on D1.
pub(crate) fn map_err(error: rusqlite::Error) -> Error {
    Error::from_sqlite_message(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        pollster::block_on(f)
    }

    #[test]
    fn batch_rolls_back_on_failure() {
        let db = SqliteBackend::memory().unwrap();
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)").unwrap();
        let insert = |id| Statement::new("INSERT INTO t (id) VALUES (?)", vec![Value::Integer(id)]);
        let err = block_on(db.batch(&[insert(1), insert(2), insert(1)])).unwrap_err();
        assert!(matches!(err, Error::UniqueViolation { .. }), "{err}");
        let count =
            block_on(db.execute(&Statement::new("SELECT COUNT(*) FROM t", vec![]))).unwrap();
        assert_eq!(count.values, vec![Value::Integer(0)]);
    }

    #[test]
    fn changes_are_not_stale_after_a_select() {
        let db = SqliteBackend::memory().unwrap();
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)").unwrap();
        let inserted = block_on(db.execute(&Statement::new(
            "INSERT INTO t (id) VALUES (1), (2)",
            vec![],
        )))
        .unwrap();
        assert_eq!(inserted.changes, 2);
        let selected = block_on(db.execute(&Statement::new("SELECT id FROM t", vec![]))).unwrap();
        assert_eq!(selected.changes, 0);
        assert_eq!(*selected.columns, ["id".to_string()]);
        assert_eq!(selected.row_count(), 2);
    }

    #[test]
    fn column_names_are_shared_and_follow_the_schema() {
        let db = SqliteBackend::memory().unwrap();
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")
            .unwrap();
        let select = Statement::new("SELECT * FROM t", vec![]);
        let first = block_on(db.execute(&select)).unwrap();
        let second = block_on(db.execute(&select)).unwrap();
        assert_eq!(*first.columns, ["id".to_string(), "a".to_string()]);
        assert!(Arc::ptr_eq(&first.columns, &second.columns));
        // The same text after a rename: SQLite re-prepares it, and the names follow.
        db.exec("ALTER TABLE t RENAME COLUMN a TO b").unwrap();
        let renamed = block_on(db.execute(&select)).unwrap();
        assert_eq!(*renamed.columns, ["id".to_string(), "b".to_string()]);
        let none = block_on(db.execute(&Statement::new("DELETE FROM t", vec![]))).unwrap();
        assert!(none.columns.is_empty());
    }

    /// The first column of every row, as text.
    #[derive(Default)]
    struct Firsts(Vec<String>);

    impl RowSink for Firsts {
        fn row(&mut self, row: &dyn Row) -> Result<()> {
            self.0.push(match row.cell(0) {
                Some(Cell::Text(text)) => text.to_string(),
                Some(other) => format!("{other:?}"),
                None => "no cell".to_string(),
            });
            Ok(())
        }
    }

    fn firsts(db: &SqliteBackend, sql: &str, params: &[Value]) -> Result<Vec<String>> {
        let mut sink = Firsts::default();
        db.stream(sql, Params::Values(params), &mut sink)?;
        Ok(sink.0)
    }

    #[test]
    fn kept_statements_follow_the_schema_and_rebind_every_time() {
        let db = SqliteBackend::memory().unwrap();
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y')")
            .unwrap();
        let select = "SELECT * FROM t WHERE id >= ? ORDER BY id";
        assert_eq!(
            firsts(&db, select, &[Value::Integer(1)]).unwrap(),
            ["Integer(1)", "Integer(2)"]
        );
        assert_eq!(
            firsts(&db, select, &[Value::Integer(2)]).unwrap(),
            ["Integer(2)"]
        );
        // The kept statement is re-prepared by SQLite after a schema change.
        db.exec("DROP TABLE t; CREATE TABLE t (a TEXT, id INTEGER PRIMARY KEY); INSERT INTO t VALUES ('z', 3)")
            .unwrap();
        assert_eq!(firsts(&db, select, &[Value::Integer(0)]).unwrap(), ["z"]);
        // After a long text (its copy cleared once the statement ran), the next run binds
        // its own value.
        let long = "w".repeat(KEEP_BOUND_BYTES + 1);
        let by_a = "SELECT a FROM t WHERE a = ? OR ? = 1";
        let bound = [Value::Text(long.clone()), Value::Integer(0)];
        assert!(firsts(&db, by_a, &bound).unwrap().is_empty());
        assert_eq!(
            firsts(&db, by_a, &[Value::Text("z".into()), Value::Integer(0)]).unwrap(),
            ["z"]
        );
        // A count that is not the statement's is refused, and the next run is unharmed.
        assert!(matches!(
            firsts(&db, by_a, &[Value::Integer(1)]),
            Err(Error::InvalidQuery(_))
        ));
        assert_eq!(
            firsts(&db, by_a, &[Value::Null, Value::Integer(1)]).unwrap(),
            ["z"]
        );
        // A sink's error stops the statement and leaves it reset for the next run.
        struct Fails;
        impl RowSink for Fails {
            fn row(&mut self, _: &dyn Row) -> Result<()> {
                Err(Error::InvalidQuery("stop".into()))
            }
        }
        assert!(db
            .stream(select, Params::Values(&[Value::Integer(0)]), &mut Fails)
            .is_err());
        assert_eq!(firsts(&db, select, &[Value::Integer(0)]).unwrap(), ["z"]);
    }

    #[test]
    fn kept_statements_serve_threads_one_at_a_time() {
        let db = Arc::new(SqliteBackend::memory().unwrap());
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)")
            .unwrap();
        let threads: Vec<_> = (0..4_i64)
            .map(|t| {
                let db = Arc::clone(&db);
                thread::spawn(move || {
                    for i in 0..200 {
                        let id = t * 1000 + i;
                        let insert = "INSERT INTO t (id, a) VALUES (?, ?) RETURNING a";
                        let text = Value::Text(format!("{t}-{i}"));
                        let inserted = firsts(&db, insert, &[Value::Integer(id), text]).unwrap();
                        let found =
                            firsts(&db, "SELECT a FROM t WHERE id = ?", &[Value::Integer(id)])
                                .unwrap();
                        assert_eq!(
                            (inserted, found),
                            (vec![format!("{t}-{i}")], vec![format!("{t}-{i}")])
                        );
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let count =
            block_on(db.execute(&Statement::new("SELECT count(*) FROM t", vec![]))).unwrap();
        assert_eq!(count.values, [Value::Integer(800)]);
    }

    #[test]
    fn a_failed_batch_inside_a_transaction_undoes_itself_only() {
        let db = SqliteBackend::memory().unwrap();
        db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)").unwrap();
        let insert = |id| Statement::new("INSERT INTO t (id) VALUES (?)", vec![Value::Integer(id)]);
        db.transaction(&mut || {
            block_on(db.execute(&insert(1)))?;
            let failed = block_on(db.batch(&[insert(2), insert(1)]));
            assert!(
                matches!(failed, Err(Error::UniqueViolation { .. })),
                "{failed:?}"
            );
            block_on(db.batch(&[insert(3), insert(4)]))?;
            Ok(())
        })
        .unwrap();
        let stored =
            block_on(db.execute(&Statement::new("SELECT id FROM t ORDER BY id", vec![]))).unwrap();
        assert_eq!(stored.values, [1, 3, 4].map(Value::Integer));
    }

    #[test]
    fn placeholder_mismatch_is_an_error_not_a_silent_null() {
        let db = SqliteBackend::memory().unwrap();
        let err = block_on(db.execute(&Statement::new("SELECT ?, ?", vec![Value::Integer(1)])))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
    }

    #[test]
    fn invalid_utf8_text_comes_back_as_bytes() {
        let db = SqliteBackend::memory().unwrap();
        let r =
            block_on(db.execute(&Statement::new("SELECT CAST(x'ff' AS TEXT)", vec![]))).unwrap();
        assert_eq!(r.values, vec![Value::Blob(vec![0xff])]);
    }
}
