//! What a delete does to other tables through foreign keys, and the cache bookkeeping of it.
//!
//! SQLite (D1) applies `ON DELETE CASCADE`, `SET NULL` and `SET DEFAULT` itself: deleting a
//! user deletes its posts and their comments, or clears a column of rows elsewhere. Those rows
//! change without Sonic writing them, so their KV entries would outlive the change. To know
//! them, a delete from a table that cached tables depend on runs, **before the `DELETE` and in
//! the same atomic batch** (one round trip), one `SELECT` per path through the foreign keys to
//! a cached table, each repeating the delete's filter once:
//!
//! ```sql
//! SELECT "id" FROM "posts" WHERE "user_id" IN (SELECT "id" FROM "users" WHERE <filter>);
//! SELECT "id" FROM "comments" WHERE "post_id" IN
//!     (SELECT "id" FROM "posts" WHERE "user_id" IN (SELECT "id" FROM "users" WHERE <filter>));
//! DELETE FROM "users" WHERE <filter> RETURNING "id";
//! ```
//!
//! Since the batch is one transaction, the keys selected are exactly the rows the `DELETE`
//! then deletes or changes. After SQL succeeds their KV entries are deleted, like the deleted
//! table's own (see [`crate::cache`]).
//!
//! * `CASCADE` is followed transitively (users → posts → comments), through tables that are
//!   not cached too. `SET NULL` / `SET DEFAULT` rows change but stay, so nothing is followed
//!   past them.
//! * A table whose rows cascade to rows of the same table (`replies.parent_id → replies.id`)
//!   deletes a whole subtree: its rows are selected with a recursive CTE over the key.
//! * What cannot be listed that way — a cascade cycle through several tables, a
//!   self-reference to a column other than the primary key, a `SELECT` over the backend's
//!   limits (parameters, SQL length, statements per batch) — makes the cached tables
//!   concerned *suspect* for this handle instead: it reads them from SQL, and repairs their
//!   entries one by one, for `TTL + 60 s`. Other handles may then serve such a row for up to
//!   the TTL, as after a failed KV write.
//!
//! The foreign keys come from the [`Schema`] given to [`Db::with_schema`], plus those found
//! from the deleted table itself: the tables of its `many` relations whose foreign keys
//! reference it (and theirs, transitively).

use std::collections::{HashMap, HashSet};

use crate::backend::{Capabilities, QueryResult, Statement};
use crate::cache::{KvCache, WriteTicket};
use crate::db::Db;
use crate::error::Error;
use crate::schema::{ForeignKeys, OnDelete, TableDef};
use crate::sql::cascade::{select_keys, Level};
use crate::sql::filter::Expr;
use crate::value::Value;

/// `SELECT`s one delete may add to its batch (beyond, the tables are suspect). Each is a query
/// on D1's per-invocation budget; real schemas need a handful.
const MAX_SELECTS: usize = 32;

/// The cached tables a delete changes, and how their keys are collected.
#[derive(Debug, Default)]
struct Plan {
    /// Statements for the batch, before the delete: each returns primary keys of
    /// `tables[select_table[i]]`.
    selects: Vec<Statement>,
    select_table: Vec<usize>,
    /// Every cached table concerned, with, if its changed rows cannot all be collected, why.
    tables: Vec<(&'static TableDef, Option<String>)>,
}

impl Plan {
    fn index(&mut self, table: &'static TableDef) -> usize {
        match self.tables.iter().position(|(t, _)| t.name == table.name) {
            Some(i) => i,
            None => {
                self.tables.push((table, None));
                self.tables.len() - 1
            }
        }
    }

    fn suspect(&mut self, table: &'static TableDef, reason: String) {
        let i = self.index(table);
        if let Some((_, slot)) = self.tables.get_mut(i) {
            slot.get_or_insert(reason);
        }
    }
}

struct Planner<'a> {
    foreign_keys: &'a ForeignKeys,
    cache: &'a KvCache,
    root: &'static TableDef,
    filter: Option<&'a Expr>,
    capabilities: &'a Capabilities,
    plan: Plan,
}

impl Planner<'_> {
    fn run(mut self) -> Plan {
        let root = self.root;
        match self.closure(root) {
            Ok(closure) => {
                let has_closure = !closure.is_empty();
                let mut levels = vec![Level {
                    table: root,
                    via: None,
                    closure,
                }];
                // Rows the self-cascade deletes are not among those `RETURNING` names.
                if has_closure && self.cache.caches_table(root) {
                    self.select(&levels);
                }
                self.walk(&mut levels);
            }
            Err(reason) => self.suspect_below(root, &reason),
        }
        self.plan
    }

    /// The columns of `table` that cascade to its own rows by primary key, or why the
    /// subtree cannot be listed.
    fn closure(&self, table: &'static TableDef) -> std::result::Result<Vec<usize>, String> {
        let key = match table.single_key("a delete cascading to its own rows") {
            Ok(index) => table.columns.get(index).map(|c| c.name),
            // A composite key: a cascade to its own rows cannot go by one key column, so a
            // self-reference makes the subtree suspect below.
            Err(_) => None,
        };
        let mut columns = Vec::new();
        for edge in self.foreign_keys.referencing(table) {
            if edge.child.name != table.name || edge.action != OnDelete::Cascade {
                continue;
            }
            if Some(edge.referenced.name) != key {
                return Err(format!(
                    "`{}` cascades deletes to its own rows through a column other than its \
                     primary key",
                    table.name
                ));
            }
            columns.push(edge.column);
        }
        Ok(columns)
    }

    /// Follows the foreign keys referencing the last level's table.
    fn walk(&mut self, levels: &mut Vec<Level>) {
        let Some(current) = levels.last().map(|l| l.table) else {
            return;
        };
        for edge in self.foreign_keys.referencing(current) {
            let child = edge.child;
            if edge.action == OnDelete::Cascade {
                if child.name == current.name {
                    continue; // the level's closure
                }
                if levels.iter().any(|l| l.table.name == child.name) {
                    self.suspect_below(
                        child,
                        &format!(
                            "deletes cascade in a cycle through `{}` and `{}`",
                            current.name, child.name
                        ),
                    );
                    continue;
                }
                let closure = match self.closure(child) {
                    Ok(closure) => closure,
                    Err(reason) => {
                        self.suspect_below(child, &reason);
                        continue;
                    }
                };
                levels.push(Level {
                    table: child,
                    via: Some(edge),
                    closure,
                });
                if self.cache.caches_table(child) {
                    self.select(levels);
                }
                self.walk(levels);
                levels.pop();
            } else if self.cache.caches_table(child) {
                // Changed, not deleted: nothing to follow further.
                levels.push(Level {
                    table: child,
                    via: Some(edge),
                    closure: Vec::new(),
                });
                self.select(levels);
                levels.pop();
            }
        }
    }

    /// Adds the `SELECT` of the last level's keys, or makes its table suspect when it does
    /// not fit.
    fn select(&mut self, levels: &[Level]) {
        let Some(level) = levels.last() else {
            return;
        };
        let table = level.table;
        let max = MAX_SELECTS.min(self.capabilities.max_batch_statements.saturating_sub(1));
        if self.plan.selects.len() >= max {
            self.plan.suspect(
                table,
                format!(
                    "a delete from `{}` changes more tables than it lists",
                    self.root.name
                ),
            );
            return;
        }
        let statement = select_keys(self.root, levels, self.filter, self.capabilities);
        match statement {
            Ok(statement) => {
                let i = self.plan.index(table);
                self.plan.selects.push(statement);
                self.plan.select_table.push(i);
            }
            Err(error) => self.plan.suspect(
                table,
                format!(
                    "the rows a delete from `{}` changes here cannot be listed: {error}",
                    self.root.name
                ),
            ),
        }
    }

    /// Makes `table` and every cached table its deleted rows reach suspect.
    fn suspect_below(&mut self, table: &'static TableDef, reason: &str) {
        let mut seen = HashSet::new();
        let mut stack = vec![table];
        while let Some(table) = stack.pop() {
            if !seen.insert(table.name) {
                continue;
            }
            if self.cache.caches_table(table) {
                self.plan.suspect(table, reason.to_string());
            }
            for edge in self.foreign_keys.referencing(table) {
                if edge.action == OnDelete::Cascade {
                    stack.push(edge.child);
                } else if self.cache.caches_table(edge.child) {
                    self.plan.suspect(edge.child, reason.to_string());
                }
            }
        }
    }
}

/// The cache side of one delete: a ticket for the deleted table (if cached) and for every
/// cached table its foreign keys change, and the `SELECT`s that go before the `DELETE`.
///
/// Begun before the SQL is sent, finished with its outcome ([`DeleteWrite::finish`]); if it
/// is dropped instead (the future was cancelled), the tickets make their tables suspect.
pub(crate) struct DeleteWrite<'db> {
    /// The statements to send before the `DELETE`, in the same batch.
    selects: Vec<Statement>,
    select_table: Vec<usize>,
    /// The tables, the deleted one first if it is cached.
    tables: Vec<Touched<'db>>,
    /// Whether `tables[0]` is the deleted table.
    has_root: bool,
    /// KV writes the whole delete may spend.
    budget: usize,
}

struct Touched<'db> {
    ticket: WriteTicket<'db>,
    /// The table: its key columns' types read an INTEGER part selected as text
    /// (`crate::sql::exact_integers`) back as the INTEGER.
    table: &'static TableDef,
    /// Why not every changed row can be named, if so.
    suspect: Option<String>,
}

impl std::fmt::Debug for DeleteWrite<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeleteWrite")
            .field("selects", &self.selects)
            .field("tables", &self.tables.len())
            .finish_non_exhaustive()
    }
}

impl<'db> DeleteWrite<'db> {
    /// Announces a delete from `table` of the rows matching `filter` (every row for `None`);
    /// `key` is the one primary key it deletes, when it deletes by key.
    pub(crate) fn begin(
        db: &'db Db,
        table: &'static TableDef,
        key: Option<&Value>,
        filter: Option<&Expr>,
    ) -> DeleteWrite<'db> {
        let mut write = DeleteWrite {
            selects: Vec::new(),
            select_table: Vec::new(),
            tables: Vec::new(),
            has_root: false,
            budget: 0,
        };
        if let Some(log) = db.transaction_log() {
            log.deleted(table, key, db.foreign_keys());
        }
        let Some(cache) = db.cache() else {
            return write;
        };
        write.budget = cache.config().kv_write_budget();
        let plan = Planner {
            foreign_keys: db.foreign_keys(),
            cache,
            root: table,
            filter,
            capabilities: db.capabilities(),
            plan: Plan::default(),
        }
        .run();

        // The deleted table first: `plan.tables` indexes shift by one when it is not there.
        let root_in_plan = plan.tables.iter().position(|(t, _)| t.name == table.name);
        if cache.caches_table(table) {
            let ticket = match key {
                Some(key) if root_in_plan.is_none() => {
                    cache.begin_write(table, std::slice::from_ref(key))
                }
                _ => cache.begin_write_where(table),
            };
            let suspect = root_in_plan.and_then(|i| plan.tables.get(i)?.1.clone());
            write.tables.push(Touched {
                ticket,
                table,
                suspect,
            });
            write.has_root = true;
        }
        let mut position = HashMap::new();
        for (i, (def, suspect)) in plan.tables.into_iter().enumerate() {
            if Some(i) == root_in_plan && write.has_root {
                position.insert(i, 0);
                continue;
            }
            position.insert(i, write.tables.len());
            write.tables.push(Touched {
                ticket: cache.begin_write_where(def),
                table: def,
                suspect,
            });
        }
        write.selects = plan.selects;
        write.select_table = plan
            .select_table
            .iter()
            .filter_map(|i| position.get(i).copied())
            .collect();
        write
    }

    /// The statements to run before the `DELETE`, in its batch (none when no cached table
    /// depends on the deleted one).
    pub(crate) fn take_selects(&mut self) -> Vec<Statement> {
        std::mem::take(&mut self.selects)
    }

    /// Records the outcome: `deleted`, the primary keys the `DELETE` deleted (or its error),
    /// and `selected`, the results of the statements of [`take_selects`](Self::take_selects)
    /// (or the error of the batch). Then runs the KV deletes of every table, within one
    /// budget.
    pub(crate) async fn finish(
        self,
        deleted: std::result::Result<&[Value], &Error>,
        selected: std::result::Result<&[QueryResult], &Error>,
    ) {
        let DeleteWrite {
            select_table,
            tables,
            has_root,
            budget,
            ..
        } = self;
        // Nothing deleted: nothing cascaded either.
        let nothing = matches!(deleted, Ok([]));
        let mut keys: Vec<Vec<Value>> = vec![Vec::new(); tables.len()];
        let mut unreadable: Vec<Option<String>> = vec![None; tables.len()];
        if let Ok(results) = selected {
            for (result, &i) in results.iter().zip(&select_table) {
                let Some(touched) = tables.get(i) else {
                    continue;
                };
                match selected_keys(touched.table, result) {
                    Ok(found) => {
                        if let Some(keys) = keys.get_mut(i) {
                            keys.extend(found);
                        }
                    }
                    Err(reason) => {
                        if let Some(slot) = unreadable.get_mut(i) {
                            *slot = Some(reason);
                        }
                    }
                }
            }
        }

        let mut remaining = budget;
        let mut runs = Vec::new();
        for (i, ((touched, mut keys), unreadable)) in
            tables.into_iter().zip(keys).zip(unreadable).enumerate()
        {
            let Touched {
                mut ticket,
                suspect,
                ..
            } = touched;
            let outcome = if i == 0 && has_root {
                deleted
            } else {
                selected.map(|_| &[][..])
            };
            match outcome {
                Err(error) => runs.push((ticket, Err(error))),
                Ok(_) if nothing => ticket.unchanged(),
                Ok(ids) => {
                    keys.extend_from_slice(ids);
                    dedup(&mut keys);
                    ticket.limit_budget(remaining);
                    if let Some(reason) = suspect.or(unreadable) {
                        ticket.suspect_table_on_success(reason);
                    }
                    remaining = remaining.saturating_sub(ticket.invalidation_cost(&keys));
                    runs.push((ticket, Ok(keys)));
                }
            }
        }
        crate::join_futures::join_all(runs.into_iter().map(|(ticket, outcome)| async move {
            match outcome {
                Ok(keys) => ticket.changed_ids(&keys).await,
                Err(error) => ticket.failed(error).await,
            }
        }))
        .await;
    }
}

/// The record ids of the rows a `SELECT` of the plan returned (one column per key column of
/// `table`), or why they cannot be read.
fn selected_keys(
    table: &'static TableDef,
    result: &QueryResult,
) -> std::result::Result<Vec<Value>, String> {
    if result.values.is_empty() {
        return Ok(Vec::new());
    }
    if result.columns.len() != table.primary_key.len() {
        return Err(format!(
            "the backend returned {} columns for a query of the {} key columns of `{}`",
            result.columns.len(),
            table.primary_key.len(),
            table.name
        ));
    }
    Ok(table.ids_of_key_rows(result.values.clone()))
}

/// Drops repeated keys (a table reached by several paths), keeping the first of each.
fn dedup(keys: &mut Vec<Value>) {
    let mut seen = HashSet::with_capacity(keys.len());
    // `Value` is not `Hash` (it holds floats); its debug form tells keys apart exactly.
    keys.retain(|k| seen.insert(format!("{k:?}")));
}
