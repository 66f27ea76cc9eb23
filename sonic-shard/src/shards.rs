//! Named databases, the placement of a shard key among them, and fan-out across all of them.

use std::cmp::Ordering;
use std::future::Future;

use futures_util::future::try_join_all;
use sonic_db_core::query::Page;
use sonic_db_core::{Db, Error, Result};

use crate::placement;

/// Databases by name, each key's database chosen by rendezvous hashing over the names.
///
/// A shard's name is its identity: placement hashes it, so renaming a shard moves its keys
/// (see `docs/scaling.md` for resharding). Names are 1 to 64 of `A-Z a-z 0-9 - _ .`, so they
/// can prefix KV keys ([`ShardKv`](crate::ShardKv)).
///
/// ```
/// # pollster::block_on(async {
/// use sonic_db_core::{sqlite::SqliteBackend, Db};
/// use sonic_db_shard::Shards;
///
/// let shards = Shards::new()
///     .add("eu-1", Db::new(SqliteBackend::memory()?))?
///     .add("eu-2", Db::new(SqliteBackend::memory()?))?;
/// let home = shards.name_for("tenant-42")?; // always the same shard for this key
/// assert!(["eu-1", "eu-2"].contains(&home));
/// shards.for_key("tenant-42")?.sql("CREATE TABLE notes (id TEXT)").run().await?;
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
#[derive(Clone, Default)]
pub struct Shards {
    shards: Vec<(String, Db)>,
}

impl Shards {
    /// No shard yet.
    ///
    /// ```
    /// assert!(sonic_db_shard::Shards::new().for_key("k").is_err());
    /// ```
    pub fn new() -> Self {
        Shards::default()
    }

    /// Adds the database `db` as the shard `name`.
    ///
    /// ```
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    /// use sonic_db_shard::Shards;
    ///
    /// let one = Shards::new().add("one", Db::new(SqliteBackend::memory()?))?;
    /// assert!(one.clone().add("one", Db::new(SqliteBackend::memory()?)).is_err()); // taken
    /// assert!(one.add("has space", Db::new(SqliteBackend::memory()?)).is_err());
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn add(mut self, name: &str, db: Db) -> Result<Self> {
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || name.len() > 64 || !name.chars().all(valid) {
            return Err(Error::InvalidQuery(format!(
                "shard name {name:?}: use 1 to 64 of A-Z a-z 0-9 - _ ."
            )));
        }
        if self.shards.iter().any(|(n, _)| n == name) {
            return Err(Error::InvalidQuery(format!(
                "shard {name:?} is already added"
            )));
        }
        self.shards.push((name.to_owned(), db));
        Ok(self)
    }

    /// The shards' names, in the order they were added.
    ///
    /// ```
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    /// let shards = sonic_db_shard::Shards::new().add("a", Db::new(SqliteBackend::memory()?))?;
    /// assert_eq!(shards.names().collect::<Vec<_>>(), ["a"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.shards.iter().map(|(name, _)| name.as_str())
    }

    /// The shard named `name`.
    ///
    /// ```
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    /// let shards = sonic_db_shard::Shards::new().add("a", Db::new(SqliteBackend::memory()?))?;
    /// assert!(shards.get("a").is_some() && shards.get("b").is_none());
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn get(&self, name: &str) -> Option<&Db> {
        self.shards
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, db)| db)
    }

    /// The name of the shard that holds `key`.
    ///
    /// ```
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    /// let shards = sonic_db_shard::Shards::new()
    ///     .add("a", Db::new(SqliteBackend::memory()?))?
    ///     .add("b", Db::new(SqliteBackend::memory()?))?;
    /// assert_eq!(shards.name_for("tenant-1")?, shards.name_for("tenant-1")?);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn name_for(&self, key: &str) -> Result<&str> {
        self.index_for(key)
            .and_then(|i| self.shards.get(i))
            .map(|(name, _)| name.as_str())
            .ok_or_else(no_shard)
    }

    /// The database that holds `key`.
    ///
    /// ```
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    /// let shards = sonic_db_shard::Shards::new().add("a", Db::new(SqliteBackend::memory()?))?;
    /// let db = shards.for_key("tenant-1")?;
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn for_key(&self, key: &str) -> Result<&Db> {
        self.index_for(key)
            .and_then(|i| self.shards.get(i))
            .map(|(_, db)| db)
            .ok_or_else(no_shard)
    }

    fn index_for(&self, key: &str) -> Option<usize> {
        placement::place(self.names(), key)
    }

    /// Runs `query` on every shard at once and returns each shard's result, by name, in the
    /// order the shards were added. Fails with the first shard's error; queries across shards
    /// are never atomic.
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    /// let shards = sonic_db_shard::Shards::new()
    ///     .add("a", Db::new(SqliteBackend::memory()?))?
    ///     .add("b", Db::new(SqliteBackend::memory()?))?;
    /// let answers = shards
    ///     .fan_out(|db| async move { db.sql("SELECT 1 AS one").all_json().await })
    ///     .await?;
    /// assert_eq!(answers.len(), 2);
    /// assert_eq!(answers[1].0, "b");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn fan_out<T, F, Fut>(&self, query: F) -> Result<Vec<(&str, T)>>
    where
        F: Fn(Db) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let runs = self.shards.iter().map(|(name, db)| {
            let run = query(db.clone());
            async move { run.await.map(|answer| (name.as_str(), answer)) }
        });
        try_join_all(runs).await
    }

    /// One page of a list that spans every shard: `page(db, n)` asks each shard for its first
    /// `n = offset + limit` records in the list's order (and its total); the pages are merged
    /// with `order` (which must sort as the query does), then `offset` are skipped and `limit`
    /// kept. `total` is the sum of the shards' totals. Each shard reads up to `offset + limit`
    /// rows: deep pages cost more with every shard (keyset pagination, `Select::after`,
    /// keeps them cheap).
    ///
    /// ```
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db, Table};
    /// use sonic_db_shard::Shards;
    ///
    /// #[derive(Debug, Clone, Table)]
    /// #[table(name = "notes")]
    /// struct Note { #[column(primary_key)] id: String, stars: i64 }
    ///
    /// let mut shards = Shards::new();
    /// for (name, notes) in [("a", [("n1", 5), ("n2", 1)]), ("b", [("n3", 3), ("n4", 9)])] {
    ///     let db = Db::new(SqliteBackend::memory()?);
    ///     for statement in sonic_db_core::Schema::new().table::<Note>().statements() {
    ///         db.sql(statement).run().await?;
    ///     }
    ///     for (id, stars) in notes {
    ///         db.insert(&Note { id: id.into(), stars }).await?;
    ///     }
    ///     shards = shards.add(name, db)?;
    /// }
    /// let top = shards
    ///     .fan_out_page(
    ///         |db, n| async move {
    ///             db.select::<Note>().order_by(Note::STARS.desc()).limit(n).page().await
    ///         },
    ///         |a: &Note, b: &Note| b.stars.cmp(&a.stars),
    ///         1, // offset
    ///         2, // limit
    ///     )
    ///     .await?;
    /// let ids: Vec<&str> = top.items.iter().map(|n| n.id.as_str()).collect();
    /// assert_eq!((ids, top.total), (vec!["n1", "n3"], 4));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn fan_out_page<T, F, Fut, C>(
        &self,
        page: F,
        order: C,
        offset: u64,
        limit: u64,
    ) -> Result<Page<T>>
    where
        F: Fn(Db, u64) -> Fut,
        Fut: Future<Output = Result<Page<T>>>,
        C: Fn(&T, &T) -> Ordering,
    {
        let wanted = offset.saturating_add(limit);
        let pages = self.fan_out(|db| page(db, wanted)).await?;
        let mut total = 0u64;
        let mut items = Vec::new();
        for (_, page) in pages {
            total = total.saturating_add(page.total);
            items.extend(page.items);
        }
        // Stable: records that compare equal keep the shards' order.
        items.sort_by(|a, b| order(a, b));
        let skip = usize::try_from(offset).unwrap_or(usize::MAX);
        let take = usize::try_from(limit).unwrap_or(usize::MAX);
        let items = items.into_iter().skip(skip).take(take).collect();
        Ok(Page { items, total })
    }
}

fn no_shard() -> Error {
    Error::InvalidQuery("no shard: add one with `Shards::add`".to_string())
}
