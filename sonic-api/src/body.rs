//! Request bodies: JSON → a record to create, or the column values of a partial update.
//! Every key is checked against the table before anything is written; server-managed fields
//! (audit columns, generated ids) are never required and never taken from a body.

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde_json::{Map, Value as Json};
use sonic_db_core::{Capabilities, ColumnDef, Table, TableDef, Value};

use crate::error::ApiError;

/// D1's largest row, in bytes: a bigger one is the client's 400, not the database's error.
pub(crate) const MAX_ROW_BYTES: usize = Capabilities::D1.max_value_bytes;

/// The longest id a URL path segment may carry back (and a KV key hold).
pub(crate) const MAX_ID_BYTES: usize = 512;

/// Parses a body as JSON; an object that names a key twice is refused (serde_json would keep
/// the last one silently, so a rule or a hook could see one value and the client mean another).
///
/// The body is checked as UTF-8 first, then parsed as text: serde_json's reader of text is
/// already in a Worker's wasm (cache envelopes, eager-loading payloads), its reader of bytes
/// would be 10 KB more.
pub(crate) fn parse_json(body: &[u8]) -> Result<Json, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request("the request has no body; send JSON"));
    }
    let text = std::str::from_utf8(body).map_err(|e| {
        // Where, as serde_json words its positions: line and column (in bytes), from 1.
        let valid = body.get(..e.valid_up_to()).unwrap_or_default();
        let line = valid
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            .saturating_add(1);
        let line_start = valid
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |at| at + 1);
        let column = valid.len().saturating_sub(line_start).saturating_add(1);
        ApiError::bad_request(format!(
            "malformed JSON: invalid UTF-8 at line {line} column {column}"
        ))
    })?;
    serde_json::from_str::<Strict>(text)
        .map(|strict| strict.0)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))
}

/// A JSON value whose objects have distinct keys.
struct Strict(Json);

impl<'de> de::Deserialize<'de> for Strict {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("the key `{key}` is given twice")));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Json::Object(object))
    }
}

/// A JSON object, or a 400 naming what was sent instead.
pub(crate) fn expect_object(json: Json, what: &str) -> Result<Map<String, Json>, ApiError> {
    match json {
        Json::Object(map) => Ok(map),
        other => Err(ApiError::bad_request(format!(
            "{what} must be a JSON object, not {}",
            kind(&other)
        ))),
    }
}

/// The column of each key; unknown keys and relations are refused.
pub(crate) fn columns_of(
    table: &'static TableDef,
    fields: &Map<String, Json>,
) -> Result<Vec<(usize, &'static ColumnDef)>, ApiError> {
    let mut columns = Vec::with_capacity(fields.len());
    for field in fields.keys() {
        match table
            .columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.field == field)
        {
            Some(found) => columns.push(found),
            None if table.relation(field).is_some() => {
                return Err(ApiError::bad_request(format!(
                    "`{field}` is a relation of `{}`: write those records through their own table",
                    table.name
                )))
            }
            None => {
                return Err(ApiError::bad_request(format!(
                    "unknown field `{field}` of `{}`",
                    table.name
                )))
            }
        }
    }
    Ok(columns)
}

/// Refuses ids a URL cannot address: after normalisation `""`, `.`, `..` and ids with `/`
/// name another path; over 512 bytes they exceed KV's key size.
pub(crate) fn check_addressable(table: &str, id: &Value) -> Result<(), ApiError> {
    let Value::Text(id) = id else { return Ok(()) };
    let problem = if id.is_empty() || id == "." || id == ".." {
        Some("cannot be addressed by a URL")
    } else if id.contains('/') {
        Some("contains `/`, which a URL path cannot carry in one segment")
    } else if id.len() > MAX_ID_BYTES {
        Some("is longer than 512 bytes")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(ApiError::bad_request(format!(
            "the id `{}` of a new `{table}` record {problem}",
            id.chars().take(64).collect::<String>()
        ))),
        None => Ok(()),
    }
}

/// A new record from the (already filtered) fields of a `POST`. Audit columns are filled by
/// Sonic on insert, so they are set to 0 here whatever the body said.
pub(crate) fn new_record<T: Table + DeserializeOwned>(
    mut fields: Map<String, Json>,
) -> Result<T, ApiError> {
    for column in T::DEF.columns.iter().filter(|c| c.audit.is_some()) {
        fields.insert(column.field.to_string(), Json::from(0));
    }
    let record =
        T::deserialize(Fields(fields)).map_err(|e| ApiError::bad_request(e.to_string()))?;
    check_row(&record)?;
    Ok(record)
}

/// The encoded row must fit D1's row size (and encode at all).
pub(crate) fn check_row<T: Table>(record: &T) -> Result<(), ApiError> {
    let mut row = Vec::with_capacity(T::DEF.columns.len());
    record.encode_into(&mut row)?;
    check_row_bytes(T::DEF, &row)
}

fn check_row_bytes(def: &'static TableDef, row: &[Value]) -> Result<(), ApiError> {
    let bytes: usize = row.iter().map(value_bytes).sum();
    if bytes > MAX_ROW_BYTES {
        return Err(ApiError::new(
            413,
            format!(
                "the `{}` record is {bytes} bytes; D1 stores rows of at most {MAX_ROW_BYTES}",
                def.name
            ),
        ));
    }
    Ok(())
}

pub(crate) fn value_bytes(value: &Value) -> usize {
    match value {
        Value::Text(s) => s.len(),
        Value::Blob(b) => b.len(),
        _ => 8,
    }
}

/// What a JSON value is, for messages.
pub(crate) fn kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A JSON object as a serde map whose errors name the field (serde's do not inside a
/// `#[serde(flatten)]`, and `deny_unknown_fields` does not combine with it).
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

#[cfg(test)]
mod tests {
    use super::parse_json;

    #[test]
    fn a_body_not_utf8_is_malformed_json_at_its_first_invalid_byte() {
        let error = parse_json(b"{\"a\":\n  \"\xff\"}").unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(
            error.message,
            "malformed JSON: invalid UTF-8 at line 2 column 4"
        );
        let error = parse_json(b"{\"a\": 1").unwrap_err();
        assert_eq!(
            error.message,
            "malformed JSON: EOF while parsing an object at line 1 column 7"
        );
        assert_eq!(parse_json(b"{\"a\": \"\xc3\xa9\"}").unwrap()["a"], "é");
    }
}
