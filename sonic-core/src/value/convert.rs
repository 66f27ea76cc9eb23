//! Fallible conversions between Rust types and [`Value`], both ways.
//!
//! Modelled on rusqlite's `ToSql`/`FromSql`: a conversion that would lose information is an
//! error, never a wrap, a truncation or a panic. The derive calls these for every column, and
//! eager-loaded relations go through the very same functions, so a type decodes identically at
//! every depth of a query.

use std::borrow::Cow;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Cell, Param};
use super::{SqlType, Value, F64_EXACT};

/// Why a value could not be converted: what was expected and what was found.
///
/// The derive wraps it into [`crate::Error::Decode`] / [`crate::Error::Encode`] together with
/// the table and column names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    /// What the Rust side accepts, e.g. `"INTEGER 0 or 1 (bool)"`.
    pub expected: Cow<'static, str>,
    /// What was actually there, e.g. `"INTEGER 7"`.
    pub found: String,
}

impl ConvertError {
    /// A new error.
    ///
    /// ```
    /// use sonic_db_core::ConvertError;
    /// let e = ConvertError::new("INTEGER", "TEXT \"x\"");
    /// assert_eq!(e.to_string(), "expected INTEGER, found TEXT \"x\"");
    /// ```
    pub fn new(expected: impl Into<Cow<'static, str>>, found: impl Into<String>) -> Self {
        ConvertError {
            expected: expected.into(),
            found: found.into(),
        }
    }

    fn mismatch(expected: &'static str, found: &Value) -> Self {
        ConvertError::new(expected, found.describe())
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, found {}", self.expected, self.found)
    }
}

impl std::error::Error for ConvertError {}

/// A Rust type that can be bound as a statement parameter.
pub trait ToValue {
    /// The value to bind.
    fn to_value(&self) -> Result<Value, ConvertError>;

    /// The value to bind, borrowed from `self` where it holds it as bound (text, bytes,
    /// integers): what an insert binds, so that it does not copy its records. It must equal
    /// [`ToValue::to_value`]; the default is that value, owned.
    ///
    /// ```
    /// use sonic_db_core::value::{Cell, Param};
    /// use sonic_db_core::ToValue;
    /// assert_eq!(Some(3_i64).to_param()?, Param::Borrowed(Cell::Integer(3)));
    /// assert_eq!(Some("hi").to_param()?.into_value(), "hi".to_value()?);
    /// # Ok::<(), sonic_db_core::ConvertError>(())
    /// ```
    #[inline]
    fn to_param(&self) -> Result<Param<'_>, ConvertError> {
        self.to_value().map(Param::Owned)
    }
}

/// A Rust type that can be read from a column.
pub trait FromValue: Sized {
    /// Takes the value; `Null` into a non-`Option` type is an error.
    fn from_value(value: Value) -> Result<Self, ConvertError>;

    /// Converts a cell a backend lends ([`Cell`]): what the typed read path of
    /// `#[derive(Table)]` calls. The default goes through [`FromValue::from_value`]; the
    /// common types take their usual cell without building a [`Value`] first.
    ///
    /// ```
    /// use sonic_db_core::value::Cell;
    /// use sonic_db_core::FromValue;
    /// assert_eq!(String::from_cell(Cell::Text("hi")), Ok("hi".to_string()));
    /// assert_eq!(<Option<i64>>::from_cell(Cell::Null), Ok(None));
    /// assert!(i64::from_cell(Cell::Text("7")).is_err()); // as from_value
    /// ```
    #[inline]
    fn from_cell(cell: Cell<'_>) -> Result<Self, ConvertError> {
        Self::from_value(cell.to_value())
    }
}

/// A type that can be a column of a table: its declared SQL type and nullability.
///
/// `#[derive(Table)]` reads these to build [`crate::ColumnDef`]s, so a field whose type does
/// not implement `ColumnType` is a compile error pointing at the field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be stored in a Sonic column",
    label = "unsupported column type",
    note = "columns hold integers, bool, f32/f64, String, Vec<u8>, Json<T>, serde_json::Value, \
            #[derive(TextEnum)] enums, chrono/time/uuid types (features of those names), \
            or Option of one of these"
)]
pub trait ColumnType: ToValue + FromValue {
    /// The declared type (and affinity) of the column.
    const SQL_TYPE: SqlType;
    /// `true` for `Option<T>`: the column is nullable.
    const NULLABLE: bool = false;
    /// The type that filters compare this column with (`T` for both `T` and `Option<T>`).
    type Operand: ToValue;

    /// The value to store for JSON input (a REST body), before it is checked by
    /// [`FromValue`]: by default [`Value::from_json`] for [`Self::SQL_TYPE`], i.e. the JSON
    /// form serde gives the plain types. [`Json<T>`] and `serde_json::Value` take any JSON
    /// document and store its text; `Option<T>` takes `null` or what `T` takes.
    ///
    /// ```
    /// use serde_json::json;
    /// use sonic_db_core::{ColumnType, Json, Value};
    /// assert_eq!(<bool as ColumnType>::value_from_json(&json!(true)), Ok(Value::Integer(1)));
    /// assert_eq!(
    ///     <Json<Vec<String>> as ColumnType>::value_from_json(&json!(["a"])),
    ///     Ok(Value::Text(r#"["a"]"#.into()))
    /// );
    /// assert_eq!(<Option<String> as ColumnType>::value_from_json(&json!(null)), Ok(Value::Null));
    /// ```
    fn value_from_json(json: &serde_json::Value) -> Result<Value, ConvertError> {
        Value::from_json(json, Self::SQL_TYPE)
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Result<Value, ConvertError> {
        (**self).to_value()
    }

    #[inline]
    fn to_param(&self) -> Result<Param<'_>, ConvertError> {
        (**self).to_param()
    }
}

impl ToValue for Value {
    fn to_value(&self) -> Result<Value, ConvertError> {
        Ok(self.clone())
    }

    #[inline]
    fn to_param(&self) -> Result<Param<'_>, ConvertError> {
        Ok(Param::Borrowed(Cell::from(self)))
    }
}

impl FromValue for Value {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        Ok(value)
    }
}

// ---- integers ----

impl ToValue for i64 {
    fn to_value(&self) -> Result<Value, ConvertError> {
        Ok(Value::Integer(*self))
    }

    #[inline]
    fn to_param(&self) -> Result<Param<'_>, ConvertError> {
        Ok(Param::Borrowed(Cell::Integer(*self)))
    }
}

impl FromValue for i64 {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::Integer(i) => Ok(i),
            other => Err(ConvertError::mismatch("INTEGER", &other)),
        }
    }

    #[inline]
    fn from_cell(cell: Cell<'_>) -> Result<Self, ConvertError> {
        match cell {
            Cell::Integer(i) => Ok(i),
            other => Self::from_value(other.to_value()),
        }
    }
}

impl ColumnType for i64 {
    const SQL_TYPE: SqlType = SqlType::Integer;
    type Operand = i64;
}

macro_rules! narrow_integer {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Result<Value, ConvertError> {
                i64::try_from(*self).map(Value::Integer).map_err(|_| {
                    ConvertError::new(
                        concat!("an integer that fits INTEGER (i64), from ", stringify!($t)),
                        format!("{} (beyond i64::MAX)", self),
                    )
                })
            }
        }

        impl FromValue for $t {
            fn from_value(value: Value) -> Result<Self, ConvertError> {
                match value {
                    Value::Integer(i) => <$t>::try_from(i).map_err(|_| {
                        ConvertError::new(
                            concat!("INTEGER in the range of ", stringify!($t)),
                            format!("INTEGER {i}"),
                        )
                    }),
                    other => Err(ConvertError::mismatch(
                        concat!("INTEGER (", stringify!($t), ")"),
                        &other,
                    )),
                }
            }
        }

        impl ColumnType for $t {
            const SQL_TYPE: SqlType = SqlType::Integer;
            type Operand = $t;
        }
    )*};
}

narrow_integer!(i8, i16, i32, u8, u16, u32, u64, usize, isize);

// ---- bool ----

impl ToValue for bool {
    fn to_value(&self) -> Result<Value, ConvertError> {
        Ok(Value::Integer(i64::from(*self)))
    }
}

impl FromValue for bool {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::Integer(0) => Ok(false),
            Value::Integer(1) => Ok(true),
            other => Err(ConvertError::mismatch("INTEGER 0 or 1 (bool)", &other)),
        }
    }
}

impl ColumnType for bool {
    const SQL_TYPE: SqlType = SqlType::Integer;
    type Operand = bool;
}

// ---- floats ----
// NaN and ±infinity are rejected on the way in: SQLite silently turns NaN into NULL, and
// neither survives the JSON that D1 results and eager-loaded relations travel through.

impl ToValue for f64 {
    fn to_value(&self) -> Result<Value, ConvertError> {
        if self.is_finite() {
            Ok(Value::Real(*self))
        } else {
            Err(ConvertError::new("a finite REAL", format!("{self}")))
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::Real(r) => Ok(r),
            // SQLite and JSON both hand back whole floats as integers at times.
            Value::Integer(i) if (-F64_EXACT..=F64_EXACT).contains(&i) => Ok(i as f64),
            other => Err(ConvertError::mismatch("REAL", &other)),
        }
    }

    #[inline]
    fn from_cell(cell: Cell<'_>) -> Result<Self, ConvertError> {
        match cell {
            Cell::Real(r) => Ok(r),
            other => Self::from_value(other.to_value()),
        }
    }
}

impl ColumnType for f64 {
    const SQL_TYPE: SqlType = SqlType::Real;
    type Operand = f64;
}

impl ToValue for f32 {
    fn to_value(&self) -> Result<Value, ConvertError> {
        f64::from(*self).to_value()
    }
}

impl FromValue for f32 {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        let wide = f64::from_value(value)?;
        let narrow = wide as f32;
        if narrow.is_finite() {
            Ok(narrow)
        } else {
            Err(ConvertError::new(
                "REAL in the range of f32",
                format!("REAL {wide}"),
            ))
        }
    }
}

impl ColumnType for f32 {
    const SQL_TYPE: SqlType = SqlType::Real;
    type Operand = f32;
}

// ---- text ----

impl ToValue for str {
    fn to_value(&self) -> Result<Value, ConvertError> {
        Ok(Value::Text(self.to_owned()))
    }

    #[inline]
    fn to_param(&self) -> Result<Param<'_>, ConvertError> {
        Ok(Param::Borrowed(Cell::Text(self)))
    }
}

impl ToValue for String {
    fn to_value(&self) -> Result<Value, ConvertError> {
        Ok(Value::Text(self.clone()))
    }

    #[inline]
    fn to_param(&self) -> Result<Param<'_>, ConvertError> {
        Ok(Param::Borrowed(Cell::Text(self)))
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::Text(s) => Ok(s),
            Value::Blob(b) => String::from_utf8(b).map_err(|e| {
                ConvertError::new(
                    "TEXT (or a BLOB of valid UTF-8)",
                    format!(
                        "BLOB of {} bytes that is not valid UTF-8 (at byte {})",
                        e.as_bytes().len(),
                        e.utf8_error().valid_up_to()
                    ),
                )
            }),
            other => Err(ConvertError::mismatch("TEXT", &other)),
        }
    }

    #[inline]
    fn from_cell(cell: Cell<'_>) -> Result<Self, ConvertError> {
        match cell {
            Cell::Text(s) => Ok(s.to_owned()),
            other => Self::from_value(other.to_value()),
        }
    }
}

impl ColumnType for String {
    const SQL_TYPE: SqlType = SqlType::Text;
    type Operand = String;
}

// ---- bytes ----

impl ToValue for [u8] {
    fn to_value(&self) -> Result<Value, ConvertError> {
        Ok(Value::Blob(self.to_vec()))
    }

    #[inline]
    fn to_param(&self) -> Result<Param<'_>, ConvertError> {
        Ok(Param::Borrowed(Cell::Blob(self)))
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Result<Value, ConvertError> {
        Ok(Value::Blob(self.clone()))
    }

    #[inline]
    fn to_param(&self) -> Result<Param<'_>, ConvertError> {
        Ok(Param::Borrowed(Cell::Blob(self)))
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::Blob(b) => Ok(b),
            Value::Text(s) => Ok(s.into_bytes()),
            other => Err(ConvertError::mismatch("BLOB", &other)),
        }
    }
}

impl ColumnType for Vec<u8> {
    const SQL_TYPE: SqlType = SqlType::Blob;
    type Operand = Vec<u8>;
}

// ---- Option ----

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Result<Value, ConvertError> {
        match self {
            Some(v) => v.to_value(),
            None => Ok(Value::Null),
        }
    }

    #[inline]
    fn to_param(&self) -> Result<Param<'_>, ConvertError> {
        match self {
            Some(v) => v.to_param(),
            None => Ok(Param::Borrowed(Cell::Null)),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }

    #[inline]
    fn from_cell(cell: Cell<'_>) -> Result<Self, ConvertError> {
        match cell {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

impl<T: ColumnType> ColumnType for Option<T> {
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = true;
    type Operand = T::Operand;

    fn value_from_json(json: &serde_json::Value) -> Result<Value, ConvertError> {
        match json {
            serde_json::Value::Null => Ok(Value::Null),
            other => T::value_from_json(other),
        }
    }
}

// ---- JSON ----

/// A column holding `T` as a JSON document in a `TEXT` column.
///
/// ```
/// use sonic_db_core::{FromValue, Json, ToValue, Value};
/// let tags = Json(vec!["rust".to_string(), "d1".to_string()]);
/// let stored = tags.to_value().unwrap();
/// assert_eq!(stored, Value::Text(r#"["rust","d1"]"#.into()));
/// let back: Json<Vec<String>> = Json::from_value(stored).unwrap();
/// assert_eq!(back, tags);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Json<T>(pub T);

impl<T: Serialize> ToValue for Json<T> {
    fn to_value(&self) -> Result<Value, ConvertError> {
        serde_json::to_string(&self.0)
            .map(Value::Text)
            .map_err(|e| ConvertError::new("a value serde_json can serialise", e.to_string()))
    }
}

impl<T: DeserializeOwned> FromValue for Json<T> {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        match value {
            Value::Text(s) => serde_json::from_str(&s).map(Json).map_err(|e| {
                ConvertError::new(
                    format!("TEXT holding JSON for {}", std::any::type_name::<T>()),
                    format!("TEXT that does not decode ({e})"),
                )
            }),
            other => Err(ConvertError::mismatch("TEXT holding JSON", &other)),
        }
    }
}

impl<T: Serialize + DeserializeOwned> ColumnType for Json<T> {
    const SQL_TYPE: SqlType = SqlType::Text;
    type Operand = Json<T>;

    /// Any JSON document, stored as its text (`null` too: a `Json<Option<U>>` stores it as
    /// the text `null`).
    fn value_from_json(json: &serde_json::Value) -> Result<Value, ConvertError> {
        Ok(Value::Text(json.to_string()))
    }
}

impl ToValue for serde_json::Value {
    fn to_value(&self) -> Result<Value, ConvertError> {
        Ok(Value::Text(self.to_string()))
    }
}

impl FromValue for serde_json::Value {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        Json::<serde_json::Value>::from_value(value).map(|j| j.0)
    }
}

impl ColumnType for serde_json::Value {
    const SQL_TYPE: SqlType = SqlType::Text;
    type Operand = serde_json::Value;

    /// Any JSON document, stored as its text.
    fn value_from_json(json: &serde_json::Value) -> Result<Value, ConvertError> {
        Ok(Value::Text(json.to_string()))
    }
}
