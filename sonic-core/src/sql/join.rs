//! The SQL of joins: two tables under the aliases `l` and `r`, every column of both listed
//! by position (the joined table's aliased `r.<column>`), so same-named columns never merge.

use crate::backend::{Capabilities, Statement};
use crate::error::{Error, Result};
use crate::schema::{TableDef, TextMemo};
use crate::sql::exact_integers;
use crate::sql::filter::{Expr, FilterSql};
use crate::sql::limits::check_statement;
use crate::sql::order::Direction;
use crate::sql::project::write_limit;
use crate::sql::writer::{column_def, SqlWriter};

/// The alias of the table the select started from.
const LEFT: &str = "l";
/// The alias of the joined table.
const RIGHT: &str = "r";

/// Which side of the join a column belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Right,
}

/// What a join asks for, as the compiler sees it.
pub(crate) struct JoinSql<'a> {
    pub(crate) left: &'static TableDef,
    pub(crate) right: &'static TableDef,
    /// `LEFT JOIN` (rows of the left table without a match stay) or `JOIN`.
    pub(crate) outer: bool,
    /// `r.<remote> = l.<local>`.
    pub(crate) local: usize,
    pub(crate) remote: usize,
    pub(crate) left_filter: Option<&'a Expr>,
    pub(crate) right_filter: Option<&'a Expr>,
    pub(crate) order: &'a [(Side, usize, Direction)],
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
}

impl<'a> JoinSql<'a> {
    /// `SELECT <both tables' columns> FROM "a" AS "l" [LEFT] JOIN "b" AS "r" ON …`: it
    /// depends on the tables, the join's columns and kind alone, so it is written once per
    /// such shape.
    fn head(&self, capabilities: &Capabilities) -> Result<&'static str> {
        type Shape = (usize, usize, usize, usize, bool);
        static HEADS: [TextMemo<Shape>; 2] = [TextMemo::new(), TextMemo::new()];
        let address = |table: &'static TableDef| std::ptr::from_ref(table) as usize;
        let shape = (
            address(self.left),
            address(self.right),
            self.local,
            self.remote,
            self.outer,
        );
        let as_text = exact_integers::integers_as_text(capabilities);
        exact_integers::memo(&HEADS, capabilities).get(shape, || {
            let mut w = SqlWriter::new();
            w.push("SELECT ");
            exact_integers::select_list(&mut w, self.left, Some(LEFT), as_text);
            for column in self.right.columns {
                w.push(", ");
                exact_integers::select_column(&mut w, Some(RIGHT), column, as_text);
                w.push(" AS ");
                w.ident(&format!("{RIGHT}.{}", column.name));
            }
            w.push(" FROM ");
            w.ident(self.left.name);
            w.push(" AS ");
            w.ident(LEFT);
            w.push(if self.outer { " LEFT JOIN " } else { " JOIN " });
            w.ident(self.right.name);
            w.push(" AS ");
            w.ident(RIGHT);
            w.push(" ON ");
            w.column(Some(RIGHT), column_def(self.right, self.remote)?.name);
            w.push(" = ");
            w.column(Some(LEFT), column_def(self.left, self.local)?.name);
            Ok(w.finish().sql.into_owned())
        })
    }

    fn write(&self, w: &mut SqlWriter<'a>, json_lists: bool, head: &str) -> Result<()> {
        w.push(head);
        let conditions = [
            (self.left_filter, self.left, LEFT),
            (self.right_filter, self.right, RIGHT),
        ];
        let mut first = true;
        for (filter, table, alias) in conditions {
            if let Some(expr) = filter {
                w.push(if first { " WHERE " } else { " AND " });
                first = false;
                let ctx = FilterSql {
                    table,
                    qualifier: Some(alias),
                    json_lists,
                };
                // Parenthesised: the other side's condition follows with AND.
                w.push("(");
                expr.write(w, ctx)?;
                w.push(")");
            }
        }
        for (i, (side, column, direction)) in self.order.iter().enumerate() {
            w.push(if i == 0 { " ORDER BY " } else { ", " });
            let (table, alias) = match side {
                Side::Left => (self.left, LEFT),
                Side::Right => (self.right, RIGHT),
            };
            w.column(Some(alias), column_def(table, *column)?.name);
            if *direction == Direction::Desc {
                w.push(" DESC");
            }
        }
        write_limit(w, self.limit, self.offset);
        Ok(())
    }
}

/// The statement of a join, its operands checked per table and the whole against the
/// backend's limits: `IN` lists go inline, or as JSON parameters when inline they would bind
/// more values than the backend takes.
pub(crate) fn join_statement(spec: &JoinSql<'_>, capabilities: &Capabilities) -> Result<Statement> {
    for (filter, table) in [
        (spec.left_filter, spec.left),
        (spec.right_filter, spec.right),
    ] {
        if let Some(expr) = filter {
            expr.check_operands(table, capabilities)?;
        }
    }
    let head = spec.head(capabilities)?;
    let mut w = SqlWriter::new();
    spec.write(&mut w, false, head)?;
    let lists = [spec.left_filter, spec.right_filter]
        .into_iter()
        .flatten()
        .any(Expr::has_lists);
    if w.param_count() > capabilities.max_params && lists {
        w = SqlWriter::new();
        spec.write(&mut w, true, head)?;
    }
    let statement = w.finish();
    if statement.params.len() > capabilities.max_params {
        return Err(Error::Limit(format!(
            "a join of `{}` and `{}` binds {} parameters (IN lists of BLOBs cannot travel as \
             JSON); the backend allows {}",
            spec.left.name,
            spec.right.name,
            statement.params.len(),
            capabilities.max_params
        )));
    }
    check_statement(&statement, capabilities)?;
    Ok(statement)
}
