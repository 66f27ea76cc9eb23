//! `ORDER BY` terms.

use crate::error::Result;
use crate::schema::TableDef;
use crate::sql::writer::{column_def, SqlWriter};

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Smallest first (`NULL`s first, as SQLite sorts them).
    #[default]
    Asc,
    /// Largest first (`NULL`s last).
    Desc,
}

/// Writes ` ORDER BY …` when there are terms.
pub(crate) fn write_order_by(
    w: &mut SqlWriter,
    table: &'static TableDef,
    terms: &[(usize, Direction)],
    qualifier: Option<&str>,
) -> Result<()> {
    for (i, (column, direction)) in terms.iter().enumerate() {
        w.push(if i == 0 { " ORDER BY " } else { ", " });
        w.column(qualifier, column_def(table, *column)?.name);
        if *direction == Direction::Desc {
            w.push(" DESC");
        }
    }
    Ok(())
}
