//! A cell a backend lends while it steps through a result: the borrowed form of a
//! [`Value`], so that the typed read path converts without allocating one per cell.

use super::Value;

/// One cell of a result row, borrowed from the backend for as long as the row is lent.
///
/// ```
/// use sonic_db_core::value::Cell;
/// use sonic_db_core::Value;
/// assert_eq!(Cell::Text("hi").to_value(), Value::Text("hi".into()));
/// assert_eq!(Cell::from(&Value::Integer(7)), Cell::Integer(7));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// SQL `NULL`.
    Null,
    /// An INTEGER.
    Integer(i64),
    /// A REAL.
    Real(f64),
    /// A TEXT that is valid UTF-8 (a backend hands invalid UTF-8 on as a [`Cell::Blob`]).
    Text(&'a str),
    /// A BLOB.
    Blob(&'a [u8]),
}

impl Cell<'_> {
    /// The owned [`Value`] of the cell.
    ///
    /// ```
    /// use sonic_db_core::value::Cell;
    /// use sonic_db_core::Value;
    /// assert_eq!(Cell::Blob(&[1, 2]).to_value(), Value::Blob(vec![1, 2]));
    /// assert_eq!(Cell::Null.to_value(), Value::Null);
    /// ```
    #[inline]
    pub fn to_value(self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Integer(i) => Value::Integer(i),
            Cell::Real(r) => Value::Real(r),
            Cell::Text(s) => Value::Text(s.to_owned()),
            Cell::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl<'a> From<&'a Value> for Cell<'a> {
    fn from(value: &'a Value) -> Self {
        match value {
            Value::Null => Cell::Null,
            Value::Integer(i) => Cell::Integer(*i),
            Value::Real(r) => Cell::Real(*r),
            Value::Text(s) => Cell::Text(s),
            Value::Blob(b) => Cell::Blob(b),
        }
    }
}
