//! The joined first level ([`group_joined`](super::group_joined)) read from the rows the backend
//! lends: each parent decoded once, by position, when its key first appears; a child's cells
//! copied out only when the row has one (its key is not NULL). The children then attach as
//! in `group_joined`. Not on wasm32, where no backend lends rows.

use foldhash::HashMap;

use super::key::Key;
use super::{group_joined, Grouped, Include};
use crate::backend::{Params, RowSink, RowsRead};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::query::rows::make_room;
use crate::row::Row;
use crate::schema::Table;
use crate::value::Cell;
use crate::value::Value;

/// Runs the joined statement of `include` (`sql` and `params`) and loads its parents with
/// their children.
pub(crate) async fn load_joined_streamed<P: Table>(
    include: &Include<P>,
    db: &Db,
    sql: &str,
    params: Params<'_>,
) -> Result<Vec<P>> {
    let mut sink = JoinedSink::new(include)?;
    let read = db.execute_into(sql, params, &mut sink).await?;
    sink.grouped(include, read)?.attach(include, db).await
}

/// [`load_joined_streamed`] without a future, when the backend runs the statement in-process
/// and nothing is nested below the relation; `None` when either must be awaited (then
/// nothing ran).
pub(crate) fn load_joined_now<P: Table>(
    include: &Include<P>,
    db: &Db,
    sql: &str,
    params: Params<'_>,
) -> Option<Result<Vec<P>>> {
    if include.sql().nested_len() != 0 {
        return None;
    }
    let mut sink = match JoinedSink::new(include) {
        Ok(sink) => sink,
        Err(e) => return Some(Err(e)),
    };
    // `joined_statement` checked it against the backend's limits.
    let grouped = db
        .execute_checked_now(sql, params, &mut sink)?
        .and_then(|read| sink.grouped(include, read));
    match grouped {
        Ok(grouped) => grouped.attach_now(include),
        Err(e) => Some(Err(e)),
    }
}

/// Groups the rows of a joined select by the parent's key, as `group_joined` does: a parent's
/// rows are adjacent in SQLite's nested-loop join, so each row's key is compared with the
/// previous row's; from the first new key that does not increase (or a parent without a
/// key), a map of every parent's key finds a parent that comes back.
struct JoinedSink<P> {
    own: usize,
    width: usize,
    child_columns: usize,
    /// The position of the parent's primary key in the row (and in its columns).
    parent_key: usize,
    /// The position of the child's primary key in the row.
    child_key: usize,
    parents: Vec<P>,
    /// The cells of the rows that have a child, `child_columns` per row.
    children: Vec<Value>,
    /// (index of the child's row in `children`, index of its parent).
    matched: Vec<(usize, usize)>,
    last: Option<(Key, usize)>,
    seen: Option<HashMap<Key, usize>>,
    keyless: bool,
    checked: bool,
}

impl<P: Table> JoinedSink<P> {
    fn new(include: &Include<P>) -> Result<Self> {
        let child = (include.sql().relation().target)();
        let own = P::DEF.columns.len();
        let operation = "loading a relation in its parents' statement";
        Ok(JoinedSink {
            own,
            width: own + child.columns.len(),
            child_columns: child.columns.len(),
            parent_key: P::DEF.single_key(operation)?,
            child_key: own + child.single_key(operation)?,
            parents: Vec::new(),
            children: Vec::new(),
            matched: Vec::new(),
            last: None,
            seen: None,
            keyless: false,
            checked: false,
        })
    }

    /// The parents and children read, or those of the whole result if the backend returned
    /// one instead of lending its rows. (By reference, taking the vectors out: moving the
    /// whole sink into the call copied its 200 bytes twice.)
    fn grouped(&mut self, include: &Include<P>, read: RowsRead) -> Result<Grouped<P>> {
        match read {
            RowsRead::Returned(result) => group_joined(include, result),
            RowsRead::Streamed { .. } => Ok(Grouped {
                parents: std::mem::take(&mut self.parents),
                values: std::mem::take(&mut self.children),
                width: self.child_columns,
                offset: 0,
                matched: std::mem::take(&mut self.matched),
            }),
        }
    }

    /// The index of the parent of this row, decoding it if it is new.
    #[inline]
    fn owner<R: Row + ?Sized>(&mut self, row: &R) -> Result<usize> {
        let value = row.cell(self.parent_key).map(Cell::to_value);
        if let (Some((key, owner)), Some(value)) = (&self.last, &value) {
            if key.is(value) {
                return Ok(*owner);
            }
        }
        let key = value.as_ref().and_then(Key::of);
        let earlier = match &key {
            None => None,
            Some(key) => {
                let increasing = !self.keyless
                    && self
                        .last
                        .as_ref()
                        .is_none_or(|(previous, _)| previous < key);
                if self.seen.is_none() && !increasing {
                    let mut map: HashMap<Key, usize> = HashMap::default();
                    for (owner, parent) in self.parents.iter().enumerate() {
                        let pk = parent.column_value(self.parent_key)?;
                        if let Some(key) = Key::from_value(pk) {
                            map.insert(key, owner);
                        }
                    }
                    self.seen = Some(map);
                }
                self.seen.as_ref().and_then(|map| map.get(key)).copied()
            }
        };
        let owner = match earlier {
            Some(owner) => owner,
            None => {
                make_room(&mut self.parents);
                self.parents.push(P::decode_row(row)?);
                let owner = self.parents.len() - 1;
                match (&key, self.seen.as_mut()) {
                    (Some(key), Some(map)) => {
                        map.insert(key.clone(), owner);
                    }
                    (None, _) => self.keyless = true,
                    (Some(_), None) => {}
                }
                owner
            }
        };
        self.last = key.map(|key| (key, owner));
        Ok(owner)
    }
}

impl<P: Table> JoinedSink<P> {
    #[inline]
    fn take<R: Row + ?Sized>(&mut self, row: &R) -> Result<()> {
        if !self.checked {
            if row.width() != self.width {
                return Err(self.width_error(row.width()));
            }
            self.checked = true;
        }
        let owner = self.owner(row)?;
        if row
            .cell(self.child_key)
            .is_some_and(|key| key != Cell::Null)
        {
            let index = self.children.len() / self.child_columns.max(1);
            for i in self.own..self.width {
                self.children
                    .push(row.cell(i).map_or(Value::Null, Cell::to_value));
            }
            self.matched.push((index, owner));
        }
        Ok(())
    }

    #[cold]
    fn width_error(&self, width: usize) -> Error {
        Error::Database {
            message: format!(
                "the backend returned a row of {width} columns for a joined query of `{}`, \
                 expected {}",
                P::DEF.name,
                self.width
            ),
        }
    }
}

impl<P: Table> RowSink for JoinedSink<P> {
    fn row(&mut self, row: &dyn Row) -> Result<()> {
        self.take(row)
    }

    #[cfg(feature = "rusqlite")]
    fn sqlite_row(&mut self, row: &rusqlite::Row<'_>) -> Result<()> {
        self.take(row)
    }
}
