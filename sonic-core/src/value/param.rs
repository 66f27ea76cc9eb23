//! A statement parameter taken from a record: borrowed where the field already holds the
//! value as the backend binds it, so that an insert does not copy every string of its records.

use super::{Cell, Value};

/// One parameter of a write, borrowed from the record where it can be
/// ([`ToValue::to_param`](super::ToValue::to_param)), owned where the field's type converts.
///
/// ```
/// use sonic_db_core::value::{Cell, Param};
/// use sonic_db_core::{ToValue, Value};
///
/// let title = String::from("Hello");
/// let param = title.to_param()?;
/// assert!(matches!(param, Param::Borrowed(Cell::Text("Hello")))); // not copied
/// assert_eq!(param.into_value(), Value::Text("Hello".into()));
/// # Ok::<(), sonic_db_core::ConvertError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Param<'a> {
    /// A view of the record's own field.
    Borrowed(Cell<'a>),
    /// A value converted from the field.
    Owned(Value),
}

impl Param<'_> {
    /// The parameter as a backend binds it.
    ///
    /// ```
    /// use sonic_db_core::value::{Cell, Param};
    /// use sonic_db_core::Value;
    /// assert_eq!(Param::Owned(Value::Integer(7)).cell(), Cell::Integer(7));
    /// ```
    #[inline]
    pub fn cell(&self) -> Cell<'_> {
        match self {
            Param::Borrowed(cell) => *cell,
            Param::Owned(value) => Cell::from(value),
        }
    }

    /// The owned value, for a statement that outlives the record.
    ///
    /// ```
    /// use sonic_db_core::value::{Cell, Param};
    /// use sonic_db_core::Value;
    /// assert_eq!(Param::Borrowed(Cell::Null).into_value(), Value::Null);
    /// ```
    #[inline]
    pub fn into_value(self) -> Value {
        match self {
            Param::Borrowed(cell) => cell.to_value(),
            Param::Owned(value) => value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{Json, ToValue};

    fn same<T: ToValue + ?Sized>(value: &T) {
        let owned = value.to_value();
        let param = value.to_param().map(Param::into_value);
        assert_eq!(param, owned);
    }

    #[test]
    fn a_param_binds_what_the_value_binds() {
        same(&7_i64);
        same(&i64::MIN);
        same(&300_u16);
        same(&true);
        same(&0.5_f64);
        same(&f64::NAN); // refused by both
        same("text");
        same(&String::from("owned text"));
        same(&vec![0_u8, 159, 146, 150]);
        same(&[1_u8, 2][..]);
        same(&Some(String::from("some")));
        same(&None::<String>);
        same(&Some(Some(3_i64)));
        same(&Value::Blob(vec![1]));
        same(&Json(vec![1, 2]));
        same(&&"reference");
    }

    #[test]
    fn text_and_bytes_are_borrowed_not_copied() {
        let text = String::from("x");
        let bytes = vec![1_u8];
        assert!(
            matches!(text.to_param(), Ok(Param::Borrowed(Cell::Text(t))) if std::ptr::eq(t, text.as_str()))
        );
        assert!(
            matches!(bytes.to_param(), Ok(Param::Borrowed(Cell::Blob(b))) if std::ptr::eq(b, bytes.as_slice()))
        );
        assert_eq!(None::<String>.to_param(), Ok(Param::Borrowed(Cell::Null)));
    }
}
