//! Keyset (cursor) pagination: the condition "rows after this record" in a select's order.
//!
//! Unlike an offset, a cursor does not skip or repeat rows when rows are inserted or deleted
//! between pages, and SQLite seeks to it through an index instead of reading every skipped row.

use crate::error::{Error, Result};
use crate::schema::TableDef;
use crate::sql::filter::{CmpOp, Expr};
use crate::sql::order::Direction;
use crate::sql::writer::column_def;
use crate::value::Value;

/// What a select with a cursor sends: its filter gains `condition`, its order becomes `order`.
#[derive(Debug)]
pub(crate) struct Keyset {
    /// Rows strictly after the cursor in `order`.
    pub(crate) condition: Expr,
    /// The select's order, with the primary key appended when no term is unique.
    pub(crate) order: Vec<(usize, Direction)>,
}

/// The keyset of `order` after the record whose column values are `cursor` (definition order).
///
/// The keyset is the order's terms up to the first unique NOT NULL column (the primary key
/// included); without one, the primary key is appended, ascending, so that the order is total
/// and no two rows tie. A nullable column is refused: `NULL` compares as neither greater nor
/// smaller, so the rows holding it would be skipped or repeated.
pub(crate) fn keyset(
    table: &'static TableDef,
    order: &[(usize, Direction)],
    cursor: &[Value],
) -> Result<Keyset> {
    let mut terms: Vec<(usize, Direction)> = Vec::with_capacity(order.len() + 1);
    let mut unique = false;
    for &(column, direction) in order {
        let def = column_def(table, column)?;
        if def.nullable {
            return Err(Error::InvalidQuery(format!(
                "`{}`: `after` pages by the select's order, and `{}` may be NULL, so the order \
                 is not unique and total; order by NOT NULL columns (the primary key breaks ties)",
                table.name, def.name
            )));
        }
        if !unique && !terms.iter().any(|(c, _)| *c == column) {
            terms.push((column, direction));
            // A part of a composite key is not unique alone.
            unique = table.primary_key == [column] || def.unique;
        }
    }
    let mut full_order = order.to_vec();
    if !unique {
        // Every key column (all of a composite key) not already ordered by breaks the ties.
        for &key in table.primary_key {
            if !terms.iter().any(|(c, _)| *c == key) {
                terms.push((key, Direction::Asc));
                full_order.push((key, Direction::Asc));
            }
        }
    }
    let value = |column: usize| -> Result<Value> {
        cursor.get(column).cloned().ok_or_else(|| {
            Error::InvalidQuery(format!(
                "`{}`: the cursor record has {} columns, expected {}",
                table.name,
                cursor.len(),
                table.columns.len()
            ))
        })
    };
    let mut alternatives = Vec::with_capacity(terms.len());
    for (i, &(column, direction)) in terms.iter().enumerate() {
        let mut parts = Vec::with_capacity(i + 1);
        for &(tied, _) in terms.iter().take(i) {
            parts.push(Expr::Compare {
                column: tied,
                op: CmpOp::Eq,
                value: value(tied)?,
            });
        }
        let op = match direction {
            Direction::Asc => CmpOp::Gt,
            Direction::Desc => CmpOp::Lt,
        };
        parts.push(Expr::Compare {
            column,
            op,
            value: value(column)?,
        });
        alternatives.push(single_or(parts, Expr::And));
    }
    let condition = single_or(alternatives, Expr::Or);
    Ok(Keyset {
        condition,
        order: full_order,
    })
}

/// The one expression of `parts`, or all of them joined by `join`.
fn single_or(mut parts: Vec<Expr>, join: fn(Vec<Expr>) -> Expr) -> Expr {
    match (parts.len(), parts.pop()) {
        (1, Some(only)) => only,
        (_, last) => {
            parts.extend(last);
            join(parts)
        }
    }
}
