//! Values computed once per table definition (or per shape of SQL) for the life of the
//! program.

use super::TableDef;

/// Values derived from a table definition, computed once per table for the life of the
/// program (SQL text that depends on the table alone, the cache fingerprint): a `static` of
/// this type memoizes one kind of value for every table.
///
/// Entries are keyed by the address of the `&'static TableDef` and leaked, one per table of
/// the program. A derived value depends on the definition's contents only, so an address
/// always maps to the same value (two definitions the compiler merged into one address have
/// the same contents).
pub(crate) struct TableMemo<V: 'static>(Memo<usize, V>);

impl<V: Send + Sync + 'static> TableMemo<V> {
    /// An empty memo, for a `static`.
    pub(crate) const fn new() -> Self {
        TableMemo(Memo::new())
    }

    /// The value for `def`, computed by `init` the first time.
    pub(crate) fn get(
        &self,
        def: &'static TableDef,
        init: impl FnOnce(&'static TableDef) -> V,
    ) -> &'static V {
        let address = std::ptr::from_ref(def) as usize;
        let built: Result<_, std::convert::Infallible> =
            self.0.get(address, || Ok(Box::new(init(def))));
        match built {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }
}

/// SQL texts built once per shape, keyed by what they depend on (tables by address, column
/// positions, kinds): a program has a handful of shapes, each text is leaked once and shared
/// by every statement of that shape.
pub(crate) struct TextMemo<K: 'static>(Memo<K, str>);

impl<K: PartialEq + Send + Sync + 'static> TextMemo<K> {
    /// An empty memo, for a `static`.
    pub(crate) const fn new() -> Self {
        TextMemo(Memo::new())
    }

    /// The text of `key`'s shape, written by `build` the first time.
    pub(crate) fn get<E>(
        &self,
        key: K,
        build: impl FnOnce() -> Result<String, E>,
    ) -> Result<&'static str, E> {
        self.0.get(key, || build().map(String::into_boxed_str))
    }
}

/// How many entries of a memo are read without a lock: a program's tables, or its shapes of
/// one kind of statement, usually fit.
const SLOTS: usize = 16;

/// Leaked values by key, each built once; the list only ever grows by whole entries. The
/// first [`SLOTS`] entries are read without taking a lock (every query reads one or two
/// memos, and a lock costs more than the comparisons), the rest under a read lock.
struct Memo<K: 'static, V: ?Sized + 'static> {
    slots: [std::sync::OnceLock<(K, &'static V)>; SLOTS],
    more: std::sync::RwLock<Vec<(K, &'static V)>>,
}

impl<K: PartialEq + Send + Sync + 'static, V: ?Sized + Send + Sync + 'static> Memo<K, V> {
    const fn new() -> Self {
        Memo {
            slots: [const { std::sync::OnceLock::new() }; SLOTS],
            more: std::sync::RwLock::new(Vec::new()),
        }
    }

    fn get<E>(&self, key: K, build: impl FnOnce() -> Result<Box<V>, E>) -> Result<&'static V, E> {
        if let Some(value) = self.known(&key) {
            return Ok(value);
        }
        let built = build()?;
        // Entries are added under this lock only, one at a time, and only ever whole, so a
        // poisoned lock is still consistent.
        let mut more = self.more.write().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = self.known_in(&key, &more) {
            return Ok(value);
        }
        let value: &'static V = Box::leak(built);
        match self.slots.iter().find(|slot| slot.get().is_none()) {
            // Free, and only set under the lock held: this set cannot fail.
            Some(slot) => {
                let _ = slot.set((key, value));
            }
            None => more.push((key, value)),
        }
        Ok(value)
    }

    /// The value of `key`, if built already.
    fn known(&self, key: &K) -> Option<&'static V> {
        let in_slots = self.in_slots(key);
        if in_slots.is_some() || self.slots.iter().any(|slot| slot.get().is_none()) {
            return in_slots;
        }
        let more = self.more.read().unwrap_or_else(|e| e.into_inner());
        find(&more, key)
    }

    /// [`Memo::known`] with the lock of the other entries held.
    fn known_in(&self, key: &K, more: &[(K, &'static V)]) -> Option<&'static V> {
        self.in_slots(key).or_else(|| find(more, key))
    }

    fn in_slots(&self, key: &K) -> Option<&'static V> {
        for slot in &self.slots {
            match slot.get() {
                Some((k, value)) if k == key => return Some(*value),
                Some(_) => {}
                // Slots fill in order: none after an empty one.
                None => return None,
            }
        }
        None
    }
}

fn find<K: PartialEq, V: ?Sized>(entries: &[(K, &'static V)], key: &K) -> Option<&'static V> {
    entries
        .iter()
        .find(|(k, _)| k == key)
        .map(|&(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_built_once_beyond_the_lock_free_slots_too() {
        static TEXTS: TextMemo<usize> = TextMemo::new();
        let builds = std::cell::Cell::new(0);
        let text = |key: usize| {
            TEXTS.get(key, || {
                builds.set(builds.get() + 1);
                Ok::<_, ()>(format!("text {key}"))
            })
        };
        let first: Vec<&'static str> = (0..3 * SLOTS).map(|key| text(key).unwrap()).collect();
        for (key, earlier) in first.iter().enumerate() {
            let again = text(key).unwrap();
            assert_eq!(again, format!("text {key}"));
            assert!(std::ptr::eq(again, *earlier), "key {key} was built twice");
        }
        assert_eq!(builds.get(), 3 * SLOTS);
        // A failed build keeps nothing.
        assert_eq!(TEXTS.get(1000, || Err(())), Err(()));
        assert_eq!(text(1000).unwrap(), "text 1000");
    }
}
