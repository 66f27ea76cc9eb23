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
    pub fn by_name(column: &str, direction: Direction) -> Result<Order<T>> {
        Ok(Order::new(T::DEF.require_column(column)?, direction))
    }

    /// Parses the REST form `column`, `column:asc` or `column:desc`.
    ///
    /// An unknown column is [`Error::UnknownColumn`], any other direction
    /// [`Error::InvalidQuery`].
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
    pub fn asc(self) -> Order<T> {
        Order::new(self.index(), Direction::Asc)
    }

    /// Descending order on this column.
    pub fn desc(self) -> Order<T> {
        Order::new(self.index(), Direction::Desc)
    }
}
