//! Request bodies: JSON → records of `T`, checked field by field before anything is written.
//!
//! Why not just `serde_json::from_slice::<T>`: the seed's tables spread their audit columns
//! with `#[serde(flatten)]`, and serde cannot combine `deny_unknown_fields` with `flatten`, so
//! a misspelt field would be silently dropped; and inside a flattened struct serde's errors do
//! not name the field. So the body is first parsed as a JSON object, its keys are checked
//! against the table's columns, and the record is then deserialised through `Fields`, which
//! puts the field's name in front of serde's message.

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde_json::{Map, Value as Json};
use sonic_db_core::{Capabilities, SqlType, Table, Value};

use super::error::ApiError;

/// D1's largest string, BLOB or row, in bytes ([`Capabilities::D1`]'s `max_value_bytes`). A
/// bigger row is refused by D1 with a database error; checked here, it is the client's 400.
pub const MAX_ROW_BYTES: usize = Capabilities::D1.max_value_bytes;

/// Parses a request body as JSON.
pub fn parse_json(body: &[u8]) -> Result<Json, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("the request has no body; send JSON"));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))
}

/// A JSON object, or a 400 naming what was sent instead.
pub fn expect_object(json: Json, what: &str) -> Result<Map<String, Json>, ApiError> {
    match json {
        Json::Object(map) => Ok(map),
        other => Err(ApiError::bad_request(format!(
            "{what} must be a JSON object, not {}",
            kind(&other)
        ))),
    }
}

/// A new record from the fields of a `POST`.
///
/// A missing text primary key is generated (`new_id`), as SonicJs does; the audit columns are
/// set by Sonic on insert, so values sent for them are checked but ignored.
pub fn new_record<T: Table + DeserializeOwned>(
    mut fields: Map<String, Json>,
    new_id: impl FnOnce() -> Result<String, ApiError>,
) -> Result<T, ApiError> {
    check_fields::<T>(&fields)?;
    for column in T::DEF.columns.iter().filter(|c| c.audit.is_some()) {
        fields.insert(column.field.to_string(), Json::from(0));
    }
    let key = T::DEF.primary_key_column()?;
    if fields.get(key.field).is_none_or(Json::is_null) {
        if key.sql_type != SqlType::Text {
            return Err(ApiError::bad_request(format!(
                "`{}` is required",
                key.field
            )));
        }
        fields.insert(key.field.to_string(), Json::String(new_id()?));
    }
    let record = deserialize::<T>(fields)?;
    check_row(&record)?;
    Ok(record)
}

/// `stored` with the fields of a `PUT` merged in: a partial update. The audit columns keep
/// their stored values (Sonic stamps `updated_on` on write); an `id` in the body must be the
/// one in the path.
pub fn merged_record<T: Table + serde::Serialize + DeserializeOwned>(
    stored: &T,
    path_id: &str,
    fields: Map<String, Json>,
) -> Result<T, ApiError> {
    check_fields::<T>(&fields)?;
    let key_field = T::DEF.primary_key_column()?.field;
    let body_id = fields.get(key_field).cloned();
    let mut merged = match serde_json::to_value(stored) {
        Ok(Json::Object(map)) => map,
        Ok(_) | Err(_) => {
            return Err(ApiError::internal(format!(
                "a stored `{}` record does not serialise as a JSON object",
                T::DEF.name
            )))
        }
    };
    for (field, value) in fields {
        let audit = T::DEF
            .columns
            .iter()
            .any(|c| c.field == field && c.audit.is_some());
        if !audit {
            merged.insert(field, value);
        }
    }
    let record = deserialize::<T>(merged)?;
    if record.primary_key_value()? != stored.primary_key_value()? {
        return Err(ApiError::bad_request(format!(
            "the `{key_field}` in the body ({}) is not the one in the path (`{path_id}`)",
            body_id.unwrap_or_default()
        )));
    }
    check_row(&record)?;
    Ok(record)
}

/// Every key must be a column of `T`; audit columns, which the server sets, must at least be
/// integers.
fn check_fields<T: Table>(fields: &Map<String, Json>) -> Result<(), ApiError> {
    let table = T::DEF;
    for (field, value) in fields {
        match table.columns.iter().find(|c| c.field == field) {
            Some(column) if column.audit.is_some() => {
                if !(value.is_i64() || value.is_null()) {
                    return Err(ApiError::bad_request(format!(
                        "field `{field}`: expected an integer (Unix ms; it is set by the \
                         server), found {}",
                        kind(value)
                    )));
                }
            }
            Some(_) => {}
            None if table.relation(field).is_some() => {
                return Err(ApiError::bad_request(format!(
                    "`{field}` is a relation of `{}`: write those records through their own \
                     table",
                    table.name
                )))
            }
            None => {
                let known: Vec<&str> = table.columns.iter().map(|c| c.field).collect();
                return Err(ApiError::bad_request(format!(
                    "unknown field `{field}` for `{}` (fields: {})",
                    table.name,
                    known.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// The encoded row must fit D1's row size (and encode at all: e.g. a `u64` beyond `i64::MAX`).
fn check_row<T: Table>(record: &T) -> Result<(), ApiError> {
    let mut row = Vec::with_capacity(T::DEF.columns.len());
    record.encode_into(&mut row)?;
    let bytes: usize = row
        .iter()
        .map(|value| match value {
            Value::Text(s) => s.len(),
            Value::Blob(b) => b.len(),
            _ => 8,
        })
        .sum();
    if bytes > MAX_ROW_BYTES {
        return Err(ApiError::bad_request(format!(
            "the `{}` record is {bytes} bytes; D1 stores rows of at most {MAX_ROW_BYTES}",
            T::DEF.name
        )));
    }
    Ok(())
}

/// Deserialises `T` from a JSON object, naming the field of a failure.
fn deserialize<T: DeserializeOwned>(fields: Map<String, Json>) -> Result<T, ApiError> {
    T::deserialize(Fields(fields)).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// What a JSON value is, for messages.
fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A JSON object as a serde map whose value errors start with `field \`name\`: `.
struct Fields(Map<String, Json>);

impl<'de> de::Deserializer<'de> for Fields {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(FieldsAccess {
            fields: self.0.into_iter(),
            current: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

struct FieldsAccess {
    fields: serde_json::map::IntoIter,
    current: Option<(String, Json)>,
}

impl<'de> MapAccess<'de> for FieldsAccess {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let Some((field, value)) = self.fields.next() else {
            return Ok(None);
        };
        let key = seed.deserialize(de::value::StrDeserializer::<Self::Error>::new(&field))?;
        self.current = Some((field, value));
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        let Some((field, value)) = self.current.take() else {
            return Err(de::Error::custom("a value without a field"));
        };
        seed.deserialize(value)
            .map_err(|e| de::Error::custom(format!("field `{field}`: {e}")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len())
    }
}
