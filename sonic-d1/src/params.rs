//! Binding integers as INTEGER.
//!
//! D1 carries parameters as JSON numbers, and the runtime binds every number as a REAL
//! (measured with workerd's D1: `SELECT typeof(?)` with `1` is `'real'`, `5 / ?` with `2` is
//! `2.5`, `json_object('a', ?)` is `{"a":1.0}`, and a TEXT column compared with `?` sees
//! `'1.0'`). Columns declared INTEGER hide this (their affinity turns `1.0` back into `1`), but
//! expressions, untyped columns and TEXT comparisons do not, so the same statement would
//! behave differently on D1 and on SQLite. The backend therefore wraps the marker of every
//! [`Value::Integer`] parameter as `CAST(? AS INTEGER)`: exact for every integer D1 can bind
//! (±(2^53 − 1)), and valid wherever a parameter is, since a parameter is an expression.
//!
//! Markers are numbered as SQLite numbers them: `?` takes the number after the largest so
//! far, `?NNN` is number NNN, and a named marker (`:a`, `@a`, `$a`) takes the next number at
//! its first use and keeps it.

use std::borrow::Cow;

use sonic_db_core::{Capabilities, Error, Result, Statement, Value};

use crate::lexer::{Kind, Tokens};

/// A bound-parameter marker of a SQL text: where it is, and the parameter it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Marker {
    /// Byte offset of the marker in the text.
    start: usize,
    /// Its length (`?`, `?12`, `:name`).
    len: usize,
    /// The 1-based parameter it takes (0: a number out of range, which takes none).
    number: usize,
}

/// The markers of `sql`, numbered as SQLite numbers them.
pub(crate) fn markers(sql: &str) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut largest = 0usize;
    let mut names: Vec<(&str, usize)> = Vec::new();
    for marker in Tokens::new(sql).filter(|t| t.kind == Kind::Param) {
        let number = if marker.text == "?" {
            largest + 1
        } else if let Some(digits) = marker.text.strip_prefix('?') {
            // An out-of-range number is SQLite's error to report; it matches no parameter.
            digits.parse().unwrap_or(0)
        } else if let Some(&(_, number)) = names.iter().find(|(name, _)| *name == marker.text) {
            number
        } else {
            names.push((marker.text, largest + 1));
            largest + 1
        };
        largest = largest.max(number);
        out.push(Marker {
            start: marker.start,
            len: marker.text.len(),
            number,
        });
    }
    out
}

/// The SQL to send for `statement`, whose markers are `markers`: its text with integer
/// parameters cast to INTEGER, checked against D1's statement length limit.
pub(crate) fn sql_to_send<'a>(
    statement: &'a Statement,
    markers: &[Marker],
    capabilities: &Capabilities,
) -> Result<Cow<'a, str>> {
    let sql = cast_integer_params(&statement.sql, markers, &statement.params);
    check_sent_len(sql.len(), capabilities)?;
    Ok(sql)
}

/// Refuses SQL of `len` bytes, its integer parameters cast, beyond the backend's limit.
pub(crate) fn check_sent_len(len: usize, capabilities: &Capabilities) -> Result<()> {
    if len > capabilities.max_sql_len {
        return Err(Error::Limit(format!(
            "statement is {len} bytes of SQL once its integer parameters are cast to INTEGER; \
             D1 allows at most {} bytes",
            capabilities.max_sql_len
        )));
    }
    Ok(())
}

/// Which of at most 64 parameters are integers, parameter `i` as bit `i`: with the SQL text,
/// all that [`cast_integer_params`] depends on (`None` beyond 64 parameters).
pub(crate) fn integer_mask(params: &[Value]) -> Option<u64> {
    if params.len() > 64 {
        return None;
    }
    Some(
        params
            .iter()
            .enumerate()
            .fold(0, |mask, (i, param)| match param {
                Value::Integer(_) => mask | 1 << i,
                _ => mask,
            }),
    )
}

/// `sql` with every marker of an integer parameter wrapped as `CAST(<marker> AS INTEGER)`.
pub(crate) fn cast_integer_params<'a>(
    sql: &'a str,
    markers: &[Marker],
    params: &[Value],
) -> Cow<'a, str> {
    if !params.iter().any(|p| matches!(p, Value::Integer(_))) {
        return Cow::Borrowed(sql);
    }
    rewrite(sql, markers, params).map_or(Cow::Borrowed(sql), Cow::Owned)
}

fn rewrite(sql: &str, markers: &[Marker], params: &[Value]) -> Option<String> {
    let mut out = String::with_capacity(sql.len() + 20 * params.len());
    let mut copied = 0;
    for marker in markers {
        let is_integer = marker
            .number
            .checked_sub(1)
            .and_then(|i| params.get(i))
            .is_some_and(|p| matches!(p, Value::Integer(_)));
        if is_integer {
            let end = marker.start + marker.len;
            out.push_str(sql.get(copied..marker.start)?);
            out.push_str("CAST(");
            out.push_str(sql.get(marker.start..end)?);
            out.push_str(" AS INTEGER)");
            copied = end;
        }
    }
    out.push_str(sql.get(copied..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const I: Value = Value::Integer(1);

    fn cast(sql: &str, params: &[Value]) -> String {
        cast_integer_params(sql, &markers(sql), params).into_owned()
    }

    #[test]
    fn integer_markers_are_cast() {
        assert_eq!(
            cast("SELECT ?, ?, ?", &[I, Value::Real(1.0), I]),
            "SELECT CAST(? AS INTEGER), ?, CAST(? AS INTEGER)"
        );
        assert_eq!(
            cast(
                "INSERT INTO t (a, b) VALUES (?, ?)",
                &[Value::Text("x".into()), I]
            ),
            "INSERT INTO t (a, b) VALUES (?, CAST(? AS INTEGER))"
        );
        assert_eq!(
            cast("SELECT * FROM t LIMIT ? OFFSET ?", &[I, I]),
            "SELECT * FROM t LIMIT CAST(? AS INTEGER) OFFSET CAST(? AS INTEGER)"
        );
    }

    #[test]
    fn numbered_and_named_markers_follow_sqlite_numbering() {
        let params = [Value::Text("a".into()), I];
        assert_eq!(
            cast("SELECT ?2, ?1, ?2", &params),
            "SELECT CAST(?2 AS INTEGER), ?1, CAST(?2 AS INTEGER)"
        );
        // `?1` then `?` is number 2.
        assert_eq!(
            cast("SELECT ?1, ?", &params),
            "SELECT ?1, CAST(? AS INTEGER)"
        );
        // `:a` is 1, `:b` is 2, `:a` again is 1.
        assert_eq!(
            cast("SELECT :a, :b, :a", &params),
            "SELECT :a, CAST(:b AS INTEGER), :a"
        );
        assert_eq!(
            cast("SELECT ?99999999999999999999999", &[I]),
            "SELECT ?99999999999999999999999"
        );
    }

    #[test]
    fn literals_comments_and_quoted_names_are_left_alone() {
        assert_eq!(
            cast("SELECT '?', \"?\", [?], `?` -- ?\n, /* ? */ ?", &[I]),
            "SELECT '?', \"?\", [?], `?` -- ?\n, /* ? */ CAST(? AS INTEGER)"
        );
        assert_eq!(
            cast("SELECT 'é?', ? -- ü", &[I]),
            "SELECT 'é?', CAST(? AS INTEGER) -- ü"
        );
    }

    #[test]
    fn nothing_to_do_borrows() {
        assert!(matches!(
            cast_integer_params("SELECT ?", &markers("SELECT ?"), &[Value::Text("x".into())]),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            cast_integer_params("SELECT 1", &[], &[]),
            Cow::Borrowed(_)
        ));
        // More parameters than markers, or the reverse: left for D1 to report.
        assert_eq!(cast("SELECT 1", &[I]), "SELECT 1");
        assert_eq!(cast("SELECT ?, ?", &[I]), "SELECT CAST(? AS INTEGER), ?");
    }

    #[test]
    fn the_integer_mask_decides_the_cast_text() {
        let t = || Value::Text("x".into());
        assert_eq!(integer_mask(&[]), Some(0));
        assert_eq!(integer_mask(&[I, t(), Value::Integer(-4)]), Some(0b101));
        assert_eq!(integer_mask(&[t(), Value::Null, Value::Real(1.0)]), Some(0));
        assert_eq!(integer_mask(&vec![I; 64]), Some(u64::MAX));
        assert_eq!(integer_mask(&vec![I; 65]), None);
        // Parameters of one mask give one text, whatever their values.
        let sql = "SELECT ?2, :a, ? WHERE x = ?1";
        let a = [Value::Integer(1), t(), Value::Integer(i64::MAX)];
        let b = [
            Value::Integer(-9),
            Value::Text("other".into()),
            Value::Integer(0),
        ];
        assert_eq!(integer_mask(&a), integer_mask(&b));
        assert_eq!(cast(sql, &a), cast(sql, &b));
        let c = [t(), t(), Value::Integer(0)];
        assert_ne!(integer_mask(&a), integer_mask(&c));
        assert_ne!(cast(sql, &a), cast(sql, &c));
    }

    #[test]
    fn length_is_checked_after_casting() {
        let caps = Capabilities {
            max_sql_len: 30,
            ..Capabilities::D1
        };
        let short = Statement::new("SELECT ?", vec![Value::Text("x".into())]);
        let short_markers = markers(&short.sql);
        assert_eq!(
            sql_to_send(&short, &short_markers, &caps).unwrap(),
            "SELECT ?"
        );
        let cast = Statement::new("SELECT ?, ?", vec![I, I]);
        let cast_markers = markers(&cast.sql);
        assert!(
            matches!(sql_to_send(&cast, &cast_markers, &caps), Err(Error::Limit(m)) if m.contains("cast"))
        );
    }
}
