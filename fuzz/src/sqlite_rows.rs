//! Target `sqlite_rows`: SQLite rows into records, through the typed select of `Db`.
//!
//! Any value of any storage class is stored in a column without type affinity (so SQLite keeps
//! it as given), then read back both raw and as a record: the raw value is what was stored, and
//! the record holds exactly what `FromValue`'s documented rules make of it, or the select fails.

use std::time::Instant;

use proptest::prelude::*;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Db, Value};

use crate::envelope::{any_value, same, Cells};
use crate::{run_property, Report};

fn block<T>(f: impl std::future::Future<Output = T>) -> T {
    pollster::block_on(f)
}

/// Runs the target.
pub fn fuzz(cases: u64, deadline: Option<Instant>) -> Result<Report, String> {
    let backend = SqliteBackend::memory().map_err(|e| e.to_string())?;
    let db = Db::new(backend);
    block(db.sql("CREATE TABLE cells (id, r, t, b)").run()).map_err(|e| e.to_string())?;
    let strategy = proptest::collection::vec(any_value(), 4..=4);
    run_property(strategy, cases, deadline, |row| {
        block(db.sql("DELETE FROM cells").run()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut insert = db.sql("INSERT INTO cells (id, r, t, b) VALUES (?, ?, ?, ?)");
        for value in &row {
            insert = insert.bind(value.clone());
        }
        if block(insert.run()).is_err() {
            // Refused before storing (e.g. a non-finite REAL): nothing to read.
            let left = block(db.sql("SELECT id FROM cells").result())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(
                left.values.is_empty(),
                "a refused insert stored {:?}",
                left.values
            );
            return Ok(());
        }
        let raw = block(db.sql("SELECT id, r, t, b FROM cells").result())
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(
            raw.values.len() == 4
                && raw.values.iter().zip(&row).all(|(a, b)| same(a, b)
                    || (matches!(b, Value::Real(r) if r.is_nan()) && *a == Value::Null)),
            "stored {row:?}, read {:?}",
            raw.values
        );
        let records = block(db.select::<Cells>().all());
        match (records, crate::d1_rows::expected_record(&raw.values)) {
            (Ok(records), Some(want)) => {
                prop_assert_eq!(records.len(), 1);
                let got = records
                    .first()
                    .ok_or_else(|| TestCaseError::fail("no record"))?;
                prop_assert_eq!(got.id, want.id);
                prop_assert_eq!(got.r.map(f64::to_bits), want.r.map(f64::to_bits));
                prop_assert_eq!(&got.t, &want.t);
                prop_assert_eq!(&got.b, &want.b);
            }
            (Ok(records), None) => {
                return Err(TestCaseError::fail(format!(
                    "{records:?} decoded from {:?}",
                    raw.values
                )))
            }
            (Err(e), Some(want)) => {
                return Err(TestCaseError::fail(format!(
                    "{:?} refused ({e}), should be {want:?}",
                    raw.values
                )))
            }
            (Err(_), None) => {}
        }
        Ok(())
    })
}
