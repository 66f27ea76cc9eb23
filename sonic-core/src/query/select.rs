//! Selects: `db.select::<Post>().filter(..).order_by(..).limit(..).with(..).all()`.

#[cfg(not(target_arch = "wasm32"))]
use crate::backend::Params;
use crate::backend::{Capabilities, EagerStrategy, QueryResult, Statement};
use crate::db::Db;
use crate::error::{Error, Result};
#[cfg(target_arch = "wasm32")]
use crate::query::eager::load_joined;
use crate::query::eager::{decode_embedded, merge_include, Include, IncludeNames, Includes};
#[cfg(not(target_arch = "wasm32"))]
use crate::query::eager::{load_joined_now, load_joined_ones_now, load_joined_streamed};
use crate::query::filter::{and, Filter};
use crate::query::keyset::keyset;
use crate::query::order::Order;
use crate::query::rows::{
    decode_count, decode_exists, decode_rows, execute_record, execute_records, later,
};
#[cfg(not(target_arch = "wasm32"))]
use crate::query::rows::{record_now, records_now};
use crate::schema::Table;
use crate::sql::eager::{check_levels, embedded_head, join_head, joins_one, reals_in_json};
use crate::sql::filter::Expr;
use crate::sql::order::Direction;
#[cfg(not(target_arch = "wasm32"))]
use crate::sql::select::plain_select_sql;
use crate::sql::select::{
    count_statement, exists_statement, joined_statement, select_statement, SelectSql,
};
use crate::sql::writer::BoundSql;
use crate::value::Value;

/// A select of `T` records under construction. Nothing runs until a terminal method
/// (`all`, `first`, `one`, `count`, `page`) is awaited.
///
/// The examples of its methods run on a table `posts` (`id`, `title`, `views`, a nullable
/// `body`) holding `p1` "Hello" (3 views, body "First!"), `p2` "Again" (40 views) and `p3`
/// "Bye" (7 views); their setup lines are hidden.
#[must_use = "a select does nothing until `all`, `first`, `one`, `count` or `page` is awaited"]
pub struct Select<'db, T: Table> {
    db: &'db Db,
    filter: Option<Expr>,
    order: Vec<(usize, Direction)>,
    limit: Option<u64>,
    offset: Option<u64>,
    includes: Includes<T>,
    /// The column values of the record set by [`Select::after`] (or why it could not be
    /// encoded). Boxed: most selects have none, and every select is moved into its future.
    cursor: Option<Box<std::result::Result<Vec<Value>, String>>>,
}

impl<T: Table> std::fmt::Debug for Select<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select")
            .field("table", &T::DEF.name)
            .field("filter", &self.filter)
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .field("includes", &self.includes)
            .field("cursor", &self.cursor)
            .finish()
    }
}

/// One page of records and the number of records matching the filter on all pages (what
/// SonicJs returns as `total`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Page<T> {
    /// The records of this page.
    pub items: Vec<T>,
    /// Records matching the filter, ignoring limit and offset.
    pub total: u64,
}

/// What a projection or a join takes over from the select it starts from.
pub(crate) struct SelectParts<'db> {
    pub(crate) db: &'db Db,
    pub(crate) filter: Option<Expr>,
    pub(crate) order: Vec<(usize, Direction)>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    /// Relations asked for with `with`, which a projection or a join cannot load.
    pub(crate) includes: usize,
}

impl<'db, T: Table> Select<'db, T> {
    pub(crate) fn new(db: &'db Db) -> Self {
        Select {
            db,
            filter: None,
            order: Vec::new(),
            limit: None,
            offset: None,
            includes: Includes::new(),
            cursor: None,
        }
    }

    pub(crate) fn into_parts(self) -> SelectParts<'db> {
        SelectParts {
            db: self.db,
            filter: self.filter,
            order: self.order,
            limit: self.limit,
            offset: self.offset,
            includes: self.includes.len(),
        }
    }

    /// Keeps the rows matching `filter`; several calls must all match.
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
    /// let busy = db
    ///     .select::<Post>()
    ///     .filter(Post::VIEWS.gt(5))
    ///     .filter(Post::TITLE.ne("Bye"))
    ///     .all()
    ///     .await?;
    /// assert_eq!(busy, [post("p2", "Again", 40)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))] // as `with`
    pub fn filter(mut self, filter: Filter<T>) -> Self {
        self.filter = Some(match self.filter.take() {
            None => filter.expr,
            Some(previous) => and([Filter::from_expr(previous), filter]).expr,
        });
        self
    }

    /// Adds an ordering term; earlier terms take precedence.
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
    /// // By body (NULLs first), then, between equal bodies, by views.
    /// let posts = db
    ///     .select::<Post>()
    ///     .order_by(Post::BODY.asc())
    ///     .order_by(Post::VIEWS.desc())
    ///     .all()
    ///     .await?;
    /// let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
    /// assert_eq!(ids, ["p2", "p3", "p1"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn order_by(mut self, order: Order<T>) -> Self {
        self.order.push((order.column, order.direction));
        self
    }

    /// Returns at most `n` rows.
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
    /// let first_two = db.select::<Post>().order_by(Post::TITLE.asc()).limit(2).all().await?;
    /// let titles: Vec<&str> = first_two.iter().map(|p| p.title.as_str()).collect();
    /// assert_eq!(titles, ["Again", "Bye"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    ///
    /// With [`limit`](Select::limit), for pages; order the rows so that pages do not overlap.
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
    /// let page_size = 2;
    /// let page_2 = db
    ///     .select::<Post>()
    ///     .order_by(Post::ID.asc())
    ///     .limit(page_size)
    ///     .offset(page_size) // skip page 1
    ///     .all()
    ///     .await?;
    /// assert_eq!(page_2, [post("p3", "Bye", 7)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Keyset (cursor) pagination: only the rows that come after `last` in this select's
    /// order, typically the last record of the previous page.
    ///
    /// The order is made total first: unless one of its columns is the primary key or a
    /// unique NOT NULL column, the primary key is appended (ascending) to break ties, so no
    /// row is skipped or repeated between pages even when rows are inserted meanwhile, and
    /// SQLite seeks to the cursor through an index instead of reading the skipped rows as an
    /// offset does. Ordering by a nullable column is an [`Error::InvalidQuery`] naming it (a
    /// `NULL` sorts but never compares). The condition also applies to `count` and `page`.
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
    /// # db.insert(&post("p4", "Same", 7)).await?;
    /// // Most read first; p3 and p4 tie at 7 views, the primary key orders them.
    /// let page_1 = db.select::<Post>().order_by(Post::VIEWS.desc()).limit(2).all().await?;
    /// assert_eq!(page_1.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["p2", "p3"]);
    /// let last = page_1.last().expect("a full page");
    /// let page_2 = db
    ///     .select::<Post>()
    ///     .order_by(Post::VIEWS.desc())
    ///     .after(last)
    ///     .limit(2)
    ///     .all()
    ///     .await?;
    /// assert_eq!(page_2.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["p4", "p1"]);
    /// let nullable = db.select::<Post>().order_by(Post::BODY.asc()).after(last).all().await;
    /// assert!(matches!(nullable, Err(Error::InvalidQuery(m)) if m.contains("`body`")));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn after(mut self, last: &T) -> Self {
        let mut values = Vec::with_capacity(T::DEF.columns.len());
        let encoded = last.encode_into(&mut values).map(|()| values);
        self.cursor = Some(Box::new(
            encoded.map_err(|e| format!("the cursor of `after`: {e}")),
        ));
        self
    }

    /// Loads a relation along with the records: `.with(User::POSTS)`, or nested,
    /// `.with(User::POSTS.with(Post::COMMENTS))`.
    ///
    /// A relation field is filled once, however often it is named: includes of the same
    /// relation **merge**, their nested relations too, so the result is the union of what was
    /// asked for, whatever the order. `.with(User::POSTS).with(User::POSTS.with(Post::COMMENTS))`
    /// loads what `.with(User::POSTS.with(Post::COMMENTS))` loads, in one subquery (or one
    /// statement per level), and a relation named twice is not loaded twice.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use serde::{Deserialize, Serialize};
    /// use sonic_db_core::{sqlite::SqliteBackend, Capabilities, Db};
    /// # #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User {
    /// #     #[column(primary_key)]
    /// #     id: String,
    /// #     #[relation(many, remote = user_id)]
    /// #     posts: Option<Vec<Post>>,
    /// # }
    /// # #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post {
    /// #     #[column(primary_key)]
    /// #     id: String,
    /// #     #[column(references = User::ID)]
    /// #     user_id: String,
    /// #     #[relation(many, remote = post_id)]
    /// #     comments: Option<Vec<Comment>>,
    /// # }
    /// # #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "comments")]
    /// # struct Comment {
    /// #     #[column(primary_key)]
    /// #     id: i64,
    /// #     #[column(references = Post::ID)]
    /// #     post_id: String,
    /// # }
    ///
    /// let db = Db::new(SqliteBackend::memory()?.with_capabilities(Capabilities::D1));
    /// let twice = db.select::<User>().with(User::POSTS).with(User::POSTS.with(Post::COMMENTS));
    /// let once = db.select::<User>().with(User::POSTS.with(Post::COMMENTS));
    /// assert_eq!(twice.to_statement()?, once.to_statement()?);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    // Inline natively: a select is returned by value, which a call copies (184 bytes). Not on
    // wasm32, where each call site would grow the Worker.
    #[cfg_attr(not(target_arch = "wasm32"), inline)]
    pub fn with(mut self, include: impl Into<Include<T>>) -> Self {
        merge_include(&mut self.includes, include.into());
        self
    }

    /// The main statement as it would be sent to this database (eager relations included when
    /// the backend loads them in one statement, or joins the first level). For logging and
    /// tests.
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
    /// let select = db.select::<Post>().filter(Post::VIEWS.gte(10)).limit(5);
    /// let statement = select.to_statement()?;
    /// assert!(statement.sql.ends_with(r#"WHERE "views" >= ? LIMIT 5"#), "{}", statement.sql);
    /// assert_eq!(statement.params, [Value::Integer(10)]); // bound, never in the text
    /// assert_eq!(select.count().await?, 1); // the builder is still usable
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn to_statement(&self) -> Result<Statement> {
        let capabilities = self.db.capabilities();
        let embed = self.embeds(capabilities);
        match self.joined_include(embed, capabilities)? {
            Some((_, head)) => self.compile_joined(head, capabilities),
            None => self.compile(capabilities, embed),
        }
        .map(BoundSql::into_statement)
    }

    /// All matching records.
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
    /// let everything = db.select::<Post>().all().await?;
    /// assert_eq!(everything.len(), 3);
    /// let none = db.select::<Post>().filter(Post::VIEWS.gt(1_000)).all().await?;
    /// assert!(none.is_empty()); // no match is not an error
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    // Not `async fn`: an async block uses the captured select in place, where an async fn
    // first moves its argument into the future's locals (a copy of the select per call).
    #[allow(clippy::manual_async_fn)]
    pub fn all(self) -> impl std::future::Future<Output = Result<Vec<T>>> + 'db {
        async move {
            // The plan in a scope that ends before the await: the future keeps no room for it
            // (natively the rest is boxed, see `later`).
            let rest = {
                #[cfg(not(target_arch = "wasm32"))]
                if let Some(records) = self.plain_now() {
                    return records;
                }
                let plan = self.plan()?;
                #[cfg(not(target_arch = "wasm32"))]
                if let Some(records) = self.run_now(&plan) {
                    return records;
                }
                later(self.run(plan))
            };
            rest.await
        }
    }

    /// A select of every record (no filter, order, paging or relation) run at once when the
    /// backend runs it in-process: its text is the table's memoized head, so there is
    /// nothing to plan.
    #[cfg(not(target_arch = "wasm32"))]
    fn plain_now(&self) -> Option<Result<Vec<T>>> {
        let plain = self.filter.is_none()
            && self.order.is_empty()
            && self.includes.is_empty()
            && self.limit.is_none()
            && self.offset.is_none()
            && self.cursor.is_none();
        if !plain {
            return None;
        }
        match plain_select_sql(T::DEF, self.db.capabilities()) {
            Ok(sql) => records_now::<T>(self.db, sql, Params::Values(&[])),
            Err(e) => Some(Err(e)),
        }
    }

    /// What [`Select::all`] sends and how it loads the relations; reports the strategy.
    fn plan(&self) -> Result<Plan<'_, T>> {
        let capabilities = self.db.capabilities();
        let embed = self.embeds(capabilities);
        if let Some((include, head)) = self.joined_include(embed, capabilities)? {
            self.trace_strategy("joined", capabilities);
            let statement = self.compile_joined(head, capabilities)?;
            return Ok(Plan::Joined(include, statement));
        }
        self.trace_embedded(embed, capabilities);
        let statement = self.compile(capabilities, embed)?;
        Ok(if embed {
            Plan::Embedded(statement)
        } else {
            Plan::Levels(statement)
        })
    }

    /// Runs `plan` without a future when the backend runs it in-process and no level below
    /// needs another statement; `None` when it must be awaited (then nothing ran).
    #[cfg(not(target_arch = "wasm32"))]
    fn run_now(&self, plan: &Plan<'_, T>) -> Option<Result<Vec<T>>> {
        match plan {
            Plan::Levels(statement) if self.includes.is_empty() => {
                records_now::<T>(self.db, &statement.sql, statement.params())
            }
            Plan::Joined(include, statement) => {
                load_joined_now(include, self.db, &statement.sql, statement.params())
            }
            Plan::Embedded(statement) => {
                load_joined_ones_now(&self.includes, self.db, &statement.sql, statement.params())
            }
            Plan::Levels(_) => None,
        }
    }

    async fn run(&self, plan: Plan<'_, T>) -> Result<Vec<T>> {
        match plan {
            #[cfg(not(target_arch = "wasm32"))]
            Plan::Joined(include, statement) => {
                load_joined_streamed(include, self.db, &statement.sql, statement.params()).await
            }
            #[cfg(target_arch = "wasm32")]
            Plan::Joined(include, statement) => {
                let result = self.db.execute(&statement.into_statement()).await?;
                load_joined(include, self.db, result).await
            }
            Plan::Embedded(statement) => {
                let result = self.db.execute(&statement.into_statement()).await?;
                decode_embedded(&self.includes, result)
            }
            Plan::Levels(statement) => {
                let records = execute_records::<T>(self.db, &statement.into_statement()).await?;
                self.load_levels(records).await
            }
        }
    }

    /// Reports how the relations of this select load, if it has any: single statement or
    /// per level, as `embed` says.
    fn trace_embedded(&self, embed: bool, capabilities: &Capabilities) {
        if !self.includes.is_empty() {
            let strategy = if embed {
                "single statement"
            } else {
                "per level"
            };
            self.trace_strategy(strategy, capabilities);
        }
    }

    /// The `sonic::eager` event (see [`crate::trace`]).
    fn trace_strategy(&self, strategy: &'static str, capabilities: &Capabilities) {
        trace_strategy(
            T::DEF.name,
            &IncludeNames(&self.includes),
            strategy,
            capabilities,
        );
    }

    /// The include to load with a `LEFT JOIN` in the records' own statement, when loading per
    /// level: the only one of an unordered select without limit or offset, if it is a `many`
    /// relation whose children have an INTEGER primary key. The parents' rows then come once
    /// per child, which the grouping undoes, and one statement (one `sqlite3_step` loop, one
    /// index probe per parent) replaces two (the parents, then the children `IN (…)` their
    /// keys, which SQLite loads into a temporary B-tree first). An order or a limit would have
    /// to apply to the parents alone (a subquery, and a sort of the joined rows); several
    /// relations would multiply the rows; so those load per level. With the include, the
    /// head of its joined statement (`join_head`, which also says whether the relation
    /// joins). `None` when the relations are `embed`ded.
    fn joined_include(
        &self,
        embed: bool,
        capabilities: &Capabilities,
    ) -> Result<Option<(&Include<T>, &'static str)>> {
        match self.includes.as_slice() {
            [include]
                if !embed
                    && self.order.is_empty()
                    && self.cursor.is_none()
                    && self.limit.is_none()
                    && self.offset.is_none()
                    && include.sql().level().is_plain() =>
            {
                Ok(join_head(include.sql(), capabilities)?.map(|head| (include, head)))
            }
            _ => Ok(None),
        }
    }

    fn compile_joined(
        &self,
        head: &'static str,
        capabilities: &Capabilities,
    ) -> Result<BoundSql<'_>> {
        joined_statement(T::DEF, self.filter.as_ref(), head, capabilities)
    }

    /// The statement of this select inside a [`Batch`](crate::query::Batch): relations are not
    /// loaded there (one statement each, and per-level loading needs the parents first).
    pub(crate) fn batch_statement(&self) -> Result<Statement> {
        if !self.includes.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "a select of `{}` inside a batch cannot load relations; load them after the \
                 batch",
                T::DEF.name
            )));
        }
        self.compile(self.db.capabilities(), false)
            .map(BoundSql::into_statement)
    }

    /// The first matching record, if any.
    ///
    /// Sends `LIMIT 1`, so only one row is read.
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
    /// let least_read = db.select::<Post>().order_by(Post::VIEWS.asc()).first().await?;
    /// assert_eq!(least_read.map(|p| p.id).as_deref(), Some("p1"));
    /// let missing = db.select::<Post>().filter(Post::TITLE.eq("Nope")).first().await?;
    /// assert_eq!(missing, None);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    // Not `async fn`, as `all`.
    #[allow(clippy::manual_async_fn)]
    pub fn first(mut self) -> impl std::future::Future<Output = Result<Option<T>>> + 'db {
        self.limit = Some(1);
        async move {
            if self.includes.is_empty() {
                let statement = self.compile(self.db.capabilities(), false)?;
                #[cfg(not(target_arch = "wasm32"))]
                if let Some(record) = record_now::<T>(self.db, &statement.sql, statement.params()) {
                    return record;
                }
                let statement = statement.into_statement();
                return later(execute_record::<T>(self.db, &statement)).await;
            }
            Ok(self.all().await?.into_iter().next())
        }
    }

    /// The first matching record; [`Error::NotFound`] naming the table if there is none.
    ///
    /// For a record that must exist (a REST handler can map `NotFound` to a 404).
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
    /// let hello = db.select::<Post>().filter(Post::TITLE.eq("Hello")).one().await?;
    /// assert_eq!(hello.views, 3);
    /// let missing = db.select::<Post>().filter(Post::TITLE.eq("Nope")).one().await;
    /// assert!(matches!(missing, Err(Error::NotFound { table }) if table == "posts"));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn one(self) -> Result<T> {
        self.first().await?.ok_or_else(|| Error::NotFound {
            table: T::DEF.name.to_string(),
        })
    }

    /// The number of matching records (limit and offset do not apply).
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
    /// let read = db.select::<Post>().filter(Post::VIEWS.gte(5)).limit(1).count().await?;
    /// assert_eq!(read, 2); // p2 and p3: the limit is ignored
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn count(self) -> Result<u64> {
        let statement = self.compile_count(self.db.capabilities())?;
        let result = self.db.execute(&statement.into_statement()).await?;
        decode_count(&result, T::DEF)
    }

    /// Whether any record matches: one `SELECT EXISTS (…)`, which stops at the first
    /// matching row and reads no record (limit and offset do not apply).
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
    /// assert!(db.select::<Post>().filter(Post::TITLE.eq("Bye")).exists().await?);
    /// assert!(!db.select::<Post>().filter(Post::VIEWS.gt(1_000)).exists().await?);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn exists(self) -> Result<bool> {
        let capabilities = self.db.capabilities();
        let statement =
            self.with_conditions(|filter, _| exists_statement(T::DEF, filter, capabilities))?;
        let result = self.db.execute(&statement.into_statement()).await?;
        decode_exists(&result, T::DEF)
    }

    /// A page of records and the total number of matching records.
    ///
    /// The page and `SELECT COUNT(*)` run as one batch: one round trip, and one transaction,
    /// so the total is consistent with the page. (A `COUNT(*) OVER ()` column would make
    /// SQLite materialise every matching row before applying the limit, and reports nothing
    /// for a page past the end.)
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
    /// let page = db
    ///     .select::<Post>()
    ///     .filter(Post::VIEWS.gt(1))
    ///     .order_by(Post::ID.asc())
    ///     .limit(2)
    ///     .page()
    ///     .await?;
    /// assert_eq!(page.items.len(), 2);
    /// assert_eq!(page.total, 3); // for "page 1 of 2"
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn page(self) -> Result<Page<T>> {
        let capabilities = self.db.capabilities();
        let embed = self.embeds(capabilities);
        self.trace_embedded(embed, capabilities);
        let statements = [
            self.compile(capabilities, embed)?.into_statement(),
            self.compile_count(capabilities)?.into_statement(),
        ];
        let mut results = self.db.run_all(&statements).await?.into_iter();
        let (Some(rows), Some(count)) = (results.next(), results.next()) else {
            return Err(Error::Database {
                message: "a batch of two statements returned fewer results".to_string(),
            });
        };
        let total = decode_count(&count, T::DEF)?;
        let items = self.finish(rows, embed).await?;
        Ok(Page { items, total })
    }

    /// Whether eager relations go into the main statement (as JSON subqueries, or joined):
    /// where the backend prefers one statement and JSON carries every included value exactly;
    /// and wherever every relation is joined (`joins_one`) and the select reads at most
    /// [`JOINED_ONES_UP_TO`] records.
    fn embeds(&self, capabilities: &Capabilities) -> bool {
        if self.includes.is_empty() {
            return false;
        }
        let single = capabilities.json
            && capabilities.eager == EagerStrategy::SingleStatement
            && (capabilities.json_exact_reals
                || !self.includes.iter().any(|i| reals_in_json(i.sql())));
        single
            || (self.limit.is_some_and(|n| n <= JOINED_ONES_UP_TO)
                && self.includes.iter().all(|i| joins_one(i.sql())))
    }

    fn compile(&self, capabilities: &Capabilities, embed: bool) -> Result<BoundSql<'_>> {
        let table = T::DEF;
        for include in &self.includes {
            check_levels(include.sql(), capabilities)?;
        }
        let embedded = if embed {
            Some(embedded_head(
                table,
                self.includes.iter().map(Include::sql),
                capabilities,
            )?)
        } else {
            None
        };
        self.with_conditions(|filter, order| {
            let spec = SelectSql {
                table,
                filter,
                order,
                limit: self.limit,
                offset: self.offset,
            };
            select_statement(&spec, embedded.as_ref(), capabilities)
        })
    }

    fn compile_count(&self, capabilities: &Capabilities) -> Result<BoundSql<'_>> {
        self.with_conditions(|filter, _| count_statement(T::DEF, filter, capabilities))
    }

    /// `build` of the filter and order to send: the builder's own (the statement's values
    /// borrowed from them), or with a cursor ([`Select::after`]) the keyset condition added
    /// and the order made total (its values copied out of that temporary condition).
    fn with_conditions(
        &self,
        build: impl for<'c> FnOnce(Option<&'c Expr>, &'c [(usize, Direction)]) -> Result<BoundSql<'c>>,
    ) -> Result<BoundSql<'_>> {
        let Some(cursor) = &self.cursor else {
            return build(self.filter.as_ref(), &self.order);
        };
        let values = (**cursor)
            .as_ref()
            .map_err(|e| Error::InvalidQuery(e.clone()))?;
        let keyset = keyset(T::DEF, &self.order, values)?;
        let filter = match &self.filter {
            Some(own) => Expr::And(vec![own.clone(), keyset.condition]),
            None => keyset.condition,
        };
        build(Some(&filter), &keyset.order).map(BoundSql::into_owned)
    }

    /// Decodes the main statement's rows, then loads relations level by level unless they
    /// came embedded.
    async fn finish(&self, result: QueryResult, embedded: bool) -> Result<Vec<T>> {
        if embedded {
            return decode_embedded(&self.includes, result);
        }
        self.load_levels(decode_rows::<T>(result)?).await
    }

    /// Loads the relations of `records` level by level.
    async fn load_levels(&self, mut records: Vec<T>) -> Result<Vec<T>> {
        if !records.is_empty() {
            for include in &self.includes {
                include.loader().load_level(self.db, &mut records).await?;
            }
        }
        Ok(records)
    }
}

/// The most records a select whose relations are all joined `one` relations reads in one
/// statement on a backend that prefers per-level loading. Measured natively (callgrind; 1,000
/// articles by 50 authors, each with its author, newest first; joined rows decoded as the
/// backend lends them): 1 record 11,217 instructions joined against 20,087 per level, 20
/// records 83,817 against 154,403, 100 386,624 against 488,506; from 200 records per level is
/// ahead (834,428 against 788,074), as it decodes each of the 50 authors once where the join
/// decodes one per row.
const JOINED_ONES_UP_TO: u64 = 100;

/// How [`Select::all`] loads: the only relation joined to the records' statement, every
/// relation embedded in it as JSON, or the records then each level of relations.
enum Plan<'s, T: 'static> {
    Joined(&'s Include<T>, BoundSql<'s>),
    Embedded(BoundSql<'s>),
    Levels(BoundSql<'s>),
}

/// The `sonic::eager` event (see [`crate::trace`]); not generic, so that its callsite and
/// field code exist once rather than once per table.
fn trace_strategy(
    table: &str,
    relations: &dyn std::fmt::Display,
    strategy: &'static str,
    capabilities: &Capabilities,
) {
    tracing::debug!(
        target: "sonic::eager",
        table = %table,
        relations = %relations,
        strategy,
        backend_prefers = ?capabilities.eager,
        "eager loading"
    );
}
