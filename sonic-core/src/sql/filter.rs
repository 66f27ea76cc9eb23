//! Conditions: the untyped condition tree that filters build, and its SQL.

use std::borrow::Cow;

use crate::backend::Capabilities;
use crate::error::{Error, Result};
use crate::schema::{RelationDef, TableDef};
use crate::sql::limits::{check_column_value, check_params};
use crate::sql::shape::{self, Shape};
use crate::sql::writer::{column_def, BoundSql, ParamList, SqlWriter};
use crate::value::{Cell, ConvertError, Param, Value};

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
    pub(crate) fn sql(self) -> &'static str {
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
        /// The pattern escapes its wildcards with [`LIKE_ESCAPE`] (`… LIKE ? ESCAPE '\'`).
        escaped: bool,
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
    /// `[NOT] EXISTS (SELECT 1 FROM <related> WHERE <join> AND <filter>)`: a related record
    /// (along relation `relation` of the table) matches `filter`, a condition on the related
    /// table.
    Related {
        relation: usize,
        filter: Box<Expr>,
        negated: bool,
    },
    /// An operand that could not be converted (a `u64` beyond `i64::MAX`, a NaN): reported
    /// as [`Error::Encode`] when the query runs, so building a filter never fails or panics.
    Invalid {
        column: usize,
        error: ConvertError,
    },
}

/// The escape character of the patterns `contains`, `starts_with` and `ends_with` build.
pub(crate) const LIKE_ESCAPE: char = '\\';

/// `text` as a LIKE pattern that matches it literally: `%`, `_` and [`LIKE_ESCAPE`] itself
/// are preceded by [`LIKE_ESCAPE`].
pub(crate) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | LIKE_ESCAPE) {
            out.push(LIKE_ESCAPE);
        }
        out.push(c);
    }
    out
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
    pub(crate) fn write<'a>(&'a self, w: &mut SqlWriter<'a>, ctx: FilterSql<'_>) -> Result<()> {
        let col = |w: &mut SqlWriter<'a>, index: usize| -> Result<()> {
            w.column(ctx.qualifier, column_def(ctx.table, index)?.name);
            Ok(())
        };
        match self {
            Expr::Compare { column, op, value } => {
                col(w, *column)?;
                w.push(op.sql());
                w.param_ref(value);
            }
            Expr::Like {
                column,
                pattern,
                negated,
                escaped,
            } => {
                col(w, *column)?;
                w.push(if *negated { " NOT LIKE " } else { " LIKE " });
                w.param_ref(pattern);
                if *escaped {
                    w.push(" ESCAPE '\\'");
                }
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
                    None => w.params_ref(values),
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
                w.param_ref(low);
                w.push(" AND ");
                w.param_ref(high);
            }
            Expr::And(parts) => write_junction(w, parts, true, |w, p| p.write(w, ctx))?,
            Expr::Or(parts) => write_junction(w, parts, false, |w, p| p.write(w, ctx))?,
            Expr::Not(inner) => {
                w.push("NOT (");
                inner.write(w, ctx)?;
                w.push(")");
            }
            Expr::Related {
                relation,
                filter,
                negated,
            } => write_related(w, ctx, *relation, filter, *negated)?,
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
            Expr::Related {
                relation, filter, ..
            } => filter.check_operands((relation_def(table, *relation)?.target)(), capabilities),
            Expr::Invalid { column, error } => {
                let name = column_def(table, *column)?.name;
                Err(Error::encode(table.name, name, error.clone()))
            }
        }
    }

    /// The values [`Expr::write`] binds with its lists inline, in the same order, written to
    /// nowhere: what a statement whose text is memoized (by its shape) binds.
    pub(crate) fn operands<'a>(&'a self, params: &mut ParamList<'a>) {
        let operand = |value: &'a Value| Param::Borrowed(Cell::from(value));
        match self {
            Expr::Compare { value, .. } => params.push(operand(value)),
            Expr::Like { pattern, .. } => params.push(operand(pattern)),
            Expr::In { values, .. } => params.extend(values.iter().map(operand)),
            Expr::Between { low, high, .. } => params.extend([operand(low), operand(high)]),
            Expr::Null { .. } | Expr::Invalid { .. } => {}
            Expr::And(parts) | Expr::Or(parts) => {
                parts.iter().for_each(|part| part.operands(params));
            }
            Expr::Not(filter) | Expr::Related { filter, .. } => filter.operands(params),
        }
    }

    /// Whether any `IN` list could be sent as JSON instead of inline parameters.
    pub(crate) fn has_lists(&self) -> bool {
        match self {
            Expr::In { values, .. } => values.len() > 1,
            Expr::And(parts) | Expr::Or(parts) => parts.iter().any(Expr::has_lists),
            Expr::Not(inner) => inner.has_lists(),
            Expr::Related { filter, .. } => filter.has_lists(),
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

/// Relation `index` of `table`, or an error naming the table (a hand-built definition).
fn relation_def(table: &'static TableDef, index: usize) -> Result<&'static RelationDef> {
    table.relations.get(index).ok_or_else(|| {
        Error::InvalidQuery(format!("`{}` has no relation number {index}", table.name))
    })
}

/// `[NOT] EXISTS (SELECT 1 FROM <target> AS <alias> WHERE <alias>.<remote> = <outer>.<local>
/// AND <filter>)`. The alias extends the outer scope's name with the relation's (`users>posts`,
/// then `users>posts>comments`), so nested subqueries never shadow each other and never meet
/// a table or eager-loading alias (`@0`, …).
fn write_related<'a>(
    w: &mut SqlWriter<'a>,
    ctx: FilterSql<'_>,
    relation: usize,
    filter: &'a Expr,
    negated: bool,
) -> Result<()> {
    let def = relation_def(ctx.table, relation)?;
    let target = (def.target)();
    let outer = ctx.qualifier.unwrap_or(ctx.table.name);
    let alias = format!("{outer}>{}", def.name);
    w.push(if negated {
        "NOT EXISTS (SELECT 1 FROM "
    } else {
        "EXISTS (SELECT 1 FROM "
    });
    w.ident(target.name);
    w.push(" AS ");
    w.ident(&alias);
    w.push(" WHERE ");
    crate::sql::eager::write_match(
        w,
        def,
        Some(&alias),
        column_def(target, (def.remote)())?.name,
        outer,
        column_def(ctx.table, def.local)?.name,
    )?;
    let inner = FilterSql {
        table: target,
        qualifier: Some(&alias),
        json_lists: ctx.json_lists,
    };
    match filter {
        Expr::And(parts) if parts.is_empty() => {}
        _ => {
            w.push(" AND ");
            filter.write(w, inner)?;
        }
    }
    w.push(")");
    Ok(())
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
pub(crate) fn write_where<'a>(
    w: &mut SqlWriter<'a>,
    filter: Option<&'a Expr>,
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
///
/// With a `shape` (everything the text depends on, see [`crate::sql::shape`]) the text is
/// written once per shape: later statements of that shape bind the filter's
/// [`operands`](Expr::operands), which `build` must be the only values of. Only inline texts
/// are kept (a JSON list's text depends on its values' types).
pub(crate) fn build_filtered<'a>(
    table: &'static TableDef,
    filter: Option<&'a Expr>,
    capabilities: &Capabilities,
    shape: Option<&Shape>,
    build: impl Fn(&mut SqlWriter<'a>, bool) -> Result<()>,
) -> Result<BoundSql<'a>> {
    if let Some(filter) = filter {
        filter.check_operands(table, capabilities)?;
    }
    if let Some(sql) = shape.and_then(shape::text) {
        // A shaped text binds the filter's operands alone.
        let mut params = ParamList::new();
        if let Some(filter) = filter {
            filter.operands(&mut params);
        }
        // Another backend's smaller limit may need the lists as JSON: written below then.
        if params.len() <= capabilities.max_params {
            let statement = BoundSql {
                sql: Cow::Borrowed(sql),
                params,
            };
            // Its operands were checked above by their columns: what is left to check is the
            // text's length (another backend may have written it).
            if sql.len() > capabilities.max_sql_len {
                check_params(sql, statement.params(), capabilities)?;
            }
            return Ok(statement);
        }
    }
    let mut w = SqlWriter::new();
    build(&mut w, false)?;
    let lists = filter.is_some_and(Expr::has_lists);
    let mut inline = true;
    if w.param_count() > capabilities.max_params && lists {
        w = SqlWriter::new();
        build(&mut w, true)?;
        inline = false;
    }
    let statement = w.finish_bound();
    if let Some(shape) = shape.filter(|_| inline) {
        shape::remember(*shape, &statement.sql);
    }
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
    check_params(&statement.sql, statement.params(), capabilities)?;
    Ok(statement)
}

/// `(a AND b …)` or `(a OR b …)` of `parts`, each written by `write`; with no part, the
/// junction's identity: `1` (true) for AND, `0` (false) for OR.
pub(crate) fn write_junction<'a, P>(
    w: &mut SqlWriter<'a>,
    parts: &'a [P],
    and: bool,
    mut write: impl FnMut(&mut SqlWriter<'a>, &'a P) -> Result<()>,
) -> Result<()> {
    let (joiner, empty) = if and { (" AND ", "1") } else { (" OR ", "0") };
    if parts.is_empty() {
        w.push(empty);
        return Ok(());
    }
    w.push("(");
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            w.push(joiner);
        }
        write(w, part)?;
    }
    w.push(")");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::fixtures::PARENTS;

    #[test]
    fn operands_are_the_values_written_in_their_order() {
        let n = |i: i64| Value::Integer(i);
        let compare = |column, value| Expr::Compare {
            column,
            op: CmpOp::Eq,
            value,
        };
        let child = Expr::Or(vec![
            compare(0, n(10)),
            Expr::Not(Box::new(compare(1, n(11)))),
        ]);
        let expr = Expr::And(vec![
            compare(0, n(1)),
            Expr::Like {
                column: 1,
                pattern: Value::Text("a%".into()),
                negated: true,
                escaped: true,
            },
            Expr::In {
                column: 0,
                values: vec![n(2), n(3), n(4)],
                negated: false,
            },
            Expr::In {
                column: 0,
                values: vec![],
                negated: true,
            },
            Expr::Null {
                column: 1,
                negated: false,
            },
            Expr::Between {
                column: 0,
                low: n(5),
                high: n(6),
            },
            Expr::Related {
                relation: 0,
                filter: Box::new(child),
                negated: false,
            },
            Expr::Not(Box::new(Expr::Or(vec![compare(0, n(7)), compare(1, n(8))]))),
        ]);
        let mut w = SqlWriter::new();
        let ctx = FilterSql {
            table: &PARENTS,
            qualifier: None,
            json_lists: false,
        };
        write_where(&mut w, Some(&expr), ctx).unwrap();
        let values = |params: ParamList<'_>| -> Vec<Value> {
            params.into_iter().map(Param::into_value).collect()
        };
        let written = values(w.finish_bound().params);
        let mut operands = ParamList::new();
        expr.operands(&mut operands);
        assert_eq!(values(operands), written);
        let expected: Vec<Value> = [1, 2, 3, 4, 5, 6, 10, 11, 7, 8]
            .map(n)
            .into_iter()
            .collect();
        let mut with_pattern = expected.clone();
        with_pattern.insert(1, Value::Text("a%".into()));
        assert_eq!(written, with_pattern);
    }

    #[test]
    fn escaped_patterns_match_their_text_literally() {
        assert_eq!(escape_like(r"50%_off\now"), r"50\%\_off\\now");
        assert_eq!(escape_like("plain"), "plain");
    }

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
}
