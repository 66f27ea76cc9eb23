//! The SQL that lists, before a delete and in its batch, the keys of the rows its foreign keys
//! delete or change (the query layer's cascade says why).

use crate::backend::{Capabilities, Statement};
use crate::error::{Error, Result};
use crate::schema::{Edge, TableDef};
use crate::sql::exact_integers;
use crate::sql::filter::{build_filtered, write_where, Expr, FilterSql};
use crate::sql::writer::{BoundSql, SqlWriter};
use crate::value::SqlType;

/// One step of a path from the deleted table: the rows of `table` that the delete deletes
/// (or, at the end of a `SET NULL` / `SET DEFAULT` step, changes).
#[derive(Debug, Clone)]
pub(crate) struct Level {
    pub(crate) table: &'static TableDef,
    /// The foreign key from the previous level; `None` for the deleted table (its rows are
    /// the filter's).
    pub(crate) via: Option<Edge>,
    /// Columns of `table` referencing its own primary key with `CASCADE`: the rows deleted
    /// are then the whole subtree below those reached.
    pub(crate) closure: Vec<usize>,
}

/// `SELECT <primary key columns> FROM <the last level's table> WHERE <its rows>`: the keys of the
/// rows that a delete from `root` (with `filter`) removes or changes along `levels`, to run
/// before the `DELETE` in the same batch.
pub(crate) fn select_keys(
    root: &'static TableDef,
    levels: &[Level],
    filter: Option<&Expr>,
    capabilities: &Capabilities,
) -> Result<Statement> {
    let Some(level) = levels.last() else {
        return Err(Error::InvalidQuery(format!(
            "a delete from `{}` has no table to list",
            root.name
        )));
    };
    // Every key column (each part of a composite key), INTEGER ones read exactly where
    // integers cross JavaScript (`exact_integers`).
    let integers_as_text = exact_integers::integers_as_text(capabilities);
    let keys = level
        .table
        .key_columns()?
        .into_iter()
        .map(|c| (c.name, integers_as_text && c.sql_type == SqlType::Integer))
        .collect::<Vec<_>>();
    build_filtered(root, filter, capabilities, None, |w, json| {
        write_select(w, levels, &keys, filter, json)
    })
    .map(BoundSql::into_statement)
}

fn column(table: &'static TableDef, index: usize) -> Result<&'static str> {
    table.columns.get(index).map(|c| c.name).ok_or_else(|| {
        Error::InvalidQuery(format!("`{}` has no column number {index}", table.name))
    })
}

/// `SELECT "a", "b" FROM "table" WHERE <the rows of the last level>` for the key columns
/// `keys` (those marked read by `exact_integers::write_exact`, for the outermost select only).
fn write_select<'a>(
    w: &mut SqlWriter<'a>,
    levels: &[Level],
    keys: &[(&str, bool)],
    filter: Option<&'a Expr>,
    json_lists: bool,
) -> Result<()> {
    let Some(level) = levels.last() else {
        return Ok(());
    };
    w.push("SELECT ");
    for (i, &(column_name, as_text)) in keys.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        if as_text {
            exact_integers::write_exact(w, |w| w.ident(column_name));
        } else {
            w.ident(column_name);
        }
    }
    w.push(" FROM ");
    w.ident(level.table.name);
    write_rows(w, levels, filter, json_lists)
}

/// ` WHERE <condition>` selecting the rows of the last level (nothing: every row).
fn write_rows<'a>(
    w: &mut SqlWriter<'a>,
    levels: &[Level],
    filter: Option<&'a Expr>,
    json_lists: bool,
) -> Result<()> {
    let Some((level, parents)) = levels.split_last() else {
        return Ok(());
    };
    if level.closure.is_empty() {
        return write_reached(w, level, parents, filter, json_lists);
    }
    // The subtree: `WITH RECURSIVE` over the primary key (`UNION` stops at cycles in data).
    let table = level.table.name;
    let key = column(
        level.table,
        level
            .table
            .single_key("a delete cascading to its own table")?,
    )?;
    let cte = format!("sonic_cascade_{}", levels.len());
    w.push(" WHERE ");
    w.ident(key);
    w.push(" IN (WITH RECURSIVE ");
    w.ident(&cte);
    w.push(" (\"k\") AS (SELECT ");
    w.ident(key);
    w.push(" FROM ");
    w.ident(table);
    write_reached(w, level, parents, filter, json_lists)?;
    w.push(" UNION SELECT ");
    w.column(Some(table), key);
    w.push(" FROM ");
    w.ident(table);
    w.push(" JOIN ");
    w.ident(&cte);
    w.push(" ON ");
    for (i, &index) in level.closure.iter().enumerate() {
        if i > 0 {
            w.push(" OR ");
        }
        w.column(Some(table), column(level.table, index)?);
        w.push(" = ");
        w.column(Some(&cte), "k");
    }
    w.push(") SELECT \"k\" FROM ");
    w.ident(&cte);
    w.push(")");
    Ok(())
}

/// ` WHERE <condition>` selecting the rows of `level` reached from its parents (before any
/// closure).
fn write_reached<'a>(
    w: &mut SqlWriter<'a>,
    level: &Level,
    parents: &[Level],
    filter: Option<&'a Expr>,
    json_lists: bool,
) -> Result<()> {
    match &level.via {
        None => write_where(
            w,
            filter,
            FilterSql {
                table: level.table,
                qualifier: None,
                json_lists,
            },
        ),
        Some(edge) => {
            w.push(" WHERE ");
            w.ident(column(level.table, edge.column)?);
            w.push(" IN (");
            write_select(
                w,
                parents,
                &[(edge.referenced.name, false)],
                filter,
                json_lists,
            )?;
            w.push(")");
            Ok(())
        }
    }
}
