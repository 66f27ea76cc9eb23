//! Turning result rows into records.
//!
//! Compiled queries list columns in definition order, so rows decode by position; raw SQL
//! decodes by column name. Either way the backend's answer is checked for shape first, so a
//! misbehaving backend is an error and never an out-of-bounds panic.

#[cfg(not(target_arch = "wasm32"))]
use crate::backend::{Params, RowSink, RowsRead};
use crate::backend::{QueryResult, Statement};
use crate::db::Db;
use crate::error::{Error, Result};
#[cfg(not(target_arch = "wasm32"))]
use crate::row::Row;
use crate::schema::{Table, TableDef};
use crate::value::ConvertError;
use crate::value::Value;

/// Whether `result` is zero rows that came without their column names: D1's `batch()` only
/// names columns through the rows themselves, so an empty result of a batched statement has
/// none.
fn is_unnamed_empty(result: &QueryResult) -> bool {
    result.values.is_empty() && result.columns.is_empty()
}

/// Checks that `result` holds whole rows of `width` values.
pub(crate) fn check_shape(result: &QueryResult, width: usize, table: &TableDef) -> Result<()> {
    if is_unnamed_empty(result) {
        return Ok(());
    }
    let whole = width > 0 && result.values.len() % width == 0;
    if result.columns.len() != width || !whole {
        return Err(Error::Database {
            message: format!(
                "the backend returned {} columns and {} values for a query of `{}`, \
                 expected rows of {width} columns",
                result.columns.len(),
                result.values.len(),
                table.name
            ),
        });
    }
    Ok(())
}

/// Decodes rows whose columns are exactly `T`'s, in definition order.
pub(crate) fn decode_rows<T: Table>(result: QueryResult) -> Result<Vec<T>> {
    let width = T::DEF.columns.len();
    check_shape(&result, width, T::DEF)?;
    if result.values.is_empty() {
        return Ok(Vec::new());
    }
    let mut values = result.values;
    let mut records = Vec::with_capacity(values.len() / width.max(1));
    for row in values.chunks_exact_mut(width) {
        records.push(T::decode(row)?);
    }
    Ok(records)
}

/// Decodes rows of a raw query by column name: every column of `T` must be present once,
/// and no other column may be (a typo in an alias should not be silently dropped).
pub(crate) fn decode_by_name<T: Table>(result: QueryResult) -> Result<Vec<T>> {
    let def = T::DEF;
    if is_unnamed_empty(&result) {
        return Ok(Vec::new());
    }
    let mut positions: Vec<Option<usize>> = vec![None; def.columns.len()];
    for (position, name) in result.columns.iter().enumerate() {
        let index = def.require_column(name)?;
        match positions.get_mut(index) {
            Some(Some(_)) => {
                return Err(Error::InvalidQuery(format!(
                    "the result has the column `{name}` more than once; alias one of them"
                )))
            }
            Some(slot) => *slot = Some(position),
            None => {}
        }
    }
    let positions: Vec<usize> = positions
        .into_iter()
        .zip(def.columns)
        .map(|(position, column)| {
            position.ok_or_else(|| {
                Error::decode(
                    def.name,
                    column.name,
                    ConvertError::new("a result column of this name", "no such column"),
                )
            })
        })
        .collect::<Result<_>>()?;

    let width = result.columns.len();
    check_shape(&result, width, def)?;
    let mut values = result.values;
    let mut row_buf = vec![Value::Null; positions.len()];
    let mut records = Vec::with_capacity(values.len() / width.max(1));
    for row in values.chunks_exact_mut(width) {
        for (slot, &position) in row_buf.iter_mut().zip(&positions) {
            *slot = row
                .get_mut(position)
                .map(std::mem::take)
                .unwrap_or_default();
        }
        records.push(T::decode(&mut row_buf)?);
    }
    Ok(records)
}

/// The single integer of a `SELECT COUNT(*)`.
pub(crate) fn decode_count(result: &QueryResult, table: &TableDef) -> Result<u64> {
    match result.values.first() {
        Some(Value::Integer(n)) => u64::try_from(*n).map_err(|_| count_error(table, *n)),
        Some(Value::Real(r)) if r.fract() == 0.0 && *r >= 0.0 && *r <= 2f64.powi(53) => {
            // A backend whose numbers travel through JavaScript may report the count as a
            // float. Integral and within 2^53, so exact.
            Ok(*r as u64)
        }
        other => Err(Error::Database {
            message: format!(
                "COUNT(*) of `{}` returned {}",
                table.name,
                other.map_or_else(|| "no value".to_string(), Value::describe)
            ),
        }),
    }
}

/// The single 0 or 1 of a `SELECT EXISTS (…)`.
pub(crate) fn decode_exists(result: &QueryResult, table: &TableDef) -> Result<bool> {
    match result.values.first() {
        Some(Value::Integer(n @ (0 | 1))) => Ok(*n == 1),
        // Through JavaScript, possibly a float.
        Some(Value::Real(r)) if *r == 0.0 || *r == 1.0 => Ok(*r == 1.0),
        other => Err(Error::Database {
            message: format!(
                "EXISTS on `{}` returned {}",
                table.name,
                other.map_or_else(|| "no value".to_string(), Value::describe)
            ),
        }),
    }
}

fn count_error(table: &TableDef, n: i64) -> Error {
    Error::Database {
        message: format!("COUNT(*) of `{}` returned {n}", table.name),
    }
}

/// Runs one statement whose rows are `T`'s columns in definition order, decoded straight
/// from the rows the backend lends ([`SqlBackend::execute_rows`](crate::SqlBackend::execute_rows)),
/// or from its whole result if it returns one (also when `sonic::sql` tracing is on, so that
/// the statement event reports the result's counts).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) async fn execute_records<T: Table>(db: &Db, statement: &Statement) -> Result<Vec<T>> {
    read_records(db, &statement.sql, Params::Values(&statement.params), 0).await
}

/// [`execute_records`] of `sql` with `params` not yet in a [`Statement`] (borrowed from the
/// records an insert writes), room made for `expected` records (an insert's count).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) async fn read_records<T: Table>(
    db: &Db,
    sql: &str,
    params: Params<'_>,
    expected: usize,
) -> Result<Vec<T>> {
    let mut sink = Records::<T> {
        records: Vec::with_capacity(expected),
    };
    let read = match db.execute_into_now(sql, params, &mut sink) {
        Some(read) => read?,
        None => db.execute_into_later(sql, params, &mut sink).await?,
    };
    match read {
        RowsRead::Streamed { .. } => Ok(sink.records),
        RowsRead::Returned(result) => decode_rows::<T>(result),
    }
}

/// The awaited rest of a query that first tried to run without a future ([`records_now`]):
/// boxed natively, so that the query's own future stays small (callers move it into place, at
/// ≈ 150 instructions per kilobyte) while the in-process path never builds the rest. On
/// wasm32 the rest is the only path, and boxing it would add an allocation and save nothing.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn later<F: std::future::Future>(future: F) -> std::pin::Pin<Box<F>> {
    Box::pin(future)
}

/// See the native `later`: on wasm32, the future itself.
#[cfg(target_arch = "wasm32")]
pub(crate) fn later<F: std::future::Future>(future: F) -> F {
    future
}

/// [`execute_records`] without a future, when the backend runs the statement in-process
/// ([`Db::execute_checked_now`]: `statement` is one of Sonic's, already checked against the
/// backend's limits); `None` when it must be awaited.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn records_now<T: Table>(
    db: &Db,
    sql: &str,
    params: Params<'_>,
) -> Option<Result<Vec<T>>> {
    let mut sink = Records::<T>::new();
    Some(match db.execute_checked_now(sql, params, &mut sink)? {
        Ok(RowsRead::Streamed { .. }) => Ok(sink.records),
        Ok(RowsRead::Returned(result)) => decode_rows::<T>(result),
        Err(e) => Err(e),
    })
}

/// [`execute_record`] without a future, as [`records_now`].
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn record_now<T: Table>(
    db: &Db,
    sql: &str,
    params: Params<'_>,
) -> Option<Result<Option<T>>> {
    let mut sink = First::<T>(None);
    Some(match db.execute_checked_now(sql, params, &mut sink)? {
        Ok(RowsRead::Streamed { .. }) => Ok(sink.0),
        Ok(RowsRead::Returned(result)) => {
            decode_rows::<T>(result).map(|rows| rows.into_iter().next())
        }
        Err(e) => Err(e),
    })
}

/// On wasm32, the whole result: no backend there lends rows (D1's come as one JavaScript
/// result), so a Worker does not carry the typed path's code.
#[cfg(target_arch = "wasm32")]
pub(crate) async fn execute_records<T: Table>(db: &Db, statement: &Statement) -> Result<Vec<T>> {
    decode_rows::<T>(db.execute(statement).await?)
}

/// [`execute_records`] of a statement that matches one row at most (a find by key): its
/// record, decoded without a vector.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) async fn execute_record<T: Table>(db: &Db, statement: &Statement) -> Result<Option<T>> {
    let mut sink = First::<T>(None);
    let params = Params::Values(&statement.params);
    let read = match db.execute_into_now(&statement.sql, params, &mut sink) {
        Some(read) => read?,
        None => {
            db.execute_into_later(&statement.sql, params, &mut sink)
                .await?
        }
    };
    match read {
        RowsRead::Streamed { .. } => Ok(sink.0),
        RowsRead::Returned(result) => Ok(decode_rows::<T>(result)?.into_iter().next()),
    }
}

/// [`execute_records`] of a statement that matches one row at most (a find by key).
#[cfg(target_arch = "wasm32")]
pub(crate) async fn execute_record<T: Table>(db: &Db, statement: &Statement) -> Result<Option<T>> {
    Ok(execute_records::<T>(db, statement)
        .await?
        .into_iter()
        .next())
}

/// Collects rows whose cells are exactly `T`'s columns, in definition order, into records.
/// (Not on wasm32, where no backend lends rows: see `Db::execute_records`.)
#[cfg(not(target_arch = "wasm32"))]
struct Records<T> {
    records: Vec<T>,
}

#[cfg(not(target_arch = "wasm32"))]
impl<T> Records<T> {
    fn new() -> Self {
        Records {
            records: Vec::new(),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<T: Table> Records<T> {
    #[inline]
    fn take<R: Row + ?Sized>(&mut self, row: &R) -> Result<()> {
        // The rows of one statement all have its width: the first one tells.
        if self.records.is_empty() {
            check_width(row.width(), T::DEF.columns.len(), T::DEF)?;
            make_room(&mut self.records);
        }
        self.records.push(T::decode_row(row)?);
        Ok(())
    }
}

/// Room for the first records of an empty vector at once, as `collect` makes it: a vector's
/// first `push` would take its slower growing path (≈ 40 instructions more per query).
#[cfg(not(target_arch = "wasm32"))]
#[inline]
pub(crate) fn make_room<T>(records: &mut Vec<T>) {
    if records.capacity() == 0 {
        *records = Vec::with_capacity(4);
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<T: Table> RowSink for Records<T> {
    fn row(&mut self, row: &dyn Row) -> Result<()> {
        self.take(row)
    }

    #[cfg(feature = "rusqlite")]
    fn sqlite_row(&mut self, row: &rusqlite::Row<'_>) -> Result<()> {
        self.take(row)
    }
}

/// Decodes the first row into a record (the statement matches one at most).
#[cfg(not(target_arch = "wasm32"))]
struct First<T>(Option<T>);

#[cfg(not(target_arch = "wasm32"))]
impl<T: Table> First<T> {
    #[inline]
    fn take<R: Row + ?Sized>(&mut self, row: &R) -> Result<()> {
        if self.0.is_none() {
            check_width(row.width(), T::DEF.columns.len(), T::DEF)?;
            self.0 = Some(T::decode_row(row)?);
        }
        Ok(())
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<T: Table> RowSink for First<T> {
    fn row(&mut self, row: &dyn Row) -> Result<()> {
        self.take(row)
    }

    fn first_only(&self) -> bool {
        true
    }

    #[cfg(feature = "rusqlite")]
    fn sqlite_row(&mut self, row: &rusqlite::Row<'_>) -> Result<()> {
        self.take(row)
    }
}

/// A row of a query of `table` must hold exactly the `expected` columns: a misbehaving backend
/// (or a table changed under a cached statement) is an error, not a misread.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn check_width(width: usize, expected: usize, table: &TableDef) -> Result<()> {
    if width == expected {
        return Ok(());
    }
    Err(Error::Database {
        message: format!(
            "the backend returned a row of {width} columns for a query of `{}`, expected \
             {expected}",
            table.name
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::EMPTY_NOTES as TABLE;

    #[test]
    fn a_short_row_is_an_error_naming_the_table() {
        let err = check_width(1, 0, &TABLE).unwrap_err().to_string();
        assert!(
            err.contains("1 columns for a query of `notes`, expected 0"),
            "{err}"
        );
    }

    #[test]
    fn an_empty_result_without_column_names_is_zero_rows() {
        // What D1's batch() returns for a statement that matched nothing.
        assert!(check_shape(&QueryResult::default(), 3, &TABLE).is_ok());
    }

    #[test]
    fn values_without_column_names_are_still_a_shape_error() {
        let result = QueryResult {
            values: vec![Value::Integer(1)],
            ..QueryResult::default()
        };
        let error = check_shape(&result, 1, &TABLE).unwrap_err().to_string();
        assert!(error.contains("0 columns and 1 values"), "{error}");
    }
}
