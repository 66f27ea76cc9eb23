//! Writing SQL text: identifier quoting, placeholders and `LIMIT` counts.

use crate::backend::Statement;
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
    /// Only the values are wanted: the text is known already (memoized by its shape, see
    /// `crate::sql::shape`), so every text method does nothing.
    params_only: bool,
}

impl SqlWriter {
    pub(crate) fn new() -> Self {
        SqlWriter {
            // Allocated by the first `push`, at the size it needs: a memoized head of a
            // joined select is longer than a guess would be.
            sql: String::new(),
            params: Vec::new(),
            params_only: false,
        }
    }

    /// A writer that collects the values bound, in order, and no text: the same code that
    /// writes a statement then binds a memoized text of it.
    pub(crate) fn params_only() -> Self {
        SqlWriter {
            params_only: true,
            ..SqlWriter::new()
        }
    }

    /// The text written so far, unless only values are collected.
    fn text(&mut self) -> Option<&mut String> {
        (!self.params_only).then_some(&mut self.sql)
    }

    /// SQL keywords and punctuation (never data).
    pub(crate) fn push(&mut self, sql: &str) {
        let Some(text) = self.text() else { return };
        if text.capacity() == 0 {
            // Room for what usually follows the first piece (a WHERE clause, an ORDER BY).
            *text = String::with_capacity(sql.len().max(64) + 96);
        }
        text.push_str(sql);
    }

    /// A quoted identifier.
    pub(crate) fn ident(&mut self, name: &str) {
        if let Some(text) = self.text() {
            push_ident(text, name);
        }
    }

    /// A column, qualified by a table alias when the statement has several scopes.
    pub(crate) fn column(&mut self, qualifier: Option<&str>, name: &str) {
        let Some(text) = self.text() else { return };
        if let Some(q) = qualifier {
            push_ident(text, q);
            text.push('.');
        }
        push_ident(text, name);
    }

    /// `"a", "b", …`: every column of the table, in definition order (the order
    /// [`crate::Table::decode`] expects).
    pub(crate) fn column_list(&mut self, def: &TableDef, qualifier: Option<&str>) {
        for (i, column) in def.columns.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.column(qualifier, column.name);
        }
    }

    /// A placeholder bound to `value`.
    pub(crate) fn param(&mut self, value: Value) {
        if let Some(text) = self.text() {
            text.push('?');
        }
        self.params.push(value);
    }

    /// A `LIMIT`/`OFFSET` count as an integer literal (clamped to `i64::MAX`): the one number
    /// Sonic writes into the text. It is a `u64` of the typed API, never text from outside, and
    /// SQLite plans a literal LIMIT once, whereas a bound one re-prepares the statement at every
    /// rebind. The text then varies with the count; the statement cache holds one entry per
    /// distinct count (a handful in practice: page sizes, `1` for `first`).
    pub(crate) fn count(&mut self, n: u64) {
        if let Some(text) = self.text() {
            text.push_str(itoa::Buffer::new().format(count_literal(n)));
        }
    }

    /// Text written elsewhere with its placeholders' values (a memoized or prebuilt part).
    pub(crate) fn push_bound(&mut self, sql: &str, params: &[Value]) {
        self.push(sql);
        self.params.extend_from_slice(params);
    }

    /// `?, ?, ?` bound to `values`.
    pub(crate) fn params(&mut self, values: impl IntoIterator<Item = Value>) {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
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
            sql: self.sql.into(),
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

/// `name` as a double-quoted identifier: `users` → `"users"`, `a"b` → `"a""b"`.
pub(crate) fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_ident(&mut out, name);
    out
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
}
