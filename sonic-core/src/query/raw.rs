//! The raw SQL escape hatch: `db.sql("SELECT … WHERE id = ?").bind(x).all::<User>()`.
//!
//! Values are still bound, never spliced into the text, and the statement is still checked
//! against the backend's limits. Rows decode into a table type by column name, or into JSON.
//! Writes made this way bypass what Sonic knows about its tables (no audit stamping, no cache
//! invalidation).
//!
//! 64-bit integers (#12 item 3): every `i64` parameter binds exactly on every backend. Result
//! cells are what the backend returns: where numbers cross JavaScript (D1, Durable Objects) an
//! INTEGER beyond ±(2^53 − 1) selected as is arrives rounded, as a REAL that an `i64` refuses
//! to decode. Select such a column as `CAST(col AS TEXT)` (aliased to its name) to read it
//! exactly: decoding into a table type then reads the text back into the INTEGER field.

use serde::de::DeserializeOwned;

use crate::backend::{QueryResult, Statement};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::query::raw_rows::{decode_rows_as, duplicate_columns, duplicate_error};
use crate::query::rows::decode_by_name;
use crate::schema::Table;
use crate::value::ToValue;
use crate::value::Value;

/// One raw statement and its bound values.
///
/// The examples of its methods run on a table `posts` (`id`, `title`, `views`, a nullable
/// `body`) holding `p1` "Hello" (3 views, body "First!"), `p2` "Again" (40 views) and `p3`
/// "Bye" (7 views); their setup lines are hidden.
#[must_use = "a raw query does nothing until a terminal method is awaited"]
#[derive(Debug)]
pub struct RawQuery<'db> {
    db: &'db Db,
    statement: Statement,
    bind_error: Option<String>,
}

/// A JSON row of [`RawQuery::all_json`]: column name → value.
pub type JsonRow = serde_json::Map<String, serde_json::Value>;

impl<'db> RawQuery<'db> {
    pub(crate) fn new(db: &'db Db, sql: String) -> Self {
        RawQuery {
            db,
            statement: Statement::new(sql, Vec::new()),
            bind_error: None,
        }
    }

    /// Binds the next `?`. A value that cannot be bound (a NaN, a `u64` beyond `i64::MAX`)
    /// makes the query fail when it runs.
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
    /// let rows = db
    ///     .sql("SELECT id FROM posts WHERE views > ? AND title <> ?")
    ///     .bind(5)
    ///     .bind("Bye")
    ///     .all_json()
    ///     .await?;
    /// assert_eq!(rows.len(), 1);
    /// let nan = db.sql("SELECT ?").bind(f64::NAN).run().await;
    /// assert!(matches!(nan, Err(Error::InvalidQuery(_))));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn bind(mut self, value: impl ToValue) -> Self {
        match value.to_value() {
            Ok(value) => self.statement.params.push(value),
            Err(error) => {
                let position = self.statement.params.len() + 1;
                self.bind_error
                    .get_or_insert(format!("parameter {position} cannot be bound: {error}"));
                self.statement.params.push(Value::Null);
            }
        }
        self
    }

    /// Runs the statement and returns the backend's result as it is.
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
    /// let result = db.sql("SELECT id, views FROM posts ORDER BY id").result().await?;
    /// assert_eq!(&result.columns[..], ["id", "views"]);
    /// assert_eq!(result.row_count(), 3);
    /// assert_eq!(result.values[1], Value::Integer(3)); // row-major: p1's views
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn result(self) -> Result<QueryResult> {
        if let Some(error) = self.bind_error {
            return Err(Error::InvalidQuery(error));
        }
        self.db.execute(&self.statement).await
    }

    /// Runs the statement and returns the number of rows it changed.
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
    /// let bump = db.sql("UPDATE posts SET views = views + 1 WHERE views < ?").bind(10);
    /// let changed = bump.run().await?;
    /// assert_eq!(changed, 2); // p1 and p3
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn run(self) -> Result<u64> {
        Ok(self.result().await?.changes)
    }

    /// The rows as `T` records, matched by column name: every column of `T` must be in the
    /// result exactly once ([`Error::Decode`] names a missing one) and no other column may be
    /// ([`Error::UnknownColumn`]).
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
    /// let query = db.sql("SELECT * FROM posts WHERE title LIKE ?").bind("%e%");
    /// let with_e: Vec<Post> = query.all().await?;
    /// assert_eq!(with_e.len(), 2); // Hello, Bye
    /// let partial = db.sql("SELECT id, title FROM posts").all::<Post>().await;
    /// assert!(matches!(partial, Err(Error::Decode { .. }))); // `views` is missing
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn all<T: Table>(self) -> Result<Vec<T>> {
        decode_by_name::<T>(self.result().await?)
    }

    /// The first row as a `T` record, if any. The statement runs unchanged: add a `LIMIT` to
    /// avoid reading rows that will be dropped.
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
    /// let query = db.sql("SELECT * FROM posts ORDER BY views DESC LIMIT 1");
    /// let top: Option<Post> = query.first().await?;
    /// assert_eq!(top.map(|p| p.id).as_deref(), Some("p2"));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn first<T: Table>(self) -> Result<Option<T>> {
        Ok(self.all::<T>().await?.into_iter().next())
    }

    /// The rows as any `Deserialize` type: a struct or map by column name, a tuple by
    /// position, or, for one column, the bare value.
    ///
    /// SQLite's storage classes are read as the field asks: INTEGER `0`/`1` as `bool` (any
    /// other value is an error), `NULL` as `None`, TEXT holding JSON as a nested struct, list
    /// or map, a BLOB as `Vec<u8>`, TEXT as a serde enum's variant. Read by name, a result
    /// that repeats a column name (`SELECT posts.*, users.*` has two `id`s) is an
    /// [`Error::InvalidQuery`] naming it; alias the columns or read tuples. A value of the
    /// wrong kind is an [`Error::Decode`] naming the column and the row.
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
    /// #[derive(Debug, PartialEq, serde::Deserialize)]
    /// struct Stats {
    ///     busy: bool,            // 0/1 from the comparison
    ///     n: u32,
    ///     body: Option<String>,  // NULL for the busy group
    /// }
    /// let stats: Vec<Stats> = db
    ///     .sql("SELECT views > 5 AS busy, count(*) AS n, max(body) AS body FROM posts GROUP BY busy ORDER BY busy")
    ///     .all_as()
    ///     .await?;
    /// assert_eq!(stats[0], Stats { busy: false, n: 1, body: Some("First!".into()) });
    /// assert_eq!(stats[1], Stats { busy: true, n: 2, body: None });
    ///
    /// let pairs: Vec<(String, i64)> = db.sql("SELECT id, views FROM posts ORDER BY id").all_as().await?;
    /// assert_eq!(pairs[0], ("p1".to_string(), 3));
    /// let total: Option<u64> = db.sql("SELECT sum(views) FROM posts").first_as().await?;
    /// assert_eq!(total, Some(50));
    ///
    /// let twice = db.sql("SELECT a.id, b.id FROM posts a JOIN posts b ON a.id = b.id");
    /// let by_name = twice.all_as::<std::collections::HashMap<String, String>>().await;
    /// assert!(matches!(by_name, Err(Error::InvalidQuery(m)) if m.contains("`id`")));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn all_as<R: DeserializeOwned>(self) -> Result<Vec<R>> {
        decode_rows_as(self.result().await?)
    }

    /// The first row as any `Deserialize` type, if any (see [`all_as`](RawQuery::all_as)).
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
    /// let top: Option<(String, bool)> = db
    ///     .sql("SELECT id, body IS NOT NULL FROM posts ORDER BY views LIMIT 1")
    ///     .first_as()
    ///     .await?;
    /// assert_eq!(top, Some(("p1".to_string(), true)));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn first_as<R: DeserializeOwned>(self) -> Result<Option<R>> {
        Ok(self.all_as::<R>().await?.into_iter().next())
    }

    /// The rows as JSON objects keyed by column name.
    ///
    /// INTEGER and REAL become numbers (a non-finite REAL becomes `null`), TEXT strings,
    /// NULL `null`, and a BLOB an array of byte values — the shape D1's own JSON results give
    /// a BLOB, so both backends agree. Integers beyond ±2^53 stay exact here but lose
    /// precision in JavaScript consumers.
    ///
    /// For results no table type describes: aggregates, joins, expressions. A result that
    /// repeats a column name is an [`Error::InvalidQuery`] naming it (one value would
    /// overwrite the other); [`all_as`](RawQuery::all_as) also reads rows as tuples.
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
    /// let rows = db
    ///     .sql("SELECT views > 5 AS busy, count(*) AS n FROM posts GROUP BY busy ORDER BY busy")
    ///     .all_json()
    ///     .await?;
    /// assert_eq!(serde_json::Value::from(rows), serde_json::json!([
    ///     { "busy": 0, "n": 1 },
    ///     { "busy": 1, "n": 2 },
    /// ]));
    /// let blob = db.sql("SELECT x'00ff' AS b").all_json().await?;
    /// assert_eq!(blob[0]["b"], serde_json::json!([0, 255]));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn all_json(self) -> Result<Vec<JsonRow>> {
        let result = self.result().await?;
        let width = result.columns.len();
        if width == 0 {
            return Ok(Vec::new());
        }
        let repeated = duplicate_columns(&result.columns);
        if !repeated.is_empty() {
            return Err(duplicate_error(&repeated));
        }
        let columns = result.columns;
        let mut rows = Vec::with_capacity(result.values.len() / width);
        let mut values = result.values.into_iter();
        loop {
            let mut row = JsonRow::new();
            for name in columns.iter() {
                match values.next() {
                    Some(value) => {
                        row.insert(name.clone(), json_value(value));
                    }
                    None => return Ok(rows),
                }
            }
            rows.push(row);
        }
    }

    /// The first row as a JSON object, if any.
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
    /// let query = db.sql("SELECT max(views) AS top, sum(views) AS total FROM posts");
    /// let row = query.first_json().await?;
    /// let row = row.expect("an aggregate returns one row");
    /// assert_eq!((&row["top"], &row["total"]), (&40.into(), &50.into()));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn first_json(self) -> Result<Option<JsonRow>> {
        Ok(self.all_json().await?.into_iter().next())
    }
}

fn json_value(value: Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => i.into(),
        Value::Real(r) => {
            serde_json::Number::from_f64(r).map_or(serde_json::Value::Null, Into::into)
        }
        Value::Text(s) => s.into(),
        Value::Blob(bytes) => bytes.into_iter().map(serde_json::Value::from).collect(),
    }
}
