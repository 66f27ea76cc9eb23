//! Projections and aggregates: `db.select::<Post>().columns((Post::AUTHOR, count()))`, with
//! `group_by`, `having`, `distinct`, and the select's filter, order and paging.
//!
//! A projection reads chosen columns and aggregates of them into typed tuples (or, through
//! `From`, into a struct of the application's), never into records: it bypasses the KV cache.
//! The examples run on a table `posts` (`id`, `author`, `views`, a nullable `body`) holding
//! `p1` by ada (3 views, body "First!"), `p2` by ada (40 views) and `p3` by bob (7 views); their
//! setup lines are hidden.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{BitAnd, BitOr, Not};

use crate::backend::Statement;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::query::filter::{and, Filter};
use crate::query::order::Order;
use crate::query::rows::check_shape;
use crate::query::select::Select;
use crate::schema::{Column, Table};
use crate::sql::exact_integers::integers_as_text;
use crate::sql::filter::{CmpOp, Expr};
use crate::sql::order::Direction;
use crate::sql::project::{project_statement, HavingSql, ProjectSql, TermSql};
use crate::value::{integers_from_text, ConvertError, FromValue, SqlType, ToValue, Value};

/// One selected item of `T`, opaque: what a [`Selectable`] compiles to.
///
/// ```
/// # #[cfg(feature = "derive")] {
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
/// use sonic_db_core::query::{count, Selectable};
///
/// assert_ne!(Post::VIEWS.term(), count::<Post>().term());
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    sql: TermSql,
    /// Whether the reader takes `NULL` (an `Option`).
    nullable_ok: bool,
}

impl Term {
    /// What the compiler writes for it.
    pub(crate) fn sql(self) -> TermSql {
        self.sql
    }
}

/// An item a projection can select: a column (`Post::TITLE`), a nullable column read as an
/// `Option` (`Post::BODY.optional()`), or an aggregate (`count()`, `Post::VIEWS.sum()`).
///
/// `Output` is the Rust type it reads into.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?);
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
/// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
/// use sonic_db_core::query::Selectable;
///
/// // A helper that reads the first row of any two items of `Post`.
/// async fn first_pair<A: Selectable<Post>, B: Selectable<Post>>(
///     db: &Db,
///     a: A,
///     b: B,
/// ) -> Result<Option<(A::Output, B::Output)>, Error> {
///     db.select::<Post>().columns((a, b)).first().await
/// }
/// assert_eq!(first_pair(&db, Post::VIEWS.min(), Post::VIEWS.max()).await?, Some((Some(3), Some(40))));
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub trait Selectable<T: Table> {
    /// The Rust type the item reads into.
    type Output: FromValue;
    /// What the item compiles to.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// use sonic_db_core::query::Selectable;
    /// assert_eq!(Post::VIEWS.term(), Post::VIEWS.term());
    /// assert_ne!(Post::VIEWS.term(), Post::VIEWS.sum().term());
    /// # }
    /// ```
    fn term(&self) -> Term;
}

/// A row of selected items: a [`Selectable`] alone, or a tuple of up to 12 of them, which
/// reads into the tuple of their outputs.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?);
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
/// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
/// use sonic_db_core::query::count;
///
/// let views: Vec<i64> = db.select::<Post>().columns(Post::VIEWS).order_by(Post::VIEWS.asc()).all().await?;
/// assert_eq!(views, [3, 7, 40]);
/// let pairs: Vec<(String, i64)> = db
///     .select::<Post>()
///     .columns((Post::ID, Post::VIEWS))
///     .filter(Post::VIEWS.gt(5))
///     .order_by(Post::ID.asc())
///     .all()
///     .await?;
/// assert_eq!(pairs, [("p2".to_string(), 40), ("p3".to_string(), 7)]);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub trait Selection<T: Table> {
    /// The Rust type one row reads into.
    type Output;
    /// The selected items, in order.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// use sonic_db_core::query::{count, Selection};
    /// assert_eq!((Post::AUTHOR, count()).terms().len(), 2);
    /// # }
    /// ```
    fn terms(&self) -> Vec<Term>;
    /// Reads one row (its values in the order of [`Selection::terms`]); an error gives the
    /// position of the value that did not convert.
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// use sonic_db_core::query::{count, Aggregate, Selection};
    /// use sonic_db_core::{Column, Value};
    ///
    /// type Row = (Column<Post, String>, Aggregate<Post, u64>);
    /// let mut row = [Value::Text("ada".into()), Value::Integer(2)];
    /// assert_eq!(<Row as Selection<Post>>::decode(&mut row), Ok(("ada".to_string(), 2)));
    /// let mut bad = [Value::Null, Value::Integer(2)];
    /// assert_eq!(<Row as Selection<Post>>::decode(&mut bad).map_err(|(at, _)| at), Err(0));
    /// # }
    /// ```
    fn decode(row: &mut [Value]) -> std::result::Result<Self::Output, (usize, ConvertError)>;
}

fn take<O: FromValue>(
    row: &mut [Value],
    position: usize,
) -> std::result::Result<O, (usize, ConvertError)> {
    let value = row
        .get_mut(position)
        .map(std::mem::take)
        .unwrap_or_default();
    O::from_value(value).map_err(|error| (position, error))
}

macro_rules! tuple_selection {
    ($($item:ident $position:tt),+) => {
        impl<T: Table, $($item: Selectable<T>),+> Selection<T> for ($($item,)+) {
            type Output = ($($item::Output,)+);
            fn terms(&self) -> Vec<Term> {
                vec![$(self.$position.term()),+]
            }
            fn decode(
                row: &mut [Value],
            ) -> std::result::Result<Self::Output, (usize, ConvertError)> {
                Ok(($(take::<$item::Output>(row, $position)?,)+))
            }
        }
    };
}

tuple_selection!(A 0);
tuple_selection!(A 0, B 1);
tuple_selection!(A 0, B 1, C 2);
tuple_selection!(A 0, B 1, C 2, D 3);
tuple_selection!(A 0, B 1, C 2, D 3, E 4);
tuple_selection!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_selection!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_selection!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_selection!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_selection!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_selection!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
tuple_selection!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

/// One item alone reads into its output, not a 1-tuple.
macro_rules! single_selection {
    ($($ty:ty => [$($generics:tt)*]),*) => {$(
        impl<T: Table, $($generics)*> Selection<T> for $ty
        where
            $ty: Selectable<T>,
        {
            type Output = <$ty as Selectable<T>>::Output;
            fn terms(&self) -> Vec<Term> {
                vec![self.term()]
            }
            fn decode(
                row: &mut [Value],
            ) -> std::result::Result<Self::Output, (usize, ConvertError)> {
                take(row, 0)
            }
        }
    )*};
}

single_selection!(Column<T, V> => [V], Optional<T, V> => [V], Aggregate<T, O> => [O]);

impl<T: Table, V: FromValue> Selectable<T> for Column<T, V> {
    type Output = V;
    fn term(&self) -> Term {
        Term {
            sql: TermSql::Column(self.index()),
            nullable_ok: false,
        }
    }
}

/// A nullable column read as an `Option` (`Post::BODY.optional()`): a column handle's type is
/// the operand its filters take, without the `Option`, so a nullable column says so here.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?);
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
/// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
/// let bodies: Vec<Option<String>> = db
///     .select::<Post>()
///     .columns(Post::BODY.optional())
///     .order_by(Post::ID.asc())
///     .all()
///     .await?;
/// assert_eq!(bodies, [Some("First!".to_string()), None, None]);
/// // Without `.optional()`, refused before anything is sent:
/// assert!(matches!(db.select::<Post>().columns(Post::BODY).all().await, Err(Error::InvalidQuery(_))));
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub struct Optional<T, V> {
    column: usize,
    _marker: PhantomData<fn() -> (T, V)>,
}

impl<T, V> Clone for Optional<T, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, V> Copy for Optional<T, V> {}

impl<T, V> fmt::Debug for Optional<T, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Optional").field(&self.column).finish()
    }
}

impl<T: Table, V: FromValue> Selectable<T> for Optional<T, V> {
    type Output = Option<V>;
    fn term(&self) -> Term {
        Term {
            sql: TermSql::Column(self.column),
            nullable_ok: true,
        }
    }
}

/// An aggregate of `T`'s rows that reads into `O`: [`count`], and a column's
/// [`count_distinct`](Column::count_distinct), [`sum`](Column::sum), [`avg`](Column::avg),
/// [`min`](Column::min) and [`max`](Column::max). Compared (`count().gt(1)`) it is a
/// [`Having`] condition; `asc()`/`desc()` order by it.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?);
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
/// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
/// use sonic_db_core::query::count;
///
/// let (posts, views) = db.select::<Post>().columns((count(), Post::VIEWS.sum())).one().await?;
/// assert_eq!((posts, views), (3, Some(50)));
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub struct Aggregate<T, O> {
    term: TermSql,
    _marker: PhantomData<fn() -> (T, O)>,
}

impl<T, O> Clone for Aggregate<T, O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T, O> Copy for Aggregate<T, O> {}

impl<T, O> fmt::Debug for Aggregate<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Aggregate").field(&self.term).finish()
    }
}

impl<T: Table, O: FromValue> Selectable<T> for Aggregate<T, O> {
    type Output = O;
    fn term(&self) -> Term {
        Term {
            sql: self.term,
            nullable_ok: true,
        }
    }
}

impl<T, O> Aggregate<T, O> {
    fn new(term: TermSql) -> Self {
        Aggregate {
            term,
            _marker: PhantomData,
        }
    }
}

/// `COUNT(*)`: the rows of the group (of the whole filtered table without `group_by`).
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?);
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
/// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
/// use sonic_db_core::query::count;
///
/// let per_author: Vec<(String, u64)> = db
///     .select::<Post>()
///     .columns((Post::AUTHOR, count()))
///     .group_by(Post::AUTHOR)
///     .order_by(Post::AUTHOR.asc())
///     .all()
///     .await?;
/// assert_eq!(per_author, [("ada".to_string(), 2), ("bob".to_string(), 1)]);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub fn count<T: Table>() -> Aggregate<T, u64> {
    Aggregate::new(TermSql::Count)
}

/// The numeric column types a `SUM` adds up, and the type of the total: `i64` for integer
/// columns (SQLite sums integers exactly, failing on overflow), `f64` for float columns.
///
/// ```
/// use sonic_db_core::query::Summable;
/// fn total_of<V: Summable>() -> &'static str { std::any::type_name::<V::Total>() }
/// assert_eq!(total_of::<u8>(), "i64");
/// assert_eq!(total_of::<f32>(), "f64");
/// ```
pub trait Summable {
    /// The type of the sum.
    type Total: FromValue + ToValue;
}

macro_rules! summable {
    ($total:ty: $($t:ty),*) => {$(impl Summable for $t { type Total = $total; })*};
}
summable!(i64: i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
summable!(f64: f32, f64);

impl<T: Table, V> Column<T, V> {
    /// This (nullable) column read as an `Option`; see [`Optional`].
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let body = db.select::<Post>().columns(Post::BODY.optional()).filter(Post::ID.eq("p1")).one().await?;
    /// assert_eq!(body.as_deref(), Some("First!"));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn optional(self) -> Optional<T, V> {
        Optional {
            column: self.index(),
            _marker: PhantomData,
        }
    }

    /// `COUNT(DISTINCT column)`: the distinct non-NULL values.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let authors = db.select::<Post>().columns(Post::AUTHOR.count_distinct()).one().await?;
    /// assert_eq!(authors, 2);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn count_distinct(self) -> Aggregate<T, u64> {
        Aggregate::new(TermSql::CountDistinct(self.index()))
    }

    /// `MIN(column)`, in the column's type; `None` when the group has no non-NULL value.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let least = db.select::<Post>().columns(Post::VIEWS.min()).one().await?;
    /// assert_eq!(least, Some(3));
    /// let none = db.select::<Post>().columns(Post::VIEWS.min()).filter(Post::VIEWS.gt(100)).one().await?;
    /// assert_eq!(none, None); // no row: MIN is NULL
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn min(self) -> Aggregate<T, Option<V>> {
        Aggregate::new(TermSql::Min(self.index()))
    }

    /// `MAX(column)`, in the column's type; `None` when the group has no non-NULL value.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let last = db.select::<Post>().columns(Post::ID.max()).one().await?;
    /// assert_eq!(last.as_deref(), Some("p3"));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn max(self) -> Aggregate<T, Option<V>> {
        Aggregate::new(TermSql::Max(self.index()))
    }
}

impl<T: Table, V: Summable> Column<T, V> {
    /// `SUM(column)`: `i64` for integer columns, `f64` for floats; `None` when the group has
    /// no non-NULL value.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let views = db.select::<Post>().columns(Post::VIEWS.sum()).filter(Post::AUTHOR.eq("ada")).one().await?;
    /// assert_eq!(views, Some(43));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn sum(self) -> Aggregate<T, Option<V::Total>> {
        Aggregate::new(TermSql::Sum(self.index()))
    }

    /// `AVG(column)` as an `f64`; `None` when the group has no non-NULL value.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let mean = db.select::<Post>().columns(Post::VIEWS.avg()).filter(Post::AUTHOR.eq("ada")).one().await?;
    /// assert_eq!(mean, Some(21.5));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn avg(self) -> Aggregate<T, Option<f64>> {
        Aggregate::new(TermSql::Avg(self.index()))
    }
}

/// What an aggregate's result compares with: a count with a `u64`, a `SUM`, `AVG`, `MIN` or
/// `MAX` (an `Option` of its type) with that type.
///
/// ```
/// use sonic_db_core::query::AggregateValue;
/// fn operand<O: AggregateValue>() -> &'static str { std::any::type_name::<O::Operand>() }
/// assert_eq!(operand::<Option<i64>>(), "i64");
/// assert_eq!(operand::<u64>(), "u64");
/// ```
pub trait AggregateValue {
    /// The type compared with.
    type Operand: ToValue;
}

impl AggregateValue for u64 {
    type Operand = u64;
}

impl<V: ToValue> AggregateValue for Option<V> {
    type Operand = V;
}

impl<T: Table, O: AggregateValue> Aggregate<T, O> {
    fn compare(self, op: CmpOp, value: O::Operand) -> Having<T> {
        let sql = match value.to_value() {
            Ok(value) => HavingSql::Compare {
                term: self.term,
                op,
                value,
            },
            Err(error) => HavingSql::Invalid {
                term: self.term,
                error,
            },
        };
        Having::from_sql(sql)
    }

    /// `aggregate = value`, for `having`.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// use sonic_db_core::query::count;
    /// let single: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).group_by(Post::AUTHOR).having(count().eq(1)).all().await?;
    /// assert_eq!(single, ["bob"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn eq(self, value: O::Operand) -> Having<T> {
        self.compare(CmpOp::Eq, value)
    }

    /// `aggregate <> value`, for `having`.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// use sonic_db_core::query::count;
    /// let many: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).group_by(Post::AUTHOR).having(count().ne(1)).all().await?;
    /// assert_eq!(many, ["ada"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn ne(self, value: O::Operand) -> Having<T> {
        self.compare(CmpOp::Ne, value)
    }

    /// `aggregate < value`, for `having`.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let quiet: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).group_by(Post::AUTHOR).having(Post::VIEWS.sum().lt(10)).all().await?;
    /// assert_eq!(quiet, ["bob"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn lt(self, value: O::Operand) -> Having<T> {
        self.compare(CmpOp::Lt, value)
    }

    /// `aggregate <= value`, for `having`.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let quiet: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).group_by(Post::AUTHOR).having(Post::VIEWS.max().lte(7)).all().await?;
    /// assert_eq!(quiet, ["bob"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn lte(self, value: O::Operand) -> Having<T> {
        self.compare(CmpOp::Lte, value)
    }

    /// `aggregate > value`, for `having`.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let read: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).group_by(Post::AUTHOR).having(Post::VIEWS.avg().gt(10.0)).all().await?;
    /// assert_eq!(read, ["ada"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn gt(self, value: O::Operand) -> Having<T> {
        self.compare(CmpOp::Gt, value)
    }

    /// `aggregate >= value`, for `having`.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// use sonic_db_core::query::count;
    /// let prolific: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).group_by(Post::AUTHOR).having(count().gte(2)).all().await?;
    /// assert_eq!(prolific, ["ada"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn gte(self, value: O::Operand) -> Having<T> {
        self.compare(CmpOp::Gte, value)
    }
}

impl<T: Table, O> Aggregate<T, O> {
    /// Ascending order on this aggregate.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// use sonic_db_core::query::count;
    /// let authors: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).group_by(Post::AUTHOR).order_by(count().asc()).all().await?;
    /// assert_eq!(authors, ["bob", "ada"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn asc(self) -> OrderTerm<T> {
        OrderTerm::new(self.term, Direction::Asc)
    }

    /// Descending order on this aggregate.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let authors: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).group_by(Post::AUTHOR).order_by(Post::VIEWS.sum().desc()).all().await?;
    /// assert_eq!(authors, ["ada", "bob"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn desc(self) -> OrderTerm<T> {
        OrderTerm::new(self.term, Direction::Desc)
    }
}

/// A condition on the groups of a projection: comparisons of aggregates
/// (`count().gt(1)`), and ordinary filters on grouped columns (`Filter<T>` converts), combined
/// with `&`, `|` and `!`.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?);
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
/// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
/// use sonic_db_core::query::{count, Having};
/// let wanted: Having<Post> = count().gte(1) & !Having::from(Post::AUTHOR.eq("bob"));
/// let authors: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).group_by(Post::AUTHOR).having(wanted).all().await?;
/// assert_eq!(authors, ["ada"]);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub struct Having<T> {
    sql: HavingSql,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Having<T> {
    fn clone(&self) -> Self {
        Having::from_sql(self.sql.clone())
    }
}

impl<T> fmt::Debug for Having<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Having").field(&self.sql).finish()
    }
}

impl<T> Having<T> {
    fn from_sql(sql: HavingSql) -> Self {
        Having {
            sql,
            _marker: PhantomData,
        }
    }

    fn combine(self, other: Having<T>, conjunction: bool) -> Having<T> {
        let mut parts = Vec::new();
        for part in [self.sql, other.sql] {
            match (part, conjunction) {
                (HavingSql::And(inner), true) | (HavingSql::Or(inner), false) => {
                    parts.extend(inner)
                }
                (other, _) => parts.push(other),
            }
        }
        Having::from_sql(if conjunction {
            HavingSql::And(parts)
        } else {
            HavingSql::Or(parts)
        })
    }
}

impl<T> From<Filter<T>> for Having<T> {
    fn from(filter: Filter<T>) -> Self {
        Having::from_sql(HavingSql::Filter(filter.expr))
    }
}

impl<T> BitAnd for Having<T> {
    type Output = Having<T>;
    fn bitand(self, rhs: Having<T>) -> Having<T> {
        self.combine(rhs, true)
    }
}

impl<T> BitOr for Having<T> {
    type Output = Having<T>;
    fn bitor(self, rhs: Having<T>) -> Having<T> {
        self.combine(rhs, false)
    }
}

impl<T> Not for Having<T> {
    type Output = Having<T>;
    fn not(self) -> Having<T> {
        Having::from_sql(match self.sql {
            HavingSql::Not(inner) => *inner,
            other => HavingSql::Not(Box::new(other)),
        })
    }
}

/// One `ORDER BY` term of a projection: a column's ([`Order`] converts) or an aggregate's.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?);
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
/// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
/// use sonic_db_core::query::{count, OrderTerm};
/// let terms: [OrderTerm<Post>; 2] = [count().desc(), Post::AUTHOR.asc().into()];
/// # let _ = terms;
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub struct OrderTerm<T> {
    term: TermSql,
    direction: Direction,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for OrderTerm<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for OrderTerm<T> {}

impl<T> fmt::Debug for OrderTerm<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OrderTerm")
            .field(&self.term)
            .field(&self.direction)
            .finish()
    }
}

impl<T> OrderTerm<T> {
    fn new(term: TermSql, direction: Direction) -> Self {
        OrderTerm {
            term,
            direction,
            _marker: PhantomData,
        }
    }
}

impl<T> From<Order<T>> for OrderTerm<T> {
    fn from(order: Order<T>) -> Self {
        OrderTerm::new(TermSql::Column(order.column), order.direction)
    }
}

impl<'db, T: Table> Select<'db, T> {
    /// Turns the select into a projection of `selection`: a column, an aggregate, or a tuple
    /// of them. The select's filter, order, limit and offset carry over; relations cannot be
    /// loaded into a projection (an [`Error::InvalidQuery`] when it runs).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// use sonic_db_core::query::count;
    ///
    /// struct AuthorStats { author: String, posts: u64, views: Option<i64> }
    /// impl From<(String, u64, Option<i64>)> for AuthorStats {
    ///     fn from((author, posts, views): (String, u64, Option<i64>)) -> Self {
    ///         AuthorStats { author, posts, views }
    ///     }
    /// }
    /// let stats: Vec<AuthorStats> = db
    ///     .select::<Post>()
    ///     .columns((Post::AUTHOR, count(), Post::VIEWS.sum()))
    ///     .group_by(Post::AUTHOR)
    ///     .order_by(Post::VIEWS.sum().desc())
    ///     .all_into()
    ///     .await?;
    /// assert_eq!((stats[0].author.as_str(), stats[0].posts, stats[0].views), ("ada", 2, Some(43)));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn columns<S: Selection<T>>(self, selection: S) -> Projection<'db, T, S> {
        let parts = self.into_parts();
        let (terms, nullable_ok) = selection
            .terms()
            .into_iter()
            .map(|term| (term.sql, term.nullable_ok))
            .unzip();
        Projection {
            db: parts.db,
            terms,
            nullable_ok,
            distinct: false,
            filter: parts.filter,
            group_by: Vec::new(),
            having: None,
            order: parts
                .order
                .into_iter()
                .map(|(column, direction)| (TermSql::Column(column), direction))
                .collect(),
            limit: parts.limit,
            offset: parts.offset,
            includes: parts.includes,
            _selection: PhantomData,
        }
    }
}

/// A projection of `T` into rows of `S::Output`, under construction; nothing runs until
/// `all`, `all_into`, `first` or `one` is awaited. Made by [`Select::columns`].
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
/// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?);
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
/// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
/// let authors: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).distinct().order_by(Post::AUTHOR.desc()).all().await?;
/// assert_eq!(authors, ["bob", "ada"]);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
#[must_use = "a projection does nothing until `all`, `all_into`, `first` or `one` is awaited"]
pub struct Projection<'db, T: Table, S> {
    db: &'db Db,
    terms: Vec<TermSql>,
    nullable_ok: Vec<bool>,
    distinct: bool,
    filter: Option<Expr>,
    group_by: Vec<usize>,
    having: Option<HavingSql>,
    order: Vec<(TermSql, Direction)>,
    limit: Option<u64>,
    offset: Option<u64>,
    includes: usize,
    _selection: PhantomData<fn() -> (T, S)>,
}

impl<T: Table, S> fmt::Debug for Projection<'_, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Projection")
            .field("table", &T::DEF.name)
            .field("terms", &self.terms)
            .field("distinct", &self.distinct)
            .field("filter", &self.filter)
            .field("group_by", &self.group_by)
            .field("having", &self.having)
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .finish()
    }
}

impl<'db, T: Table, S: Selection<T>> Projection<'db, T, S> {
    /// `SELECT DISTINCT`: identical rows once.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let authors: Vec<String> = db.select::<Post>().columns(Post::AUTHOR).distinct().order_by(Post::AUTHOR.asc()).all().await?;
    /// assert_eq!(authors, ["ada", "bob"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// Keeps the rows matching `filter` (before grouping); several calls must all match.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let busy = db.select::<Post>().columns(Post::ID).filter(Post::VIEWS.gt(5)).filter(Post::AUTHOR.eq("ada")).all().await?;
    /// assert_eq!(busy, ["p2"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn filter(mut self, filter: Filter<T>) -> Self {
        self.filter = Some(match self.filter.take() {
            None => filter.expr,
            Some(previous) => and([Filter::from_expr(previous), filter]).expr,
        });
        self
    }

    /// `GROUP BY column`; several calls group by each, in order. In a grouped projection
    /// every selected (or ordered) column must be grouped, or it is an
    /// [`Error::InvalidQuery`] naming it: SQLite would return the value of any one row.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let per_author: Vec<(String, Option<i64>)> = db
    ///     .select::<Post>()
    ///     .columns((Post::AUTHOR, Post::VIEWS.max()))
    ///     .group_by(Post::AUTHOR)
    ///     .order_by(Post::AUTHOR.asc())
    ///     .all()
    ///     .await?;
    /// assert_eq!(per_author, [("ada".to_string(), Some(40)), ("bob".to_string(), Some(7))]);
    /// let ungrouped = db.select::<Post>().columns((Post::ID, Post::VIEWS.max())).group_by(Post::AUTHOR).all().await;
    /// assert!(matches!(ungrouped, Err(Error::InvalidQuery(m)) if m.contains("`posts`.`id`")));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn group_by<V>(mut self, column: Column<T, V>) -> Self {
        self.group_by.push(column.index());
        self
    }

    /// Keeps the groups matching `condition` (`HAVING`); several calls must all match.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// use sonic_db_core::query::count;
    /// let prolific: Vec<(String, u64)> = db
    ///     .select::<Post>()
    ///     .columns((Post::AUTHOR, count()))
    ///     .group_by(Post::AUTHOR)
    ///     .having(count().gt(1))
    ///     .all()
    ///     .await?;
    /// assert_eq!(prolific, [("ada".to_string(), 2)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn having(mut self, condition: impl Into<Having<T>>) -> Self {
        let condition = condition.into();
        self.having = Some(match self.having.take() {
            None => condition.sql,
            Some(previous) => (Having::<T>::from_sql(previous) & condition).sql,
        });
        self
    }

    /// Adds an ordering term, on a column (`Post::VIEWS.desc()`) or an aggregate
    /// (`count().desc()`); earlier terms take precedence.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// use sonic_db_core::query::count;
    /// let authors: Vec<(String, u64)> = db
    ///     .select::<Post>()
    ///     .columns((Post::AUTHOR, count()))
    ///     .group_by(Post::AUTHOR)
    ///     .order_by(count().desc())
    ///     .order_by(Post::AUTHOR.asc())
    ///     .all()
    ///     .await?;
    /// assert_eq!(authors[0].0, "ada");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn order_by(mut self, order: impl Into<OrderTerm<T>>) -> Self {
        let order = order.into();
        self.order.push((order.term, order.direction));
        self
    }

    /// At most `n` rows.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let top = db.select::<Post>().columns(Post::ID).order_by(Post::VIEWS.desc()).limit(1).all().await?;
    /// assert_eq!(top, ["p2"]);
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
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let rest = db.select::<Post>().columns(Post::ID).order_by(Post::VIEWS.desc()).offset(1).all().await?;
    /// assert_eq!(rest, ["p3", "p1"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// The statement this projection sends, checked against the backend's limits (D1's 100
    /// bound parameters among them).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// use sonic_db_core::{query::count, Value};
    /// let statement = db
    ///     .select::<Post>()
    ///     .columns((Post::AUTHOR, count()))
    ///     .filter(Post::VIEWS.gt(1))
    ///     .group_by(Post::AUTHOR)
    ///     .having(count().gt(1))
    ///     .to_statement()?;
    /// assert_eq!(
    ///     statement.sql,
    ///     r#"SELECT "author", COUNT(*) FROM "posts" WHERE "views" > ? GROUP BY "author" HAVING COUNT(*) > ?"#
    /// );
    /// assert_eq!(statement.params, [Value::Integer(1), Value::Integer(1)]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn to_statement(&self) -> Result<Statement> {
        if self.includes > 0 {
            return Err(Error::InvalidQuery(format!(
                "a projection of `{}` cannot load relations; select whole records with `with`, \
                 or join them",
                T::DEF.name
            )));
        }
        let spec = ProjectSql {
            table: T::DEF,
            terms: &self.terms,
            nullable_ok: &self.nullable_ok,
            distinct: self.distinct,
            filter: self.filter.as_ref(),
            group_by: &self.group_by,
            having: self.having.as_ref(),
            order: &self.order,
            limit: self.limit,
            offset: self.offset,
        };
        project_statement(&spec, self.db.capabilities())
    }

    /// Every row.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let ids: Vec<String> = db.select::<Post>().columns(Post::ID).order_by(Post::ID.asc()).all().await?;
    /// assert_eq!(ids, ["p1", "p2", "p3"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn all(self) -> Result<Vec<S::Output>> {
        let statement = self.to_statement()?;
        let result = self.db.execute(&statement).await?;
        let width = self.terms.len();
        check_shape(&result, width, T::DEF)?;
        let mut values = result.values;
        let mut rows = Vec::with_capacity(values.len() / width.max(1));
        // INTEGER terms selected as text where integers cross JavaScript, read back.
        let as_text = integers_as_text(self.db.capabilities());
        for row in values.chunks_exact_mut(width.max(1)) {
            if as_text {
                for (cell, term) in row.iter_mut().zip(&self.terms) {
                    if term.reads_integer(T::DEF) {
                        integers_from_text(SqlType::Integer, std::slice::from_mut(cell));
                    }
                }
            }
            let decoded = S::decode(row).map_err(|(position, error)| {
                let label = self
                    .terms
                    .get(position)
                    .map_or_else(String::new, |term| term.label(T::DEF));
                Error::decode(T::DEF.name, &label, error)
            })?;
            rows.push(decoded);
        }
        Ok(rows)
    }

    /// Every row, converted into `R` (a struct of the application's with a
    /// `From<S::Output>`).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// #[derive(Debug, PartialEq)]
    /// struct Views { id: String, views: i64 }
    /// impl From<(String, i64)> for Views {
    ///     fn from((id, views): (String, i64)) -> Self { Views { id, views } }
    /// }
    /// let top: Vec<Views> = db.select::<Post>().columns((Post::ID, Post::VIEWS)).order_by(Post::VIEWS.desc()).limit(1).all_into().await?;
    /// assert_eq!(top, [Views { id: "p2".into(), views: 40 }]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn all_into<R: From<S::Output>>(self) -> Result<Vec<R>> {
        Ok(self.all().await?.into_iter().map(R::from).collect())
    }

    /// The first row, if any (sends `LIMIT 1`).
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// let top = db.select::<Post>().columns(Post::ID).order_by(Post::VIEWS.desc()).first().await?;
    /// assert_eq!(top.as_deref(), Some("p2"));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn first(mut self) -> Result<Option<S::Output>> {
        self.limit = Some(1);
        Ok(self.all().await?.into_iter().next())
    }

    /// The first row; [`Error::NotFound`] naming the table if there is none. An aggregate
    /// without `group_by` always has its one row.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, author: String, views: i64, body: Option<String> }
    /// # pollster::block_on(async {
    /// # let db = Db::new(SqliteBackend::memory()?);
    /// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
    /// # let post = |id: &str, author: &str, views: i64| Post { id: id.into(), author: author.into(), views, body: None };
    /// # db.insert_many(&[Post { body: Some("First!".into()), ..post("p1", "ada", 3) }, post("p2", "ada", 40), post("p3", "bob", 7)]).await?;
    /// use sonic_db_core::query::count;
    /// let none = db.select::<Post>().columns(count()).filter(Post::VIEWS.gt(1_000)).one().await?;
    /// assert_eq!(none, 0);
    /// let missing = db.select::<Post>().columns(Post::ID).filter(Post::VIEWS.gt(1_000)).one().await;
    /// assert!(matches!(missing, Err(Error::NotFound { .. })));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn one(self) -> Result<S::Output> {
        self.first().await?.ok_or_else(|| Error::NotFound {
            table: T::DEF.name.to_string(),
        })
    }
}
