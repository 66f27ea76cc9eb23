//! Filters on columns named at run time, from REST-style input (`filters[views][$gte]=10`).

use std::str::FromStr;

use crate::error::{Error, Result};
use crate::query::filter::Filter;
use crate::schema::{ColumnDef, Table, TableDef};
use crate::sql::filter::{escape_like, CmpOp, Expr};
use crate::sql::writer::column_def;
use crate::value::{ConvertError, SqlType, Value};

impl<T: Table> Filter<T> {
    /// A filter on a column named at run time (REST input such as `filters[title][$eq]=x`).
    ///
    /// `operands` must match the operator: none for `IsNull`/`IsNotNull`, two for `Between`,
    /// any number for `In`/`NotIn`, one otherwise. `Contains`/`StartsWith`/`EndsWith` take a
    /// text, matched literally on a `TEXT` column (as [`Column::contains`](crate::Column)
    /// and its siblings). A name that is not a column of `T` is [`Error::UnknownColumn`];
    /// nothing of the name reaches SQL text.
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
    /// use sonic_db_core::{query::Op, Filter};
    ///
    /// let range = [Value::Integer(5), Value::Integer(50)]; // untyped, e.g. from JSON
    /// let filter = Filter::<Post>::by_name("views", Op::Between, range)?;
    /// assert_eq!(db.select::<Post>().filter(filter).count().await?, 2);
    /// let unknown = Filter::<Post>::by_name("password", Op::IsNull, []);
    /// assert!(matches!(unknown, Err(Error::UnknownColumn { .. })));
    /// let arity = Filter::<Post>::by_name("views", Op::Eq, []);
    /// assert!(matches!(arity, Err(Error::InvalidQuery(_))));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn by_name(
        column: &str,
        op: Op,
        operands: impl IntoIterator<Item = Value>,
    ) -> Result<Filter<T>> {
        by_name_expr(T::DEF, column, op, operands.into_iter().collect()).map(Filter::from_expr)
    }

    /// The record whose primary key is `parts`: one value per key column, in key order
    /// (`pk = ?` on each, `AND`ed for a composite key). For callers that hold a key as
    /// untyped values, such as a REST path; the wrong number of parts is
    /// [`Error::InvalidQuery`].
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
    /// # db.insert_many(&[post("p1", "Hello", 3), post("p2", "Again", 40)]).await?;
    /// use sonic_db_core::Filter;
    ///
    /// let filter = Filter::<Post>::by_key(&[Value::Text("p2".into())])?;
    /// assert_eq!(db.select::<Post>().filter(filter).all().await?, [post("p2", "Again", 40)]);
    /// assert!(matches!(Filter::<Post>::by_key(&[]), Err(Error::InvalidQuery(_))));
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn by_key(parts: &[Value]) -> Result<Filter<T>> {
        let def = T::DEF;
        def.check_key_parts(parts.len())?;
        let mut conditions = def.primary_key.iter().zip(parts).map(|(column, value)| {
            Filter::from_expr(Expr::Compare {
                column: *column,
                op: CmpOp::Eq,
                value: value.clone(),
            })
        });
        let first = conditions.next().ok_or_else(|| {
            Error::InvalidQuery(format!("`{}` has no primary key column", def.name))
        })?;
        Ok(conditions.fold(first, |all, part| all.and(part)))
    }

    /// A filter from text, as it arrives in a query string: `Filter::parse("views", "$gte",
    /// "10")`.
    ///
    /// The operator is parsed by [`Op::parse`]. The text is converted to the column's declared
    /// type (`INTEGER` accepts digits and `true`/`false`, `REAL` a finite number), so that a
    /// comparison is numeric where the column is; a text that does not convert is
    /// [`Error::Encode`] naming the column. `$in`/`$nin` take a comma-separated list,
    /// `$between` two comma-separated bounds, `$null`/`$notnull` ignore the text, and
    /// `$like`/`$nlike` keep it as a text pattern, `$contains`/`$startsWith`/`$endsWith` as a
    /// text matched literally.
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
    /// use sonic_db_core::Filter;
    ///
    /// // `GET /posts?filters[views][$in]=3,40`
    /// let filter = Filter::<Post>::parse("views", "$in", "3,40")?;
    /// assert_eq!(db.select::<Post>().filter(filter).count().await?, 2);
    /// let err = Filter::<Post>::parse("views", "$gt", "many").unwrap_err();
    /// assert!(matches!(err, Error::Encode { .. }), "{err}");
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn parse(column: &str, op: &str, text: &str) -> Result<Filter<T>> {
        parse_expr(T::DEF, column, op, text).map(Filter::from_expr)
    }
}

/// [`Filter::parse`] without the record type: compiled once for every table.
fn parse_expr(table: &'static TableDef, column: &str, op: &str, text: &str) -> Result<Expr> {
    let op: Op = op.parse()?;
    let index = table.require_column(column)?;
    let def = column_def(table, index)?;
    let operand = |text: &str| text_operand(table, def, text);
    let operands = match op {
        Op::IsNull | Op::IsNotNull => Vec::new(),
        Op::Like | Op::NotLike | Op::Contains | Op::StartsWith | Op::EndsWith => {
            vec![Value::Text(text.to_owned())]
        }
        Op::In | Op::NotIn => text.split(',').map(operand).collect::<Result<_>>()?,
        Op::Between => text.split(',').map(operand).collect::<Result<_>>()?,
        _ => vec![operand(text)?],
    };
    by_name_expr(table, column, op, operands)
}

/// [`Filter::by_name`] without the record type: compiled once for every table.
fn by_name_expr(
    def: &'static TableDef,
    column: &str,
    op: Op,
    mut operands: Vec<Value>,
) -> Result<Expr> {
    let index = def.require_column(column)?;
    let arity = |expected: usize, operands: &[Value]| {
        if operands.len() == expected {
            Ok(())
        } else {
            Err(Error::InvalidQuery(format!(
                "operator `{}` on `{}`.`{column}` takes {expected} operand(s), got {}",
                op.name(),
                def.name,
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
                escaped: false,
            }
        }
        Op::Contains | Op::StartsWith | Op::EndsWith => {
            arity(1, &operands)?;
            let column_type = column_def(def, index)?.sql_type;
            let text = match operands.pop() {
                Some(Value::Text(text)) if column_type == SqlType::Text => text,
                other => {
                    return Err(Error::InvalidQuery(format!(
                        "operator `{}` matches text on a TEXT column; `{}`.`{column}` is \
                         {column_type:?} and the operand {}",
                        op.name(),
                        def.name,
                        other.map_or_else(|| "missing".to_owned(), |v| v.describe())
                    )))
                }
            };
            let (prefix, suffix) = match op {
                Op::Contains => ("%", "%"),
                Op::StartsWith => ("", "%"),
                _ => ("%", ""),
            };
            Expr::Like {
                column: index,
                pattern: Value::Text(format!("{prefix}{}{suffix}", escape_like(&text))),
                negated: false,
                escaped: true,
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
    Ok(expr)
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
    /// Contains a text, literally ([`Column::contains`](crate::Column)): `LIKE '%…%' ESCAPE '\'`
    Contains,
    /// Starts with a text, literally: `LIKE '…%' ESCAPE '\'`
    StartsWith,
    /// Ends with a text, literally: `LIKE '%…' ESCAPE '\'`
    EndsWith,
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
    ///     "$eq $ne $lt $lte $gt $gte $like $nlike $in $nin $null $notnull $between \
    ///      $contains $startsWith $endsWith"
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
        ("contains", Op::Contains),
        ("startsWith", Op::StartsWith),
        ("endsWith", Op::EndsWith),
    ];

    /// Every operator's name with its `$`, separated by spaces: what messages list as accepted.
    ///
    /// ```
    /// use sonic_db_core::query::Op;
    /// assert!(Op::listed().starts_with("$eq $ne $lt "));
    /// assert!(Op::listed().ends_with(" $endsWith"));
    /// ```
    pub fn listed() -> String {
        let mut names = String::new();
        for (name, _) in Op::NAMES {
            if !names.is_empty() {
                names.push(' ');
            }
            names.push('$');
            names.push_str(name);
        }
        names
    }

    /// The operator named like Strapi/SonicJs query strings do: `$eq`, `$ne`, `$lt`, `$lte`,
    /// `$gt`, `$gte`, `$like`, `$nlike`, `$in`, `$nin`, `$null`, `$notnull`, `$between`,
    /// `$contains`, `$startsWith`, `$endsWith` (the `$` is optional).
    ///
    /// ```
    /// use sonic_db_core::query::Op;
    /// assert_eq!(Op::parse("$gte"), Some(Op::Gte));
    /// assert_eq!(Op::parse("nin"), Some(Op::NotIn));
    /// assert_eq!(Op::parse("$startsWith"), Some(Op::StartsWith));
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
    ///
    /// ```
    /// use sonic_db_core::query::Op;
    /// assert_eq!(Op::NotIn.name(), "nin");
    /// assert_eq!(Op::parse(Op::IsNotNull.name()), Some(Op::IsNotNull));
    /// ```
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
            let names = Op::listed();
            Error::InvalidQuery(format!(
                "unknown filter operator `{s}` (operators: {names})"
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

#[cfg(test)]
mod tests {
    use super::*;

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
