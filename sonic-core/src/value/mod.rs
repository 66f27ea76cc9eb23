//! The five SQLite storage classes, owned.
//!
//! Every value that crosses into or out of a backend is one of these: SQL text never contains
//! a value, only `?` placeholders (see [`Statement`](crate::Statement)).

use std::fmt;

mod cell;
#[cfg(feature = "chrono")]
mod chrono_types;
mod convert;
mod integer_text;
mod key;
mod param;
#[cfg(any(feature = "chrono", feature = "time", feature = "uuid"))]
mod text_form;
#[cfg(feature = "time")]
mod time_types;
#[cfg(feature = "uuid")]
mod uuid_type;

pub use cell::Cell;
pub use convert::{ColumnType, ConvertError, FromValue, Json, ToValue};
pub(crate) use integer_text::integers_from_text;
pub use integer_text::{decode_column, decode_column_cell, integer_from_text};
pub use key::{IntoKey, Key, KeyParts};
pub use param::Param;

/// A value as SQLite (and D1) store it.
///
/// ```
/// use sonic_db_core::{ToValue, Value};
/// assert_eq!(42_i64.to_value().unwrap(), Value::Integer(42));
/// assert_eq!(true.to_value().unwrap(), Value::Integer(1)); // SQLite has no BOOLEAN
/// assert_eq!(None::<String>.to_value().unwrap(), Value::Null);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// SQL `NULL`.
    #[default]
    Null,
    /// A 64-bit signed integer (`INTEGER`).
    Integer(i64),
    /// An IEEE 754 double (`REAL`).
    Real(f64),
    /// UTF-8 text (`TEXT`).
    Text(String),
    /// Bytes (`BLOB`).
    Blob(Vec<u8>),
}

impl Value {
    /// The storage class name used in error messages (`"INTEGER"`, `"TEXT"`, …).
    ///
    /// ```
    /// use sonic_db_core::Value;
    /// assert_eq!(Value::Real(0.5).type_name(), "REAL");
    /// assert_eq!(Value::Null.type_name(), "NULL");
    /// ```
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Integer(_) => "INTEGER",
            Value::Real(_) => "REAL",
            Value::Text(_) => "TEXT",
            Value::Blob(_) => "BLOB",
        }
    }

    /// A short description for error messages: the type and, for small values, the value.
    ///
    /// ```
    /// use sonic_db_core::Value;
    /// assert_eq!(Value::Text("x".into()).describe(), "TEXT \"x\"");
    /// ```
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "NULL".to_string(),
            Value::Integer(i) => format!("INTEGER {i}"),
            Value::Real(r) => format!("REAL {r}"),
            Value::Text(s) if s.chars().count() <= 40 => format!("TEXT {s:?}"),
            Value::Text(s) => format!("TEXT of {} bytes", s.len()),
            Value::Blob(b) => format!("BLOB of {} bytes", b.len()),
        }
    }

    /// Whether this is SQL `NULL`.
    ///
    /// ```
    /// use sonic_db_core::Value;
    /// assert!(Value::Null.is_null());
    /// assert!(!Value::Text(String::new()).is_null()); // an empty text is a value
    /// ```
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value of a column of type `sql_type` from JSON, as a REST client sends it, in the
    /// JSON forms serde gives the plain column types:
    ///
    /// | `sql_type` | accepts |
    /// |---|---|
    /// | any | `null` → `Null` (whether the column takes it is checked elsewhere) |
    /// | `INTEGER` | an integer within `i64` (not `1.0`), or `true`/`false` → 1/0 |
    /// | `REAL` | a number; integers only within ±2^53, where they convert exactly |
    /// | `TEXT` | a string |
    /// | `BLOB` | an array of integers `0..=255` (serde's form of `Vec<u8>`) |
    ///
    /// Anything else is a [`ConvertError`] saying what was expected and what was found.
    /// Columns whose Rust type stores another JSON form (a `Json<T>` stores any JSON as its
    /// text) convert through [`ColumnType::value_from_json`],
    /// and a table's [`Table::column_from_json`](crate::Table::column_from_json) picks the
    /// right one per column.
    ///
    /// ```
    /// use serde_json::json;
    /// use sonic_db_core::{SqlType, Value};
    /// assert_eq!(Value::from_json(&json!(7), SqlType::Integer), Ok(Value::Integer(7)));
    /// assert_eq!(Value::from_json(&json!(true), SqlType::Integer), Ok(Value::Integer(1)));
    /// assert_eq!(Value::from_json(&json!(7), SqlType::Real), Ok(Value::Real(7.0)));
    /// assert_eq!(Value::from_json(&json!([0, 255]), SqlType::Blob), Ok(Value::Blob(vec![0, 255])));
    /// assert_eq!(Value::from_json(&json!(null), SqlType::Text), Ok(Value::Null));
    /// let err = Value::from_json(&json!("7"), SqlType::Integer).unwrap_err();
    /// assert_eq!(err.to_string(), "expected a JSON integer (or true/false), found a JSON string \"7\"");
    /// ```
    pub fn from_json(json: &serde_json::Value, sql_type: SqlType) -> Result<Value, ConvertError> {
        use serde_json::Value as Json;
        let mismatch = |expected: &'static str| ConvertError::new(expected, describe_json(json));
        match (sql_type, json) {
            (_, Json::Null) => Ok(Value::Null),
            (SqlType::Integer, Json::Bool(b)) => Ok(Value::Integer(i64::from(*b))),
            (SqlType::Integer, Json::Number(n)) => n
                .as_i64()
                .map(Value::Integer)
                .ok_or_else(|| mismatch("a JSON integer within the range of i64")),
            (SqlType::Integer, _) => Err(mismatch("a JSON integer (or true/false)")),
            (SqlType::Real, Json::Number(n)) => {
                let exact = match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => (-F64_EXACT..=F64_EXACT).contains(&i),
                    (None, Some(_)) => false, // beyond i64::MAX
                    (None, None) => true,
                };
                match n.as_f64() {
                    Some(r) if exact && r.is_finite() => Ok(Value::Real(r)),
                    _ => Err(mismatch("a JSON number that a REAL holds exactly")),
                }
            }
            (SqlType::Real, _) => Err(mismatch("a JSON number")),
            (SqlType::Text, Json::String(s)) => Ok(Value::Text(s.clone())),
            (SqlType::Text, _) => Err(mismatch("a JSON string")),
            (SqlType::Blob, Json::Array(items)) => items
                .iter()
                .map(|item| item.as_u64().and_then(|b| u8::try_from(b).ok()))
                .collect::<Option<Vec<u8>>>()
                .map(Value::Blob)
                .ok_or_else(|| mismatch("a JSON array of bytes (integers 0 to 255)")),
            (SqlType::Blob, _) => Err(mismatch("a JSON array of bytes (integers 0 to 255)")),
        }
    }
}

/// 2^53: the integers up to it (in magnitude) convert to a double exactly.
pub(crate) const F64_EXACT: i64 = 1 << 53;

/// A JSON value for error messages: its kind and, when short, the value.
fn describe_json(json: &serde_json::Value) -> String {
    use serde_json::Value as Json;
    match json {
        Json::Null => "null".to_string(),
        Json::Bool(b) => format!("a JSON boolean {b}"),
        Json::Number(n) => format!("a JSON number {n}"),
        Json::String(s) if s.chars().count() <= 40 => format!("a JSON string {s:?}"),
        Json::String(s) => format!("a JSON string of {} bytes", s.len()),
        Json::Array(items) => format!("a JSON array of {} items", items.len()),
        Json::Object(_) => "a JSON object".to_string(),
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The declared type of a column, which is also its SQLite type affinity.
///
/// ```
/// use sonic_db_core::{ColumnType, SqlType};
/// assert_eq!(<bool as ColumnType>::SQL_TYPE, SqlType::Integer);
/// assert_eq!(<String as ColumnType>::SQL_TYPE, SqlType::Text);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// `INTEGER`: integers of every width, booleans (0/1), Unix-millisecond timestamps.
    Integer,
    /// `REAL`: floats.
    Real,
    /// `TEXT`: strings, string enums, JSON documents.
    Text,
    /// `BLOB`: bytes.
    Blob,
}

impl SqlType {
    /// The keyword used in `CREATE TABLE`.
    ///
    /// ```
    /// use sonic_db_core::SqlType;
    /// assert_eq!(SqlType::Blob.keyword(), "BLOB");
    /// ```
    pub fn keyword(self) -> &'static str {
        match self {
            SqlType::Integer => "INTEGER",
            SqlType::Real => "REAL",
            SqlType::Text => "TEXT",
            SqlType::Blob => "BLOB",
        }
    }
}
