//! Writing SQL text: identifier quoting, placeholders and `LIMIT` counts.

use std::borrow::Cow;

use crate::backend::{Params, Statement};
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, TableDef};
use crate::value::{Cell, Param, Value};

/// The values of a statement under construction: a filter binds one or two, kept inline.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) type ParamList<'a> = smallvec::SmallVec<[Param<'a>; 2]>;

/// On wasm32 a plain vector: every statement is sent (its values copied into JavaScript),
/// and a `SmallVec` costs the Worker's size.
#[cfg(target_arch = "wasm32")]
pub(crate) type ParamList<'a> = Vec<Param<'a>>;

/// SQL text under construction and the values bound to its `?` placeholders, in order.
///
/// Values only ever enter through [`SqlWriter::param`], so no value can end up in the text
/// (the one number written into it is a `LIMIT`/`OFFSET` count, [`SqlWriter::count`]).
/// Values borrowed from the query being written (a filter's operands) are bound from where
/// they are: a statement run in-process copies none of them.
#[derive(Debug, Default)]
pub(crate) struct SqlWriter<'a> {
    sql: String,
    params: ParamList<'a>,
}

impl<'a> SqlWriter<'a> {
    pub(crate) fn new() -> Self {
        SqlWriter {
            // Allocated by the first `push`, at the size it needs: a memoized head of a
            // joined select is longer than a guess would be.
            sql: String::new(),
            params: ParamList::new(),
        }
    }

    /// SQL keywords and punctuation (never data).
    pub(crate) fn push(&mut self, sql: &str) {
        let text = &mut self.sql;
        if text.capacity() == 0 {
            // Room for what usually follows the first piece (a WHERE clause, an ORDER BY).
            *text = String::with_capacity(sql.len().max(64) + 96);
        }
        text.push_str(sql);
    }

    /// A quoted identifier.
    pub(crate) fn ident(&mut self, name: &str) {
        push_ident(&mut self.sql, name);
    }

    /// A column, qualified by a table alias when the statement has several scopes.
    pub(crate) fn column(&mut self, qualifier: Option<&str>, name: &str) {
        let text = &mut self.sql;
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
        self.bind(Param::Owned(value));
    }

    /// A placeholder bound to `value` where it is.
    pub(crate) fn param_ref(&mut self, value: &'a Value) {
        self.bind(Param::Borrowed(Cell::from(value)));
    }

    fn bind(&mut self, param: Param<'a>) {
        self.sql.push('?');
        self.params.push(param);
    }

    /// A `LIMIT`/`OFFSET` count as an integer literal (clamped to `i64::MAX`): the one number
    /// Sonic writes into the text. It is a `u64` of the typed API, never text from outside, and
    /// SQLite plans a literal LIMIT once, whereas a bound one re-prepares the statement at every
    /// rebind. The text then varies with the count; the statement cache holds one entry per
    /// distinct count (a handful in practice: page sizes, `1` for `first`).
    pub(crate) fn count(&mut self, n: u64) {
        self.sql
            .push_str(itoa::Buffer::new().format(count_literal(n)));
    }

    /// Text written elsewhere with its placeholders' values (a memoized or prebuilt part).
    pub(crate) fn push_bound(&mut self, sql: &str, params: &[Value]) {
        self.push(sql);
        self.params
            .extend(params.iter().map(|value| Param::Owned(value.clone())));
    }

    /// `?, ?, ?` bound to `values`.
    pub(crate) fn params(&mut self, values: impl IntoIterator<Item = Value>) {
        self.bind_list(values.into_iter().map(Param::Owned));
    }

    /// `?, ?, ?` bound to `values` where they are.
    pub(crate) fn params_ref(&mut self, values: &'a [Value]) {
        self.bind_list(
            values
                .iter()
                .map(|value| Param::Borrowed(Cell::from(value))),
        );
    }

    fn bind_list(&mut self, params: impl Iterator<Item = Param<'a>>) {
        for (i, param) in params.enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(param);
        }
    }

    /// Parameters bound so far.
    pub(crate) fn param_count(&self) -> usize {
        self.params.len()
    }

    /// The statement, owning its values (to be sent, or kept).
    pub(crate) fn finish(self) -> Statement {
        self.finish_bound().into_statement()
    }

    /// The statement, its values still borrowed from the query.
    pub(crate) fn finish_bound(self) -> BoundSql<'a> {
        BoundSql {
            sql: self.sql.into(),
            params: self.params,
        }
    }
}

/// A statement whose values may borrow from the query that built it: run in-process as it
/// is, turned into a [`Statement`] only to be sent or kept.
#[derive(Debug)]
pub(crate) struct BoundSql<'a> {
    pub(crate) sql: Cow<'static, str>,
    pub(crate) params: ParamList<'a>,
}

impl<'a> BoundSql<'a> {
    /// Its values, as the backend binds them.
    pub(crate) fn params(&self) -> Params<'_> {
        Params::Borrowed(&self.params)
    }

    /// The statement with values of its own.
    pub(crate) fn into_statement(self) -> Statement {
        Statement {
            sql: self.sql,
            params: self.params.into_iter().map(Param::into_value).collect(),
        }
    }

    /// The same statement, its values copied out of the query (for a query built from a
    /// temporary, such as a cursor's condition), for any lifetime (a `SmallVec` does not
    /// coerce one into another).
    pub(crate) fn into_owned<'b>(self) -> BoundSql<'b> {
        BoundSql {
            sql: self.sql,
            params: self
                .params
                .into_iter()
                .map(|param| Param::Owned(param.into_value()))
                .collect(),
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
    fn borrowed_and_owned_values_keep_their_order() {
        let operand = Value::Text("borrowed".into());
        let list = [Value::Integer(1), Value::Null];
        let mut w = SqlWriter::new();
        w.push("SELECT ");
        w.param_ref(&operand);
        w.push(", ");
        w.param(Value::Real(2.5));
        w.push(" IN (");
        w.params_ref(&list);
        w.push(")");
        let bound = w.finish_bound();
        assert_eq!(bound.sql, "SELECT ?, ? IN (?, ?)");
        assert!(matches!(
            bound.params[0],
            Param::Borrowed(Cell::Text("borrowed"))
        ));
        assert!(matches!(bound.params[1], Param::Owned(Value::Real(_))));
        let expected = vec![
            operand.clone(),
            Value::Real(2.5),
            Value::Integer(1),
            Value::Null,
        ];
        let cells: Vec<Cell<'_>> = bound.params().cells().collect();
        assert_eq!(cells, expected.iter().map(Cell::from).collect::<Vec<_>>());
        let owned = bound.into_owned();
        assert!(owned.params.iter().all(|p| matches!(p, Param::Owned(_))));
        drop(operand);
        let statement = owned.into_statement();
        assert_eq!(statement.sql, "SELECT ?, ? IN (?, ?)");
        assert_eq!(statement.params, expected);
    }

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
