//! Deliberately broken backends, to prove that the suite notices.
//!
//! A conformance suite that passes whatever the backend does proves nothing. Each
//! [`Sabotage`] breaks one promise of [`SqlBackend`] or [`KvBackend`] in a way a real backend
//! could plausibly get wrong; running the suite on a backend wrapped in [`SabotagedSql`] /
//! [`SabotagedKv`] must make specific scenarios fail ([`Sabotage::must_fail`]).
//!
//! Both wrappers take the same `Option<Sabotage>`, and each applies only the sabotages of its
//! kind, so an application (the example Worker's `POST /_conformance?sabotage=…`) can wrap both
//! of its backends with whatever was asked for:
//!
//! ```
//! use sonic_db_conformance::{run, Options, Sabotage, SabotagedKv, SabotagedSql};
//! use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv};
//!
//! let sabotage = Sabotage::parse("kv_stale")?; // `None` for "" or "none": the honest run
//! let db = Db::new(SabotagedSql::new(SqliteBackend::memory()?, sabotage))
//!     .with_kv(SabotagedKv::new(MemoryKv::new(), sabotage), CacheConfig::new())?;
//! let report = pollster::block_on(run(&db, &Options::new("broken KV").only(["kv_delete"])));
//! assert_eq!(report.failures(), ["kv_delete"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::str::FromStr;

use sonic_db_core::backend::MaybeSendSync;
use sonic_db_core::kv::{KvListOptions, KvListPage, KvPutOptions};
use sonic_db_core::{Capabilities, KvBackend, QueryResult, Result, SqlBackend, Statement, Value};

/// One way of breaking a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sabotage {
    /// SQL: every result of two rows or more loses its last row.
    DropLastRow,
    /// SQL: every integer the database returns is cast to `i32` (wrapping), as a backend
    /// that goes through 32-bit integers would — also those in text form, as Sonic selects
    /// INTEGER columns beyond ±(2^53 − 1) where numbers cross JavaScript (`CAST(col AS
    /// TEXT)`, #12 item 3).
    TruncateIntegers,
    /// SQL: a batch runs its statements one by one, and a failing statement leaves the
    /// earlier ones applied (no rollback); a transaction's body runs outside any transaction.
    BatchNotAtomic,
    /// KV: a put over an existing key reports success and keeps the old value, and a delete
    /// reports success and deletes nothing (so a replaced generation or entry stays).
    KvStale,
    /// KV: a put reports success and stores nothing.
    KvLostPut,
}

impl Sabotage {
    /// Every sabotage.
    pub const ALL: [Sabotage; 5] = [
        Sabotage::DropLastRow,
        Sabotage::TruncateIntegers,
        Sabotage::BatchNotAtomic,
        Sabotage::KvStale,
        Sabotage::KvLostPut,
    ];

    /// The name used in query parameters and reports (`drop_last_row`, …).
    pub fn name(self) -> &'static str {
        match self {
            Sabotage::DropLastRow => "drop_last_row",
            Sabotage::TruncateIntegers => "truncate_integers",
            Sabotage::BatchNotAtomic => "batch_not_atomic",
            Sabotage::KvStale => "kv_stale",
            Sabotage::KvLostPut => "kv_lost_put",
        }
    }

    /// Parses a name given by [`Sabotage::name`]; `""` and `"none"` mean no sabotage. An
    /// unknown name is an error listing the known ones.
    ///
    /// ```
    /// use sonic_db_conformance::Sabotage;
    /// assert_eq!(Sabotage::parse("kv_stale"), Ok(Some(Sabotage::KvStale)));
    /// assert_eq!(Sabotage::parse("none"), Ok(None));
    /// assert!(Sabotage::parse("typo").is_err());
    /// ```
    pub fn parse(name: &str) -> std::result::Result<Option<Sabotage>, String> {
        if name.is_empty() || name == "none" {
            return Ok(None);
        }
        Sabotage::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .map(Some)
            .ok_or_else(|| {
                let known: Vec<&str> = Sabotage::ALL.iter().map(|s| s.name()).collect();
                format!(
                    "unknown sabotage `{name}`; known: none, {}",
                    known.join(", ")
                )
            })
    }

    /// Whether this sabotage breaks the SQL backend (else the KV backend).
    pub fn is_sql(self) -> bool {
        matches!(
            self,
            Sabotage::DropLastRow | Sabotage::TruncateIntegers | Sabotage::BatchNotAtomic
        )
    }

    /// Scenarios that must fail under this sabotage on every backend (others may fail too).
    ///
    /// `batch_not_atomic` is only observable where a write needs several statements: the
    /// `insert_many_atomic` scenario makes sure one does, whatever the parameter limit.
    pub fn must_fail(self) -> &'static [&'static str] {
        match self {
            Sabotage::DropLastRow => &[
                "filter_operators",
                "order_limit_offset",
                "insert_many_1000",
                "eager_many",
                "eager_nested",
                "generated_keys",
                "table_constraints",
                "many_to_many",
            ],
            Sabotage::TruncateIntegers => &[
                "crud",
                "integers",
                "integers_64bit",
                "insert_many_1000",
                "eager_many",
                "kv_miss_then_hit",
                "kv_integers_64bit",
                "generated_keys",
                "insert_defaults",
            ],
            Sabotage::BatchNotAtomic => &["insert_many_atomic"],
            Sabotage::KvStale => &["kv_update", "kv_delete", "kv_update_where"],
            Sabotage::KvLostPut => &[
                "kv_miss_then_hit",
                "kv_insert_then_fill",
                "kv_update",
                "kv_generated_key",
                "kv_composite_keys",
            ],
        }
    }
}

impl fmt::Display for Sabotage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Sabotage {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Sabotage, String> {
        Sabotage::parse(s)?.ok_or_else(|| format!("`{s}` names no sabotage"))
    }
}

/// A SQL backend with a [`Sabotage`] applied (KV sabotages and `None` pass everything
/// through unchanged).
#[derive(Debug, Clone)]
pub struct SabotagedSql<S> {
    inner: S,
    sabotage: Option<Sabotage>,
}

impl<S> SabotagedSql<S> {
    /// Wraps `inner`.
    pub fn new(inner: S, sabotage: Option<Sabotage>) -> Self {
        SabotagedSql { inner, sabotage }
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// What the backend returns, damaged as the sabotage says.
    fn damage(&self, mut result: QueryResult) -> QueryResult {
        match self.sabotage {
            Some(Sabotage::DropLastRow) => {
                let rows = result.row_count();
                if rows >= 2 {
                    let width = result.columns.len();
                    result.values.truncate((rows - 1) * width);
                }
            }
            Some(Sabotage::TruncateIntegers) => {
                for value in &mut result.values {
                    match value {
                        Value::Integer(i) => *i = i64::from(*i as i32),
                        Value::Text(text) => {
                            if let Some(i) = sonic_db_core::value::integer_from_text(text) {
                                *text = i64::from(i as i32).to_string();
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        result
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<S: SqlBackend + MaybeSendSync> SqlBackend for SabotagedSql<S> {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        let result = self.inner.execute(statement).await?;
        Ok(self.damage(result))
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        let results = if self.sabotage == Some(Sabotage::BatchNotAtomic) {
            let mut results = Vec::with_capacity(statements.len());
            for statement in statements {
                results.push(self.inner.execute(statement).await?);
            }
            results
        } else {
            self.inner.batch(statements).await?
        };
        Ok(results.into_iter().map(|r| self.damage(r)).collect())
    }

    fn transaction(&self, body: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        if self.sabotage == Some(Sabotage::BatchNotAtomic) {
            // No transaction at all: what the body wrote before failing stays.
            return body();
        }
        self.inner.transaction(body)
    }

    async fn execute_script(&self, sql: &str) -> Result<()> {
        self.inner.execute_script(sql).await
    }
}

/// A KV backend with a [`Sabotage`] applied (SQL sabotages and `None` pass everything
/// through unchanged).
#[derive(Debug, Clone)]
pub struct SabotagedKv<K> {
    inner: K,
    sabotage: Option<Sabotage>,
}

impl<K> SabotagedKv<K> {
    /// Wraps `inner`.
    pub fn new(inner: K, sabotage: Option<Sabotage>) -> Self {
        SabotagedKv { inner, sabotage }
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &K {
        &self.inner
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<K: KvBackend> KvBackend for SabotagedKv<K> {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.inner.get(key).await
    }

    async fn get_bulk(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>> {
        self.inner.get_bulk(keys).await
    }

    async fn get_bulk_text(&self, keys: &[String]) -> Result<Vec<Option<String>>> {
        self.inner.get_bulk_text(keys).await
    }

    async fn put(&self, key: &str, value: &[u8], options: &KvPutOptions) -> Result<()> {
        match self.sabotage {
            Some(Sabotage::KvLostPut) => return Ok(()),
            Some(Sabotage::KvStale) if self.inner.get(key).await?.is_some() => return Ok(()),
            _ => {}
        }
        self.inner.put(key, value, options).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        if self.sabotage == Some(Sabotage::KvStale) {
            return Ok(());
        }
        self.inner.delete(key).await
    }

    async fn list(&self, options: &KvListOptions) -> Result<KvListPage> {
        self.inner.list(options).await
    }
}
