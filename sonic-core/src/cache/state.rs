//! What one handle remembers of the keys it wrote, so that it never serves a value older than
//! its own acknowledged writes.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

/// What this handle knows about a key's KV entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
    /// It may be stale: never read it from KV.
    Suspect,
    /// We deleted it: a value there is someone else's and must be checked against SQL.
    Absent,
    /// We put these bytes (digest): only they are served.
    Bytes(u64),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct KeyState {
    pub(super) expect: Expect,
    pub(super) until_ms: i64,
    /// Order of events in this handle, to compare with a table-wide suspicion.
    pub(super) seq: u64,
}

#[derive(Debug, Default)]
pub(super) struct TableState {
    /// Bumped when a write begins and when it ends.
    pub(super) generation: u64,
    /// Writes between their start and their KV operation.
    pub(super) in_flight: u32,
    /// `(until_ms, seq)` of a table-wide suspicion.
    pub(super) suspect: Option<(i64, u64)>,
}

#[derive(Debug, Default)]
pub(super) struct HandleState {
    pub(super) seq: u64,
    pub(super) tables: HashMap<&'static str, TableState>,
    pub(super) keys: HashMap<String, KeyState>,
    pub(super) prune_at: usize,
}

impl HandleState {
    pub(super) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    pub(super) fn table(&mut self, name: &'static str) -> &mut TableState {
        self.tables.entry(name).or_default()
    }

    pub(super) fn set_key(&mut self, key: &str, expect: Expect, until_ms: i64) {
        let seq = self.next_seq();
        self.keys.insert(
            key.to_string(),
            KeyState {
                expect,
                until_ms,
                seq,
            },
        );
    }

    /// Drops expired expectations, now and then (amortised O(1) per write).
    pub(super) fn prune(&mut self, now_ms: i64) {
        if self.keys.len() >= self.prune_at {
            self.keys.retain(|_, k| k.until_ms > now_ms);
            self.prune_at = (self.keys.len() * 2).max(64);
        }
    }
}

/// How a find treats the KV entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Plan {
    /// Serve any decodable hit.
    Trust,
    /// Serve a hit only if its digest is this (`None`: serve no hit, check SQL).
    Verify(Option<u64>),
    /// Do not read KV: read SQL, then repair.
    Bypass,
}

/// A short digest of the bytes put under a key, to recognise them on a later hit.
pub(super) fn digest(bytes: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}
