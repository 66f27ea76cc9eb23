//! The value and message rules of the D1 backend, as plain functions (tested natively).
//!
//! Everything that crosses to D1 passes through JavaScript, and D1 carries parameters and
//! results as JSON: numbers are IEEE doubles on both sides. These functions decide what can
//! cross exactly and what a JavaScript value means as a [`Value`].

use sonic_db_core::{Capabilities, Error, Result, Statement, Value};

/// The largest integer a JavaScript number holds exactly, and the bound of what D1 binds and
/// returns as a number exactly: 2^53 − 1 (`Number.MAX_SAFE_INTEGER`), sonic-db-core's constant
/// (also [`Capabilities::D1`]'s `max_exact_integer`). Beyond it integers travel as decimal
/// text (`integer_binding`).
pub use sonic_db_core::MAX_SAFE_INTEGER;

/// How an INTEGER parameter crosses to D1, whose marker is always sent as
/// `CAST(? AS INTEGER)` ([`crate::params`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum IntegerBinding {
    /// Within ±(2^53 − 1): a JavaScript number, exact.
    Number(f64),
    /// Beyond: its decimal text, which the cast turns into the exact INTEGER (SQLite's
    /// `CAST('9223372036854775807' AS INTEGER)` is `i64::MAX`), where a number would be rounded.
    Text(String),
}

/// The binding of the INTEGER `i` (#12 item 3).
pub(crate) fn integer_binding(i: i64) -> IntegerBinding {
    if (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).contains(&i) {
        // Exact: the magnitude is at most 2^53 − 1.
        IntegerBinding::Number(i as f64)
    } else {
        IntegerBinding::Text(i.to_string())
    }
}

/// A statement's parameters as the JSON array handed to D1's `bind()`, each as it binds one
/// by one (an integer beyond ±(2^53 − 1) as its decimal text, see [`integer_binding`]):
/// `JSON.parse` builds the array in one call into JavaScript, where binding value by value
/// costs a call or two per value and a text decoding per string. `None` for parameters JSON
/// cannot carry as D1 binds them: a BLOB (bound as a typed array) or a non-finite REAL
/// (refused by [`check_param`]); and for texts it carries slower than one by one, those
/// beyond [`JSON_TEXT_MAX`] bytes or holding a character JSON escapes.
pub(crate) fn params_json(params: &[Value]) -> Option<String> {
    serde_json::to_string(&AsBound(params)).ok()
}

/// The longest text [`params_json`] carries. Measured in V8 on wasm32 (100 texts): as JSON,
/// 8-byte texts bind in 13 µs against 21 one by one and 64-byte ones in 18 against 22, but
/// 256-byte ones in 43 against 24 and 1 KB ones in 141 against 33; texts with quotes, 54
/// against 21 from 64 bytes on.
const JSON_TEXT_MAX: usize = 64;

/// Whether [`params_json`] carries `text` (see [`JSON_TEXT_MAX`]).
fn json_carries(text: &str) -> bool {
    text.len() <= JSON_TEXT_MAX && !text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

/// [`params_json`]'s serialization.
struct AsBound<'a>(&'a [Value]);

impl serde::Serialize for AsBound<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for value in self.0 {
            match value {
                Value::Null => seq.serialize_element(&())?,
                Value::Integer(i) => match integer_binding(*i) {
                    IntegerBinding::Number(_) => seq.serialize_element(i)?,
                    IntegerBinding::Text(text) => seq.serialize_element(&text)?,
                },
                Value::Real(r) if r.is_finite() => seq.serialize_element(r)?,
                Value::Text(text) if json_carries(text) => seq.serialize_element(text)?,
                Value::Real(_) | Value::Blob(_) | Value::Text(_) => {
                    return Err(S::Error::custom("not a JSON parameter"))
                }
            }
        }
        seq.end()
    }
}

/// Checks a statement against the backend's limits, then every parameter against what D1 can
/// bind exactly, before anything is sent.
///
/// The limits given by `capabilities` (parameter count, SQL length, each value's size and
/// exact-integer range) are sonic-db-core's [`sonic_db_core::sql::check_statement`]; what
/// follows is D1's transport, whatever the capabilities say ([`check_param`]).
pub(crate) fn check_statement(statement: &Statement, capabilities: &Capabilities) -> Result<()> {
    sonic_db_core::sql::check_statement(statement, capabilities)?;
    for (index, value) in statement.params.iter().enumerate() {
        check_param(index + 1, value)?;
    }
    Ok(())
}

/// Checks that `value` (parameter number `position`, from 1) crosses to D1 unchanged.
///
/// A non-finite REAL would reach D1's JSON as `null`: it is refused with [`Error::Limit`],
/// never bound approximately. Every INTEGER crosses exactly ([`integer_binding`]).
pub(crate) fn check_param(position: usize, value: &Value) -> Result<()> {
    match value {
        Value::Real(r) if !r.is_finite() => Err(Error::Limit(format!(
            "parameter {position}: REAL {r} cannot be bound on D1 (its JSON transport has no \
             NaN or infinity; D1 would store NULL); nothing was sent"
        ))),
        _ => Ok(()),
    }
}

/// The value of a JavaScript number in a D1 result.
///
/// D1 returns INTEGER and REAL cells alike as numbers, so the storage class is not known here:
/// an integral number within ±(2^53 − 1) becomes [`Value::Integer`] (a REAL column holding
/// `2.0` therefore reads as `Integer(2)`, which `f64: FromValue` accepts exactly), and
/// anything else — fractions, `-0`, non-finite numbers, and integral numbers of magnitude
/// 2^53 or more, which may be an INTEGER that D1 already rounded — becomes [`Value::Real`].
/// Reading such a rounded integer into an `i64` field is then a decode error
/// ("expected INTEGER, found REAL …"), never a silently wrong integer.
pub(crate) fn number_to_value(n: f64) -> Value {
    match exact_integer(n) {
        Some(i) if !(i == 0 && n.is_sign_negative()) => Value::Integer(i),
        _ => Value::Real(n),
    }
}

/// `n` as an `i64` when it is an integer within ±(2^53 − 1).
pub(crate) fn exact_integer(n: f64) -> Option<i64> {
    // `MAX_SAFE_INTEGER as f64` is exact; NaN fails every comparison.
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER as f64 {
        Some(n as i64)
    } else {
        None
    }
}

/// A count from D1's `meta` (`changes`): a non-negative exact integer, else `None`.
pub(crate) fn exact_count(n: f64) -> Option<u64> {
    exact_integer(n).and_then(|i| u64::try_from(i).ok())
}

/// The bytes of a BLOB that D1 returned as an array of numbers (already copied out as
/// doubles). Every element must be an integer in `0..=255`.
pub(crate) fn bytes_from_numbers(numbers: &[f64]) -> Result<Vec<u8>, String> {
    numbers
        .iter()
        .enumerate()
        .map(|(i, &n)| match exact_integer(n) {
            Some(b @ 0..=255) => Ok(b as u8),
            _ => Err(format!(
                "an array that is not a BLOB: element {i} is {n}, not a byte"
            )),
        })
        .collect()
}

/// The SQLite message inside a D1 error message.
///
/// The D1 binding throws `new Error("D1_ERROR: <message>", { cause: new Error(<message>) })`
/// for every failed query (`first`, `run`, `all`, `raw` and `batch` alike; the `worker` crate
/// merely wraps `all()`'s differently). The `D1_ERROR: ` prefix is noise and is removed
/// (repeatedly, in case a layer added it twice); other `D1_…` prefixes (`D1_TYPE_ERROR`,
/// `D1_EXEC_ERROR`, …) say something and are kept, and so is SQLite's own text, including the
/// `: SQLITE_CONSTRAINT` style suffixes D1 appends.
pub(crate) fn clean_message(raw: &str) -> &str {
    let mut message = raw.trim();
    while let Some(rest) = message.strip_prefix("D1_ERROR:") {
        message = rest.trim_start();
    }
    message
}

/// The [`Error`] for a D1 error message: constraint violations get their own variants
/// (see [`Error::from_sqlite_message`]), everything else is [`Error::Database`].
pub(crate) fn error_from_message(raw: &str) -> Error {
    let message = clean_message(raw);
    if message.is_empty() {
        Error::Database {
            message: "D1 reported an error without a message".to_string(),
        }
    } else {
        Error::from_sqlite_message(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_bind_as_numbers_within_the_safe_range_and_as_text_beyond() {
        for number in [0, 1, -1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER] {
            assert!(check_param(1, &Value::Integer(number)).is_ok(), "{number}");
            assert_eq!(
                integer_binding(number),
                IntegerBinding::Number(number as f64)
            );
        }
        for text in [
            MAX_SAFE_INTEGER + 1,
            -MAX_SAFE_INTEGER - 1,
            MAX_SAFE_INTEGER + 2,
            i64::MAX,
            i64::MIN,
        ] {
            assert!(check_param(3, &Value::Integer(text)).is_ok(), "{text}");
            assert_eq!(
                integer_binding(text),
                IntegerBinding::Text(text.to_string())
            );
        }
    }

    #[test]
    fn parameters_cross_as_json_as_they_bind_one_by_one() {
        let params = [
            Value::Null,
            Value::Integer(0),
            Value::Integer(-MAX_SAFE_INTEGER),
            Value::Integer(MAX_SAFE_INTEGER + 1),
            Value::Integer(i64::MIN),
            Value::Real(0.1),
            Value::Real(-0.0),
            Value::Real(1e300),
            Value::Real(5e-324),
            Value::Text("déjà vu \u{1F600}".into()),
            Value::Text("x".repeat(JSON_TEXT_MAX)),
            Value::Text(String::new()),
        ];
        let json = params_json(&params).expect("every value is JSON");
        let parsed: Vec<serde_json::Value> = serde_json::from_str(&json).expect(&json);
        assert_eq!(parsed.len(), params.len());
        for (value, parsed) in params.iter().zip(&parsed) {
            match value {
                Value::Null => assert!(parsed.is_null()),
                Value::Integer(i) => match integer_binding(*i) {
                    IntegerBinding::Number(n) => assert_eq!(parsed.as_f64(), Some(n), "{json}"),
                    IntegerBinding::Text(text) => assert_eq!(parsed.as_str(), Some(&*text)),
                },
                // The same double, sign of zero included (what `JSON.parse` reads too: the
                // shortest text that round-trips).
                Value::Real(r) => {
                    let back = parsed.as_f64().expect(&json);
                    assert_eq!(back.to_bits(), r.to_bits(), "{r} in {json}");
                }
                Value::Text(text) => assert_eq!(parsed.as_str(), Some(text.as_str())),
                Value::Blob(_) => panic!("no BLOB among these parameters"),
            }
        }
        assert_eq!(params_json(&[]).as_deref(), Some("[]"));
        // What JSON cannot carry as D1 binds it, and texts it carries slower (long, or with
        // a character it escapes): bound value by value instead.
        for other in [
            Value::Blob(vec![1, 2]),
            Value::Real(f64::NAN),
            Value::Real(f64::INFINITY),
            Value::Text("x".repeat(JSON_TEXT_MAX + 1)),
            Value::Text("a \"quoted\" word".into()),
            Value::Text("a \\ backslash".into()),
            Value::Text("a line\n".into()),
            Value::Text("\u{0}".into()),
        ] {
            assert_eq!(
                params_json(&[Value::Integer(1), other.clone()]),
                None,
                "{other:?}"
            );
        }
    }

    #[test]
    fn non_finite_reals_are_refused() {
        assert!(check_param(1, &Value::Real(1.5)).is_ok());
        assert!(check_param(1, &Value::Real(-0.0)).is_ok());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(matches!(
                check_param(1, &Value::Real(bad)),
                Err(Error::Limit(_))
            ));
        }
        for fine in [
            Value::Null,
            Value::Text("x".into()),
            Value::Blob(vec![0, 255]),
        ] {
            assert!(check_param(1, &fine).is_ok());
        }
    }

    #[test]
    fn statement_limits() {
        let caps = Capabilities::D1;
        let ok = Statement::new("SELECT ?", vec![Value::Integer(1); 100]);
        assert!(check_statement(&ok, &caps).is_ok());
        let many = Statement::new("SELECT ?", vec![Value::Integer(1); 101]);
        assert!(matches!(check_statement(&many, &caps), Err(Error::Limit(m)) if m.contains("101")));
        let long = Statement::new("x".repeat(100_001), vec![]);
        assert!(matches!(
            check_statement(&long, &caps),
            Err(Error::Limit(_))
        ));
        let bad = Statement::new("SELECT ?, ?", vec![Value::Null, Value::Real(f64::NAN)]);
        assert!(
            matches!(check_statement(&bad, &caps), Err(Error::Limit(m)) if m.contains("parameter 2"))
        );
        let big = Statement::new("SELECT ?", vec![Value::Integer(i64::MAX)]);
        assert!(check_statement(&big, &caps).is_ok());
    }

    #[test]
    fn numbers_become_integers_only_when_exact() {
        assert_eq!(number_to_value(0.0), Value::Integer(0));
        assert_eq!(number_to_value(2.0), Value::Integer(2));
        assert_eq!(number_to_value(-7.0), Value::Integer(-7));
        let max = MAX_SAFE_INTEGER as f64;
        assert_eq!(number_to_value(max), Value::Integer(MAX_SAFE_INTEGER));
        assert_eq!(number_to_value(-max), Value::Integer(-MAX_SAFE_INTEGER));
        // 2^53 may be a rounded 2^53 + 1: not trusted as an integer.
        assert_eq!(
            number_to_value(max + 1.0),
            Value::Real(9_007_199_254_740_992.0)
        );
        assert_eq!(number_to_value(1.5), Value::Real(1.5));
        assert_eq!(number_to_value(1e300), Value::Real(1e300));
        assert!(
            matches!(number_to_value(-0.0), Value::Real(r) if r == 0.0 && r.is_sign_negative())
        );
        assert!(matches!(number_to_value(f64::NAN), Value::Real(r) if r.is_nan()));
        assert_eq!(number_to_value(f64::INFINITY), Value::Real(f64::INFINITY));
    }

    #[test]
    fn counts() {
        assert_eq!(exact_count(3.0), Some(3));
        assert_eq!(exact_count(0.0), Some(0));
        assert_eq!(exact_count(-1.0), None);
        assert_eq!(exact_count(1.5), None);
        assert_eq!(exact_count(f64::NAN), None);
        assert_eq!(exact_count(1e20), None);
        assert_eq!(exact_integer(-5.0), Some(-5));
    }

    #[test]
    fn blob_arrays() {
        let all: Vec<f64> = (0..=255).map(f64::from).collect();
        assert_eq!(
            bytes_from_numbers(&all).unwrap(),
            (0..=255).collect::<Vec<u8>>()
        );
        assert_eq!(bytes_from_numbers(&[]).unwrap(), Vec::<u8>::new());
        for bad in [256.0, -1.0, 1.5, f64::NAN] {
            let err = bytes_from_numbers(&[1.0, bad]).unwrap_err();
            assert!(err.contains("element 1"), "{err}");
        }
    }

    #[test]
    fn messages_lose_the_d1_error_prefix_only() {
        assert_eq!(
            clean_message("D1_ERROR: UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT"),
            "UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT"
        );
        assert_eq!(
            clean_message("D1_ERROR: D1_ERROR: no such table: x"),
            "no such table: x"
        );
        assert_eq!(
            clean_message("D1_TYPE_ERROR: Type 'bigint' not supported"),
            "D1_TYPE_ERROR: Type 'bigint' not supported"
        );
        assert_eq!(
            clean_message("  near \"x\": syntax error "),
            "near \"x\": syntax error"
        );
    }

    #[test]
    fn messages_are_classified() {
        assert!(matches!(
            error_from_message("D1_ERROR: UNIQUE constraint failed: t.a: SQLITE_CONSTRAINT"),
            Error::UniqueViolation { message } if message == "UNIQUE constraint failed: t.a: SQLITE_CONSTRAINT"
        ));
        assert!(matches!(
            error_from_message("D1_ERROR: FOREIGN KEY constraint failed: SQLITE_CONSTRAINT"),
            Error::ForeignKeyViolation { .. }
        ));
        assert!(matches!(
            error_from_message("D1_ERROR: NOT NULL constraint failed: t.a"),
            Error::ConstraintViolation { .. }
        ));
        assert!(matches!(
            error_from_message("D1_ERROR: no such table: nope: SQLITE_ERROR"),
            Error::Database { message } if message == "no such table: nope: SQLITE_ERROR"
        ));
        assert!(matches!(
            error_from_message("D1_ERROR: "),
            Error::Database { message } if message.contains("without a message")
        ));
    }
}
