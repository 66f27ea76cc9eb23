//! Single-statement loading: the relations came as JSON columns of the parents' rows, or
//! (`one` relations that `joins_one`) as the joined table's columns.

use super::json;
use super::{Eager, Include};
use crate::backend::QueryResult;
use crate::error::{Error, Result};
use crate::query::rows::check_shape;
#[cfg(not(target_arch = "wasm32"))]
use crate::row::Row;
use crate::schema::{RelationKind, Table, TableDef};
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
    // One sink per JSON include, for every row.
    let mut sinks: Vec<Option<Box<dyn PayloadSink<P> + '_>>> = includes
        .iter()
        .zip(&widths)
        .map(|(include, joined)| joined.is_none().then(|| include.loader().payload_sink()))
        .collect();
    let mut values = result.values;
    let mut records = Vec::with_capacity(values.len() / width.max(1));
    for row in values.chunks_exact_mut(width) {
        let (own, mut relations) = row.split_at_mut(columns);
        let mut record = P::decode(own)?;
        for ((include, joined), sink) in includes.iter().zip(&widths).zip(&mut sinks) {
            // Within the row: its width is the sum of these.
            let Some((cells, rest)) = relations.split_at_mut_checked(joined.unwrap_or(1)) else {
                break;
            };
            relations = rest;
            match sink {
                None => include.loader().attach_columns(&mut record, cells)?,
                Some(sink) => {
                    for value in cells {
                        attach_column(include.name(), sink.as_mut(), &mut record, value)?;
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
/// relation without a match) into `sink`, and moves its records into `parent`.
fn attach_column<P>(
    name: &str,
    sink: &mut dyn PayloadSink<P>,
    parent: &mut P,
    value: &Value,
) -> Result<()> {
    let payload = match value {
        Value::Null => "null",
        Value::Text(text) => text.as_str(),
        other => {
            return Err(Error::Database {
                message: format!(
                    "relation `{name}` came back as {}, expected JSON text",
                    other.describe()
                ),
            })
        }
    };
    json::read(payload, sink.rows())?;
    sink.attach(parent);
    Ok(())
}

/// One relation's records read from its payloads ([`json::RowSink`]), handed to their
/// parent when its row is complete.
pub(crate) trait PayloadSink<P>: json::RowSink {
    /// Moves the records read since the last call into `parent`.
    fn attach(&mut self, parent: &mut P);

    /// This sink for the reader (by hand: coercing to a supertrait object needs Rust 1.86,
    /// and sonic-db-core supports 1.85).
    fn rows(&mut self) -> &mut dyn json::RowSink;
}

/// The records of an [`Eager`]'s payloads, with a sink per nested relation.
pub(super) struct Related<'l, P: 'static, C: 'static> {
    eager: &'l Eager<P, C>,
    nested: Vec<Box<dyn PayloadSink<C> + 'l>>,
    records: Vec<C>,
}

impl<P: Table, C: Table + Clone> json::RowSink for Related<'_, P, C> {
    fn table(&self) -> &'static TableDef {
        C::DEF
    }

    fn many(&self) -> bool {
        self.eager.relation.def().kind == RelationKind::Many
    }

    fn nested_len(&self) -> usize {
        self.nested.len()
    }

    fn nested(&mut self, index: usize) -> Option<&mut dyn json::RowSink> {
        Some(self.nested.get_mut(index)?.rows())
    }

    fn row(&mut self, values: &mut Vec<Value>) -> Result<()> {
        let mut child = C::decode(values)?;
        for nested in &mut self.nested {
            nested.attach(&mut child);
        }
        self.records.push(child);
        Ok(())
    }

    fn shape_error(&self, expected: &'static str, found: String) -> Error {
        self.eager.shape_error(expected, found)
    }
}

impl<P: Table, C: Table + Clone> PayloadSink<P> for Related<'_, P, C> {
    fn attach(&mut self, parent: &mut P) {
        self.eager
            .relation
            .attach(parent, std::mem::take(&mut self.records));
    }

    fn rows(&mut self) -> &mut dyn json::RowSink {
        self
    }
}

impl<P: Table, C: Table + Clone> Eager<P, C> {
    /// See [`Loader::payload_sink`](super::Loader::payload_sink).
    pub(super) fn related(&self) -> Related<'_, P, C> {
        Related {
            eager: self,
            nested: self
                .nested
                .iter()
                .map(|nested| nested.loader().payload_sink())
                .collect(),
            records: Vec::new(),
        }
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
