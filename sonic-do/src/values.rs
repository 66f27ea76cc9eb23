//! Sonic's values to and from the storage's: the conversions Durable Object SQLite makes
//! through JavaScript, with what it cannot carry refused rather than altered.

use sonic_db_core::{Capabilities, Error, Result, Value};
use worker::SqlStorageValue;

/// The storage value bound for `value`: an integer within JavaScript's exact range as a
/// number, beyond it as its decimal text — which an INTEGER column's affinity (in a stored
/// value or a comparison) makes the exact INTEGER again (#12 item 3); finite reals only
/// (`NaN` would be stored as NULL).
pub(crate) fn to_storage(value: &Value, capabilities: &Capabilities) -> Result<SqlStorageValue> {
    Ok(match value {
        Value::Null => SqlStorageValue::Null,
        Value::Integer(i) if capabilities.exact_integer(*i) => SqlStorageValue::Integer(*i),
        Value::Integer(i) => SqlStorageValue::String(i.to_string()),
        Value::Real(r) if r.is_finite() => SqlStorageValue::Float(*r),
        Value::Real(r) => {
            return Err(Error::Limit(format!(
                "the real {r} is not finite; SQLite would store it as NULL (nothing was sent)"
            )))
        }
        Value::Text(s) => SqlStorageValue::String(s.clone()),
        Value::Blob(b) => SqlStorageValue::Blob(b.clone()),
    })
}

/// Sonic's value for a result cell.
pub(crate) fn from_storage(value: SqlStorageValue) -> Value {
    match value {
        SqlStorageValue::Null => Value::Null,
        SqlStorageValue::Boolean(b) => Value::Integer(i64::from(b)),
        SqlStorageValue::Integer(i) => Value::Integer(i),
        SqlStorageValue::Float(f) => Value::Real(f),
        SqlStorageValue::String(s) => Value::Text(s),
        SqlStorageValue::Blob(b) => Value::Blob(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_within_the_platforms_range_convert_both_ways() {
        let caps = crate::DO_CAPABILITIES;
        for value in [
            Value::Null,
            Value::Integer(-(1 << 53) + 1),
            Value::Integer((1 << 53) - 1),
            Value::Real(0.5),
            Value::Text("é\0".into()),
            Value::Blob(vec![0, 255]),
        ] {
            let stored = to_storage(&value, &caps);
            assert_eq!(stored.map(from_storage).ok(), Some(value));
        }
    }

    #[test]
    fn integers_beyond_the_exact_range_bind_as_their_text() {
        let caps = crate::DO_CAPABILITIES;
        for i in [1 << 53, -(1 << 53), i64::MAX, i64::MIN] {
            assert_eq!(
                to_storage(&Value::Integer(i), &caps).map(from_storage).ok(),
                Some(Value::Text(i.to_string()))
            );
        }
    }

    #[test]
    fn non_finite_reals_are_refused() {
        let caps = crate::DO_CAPABILITIES;
        for value in [Value::Real(f64::NAN), Value::Real(f64::INFINITY)] {
            assert!(matches!(to_storage(&value, &caps), Err(Error::Limit(_))));
        }
        assert_eq!(
            from_storage(SqlStorageValue::Boolean(true)),
            Value::Integer(1)
        );
    }
}
