//! Lexical checks of the SQL text a schema declares: a column's `DEFAULT` and a table's
//! `CHECK` are written into DDL verbatim, so each must be one expression that cannot close the
//! clause around it, end the statement or open a comment.
//!
//! Two callers need the same answer: `#[derive(Table)]` (a spanned compile error) and
//! `sonic-db-core` (a schema snapshot read from JSON). A proc-macro crate cannot share code
//! with the crate it generates for, hence this crate.
//!
//! ```
//! use sonic_db_sql_text::{check_expression, is_default_expression};
//!
//! assert!(check_expression("price >= 0 AND (qty > 0 OR qty IS NULL)").is_ok());
//! assert_eq!(check_expression("1); DROP TABLE t; --"), Err("a `)` closes a parenthesis it did not open"));
//! assert!(is_default_expression("'draft'"));
//! assert!(is_default_expression("(unixepoch() * 1000)"));
//! assert!(!is_default_expression("1; DROP TABLE t"));
//! ```

/// Whether `text` can stand inside `CHECK ( … )`: not empty, quotes closed, parentheses
/// balanced and never closing the `CHECK`'s own, no `;` or comment outside quotes. The error
/// says what is wrong.
///
/// ```
/// assert!(sonic_db_sql_text::check_expression("length(name) > 0").is_ok());
/// assert_eq!(sonic_db_sql_text::check_expression("a = 'x"), Err("a quote is not closed"));
/// ```
pub fn check_expression(text: &str) -> Result<(), &'static str> {
    if text.trim().is_empty() {
        return Err("it is empty");
    }
    match scan(text)? {
        Scan { depth: 0, .. } => Ok(()),
        _ => Err("a `(` is not closed"),
    }
}

/// Whether `text` is one `DEFAULT` value of SQLite's grammar: a signed number, a string or
/// blob literal, `NULL`/`TRUE`/`FALSE`/`CURRENT_TIME`/`CURRENT_DATE`/`CURRENT_TIMESTAMP`, or
/// one parenthesised expression (balanced, quotes closed, no `;` or comment outside quotes).
///
/// ```
/// assert!(sonic_db_sql_text::is_default_expression("-1.5e3"));
/// assert!(!sonic_db_sql_text::is_default_expression("unixepoch()")); // needs parentheses
/// ```
pub fn is_default_expression(text: &str) -> bool {
    let text = text.trim();
    let upper = text.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "NULL" | "TRUE" | "FALSE" | "CURRENT_TIME" | "CURRENT_DATE" | "CURRENT_TIMESTAMP"
    ) {
        return true;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !unsigned.is_empty()
        && unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && unsigned.parse::<f64>().is_ok()
        && unsigned
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
    {
        return true;
    }
    let literal = upper.strip_prefix('X').unwrap_or(text);
    if let Some(inner) = literal
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
    {
        return !inner.replace("''", "").contains('\'');
    }
    text.starts_with('(')
        && matches!(scan(text), Ok(Scan { depth: 0, first_group_end: Some(end) }) if end + 1 == text.len())
}

/// What one pass over `text` found outside quotes.
struct Scan {
    /// Parentheses still open at the end.
    depth: usize,
    /// The byte offset of the `)` that first brought the depth back to zero.
    first_group_end: Option<usize>,
}

fn scan(text: &str) -> Result<Scan, &'static str> {
    let mut depth = 0usize;
    let mut first_group_end = None;
    let mut quote: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                if chars.peek().map(|&(_, n)| n) == Some(q) {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            continue;
        }
        let next = chars.peek().map(|&(_, n)| n);
        match c {
            '\'' | '"' | '`' => quote = Some(c),
            '[' => quote = Some(']'),
            '(' => depth += 1,
            ')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or("a `)` closes a parenthesis it did not open")?;
                if depth == 0 && first_group_end.is_none() {
                    first_group_end = Some(i);
                }
            }
            ';' => return Err("`;` ends a statement"),
            '-' if next == Some('-') => return Err("`--` starts a comment"),
            '/' if next == Some('*') => return Err("`/*` starts a comment"),
            _ => {}
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed");
    }
    Ok(Scan {
        depth,
        first_group_end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_expressions() {
        for ok in [
            "a > 0",
            "a IN ('x', 'y')",
            "\"weird)\" = ')'",
            "[col;] > 0",
            "(a) OR (b)",
        ] {
            assert_eq!(check_expression(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("", "it is empty"),
            ("  ", "it is empty"),
            ("a) OR (b", "a `)` closes a parenthesis it did not open"),
            ("(a", "a `(` is not closed"),
            ("a = 'x", "a quote is not closed"),
            ("1; DROP TABLE t", "`;` ends a statement"),
            ("1 -- x", "`--` starts a comment"),
            ("1 /* x */", "`/*` starts a comment"),
        ] {
            assert_eq!(check_expression(bad), Err(why), "{bad}");
        }
    }

    #[test]
    fn default_expressions() {
        for ok in [
            "NULL",
            "current_timestamp",
            "0",
            "-1",
            "+2.5",
            ".5",
            "1e9",
            "'it''s'",
            "X'00ff'",
            "(1 + 2)",
            "(lower('A'))",
        ] {
            assert!(is_default_expression(ok), "{ok}");
        }
        for bad in [
            "",
            "abc",
            "1 + 2",
            "'a' || 'b'",
            "'unclosed",
            "(1) + (2)",
            "(1; 2)",
            "(1 -- )",
            "1e9x",
            "--1",
        ] {
            assert!(!is_default_expression(bad), "{bad}");
        }
    }
}
