//! Atomic units: several writes and selects sent together as one D1 `batch()` — one
//! transaction natively — so that either all of them apply or none does. KV is touched only
//! after the unit commits, for every record it changed, exactly as the single writes do.

use std::any::Any;
use std::marker::PhantomData;

use crate::backend::{QueryResult, Statement};
use crate::cache::WriteTicket;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::query::api::key_parts;
use crate::query::cascade::DeleteWrite;
use crate::query::filter::Filter;
use crate::query::rows::decode_rows;
use crate::query::select::Select;
use crate::query::write::{
    decode_inserted, first_row, prepare_insert, prepare_update, prepare_upsert,
};
use crate::schema::Table;
use crate::sql::write::delete_statement;
use crate::value::{IntoKey, Value};

/// Writes and selects that commit together: one D1 `batch()` (atomic), one transaction on
/// SQLite. Nothing is sent until [`run`](Batch::run); each method checks and compiles its
/// statements at once (so a bad record fails before anything is sent) and returns a
/// [`Pending`] handle to its typed result.
///
/// Inserts of many rows are chunked under the backend's parameter limit inside the same unit.
/// If any statement fails, nothing of the unit is applied and KV is not touched. After it
/// commits, every record it updated, upserted or deleted is invalidated in KV (its bucket's
/// generation, cascades included), as the single writes do; inserts need nothing. Selects see the writes that
/// come before them in the unit. An `update` of a record that does not exist changes nothing
/// and yields `None`; it does not undo the unit.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # pollster::block_on(async {
/// use serde::{Deserialize, Serialize};
/// use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
///
/// #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
/// #[table(name = "accounts")]
/// struct Account {
///     #[column(primary_key)]
///     id: String,
///     balance: i64,
/// }
///
/// let db = Db::new(SqliteBackend::memory()?);
/// for statement in Schema::new().table::<Account>().statements() {
///     db.sql(statement).run().await?;
/// }
/// db.insert(&Account { id: "a".into(), balance: 10 }).await?;
///
/// let mut unit = db.batch();
/// let a = unit.update(&Account { id: "a".into(), balance: 5 })?;
/// let b = unit.insert(&Account { id: "b".into(), balance: 5 })?;
/// let all = unit.select(db.select::<Account>())?;
/// let mut done = unit.run().await?;
/// assert_eq!(done.take(a)?.map(|a| a.balance), Some(5));
/// assert_eq!(done.take(b)?.id, "b");
/// assert_eq!(done.take(all)?.len(), 2);
///
/// // One failing statement: nothing of the unit applies.
/// let mut unit = db.batch();
/// unit.update(&Account { id: "a".into(), balance: 0 })?;
/// unit.insert(&Account { id: "b".into(), balance: 1 })?; // duplicate key
/// assert!(matches!(unit.run().await, Err(Error::UniqueViolation { .. })));
/// assert_eq!(db.find::<Account>("a").await?.map(|a| a.balance), Some(5));
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// # }
/// ```
#[must_use = "a batch does nothing until `run` is awaited"]
pub struct Batch<'db> {
    db: &'db Db,
    statements: Vec<Statement>,
    ops: Vec<Box<dyn Op<'db> + 'db>>,
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("statements", &self.statements.len())
            .field("operations", &self.ops.len())
            .finish()
    }
}

/// The handle to one result of a [`Batch`], taken from its [`BatchResults`].
pub struct Pending<O> {
    index: usize,
    output: PhantomData<fn() -> O>,
}

impl<O> std::fmt::Debug for Pending<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Pending").field(&self.index).finish()
    }
}

/// The results of a [`Batch`] that committed, taken by their [`Pending`] handles.
#[derive(Debug)]
pub struct BatchResults {
    outputs: Vec<Option<Box<dyn Any + Send>>>,
}

impl BatchResults {
    /// The result of one operation of the unit. [`Error::InvalidQuery`] if it was taken
    /// already or the handle belongs to another batch.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let mut unit = db.batch();
    /// let all = unit.select(db.select::<Post>())?;
    /// let mut other = db.batch();
    /// let deleted = other.delete::<Post>("p1")?;
    /// let mut done = unit.run().await?;
    /// assert_eq!(done.take(all)?.len(), 3);
    /// assert!(matches!(done.take(deleted), Err(Error::InvalidQuery(_)))); // not this batch's
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn take<O: 'static>(&mut self, pending: Pending<O>) -> Result<O> {
        self.outputs
            .get_mut(pending.index)
            .and_then(Option::take)
            .and_then(|output| output.downcast::<O>().ok())
            .map(|output| *output)
            .ok_or_else(|| {
                Error::InvalidQuery(format!(
                    "no result number {} of this type in this batch (taken already, or the \
                     handle of another batch)",
                    pending.index
                ))
            })
    }
}

impl Db {
    /// An atomic unit of writes and selects: see [`Batch`].
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// // Move 10 views from p2 to p1: both updates apply, or neither does.
    /// let p1 = db.find::<Post>("p1").await?.unwrap();
    /// let p2 = db.find::<Post>("p2").await?.unwrap();
    /// let mut unit = db.batch();
    /// unit.update(&Post { views: p1.views + 10, ..p1 })?;
    /// unit.update(&Post { views: p2.views - 10, ..p2 })?;
    /// unit.run().await?;
    /// assert_eq!(db.find::<Post>("p2").await?.map(|p| p.views), Some(30));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            db: self,
            statements: Vec::new(),
            ops: Vec::new(),
        }
    }
}

impl<'db> Batch<'db> {
    fn push<O: 'static>(
        &mut self,
        statements: Vec<Statement>,
        op: impl Op<'db> + 'db,
    ) -> Pending<O> {
        self.statements.extend(statements);
        self.ops.push(Box::new(op));
        Pending {
            index: self.ops.len() - 1,
            output: PhantomData,
        }
    }

    /// Inserts a record (audit columns stamped); yields it as stored.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let mut unit = db.batch();
    /// let p4 = unit.insert(&post("p4", "New", 0))?;
    /// let mut done = unit.run().await?;
    /// assert_eq!(done.take(p4)?, post("p4", "New", 0));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn insert<T: Table>(&mut self, record: &T) -> Result<Pending<T>> {
        let statements = prepare_insert(self.db, std::slice::from_ref(record))?;
        let op = Rows::<T>::new(
            self.db,
            statements.len(),
            RowsKind::One,
            std::slice::from_ref(record),
            true,
        );
        Ok(self.push(statements, op))
    }

    /// Inserts records, in as many statements as the limits need, all inside the unit;
    /// yields them as stored, in order.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// // Replace p1 by two posts, atomically.
    /// let mut unit = db.batch();
    /// unit.delete::<Post>("p1")?;
    /// let added = unit.insert_many(&[post("p1a", "Part 1", 0), post("p1b", "Part 2", 0)])?;
    /// let mut done = unit.run().await?;
    /// assert_eq!(done.take(added)?.len(), 2);
    /// assert_eq!(db.select::<Post>().count().await?, 4);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn insert_many<T: Table>(&mut self, records: &[T]) -> Result<Pending<Vec<T>>> {
        let statements = if records.is_empty() {
            Vec::new()
        } else {
            prepare_insert(self.db, records)?
        };
        let op = Rows::<T>::new(self.db, statements.len(), RowsKind::Many, records, true);
        Ok(self.push(statements, op))
    }

    /// Rewrites a record by its primary key (as [`Db::update`]); yields it as stored, or
    /// `None` if there is no such record.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let mut unit = db.batch();
    /// let found = unit.update(&post("p1", "Edited", 3))?;
    /// let missing = unit.update(&post("p9", "Ghost", 0))?;
    /// let mut done = unit.run().await?; // committed, although p9 does not exist
    /// assert_eq!(done.take(found)?.map(|p| p.title).as_deref(), Some("Edited"));
    /// assert_eq!(done.take(missing)?, None);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn update<T: Table>(&mut self, record: &T) -> Result<Pending<Option<T>>> {
        let statement = prepare_update(self.db, record, None)?;
        let op = Rows::<T>::new(
            self.db,
            1,
            RowsKind::Update,
            std::slice::from_ref(record),
            false,
        );
        Ok(self.push(vec![statement], op))
    }

    /// Inserts or updates a record (as [`Db::upsert`]); yields it as stored.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let mut unit = db.batch();
    /// let replaced = unit.upsert(&post("p1", "Replaced", 5))?;
    /// let created = unit.upsert(&post("p4", "Fresh", 0))?;
    /// let mut done = unit.run().await?;
    /// assert_eq!(done.take(replaced)?.title, "Replaced");
    /// assert_eq!(done.take(created)?.id, "p4");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn upsert<T: Table>(&mut self, record: &T) -> Result<Pending<T>> {
        let statement = prepare_upsert(self.db, record)?;
        let op = Rows::<T>::new(
            self.db,
            1,
            RowsKind::One,
            std::slice::from_ref(record),
            false,
        );
        Ok(self.push(vec![statement], op))
    }

    /// Deletes a record by its primary key (as [`Db::delete`], cascades followed in KV);
    /// yields whether it existed.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let mut unit = db.batch();
    /// let p1 = unit.delete::<Post>("p1")?;
    /// let p9 = unit.delete::<Post>("p9")?;
    /// let mut done = unit.run().await?;
    /// assert!(done.take(p1)?);
    /// assert!(!done.take(p9)?); // there was no p9
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn delete<T: Table>(&mut self, id: impl IntoKey<T::PrimaryKey>) -> Result<Pending<bool>> {
        let key = key_parts::<T>(id.into_key())?.into_vec();
        let filter = Filter::<T>::by_key(&key)?;
        let id = T::DEF.record_id(key.clone());
        let mut write = DeleteWrite::begin(self.db, T::DEF, Some(&id), Some(&filter.expr));
        let mut statements = write.take_selects();
        let selects = statements.len();
        statements.push(delete_statement(T::DEF, key)?);
        let op = Delete {
            write,
            key: id,
            selects,
            deleted: None,
            selected: Vec::new(),
        };
        Ok(self.push(statements, op))
    }

    /// Runs a select inside the unit (it sees the writes before it); yields its records.
    /// Eager relations are not loaded inside a unit ([`Error::InvalidQuery`]): load them
    /// after it, from the keys it returns.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let mut unit = db.batch();
    /// unit.update(&post("p1", "Hello", 100))?;
    /// let busy = unit.select(db.select::<Post>().filter(Post::VIEWS.gte(40)))?;
    /// let mut done = unit.run().await?;
    /// assert_eq!(done.take(busy)?.len(), 2); // p2, and p1 as updated before it
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn select<T: Table>(&mut self, select: Select<'_, T>) -> Result<Pending<Vec<T>>> {
        let statement = select.batch_statement()?;
        let op = Selected::<T> { rows: None };
        Ok(self.push(vec![statement], op))
    }

    /// Sends the unit: one atomic batch (a single statement as it is). On success, writes the
    /// changed records through to KV and returns the results; on failure, nothing was applied,
    /// KV is untouched, and the error says why.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let mut unit = db.batch();
    /// unit.insert(&post("p4", "New", 0))?;
    /// assert_eq!(db.find::<Post>("p4").await?, None); // nothing sent yet
    /// unit.run().await?;
    /// assert!(db.find::<Post>("p4").await?.is_some());
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn run(self) -> Result<BatchResults> {
        let Batch {
            db,
            statements,
            mut ops,
        } = self;
        let sent = db.run_all(&statements).await;
        let mut results = match sent {
            Ok(results) => results.into_iter(),
            Err(error) => {
                for op in ops {
                    op.finish(Err(&error)).await;
                }
                return Err(error);
            }
        };
        // Committed. Decode every operation's results; one that does not decode is an error
        // of the whole call, but its KV entries are handled as after an ambiguous failure.
        let mut decoded = Ok(());
        for op in &mut ops {
            let own: Vec<QueryResult> = results.by_ref().take(op.statements()).collect();
            if let Err(error) = op.decode(own) {
                if decoded.is_ok() {
                    decoded = Err(error);
                }
            }
        }
        let mut outputs = Vec::with_capacity(ops.len());
        for op in ops {
            let outcome = decoded.as_ref().copied();
            outputs.push(op.finish(outcome).await);
        }
        decoded.map(|()| BatchResults { outputs })
    }
}

/// One operation of a unit, its output type erased.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
trait Op<'db> {
    /// How many of the unit's statements are this operation's.
    fn statements(&self) -> usize;
    /// Decodes this operation's results (after the unit committed).
    fn decode(&mut self, results: Vec<QueryResult>) -> Result<()>;
    /// Updates KV for the unit's outcome and returns the output (after a success).
    async fn finish(
        self: Box<Self>,
        outcome: std::result::Result<(), &Error>,
    ) -> Option<Box<dyn Any + Send>>;
}

/// What a write that returns rows yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RowsKind {
    /// The one row (insert, upsert).
    One,
    /// All the rows, in order (insert of many).
    Many,
    /// The row, if the record existed.
    Update,
}

/// An insert, insert of many, update or upsert.
struct Rows<'db, T> {
    ticket: Option<WriteTicket<'db>>,
    statements: usize,
    kind: RowsKind,
    expected: usize,
    rows: Option<Vec<T>>,
}

impl<'db, T: Table> Rows<'db, T> {
    /// `inserting`: the records are new (an insert), which needs no KV operation.
    fn new(db: &'db Db, statements: usize, kind: RowsKind, records: &[T], inserting: bool) -> Self {
        Rows {
            ticket: if inserting {
                None
            } else {
                db.write_ticket_for(records)
            },
            statements,
            kind,
            expected: records.len(),
            rows: None,
        }
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<'db, T: Table> Op<'db> for Rows<'db, T> {
    fn statements(&self) -> usize {
        self.statements
    }

    fn decode(&mut self, results: Vec<QueryResult>) -> Result<()> {
        let rows = match self.kind {
            RowsKind::One | RowsKind::Many => decode_inserted::<T>(results, self.expected)?,
            RowsKind::Update => {
                let mut rows = Vec::new();
                for result in results {
                    rows.extend(decode_rows::<T>(result)?);
                }
                rows
            }
        };
        self.rows = Some(rows);
        Ok(())
    }

    async fn finish(
        self: Box<Self>,
        outcome: std::result::Result<(), &Error>,
    ) -> Option<Box<dyn Any + Send>> {
        let Rows {
            ticket, kind, rows, ..
        } = *self;
        match (outcome, rows) {
            (Ok(()), Some(rows)) => {
                if let Some(ticket) = ticket {
                    if rows.is_empty() {
                        ticket.unchanged();
                    } else {
                        ticket.put_rows(&rows).await;
                    }
                }
                let output: Box<dyn Any + Send> = match kind {
                    RowsKind::Many => Box::new(rows),
                    RowsKind::Update => Box::new(rows.into_iter().next()),
                    RowsKind::One => Box::new(first_row(rows).ok()?),
                };
                Some(output)
            }
            (Err(error), _) => {
                if let Some(ticket) = ticket {
                    ticket.failed(error).await;
                }
                None
            }
            // Committed, but another operation's rows did not decode: this one's keys are
            // handled as after an ambiguous failure.
            (Ok(()), None) => {
                if let Some(ticket) = ticket {
                    ticket
                        .failed(&Error::Database {
                            message: "a batch committed, and its results did not decode"
                                .to_string(),
                        })
                        .await;
                }
                None
            }
        }
    }
}

/// A delete by primary key, with the cascade selects before it.
struct Delete<'db> {
    write: DeleteWrite<'db>,
    key: Value,
    selects: usize,
    /// Whether a row was deleted, once decoded.
    deleted: Option<bool>,
    /// The keys the cascade selects listed.
    selected: Vec<QueryResult>,
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<'db> Op<'db> for Delete<'db> {
    fn statements(&self) -> usize {
        self.selects + 1
    }

    fn decode(&mut self, mut results: Vec<QueryResult>) -> Result<()> {
        let deleted = results.pop().ok_or_else(|| Error::Database {
            message: "a batch returned fewer results than statements".to_string(),
        })?;
        self.deleted = Some(deleted.changes > 0);
        self.selected = results;
        Ok(())
    }

    async fn finish(
        self: Box<Self>,
        outcome: std::result::Result<(), &Error>,
    ) -> Option<Box<dyn Any + Send>> {
        let Delete {
            write,
            key,
            deleted,
            selected,
            ..
        } = *self;
        match (outcome, deleted) {
            (Ok(()), Some(deleted)) => {
                let keys = if deleted {
                    std::slice::from_ref(&key)
                } else {
                    &[][..]
                };
                write.finish(Ok(keys), Ok(&selected)).await;
                Some(Box::new(deleted))
            }
            (Err(error), _) => {
                write.finish(Err(error), Err(error)).await;
                None
            }
            (Ok(()), None) => {
                let error = Error::Database {
                    message: "a batch committed, and its results did not decode".to_string(),
                };
                write.finish(Err(&error), Err(&error)).await;
                None
            }
        }
    }
}

/// A select inside the unit.
struct Selected<T> {
    rows: Option<Vec<T>>,
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<'db, T: Table> Op<'db> for Selected<T> {
    fn statements(&self) -> usize {
        1
    }

    fn decode(&mut self, results: Vec<QueryResult>) -> Result<()> {
        let mut rows = Vec::new();
        for result in results {
            rows.extend(decode_rows::<T>(result)?);
        }
        self.rows = Some(rows);
        Ok(())
    }

    async fn finish(
        self: Box<Self>,
        outcome: std::result::Result<(), &Error>,
    ) -> Option<Box<dyn Any + Send>> {
        match (outcome, self.rows) {
            (Ok(()), Some(rows)) => Some(Box::new(rows)),
            _ => None,
        }
    }
}
