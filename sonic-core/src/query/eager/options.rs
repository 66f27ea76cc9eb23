//! Options per level of eager loading, as Drizzle's `with: { posts: { where, orderBy, limit,
//! columns } }`: `User::POSTS.filter(..).order_by(..).limit(3)` keeps, orders and pages each parent's
//! children.
//!
//! Every strategy gives the same records in the same order: in one statement the options go
//! into each relation's subquery; per level into the `IN (…)` statement, a limit or offset
//! through each child's rank among its parent's (`ROW_NUMBER() OVER (PARTITION BY fk …)`);
//! a relation with options never rides in the parents' `LEFT JOIN`. Ties of the level's
//! order are broken by the children's primary key.
//!
//! The examples run on `users` `u1` (posts `p1` "Hello" 3 views, `p2` "Again" 40, `p3` "Bye"
//! 7) and `u2` (no post); their setup lines are hidden.

use super::Relation;
use super::{Eager, Includes};
use crate::query::filter::{and, Filter};
use crate::query::order::Order;
use crate::query::project::Selection;
use crate::schema::Table;
use crate::sql::eager::LevelSql;

impl<P: Table, C: Table + Clone> Relation<P, C> {
    fn options(self) -> Eager<P, C> {
        Eager {
            relation: self,
            nested: Includes::new(),
            level: LevelSql::default(),
        }
    }

    /// Loads only the related records matching `filter`.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), posts: None }, User { id: "u2".into(), posts: None }]).await?;
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), user_id: "u1".into(), title: title.into(), views, body: Some("text".into()) };
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let users = db.select::<User>().with(User::POSTS.filter(Post::VIEWS.gt(5))).order_by(User::ID.asc()).all().await?;
    /// let ids: Vec<&str> = users[0].posts.iter().flatten().map(|p| p.id.as_str()).collect();
    /// assert_eq!(ids, ["p2", "p3"]);
    /// assert_eq!(users[1].posts, Some(vec![])); // loaded, none matched
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn filter(self, filter: Filter<C>) -> Eager<P, C> {
        self.options().filter(filter)
    }

    /// Loads the related records in this order (then by primary key).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), posts: None }, User { id: "u2".into(), posts: None }]).await?;
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), user_id: "u1".into(), title: title.into(), views, body: Some("text".into()) };
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let user = db.select::<User>().with(User::POSTS.order_by(Post::VIEWS.desc())).filter(User::ID.eq("u1")).one().await?;
    /// let ids: Vec<&str> = user.posts.iter().flatten().map(|p| p.id.as_str()).collect();
    /// assert_eq!(ids, ["p2", "p3", "p1"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn order_by(self, order: Order<C>) -> Eager<P, C> {
        self.options().order_by(order)
    }

    /// Loads at most `n` related records per parent (the first in the level's order).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), posts: None }, User { id: "u2".into(), posts: None }]).await?;
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), user_id: "u1".into(), title: title.into(), views, body: Some("text".into()) };
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let user = db.select::<User>().with(User::POSTS.order_by(Post::VIEWS.desc()).limit(2)).filter(User::ID.eq("u1")).one().await?;
    /// let ids: Vec<&str> = user.posts.iter().flatten().map(|p| p.id.as_str()).collect();
    /// assert_eq!(ids, ["p2", "p3"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn limit(self, n: u64) -> Eager<P, C> {
        self.options().limit(n)
    }

    /// Reads only these columns of the related records (a column, or a tuple of them, as
    /// [`Select::columns`](crate::query::Select::columns) takes); the others read as `None`,
    /// so each must be an `Option` field, or the query is an
    /// [`Error::InvalidQuery`](crate::Error::InvalidQuery) naming it. The primary key and
    /// the columns relations join on are always read.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), posts: None }, User { id: "u2".into(), posts: None }]).await?;
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), user_id: "u1".into(), title: title.into(), views, body: Some("text".into()) };
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let user = db.select::<User>().with(User::POSTS.columns((Post::TITLE, Post::VIEWS))).filter(User::ID.eq("u1")).one().await?;
    /// let posts = user.posts.unwrap();
    /// assert_eq!((posts[0].id.as_str(), posts[0].views, posts[0].body.as_deref()), ("p1", 3, None)); // body not read
    /// let refused = db.select::<User>().with(User::POSTS.columns(Post::BODY.optional())).all().await;
    /// assert!(matches!(refused, Err(Error::InvalidQuery(m)) if m.contains("`posts`.`title`")));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn columns<S: Selection<C>>(self, columns: S) -> Eager<P, C> {
        self.options().columns(columns)
    }

    /// Skips the first `n` related records of each parent.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), posts: None }, User { id: "u2".into(), posts: None }]).await?;
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), user_id: "u1".into(), title: title.into(), views, body: Some("text".into()) };
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let user = db.select::<User>().with(User::POSTS.offset(1)).filter(User::ID.eq("u1")).one().await?;
    /// let ids: Vec<&str> = user.posts.iter().flatten().map(|p| p.id.as_str()).collect();
    /// assert_eq!(ids, ["p2", "p3"]); // p1 skipped (primary-key order)
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn offset(self, n: u64) -> Eager<P, C> {
        self.options().offset(n)
    }
}

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// Loads only the related records matching `filter`; several calls must all match.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), posts: None }, User { id: "u2".into(), posts: None }]).await?;
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), user_id: "u1".into(), title: title.into(), views, body: Some("text".into()) };
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let posts = User::POSTS.filter(Post::VIEWS.gt(1)).filter(Post::TITLE.ne("Bye"));
    /// let user = db.select::<User>().with(posts).filter(User::ID.eq("u1")).one().await?;
    /// assert_eq!(user.posts.map(|p| p.len()), Some(2));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn filter(mut self, filter: Filter<C>) -> Eager<P, C> {
        self.level.filter = Some(match self.level.filter.take() {
            None => filter.expr,
            Some(previous) => and([Filter::from_expr(previous), filter]).expr,
        });
        self
    }

    /// Adds an ordering term for the related records; earlier terms take precedence, the
    /// primary key breaks ties.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), posts: None }, User { id: "u2".into(), posts: None }]).await?;
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), user_id: "u1".into(), title: title.into(), views, body: Some("text".into()) };
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let posts = User::POSTS.filter(Post::VIEWS.gt(1)).order_by(Post::TITLE.asc());
    /// let user = db.select::<User>().with(posts).filter(User::ID.eq("u1")).one().await?;
    /// let titles: Vec<&str> = user.posts.iter().flatten().map(|p| p.title.as_str()).collect();
    /// assert_eq!(titles, ["Again", "Bye", "Hello"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn order_by(mut self, order: Order<C>) -> Eager<P, C> {
        self.level.order.push((order.column, order.direction));
        self
    }

    /// Loads at most `n` related records per parent.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), posts: None }, User { id: "u2".into(), posts: None }]).await?;
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), user_id: "u1".into(), title: title.into(), views, body: Some("text".into()) };
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let posts = User::POSTS.filter(Post::VIEWS.lt(10)).limit(1);
    /// let user = db.select::<User>().with(posts).filter(User::ID.eq("u1")).one().await?;
    /// assert_eq!(user.posts.map(|p| p[0].id.clone()).as_deref(), Some("p1"));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn limit(mut self, n: u64) -> Eager<P, C> {
        self.level.limit = Some(n);
        self
    }

    /// Reads only these columns of the related records; see [`Relation::columns`].
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), posts: None }, User { id: "u2".into(), posts: None }]).await?;
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), user_id: "u1".into(), title: title.into(), views, body: Some("text".into()) };
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let posts = User::POSTS.filter(Post::VIEWS.gt(5)).columns((Post::TITLE, Post::VIEWS));
    /// let user = db.select::<User>().with(posts).filter(User::ID.eq("u1")).one().await?;
    /// assert!(user.posts.iter().flatten().all(|p| p.body.is_none() && !p.title.is_empty()));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn columns<S: Selection<C>>(mut self, columns: S) -> Eager<P, C> {
        self.level.columns = Some(columns.terms().into_iter().map(|t| t.sql()).collect());
        self
    }

    /// Skips the first `n` related records of each parent.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String, title: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # db.insert_many(&[User { id: "u1".into(), posts: None }, User { id: "u2".into(), posts: None }]).await?;
    /// # let post = |id: &str, title: &str, views: i64| Post { id: id.into(), user_id: "u1".into(), title: title.into(), views, body: Some("text".into()) };
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40), post("p3", "Bye", 7)]).await?;
    /// let posts = User::POSTS.order_by(Post::VIEWS.asc()).limit(1).offset(1);
    /// let user = db.select::<User>().with(posts).filter(User::ID.eq("u1")).one().await?;
    /// assert_eq!(user.posts.map(|p| p[0].id.clone()).as_deref(), Some("p3")); // the second least read
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn offset(mut self, n: u64) -> Eager<P, C> {
        self.level.offset = Some(n);
        self
    }
}
