//! Single-statement loading: the relations came as JSON columns of the parents' rows, or
//! (`one` relations that `joins_one`) as the joined table's columns.

use std::borrow::Cow;

use super::json::{self, PayloadError};
use super::{Eager, Include};
use crate::backend::QueryResult;
use crate::error::{Error, Result};
use crate::query::rows::check_shape;
#[cfg(not(target_arch = "wasm32"))]
use crate::row::Row;
use crate::schema::{RelationKind, Table};
use crate::sql::eager::{joins_one, EagerSql};
#[cfg(not(target_arch = "wasm32"))]
use crate::value::Cell;
use crate::value::Value;

/// The records of a single-statement select's result: each row's own columns, then per
/// include one JSON value, or a joined record's columns (`joins_one`).
pub(crate) fn decode_embedded<P: Table>(
    includes: &[Include<P>],
    result: QueryResult,
) -> Result<Vec<P>> {
    let columns = P::DEF.columns.len();
    let widths: Vec<Option<usize>> = includes.iter().map(|i| joined_width(i.sql())).collect();
    let width = columns + widths.iter().map(|w| w.unwrap_or(1)).sum::<usize>();
    check_shape(&result, width, P::DEF)?;
    let mut values = result.values;
    let mut records = Vec::with_capacity(values.len() / width.max(1));
    for row in values.chunks_exact_mut(width) {
        let (own, mut relations) = row.split_at_mut(columns);
        let mut record = P::decode(own)?;
        for (include, joined) in includes.iter().zip(&widths) {
            // Within the row: its width is the sum of these.
            let Some((cells, rest)) = relations.split_at_mut_checked(joined.unwrap_or(1)) else {
                break;
            };
            relations = rest;
            match joined {
                Some(_) => include.loader().attach_columns(&mut record, cells)?,
                None => {
                    for value in cells {
                        attach_column(include, &mut record, std::mem::take(value))?;
                    }
                }
            }
        }
        records.push(record);
    }
    Ok(records)
}

/// The number of columns of a joined include's record; `None` for a JSON one.
pub(crate) fn joined_width(include: &dyn EagerSql) -> Option<usize> {
    joins_one(include).then(|| (include.relation().target)().columns.len())
}

/// Decodes a relation column of a single-statement select (JSON text, or `NULL` for a `one`
/// relation without a match).
fn attach_column<P: 'static>(include: &Include<P>, parent: &mut P, value: Value) -> Result<()> {
    let payload = match &value {
        Value::Null => "null",
        Value::Text(text) => text.as_str(),
        other => {
            return Err(Error::Database {
                message: format!(
                    "relation `{}` came back as {}, expected JSON text",
                    include.name(),
                    other.describe()
                ),
            })
        }
    };
    include.loader().attach_text(parent, payload)
}

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// Decodes this relation's JSON payload (`crate::query::eager::json`) and stores the
    /// records into `parent`; each record's nested relations are decoded from their own
    /// payloads in it.
    pub(super) fn attach_payload(&self, parent: &mut P, text: &str) -> Result<()> {
        let mut records = Vec::new();
        let mut record = |values: &mut Vec<Value>, payloads: &[Cow<'_, str>]| -> Result<()> {
            let mut child = C::decode(values)?;
            for (nested, payload) in self.nested.iter().zip(payloads) {
                nested.loader().attach_text(&mut child, payload)?;
            }
            records.push(child);
            Ok(())
        };
        let many = self.relation.def().kind == RelationKind::Many;
        json::read(text, many, C::DEF, self.nested.len(), &mut record).map_err(|e| match e {
            PayloadError::Shape(expected, found) => self.shape_error(expected, found),
            PayloadError::Decode(e) => e,
        })?;
        self.relation.attach(parent, records);
        Ok(())
    }

    /// See [`Loader::attach_columns`](super::Loader::attach_columns).
    pub(super) fn attach_joined_one(&self, parent: &mut P, cells: &mut [Value]) -> Result<()> {
        let key_is_null = |pk: usize| cells.get(pk).map(Value::is_null);
        let key = self.joined_key(key_is_null)?;
        self.attach_one(parent, key, || C::decode(cells))
    }

    /// See [`Loader::attach_lent`](super::Loader::attach_lent).
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn attach_lent_one(&self, parent: &mut P, cells: &dyn Row) -> Result<()> {
        let key_is_null = |pk: usize| cells.cell(pk).map(|cell| cell == Cell::Null);
        let key = self.joined_key(key_is_null)?;
        self.attach_one(parent, key, || C::decode_row(cells))
    }

    /// Whether a joined record's primary key cell is `NULL` (no row matched); an error when
    /// the row is too short to hold it.
    fn joined_key(&self, key_is_null: impl FnOnce(usize) -> Option<bool>) -> Result<bool> {
        let pk = C::DEF.single_key("loading a relation in its parents' statement")?;
        key_is_null(pk)
            .ok_or_else(|| self.shape_error("the related table's columns", "a short row"))
    }

    /// Stores a joined `one` relation's record into `parent` (none when `null_key`).
    fn attach_one(
        &self,
        parent: &mut P,
        null_key: bool,
        decode: impl FnOnce() -> Result<C>,
    ) -> Result<()> {
        let records = if null_key {
            Vec::new()
        } else {
            vec![decode()?]
        };
        self.relation.attach(parent, records);
        Ok(())
    }
}
