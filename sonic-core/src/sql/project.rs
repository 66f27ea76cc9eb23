//! The SQL of projections: chosen columns and aggregates, `DISTINCT`, `GROUP BY`, `HAVING`.

use crate::backend::{Capabilities, Statement};
use crate::error::{Error, Result};
use crate::schema::TableDef;
use crate::sql::exact_integers;
use crate::sql::filter::{build_filtered, write_junction, write_where, CmpOp, Expr, FilterSql};
use crate::sql::limits::value_problem;
use crate::sql::order::Direction;
use crate::sql::writer::{column_def, BoundSql, SqlWriter};
use crate::value::{Cell, ConvertError, SqlType, Value};

/// One selected item: a column or an aggregate of one. Columns are indexes into the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TermSql {
    Column(usize),
    Count,
    CountDistinct(usize),
    Sum(usize),
    Avg(usize),
    Min(usize),
    Max(usize),
}

impl TermSql {
    /// The aggregate function, if this is one, and the column it reads.
    fn function(self) -> Option<(&'static str, Option<usize>)> {
        match self {
            TermSql::Column(_) => None,
            TermSql::Count => Some(("COUNT", None)),
            TermSql::CountDistinct(c) => Some(("COUNT", Some(c))),
            TermSql::Sum(c) => Some(("SUM", Some(c))),
            TermSql::Avg(c) => Some(("AVG", Some(c))),
            TermSql::Min(c) => Some(("MIN", Some(c))),
            TermSql::Max(c) => Some(("MAX", Some(c))),
        }
    }

    pub(crate) fn is_aggregate(self) -> bool {
        self.function().is_some()
    }

    /// Whether the term is an INTEGER column's value (the column, its `MIN`, `MAX` or `SUM`):
    /// read exactly where integers cross JavaScript ([`exact_integers`]).
    pub(crate) fn reads_integer(self, table: &TableDef) -> bool {
        let column = match self {
            TermSql::Column(c) | TermSql::Min(c) | TermSql::Max(c) | TermSql::Sum(c) => c,
            TermSql::Count | TermSql::CountDistinct(_) | TermSql::Avg(_) => return false,
        };
        table
            .columns
            .get(column)
            .is_some_and(|c| c.sql_type == SqlType::Integer)
    }

    fn write(self, w: &mut SqlWriter, table: &'static TableDef) -> Result<()> {
        match self {
            TermSql::Column(c) => w.ident(column_def(table, c)?.name),
            TermSql::Count => w.push("COUNT(*)"),
            TermSql::CountDistinct(c) => {
                w.push("COUNT(DISTINCT ");
                w.ident(column_def(table, c)?.name);
                w.push(")");
            }
            other => {
                if let Some((function, Some(c))) = other.function() {
                    w.push(function);
                    w.push("(");
                    w.ident(column_def(table, c)?.name);
                    w.push(")");
                }
            }
        }
        Ok(())
    }

    /// How errors name it: `title`, `count(*)`, `sum(views)`, `count(distinct user_id)`.
    pub(crate) fn label(self, table: &'static TableDef) -> String {
        let name = |c: usize| column_def(table, c).map_or("?", |d| d.name);
        match self {
            TermSql::Column(c) => name(c).to_string(),
            TermSql::Count => "count(*)".to_string(),
            TermSql::CountDistinct(c) => format!("count(distinct {})", name(c)),
            TermSql::Sum(c) => format!("sum({})", name(c)),
            TermSql::Avg(c) => format!("avg({})", name(c)),
            TermSql::Min(c) => format!("min({})", name(c)),
            TermSql::Max(c) => format!("max({})", name(c)),
        }
    }
}

/// A `HAVING` condition: comparisons of aggregates, and ordinary conditions on the grouped
/// columns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HavingSql {
    Compare {
        term: TermSql,
        op: CmpOp,
        value: Value,
    },
    Filter(Expr),
    And(Vec<HavingSql>),
    Or(Vec<HavingSql>),
    Not(Box<HavingSql>),
    /// An operand that could not be converted, reported when the query runs.
    Invalid {
        term: TermSql,
        error: ConvertError,
    },
}

impl HavingSql {
    fn write<'a>(&'a self, w: &mut SqlWriter<'a>, ctx: FilterSql<'_>) -> Result<()> {
        match self {
            HavingSql::Compare { term, op, value } => {
                term.write(w, ctx.table)?;
                w.push(op.sql());
                w.param_ref(value);
            }
            HavingSql::Filter(expr) => expr.write(w, ctx)?,
            HavingSql::And(parts) => write_junction(w, parts, true, |w, p| p.write(w, ctx))?,
            HavingSql::Or(parts) => write_junction(w, parts, false, |w, p| p.write(w, ctx))?,
            HavingSql::Not(inner) => {
                w.push("NOT (");
                inner.write(w, ctx)?;
                w.push(")");
            }
            HavingSql::Invalid { term, error } => {
                return Err(Error::encode(
                    ctx.table.name,
                    &term.label(ctx.table),
                    error.clone(),
                ))
            }
        }
        Ok(())
    }

    /// Refuses operands the backend cannot bind, naming the table and the aggregate.
    fn check_operands(&self, table: &'static TableDef, capabilities: &Capabilities) -> Result<()> {
        match self {
            HavingSql::Compare { term, value, .. } => {
                match value_problem(Cell::from(value), capabilities) {
                    None => Ok(()),
                    Some(problem) => Err(Error::Limit(format!(
                        "`{}` HAVING {}: {problem}",
                        table.name,
                        term.label(table)
                    ))),
                }
            }
            HavingSql::Filter(expr) => expr.check_operands(table, capabilities),
            HavingSql::And(parts) | HavingSql::Or(parts) => parts
                .iter()
                .try_for_each(|part| part.check_operands(table, capabilities)),
            HavingSql::Not(inner) => inner.check_operands(table, capabilities),
            HavingSql::Invalid { term, error } => {
                Err(Error::encode(table.name, &term.label(table), error.clone()))
            }
        }
    }

    /// The plain columns it reads (each must be grouped).
    fn columns(&self, table: &TableDef, out: &mut Vec<usize>) {
        match self {
            HavingSql::Compare { .. } | HavingSql::Invalid { .. } => {}
            HavingSql::Filter(expr) => expr_columns(table, expr, out),
            HavingSql::And(parts) | HavingSql::Or(parts) => {
                parts.iter().for_each(|part| part.columns(table, out))
            }
            HavingSql::Not(inner) => inner.columns(table, out),
        }
    }
}

/// The columns of `table` that `expr` reads; a relation filter reads its joining column.
fn expr_columns(table: &TableDef, expr: &Expr, out: &mut Vec<usize>) {
    match expr {
        Expr::Compare { column, .. }
        | Expr::Like { column, .. }
        | Expr::In { column, .. }
        | Expr::Null { column, .. }
        | Expr::Between { column, .. }
        | Expr::Invalid { column, .. } => out.push(*column),
        Expr::And(parts) | Expr::Or(parts) => {
            parts.iter().for_each(|p| expr_columns(table, p, out))
        }
        Expr::Not(inner) => expr_columns(table, inner, out),
        Expr::Related { relation, .. } => {
            if let Some(def) = table.relations.get(*relation) {
                out.push(def.local);
            }
        }
    }
}

/// What a projection asks for, as the compiler sees it.
pub(crate) struct ProjectSql<'a> {
    pub(crate) table: &'static TableDef,
    pub(crate) terms: &'a [TermSql],
    /// Terms whose NULLs the caller reads (a nullable column selected as an `Option`).
    pub(crate) nullable_ok: &'a [bool],
    pub(crate) distinct: bool,
    pub(crate) filter: Option<&'a Expr>,
    pub(crate) group_by: &'a [usize],
    pub(crate) having: Option<&'a HavingSql>,
    pub(crate) order: &'a [(TermSql, Direction)],
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
}

impl ProjectSql<'_> {
    /// Refuses what would give backend-dependent or undecodable results: a plain column
    /// beside aggregates (or in a grouped query) that is not grouped — SQLite would return the
    /// value of an arbitrary row — and a nullable column read into a type without `None`.
    fn check(&self) -> Result<()> {
        let table = self.table;
        if self.terms.is_empty() {
            return Err(Error::InvalidQuery(format!(
                "a projection of `{}` selects no column",
                table.name
            )));
        }
        for (term, nullable_ok) in self.terms.iter().zip(self.nullable_ok) {
            if let TermSql::Column(c) = term {
                let column = column_def(table, *c)?;
                if column.nullable && !nullable_ok {
                    return Err(Error::InvalidQuery(format!(
                        "`{}`.`{}` is nullable: select it with `.optional()` to read it as an \
                         Option",
                        table.name, column.name
                    )));
                }
            }
        }
        let grouped = !self.group_by.is_empty()
            || self.having.is_some()
            || self.terms.iter().any(|t| t.is_aggregate());
        if !grouped {
            return Ok(());
        }
        let mut plain: Vec<usize> = self
            .terms
            .iter()
            .chain(self.order.iter().map(|(term, _)| term))
            .filter_map(|term| match term {
                TermSql::Column(c) => Some(*c),
                _ => None,
            })
            .collect();
        if let Some(having) = self.having {
            having.columns(table, &mut plain);
        }
        match plain.into_iter().find(|c| !self.group_by.contains(c)) {
            None => Ok(()),
            Some(c) => Err(Error::InvalidQuery(format!(
                "`{}`.`{}` is read in a grouped query but is neither grouped nor aggregated: \
                 add it to `group_by` or read an aggregate of it",
                table.name,
                column_def(table, c)?.name
            ))),
        }
    }
}

/// `SELECT [DISTINCT] <terms> FROM <table> [WHERE] [GROUP BY] [HAVING] [ORDER BY] [LIMIT]`,
/// checked against the backend's limits before it is sent.
pub(crate) fn project_statement<'a>(
    spec: &ProjectSql<'a>,
    capabilities: &Capabilities,
) -> Result<Statement> {
    spec.check()?;
    let table = spec.table;
    if let Some(having) = spec.having {
        having.check_operands(table, capabilities)?;
    }
    build_filtered(table, spec.filter, capabilities, None, |w, json_lists| {
        let ctx = FilterSql {
            table,
            qualifier: None,
            json_lists,
        };
        w.push(if spec.distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
        let as_text = exact_integers::integers_as_text(capabilities);
        for (i, term) in spec.terms.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            if as_text && term.reads_integer(table) {
                // SQLite computes an aggregate written three times once.
                exact_integers::try_write_exact(w, |w| term.write(w, table))?;
            } else {
                term.write(w, table)?;
            }
        }
        w.push(" FROM ");
        w.ident(table.name);
        write_where(w, spec.filter, ctx)?;
        for (i, column) in spec.group_by.iter().enumerate() {
            w.push(if i == 0 { " GROUP BY " } else { ", " });
            w.ident(column_def(table, *column)?.name);
        }
        if let Some(having) = spec.having {
            w.push(" HAVING ");
            having.write(w, ctx)?;
        }
        for (i, (term, direction)) in spec.order.iter().enumerate() {
            w.push(if i == 0 { " ORDER BY " } else { ", " });
            term.write(w, table)?;
            if *direction == Direction::Desc {
                w.push(" DESC");
            }
        }
        write_limit(w, spec.limit, spec.offset);
        Ok(())
    })
    .map(BoundSql::into_statement)
}

/// ` LIMIT n [OFFSET m]` as integer literals (see `crate::sql::select`).
pub(crate) fn write_limit(w: &mut SqlWriter, limit: Option<u64>, offset: Option<u64>) {
    match (limit, offset) {
        (None, None) => {}
        (limit, offset) => {
            w.push(" LIMIT ");
            match limit {
                Some(n) => w.count(n),
                None => w.push("-1"),
            }
            if let Some(n) = offset {
                w.push(" OFFSET ");
                w.count(n);
            }
        }
    }
}
