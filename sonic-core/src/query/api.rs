//! The query methods of [`Db`]: each starts a builder of this module or runs a write.

#[cfg(not(target_arch = "wasm32"))]
use crate::backend::Params;
use crate::backend::Statement;
use crate::cache::{Found, Source};
use crate::db::{finish_rows, Db};
use crate::error::{Error, Result};
use crate::query::cascade::DeleteWrite;
use crate::query::rows::execute_record;
#[cfg(not(target_arch = "wasm32"))]
use crate::query::rows::record_now;
use crate::query::{self, DeleteWhere, Filter, RawQuery, Select, UpdateWhere};
use crate::schema::Table;
use crate::sql::select::find_sql;
use crate::value::{IntoKey, Key, KeyParts, Value};

impl Db {
    /// A select of `T` records.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let popular = db.select::<Post>().filter(Post::VIEWS.gte(10)).all().await?;
    /// assert_eq!(popular, [post("p2", "Again", 40)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn select<T: Table>(&self) -> Select<'_, T> {
        Select::new(self)
    }

    /// The record with this primary key, if any: from KV when it is cached there, else from
    /// SQL (then cached). See [`find_with_source`](Db::find_with_source).
    ///
    /// The key is the key column's value, or for a composite key
    /// (`#[table(primary_key(a, b))]`) the tuple of its parts in key order, each converting
    /// into its column's type as a single key does:
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Schema};
    /// #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// #[table(name = "post_tags", primary_key(post_id, tag))]
    /// struct PostTag { post_id: i64, tag: String, position: i64 }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<PostTag>().statements() { db.sql(s).run().await?; }
    ///
    /// db.insert(&PostTag { post_id: 7, tag: "rust".into(), position: 1 }).await?;
    /// let found = db.find::<PostTag>((7, "rust")).await?;
    /// assert_eq!(found.map(|t| t.position), Some(1));
    /// assert_eq!(db.find::<PostTag>((7, "go")).await?, None);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let hello = db.find::<Post>("p1").await?;
    /// assert_eq!(hello.map(|p| p.title).as_deref(), Some("Hello"));
    /// assert_eq!(db.find::<Post>("p9").await?, None);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn find<T: Table>(&self, id: impl IntoKey<T::PrimaryKey>) -> Result<Option<T>> {
        // `find_with_source` without the `Found` and its future: on in-process SQLite
        // without a cache, a find runs with no future but this one.
        let key = key_parts::<T>(id.into_key())?;
        match self.cache() {
            Some(cache) => {
                let id = T::DEF.record_id(key.to_vec());
                let found = cache.find(&id, || self.find_in_sql(key)).await?;
                Ok(found.map(|found| found.record))
            }
            // `find_in_sql`'s body, not its future: awaiting that future moves its output once
            // more (a find measured 5,208 instructions that way, 5,157 this way).
            None => {
                let sql = find_sql(T::DEF, &key, self.capabilities())?;
                #[cfg(not(target_arch = "wasm32"))]
                if let Some(record) = record_now::<T>(self, sql, Params::Values(&key)) {
                    return record;
                }
                execute_record::<T>(self, &Statement::new(sql, key.into_vec())).await
            }
        }
    }

    /// The record with this primary key and where it was read ([`Source::Kv`] or
    /// [`Source::D1`]). Without a cache, or for tables not cached, always SQL.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, Error, MemoryKv, Schema, Source, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?).with_kv(MemoryKv::new(), CacheConfig::new())?;
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// db.cache().unwrap().purge::<Post>().await?; // as after a deploy: nothing cached
    /// let first = db.find_with_source::<Post>("p1").await?.unwrap();
    /// assert_eq!(first.source, Source::D1); // a miss, read from SQL, then cached
    /// let again = db.find_with_source::<Post>("p1").await?.unwrap();
    /// assert_eq!((again.source, again.record), (Source::Kv, first.record));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn find_with_source<T: Table>(
        &self,
        id: impl IntoKey<T::PrimaryKey>,
    ) -> Result<Option<Found<T>>> {
        let key = key_parts::<T>(id.into_key())?;
        match self.cache() {
            Some(cache) => {
                let id = T::DEF.record_id(key.to_vec());
                cache.find(&id, || self.find_in_sql(key)).await
            }
            None => Ok(self.find_in_sql(key).await?.map(|record| Found {
                record,
                source: Source::D1,
            })),
        }
    }

    /// The record with this primary key, read from SQL, bypassing (and not filling) KV.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, Error, MemoryKv, Schema, Source, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?).with_kv(MemoryKv::new(), CacheConfig::new())?;
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// db.find::<Post>("p1").await?; // read from SQL, then cached in KV
    /// // A write behind the cache's back: raw SQL does not touch KV.
    /// db.sql("UPDATE posts SET title = 'Changed' WHERE id = 'p1'").run().await?;
    /// assert_eq!(db.find::<Post>("p1").await?.unwrap().title, "Hello"); // from KV
    /// assert_eq!(db.find_fresh::<Post>("p1").await?.unwrap().title, "Changed");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn find_fresh<T: Table>(&self, id: impl IntoKey<T::PrimaryKey>) -> Result<Option<T>> {
        self.find_in_sql(key_parts::<T>(id.into_key())?).await
    }

    /// `select().filter(<pk>.eq(key))` (every key column for a composite key) without
    /// `LIMIT 1` (equality on the primary key matches one row at most), its text built once
    /// per table.
    async fn find_in_sql<T: Table>(&self, key: KeyParts) -> Result<Option<T>> {
        let sql = find_sql(T::DEF, &key, self.capabilities())?;
        // In-process, read at once (no statement built); otherwise sent.
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(record) = record_now::<T>(self, sql, Params::Values(&key)) {
            return record;
        }
        execute_record::<T>(self, &Statement::new(sql, key.into_vec())).await
    }

    /// Inserts a record (stamping its audit columns) and returns it as stored.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Audit, Db, Error, FixedClock, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # struct Note { #[column(primary_key)] id: i64, text: String, #[audit] audit: Audit }
    /// # let note = |id: i64, text: &str| Note { id, text: text.into(), audit: Audit::default() };
    /// # pollster::block_on(async {
    /// # let clock = FixedClock::new(1_700_000_000_000);
    /// # let db = Db::new(SqliteBackend::memory()?).with_clock(clock.clone());
    /// # for s in Schema::new().table::<Note>().statements() { db.sql(s).run().await?; }
    /// let stored = db.insert(&note(1, "hi")).await?;
    /// assert_eq!(stored.audit.created_on, 1_700_000_000_000); // from the Db's clock
    /// assert_eq!(stored.audit.updated_on, stored.audit.created_on);
    /// let again = db.insert(&note(1, "twice")).await;
    /// assert!(matches!(again, Err(Error::UniqueViolation { .. })));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn insert<T: Table>(&self, record: &T) -> Result<T> {
        // A new key has nothing stale in KV: no KV operation (see `crate::cache`).
        query::insert(self, record).await
    }

    /// Inserts records and returns them as stored, in order.
    ///
    /// However many rows there are, this is atomic: when the backend's parameter limit
    /// (100 on D1) needs several statements, they run as one batch, and a failing row leaves
    /// no row behind.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let added = db.insert_many(&[post("p4", "Four", 0), post("p5", "Five", 0)]).await?;
    /// assert_eq!(added.len(), 2);
    /// // p1 exists: neither row is inserted.
    /// let clash = db.insert_many(&[post("p6", "Six", 0), post("p1", "Dup", 0)]).await;
    /// assert!(matches!(clash, Err(Error::UniqueViolation { .. })));
    /// assert_eq!(db.find::<Post>("p6").await?, None);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn insert_many<T: Table>(&self, records: &[T]) -> Result<Vec<T>> {
        // New keys have nothing stale in KV: no KV operation (see `crate::cache`).
        query::insert_many(self, records).await
    }

    /// Inserts records without reading them back, and returns how many rows were inserted:
    /// for bulk loads that do not need the stored rows (no `RETURNING`, which makes SQLite
    /// stage a copy of every row to return, about twice the work of the insert itself).
    ///
    /// Audit columns are stamped, limits checked, and statements chunked and run atomically
    /// exactly as by [`Db::insert_many`]; like it, it writes nothing to KV.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Capabilities, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// let db = Db::new(SqliteBackend::memory()?.with_capabilities(Capabilities::D1));
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// let post = |i: usize| Post { id: format!("p{i}"), title: "T".into(), views: 0, body: None };
    /// let posts: Vec<Post> = (0..60).map(post).collect(); // 240 parameters: 3 statements on D1
    /// assert_eq!(db.insert_many_count(&posts).await?, 60);
    /// assert_eq!(db.select::<Post>().count().await?, 60);
    /// let clash = db.insert_many_count(&[post(60), post(0)]).await; // p0 exists
    /// assert!(matches!(clash, Err(Error::UniqueViolation { .. })));
    /// assert_eq!(db.find::<Post>("p60").await?, None); // all or nothing
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn insert_many_count<T: Table>(&self, records: &[T]) -> Result<u64> {
        // New keys have nothing stale in KV: no KV operation (see `crate::cache`).
        query::insert_many_count(self, records).await
    }

    /// Rewrites the record with its primary key: every column but the key and `created_on`,
    /// with `updated_on` stamped. [`Error::NotFound`] if there is no such record.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let mut p1 = db.find::<Post>("p1").await?.unwrap();
    /// p1.views += 1;
    /// assert_eq!(db.update(&p1).await?.views, 4);
    /// let ghost = Post { id: "p9".into(), ..p1 };
    /// assert!(matches!(db.update(&ghost).await, Err(Error::NotFound { .. })));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn update<T: Table>(&self, record: &T) -> Result<T> {
        let ticket = self.write_ticket_for(std::slice::from_ref(record));
        let result = query::update(self, record).await;
        finish_rows(ticket, result.as_ref().map(std::slice::from_ref)).await;
        result
    }

    /// Rewrites the record as [`update`](Db::update) does, only if its stored row also matches
    /// `condition`: a compare-and-set in one statement, for optimistic concurrency (the
    /// `updated_on` or version the client read). The record as stored, or `None` when nothing
    /// matched (no such record, or it changed since) — then nothing was written.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # pollster::block_on(async {
    /// # use serde::{Deserialize, Serialize};
    /// use sonic_db_core::{sqlite::SqliteBackend, Db, Schema};
    /// # #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "docs")]
    /// # struct Doc {
    /// #     #[column(primary_key)]
    /// #     id: String,
    /// #     body: String,
    /// #     version: i64,
    /// # }
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Doc>().statements() { db.sql(s).run().await?; }
    /// db.insert(&Doc { id: "d".into(), body: "v1".into(), version: 1 }).await?;
    /// let read = db.find::<Doc>("d").await?.unwrap();
    /// let edit = Doc { body: "v2".into(), version: read.version + 1, ..read.clone() };
    /// assert!(db.update_if(&edit, Doc::VERSION.eq(read.version)).await?.is_some());
    /// // A second writer that read version 1 too loses: nothing is written.
    /// let late = Doc { body: "other".into(), version: 2, ..read };
    /// assert!(db.update_if(&late, Doc::VERSION.eq(1)).await?.is_none());
    /// assert_eq!(db.find::<Doc>("d").await?.unwrap().body, "v2");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn update_if<T: Table>(&self, record: &T, condition: Filter<T>) -> Result<Option<T>> {
        let ticket = self.write_ticket_for(std::slice::from_ref(record));
        let result = query::update_if(self, record, Some(&condition.expr)).await;
        finish_rows(ticket, result.as_ref().map(Option::as_slice)).await;
        result
    }

    /// Inserts the record, or if its primary key exists, updates every column but
    /// `created_on` (which keeps its first value). Returns the record as stored.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Audit, Db, Error, FixedClock, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # struct Note { #[column(primary_key)] id: i64, text: String, #[audit] audit: Audit }
    /// # let note = |id: i64, text: &str| Note { id, text: text.into(), audit: Audit::default() };
    /// # pollster::block_on(async {
    /// # let clock = FixedClock::new(1_700_000_000_000);
    /// # let db = Db::new(SqliteBackend::memory()?).with_clock(clock.clone());
    /// # for s in Schema::new().table::<Note>().statements() { db.sql(s).run().await?; }
    /// let first = db.upsert(&note(1, "draft")).await?; // inserted
    /// clock.advance(1_000);
    /// let second = db.upsert(&note(1, "final")).await?; // updated
    /// assert_eq!(second.text, "final");
    /// assert_eq!(second.audit.created_on, first.audit.created_on);
    /// assert_eq!(second.audit.updated_on, first.audit.updated_on + 1_000);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn upsert<T: Table>(&self, record: &T) -> Result<T> {
        let ticket = self.write_ticket_for(std::slice::from_ref(record));
        let result = query::upsert(self, record).await;
        finish_rows(ticket, result.as_ref().map(std::slice::from_ref)).await;
        result
    }

    /// An update of some columns of the rows matching a filter.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let archived = db
    ///     .update_where::<Post>()
    ///     .set(Post::TITLE, "(archived)")
    ///     .filter(Post::VIEWS.lt(10))
    ///     .run()
    ///     .await?;
    /// assert_eq!(archived, 2);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn update_where<T: Table>(&self) -> UpdateWhere<'_, T> {
        UpdateWhere::new(self)
    }

    /// Deletes the record with this primary key; whether it existed.
    ///
    /// With a KV cache, the record's entry is deleted after SQL, and so are the entries of
    /// the records the database deletes or changes with it through foreign keys
    /// (`ON DELETE CASCADE`, `SET NULL`, `SET DEFAULT`) — those it knows of: see
    /// [`Db::with_schema`].
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// assert!(db.delete::<Post>("p1").await?);
    /// assert!(!db.delete::<Post>("p1").await?); // gone already
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn delete<T: Table>(&self, id: impl IntoKey<T::PrimaryKey>) -> Result<bool> {
        let key = key_parts::<T>(id.into_key())?.into_vec();
        let filter = Filter::<T>::by_key(&key)?;
        let id = T::DEF.record_id(key.clone());
        let mut write = DeleteWrite::begin(self, T::DEF, Some(&id), Some(&filter.expr));
        let result = query::delete::<T>(self, key, write.take_selects()).await;
        match &result {
            Ok((deleted, selected)) => {
                let deleted = if *deleted {
                    std::slice::from_ref(&id)
                } else {
                    &[][..]
                };
                write.finish(Ok(deleted), Ok(selected)).await;
            }
            Err(error) => write.finish(Err(error), Err(error)).await,
        }
        result.map(|(deleted, _)| deleted)
    }

    /// A delete of the rows matching a filter. With a KV cache, it deletes the entries of the
    /// deleted records and of those the foreign keys change with them, as
    /// [`delete`](Db::delete) does.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let removed = db.delete_where::<Post>().filter(Post::VIEWS.lt(5)).run().await?;
    /// assert_eq!(removed, 1);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn delete_where<T: Table>(&self) -> DeleteWhere<'_, T> {
        DeleteWhere::new(self)
    }

    /// A raw SQL statement; bind its `?` placeholders with [`RawQuery::bind`].
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), title: title.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "Hello", 3) }, post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let query = db.sql("SELECT title FROM posts WHERE views > ? ORDER BY title").bind(5);
    /// let rows = query.all_json().await?;
    /// assert_eq!(rows[0]["title"], "Again");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn sql(&self, sql: impl Into<String>) -> RawQuery<'_> {
        RawQuery::new(self, sql.into())
    }
}

/// The values of `id` for each key column, in key order; [`Error::Encode`] naming the table
/// and the column of a part that does not convert or is `NULL`.
pub(crate) fn key_parts<T: Table>(id: T::PrimaryKey) -> Result<KeyParts> {
    let table = T::DEF;
    let name = |i: usize| {
        table
            .primary_key
            .get(i)
            .and_then(|c| table.columns.get(*c))
            .map_or("?", |c| c.name)
    };
    let parts = id.key_parts().map_err(|e| {
        let columns: Vec<&str> = (0..table.primary_key.len()).map(name).collect();
        Error::encode(table.name, &columns.join(", "), e)
    })?;
    table.check_key_parts(parts.len())?;
    if let Some(i) = parts.iter().position(|p| *p == Value::Null) {
        return Err(Error::encode(
            table.name,
            name(i),
            crate::value::ConvertError::new("a key value", "NULL"),
        ));
    }
    Ok(parts)
}
