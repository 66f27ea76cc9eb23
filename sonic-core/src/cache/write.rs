//! The write path: tickets announced before SQL, and the invalidation after it commits —
//! fresh generation tokens put for the buckets (or the table) of the records written.

use super::event::{CacheEvent, KvOp};
use super::generation;
use super::{table_prefix, KvCache, TableCache};
use crate::error::{Error, Result};
use crate::kv::{self, KvPutOptions};
use crate::schema::{Table, TableDef};
use crate::value::Value;

/// Whether SQL may have applied a write that reported `error`. Only errors raised before the
/// statement ran, or by SQLite rejecting it as a whole, say for certain that it did not.
fn may_have_committed(error: &Error) -> bool {
    !matches!(
        error,
        Error::UniqueViolation { .. }
            | Error::ForeignKeyViolation { .. }
            | Error::ConstraintViolation { .. }
            | Error::InvalidQuery(_)
            | Error::Limit(_)
            | Error::Encode { .. }
            | Error::UnknownColumn { .. }
            | Error::NotFound { .. }
    )
}

/// What one write invalidates in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    /// These buckets' generations: distinct, ascending (a sorted vector rather than a
    /// `BTreeSet`, whose code a Worker's wasm would carry for this alone; a table has at
    /// most 1,024 buckets).
    Buckets(Vec<u32>),
    /// The table generation: every cached record of the table.
    Table(String),
}

impl KvCache {
    /// Puts a fresh token under generation key `key`, retrying once. Reports each failure.
    async fn put_generation(&self, table: &'static str, key: &str) -> Result<()> {
        let mut last = None;
        for _ in 0..2 {
            let attempt = match generation::fresh_token() {
                Ok(token) => {
                    self.kv
                        .put(key, token.as_bytes(), &KvPutOptions::default())
                        .await
                }
                Err(error) => Err(error),
            };
            match attempt {
                Ok(()) => {
                    tracing::debug!(
                        target: "sonic::cache",
                        table = %table,
                        key = %key,
                        "generation put"
                    );
                    return Ok(());
                }
                Err(error) => {
                    self.kv_failed(table, key, KvOp::Put, &error);
                    last = Some(error);
                }
            }
        }
        Err(last.unwrap_or_else(|| Error::Kv(format!("generation put of `{key}` failed"))))
    }

    /// Invalidates `scope` of table `def`: the buckets' generations (all at once), or — when
    /// any of those puts fails twice, or the scope is the table — the table generation. If
    /// even that fails, the table is suspect for this handle for `TTL + 60 s` and the error
    /// is returned.
    async fn invalidate_scope(
        &self,
        def: &'static TableDef,
        settings: &TableCache,
        scope: Scope,
    ) -> Result<()> {
        let started = self.state().seq();
        let reason = match scope {
            Scope::Buckets(buckets) => {
                let puts = buckets.iter().map(|&bucket| {
                    let key = generation::bucket_key(&settings.prefix, def.name, bucket);
                    async move { self.put_generation(def.name, &key).await }
                });
                let results = crate::join_futures::join_all(puts).await;
                let failed = results.iter().filter(|r| r.is_err()).count();
                if failed == 0 {
                    return Ok(());
                }
                format!("{failed} bucket generation puts failed")
            }
            Scope::Table(reason) => reason,
        };
        tracing::debug!(
            target: "sonic::cache",
            table = %def.name,
            reason = %reason,
            "table invalidation"
        );
        let key = generation::table_key(&settings.prefix, def.name);
        match self.put_generation(def.name, &key).await {
            Ok(()) => {
                let prefix = table_prefix(&settings.prefix, def.name);
                self.state().clear_table(def.name, &prefix, started);
                Ok(())
            }
            Err(error) => {
                let now = self.clock.now_ms();
                self.state()
                    .suspect_table(def.name, now + settings.window_ms());
                self.report(CacheEvent::Suspect {
                    table: def.name,
                    key: None,
                    reason: format!("KV refused the invalidation ({reason}): {error}"),
                });
                Err(error)
            }
        }
    }

    /// Repairs a suspicion of this handle: puts a fresh generation for the key's bucket (or
    /// the table), after which KV can be trusted again for it.
    pub(super) async fn repair(
        &self,
        def: &'static TableDef,
        settings: &TableCache,
        key: &str,
        whole_table: bool,
    ) {
        let started = self.state().seq();
        if whole_table {
            // On failure it stays suspect (and is reported) inside.
            let _ = self
                .invalidate_scope(def, settings, Scope::Table("repair".to_string()))
                .await;
            return;
        }
        let bucket = generation::bucket_of(key, settings.buckets);
        let gen_key = generation::bucket_key(&settings.prefix, def.name, bucket);
        if self.put_generation(def.name, &gen_key).await.is_ok() {
            self.state().clear_key(key, started);
        }
    }

    /// Announces a write of the records with these primary keys (an update, an upsert, a
    /// delete). Call before sending SQL; finish the ticket after.
    pub(crate) fn begin_write(&self, def: &'static TableDef, ids: &[Value]) -> WriteTicket<'_> {
        let keys = ids.iter().filter_map(|id| self.key(def, id)).collect();
        self.begin(def, Some(keys))
    }

    /// Announces a write whose records are known only from its result (by filter).
    pub(crate) fn begin_write_where(&self, def: &'static TableDef) -> WriteTicket<'_> {
        self.begin(def, None)
    }

    fn begin(&self, def: &'static TableDef, keys: Option<Vec<String>>) -> WriteTicket<'_> {
        WriteTicket {
            cache: self,
            def,
            settings: self.settings(def).cloned(),
            keys,
            budget: self.config.kv_write_budget(),
            whole_table: None,
            finished: false,
        }
    }

    /// Invalidates the cached record `id` of `T`, e.g. after changing it with raw SQL: puts a
    /// fresh generation for its bucket (retried once, then the table's). If KV refuses, the
    /// table is suspect for this handle and the error is returned.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, Error, MemoryKv, Schema, Source, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?).with_kv(MemoryKv::new(), CacheConfig::new())?;
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// # for id in ["p2", "p3"] { db.find::<Post>(id).await?; } // cached
    /// db.sql("UPDATE posts SET views = 0").run().await?; // KV still holds the old rows
    /// let cache = db.cache().unwrap();
    /// cache.invalidate::<Post>(&Value::Text("p2".into())).await?;
    /// assert_eq!(db.find::<Post>("p2").await?.unwrap().views, 0);
    /// assert_eq!(db.find::<Post>("p3").await?.unwrap().views, 7); // another bucket: stale
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn invalidate<T: Table>(&self, id: &Value) -> Result<()> {
        if !T::DEF.is_record_id(id) {
            return Err(crate::error::Error::InvalidQuery(format!(
                "`{}` has a composite primary key: invalidate a record by its record id \
                 (`record.record_id()`, or `TableDef::record_id` of its key parts), not {}",
                T::DEF.name,
                id.describe()
            )));
        }
        let mut ticket = self.begin_write(T::DEF, std::slice::from_ref(id));
        ticket.finished = true;
        let (Some(settings), Some(keys)) = (ticket.settings.clone(), ticket.keys.take()) else {
            return Ok(());
        };
        let scope = ticket.scope(Some(keys));
        self.invalidate_scope(T::DEF, &settings, scope).await
    }

    /// Invalidates every cached record of `T` (one table generation put), then deletes their
    /// KV entries (following the list cursor to the end) and returns how many were deleted.
    /// Mind the 1,000 KV operations per invocation.
    ///
    /// E.g. after a bulk change made outside this API (a migration, `wrangler d1 execute`).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, Error, MemoryKv, Schema, Source, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?).with_kv(MemoryKv::new(), CacheConfig::new())?;
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// # for id in ["p1", "p2", "p3"] { db.find::<Post>(id).await?; } // cached
    /// let purged = db.cache().unwrap().purge::<Post>().await?;
    /// assert_eq!(purged, 3); // the three reads had filled them
    /// let p1 = db.find_with_source::<Post>("p1").await?.unwrap();
    /// assert_eq!(p1.source, Source::D1);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn purge<T: Table>(&self) -> Result<usize> {
        let def = T::DEF;
        let Some(settings) = self.settings(def) else {
            return Ok(0);
        };
        self.invalidate_scope(def, settings, Scope::Table("purge".to_string()))
            .await?;
        let prefix = table_prefix(&settings.prefix, def.name);
        // Generation keys stay: a generation must never go back to a value it had.
        let keys = kv::list_all(&*self.kv, &prefix).await?;
        let mut deleted = 0;
        for key in keys {
            let id_part = key.name.get(prefix.len()..).unwrap_or_default();
            if id_part.starts_with("#g") || id_part.starts_with("#b") {
                continue;
            }
            self.kv.delete(&key.name).await?;
            deleted += 1;
        }
        tracing::debug!(target: "sonic::cache", table = %def.name, deleted, "purge");
        Ok(deleted)
    }
}

/// A write in progress, from before its SQL to after its invalidation.
///
/// Get one from [`KvCache::begin_write`] / [`KvCache::begin_write_where`] before sending SQL,
/// then finish it with exactly one of [`put_rows`](WriteTicket::put_rows) (the rows the
/// database returned), [`changed_ids`](WriteTicket::changed_ids) (the keys it changed),
/// [`unchanged`](WriteTicket::unchanged) or [`failed`](WriteTicket::failed). A ticket dropped
/// unfinished (the write's future was cancelled) makes its keys — or, when they are unknown,
/// its table — suspect for this handle, since SQL may have committed (a `Drop` cannot put).
#[must_use = "finish the ticket after the SQL write"]
pub(crate) struct WriteTicket<'c> {
    cache: &'c KvCache,
    def: &'static TableDef,
    /// `None` when the table is not cached (the ticket does nothing).
    settings: Option<TableCache>,
    /// The keys announced, or `None` when they are unknown before the SQL result.
    keys: Option<Vec<String>>,
    /// The most bucket generations this ticket puts before it puts the table's instead.
    budget: usize,
    /// Set when the write changed records of the table that cannot all be named: the table
    /// generation is put, for this reason.
    whole_table: Option<String>,
    /// Whether the outcome has been recorded (else `drop` treats the write as cancelled).
    finished: bool,
}

impl std::fmt::Debug for WriteTicket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTicket")
            .field("table", &self.def.name)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl WriteTicket<'_> {
    /// SQL succeeded and returned these rows (updated or upserted): invalidates them. KV
    /// failures are handled inside; they are not errors of the write.
    pub(crate) async fn put_rows<T: Table>(mut self, rows: &[T]) {
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            match row.record_id() {
                Ok(id) => ids.push(id),
                Err(error) => {
                    self.whole_table = Some(format!("a written row has no usable key: {error}"));
                }
            }
        }
        self.invalidate_ids(&ids).await;
    }

    /// Finishes the ticket with the outcome of a write that returns the rows it wrote:
    /// [`put_rows`](WriteTicket::put_rows) on success, [`failed`](WriteTicket::failed) on
    /// error.
    pub(crate) async fn finish_rows<T: Table>(self, result: std::result::Result<&[T], &Error>) {
        match result {
            Ok(rows) => self.put_rows(rows).await,
            Err(error) => self.failed(error).await,
        }
    }

    /// SQL succeeded and changed (updated or deleted) the records with these primary keys.
    pub(crate) async fn changed_ids(self, ids: &[Value]) {
        self.invalidate_ids(ids).await;
    }

    /// Puts at most `budget` bucket generations (less than
    /// [`CacheConfig::max_kv_writes_per_write`](super::CacheConfig::max_kv_writes_per_write)
    /// when several tables share one write's budget).
    pub(crate) fn limit_budget(&mut self, budget: usize) {
        self.budget = self.budget.min(budget);
    }

    /// The write also changes records of the table that cannot be named: when it succeeds,
    /// the table generation is put.
    pub(crate) fn suspect_table_on_success(&mut self, reason: String) {
        self.whole_table = Some(reason);
    }

    /// How many generation puts invalidating `ids` costs (when KV accepts them).
    pub(crate) fn invalidation_cost(&self, ids: &[Value]) -> usize {
        if self.settings.is_none() || (ids.is_empty() && self.whole_table.is_none()) {
            return 0;
        }
        let keys = ids.iter().filter_map(|id| self.cache.key(self.def, id));
        match self.scope(Some(keys.collect())) {
            Scope::Buckets(buckets) => buckets.len(),
            Scope::Table(_) => 1,
        }
    }

    /// SQL succeeded and changed nothing (e.g. an update that matched no record).
    pub(crate) fn unchanged(mut self) {
        self.finished = true;
    }

    /// SQL failed with `error`. If the error leaves open whether the write committed
    /// (anything but a constraint violation or an error raised before sending), the
    /// announced keys' buckets — or the table, when they are unknown — are invalidated.
    pub(crate) async fn failed(mut self, error: &Error) {
        self.finished = true;
        if !may_have_committed(error) {
            return;
        }
        let keys = self.keys.take();
        if keys.is_none() {
            self.whole_table = Some(format!("the write may have committed: {error}"));
        }
        self.invalidate_keys(keys).await;
    }

    /// What invalidating `keys` (`None`: unknown) puts.
    fn scope(&self, keys: Option<Vec<String>>) -> Scope {
        let (Some(settings), Some(keys), None) = (&self.settings, keys, &self.whole_table) else {
            let reason = self.whole_table.clone();
            return Scope::Table(reason.unwrap_or_else(|| "the written keys are unknown".into()));
        };
        let mut buckets: Vec<u32> = Vec::new();
        for key in &keys {
            let bucket = generation::bucket_of(key, settings.buckets);
            if let Err(at) = buckets.binary_search(&bucket) {
                buckets.insert(at, bucket);
            }
        }
        if buckets.len() > self.budget {
            Scope::Table(format!(
                "{} buckets written, over the budget of {}",
                buckets.len(),
                self.budget
            ))
        } else {
            Scope::Buckets(buckets)
        }
    }

    async fn invalidate_ids(mut self, ids: &[Value]) {
        let keys = ids
            .iter()
            .filter_map(|id| self.cache.key(self.def, id))
            .collect();
        self.invalidate_keys(Some(keys)).await;
    }

    async fn invalidate_keys(&mut self, keys: Option<Vec<String>>) {
        self.finished = true;
        let Some(settings) = self.settings.clone() else {
            return;
        };
        let scope = self.scope(keys);
        if scope == Scope::Buckets(Vec::new()) {
            return;
        }
        // Failures are reported and remembered inside; the write itself succeeded.
        let _ = self
            .cache
            .invalidate_scope(self.def, &settings, scope)
            .await;
    }
}

impl Drop for WriteTicket<'_> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let Some(settings) = &self.settings else {
            return;
        };
        // The write's future was dropped between its start and its end: SQL may have
        // committed, and nothing can be put from here.
        let cache = self.cache;
        let now = cache.clock.now_ms();
        let until = now + settings.window_ms();
        let reason = "the write was cancelled after it began".to_string();
        match self.keys.take() {
            Some(keys) => {
                for key in keys {
                    cache.state().suspect_key(&key, until, now);
                    cache.report(CacheEvent::Suspect {
                        table: self.def.name,
                        key: Some(key),
                        reason: reason.clone(),
                    });
                }
            }
            None => {
                cache.state().suspect_table(self.def.name, until);
                cache.report(CacheEvent::Suspect {
                    table: self.def.name,
                    key: None,
                    reason,
                });
            }
        }
    }
}
