//! Loading per level: one `WHERE fk IN (…)` statement per relation and level, grouped back
//! by key in Rust.

use foldhash::HashMap;

use super::key::Key;
use super::Eager;
use crate::db::Db;
use crate::error::Result;
use crate::query::rows::{decode_rows, execute_records};
use crate::schema::Table;
use crate::sql::eager::statements_for_keys;
use crate::value::Value;

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// Loads this relation for all `parents` with one statement (or one batch of chunks) per
    /// level, grouped by the parents' keys.
    pub(super) async fn load_per_level(&self, db: &Db, parents: &mut [P]) -> Result<()> {
        let relation = self.relation.def();
        let remote = (relation.remote)();

        // Distinct parent keys, each parent's slot, and how many parents share a slot (the
        // last one takes the children, the others get clones).
        let mut slots: HashMap<Key, usize> = HashMap::default();
        let mut keys: Vec<Value> = Vec::new();
        let mut sharers: Vec<usize> = Vec::new();
        let mut parent_slots: Vec<Option<usize>> = Vec::with_capacity(parents.len());
        for parent in parents.iter() {
            let value = parent.column_value(relation.local)?;
            let slot = match Key::of(&value) {
                None => None,
                Some(key) => {
                    let next = keys.len();
                    let slot = *slots.entry(key).or_insert(next);
                    if slot == next {
                        keys.push(value);
                        sharers.push(0);
                    }
                    if let Some(n) = sharers.get_mut(slot) {
                        *n += 1;
                    }
                    Some(slot)
                }
            };
            parent_slots.push(slot);
        }

        let mut children: Vec<C> = Vec::new();
        if !keys.is_empty() {
            let statements = statements_for_keys(self, keys, db.capabilities())?;
            match statements.as_slice() {
                [one] => children = execute_records::<C>(db, one).await?,
                _ => {
                    for result in db.run_all(&statements).await? {
                        children.extend(decode_rows::<C>(result)?);
                    }
                }
            }
            for nested in &self.nested {
                nested.loader().load_level(db, &mut children).await?;
            }
        }

        // Each child's slot, and how many children each slot gets (so that every group is
        // allocated once, at its size). Children come ordered by their foreign key, so runs
        // of them share a parent: the key is looked up only when it changes.
        let mut child_slots: Vec<Option<usize>> = Vec::with_capacity(children.len());
        let mut counts: Vec<usize> = vec![0; sharers.len()];
        let mut last: Option<(Key, Option<usize>)> = None;
        for child in &children {
            let slot = match Key::from_value(child.column_value(remote)?) {
                None => None,
                Some(key) => match &last {
                    Some((previous, slot)) if *previous == key => *slot,
                    _ => {
                        let slot = slots.get(&key).copied();
                        last = Some((key, slot));
                        slot
                    }
                },
            };
            if let Some(n) = slot.and_then(|slot| counts.get_mut(slot)) {
                *n += 1;
            }
            child_slots.push(slot);
        }
        let mut groups: Vec<Vec<C>> = counts.into_iter().map(Vec::with_capacity).collect();
        for (child, slot) in children.into_iter().zip(child_slots) {
            if let Some(group) = slot.and_then(|slot| groups.get_mut(slot)) {
                group.push(child);
            }
        }
        for (parent, slot) in parents.iter_mut().zip(parent_slots) {
            let records = match slot {
                None => Vec::new(),
                Some(slot) => match (sharers.get_mut(slot), groups.get_mut(slot)) {
                    (Some(n), Some(group)) => {
                        *n -= 1;
                        if *n == 0 {
                            std::mem::take(group)
                        } else {
                            group.clone()
                        }
                    }
                    _ => Vec::new(),
                },
            };
            self.relation.attach(parent, records);
        }
        Ok(())
    }
}
