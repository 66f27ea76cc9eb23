//! Filters: typed conditions on one table's columns, combined with `and`/`or`/`not`, plus the
//! by-name form that REST-style input needs.
//!
//! A [`Filter<T>`] only combines with filters of the same table, so a condition on
//! `Post::TITLE` cannot slip into a query of users. Operands are converted with the column's
//! own [`ToValue`], exactly as a record would be written.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{BitAnd, BitOr, Not};
use std::str::FromStr;

use crate::backend::{Capabilities, Statement};
use crate::value::{ConvertError, ToValue};
use crate::error::{Error, Result};
use crate::sql::limits::{check_column_value, check_statement};
use crate::sql::writer::{column_def, SqlWriter};
use crate::schema::{Column, ColumnDef, Table, TableDef};
use crate::value::{SqlType, Value};

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

/// A comparison operator of the typed API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
}

impl CmpOp {
    fn sql(self) -> &'static str {
        match self {
            CmpOp::Eq => " = ",
            CmpOp::Ne => " <> ",
            CmpOp::Lt => " < ",
            CmpOp::Lte => " <= ",
            CmpOp::Gt => " > ",
            CmpOp::Gte => " >= ",
        }
    }
}

/// The untyped condition tree. Columns are indexes into the table's definition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Compare {
        column: usize,
        op: CmpOp,
        value: Value,
    },
    Like {
        column: usize,
        pattern: Value,
        negated: bool,
    },
    In {
        column: usize,
        values: Vec<Value>,
        negated: bool,
    },
    Null {
        column: usize,
        negated: bool,
    },
    Between {
        column: usize,
        low: Value,
        high: Value,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// An operand that could not be converted (a `u64` beyond `i64::MAX`, a NaN): reported
    /// as [`Error::Encode`] when the query runs, so building a filter never fails or panics.
    Invalid {
        column: usize,
        error: ConvertError,
    },
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

impl<T: Table> Filter<T> {
    /// A filter on a column named at run time (REST input such as `filters[title][$eq]=x`).
    ///
    /// `operands` must match the operator: none for `IsNull`/`IsNotNull`, two for `Between`,
    /// any number for `In`/`NotIn`, one otherwise. A name that is not a column of `T` is
    /// [`Error::UnknownColumn`]; nothing of the name reaches SQL text.
    pub fn by_name(
        column: &str,
        op: Op,
        operands: impl IntoIterator<Item = Value>,
    ) -> Result<Filter<T>> {
        let index = T::DEF.require_column(column)?;
        let mut operands: Vec<Value> = operands.into_iter().collect();
        let arity = |expected: usize, operands: &[Value]| {
            if operands.len() == expected {
                Ok(())
            } else {
                Err(Error::InvalidQuery(format!(
                    "operator `{}` on `{}`.`{column}` takes {expected} operand(s), got {}",
                    op.name(),
                    T::DEF.name,
                    operands.len()
                )))
            }
        };
        let expr = match op {
            Op::In | Op::NotIn => Expr::In {
                column: index,
                values: operands,
                negated: op == Op::NotIn,
            },
            Op::IsNull | Op::IsNotNull => {
                arity(0, &operands)?;
                Expr::Null {
                    column: index,
                    negated: op == Op::IsNotNull,
                }
            }
            Op::Between => {
                arity(2, &operands)?;
                let high = operands.pop().unwrap_or_default();
                let low = operands.pop().unwrap_or_default();
                Expr::Between {
                    column: index,
                    low,
                    high,
                }
            }
            Op::Like | Op::NotLike => {
                arity(1, &operands)?;
                Expr::Like {
                    column: index,
                    pattern: operands.pop().unwrap_or_default(),
                    negated: op == Op::NotLike,
                }
            }
            Op::Eq | Op::Ne | Op::Lt | Op::Lte | Op::Gt | Op::Gte => {
                arity(1, &operands)?;
                let cmp = match op {
                    Op::Eq => CmpOp::Eq,
                    Op::Ne => CmpOp::Ne,
                    Op::Lt => CmpOp::Lt,
                    Op::Lte => CmpOp::Lte,
                    Op::Gt => CmpOp::Gt,
                    _ => CmpOp::Gte,
                };
                Expr::Compare {
                    column: index,
                    op: cmp,
                    value: operands.pop().unwrap_or_default(),
                }
            }
        };
        Ok(Filter::from_expr(expr))
    }

    /// A filter from text, as it arrives in a query string: `Filter::parse("views", "$gte",
    /// "10")`.
    ///
    /// The operator is parsed by [`Op::parse`]. The text is converted to the column's declared
    /// type (`INTEGER` accepts digits and `true`/`false`, `REAL` a finite number), so that a
    /// comparison is numeric where the column is; a text that does not convert is
    /// [`Error::Encode`] naming the column. `$in`/`$nin` take a comma-separated list,
    /// `$between` two comma-separated bounds, `$null`/`$notnull` ignore the text, and
    /// `$like`/`$nlike` keep it as a text pattern.
    pub fn parse(column: &str, op: &str, text: &str) -> Result<Filter<T>> {
        let op: Op = op.parse()?;
        let index = T::DEF.require_column(column)?;
        let def = column_def(T::DEF, index)?;
        let operand = |text: &str| text_operand(T::DEF, def, text);
        let operands = match op {
            Op::IsNull | Op::IsNotNull => Vec::new(),
            Op::Like | Op::NotLike => vec![Value::Text(text.to_owned())],
            Op::In | Op::NotIn => text.split(',').map(operand).collect::<Result<_>>()?,
            Op::Between => text.split(',').map(operand).collect::<Result<_>>()?,
            _ => vec![operand(text)?],
        };
        Filter::by_name(column, op, operands)
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
    /// [`max_like_pattern_bytes`](Capabilities::max_like_pattern_bytes) (50 on D1) makes the
    /// query fail with [`Error::Limit`] before anything is sent.
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
    /// cannot be, and those fail with [`Error::Limit`].
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

/// The operators of the by-name form ([`Filter::by_name`], [`Filter::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Lte,
    /// `>`
    Gt,
    /// `>=`
    Gte,
    /// `LIKE`
    Like,
    /// `NOT LIKE`
    NotLike,
    /// `IN (…)`
    In,
    /// `NOT IN (…)`
    NotIn,
    /// `IS NULL`
    IsNull,
    /// `IS NOT NULL`
    IsNotNull,
    /// `BETWEEN … AND …`
    Between,
}

impl Op {
    /// Every operator with the name [`Op::parse`] accepts (written without the optional `$`),
    /// in the order of the variants: for messages that list what is accepted.
    ///
    /// ```
    /// use sonic_db_core::query::Op;
    /// let listed: Vec<String> = Op::NAMES.iter().map(|(name, _)| format!("${name}")).collect();
    /// assert_eq!(
    ///     listed.join(" "),
    ///     "$eq $ne $lt $lte $gt $gte $like $nlike $in $nin $null $notnull $between"
    /// );
    /// assert!(Op::NAMES.iter().all(|&(name, op)| Op::parse(name) == Some(op)));
    /// ```
    pub const NAMES: &'static [(&'static str, Op)] = &[
        ("eq", Op::Eq),
        ("ne", Op::Ne),
        ("lt", Op::Lt),
        ("lte", Op::Lte),
        ("gt", Op::Gt),
        ("gte", Op::Gte),
        ("like", Op::Like),
        ("nlike", Op::NotLike),
        ("in", Op::In),
        ("nin", Op::NotIn),
        ("null", Op::IsNull),
        ("notnull", Op::IsNotNull),
        ("between", Op::Between),
    ];

    /// The operator named like Strapi/SonicJs query strings do: `$eq`, `$ne`, `$lt`, `$lte`,
    /// `$gt`, `$gte`, `$like`, `$nlike`, `$in`, `$nin`, `$null`, `$notnull`, `$between`
    /// (the `$` is optional).
    ///
    /// ```
    /// use sonic_db_core::query::Op;
    /// assert_eq!(Op::parse("$gte"), Some(Op::Gte));
    /// assert_eq!(Op::parse("nin"), Some(Op::NotIn));
    /// assert_eq!(Op::parse("$drop"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Op> {
        let name = name.strip_prefix('$').unwrap_or(name);
        Op::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, op)| *op)
    }

    /// The name [`Op::parse`] accepts (without `$`).
    pub fn name(self) -> &'static str {
        Op::NAMES
            .iter()
            .find(|(_, op)| *op == self)
            .map_or("?", |(n, _)| n)
    }
}

impl FromStr for Op {
    type Err = Error;
    fn from_str(s: &str) -> Result<Op> {
        Op::parse(s).ok_or_else(|| {
            let names: Vec<String> = Op::NAMES.iter().map(|(n, _)| format!("${n}")).collect();
            Error::InvalidQuery(format!(
                "unknown filter operator `{s}` (operators: {})",
                names.join(" ")
            ))
        })
    }
}

/// Converts query-string text to the column's declared type.
fn text_operand(table: &TableDef, column: &ColumnDef, text: &str) -> Result<Value> {
    let fail = |expected: &'static str| {
        Error::encode(
            table.name,
            column.name,
            ConvertError::new(expected, Value::Text(text.to_owned()).describe()),
        )
    };
    match column.sql_type {
        SqlType::Integer => match text {
            "true" => Ok(Value::Integer(1)),
            "false" => Ok(Value::Integer(0)),
            _ => text
                .trim()
                .parse::<i64>()
                .map(Value::Integer)
                .map_err(|_| fail("an integer (or true/false)")),
        },
        SqlType::Real => match text.trim().parse::<f64>() {
            Ok(r) if r.is_finite() => Ok(Value::Real(r)),
            _ => Err(fail("a finite number")),
        },
        SqlType::Text => Ok(Value::Text(text.to_owned())),
        SqlType::Blob => Ok(Value::Blob(text.as_bytes().to_vec())),
    }
}

/// How a condition is written into one statement.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FilterSql<'a> {
    pub(crate) table: &'static TableDef,
    /// The alias to qualify columns with, when the statement has nested scopes.
    pub(crate) qualifier: Option<&'a str>,
    /// Send `IN` lists as one JSON array parameter (used when the inline form would exceed
    /// the backend's parameter limit).
    pub(crate) json_lists: bool,
}

impl Expr {
    pub(crate) fn write(&self, w: &mut SqlWriter, ctx: FilterSql<'_>) -> Result<()> {
        let col = |w: &mut SqlWriter, index: usize| -> Result<()> {
            w.column(ctx.qualifier, column_def(ctx.table, index)?.name);
            Ok(())
        };
        match self {
            Expr::Compare { column, op, value } => {
                col(w, *column)?;
                w.push(op.sql());
                w.param(value.clone());
            }
            Expr::Like {
                column,
                pattern,
                negated,
            } => {
                col(w, *column)?;
                w.push(if *negated { " NOT LIKE " } else { " LIKE " });
                w.param(pattern.clone());
            }
            Expr::In {
                column,
                values,
                negated,
            } => {
                if values.is_empty() {
                    // `x IN ()` is false and `x NOT IN ()` true, even for NULL x.
                    w.push(if *negated { "1" } else { "0" });
                    return Ok(());
                }
                col(w, *column)?;
                w.push(if *negated { " NOT IN (" } else { " IN (" });
                match json_array_text(values).filter(|_| ctx.json_lists && values.len() > 1) {
                    Some(json) => {
                        w.push("SELECT value FROM json_each(");
                        w.param(Value::Text(json));
                        w.push(")");
                    }
                    None => w.params(values.iter().cloned()),
                }
                w.push(")");
            }
            Expr::Null { column, negated } => {
                col(w, *column)?;
                w.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Expr::Between { column, low, high } => {
                col(w, *column)?;
                w.push(" BETWEEN ");
                w.param(low.clone());
                w.push(" AND ");
                w.param(high.clone());
            }
            Expr::And(parts) | Expr::Or(parts) => {
                let (joiner, empty) = match self {
                    Expr::And(_) => (" AND ", "1"),
                    _ => (" OR ", "0"),
                };
                if parts.is_empty() {
                    w.push(empty);
                    return Ok(());
                }
                w.push("(");
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        w.push(joiner);
                    }
                    part.write(w, ctx)?;
                }
                w.push(")");
            }
            Expr::Not(inner) => {
                w.push("NOT (");
                inner.write(w, ctx)?;
                w.push(")");
            }
            Expr::Invalid { column, error } => {
                let name = column_def(ctx.table, *column)?.name;
                return Err(Error::encode(ctx.table.name, name, error.clone()));
            }
        }
        Ok(())
    }

    /// Refuses operands the backend cannot take, naming the table and column: a `LIKE`
    /// pattern longer than [`Capabilities::max_like_pattern_bytes`], and any value
    /// [`check_column_value`] refuses (an integer beyond the exact range, an oversized TEXT or
    /// BLOB). Also reports an [`Expr::Invalid`] operand.
    pub(crate) fn check_operands(
        &self,
        table: &'static TableDef,
        capabilities: &Capabilities,
    ) -> Result<()> {
        let check = |column: usize, values: &[&Value]| -> Result<()> {
            let def = column_def(table, column)?;
            values
                .iter()
                .try_for_each(|value| check_column_value(table, def, value, capabilities))
        };
        match self {
            Expr::Compare { column, value, .. } => check(*column, &[value]),
            Expr::Like {
                column, pattern, ..
            } => {
                let len = match pattern {
                    Value::Text(s) => s.len(),
                    Value::Blob(b) => b.len(),
                    _ => 0,
                };
                if len > capabilities.max_like_pattern_bytes {
                    let name = column_def(table, *column)?.name;
                    return Err(Error::Limit(format!(
                        "`{}`.`{name}`: a LIKE pattern of {len} bytes; the backend allows {} \
                         bytes per pattern; nothing was sent",
                        table.name, capabilities.max_like_pattern_bytes
                    )));
                }
                check(*column, &[pattern])
            }
            Expr::In { column, values, .. } => check(*column, &values.iter().collect::<Vec<_>>()),
            Expr::Between {
                column, low, high, ..
            } => check(*column, &[low, high]),
            Expr::Null { .. } => Ok(()),
            Expr::And(parts) | Expr::Or(parts) => parts
                .iter()
                .try_for_each(|part| part.check_operands(table, capabilities)),
            Expr::Not(inner) => inner.check_operands(table, capabilities),
            Expr::Invalid { column, error } => {
                let name = column_def(table, *column)?.name;
                Err(Error::encode(table.name, name, error.clone()))
            }
        }
    }

    /// Whether any `IN` list could be sent as JSON instead of inline parameters.
    pub(crate) fn has_lists(&self) -> bool {
        match self {
            Expr::In { values, .. } => values.len() > 1,
            Expr::And(parts) | Expr::Or(parts) => parts.iter().any(Expr::has_lists),
            Expr::Not(inner) => inner.has_lists(),
            _ => false,
        }
    }

    /// The longest `IN` list that must stay inline (it holds values JSON cannot carry), for
    /// the error message when it does not fit: (column index, length).
    pub(crate) fn longest_inline_list(&self) -> Option<(usize, usize)> {
        match self {
            Expr::In { column, values, .. } if json_array_text(values).is_none() => {
                Some((*column, values.len()))
            }
            Expr::And(parts) | Expr::Or(parts) => parts
                .iter()
                .filter_map(Expr::longest_inline_list)
                .max_by_key(|(_, len)| *len),
            Expr::Not(inner) => inner.longest_inline_list(),
            _ => None,
        }
    }
}

/// The values as a JSON array text that `json_each` turns back into the same SQLite values:
/// integers exactly (SQLite parses 64-bit integers), finite reals by their shortest
/// round-trip form, text escaped. BLOBs have no JSON form: `None`.
fn json_array_text(values: &[Value]) -> Option<String> {
    let mut out = String::with_capacity(values.len() * 8 + 2);
    out.push('[');
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match value {
            Value::Null => out.push_str("null"),
            Value::Integer(n) => out.push_str(&n.to_string()),
            Value::Real(r) => out.push_str(&serde_json::Number::from_f64(*r)?.to_string()),
            Value::Text(s) => out.push_str(&serde_json::to_string(s).ok()?),
            Value::Blob(_) => return None,
        }
    }
    out.push(']');
    Some(out)
}

/// Writes ` WHERE …` when there is a condition.
pub(crate) fn write_where(
    w: &mut SqlWriter,
    filter: Option<&Expr>,
    ctx: FilterSql<'_>,
) -> Result<()> {
    if let Some(expr) = filter {
        w.push(" WHERE ");
        expr.write(w, ctx)?;
    }
    Ok(())
}

/// Builds a statement that carries a filter, within the backend's limits (its operands are
/// checked first, by column: see [`Expr::check_operands`]): first
/// with `IN` lists inline (the cheapest plan for SQLite), then, if that binds too many
/// values, with every list as one JSON parameter. `build` writes the statement given whether
/// lists go as JSON.
pub(crate) fn build_filtered(
    table: &'static TableDef,
    filter: Option<&Expr>,
    capabilities: &Capabilities,
    build: impl Fn(&mut SqlWriter, bool) -> Result<()>,
) -> Result<Statement> {
    if let Some(filter) = filter {
        filter.check_operands(table, capabilities)?;
    }
    let mut w = SqlWriter::new();
    build(&mut w, false)?;
    let lists = filter.is_some_and(Expr::has_lists);
    if w.param_count() > capabilities.max_params && lists {
        w = SqlWriter::new();
        build(&mut w, true)?;
    }
    let statement = w.finish();
    if statement.params.len() > capabilities.max_params {
        if let Some((column, len)) = filter.and_then(Expr::longest_inline_list) {
            let name = column_def(table, column)?.name;
            return Err(Error::Limit(format!(
                "`{}`.`{name}` IN list of {len} values (which cannot travel as JSON) makes the \
                 statement bind {} parameters; the backend allows {}",
                table.name,
                statement.params.len(),
                capabilities.max_params
            )));
        }
    }
    check_statement(&statement, capabilities)?;
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lists_keep_values_exact() {
        let text = json_array_text(&[
            Value::Integer(i64::MIN),
            Value::Real(0.1),
            Value::Text("a\"\0'".into()),
            Value::Null,
        ]);
        assert_eq!(
            text.as_deref(),
            Some(r#"[-9223372036854775808,0.1,"a\"\u0000'",null]"#)
        );
        assert_eq!(json_array_text(&[Value::Blob(vec![1])]), None);
        assert_eq!(json_array_text(&[Value::Real(f64::NAN)]), None);
    }

    #[test]
    fn operators_round_trip_their_names() {
        for &(name, op) in Op::NAMES {
            assert_eq!(Op::parse(name), Some(op));
            assert_eq!(Op::parse(&format!("${name}")), Some(op));
            assert_eq!(op.name(), name);
        }
        assert!("$nope".parse::<Op>().is_err());
    }
}
