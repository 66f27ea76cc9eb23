//! D1 results into Sonic values, independent of JavaScript.
//!
//! The wasm32 side (`js`) only classifies each JavaScript value it reads into a [`JsCell`];
//! every decision about what a value means, and every shape check of `raw()`'s output, is
//! here, where it is tested natively and fuzzed (`sonic-db-fuzz`, target `d1_rows`).

use sonic_db_core::{Error, Result, Value};

use crate::rules::{bytes_from_numbers, number_to_value};

/// A JavaScript value of a D1 result, as far as decoding needs to know it.
///
/// ```
/// use sonic_db_d1::decode::{cell_to_value, JsCell};
/// use sonic_db_core::Value;
/// assert_eq!(cell_to_value(JsCell::Number(2.0), "n")?, Value::Integer(2));
/// assert!(cell_to_value(JsCell::Other("function".into()), "n").is_err());
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum JsCell {
    /// `null` or `undefined`.
    Null,
    /// A number.
    Number(f64),
    /// A string.
    String(String),
    /// A boolean.
    Bool(bool),
    /// A `BigInt`, as its decimal text (`None` if it could not be printed).
    BigInt(Option<String>),
    /// An array, as a `Float64Array` copy of it (how D1 returns a BLOB; non-numbers are NaN).
    Numbers(Vec<f64>),
    /// A `Uint8Array` or an `ArrayBuffer`: bytes.
    Bytes(Vec<u8>),
    /// Anything else, by its `typeof`.
    Other(String),
}

/// One element of the array that `raw({ columnNames: true })` resolves to: the column names
/// first, then one array per row.
#[derive(Debug, Clone, PartialEq)]
pub enum RawItem {
    /// An array, with its elements.
    Array(Vec<JsCell>),
    /// Anything that is not an array.
    NotAnArray,
}

/// A decoded result: column names, the values row-major, and the number of rows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawRows {
    /// The result's column names, in order (duplicates kept).
    pub columns: Vec<String>,
    /// Every cell, row after row.
    pub values: Vec<Value>,
    /// How many rows.
    pub rows: usize,
}

/// A result cell as a [`Value`]: `null` → `Null`; a number → `Integer` when it is an integer
/// within ±(2^53 − 1) (not `-0`), else `Real`; a string → `Text`; a boolean → `Integer` 0/1;
/// a `BigInt` within `i64` → `Integer`; an array of bytes (integers 0..=255) or a byte buffer
/// → `Blob`. Anything else is an [`Error::Database`] naming the column.
///
/// ```
/// use sonic_db_d1::decode::{cell_to_value, JsCell};
/// use sonic_db_core::Value;
/// assert_eq!(cell_to_value(JsCell::Numbers(vec![0.0, 255.0]), "b")?, Value::Blob(vec![0, 255]));
/// assert!(cell_to_value(JsCell::Numbers(vec![256.0]), "b").is_err());
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
pub fn cell_to_value(cell: JsCell, column: &str) -> Result<Value> {
    match cell {
        JsCell::Null => Ok(Value::Null),
        JsCell::Number(n) => Ok(number_to_value(n)),
        JsCell::String(s) => Ok(Value::Text(s)),
        JsCell::Bool(b) => Ok(Value::Integer(i64::from(b))),
        JsCell::BigInt(text) => text
            .and_then(|t| t.parse::<i64>().ok())
            .map(Value::Integer)
            .ok_or_else(|| unreadable(column, "a BigInt outside the range of i64")),
        JsCell::Numbers(numbers) => bytes_from_numbers(&numbers)
            .map(Value::Blob)
            .map_err(|what| unreadable(column, &what)),
        JsCell::Bytes(bytes) => Ok(Value::Blob(bytes)),
        JsCell::Other(kind) => Err(unreadable(column, &format!("a JavaScript {kind}"))),
    }
}

/// Decodes the output of `raw({ columnNames: true })`: the first item holds the column names
/// (strings), each following one a row of exactly that many cells. No item at all (D1 sends
/// no result set for some DDL) is an empty result. Every other shape is an
/// [`Error::Database`] saying what was wrong; nothing panics.
///
/// ```
/// use sonic_db_d1::decode::{decode_raw, JsCell, RawItem};
/// use sonic_db_core::Value;
/// let rows = decode_raw([
///     RawItem::Array(vec![JsCell::String("id".into()), JsCell::String("id".into())]),
///     RawItem::Array(vec![JsCell::Number(1.0), JsCell::String("a".into())]),
/// ])?;
/// assert_eq!(rows.columns, ["id", "id"]); // same-named columns stay two columns
/// assert_eq!(rows.values, [Value::Integer(1), Value::Text("a".into())]);
/// assert!(decode_raw([RawItem::Array(vec![JsCell::Number(1.0)])]).is_err()); // a name that is a number
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
pub fn decode_raw(items: impl IntoIterator<Item = RawItem>) -> Result<RawRows> {
    let mut items = items.into_iter();
    let Some(header) = items.next() else {
        return Ok(RawRows::default());
    };
    let columns = column_names(header)?;
    let (values, rows) = decode_cells(&columns, items)?;
    Ok(RawRows {
        columns,
        values,
        rows,
    })
}

/// The column names of `raw({ columnNames: true })`'s first item: an array of strings.
pub(crate) fn column_names(header: RawItem) -> Result<Vec<String>> {
    let RawItem::Array(names) = header else {
        return Err(unexpected("D1 raw() column names are not an array"));
    };
    names
        .into_iter()
        .enumerate()
        .map(|(i, name)| match name {
            JsCell::String(name) => Ok(name),
            _ => Err(unexpected(format!(
                "D1 raw() column name {i} is not a string"
            ))),
        })
        .collect()
}

/// The values of the rows that follow the column names, row after row, and their count: each
/// row exactly as many cells as there are `columns`.
pub(crate) fn decode_cells(
    columns: &[String],
    rows: impl IntoIterator<Item = RawItem>,
) -> Result<(Vec<Value>, usize)> {
    let mut values = Vec::new();
    let mut count = 0;
    for (index, row) in rows.into_iter().enumerate() {
        let RawItem::Array(cells) = row else {
            return Err(unexpected(format!("D1 raw() row {index} is not an array")));
        };
        if cells.len() != columns.len() {
            return Err(unexpected(format!(
                "D1 raw() row {index} has {} values for {} columns",
                cells.len(),
                columns.len()
            )));
        }
        for (cell, column) in cells.into_iter().zip(columns) {
            values.push(cell_to_value(cell, column)?);
        }
        count += 1;
    }
    Ok((values, count))
}

fn unreadable(column: &str, what: &str) -> Error {
    Error::Database {
        message: format!("D1 returned {what} in column `{column}`, which is not a SQLite value"),
    }
}

pub(crate) fn unexpected(what: impl Into<String>) -> Error {
    Error::Database {
        message: what.into(),
    }
}
