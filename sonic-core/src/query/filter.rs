//! Filters: typed conditions on one table's columns, combined with `and`/`or`/`not` (the
//! by-name form for REST-style input is in `by_name`).
//!
//! A [`Filter<T>`] only combines with filters of the same table, so a condition on
//! `Post::TITLE` cannot slip into a query of users. Operands are converted with the column's
//! own [`ToValue`], exactly as a record would be written.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{BitAnd, BitOr, Not};

use crate::schema::{Column, Table};
use crate::sql::filter::{escape_like, CmpOp, Expr};
use crate::value::{ToValue, Value};

/// A condition on rows of `T`, built from column handles (`User::EMAIL.eq("a@b.c")`).
///
/// ```
/// use sonic_db_core::query::{and, or};
/// # use sonic_db_core::{Column, ColumnDef, SqlType, Table, TableDef, Value, Error};
/// # struct User;
/// # impl User {
/// #     const NAME: Column<User, String> = Column::new(0);
/// #     const AGE: Column<User, i64> = Column::new(1);
/// # }
/// # impl Table for User {
/// #     const DEF: &'static TableDef = &TableDef {
/// #         name: "users", rust_name: "User", primary_key: &[0], relations: &[],
/// #         constraints: sonic_db_core::schema::Constraints::NONE,
/// #         columns: &[ColumnDef::new("name", "name", SqlType::Text),
/// #                    ColumnDef::new("age", "age", SqlType::Integer)],
/// #     };
/// #     type PrimaryKey = String;
/// #     fn encode_into(&self, _: &mut Vec<Value>) -> Result<(), Error> { Ok(()) }
/// #     fn column_value(&self, _: usize) -> Result<Value, Error> { Ok(Value::Null) }
/// #     fn decode(_: &mut [Value]) -> Result<Self, Error> { Ok(User) }
/// #     fn touch(&mut self, _: i64, _: bool) {}
/// # }
/// let adults = User::AGE.gte(18);
/// let named = or([User::NAME.eq("ada"), User::NAME.like("gr%")]);
/// let both = and([adults, named]);
/// let neither = !both.clone();
/// # let _ = neither;
/// ```
pub struct Filter<T> {
    pub(crate) expr: Expr,
    table: PhantomData<fn() -> T>,
}

impl<T> Clone for Filter<T> {
    fn clone(&self) -> Self {
        Filter::from_expr(self.expr.clone())
    }
}

impl<T> fmt::Debug for Filter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Filter").field(&self.expr).finish()
    }
}

impl<T> PartialEq for Filter<T> {
    fn eq(&self, other: &Self) -> bool {
        self.expr == other.expr
    }
}

impl<T> Filter<T> {
    pub(crate) fn from_expr(expr: Expr) -> Self {
        Filter {
            expr,
            table: PhantomData,
        }
    }

    /// Both conditions.
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
    /// let filter = Post::VIEWS.gt(5).and(Post::TITLE.like("a%"));
    /// assert_eq!(db.select::<Post>().filter(filter).all().await?, [post("p2", "Again", 40)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn and(self, other: Filter<T>) -> Filter<T> {
        and([self, other])
    }

    /// Either condition.
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
    /// let either = Post::VIEWS.gt(20).or(Post::TITLE.eq("Hello"));
    /// assert_eq!(db.select::<Post>().filter(either).count().await?, 2);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn or(self, other: Filter<T>) -> Filter<T> {
        or([self, other])
    }
}

/// All of the filters (`TRUE` when there are none): for conditions collected at run time
/// (`a & b` joins two).
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
/// use sonic_db_core::query::and;
///
/// let exclude: Option<&str> = Some("Bye"); // e.g. an optional field of a search form
/// let mut wanted = vec![Post::VIEWS.gte(1)];
/// if let Some(title) = exclude {
///     wanted.push(Post::TITLE.ne(title));
/// }
/// assert_eq!(db.select::<Post>().filter(and(wanted)).count().await?, 2);
/// assert_eq!(db.select::<Post>().filter(and([])).count().await?, 3);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub fn and<T>(filters: impl IntoIterator<Item = Filter<T>>) -> Filter<T> {
    Filter::from_expr(flatten(filters, true))
}

/// Any of the filters (`FALSE` when there are none); `a | b` for two.
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
/// use sonic_db_core::query::or;
///
/// let picked = ["p1", "p3"].map(|id| Post::ID.eq(id));
/// assert_eq!(db.select::<Post>().filter(or(picked)).count().await?, 2);
/// assert_eq!(db.select::<Post>().filter(or([])).count().await?, 0);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub fn or<T>(filters: impl IntoIterator<Item = Filter<T>>) -> Filter<T> {
    Filter::from_expr(flatten(filters, false))
}

/// The negation of a filter (also `!filter`).
///
/// As in SQL, `NOT` of a comparison with `NULL` is still not true: `not(x.eq(1))` does not
/// match rows where `x` is `NULL`.
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
/// use sonic_db_core::query::not;
///
/// assert_eq!(db.select::<Post>().filter(not(Post::TITLE.eq("Hello"))).count().await?, 2);
/// // Only p1 has a body; the NULL bodies of p2 and p3 match neither filter.
/// assert_eq!(db.select::<Post>().filter(Post::BODY.eq("First!")).count().await?, 1);
/// assert_eq!(db.select::<Post>().filter(!Post::BODY.eq("First!")).count().await?, 0);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub fn not<T>(filter: Filter<T>) -> Filter<T> {
    let expr = match filter.expr {
        Expr::Not(inner) => *inner,
        other => Expr::Not(Box::new(other)),
    };
    Filter::from_expr(expr)
}

fn flatten<T>(filters: impl IntoIterator<Item = Filter<T>>, conjunction: bool) -> Expr {
    let mut parts = Vec::new();
    for filter in filters {
        match (filter.expr, conjunction) {
            (Expr::And(inner), true) | (Expr::Or(inner), false) => parts.extend(inner),
            (other, _) => parts.push(other),
        }
    }
    if parts.len() == 1 {
        if let Some(only) = parts.pop() {
            return only;
        }
    }
    if conjunction {
        Expr::And(parts)
    } else {
        Expr::Or(parts)
    }
}

impl<T> Not for Filter<T> {
    type Output = Filter<T>;
    fn not(self) -> Filter<T> {
        not(self)
    }
}

impl<T> BitAnd for Filter<T> {
    type Output = Filter<T>;
    fn bitand(self, rhs: Filter<T>) -> Filter<T> {
        and([self, rhs])
    }
}

impl<T> BitOr for Filter<T> {
    type Output = Filter<T>;
    fn bitor(self, rhs: Filter<T>) -> Filter<T> {
        or([self, rhs])
    }
}

/// Operators on typed column handles. `V` is the column's operand type (`String` for a
/// `String` or `Option<String>` column), so `User::EMAIL.eq("a@b.c")` takes a `&str`.
impl<T: Table, V: ToValue> Column<T, V> {
    fn operand(self, value: V) -> std::result::Result<Value, Expr> {
        value.to_value().map_err(|error| Expr::Invalid {
            column: self.index(),
            error,
        })
    }

    fn compare(self, op: CmpOp, value: V) -> Filter<T> {
        let expr = match self.operand(value) {
            Ok(value) => Expr::Compare {
                column: self.index(),
                op,
                value,
            },
            Err(invalid) => invalid,
        };
        Filter::from_expr(expr)
    }

    fn list(self, values: impl IntoIterator<Item = impl Into<V>>, negated: bool) -> Filter<T> {
        let values: std::result::Result<Vec<Value>, Expr> =
            values.into_iter().map(|v| self.operand(v.into())).collect();
        let expr = match values {
            Ok(values) => Expr::In {
                column: self.index(),
                values,
                negated,
            },
            Err(invalid) => invalid,
        };
        Filter::from_expr(expr)
    }

    /// `column = value`.
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
    /// assert_eq!(hello.id, "p1");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn eq(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Eq, value.into())
    }

    /// `column <> value`.
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
    /// let others = db.select::<Post>().filter(Post::TITLE.ne("Hello")).count().await?;
    /// assert_eq!(others, 2);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn ne(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Ne, value.into())
    }

    /// `column < value`.
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
    /// let under_7 = db.select::<Post>().filter(Post::VIEWS.lt(7)).count().await?;
    /// assert_eq!(under_7, 1); // p1 (3 views); p3 has exactly 7
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn lt(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Lt, value.into())
    }

    /// `column <= value`.
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
    /// let up_to_7 = db.select::<Post>().filter(Post::VIEWS.lte(7)).count().await?;
    /// assert_eq!(up_to_7, 2); // p1 (3 views) and p3 (7)
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn lte(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Lte, value.into())
    }

    /// `column > value`.
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
    /// let over_7 = db.select::<Post>().filter(Post::VIEWS.gt(7)).all().await?;
    /// assert_eq!(over_7, [post("p2", "Again", 40)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn gt(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Gt, value.into())
    }

    /// `column >= value`.
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
    /// let from_7 = db.select::<Post>().filter(Post::VIEWS.gte(7)).count().await?;
    /// assert_eq!(from_7, 2); // p2 (40 views) and p3 (7)
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn gte(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Gte, value.into())
    }

    /// `column BETWEEN low AND high` (both ends included).
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
    /// let mid = db.select::<Post>().filter(Post::VIEWS.between(3, 7)).count().await?;
    /// assert_eq!(mid, 2); // p1 (3 views) and p3 (7)
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn between(self, low: impl Into<V>, high: impl Into<V>) -> Filter<T> {
        let expr = match (self.operand(low.into()), self.operand(high.into())) {
            (Ok(low), Ok(high)) => Expr::Between {
                column: self.index(),
                low,
                high,
            },
            (Err(invalid), _) | (_, Err(invalid)) => invalid,
        };
        Filter::from_expr(expr)
    }

    /// `column LIKE pattern`: `%` matches any run of characters, `_` one character; ASCII
    /// letters match case-insensitively (SQLite's default). A pattern longer than the backend's
    /// [`max_like_pattern_bytes`](crate::backend::Capabilities::max_like_pattern_bytes) (50 on D1) makes the
    /// query fail with [`Error::Limit`](crate::Error::Limit) before anything is sent.
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
    /// # use sonic_db_core::Capabilities;
    /// let a = db.select::<Post>().filter(Post::TITLE.like("a%")).all().await?;
    /// assert_eq!(a[0].title, "Again");
    /// // On D1 (or SQLite declaring its limits), refused before anything is sent:
    /// let d1 = Db::new(SqliteBackend::memory()?.with_capabilities(Capabilities::D1));
    /// let long = d1.select::<Post>().filter(Post::TITLE.like("%".repeat(51))).all().await;
    /// assert!(matches!(long, Err(Error::Limit(_))));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn like(self, pattern: impl Into<String>) -> Filter<T> {
        Filter::from_expr(Expr::Like {
            column: self.index(),
            pattern: Value::Text(pattern.into()),
            negated: false,
            escaped: false,
        })
    }

    /// `column NOT LIKE pattern`.
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
    /// let no_e = db.select::<Post>().filter(Post::TITLE.not_like("%e%")).all().await?;
    /// assert_eq!(no_e, [post("p2", "Again", 40)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn not_like(self, pattern: impl Into<String>) -> Filter<T> {
        Filter::from_expr(Expr::Like {
            column: self.index(),
            pattern: Value::Text(pattern.into()),
            negated: true,
            escaped: false,
        })
    }

    /// `column IN (…)`. An empty list matches nothing.
    ///
    /// Lists longer than the backend's parameter limit are sent as one JSON parameter
    /// (`IN (SELECT value FROM json_each(?))`), which keeps the meaning; only lists of BLOBs
    /// cannot be, and those fail with [`Error::Limit`](crate::Error::Limit).
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
    /// let picked = db.select::<Post>().filter(Post::ID.in_list(["p1", "p3"])).count().await?;
    /// assert_eq!(picked, 2);
    /// let ids: Vec<String> = Vec::new();
    /// assert_eq!(db.select::<Post>().filter(Post::ID.in_list(ids)).count().await?, 0);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn in_list(self, values: impl IntoIterator<Item = impl Into<V>>) -> Filter<T> {
        self.list(values, false)
    }

    /// `column NOT IN (…)`. An empty list matches every row.
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
    /// let rest = db.select::<Post>().filter(Post::ID.not_in_list(["p1"])).count().await?;
    /// assert_eq!(rest, 2);
    /// let ids: Vec<String> = Vec::new();
    /// assert_eq!(db.select::<Post>().filter(Post::ID.not_in_list(ids)).count().await?, 3);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn not_in_list(self, values: impl IntoIterator<Item = impl Into<V>>) -> Filter<T> {
        self.list(values, true)
    }

    /// `column IS NULL`.
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
    /// let without_body = db.select::<Post>().filter(Post::BODY.is_null()).count().await?;
    /// assert_eq!(without_body, 2);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn is_null(self) -> Filter<T> {
        Filter::from_expr(Expr::Null {
            column: self.index(),
            negated: false,
        })
    }

    /// `column IS NOT NULL`.
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
    /// let with_body = db.select::<Post>().filter(Post::BODY.is_not_null()).one().await?;
    /// assert_eq!(with_body.body.as_deref(), Some("First!"));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn is_not_null(self) -> Filter<T> {
        Filter::from_expr(Expr::Null {
            column: self.index(),
            negated: true,
        })
    }
}

/// Text search on text columns (`String` or `Option<String>`): the operand is matched
/// literally, as `LIKE … ESCAPE '\'` with its `%`, `_` and `\` escaped, so user input
/// such as `50%` cannot act as a wildcard. ASCII letters match case-insensitively, as with
/// [`like`](Column::like); the escaped pattern counts towards the backend's
/// [`max_like_pattern_bytes`](crate::backend::Capabilities::max_like_pattern_bytes).
impl<T: Table> Column<T, String> {
    fn escaped_like(self, prefix: &str, text: &str, suffix: &str) -> Filter<T> {
        Filter::from_expr(Expr::Like {
            column: self.index(),
            pattern: Value::Text(format!("{prefix}{}{suffix}", escape_like(text))),
            negated: false,
            escaped: true,
        })
    }

    /// The column's text contains `text` (`%` and `_` in it are ordinary characters).
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
    /// db.insert(&post("p4", "50% off_now", 1)).await?;
    /// let found = db.select::<Post>().filter(Post::TITLE.contains("0% off_")).all().await?;
    /// assert_eq!(found, [post("p4", "50% off_now", 1)]);
    /// // `%` is not a wildcard here: no title contains a literal "e%".
    /// assert_eq!(db.select::<Post>().filter(Post::TITLE.contains("e%")).count().await?, 0);
    /// assert_eq!(db.select::<Post>().filter(Post::TITLE.contains("y")).count().await?, 1);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn contains(self, text: &str) -> Filter<T> {
        self.escaped_like("%", text, "%")
    }

    /// The column's text starts with `text` (matched literally).
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
    /// db.insert(&post("p4", "_draft", 0)).await?;
    /// let drafts = db.select::<Post>().filter(Post::TITLE.starts_with("_")).all().await?;
    /// assert_eq!(drafts, [post("p4", "_draft", 0)]); // `_` alone would match every title
    /// assert_eq!(db.select::<Post>().filter(Post::TITLE.starts_with("he")).count().await?, 1);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn starts_with(self, text: &str) -> Filter<T> {
        self.escaped_like("", text, "%")
    }

    /// The column's text ends with `text` (matched literally).
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
    /// let found = db.select::<Post>().filter(Post::BODY.ends_with("!")).all().await?;
    /// assert_eq!(found.len(), 1); // p1's "First!"; NULL bodies match nothing
    /// assert_eq!(db.select::<Post>().filter(Post::TITLE.ends_with("\\")).count().await?, 0);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn ends_with(self, text: &str) -> Filter<T> {
        self.escaped_like("%", text, "")
    }
}
