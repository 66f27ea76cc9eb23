//! The payloads of single-statement eager loading, read with serde_json.
//!
//! Those payloads are arrays of arrays of column values that SQLite's `json_array` wrote.
//! They are deserialized straight into [`Json`], without `serde_json::Value`'s maps in
//! between. What matters stays exact: integers are 64-bit, and floats are correctly rounded
//! (serde_json's `float_roundtrip` feature, which sonic-db-core enables), so a REAL written with
//! 17 significant digits comes back bit for bit. serde_json also bounds the nesting depth
//! (128), so hostile input is an error rather than a stack overflow.

use std::fmt;

use serde::de::{Deserialize, Deserializer, SeqAccess, Visitor};

/// A parsed JSON value. Objects never occur in the payloads and are rejected.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Integer(i64),
    Real(f64),
    Text(String),
    Array(Vec<Json>),
}

/// Parses one JSON document.
pub(crate) fn parse(text: &str) -> Result<Json, String> {
    serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null, a boolean, a number, a string or an array")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Json, E> {
        Ok(Json::Integer(i))
    }

    /// Integers beyond `i64` become the nearest float, as SQLite reads them.
    fn visit_u64<E>(self, u: u64) -> Result<Json, E> {
        Ok(i64::try_from(u).map_or(Json::Real(u as f64), Json::Integer))
    }

    fn visit_f64<E>(self, r: f64) -> Result<Json, E> {
        Ok(Json::Real(r))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::Text(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::Text(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_sqlite_writes() {
        let parsed = parse(
            r#"[[1,-9223372036854775808,0.30000000000000004,1.0e+300,"a\"\\\u0000\ud83d\ude00é",null],[]]"#,
        )
        .unwrap();
        assert_eq!(
            parsed,
            Json::Array(vec![
                Json::Array(vec![
                    Json::Integer(1),
                    Json::Integer(i64::MIN),
                    Json::Real(0.30000000000000004),
                    Json::Real(1e300),
                    Json::Text("a\"\\\0😀é".into()),
                    Json::Null,
                ]),
                Json::Array(vec![]),
            ])
        );
    }

    #[test]
    fn rejects_malformed_input_without_panicking() {
        for bad in [
            "",
            "[",
            "[1,",
            "[1 2]",
            "\"abc",
            "\"\\u12",
            "\"\\ud800\"",
            "{}",
            "tru",
            "-",
            "1.",
            "1e",
            "[1]x",
            "\"\\q\"",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(1000);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn floats_come_back_bit_for_bit() {
        // Shortest round-trip and 17-digit renderings of awkward doubles (subnormals,
        // extremes, long mantissas) and of a spread of bit patterns.
        let mut bits = 0x9E37_79B9_7F4A_7C15_u64;
        let spread = (0..2_000).map(|_| {
            bits = bits.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            f64::from_bits(bits)
        });
        let awkward = [
            2.638_344_616_030_823e-256,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            5e-324,
            0.1 + 0.2,
            -0.0,
        ];
        for r in awkward.into_iter().chain(spread).filter(|r| r.is_finite()) {
            for text in [format!("{r:?}"), format!("{r:.16e}")] {
                match parse(&format!("[{text}]")).unwrap() {
                    Json::Array(items) => match items.as_slice() {
                        [Json::Real(back)] => assert_eq!(back.to_bits(), r.to_bits(), "{text}"),
                        other => panic!("{text}: {other:?}"),
                    },
                    other => panic!("{text}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn integers_beyond_i64_become_reals() {
        assert_eq!(
            parse("[9223372036854775807,9223372036854775808,-9223372036854775809]").unwrap(),
            Json::Array(vec![
                Json::Integer(i64::MAX),
                Json::Real(9_223_372_036_854_775_808.0),
                Json::Real(-9_223_372_036_854_775_809.0),
            ])
        );
    }
}
