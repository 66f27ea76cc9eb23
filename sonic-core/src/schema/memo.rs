//! Values computed once per table definition for the life of the program.

use super::TableDef;

/// Values derived from a table definition, computed once per table for the life of the
/// program (SQL text that depends on the table alone, the cache fingerprint): a `static` of
/// this type memoizes one kind of value for every table.
///
/// Entries are keyed by the address of the `&'static TableDef` and leaked, one per table of
/// the program. A derived value depends on the definition's contents only, so an address
/// always maps to the same value (two definitions the compiler merged into one address have
/// the same contents).
pub(crate) struct TableMemo<V: 'static> {
    entries: std::sync::RwLock<Vec<(usize, &'static V)>>,
}

impl<V: Send + Sync + 'static> TableMemo<V> {
    /// An empty memo, for a `static`.
    pub(crate) const fn new() -> Self {
        TableMemo {
            entries: std::sync::RwLock::new(Vec::new()),
        }
    }

    /// The value for `def`, computed by `init` the first time.
    pub(crate) fn get(
        &self,
        def: &'static TableDef,
        init: impl FnOnce(&'static TableDef) -> V,
    ) -> &'static V {
        self.get_for(def, || init(def))
    }

    fn get_for<K>(&self, key: &'static K, init: impl FnOnce() -> V) -> &'static V {
        let address = std::ptr::from_ref(key) as usize;
        let known = |entries: &[(usize, &'static V)]| {
            entries
                .iter()
                .find(|(a, _)| *a == address)
                .map(|&(_, value)| value)
        };
        // The list only ever grows by whole entries, so a poisoned lock is still consistent.
        if let Some(value) = known(&self.entries.read().unwrap_or_else(|e| e.into_inner())) {
            return value;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = known(&entries) {
            return value;
        }
        let value: &'static V = Box::leak(Box::new(init()));
        entries.push((address, value));
        value
    }
}

/// SQL texts built once per shape, keyed by what they depend on (tables by address, column
/// positions, kinds): a program has a handful of shapes, each text is leaked once and shared
/// by every statement of that shape.
pub(crate) struct TextMemo<K: 'static> {
    entries: std::sync::RwLock<Vec<(K, &'static str)>>,
}

impl<K: PartialEq + Send + Sync + 'static> TextMemo<K> {
    /// An empty memo, for a `static`.
    pub(crate) const fn new() -> Self {
        TextMemo {
            entries: std::sync::RwLock::new(Vec::new()),
        }
    }

    /// The text of `key`'s shape, written by `build` the first time.
    pub(crate) fn get<E>(
        &self,
        key: K,
        build: impl FnOnce() -> Result<String, E>,
    ) -> Result<&'static str, E> {
        let known = |entries: &[(K, &'static str)]| {
            entries
                .iter()
                .find(|(k, _)| *k == key)
                .map(|&(_, text)| text)
        };
        // The list only ever grows by whole entries, so a poisoned lock is still consistent.
        if let Some(text) = known(&self.entries.read().unwrap_or_else(|e| e.into_inner())) {
            return Ok(text);
        }
        let built = build()?;
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if let Some(text) = known(&entries) {
            return Ok(text);
        }
        let text: &'static str = Box::leak(built.into_boxed_str());
        entries.push((key, text));
        Ok(text)
    }
}
