//! The edges of the conversions between Rust values and [`Value`]: nothing wraps, truncates or
//! panics; every failure says what was expected and what was found.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use sonic_db_core::{ColumnType, ConvertError, FromValue, Json, SqlType, ToValue, Value};

fn round_trip<T: ToValue + FromValue + PartialEq + std::fmt::Debug>(v: T) {
    let stored = v.to_value().unwrap();
    assert_eq!(T::from_value(stored).unwrap(), v);
}

#[test]
fn i64_extremes_round_trip() {
    for v in [i64::MIN, -1, 0, 1, i64::MAX] {
        assert_eq!(v.to_value().unwrap(), Value::Integer(v));
        round_trip(v);
    }
}

#[test]
fn u64_beyond_i64_is_an_error() {
    assert_eq!(
        (i64::MAX as u64).to_value().unwrap(),
        Value::Integer(i64::MAX)
    );
    let e = (i64::MAX as u64 + 1).to_value().unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected an integer that fits INTEGER (i64), from u64, found 9223372036854775808 (beyond i64::MAX)"
    );
    assert!(u64::MAX.to_value().is_err());
    // And reading a negative INTEGER into u64 fails rather than wrapping.
    let e = u64::from_value(Value::Integer(-1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected INTEGER in the range of u64, found INTEGER -1"
    );
}

#[test]
fn narrow_integers_reject_out_of_range() {
    assert_eq!(u8::from_value(Value::Integer(255)).unwrap(), 255);
    assert_eq!(
        u8::from_value(Value::Integer(256)).unwrap_err(),
        ConvertError::new("INTEGER in the range of u8", "INTEGER 256")
    );
    assert_eq!(
        u8::from_value(Value::Integer(-1)).unwrap_err(),
        ConvertError::new("INTEGER in the range of u8", "INTEGER -1")
    );
    assert_eq!(
        i32::from_value(Value::Integer(i64::from(i32::MIN))).unwrap(),
        i32::MIN
    );
    assert_eq!(
        i32::from_value(Value::Integer(i64::from(i32::MAX) + 1)).unwrap_err(),
        ConvertError::new("INTEGER in the range of i32", "INTEGER 2147483648")
    );
    assert_eq!(
        i32::from_value(Value::Real(1.0)).unwrap_err(),
        ConvertError::new("INTEGER (i32)", "REAL 1")
    );
    round_trip(i8::MIN);
    round_trip(u32::MAX);
}

#[test]
fn non_finite_floats_are_rejected_on_encode() {
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = v.to_value().unwrap_err();
        assert_eq!(e.expected, "a finite REAL", "{v}");
    }
    assert_eq!(
        f64::NAN.to_value().unwrap_err().to_string(),
        "expected a finite REAL, found NaN"
    );
    assert!(f32::INFINITY.to_value().is_err());
    assert!(f32::NAN.to_value().is_err());
    round_trip(f64::MAX);
    round_trip(f64::MIN_POSITIVE);
    round_trip(-0.0_f64);
    round_trip(1.5_f32);
    // A REAL beyond f32's range does not become infinity.
    let e = f32::from_value(Value::Real(1e300)).unwrap_err();
    assert_eq!(e.expected, "REAL in the range of f32");
    assert!(e.found.starts_with("REAL 1000"), "{e}");
}

#[test]
fn f64_from_integer_within_2_pow_53() {
    let limit = 1_i64 << 53;
    assert_eq!(f64::from_value(Value::Integer(3)).unwrap(), 3.0);
    assert_eq!(
        f64::from_value(Value::Integer(limit)).unwrap(),
        9_007_199_254_740_992.0
    );
    assert_eq!(
        f64::from_value(Value::Integer(-limit)).unwrap(),
        -9_007_199_254_740_992.0
    );
    assert_eq!(
        f64::from_value(Value::Integer(limit + 1)).unwrap_err(),
        ConvertError::new("REAL", "INTEGER 9007199254740993")
    );
    assert!(f64::from_value(Value::Integer(-limit - 1)).is_err());
    assert!(f64::from_value(Value::Text("1.0".into())).is_err());
}

#[test]
fn empty_strings_and_bytes() {
    assert_eq!(
        String::new().to_value().unwrap(),
        Value::Text(String::new())
    );
    round_trip(String::new());
    round_trip(Vec::<u8>::new());
    // An empty string is not NULL, in either direction.
    assert_eq!(
        Some(String::new()).to_value().unwrap(),
        Value::Text(String::new())
    );
    assert_eq!(
        Option::<String>::from_value(Value::Text(String::new())).unwrap(),
        Some(String::new())
    );
}

#[test]
fn blob_into_string() {
    assert_eq!(
        String::from_value(Value::Blob("héllo".as_bytes().to_vec())).unwrap(),
        "héllo"
    );
    let e = String::from_value(Value::Blob(vec![b'o', b'k', 0xff, 0xfe])).unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected TEXT (or a BLOB of valid UTF-8), found BLOB of 4 bytes that is not valid UTF-8 (at byte 2)"
    );
    assert_eq!(
        String::from_value(Value::Integer(5)).unwrap_err(),
        ConvertError::new("TEXT", "INTEGER 5")
    );
    // TEXT into bytes is fine.
    assert_eq!(
        Vec::<u8>::from_value(Value::Text("ab".into())).unwrap(),
        b"ab".to_vec()
    );
}

/// A hand-written text enum with the contract of `#[derive(TextEnum)]`, so that this file also
/// runs without the `derive` feature (the derived one is tested below).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Admin,
    User,
}

impl ToValue for Role {
    fn to_value(&self) -> Result<Value, ConvertError> {
        Ok(Value::Text(
            match self {
                Role::Admin => "admin",
                Role::User => "user",
            }
            .into(),
        ))
    }
}

impl FromValue for Role {
    fn from_value(value: Value) -> Result<Self, ConvertError> {
        match &value {
            Value::Text(t) if t == "admin" => Ok(Role::Admin),
            Value::Text(t) if t == "user" => Ok(Role::User),
            _ => Err(ConvertError::new(
                r#"one of "admin", "user" (Role)"#,
                value.describe(),
            )),
        }
    }
}

#[test]
fn unknown_enum_text_lists_the_variants() {
    round_trip(Role::Admin);
    let e = Role::from_value(Value::Text("root".into())).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"expected one of "admin", "user" (Role), found TEXT "root""#
    );
}

#[cfg(feature = "derive")]
#[test]
fn unknown_enum_text_lists_the_variants_derived() {
    #[derive(Debug, PartialEq, sonic_db_core::TextEnum)]
    enum Role {
        Admin,
        User,
    }
    assert_eq!(Role::SQL_TYPE, SqlType::Text);
    round_trip(Role::User);
    let e = Role::from_value(Value::Text("root".into())).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"expected one of "admin", "user" (Role), found TEXT "root""#
    );
    let e = Role::from_value(Value::Null).unwrap_err();
    assert_eq!(e.found, "NULL");
}

#[test]
fn bool_is_zero_or_one() {
    assert_eq!(true.to_value().unwrap(), Value::Integer(1));
    assert_eq!(false.to_value().unwrap(), Value::Integer(0));
    assert!(!bool::from_value(Value::Integer(0)).unwrap());
    assert!(bool::from_value(Value::Integer(1)).unwrap());
    assert_eq!(
        bool::from_value(Value::Integer(2)).unwrap_err(),
        ConvertError::new("INTEGER 0 or 1 (bool)", "INTEGER 2")
    );
    assert!(bool::from_value(Value::Text("true".into())).is_err());
    assert_eq!(bool::SQL_TYPE, SqlType::Integer);
}

#[test]
fn option_handles_null() {
    assert_eq!(Option::<i64>::None.to_value().unwrap(), Value::Null);
    assert_eq!(Some(5_i64).to_value().unwrap(), Value::Integer(5));
    assert_eq!(Option::<i64>::from_value(Value::Null).unwrap(), None);
    assert_eq!(
        Option::<i64>::from_value(Value::Integer(5)).unwrap(),
        Some(5)
    );
    // The inner type's checks still apply.
    assert!(Option::<u8>::from_value(Value::Integer(300)).is_err());
    assert!(Option::<f64>::Some(f64::NAN).to_value().is_err());
    // NULL into a non-Option is an error naming NULL.
    assert_eq!(
        i64::from_value(Value::Null).unwrap_err(),
        ConvertError::new("INTEGER", "NULL")
    );
    const { assert!(<Option<i64> as ColumnType>::NULLABLE) };
    const { assert!(!<i64 as ColumnType>::NULLABLE) };
    let _: fn() -> <Option<String> as ColumnType>::Operand = String::new;
}

#[test]
fn json_columns() {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Point {
        x: i32,
    }
    round_trip(Json(Point { x: -3 }));
    assert_eq!(
        Json(Point { x: 1 }).to_value().unwrap(),
        Value::Text(r#"{"x":1}"#.into())
    );
    let e = Json::<Point>::from_value(Value::Text("{\"x\": \"one\"}".into())).unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected TEXT holding JSON for conversions::json_columns::Point, found TEXT that does \
         not decode (invalid type: string \"one\", expected i32 at line 1 column 11)"
    );
    let e = Json::<Point>::from_value(Value::Text("not json".into())).unwrap_err();
    assert!(
        e.found
            .starts_with("TEXT that does not decode (expected ident"),
        "{e}"
    );
    assert_eq!(
        Json::<Point>::from_value(Value::Integer(1)).unwrap_err(),
        ConvertError::new("TEXT holding JSON", "INTEGER 1")
    );
    // serde_json::Value columns.
    let doc = serde_json::json!({"a": [1, null]});
    assert_eq!(
        doc.to_value().unwrap(),
        Value::Text(r#"{"a":[1,null]}"#.into())
    );
    round_trip(doc);
    assert!(serde_json::Value::from_value(Value::Text("{".into())).is_err());
}
