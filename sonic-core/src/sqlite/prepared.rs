//! The prepared statements of the typed read path, kept by SQL text with the connection that
//! prepared them.
//!
//! rusqlite's own cache (`prepare_cached`) hashes the text to hand a statement out and again
//! to take it back, relinks its LRU list both times and clears the bindings: ≈ 970
//! instructions per query, a fifth of a find by key (`benches/profile.sh`). Here a statement
//! stays where it is: one hash of the text finds it, and the rows' end resets it.

use std::collections::HashMap;

use rusqlite::{Connection, PrepFlags, Statement};

/// Statements kept at most; past it all are finalized and prepared again as they are used.
/// Sonic's texts vary with a query's shape, not its values, so an application has a few
/// hundred at most.
const CAPACITY: usize = 512;

/// Statements by SQL text (an index into `statements`, so that a hit hashes the text once).
#[derive(Default)]
pub(super) struct Prepared<'c> {
    by_sql: HashMap<Box<str>, usize, foldhash::fast::FixedState>,
    statements: Vec<Statement<'c>>,
}

impl<'c> Prepared<'c> {
    /// The statement of `sql`, prepared on `conn` the first time. Its previous bindings may
    /// still be set: the caller binds every parameter.
    pub(super) fn statement(
        &mut self,
        conn: &'c Connection,
        sql: &str,
    ) -> rusqlite::Result<&mut Statement<'c>> {
        let index = match self.by_sql.get(sql) {
            Some(&index) => index,
            None => {
                // As rusqlite's cache prepares: SQLite keeps a long-lived statement out of
                // the lookaside memory meant for short-lived ones.
                let statement =
                    conn.prepare_with_flags(sql, PrepFlags::SQLITE_PREPARE_PERSISTENT)?;
                if self.statements.len() >= CAPACITY {
                    self.by_sql.clear();
                    self.statements.clear();
                }
                self.statements.push(statement);
                let index = self.statements.len() - 1;
                self.by_sql.insert(sql.into(), index);
                index
            }
        };
        self.statements
            .get_mut(index)
            .ok_or(rusqlite::Error::InvalidQuery)
    }
}

self_cell::self_cell!(
    /// A connection and the statements prepared on it, dropped before it.
    pub(super) struct Connected {
        owner: Connection,
        #[not_covariant]
        dependent: Prepared,
    }
);

// SAFETY: `Connection` is `Send`: SQLite's default (serialized) threading mode lets a
// connection, and the statements prepared on it, be used from any thread, one at a time.
// rusqlite's `Statement` is not `Send` only because it holds a raw pointer; rusqlite itself
// moves the statements of its cache between threads with their connection (its
// `StatementCache` is `Send`). `Connected` moves them the same way, all together, and the
// backend uses it under its mutex only.
unsafe impl Send for Connected {}

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connected").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer<'c>(conn: &'c Connection, prepared: &mut Prepared<'c>, n: usize) -> i64 {
        let stmt = prepared.statement(conn, &format!("SELECT {n}")).unwrap();
        stmt.query_row([], |row| row.get(0)).unwrap()
    }

    #[test]
    fn at_capacity_everything_is_prepared_again_and_still_answers() {
        let conn = Connection::open_in_memory().unwrap();
        let mut prepared = Prepared::default();
        for n in 0..CAPACITY {
            assert_eq!(answer(&conn, &mut prepared, n), n as i64);
        }
        assert_eq!(prepared.statements.len(), CAPACITY);
        assert_eq!(answer(&conn, &mut prepared, 0), 0); // kept: no new statement
        assert_eq!(prepared.statements.len(), CAPACITY);
        assert_eq!(answer(&conn, &mut prepared, CAPACITY), CAPACITY as i64);
        assert_eq!(prepared.statements.len(), 1); // started over
        assert_eq!(prepared.by_sql.len(), 1);
        assert_eq!(answer(&conn, &mut prepared, 7), 7);
    }
}
