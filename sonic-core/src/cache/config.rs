//! Cache settings: per table, on/off, TTL and key prefix.

use std::collections::HashMap;

use super::PROPAGATION_MS;
use crate::error::{Error, Result};
use crate::kv::MIN_TTL_SECS;
use crate::schema::Table;

/// The cache settings of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCache {
    /// Whether single-record reads of the table go through KV.
    pub enabled: bool,
    /// Seconds a cached record lives (at least 60, the platform's minimum). Also the bound on
    /// how long another isolate can serve a stale value after a failed KV write.
    pub ttl_secs: u64,
    /// The first part of every key: `{prefix}:{table}:{id}`. Letters, digits, `-`, `_`,
    /// `.`, `/`; at most 64 bytes.
    pub prefix: String,
}

impl Default for TableCache {
    fn default() -> Self {
        TableCache {
            enabled: true,
            ttl_secs: 300,
            prefix: "sonic".to_string(),
        }
    }
}

impl TableCache {
    /// Caching on, 5-minute TTL, prefix `sonic`.
    pub fn new() -> Self {
        TableCache::default()
    }

    /// Caching off: every read of the table goes to SQL.
    pub fn disabled() -> Self {
        TableCache {
            enabled: false,
            ..TableCache::default()
        }
    }

    /// Sets the TTL in seconds.
    pub fn ttl(mut self, seconds: u64) -> Self {
        self.ttl_secs = seconds;
        self
    }

    /// Sets the key prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
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
            max_kv_writes_per_write: 200,
        }
    }
}

impl CacheConfig {
    /// Every table cached with [`TableCache::default`].
    pub fn new() -> Self {
        CacheConfig::default()
    }

    /// Sets the default TTL (tables configured one by one keep theirs).
    pub fn ttl(mut self, seconds: u64) -> Self {
        self.default.ttl_secs = seconds;
        self
    }

    /// Sets the default key prefix.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.default.prefix = prefix.into();
        self
    }

    /// Sets the settings of tables not configured one by one; `TableCache::disabled()` makes
    /// caching opt-in.
    pub fn default_table(mut self, settings: TableCache) -> Self {
        self.default = settings;
        self
    }

    /// Sets the settings of table `T`.
    pub fn table<T: Table>(self, settings: TableCache) -> Self {
        self.table_named(T::DEF.name, settings)
    }

    /// Sets the settings of the table with this SQL name.
    pub fn table_named(mut self, name: impl Into<String>, settings: TableCache) -> Self {
        self.tables.insert(name.into(), settings);
        self
    }

    /// The most KV writes one write spends (default 200; Workers allow 1,000 KV operations per
    /// invocation). Records beyond it are marked suspect instead (see the module docs).
    pub fn max_kv_writes_per_write(mut self, max: usize) -> Self {
        self.max_kv_writes_per_write = max;
        self
    }

    /// The most KV writes one write spends.
    pub(crate) fn kv_write_budget(&self) -> usize {
        self.max_kv_writes_per_write
    }

    /// The settings that apply to a table.
    pub fn for_table(&self, name: &str) -> &TableCache {
        self.tables.get(name).unwrap_or(&self.default)
    }

    /// Checks every TTL (≥ 60 s) and prefix.
    pub fn validate(&self) -> Result<()> {
        self.default.validate("the default")?;
        for (name, settings) in &self.tables {
            settings.validate(&format!("table `{name}`"))?;
        }
        Ok(())
    }
}
