//! The [`Db`] handle: every query of an application starts here.

use std::fmt;
use std::sync::Arc;

use crate::backend::{
    Capabilities, MaybeSendSync, QueryResult, SharedBackend, SqlBackend, Statement,
};
#[cfg(not(target_arch = "wasm32"))]
use crate::backend::{Params, RowSink, RowsRead};
use crate::cache::{CacheConfig, Defer, KvCache, TransactionLog, WriteTicket};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::kv::KvBackend;
use crate::schema::ForeignKeys;
use crate::schema::Schema;
use crate::schema::Table;
use crate::sql::check_batch;
#[cfg(not(target_arch = "wasm32"))]
use crate::sql::limits::check_params;
use crate::trace::{self, Stopwatch};
use crate::value::Value;

/// A database: a SQL backend and a clock for audit columns. Cheap to clone.
///
/// The backend is held as a trait object rather than a type parameter so that `Db` is one
/// type in every signature of an application, whichever backend runs underneath (D1 on
/// Workers, SQLite in tests); every statement already goes through a boxed future, so the
/// dynamic call costs nothing measurable.
///
/// The examples of its query methods run on a table `posts` (`id`, `title`, `views`, a
/// nullable `body`) holding `p1` "Hello" (3 views, body "First!"), `p2` "Again" (40 views) and
/// `p3` "Bye" (7 views); their setup lines are hidden.
///
/// ```
/// # #[cfg(feature = "rusqlite")] {
/// # pollster::block_on(async {
/// use sonic_db_core::{sqlite::SqliteBackend, Db, FixedClock};
///
/// let db = Db::new(SqliteBackend::memory()?).with_clock(FixedClock::new(1_700_000_000_000));
/// db.sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)").run().await?;
/// let changed = db.sql("INSERT INTO notes (body) VALUES (?)").bind("hello").run().await?;
/// assert_eq!(changed, 1);
/// let rows = db.sql("SELECT id, body FROM notes").all_json().await?;
/// assert_eq!(rows[0]["body"], "hello");
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
#[derive(Clone)]
pub struct Db {
    sql: SharedBackend,
    clock: Arc<dyn Clock>,
    /// The KV cache of single records, when configured ([`Db::with_kv`]).
    cache: Option<KvCache>,
    /// Runs cache fills after the response ([`Db::with_defer`]); `None`: inline.
    defer: Option<Arc<dyn Defer>>,
    /// The foreign keys between the application's tables ([`Db::with_schema`]), for the
    /// cache to follow deletes through.
    foreign_keys: Arc<ForeignKeys>,
    /// Inside [`Db::transaction`]: what the typed writes touched, for the cache after the
    /// commit.
    transaction: Option<Arc<TransactionLog>>,
    /// Writes keep the audit values given instead of the clock's ([`Db::keeping_audit`]).
    keep_audit: bool,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("capabilities", self.sql.capabilities())
            .field("now_ms", &self.clock.now_ms())
            .finish()
    }
}

impl Db {
    /// A database on `backend`, with the system clock.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, Capabilities, Db};
    ///
    /// let native = Db::new(SqliteBackend::memory()?);
    /// let like_d1 = Db::new(SqliteBackend::memory()?.with_capabilities(Capabilities::D1));
    /// let handles: [Db; 2] = [native, like_d1]; // one type, whatever the backend
    /// assert_eq!(handles[1].capabilities().max_params, 100);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn new<B: SqlBackend + MaybeSendSync + 'static>(backend: B) -> Db {
        Db::from_shared(Arc::new(backend))
    }

    /// A database on a backend that is shared with other code.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// # pollster::block_on(async {
    /// use std::sync::Arc;
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    ///
    /// let sqlite = Arc::new(SqliteBackend::memory()?);
    /// let db = Db::from_shared(sqlite.clone());
    /// sqlite.exec("CREATE TABLE t (x INTEGER)")?; // the same database, used directly
    /// assert_eq!(db.sql("INSERT INTO t VALUES (1)").run().await?, 1);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn from_shared(backend: SharedBackend) -> Db {
        Db {
            sql: backend,
            clock: Arc::new(SystemClock),
            cache: None,
            defer: None,
            foreign_keys: Arc::default(),
            transaction: None,
            keep_audit: false,
        }
    }

    /// The handle a transaction's body gets: the same database, no cache (nothing reaches KV
    /// before the commit), its writes noted in `log`.
    pub(crate) fn for_transaction(&self, log: Arc<TransactionLog>) -> Db {
        Db {
            sql: self.sql.clone(),
            clock: self.clock.clone(),
            cache: None,
            defer: None,
            foreign_keys: self.foreign_keys.clone(),
            transaction: Some(log),
            keep_audit: self.keep_audit,
        }
    }

    /// The same database through `sql`, a session of its backend: the cache is kept for reads
    /// and invalidations, but fills nothing (a replica's row may be older than KV's).
    pub(crate) fn in_session(&self, sql: SharedBackend) -> Db {
        Db {
            sql,
            cache: self.cache.as_ref().map(KvCache::without_fills),
            ..self.clone()
        }
    }

    /// The log of the transaction this handle writes in, if any.
    pub(crate) fn transaction_log(&self) -> Option<&TransactionLog> {
        self.transaction.as_deref()
    }

    /// Uses `clock` for audit columns (a [`FixedClock`](crate::FixedClock) in tests), and for
    /// the KV cache's bookkeeping.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db, FixedClock};
    ///
    /// let clock = FixedClock::new(1_000);
    /// let db = Db::new(SqliteBackend::memory()?).with_clock(clock.clone());
    /// clock.advance(500); // clones share the time
    /// assert_eq!(db.now_ms(), 1_500);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Db {
        self.clock = Arc::new(clock);
        self.cache = self
            .cache
            .take()
            .map(|cache| cache.with_shared_clock(self.clock.clone()));
        self
    }

    /// Caches single records in `kv`: [`find`](Db::find) reads KV first, and every write
    /// through this handle updates KV after SQL (see [`crate::cache`] for the routing and the
    /// coherence guarantee). Fails if `config` is invalid (a TTL below 60 s, a bad prefix).
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv};
    /// let db = Db::new(SqliteBackend::memory()?).with_kv(MemoryKv::new(), CacheConfig::new())?;
    /// assert!(db.cache().is_some());
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn with_kv(self, kv: impl KvBackend + 'static, config: CacheConfig) -> Result<Db> {
        Ok(self.with_cache(KvCache::new(kv, config)?))
    }

    /// Caches single records with a configured [`KvCache`] (e.g. one with its own
    /// [`CacheHook`](crate::cache::CacheHook)). It takes this database's clock.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::cache::{CacheConfig, CacheEvent, KvCache};
    /// use sonic_db_core::{sqlite::SqliteBackend, Db, MemoryKv};
    ///
    /// let cache = KvCache::new(MemoryKv::new(), CacheConfig::new().ttl(600))?
    ///     .with_hook(|event: &CacheEvent| eprintln!("cache: {event}"));
    /// let db = Db::new(SqliteBackend::memory()?).with_cache(cache);
    /// assert_eq!(db.cache().unwrap().config().for_table("posts").ttl_secs, 600);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn with_cache(mut self, cache: KvCache) -> Db {
        let cache = cache.with_shared_clock(self.clock.clone());
        self.cache = Some(match &self.defer {
            Some(defer) => cache.with_shared_defer(defer.clone()),
            None => cache,
        });
        self
    }

    /// Runs the cache's fills (the KV put after a miss) with `defer` instead of awaiting
    /// them inside [`find`](Db::find): on Workers, `Context::wait_until` (the `sonic-db-kv`
    /// crate's `WaitUntil`), so that the response does not wait for them. Coherence does not
    /// depend on when a fill lands (see [`crate::cache`]). Applies to the cache set before or
    /// after it.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::cache::Deferred;
    /// use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv};
    ///
    /// let db = Db::new(SqliteBackend::memory()?)
    ///     .with_defer(|work: Deferred| pollster::block_on(work)) // e.g. a runtime's spawn
    ///     .with_kv(MemoryKv::new(), CacheConfig::new())?;
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn with_defer(mut self, defer: impl Defer + 'static) -> Db {
        let defer: Arc<dyn Defer> = Arc::new(defer);
        self.cache = self
            .cache
            .take()
            .map(|cache| cache.with_shared_defer(defer.clone()));
        self.defer = Some(defer);
        self
    }

    /// Gives the handle the application's tables — the [`Schema`] its DDL and migrations
    /// come from — so that the KV cache knows the foreign keys between them.
    ///
    /// A delete then also invalidates the cached records that the database deletes or changes
    /// with it: rows of any table of the schema that reference the deleted rows with
    /// `ON DELETE CASCADE` (transitively: users → posts → comments), `SET NULL` or
    /// `SET DEFAULT`. Their keys are selected in the same atomic batch as the `DELETE` (one
    /// round trip), and their KV entries deleted after it (see [`crate::cache`]).
    ///
    /// Without a schema a delete knows only the foreign keys it finds from the deleted table
    /// itself: those of the tables of its `many` relations that reference it (and of theirs,
    /// transitively). A cached table that references a deleted table without such a relation
    /// back keeps the entries of cascaded rows, served by every handle until their TTL.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv, Schema};
    /// let schema = Schema::new(); // `.table::<User>().table::<Post>()…`
    /// let db = Db::new(SqliteBackend::memory()?)
    ///     .with_schema(&schema)
    ///     .with_kv(MemoryKv::new(), CacheConfig::new())?;
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn with_schema(mut self, schema: &Schema) -> Db {
        self.foreign_keys = schema.foreign_keys();
        self
    }

    /// The foreign keys of the schema given to [`Db::with_schema`].
    pub(crate) fn foreign_keys(&self) -> &ForeignKeys {
        &self.foreign_keys
    }

    /// The KV cache, if any: for [`KvCache::invalidate`] / [`KvCache::purge`] after writes
    /// made outside this API.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv};
    ///
    /// let plain = Db::new(SqliteBackend::memory()?);
    /// let cached = plain.clone().with_kv(MemoryKv::new(), CacheConfig::new())?;
    /// assert!(cached.cache().is_some());
    /// assert!(plain.cache().is_none()); // each handle has its own cache, or none
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn cache(&self) -> Option<&KvCache> {
        self.cache.as_ref()
    }

    /// Announces a write of `T` to the cache (see [`WriteTicket`]): `ids` are the primary keys
    /// it writes, or `None` when only its result will tell.
    pub(crate) fn write_ticket<T: Table>(&self, ids: Option<&[Value]>) -> Option<WriteTicket<'_>> {
        if let Some(log) = &self.transaction {
            log.wrote(T::DEF, ids);
        }
        let cache = self.cache.as_ref().filter(|c| c.caches::<T>())?;
        Some(match ids {
            Some(ids) => cache.begin_write(T::DEF, ids),
            None => cache.begin_write_where(T::DEF),
        })
    }

    /// [`write_ticket`](Db::write_ticket) for a write of these records: their primary keys are
    /// only computed when `T` is cached (a `Value` per record, for nothing otherwise).
    pub(crate) fn write_ticket_for<T: Table>(&self, records: &[T]) -> Option<WriteTicket<'_>> {
        if let Some(log) = &self.transaction {
            log.wrote(T::DEF, Some(&primary_keys(records)));
        }
        let cache = self.cache.as_ref().filter(|c| c.caches::<T>())?;
        Some(cache.begin_write(T::DEF, &primary_keys(records)))
    }

    /// The SQL backend.
    ///
    /// Statements sent to it directly skip the limit checks and the `sonic::sql` events of
    /// [`crate::trace`].
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db, Statement, Value};
    ///
    /// let db = Db::new(SqliteBackend::memory()?);
    /// let statements = [Statement::new("SELECT 1", vec![]), Statement::new("SELECT 2", vec![])];
    /// let results = db.backend().batch(&statements).await?;
    /// assert_eq!(results[1].values, [Value::Integer(2)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn backend(&self) -> &SharedBackend {
        &self.sql
    }

    /// What the backend can do; queries are planned with it.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, Capabilities, Db};
    ///
    /// let db = Db::new(SqliteBackend::memory()?);
    /// let chunk = db.capabilities().max_params; // e.g. to size the chunks of a bulk job
    /// assert_eq!(chunk, Capabilities::SQLITE.max_params);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn capabilities(&self) -> &Capabilities {
        self.sql.capabilities()
    }

    /// This database, for writes that keep the audit values they are given: the record's
    /// `created_on` / `updated_on` (`NULL`s of a [`NullableAudit`](crate::NullableAudit)
    /// too) on insert, update, upsert and in batches, and the values an `update_where` sets
    /// for them, with nothing taken from the clock. For imports of records with their
    /// original timestamps, and tests. The handle shares the backend and cache; the `Db` it
    /// came from keeps stamping.
    ///
    /// Without it, Sonic owns the audit columns: every write stamps them and an explicit
    /// value for one (`update_where().set(User::CREATED_ON, ..)`, `set_by_name`) is refused.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, FixedClock, Schema};
    /// use sonic_db_core::Audit;
    /// # #[derive(Debug, sonic_db_core::Table)]
    /// # struct Note { #[column(primary_key)] id: i64, #[audit] audit: Audit }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?).with_clock(FixedClock::new(42));
    /// # for s in Schema::new().table::<Note>().statements() { db.sql(s).run().await?; }
    /// let original = Audit { created_on: 1_600_000_000_000, updated_on: 1_650_000_000_000 };
    /// let imported = db.keeping_audit().insert(&Note { id: 1, audit: original }).await?;
    /// assert_eq!(imported.audit, original);
    ///
    /// let refused = db.update_where::<Note>().set(Note::CREATED_ON, 7).all_rows().run().await;
    /// assert!(matches!(refused, Err(Error::InvalidQuery(_))));
    /// let importer = db.keeping_audit();
    /// let fixed = importer.update_where::<Note>().set(Note::CREATED_ON, 7);
    /// assert_eq!(fixed.all_rows().returning().await?[0].audit.created_on, 7);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn keeping_audit(&self) -> Db {
        Db {
            keep_audit: true,
            ..self.clone()
        }
    }

    /// Whether writes keep the audit values given ([`Db::keeping_audit`]).
    pub fn keeps_audit(&self) -> bool {
        self.keep_audit
    }

    /// The current time of this database's clock, in Unix milliseconds.
    ///
    /// For timestamps of the application's own that agree with the audit columns.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, Clock, Db, SystemClock};
    ///
    /// let db = Db::new(SqliteBackend::memory()?); // on the system clock
    /// let drift = db.now_ms() - SystemClock.now_ms();
    /// assert!(drift.abs() < 60_000);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Sends one statement, within the backend's limits. Every statement Sonic sends goes
    /// out here or in [`run_all`](Db::run_all)'s batch, each reported as a `sonic::sql` event
    /// (see [`crate::trace`]).
    pub(crate) async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        check_batch(std::slice::from_ref(statement), self.capabilities())?;
        let watch = Stopwatch::start_if(trace::sql_enabled());
        let result = self.sql.execute(statement).await;
        if let Some(watch) = watch {
            trace::statement(statement, result.as_ref(), watch.elapsed_ms());
        }
        result
    }

    /// Runs one statement, lending its rows to `sink` ([`SqlBackend::execute_rows`]):
    /// [`RowsRead::Streamed`] when they went there, else the whole result (the backend does
    /// not lend rows, or `sonic::sql` tracing is on and [`Db::execute`] reports the result's
    /// counts).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) async fn execute_into(
        &self,
        sql: &str,
        params: Params<'_>,
        sink: &mut dyn RowSink,
    ) -> Result<RowsRead> {
        match self.execute_into_now(sql, params, sink) {
            Some(read) => read,
            None => self.execute_into_later(sql, params, sink).await,
        }
    }

    /// The rest of [`execute_into`](Db::execute_into) after
    /// [`execute_into_now`](Db::execute_into_now) gave `None` (which checked the statement
    /// against the limits): a caller that tries the latter first awaits this, so it builds no
    /// future when the statement ran in-process.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) async fn execute_into_later(
        &self,
        sql: &str,
        params: Params<'_>,
        sink: &mut dyn RowSink,
    ) -> Result<RowsRead> {
        if trace::sql_enabled() {
            let statement = params.statement(sql);
            return self.execute(&statement).await.map(RowsRead::Returned);
        }
        self.sql.execute_rows(sql, params, sink).await
    }

    /// [`execute_into`](Db::execute_into) without a future, when the backend runs the
    /// statement in-process ([`SqlBackend::execute_rows_now`]); `None` when it must be awaited
    /// (or `sonic::sql` tracing is on). A one-row read then costs no async machinery at all.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn execute_into_now(
        &self,
        sql: &str,
        params: Params<'_>,
        sink: &mut dyn RowSink,
    ) -> Option<Result<RowsRead>> {
        if let Err(e) = check_params(sql, params, self.capabilities()) {
            return Some(Err(e));
        }
        self.execute_checked_now(sql, params, sink)
    }

    /// [`execute_into_now`](Db::execute_into_now) of a statement that Sonic's builders made
    /// and already checked against this backend's limits (`check_statement` in
    /// `build_filtered`, the find's own checks): the check is not repeated. A caller whose
    /// statement may come from elsewhere uses `execute_into_now`.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn execute_checked_now(
        &self,
        sql: &str,
        params: Params<'_>,
        sink: &mut dyn RowSink,
    ) -> Option<Result<RowsRead>> {
        if trace::sql_enabled() {
            return None;
        }
        self.sql.execute_rows_now(sql, params, sink)
    }

    /// Sends `before`, then `last`, in one round trip (an atomic batch when `before` is not
    /// empty); returns `last`'s result and `before`'s.
    pub(crate) async fn execute_after(
        &self,
        mut before: Vec<Statement>,
        last: Statement,
    ) -> Result<(QueryResult, Vec<QueryResult>)> {
        if before.is_empty() {
            return Ok((self.execute(&last).await?, Vec::new()));
        }
        before.push(last);
        let mut results = self.run_all(&before).await?;
        let last = results.pop().ok_or_else(|| Error::Database {
            message: "a batch returned no result".to_string(),
        })?;
        Ok((last, results))
    }

    /// Sends statements in one round trip: a single one as is, several as an atomic batch.
    pub(crate) async fn run_all(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        match statements {
            [] => Ok(Vec::new()),
            [one] => Ok(vec![self.execute(one).await?]),
            many => {
                check_batch(many, self.capabilities())?;
                let watch = Stopwatch::start_if(trace::sql_enabled());
                let results = self.sql.batch(many).await;
                if let Some(watch) = watch {
                    trace::batch(many, results.as_deref(), watch.elapsed_ms());
                }
                let results = results?;
                if results.len() != many.len() {
                    return Err(Error::Database {
                        message: format!(
                            "a batch of {} statements returned {} results",
                            many.len(),
                            results.len()
                        ),
                    });
                }
                Ok(results)
            }
        }
    }
}

/// The primary keys of records about to be written (those that encode; one that does not
/// fails the write before SQL anyway).
fn primary_keys<T: Table>(records: &[T]) -> Vec<Value> {
    records.iter().filter_map(|r| r.record_id().ok()).collect()
}

/// Hands a write's outcome (the rows it wrote) to its cache ticket, if any.
pub(crate) async fn finish_rows<T: Table>(
    ticket: Option<WriteTicket<'_>>,
    result: std::result::Result<&[T], &Error>,
) {
    if let Some(ticket) = ticket {
        ticket.finish_rows(result).await;
    }
}
