//! The platform limits every statement is checked against before it leaves Sonic, driven by
//! the backend's [`Capabilities`]: parameters and SQL length per statement, statements per
//! batch, the size of each value and row, and the range of exact integers.

use crate::backend::Params;
use crate::backend::{Capabilities, Statement};
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, TableDef};
use crate::value::{Cell, Value};

/// Refuses a statement the backend would refuse, before it is sent: D1 rejects more than 100
/// parameters or 100 KB of SQL, and a refusal inside a batch would waste the round trip.
///
/// Every bound value is checked too (its size, and for integers the exact range), by its
/// position: the builders check the values they bind for a column first, naming it
/// (`check_column_value`); this catches the rest (raw SQL, `LIMIT`s, JSON lists).
pub fn check_statement(statement: &Statement, capabilities: &Capabilities) -> Result<()> {
    check_params(
        &statement.sql,
        Params::Values(&statement.params),
        capabilities,
    )
}

/// [`check_statement`] of `sql` with `params` not yet in a [`Statement`] (borrowed from the
/// records an insert writes).
pub(crate) fn check_params(
    sql: &str,
    params: Params<'_>,
    capabilities: &Capabilities,
) -> Result<()> {
    if params.len() > capabilities.max_params {
        return Err(Error::Limit(format!(
            "a statement would have {} bound parameters; the backend allows {}",
            params.len(),
            capabilities.max_params
        )));
    }
    if sql.len() > capabilities.max_sql_len {
        return Err(Error::Limit(format!(
            "a statement's SQL text would be {} bytes long; the backend allows {}",
            sql.len(),
            capabilities.max_sql_len
        )));
    }
    // All values together within the limit: none beyond it (the usual case, one pass).
    let bytes = params
        .cells()
        .fold(0_usize, |sum, cell| sum.saturating_add(payload_len(cell)));
    if bytes <= capabilities.max_value_bytes {
        return Ok(());
    }
    for (i, cell) in params.cells().enumerate() {
        if let Some(problem) = value_problem(cell, capabilities) {
            return Err(Error::Limit(format!("parameter {}: {problem}", i + 1)));
        }
    }
    Ok(())
}

/// What the backend cannot bind about `value`, if anything: a TEXT/BLOB beyond
/// [`Capabilities::max_value_bytes`]. (Every `i64` binds: beyond
/// [`Capabilities::max_exact_integer`] the backend binds the integer as its decimal text, see
/// `crate::sql::exact_integers`.)
pub(crate) fn value_problem(value: Cell<'_>, capabilities: &Capabilities) -> Option<String> {
    match value {
        Cell::Text(s) if s.len() > capabilities.max_value_bytes => Some(format!(
            "a TEXT of {} bytes exceeds the backend's limit of {} bytes per value; nothing was \
             sent",
            s.len(),
            capabilities.max_value_bytes
        )),
        Cell::Blob(b) if b.len() > capabilities.max_value_bytes => Some(format!(
            "a BLOB of {} bytes exceeds the backend's limit of {} bytes per value; nothing was \
             sent",
            b.len(),
            capabilities.max_value_bytes
        )),
        _ => None,
    }
}

/// Refuses a value bound for `column` that the backend cannot take (see [`check_statement`]),
/// naming the table and column.
///
/// Inline up to the length test: a key or an operand is usually small, and only an
/// oversized one needs the message.
#[inline]
pub(crate) fn check_column_value(
    table: &TableDef,
    column: &ColumnDef,
    value: &Value,
    capabilities: &Capabilities,
) -> Result<()> {
    if payload_len(Cell::from(value)) <= capabilities.max_value_bytes {
        return Ok(());
    }
    column_value_error(table, column, value, capabilities)
}

#[cold]
fn column_value_error(
    table: &TableDef,
    column: &ColumnDef,
    value: &Value,
    capabilities: &Capabilities,
) -> Result<()> {
    match value_problem(Cell::from(value), capabilities) {
        None => Ok(()),
        Some(problem) => Err(Error::Limit(format!(
            "`{}`.`{}`: {problem}",
            table.name, column.name
        ))),
    }
}

/// Refuses a whole row of `table` (its values in column order) that the backend cannot
/// store: any value [`check_column_value`] refuses, or a row whose record would exceed
/// [`Capabilities::max_value_bytes`] (SQLite bounds a row by the same length limit).
pub(crate) fn check_row<'c>(
    table: &TableDef,
    row: impl Iterator<Item = Cell<'c>> + Clone,
    capabilities: &Capabilities,
) -> Result<()> {
    // A record is its values' bytes plus at most 9 per value and 9 for the header's length:
    // within the limit by that bound, neither a value nor the row can exceed it.
    let (columns, bytes) = row.clone().fold((0, 0_usize), |(n, bytes), cell| {
        (n + 1, bytes.saturating_add(payload_len(cell)))
    });
    if bytes.saturating_add(9 * (columns + 1)) <= capabilities.max_value_bytes {
        return Ok(());
    }
    for (column, value) in table.columns.iter().zip(row.clone()) {
        if let Some(problem) = value_problem(value, capabilities) {
            return Err(Error::Limit(format!(
                "`{}`.`{}`: {problem}",
                table.name, column.name
            )));
        }
    }
    let size = record_size(row);
    if size > capabilities.max_value_bytes {
        return Err(Error::Limit(format!(
            "a `{}` row would be a record of {size} bytes; the backend stores rows of at most \
             {} bytes; nothing was sent",
            table.name, capabilities.max_value_bytes
        )));
    }
    Ok(())
}

/// The bytes of a TEXT or BLOB cell, 8 for a number (the most a record spends on one).
fn payload_len(cell: Cell<'_>) -> usize {
    match cell {
        Cell::Null => 0,
        Cell::Integer(_) | Cell::Real(_) => 8,
        Cell::Text(s) => s.len(),
        Cell::Blob(b) => b.len(),
    }
}

/// The size of the record SQLite builds from `row` (its header of serial types, then the
/// values), as its file format describes it, before type affinity (which may turn a value
/// into another storage class) applies.
pub(crate) fn record_size<'c>(row: impl Iterator<Item = Cell<'c>>) -> usize {
    fn varint_len(n: u64) -> usize {
        let bits = 64 - n.leading_zeros() as usize;
        bits.div_ceil(7).clamp(1, 9)
    }
    let mut header = 0;
    let mut body = 0;
    for value in row {
        let (serial_type, len) = match value {
            Cell::Null => (0, 0),
            Cell::Integer(0) => (8, 0),
            Cell::Integer(1) => (9, 0),
            Cell::Integer(i) => match i {
                -0x80..=0x7f => (1, 1),
                -0x8000..=0x7fff => (2, 2),
                -0x80_0000..=0x7f_ffff => (3, 3),
                -0x8000_0000..=0x7fff_ffff => (4, 4),
                -0x8000_0000_0000..=0x7fff_ffff_ffff => (5, 6),
                _ => (6, 8),
            },
            Cell::Real(_) => (7, 8),
            Cell::Blob(b) => (12 + 2 * b.len() as u64, b.len()),
            Cell::Text(s) => (13 + 2 * s.len() as u64, s.len()),
        };
        header += varint_len(serial_type);
        body += len;
    }
    // The header starts with its own size, which counts itself.
    let header = header + varint_len((header + varint_len(header as u64)) as u64);
    header + body
}

/// Refuses a batch with more statements than the backend runs atomically.
pub fn check_batch(statements: &[Statement], capabilities: &Capabilities) -> Result<()> {
    if statements.len() > capabilities.max_batch_statements {
        return Err(Error::Limit(format!(
            "the work needs {} statements in one atomic batch; the backend allows {}",
            statements.len(),
            capabilities.max_batch_statements
        )));
    }
    statements
        .iter()
        .try_for_each(|s| check_statement(s, capabilities))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::writer::{count_literal, SqlWriter};

    fn size(row: &[Value]) -> usize {
        record_size(row.iter().map(Cell::from))
    }

    #[test]
    fn record_sizes_follow_the_sqlite_file_format() {
        // Header: its size (1 byte) and one serial type (1 byte) per column.
        assert_eq!(size(&[]), 1);
        assert_eq!(size(&[Value::Null]), 2);
        assert_eq!(size(&[Value::Integer(0), Value::Integer(1)]), 3);
        assert_eq!(size(&[Value::Integer(-128)]), 3);
        assert_eq!(size(&[Value::Integer(128)]), 4);
        assert_eq!(size(&[Value::Integer(1 << 40)]), 2 + 6);
        assert_eq!(size(&[Value::Integer(i64::MIN)]), 2 + 8);
        assert_eq!(size(&[Value::Real(0.5)]), 2 + 8);
        // TEXT of 57 bytes: serial type 13 + 2 * 57 = 127 fits one varint byte; 58 needs two.
        assert_eq!(size(&[Value::Text("x".repeat(57))]), 2 + 57);
        assert_eq!(size(&[Value::Text("x".repeat(58))]), 3 + 58);
        assert_eq!(size(&[Value::Blob(vec![0; 1000])]), 3 + 1000);
    }

    #[test]
    fn values_are_checked_against_the_capabilities() {
        let d1 = Capabilities::D1;
        let max = crate::backend::MAX_SAFE_INTEGER;
        for ok in [
            Value::Integer(max),
            Value::Integer(-max),
            // Beyond ±(2^53 − 1) too: bound as text under a cast (#12 item 3).
            Value::Integer(max + 1),
            Value::Integer(i64::MIN),
            Value::Integer(i64::MAX),
            Value::Text("x".repeat(2_000_000)),
        ] {
            assert_eq!(value_problem(Cell::from(&ok), &d1), None);
        }
        for bad in [
            Value::Text("x".repeat(2_000_001)),
            Value::Blob(vec![0; 2_000_001]),
        ] {
            assert!(value_problem(Cell::from(&bad), &d1).is_some(), "{bad}");
            assert_eq!(
                value_problem(Cell::from(&bad), &Capabilities::SQLITE),
                None,
                "{bad}"
            );
        }
        assert_eq!(count_literal(u64::MAX), i64::MAX);
        assert_eq!(count_literal(1 << 63), i64::MAX);
        assert_eq!(count_literal(7), 7);
        let mut w = SqlWriter::new();
        w.count(u64::MAX);
        w.push(" ");
        w.count(0);
        let statement = w.finish();
        assert_eq!(statement.sql, "9223372036854775807 0");
        assert!(statement.params.is_empty());
    }

    #[test]
    fn rows_are_refused_by_their_record_size_whatever_the_shortcut() {
        use crate::schema::ColumnDef;
        use crate::value::SqlType;
        const TABLE: TableDef = TableDef {
            name: "notes",
            rust_name: "Note",
            columns: &[
                ColumnDef::new("id", "id", SqlType::Integer),
                ColumnDef::new("title", "title", SqlType::Text),
                ColumnDef::new("body", "body", SqlType::Text),
            ],
            primary_key: &[0],
            relations: &[],
            constraints: crate::schema::Constraints::NONE,
        };
        let d1 = Capabilities::D1;
        let max = d1.max_value_bytes;
        let check = |title: usize, body: usize| {
            let row = [
                Value::Integer(1),
                Value::Text("t".repeat(title)),
                Value::Text("b".repeat(body)),
            ];
            check_row(&TABLE, row.iter().map(Cell::from), &d1)
        };
        // Under the bound (bytes + 9 per value + 9): accepted without the exact size.
        assert!(check(10, max - 10 - 8 - 36).is_ok());
        // Above the bound but within the limit: the exact size decides, and accepts.
        let row = |body: usize| {
            let title = Value::Text("t".repeat(10));
            size(&[Value::Integer(1), title, Value::Text("b".repeat(body))])
        };
        let exact = max - 100 + (max - row(max - 100));
        assert_eq!(row(exact), max);
        assert!(check(10, exact).is_ok());
        // One byte more: the row is refused, by the table's name.
        let err = check(11, exact).unwrap_err().to_string();
        assert!(err.contains("a `notes` row would be a record of"), "{err}");
        // One value beyond the limit names its column.
        let err = check(0, max + 1).unwrap_err().to_string();
        assert!(err.contains("`notes`.`body`"), "{err}");
    }
}
