//! Writing SQL text: identifier quoting, placeholders, and the platform limits every statement
//! is checked against before it leaves Sonic.

use crate::backend::{Capabilities, Statement};
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, TableDef};
use crate::value::Value;

/// SQL text under construction and the values bound to its `?` placeholders, in order.
///
/// Values only ever enter through [`SqlWriter::param`], so no value can end up in the text.
#[derive(Debug, Default)]
pub(crate) struct SqlWriter {
    sql: String,
    params: Vec<Value>,
}

impl SqlWriter {
    pub(crate) fn new() -> Self {
        SqlWriter {
            sql: String::with_capacity(160),
            params: Vec::new(),
        }
    }

    /// SQL keywords and punctuation (never data).
    pub(crate) fn push(&mut self, sql: &str) {
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
    Ok(())
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

/// A `LIMIT`/`OFFSET` operand: SQLite reads them as signed 64-bit integers.
pub(crate) fn count_value(n: u64) -> Value {
    Value::Integer(i64::try_from(n).unwrap_or(i64::MAX))
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
}
