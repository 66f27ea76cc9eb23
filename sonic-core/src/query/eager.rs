//! Eager relations: `.with(User::POSTS.with(Post::COMMENTS))`.
//!
//! Two strategies, chosen by the backend's [`EagerStrategy`](crate::EagerStrategy):
//!
//! - **Single statement** (D1, where a round trip costs milliseconds): every relation is a
//!   correlated subquery in the parent's select list, aggregated with
//!   `json_group_array(json_array(col, …))`, nested relations being nested subqueries inside
//!   the `json_array`, as Drizzle does. Positional arrays rather than `json_object`: cheaper to
//!   build and to read. BLOBs have no JSON form and travel as `hex()`.
//! - **Per level** (in-process SQLite, where JSON costs CPU and round trips are free): the
//!   parents, then one `WHERE fk IN (…keys…) ORDER BY fk, pk` statement per relation and level
//!   (chunked under the parameter limit, chunks batched into one round trip), grouped and
//!   attached in Rust. When a select without order, limit or offset loads a single `many`
//!   relation to a table with an INTEGER primary key, that first level rides in the parents'
//!   statement instead, as a `LEFT JOIN` (one statement and one index probe per parent, where
//!   the `IN` list costs a second statement and a temporary B-tree of the keys); the rows are
//!   grouped back by the parent's key, and deeper levels load per level as above.
//!
//! Either way, children are ordered by their primary key and every value is decoded by the
//! same [`FromValue`](crate::FromValue) conversions as a top-level column: JSON only carries
//! the storage class, the column's declared type says how to read it back, so a bool, a
//! `Json<T>`, a BLOB or an `i64::MIN` come out of a nested relation exactly as they went in.

use std::any::Any;
use std::fmt;

// foldhash instead of std's SipHash: the keys are the application's own primary keys, and
// SipHash was 7 % of a per-level load. foldhash's `RandomState` still seeds per map.
use foldhash::HashMap;

use crate::backend::Statement;
use crate::value::ConvertError;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::sql::writer::{column_def, SqlWriter};
use crate::query::json::{self, Json};
use crate::query::rows::{check_shape, decode_rows};
use crate::schema::{ColumnDef, Relation, RelationDef, RelationKind, Table, TableDef, TableMemo};
use crate::value::{SqlType, Value};

/// A relation of `P` to load along with it, with whatever is nested below it.
///
/// Built from a relation handle (`User::POSTS`) or an [`Eager`]
/// (`User::POSTS.with(Post::COMMENTS)`); [`Select::with`](crate::query::Select::with) takes
/// either.
pub struct Include<P> {
    pub(crate) loader: Box<dyn Loader<P>>,
}

impl<P> fmt::Debug for Include<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Include").field(&self.loader.name()).finish()
    }
}

/// A relation of `P` to `C` with relations of `C` nested below it.
///
/// Related records are cloned when several parents share them (a `one` relation such as a
/// post's author), hence `C: Clone`.
pub struct Eager<P, C> {
    relation: Relation<P, C>,
    nested: Vec<Include<C>>,
}

impl<P, C> fmt::Debug for Eager<P, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Eager")
            .field("relation", &self.relation)
            .field("nested", &self.nested)
            .finish()
    }
}

impl<P: Table, C: Table + Clone> Relation<P, C> {
    /// Loads this relation and, below it, `nested` (a relation of the related table).
    pub fn with(self, nested: impl Into<Include<C>>) -> Eager<P, C> {
        Eager {
            relation: self,
            nested: vec![nested.into()],
        }
    }
}

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// Also loads `nested` below this relation. As in
    /// [`Select::with`](crate::query::Select::with), includes of the same relation merge.
    pub fn with(mut self, nested: impl Into<Include<C>>) -> Eager<P, C> {
        merge_include(&mut self.nested, nested.into());
        self
    }
}

/// Adds `include` to `includes`, merging it into an include of the same relation (the same
/// field of `P`) if there is one: a relation field is filled once, with everything asked for
/// below it.
pub(crate) fn merge_include<P>(includes: &mut Vec<Include<P>>, include: Include<P>) {
    let name = include.loader.name();
    match includes.iter_mut().find(|i| i.loader.name() == name) {
        None => includes.push(include),
        Some(existing) => {
            if let Err(other) = existing.loader.merge(include.loader) {
                // Not the same relation type (only possible with hand-built definitions that
                // give two relations one name): the later one replaces the earlier.
                existing.loader = other;
            }
        }
    }
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

impl<P: Table, C: Table + Clone> From<Relation<P, C>> for Include<P> {
    fn from(relation: Relation<P, C>) -> Include<P> {
        Include {
            loader: Box::new(Eager {
                relation,
                nested: Vec::new(),
            }),
        }
    }
}

impl<P: Table, C: Table + Clone> From<Eager<P, C>> for Include<P> {
    fn from(eager: Eager<P, C>) -> Include<P> {
        Include {
            loader: Box::new(eager),
        }
    }
}

/// What the select compiler needs from one relation, with the child type erased.
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
pub(crate) trait Loader<P>: Send + Sync {
    /// The relation's field name.
    fn name(&self) -> &'static str;

    /// Merges `other`, an include of the same relation, into this one (the union of their
    /// nested includes); gives it back if it is not of this relation's type.
    fn merge(&mut self, other: Box<dyn Loader<P>>) -> Result<(), Box<dyn Loader<P>>>;

    /// Whether this relation's table, or one nested below it, has a REAL column (which
    /// cannot travel through JSON exactly on every backend:
    /// [`Capabilities::json_exact_reals`](crate::Capabilities::json_exact_reals)).
    fn has_reals(&self) -> bool;

    /// For [`Loader::merge`]: the loader as `Any`, to find its concrete type.
    fn as_any(&self) -> &dyn Any;

    /// For [`Loader::merge`]: the loader as `Any`, to take its concrete type.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;

    /// Writes the correlated subquery that yields this relation of the row aliased `parent`
    /// as JSON. `aliases` numbers the scopes so that nested subqueries never shadow each
    /// other.
    fn write_json(&self, w: &mut SqlWriter, parent: &str, aliases: &mut usize) -> Result<()>;

    /// Decodes this relation's JSON and stores the records into `parent`.
    fn attach_json(&self, parent: &mut P, payload: Json) -> Result<()>;

    /// Loads this relation (and what is nested below) for all `parents` with one statement
    /// per level.
    async fn load_level(&self, db: &Db, parents: &mut [P]) -> Result<()>;

    /// Whether this relation can be loaded in its parents' statement with a `LEFT JOIN`
    /// ([`Select`](crate::query::Select)'s joined form): a `many` relation whose children
    /// are ordered by an INTEGER primary key.
    fn joinable(&self) -> bool;

    /// `SELECT <parent columns>, <child columns> FROM <parent> AS "@0" LEFT JOIN <child> AS
    /// "@1" ON "@1".<remote> = "@0".<local>`, built once per relation.
    fn join_head(&self) -> Result<&'static str>;

    /// The number of the child's columns in a joined row (after the parent's).
    fn join_width(&self) -> usize;

    /// The position of the child's primary key among its columns: `NULL` there is a parent's
    /// row without a child (the LEFT JOIN's miss).
    fn join_key(&self) -> usize;

    /// Decodes the children in the rows of a joined select (`values`: rows of `width` values,
    /// the child's columns from `offset`; `rows` lists the rows that have a child, each with
    /// the index of its parent in `parents`), loads what is nested below them level by level,
    /// and attaches them (an empty list to parents without any).
    async fn attach_joined(
        &self,
        db: &Db,
        parents: &mut [P],
        values: &mut [Value],
        width: usize,
        offset: usize,
        rows: &[(usize, usize)],
    ) -> Result<()>;
}

/// The alias of the related table in a joined select.
const JOIN_ALIAS: &str = "@1";

/// Loads records of `P` with one relation in the same statement: the rows of `result` (of a
/// [`Loader::join_head`] select) are grouped by the parent's primary key (each parent decoded
/// once, in the order it first appears), then the relation attaches the children.
pub(crate) async fn load_joined<P: Table>(
    include: &Include<P>,
    db: &Db,
    result: crate::backend::QueryResult,
) -> Result<Vec<P>> {
    let own = P::DEF.columns.len();
    let width = own + include.loader.join_width();
    check_shape(&result, width, P::DEF)?;
    let mut values = result.values;
    let rows = values.len() / width;
    let pk = P::DEF.primary_key;
    // At most one parent per row (exactly that when no parent has more than one child).
    let mut parents: Vec<P> = Vec::with_capacity(rows);
    // The rows with a child, and their parent.
    let child_key = own + include.loader.join_key();
    let mut matched: Vec<(usize, usize)> = Vec::new();
    // A parent's rows come one after the other (SQLite joins by nested loops, the LEFT JOIN's
    // left table outside), so each row's key is compared with the previous row's first. A
    // parent that came back later would be a new key equal to an earlier one: while the keys
    // of new parents keep increasing (a scan in rowid order) none can be, and from the first
    // that does not (or a parent without a key), a map of every parent's key finds them.
    let mut last: Option<(Key, usize)> = None;
    let mut seen: Option<HashMap<Key, usize>> = None;
    let mut keyless = false;
    for (index, row) in values.chunks_exact_mut(width).enumerate() {
        let has_child = row.get(child_key).is_some_and(|value| !value.is_null());
        let (own_values, _) = row.split_at_mut(own);
        let value = own_values.get(pk);
        if let (Some((key, owner)), Some(value)) = (&last, value) {
            if key.is(value) {
                if has_child {
                    matched.push((index, *owner));
                }
                continue;
            }
        }
        let key = value.and_then(Key::of);
        let earlier = match &key {
            None => None,
            Some(key) => {
                let increasing =
                    !keyless && last.as_ref().is_none_or(|(previous, _)| previous < key);
                if seen.is_none() && !increasing {
                    let mut map: HashMap<Key, usize> = HashMap::default();
                    map.reserve(rows);
                    for (owner, parent) in parents.iter().enumerate() {
                        if let Some(key) = Key::from_value(parent.column_value(pk)?) {
                            map.insert(key, owner);
                        }
                    }
                    seen = Some(map);
                }
                seen.as_ref().and_then(|map| map.get(key)).copied()
            }
        };
        let owner = match earlier {
            Some(owner) => owner,
            None => {
                parents.push(P::decode(own_values)?);
                let owner = parents.len() - 1;
                match (&key, seen.as_mut()) {
                    (Some(key), Some(map)) => {
                        map.insert(key.clone(), owner);
                    }
                    (None, _) => keyless = true,
                    (Some(_), None) => {}
                }
                owner
            }
        };
        last = key.map(|key| (key, owner));
        if has_child {
            matched.push((index, owner));
        }
    }
    include
        .loader
        .attach_joined(db, &mut parents, &mut values, width, own, &matched)
        .await?;
    Ok(parents)
}

/// The alias of the top-level table in a single-statement select. `@` keeps it apart from
/// any table name a schema is likely to use.
pub(crate) const ROOT_ALIAS: &str = "@0";

/// Decodes a relation column of a single-statement select (JSON text, or `NULL` for a `one`
/// relation without a match).
pub(crate) fn attach_column<P>(include: &Include<P>, parent: &mut P, value: Value) -> Result<()> {
    let payload = match value {
        Value::Null => Json::Null,
        Value::Text(text) => Json::Text(text),
        other => {
            return Err(Error::Database {
                message: format!(
                    "relation `{}` came back as {}, expected JSON text",
                    include.loader.name(),
                    other.describe()
                ),
            })
        }
    };
    include.loader.attach_json(parent, payload)
}

impl<P: Table, C: Table + Clone> Eager<P, C> {
    fn shape_error(&self, expected: &'static str, found: impl Into<String>) -> Error {
        Error::decode(
            P::DEF.name,
            self.relation.def().name,
            ConvertError::new(expected, found),
        )
    }

    /// `json_array(col, …, nested…)` for one row of `C` aliased `alias`.
    fn write_json_row(&self, w: &mut SqlWriter, alias: &str, aliases: &mut usize) -> Result<()> {
        w.push("json_array(");
        for (i, column) in C::DEF.columns.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            if column.sql_type == SqlType::Blob {
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
        for nested in &self.nested {
            w.push(", ");
            nested.loader.write_json(w, alias, aliases)?;
        }
        w.push(")");
        Ok(())
    }

    /// One child from its JSON array: the columns, then one payload per nested relation.
    fn decode_child(&self, row: Json) -> Result<C> {
        let Json::Array(items) = row else {
            return Err(self.shape_error("a JSON array per related row", describe(&row)));
        };
        let width = C::DEF.columns.len();
        if items.len() != width + self.nested.len() {
            return Err(self.shape_error(
                "one JSON value per column and nested relation",
                format!("an array of {} values", items.len()),
            ));
        }
        let mut items = items.into_iter();
        let mut values = Vec::with_capacity(width);
        for (column, item) in C::DEF.columns.iter().zip(items.by_ref()) {
            values.push(json_value(C::DEF, column, item)?);
        }
        let mut child = C::decode(&mut values)?;
        for (nested, payload) in self.nested.iter().zip(items) {
            nested.loader.attach_json(&mut child, payload)?;
        }
        Ok(child)
    }

    fn statement_for_keys(&self, keys: Vec<Value>) -> Result<Statement> {
        let child = C::DEF;
        let remote = column_def(child, (self.relation.def().remote)())?.name;
        let pk = column_def(child, child.primary_key)?.name;
        let mut w = SqlWriter::new();
        w.push("SELECT ");
        w.column_list(child, None);
        w.push(" FROM ");
        w.ident(child.name);
        w.push(" WHERE ");
        w.ident(remote);
        w.push(" IN (");
        w.params(keys);
        // By the foreign key first: the rows then come off its index in order (an index on
        // `fk` of a rowid table is ordered by `(fk, rowid)`), where `ORDER BY pk` alone made
        // SQLite sort every level in a temporary B-tree. Within a parent, children are still
        // in primary-key order, which is all the grouping below keeps.
        w.push(") ORDER BY ");
        w.ident(remote);
        w.push(", ");
        w.ident(pk);
        Ok(w.finish())
    }
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl<P: Table, C: Table + Clone> Loader<P> for Eager<P, C> {
    fn name(&self) -> &'static str {
        self.relation.def().name
    }

    fn merge(&mut self, other: Box<dyn Loader<P>>) -> Result<(), Box<dyn Loader<P>>> {
        if !other.as_any().is::<Self>() {
            return Err(other);
        }
        if let Ok(other) = other.into_any().downcast::<Self>() {
            for nested in other.nested {
                merge_include(&mut self.nested, nested);
            }
        }
        Ok(())
    }

    fn has_reals(&self) -> bool {
        C::DEF.columns.iter().any(|c| c.sql_type == SqlType::Real)
            || self.nested.iter().any(|n| n.loader.has_reals())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }

    fn write_json(&self, w: &mut SqlWriter, parent: &str, aliases: &mut usize) -> Result<()> {
        let relation = self.relation.def();
        let child = C::DEF;
        let local = column_def(P::DEF, relation.local)?.name;
        let remote = column_def(child, (relation.remote)())?.name;
        let pk = column_def(child, child.primary_key)?.name;
        let alias = format!("@{aliases}");
        *aliases += 1;
        match relation.kind {
            RelationKind::Many => {
                // The ordered derived table fixes the order of the aggregate: SQLite does not
                // flatten an ORDER BY subquery into an aggregate query.
                w.push("(SELECT json_group_array(");
                self.write_json_row(w, &alias, aliases)?;
                w.push(") FROM (SELECT * FROM ");
                w.ident(child.name);
                w.push(" WHERE ");
                w.ident(remote);
                w.push(" = ");
                w.column(Some(parent), local);
                w.push(" ORDER BY ");
                w.ident(pk);
                w.push(") AS ");
                w.ident(&alias);
                w.push(")");
            }
            RelationKind::One => {
                w.push("(SELECT ");
                self.write_json_row(w, &alias, aliases)?;
                w.push(" FROM ");
                w.ident(child.name);
                w.push(" AS ");
                w.ident(&alias);
                w.push(" WHERE ");
                w.column(Some(&alias), remote);
                w.push(" = ");
                w.column(Some(parent), local);
                w.push(" ORDER BY ");
                w.column(Some(&alias), pk);
                w.push(" LIMIT 1)");
            }
        }
        Ok(())
    }

    fn attach_json(&self, parent: &mut P, payload: Json) -> Result<()> {
        let records = match payload {
            Json::Null => Vec::new(),
            // SQLite before 3.45 loses the JSON subtype of a subquery's result, so a nested
            // payload may arrive as a string holding the JSON.
            Json::Text(text) => {
                let inner = json::parse(&text).map_err(|e| self.shape_error("JSON", e))?;
                if matches!(inner, Json::Text(_)) {
                    return Err(self.shape_error("a JSON array", "a JSON string"));
                }
                return self.attach_json(parent, inner);
            }
            Json::Array(items) => match self.relation.def().kind {
                RelationKind::Many => items
                    .into_iter()
                    .map(|row| self.decode_child(row))
                    .collect::<Result<_>>()?,
                RelationKind::One => vec![self.decode_child(Json::Array(items))?],
            },
            other => return Err(self.shape_error("a JSON array", describe(&other))),
        };
        self.relation.attach(parent, records);
        Ok(())
    }

    fn joinable(&self) -> bool {
        self.can_join()
    }

    fn join_head(&self) -> Result<&'static str> {
        self.joined_head()
    }

    fn join_width(&self) -> usize {
        C::DEF.columns.len()
    }

    fn join_key(&self) -> usize {
        C::DEF.primary_key
    }

    async fn attach_joined(
        &self,
        db: &Db,
        parents: &mut [P],
        values: &mut [Value],
        width: usize,
        offset: usize,
        rows: &[(usize, usize)],
    ) -> Result<()> {
        self.attach_joined_rows(db, parents, values, width, offset, rows)
            .await
    }

    async fn load_level(&self, db: &Db, parents: &mut [P]) -> Result<()> {
        let relation = self.relation.def();
        let remote = (relation.remote)();

        // Distinct parent keys, each parent's slot, and how many parents share a slot (the
        // last one takes the children, the others get clones).
        let mut slots: HashMap<Key, usize> = HashMap::default();
        let mut keys: Vec<Value> = Vec::new();
        let mut sharers: Vec<usize> = Vec::new();
        let mut parent_slots: Vec<Option<usize>> = Vec::with_capacity(parents.len());
        for parent in parents.iter() {
            let value = parent.column_value(relation.local)?;
            let slot = match Key::of(&value) {
                None => None,
                Some(key) => {
                    let next = keys.len();
                    let slot = *slots.entry(key).or_insert(next);
                    if slot == next {
                        keys.push(value);
                        sharers.push(0);
                    }
                    if let Some(n) = sharers.get_mut(slot) {
                        *n += 1;
                    }
                    Some(slot)
                }
            };
            parent_slots.push(slot);
        }

        let mut children: Vec<C> = Vec::new();
        if !keys.is_empty() {
            let statements = self.chunked_statements(db, keys)?;
            for result in db.run_all(&statements).await? {
                children.extend(decode_rows::<C>(result)?);
            }
            for nested in &self.nested {
                nested.loader.load_level(db, &mut children).await?;
            }
        }

        // Each child's slot, and how many children each slot gets (so that every group is
        // allocated once, at its size). Children come ordered by their foreign key, so runs
        // of them share a parent: the key is looked up only when it changes.
        let mut child_slots: Vec<Option<usize>> = Vec::with_capacity(children.len());
        let mut counts: Vec<usize> = vec![0; sharers.len()];
        let mut last: Option<(Key, Option<usize>)> = None;
        for child in &children {
            let slot = match Key::from_value(child.column_value(remote)?) {
                None => None,
                Some(key) => match &last {
                    Some((previous, slot)) if *previous == key => *slot,
                    _ => {
                        let slot = slots.get(&key).copied();
                        last = Some((key, slot));
                        slot
                    }
                },
            };
            if let Some(n) = slot.and_then(|slot| counts.get_mut(slot)) {
                *n += 1;
            }
            child_slots.push(slot);
        }
        let mut groups: Vec<Vec<C>> = counts.into_iter().map(Vec::with_capacity).collect();
        for (child, slot) in children.into_iter().zip(child_slots) {
            if let Some(group) = slot.and_then(|slot| groups.get_mut(slot)) {
                group.push(child);
            }
        }
        for (parent, slot) in parents.iter_mut().zip(parent_slots) {
            let records = match slot {
                None => Vec::new(),
                Some(slot) => match (sharers.get_mut(slot), groups.get_mut(slot)) {
                    (Some(n), Some(group)) => {
                        *n -= 1;
                        if *n == 0 {
                            std::mem::take(group)
                        } else {
                            group.clone()
                        }
                    }
                    _ => Vec::new(),
                },
            };
            self.relation.attach(parent, records);
        }
        Ok(())
    }
}

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// See [`Loader::joinable`].
    fn can_join(&self) -> bool {
        self.relation.def().kind == RelationKind::Many
            && C::DEF
                .columns
                .get(C::DEF.primary_key)
                .is_some_and(|pk| pk.sql_type == SqlType::Integer)
    }

    /// See [`Loader::join_head`]: the heads of every relation of `P`, built at once.
    fn joined_head(&self) -> Result<&'static str> {
        static HEADS: TableMemo<Vec<Option<String>>> = TableMemo::new();
        fn head(parent: &'static TableDef, relation: &RelationDef) -> Option<String> {
            let child = (relation.target)();
            let local = parent.columns.get(relation.local)?.name;
            let remote = child.columns.get((relation.remote)())?.name;
            let mut w = SqlWriter::new();
            w.push("SELECT ");
            w.column_list(parent, Some(ROOT_ALIAS));
            w.push(", ");
            w.column_list(child, Some(JOIN_ALIAS));
            w.push(" FROM ");
            w.ident(parent.name);
            w.push(" AS ");
            w.ident(ROOT_ALIAS);
            w.push(" LEFT JOIN ");
            w.ident(child.name);
            w.push(" AS ");
            w.ident(JOIN_ALIAS);
            w.push(" ON ");
            w.column(Some(JOIN_ALIAS), remote);
            w.push(" = ");
            w.column(Some(ROOT_ALIAS), local);
            Some(w.finish().sql)
        }
        let heads = HEADS.get(P::DEF, |parent| {
            parent
                .relations
                .iter()
                .map(|relation| head(parent, relation))
                .collect()
        });
        let relation = self.relation.def();
        match heads.get(self.relation.index()) {
            Some(Some(head)) => Ok(head),
            _ => Err(Error::InvalidQuery(format!(
                "relation `{}` of `{}` names a column its tables do not have",
                relation.name,
                P::DEF.name
            ))),
        }
    }

    /// See [`Loader::attach_joined`].
    async fn attach_joined_rows(
        &self,
        db: &Db,
        parents: &mut [P],
        values: &mut [Value],
        width: usize,
        offset: usize,
        rows: &[(usize, usize)],
    ) -> Result<()> {
        if rows.is_empty() {
            for parent in parents.iter_mut() {
                self.relation.attach(parent, Vec::new());
            }
            return Ok(());
        }
        let columns = C::DEF.columns.len();
        let pk = C::DEF.primary_key;
        let mut children: Vec<C> = Vec::with_capacity(rows.len());
        let mut child_owners: Vec<usize> = Vec::with_capacity(rows.len());
        // Whether the children came in (parent, primary key) order, as an index on the foreign
        // key of a rowid table gives them.
        let mut ordered = true;
        let mut previous: Option<(usize, i64)> = None;
        for &(row, owner) in rows {
            let start = row * width + offset;
            let Some(own) = values.get_mut(start..start + columns) else {
                return Err(self.shape_error("the related table's columns", "a short row"));
            };
            let key = match own.get(pk) {
                Some(Value::Integer(i)) => Some(*i),
                _ => None,
            };
            match (previous, key) {
                (Some((o, k)), Some(key)) if o == owner && k >= key => ordered = false,
                (Some((o, _)), _) if o > owner => ordered = false,
                (_, None) => ordered = false,
                _ => {}
            }
            previous = key.map(|key| (owner, key));
            children.push(C::decode(own)?);
            child_owners.push(owner);
        }
        if !ordered {
            sort_children(&mut children, &mut child_owners, pk)?;
        }
        for nested in &self.nested {
            nested.loader.load_level(db, &mut children).await?;
        }
        let mut counts: Vec<usize> = vec![0; parents.len()];
        for &owner in &child_owners {
            if let Some(n) = counts.get_mut(owner) {
                *n += 1;
            }
        }
        let mut groups: Vec<Vec<C>> = counts.into_iter().map(Vec::with_capacity).collect();
        for (child, owner) in children.into_iter().zip(child_owners) {
            if let Some(group) = groups.get_mut(owner) {
                group.push(child);
            }
        }
        for (parent, group) in parents.iter_mut().zip(groups) {
            self.relation.attach(parent, group);
        }
        Ok(())
    }

    /// `SELECT … WHERE fk IN (…)` statements covering `keys`, each within the parameter and
    /// SQL length limits.
    fn chunked_statements(&self, db: &Db, keys: Vec<Value>) -> Result<Vec<Statement>> {
        let capabilities = db.capabilities();
        // Everything but the placeholders, to budget the SQL length: each key adds "?, ".
        let fixed = self.statement_for_keys(Vec::new())?.sql.len();
        let by_length = capabilities.max_sql_len.saturating_sub(fixed) / 3;
        let per_statement = capabilities.max_params.min(by_length).max(1);
        let mut statements = Vec::with_capacity(keys.len().div_ceil(per_statement));
        let mut keys = keys.into_iter().peekable();
        while keys.peek().is_some() {
            let chunk: Vec<Value> = keys.by_ref().take(per_statement).collect();
            statements.push(self.statement_for_keys(chunk)?);
        }
        Ok(statements)
    }
}

/// A join key that can be hashed. Integral reals count as integers, as SQLite compares them.
/// (Ordered too, by variant then value: any total order does for telling that keys increase.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Key {
    Integer(i64),
    Real(u64),
    Text(String),
    Blob(Vec<u8>),
}

impl Key {
    fn of(value: &Value) -> Option<Key> {
        match value {
            Value::Text(s) => Some(Key::Text(s.clone())),
            Value::Blob(b) => Some(Key::Blob(b.clone())),
            Value::Null | Value::Integer(_) | Value::Real(_) => Key::from_scalar(value),
        }
    }

    /// [`Key::of`] taking the value: TEXT and BLOB keys move instead of being copied.
    fn from_value(value: Value) -> Option<Key> {
        match value {
            Value::Text(s) => Some(Key::Text(s)),
            Value::Blob(b) => Some(Key::Blob(b)),
            ref scalar => Key::from_scalar(scalar),
        }
    }

    /// Whether `value` is this key (as [`Key::of`] would make it), without copying it.
    fn is(&self, value: &Value) -> bool {
        match (self, value) {
            (Key::Integer(k), Value::Integer(v)) => k == v,
            (Key::Text(k), Value::Text(v)) => k == v,
            (Key::Blob(k), Value::Blob(v)) => k == v,
            (_, Value::Text(_) | Value::Blob(_)) => false,
            (key, scalar) => Key::from_scalar(scalar).as_ref() == Some(key),
        }
    }

    fn from_scalar(value: &Value) -> Option<Key> {
        match *value {
            Value::Integer(i) => Some(Key::Integer(i)),
            Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.2e18 => Some(Key::Integer(r as i64)),
            Value::Real(r) => Some(Key::Real(r.to_bits())),
            Value::Null | Value::Text(_) | Value::Blob(_) => None,
        }
    }
}

/// Puts children in (parent, primary key) order, the order of the per-level statement's
/// `ORDER BY fk, pk`, when a joined select did not deliver them so. Keys compare as SQLite
/// compares them (BINARY collation): numbers, then TEXT, then BLOBs.
fn sort_children<C: Table>(
    children: &mut Vec<C>,
    owners: &mut Vec<usize>,
    pk: usize,
) -> Result<()> {
    let keys = children
        .iter()
        .map(|child| child.column_value(pk))
        .collect::<Result<Vec<Value>>>()?;
    let mut order: Vec<usize> = (0..children.len()).collect();
    order.sort_by(|&a, &b| {
        owners[a]
            .cmp(&owners[b])
            .then_with(|| sqlite_order(&keys[a], &keys[b]))
    });
    let mut slots: Vec<Option<C>> = std::mem::take(children).into_iter().map(Some).collect();
    let old_owners = std::mem::take(owners);
    for i in order {
        if let Some(child) = slots.get_mut(i).and_then(Option::take) {
            children.push(child);
            owners.push(old_owners[i]);
        }
    }
    Ok(())
}

/// SQLite's order of two values under the BINARY collation.
fn sqlite_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn class(value: &Value) -> u8 {
        match value {
            Value::Null => 0,
            Value::Integer(_) | Value::Real(_) => 1,
            Value::Text(_) => 2,
            Value::Blob(_) => 3,
        }
    }
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        (Value::Integer(x), Value::Real(y)) => {
            (*x as f64).partial_cmp(y).unwrap_or(Ordering::Equal)
        }
        (Value::Real(x), Value::Integer(y)) => {
            x.partial_cmp(&(*y as f64)).unwrap_or(Ordering::Equal)
        }
        (Value::Real(x), Value::Real(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Text(x), Value::Text(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Blob(x), Value::Blob(y)) => x.cmp(y),
        _ => class(a).cmp(&class(b)),
    }
}

/// A JSON value of a column, back to the storage class SQLite had, guided by the declared
/// type: BLOB columns were sent as hex.
fn json_value(table: &TableDef, column: &ColumnDef, item: Json) -> Result<Value> {
    Ok(match item {
        Json::Null => Value::Null,
        Json::Integer(i) => Value::Integer(i),
        Json::Real(r) => Value::Real(r),
        Json::Bool(b) => Value::Integer(i64::from(b)),
        Json::Text(text) if column.sql_type == SqlType::Blob => {
            Value::Blob(hex::decode(&text).map_err(|_| {
                Error::decode(
                    table.name,
                    column.name,
                    ConvertError::new("hex digits (a BLOB in JSON)", format!("{text:?}")),
                )
            })?)
        }
        Json::Text(text) => Value::Text(text),
        Json::Array(_) => {
            return Err(Error::decode(
                table.name,
                column.name,
                ConvertError::new("a column value", "a JSON array"),
            ))
        }
    })
}

fn describe(json: &Json) -> String {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a JSON boolean",
        Json::Integer(_) | Json::Real(_) => "a JSON number",
        Json::Text(_) => "a JSON string",
        Json::Array(_) => "a JSON array",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            primary_key: 0,
            relations: &[],
        };
        assert_eq!(
            relation_aliases(&TABLE, ["posts", "author", "posts"]),
            ["@posts", "@@author", "@@posts"]
        );
    }
}
