//! chrono, time and uuid columns (features `chrono`, `time`, `uuid`): exact round trips
//! through `Value` and SQLite, SQL text order equal to the types' order, canonical storage of
//! JSON input, and clear errors for what the text form cannot hold.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{ColumnType, Db, FromValue, Schema, Table, ToValue, Value};
use time::{OffsetDateTime, UtcOffset};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "stamps")]
struct Stamp {
    #[column(primary_key)]
    id: i64,
    at: DateTime<Utc>,
    naive: NaiveDateTime,
    day: NaiveDate,
    instant: OffsetDateTime,
    date: time::Date,
    uid: Uuid,
    maybe_uid: Option<Uuid>,
}

/// Seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
const FIRST_SECOND: i64 = -62_167_219_200;
const LAST_SECOND: i64 = 253_402_300_799;

fn utc() -> impl Strategy<Value = DateTime<Utc>> {
    (FIRST_SECOND..=LAST_SECOND, 0u32..1_000_000_000)
        .prop_map(|(secs, nanos)| Utc.timestamp_opt(secs, nanos).unwrap())
}

fn offset_date_time() -> impl Strategy<Value = OffsetDateTime> {
    // Offsets within a day whose local date stays in 0000–9999 too (`date` below).
    (utc(), -50_000i32..50_000).prop_filter_map("local year out of range", |(at, offset)| {
        let nanos =
            i128::from(at.timestamp()) * 1_000_000_000 + i128::from(at.timestamp_subsec_nanos());
        let instant = OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()?;
        let local = instant.checked_to_offset(UtcOffset::from_whole_seconds(offset).ok()?)?;
        (0..=9999).contains(&local.year()).then_some(local)
    })
}

fn stamp() -> impl Strategy<Value = Stamp> {
    (
        utc(),
        utc(),
        offset_date_time(),
        any::<u128>(),
        any::<Option<u128>>(),
    )
        .prop_map(|(at, other, instant, uid, maybe_uid)| Stamp {
            id: 0,
            at,
            naive: other.naive_utc(),
            day: at.date_naive(),
            instant,
            date: instant.date(),
            uid: Uuid::from_u128(uid),
            maybe_uid: maybe_uid.map(Uuid::from_u128),
        })
}

fn text<T: ToValue>(value: &T) -> String {
    match value.to_value().unwrap() {
        Value::Text(text) => text,
        other => panic!("stored as {other:?}, not TEXT"),
    }
}

fn round_trips<T: ToValue + FromValue + PartialEq + std::fmt::Debug>(value: &T) {
    let back = T::from_value(value.to_value().unwrap()).unwrap();
    assert_eq!(&back, value);
}

proptest! {
    #[test]
    fn values_round_trip_exactly(row in stamp()) {
        round_trips(&row.at);
        round_trips(&row.naive);
        round_trips(&row.day);
        round_trips(&row.instant);
        round_trips(&row.date);
        round_trips(&row.uid);
        round_trips(&row.maybe_uid);
    }

    #[test]
    fn text_order_is_the_types_order(a in stamp(), b in stamp()) {
        prop_assert_eq!(a.at.cmp(&b.at), text(&a.at).cmp(&text(&b.at)));
        prop_assert_eq!(a.naive.cmp(&b.naive), text(&a.naive).cmp(&text(&b.naive)));
        prop_assert_eq!(a.day.cmp(&b.day), text(&a.day).cmp(&text(&b.day)));
        prop_assert_eq!(a.instant.cmp(&b.instant), text(&a.instant).cmp(&text(&b.instant)));
        prop_assert_eq!(a.date.cmp(&b.date), text(&a.date).cmp(&text(&b.date)));
        prop_assert_eq!(a.uid.cmp(&b.uid), text(&a.uid).cmp(&text(&b.uid)));
    }
}

fn database() -> Db {
    let sqlite = SqliteBackend::memory().unwrap();
    sqlite
        .exec(&Schema::new().table::<Stamp>().to_sql())
        .unwrap();
    Db::new(sqlite)
}

#[test]
fn sqlite_stores_reads_orders_and_filters_by_every_type() {
    let db = database();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut rows: Vec<Stamp> = (0..200)
        .map(|id| Stamp {
            id,
            ..stamp().new_tree(&mut runner).unwrap().current()
        })
        .collect();
    pollster::block_on(db.insert_many(&rows)).unwrap();

    for row in &rows {
        let stored = pollster::block_on(db.find_fresh::<Stamp>(row.id)).unwrap();
        assert_eq!(stored.as_ref(), Some(row));
        let by_value = pollster::block_on(
            db.select::<Stamp>()
                .filter(Stamp::AT.eq(row.at))
                .filter(Stamp::INSTANT.eq(row.instant))
                .filter(Stamp::UID.eq(row.uid))
                .all(),
        )
        .unwrap();
        assert_eq!(by_value, vec![row.clone()]);
    }

    macro_rules! sorted_by {
        ($column:expr, $field:ident) => {{
            let from_sql: Vec<i64> = pollster::block_on(
                db.select::<Stamp>()
                    .order_by($column.asc())
                    .order_by(Stamp::ID.asc())
                    .all(),
            )
            .unwrap()
            .into_iter()
            .map(|row| row.id)
            .collect();
            rows.sort_by(|a, b| a.$field.cmp(&b.$field).then(a.id.cmp(&b.id)));
            let expected: Vec<i64> = rows.iter().map(|row| row.id).collect();
            assert_eq!(from_sql, expected, "ORDER BY {}", stringify!($field));
        }};
    }
    sorted_by!(Stamp::AT, at);
    sorted_by!(Stamp::NAIVE, naive);
    sorted_by!(Stamp::DAY, day);
    sorted_by!(Stamp::INSTANT, instant);
    sorted_by!(Stamp::DATE, date);
    sorted_by!(Stamp::UID, uid);
}

#[test]
fn json_input_is_stored_in_the_canonical_form() {
    assert_eq!(
        <DateTime<Utc> as ColumnType>::value_from_json(&json!("2026-12-05T07:17:32+02:00")),
        Ok(Value::Text("2026-12-05T05:17:32.000000000Z".into()))
    );
    assert_eq!(
        <OffsetDateTime as ColumnType>::value_from_json(&json!("2026-12-05T05:17:32.25Z")),
        Ok(Value::Text("2026-12-05T05:17:32.250000000Z".into()))
    );
    assert_eq!(
        <Uuid as ColumnType>::value_from_json(&json!("67E55044-10B1-426F-9247-BB680E5FE0C8")),
        Ok(Value::Text("67e55044-10b1-426f-9247-bb680e5fe0c8".into()))
    );
    assert_eq!(
        <Option<NaiveDate> as ColumnType>::value_from_json(&json!(null)),
        Ok(Value::Null)
    );
    let refused = <NaiveDate as ColumnType>::value_from_json(&json!("5 Dec 2026")).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "expected date text (YYYY-MM-DD), found TEXT \"5 Dec 2026\""
    );
    let column = Stamp::DAY.index();
    assert!(Stamp::column_from_json(column, &json!(20261205)).is_err());
}

#[test]
fn years_the_text_form_cannot_sort_are_refused() {
    let late = NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap();
    assert_eq!(
        late.to_value().unwrap_err().to_string(),
        "expected a NaiveDate in the years 0000 to 9999 (stored as text that sorts by time), \
         found the year 10000"
    );
    let early = Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap();
    assert!(early.to_value().is_err());
    let date = time::Date::from_calendar_date(-5, time::Month::March, 1).unwrap();
    assert!(date.to_value().is_err());
}

#[test]
fn a_wrong_stored_value_names_what_was_expected() {
    let err = Uuid::from_value(Value::Integer(7)).unwrap_err();
    assert_eq!(err.to_string(), "expected UUID text, found INTEGER 7");
    let err = DateTime::<Utc>::from_value(Value::Text("yesterday".into())).unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected RFC 3339 date-time text, found TEXT \"yesterday\""
    );
}
