//! The cached form of one row: a small JSON envelope.
//!
//! ```json
//! {"v":1,"t":"users","fp":"3f0c9a5e12b7d4c8","row":["u1","Ada",1733000000000,null]}
//! ```
//!
//! `fp` is a fingerprint of the table's SQL-level layout (see [`fingerprint`]); `row` holds
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

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::schema::TableDef;
use crate::value::Value;

/// The envelope format version.
const VERSION: u64 = 1;

/// A fingerprint of a table's SQL-level layout: table name, and each column's name, type,
/// nullability and primary-key flag, in order (16 hex digits of SHA-256).
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
    hex::encode(&hasher.finalize()[..8])
}

/// Serialises a row (values in column order) into an envelope.
pub fn encode(def: &TableDef, fingerprint: &str, row: &[Value]) -> Vec<u8> {
    let row: Vec<serde_json::Value> = row.iter().map(value_to_json).collect();
    let envelope = serde_json::json!({
        "v": VERSION,
        "t": def.name,
        "fp": fingerprint,
        "row": row,
    });
    // Serialising a `serde_json::Value` cannot fail (its map keys are strings).
    serde_json::to_vec(&envelope).unwrap_or_default()
}

/// Parses an envelope back into a row of values, checking version, fingerprint and length.
pub fn decode(def: &TableDef, fingerprint: &str, bytes: &[u8]) -> Result<Vec<Value>, String> {
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let object = json
        .as_object()
        .ok_or_else(|| "not an envelope: not a JSON object".to_string())?;
    match object.get("v").and_then(serde_json::Value::as_u64) {
        Some(VERSION) => {}
        Some(other) => return Err(format!("envelope version {other}, expected {VERSION}")),
        None => return Err("not an envelope: no version".to_string()),
    }
    match object.get("fp").and_then(serde_json::Value::as_str) {
        Some(fp) if fp == fingerprint => {}
        Some(fp) => {
            return Err(format!(
                "schema fingerprint {fp} differs from the current {fingerprint}"
            ))
        }
        None => return Err("not an envelope: no fingerprint".to_string()),
    }
    let row = object
        .get("row")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| "not an envelope: no row array".to_string())?;
    if row.len() != def.columns.len() {
        return Err(format!(
            "row has {} values, table `{}` has {} columns",
            row.len(),
            def.name,
            def.columns.len()
        ));
    }
    row.iter()
        .enumerate()
        .map(|(i, v)| {
            json_to_value(v).map_err(|e| format!("column `{}`: {e}", def.columns[i].name))
        })
        .collect()
}

fn value_to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Null => J::Null,
        Value::Integer(i) => J::from(*i),
        Value::Real(r) => match serde_json::Number::from_f64(*r) {
            Some(n) => J::Number(n),
            None => {
                let name = if r.is_nan() {
                    "nan"
                } else if *r > 0.0 {
                    "inf"
                } else {
                    "-inf"
                };
                serde_json::json!({ "f": name })
            }
        },
        Value::Text(s) => J::String(s.clone()),
        Value::Blob(b) => serde_json::json!({ "b": base64_encode(b) }),
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
                Err(format!("unknown value shape {json}"))
            }
        }
        other => Err(format!("unknown value shape {other}")),
    }
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
        primary_key: 0,
        relations: &[],
    };

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
            let back = decode(&DEF, &fp, &encode(&DEF, &fp, &row)).unwrap();
            match (&back[1], &value) {
                (Value::Real(a), Value::Real(b)) => assert_eq!(a.to_bits(), b.to_bits()),
                (a, b) => assert_eq!(a, b),
            }
        }
        let nan = decode(
            &DEF,
            &fp,
            &encode(&DEF, &fp, &[Value::Null, Value::Real(f64::NAN)]),
        );
        assert!(matches!(nan.unwrap()[1], Value::Real(r) if r.is_nan()));
    }

    #[test]
    fn wrong_envelopes_are_rejected() {
        let fp = fingerprint(&DEF);
        let good = encode(&DEF, &fp, &[Value::Integer(1), Value::Null]);
        assert!(decode(&DEF, "0000000000000000", &good)
            .unwrap_err()
            .contains("fingerprint"));
        for bad in [
            &b"\xff\x00garbage"[..],
            b"[]",
            b"{}",
            br#"{"v":2,"fp":"x","row":[]}"#,
            br#"{"v":1,"fp":"FP","row":[1]}"#,
            br#"{"v":1,"fp":"FP","row":[1,[2]]}"#,
            br#"{"v":1,"fp":"FP","row":[1,{"b":"!"}]}"#,
            br#"{"v":1,"fp":"FP","row":[18446744073709551615,null]}"#,
        ] {
            let bad = String::from_utf8_lossy(bad).replace("FP", &fp);
            assert!(decode(&DEF, &fp, bad.as_bytes()).is_err(), "{bad} accepted");
        }
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
            primary_key: 0,
            relations: &[],
        };
        assert_eq!(fingerprint(&DEF), fingerprint(&DEF));
        assert_eq!(fingerprint(&DEF).len(), 16);
        assert_ne!(fingerprint(&DEF), fingerprint(&OTHER));
    }
}
