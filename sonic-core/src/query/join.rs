//! Joins: `db.select::<Post>().left_join(Post::AUTHOR)` reads `(Post, Option<User>)` pairs in
//! one statement, along a declared relation or explicit columns, with filters and order on
//! either side.
//!
//! Both records decode by position, so the `id` of a post and the `id` of its author stay
//! apart (a raw `SELECT posts.*, users.*` read by column name would merge them). Joined
//! records bypass the KV cache, and their relations start unloaded. The examples run on
//! `users` `u1` "Ada" and `u2` "Bob", and `posts` `p1` "Hello" and `p2` "Again" by `u1` and
//! `p3` "Orphan" by a user `u9` who does not exist; their setup lines are hidden.

use std::fmt;
use std::marker::PhantomData;

#[cfg(not(target_arch = "wasm32"))]
use crate::backend::{Params, RowSink, RowsRead};
use crate::backend::{QueryResult, Statement};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::query::eager::Relation;
use crate::query::filter::{and, Filter};
use crate::query::order::Order;
use crate::query::rows::check_shape;
#[cfg(not(target_arch = "wasm32"))]
use crate::query::rows::{check_width, later, make_room};
use crate::query::select::Select;
#[cfg(not(target_arch = "wasm32"))]
use crate::row::{Part, Row};
use crate::schema::{Column, Table};
use crate::sql::filter::Expr;
use crate::sql::join::{join_statement, JoinSql, Side};
use crate::sql::order::Direction;
#[cfg(not(target_arch = "wasm32"))]
use crate::value::Cell;
use crate::value::Value;

mod sealed {
    pub trait Sealed {}
}

/// Inner or left: what a row of a join holds on the joined side.
///
/// ```
/// use sonic_db_core::query::{Inner, JoinKind, LeftOuter};
/// fn right<K: JoinKind>() -> &'static str { std::any::type_name::<K::Right<String>>() }
/// assert_eq!(right::<Inner>(), "alloc::string::String");
/// assert!(right::<LeftOuter>().starts_with("core::option::Option"));
/// ```
pub trait JoinKind: sealed::Sealed {
    /// The joined record as a row holds it: `C`, or `Option<C>` for a left join. (`Send` and
    /// `Sync` as records are, so that rows can be collected while a backend lends them.)
    type Right<C: Send + Sync>: Send + Sync;
    /// Whether rows of the left table without a match stay (`LEFT JOIN`).
    const OUTER: bool;
    /// The joined side of one row from the record found (if any); `None` when an inner
    /// join's row has none, which its SQL rules out.
    ///
    /// ```
    /// use sonic_db_core::query::{Inner, JoinKind, LeftOuter};
    /// assert_eq!(Inner::right(Some(1)), Some(1));
    /// assert_eq!(Inner::right::<i32>(None), None);
    /// assert_eq!(LeftOuter::right::<i32>(None), Some(None));
    /// ```
    fn right<C: Send + Sync>(record: Option<C>) -> Option<Self::Right<C>>;
}

/// `JOIN`: rows with a match on both sides.
///
/// ```
/// use sonic_db_core::query::{Inner, JoinKind};
/// assert!(!Inner::OUTER);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Inner;

/// `LEFT JOIN`: every row of the table the select started from, the joined record `None`
/// where nothing matched.
///
/// ```
/// use sonic_db_core::query::{JoinKind, LeftOuter};
/// assert!(LeftOuter::OUTER);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LeftOuter;

impl sealed::Sealed for Inner {}
impl sealed::Sealed for LeftOuter {}

impl JoinKind for Inner {
    type Right<C: Send + Sync> = C;
    const OUTER: bool = false;
    fn right<C: Send + Sync>(record: Option<C>) -> Option<C> {
        record
    }
}

impl JoinKind for LeftOuter {
    type Right<C: Send + Sync> = Option<C>;
    const OUTER: bool = true;
    fn right<C: Send + Sync>(record: Option<C>) -> Option<Option<C>> {
        Some(record)
    }
}

impl<'db, T: Table> Select<'db, T> {
    /// Joins the records `relation` points to (`JOIN`): one `(T, C)` per matching pair, for
    /// a `one` relation each `T` with its record, for a `many` relation each `T` once per
    /// child. The select's filter, order, limit and offset apply.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let pairs = db.select::<Post>().join(Post::AUTHOR).order_by(Post::ID.asc()).all().await?;
    /// let ids: Vec<(&str, &str)> = pairs.iter().map(|(p, u)| (p.id.as_str(), u.id.as_str())).collect();
    /// assert_eq!(ids, [("p1", "u1"), ("p2", "u1")]); // p3's author does not exist
    /// let per_user = db.select::<User>().join(User::POSTS).count_rows().await?;
    /// assert_eq!(per_user, 2);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn join<C: Table>(self, relation: Relation<T, C>) -> Join<'db, T, C, Inner> {
        let def = relation.def();
        Join::new(self, def.local, (def.remote)()).refusing_through(def)
    }

    /// Joins the records `relation` points to, keeping records without a match (`LEFT
    /// JOIN`): one `(T, Option<C>)` per pair, `None` where nothing matched.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let pairs = db.select::<Post>().left_join(Post::AUTHOR).order_by(Post::ID.asc()).all().await?;
    /// let names: Vec<Option<&str>> = pairs.iter().map(|(_, u)| u.as_ref().map(|u| u.name.as_str())).collect();
    /// assert_eq!(names, [Some("Ada"), Some("Ada"), None]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn left_join<C: Table>(self, relation: Relation<T, C>) -> Join<'db, T, C, LeftOuter> {
        let def = relation.def();
        Join::new(self, def.local, (def.remote)()).refusing_through(def)
    }

    /// Joins `C` on explicit columns (`JOIN … ON c.remote = t.local`), for tables that
    /// declare no relation between them.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let pairs = db.select::<Post>().join_on(Post::USER_ID, User::ID).filter_joined(User::NAME.eq("Ada")).all().await?;
    /// assert_eq!(pairs.len(), 2);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn join_on<C: Table, V>(
        self,
        local: Column<T, V>,
        remote: Column<C, V>,
    ) -> Join<'db, T, C, Inner> {
        Join::new(self, local.index(), remote.index())
    }

    /// Left-joins `C` on explicit columns (`LEFT JOIN … ON c.remote = t.local`).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let pairs = db.select::<Post>().left_join_on(Post::USER_ID, User::ID).filter(Post::ID.eq("p3")).all().await?;
    /// assert_eq!(pairs.len(), 1);
    /// assert!(pairs[0].1.is_none());
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn left_join_on<C: Table, V>(
        self,
        local: Column<T, V>,
        remote: Column<C, V>,
    ) -> Join<'db, T, C, LeftOuter> {
        Join::new(self, local.index(), remote.index())
    }
}

/// A join of `T` with `C` under construction; nothing runs until `all`, `first` or
/// `count_rows` is awaited. Made by [`Select::join`], [`Select::left_join`] and their `_on`
/// forms. Filters and orderings name their side by their type: `filter` and `order_by` take
/// `T`'s, `filter_joined` and `order_by_joined` `C`'s.
///
/// A condition on the joined side of a left join keeps only rows where it holds, as in SQL:
/// rows without a match have `NULL` there, so it turns the left join into an inner one.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "users")]
/// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?);
/// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
/// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
/// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
/// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
/// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
/// let recent = db
///     .select::<Post>()
///     .left_join(Post::AUTHOR)
///     .filter(Post::TITLE.ne("Hello"))
///     .order_by(Post::TITLE.asc())
///     .limit(5)
///     .all()
///     .await?;
/// assert_eq!(recent.iter().map(|(p, _)| p.id.as_str()).collect::<Vec<_>>(), ["p2", "p3"]);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
#[must_use = "a join does nothing until `all`, `first` or `count_rows` is awaited"]
pub struct Join<'db, T: Table, C: Table, K: JoinKind> {
    db: &'db Db,
    local: usize,
    remote: usize,
    filter: Option<Expr>,
    joined_filter: Option<Expr>,
    order: Vec<(Side, usize, Direction)>,
    limit: Option<u64>,
    offset: Option<u64>,
    includes: usize,
    /// The relation joined when it is many-to-many, which a two-table join cannot express
    /// (refused when the statement is built).
    through: Option<&'static str>,
    _marker: Sides<T, C, K>,
}

/// The types a [`Join`] reads, without holding any.
type Sides<T, C, K> = PhantomData<fn() -> (T, C, K)>;

impl<T: Table, C: Table, K: JoinKind> fmt::Debug for Join<'_, T, C, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join")
            .field("table", &T::DEF.name)
            .field("joined", &C::DEF.name)
            .field("outer", &K::OUTER)
            .field("filter", &self.filter)
            .field("joined_filter", &self.joined_filter)
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .finish()
    }
}

fn conjoin<X>(previous: Option<Expr>, filter: Filter<X>) -> Option<Expr> {
    Some(match previous {
        None => filter.expr,
        Some(previous) => and([Filter::from_expr(previous), filter]).expr,
    })
}

impl<'db, T: Table, C: Table, K: JoinKind> Join<'db, T, C, K> {
    /// Marks a join of a many-to-many relation, refused when run.
    fn refusing_through(mut self, relation: &'static crate::schema::RelationDef) -> Self {
        if relation.through.is_some() {
            self.through = Some(relation.name);
        }
        self
    }

    fn new(select: Select<'db, T>, local: usize, remote: usize) -> Self {
        let parts = select.into_parts();
        Join {
            db: parts.db,
            local,
            remote,
            filter: parts.filter,
            joined_filter: None,
            order: parts
                .order
                .into_iter()
                .map(|(column, direction)| (Side::Left, column, direction))
                .collect(),
            limit: parts.limit,
            offset: parts.offset,
            includes: parts.includes,
            through: None,
            _marker: PhantomData,
        }
    }

    /// Keeps the rows whose `T` matches `filter`; several calls must all match.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let pairs = db.select::<Post>().join(Post::AUTHOR).filter(Post::TITLE.eq("Again")).all().await?;
    /// assert_eq!(pairs[0].0.id, "p2");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn filter(mut self, filter: Filter<T>) -> Self {
        self.filter = conjoin(self.filter.take(), filter);
        self
    }

    /// Keeps the rows whose joined `C` matches `filter`; several calls must all match.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let by_bob = db.select::<Post>().join(Post::AUTHOR).filter_joined(User::NAME.eq("Bob")).all().await?;
    /// assert!(by_bob.is_empty());
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn filter_joined(mut self, filter: Filter<C>) -> Self {
        self.joined_filter = conjoin(self.joined_filter.take(), filter);
        self
    }

    /// Adds an ordering term on a column of `T`; earlier terms take precedence.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let pairs = db.select::<Post>().join(Post::AUTHOR).order_by(Post::TITLE.asc()).all().await?;
    /// assert_eq!(pairs[0].0.title, "Again");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn order_by(mut self, order: Order<T>) -> Self {
        self.order.push((Side::Left, order.column, order.direction));
        self
    }

    /// Adds an ordering term on a column of the joined `C`; earlier terms take precedence.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let users = db.select::<User>().left_join(User::POSTS).order_by_joined(Post::TITLE.desc()).all().await?;
    /// let titles: Vec<Option<&str>> = users.iter().map(|(_, p)| p.as_ref().map(|p| p.title.as_str())).collect();
    /// assert_eq!(titles, [Some("Hello"), Some("Again"), None]); // Bob has no post: NULL sorts last when descending
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn order_by_joined(mut self, order: Order<C>) -> Self {
        self.order
            .push((Side::Right, order.column, order.direction));
        self
    }

    /// At most `n` rows.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let pairs = db.select::<Post>().left_join(Post::AUTHOR).limit(1).all().await?;
    /// assert_eq!(pairs.len(), 1);
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
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let pairs = db.select::<Post>().left_join(Post::AUTHOR).order_by(Post::ID.asc()).offset(2).all().await?;
    /// assert_eq!(pairs[0].0.id, "p3");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    fn spec(&self) -> JoinSql<'_> {
        JoinSql {
            left: T::DEF,
            right: C::DEF,
            outer: K::OUTER,
            local: self.local,
            remote: self.remote,
            left_filter: self.filter.as_ref(),
            right_filter: self.joined_filter.as_ref(),
            order: &self.order,
            limit: self.limit,
            offset: self.offset,
        }
    }

    /// The statement this join sends, checked against the backend's limits.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let statement = db.select::<Post>().left_join(Post::AUTHOR).filter_joined(User::NAME.eq("Ada")).to_statement()?;
    /// assert_eq!(
    ///     statement.sql,
    ///     r#"SELECT "l"."id", "l"."user_id", "l"."title", "r"."id" AS "r.id", "r"."name" AS "r.name" FROM "posts" AS "l" LEFT JOIN "users" AS "r" ON "r"."id" = "l"."user_id" WHERE ("r"."name" = ?)"#
    /// );
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn to_statement(&self) -> Result<Statement> {
        if let Some(relation) = self.through {
            return Err(Error::InvalidQuery(format!(
                "`{}`.`{relation}` is many-to-many: a join of two tables cannot follow its join \
                 table; load it with `with`, or filter with `exists`",
                T::DEF.name
            )));
        }
        if self.includes > 0 {
            return Err(Error::InvalidQuery(format!(
                "a join of `{}` and `{}` cannot load relations with `with`; load them in a \
                 select of their own",
                T::DEF.name,
                C::DEF.name
            )));
        }
        join_statement(&self.spec(), self.db.capabilities())
    }

    /// Every row: `(T, C)` for an inner join, `(T, Option<C>)` for a left join.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let pairs: Vec<(Post, Option<User>)> = db.select::<Post>().left_join(Post::AUTHOR).all().await?;
    /// assert_eq!(pairs.len(), 3);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn all(self) -> Result<Vec<(T, K::Right<C>)>> {
        let statement = self.to_statement()?;
        #[cfg(not(target_arch = "wasm32"))]
        {
            let mut sink = Pairs::<T, C, K> { rows: Vec::new() };
            let params = Params::Values(&statement.params);
            let read = match self.db.execute_into_now(&statement.sql, params, &mut sink) {
                Some(read) => read?,
                None => {
                    later(
                        self.db
                            .execute_into_later(&statement.sql, params, &mut sink),
                    )
                    .await?
                }
            };
            match read {
                RowsRead::Streamed { .. } => Ok(sink.rows),
                RowsRead::Returned(result) => decode_pairs::<T, C, K>(result),
            }
        }
        #[cfg(target_arch = "wasm32")]
        decode_pairs::<T, C, K>(self.db.execute(&statement).await?)
    }

    /// The first row, if any (sends `LIMIT 1`).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// let first = db.select::<Post>().join(Post::AUTHOR).order_by(Post::ID.desc()).first().await?;
    /// assert_eq!(first.map(|(p, u)| (p.id, u.id)), Some(("p2".into(), "u1".into())));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn first(mut self) -> Result<Option<(T, K::Right<C>)>> {
        self.limit = Some(1);
        Ok(self.all().await?.into_iter().next())
    }

    /// The number of rows the join returns (limit and offset do not apply): one
    /// `SELECT COUNT(*)` over the same join.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String, name: String, #[relation(many, remote = user_id)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String, title: String, #[relation(one, local = user_id)] author: sonic_db_core::One<User> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<User>().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let user = |id: &str, name: &str| User { id: id.into(), name: name.into(), posts: None };
    /// # let post = |id: &str, user_id: &str, title: &str| Post { id: id.into(), user_id: user_id.into(), title: title.into(), author: sonic_db_core::One::NotLoaded };
    /// # db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")]).await?;
    /// # db.insert_many(&[post("p1", "u1", "Hello"), post("p2", "u1", "Again"), post("p3", "u9", "Orphan")]).await?;
    /// assert_eq!(db.select::<User>().left_join(User::POSTS).count_rows().await?, 3); // Bob once, without posts
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn count_rows(mut self) -> Result<u64> {
        self.limit = None;
        self.offset = None;
        self.order.clear();
        if self.includes > 0 || self.through.is_some() {
            return self.to_statement().map(|_| 0);
        }
        let mut statement = join_statement(&self.spec(), self.db.capabilities())?;
        statement.sql = format!("SELECT COUNT(*) FROM ({})", statement.sql).into();
        let result = self.db.execute(&statement).await?;
        crate::query::rows::decode_count(&result, T::DEF)
    }
}

/// The pairs of a join's whole result (on wasm32, or from a backend that returns it whole).
fn decode_pairs<T: Table, C: Table, K: JoinKind>(
    result: QueryResult,
) -> Result<Vec<(T, K::Right<C>)>> {
    let own = T::DEF.columns.len();
    let width = own + C::DEF.columns.len();
    check_shape(&result, width, T::DEF)?;
    let key = C::DEF.primary_key;
    let mut values = result.values;
    let mut rows = Vec::with_capacity(values.len() / width.max(1));
    for row in values.chunks_exact_mut(width.max(1)) {
        let (left, right) = row.split_at_mut(own);
        let record = T::decode(left)?;
        // A left join without a match has NULL in every joined column, the key included.
        let unmatched = key
            .iter()
            .all(|k| matches!(right.get(*k), Some(Value::Null) | None));
        let joined = if unmatched {
            None
        } else {
            Some(C::decode(right)?)
        };
        rows.push((record, right_side::<T, C, K>(joined)?));
    }
    Ok(rows)
}

/// The joined side of a row; an inner join's row without one is the backend's error.
fn right_side<T: Table, C: Table, K: JoinKind>(joined: Option<C>) -> Result<K::Right<C>> {
    K::right(joined).ok_or_else(|| Error::Database {
        message: format!(
            "an inner join of `{}` and `{}` returned a row without a `{}` record",
            T::DEF.name,
            C::DEF.name,
            C::DEF.name
        ),
    })
}

/// Decodes a join's rows as the backend lends them: each side from its part of the row, by
/// position, with no [`Value`] per cell.
#[cfg(not(target_arch = "wasm32"))]
struct Pairs<T, C: Table, K: JoinKind> {
    rows: Vec<(T, K::Right<C>)>,
}

#[cfg(not(target_arch = "wasm32"))]
impl<T: Table, C: Table, K: JoinKind> Pairs<T, C, K> {
    #[inline]
    fn take<R: Row + ?Sized>(&mut self, row: &R) -> Result<()> {
        let own = T::DEF.columns.len();
        let width = C::DEF.columns.len();
        if self.rows.is_empty() {
            check_width(row.width(), own + width, T::DEF)?;
            make_room(&mut self.rows);
        }
        let record = T::decode_row(&Part {
            row,
            start: 0,
            width: own,
        })?;
        // A left join without a match has NULL in every joined column, the key included.
        let unmatched = C::DEF
            .primary_key
            .iter()
            .all(|k| matches!(row.cell(own + k), Some(Cell::Null) | None));
        let joined = if unmatched {
            None
        } else {
            Some(C::decode_row(&Part {
                row,
                start: own,
                width,
            })?)
        };
        self.rows.push((record, right_side::<T, C, K>(joined)?));
        Ok(())
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl<T: Table, C: Table, K: JoinKind> RowSink for Pairs<T, C, K> {
    fn row(&mut self, row: &dyn Row) -> Result<()> {
        self.take(row)
    }

    #[cfg(feature = "rusqlite")]
    fn sqlite_row(&mut self, row: &rusqlite::Row<'_>) -> Result<()> {
        self.take(row)
    }
}
