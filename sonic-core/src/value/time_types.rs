//! `time`'s `OffsetDateTime` and `Date` as columns (feature `time`).
//!
//! The same text forms as the `chrono` types, for the same reasons (text order is time order;
//! exact on D1): an `OffsetDateTime` is stored at UTC, `2026-12-05T05:17:32.123456789Z` — its
//! offset is not kept, the instant is (and `OffsetDateTime`'s `==` compares instants); a
//! `Date` is `2026-12-05`. Years outside 0000–9999 are refused.

use std::fmt::Write;

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};

use super::text_form::{decode_text, sortable_year, text_column};
use super::{ConvertError, FromValue, ToValue, Value};

fn date_text(out: &mut String, date: Date) -> Result<(), ConvertError> {
    write!(
        out,
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
    .map_err(|e| ConvertError::new("a formattable date", e.to_string()))
}

/// ```
/// use sonic_db_core::{FromValue, ToValue, Value};
/// use time::macros::datetime;
/// let at = datetime!(2026-12-05 07:17:32.5 +02:00);
/// let stored = at.to_value().unwrap();
/// assert_eq!(stored, Value::Text("2026-12-05T05:17:32.500000000Z".into()));
/// assert_eq!(time::OffsetDateTime::from_value(stored).unwrap(), at); // the same instant
/// ```
impl ToValue for OffsetDateTime {
    fn to_value(&self) -> Result<Value, ConvertError> {
        let utc = self.to_offset(UtcOffset::UTC);
        sortable_year(utc.year(), "an OffsetDateTime")?;
        let mut out = String::with_capacity(30);
        date_text(&mut out, utc.date())?;
        write!(
            out,
            "T{:02}:{:02}:{:02}.{:09}Z",
            utc.hour(),
            utc.minute(),
            utc.second(),
            utc.nanosecond()
        )
        .map_err(|e| ConvertError::new("a formattable date-time", e.to_string()))?;
        Ok(Value::Text(out))
    }
}

impl FromValue for OffsetDateTime {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        decode_text(value, "RFC 3339 date-time text", |text| {
            OffsetDateTime::parse(text, &Rfc3339).ok()
        })
    }
}

text_column!(OffsetDateTime);

/// ```
/// use sonic_db_core::{FromValue, ToValue, Value};
/// use time::macros::date;
/// assert_eq!(date!(2026-12-05).to_value().unwrap(), Value::Text("2026-12-05".into()));
/// assert_eq!(time::Date::from_value(Value::Text("2026-12-05".into())).unwrap(), date!(2026-12-05));
/// ```
impl ToValue for Date {
    fn to_value(&self) -> Result<Value, ConvertError> {
        sortable_year(self.year(), "a Date")?;
        let mut out = String::with_capacity(10);
        date_text(&mut out, *self)?;
        Ok(Value::Text(out))
    }
}

impl FromValue for Date {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        decode_text(value, "date text (YYYY-MM-DD)", |text| {
            Date::parse(text, format_description!("[year]-[month]-[day]")).ok()
        })
    }
}

text_column!(Date);
