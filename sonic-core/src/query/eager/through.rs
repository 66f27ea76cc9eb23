//! Loading a many-to-many level per level: the rows come from the join table joined to the
//! related table, each with the parent's key first, and are grouped by it.

use foldhash::HashMap;

use super::key::Key;
use super::Eager;
use crate::db::Db;
use crate::error::Result;
use crate::query::rows::check_shape;
use crate::schema::Table;
use crate::sql::eager::statements_for_keys;
use crate::value::{integers_from_text, SqlType, Value};

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// Loads this many-to-many relation for all `parents` with one statement (or one batch of
    /// chunks): a record linked to several parents is read once per link and each parent gets
    /// its own copy.
    pub(super) async fn load_through(&self, db: &Db, parents: &mut [P]) -> Result<()> {
        let relation = self.relation.def();
        let mut slots: HashMap<Key, usize> = HashMap::default();
        let mut keys: Vec<Value> = Vec::new();
        let mut parent_slots: Vec<Option<usize>> = Vec::with_capacity(parents.len());
        for parent in parents.iter() {
            let value = parent.column_value(relation.local)?;
            let slot = Key::of(&value).map(|key| {
                let next = keys.len();
                let slot = *slots.entry(key).or_insert(next);
                if slot == next {
                    keys.push(value);
                }
                slot
            });
            parent_slots.push(slot);
        }
        let mut children: Vec<C> = Vec::new();
        let mut owners: Vec<Option<usize>> = Vec::new();
        if !keys.is_empty() {
            let statements = statements_for_keys(self, keys, db.capabilities())?;
            let width = 1 + C::DEF.columns.len();
            let key_type = P::DEF
                .columns
                .get(relation.local)
                .map_or(SqlType::Integer, |column| column.sql_type);
            for result in db.run_all(&statements).await? {
                check_shape(&result, width, C::DEF)?;
                let mut values = result.values;
                for row in values.chunks_exact_mut(width) {
                    let Some((key, own)) = row.split_first_mut() else {
                        continue;
                    };
                    // Where INTEGER columns come as text, so does the parent's key.
                    integers_from_text(key_type, std::slice::from_mut(key));
                    let owner = Key::from_value(std::mem::take(key))
                        .and_then(|key| slots.get(&key).copied());
                    children.push(C::decode(own)?);
                    owners.push(owner);
                }
            }
            for nested in &self.nested {
                nested.loader().load_level(db, &mut children).await?;
            }
        }
        let mut groups: Vec<Vec<C>> = vec![Vec::new(); slots.len()];
        for (child, owner) in children.into_iter().zip(owners) {
            if let Some(group) = owner.and_then(|slot| groups.get_mut(slot)) {
                group.push(child);
            }
        }
        // Parents that share a key share the group: the last one takes it, the others clone.
        let mut remaining: Vec<usize> = vec![0; groups.len()];
        for slot in parent_slots.iter().flatten() {
            if let Some(n) = remaining.get_mut(*slot) {
                *n += 1;
            }
        }
        for (parent, slot) in parents.iter_mut().zip(parent_slots) {
            let records = match slot {
                Some(slot) => match (remaining.get_mut(slot), groups.get_mut(slot)) {
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
                None => Vec::new(),
            };
            self.relation.attach(parent, records);
        }
        Ok(())
    }
}
