//! Writes: insert (one or many, chunked), update, upsert, delete, and the filtered forms.
//!
//! Every write returns the rows as the database stored them (`RETURNING`), so defaults and
//! audit columns are what the caller sees, and the primary keys of every affected row are at
//! hand for whoever keeps a cache of them. Audit columns are stamped from the [`Db`]'s clock:
//! `created_on` once, at insert; `updated_on` at every write; an explicit value for one is
//! refused — unless the `Db` is [`keeping_audit`](Db::keeping_audit), which writes the values
//! given and stamps nothing (the rule is in [`crate::schema::AuditFields`]'s module).

use crate::backend::{Capabilities, QueryResult, Statement};
#[cfg(not(target_arch = "wasm32"))]
use crate::backend::{Params, RowSink, RowsRead};
use crate::db::{finish_rows, Db};
use crate::error::{Error, Result};
use crate::query::cascade::DeleteWrite;
use crate::query::filter::{and, Filter};
#[cfg(not(target_arch = "wasm32"))]
use crate::query::rows::read_records;
use crate::query::rows::{decode_rows, execute_records};
use crate::schema::{AuditRole, Column, Table, TableDef};
use crate::sql::filter::Expr;
use crate::sql::limits::{check_column_value, check_row};
use crate::sql::write::{
    delete_statement, filtered_write, require_returning, update_statement, upsert_statement,
    write_delete_head, write_sets, Arith, InsertText, SetExpr,
};
use crate::sql::writer::{column_def, SqlWriter};
use crate::value::{Cell, ConvertError, Param, ToValue, Value};

/// Appends the record's values, checking that it encoded one value per column (decoding and
/// SQL generation index by column).
pub(crate) fn encode<T: Table>(record: &T, out: &mut Vec<Value>) -> Result<()> {
    let start = out.len();
    record.encode_into(out)?;
    check_encoded::<T>(out.len() - start)
}

/// [`encode`], borrowing from the record ([`Table::encode_params`]).
fn encode_params<'r, T: Table>(record: &'r T, out: &mut Vec<Param<'r>>) -> Result<()> {
    let start = out.len();
    record.encode_params(out)?;
    check_encoded::<T>(out.len() - start)
}

fn check_encoded<T: Table>(encoded: usize) -> Result<()> {
    if encoded != T::DEF.columns.len() {
        return Err(Error::InvalidQuery(format!(
            "`{}` encoded {encoded} values for {} columns",
            T::DEF.name,
            T::DEF.columns.len()
        )));
    }
    Ok(())
}

/// What [`Table::touch`] does to the record, done to its encoded row: the audit columns get
/// `now_ms` (`created_on` only when inserting). Stamping the row spares writes a clone of the
/// caller's record.
pub(crate) fn stamp(table: &TableDef, row: &mut [Value], now_ms: i64, inserting: bool) {
    stamp_with(table, row, inserting, &Value::Integer(now_ms));
}

/// [`stamp`] of a row of any kind of value: the audit columns get `now`.
fn stamp_with<V: Clone>(table: &TableDef, row: &mut [V], inserting: bool, now: &V) {
    for (column, value) in table.columns.iter().zip(row) {
        let stamped = match column.audit {
            Some(AuditRole::Updated) => true,
            Some(AuditRole::Created) => inserting,
            None => false,
        };
        if stamped {
            value.clone_from(now);
        }
    }
}

pub(crate) fn first_row<T: Table>(mut rows: Vec<T>) -> Result<T> {
    rows.pop().ok_or_else(|| Error::Database {
        message: format!("a write to `{}` returned no row", T::DEF.name),
    })
}

pub(crate) async fn insert<T: Table>(db: &Db, record: &T) -> Result<T> {
    first_row(insert_many(db, std::slice::from_ref(record)).await?)
}

/// Multi-row `INSERT … RETURNING`, split into as many statements as the parameter and SQL
/// length limits require, run as one atomic batch: all rows or none. One statement binds its
/// parameters straight from the records.
pub(crate) async fn insert_many<T: Table>(db: &Db, records: &[T]) -> Result<Vec<T>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let capabilities = db.capabilities();
    require_returning(capabilities)?;
    let params = insert_params(db, records)?;
    let text = InsertText::new(T::DEF, capabilities, true)?;
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(sql) = text.single(records.len()) {
        let inserted = read_records::<T>(db, &sql, Params::Borrowed(&params), records.len())
            .await
            .map_err(|e| e.in_table(T::DEF.name))?;
        return check_inserted(inserted, records.len());
    }
    let results = insert_chunked::<T>(db, &text, params, records.len()).await?;
    decode_inserted(results, records.len())
}

/// Multi-row `INSERT` without `RETURNING`: [`insert_many`]'s statements less that clause,
/// chunked and atomic alike; the number of rows inserted.
pub(crate) async fn insert_many_count<T: Table>(db: &Db, records: &[T]) -> Result<u64> {
    if records.is_empty() {
        return Ok(0);
    }
    let capabilities = db.capabilities();
    let params = insert_params(db, records)?;
    let text = InsertText::new(T::DEF, capabilities, false)?;
    #[cfg(not(target_arch = "wasm32"))]
    if let Some(sql) = text.single(records.len()) {
        let params = Params::Borrowed(&params);
        let read = match db.execute_into_now(&sql, params, &mut NoRows) {
            Some(read) => read,
            None => db.execute_into_later(&sql, params, &mut NoRows).await,
        }
        .map_err(|e| e.in_table(T::DEF.name))?;
        return Ok(match read {
            RowsRead::Streamed { changes } => changes,
            RowsRead::Returned(result) => result.changes,
        });
    }
    let results = insert_chunked::<T>(db, &text, params, records.len()).await?;
    Ok(results.iter().map(|r| r.changes).sum())
}

/// An insert of `rows` rows as owned statements, as many as the backend's limits require,
/// sent in one round trip (an atomic batch when there are several): for an insert that does
/// not fit one statement, or a backend that does not lend rows.
async fn insert_chunked<T: Table>(
    db: &Db,
    text: &InsertText,
    params: Vec<Param<'_>>,
    rows: usize,
) -> Result<Vec<QueryResult>> {
    let values = params.into_iter().map(Param::into_value).collect();
    let statements = text.statements(T::DEF, values, rows, db.capabilities())?;
    db.run_all(&statements)
        .await
        .map_err(|e| e.in_table(T::DEF.name))
}

/// The sink of a statement that returns no rows.
#[cfg(not(target_arch = "wasm32"))]
struct NoRows;

#[cfg(not(target_arch = "wasm32"))]
impl RowSink for NoRows {
    fn row(&mut self, _: &dyn crate::row::Row) -> Result<()> {
        Ok(())
    }
}

/// The parameters of an insert of `records`, row after row, borrowed from them where their
/// fields allow: audit columns stamped, every row checked against the backend's limits.
fn insert_params<'r, T: Table>(db: &Db, records: &'r [T]) -> Result<Vec<Param<'r>>> {
    let capabilities = db.capabilities();
    let table = T::DEF;
    // The clock is read only for a table with audit columns, and only once.
    let audited = table.columns.iter().any(|column| column.audit.is_some());
    let now = (audited && !db.keeps_audit()).then(|| Param::Borrowed(Cell::Integer(db.now_ms())));
    let mut params = Vec::with_capacity(records.len() * table.columns.len());
    for record in records {
        let start = params.len();
        encode_params(record, &mut params)?;
        if let Some(row) = params.get_mut(start..) {
            if let Some(now) = &now {
                stamp_with(table, row, true, now);
            }
            check_row(table, row.iter().map(Param::cell), capabilities)?;
        }
    }
    Ok(params)
}

/// The statements of an insert of `records` (audit columns stamped, every row checked
/// against the backend's limits), chunked under its parameter and SQL length limits: for an
/// atomic batch, which outlives the records.
pub(crate) fn prepare_insert<T: Table>(db: &Db, records: &[T]) -> Result<Vec<Statement>> {
    let capabilities = db.capabilities();
    require_returning(capabilities)?;
    let values = insert_params(db, records)?
        .into_iter()
        .map(Param::into_value)
        .collect();
    InsertText::new(T::DEF, capabilities, true)?.statements(
        T::DEF,
        values,
        records.len(),
        capabilities,
    )
}

/// The rows an insert of `expected` records returned, all of them or an error.
pub(crate) fn decode_inserted<T: Table>(
    results: Vec<QueryResult>,
    expected: usize,
) -> Result<Vec<T>> {
    let mut inserted = Vec::with_capacity(expected);
    for result in results {
        inserted.extend(decode_rows::<T>(result)?);
    }
    check_inserted(inserted, expected)
}

/// The rows an insert of `expected` records returned, if there is one for each.
fn check_inserted<T: Table>(inserted: Vec<T>, expected: usize) -> Result<Vec<T>> {
    // `RETURNING` gives one row per row inserted: fewer means the backend lost some, and the
    // caller (and the cache) must not take the rest for the whole write.
    if inserted.len() != expected {
        return Err(Error::Database {
            message: format!(
                "an insert of {expected} `{}` records returned {} rows",
                T::DEF.name,
                inserted.len()
            ),
        });
    }
    Ok(inserted)
}

/// `UPDATE … SET every column but the key and created_on … WHERE pk = ? RETURNING …`.
pub(crate) async fn update<T: Table>(db: &Db, record: &T) -> Result<T> {
    update_if(db, record, None)
        .await?
        .ok_or_else(|| Error::NotFound {
            table: T::DEF.name.to_string(),
        })
}

/// An update of the whole record where its stored row also matches `condition`; the row as
/// stored, or `None` when no row matched.
pub(crate) async fn update_if<T: Table>(
    db: &Db,
    record: &T,
    condition: Option<&Expr>,
) -> Result<Option<T>> {
    let statement = prepare_update(db, record, condition)?;
    let mut rows = execute_records::<T>(db, &statement)
        .await
        .map_err(|e| e.in_table(T::DEF.name))?;
    Ok(rows.pop())
}

/// The statement of an update of the whole `record` by its primary key, only where the
/// stored row also matches `condition`.
pub(crate) fn prepare_update<T: Table>(
    db: &Db,
    record: &T,
    condition: Option<&Expr>,
) -> Result<Statement> {
    let (table, values) = prepared_row(db, record, false)?;
    let key_is_null = table
        .primary_key
        .iter()
        .any(|i| values.get(*i) == Some(&Value::Null));
    if table.constraints.generated_key && key_is_null {
        return Err(Error::InvalidQuery(format!(
            "a `{}` record without its generated key cannot be updated: insert it first \
             (the insert returns the record with the key the database generated)",
            table.name
        )));
    }
    update_statement(
        table,
        values,
        condition,
        db.capabilities(),
        db.keeps_audit(),
    )
}

/// The result of a `RETURNING <primary key>` with the keys as the table stores them: an
/// INTEGER key read as text where integers cross JavaScript (`crate::sql::exact_integers`)
/// becomes the INTEGER again, so the cache deletes the right entries. For a composite key
/// (one returned column per key column) each row's parts become its record id, so that
/// `values` holds one id per row either way.
fn returned_keys<T: Table>(result: QueryResult) -> QueryResult {
    returned_keys_of(T::DEF, result)
}

/// [`returned_keys`] for a table known by its definition.
pub(crate) fn returned_keys_of(table: &'static TableDef, mut result: QueryResult) -> QueryResult {
    result.values = table.ids_of_key_rows(std::mem::take(&mut result.values));
    result
}

/// `INSERT … ON CONFLICT (pk) DO UPDATE SET every column but the key and created_on`.
pub(crate) async fn upsert<T: Table>(db: &Db, record: &T) -> Result<T> {
    let statement = prepare_upsert(db, record)?;
    let rows = execute_records::<T>(db, &statement)
        .await
        .map_err(|e| e.in_table(T::DEF.name))?;
    first_row(rows)
}

/// The statement of an upsert of `record`.
pub(crate) fn prepare_upsert<T: Table>(db: &Db, record: &T) -> Result<Statement> {
    let (table, values) = prepared_row(db, record, true)?;
    upsert_statement(table, values, db.keeps_audit(), db.capabilities())
}

/// The record's row, stamped (`created_on` too when `inserting`) and checked against the
/// backend's limits.
fn prepared_row<T: Table>(
    db: &Db,
    record: &T,
    inserting: bool,
) -> Result<(&'static TableDef, Vec<Value>)> {
    let capabilities = db.capabilities();
    require_returning(capabilities)?;
    let table = T::DEF;
    let mut values = Vec::with_capacity(table.columns.len());
    encode(record, &mut values)?;
    if !db.keeps_audit() {
        stamp(table, &mut values, db.now_ms(), inserting);
    }
    check_row(table, values.iter().map(Cell::from), capabilities)?;
    Ok((table, values))
}

/// `DELETE … WHERE pk = ?`, after `before` in the same batch; whether a row was deleted, and
/// the results of `before`.
pub(crate) async fn delete<T: Table>(
    db: &Db,
    key: Vec<Value>,
    before: Vec<Statement>,
) -> Result<(bool, Vec<QueryResult>)> {
    let statement = delete_statement(T::DEF, key)?;
    let (result, before) = db
        .execute_after(before, statement)
        .await
        .map_err(|e| e.in_table(T::DEF.name))?;
    Ok((result.changes > 0, before))
}

/// The index of a column that [`UpdateWhere::set_by_name`] may set on `db`: a column of
/// `T`, not its primary key, and not an audit column unless `db` keeps audit values.
fn writable_column<T: Table>(db: &Db, name: &str) -> Result<usize> {
    let table = T::DEF;
    let index = table.require_column(name)?;
    if table.is_key_column(index) {
        return Err(Error::InvalidQuery(format!(
            "`{}`.`{name}` is (part of) the primary key; an update cannot change it (choose the rows \
             with a filter)",
            table.name
        )));
    }
    check_audit_set(db, table, index)?;
    Ok(index)
}

/// The one rule for explicit values of audit columns, whichever way they are set: refused,
/// unless `db` keeps the audit values it is given ([`Db::keeping_audit`]).
fn check_audit_set(db: &Db, table: &'static TableDef, index: usize) -> Result<()> {
    let column = column_def(table, index)?;
    match column.audit {
        Some(role) if !db.keeps_audit() => {
            let when = match role {
                AuditRole::Created => "once, when the record is inserted",
                AuditRole::Updated => "at every write",
            };
            Err(Error::InvalidQuery(format!(
                "`{}`.`{}` is an audit column, which Sonic sets {when} from the clock; to \
                 write given audit values (an import, a test), update through \
                 `db.keeping_audit()`",
                table.name, column.name
            )))
        }
        _ => Ok(()),
    }
}

/// The rows a filtered write ([`UpdateWhere`], [`DeleteWhere`]) touches: those matching its
/// filter, or every row once `all_rows` allows it.
#[derive(Default)]
struct Scope {
    filter: Option<Expr>,
    all_rows: bool,
}

impl Scope {
    /// Adds `filter`; several must all match.
    fn filter<T: Table>(&mut self, filter: Filter<T>) {
        self.filter = Some(match self.filter.take() {
            None => filter.expr,
            Some(previous) => and([Filter::from_expr(previous), filter]).expr,
        });
    }

    /// Refuses `what` ("an update") without a filter unless `all_rows` allows it.
    fn check(&self, table: &TableDef, what: &str) -> Result<()> {
        if self.filter.is_none() && !self.all_rows {
            return Err(Error::InvalidQuery(format!(
                "{what} of `{}` without a filter would affect every row; call `.all_rows()` if \
                 that is meant",
                table.name
            )));
        }
        Ok(())
    }

    /// The statement: `head`, then the filter's `WHERE`, then `RETURNING` the whole rows
    /// (`full`) or their keys.
    fn build(
        &self,
        table: &'static TableDef,
        capabilities: &Capabilities,
        full: bool,
        head: impl Fn(&mut SqlWriter) -> Result<()>,
    ) -> Result<Statement> {
        filtered_write(table, self.filter.as_ref(), capabilities, full, head)
    }
}

/// A filtered update: `db.update_where::<User>().set(User::NAME, "x").filter(..)`.
///
/// Sets only the given columns (plus `updated_on` for audited tables). Without a filter it
/// refuses to run unless [`UpdateWhere::all_rows`] says so.
///
/// The examples of its methods run on a table `posts` (`id`, `title`, `views`, a nullable
/// `body`) holding `p1` "Hello" (3 views, body "First!"), `p2` "Again" (40 views) and `p3`
/// "Bye" (7 views); their setup lines are hidden.
///
/// Columns named at run time (a REST `PUT` of some fields) are set with
/// [`set_by_name`](UpdateWhere::set_by_name) or [`set_json`](UpdateWhere::set_json), so a
/// partial update is one atomic `UPDATE … WHERE id = ? RETURNING …` rather than a read, a
/// merge and a write:
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # pollster::block_on(async {
/// use serde::{Deserialize, Serialize};
/// use serde_json::json;
/// use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
///
/// #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
/// #[table(name = "posts")]
/// struct Post {
///     #[column(primary_key)]
///     id: String,
///     title: String,
///     views: i64,
///     draft: bool,
/// }
///
/// let db = Db::new(SqliteBackend::memory()?);
/// for statement in Schema::new().table::<Post>().statements() {
///     db.sql(statement).run().await?;
/// }
/// db.insert(&Post { id: "p1".into(), title: "Hi".into(), views: 0, draft: true }).await?;
///
/// // The body of `PUT /posts/p1`.
/// let body = json!({ "title": "Hello", "draft": false });
/// let mut update = db.update_where::<Post>().filter(Post::ID.eq("p1"));
/// for (name, value) in body.as_object().unwrap() {
///     update = update.set_json(name, value)?;
/// }
/// let updated = update.returning().await?;
/// assert_eq!((updated[0].title.as_str(), updated[0].draft), ("Hello", false));
///
/// // Checked before anything is sent: the table and column are named.
/// let wrong = db.update_where::<Post>().set_json("views", &json!("many"));
/// assert_eq!(
///     wrong.unwrap_err().to_string(),
///     "cannot encode column `posts`.`views`: expected a JSON integer (or true/false), \
///      found a JSON string \"many\""
/// );
/// assert!(matches!(
///     db.update_where::<Post>().set_json("id", &json!("p2")),
///     Err(Error::InvalidQuery(_))
/// ));
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// # }
/// ```
#[must_use = "an update does nothing until `returning` or `run` is awaited"]
pub struct UpdateWhere<'db, T: Table> {
    db: &'db Db,
    sets: Vec<(usize, std::result::Result<SetExpr, ConvertError>)>,
    scope: Scope,
    _table: std::marker::PhantomData<fn() -> T>,
}

impl<T: Table> std::fmt::Debug for UpdateWhere<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateWhere")
            .field("table", &T::DEF.name)
            .field("sets", &self.sets)
            .field("filter", &self.scope.filter)
            .field("all_rows", &self.scope.all_rows)
            .finish()
    }
}

impl<'db, T: Table> UpdateWhere<'db, T> {
    pub(crate) fn new(db: &'db Db) -> Self {
        UpdateWhere {
            db,
            sets: Vec::new(),
            scope: Scope::default(),
            _table: std::marker::PhantomData,
        }
    }

    fn set_value(self, column: usize, value: std::result::Result<Value, ConvertError>) -> Self {
        self.set_to(column, value.map(SetExpr::Value))
    }

    fn set_to(mut self, column: usize, value: std::result::Result<SetExpr, ConvertError>) -> Self {
        self.sets.retain(|(c, _)| *c != column);
        self.sets.push((column, value));
        self
    }

    /// Sets a column to an expression of the row's current values, evaluated by the
    /// database for each row in the same statement: an atomic relative update, with no read
    /// before it. Build it from column handles: `Post::VIEWS + 1`, `Post::SCORE * 2.0`,
    /// `Post::BODY.coalesce("")`.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # pollster::block_on(async {
    /// # use serde::{Deserialize, Serialize};
    /// use sonic_db_core::{sqlite::SqliteBackend, Db, Schema};
    /// # #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post {
    /// #     #[column(primary_key)]
    /// #     id: String,
    /// #     views: i64,
    /// # }
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// db.insert(&Post { id: "p1".into(), views: 41 }).await?;
    /// let viewed = db
    ///     .update_where::<Post>()
    ///     .set_expr(Post::VIEWS, Post::VIEWS + 1)
    ///     .filter(Post::ID.eq("p1"))
    ///     .returning()
    ///     .await?;
    /// assert_eq!(viewed[0].views, 42);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn set_expr<V>(self, column: Column<T, V>, value: Computed<T, V>) -> Self {
        self.set_to(column.index(), value.expr)
    }

    /// Sets a column (a later `set` of the same column wins).
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
    /// let renamed = db
    ///     .update_where::<Post>()
    ///     .set(Post::TITLE, "Hi")
    ///     .set(Post::BODY, "Edited")
    ///     .filter(Post::ID.eq("p1"))
    ///     .returning()
    ///     .await?;
    /// assert_eq!(renamed[0].title, "Hi");
    /// assert_eq!(renamed[0].body.as_deref(), Some("Edited"));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn set<V: ToValue>(self, column: Column<T, V>, value: impl Into<V>) -> Self {
        let value = value.into().to_value();
        self.set_value(column.index(), value)
    }

    /// Sets a nullable column to `NULL`.
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
    /// let clear = db.update_where::<Post>().set_null(Post::BODY);
    /// let cleared = clear.filter(Post::ID.eq("p1")).run().await?;
    /// assert_eq!(cleared, 1);
    /// // The database refuses it for a NOT NULL column.
    /// let title = db.update_where::<Post>().set_null(Post::TITLE).all_rows().run().await;
    /// assert!(matches!(title, Err(Error::ConstraintViolation { .. })));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn set_null<V>(self, column: Column<T, V>) -> Self {
        self.set_value(column.index(), Ok(Value::Null))
    }

    /// Sets the column named `column` (its SQL name, as [`Filter::by_name`] takes it) to
    /// `value`, for input that names columns at run time. A later set of the same column
    /// wins.
    ///
    /// Refused at once, before anything is sent:
    /// - a name that is not a column of `T`: [`Error::UnknownColumn`];
    /// - the primary key (the rows to change are chosen by [`filter`](UpdateWhere::filter))
    ///   and the audit columns (Sonic stamps `updated_on` itself and never rewrites
    ///   `created_on`; a `Db` from [`Db::keeping_audit`] accepts them, as [`set`](Self::set)
    ///   does): [`Error::InvalidQuery`] naming the column;
    /// - a value the column's field cannot hold — of another storage class than its declared
    ///   type (TEXT into an INTEGER column), `NULL` into a field that is not an `Option`, or
    ///   what the field's Rust type refuses (`7` for a `bool`): [`Error::Encode`] naming the
    ///   table and column (see [`Table::column_from_value`]).
    ///
    /// The value is stored as the field would encode it (an INTEGER for a REAL column becomes
    /// a REAL). Values too large for the backend fail with [`Error::Limit`] when the update
    /// runs, as typed values do.
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
    /// let (field, value) = ("views", Value::Integer(99)); // e.g. from an admin form
    /// let update = db.update_where::<Post>().set_by_name(field, value)?;
    /// let updated = update.filter(Post::ID.eq("p3")).returning().await?;
    /// assert_eq!(updated[0].views, 99);
    /// let text = db.update_where::<Post>().set_by_name("views", Value::Text("99".into()));
    /// assert!(matches!(text, Err(Error::Encode { .. })));
    /// let unknown = db.update_where::<Post>().set_by_name("password", Value::Null);
    /// assert!(matches!(unknown, Err(Error::UnknownColumn { .. })));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn set_by_name(self, column: &str, value: Value) -> Result<Self> {
        let index = writable_column::<T>(self.db, column)?;
        let value = T::column_from_value(index, value)?;
        Ok(self.set_value(index, Ok(value)))
    }

    /// Sets the column named `column` from JSON, as a REST body carries it: the JSON form
    /// serde gives the field's type (a number for an integer or float, `true`/`false` for a
    /// `bool`, a string for text and text enums, an array of bytes for `Vec<u8>`, any
    /// document for a `Json<T>`, `null` for an `Option`); see [`Table::column_from_json`].
    /// Otherwise as [`set_by_name`](UpdateWhere::set_by_name).
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
    /// use serde_json::json;
    ///
    /// let update = db.update_where::<Post>().set_json("views", &json!(12))?;
    /// let update = update.set_json("body", &json!(null))?;
    /// let updated = update.filter(Post::ID.eq("p1")).returning().await?;
    /// assert_eq!((updated[0].views, updated[0].body.as_deref()), (12, None));
    /// let null_title = db.update_where::<Post>().set_json("title", &json!(null));
    /// assert!(matches!(null_title, Err(Error::Encode { .. }))); // `title` is not an Option
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn set_json(self, column: &str, value: &serde_json::Value) -> Result<Self> {
        let index = writable_column::<T>(self.db, column)?;
        let value = T::column_from_json(index, value)?;
        Ok(self.set_value(index, Ok(value)))
    }

    /// Only rows matching `filter`; several calls must all match.
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
    /// let reset = db
    ///     .update_where::<Post>()
    ///     .set(Post::VIEWS, 0)
    ///     .filter(Post::VIEWS.lt(10))
    ///     .filter(Post::BODY.is_null())
    ///     .run()
    ///     .await?;
    /// assert_eq!(reset, 1); // p3 only: p1 has a body
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn filter(mut self, filter: Filter<T>) -> Self {
        self.scope.filter(filter);
        self
    }

    /// Allows the update to run without a filter, on every row.
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
    /// let unfiltered = db.update_where::<Post>().set(Post::VIEWS, 0).run().await;
    /// assert!(matches!(unfiltered, Err(Error::InvalidQuery(_)))); // nothing was sent
    /// let everything = db.update_where::<Post>().set(Post::VIEWS, 0).all_rows().run().await?;
    /// assert_eq!(everything, 3);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn all_rows(mut self) -> Self {
        self.scope.all_rows = true;
        self
    }

    /// Runs the update and returns the updated records, as stored (every column, not only
    /// those set).
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
    /// let reset = |id| db.update_where::<Post>().set(Post::VIEWS, 0).filter(Post::ID.eq(id));
    /// assert_eq!(reset("p2").returning().await?, [post("p2", "Again", 0)]);
    /// assert!(reset("p9").returning().await?.is_empty());
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn returning(self) -> Result<Vec<T>> {
        let statement = self.compile(true)?;
        let ticket = self.db.write_ticket::<T>(None);
        let result = self
            .db
            .execute(&statement)
            .await
            .map_err(|e| e.in_table(T::DEF.name))
            .and_then(decode_rows::<T>);
        finish_rows(ticket, result.as_deref()).await;
        result
    }

    /// Runs the update and returns how many rows it changed.
    ///
    /// Only the changed rows' primary keys travel back (`RETURNING` the key): when `T` is
    /// cached, their buckets are invalidated in KV.
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
    /// let filled = db
    ///     .update_where::<Post>()
    ///     .set(Post::BODY, "(empty)")
    ///     .filter(Post::BODY.is_null())
    ///     .run()
    ///     .await?;
    /// assert_eq!(filled, 2); // p2 and p3
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn run(self) -> Result<u64> {
        let statement = self.compile(false)?;
        let ticket = self.db.write_ticket::<T>(None);
        // `RETURNING` the primary keys only: all the cache needs to invalidate.
        let result = self
            .db
            .execute(&statement)
            .await
            .map(returned_keys::<T>)
            .map_err(|e| e.in_table(T::DEF.name));
        if let Some(ticket) = ticket {
            match &result {
                Ok(changed) if changed.values.is_empty() => ticket.unchanged(),
                Ok(changed) => ticket.changed_ids(&changed.values).await,
                Err(error) => ticket.failed(error).await,
            }
        }
        Ok(result?.values.len() as u64)
    }

    fn compile(&self, full: bool) -> Result<Statement> {
        compile_update(self.db, T::DEF, &self.scope, &self.sets, full)
    }
}

/// [`UpdateWhere`]'s statement, without the record type: compiled once for every table.
fn compile_update(
    db: &Db,
    table: &'static TableDef,
    scope: &Scope,
    given: &[(usize, std::result::Result<SetExpr, ConvertError>)],
    full: bool,
) -> Result<Statement> {
    let capabilities = db.capabilities();
    require_returning(capabilities)?;
    scope.check(table, "an update")?;
    if given.is_empty() {
        return Err(Error::InvalidQuery(format!(
            "an update of `{}` sets no column",
            table.name
        )));
    }
    let mut sets = Vec::with_capacity(given.len() + 1);
    for (index, value) in given {
        let column = column_def(table, *index)?;
        if table.is_key_column(*index) {
            return Err(Error::InvalidQuery(format!(
                "`{}`.`{}` is (part of) the primary key; update_where cannot change it",
                table.name, column.name
            )));
        }
        check_audit_set(db, table, *index)?;
        let value = value
            .clone()
            .map_err(|e| Error::encode(table.name, column.name, e))?;
        let mut operands = Vec::new();
        value.values(&mut operands);
        for operand in operands {
            check_column_value(table, column, operand, capabilities)?;
        }
        sets.push((*index, value));
    }
    if let (Some(index), false) = (table.audit_column(AuditRole::Updated), db.keeps_audit()) {
        if !given.iter().any(|(c, _)| *c == index) {
            sets.push((index, SetExpr::Value(Value::Integer(db.now_ms()))));
        }
    }
    scope.build(table, capabilities, full, |w| write_sets(w, table, &sets))
}

/// A filtered delete: `db.delete_where::<User>().filter(..)`.
///
/// Without a filter it refuses to run unless [`DeleteWhere::all_rows`] says so.
///
/// The examples of its methods run on a table `posts` (`id`, `title`, `views`, a nullable
/// `body`) holding `p1` "Hello" (3 views, body "First!"), `p2` "Again" (40 views) and `p3`
/// "Bye" (7 views); their setup lines are hidden.
#[must_use = "a delete does nothing until `returning` or `run` is awaited"]
pub struct DeleteWhere<'db, T: Table> {
    db: &'db Db,
    scope: Scope,
    _table: std::marker::PhantomData<fn() -> T>,
}

impl<T: Table> std::fmt::Debug for DeleteWhere<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeleteWhere")
            .field("table", &T::DEF.name)
            .field("filter", &self.scope.filter)
            .field("all_rows", &self.scope.all_rows)
            .finish()
    }
}

impl<'db, T: Table> DeleteWhere<'db, T> {
    pub(crate) fn new(db: &'db Db) -> Self {
        DeleteWhere {
            db,
            scope: Scope::default(),
            _table: std::marker::PhantomData,
        }
    }

    /// Only rows matching `filter`; several calls must all match.
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
    /// let removed = db
    ///     .delete_where::<Post>()
    ///     .filter(Post::VIEWS.lt(10))
    ///     .filter(Post::BODY.is_null())
    ///     .run()
    ///     .await?;
    /// assert_eq!(removed, 1); // p3 only: p1 has a body
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn filter(mut self, filter: Filter<T>) -> Self {
        self.scope.filter(filter);
        self
    }

    /// Allows the delete to run without a filter, on every row.
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
    /// let unfiltered = db.delete_where::<Post>().run().await;
    /// assert!(matches!(unfiltered, Err(Error::InvalidQuery(_)))); // nothing was sent
    /// assert_eq!(db.delete_where::<Post>().all_rows().run().await?, 3);
    /// assert_eq!(db.select::<Post>().count().await?, 0);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn all_rows(mut self) -> Self {
        self.scope.all_rows = true;
        self
    }

    /// Runs the delete and returns the deleted records.
    ///
    /// With a KV cache, deletes their entries and those of the records the foreign keys
    /// change with them (see [`Db::delete`]).
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
    /// let mut deleted = db.delete_where::<Post>().filter(Post::VIEWS.gte(7)).returning().await?;
    /// deleted.sort_by(|a, b| a.id.cmp(&b.id));
    /// assert_eq!(deleted, [post("p2", "Again", 40), post("p3", "Bye", 7)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn returning(self) -> Result<Vec<T>> {
        let statement = self.compile(true)?;
        let mut write = DeleteWrite::begin(self.db, T::DEF, None, self.scope.filter.as_ref());
        let result = self
            .db
            .execute_after(write.take_selects(), statement)
            .await
            .map_err(|e| e.in_table(T::DEF.name));
        match result {
            Ok((deleted, selected)) => {
                let rows = decode_rows::<T>(deleted);
                let keys: Vec<Value> = rows
                    .iter()
                    .flatten()
                    .filter_map(|row| row.record_id().ok())
                    .collect();
                write
                    .finish(rows.as_ref().map(|_| keys.as_slice()), Ok(&selected))
                    .await;
                rows
            }
            Err(error) => {
                write.finish(Err(&error), Err(&error)).await;
                Err(error)
            }
        }
    }

    /// Runs the delete and returns how many rows it deleted.
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
    /// let removed = db.delete_where::<Post>().filter(Post::TITLE.like("%e%")).run().await?;
    /// assert_eq!(removed, 2); // Hello and Bye
    /// assert_eq!(db.delete_where::<Post>().filter(Post::ID.eq("p1")).run().await?, 0);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn run(self) -> Result<u64> {
        Ok(self.keys().await?.len() as u64)
    }

    /// Runs the delete, returning the primary keys of the deleted rows (and deleting their
    /// KV entries, and those of the records the foreign keys change with them, when cached).
    pub(crate) async fn keys(self) -> Result<Vec<Value>> {
        let statement = self.compile(false)?;
        let mut write = DeleteWrite::begin(self.db, T::DEF, None, self.scope.filter.as_ref());
        let result = self
            .db
            .execute_after(write.take_selects(), statement)
            .await
            .map(|(deleted, selected)| (returned_keys::<T>(deleted), selected))
            .map_err(|e| e.in_table(T::DEF.name));
        match &result {
            Ok((deleted, selected)) => write.finish(Ok(&deleted.values), Ok(selected)).await,
            Err(error) => write.finish(Err(error), Err(error)).await,
        }
        result.map(|(deleted, _)| deleted.values)
    }

    fn compile(&self, full: bool) -> Result<Statement> {
        compile_delete(self.db, T::DEF, &self.scope, full)
    }
}

/// [`DeleteWhere`]'s statement, without the record type: compiled once for every table.
fn compile_delete(
    db: &Db,
    table: &'static TableDef,
    scope: &Scope,
    full: bool,
) -> Result<Statement> {
    let capabilities = db.capabilities();
    require_returning(capabilities)?;
    scope.check(table, "a delete")?;
    scope.build(table, capabilities, full, |w| {
        write_delete_head(w, table);
        Ok(())
    })
}

/// A value computed by the database from a row's current values, for
/// [`UpdateWhere::set_expr`]: built from a column handle with `+`, `-`, `*` (numeric columns)
/// or [`Column::coalesce`], and combined further the same way.
pub struct Computed<T, V> {
    expr: std::result::Result<SetExpr, ConvertError>,
    _column: std::marker::PhantomData<fn() -> (T, V)>,
}

impl<T, V> std::fmt::Debug for Computed<T, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Computed").field(&self.expr).finish()
    }
}

impl<T, V> Computed<T, V> {
    fn new(expr: std::result::Result<SetExpr, ConvertError>) -> Self {
        Computed {
            expr,
            _column: std::marker::PhantomData,
        }
    }

    fn arith(self, op: Arith, operand: std::result::Result<Value, ConvertError>) -> Self {
        Computed::new(self.expr.and_then(|left| {
            Ok(SetExpr::Arith(
                Box::new(left),
                op,
                Box::new(SetExpr::Value(operand?)),
            ))
        }))
    }
}

impl<T: Table, V: ToValue> Column<T, V> {
    /// The column's current value, or `fallback` where it is `NULL` (SQL `coalesce`).
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
    /// let no_body = Post::BODY.coalesce("(none)"); // keeps the bodies there are
    /// db.update_where::<Post>().set_expr(Post::BODY, no_body).all_rows().run().await?;
    /// let posts = db.select::<Post>().order_by(Post::ID.asc()).all().await?;
    /// let bodies: Vec<Option<&str>> = posts.iter().map(|p| p.body.as_deref()).collect();
    /// assert_eq!(bodies, [Some("First!"), Some("(none)"), Some("(none)")]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn coalesce(self, fallback: impl Into<V>) -> Computed<T, V> {
        let fallback = fallback.into().to_value().map(SetExpr::Value);
        Computed::new(
            fallback
                .map(|fallback| SetExpr::Coalesce(vec![SetExpr::Column(self.index()), fallback])),
        )
    }

    fn computed(self) -> Computed<T, V> {
        Computed::new(Ok(SetExpr::Column(self.index())))
    }
}

/// Column types that SQL arithmetic applies to.
pub trait Numeric: ToValue {}

macro_rules! numeric {
    ($($t:ty),*) => {$(impl Numeric for $t {})*};
}
numeric!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

macro_rules! arithmetic {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        impl<T: Table, V: Numeric> std::ops::$trait<V> for Column<T, V> {
            type Output = Computed<T, V>;
            fn $method(self, operand: V) -> Computed<T, V> {
                self.computed().arith(Arith::$op, operand.to_value())
            }
        }

        impl<T: Table, V: Numeric> std::ops::$trait<V> for Computed<T, V> {
            type Output = Computed<T, V>;
            fn $method(self, operand: V) -> Computed<T, V> {
                self.arith(Arith::$op, operand.to_value())
            }
        }
    )*};
}
arithmetic!(Add add Add, Sub sub Sub, Mul mul Mul);
