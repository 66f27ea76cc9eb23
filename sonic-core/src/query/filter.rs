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
use crate::sql::filter::{CmpOp, Expr};
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
/// #         name: "users", rust_name: "User", primary_key: 0, relations: &[],
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
    pub fn and(self, other: Filter<T>) -> Filter<T> {
        and([self, other])
    }

    /// Either condition.
    pub fn or(self, other: Filter<T>) -> Filter<T> {
        or([self, other])
    }
}

/// All of the filters (`TRUE` when there are none).
pub fn and<T>(filters: impl IntoIterator<Item = Filter<T>>) -> Filter<T> {
    Filter::from_expr(flatten(filters, true))
}

/// Any of the filters (`FALSE` when there are none).
pub fn or<T>(filters: impl IntoIterator<Item = Filter<T>>) -> Filter<T> {
    Filter::from_expr(flatten(filters, false))
}

/// The negation of a filter (also `!filter`).
///
/// As in SQL, `NOT` of a comparison with `NULL` is still not true: `not(x.eq(1))` does not
/// match rows where `x` is `NULL`.
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
    pub fn eq(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Eq, value.into())
    }

    /// `column <> value`.
    pub fn ne(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Ne, value.into())
    }

    /// `column < value`.
    pub fn lt(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Lt, value.into())
    }

    /// `column <= value`.
    pub fn lte(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Lte, value.into())
    }

    /// `column > value`.
    pub fn gt(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Gt, value.into())
    }

    /// `column >= value`.
    pub fn gte(self, value: impl Into<V>) -> Filter<T> {
        self.compare(CmpOp::Gte, value.into())
    }

    /// `column BETWEEN low AND high` (both ends included).
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
    pub fn like(self, pattern: impl Into<String>) -> Filter<T> {
        Filter::from_expr(Expr::Like {
            column: self.index(),
            pattern: Value::Text(pattern.into()),
            negated: false,
        })
    }

    /// `column NOT LIKE pattern`.
    pub fn not_like(self, pattern: impl Into<String>) -> Filter<T> {
        Filter::from_expr(Expr::Like {
            column: self.index(),
            pattern: Value::Text(pattern.into()),
            negated: true,
        })
    }

    /// `column IN (…)`. An empty list matches nothing.
    ///
    /// Lists longer than the backend's parameter limit are sent as one JSON parameter
    /// (`IN (SELECT value FROM json_each(?))`), which keeps the meaning; only lists of BLOBs
    /// cannot be, and those fail with [`Error::Limit`](crate::Error::Limit).
    pub fn in_list(self, values: impl IntoIterator<Item = impl Into<V>>) -> Filter<T> {
        self.list(values, false)
    }

    /// `column NOT IN (…)`. An empty list matches every row.
    pub fn not_in_list(self, values: impl IntoIterator<Item = impl Into<V>>) -> Filter<T> {
        self.list(values, true)
    }

    /// `column IS NULL`.
    pub fn is_null(self) -> Filter<T> {
        Filter::from_expr(Expr::Null {
            column: self.index(),
            negated: false,
        })
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Filter<T> {
        Filter::from_expr(Expr::Null {
            column: self.index(),
            negated: true,
        })
    }
}
