//! Result rows read in place. A backend that can lend each row while it steps through a
//! statement ([`SqlBackend::execute_rows`](crate::SqlBackend::execute_rows)) lets records
//! decode straight from it by column position ([`Table::decode_row`]): no [`Value`] per cell,
//! no result vector, no column names. Raw and dynamic queries keep the [`Value`]-based
//! [`QueryResult`](crate::QueryResult).

use crate::backend::MaybeSendSync;
use crate::error::{Error, Result};
#[cfg(not(target_arch = "wasm32"))]
use crate::schema::{Table, TableDef};
use crate::value::{FromValue, Value};

/// One cell of a result row, borrowed from the backend for as long as the row is lent.
///
/// ```
/// use sonic_db_core::row::Cell;
/// use sonic_db_core::Value;
/// assert_eq!(Cell::Text("hi").to_value(), Value::Text("hi".into()));
/// assert_eq!(Cell::from(&Value::Integer(7)), Cell::Integer(7));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// SQL `NULL`.
    Null,
    /// An INTEGER.
    Integer(i64),
    /// A REAL.
    Real(f64),
    /// A TEXT that is valid UTF-8 (a backend hands invalid UTF-8 on as a [`Cell::Blob`]).
    Text(&'a str),
    /// A BLOB.
    Blob(&'a [u8]),
}

impl Cell<'_> {
    /// The owned [`Value`] of the cell.
    ///
    /// ```
    /// use sonic_db_core::row::Cell;
    /// use sonic_db_core::Value;
    /// assert_eq!(Cell::Blob(&[1, 2]).to_value(), Value::Blob(vec![1, 2]));
    /// assert_eq!(Cell::Null.to_value(), Value::Null);
    /// ```
    #[inline]
    pub fn to_value(self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Integer(i) => Value::Integer(i),
            Cell::Real(r) => Value::Real(r),
            Cell::Text(s) => Value::Text(s.to_owned()),
            Cell::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl<'a> From<&'a Value> for Cell<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::Null => Cell::Null,
            Value::Integer(i) => Cell::Integer(*i),
            Value::Real(r) => Cell::Real(*r),
            Value::Text(s) => Cell::Text(s),
            Value::Blob(b) => Cell::Blob(b),
        }
    }
}

/// A result row lent by a backend while it is being read.
///
/// A vector of values is one, which is how rows already in memory decode the same way:
///
/// ```
/// use sonic_db_core::row::{Cell, Row};
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

/// Receives the rows of one statement, one at a time, while the backend steps through it.
pub trait RowSink: MaybeSendSync {
    /// Takes one row; an error stops the statement and is returned by the backend.
    fn row(&mut self, row: &dyn Row) -> Result<()>;
}

/// What [`SqlBackend::execute_rows`](crate::SqlBackend::execute_rows) did with the result.
#[derive(Debug)]
pub enum RowsRead {
    /// Every row went to the sink.
    Streamed,
    /// The backend cannot lend rows: here is the whole result, for the caller to decode.
    Returned(crate::backend::QueryResult),
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
    row: &dyn Row,
    table: &str,
    column: &str,
    index: usize,
    key: Option<usize>,
) -> Result<T> {
    let Some(cell) = row.cell(index) else {
        return Err(missing_cell(row, table, column));
    };
    match T::from_cell(cell) {
        Ok(value) => Ok(value),
        Err(e) => Err(cell_error(row, table, column, key, e)),
    }
}

/// A row too short for its table's columns (for the code of `#[derive(Table)]`).
#[doc(hidden)]
#[cold]
#[inline(never)]
pub fn missing_cell(row: &dyn Row, table: &str, column: &str) -> Error {
    Error::Database {
        message: format!(
            "the backend returned a row of {} columns for `{table}`, without `{column}`",
            row.width()
        ),
    }
}

/// The error of a cell that does not convert, naming the row's key (for [`decode_cell`] and
/// the code of `#[derive(Table)]`), out of the way of the conversion.
#[doc(hidden)]
#[cold]
#[inline(never)]
pub fn cell_error(
    row: &dyn Row,
    table: &str,
    column: &str,
    key: Option<usize>,
    error: crate::value::ConvertError,
) -> Error {
    let key = key.and_then(|k| row.cell(k)).map(Cell::to_value);
    Error::decode_row(table, column, key.as_ref(), error)
}

/// Collects rows whose cells are exactly `T`'s columns, in definition order, into records.
/// (Not on wasm32, where no backend lends rows: see `Db::execute_records`.)
#[cfg(not(target_arch = "wasm32"))]
pub(crate) struct Records<T> {
    pub(crate) records: Vec<T>,
}

#[cfg(not(target_arch = "wasm32"))]
impl<T> Records<T> {
    pub(crate) fn new() -> Self {
        Records {
            records: Vec::new(),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<T: Table> RowSink for Records<T> {
    fn row(&mut self, row: &dyn Row) -> Result<()> {
        // The rows of one statement all have its width: the first one tells.
        if self.records.is_empty() {
            check_width(row, T::DEF)?;
        }
        self.records.push(T::decode_row(row)?);
        Ok(())
    }
}

/// A row of a query of `table` must hold exactly its columns: a misbehaving backend (or a
/// table changed under a cached statement) is an error, not a misread.
#[cfg(not(target_arch = "wasm32"))]
fn check_width(row: &dyn Row, table: &TableDef) -> Result<()> {
    let width = table.columns.len();
    if row.width() == width {
        return Ok(());
    }
    Err(Error::Database {
        message: format!(
            "the backend returned a row of {} columns for a query of `{}`, expected {width}",
            row.width(),
            table.name
        ),
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn a_short_row_is_an_error_naming_the_table() {
        const TABLE: TableDef = TableDef {
            name: "notes",
            rust_name: "Note",
            columns: &[],
            primary_key: 0,
            relations: &[],
        };
        let row = vec![Value::Integer(1)];
        let err = check_width(&row, &TABLE).unwrap_err().to_string();
        assert!(
            err.contains("1 columns for a query of `notes`, expected 0"),
            "{err}"
        );
    }
}
