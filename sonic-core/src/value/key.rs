//! Primary keys as the query methods take them: one column's value, or a tuple of 2 to 4
//! values for a composite key (`#[table(primary_key(a, b))]`).

use super::convert::{ColumnType, ConvertError};
use super::Value;

/// The Rust type of a table's primary key ([`Table::PrimaryKey`](crate::Table::PrimaryKey)):
/// a [`ColumnType`] for a single-column key, a tuple of 2 to 4 of them for a composite key.
/// It turns a key into the values bound for each key column, in key order, so that every
/// key column is matched (never the first alone).
///
/// ```
/// use sonic_db_core::value::Key;
/// use sonic_db_core::Value;
///
/// assert_eq!(*7_i64.key_parts()?, [Value::Integer(7)]);
/// let pair = (7_i64, "rust".to_string());
/// assert_eq!(*pair.key_parts()?, [Value::Integer(7), Value::Text("rust".into())]);
/// assert_eq!(<(i64, String)>::ARITY, 2);
/// # Ok::<(), sonic_db_core::ConvertError>(())
/// ```
pub trait Key: Sized + IntoKey<Self> {
    /// How many columns the key spans.
    const ARITY: usize;
    /// The value of each key column, in key order.
    fn key_parts(&self) -> Result<KeyParts, ConvertError>;
    /// The key read back from one value per key column, in key order (a REST path, a row).
    fn from_key_parts(parts: Vec<Value>) -> Result<Self, ConvertError>;
}

/// The values of a key's columns, in key order ([`Key::key_parts`]). A one-column key, the
/// usual case, holds its value inline: a find by key on in-process SQLite then binds it with
/// no allocation, as hand-written rusqlite code does.
///
/// ```
/// use sonic_db_core::value::{Key, KeyParts};
/// use sonic_db_core::Value;
///
/// let one = 7_i64.key_parts()?;
/// assert!(matches!(one, KeyParts::One(Value::Integer(7))));
/// assert_eq!(one.len(), 1); // a slice of values
/// assert_eq!((7_i64, 8_i64).key_parts()?.into_vec(), [Value::Integer(7), Value::Integer(8)]);
/// # Ok::<(), sonic_db_core::ConvertError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum KeyParts {
    /// The value of a one-column key.
    One(Value),
    /// The values of a composite key.
    Many(Vec<Value>),
}

impl KeyParts {
    /// The values as a vector (a one-column key's is allocated here).
    pub fn into_vec(self) -> Vec<Value> {
        match self {
            KeyParts::One(value) => vec![value],
            KeyParts::Many(values) => values,
        }
    }
}

impl std::ops::Deref for KeyParts {
    type Target = [Value];

    fn deref(&self) -> &[Value] {
        match self {
            KeyParts::One(value) => std::slice::from_ref(value),
            KeyParts::Many(values) => values,
        }
    }
}

impl<T: ColumnType> Key for T {
    const ARITY: usize = 1;
    fn key_parts(&self) -> Result<KeyParts, ConvertError> {
        Ok(KeyParts::One(self.to_value()?))
    }
    fn from_key_parts(parts: Vec<Value>) -> Result<Self, ConvertError> {
        let mut parts = parts.into_iter();
        match (parts.next(), parts.next()) {
            (Some(one), None) => T::from_value(one),
            (_, _) => Err(ConvertError::new(
                "one key value",
                "another number of values",
            )),
        }
    }
}

/// A value that converts into key `K`: what [`Db::find`](crate::Db::find) and the other
/// by-key methods take, so that `("p1", "c1")` finds a `(String, String)` key as `"p1"`
/// finds a `String` one.
///
/// ```
/// use sonic_db_core::value::IntoKey;
///
/// let key: (String, i64) = ("p1", 3_i64).into_key();
/// assert_eq!(key, ("p1".to_string(), 3));
/// let one: String = "p1".into_key();
/// assert_eq!(one, "p1");
/// ```
pub trait IntoKey<K> {
    /// The key.
    fn into_key(self) -> K;
}

impl<K: ColumnType, X: Into<K>> IntoKey<K> for X {
    fn into_key(self) -> K {
        self.into()
    }
}

macro_rules! tuple_key {
    ($arity:literal; $($t:ident $x:ident $v:ident),+) => {
        impl<$($t: ColumnType),+> Key for ($($t,)+) {
            const ARITY: usize = $arity;
            fn key_parts(&self) -> Result<KeyParts, ConvertError> {
                #[allow(non_snake_case)]
                let ($($v,)+) = self;
                Ok(KeyParts::Many(vec![$($v.to_value()?),+]))
            }
            fn from_key_parts(parts: Vec<Value>) -> Result<Self, ConvertError> {
                if parts.len() != $arity {
                    return Err(ConvertError::new(
                        concat!($arity, " key values"),
                        format!("{} values", parts.len()),
                    ));
                }
                let mut parts = parts.into_iter();
                Ok(($($t::from_value(parts.next().unwrap_or(Value::Null))?,)+))
            }
        }

        impl<$($t: ColumnType, $x: Into<$t>),+> IntoKey<($($t,)+)> for ($($x,)+) {
            fn into_key(self) -> ($($t,)+) {
                #[allow(non_snake_case)]
                let ($($v,)+) = self;
                ($($v.into(),)+)
            }
        }
    };
}

tuple_key!(2; A XA a, B XB b);
tuple_key!(3; A XA a, B XB b, C XC c);
tuple_key!(4; A XA a, B XB b, C XC c, D XD d);
