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
//!   parents, then one `WHERE fk IN (…keys…)` statement per relation and level (chunked under
//!   the parameter limit, chunks batched into one round trip), grouped and attached in Rust.
//!
//! Either way, children are ordered by their primary key and every value is decoded by the
//! same [`FromValue`](crate::FromValue) conversions as a top-level column: JSON only carries
//! the storage class, the column's declared type says how to read it back, so a bool, a
//! `Json<T>`, a BLOB or an `i64::MIN` come out of a nested relation exactly as they went in.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;

use crate::backend::Statement;
use crate::convert::ConvertError;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::query::compile::{column_def, SqlWriter};
use crate::query::json::{self, Json};
use crate::query::rows::decode_rows;
use crate::schema::{ColumnDef, Relation, RelationKind, Table, TableDef};
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
        w.push(") ORDER BY ");
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

    async fn load_level(&self, db: &Db, parents: &mut [P]) -> Result<()> {
        let relation = self.relation.def();
        let remote = (relation.remote)();

        // Distinct parent keys, each parent's slot, and how many parents share a slot (the
        // last one takes the children, the others get clones).
        let mut slots: HashMap<Key, usize> = HashMap::new();
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

        let mut groups: Vec<Vec<C>> = std::iter::repeat_with(Vec::new)
            .take(sharers.len())
            .collect();
        for child in children {
            let key = Key::of(&child.column_value(remote)?);
            if let Some(group) = key
                .and_then(|k| slots.get(&k).copied())
                .and_then(|slot| groups.get_mut(slot))
            {
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
#[derive(Debug, PartialEq, Eq, Hash)]
enum Key {
    Integer(i64),
    Real(u64),
    Text(String),
    Blob(Vec<u8>),
}

impl Key {
    fn of(value: &Value) -> Option<Key> {
        match value {
            Value::Null => None,
            Value::Integer(i) => Some(Key::Integer(*i)),
            Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.2e18 => Some(Key::Integer(*r as i64)),
            Value::Real(r) => Some(Key::Real(r.to_bits())),
            Value::Text(s) => Some(Key::Text(s.clone())),
            Value::Blob(b) => Some(Key::Blob(b.clone())),
        }
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
