//! What the date, time and UUID columns share: a canonical `TEXT` form, checked on the way in
//! and re-encoded from JSON input, so that SQL's text order and equality are the type's.

use super::{ConvertError, Value};

/// Refuses years that the fixed four-digit form cannot hold in sorting order.
#[cfg(any(feature = "chrono", feature = "time"))]
pub(crate) fn sortable_year(year: i32, what: &'static str) -> Result<(), ConvertError> {
    if (0..=9999).contains(&year) {
        Ok(())
    } else {
        Err(ConvertError::new(
            format!("{what} in the years 0000 to 9999 (stored as text that sorts by time)"),
            format!("the year {year}"),
        ))
    }
}

/// Decodes `TEXT` with `parse`, naming what was expected when the text does not parse.
pub(crate) fn decode_text<T>(
    value: Value,
    expected: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<T, ConvertError> {
    match value {
        Value::Text(text) => {
            parse(&text).ok_or_else(|| ConvertError::new(expected, Value::Text(text).describe()))
        }
        other => Err(ConvertError::new(expected, other.describe())),
    }
}

/// `ColumnType` for a type stored in its canonical text form: JSON input (a REST body) is
/// decoded and encoded again, so `"…T05:17:32Z"` is stored as `"…T05:17:32.000000000Z"`,
/// sorting and comparing like every other row.
macro_rules! text_column {
    ($type:ty) => {
        impl $crate::value::ColumnType for $type {
            const SQL_TYPE: $crate::value::SqlType = $crate::value::SqlType::Text;
            type Operand = $type;

            fn value_from_json(
                json: &serde_json::Value,
            ) -> Result<$crate::value::Value, $crate::value::ConvertError> {
                let text = $crate::value::Value::from_json(json, $crate::value::SqlType::Text)?;
                <$type as $crate::value::FromValue>::from_value(text)
                    .and_then(|parsed| $crate::value::ToValue::to_value(&parsed))
            }
        }
    };
}

pub(crate) use text_column;
