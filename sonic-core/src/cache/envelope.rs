//! The cached form of one row: a small JSON envelope.
//!
//! ```json
//! {"v":2,"t":"users","fp":"3f0c9a5e12b7d4c8","tg":"9b1f…","bg":"","row":["u1","Ada",1733000000000,null]}
//! ```
//!
//! `fp` is a fingerprint of the table's SQL-level layout (see [`fingerprint`]); `tg` and `bg`
//! are the table and bucket generations the filler read before its SQL read ([`Generations`];
//! `""` for a generation key that did not exist), which a hit must match; `row` holds
//! the column values in [`crate::TableDef::columns`] order, encoded losslessly:
//!
//! | storage class | JSON |
//! |---|---|
//! | `NULL` | `null` |
//! | `INTEGER` | a number without fraction or exponent (every `i64` exactly) |
//! | `REAL` | a number with a fraction or exponent (`1.0`, `-0.0`, `1e300`); NaN/±∞ as `{"f":"nan"}` / `{"f":"inf"}` / `{"f":"-inf"}` |
//! | `TEXT` | a string |
//! | `BLOB` | `{"b":"<standard base64>"}` |
//!
//! Decoding is strict: anything else (another version, another fingerprint, a row of the
//! wrong length, an unknown value shape) is an error, which the cache treats as a miss.

use std::borrow::Cow;
use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use sha2::{Digest, Sha256};

use crate::schema::{TableDef, TableMemo};
use crate::value::Value;

/// The envelope format version (2: with generations).
const VERSION: u64 = 2;

/// The generations an envelope is tagged with: the values of its table's generation key and
/// of its record's bucket generation key, read before the SQL read that produced the row.
/// `""` stands for a key that does not exist.
///
/// ```
/// use sonic_db_core::cache::envelope::Generations;
/// assert_eq!(Generations::absent(), Generations { table: String::new(), bucket: String::new() });
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Generations {
    /// The table generation.
    pub table: String,
    /// The bucket generation.
    pub bucket: String,
}

impl Generations {
    /// Both keys absent: what a reader sees before any write of the table.
    pub fn absent() -> Self {
        Generations::default()
    }
}

/// A fingerprint of a table's SQL-level layout: table name, and each column's name, type,
/// nullability and primary-key flag, in order, and a composite key's column order (16 hex
/// digits of SHA-256).
///
/// Two definitions with the same fingerprint read the same columns in the same order with the
/// same storage classes, so a cached raw row is exactly what a SQL read would hand to
/// [`crate::Table::decode`]. A change of Rust field type over the same SQL type needs no new
/// fingerprint: the raw values are the same, and if they no longer convert, decoding fails
/// and the entry is healed.
pub fn fingerprint(def: &TableDef) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"sonic-envelope\x001\x00");
    hasher.update(def.name.as_bytes());
    for column in def.columns {
        hasher.update(b"\x00");
        hasher.update(column.name.as_bytes());
        hasher.update(b"\x01");
        hasher.update(column.sql_type.keyword().as_bytes());
        hasher.update([u8::from(column.nullable), u8::from(column.primary_key)]);
    }
    // A composite key's order (which names records); absent for a single-column key, whose
    // fingerprints stay as they were.
    if def.primary_key.len() > 1 {
        hasher.update(b"\x00\x02key");
        for &index in def.primary_key {
            hasher.update((index as u64).to_le_bytes());
        }
    }
    hex::encode(hasher.finalize().get(..8).unwrap_or_default())
}

/// Fingerprints computed so far, one per table.
static FINGERPRINTS: TableMemo<String> = TableMemo::new();

/// [`fingerprint`] of a static table definition, computed once per table: the cache checks it
/// on every hit and writes it on every put, and a SHA-256 per hit was 45 % of a warm `find`.
pub(crate) fn fingerprint_of(def: &'static TableDef) -> &'static str {
    FINGERPRINTS.get(def, fingerprint)
}

/// Serialises a row (values in column order), tagged with `gens`, into an envelope.
pub fn encode(def: &TableDef, fingerprint: &str, gens: &Generations, row: &[Value]) -> Vec<u8> {
    // Written directly (no `serde_json::Value` tree): strings through serde_json for their
    // escaping, numbers through its formatter, so the bytes are what serde_json would write.
    let mut out = Vec::with_capacity(64 + def.name.len() + 16 * row.len());
    out.extend_from_slice(b"{\"v\":2,\"t\":");
    write_json(&mut out, def.name);
    out.extend_from_slice(b",\"fp\":");
    write_json(&mut out, fingerprint);
    out.extend_from_slice(b",\"tg\":");
    write_json(&mut out, gens.table.as_str());
    out.extend_from_slice(b",\"bg\":");
    write_json(&mut out, gens.bucket.as_str());
    out.extend_from_slice(b",\"row\":[");
    for (i, value) in row.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match value {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Integer(i) => write_json(&mut out, i),
            Value::Real(r) if r.is_finite() => write_json(&mut out, r),
            Value::Real(r) => {
                let name: &[u8] = if r.is_nan() {
                    b"nan"
                } else if *r > 0.0 {
                    b"inf"
                } else {
                    b"-inf"
                };
                out.extend_from_slice(b"{\"f\":\"");
                out.extend_from_slice(name);
                out.extend_from_slice(b"\"}");
            }
            Value::Text(s) => write_json(&mut out, s.as_str()),
            Value::Blob(b) => {
                out.extend_from_slice(b"{\"b\":\"");
                out.extend_from_slice(base64_encode(b).as_bytes());
                out.extend_from_slice(b"\"}");
            }
        }
    }
    out.extend_from_slice(b"]}");
    out
}

/// Appends `value` as JSON. Serialising a string or a finite number into a `Vec` cannot fail.
fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let _ = serde_json::to_writer(&mut *out, value);
}

/// Parses an envelope back into a row of values, checking version, fingerprint and length.
///
/// Deserialized in one pass into the row's [`Value`]s (no `serde_json::Value` tree); the
/// checks, and which error wins, are those of reading the object field by field: version,
/// then fingerprint, then the row array, its length, and its values in order.
pub fn decode(def: &TableDef, fingerprint: &str, bytes: &[u8]) -> Result<Vec<Value>, String> {
    decode_tagged(def, fingerprint, bytes).map(|(row, _)| row)
}

/// [`decode`], also returning the generations the envelope is tagged with (checked after the
/// fingerprint: an envelope without them is an error).
pub fn decode_tagged(
    def: &TableDef,
    fingerprint: &str,
    bytes: &[u8],
) -> Result<(Vec<Value>, Generations), String> {
    // From a `str`: JSON is UTF-8 throughout, also in the fields the decoder skips (a
    // `from_slice` deserializer lets invalid UTF-8 through in ignored strings; found by
    // sonic-db-fuzz's `envelope` target).
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = EnvelopeSeed {
        width: def.columns.len(),
    }
    .deserialize(&mut deserializer)
    .and_then(|parsed| deserializer.end().map(|()| parsed))
    .map_err(|e| format!("not JSON: {e}"))?;
    let Some(fields) = parsed else {
        return Err("not an envelope: not a JSON object".to_string());
    };
    match fields.version {
        Some(VERSION) => {}
        Some(other) => return Err(format!("envelope version {other}, expected {VERSION}")),
        None => return Err("not an envelope: no version".to_string()),
    }
    match fields.fingerprint.as_deref() {
        Some(fp) if fp == fingerprint => {}
        Some(fp) => {
            return Err(format!(
                "schema fingerprint {fp} differs from the current {fingerprint}"
            ))
        }
        None => return Err("not an envelope: no fingerprint".to_string()),
    }
    let (Some(table_gen), Some(bucket_gen)) = (fields.table_gen, fields.bucket_gen) else {
        return Err("not an envelope: no generations".to_string());
    };
    let gens = Generations {
        table: table_gen.into_owned(),
        bucket: bucket_gen.into_owned(),
    };
    let row = fields
        .row
        .ok_or_else(|| "not an envelope: no row array".to_string())?;
    if row.len != def.columns.len() {
        return Err(format!(
            "row has {} values, table `{}` has {} columns",
            row.len,
            def.name,
            def.columns.len()
        ));
    }
    if let Some((i, e)) = row.error {
        let column = def.columns.get(i).map_or("?", |c| c.name);
        return Err(format!("column `{column}`: {e}"));
    }
    Ok((row.values, gens))
}

/// The fields of an envelope object, as far as they were there and of the right JSON type.
struct Fields<'de> {
    /// `v`, when it is a non-negative integer.
    version: Option<u64>,
    /// `fp`, when it is a string (borrowed from the input unless it has escapes).
    fingerprint: Option<Cow<'de, str>>,
    /// `tg` and `bg`, when they are strings.
    table_gen: Option<Cow<'de, str>>,
    bucket_gen: Option<Cow<'de, str>>,
    /// `row`, when it is an array.
    row: Option<Row>,
}

/// The keys of an envelope, read without allocating.
enum Field {
    Version,
    Fingerprint,
    TableGen,
    BucketGen,
    Row,
    Other,
}

impl<'de> serde::Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E>(self, key: &str) -> Result<Field, E> {
                Ok(match key {
                    "v" => Field::Version,
                    "fp" => Field::Fingerprint,
                    "tg" => Field::TableGen,
                    "bg" => Field::BucketGen,
                    "row" => Field::Row,
                    _ => Field::Other,
                })
            }
        }
        deserializer.deserialize_str(FieldVisitor)
    }
}

/// `Some` of a JSON value of one type, `None` of any other JSON (consumed).
struct Only<T>(std::marker::PhantomData<T>);

impl<T> Only<T> {
    fn new() -> Self {
        Only(std::marker::PhantomData)
    }
}

/// `v`: a non-negative integer.
impl<'de> DeserializeSeed<'de> for Only<u64> {
    type Value = Option<u64>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Only<u64> {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        Ok(u64::try_from(i).ok())
    }
    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        Ok(Some(u))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// `fp`: a string.
impl<'de> DeserializeSeed<'de> for Only<Cow<'de, str>> {
    type Value = Option<Cow<'de, str>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Only<Cow<'de, str>> {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON document")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(s.to_owned())))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// The `row` array: its values up to the first that is not a value (after which only the
/// count goes on), and that one's error.
struct Row {
    values: Vec<Value>,
    len: usize,
    error: Option<(usize, String)>,
}

/// The whole document: `Some(fields)` for an object, `None` for any other JSON.
struct EnvelopeSeed {
    width: usize,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed {
    type Value = Option<Fields<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Accepts any JSON, consuming it; `None` unless it is an object (or an array, for [`RowSeed`]).
macro_rules! anything_else_is_none {
    () => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    };
}

impl<'de> Visitor<'de> for EnvelopeSeed {
    type Value = Option<Fields<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON document")
    }

    anything_else_is_none!();

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Fields {
            version: None,
            fingerprint: None,
            table_gen: None,
            bucket_gen: None,
            row: None,
        };
        // A repeated key counts once, with its last value (as a `serde_json::Value` would).
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Version => fields.version = map.next_value_seed(Only::<u64>::new())?,
                Field::Fingerprint => {
                    fields.fingerprint = map.next_value_seed(Only::<Cow<str>>::new())?;
                }
                Field::TableGen => {
                    fields.table_gen = map.next_value_seed(Only::<Cow<str>>::new())?;
                }
                Field::BucketGen => {
                    fields.bucket_gen = map.next_value_seed(Only::<Cow<str>>::new())?;
                }
                Field::Row => fields.row = map.next_value_seed(RowSeed { width: self.width })?,
                Field::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(fields))
    }
}

/// The `row` field: `Some(row)` for an array, `None` for any other JSON.
struct RowSeed {
    width: usize,
}

impl<'de> DeserializeSeed<'de> for RowSeed {
    type Value = Option<Row>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowSeed {
    type Value = Option<Row>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON document")
    }

    anything_else_is_none!();

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut row = Row {
            values: Vec::with_capacity(self.width),
            len: 0,
            error: None,
        };
        while let Some(cell) = seq.next_element_seed(CellSeed)? {
            match cell {
                Ok(value) if row.error.is_none() => row.values.push(value),
                Ok(_) => {}
                Err(e) => {
                    if row.error.is_none() {
                        row.error = Some((row.len, e));
                    }
                }
            }
            row.len += 1;
        }
        Ok(Some(row))
    }
}

/// One value of the row: `Ok` for a value of the table above, `Err` (the reason, not a
/// deserialization error) for any other JSON.
struct CellSeed;

impl<'de> DeserializeSeed<'de> for CellSeed {
    type Value = Result<Value, String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed {
    type Value = Result<Value, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Ok(Value::Null))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        Ok(Ok(Value::Integer(i)))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(u)
            .map(Value::Integer)
            .map_err(|_| format!("integer {u} is beyond i64")))
    }

    fn visit_f64<E>(self, r: f64) -> Result<Self::Value, E> {
        Ok(Ok(Value::Real(r)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Ok(Value::Text(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(Ok(Value::Text(s)))
    }

    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(json_to_value(&serde_json::Value::Bool(b)))
    }

    // The rare shapes (BLOBs, non-finite REALs, and anything invalid) go through a JSON tree.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let json = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(json_to_value(&json))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let json = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(json_to_value(&json))
    }
}

fn json_to_value(json: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    match json {
        J::Null => Ok(Value::Null),
        J::Number(n) => {
            if n.is_f64() {
                n.as_f64()
                    .map(Value::Real)
                    .ok_or_else(|| format!("number {n} is not a REAL"))
            } else {
                n.as_i64()
                    .map(Value::Integer)
                    .ok_or_else(|| format!("integer {n} is beyond i64"))
            }
        }
        J::String(s) => Ok(Value::Text(s.clone())),
        J::Object(map) if map.len() == 1 => {
            if let Some(J::String(b64)) = map.get("b") {
                base64_decode(b64).map(Value::Blob)
            } else if let Some(J::String(f)) = map.get("f") {
                match f.as_str() {
                    "nan" => Ok(Value::Real(f64::NAN)),
                    "inf" => Ok(Value::Real(f64::INFINITY)),
                    "-inf" => Ok(Value::Real(f64::NEG_INFINITY)),
                    other => Err(format!("unknown float `{other}`")),
                }
            } else {
                Err(unknown_shape(json))
            }
        }
        other => Err(unknown_shape(other)),
    }
}

/// Why a cell is not a value, with its compact JSON text (as `Display` writes it; through
/// `serde_json::to_string`, whose code has no pretty printer).
fn unknown_shape(json: &serde_json::Value) -> String {
    format!(
        "unknown value shape {}",
        serde_json::to_string(json).unwrap_or_default()
    )
}

/// Standard base64 with padding (RFC 4648 §4).
fn base64_encode(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Decodes what [`base64_encode`] produces; rejects anything else (no whitespace, padding
/// required, no non-zero trailing bits: the `STANDARD` engine's defaults).
fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    BASE64
        .decode(text)
        .map_err(|e| format!("invalid base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ColumnDef;
    use crate::value::SqlType;

    static COLUMNS: [ColumnDef; 2] = [
        ColumnDef::new("id", "id", SqlType::Integer),
        ColumnDef::new("data", "data", SqlType::Blob),
    ];
    static DEF: TableDef = TableDef {
        name: "things",
        rust_name: "Thing",
        columns: &COLUMNS,
        primary_key: &[0],
        relations: &[],
        constraints: crate::schema::Constraints::NONE,
    };

    #[test]
    fn invalid_utf8_anywhere_is_refused() {
        let fp = fingerprint(&DEF);
        let mut bytes = encode(
            &DEF,
            &fp,
            &Generations::absent(),
            &[Value::Integer(1), Value::Null],
        );
        assert!(decode(&DEF, &fp, &bytes).is_ok());
        // The table name, a field the decoder skips: one byte of it made invalid UTF-8.
        let at = bytes.windows(6).position(|w| w == b"things").unwrap();
        bytes[at] = 0xff;
        let err = decode(&DEF, &fp, &bytes).unwrap_err();
        assert!(err.starts_with("not JSON"), "{err}");
    }

    #[test]
    fn base64_round_trips_and_matches_rfc4648() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "Zg=="),
            (b"fo", "Zm8="),
            (b"foo", "Zm9v"),
            (b"foob", "Zm9vYg=="),
            (b"fooba", "Zm9vYmE="),
            (b"foobar", "Zm9vYmFy"),
        ];
        for (raw, encoded) in cases {
            assert_eq!(base64_encode(raw), encoded);
            assert_eq!(base64_decode(encoded).unwrap(), raw);
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64_encode(&all)).unwrap(), all);
        for bad in ["Zg=", "Zg=a", "Z===", "Zh==", "Zm9v\n", "Zm9*"] {
            assert!(base64_decode(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn values_round_trip_exactly() {
        let fp = fingerprint(&DEF);
        for value in [
            Value::Integer(i64::MIN),
            Value::Integer(i64::MAX),
            Value::Integer(0),
            Value::Real(1.0),
            Value::Real(-0.0),
            Value::Real(f64::MIN_POSITIVE),
            Value::Real(1e300),
            Value::Real(f64::INFINITY),
            Value::Real(f64::NEG_INFINITY),
            Value::Text("1".into()),
            Value::Text("".into()),
            Value::Blob(vec![0, 255, 1]),
            Value::Null,
        ] {
            let row = vec![Value::Integer(1), value.clone()];
            let back = decode(&DEF, &fp, &encode(&DEF, &fp, &Generations::absent(), &row)).unwrap();
            match (&back[1], &value) {
                (Value::Real(a), Value::Real(b)) => assert_eq!(a.to_bits(), b.to_bits()),
                (a, b) => assert_eq!(a, b),
            }
        }
        let nan = decode(
            &DEF,
            &fp,
            &encode(
                &DEF,
                &fp,
                &Generations::absent(),
                &[Value::Null, Value::Real(f64::NAN)],
            ),
        );
        assert!(matches!(nan.unwrap()[1], Value::Real(r) if r.is_nan()));
    }

    #[test]
    fn wrong_envelopes_are_rejected() {
        let fp = fingerprint(&DEF);
        let good = encode(
            &DEF,
            &fp,
            &Generations::absent(),
            &[Value::Integer(1), Value::Null],
        );
        assert!(decode(&DEF, "0000000000000000", &good)
            .unwrap_err()
            .contains("fingerprint"));
        for bad in [
            &b"\xff\x00garbage"[..],
            b"[]",
            b"{}",
            br#"{"v":3,"fp":"x","row":[]}"#,
            br#"{"v":2,"tg":"","bg":"","fp":"FP","row":[1]}"#,
            br#"{"v":2,"tg":"","bg":"","fp":"FP","row":[1,[2]]}"#,
            br#"{"v":2,"tg":"","bg":"","fp":"FP","row":[1,{"b":"!"}]}"#,
            br#"{"v":2,"tg":"","bg":"","fp":"FP","row":[18446744073709551615,null]}"#,
        ] {
            let bad = String::from_utf8_lossy(bad).replace("FP", &fp);
            assert!(decode(&DEF, &fp, bad.as_bytes()).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn generations_round_trip_and_are_required() {
        let fp = fingerprint(&DEF);
        let gens = Generations {
            table: "t\"1".to_string(),
            bucket: "b2".to_string(),
        };
        let row = [Value::Integer(1), Value::Null];
        let (back, tags) = decode_tagged(&DEF, &fp, &encode(&DEF, &fp, &gens, &row)).unwrap();
        assert_eq!((back.as_slice(), &tags), (&row[..], &gens));
        let untagged = format!(r#"{{"v":2,"fp":"{fp}","row":[1,null]}}"#);
        assert!(decode_tagged(&DEF, &fp, untagged.as_bytes())
            .unwrap_err()
            .contains("no generations"));
        // A version-1 envelope (before generations) is a miss, never served.
        let v1 = format!(r#"{{"v":1,"fp":"{fp}","row":[1,null]}}"#);
        assert!(decode(&DEF, &fp, v1.as_bytes())
            .unwrap_err()
            .contains("version 1"));
    }

    #[test]
    fn fingerprint_follows_the_sql_layout() {
        static RENAMED: [ColumnDef; 2] = [
            ColumnDef::new("id", "id", SqlType::Integer),
            ColumnDef::new("bytes", "data", SqlType::Blob),
        ];
        static OTHER: TableDef = TableDef {
            name: "things",
            rust_name: "Renamed",
            columns: &RENAMED,
            primary_key: &[0],
            relations: &[],
            constraints: crate::schema::Constraints::NONE,
        };
        assert_eq!(fingerprint(&DEF), fingerprint(&DEF));
        assert_eq!(fingerprint(&DEF).len(), 16);
        assert_ne!(fingerprint(&DEF), fingerprint(&OTHER));
    }

    #[test]
    fn the_cached_fingerprint_is_the_fingerprint() {
        assert_eq!(fingerprint_of(&DEF), fingerprint(&DEF));
        assert!(std::ptr::eq(fingerprint_of(&DEF), fingerprint_of(&DEF)));
    }

    #[test]
    fn envelopes_are_the_json_documented_and_read_in_any_key_order() {
        let fp = fingerprint(&DEF);
        let row = [Value::Integer(-7), Value::Blob(vec![1, 2, 3])];
        let bytes = encode(&DEF, &fp, &Generations::absent(), &row);
        assert_eq!(
            String::from_utf8(bytes.clone()).unwrap(),
            format!(
                r#"{{"v":2,"t":"things","fp":"{fp}","tg":"","bg":"","row":[-7,{{"b":"AQID"}}]}}"#
            )
        );
        // What the `serde_json::Value` encoder of earlier versions wrote (keys sorted), an
        // escaped fingerprint, unknown and repeated keys: all the same envelope.
        for text in [
            format!(
                r#"{{"fp":"{fp}","row":[-7,{{"b":"AQID"}}],"t":"things","v":2,"tg":"","bg":""}}"#
            ),
            format!(
                r#"{{"v":2,"tg":"","bg":"","fp":"\u00{:x}{}","row":[-7,{{"b":"AQID"}}]}}"#,
                fp.as_bytes()[0],
                &fp[1..]
            ),
            format!(
                r#"{{"x":[{{}}],"v":3,"v":2,"tg":"","bg":"","fp":"{fp}","row":null,"row":[-7,{{"b":"AQID"}}]}}"#
            ),
        ] {
            assert_eq!(decode(&DEF, &fp, text.as_bytes()).unwrap(), row, "{text}");
        }
        // Which error wins: version, fingerprint, row array, length, then the first bad value.
        let cases = [
            (r#"{"v":"1","fp":"FP","row":[1,null]}"#, "no version"),
            (r#"{"v":-1,"fp":"FP","row":[1,null]}"#, "no version"),
            (r#"{"row":[1,[2]],"fp":"other","v":2}"#, "fingerprint other"),
            (
                r#"{"v":2,"tg":"","bg":"","fp":7,"row":[1,null]}"#,
                "no fingerprint",
            ),
            (r#"{"v":2,"fp":"FP","row":[1,null]}"#, "no generations"),
            (
                r#"{"v":2,"tg":"","bg":7,"fp":"FP","row":[1,null]}"#,
                "no generations",
            ),
            (
                r#"{"v":2,"tg":"","bg":"","fp":"FP","row":{"0":1}}"#,
                "no row array",
            ),
            (
                r#"{"v":2,"tg":"","bg":"","fp":"FP","row":[[1],true,3]}"#,
                "3 values",
            ),
            (
                r#"{"v":2,"tg":"","bg":"","fp":"FP","row":[true,[2]]}"#,
                "column `id`: unknown value shape true",
            ),
            (
                r#"{"v":2,"tg":"","bg":"","fp":"FP","row":[1,{"f":"x"}]}"#,
                "column `data`: unknown float `x`",
            ),
        ];
        for (text, reason) in cases {
            let text = text.replace("FP", &fp);
            let error = decode(&DEF, &fp, text.as_bytes()).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
        assert!(decode(
            &DEF,
            &fp,
            format!(r#"{{"v":2,"tg":"","bg":"","fp":"{fp}","row":[1,null]}} x"#).as_bytes()
        )
        .unwrap_err()
        .starts_with("not JSON"));
    }
}
