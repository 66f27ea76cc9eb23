//! Cache settings: per table, on/off, TTL, key prefix and bucket count; and the budget of
//! invalidation puts per write.

use std::collections::HashMap;

use super::PROPAGATION_MS;
use crate::error::{Error, Result};
use crate::kv::MIN_TTL_SECS;
use crate::schema::Table;

/// The most bucket generations a table may have.
const MAX_BUCKETS: u32 = 1024;

/// The cache settings of one table.
///
/// ```
/// use sonic_db_core::cache::{CacheConfig, TableCache};
/// let sessions = TableCache::new().ttl(60).prefix("app-v2");
/// let config = CacheConfig::new().table_named("sessions", sessions.clone());
/// assert_eq!(config.for_table("sessions"), &sessions);
/// assert_eq!(config.for_table("users"), &TableCache::default());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCache {
    /// Whether single-record reads of the table go through KV.
    pub enabled: bool,
    /// Seconds a cached record lives (at least 60, the platform's minimum). Also the bound on
    /// how long another handle can serve a stale value when KV refused every invalidation put
    /// of a write.
    pub ttl_secs: u64,
    /// The first part of every key: `{prefix}:{table}:{id}`. Letters, digits, `-`, `_`,
    /// `.`, `/`; at most 64 bytes.
    pub prefix: String,
    /// How many bucket generations the table's records are spread over (1 to 1,024). A
    /// write of one record invalidates its bucket: the cached records sharing it are read
    /// from SQL once more. Changing it remaps records to buckets: change the prefix with it.
    pub buckets: u32,
}

impl Default for TableCache {
    fn default() -> Self {
        TableCache {
            enabled: true,
            ttl_secs: 300,
            prefix: "sonic".to_string(),
            buckets: 64,
        }
    }
}

impl TableCache {
    /// Caching on, 5-minute TTL, prefix `sonic`.
    ///
    /// ```
    /// use sonic_db_core::cache::TableCache;
    /// let settings = TableCache::new();
    /// assert!(settings.enabled);
    /// assert_eq!((settings.ttl_secs, settings.prefix.as_str()), (300, "sonic"));
    /// ```
    pub fn new() -> Self {
        TableCache::default()
    }

    /// Caching off: every read of the table goes to SQL.
    ///
    /// For tables whose records change too often, or must never be read stale.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::cache::{CacheConfig, KvCache, TableCache};
    /// use sonic_db_core::MemoryKv;
    /// # #[derive(sonic_db_core::Table)]
    /// # struct Session { #[column(primary_key)] id: String }
    /// # #[derive(sonic_db_core::Table)]
    /// # struct User { #[column(primary_key)] id: String }
    ///
    /// let config = CacheConfig::new().table::<Session>(TableCache::disabled());
    /// let cache = KvCache::new(MemoryKv::new(), config)?;
    /// assert!(!cache.caches::<Session>());
    /// assert!(cache.caches::<User>());
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn disabled() -> Self {
        TableCache {
            enabled: false,
            ..TableCache::default()
        }
    }

    /// Sets the TTL in seconds.
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, TableCache};
    /// let hourly = TableCache::new().ttl(3_600);
    /// assert_eq!(hourly.ttl_secs, 3_600);
    /// // Below the platform's minimum of 60 s, refused when the config is validated.
    /// let config = CacheConfig::new().table_named("users", TableCache::new().ttl(30));
    /// assert!(config.validate().is_err());
    /// ```
    pub fn ttl(mut self, seconds: u64) -> Self {
        self.ttl_secs = seconds;
        self
    }

    /// Sets the key prefix.
    ///
    /// A new prefix leaves every entry under the old one unread: a way to drop a table's
    /// cache at once, e.g. when its records change shape.
    ///
    /// ```
    /// use sonic_db_core::cache::{record_key, TableCache};
    /// use sonic_db_core::Value;
    /// let v2 = TableCache::new().prefix("sonic-v2");
    /// let key = record_key(&v2.prefix, "users", &Value::Integer(7));
    /// assert_eq!(key.as_deref(), Some("sonic-v2:users:7"));
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets the number of bucket generations (default 64, at most 1,024).
    ///
    /// More buckets: a write invalidates fewer neighbours, but a write of many records puts
    /// more generations (up to [`CacheConfig::max_kv_writes_per_write`], then one table
    /// generation instead).
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, TableCache};
    /// let config = CacheConfig::new().table_named("users", TableCache::new().buckets(256));
    /// assert_eq!(config.for_table("users").buckets, 256);
    /// assert!(CacheConfig::new().table_named("users", TableCache::new().buckets(0)).validate().is_err());
    /// ```
    pub fn buckets(mut self, buckets: u32) -> Self {
        self.buckets = buckets;
        self
    }

    fn validate(&self, what: &str) -> Result<()> {
        if self.ttl_secs < MIN_TTL_SECS {
            return Err(Error::Kv(format!(
                "cache TTL of {} s for {what} is below the platform minimum of {MIN_TTL_SECS} s",
                self.ttl_secs
            )));
        }
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/');
        if self.prefix.is_empty() || self.prefix.len() > 64 || !self.prefix.chars().all(valid) {
            return Err(Error::Kv(format!(
                "cache key prefix `{}` for {what} must be 1 to 64 of A-Z a-z 0-9 - _ . /",
                self.prefix
            )));
        }
        if !(1..=MAX_BUCKETS).contains(&self.buckets) {
            return Err(Error::Kv(format!(
                "cache bucket count {} for {what} must be 1 to {MAX_BUCKETS}",
                self.buckets
            )));
        }
        Ok(())
    }

    /// The window during which this handle remembers a key's KV state.
    pub(super) fn window_ms(&self) -> i64 {
        i64::try_from(self.ttl_secs)
            .unwrap_or(i64::MAX / 2_000)
            .saturating_mul(1000)
            .saturating_add(PROPAGATION_MS)
    }
}

/// Cache settings for all tables: a default and per-table overrides.
///
/// ```
/// use sonic_db_core::cache::{CacheConfig, TableCache};
/// let config = CacheConfig::new()
///     .ttl(600)
///     .table_named("sessions", TableCache::disabled());
/// assert_eq!(config.for_table("users").ttl_secs, 600);
/// assert!(!config.for_table("sessions").enabled);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheConfig {
    default: TableCache,
    tables: HashMap<String, TableCache>,
    max_kv_writes_per_write: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            default: TableCache::default(),
            tables: HashMap::new(),
            max_kv_writes_per_write: 16,
        }
    }
}

impl CacheConfig {
    /// Every table cached with [`TableCache::default`].
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, TableCache};
    /// assert_eq!(CacheConfig::new().for_table("anything"), &TableCache::new());
    /// ```
    pub fn new() -> Self {
        CacheConfig::default()
    }

    /// Sets the default TTL (tables configured one by one keep theirs).
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, TableCache};
    /// let config = CacheConfig::new()
    ///     .table_named("users", TableCache::new().ttl(60))
    ///     .ttl(3_600);
    /// assert_eq!(config.for_table("posts").ttl_secs, 3_600);
    /// assert_eq!(config.for_table("users").ttl_secs, 60);
    /// ```
    pub fn ttl(mut self, seconds: u64) -> Self {
        self.default.ttl_secs = seconds;
        self
    }

    /// Sets the default key prefix.
    ///
    /// One prefix per application (or per environment) lets several share a KV namespace.
    ///
    /// ```
    /// use sonic_db_core::cache::CacheConfig;
    /// let config = CacheConfig::new().prefix("blog-staging");
    /// assert_eq!(config.for_table("posts").prefix, "blog-staging");
    /// assert!(CacheConfig::new().prefix("blog staging").validate().is_err()); // no spaces
    /// ```
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.default.prefix = prefix.into();
        self
    }

    /// Sets the settings of tables not configured one by one; `TableCache::disabled()` makes
    /// caching opt-in.
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, TableCache};
    /// // Opt-in: only `users` is cached.
    /// let config = CacheConfig::new()
    ///     .default_table(TableCache::disabled())
    ///     .table_named("users", TableCache::new());
    /// assert!(config.for_table("users").enabled);
    /// assert!(!config.for_table("posts").enabled);
    /// ```
    pub fn default_table(mut self, settings: TableCache) -> Self {
        self.default = settings;
        self
    }

    /// Sets the settings of table `T`.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// use sonic_db_core::cache::{CacheConfig, TableCache};
    /// # #[derive(sonic_db_core::Table)]
    /// # #[table(name = "sessions")]
    /// # struct Session { #[column(primary_key)] id: String }
    ///
    /// let config = CacheConfig::new().table::<Session>(TableCache::new().ttl(60));
    /// assert_eq!(config.for_table("sessions").ttl_secs, 60); // by its SQL name
    /// # }
    /// ```
    pub fn table<T: Table>(self, settings: TableCache) -> Self {
        self.table_named(T::DEF.name, settings)
    }

    /// Sets the settings of the table with this SQL name.
    ///
    /// For tables known by name only, e.g. from the application's configuration.
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, TableCache};
    /// let uncached = ["audit_log", "sessions"]; // e.g. read from an environment variable
    /// let config = uncached
    ///     .iter()
    ///     .fold(CacheConfig::new(), |c, name| c.table_named(*name, TableCache::disabled()));
    /// assert!(!config.for_table("sessions").enabled);
    /// assert!(config.for_table("users").enabled);
    /// ```
    pub fn table_named(mut self, name: impl Into<String>, settings: TableCache) -> Self {
        self.tables.insert(name.into(), settings);
        self
    }

    /// The most bucket-generation puts one write spends (default 16). A write touching more
    /// buckets of a table puts one fresh *table* generation instead, which invalidates every
    /// cached record of the table (see the module docs).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, Found, MemoryKv, Schema, Source};
    /// # #[derive(Debug, Clone, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String, n: i64 }
    /// # pollster::block_on(async {
    /// let config = CacheConfig::new().max_kv_writes_per_write(1);
    /// let db = Db::new(SqliteBackend::memory()?).with_kv(MemoryKv::new(), config)?;
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// let post = |id: &str| Post { id: id.into(), n: 0 };
    /// db.insert_many(&[post("a"), post("b"), post("c")]).await?; // no KV write
    /// db.find::<Post>("a").await?; // a miss, filled
    /// let source = |found: Option<Found<Post>>| found.map(|f| f.source);
    /// assert_eq!(source(db.find_with_source("a").await?), Some(Source::Kv));
    /// // Two records (likely two buckets): one table generation put instead.
    /// db.update_where::<Post>().set(Post::N, 1).filter(Post::ID.ne("c")).run().await?;
    /// assert_eq!(source(db.find_with_source("a").await?), Some(Source::D1));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn max_kv_writes_per_write(mut self, max: usize) -> Self {
        self.max_kv_writes_per_write = max;
        self
    }

    /// The most KV writes one write spends.
    pub(crate) fn kv_write_budget(&self) -> usize {
        self.max_kv_writes_per_write
    }

    /// The settings that apply to a table.
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, TableCache};
    /// let config = CacheConfig::new().table_named("users", TableCache::new().ttl(60));
    /// assert_eq!(config.for_table("users").ttl_secs, 60);
    /// assert_eq!(config.for_table("posts"), &TableCache::new()); // the default
    /// ```
    pub fn for_table(&self, name: &str) -> &TableCache {
        self.tables.get(name).unwrap_or(&self.default)
    }

    /// Checks every TTL (≥ 60 s), prefix and bucket count.
    ///
    /// [`KvCache::new`](crate::cache::KvCache::new) and [`Db::with_kv`](crate::Db::with_kv)
    /// call it; call it yourself to check a configuration early, e.g. at startup.
    ///
    /// ```
    /// use sonic_db_core::cache::{CacheConfig, TableCache};
    /// assert!(CacheConfig::new().validate().is_ok());
    /// let config = CacheConfig::new().table_named("users", TableCache::new().prefix("a b"));
    /// let err = config.validate().unwrap_err();
    /// assert!(err.to_string().contains("for table `users`"), "{err}");
    /// ```
    pub fn validate(&self) -> Result<()> {
        self.default.validate("the default")?;
        for (name, settings) in &self.tables {
            settings.validate(&format!("table `{name}`"))?;
        }
        Ok(())
    }
}
