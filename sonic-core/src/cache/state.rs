//! What one handle remembers: keys and tables whose invalidation could not be put (KV
//! refused, or the write was cancelled), which this handle reads from SQL until a generation
//! put succeeds or the window ends.

use std::collections::HashMap;

/// A suspicion: until when (clock ms), and its order among this handle's suspicions.
#[derive(Debug, Clone, Copy)]
struct Until {
    until_ms: i64,
    seq: u64,
}

#[derive(Debug, Default)]
pub(super) struct HandleState {
    seq: u64,
    keys: HashMap<String, Until>,
    /// By table name; owned names, so that both maps are one type (one copy of the map's
    /// code in a Worker's wasm).
    tables: HashMap<String, Until>,
    prune_at: usize,
}

/// Why a find reads SQL without asking KV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Suspicion {
    None,
    /// The key's invalidation could not be put.
    Key,
    /// The table's invalidation could not be put.
    Table,
}

impl HandleState {
    /// The order of the latest suspicion: a repair that began at `seq()` clears only
    /// suspicions up to it.
    pub(super) fn seq(&self) -> u64 {
        self.seq
    }

    /// Whether `key` of `table` must be read from SQL now. The clock is read only when
    /// something is suspect: on Workers a read of it is a call into JavaScript, on every find.
    pub(super) fn suspicion(
        &self,
        table: &str,
        key: &str,
        now_ms: impl FnOnce() -> i64,
    ) -> Suspicion {
        if self.tables.is_empty() && self.keys.is_empty() {
            return Suspicion::None;
        }
        let now_ms = now_ms();
        if self.tables.get(table).is_some_and(|u| u.until_ms > now_ms) {
            Suspicion::Table
        } else if self.keys.get(key).is_some_and(|u| u.until_ms > now_ms) {
            Suspicion::Key
        } else {
            Suspicion::None
        }
    }

    pub(super) fn suspect_key(&mut self, key: &str, until_ms: i64, now_ms: i64) {
        if self.keys.len() >= self.prune_at {
            self.keys.retain(|_, u| u.until_ms > now_ms);
            self.prune_at = (self.keys.len() * 2).max(64);
        }
        self.seq += 1;
        let entry = Until {
            until_ms,
            seq: self.seq,
        };
        self.keys.insert(key.to_string(), entry);
    }

    pub(super) fn suspect_table(&mut self, table: &'static str, until_ms: i64) {
        self.seq += 1;
        let entry = Until {
            until_ms,
            seq: self.seq,
        };
        self.tables.insert(table.to_string(), entry);
    }

    /// A bucket generation put for `key`, begun at `started`, succeeded.
    pub(super) fn clear_key(&mut self, key: &str, started: u64) {
        if self.keys.get(key).is_some_and(|u| u.seq <= started) {
            self.keys.remove(key);
        }
    }

    /// A table generation put, begun at `started`, succeeded: the table's suspicions up to
    /// then are void (`key_prefix` starts every record key of the table).
    pub(super) fn clear_table(&mut self, table: &str, key_prefix: &str, started: u64) {
        if self.tables.get(table).is_some_and(|u| u.seq <= started) {
            self.tables.remove(table);
        }
        self.keys
            .retain(|k, u| u.seq > started || !k.starts_with(key_prefix));
    }
}
