//! What a statement gives back, read from its SQL text.
//!
//! D1 has no single call that returns both positional rows with their column names *and* the
//! write counters: `raw({ columnNames: true })` gives exact rows but drops `meta`, while `run()`
//! gives `meta` (`changes`, `last_row_id`) but no rows, and `all()` gives both with each row
//! turned into an object keyed by column name, which silently merges columns of the same name
//! (Drizzle's shifted-columns bugs on D1). So the backend picks the call by the statement:
//!
//! - `INSERT`/`UPDATE`/`DELETE`/`REPLACE` (also after a `WITH …` prefix) without `RETURNING`
//!   → [`Shape::Write`]: `run()`, counters from `meta`;
//! - the same with `RETURNING` → [`Shape::Returning`]: `raw()`, and `changes` is the number of
//!   rows returned (SQLite returns one row per row inserted, updated or deleted, and its
//!   `changes()` counts exactly those: no trigger, foreign-key action or `REPLACE` deletion);
//! - anything else (`SELECT`, `VALUES`, `PRAGMA`, `EXPLAIN`, DDL, …) → [`Shape::Rows`]:
//!   `raw()`, `changes` 0, as the SQLite backend reports for a statement that writes nothing.
//!
//! The scan uses a small tokenizer ([`crate::lexer`]), not a parser: it looks at bare words at
//! parenthesis depth 0 only. A column that is
//! literally named `returning` must be quoted (`"returning"`) in a write, or the write is taken
//! for a `RETURNING` one (its rows, none, are then read with `raw()` and `changes` is 0).

use crate::lexer::{Kind, Tokens};

/// The kind of result a statement produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// May return rows and changes nothing (`SELECT`, `PRAGMA`, DDL, …).
    Rows,
    /// A write with a `RETURNING` clause: rows, and one changed row per returned row.
    Returning,
    /// A write without `RETURNING`: no rows; the counters come from D1's `meta`.
    Write,
}

impl Shape {
    /// Classifies `sql`.
    ///
    /// SQL text with several statements (`a; b`) is run whole by D1, which returns the last
    /// statement's result, so the last statement decides. (The `;`s inside a trigger body
    /// leave `END` as the last "statement": DDL, [`Shape::Rows`], as it should be.)
    pub(crate) fn of(sql: &str) -> Shape {
        let words: Vec<&str> = Tokens::new(sql)
            .filter(|t| t.depth == 0 && t.kind != Kind::Param)
            .map(|t| t.text)
            .collect();
        let last = words
            .split(|w| *w == ";")
            .rfind(|statement| !statement.is_empty())
            .unwrap_or(&[]);
        Shape::of_statement(last)
    }

    /// Classifies one statement given as its depth-0 words.
    fn of_statement(words: &[&str]) -> Shape {
        let mut words = words.iter().copied();
        let verb = match words.next() {
            Some(first) if first.eq_ignore_ascii_case("WITH") => {
                // `WITH [RECURSIVE] name [(cols)] AS [NOT] [MATERIALIZED] (…), …` then the main
                // statement; the CTE bodies are all inside parentheses.
                words
                    .by_ref()
                    .find(|w| MAIN_VERBS.iter().any(|v| w.eq_ignore_ascii_case(v)))
            }
            other => other,
        };
        let writes = verb.is_some_and(|v| WRITE_VERBS.iter().any(|w| v.eq_ignore_ascii_case(w)));
        if !writes {
            Shape::Rows
        } else if words.any(|w| w.eq_ignore_ascii_case("RETURNING")) {
            Shape::Returning
        } else {
            Shape::Write
        }
    }
}

/// The statements that can follow a `WITH` clause.
const MAIN_VERBS: [&str; 6] = ["SELECT", "VALUES", "INSERT", "REPLACE", "UPDATE", "DELETE"];
/// The statements that change rows.
const WRITE_VERBS: [&str; 4] = ["INSERT", "REPLACE", "UPDATE", "DELETE"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_ddl_are_rows() {
        for sql in [
            "SELECT 1",
            "  select * from t",
            "VALUES (1), (2)",
            "PRAGMA table_info('t')",
            "EXPLAIN DELETE FROM t",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, returning TEXT)",
            "WITH x AS (DELETE FROM t) SELECT 1",
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n FROM c",
            "-- INSERT\nSELECT 1",
            "INSERT INTO t VALUES (1); SELECT * FROM t",
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET n = n + 1; END",
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE u SET n = n + 1; END;",
            "SELECT 1;",
            ";;",
            "/* UPDATE t */ SELECT 1",
            "",
        ] {
            assert_eq!(Shape::of(sql), Shape::Rows, "{sql}");
        }
    }

    #[test]
    fn writes_without_returning() {
        for sql in [
            "INSERT INTO t (a) VALUES (?)",
            "insert or replace into t values (1)",
            "REPLACE INTO t VALUES (1)",
            "UPDATE t SET a = 'RETURNING' WHERE b = \"returning\"",
            "DELETE FROM t WHERE id IN (SELECT id FROM u)",
            "WITH old AS (SELECT id FROM t) DELETE FROM t WHERE id IN old",
            "WITH a(x) AS MATERIALIZED (SELECT 1), b AS NOT MATERIALIZED (SELECT 2) \
             INSERT INTO t SELECT x FROM a",
            "/* c */ -- d\n UPDATE t SET a = 1",
            "SELECT 1; DELETE FROM t;",
            "UPDATE t SET a = ';' ; ",
        ] {
            assert_eq!(Shape::of(sql), Shape::Write, "{sql}");
        }
    }

    #[test]
    fn writes_with_returning() {
        for sql in [
            "INSERT INTO t (a) VALUES (?) RETURNING *",
            "UPDATE t SET a = 1 returning id, a",
            "DELETE FROM t WHERE id = ? RETURNING id",
            "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET a = excluded.a RETURNING \"id\"",
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x RETURNING id",
        ] {
            assert_eq!(Shape::of(sql), Shape::Returning, "{sql}");
        }
    }
}
