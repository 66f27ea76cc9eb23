//! INTEGER cells that arrive as decimal text (#12 item 3).
//!
//! Where result numbers cross JavaScript as doubles (D1, Durable Objects), the SQL compiler
//! selects INTEGER columns beyond ±(2^53 − 1) as `CAST(col AS TEXT)` so that they stay exact;
//! these functions read that text back as the integer.

use super::convert::{ColumnType, ConvertError};
use super::{Cell, SqlType, Value};

/// The integer whose canonical decimal form (SQLite's `CAST(i AS TEXT)`: optional `-`, no
/// `+`, no leading zeros) is `text`, if it is one.
///
/// ```
/// use sonic_db_core::value::integer_from_text;
/// assert_eq!(integer_from_text("-9223372036854775808"), Some(i64::MIN));
/// assert_eq!(integer_from_text("9007199254740993"), Some((1 << 53) + 1));
/// assert_eq!(integer_from_text("007"), None); // not how SQLite writes an integer
/// assert_eq!(integer_from_text("1.5"), None);
/// ```
pub fn integer_from_text(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = match digits.as_bytes() {
        [b'0'] => text == "0",
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if canonical {
        text.parse().ok()
    } else {
        None
    }
}

/// The value of a column cell as the field type `T` reads it: a TEXT cell holding an
/// integer's canonical decimal form becomes that INTEGER when `T` is stored as INTEGER (how
/// records are selected where integers cross JavaScript), every other value is `T`'s
/// [`FromValue`](super::FromValue) as is. Used by `#[derive(Table)]`'s decoding.
///
/// ```
/// use sonic_db_core::value::decode_column;
/// use sonic_db_core::Value;
/// assert_eq!(decode_column::<i64>(Value::Text("9223372036854775807".into()))?, i64::MAX);
/// assert_eq!(decode_column::<Option<u64>>(Value::Text("42".into()))?, Some(42));
/// assert_eq!(decode_column::<String>(Value::Text("42".into()))?, "42"); // a TEXT column
/// assert!(decode_column::<i64>(Value::Text("4x".into())).is_err());
/// # Ok::<(), sonic_db_core::ConvertError>(())
/// ```
#[inline]
pub fn decode_column<T: ColumnType>(value: Value) -> Result<T, ConvertError> {
    match value {
        Value::Text(text) if T::SQL_TYPE == SqlType::Integer => match integer_from_text(&text) {
            Some(i) => T::from_value(Value::Integer(i)),
            None => T::from_value(Value::Text(text)),
        },
        value => T::from_value(value),
    }
}

/// [`decode_column`] for a cell a backend lends: what the typed read path of
/// `#[derive(Table)]` calls. For a non-INTEGER `T` the test compiles away.
///
/// ```
/// use sonic_db_core::value::{decode_column_cell, Cell};
/// assert_eq!(decode_column_cell::<i64>(Cell::Text("-9223372036854775808"))?, i64::MIN);
/// assert_eq!(decode_column_cell::<i64>(Cell::Integer(7))?, 7);
/// assert_eq!(decode_column_cell::<String>(Cell::Text("42"))?, "42");
/// # Ok::<(), sonic_db_core::ConvertError>(())
/// ```
#[inline]
pub fn decode_column_cell<T: ColumnType>(cell: Cell<'_>) -> Result<T, ConvertError> {
    match cell {
        Cell::Text(text) if T::SQL_TYPE == SqlType::Integer => match integer_from_text(text) {
            Some(i) => T::from_cell(Cell::Integer(i)),
            None => T::from_cell(cell),
        },
        cell => T::from_cell(cell),
    }
}

/// `values` with every canonical integer text turned into the INTEGER it spells, when the
/// column they come from is `sql_type` INTEGER (a primary key read back as text).
pub(crate) fn integers_from_text(sql_type: SqlType, values: &mut [Value]) {
    if sql_type != SqlType::Integer {
        return;
    }
    for value in values {
        if let Value::Text(text) = value {
            if let Some(i) = integer_from_text(text) {
                *value = Value::Integer(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_integers_only() {
        for i in [
            0,
            1,
            -1,
            (1 << 53) - 1,
            1 << 53,
            (1 << 53) + 1,
            -(1 << 53) - 1,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(integer_from_text(&i.to_string()), Some(i), "{i}");
        }
        for not in [
            "",
            "-",
            "+1",
            "01",
            "-0",
            "1 ",
            " 1",
            "1e3",
            "1.0",
            "9223372036854775808",
            "x",
            "١",
        ] {
            assert_eq!(integer_from_text(not), None, "{not:?}");
        }
    }

    #[test]
    fn only_integer_columns_read_text_as_integers() {
        let mut keys = vec![Value::Text("12".into()), Value::Null, Value::Integer(3)];
        integers_from_text(SqlType::Text, &mut keys);
        assert_eq!(keys[0], Value::Text("12".into()));
        integers_from_text(SqlType::Integer, &mut keys);
        assert_eq!(keys, [Value::Integer(12), Value::Null, Value::Integer(3)]);
        assert_eq!(decode_column::<bool>(Value::Text("1".into())), Ok(true));
        assert!(decode_column::<u8>(Value::Text("256".into())).is_err());
    }
}
