//! Writing SQL text: identifier quoting, placeholders, and the platform limits every statement
//! is checked against before it leaves Sonic.

use crate::backend::{Capabilities, Statement};
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, TableDef};
use crate::value::Value;

/// SQL text under construction and the values bound to its `?` placeholders, in order.
///
/// Values only ever enter through [`SqlWriter::param`], so no value can end up in the text
/// (the one number written into it is a `LIMIT`/`OFFSET` count, [`SqlWriter::count`]).
#[derive(Debug, Default)]
pub(crate) struct SqlWriter {
    sql: String,
    params: Vec<Value>,
}

impl SqlWriter {
    pub(crate) fn new() -> Self {
        SqlWriter {
            // Allocated by the first `push`, at the size it needs: a memoized head of a
            // joined select is longer than a guess would be.
            sql: String::new(),
            params: Vec::new(),
        }
    }

    /// SQL keywords and punctuation (never data).
    pub(crate) fn push(&mut self, sql: &str) {
        if self.sql.capacity() == 0 {
            // Room for what usually follows the first piece (a WHERE clause, an ORDER BY).
            self.sql = String::with_capacity(sql.len().max(64) + 96);
        }
        self.sql.push_str(sql);
    }

    /// A quoted identifier.
    pub(crate) fn ident(&mut self, name: &str) {
        push_ident(&mut self.sql, name);
    }

    /// A column, qualified by a table alias when the statement has several scopes.
    pub(crate) fn column(&mut self, qualifier: Option<&str>, name: &str) {
        if let Some(q) = qualifier {
            push_ident(&mut self.sql, q);
            self.sql.push('.');
        }
        push_ident(&mut self.sql, name);
    }

    /// `"a", "b", …`: every column of the table, in definition order (the order
    /// [`crate::Table::decode`] expects).
    pub(crate) fn column_list(&mut self, def: &TableDef, qualifier: Option<&str>) {
        for (i, column) in def.columns.iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.column(qualifier, column.name);
        }
    }

    /// A placeholder bound to `value`.
    pub(crate) fn param(&mut self, value: Value) {
        self.sql.push('?');
        self.params.push(value);
    }

    /// A `LIMIT`/`OFFSET` count as an integer literal (clamped to `i64::MAX`): the one number
    /// Sonic writes into the text. It is a `u64` of the typed API, never text from outside, and
    /// SQLite plans a literal LIMIT once, whereas a bound one re-prepares the statement at every
    /// rebind. The text then varies with the count; the statement cache holds one entry per
    /// distinct count (a handful in practice: page sizes, `1` for `first`).
    pub(crate) fn count(&mut self, n: u64) {
        // Digits by hand: cheaper than `fmt` on a path every `first()` takes.
        let mut n = count_literal(n).unsigned_abs();
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &digit in &digits[start..] {
            self.sql.push(char::from(digit));
        }
    }

    /// `?, ?, ?` bound to `values`.
    pub(crate) fn params(&mut self, values: impl IntoIterator<Item = Value>) {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.param(value);
        }
    }

    /// Parameters bound so far.
    pub(crate) fn param_count(&self) -> usize {
        self.params.len()
    }

    pub(crate) fn finish(self) -> Statement {
        Statement {
            sql: self.sql,
            params: self.params,
        }
    }
}

/// Appends `name` as a double-quoted identifier, doubling any `"` inside it.
pub(crate) fn push_ident(out: &mut String, name: &str) {
    out.push('"');
    if name.contains('"') {
        for part in name.split_inclusive('"') {
            out.push_str(part);
            if part.ends_with('"') {
                out.push('"');
            }
        }
    } else {
        out.push_str(name);
    }
    out.push('"');
}

/// The column at `index`, or an error instead of a panic when a hand-built handle points
/// outside the table.
pub(crate) fn column_def(def: &'static TableDef, index: usize) -> Result<&'static ColumnDef> {
    def.columns.get(index).ok_or_else(|| {
        Error::InvalidQuery(format!(
            "table `{}` has {} columns; there is no column number {index}",
            def.name,
            def.columns.len()
        ))
    })
}

/// Refuses a statement the backend would refuse, before it is sent: D1 rejects more than 100
/// parameters or 100 KB of SQL, and a refusal inside a batch would waste the round trip.
///
/// Every bound value is checked too (its size, and for integers the exact range), by its
/// position: the builders check the values they bind for a column first, naming it
/// ([`check_column_value`]); this catches the rest (raw SQL, `LIMIT`s, JSON lists).
pub(crate) fn check_limits(statement: &Statement, capabilities: &Capabilities) -> Result<()> {
    if statement.params.len() > capabilities.max_params {
        return Err(Error::Limit(format!(
            "a statement would bind {} parameters; the backend allows {}",
            statement.params.len(),
            capabilities.max_params
        )));
    }
    if statement.sql.len() > capabilities.max_sql_len {
        return Err(Error::Limit(format!(
            "a statement's SQL text would be {} bytes long; the backend allows {}",
            statement.sql.len(),
            capabilities.max_sql_len
        )));
    }
    for (i, value) in statement.params.iter().enumerate() {
        if let Some(problem) = value_problem(value, capabilities) {
            return Err(Error::Limit(format!("parameter {}: {problem}", i + 1)));
        }
    }
    Ok(())
}

/// What the backend cannot bind about `value`, if anything: an integer beyond
/// [`Capabilities::max_exact_integer`], or a TEXT/BLOB beyond
/// [`Capabilities::max_value_bytes`].
fn value_problem(value: &Value, capabilities: &Capabilities) -> Option<String> {
    match value {
        Value::Integer(i) if !capabilities.exact_integer(*i) => Some(format!(
            "INTEGER {i} is outside ±{}, the range of integers the backend binds exactly \
             (D1's values cross JavaScript as doubles: ±(2^53 − 1)); nothing was sent",
            capabilities.max_exact_integer.unwrap_or(i64::MAX)
        )),
        Value::Text(s) if s.len() > capabilities.max_value_bytes => Some(format!(
            "a TEXT of {} bytes exceeds the backend's limit of {} bytes per value; nothing was \
             sent",
            s.len(),
            capabilities.max_value_bytes
        )),
        Value::Blob(b) if b.len() > capabilities.max_value_bytes => Some(format!(
            "a BLOB of {} bytes exceeds the backend's limit of {} bytes per value; nothing was \
             sent",
            b.len(),
            capabilities.max_value_bytes
        )),
        _ => None,
    }
}

/// Refuses a value bound for `column` that the backend cannot take (see [`check_limits`]),
/// naming the table and column.
pub(crate) fn check_column_value(
    table: &TableDef,
    column: &ColumnDef,
    value: &Value,
    capabilities: &Capabilities,
) -> Result<()> {
    match value_problem(value, capabilities) {
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
pub(crate) fn check_row(
    table: &TableDef,
    row: &[Value],
    capabilities: &Capabilities,
) -> Result<()> {
    for (column, value) in table.columns.iter().zip(row) {
        check_column_value(table, column, value, capabilities)?;
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

/// The size of the record SQLite builds from `row` (its header of serial types, then the
/// values), as its file format describes it, before type affinity (which may turn a value
/// into another storage class) applies.
pub(crate) fn record_size(row: &[Value]) -> usize {
    fn varint_len(n: u64) -> usize {
        let bits = 64 - n.leading_zeros() as usize;
        bits.div_ceil(7).clamp(1, 9)
    }
    let mut header = 0;
    let mut body = 0;
    for value in row {
        let (serial_type, len) = match value {
            Value::Null => (0, 0),
            Value::Integer(0) => (8, 0),
            Value::Integer(1) => (9, 0),
            Value::Integer(i) => match *i {
                -0x80..=0x7f => (1, 1),
                -0x8000..=0x7fff => (2, 2),
                -0x80_0000..=0x7f_ffff => (3, 3),
                -0x8000_0000..=0x7fff_ffff => (4, 4),
                -0x8000_0000_0000..=0x7fff_ffff_ffff => (5, 6),
                _ => (6, 8),
            },
            Value::Real(_) => (7, 8),
            Value::Blob(b) => (12 + 2 * b.len() as u64, b.len()),
            Value::Text(s) => (13 + 2 * s.len() as u64, s.len()),
        };
        header += varint_len(serial_type);
        body += len;
    }
    // The header starts with its own size, which counts itself.
    let header = header + varint_len((header + varint_len(header as u64)) as u64);
    header + body
}

/// Refuses a batch with more statements than the backend runs atomically.
pub(crate) fn check_batch(statements: &[Statement], capabilities: &Capabilities) -> Result<()> {
    if statements.len() > capabilities.max_batch_statements {
        return Err(Error::Limit(format!(
            "the work needs {} statements in one atomic batch; the backend allows {}",
            statements.len(),
            capabilities.max_batch_statements
        )));
    }
    statements
        .iter()
        .try_for_each(|s| check_limits(s, capabilities))
}

/// A `LIMIT`/`OFFSET` operand: SQLite reads them as signed 64-bit integers, so counts beyond
/// `i64::MAX` are clamped to it, which changes nothing (no table holds 2^63 rows).
pub(crate) fn count_literal(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_escaped() {
        let mut out = String::new();
        push_ident(&mut out, r#"we"ird""name"#);
        assert_eq!(out, r#""we""ird""""name""#);
        out.clear();
        push_ident(&mut out, "plain");
        assert_eq!(out, r#""plain""#);
        out.clear();
        push_ident(&mut out, r#"""#);
        assert_eq!(out, r#""""""#);
    }

    #[test]
    fn record_sizes_follow_the_sqlite_file_format() {
        // Header: its size (1 byte) and one serial type (1 byte) per column.
        assert_eq!(record_size(&[]), 1);
        assert_eq!(record_size(&[Value::Null]), 2);
        assert_eq!(record_size(&[Value::Integer(0), Value::Integer(1)]), 3);
        assert_eq!(record_size(&[Value::Integer(-128)]), 3);
        assert_eq!(record_size(&[Value::Integer(128)]), 4);
        assert_eq!(record_size(&[Value::Integer(1 << 40)]), 2 + 6);
        assert_eq!(record_size(&[Value::Integer(i64::MIN)]), 2 + 8);
        assert_eq!(record_size(&[Value::Real(0.5)]), 2 + 8);
        // TEXT of 57 bytes: serial type 13 + 2 * 57 = 127 fits one varint byte; 58 needs two.
        assert_eq!(record_size(&[Value::Text("x".repeat(57))]), 2 + 57);
        assert_eq!(record_size(&[Value::Text("x".repeat(58))]), 3 + 58);
        assert_eq!(record_size(&[Value::Blob(vec![0; 1000])]), 3 + 1000);
    }

    #[test]
    fn values_are_checked_against_the_capabilities() {
        let d1 = Capabilities::D1;
        let max = crate::backend::MAX_SAFE_INTEGER;
        for ok in [
            Value::Integer(max),
            Value::Integer(-max),
            Value::Text("x".repeat(2_000_000)),
        ] {
            assert_eq!(value_problem(&ok, &d1), None);
        }
        for bad in [
            Value::Integer(max + 1),
            Value::Integer(i64::MIN),
            Value::Text("x".repeat(2_000_001)),
            Value::Blob(vec![0; 2_000_001]),
        ] {
            assert!(value_problem(&bad, &d1).is_some(), "{bad}");
            assert_eq!(value_problem(&bad, &Capabilities::SQLITE), None, "{bad}");
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
}
