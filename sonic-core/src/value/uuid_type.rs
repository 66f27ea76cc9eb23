//! `uuid::Uuid` as a column (feature `uuid`).
//!
//! Stored as lowercase hyphenated `TEXT` (`67e55044-10b1-426f-9247-bb680e5fe0c8`), as Drizzle
//! and most SQLite schemas do: readable in the D1 console and in SonicJs's data, and its text
//! order is the UUID's byte order (so v7 UUIDs sort by time). Any form `Uuid::parse_str`
//! accepts is read; the canonical one is always written, so equality in SQL is the UUID's.

use uuid::Uuid;

use super::text_form::{decode_text, text_column};
use super::{ConvertError, FromValue, ToValue, Value};

/// ```
/// use sonic_db_core::{FromValue, ToValue, Value};
/// use uuid::Uuid;
/// let id = Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);
/// let stored = id.to_value().unwrap();
/// assert_eq!(stored, Value::Text("67e55044-10b1-426f-9247-bb680e5fe0c8".into()));
/// assert_eq!(Uuid::from_value(stored).unwrap(), id);
/// ```
impl ToValue for Uuid {
    fn to_value(&self) -> Result<Value, ConvertError> {
        Ok(Value::Text(self.hyphenated().to_string()))
    }
}

impl FromValue for Uuid {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        decode_text(value, "UUID text", |text| Uuid::parse_str(text).ok())
    }
}

text_column!(Uuid);
