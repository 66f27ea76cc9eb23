//! A select's only `many` relation loaded in the parents' own statement (`LEFT JOIN`), its
//! rows grouped back by the parent's key; deeper levels load per level.

use foldhash::HashMap;

use super::key::Key;
use super::{Eager, Include};
use crate::backend::QueryResult;
use crate::db::Db;
use crate::error::Result;
use crate::query::rows::check_shape;
use crate::schema::Table;
use crate::value::Value;

/// Loads records of `P` with one relation in the same statement: the rows of `result` (of a
/// `join_head` select) are grouped by the parent's primary key (each parent decoded
/// once, in the order it first appears), then the relation attaches the children. (Natively
/// the rows are read as the backend lends them: `joined_stream`.)
#[cfg(target_arch = "wasm32")]
pub(crate) async fn load_joined<P: Table>(
    include: &Include<P>,
    db: &Db,
    result: QueryResult,
) -> Result<Vec<P>> {
    group_joined(include, result)?.attach(include, db).await
}

/// Groups the rows of `result` by parent, without attaching the children.
pub(crate) fn group_joined<P: Table>(
    include: &Include<P>,
    result: QueryResult,
) -> Result<Grouped<P>> {
    let own = P::DEF.columns.len();
    let width = own + (include.sql().relation().target)().columns.len();
    check_shape(&result, width, P::DEF)?;
    let mut values = result.values;
    let rows = values.len().checked_div(width).unwrap_or(0);
    // `joinable` takes single-column keys only.
    let pk = P::DEF.single_key("loading a relation in its parents' statement")?;
    // At most one parent per row (exactly that when no parent has more than one child).
    let mut parents: Vec<P> = Vec::with_capacity(rows);
    // The rows with a child, and their parent.
    let child_key = own
        + (include.sql().relation().target)()
            .single_key("loading a relation in its parents' statement")?;
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
    Ok(Grouped {
        parents,
        values,
        width,
        offset: own,
        matched,
    })
}

/// A joined select's parents, each decoded once, and the rows that hold their children (see
/// [`JoinedRows`]), ready for the relation to attach them.
pub(crate) struct Grouped<P> {
    pub(crate) parents: Vec<P>,
    pub(crate) values: Vec<Value>,
    pub(crate) width: usize,
    pub(crate) offset: usize,
    pub(crate) matched: Vec<(usize, usize)>,
}

impl<P: Table> Grouped<P> {
    /// Attaches the children to their parents, loading what is nested below them.
    pub(crate) async fn attach(mut self, include: &Include<P>, db: &Db) -> Result<Vec<P>> {
        let (parents, joined) = self.parts();
        include.loader().attach_joined(db, parents, joined).await?;
        Ok(self.parents)
    }

    /// [`Grouped::attach`] without a future, when nothing is nested below the relation; `None`
    /// otherwise (those levels need the database).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn attach_now(mut self, include: &Include<P>) -> Option<Result<Vec<P>>> {
        let (parents, joined) = self.parts();
        match include.loader().attach_joined_now(parents, joined)? {
            Ok(()) => Some(Ok(self.parents)),
            Err(e) => Some(Err(e)),
        }
    }

    /// The parents, and the rows that hold their children.
    fn parts(&mut self) -> (&mut [P], JoinedRows<'_>) {
        let joined = JoinedRows {
            values: &mut self.values,
            width: self.width,
            offset: self.offset,
            rows: &self.matched,
        };
        (&mut self.parents, joined)
    }
}

/// The rows of a joined select that hold children: `values` are rows of `width` values, the
/// child's columns from `offset`; `rows` lists the rows that have a child, each with the index
/// of its parent.
pub(crate) struct JoinedRows<'a> {
    pub(crate) values: &'a mut [Value],
    pub(crate) width: usize,
    pub(crate) offset: usize,
    pub(crate) rows: &'a [(usize, usize)],
}

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// See [`Loader::attach_joined`](super::Loader::attach_joined).
    pub(super) async fn attach_joined_rows(
        &self,
        db: &Db,
        parents: &mut [P],
        joined: JoinedRows<'_>,
    ) -> Result<()> {
        let (mut children, owners) = self.decode_joined(joined)?;
        if !children.is_empty() {
            for nested in &self.nested {
                nested.loader().load_level(db, &mut children).await?;
            }
        }
        self.attach_children(parents, children, owners);
        Ok(())
    }

    /// See [`Loader::attach_joined_now`](super::Loader::attach_joined_now).
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn attach_joined_rows_now(
        &self,
        parents: &mut [P],
        joined: JoinedRows<'_>,
    ) -> Option<Result<()>> {
        if !self.nested.is_empty() {
            return None;
        }
        if joined.rows.is_empty() {
            self.attach_none(parents);
            return Some(Ok(()));
        }
        Some(self.decode_joined(joined).map(|(children, owners)| {
            self.attach_children(parents, children, owners);
        }))
    }

    /// The children in the rows of a joined select, in (parent, primary key) order, each with
    /// the index of its parent.
    fn decode_joined(&self, joined: JoinedRows<'_>) -> Result<(Vec<C>, Vec<usize>)> {
        let JoinedRows {
            values,
            width,
            offset,
            rows,
        } = joined;
        if rows.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let columns = C::DEF.columns.len();
        let pk = C::DEF.single_key("loading a relation in its parents' statement")?;
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
        Ok((children, child_owners))
    }

    /// Gives every parent its children (an empty list to those without any).
    fn attach_children(&self, parents: &mut [P], children: Vec<C>, owners: Vec<usize>) {
        if children.is_empty() {
            self.attach_none(parents);
            return;
        }
        let mut counts: Vec<usize> = vec![0; parents.len()];
        for &owner in &owners {
            if let Some(n) = counts.get_mut(owner) {
                *n += 1;
            }
        }
        let mut groups: Vec<Vec<C>> = counts.into_iter().map(Vec::with_capacity).collect();
        for (child, owner) in children.into_iter().zip(owners) {
            if let Some(group) = groups.get_mut(owner) {
                group.push(child);
            }
        }
        for (parent, group) in parents.iter_mut().zip(groups) {
            self.relation.attach(parent, group);
        }
    }

    /// An empty list to every parent: none has a child.
    fn attach_none(&self, parents: &mut [P]) {
        for parent in parents.iter_mut() {
            self.relation.attach(parent, Vec::new());
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
    let order = child_order(owners, &keys);
    let mut slots: Vec<Option<C>> = std::mem::take(children).into_iter().map(Some).collect();
    let old_owners = std::mem::take(owners);
    for i in order {
        if let (Some(child), Some(&owner)) =
            (slots.get_mut(i).and_then(Option::take), old_owners.get(i))
        {
            children.push(child);
            owners.push(owner);
        }
    }
    Ok(())
}

/// The positions of the children in (owner, key) order ([`sort_children`]); not generic, so
/// that the sort is compiled once rather than once per child type.
fn child_order(owners: &[usize], keys: &[Value]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| {
        owners
            .get(a)
            .cmp(&owners.get(b))
            .then_with(|| match (keys.get(a), keys.get(b)) {
                (Some(x), Some(y)) => sqlite_order(x, y),
                _ => std::cmp::Ordering::Equal,
            })
    });
    order
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
