//! The five SQLite storage classes, owned.
//!
//! Every value that crosses into or out of a backend is one of these: SQL text never contains
//! a value, only `?` placeholders (see [`crate::backend::Statement`]).

use std::fmt;

/// A value as SQLite (and D1) store it.
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
    /// use sonic_core::Value;
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
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The declared type of a column, which is also its SQLite type affinity.
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
    pub fn keyword(self) -> &'static str {
        match self {
            SqlType::Integer => "INTEGER",
            SqlType::Real => "REAL",
            SqlType::Text => "TEXT",
            SqlType::Blob => "BLOB",
        }
    }
}
