//! A select whose relations are all joined `one` relations (`crate::sql::eager::joins_one`),
//! read from the rows the backend lends: the record and each relation's record decoded by
//! type from their columns of the row, no value per cell. Not on wasm32, where no backend
//! lends rows.

use super::embedded::{decode_embedded, joined_width};
use super::Include;
use crate::backend::{Params, RowSink, RowsRead};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::query::rows::make_room;
use crate::row::{Part, Row};
use crate::schema::Table;

/// Runs a single-statement select (`sql` and `params`) whose includes are all joined and
/// decodes its records with their relations, when the backend runs it in-process; `None`
/// when it must be awaited (then nothing ran) or an include is not joined.
pub(crate) fn load_joined_ones_now<P: Table>(
    includes: &[Include<P>],
    db: &Db,
    sql: &str,
    params: Params<'_>,
) -> Option<Result<Vec<P>>> {
    let widths = includes
        .iter()
        .map(|include| joined_width(include.sql()))
        .collect::<Option<Vec<usize>>>()?;
    let own = P::DEF.columns.len();
    let mut sink = OnesSink {
        includes,
        width: own + widths.iter().sum::<usize>(),
        widths,
        own,
        records: Vec::new(),
        checked: false,
    };
    Some(match db.execute_checked_now(sql, params, &mut sink)? {
        Ok(RowsRead::Streamed { .. }) => Ok(sink.records),
        Ok(RowsRead::Returned(result)) => decode_embedded(includes, result),
        Err(e) => Err(e),
    })
}

/// Decodes each row lent: the record from its own columns, then each relation's.
struct OnesSink<'s, P: 'static> {
    includes: &'s [Include<P>],
    /// The number of columns of each include's record, in the row after the record's own.
    widths: Vec<usize>,
    own: usize,
    width: usize,
    records: Vec<P>,
    checked: bool,
}

impl<P: Table> OnesSink<'_, P> {
    #[inline]
    fn take<R: Row + ?Sized>(&mut self, row: &R) -> Result<()> {
        if !self.checked {
            if row.width() != self.width {
                return Err(self.width_error(row.width()));
            }
            self.checked = true;
        }
        let own = Part {
            row,
            start: 0,
            width: self.own,
        };
        let mut record = P::decode_row(&own)?;
        let mut start = self.own;
        for (include, &width) in self.includes.iter().zip(&self.widths) {
            let cells = Part { row, start, width };
            include.loader().attach_lent(&mut record, &cells)?;
            start += width;
        }
        make_room(&mut self.records);
        self.records.push(record);
        Ok(())
    }

    #[cold]
    fn width_error(&self, width: usize) -> Error {
        Error::Database {
            message: format!(
                "the backend returned a row of {width} columns for a select of `{}` with its \
                 relations joined, expected {}",
                P::DEF.name,
                self.width
            ),
        }
    }
}

impl<P: Table> RowSink for OnesSink<'_, P> {
    fn row(&mut self, row: &dyn Row) -> Result<()> {
        self.take(row)
    }

    #[cfg(feature = "rusqlite")]
    fn sqlite_row(&mut self, row: &rusqlite::Row<'_>) -> Result<()> {
        self.take(row)
    }
}
