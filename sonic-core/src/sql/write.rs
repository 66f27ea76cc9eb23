//! The SQL of writes: inserts (chunked under the limits), updates, upserts and deletes, by key
//! or by filter, each with `RETURNING`.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::backend::{Capabilities, Statement};
use crate::error::{Error, Result};
use crate::schema::{AuditRole, ColumnDef, TableDef, TableMemo};
use crate::sql::exact_integers;
use crate::sql::filter::{build_filtered, write_where, Expr, FilterSql};
use crate::sql::limits::check_batch;
use crate::sql::writer::{column_def, BoundSql, SqlWriter};
use crate::value::Value;
use sonic_db_sql_text::is_default_expression;

/// Refuses a write on a backend without `RETURNING`, which every write of Sonic relies on.
pub(crate) fn require_returning(capabilities: &Capabilities) -> Result<()> {
    if capabilities.returning {
        Ok(())
    } else {
        Err(Error::InvalidQuery(
            "the backend does not support RETURNING, which Sonic's writes rely on".to_string(),
        ))
    }
}

/// ` RETURNING` the whole rows (`full`) or their keys, INTEGER columns as text where the
/// backend reads them so ([`exact_integers`]).
fn write_returning(
    w: &mut SqlWriter,
    table: &'static TableDef,
    full: bool,
    capabilities: &Capabilities,
) -> Result<()> {
    let as_text = exact_integers::integers_as_text(capabilities);
    w.push(" RETURNING ");
    if full {
        exact_integers::select_list(w, table, None, as_text);
    } else {
        for (i, key) in table.key_columns()?.into_iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            exact_integers::select_column(w, None, key, as_text);
        }
    }
    Ok(())
}

/// Whether a column is rewritten by an update of a whole record: not the key, and not the
/// creation time unless the write keeps the audit values given (`keep_audit`).
fn updatable(table: &TableDef, index: usize, keep_audit: bool) -> bool {
    !table.is_key_column(index)
        && table
            .columns
            .get(index)
            .is_some_and(|c| keep_audit || c.audit != Some(AuditRole::Created))
}

/// Writes `"column"` and its `assign`ment for every column an update of a whole record
/// rewrites, comma-separated; whether there was any.
fn write_updatable(
    w: &mut SqlWriter,
    table: &TableDef,
    keep_audit: bool,
    mut assign: impl FnMut(&mut SqlWriter, usize, &ColumnDef),
) -> bool {
    let mut any = false;
    for (index, column) in table.columns.iter().enumerate() {
        if !updatable(table, index, keep_audit) {
            continue;
        }
        if any {
            w.push(", ");
        }
        any = true;
        w.ident(column.name);
        assign(w, index, column);
    }
    any
}

/// The placeholder of a column's value in an `INSERT`: `?`, or `COALESCE(?, <default>)` for
/// a nullable column with a declared default, so that a `None` stores the default as when the
/// column is left out (the rule for defaults of typed inserts, documented with the query
/// builders). Audit columns are stamped instead.
pub(crate) fn insert_placeholder(column: &ColumnDef) -> std::borrow::Cow<'static, str> {
    match column.default {
        Some(default)
            if column.nullable && column.audit.is_none() && is_default_expression(default) =>
        {
            format!("COALESCE(?, {default})").into()
        }
        _ => "?".into(),
    }
}

/// The parts of a table's `INSERT … RETURNING`, built once per table.
struct InsertSql {
    /// `INSERT INTO "t" ("a", "b") VALUES `
    head: String,
    /// `(?, ?)`
    row: String,
    /// ` RETURNING "a", "b"`
    tail: String,
    /// Whole texts of inserts of 1 to [`MEMO_ROWS`] rows, built on first use: the usual
    /// inserts are of a few rows, and their text is then not written again.
    returning_texts: [OnceLock<String>; MEMO_ROWS],
    /// The same without `RETURNING`.
    plain_texts: [OnceLock<String>; MEMO_ROWS],
}

/// The row counts whose insert texts [`InsertSql`] keeps.
const MEMO_ROWS: usize = 16;

fn insert_sql(table: &'static TableDef, capabilities: &Capabilities) -> &'static InsertSql {
    static INSERTS: [TableMemo<InsertSql>; 2] = [TableMemo::new(), TableMemo::new()];
    let as_text = exact_integers::integers_as_text(capabilities);
    exact_integers::memo(&INSERTS, capabilities).get(table, |table| {
        let mut head = SqlWriter::new();
        head.push("INSERT INTO ");
        head.ident(table.name);
        head.push(" (");
        head.column_list(table, None);
        head.push(") VALUES ");
        let mut tail = SqlWriter::new();
        tail.push(" RETURNING ");
        exact_integers::select_list(&mut tail, table, None, as_text);
        let mut row = String::with_capacity(3 * table.columns.len() + 2);
        row.push('(');
        for (i, column) in table.columns.iter().enumerate() {
            if i > 0 {
                row.push_str(", ");
            }
            row.push_str(&insert_placeholder(column));
        }
        row.push(')');
        InsertSql {
            head: head.finish().sql.into_owned(),
            row,
            tail: tail.finish().sql.into_owned(),
            returning_texts: Default::default(),
            plain_texts: Default::default(),
        }
    })
}

/// How many rows one `INSERT` can carry under the parameter and SQL length limits.
fn rows_per_statement(
    table: &TableDef,
    width: usize,
    fixed_len: usize,
    row_len: usize,
    capabilities: &Capabilities,
) -> Result<usize> {
    if width > capabilities.max_params {
        return Err(Error::Limit(format!(
            "one `{}` row binds {width} parameters; the backend allows {}",
            table.name, capabilities.max_params
        )));
    }
    let by_params = capabilities.max_params / width.max(1);
    let by_length = capabilities.max_sql_len.saturating_sub(fixed_len) / (row_len + 2);
    if by_length == 0 {
        return Err(Error::Limit(format!(
            "an INSERT of one `{}` row exceeds the backend's SQL length limit of {} bytes",
            table.name, capabilities.max_sql_len
        )));
    }
    Ok(by_params.min(by_length).max(1))
}

/// How an insert of some rows into a table is written: its memoized parts, whether it
/// returns the stored rows, and how many rows one statement carries under the backend's
/// parameter and SQL length limits.
pub(crate) struct InsertText {
    sql: &'static InsertSql,
    returning: bool,
    rows_per_statement: usize,
}

impl InsertText {
    /// The insert into `table`; `returning`: with `RETURNING` every column (the rows as
    /// stored), else without (SQLite then writes the rows without staging a copy to return).
    pub(crate) fn new(
        table: &'static TableDef,
        capabilities: &Capabilities,
        returning: bool,
    ) -> Result<Self> {
        let sql = insert_sql(table, capabilities);
        let tail = if returning { sql.tail.len() } else { 0 };
        let rows_per_statement = rows_per_statement(
            table,
            table.columns.len(),
            sql.head.len() + tail,
            sql.row.len(),
            capabilities,
        )?;
        Ok(InsertText {
            sql,
            returning,
            rows_per_statement,
        })
    }

    /// The text of one statement carrying all of `rows`, if one can.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn single(&self, rows: usize) -> Option<Cow<'static, str>> {
        (rows <= self.rows_per_statement).then(|| self.text(rows))
    }

    /// The text of one statement of `rows` rows: memoized for a few rows.
    fn text(&self, rows: usize) -> Cow<'static, str> {
        let texts = if self.returning {
            &self.sql.returning_texts
        } else {
            &self.sql.plain_texts
        };
        match texts.get(rows.wrapping_sub(1)) {
            Some(text) => Cow::Borrowed(text.get_or_init(|| self.write(rows))),
            None => Cow::Owned(self.write(rows)),
        }
    }

    /// Writes the text of one statement of `rows` rows.
    fn write(&self, rows: usize) -> String {
        let sql = self.sql;
        let tail = if self.returning {
            sql.tail.as_str()
        } else {
            ""
        };
        let mut text =
            String::with_capacity(sql.head.len() + tail.len() + rows * (sql.row.len() + 2));
        text.push_str(&sql.head);
        for i in 0..rows {
            if i > 0 {
                text.push_str(", ");
            }
            text.push_str(&sql.row);
        }
        text.push_str(tail);
        text
    }

    /// The statements of an insert of `rows` rows (`values`: row after row, in column order),
    /// as many as the backend's limits require, checked against them.
    pub(crate) fn statements(
        &self,
        table: &TableDef,
        values: Vec<Value>,
        rows: usize,
        capabilities: &Capabilities,
    ) -> Result<Vec<Statement>> {
        let width = table.columns.len();
        let full = self.rows_per_statement.min(rows);
        let mut full_sql = Some(self.text(full));
        let mut statements = Vec::with_capacity(rows.div_ceil(self.rows_per_statement));
        let mut values = values.into_iter();
        let mut remaining = rows;
        while remaining > 0 {
            let rows = remaining.min(self.rows_per_statement);
            remaining -= rows;
            let sql = if rows == full {
                // The last full-size statement takes the text; earlier ones copy it.
                let text = if remaining < full {
                    full_sql.take()
                } else {
                    full_sql.clone()
                };
                text.unwrap_or_else(|| self.text(rows))
            } else {
                self.text(rows)
            };
            statements.push(Statement {
                sql,
                params: values.by_ref().take(rows * width).collect(),
            });
        }
        check_batch(&statements, capabilities)?;
        Ok(statements)
    }
}

/// `UPDATE … SET every column but the key and created_on … WHERE pk = ? [AND <condition>]
/// RETURNING …` for a whole row (`values` in column order).
pub(crate) fn update_statement(
    table: &'static TableDef,
    mut values: Vec<Value>,
    condition: Option<&Expr>,
    capabilities: &Capabilities,
    keep_audit: bool,
) -> Result<Statement> {
    let key: Vec<Value> = table
        .primary_key
        .iter()
        .map(|i| values.get_mut(*i).map(std::mem::take).unwrap_or_default())
        .collect();

    let mut w = SqlWriter::new();
    w.push("UPDATE ");
    w.ident(table.name);
    w.push(" SET ");
    let any = write_updatable(&mut w, table, keep_audit, |w, index, _| {
        w.push(" = ");
        w.param(
            values
                .get_mut(index)
                .map(std::mem::take)
                .unwrap_or_default(),
        );
    });
    if !any {
        return Err(Error::InvalidQuery(format!(
            "`{}` has no column an update could change",
            table.name
        )));
    }
    write_key_where(&mut w, table, key)?;
    if let Some(condition) = condition {
        condition.check_operands(table, capabilities)?;
        w.push(" AND ");
        let ctx = FilterSql {
            table,
            qualifier: None,
            json_lists: false,
        };
        condition.write(&mut w, ctx)?;
    }
    write_returning(&mut w, table, true, capabilities)?;
    let statement = w.finish();
    Ok(statement)
}

/// `INSERT … ON CONFLICT (pk) DO UPDATE SET every column but the key and created_on` for a
/// whole row (`values` in column order).
pub(crate) fn upsert_statement(
    table: &'static TableDef,
    values: Vec<Value>,
    keep_audit: bool,
    capabilities: &Capabilities,
) -> Result<Statement> {
    let keys = table.key_columns()?;

    let mut w = SqlWriter::new();
    w.push("INSERT INTO ");
    w.ident(table.name);
    w.push(" (");
    w.column_list(table, None);
    w.push(") VALUES (");
    for (i, (column, value)) in table.columns.iter().zip(values).enumerate() {
        if i > 0 {
            w.push(", ");
        }
        // `?` or `COALESCE(?, <default>)`: the one `?` binds the value.
        let placeholder = insert_placeholder(column);
        let (before, after) = placeholder.split_once('?').unwrap_or(("", ""));
        w.push(before);
        w.param(value);
        w.push(after);
    }
    w.push(") ON CONFLICT (");
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(key.name);
    }
    w.push(") DO UPDATE SET ");
    let any = write_updatable(&mut w, table, keep_audit, |w, _, column| {
        w.push(" = excluded.");
        w.ident(column.name);
    });
    if let (false, Some(key)) = (any, keys.first()) {
        // Nothing to change, but `DO NOTHING` would return no row.
        w.ident(key.name);
        w.push(" = excluded.");
        w.ident(key.name);
    }
    write_returning(&mut w, table, true, capabilities)?;
    let statement = w.finish();
    Ok(statement)
}

/// `DELETE … WHERE pk = ?` (every key column of a composite key; `key` in key order).
pub(crate) fn delete_statement(table: &'static TableDef, key: Vec<Value>) -> Result<Statement> {
    let mut w = SqlWriter::new();
    w.push("DELETE FROM ");
    w.ident(table.name);
    write_key_where(&mut w, table, key)?;
    Ok(w.finish())
}

/// ` WHERE "a" = ? AND "b" = ?`, binding `key` (one value per key column, in key order).
fn write_key_where(w: &mut SqlWriter, table: &'static TableDef, key: Vec<Value>) -> Result<()> {
    table.check_key_parts(key.len())?;
    let columns = table.key_columns()?;
    w.push(" WHERE ");
    for (i, (column, part)) in columns.iter().zip(key).enumerate() {
        if i > 0 {
            w.push(" AND ");
        }
        w.ident(column.name);
        w.push(" = ");
        w.param(part);
    }
    Ok(())
}

/// A filtered write: `head`, then the filter's `WHERE`, then `RETURNING` the whole rows
/// (`full`) or their keys.
pub(crate) fn filtered_write<'a>(
    table: &'static TableDef,
    filter: Option<&'a Expr>,
    capabilities: &Capabilities,
    full: bool,
    head: impl Fn(&mut SqlWriter<'a>) -> Result<()>,
) -> Result<Statement> {
    build_filtered(table, filter, capabilities, None, |w, json_lists| {
        head(w)?;
        let ctx = FilterSql {
            table,
            qualifier: None,
            json_lists,
        };
        write_where(w, filter, ctx)?;
        write_returning(w, table, full, capabilities)
    })
    .map(BoundSql::into_statement)
}

/// The new value of a column in an update of some columns: a value, or an expression of the
/// row's current values (`"views" + ?`), which SQLite evaluates per row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SetExpr {
    /// A bound value.
    Value(Value),
    /// The current value of a column (index into the table's columns).
    Column(usize),
    /// `left <op> right`.
    Arith(Box<SetExpr>, Arith, Box<SetExpr>),
    /// `coalesce(a, b, …)`: the first that is not `NULL`.
    Coalesce(Vec<SetExpr>),
}

/// An arithmetic operator of [`SetExpr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arith {
    Add,
    Sub,
    Mul,
}

impl SetExpr {
    /// Every bound value in the expression, to check against the backend's limits.
    pub(crate) fn values<'a>(&'a self, out: &mut Vec<&'a Value>) {
        match self {
            SetExpr::Value(value) => out.push(value),
            SetExpr::Column(_) => {}
            SetExpr::Arith(left, _, right) => {
                left.values(out);
                right.values(out);
            }
            SetExpr::Coalesce(parts) => parts.iter().for_each(|part| part.values(out)),
        }
    }

    fn write(&self, w: &mut SqlWriter, table: &'static TableDef) -> Result<()> {
        match self {
            SetExpr::Value(value) => w.param(value.clone()),
            SetExpr::Column(index) => w.ident(column_def(table, *index)?.name),
            SetExpr::Arith(left, op, right) => {
                w.push("(");
                left.write(w, table)?;
                w.push(match op {
                    Arith::Add => " + ",
                    Arith::Sub => " - ",
                    Arith::Mul => " * ",
                });
                right.write(w, table)?;
                w.push(")");
            }
            SetExpr::Coalesce(parts) => {
                w.push("coalesce(");
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        w.push(", ");
                    }
                    part.write(w, table)?;
                }
                w.push(")");
            }
        }
        Ok(())
    }
}

/// `UPDATE "t" SET "a" = ?, "b" = ("b" + ?), …`: the head of an update of some columns.
pub(crate) fn write_sets(
    w: &mut SqlWriter,
    table: &'static TableDef,
    sets: &[(usize, SetExpr)],
) -> Result<()> {
    w.push("UPDATE ");
    w.ident(table.name);
    w.push(" SET ");
    for (i, (column, value)) in sets.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(column_def(table, *column)?.name);
        w.push(" = ");
        value.write(w, table)?;
    }
    Ok(())
}

/// `DELETE FROM "t"`: the head of a filtered delete.
pub(crate) fn write_delete_head(w: &mut SqlWriter, table: &TableDef) {
    w.push("DELETE FROM ");
    w.ident(table.name);
}
