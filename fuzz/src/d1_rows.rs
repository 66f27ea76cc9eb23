//! Target `d1_rows`: D1's `raw()` output into values (`sonic_db_d1::decode`), then into
//! records (`Table::decode`).
//!
//! The oracle is the documented mapping (sonic-db-d1's crate docs): integral numbers within
//! ±(2^53 − 1) (not `-0`) are INTEGER, other numbers REAL, arrays of bytes BLOBs, booleans 0/1;
//! names must be strings and every row exactly as wide as the names. Records then hold exactly
//! those values or the decode fails; an INTEGER field also reads an integer's canonical decimal
//! text (how Sonic selects INTEGER columns on D1, #12 item 3). The same rows packed as
//! sonic-db-d1's `src/pack.js` packs them (`decode_packed`) must decode to the same values.

use std::time::Instant;

use proptest::prelude::*;
use sonic_db_core::{Table, Value};
use sonic_db_d1::decode::{decode_packed, decode_raw, pack_cells, JsCell, RawItem};

use crate::envelope::{same, Cells};
use crate::{run_property, Report};

const SAFE: f64 = 9_007_199_254_740_991.0;

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        (-300i64..300).prop_map(|i| i as f64),
        Just(-0.0),
        Just(SAFE),
        Just(SAFE + 1.0),
        Just(-SAFE),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(0.5),
    ]
}

fn cell() -> impl Strategy<Value = JsCell> {
    prop_oneof![
        Just(JsCell::Null),
        number().prop_map(JsCell::Number),
        any::<String>().prop_map(JsCell::String),
        // Integers as D1 returns the INTEGER columns Sonic selects as text, and near misses.
        any::<i64>().prop_map(|i| JsCell::String(i.to_string())),
        prop_oneof![
            Just("+1"),
            Just("01"),
            Just("-0"),
            Just("9223372036854775808"),
            Just("1 ")
        ]
        .prop_map(|s| JsCell::String(s.to_string())),
        any::<bool>().prop_map(JsCell::Bool),
        prop_oneof![
            any::<i64>().prop_map(|i| Some(i.to_string())),
            Just(Some("99999999999999999999".to_string())),
            Just(None)
        ]
        .prop_map(JsCell::BigInt),
        proptest::collection::vec(prop_oneof![(0u8..=255).prop_map(f64::from), number()], 0..6)
            .prop_map(JsCell::Numbers),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(JsCell::Bytes),
        Just(JsCell::Other("function".into())),
    ]
}

fn expected_value(cell: &JsCell) -> Option<Value> {
    Some(match cell {
        JsCell::Null => Value::Null,
        JsCell::Number(n) => {
            if n.fract() == 0.0 && n.abs() <= SAFE && !(*n == 0.0 && n.is_sign_negative()) {
                Value::Integer(*n as i64)
            } else {
                Value::Real(*n)
            }
        }
        JsCell::String(s) => Value::Text(s.clone()),
        JsCell::Bool(b) => Value::Integer(i64::from(*b)),
        JsCell::BigInt(text) => Value::Integer(text.as_deref()?.parse().ok()?),
        JsCell::Numbers(ns) => Value::Blob(
            ns.iter()
                .map(|&n| (n.fract() == 0.0 && (0.0..=255.0).contains(&n)).then_some(n as u8))
                .collect::<Option<Vec<u8>>>()?,
        ),
        JsCell::Bytes(b) => Value::Blob(b.clone()),
        JsCell::Other(_) => return None,
    })
}

/// What a record field reads from a value, per `FromValue`'s documented rules.
pub(crate) fn expected_record(row: &[Value]) -> Option<Cells> {
    let [id, r, t, b] = row else { return None };
    let id = match id {
        Value::Integer(i) => *i,
        // An INTEGER column selected as text (D1, #12 item 3): the canonical decimal form.
        Value::Text(s) => s.parse::<i64>().ok().filter(|i| i.to_string() == *s)?,
        _ => return None,
    };
    let r = match r {
        Value::Null => None,
        Value::Real(x) => Some(*x),
        Value::Integer(i) if i.unsigned_abs() <= 9_007_199_254_740_991 => Some(*i as f64),
        _ => return None,
    };
    let t = match t {
        Value::Null => None,
        Value::Text(s) => Some(s.clone()),
        Value::Blob(b) => Some(String::from_utf8(b.clone()).ok()?),
        _ => return None,
    };
    let b = match b {
        Value::Null => None,
        Value::Blob(b) => Some(b.clone()),
        Value::Text(s) => Some(s.clone().into_bytes()),
        _ => return None,
    };
    Some(Cells { id, r, t, b })
}

/// Runs the target.
pub fn fuzz(cases: u64, deadline: Option<Instant>) -> Result<Report, String> {
    let names = prop_oneof![
        3 => Just(vec![JsCell::String("id".into()), JsCell::String("r".into()), JsCell::String("t".into()), JsCell::String("b".into())]),
        1 => proptest::collection::vec(prop_oneof![any::<String>().prop_map(JsCell::String), cell()], 0..5),
    ];
    let rows = proptest::collection::vec(
        prop_oneof![
            8 => proptest::collection::vec(cell(), 4..=4).prop_map(RawItem::Array),
            1 => proptest::collection::vec(cell(), 0..6).prop_map(RawItem::Array),
            1 => Just(RawItem::NotAnArray),
        ],
        0..4,
    );
    let strategy = (
        prop_oneof![9 => names.prop_map(RawItem::Array), 1 => Just(RawItem::NotAnArray)],
        rows,
        any::<bool>(),
    );
    run_property(strategy, cases, deadline, |(header, rows, empty)| {
        let items: Vec<RawItem> = if empty {
            Vec::new()
        } else {
            std::iter::once(header).chain(rows).collect()
        };
        let oracle = oracle(&items);
        let by_value = decode_raw(items.clone());
        if let (Some((columns, cells, texts, all)), Ok(by_value)) = (packed(&items), &by_value) {
            let packed = decode_packed(&columns, &cells, &texts, |index| {
                all.get(index).cloned().unwrap_or(JsCell::Null)
            });
            match packed {
                Ok(Some(values)) => prop_assert!(
                    values.len() == by_value.values.len()
                        && values.iter().zip(&by_value.values).all(|(a, b)| same(a, b)),
                    "packed {:?}, value by value {:?}",
                    values,
                    by_value.values
                ),
                other => {
                    return Err(TestCaseError::fail(format!(
                        "packed {other:?}, value by value {:?}",
                        by_value.values
                    )))
                }
            }
        }
        match (by_value, oracle) {
            (Ok(got), Some((columns, values, count))) => {
                prop_assert_eq!(&got.columns, &columns);
                prop_assert_eq!(got.rows, count);
                prop_assert!(
                    got.values.len() == values.len()
                        && got.values.iter().zip(&values).all(|(a, b)| same(a, b)),
                    "decoded {:?}, expected {:?}",
                    got.values,
                    values
                );
                if columns == ["id", "r", "t", "b"] {
                    for row in got.values.chunks(4) {
                        let mut cells = row.to_vec();
                        match (Cells::decode(&mut cells), expected_record(row)) {
                            (Ok(record), Some(want)) => {
                                prop_assert_eq!(record.id, want.id);
                                prop_assert_eq!(
                                    record.r.map(f64::to_bits),
                                    want.r.map(f64::to_bits)
                                );
                                prop_assert_eq!(record.t, want.t);
                                prop_assert_eq!(record.b, want.b);
                            }
                            (Ok(record), None) => {
                                return Err(TestCaseError::fail(format!(
                                    "record {record:?} from {row:?}, which should not decode"
                                )))
                            }
                            (Err(e), Some(want)) => {
                                return Err(TestCaseError::fail(format!(
                                    "{row:?} refused ({e}), should be {want:?}"
                                )))
                            }
                            (Err(_), None) => {}
                        }
                    }
                }
            }
            (Ok(got), None) => {
                return Err(TestCaseError::fail(format!(
                    "accepted {got:?} from {items:?}"
                )))
            }
            (Err(e), Some(want)) => {
                return Err(TestCaseError::fail(format!(
                    "refused ({e}) {items:?}, expected {want:?}"
                )))
            }
            (Err(_), None) => {}
        }
        Ok(())
    })
}

/// What sonic-db-d1's `src/pack.js` makes of `items` where it packs them (the names, then rows
/// of their width): the columns, per cell a kind and a number, the texts one after another,
/// and every cell (for those it leaves to be read by themselves).
type Packed = (Vec<String>, Vec<f64>, String, Vec<JsCell>);

fn packed(items: &[RawItem]) -> Option<Packed> {
    let (RawItem::Array(names), rows) = items.split_first()? else {
        return None;
    };
    let columns = string_names(names)?;
    let mut all = Vec::new();
    for row in rows {
        let RawItem::Array(row) = row else {
            return None;
        };
        if row.len() != columns.len() {
            return None;
        }
        all.extend(row.iter().cloned());
    }
    let (cells, texts) = pack_cells(&all);
    Some((columns, cells, texts, all))
}

/// The names, if every one is a string.
fn string_names(names: &[JsCell]) -> Option<Vec<String>> {
    names
        .iter()
        .map(|n| match n {
            JsCell::String(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

type Decoded = (Vec<String>, Vec<Value>, usize);

fn oracle(items: &[RawItem]) -> Option<Decoded> {
    let Some((header, rows)) = items.split_first() else {
        return Some((Vec::new(), Vec::new(), 0));
    };
    let RawItem::Array(names) = header else {
        return None;
    };
    let columns = string_names(names)?;
    let mut values = Vec::new();
    for row in rows {
        let RawItem::Array(cells) = row else {
            return None;
        };
        if cells.len() != columns.len() {
            return None;
        }
        for c in cells {
            values.push(expected_value(c)?);
        }
    }
    Some((columns, values, rows.len()))
}
