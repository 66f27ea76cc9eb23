//! The SQL of selects: by primary key, by filter with order and paging, counts, and the
//! heads that eager loading puts in front of them.

use std::borrow::Cow;

use crate::backend::{Capabilities, Params};
use crate::error::Result;
use crate::schema::{ColumnDef, TableDef, TableMemo};
use crate::sql::eager::{EmbeddedHead, ROOT_ALIAS};
use crate::sql::exact_integers;
use crate::sql::exact_integers::integers_as_text;
use crate::sql::filter::{build_filtered, write_where, Expr, FilterSql};
use crate::sql::limits::{check_column_value, check_params};
use crate::sql::order::{write_order_by, Direction};
use crate::sql::shape::{Kind, Shape};
use crate::sql::writer::{BoundSql, ParamList, SqlWriter};
use crate::value::Value;

/// What a select asks for, as the compiler sees it.
pub(crate) struct SelectSql<'a> {
    pub(crate) table: &'static TableDef,
    pub(crate) filter: Option<&'a Expr>,
    pub(crate) order: &'a [(usize, Direction)],
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
}

/// `SELECT "a", "b", … FROM "table"`, computed once per table and per way of reading
/// integers ([`exact_integers`]).
fn select_head(table: &'static TableDef, capabilities: &Capabilities) -> &'static str {
    static HEADS: [TableMemo<String>; 2] = [TableMemo::new(), TableMemo::new()];
    let as_text = exact_integers::integers_as_text(capabilities);
    exact_integers::memo(&HEADS, capabilities).get(table, |table| {
        let mut w = SqlWriter::new();
        w.push("SELECT ");
        exact_integers::select_list(&mut w, table, None, as_text);
        w.push(" FROM ");
        w.ident(table.name);
        w.finish().sql.into_owned()
    })
}

/// The text of a read by primary key, `SELECT <columns> FROM <table> WHERE <pk> = ?`
/// (`"a" = ? AND "b" = ?` for a composite key, one `?` per part of `key`, in key order): the
/// text `select().filter(<pk>.eq(key))` compiles to (without a LIMIT: the key matches one
/// row at most), built once per table. The statement of it and `key` is checked against the
/// backend's limits, each part as that filter checks it; `key` is one value per key column
/// (`key_parts` checked it).
pub(crate) fn find_sql(
    table: &'static TableDef,
    key: &[Value],
    capabilities: &Capabilities,
) -> Result<&'static str> {
    static FINDS: [TableMemo<String>; 2] = [TableMemo::new(), TableMemo::new()];
    for (&index, part) in table.primary_key.iter().zip(key) {
        check_column_value(table, table.column_at(index)?, part, capabilities)?;
    }
    let sql = exact_integers::memo(&FINDS, capabilities).get(table, |table| {
        let mut w = SqlWriter::new();
        w.push(select_head(table, capabilities));
        // Checked above: every key column exists.
        write_key_condition(&mut w, &table.key_columns().unwrap_or_default());
        w.finish().sql.into_owned()
    });
    // Each part's value is checked above; what is left of `check_params` (the error
    // when the count or the text is beyond a limit) only when it is.
    if key.len() > capabilities.max_params || sql.len() > capabilities.max_sql_len {
        check_params(sql, Params::Values(key), capabilities)?;
    }
    Ok(sql)
}

/// ` WHERE "a" = ? AND "b" = ?`: one `?` per key column, in key order (the caller binds the
/// parts in that order).
pub(crate) fn write_key_condition(w: &mut SqlWriter, columns: &[&ColumnDef]) {
    w.push(" WHERE ");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            w.push(" AND ");
        }
        w.ident(column.name);
        w.push(" = ?");
    }
}

/// `SELECT <columns> FROM <table>`, the whole text of a select without filter, order or
/// paging: the memoized head, borrowed, not copied. Checked as every statement Sonic builds
/// is (it binds nothing: only its length can be beyond a limit).
pub(crate) fn plain_select_sql(
    table: &'static TableDef,
    capabilities: &Capabilities,
) -> Result<&'static str> {
    let head = select_head(table, capabilities);
    if head.len() > capabilities.max_sql_len {
        check_params(head, Params::Values(&[]), capabilities)?;
    }
    Ok(head)
}

/// The main statement of a select. With `embedded` (the head of a single-statement select
/// with eager relations, from `crate::sql::eager::embedded_head`) columns are qualified by the
/// root alias; without, it is `SELECT <columns> FROM <table>`.
pub(crate) fn select_statement<'a>(
    spec: &SelectSql<'a>,
    embedded: Option<&EmbeddedHead>,
    capabilities: &Capabilities,
) -> Result<BoundSql<'a>> {
    let table = spec.table;
    let plain = spec.filter.is_none() && spec.order.is_empty() && spec.limit.is_none();
    if plain && spec.offset.is_none() && embedded.is_none() {
        return Ok(BoundSql {
            sql: Cow::Borrowed(plain_select_sql(table, capabilities)?),
            params: ParamList::new(),
        });
    }
    let qualifier = embedded.map(|_| ROOT_ALIAS);
    // A head built for this select alone (its level options bind values) has no shape.
    let head = match embedded {
        None => Some(None),
        Some(EmbeddedHead::Shared(head)) => Some(Some(*head)),
        Some(EmbeddedHead::Built(_)) => None,
    };
    let mut shape =
        head.map(|head| Shape::new(Kind::Select, table, head, integers_as_text(capabilities)));
    let shape = shape.as_mut().and_then(|shape| {
        shape.filter(spec.filter)?;
        shape.paging(spec.order, spec.limit, spec.offset)?;
        Some(&*shape)
    });
    build_filtered(
        table,
        spec.filter,
        capabilities,
        shape,
        |w: &mut SqlWriter, json_lists| {
            // Both heads are built once (per table, or per table and tree of includes).
            match embedded {
                Some(head) => head.write(w),
                None => w.push(select_head(table, capabilities)),
            }
            let ctx = FilterSql {
                table,
                qualifier,
                json_lists,
            };
            write_where(w, spec.filter, ctx)?;
            write_order_by(w, table, spec.order, qualifier)?;
            match (spec.limit, spec.offset) {
                (None, None) => {}
                (limit, offset) => {
                    // Literals, not parameters: SQLite reads a bound LIMIT while planning and
                    // re-prepares the statement at every rebind (8x a primary-key read). SQLite
                    // needs a LIMIT before an OFFSET; -1 means none.
                    w.push(" LIMIT ");
                    match limit {
                        Some(n) => w.count(n),
                        None => w.push("-1"),
                    }
                    if let Some(n) = offset {
                        w.push(" OFFSET ");
                        w.count(n);
                    }
                }
            }
            Ok(())
        },
    )
}

/// `SELECT COUNT(*) FROM <table> WHERE <filter>`.
pub(crate) fn count_statement<'a>(
    table: &'static TableDef,
    filter: Option<&'a Expr>,
    capabilities: &Capabilities,
) -> Result<BoundSql<'a>> {
    let mut shape = Shape::new(Kind::Count, table, None, false);
    let shape = shape.filter(filter).map(|()| &shape);
    build_filtered(table, filter, capabilities, shape, |w, json_lists| {
        w.push("SELECT COUNT(*) FROM ");
        w.ident(table.name);
        let ctx = FilterSql {
            table,
            qualifier: None,
            json_lists,
        };
        write_where(w, filter, ctx)
    })
}

/// `SELECT EXISTS (SELECT 1 FROM <table> WHERE <filter>)`.
pub(crate) fn exists_statement<'a>(
    table: &'static TableDef,
    filter: Option<&'a Expr>,
    capabilities: &Capabilities,
) -> Result<BoundSql<'a>> {
    let mut shape = Shape::new(Kind::Exists, table, None, false);
    let shape = shape.filter(filter).map(|()| &shape);
    build_filtered(table, filter, capabilities, shape, |w, json_lists| {
        w.push("SELECT EXISTS (SELECT 1 FROM ");
        w.ident(table.name);
        let ctx = FilterSql {
            table,
            qualifier: None,
            json_lists,
        };
        write_where(w, filter, ctx)?;
        w.push(")");
        Ok(())
    })
}

/// A select whose first level of one relation is joined: `head` (from
/// `crate::sql::eager::join_head`), then the filter on the root alias.
pub(crate) fn joined_statement<'a>(
    table: &'static TableDef,
    filter: Option<&'a Expr>,
    head: &'static str,
    capabilities: &Capabilities,
) -> Result<BoundSql<'a>> {
    let mut shape = Shape::new(Kind::Joined, table, Some(head), false);
    let shape = shape.filter(filter).map(|()| &shape);
    build_filtered(
        table,
        filter,
        capabilities,
        shape,
        |w: &mut SqlWriter, json_lists| {
            w.push(head);
            let ctx = FilterSql {
                table,
                qualifier: Some(ROOT_ALIAS),
                json_lists,
            };
            write_where(w, filter, ctx)
        },
    )
}
