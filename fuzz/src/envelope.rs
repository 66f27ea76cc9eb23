//! Target `envelope`: the KV cache's envelope decoder (`sonic_db_core::cache::envelope`).
//!
//! Valid envelopes of any row round-trip exactly (REALs to the bit, NaN as NaN); mutated ones
//! are decoded exactly as an independent oracle reads the documented format from a
//! `serde_json::Value` tree, or refused.

use std::time::Instant;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use proptest::prelude::*;
use serde_json::Value as J;
use sonic_db_core::cache::envelope::{decode_tagged, encode, fingerprint, Generations};
use sonic_db_core::{Table, Value};

use crate::{apply_mutations, mutate, run_property, Report};

/// A table of every storage class.
#[derive(Debug, Clone, sonic_db_core::Table)]
#[table(name = "cells")]
pub struct Cells {
    /// Key.
    #[column(primary_key)]
    pub id: i64,
    /// REAL.
    pub r: Option<f64>,
    /// TEXT.
    pub t: Option<String>,
    /// BLOB.
    pub b: Option<Vec<u8>>,
}

/// Any value of any storage class, hostile ones included.
pub fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::Integer),
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            Just(1e300),
            Just(5e-324)
        ]
        .prop_map(Value::Real),
        any::<String>().prop_map(Value::Text),
        "[\"\\\\{}\\[\\]:,a-z0-9 ]{0,8}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..24).prop_map(Value::Blob),
    ]
}

/// Bitwise equality (NaN equals NaN).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Real(x), Value::Real(y)) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        _ => a == b,
    }
}

fn same_row(a: &[Value], b: &[Value]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
}

/// The documented format, read from a JSON tree: version 2, the fingerprint, both
/// generations as strings, a row of the table's width of documented value shapes.
fn oracle(bytes: &[u8], fp: &str, width: usize) -> Option<(Vec<Value>, Generations)> {
    let json: J = serde_json::from_slice(bytes).ok()?;
    let object = json.as_object()?;
    if object.get("v")?.as_u64()? != 2 || !object.get("v")?.is_u64() {
        return None;
    }
    if object.get("fp")?.as_str()? != fp {
        return None;
    }
    let gens = Generations {
        table: object.get("tg")?.as_str()?.to_string(),
        bucket: object.get("bg")?.as_str()?.to_string(),
    };
    let row = object.get("row")?.as_array()?;
    if row.len() != width {
        return None;
    }
    let values = row.iter().map(cell).collect::<Option<Vec<_>>>()?;
    Some((values, gens))
}

fn cell(json: &J) -> Option<Value> {
    match json {
        J::Null => Some(Value::Null),
        J::Number(n) if n.is_f64() => n.as_f64().map(Value::Real),
        J::Number(n) => n.as_i64().map(Value::Integer),
        J::String(s) => Some(Value::Text(s.clone())),
        J::Object(map) if map.len() == 1 => match (map.get("b"), map.get("f")) {
            (Some(J::String(b)), _) => STANDARD.decode(b).ok().map(Value::Blob),
            (_, Some(J::String(f))) => match f.as_str() {
                "nan" => Some(Value::Real(f64::NAN)),
                "inf" => Some(Value::Real(f64::INFINITY)),
                "-inf" => Some(Value::Real(f64::NEG_INFINITY)),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// Runs the target.
pub fn fuzz(cases: u64, deadline: Option<Instant>) -> Result<Report, String> {
    let def = Cells::DEF;
    let fp = fingerprint(def);
    let width = def.columns.len();
    let strategy = (
        proptest::collection::vec(any_value(), width..=width),
        any::<String>(),
        "[a-z0-9]{0,8}",
        mutate(),
    );
    run_property(strategy, cases, deadline, |(row, tg, bg, edits)| {
        let gens = Generations {
            table: tg,
            bucket: bg,
        };
        let bytes = encode(def, &fp, &gens, &row);
        let (decoded, got) = decode_tagged(def, &fp, &bytes)
            .map_err(|e| TestCaseError::fail(format!("a valid envelope refused: {e}")))?;
        prop_assert!(
            same_row(&decoded, &row),
            "round trip changed {row:?} into {decoded:?}"
        );
        prop_assert_eq!(&got, &gens);
        // A decoded row becomes a record or a clear error, never a panic.
        let mut cells = decoded.clone();
        let _ = Cells::decode(&mut cells);
        let hostile = apply_mutations(bytes, &edits);
        let expected = oracle(&hostile, &fp, width);
        match (decode_tagged(def, &fp, &hostile), expected) {
            (Ok((values, g)), Some((want, wg))) => {
                prop_assert!(
                    same_row(&values, &want),
                    "accepted {values:?}, oracle reads {want:?}"
                );
                prop_assert_eq!(g, wg);
            }
            (Ok(accepted), None) => {
                return Err(TestCaseError::fail(format!(
                    "accepted {accepted:?} from {:?}, which the format refuses",
                    String::from_utf8_lossy(&hostile)
                )))
            }
            (Err(e), Some(want)) => {
                return Err(TestCaseError::fail(format!(
                    "refused ({e}) {:?}, which the format reads as {want:?}",
                    String::from_utf8_lossy(&hostile)
                )))
            }
            (Err(_), None) => {}
        }
        Ok(())
    })
}
