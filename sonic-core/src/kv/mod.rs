//! What a key-value store must provide: the shape of Workers KV.
//!
//! [`KvBackend`] is the contract the record cache talks to. It mirrors the Workers
//! KV binding (and so `worker::KvStore`) closely enough that an implementation is a thin
//! adapter: byte values, an expiration TTL, JSON metadata, bulk get of at most
//! [`MAX_BULK_GET`] keys, and listing by prefix with a cursor. [`MemoryKv`] implements it in
//! memory for native tests and enforces the platform's limits, so a test that passes against it
//! does not break on Cloudflare for a key that is too long or a TTL that is too short.
//!
//! Listing is paged and **a page may be short or even empty while more keys follow**; the
//! helpers [`list_all`] and [`delete_prefix`] follow the cursor to the end (SonicJs deleted at
//! most the first 100 keys, and stale entries survived).

mod memory;
mod rules;

pub use memory::MemoryKv;
pub use rules::{
    check_bulk_keys, check_bulk_len, check_put, list_limit, validate_key, MAX_BULK_GET,
    MAX_KEY_BYTES, MAX_LIST_LIMIT, MAX_METADATA_BYTES, MAX_VALUE_BYTES, MIN_TTL_SECS,
};

use crate::error::{Error, Result};

/// `Send + Sync` off wasm32, nothing on wasm32 (the same bound as SQL backends).
pub use crate::backend::MaybeSendSync;

/// Options of a put: when the entry expires and what metadata it carries.
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
///
/// let kv = MemoryKv::new();
/// let metadata = Some(serde_json::json!({ "v": 2 }));
/// let options = KvPutOptions { metadata, ..KvPutOptions::ttl(300) };
/// kv.put("sonic:users:1", b"{}", &options).await?;
/// let listed = kv.list(&Default::default()).await?;
/// assert_eq!(listed.keys[0].metadata, options.metadata); // read back without the value
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KvPutOptions {
    /// Seconds from now until the entry expires (at least [`MIN_TTL_SECS`]).
    pub expiration_ttl: Option<u64>,
    /// Absolute expiry, Unix seconds (at least [`MIN_TTL_SECS`] in the future).
    pub expiration: Option<u64>,
    /// Arbitrary JSON kept beside the value and returned by [`KvBackend::list`]
    /// (at most [`MAX_METADATA_BYTES`] serialised).
    pub metadata: Option<serde_json::Value>,
}

impl KvPutOptions {
    /// Options with an expiration TTL and nothing else.
    ///
    /// ```
    /// use sonic_db_core::kv::KvPutOptions;
    /// assert_eq!(KvPutOptions::ttl(300).expiration_ttl, Some(300));
    /// ```
    pub fn ttl(seconds: u64) -> Self {
        KvPutOptions {
            expiration_ttl: Some(seconds),
            ..KvPutOptions::default()
        }
    }
}

/// Options of one list call.
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::kv::{KvBackend, KvListOptions, KvPutOptions, MemoryKv};
///
/// let kv = MemoryKv::new();
/// for key in ["a:1", "a:2", "a:3", "b:1"] {
///     kv.put(key, b"", &KvPutOptions::default()).await?;
/// }
/// let first = kv.list(&KvListOptions { limit: Some(2), ..KvListOptions::prefix("a:") }).await?;
/// let next = KvListOptions { cursor: first.cursor.clone(), ..KvListOptions::prefix("a:") };
/// let rest = kv.list(&next).await?;
/// assert_eq!((first.keys.len(), rest.keys.len()), (2, 1));
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KvListOptions {
    /// Only keys starting with this.
    pub prefix: Option<String>,
    /// The cursor returned by the previous page.
    pub cursor: Option<String>,
    /// Page size, at most [`MAX_LIST_LIMIT`] (the default when `None`).
    pub limit: Option<usize>,
}

impl KvListOptions {
    /// The first page of keys starting with `prefix`.
    ///
    /// ```
    /// use sonic_db_core::kv::KvListOptions;
    /// let o = KvListOptions::prefix("sonic:users:");
    /// assert_eq!(o.prefix.as_deref(), Some("sonic:users:"));
    /// ```
    pub fn prefix(prefix: impl Into<String>) -> Self {
        KvListOptions {
            prefix: Some(prefix.into()),
            ..KvListOptions::default()
        }
    }
}

/// One key of a list page.
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
/// use sonic_db_core::FixedClock;
///
/// let kv = MemoryKv::with_clock(FixedClock::new(1_000_000)); // 1,000 s after the epoch
/// kv.put("k", b"v", &KvPutOptions::ttl(60)).await?;
/// let key = &kv.list(&Default::default()).await?.keys[0];
/// assert_eq!((key.name.as_str(), key.expiration), ("k", Some(1_060)));
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KvKey {
    /// The key.
    pub name: String,
    /// When it expires, Unix seconds.
    pub expiration: Option<u64>,
    /// The metadata it was put with.
    pub metadata: Option<serde_json::Value>,
}

/// One page of a list: `{ keys, list_complete, cursor }` as Workers KV returns it.
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::kv::{KvBackend, KvListOptions, MemoryKv};
///
/// // Following the cursor by hand (or let `list_all` do it).
/// # let kv = MemoryKv::new();
/// # for key in ["a", "b", "c"] { kv.put(key, b"", &Default::default()).await?; }
/// let mut options = KvListOptions { limit: Some(2), ..KvListOptions::default() };
/// let (mut keys, mut pages) = (Vec::new(), 0);
/// loop {
///     let page = kv.list(&options).await?;
///     (keys, pages) = ([keys, page.keys].concat(), pages + 1);
///     if page.list_complete {
///         break;
///     }
///     options.cursor = page.cursor;
/// }
/// assert_eq!((keys.len(), pages), (3, 2));
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KvListPage {
    /// Keys in lexicographic (UTF-8 byte) order. May be empty even when more follow.
    pub keys: Vec<KvKey>,
    /// `true` on the last page.
    pub list_complete: bool,
    /// Pass back in [`KvListOptions::cursor`] for the next page (present unless complete).
    pub cursor: Option<String>,
}

/// A key-value store with the semantics and limits of Workers KV.
///
/// Implementations report every failure as [`Error::Kv`]. On wasm32 the futures are not
/// `Send` (JavaScript promises), elsewhere they are.
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
///
/// // Code written against the trait runs on Workers KV and on MemoryKv alike.
/// async fn render(kv: &dyn KvBackend, path: &str) -> sonic_db_core::Result<Vec<u8>> {
///     if let Some(html) = kv.get(path).await? {
///         return Ok(html);
///     }
///     let html = format!("<h1>{path}</h1>").into_bytes();
///     kv.put(path, &html, &KvPutOptions::ttl(300)).await?;
///     Ok(html)
/// }
/// let kv = MemoryKv::new();
/// assert_eq!(render(&kv, "/about").await?, b"<h1>/about</h1>");
/// assert!(kv.get("/about").await?.is_some());
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub trait KvBackend: MaybeSendSync {
    /// The value stored under `key`, or `None` (absent or expired).
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::kv::{KvBackend, MemoryKv};
    /// assert_eq!(MemoryKv::new().get("never-put").await?, None);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;

    /// The values of up to [`MAX_BULK_GET`] keys in one call, in the order asked.
    ///
    /// The default implementation calls [`get`](KvBackend::get) once per key; backends with a
    /// bulk operation override it. Use [`get_all`] for more keys: it splits them into calls.
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
    ///
    /// let kv = MemoryKv::new();
    /// kv.put("a", b"1", &KvPutOptions::default()).await?;
    /// let values = kv.get_bulk(&["a".to_string(), "b".to_string()]).await?;
    /// assert_eq!(values, [Some(b"1".to_vec()), None]); // in the order asked
    /// let too_many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    /// assert!(kv.get_bulk(&too_many).await.is_err());
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        check_bulk_len(keys.len())?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            out.push(self.get(key).await?);
        }
        Ok(out)
    }

    /// The values of up to [`MAX_BULK_GET`] keys holding UTF-8 text (JSON, tokens), in the
    /// order asked, in **one** operation where the platform has one: the cache reads a record
    /// and its two generations with it. Bytes that are not UTF-8 come back with U+FFFD
    /// replacements, as from the Workers runtime's bulk get.
    ///
    /// The default implementation calls [`get_bulk`](KvBackend::get_bulk).
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
    ///
    /// let kv = MemoryKv::new();
    /// kv.put("a", b"{}", &KvPutOptions::default()).await?;
    /// let values = kv.get_bulk_text(&["b".to_string(), "a".to_string()]).await?;
    /// assert_eq!(values, [None, Some("{}".to_string())]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn get_bulk_text(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        Ok(self
            .get_bulk(keys)
            .await?
            .into_iter()
            .map(|value| value.map(text_of))
            .collect())
    }

    /// Stores `value` under `key`, replacing any value (last write wins).
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
    ///
    /// let kv = MemoryKv::new();
    /// kv.put("k", b"first", &KvPutOptions::default()).await?;
    /// kv.put("k", b"second", &KvPutOptions::default()).await?;
    /// assert_eq!(kv.get("k").await?.as_deref(), Some(&b"second"[..]));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn put(&self, key: &str, value: &[u8], options: &KvPutOptions) -> Result<()>;

    /// Removes `key`. Removing an absent key succeeds.
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
    ///
    /// let kv = MemoryKv::new();
    /// kv.put("k", b"v", &KvPutOptions::default()).await?;
    /// kv.delete("k").await?;
    /// assert_eq!(kv.get("k").await?, None);
    /// kv.delete("k").await?; // idempotent
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn delete(&self, key: &str) -> Result<()>;

    /// One page of keys. Loop on [`KvListPage::cursor`] until
    /// [`KvListPage::list_complete`], or use [`list_all`].
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::kv::{KvBackend, KvListOptions, KvPutOptions, MemoryKv};
    ///
    /// let kv = MemoryKv::new();
    /// for key in ["b", "a", "c"] {
    ///     kv.put(key, b"", &KvPutOptions::default()).await?;
    /// }
    /// let page = kv.list(&KvListOptions::default()).await?;
    /// let names: Vec<&str> = page.keys.iter().map(|k| k.name.as_str()).collect();
    /// assert_eq!(names, ["a", "b", "c"]); // sorted by key
    /// assert!(page.list_complete);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    async fn list(&self, options: &KvListOptions) -> Result<KvListPage>;
}

/// The values of any number of keys, in the order asked, in as few bulk gets as the platform
/// allows ([`MAX_BULK_GET`] keys each).
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::kv::{get_all, KvBackend, KvPutOptions, MemoryKv};
///
/// let kv = MemoryKv::new();
/// kv.put("7", b"seven", &KvPutOptions::default()).await?;
/// let keys: Vec<String> = (0..250).map(|i| i.to_string()).collect(); // three bulk gets
/// let values = get_all(&kv, &keys).await?;
/// assert_eq!((values.len(), values[7].as_deref()), (250, Some(&b"seven"[..])));
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
pub async fn get_all<K: KvBackend + ?Sized>(
    kv: &K,
    keys: &[String],
) -> Result<Vec<Option<Vec<u8>>>> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(MAX_BULK_GET) {
        out.extend(kv.get_bulk(chunk).await?);
    }
    Ok(out)
}

/// Every key starting with `prefix`, following the cursor through all pages (pages may be
/// empty before the end).
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::kv::{list_all, KvBackend, KvPutOptions, MemoryKv};
///
/// let kv = MemoryKv::new();
/// for i in 0..1_500 { // more than one page of 1,000
///     kv.put(&format!("sonic:posts:{i}"), b"", &KvPutOptions::default()).await?;
/// }
/// assert_eq!(list_all(&kv, "sonic:posts:").await?.len(), 1_500);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
pub async fn list_all<K: KvBackend + ?Sized>(kv: &K, prefix: &str) -> Result<Vec<KvKey>> {
    let mut keys = Vec::new();
    let mut options = KvListOptions::prefix(prefix);
    loop {
        let page = kv.list(&options).await?;
        keys.extend(page.keys);
        if page.list_complete {
            return Ok(keys);
        }
        match page.cursor {
            // A cursor that does not move would loop forever: treat it as a broken backend.
            Some(cursor) if options.cursor.as_deref() != Some(cursor.as_str()) => {
                options.cursor = Some(cursor)
            }
            _ => {
                return Err(Error::Kv(
                    "list page is incomplete but has no new cursor".to_string(),
                ))
            }
        }
    }
}

/// Deletes every key starting with `prefix` and returns how many were deleted.
///
/// All keys are listed first (following the cursor) and then deleted, so deleting never
/// disturbs the paging. Mind the platform's 1,000 KV operations per invocation: a prefix with
/// more keys needs several invocations (each call deletes what is there at the time).
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::kv::{delete_prefix, KvBackend, KvPutOptions, MemoryKv};
///
/// let kv = MemoryKv::new();
/// for key in ["sonic:users:1", "sonic:users:2", "sonic:posts:1"] {
///     kv.put(key, b"", &KvPutOptions::default()).await?;
/// }
/// assert_eq!(delete_prefix(&kv, "sonic:users:").await?, 2);
/// assert!(kv.get("sonic:posts:1").await?.is_some());
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
pub async fn delete_prefix<K: KvBackend + ?Sized>(kv: &K, prefix: &str) -> Result<usize> {
    let keys = list_all(kv, prefix).await?;
    for key in &keys {
        kv.delete(&key.name).await?;
    }
    Ok(keys.len())
}

/// Bytes read from KV as text: kept as they are when they are UTF-8 (no copy), else with
/// U+FFFD for what is not, as Workers KV's `text` reading decodes them.
fn text_of(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_keeps_utf8_and_replaces_what_is_not() {
        assert_eq!(text_of("héllo".as_bytes().to_vec()), "héllo");
        assert_eq!(text_of(vec![b'a', 0xff, b'b']), "a\u{fffd}b");
    }
}
