//! `chrono`'s date and time types as columns (feature `chrono`).
//!
//! Stored as `TEXT` of a fixed shape — zero-padded four-digit years, always nine fractional
//! digits, `Z` for UTC — so that SQL's text order is time order and every value round-trips
//! to the nanosecond on SQLite and D1 alike (D1 hands integers to JavaScript as doubles, which
//! would round nanosecond timestamps). Years outside 0000–9999 are refused: they would need a
//! sign or a fifth digit and sort wrongly.
//!
//! | type | stored as |
//! |---|---|
//! | `DateTime<Utc>` | `2026-12-05T05:17:32.123456789Z` |
//! | `NaiveDateTime` | `2026-12-05T05:17:32.123456789` |
//! | `NaiveDate` | `2026-12-05` |

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Utc};

use super::text_form::{decode_text, sortable_year, text_column};
use super::{ConvertError, FromValue, ToValue, Value};

const DATE_TIME_UTC: &str = "%Y-%m-%dT%H:%M:%S%.9fZ";
const NAIVE_DATE_TIME: &str = "%Y-%m-%dT%H:%M:%S%.9f";
const NAIVE_DATE_TIME_PARSE: &str = "%Y-%m-%dT%H:%M:%S%.f";
const NAIVE_DATE: &str = "%Y-%m-%d";

/// ```
/// use chrono::{TimeZone, Utc};
/// use sonic_db_core::{FromValue, ToValue, Value};
/// let at = Utc.with_ymd_and_hms(2026, 12, 5, 5, 17, 32).unwrap();
/// let stored = at.to_value().unwrap();
/// assert_eq!(stored, Value::Text("2026-12-05T05:17:32.000000000Z".into()));
/// assert_eq!(chrono::DateTime::<Utc>::from_value(stored).unwrap(), at);
/// ```
impl ToValue for DateTime<Utc> {
    fn to_value(&self) -> Result<Value, ConvertError> {
        sortable_year(self.year(), "a DateTime<Utc>")?;
        Ok(Value::Text(self.format(DATE_TIME_UTC).to_string()))
    }
}

impl FromValue for DateTime<Utc> {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        decode_text(value, "RFC 3339 date-time text", |text| {
            DateTime::parse_from_rfc3339(text)
                .ok()
                .map(|at| at.with_timezone(&Utc))
        })
    }
}

text_column!(DateTime<Utc>);

/// ```
/// use chrono::NaiveDate;
/// use sonic_db_core::{FromValue, ToValue, Value};
/// let at = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap().and_hms_nano_opt(5, 17, 32, 7).unwrap();
/// let stored = at.to_value().unwrap();
/// assert_eq!(stored, Value::Text("2026-12-05T05:17:32.000000007".into()));
/// assert_eq!(chrono::NaiveDateTime::from_value(stored).unwrap(), at);
/// ```
impl ToValue for NaiveDateTime {
    fn to_value(&self) -> Result<Value, ConvertError> {
        sortable_year(self.year(), "a NaiveDateTime")?;
        Ok(Value::Text(self.format(NAIVE_DATE_TIME).to_string()))
    }
}

impl FromValue for NaiveDateTime {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        decode_text(
            value,
            "date-time text (YYYY-MM-DDTHH:MM:SS.fffffffff)",
            |text| NaiveDateTime::parse_from_str(text, NAIVE_DATE_TIME_PARSE).ok(),
        )
    }
}

text_column!(NaiveDateTime);

/// ```
/// use chrono::NaiveDate;
/// use sonic_db_core::{FromValue, ToValue, Value};
/// let day = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
/// assert_eq!(day.to_value().unwrap(), Value::Text("2026-12-05".into()));
/// assert_eq!(NaiveDate::from_value(Value::Text("2026-12-05".into())).unwrap(), day);
/// ```
impl ToValue for NaiveDate {
    fn to_value(&self) -> Result<Value, ConvertError> {
        sortable_year(self.year(), "a NaiveDate")?;
        Ok(Value::Text(self.format(NAIVE_DATE).to_string()))
    }
}

impl FromValue for NaiveDate {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        decode_text(value, "date text (YYYY-MM-DD)", |text| {
            NaiveDate::parse_from_str(text, NAIVE_DATE).ok()
        })
    }
}

text_column!(NaiveDate);
