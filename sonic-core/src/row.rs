//! Result rows read in place. A backend that can lend each row while it steps through a
//! statement ([`SqlBackend::execute_rows`](crate::SqlBackend::execute_rows)) lets records
//! decode straight from it by column position ([`Table::decode_row`](crate::Table::decode_row)): no [`Value`] per cell,
//! no result vector, no column names. Raw and dynamic queries keep the [`Value`]-based
//! [`QueryResult`](crate::QueryResult).

use crate::error::{Error, Result};
use crate::value::{Cell, FromValue, Value};

/// A result row lent by a backend while it is being read.
///
/// A vector of values is one, which is how rows already in memory decode the same way:
///
/// ```
/// use sonic_db_core::row::Row;
/// use sonic_db_core::value::Cell;
/// use sonic_db_core::Value;
/// let row = vec![Value::Integer(1), Value::Text("a".into())];
/// let row: &dyn Row = &row;
/// assert_eq!((row.width(), row.cell(1)), (2, Some(Cell::Text("a"))));
/// assert_eq!(row.cell(2), None); // out of range is nothing, never a panic
/// ```
pub trait Row {
    /// The number of cells.
    fn width(&self) -> usize;
    /// The cell at `index` (0-based), or `None` if there is none.
    fn cell(&self, index: usize) -> Option<Cell<'_>>;
}

impl Row for Vec<Value> {
    fn width(&self) -> usize {
        self.len()
    }

    fn cell(&self, index: usize) -> Option<Cell<'_>> {
        self.get(index).map(Cell::from)
    }
}

/// The cells `start..start + width` of a row, as a row of their own: each side of a joined
/// row decodes from its part by its own positions. (Not on wasm32, where no backend lends
/// rows.)
#[cfg(not(target_arch = "wasm32"))]
pub(crate) struct Part<'r, R: ?Sized> {
    pub(crate) row: &'r R,
    pub(crate) start: usize,
    pub(crate) width: usize,
}

#[cfg(not(target_arch = "wasm32"))]
impl<R: Row + ?Sized> Row for Part<'_, R> {
    #[inline]
    fn width(&self) -> usize {
        self.width
    }

    #[inline]
    fn cell(&self, index: usize) -> Option<Cell<'_>> {
        if index < self.width {
            self.row.cell(self.start + index)
        } else {
            None
        }
    }
}

/// Decodes one cell as a `T` of column `column` of `table`; a conversion error names the
/// row's primary key (cell `key`) unless the cell is the key itself. Called by the code of
/// `#[derive(Table)]`.
///
/// ```
/// use sonic_db_core::row::decode_cell;
/// use sonic_db_core::{Error, Value};
/// let row = vec![Value::Integer(1), Value::Text("x".into())];
/// assert_eq!(decode_cell::<String>(&row, "users", "name", 1, Some(0))?, "x");
/// let err = decode_cell::<i64>(&row, "users", "age", 1, Some(0)).unwrap_err();
/// assert!(err.to_string().contains("`users`.`age` of the row with key INTEGER 1"), "{err}");
/// # Ok::<(), Error>(())
/// ```
#[inline]
pub fn decode_cell<T: FromValue>(
    row: &(impl Row + ?Sized),
    table: &str,
    column: &str,
    index: usize,
    key: Option<usize>,
) -> Result<T> {
    let Some(cell) = row.cell(index) else {
        return Err(missing_cell(row.width(), table, column));
    };
    match T::from_cell(cell) {
        Ok(value) => Ok(value),
        Err(e) => Err(cell_error(key.and_then(|k| row.cell(k)), table, column, e)),
    }
}

/// A row of `width` cells, too short for its table's columns (for the code of
/// `#[derive(Table)]`).
#[doc(hidden)]
#[cold]
#[inline(never)]
pub fn missing_cell(width: usize, table: &str, column: &str) -> Error {
    Error::Database {
        message: format!(
            "the backend returned a row of {width} columns for `{table}`, without `{column}`"
        ),
    }
}

/// The error of a cell that does not convert, naming the row's key (its cell `key`, unless
/// the failing cell is the key) (for [`decode_cell`] and the code of `#[derive(Table)]`), out
/// of the way of the conversion. Not generic over the row, so that it exists once.
#[doc(hidden)]
#[cold]
#[inline(never)]
pub fn cell_error(
    key: Option<Cell<'_>>,
    table: &str,
    column: &str,
    error: crate::value::ConvertError,
) -> Error {
    let key = key.map(Cell::to_value);
    Error::decode_row(table, column, key.as_ref(), error)
}
