//! Keys of parent rows that can be hashed and compared, as SQLite compares them.

use crate::value::Value;

/// A join key that can be hashed. Integral reals count as integers, as SQLite compares them.
/// (Ordered too, by variant then value: any total order does for telling that keys increase.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Key {
    Integer(i64),
    Real(u64),
    Text(String),
    Blob(Vec<u8>),
}

impl Key {
    pub(super) fn of(value: &Value) -> Option<Key> {
        match value {
            Value::Text(s) => Some(Key::Text(s.clone())),
            Value::Blob(b) => Some(Key::Blob(b.clone())),
            Value::Null | Value::Integer(_) | Value::Real(_) => Key::from_scalar(value),
        }
    }

    /// [`Key::of`] taking the value: TEXT and BLOB keys move instead of being copied.
    pub(super) fn from_value(value: Value) -> Option<Key> {
        match value {
            Value::Text(s) => Some(Key::Text(s)),
            Value::Blob(b) => Some(Key::Blob(b)),
            ref scalar => Key::from_scalar(scalar),
        }
    }

    /// Whether `value` is this key (as [`Key::of`] would make it), without copying it.
    pub(super) fn is(&self, value: &Value) -> bool {
        match (self, value) {
            (Key::Integer(k), Value::Integer(v)) => k == v,
            (Key::Text(k), Value::Text(v)) => k == v,
            (Key::Blob(k), Value::Blob(v)) => k == v,
            (_, Value::Text(_) | Value::Blob(_)) => false,
            (key, scalar) => Key::from_scalar(scalar).as_ref() == Some(key),
        }
    }

    fn from_scalar(value: &Value) -> Option<Key> {
        match *value {
            Value::Integer(i) => Some(Key::Integer(i)),
            Value::Real(r) if r.fract() == 0.0 && r.abs() < 9.2e18 => Some(Key::Integer(r as i64)),
            Value::Real(r) => Some(Key::Real(r.to_bits())),
            Value::Null | Value::Text(_) | Value::Blob(_) => None,
        }
    }
}
