//! The prepared statements of the typed read path, kept by SQL text with the connection that
//! prepared them.
//!
//! rusqlite's own cache (`prepare_cached`) hashes the text to hand a statement out and again
//! to take it back, relinks its LRU list both times and clears the bindings: ≈ 970
//! instructions per query, a fifth of a find by key (`benches/profile.sh`). Here a statement
//! stays where it is, and the rows' end resets it. Sonic sends each memoized text from one
//! address, so the address found last time, checked against the text, finds it again without
//! hashing the text (a few hundred bytes).

use std::collections::HashMap;
use std::sync::Arc;

use rusqlite::{Connection, PrepFlags, Statement};

/// Statements kept at most; past it all are finalized and prepared again as they are used.
/// Sonic's texts vary with a query's shape, not its values, so an application has a few
/// hundred at most.
const CAPACITY: usize = 512;

/// Slots of addresses remembered (a power of two; `Default` stops at 32).
const HINTS: usize = 32;

/// Statements by SQL text (an index into `statements`, so that a hit hashes the text once).
#[derive(Default)]
pub(super) struct Prepared<'c> {
    by_sql: HashMap<Arc<str>, usize, foldhash::fast::FixedState>,
    /// Each statement with its text (the map's key), which a hint is checked against.
    statements: Vec<(Arc<str>, Statement<'c>)>,
    /// The statement last found for a text at an address, by address: a hint only, since
    /// another text may come from that address later.
    hints: [Hint; HINTS],
}

#[derive(Clone, Copy, Default)]
struct Hint {
    address: usize,
    index: usize,
}

/// The slot of `sql`'s address in the hints: allocations are 16-byte aligned.
fn slot(sql: &str) -> usize {
    let address = sql.as_ptr() as usize;
    ((address >> 4) ^ (address >> 10)) % HINTS
}

impl<'c> Prepared<'c> {
    /// The statement of `sql`, prepared on `conn` the first time. Its previous bindings may
    /// still be set: the caller binds every parameter.
    pub(super) fn statement(
        &mut self,
        conn: &'c Connection,
        sql: &str,
    ) -> rusqlite::Result<&mut Statement<'c>> {
        let slot = slot(sql);
        let address = sql.as_ptr() as usize;
        let hinted = self
            .hints
            .get(slot)
            .filter(|hint| hint.address == address)
            .map(|hint| hint.index)
            .filter(|&index| {
                self.statements
                    .get(index)
                    .is_some_and(|(text, _)| **text == *sql)
            });
        let index = match hinted.or_else(|| self.by_sql.get(sql).copied()) {
            Some(index) => index,
            None => {
                // As rusqlite's cache prepares: SQLite keeps a long-lived statement out of
                // the lookaside memory meant for short-lived ones.
                let statement =
                    conn.prepare_with_flags(sql, PrepFlags::SQLITE_PREPARE_PERSISTENT)?;
                if self.statements.len() >= CAPACITY {
                    self.by_sql.clear();
                    self.statements.clear();
                    self.hints = Default::default();
                }
                let text: Arc<str> = sql.into();
                self.statements.push((text.clone(), statement));
                let index = self.statements.len() - 1;
                self.by_sql.insert(text, index);
                index
            }
        };
        if let Some(hint) = self.hints.get_mut(slot) {
            *hint = Hint { address, index };
        }
        self.statements
            .get_mut(index)
            .map(|(_, statement)| statement)
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

    fn first<'c>(conn: &'c Connection, prepared: &mut Prepared<'c>, sql: &str) -> i64 {
        let stmt = prepared.statement(conn, sql).unwrap();
        stmt.query_row([], |row| row.get(0)).unwrap()
    }

    #[test]
    fn another_text_at_a_hinted_address_finds_its_own_statement() {
        let conn = Connection::open_in_memory().unwrap();
        let mut prepared = Prepared::default();
        let mut sql = String::from("SELECT 1");
        assert_eq!(first(&conn, &mut prepared, &sql), 1);
        assert_eq!(first(&conn, &mut prepared, &sql), 1); // found by its address
        let address = sql.as_ptr();
        sql.replace_range(7..8, "2");
        assert_eq!(sql.as_ptr(), address);
        assert_eq!(first(&conn, &mut prepared, &sql), 2);
        sql.replace_range(7..8, "1");
        assert_eq!(first(&conn, &mut prepared, &sql), 1);
        assert_eq!(prepared.statements.len(), 2);
    }
}
