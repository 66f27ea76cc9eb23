//! The write path: tickets announced before SQL, and the KV operations after it commits.

use super::event::{CacheEvent, KvOp};
use super::state::{digest, Expect};
use super::{table_prefix, KvCache, TableCache, MAX_FILL_LAG_MS};
use crate::error::{Error, Result};
use crate::kv::{self, KvPutOptions};
use crate::schema::{Table, TableDef};
use crate::value::Value;

/// KV writes that a multi-record write runs at once.
const KV_WRITE_CONCURRENCY: usize = 16;

/// A KV operation that a find or a write wants to run on a key.
pub(super) enum Action {
    Put(Vec<u8>),
    Delete,
}

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

impl KvCache {
    /// Runs one KV write; returns its result and the expectation it sets when it succeeds.
    pub(super) async fn apply(
        &self,
        settings: &TableCache,
        key: &str,
        action: &Action,
    ) -> (Result<()>, Expect) {
        match action {
            Action::Put(bytes) => (
                self.kv
                    .put(key, bytes, &KvPutOptions::ttl(settings.ttl_secs))
                    .await,
                Expect::Bytes(digest(bytes)),
            ),
            Action::Delete => (self.kv.delete(key).await, Expect::Absent),
        }
    }

    /// Announces a write of the records with these primary keys (an insert with the key set,
    /// an update, an upsert, a delete). Call before sending SQL; finish the ticket after.
    pub(crate) fn begin_write(&self, def: &'static TableDef, ids: &[Value]) -> WriteTicket<'_> {
        let keys = ids.iter().filter_map(|id| self.key(def, id)).collect();
        self.begin(def, Some(keys))
    }

    /// Announces a write whose records are known only from its result (by filter, or an
    /// insert whose key the database assigns).
    pub(crate) fn begin_write_where(&self, def: &'static TableDef) -> WriteTicket<'_> {
        self.begin(def, None)
    }

    fn begin(&self, def: &'static TableDef, keys: Option<Vec<String>>) -> WriteTicket<'_> {
        let settings = self.settings(def).cloned();
        let now = self.clock.now_ms();
        let generation = settings.as_ref().map(|_| {
            let mut state = self.state();
            state.prune(now);
            let table = state.table(def.name);
            table.generation += 1;
            table.in_flight += 1;
            table.generation
        });
        WriteTicket {
            cache: self,
            def,
            settings,
            keys,
            generation,
            started_ms: now,
            budget: self.config.kv_write_budget(),
            suspect_table: None,
            finished: false,
        }
    }

    /// Deletes the cached record `id` of `T`, e.g. after changing it with raw SQL. If the
    /// delete fails, the key is suspect for this handle and the error is returned.
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
    /// db.sql("UPDATE posts SET views = 0").run().await?; // KV still holds the old rows
    /// let cache = db.cache().unwrap();
    /// cache.invalidate::<Post>(&Value::Text("p2".into())).await?;
    /// assert_eq!(db.find::<Post>("p2").await?.unwrap().views, 0);
    /// assert_eq!(db.find::<Post>("p3").await?.unwrap().views, 7); // not invalidated: stale
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn invalidate<T: Table>(&self, id: &Value) -> Result<()> {
        let mut ticket = self.begin_write(T::DEF, std::slice::from_ref(id));
        let errors = ticket.run(vec![(id.clone(), Action::Delete)]).await;
        errors.into_iter().next().map_or(Ok(()), Err)
    }

    /// Deletes every cached record of `T` (following the list cursor to the end) and returns
    /// how many keys were deleted. Mind the 1,000 KV operations per invocation.
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
    /// let purged = db.cache().unwrap().purge::<Post>().await?;
    /// assert_eq!(purged, 3); // the inserts had written the posts through
    /// let p1 = db.find_with_source::<Post>("p1").await?.unwrap();
    /// assert_eq!(p1.source, Source::D1);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn purge<T: Table>(&self) -> Result<usize> {
        let Some(settings) = self.settings(T::DEF) else {
            return Ok(0);
        };
        let prefix = table_prefix(&settings.prefix, T::DEF.name);
        let mut ticket = self.begin_write_where(T::DEF);
        let result = kv::delete_prefix(&*self.kv, &prefix).await;
        match &result {
            Ok(deleted) => {
                tracing::debug!(
                    target: "sonic::cache",
                    table = %T::DEF.name,
                    deleted,
                    "purge"
                );
                ticket.finished = true;
            }
            Err(error) => ticket.suspect_all(&format!("purge failed part-way: {error}")),
        }
        result
    }
}

pub(super) fn action_op(action: &Action) -> KvOp {
    match action {
        Action::Put(_) => KvOp::Put,
        Action::Delete => KvOp::Delete,
    }
}

/// The action's name in `sonic::cache` events.
pub(super) fn op_name(action: &Action) -> &'static str {
    match action {
        Action::Put(_) => "put",
        Action::Delete => "delete",
    }
}

/// A write in progress, from before its SQL to after its KV operations.
///
/// Get one from [`KvCache::begin_write`] / [`KvCache::begin_write_where`] before sending SQL,
/// then finish it with exactly one of [`put_rows`](WriteTicket::put_rows) (the rows the
/// database returned), [`delete_ids`](WriteTicket::delete_ids) (the keys it deleted),
/// [`unchanged`](WriteTicket::unchanged) or [`failed`](WriteTicket::failed). A ticket dropped
/// unfinished (the write's future was cancelled) makes its keys — or, when they are unknown,
/// its table — suspect for this handle, since SQL may have committed.
#[must_use = "finish the ticket after the SQL write"]
pub(crate) struct WriteTicket<'c> {
    cache: &'c KvCache,
    def: &'static TableDef,
    /// `None` when the table is not cached (the ticket does nothing).
    settings: Option<TableCache>,
    /// The keys announced, or `None` when they are unknown before the SQL result.
    keys: Option<Vec<String>>,
    /// The table generation right after this write began (`None`: not cached).
    generation: Option<u64>,
    /// When the write began (clock ms).
    started_ms: i64,
    /// The most KV writes this ticket spends ([`CacheConfig::max_kv_writes_per_write`], or
    /// what a delete with cascades leaves to this table).
    budget: usize,
    /// Set when the write changed records of the table that cannot all be named: after its KV
    /// operations, the whole table becomes suspect for this handle, for this reason.
    suspect_table: Option<String>,
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
    /// SQL succeeded and returned these rows (inserted, updated or upserted): puts each one
    /// into KV (write-through). KV failures are reported and make the key suspect; they are
    /// not errors of the write.
    pub(crate) async fn put_rows<T: Table>(mut self, rows: &[T]) {
        let mut actions = Vec::with_capacity(rows.len());
        for row in rows {
            let id = match row.primary_key_value() {
                Ok(id) => id,
                Err(error) => {
                    // Without a key the record cannot be found by key either; but to be safe
                    // when the key is unknowable, suspect the whole table.
                    self.suspect_all(&format!("a written row has no usable key: {error}"));
                    continue;
                }
            };
            // A row that does not encode is invalidated instead of written through.
            let action = match KvCache::envelope(row) {
                Ok(bytes) => Action::Put(bytes),
                Err(reason) => {
                    self.cache.report(CacheEvent::Undecodable {
                        table: self.def.name,
                        key: self.cache.key(self.def, &id).unwrap_or_default(),
                        reason,
                    });
                    Action::Delete
                }
            };
            actions.push((id, action));
        }
        self.run(actions).await;
    }

    /// Finishes the ticket with the outcome of a write that returns the rows it wrote:
    /// [`put_rows`](WriteTicket::put_rows) on success, [`failed`](WriteTicket::failed) on
    /// error.
    pub(crate) async fn finish_rows<T: Table>(self, result: std::result::Result<&[T], &Error>) {
        match result {
            Ok(rows) => self.put_rows(rows).await,
            Err(error) => self.failed(error),
        }
    }

    /// SQL succeeded and deleted the records with these primary keys: deletes their keys.
    pub(crate) async fn delete_ids(mut self, ids: &[Value]) {
        let actions = ids.iter().map(|id| (id.clone(), Action::Delete)).collect();
        self.run(actions).await;
    }

    /// Spends at most `budget` KV writes (less than [`CacheConfig::max_kv_writes_per_write`]
    /// when several tables share one write's budget); records beyond are suspect.
    pub(crate) fn limit_budget(&mut self, budget: usize) {
        self.budget = self.budget.min(budget);
    }

    /// The write also changes records of the table that cannot be named: when it succeeds,
    /// the whole table becomes suspect for this handle after the KV operations (see
    /// [`WriteTicket::failed`] for the same on an ambiguous failure).
    pub(crate) fn suspect_table_on_success(&mut self, reason: String) {
        self.suspect_table = Some(reason);
    }

    /// SQL succeeded and changed nothing (e.g. an update that matched no record).
    pub(crate) fn unchanged(mut self) {
        self.finished = true;
    }

    /// SQL failed with `error`. Nothing is sent to KV. If the error leaves open whether the
    /// write committed (anything but a constraint violation or an error raised before
    /// sending), the announced keys — or the table, when they are unknown — become suspect for
    /// this handle.
    pub(crate) fn failed(mut self, error: &Error) {
        if may_have_committed(error) {
            self.suspect_all(&format!("the write may have committed: {error}"));
        } else {
            self.finished = true;
        }
    }

    /// Marks the announced keys, or the whole table when they are unknown, suspect.
    fn suspect_all(&mut self, reason: &str) {
        let keys = self.keys.take();
        self.suspect(keys, reason);
    }

    /// Marks these keys, or with `None` the whole table, suspect.
    fn suspect(&mut self, keys: Option<Vec<String>>, reason: &str) {
        self.finished = true;
        let Some(settings) = &self.settings else {
            return;
        };
        let until = self.cache.clock.now_ms() + settings.window_ms();
        let table = self.def.name;
        {
            let mut state = self.cache.state();
            match &keys {
                Some(keys) => {
                    for key in keys {
                        state.set_key(key, Expect::Suspect, until);
                    }
                }
                None => {
                    let seq = state.next_seq();
                    state.table(table).suspect = Some((until, seq));
                }
            }
        }
        match keys {
            Some(keys) => {
                for key in keys {
                    self.cache.report(CacheEvent::Suspect {
                        table,
                        key: Some(key),
                        reason: reason.to_string(),
                    });
                }
            }
            None => self.cache.report(CacheEvent::Suspect {
                table,
                key: None,
                reason: reason.to_string(),
            }),
        }
    }

    /// Runs the KV operations of a committed write, within the budget, and records the
    /// outcome per key. Returns the KV errors.
    async fn run(&mut self, actions: Vec<(Value, Action)>) -> Vec<Error> {
        let cache = self.cache;
        let def = self.def;
        self.finished = true;
        let (Some(settings), Some(generation)) = (self.settings.clone(), self.generation) else {
            return Vec::new();
        };
        // Everything after the budget is suspect rather than written.
        let budget = self.budget;
        let mut jobs = Vec::new();
        let mut over_budget = Vec::new();
        // A write whose KV operations come long after its SQL (a stalled request) deletes
        // instead of putting: a late put of a row that a later write has replaced could
        // outlive every other handle's memory of that later write; a late delete is harmless.
        let since_start = cache.clock.now_ms().saturating_sub(self.started_ms);
        let late = since_start > MAX_FILL_LAG_MS;
        if late {
            tracing::debug!(
                target: "sonic::cache",
                table = %def.name,
                ms = since_start,
                "late write"
            );
        }
        for (id, action) in actions {
            let action = if late { Action::Delete } else { action };
            let Some(key) = cache.key(def, &id) else {
                continue;
            };
            if jobs.len() < budget {
                jobs.push((key, action));
            } else {
                over_budget.push(key);
            }
        }

        let mut outcomes = Vec::with_capacity(jobs.len());
        for chunk in jobs.chunks(KV_WRITE_CONCURRENCY) {
            let results = futures_util::future::join_all(
                chunk
                    .iter()
                    .map(|(key, action)| cache.apply(&settings, key, action)),
            )
            .await;
            outcomes.extend(results);
        }
        for ((key, action), (result, _)) in jobs.iter().zip(&outcomes) {
            if result.is_ok() {
                trace_written(def.name, key, action);
            }
        }

        let now = cache.clock.now_ms();
        let until = now + settings.window_ms();
        let mut errors = Vec::new();
        let mut events = Vec::new();
        {
            let mut state = cache.state();
            // Another write of this handle began or ended since this one began: the order of
            // the two writes' KV operations is unknown, so trust neither.
            let raced = state.table(def.name).generation != generation;
            for ((key, action), (result, expect)) in jobs.iter().zip(outcomes) {
                match result {
                    Ok(()) if !raced => state.set_key(key, expect, until),
                    Ok(()) => {
                        state.set_key(key, Expect::Suspect, until);
                        events.push(CacheEvent::Suspect {
                            table: def.name,
                            key: Some(key.clone()),
                            reason: "another write of this handle ran concurrently".to_string(),
                        });
                    }
                    Err(error) => {
                        state.set_key(key, Expect::Suspect, until);
                        events.push(CacheEvent::KvFailed {
                            table: def.name,
                            key: key.clone(),
                            op: action_op(action),
                            error: error.to_string(),
                        });
                        errors.push(error);
                    }
                }
            }
            for key in &over_budget {
                state.set_key(key, Expect::Suspect, until);
            }
        }
        for event in events {
            cache.report(event);
        }
        if !over_budget.is_empty() {
            cache.report(CacheEvent::Suspect {
                table: def.name,
                key: None,
                reason: format!(
                    "{} records beyond the budget of {budget} KV writes per write were not \
                     written through",
                    over_budget.len()
                ),
            });
        }
        if let Some(reason) = self.suspect_table.take() {
            // After the keys' own expectations, so that the table-wide suspicion is newer.
            self.suspect(None, &reason);
        }
        errors
    }
}

impl Drop for WriteTicket<'_> {
    fn drop(&mut self) {
        if self.generation.is_none() {
            return;
        }
        if !self.finished {
            // The write's future was dropped between its start and its end: SQL may have
            // committed.
            self.suspect_all("the write was cancelled after it began");
        }
        let mut state = self.cache.state();
        let table = state.table(self.def.name);
        table.generation += 1;
        table.in_flight = table.in_flight.saturating_sub(1);
    }
}

/// The `write-through put` / `invalidation delete` event of a KV write that succeeded.
fn trace_written(table: &str, key: &str, action: &Action) {
    match action {
        Action::Put(_) => tracing::debug!(
            target: "sonic::cache",
            table = %table,
            key = %key,
            "write-through put"
        ),
        Action::Delete => tracing::debug!(
            target: "sonic::cache",
            table = %table,
            key = %key,
            "invalidation delete"
        ),
    }
}
