//! Ordering: `ORDER BY` terms from typed column handles or from REST input (`sort=title:desc`).

use std::fmt;
use std::marker::PhantomData;

use crate::error::{Error, Result};
use crate::schema::{Column, Table};
use crate::sql::order::Direction;

/// One `ORDER BY` term on a column of `T`: `Post::CREATED_ON.desc()`.
pub struct Order<T> {
    pub(crate) column: usize,
    pub(crate) direction: Direction,
    table: PhantomData<fn() -> T>,
}

impl<T> Clone for Order<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Order<T> {}

impl<T> fmt::Debug for Order<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Order")
            .field("column", &self.column)
            .field("direction", &self.direction)
            .finish()
    }
}

impl<T> PartialEq for Order<T> {
    fn eq(&self, other: &Self) -> bool {
        self.column == other.column && self.direction == other.direction
    }
}

impl<T: Table> Order<T> {
    fn new(column: usize, direction: Direction) -> Self {
        Order {
            column,
            direction,
            table: PhantomData,
        }
    }

    /// An ordering on a column named at run time; [`Error::UnknownColumn`] if `T` has no such
    /// column.
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
    /// use sonic_db_core::{query::Direction, Order};
    ///
    /// let clicked = "views"; // e.g. the header of a table in an admin UI
    /// let order = Order::<Post>::by_name(clicked, Direction::Desc)?;
    /// let top = db.select::<Post>().order_by(order).first().await?;
    /// assert_eq!(top.map(|p| p.views), Some(40));
    /// let unknown = Order::<Post>::by_name("password", Direction::Asc);
    /// assert!(matches!(unknown, Err(Error::UnknownColumn { .. })));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn by_name(column: &str, direction: Direction) -> Result<Order<T>> {
        Ok(Order::new(T::DEF.require_column(column)?, direction))
    }

    /// Parses the REST form `column`, `column:asc` or `column:desc`.
    ///
    /// An unknown column is [`Error::UnknownColumn`], any other direction
    /// [`Error::InvalidQuery`].
    ///
    /// ```
    /// # #[cfg(feature = "derive")] {
    /// # use sonic_db_core::{Error, Value};
    /// # #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, title: String, views: i64, body: Option<String> }
    /// use sonic_db_core::Order;
    ///
    /// // `GET /posts?sort=views:desc`
    /// assert_eq!(Order::<Post>::parse("views:desc")?, Post::VIEWS.desc());
    /// assert_eq!(Order::<Post>::parse("title")?, Post::TITLE.asc());
    /// assert!(matches!(Order::<Post>::parse("views:up"), Err(Error::InvalidQuery(_))));
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn parse(spec: &str) -> Result<Order<T>> {
        let (column, direction) = match spec.split_once(':') {
            None => (spec, Direction::Asc),
            Some((column, dir)) => {
                let direction = if dir.eq_ignore_ascii_case("asc") {
                    Direction::Asc
                } else if dir.eq_ignore_ascii_case("desc") {
                    Direction::Desc
                } else {
                    return Err(Error::InvalidQuery(format!(
                        "sort direction must be `asc` or `desc`, not `{dir}`"
                    )));
                };
                (column, direction)
            }
        };
        Order::by_name(column, direction)
    }
}

impl<T: Table, V> Column<T, V> {
    /// Ascending order on this column.
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
    /// let by_title = db.select::<Post>().order_by(Post::TITLE.asc()).all().await?;
    /// let titles: Vec<&str> = by_title.iter().map(|p| p.title.as_str()).collect();
    /// assert_eq!(titles, ["Again", "Bye", "Hello"]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn asc(self) -> Order<T> {
        Order::new(self.index(), Direction::Asc)
    }

    /// Descending order on this column.
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
    /// let most_read = db.select::<Post>().order_by(Post::VIEWS.desc()).all().await?;
    /// let views: Vec<i64> = most_read.iter().map(|p| p.views).collect();
    /// assert_eq!(views, [40, 7, 3]);
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn desc(self) -> Order<T> {
        Order::new(self.index(), Direction::Desc)
    }
}
