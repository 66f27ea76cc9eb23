//! One KV namespace shared by every shard, each shard's keys under its own prefix: records
//! with the same primary key in two shards are two cache entries, and a write in one shard
//! invalidates nothing in another.

use sonic_db_core::kv::{validate_key, KvBackend, KvListOptions, KvListPage, KvPutOptions};
use sonic_db_core::Result;

/// A [`KvBackend`] that puts every key of `inner` under `{shard}/`.
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
/// use sonic_db_shard::ShardKv;
///
/// let shared = MemoryKv::new();
/// let eu = ShardKv::new(shared.clone(), "eu");
/// eu.put("users:7", b"ada", &KvPutOptions::default()).await?;
/// assert_eq!(shared.get("eu/users:7").await?, Some(b"ada".to_vec()));
/// assert_eq!(ShardKv::new(shared, "us").get("users:7").await?, None);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct ShardKv<K> {
    inner: K,
    prefix: String,
}

impl<K: KvBackend> ShardKv<K> {
    /// `inner`'s keys for the shard `shard`.
    pub fn new(inner: K, shard: &str) -> Self {
        ShardKv {
            inner,
            prefix: format!("{shard}/"),
        }
    }

    /// The key in `inner`, checked against KV's limits (512 bytes) with the prefix.
    fn key(&self, key: &str) -> Result<String> {
        let full = format!("{}{key}", self.prefix);
        validate_key(&full)?;
        Ok(full)
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<K: KvBackend> KvBackend for ShardKv<K> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.inner.get(&self.key(key)?).await
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        let keys = keys
            .iter()
            .map(|k| self.key(k))
            .collect::<Result<Vec<_>>>()?;
        self.inner.get_bulk(&keys).await
    }

    async fn get_bulk_text(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        let keys = keys
            .iter()
            .map(|k| self.key(k))
            .collect::<Result<Vec<_>>>()?;
        self.inner.get_bulk_text(&keys).await
    }

    async fn put(&self, key: &str, value: &[u8], options: &KvPutOptions) -> Result<()> {
        self.inner.put(&self.key(key)?, value, options).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(&self.key(key)?).await
    }

    /// This shard's keys only, named without the shard's prefix.
    async fn list(&self, options: &KvListOptions) -> Result<KvListPage> {
        let scoped = KvListOptions {
            prefix: Some(format!(
                "{}{}",
                self.prefix,
                options.prefix.as_deref().unwrap_or("")
            )),
            ..options.clone()
        };
        let mut page = self.inner.list(&scoped).await?;
        for key in &mut page.keys {
            if let Some(name) = key.name.strip_prefix(&self.prefix) {
                key.name = name.to_owned();
            }
        }
        Ok(page)
    }
}
