//! Raw SQL rows into any `Deserialize` type, with SQLite's storage classes read the way Rust
//! types expect them: `0`/`1` as `bool`, `NULL` as `None`, JSON held in TEXT as a nested
//! struct, list or map, a BLOB as bytes.
//!
//! A row is a map from column name to value for structs and maps, and a sequence of values
//! for tuples; a single-column row also decodes into the bare value (`SELECT count(*)` into
//! `u64`). Read by name, a result that repeats a column name is refused, naming it: one of
//! the values would otherwise overwrite the other.

use std::fmt;

use serde::de::value::{SeqDeserializer, StrDeserializer};
use serde::de::{
    DeserializeOwned, DeserializeSeed, Deserializer, Expected, IntoDeserializer, MapAccess,
    SeqAccess, Unexpected, Visitor,
};

use crate::backend::QueryResult;
use crate::error::{Error, Result};
use crate::value::{ConvertError, Value};

/// Names of columns that `columns` holds more than once, in order of first repetition.
pub(crate) fn duplicate_columns(columns: &[String]) -> Vec<&str> {
    let mut repeated: Vec<&str> = Vec::new();
    for (i, name) in columns.iter().enumerate() {
        let seen_before = columns.iter().take(i).any(|earlier| earlier == name);
        if seen_before && !repeated.contains(&name.as_str()) {
            repeated.push(name);
        }
    }
    repeated
}

/// The error of a result read by column name whose names repeat.
pub(crate) fn duplicate_error(repeated: &[&str]) -> Error {
    let names: Vec<String> = repeated.iter().map(|n| format!("`{n}`")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Error::InvalidQuery(format!(
        "the result has the column {} more than once; alias the columns (`AS …`) so that \
         each name is unique, or read the rows as tuples",
        names.join(", ")
    ))
}

/// Decodes every row of `result` into `R`.
pub(crate) fn decode_rows_as<R: DeserializeOwned>(result: QueryResult) -> Result<Vec<R>> {
    let width = result.columns.len();
    if width == 0 || result.values.is_empty() {
        return Ok(Vec::new());
    }
    if result.values.len() % width != 0 {
        return Err(Error::Database {
            message: format!(
                "the backend returned {} values for rows of {width} columns",
                result.values.len()
            ),
        });
    }
    let repeated = duplicate_columns(&result.columns);
    let mut rows = Vec::with_capacity(result.values.len() / width);
    let mut values = result.values.into_iter();
    for index in 0.. {
        let row: Vec<Value> = values.by_ref().take(width).collect();
        if row.is_empty() {
            break;
        }
        let mut current = None;
        let deserializer = RowDeserializer {
            columns: &result.columns,
            repeated: &repeated,
            values: row,
            current: &mut current,
        };
        match R::deserialize(deserializer) {
            Ok(decoded) => rows.push(decoded),
            Err(error) => {
                let column = current.and_then(|c| result.columns.get(c));
                return Err(row_error::<R>(index, column.map(String::as_str), error));
            }
        }
    }
    Ok(rows)
}

/// The error of row `index`: [`Error::Decode`] naming the column for a value of the wrong
/// kind, otherwise [`Error::InvalidQuery`] (a missing field, duplicate names, …).
fn row_error<R>(index: usize, column: Option<&str>, error: DeError) -> Error {
    let type_name = std::any::type_name::<R>();
    let short = type_name.rsplit("::").next().unwrap_or(type_name);
    match (error, column) {
        (DeError::Convert(source), Some(column)) => Error::Decode {
            table: format!("{short} (raw row {index})"),
            column: column.to_string(),
            key: None,
            source,
        },
        (DeError::Convert(source), None) => {
            Error::InvalidQuery(format!("raw row {index} into `{short}`: {source}"))
        }
        (DeError::Other(message), Some(column)) => Error::InvalidQuery(format!(
            "raw row {index} into `{short}`, column `{column}`: {message}"
        )),
        (DeError::Other(message), None) => {
            Error::InvalidQuery(format!("raw row {index} into `{short}`: {message}"))
        }
        (DeError::Duplicate(error), _) => error,
    }
}

/// Why a row did not decode.
#[derive(Debug)]
enum DeError {
    /// A value of another kind than the field takes.
    Convert(ConvertError),
    /// The result repeats a column name.
    Duplicate(Error),
    /// Anything else serde reports.
    Other(String),
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeError::Convert(e) => e.fmt(f),
            DeError::Duplicate(e) => e.fmt(f),
            DeError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DeError {}

impl serde::de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        DeError::Other(message.to_string())
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        DeError::Convert(ConvertError::new(
            expected.to_string(),
            unexpected.to_string(),
        ))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        DeError::invalid_type(unexpected, expected)
    }
}

/// One row: a map by column name, a sequence by position, or its single value.
struct RowDeserializer<'a> {
    columns: &'a [String],
    repeated: &'a [&'a str],
    values: Vec<Value>,
    /// The column being decoded, for the error.
    current: &'a mut Option<usize>,
}

impl RowDeserializer<'_> {
    fn by_name<'de, V: Visitor<'de>>(self, visitor: V) -> std::result::Result<V::Value, DeError> {
        if !self.repeated.is_empty() {
            return Err(DeError::Duplicate(duplicate_error(self.repeated)));
        }
        visitor.visit_map(RowMap {
            columns: self.columns,
            values: self.values.into_iter(),
            index: 0,
            current: self.current,
        })
    }

    fn single(mut self) -> std::result::Result<ValueDeserializer, DeError> {
        match self.values.pop() {
            Some(value) if self.values.is_empty() => {
                *self.current = Some(0);
                Ok(ValueDeserializer(value))
            }
            _ => Err(DeError::Other(format!(
                "a row of {} columns cannot be one value; read it into a struct, a map or a \
                 tuple",
                self.columns.len()
            ))),
        }
    }
}

/// Forwards a scalar request to the row's single value.
macro_rules! single_value {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> std::result::Result<V::Value, DeError> {
            self.single()?.$method(visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for RowDeserializer<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        self.by_name(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        self.by_name(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        self.by_name(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        visitor.visit_seq(RowSeq {
            values: self.values.into_iter(),
            index: 0,
            current: self.current,
        })
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        self.single()?.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        self.single()?.deserialize_unit_struct(name, visitor)
    }

    single_value! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_bytes deserialize_byte_buf deserialize_option
        deserialize_unit deserialize_identifier deserialize_ignored_any
    }
}

/// A row as column name → value.
struct RowMap<'a> {
    columns: &'a [String],
    values: std::vec::IntoIter<Value>,
    index: usize,
    current: &'a mut Option<usize>,
}

impl<'de> MapAccess<'de> for RowMap<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> std::result::Result<Option<K::Value>, DeError> {
        match self.columns.get(self.index) {
            Some(name) => {
                *self.current = Some(self.index);
                let key: StrDeserializer<'_, DeError> = name.as_str().into_deserializer();
                seed.deserialize(key).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> std::result::Result<S::Value, DeError> {
        self.index += 1;
        let value = self.values.next().unwrap_or_default();
        seed.deserialize(ValueDeserializer(value))
    }
}

/// A row as its values in order.
struct RowSeq<'a> {
    values: std::vec::IntoIter<Value>,
    index: usize,
    current: &'a mut Option<usize>,
}

impl<'de> SeqAccess<'de> for RowSeq<'_> {
    type Error = DeError;

    fn next_element_seed<S: DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> std::result::Result<Option<S::Value>, DeError> {
        match self.values.next() {
            Some(value) => {
                *self.current = Some(self.index);
                self.index += 1;
                seed.deserialize(ValueDeserializer(value)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.values.len())
    }
}

/// One SQLite value, read as the field asks.
struct ValueDeserializer(Value);

impl ValueDeserializer {
    /// Names the stored value in a kind mismatch (serde's own wording is Rust's).
    fn found(value: &Value) -> impl Fn(DeError) -> DeError + '_ {
        move |error| match error {
            DeError::Convert(e) => {
                DeError::Convert(ConvertError::new(e.expected, value.describe()))
            }
            other => other,
        }
    }

    /// JSON held in TEXT, for a field that is a struct, list or map.
    fn json<'de, V: Visitor<'de>>(
        text: &str,
        visitor: V,
        read: impl FnOnce(serde_json::Value, V) -> serde_json::Result<V::Value>,
    ) -> std::result::Result<V::Value, DeError> {
        let parsed = serde_json::from_str::<serde_json::Value>(text);
        parsed.and_then(|json| read(json, visitor)).map_err(|e| {
            DeError::Convert(ConvertError::new(
                format!("JSON text for this field ({e})"),
                Value::Text(text.to_string()).describe(),
            ))
        })
    }
}

macro_rules! forward_any {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> std::result::Result<V::Value, DeError> {
            self.deserialize_any(visitor)
        }
    )*};
}

impl<'de> Deserializer<'de> for ValueDeserializer {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        let value = &self.0;
        match value {
            Value::Null => visitor.visit_unit(),
            Value::Integer(i) => visitor.visit_i64(*i),
            Value::Real(r) => visitor.visit_f64(*r),
            Value::Text(s) => visitor.visit_str(s),
            Value::Blob(b) => visitor.visit_bytes(b),
        }
        .map_err(Self::found(value))
    }

    fn deserialize_bool<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        match &self.0 {
            Value::Integer(0) => visitor.visit_bool(false),
            Value::Integer(1) => visitor.visit_bool(true),
            // Numbers that travelled through JavaScript (D1) may arrive as REAL.
            Value::Real(r) if *r == 0.0 || *r == 1.0 => visitor.visit_bool(*r == 1.0),
            other => Err(DeError::Convert(ConvertError::new(
                "INTEGER 0 or 1 (bool)",
                other.describe(),
            ))),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        match self.0 {
            Value::Blob(bytes) => visitor.visit_seq(SeqDeserializer::new(bytes.into_iter())),
            Value::Text(text) => Self::json(&text, visitor, |json, v| json.deserialize_seq(v)),
            other => ValueDeserializer(other).deserialize_any(visitor),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        match self.0 {
            Value::Text(text) => Self::json(&text, visitor, |json, v| json.deserialize_map(v)),
            other => ValueDeserializer(other).deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        match self.0 {
            Value::Text(text) => Self::json(&text, visitor, |json, v| {
                json.deserialize_struct(name, fields, v)
            }),
            other => ValueDeserializer(other).deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        match &self.0 {
            Value::Text(text) => {
                let variant: StrDeserializer<'_, DeError> = text.as_str().into_deserializer();
                visitor.visit_enum(variant).map_err(Self::found(&self.0))
            }
            other => Err(DeError::Convert(ConvertError::new(
                "TEXT naming a variant",
                other.describe(),
            ))),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    forward_any! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_str deserialize_string
        deserialize_bytes deserialize_byte_buf deserialize_unit deserialize_identifier
        deserialize_ignored_any
    }
}
