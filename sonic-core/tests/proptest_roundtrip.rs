//! Hostile values round-trip unchanged through insert, an `eq` filter on each column, and
//! select; and no value ever appears in SQL text.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(all(feature = "rusqlite", feature = "derive"))]

mod query_support;

use proptest::prelude::*;
use query_support::*;
use sonic_db_core::{Capabilities, Db, Filter, Json};

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z'\";\\-\\\\%_ ]{0,16}",
        Just(String::new()),
        Just("'".to_string()),
        Just("''; DROP TABLE samples; --".to_string()),
        Just("\" OR 1=1 --".to_string()),
        Just("a\0b".to_string()),
        Just("\0".to_string()),
        Just("ünïcødé 🎉 \u{202e} \u{feff}".to_string()),
        Just("?".to_string()),
        Just("%_".to_string()),
    ]
}

fn finite_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        Just(0.0),
        Just(-0.0),
        Just(f64::MIN),
        Just(f64::MAX),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        Just(0.1 + 0.2),
    ]
}

fn extreme_i64() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        Just(-1),
        Just(1 << 53),
        Just((1 << 53) + 1),
    ]
}

fn sample() -> impl Strategy<Value = Sample> {
    (
        hostile_text(),
        proptest::option::of(hostile_text()),
        extreme_i64(),
        finite_f64(),
        prop::collection::vec(any::<u8>(), 0..24),
        any::<bool>(),
        prop::collection::vec(hostile_text(), 0..3),
    )
        .prop_map(|(text, maybe_text, int, real, blob, flag, json)| Sample {
            id: 0,
            text,
            maybe_text,
            int,
            real,
            blob,
            flag,
            json: Json(json),
        })
}

fn samples() -> impl Strategy<Value = Vec<Sample>> {
    (
        prop::collection::vec(sample(), 1..6),
        prop::collection::hash_set(extreme_i64(), 6),
    )
        .prop_map(|(mut samples, ids)| {
            for (sample, id) in samples.iter_mut().zip(ids) {
                sample.id = id;
            }
            samples
        })
}

fn matching(db: &Db, filter: Filter<Sample>) -> Vec<Sample> {
    block_on(
        db.select::<Sample>()
            .filter(filter)
            .order_by(Sample::ID.asc())
            .all(),
    )
    .unwrap()
}

fn expected(samples: &[Sample], keep: impl Fn(&Sample) -> bool) -> Vec<Sample> {
    let mut rows: Vec<Sample> = samples.iter().filter(|s| keep(s)).cloned().collect();
    rows.sort_by_key(|s| s.id);
    rows
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn hostile_values_round_trip_and_never_reach_sql_text(samples in samples()) {
        // D1's parameter limit, so that a list of 150 values has to travel as JSON.
        let (db, sql, _) = setup_with(Capabilities { max_params: 100, ..Capabilities::SQLITE });
        let stored = block_on(db.insert_many(&samples)).unwrap();
        prop_assert_eq!(&stored, &samples);

        for s in &samples {
            let found = block_on(db.find::<Sample>(s.id)).unwrap();
            prop_assert_eq!(found.as_ref(), Some(s));
            prop_assert_eq!(
                matching(&db, Sample::ID.eq(s.id)),
                expected(&samples, |o| o.id == s.id)
            );
            prop_assert_eq!(
                matching(&db, Sample::TEXT.eq(&s.text)),
                expected(&samples, |o| o.text == s.text)
            );
            if let Some(maybe) = &s.maybe_text {
                prop_assert_eq!(
                    matching(&db, Sample::MAYBE_TEXT.eq(maybe)),
                    expected(&samples, |o| o.maybe_text.as_ref() == Some(maybe))
                );
            }
            prop_assert_eq!(
                matching(&db, Sample::INT.eq(s.int)),
                expected(&samples, |o| o.int == s.int)
            );
            prop_assert_eq!(
                matching(&db, Sample::REAL.eq(s.real)),
                expected(&samples, |o| o.real == s.real)
            );
            prop_assert_eq!(
                matching(&db, Sample::BLOB.eq(s.blob.clone())),
                expected(&samples, |o| o.blob == s.blob)
            );
            prop_assert_eq!(
                matching(&db, Sample::FLAG.eq(s.flag)),
                expected(&samples, |o| o.flag == s.flag)
            );
            prop_assert_eq!(
                matching(&db, Sample::JSON.eq(s.json.clone())),
                expected(&samples, |o| o.json == s.json)
            );
            // The same values as an IN list sent as JSON (a list too long to bind inline).
            prop_assert_eq!(
                matching(&db, Sample::TEXT.in_list(vec![s.text.clone(); 150])),
                expected(&samples, |o| o.text == s.text)
            );
            prop_assert_eq!(
                matching(&db, Sample::REAL.in_list(vec![s.real; 150])),
                expected(&samples, |o| o.real == s.real)
            );
        }

        let everything = block_on(db.select::<Sample>().order_by(Sample::ID.asc()).all()).unwrap();
        prop_assert_eq!(everything, expected(&samples, |_| true));

        for statement in sql.statements() {
            prop_assert!(!statement.sql.contains('\''), "no string literal: {}", statement.sql);
            prop_assert!(statement.sql.is_ascii(), "{}", statement.sql);
            for s in &samples {
                for text in [Some(&s.text), s.maybe_text.as_ref()].into_iter().flatten() {
                    if text.len() >= 12 || text.contains(['\'', ';', '\0']) || !text.is_ascii() {
                        prop_assert!(!statement.sql.contains(text.as_str()), "{:?} in {}", text, statement.sql);
                    }
                }
                if s.int.unsigned_abs() >= 1_000_000 {
                    prop_assert!(!statement.sql.contains(&s.int.to_string()));
                }
                if s.id.unsigned_abs() >= 1_000_000 {
                    prop_assert!(!statement.sql.contains(&s.id.to_string()));
                }
            }
        }
    }
}
