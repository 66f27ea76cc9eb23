//! What the typed writes of an open transaction touched, invalidated once it has committed:
//! before the commit, an invalidation would let a reader cache the old row again.
//!
//! By key where a write named its keys; the whole table where it did not (`update_where`,
//! `delete_where`) and for the tables a delete cascades into. Raw SQL writes are not noted
//! (as outside a transaction).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use super::KvCache;
use crate::schema::{ForeignKeys, TableDef};
use crate::value::Value;

/// What the typed writes of one transaction touched, for the cache after the commit.
#[derive(Debug, Default)]
pub(crate) struct TransactionLog {
    tables: Mutex<BTreeMap<&'static str, Written>>,
}

#[derive(Debug)]
struct Written {
    table: &'static TableDef,
    /// The primary keys written, or `None` when they are not all known.
    keys: Option<Vec<Value>>,
}

impl TransactionLog {
    /// A write of `table`: the records with these keys, or (`None`) any of them.
    pub(crate) fn wrote(&self, table: &'static TableDef, keys: Option<&[Value]>) {
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let written = tables.entry(table.name).or_insert_with(|| Written {
            table,
            keys: Some(Vec::new()),
        });
        match (&mut written.keys, keys) {
            (Some(known), Some(keys)) => known.extend_from_slice(keys),
            (known, _) => *known = None,
        }
    }

    /// A delete from `table` (of `key`, or of the rows of a filter): it and every table its
    /// foreign keys cascade into, transitively.
    pub(crate) fn deleted(
        &self,
        table: &'static TableDef,
        key: Option<&Value>,
        foreign_keys: &ForeignKeys,
    ) {
        self.wrote(table, key.map(std::slice::from_ref));
        let mut pending = vec![table];
        let mut seen = vec![table.name];
        while let Some(parent) = pending.pop() {
            for edge in foreign_keys.referencing(parent) {
                if !seen.contains(&edge.child.name) {
                    seen.push(edge.child.name);
                    self.wrote(edge.child, None);
                    pending.push(edge.child);
                }
            }
        }
    }

    /// Invalidates, in `cache`, what the committed transaction wrote.
    pub(crate) async fn invalidate(&self, cache: &KvCache) {
        let written: Vec<Written> =
            std::mem::take(&mut *self.tables.lock().unwrap_or_else(PoisonError::into_inner))
                .into_values()
                .collect();
        // Every ticket first (in one go, without awaiting): if this future is dropped half-way,
        // the unfinished ones make their records suspect for this handle, as any write's do.
        let tickets: Vec<_> = written
            .iter()
            .filter(|w| cache.caches_table(w.table))
            .map(|w| match &w.keys {
                Some(keys) => (cache.begin_write(w.table, keys), keys.as_slice()),
                None => {
                    let mut ticket = cache.begin_write_where(w.table);
                    ticket.suspect_table_on_success("written by a transaction".to_string());
                    (ticket, &[][..])
                }
            })
            .collect();
        for (ticket, keys) in tickets {
            ticket.changed_ids(keys).await;
        }
    }
}
