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

/// The kinds of cells `src/pack.js` packs, each with a number: [`PACKED_NULL`] (`null` or
/// `undefined`), [`PACKED_NUMBER`] (the number), [`PACKED_TEXT`] (its length in UTF-16 units),
/// [`PACKED_BOOL`] (0 or 1); anything else is [`PACKED_OTHER`], read again by itself.
pub const PACKED_NULL: f64 = 0.0;
/// A number, packed as itself.
pub const PACKED_NUMBER: f64 = 1.0;
/// A text, packed as its length in UTF-16 units; the texts follow one another.
pub const PACKED_TEXT: f64 = 2.0;
/// A boolean, packed as 0 or 1.
pub const PACKED_BOOL: f64 = 3.0;
/// Any other value, read again by itself.
pub const PACKED_OTHER: f64 = 4.0;

/// The values of rows packed by `src/pack.js` (what [`decode_raw`] makes of the same rows read
/// value by value): `cells` holds a kind and a number per cell, row after row, each row
/// as wide as `columns`; `texts` the texts one after another; `other` reads the cell of that
/// index by itself. `Ok(None)` when `texts` cannot be cut where the lengths say (a character
/// of two UTF-16 units across two texts, which only ill-formed texts make): the caller then
/// reads the rows value by value.
///
/// ```
/// use sonic_db_d1::decode::{decode_packed, JsCell, PACKED_NUMBER, PACKED_TEXT};
/// use sonic_db_core::Value;
/// let columns = ["id".to_string(), "name".to_string()];
/// let cells = [PACKED_NUMBER, 7.0, PACKED_TEXT, 3.0];
/// let values = decode_packed(&columns, &cells, "Ada", |_| JsCell::Null)?;
/// assert_eq!(values, Some(vec![Value::Integer(7), Value::Text("Ada".into())]));
/// # Ok::<(), sonic_db_core::Error>(())
/// ```
pub fn decode_packed(
    columns: &[String],
    cells: &[f64],
    texts: &str,
    mut other: impl FnMut(usize) -> JsCell,
) -> Result<Option<Vec<Value>>> {
    if !cells.len().is_multiple_of(2) || (columns.is_empty() && !cells.is_empty()) {
        return Err(unexpected("D1 raw() rows were packed unevenly"));
    }
    let ascii = texts.is_ascii();
    let mut rest = texts;
    let mut values = Vec::with_capacity(cells.len() / 2);
    for (index, (pair, column)) in cells
        .chunks_exact(2)
        .zip(columns.iter().cycle())
        .enumerate()
    {
        let &[kind, number] = pair else {
            return Err(unexpected("D1 raw() rows were packed unevenly"));
        };
        let cell = if kind == PACKED_NULL {
            JsCell::Null
        } else if kind == PACKED_NUMBER {
            JsCell::Number(number)
        } else if kind == PACKED_TEXT {
            let Some((text, after)) = cut_utf16(rest, number, ascii) else {
                return Ok(None);
            };
            rest = after;
            JsCell::String(text.to_owned())
        } else if kind == PACKED_BOOL {
            JsCell::Bool(number != 0.0)
        } else {
            other(index)
        };
        values.push(cell_to_value(cell, column)?);
    }
    Ok(rest.is_empty().then_some(values))
}

/// What `src/pack.js` writes for `cells` (without its head), modelled in Rust for tests and
/// fuzzing: per cell a kind and a number, and the texts one after another. The JavaScript is
/// what runs in a Worker.
///
/// ```
/// use sonic_db_d1::decode::{pack_cells, JsCell, PACKED_NULL, PACKED_TEXT};
/// let (cells, texts) = pack_cells(&[JsCell::String("é".into()), JsCell::Null]);
/// assert_eq!(cells, [PACKED_TEXT, 1.0, PACKED_NULL, 0.0]);
/// assert_eq!(texts, "é");
/// ```
pub fn pack_cells<'c>(cells: impl IntoIterator<Item = &'c JsCell>) -> (Vec<f64>, String) {
    let mut packed = Vec::new();
    let mut texts = String::new();
    for cell in cells {
        let (kind, number) = match cell {
            JsCell::Null => (PACKED_NULL, 0.0),
            JsCell::Number(n) => (PACKED_NUMBER, *n),
            JsCell::String(s) => {
                texts.push_str(s);
                (PACKED_TEXT, s.encode_utf16().count() as f64)
            }
            JsCell::Bool(b) => (PACKED_BOOL, f64::from(u8::from(*b))),
            _ => (PACKED_OTHER, 0.0),
        };
        packed.extend([kind, number]);
    }
    (packed, texts)
}

/// `text` cut after its first `units` UTF-16 units, if a character ends there (`ascii`:
/// `text` is ASCII, where units are bytes).
fn cut_utf16(text: &str, units: f64, ascii: bool) -> Option<(&str, &str)> {
    if !(units >= 0.0 && units.fract() == 0.0 && units <= text.len() as f64) {
        return None;
    }
    // Within the text's length in bytes, so exact.
    let units = units as usize;
    if ascii {
        return text.split_at_checked(units);
    }
    let mut counted = 0;
    for (at, c) in text.char_indices() {
        if counted == units {
            return text.split_at_checked(at);
        }
        counted += c.len_utf16();
        if counted > units {
            return None;
        }
    }
    (counted == units).then_some((text, ""))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn packed_cells_mean_what_the_same_cells_read_one_by_one_mean() {
        let columns = columns(&["id", "name", "score", "flag", "note", "bytes"]);
        let rows = [
            vec![
                JsCell::Number(1.0),
                JsCell::String("Ada".into()),
                JsCell::Number(2.5),
                JsCell::Bool(true),
                JsCell::Null,
                JsCell::Numbers(vec![1.0, 255.0]),
            ],
            vec![
                JsCell::Number(-0.0),
                JsCell::String("Grâce 😀 中文".into()),
                JsCell::Number(9_007_199_254_740_992.0),
                JsCell::Bool(false),
                JsCell::String(String::new()),
                JsCell::Bytes(vec![0, 7]),
            ],
        ];
        let (cells, texts) = pack_cells(rows.iter().flatten());
        let others: Vec<usize> = (0..cells.len() / 2)
            .filter(|i| cells[2 * i] == PACKED_OTHER)
            .collect();
        assert_eq!(
            others,
            [5, 11],
            "the BLOBs are left to be read by themselves"
        );
        let mut asked = Vec::new();
        let all: Vec<JsCell> = rows.iter().flatten().cloned().collect();
        let packed = decode_packed(&columns, &cells, &texts, |index| {
            asked.push(index);
            all.get(index).cloned().unwrap_or(JsCell::Null)
        });
        let (by_value, count) = decode_cells(&columns, rows.map(RawItem::Array)).unwrap();
        assert_eq!(packed.unwrap(), Some(by_value));
        assert_eq!(count, 2);
        assert_eq!(
            asked, others,
            "only the cells it could not pack are read again"
        );
    }

    #[test]
    fn texts_are_cut_by_utf16_lengths_or_not_at_all() {
        let columns = columns(&["a", "b"]);
        let text = |units: f64| [PACKED_TEXT, units];
        let none = |_| JsCell::Null;
        let cut = |cells: &[f64], texts: &str| decode_packed(&columns, cells, texts, none).unwrap();
        // "é" is one unit and two bytes, "😀" two units and four.
        assert_eq!(
            cut(&[text(1.0), text(2.0)].concat(), "é😀"),
            Some(vec![Value::Text("é".into()), Value::Text("😀".into())])
        );
        // A character of two units across two texts: read value by value instead.
        assert_eq!(cut(&[text(1.0), text(1.0)].concat(), "😀"), None);
        // Lengths that do not add up to the texts, either way.
        assert_eq!(cut(&[text(1.0), text(1.0)].concat(), "abc"), None);
        assert_eq!(cut(&[text(2.0), text(2.0)].concat(), "abc"), None);
        assert_eq!(cut(&[text(-1.0), text(0.5)].concat(), "ab"), None);
    }

    #[test]
    fn packed_values_that_are_no_sqlite_value_name_their_column() {
        let columns = columns(&["id", "payload"]);
        let cells = [PACKED_NUMBER, 1.0, PACKED_OTHER, 0.0];
        let error = decode_packed(&columns, &cells, "", |_| JsCell::Other("function".into()))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("function") && error.contains("`payload`"),
            "{error}"
        );
        // Cells that do not pair up, or cells without columns, are refused.
        assert!(decode_packed(&columns, &[PACKED_NULL], "", |_| JsCell::Null).is_err());
        assert!(decode_packed(&[], &[PACKED_NULL, 0.0], "", |_| JsCell::Null).is_err());
        assert_eq!(
            decode_packed(&[], &[], "", |_| JsCell::Null).unwrap(),
            Some(vec![])
        );
    }
}
