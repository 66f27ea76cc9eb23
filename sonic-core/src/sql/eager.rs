//! The SQL of eager relations: JSON subqueries for a single statement, the `LEFT JOIN` head of a
//! joined select, and `IN` lists per level. It depends on the tables' definitions only; the
//! query layer describes its includes through [`EagerSql`].

use crate::backend::{Capabilities, Statement};
use crate::error::{Error, Result};
use crate::schema::{RelationDef, RelationKind, TableDef, TableMemo, TextMemo, ThroughDef};
use crate::sql::exact_integers;
use crate::sql::filter::{Expr, FilterSql};
use crate::sql::order::Direction;
use crate::sql::project::{write_limit, TermSql};
use crate::sql::writer::{column_def, SqlWriter};
use crate::value::{SqlType, Value};

/// What one level of eager loading keeps and in which order: a filter on the children, an
/// order (before their primary key, which breaks ties), and a limit and offset per parent.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct LevelSql {
    pub(crate) filter: Option<Expr>,
    pub(crate) order: Vec<(usize, Direction)>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    /// The columns to read (indexes into the child table), when not all: the others come
    /// back `NULL`. The primary key and the columns relations join on are always read.
    pub(crate) columns: Option<Vec<TermSql>>,
}

impl LevelSql {
    /// No options: the default, as a constant.
    pub(crate) const NONE: LevelSql = LevelSql {
        filter: None,
        order: Vec::new(),
        limit: None,
        offset: None,
        columns: None,
    };

    /// No filter, order, limit or offset: children of each parent in primary-key order.
    pub(crate) fn is_plain(&self) -> bool {
        *self == LevelSql::default()
    }

    /// Whether a limit or an offset picks children per parent.
    fn pages(&self) -> bool {
        self.limit.is_some() || self.offset.is_some()
    }

    /// ` AND (<filter>)` on the child table (under `qualifier`).
    fn write_filter<'a>(
        &'a self,
        w: &mut SqlWriter<'a>,
        child: &'static TableDef,
        qualifier: Option<&str>,
    ) -> Result<()> {
        if let Some(expr) = &self.filter {
            w.push(" AND (");
            expr.write(
                w,
                FilterSql {
                    table: child,
                    qualifier,
                    json_lists: false,
                },
            )?;
            w.push(")");
        }
        Ok(())
    }

    /// The level's order terms, then the primary key (every column of a composite key):
    /// `<a> DESC, <pk>`.
    fn write_order(
        &self,
        w: &mut SqlWriter,
        child: &'static TableDef,
        qualifier: Option<&str>,
    ) -> Result<()> {
        for (column, direction) in &self.order {
            w.column(qualifier, column_def(child, *column)?.name);
            if *direction == Direction::Desc {
                w.push(" DESC");
            }
            w.push(", ");
        }
        for (i, key) in child.key_columns()?.into_iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.column(qualifier, key.name);
        }
        Ok(())
    }
}

/// Whether any level of `include` has options (their values make a statement's text vary,
/// so it is built each time instead of once).
pub(crate) fn has_options(include: &dyn EagerSql) -> bool {
    !include.level().is_plain()
        || (0..include.nested_len())
            .filter_map(|i| include.nested(i))
            .any(has_options)
}

/// Refuses, before anything is sent, level options that cannot run: filter operands the
/// backend cannot take and column selections that leave out a NOT NULL column (each error
/// names the table and column).
pub(crate) fn check_levels(include: &dyn EagerSql, capabilities: &Capabilities) -> Result<()> {
    if let Some(expr) = &include.level().filter {
        expr.check_operands((include.relation().target)(), capabilities)?;
    }
    selected_columns(include)?;
    (0..include.nested_len())
        .filter_map(|i| include.nested(i))
        .try_for_each(|nested| check_levels(nested, capabilities))
}

/// Which columns of `include`'s table a level reads (`None`: all): those it selects, its
/// primary key, the column its parents join on, and the columns its own relations join on.
/// A column left out must be nullable (it reads back as `None`), or the level is refused,
/// naming it.
pub(crate) fn selected_columns(include: &dyn EagerSql) -> Result<Option<Vec<bool>>> {
    let Some(columns) = &include.level().columns else {
        return Ok(None);
    };
    let relation = include.relation();
    let child = (relation.target)();
    let mut selected = vec![false; child.columns.len()];
    let nested_locals = (0..include.nested_len())
        .filter_map(|i| include.nested(i))
        .map(|nested| nested.relation().local);
    let mut chosen = Vec::with_capacity(columns.len());
    for term in columns {
        match term {
            TermSql::Column(column) => chosen.push(*column),
            other => {
                return Err(Error::InvalidQuery(format!(
                    "the relation `{}` of `{}` can select columns of `{}`, not `{}`",
                    relation.name,
                    include.parent().name,
                    child.name,
                    other.label(child)
                )))
            }
        }
    }
    let always = child
        .primary_key
        .iter()
        .copied()
        .chain([(relation.remote)()]);
    for column in chosen.into_iter().chain(always).chain(nested_locals) {
        match selected.get_mut(column) {
            Some(slot) => *slot = true,
            None => {
                column_def(child, column)?;
            }
        }
    }
    for (column, keep) in child.columns.iter().zip(&selected) {
        if !keep && !column.nullable {
            return Err(Error::InvalidQuery(format!(
                "the relation `{}` of `{}` does not select `{}`.`{}`, which is NOT NULL: a \
                 record cannot be read without it; select it",
                relation.name,
                include.parent().name,
                child.name,
                column.name
            )));
        }
    }
    Ok(Some(selected))
}

/// The child's columns in definition order, `NULL` for those a level leaves out (INTEGER
/// columns read exactly when `as_text`, see [`exact_integers`]).
fn write_selected_columns(
    w: &mut SqlWriter,
    child: &TableDef,
    selected: Option<&[bool]>,
    qualifier: Option<&str>,
    as_text: bool,
) {
    match selected {
        None => exact_integers::select_list(w, child, qualifier, as_text),
        Some(selected) => {
            for (i, (column, keep)) in child.columns.iter().zip(selected).enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                if *keep {
                    exact_integers::select_column(w, qualifier, column, as_text);
                } else {
                    w.push("NULL");
                }
            }
        }
    }
}

/// The alias of the top-level table in a single-statement or joined select. `@` keeps it apart
/// from any table name a schema is likely to use.
pub(crate) const ROOT_ALIAS: &str = "@0";

/// The alias of the related table in a joined select.
const JOIN_ALIAS: &str = "@1";

/// One include as the SQL compiler sees it: a relation of a table, with includes nested below.
pub(crate) trait EagerSql {
    /// The table the relation is declared on.
    fn parent(&self) -> &'static TableDef;
    /// The relation.
    fn relation(&self) -> &'static RelationDef;
    /// The relation's index among the parent's relations.
    fn relation_index(&self) -> usize;
    /// How many includes are nested below.
    fn nested_len(&self) -> usize;
    /// The nested include `index`.
    fn nested(&self, index: usize) -> Option<&dyn EagerSql>;
    /// This level's filter, order, limit and offset.
    fn level(&self) -> &LevelSql;
}

/// Whether a single statement would carry a REAL column of the related table, or of one
/// nested below it, through JSON, which not every backend does exactly
/// ([`Capabilities::json_exact_reals`](crate::backend::Capabilities::json_exact_reals)). A
/// relation that [`joins_one`] reads its columns as plain cells.
pub(crate) fn reals_in_json(include: &dyn EagerSql) -> bool {
    if joins_one(include) {
        return false;
    }
    let child = (include.relation().target)();
    child.columns.iter().any(|c| c.sql_type == SqlType::Real)
        || (0..include.nested_len())
            .filter_map(|i| include.nested(i))
            .any(reals_in_json)
}

/// The result column names of the relations of a single-statement select of `table`, one per
/// relation name: `@posts`, unique among themselves and distinct from every column of
/// `table` (D1's `batch()` keys result columns by name, so two columns of one name would
/// become one).
pub(crate) fn relation_aliases<'a>(
    table: &TableDef,
    names: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let mut aliases: Vec<String> = Vec::new();
    for name in names {
        let mut alias = format!("@{name}");
        while table.column(&alias).is_some() || aliases.contains(&alias) {
            alias.insert(0, '@');
        }
        aliases.push(alias);
    }
    aliases
}

/// `SELECT <columns>, <relation JSON> AS "@<name>", … FROM <table> AS "@0"` (a relation that
/// [`joins_one`] as its columns and a `LEFT JOIN`): the head of a single-statement select
/// with these includes. It depends on the table and the tree of
/// includes alone, so it is built once per tree (a program has a handful) and reused.
pub(crate) fn embedded_head<'a>(
    table: &'static TableDef,
    includes: impl Iterator<Item = &'a dyn EagerSql> + Clone,
    capabilities: &Capabilities,
) -> Result<EmbeddedHead> {
    static HEADS: [TextMemo<Vec<usize>>; 2] = [TextMemo::new(), TextMemo::new()];
    let as_text = exact_integers::integers_as_text(capabilities);
    if includes.clone().any(has_options) {
        // Level options bind values: this head is this select's own.
        return Ok(EmbeddedHead::Built(build_embedded_head(
            table, includes, as_text,
        )?));
    }
    let mut shape = vec![std::ptr::from_ref(table) as usize];
    for include in includes.clone() {
        push_shape(&mut shape, include);
    }
    let head = exact_integers::memo(&HEADS, capabilities).get(shape, || {
        build_embedded_head(table, includes, as_text).map(|built| built.sql.into_owned())
    })?;
    Ok(EmbeddedHead::Shared(head))
}

/// The head of a single-statement select: built once per tree of includes without level
/// options, or for one select (with the values its level options bind).
#[derive(Debug)]
pub(crate) enum EmbeddedHead {
    Shared(&'static str),
    Built(Statement),
}

impl EmbeddedHead {
    pub(crate) fn write(&self, w: &mut SqlWriter) {
        match self {
            EmbeddedHead::Shared(sql) => w.push(sql),
            EmbeddedHead::Built(statement) => w.push_bound(&statement.sql, &statement.params),
        }
    }
}

fn build_embedded_head<'a>(
    table: &'static TableDef,
    includes: impl Iterator<Item = &'a dyn EagerSql> + Clone,
    as_text: bool,
) -> Result<Statement> {
    let mut w = SqlWriter::new();
    w.push("SELECT ");
    // The relations' JSON carries integers exactly as text already; the root's own columns,
    // and those of joined `one` relations, are plain result cells.
    exact_integers::select_list(&mut w, table, Some(ROOT_ALIAS), as_text);
    let mut aliases = 1;
    let names = includes.clone().map(|include| include.relation().name);
    let mut joins = Vec::new();
    for (include, alias) in includes.zip(relation_aliases(table, names)) {
        w.push(", ");
        if joins_one(include) {
            let scope = format!("@{aliases}");
            aliases += 1;
            write_joined_columns(&mut w, table, include, &scope, &alias, as_text);
            joins.push((include, scope));
        } else {
            write_json(&mut w, include, ROOT_ALIAS, &mut aliases)?;
            w.push(" AS ");
            w.ident(&alias);
        }
    }
    w.push(" FROM ");
    w.ident(table.name);
    w.push(" AS ");
    w.ident(ROOT_ALIAS);
    for (include, scope) in joins {
        let relation = include.relation();
        let child = (relation.target)();
        w.push(" LEFT JOIN ");
        w.ident(child.name);
        w.push(" AS ");
        w.ident(&scope);
        w.push(" ON ");
        let remote = column_def(child, (relation.remote)())?.name;
        let local = column_def(include.parent(), relation.local)?.name;
        write_match(&mut w, relation, Some(&scope), remote, ROOT_ALIAS, local)?;
    }
    Ok(w.finish())
}

/// Whether a single-statement select reads this include's record as columns of a `LEFT JOIN`
/// instead of a JSON subquery: a `one` relation to the related table's single-column primary
/// key, with nothing nested and no level options. At most one row matches each parent, so
/// the join keeps the parents' rows, their order and their limit, and the record comes as
/// plain result cells: no JSON built by SQLite and parsed again by Sonic, and REALs exact.
pub(crate) fn joins_one(include: &dyn EagerSql) -> bool {
    let relation = include.relation();
    relation.kind == RelationKind::One
        && relation.through.is_none()
        && include.nested_len() == 0
        && include.level().is_plain()
        && matches!((relation.target)().primary_key, [pk] if *pk == (relation.remote)())
}

/// The related table's columns of a [`joins_one`] include, joined as `scope`: each named
/// `<alias>.<column>` after the relation's alias (D1's `batch()` keys result columns by
/// name, and both tables may have an `id`), prefixed with more `@` while that names a column
/// of `table`.
fn write_joined_columns(
    w: &mut SqlWriter,
    table: &TableDef,
    include: &dyn EagerSql,
    scope: &str,
    alias: &str,
    as_text: bool,
) {
    let child = (include.relation().target)();
    for (i, column) in child.columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        exact_integers::select_column(w, Some(scope), column, as_text);
        let mut name = format!("{alias}.{}", column.name);
        while table.column(&name).is_some() {
            name.insert(0, '@');
        }
        w.push(" AS ");
        w.ident(&name);
    }
}

fn push_shape(shape: &mut Vec<usize>, include: &dyn EagerSql) {
    shape.push(std::ptr::from_ref(include.relation()) as usize);
    shape.push(include.nested_len());
    for nested in (0..include.nested_len()).filter_map(|i| include.nested(i)) {
        push_shape(shape, nested);
    }
}

/// Writes the correlated subquery that yields the relation of the row aliased `parent` as
/// JSON. `aliases` numbers the scopes so that nested subqueries never shadow each other.
fn write_json<'a>(
    w: &mut SqlWriter<'a>,
    include: &'a dyn EagerSql,
    parent: &str,
    aliases: &mut usize,
) -> Result<()> {
    let relation = include.relation();
    let child = (relation.target)();
    let local = column_def(include.parent(), relation.local)?.name;
    let remote = column_def(child, (relation.remote)())?.name;
    let level = include.level();
    let alias = format!("@{aliases}");
    *aliases += 1;
    match relation.kind {
        RelationKind::Many => {
            // The ordered derived table fixes the order of the aggregate: SQLite does not
            // flatten an ORDER BY subquery into an aggregate query.
            w.push("(SELECT json_group_array(");
            write_json_row(w, include, &alias, aliases)?;
            w.push(") FROM (SELECT * FROM ");
            w.ident(child.name);
            w.push(" WHERE ");
            write_match(w, relation, None, remote, parent, local)?;
            level.write_filter(w, child, None)?;
            w.push(" ORDER BY ");
            level.write_order(w, child, None)?;
            write_limit(w, level.limit, level.offset);
            w.push(") AS ");
            w.ident(&alias);
            w.push(")");
        }
        RelationKind::One => {
            w.push("(SELECT ");
            write_json_row(w, include, &alias, aliases)?;
            w.push(" FROM ");
            w.ident(child.name);
            w.push(" AS ");
            w.ident(&alias);
            w.push(" WHERE ");
            write_match(w, relation, Some(&alias), remote, parent, local)?;
            level.write_filter(w, child, Some(&alias))?;
            w.push(" ORDER BY ");
            level.write_order(w, child, Some(&alias))?;
            // A `one` relation holds the first child (after the offset) either way.
            w.push(" LIMIT 1");
            if let Some(n) = level.offset {
                w.push(" OFFSET ");
                w.count(n);
            }
            w.push(")");
        }
    }
    Ok(())
}

/// The condition that a related row (under `qualifier`) belongs to the row aliased `parent`:
/// `<remote> = <parent>.<local>`, or for a many-to-many relation
/// `<remote> IN (SELECT <to> FROM <join table> WHERE <from> = <parent>.<local>)` (an `IN`, so
/// that a pair linked twice still yields the record once).
pub(crate) fn write_match(
    w: &mut SqlWriter,
    relation: &RelationDef,
    qualifier: Option<&str>,
    remote: &str,
    parent: &str,
    local: &str,
) -> Result<()> {
    w.column(qualifier, remote);
    match &relation.through {
        None => {
            w.push(" = ");
            w.column(Some(parent), local);
        }
        Some(through) => {
            let table = (through.table)();
            w.push(" IN (SELECT ");
            w.column(Some(table.name), column_def(table, (through.to)())?.name);
            w.push(" FROM ");
            w.ident(table.name);
            w.push(" WHERE ");
            w.column(Some(table.name), column_def(table, (through.from)())?.name);
            w.push(" = ");
            w.column(Some(parent), local);
            w.push(")");
        }
    }
    Ok(())
}

/// `json_array(col, …, nested…)` for one related row aliased `alias`.
fn write_json_row<'a>(
    w: &mut SqlWriter<'a>,
    include: &'a dyn EagerSql,
    alias: &str,
    aliases: &mut usize,
) -> Result<()> {
    w.push("json_array(");
    let selected = selected_columns(include)?;
    for (i, column) in (include.relation().target)().columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        if selected
            .as_ref()
            .is_some_and(|s| !s.get(i).copied().unwrap_or(true))
        {
            w.push("NULL");
        } else if column.sql_type == SqlType::Blob {
            // `hex(NULL)` is '', which would make NULL and an empty BLOB the same.
            if column.nullable {
                w.push("CASE WHEN ");
                w.column(Some(alias), column.name);
                w.push(" IS NULL THEN NULL ELSE hex(");
                w.column(Some(alias), column.name);
                w.push(") END");
            } else {
                w.push("hex(");
                w.column(Some(alias), column.name);
                w.push(")");
            }
        } else {
            w.column(Some(alias), column.name);
        }
    }
    for nested in (0..include.nested_len()).filter_map(|i| include.nested(i)) {
        w.push(", ");
        write_json(w, nested, alias, aliases)?;
    }
    w.push(")");
    Ok(())
}

/// What a relation of a parent offers a joined select, decided once per relation.
enum JoinHead {
    /// `SELECT <parent columns>, <child columns> FROM <parent> AS "@0" LEFT JOIN <child> AS
    /// "@1" ON "@1".<remote> = "@0".<local>`.
    Head(String),
    /// The relation is not loaded with a join (see [`join_head`]).
    NotJoinable,
    /// The relation names a column its tables do not have.
    Broken,
}

/// The head of a select whose one relation is joined, or `None` when the relation cannot be
/// loaded in its parents' statement with a `LEFT JOIN`: it must be a `many` relation whose
/// children are ordered by a single-column INTEGER primary key, from parents told apart by a
/// single-column key (the joined rows are grouped by both keys). That depends on the schema
/// alone, so it is decided with the head, once per relation of the parent; whether the
/// include's own options allow a join is the caller's to check.
pub(crate) fn join_head(
    include: &dyn EagerSql,
    capabilities: &Capabilities,
) -> Result<Option<&'static str>> {
    static HEADS: [TableMemo<Vec<JoinHead>>; 2] = [TableMemo::new(), TableMemo::new()];
    let as_text = exact_integers::integers_as_text(capabilities);
    let head = |parent: &'static TableDef, relation: &RelationDef| -> JoinHead {
        let child = (relation.target)();
        let joinable = relation.kind == RelationKind::Many
            && relation.through.is_none()
            && parent.primary_key.len() == 1
            && matches!(child.primary_key, [pk] if child
                .columns
                .get(*pk)
                .is_some_and(|pk| pk.sql_type == SqlType::Integer));
        if !joinable {
            return JoinHead::NotJoinable;
        }
        let (Some(local), Some(remote)) = (
            parent.columns.get(relation.local),
            child.columns.get((relation.remote)()),
        ) else {
            return JoinHead::Broken;
        };
        let mut w = SqlWriter::new();
        w.push("SELECT ");
        exact_integers::select_list(&mut w, parent, Some(ROOT_ALIAS), as_text);
        w.push(", ");
        exact_integers::select_list(&mut w, child, Some(JOIN_ALIAS), as_text);
        w.push(" FROM ");
        w.ident(parent.name);
        w.push(" AS ");
        w.ident(ROOT_ALIAS);
        w.push(" LEFT JOIN ");
        w.ident(child.name);
        w.push(" AS ");
        w.ident(JOIN_ALIAS);
        w.push(" ON ");
        w.column(Some(JOIN_ALIAS), remote.name);
        w.push(" = ");
        w.column(Some(ROOT_ALIAS), local.name);
        JoinHead::Head(w.finish().sql.into_owned())
    };
    let heads = exact_integers::memo(&HEADS, capabilities).get(include.parent(), |parent| {
        parent
            .relations
            .iter()
            .map(|relation| head(parent, relation))
            .collect()
    });
    match heads.get(include.relation_index()) {
        Some(JoinHead::Head(head)) => Ok(Some(head)),
        // A relation index beyond the parent's (a hand-built definition) loads per level,
        // which reports it.
        Some(JoinHead::NotJoinable) | None => Ok(None),
        Some(JoinHead::Broken) => Err(Error::InvalidQuery(format!(
            "relation `{}` of `{}` names a column its tables do not have",
            include.relation().name,
            include.parent().name
        ))),
    }
}

/// `SELECT <columns> FROM <child> WHERE <fk> IN (…keys…) [AND (<filter>)] ORDER BY <fk>, …`:
/// the children of a level, each parent's in the level's order. With a limit or offset,
/// each child's rank among its parent's children (`ROW_NUMBER() OVER (PARTITION BY <fk>)`)
/// picks them per parent.
fn statement_for_keys(
    relation: &RelationDef,
    level: &LevelSql,
    selected: Option<&[bool]>,
    keys: Vec<Value>,
    as_text: bool,
) -> Result<Statement> {
    if let Some(through) = &relation.through {
        return statement_through(relation, through, level, selected, keys, as_text);
    }
    let child = (relation.target)();
    let remote = column_def(child, (relation.remote)())?.name;
    let mut w = SqlWriter::new();
    w.push("SELECT ");
    write_selected_columns(&mut w, child, selected, None, as_text);
    w.push(" FROM ");
    let rank = rank_alias(child);
    if level.pages() {
        w.push("(SELECT *, ROW_NUMBER() OVER (PARTITION BY ");
        w.ident(remote);
        w.push(" ORDER BY ");
        level.write_order(&mut w, child, None)?;
        w.push(") AS ");
        w.ident(&rank);
        w.push(" FROM ");
    }
    w.ident(child.name);
    w.push(" WHERE ");
    w.ident(remote);
    w.push(" IN (");
    w.params(keys);
    w.push(")");
    level.write_filter(&mut w, child, None)?;
    if level.pages() {
        write_rank_window(&mut w, level, &rank);
        w.push(" ORDER BY ");
        w.ident(remote);
        w.push(", ");
        w.ident(&rank);
        return Ok(w.finish());
    }
    // By the foreign key first: the rows then come off its index in order (an index on
    // `fk` of a rowid table is ordered by `(fk, rowid)`), where `ORDER BY pk` alone made
    // SQLite sort every level in a temporary B-tree. Within a parent, children are still
    // in the level's order (primary-key order by default), which is all the grouping keeps.
    w.push(" ORDER BY ");
    w.ident(remote);
    w.push(", ");
    level.write_order(&mut w, child, None)?;
    Ok(w.finish())
}

/// The alias of the join table in a many-to-many level's statement.
const THROUGH_ALIAS: &str = "@j";
/// The alias of the related table in a many-to-many level's statement.
const TARGET_ALIAS: &str = "@c";

/// A many-to-many level: `SELECT j.<from>, <child columns> FROM (SELECT DISTINCT <from>, <to>
/// FROM <join table> WHERE <from> IN (…keys…)) AS j JOIN <child> AS c ON c.<pk> = j.<to>
/// [AND (<filter>)] ORDER BY j.<from>, …`.
/// Each row carries the parent's key first (the child does not hold it), then the child's
/// columns; a limit or offset ranks children per parent as for other relations.
fn statement_through(
    relation: &RelationDef,
    through: &ThroughDef,
    level: &LevelSql,
    selected: Option<&[bool]>,
    keys: Vec<Value>,
    as_text: bool,
) -> Result<Statement> {
    let child = (relation.target)();
    let table = (through.table)();
    let from_column = column_def(table, (through.from)())?;
    let from = from_column.name;
    let to = column_def(table, (through.to)())?.name;
    let pk = column_def(child, (relation.remote)())?.name;
    let rank = rank_alias(child);
    let key = free_alias(child, "@from");
    let mut w = SqlWriter::new();
    w.push("SELECT ");
    if level.pages() {
        // The parent's key, read exactly where INTEGER columns are (see `exact_integers`).
        if as_text && from_column.sql_type == SqlType::Integer {
            exact_integers::write_exact(&mut w, |w| w.ident(&key));
        } else {
            w.ident(&key);
        }
        w.push(", ");
        write_selected_columns(&mut w, child, selected, None, as_text);
        w.push(" FROM (SELECT ");
        w.column(Some(THROUGH_ALIAS), from);
        w.push(" AS ");
        w.ident(&key);
        w.push(", ");
        w.ident(TARGET_ALIAS);
        w.push(".*, ROW_NUMBER() OVER (PARTITION BY ");
        w.column(Some(THROUGH_ALIAS), from);
        w.push(" ORDER BY ");
        level.write_order(&mut w, child, Some(TARGET_ALIAS))?;
        w.push(") AS ");
        w.ident(&rank);
    } else {
        exact_integers::select_column(&mut w, Some(THROUGH_ALIAS), from_column, as_text);
        w.push(", ");
        write_selected_columns(&mut w, child, selected, Some(TARGET_ALIAS), as_text);
    }
    // The distinct pairs: a pair linked twice (by hand) still yields the record once, as the
    // single statement's `IN` does.
    w.push(" FROM (SELECT DISTINCT ");
    w.ident(from);
    w.push(", ");
    w.ident(to);
    w.push(" FROM ");
    w.ident(table.name);
    w.push(" WHERE ");
    w.ident(from);
    w.push(" IN (");
    w.params(keys);
    w.push(")) AS ");
    w.ident(THROUGH_ALIAS);
    w.push(" JOIN ");
    w.ident(child.name);
    w.push(" AS ");
    w.ident(TARGET_ALIAS);
    w.push(" ON ");
    w.column(Some(TARGET_ALIAS), pk);
    w.push(" = ");
    w.column(Some(THROUGH_ALIAS), to);
    level.write_filter(&mut w, child, Some(TARGET_ALIAS))?;
    if level.pages() {
        write_rank_window(&mut w, level, &rank);
        w.push(" ORDER BY ");
        w.ident(&key);
        w.push(", ");
        w.ident(&rank);
    } else {
        w.push(" ORDER BY ");
        w.column(Some(THROUGH_ALIAS), from);
        w.push(", ");
        level.write_order(&mut w, child, Some(TARGET_ALIAS))?;
    }
    Ok(w.finish())
}

/// `) WHERE rank > offset [AND rank <= offset + limit]`: a paged level's window per parent.
fn write_rank_window(w: &mut SqlWriter, level: &LevelSql, rank: &str) {
    let offset = level.offset.unwrap_or(0);
    w.push(") WHERE ");
    w.ident(rank);
    w.push(" > ");
    w.count(offset);
    if let Some(limit) = level.limit {
        w.push(" AND ");
        w.ident(rank);
        w.push(" <= ");
        w.count(offset.saturating_add(limit));
    }
}

/// The name of the rank column of a paged level: `@rank`, with more `@` while the table has
/// a column of that name.
fn rank_alias(child: &TableDef) -> String {
    free_alias(child, "@rank")
}

/// `base`, with more `@` in front while the table has a column of that name.
fn free_alias(child: &TableDef, base: &str) -> String {
    let mut alias = String::from(base);
    while child.column(&alias).is_some() {
        alias.insert(0, '@');
    }
    alias
}

/// The statements of one level for `keys`, each within the backend's limits (the keys are
/// chunked; the level's filter values count against each chunk's parameters).
pub(crate) fn statements_for_keys(
    include: &dyn EagerSql,
    keys: Vec<Value>,
    capabilities: &Capabilities,
) -> Result<Vec<Statement>> {
    let relation = include.relation();
    let level = include.level();
    if let Some(expr) = &level.filter {
        expr.check_operands((relation.target)(), capabilities)?;
    }
    let selected = selected_columns(include)?;
    let selected = selected.as_deref();
    let as_text = exact_integers::integers_as_text(capabilities);
    // Everything but the placeholders, to budget the SQL length: each key adds "?, ".
    let empty = statement_for_keys(relation, level, selected, Vec::new(), as_text)?;
    let by_length = capabilities.max_sql_len.saturating_sub(empty.sql.len()) / 3;
    let by_params = capabilities.max_params.saturating_sub(empty.params.len());
    let per_statement = by_params.min(by_length).max(1);
    let mut statements = Vec::with_capacity(keys.len().div_ceil(per_statement));
    let mut keys = keys.into_iter().peekable();
    while keys.peek().is_some() {
        let chunk: Vec<Value> = keys.by_ref().take(per_statement).collect();
        statements.push(statement_for_keys(
            relation, level, selected, chunk, as_text,
        )?);
    }
    Ok(statements)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ColumnDef;

    #[test]
    fn relation_aliases_never_name_a_column_or_each_other() {
        const TABLE: TableDef = TableDef {
            name: "users",
            rust_name: "User",
            columns: &[
                ColumnDef::new("id", "id", SqlType::Text),
                ColumnDef::new("posts", "posts", SqlType::Text),
                ColumnDef::new("@author", "author_", SqlType::Text),
            ],
            primary_key: &[0],
            relations: &[],
            constraints: crate::schema::Constraints::NONE,
        };
        assert_eq!(
            relation_aliases(&TABLE, ["posts", "author", "posts"]),
            ["@posts", "@@author", "@@posts"]
        );
    }
}
