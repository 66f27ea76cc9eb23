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

/// Leaked values by key, each built once; the list only ever grows by whole entries.
struct Memo<K: 'static, V: ?Sized + 'static> {
    entries: std::sync::RwLock<Vec<(K, &'static V)>>,
}

impl<K: PartialEq + Send + Sync + 'static, V: ?Sized + Send + Sync + 'static> Memo<K, V> {
    const fn new() -> Self {
        Memo {
            entries: std::sync::RwLock::new(Vec::new()),
        }
    }

    fn get<E>(&self, key: K, build: impl FnOnce() -> Result<Box<V>, E>) -> Result<&'static V, E> {
        let known = |entries: &[(K, &'static V)]| {
            entries
                .iter()
                .find(|(k, _)| *k == key)
                .map(|&(_, value)| value)
        };
        // The list only ever grows by whole entries, so a poisoned lock is still consistent.
        if let Some(value) = known(&self.entries.read().unwrap_or_else(|e| e.into_inner())) {
            return Ok(value);
        }
        let built = build()?;
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if let Some(value) = known(&entries) {
            return Ok(value);
        }
        let value: &'static V = Box::leak(built);
        entries.push((key, value));
        Ok(value)
    }
}
