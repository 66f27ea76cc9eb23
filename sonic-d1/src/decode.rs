//! D1 results into Sonic values, independent of JavaScript.
//!
//! The wasm32 side (`js`) only classifies each JavaScript value it reads into a [`JsCell`];
//! every decision about what a value means, and every shape check of `raw()`'s output, is
//! here, where it is tested natively and fuzzed (`sonic-db-fuzz`, target `d1_rows`).

use serde_json::Value as Json;
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
    let RawItem::Array(names) = header else {
        return Err(unexpected("D1 raw() column names are not an array"));
    };
    let columns = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| match name {
            JsCell::String(name) => Ok(name),
            _ => Err(unexpected(format!(
                "D1 raw() column name {i} is not a string"
            ))),
        })
        .collect::<Result<Vec<String>>>()?;
    let mut values = Vec::new();
    let mut rows = 0;
    for (index, row) in items.enumerate() {
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
        for (cell, column) in cells.into_iter().zip(&columns) {
            values.push(cell_to_value(cell, column)?);
        }
        rows += 1;
    }
    Ok(RawRows {
        columns,
        values,
        rows,
    })
}

/// The output of `raw({ columnNames: true })` read from its JSON text (`JSON.stringify`: one
/// call into JavaScript for the whole result, where reading it value by value costs one or two
/// per cell): the same items as that reading, or `None` when the text holds something only it
/// tells apart, so that the caller reads value by value instead. `None` for an object (a typed
/// array or a buffer, which JSON writes as objects), an array cell holding anything but numbers
/// (a `Float64Array` copy converts those), or text that is not JSON.
///
/// D1 carries results as JSON, so they hold no `NaN`, infinity or `-0`, the numbers
/// `JSON.stringify` would write otherwise, and no object with a `toJSON` (a `Date` would read
/// as its text here, as an error value by value); a `BigInt` makes it throw.
///
/// ```
/// use sonic_db_d1::decode::{raw_items_from_json, JsCell, RawItem};
/// let items = raw_items_from_json(r#"[["id","b"],[1.5,null],["x",[0,255]]]"#).unwrap();
/// assert_eq!(items[1], RawItem::Array(vec![JsCell::Number(1.5), JsCell::Null]));
/// assert_eq!(items[2], RawItem::Array(vec![JsCell::String("x".into()), JsCell::Numbers(vec![0.0, 255.0])]));
/// assert_eq!(raw_items_from_json(r#"[["id"],[{"0":1}]]"#), None); // a typed array
/// ```
pub fn raw_items_from_json(text: &str) -> Option<Vec<RawItem>> {
    let Json::Array(items) = serde_json::from_str(text).ok()? else {
        return None;
    };
    items
        .into_iter()
        .map(|item| match item {
            Json::Array(cells) => cells
                .into_iter()
                .map(json_cell)
                .collect::<Option<Vec<JsCell>>>()
                .map(RawItem::Array),
            Json::Object(_) => None,
            _ => Some(RawItem::NotAnArray),
        })
        .collect()
}

/// A cell of a JSON result: the [`JsCell`] of the same JavaScript value; `None` for an object
/// and for an array of anything but numbers.
fn json_cell(value: Json) -> Option<JsCell> {
    Some(match value {
        Json::Null => JsCell::Null,
        Json::Bool(b) => JsCell::Bool(b),
        // JSON holds what a double was: as a double, exactly (serde_json's `float_roundtrip`).
        Json::Number(n) => JsCell::Number(n.as_f64()?),
        Json::String(s) => JsCell::String(s),
        Json::Array(numbers) => JsCell::Numbers(
            numbers
                .iter()
                .map(Json::as_f64)
                .collect::<Option<Vec<f64>>>()?,
        ),
        Json::Object(_) => return None,
    })
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

    #[test]
    fn raw_json_reads_every_cell_as_reading_value_by_value_does() {
        let text = r#"[["id","n","t","b","x"],["1",-2.5,"a \"q\" \u00e9 \ud83d\ude00",[1,2,255],true],[null,1e+21,"",[],false]]"#;
        let items = raw_items_from_json(text).expect(text);
        assert_eq!(
            items,
            vec![
                RawItem::Array(
                    ["id", "n", "t", "b", "x"]
                        .map(|c| JsCell::String(c.into()))
                        .to_vec()
                ),
                RawItem::Array(vec![
                    JsCell::String("1".into()),
                    JsCell::Number(-2.5),
                    JsCell::String("a \"q\" é 😀".into()),
                    JsCell::Numbers(vec![1.0, 2.0, 255.0]),
                    JsCell::Bool(true),
                ]),
                RawItem::Array(vec![
                    JsCell::Null,
                    JsCell::Number(1e21),
                    JsCell::String(String::new()),
                    JsCell::Numbers(Vec::new()),
                    JsCell::Bool(false),
                ]),
            ]
        );
        // Items that are not arrays stay so (decode_raw refuses them, naming the row).
        assert_eq!(
            raw_items_from_json(r#"[["a"],"row",7,null]"#),
            Some(vec![
                RawItem::Array(vec![JsCell::String("a".into())]),
                RawItem::NotAnArray,
                RawItem::NotAnArray,
                RawItem::NotAnArray,
            ])
        );
        assert_eq!(raw_items_from_json("[]"), Some(Vec::new()));
    }

    #[test]
    fn raw_json_numbers_are_the_doubles_javascript_wrote() {
        // As `JSON.stringify` writes them (the shortest text that reads back as the same
        // double), and as serde_json does.
        let js = [
            ("0", 0.0),
            ("9007199254740991", 9_007_199_254_740_991.0),
            ("-9007199254740992", -9_007_199_254_740_992.0),
            ("18446744073709552000", 18_446_744_073_709_552_000.0),
            ("-1e+21", -1e21),
            ("1.7976931348623157e+308", f64::MAX),
            ("5e-324", 5e-324),
            ("0.1", 0.1),
            ("123.456e-7", 123.456e-7),
        ];
        for (text, expected) in js {
            let items = raw_items_from_json(&format!("[[{text}]]")).expect(text);
            let [RawItem::Array(cells)] = items.as_slice() else {
                panic!("{text}: {items:?}");
            };
            let [JsCell::Number(n)] = cells.as_slice() else {
                panic!("{text}: {cells:?}");
            };
            assert_eq!(n.to_bits(), expected.to_bits(), "{text}");
        }
        let mut x = 0.123_456_789_f64;
        for _ in 0..2_000 {
            x = x * 7.3 + 1e-9;
            if x > 1e300 {
                x = x.sqrt().recip();
            }
            for n in [x, -x, x.recip()] {
                let text = serde_json::to_string(&n).expect("finite");
                let items = raw_items_from_json(&format!("[[{text}]]")).expect(&text);
                assert_eq!(
                    items,
                    vec![RawItem::Array(vec![JsCell::Number(n)])],
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn raw_json_leaves_what_only_javascript_tells_apart_to_it() {
        for text in [
            // A typed array or buffer: JSON writes an object.
            r#"[["b"],[{"0":1,"1":2}]]"#,
            r#"[["b"],[{}]]"#,
            // An array cell of non-numbers (a `Float64Array` copy converts them).
            r#"[["b"],[[1,"2"]]]"#,
            r#"[["b"],[[null]]]"#,
            r#"[["b"],[[[1]]]]"#,
            // A lone surrogate: JavaScript's string reads as U+FFFD through wasm-bindgen.
            r#"[["t"],["\ud800"]]"#,
            // Not JSON, or not an array of items.
            "",
            "[",
            r#"{"a":1}"#,
            "7",
        ] {
            assert_eq!(raw_items_from_json(text), None, "{text}");
        }
    }
}
