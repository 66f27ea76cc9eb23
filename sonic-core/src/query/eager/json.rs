//! The payloads of single-statement eager loading, read with serde_json straight into the
//! values of each related row: no tree of JSON values in between (building and walking one
//! cost 8 % of a single-statement load of 9 × 10 × 10 records natively, BENCHMARKS.md).
//!
//! A payload is `null` (no related row), an array of rows (`many`) or one row (`one`); a row
//! is an array of column values that SQLite's `json_array` wrote, then one payload per nested
//! relation, which is handed on as its JSON text to be read the same way. SQLite before 3.45
//! loses the JSON subtype of a subquery's result, so a nested payload may arrive as a string
//! holding the JSON. What matters stays exact: integers are 64-bit, and floats are correctly
//! rounded (serde_json's `float_roundtrip` feature, which sonic-db-core enables), so a REAL
//! written with 17 significant digits comes back bit for bit. serde_json also bounds the
//! nesting depth (128), so hostile input is an error rather than a stack overflow.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::Error;
use crate::schema::{ColumnDef, TableDef};
use crate::value::{ConvertError, SqlType, Value};

/// Why a payload could not be read.
#[derive(Debug)]
pub(crate) enum PayloadError {
    /// Not the shape expected there: what was expected, what was found.
    Shape(&'static str, String),
    /// A value or a record that does not decode.
    Decode(Error),
}

/// Builds one related record from its column values and its nested payloads' texts.
pub(crate) type Record<'r> = dyn FnMut(&mut Vec<Value>, &[Cow<'_, str>]) -> Result<(), Error> + 'r;

/// Reads the payload `text`, handing each related row to `record`: a `many` relation's
/// payload is an array of rows, a `one` relation's the row itself; `null` has none.
pub(crate) fn read(
    text: &str,
    many: bool,
    table: &'static TableDef,
    nested: usize,
    record: &mut Record<'_>,
) -> Result<(), PayloadError> {
    let mut reader = Reader {
        many,
        table,
        nested,
        record,
        failure: None,
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let payload = Shaped {
        reader: &mut reader,
        at: At::Payload,
    };
    let read = payload
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    match (read, reader.failure) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(failure)) => Err(failure),
        (Err(e), None) => Err(PayloadError::Shape("JSON", format!("invalid JSON: {e}"))),
    }
}

/// One payload's reading: its relation's shape, and the first failure that is not
/// serde_json's own (a serde error only carries text).
struct Reader<'a, 'r> {
    many: bool,
    table: &'static TableDef,
    nested: usize,
    record: &'a mut Record<'r>,
    failure: Option<PayloadError>,
}

impl Reader<'_, '_> {
    /// Keeps `failure` and stops the parse.
    fn fail<E: de::Error>(&mut self, failure: PayloadError) -> E {
        self.failure = Some(failure);
        E::custom("payload refused")
    }

    fn shape<E: de::Error>(&mut self, expected: &'static str, found: Found) -> E {
        self.fail(PayloadError::Shape(expected, found.to_string()))
    }

    /// Refuses a row of `values` values (too few or too many).
    fn wrong_width<E: de::Error>(&mut self, values: usize) -> E {
        self.fail(PayloadError::Shape(
            ROW_WIDTH,
            format!("an array of {values} values"),
        ))
    }
}

/// What a value was, for messages.
#[derive(Clone, Copy)]
enum Found {
    Null,
    Boolean,
    Number,
    Text,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Found::Null => "null",
            Found::Boolean => "a JSON boolean",
            Found::Number => "a JSON number",
            Found::Text => "a JSON string",
        })
    }
}

/// What every visitor here expects (objects never occur in payloads, and are refused).
const EXPECTING: &str = "null, a boolean, a number, a string or an array";

/// Where a value stands, which says what it must be.
#[derive(Clone, Copy, PartialEq)]
enum At {
    /// A whole payload: `null`, or an array of rows (`many`) or one row (`one`).
    Payload,
    /// A related row: its column values, then one payload per nested relation.
    Row,
}

/// What a row must be.
const ROW: &str = "a JSON array per related row";
/// What a row must hold.
const ROW_WIDTH: &str = "one JSON value per column and nested relation";

/// A payload or a row, read into its reader.
struct Shaped<'p, 'a, 'r> {
    reader: &'p mut Reader<'a, 'r>,
    at: At,
}

impl Shaped<'_, '_, '_> {
    /// Refuses a value that is not an array where one must be.
    fn refuse<E: de::Error>(self, found: Found) -> E {
        let expected = match self.at {
            At::Payload => "a JSON array",
            At::Row => ROW,
        };
        self.reader.shape(expected, found)
    }
}

impl<'de> DeserializeSeed<'de> for Shaped<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shaped<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTING)
    }

    /// No related row, where a payload stands.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        match self.at {
            At::Payload => Ok(()),
            At::Row => Err(self.refuse(Found::Null)),
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.refuse(Found::Boolean))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.refuse(Found::Number))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.refuse(Found::Number))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.refuse(Found::Number))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.refuse(Found::Text))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let reader = self.reader;
        if self.at == At::Row || !reader.many {
            return read_row(reader, seq);
        }
        while seq
            .next_element_seed(Shaped {
                reader: &mut *reader,
                at: At::Row,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// A related row's column values and nested payloads, handed to the reader's `record`.
fn read_row<'de, A: SeqAccess<'de>>(
    reader: &mut Reader<'_, '_>,
    mut seq: A,
) -> Result<(), A::Error> {
    let table = reader.table;
    let mut values = Vec::with_capacity(table.columns.len());
    for column in table.columns {
        match seq.next_element_seed(Column { table, column })? {
            Some(Ok(value)) => values.push(value),
            Some(Err(e)) => return Err(reader.fail(PayloadError::Decode(e))),
            None => return Err(reader.wrong_width(values.len())),
        }
    }
    let mut payloads = Vec::with_capacity(reader.nested);
    for _ in 0..reader.nested {
        let Some(raw) = seq.next_element::<&RawValue>()? else {
            return Err(reader.wrong_width(values.len() + payloads.len()));
        };
        payloads.push(payload_text(raw).map_err(de::Error::custom)?);
    }
    let mut more = 0;
    while seq.next_element::<IgnoredAny>()?.is_some() {
        more += 1;
    }
    if more > 0 {
        return Err(reader.wrong_width(values.len() + payloads.len() + more));
    }
    (reader.record)(&mut values, &payloads).map_err(|e| reader.fail(PayloadError::Decode(e)))
}

/// A nested payload's JSON text: as it is, or the JSON a string holds.
fn payload_text(raw: &RawValue) -> serde_json::Result<Cow<'_, str>> {
    let text = raw.get();
    if text.starts_with('"') {
        serde_json::from_str::<String>(text).map(Cow::Owned)
    } else {
        Ok(Cow::Borrowed(text))
    }
}

/// One column value, back to the storage class SQLite had, guided by the declared type: BLOB
/// columns were sent as hex. A value that does not decode is the inner `Err`.
struct Column {
    table: &'static TableDef,
    column: &'static ColumnDef,
}

impl Column {
    fn refused(&self, expected: &'static str, found: String) -> Error {
        Error::decode(
            self.table.name,
            self.column.name,
            ConvertError::new(expected, found),
        )
    }

    fn text(&self, text: Cow<'_, str>) -> Result<Value, Error> {
        if self.column.sql_type != SqlType::Blob {
            return Ok(Value::Text(text.into_owned()));
        }
        hex::decode(text.as_ref())
            .map(Value::Blob)
            .map_err(|_| self.refused("hex digits (a BLOB in JSON)", format!("{text:?}")))
    }
}

impl<'de> DeserializeSeed<'de> for Column {
    type Value = Result<Value, Error>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Column {
    type Value = Result<Value, Error>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTING)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Ok(Value::Null))
    }

    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Ok(Value::Integer(i64::from(b))))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        Ok(Ok(Value::Integer(i)))
    }

    /// Integers beyond `i64` become the nearest float, as SQLite reads them.
    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        Ok(Ok(
            i64::try_from(u).map_or(Value::Real(u as f64), Value::Integer)
        ))
    }

    fn visit_f64<E>(self, r: f64) -> Result<Self::Value, E> {
        Ok(Ok(Value::Real(r)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(self.text(Cow::Borrowed(s)))
    }

    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(self.text(Cow::Owned(s)))
    }

    /// Refused, once read to its end (so that the refusal, not the parser, reports it).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err(
            self.refused("a column value", "a JSON array".to_string())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::EMPTY_NOTES;

    static TABLE: TableDef = TableDef {
        name: "t",
        columns: &[
            ColumnDef::new("i", "i", SqlType::Integer),
            ColumnDef::new("j", "j", SqlType::Integer),
            ColumnDef::new("r", "r", SqlType::Real),
            ColumnDef::new("s", "s", SqlType::Real),
            ColumnDef::new("t", "t", SqlType::Text),
            ColumnDef::new("b", "b", SqlType::Blob),
        ],
        ..EMPTY_NOTES
    };

    static ONE_REAL: TableDef = TableDef {
        name: "one_real",
        columns: &[ColumnDef::new("r", "r", SqlType::Real)],
        ..EMPTY_NOTES
    };

    type Rows = Vec<(Vec<Value>, Vec<String>)>;

    /// The rows `text` hands over, with their nested payloads' texts.
    fn rows(
        text: &str,
        many: bool,
        table: &'static TableDef,
        nested: usize,
    ) -> Result<Rows, PayloadError> {
        let mut rows = Vec::new();
        read(text, many, table, nested, &mut |values, payloads| {
            let payloads = payloads.iter().map(|p| p.to_string()).collect();
            rows.push((std::mem::take(values), payloads));
            Ok(())
        })?;
        Ok(rows)
    }

    fn shape(result: Result<Rows, PayloadError>) -> (&'static str, String) {
        match result {
            Err(PayloadError::Shape(expected, found)) => (expected, found),
            other => panic!("not a shape error: {other:?}"),
        }
    }

    #[test]
    fn reads_what_sqlite_writes() {
        let text = r#"[[1,-9223372036854775808,0.30000000000000004,1.0e+300,"a\"\\\u0000\ud83d\ude00é","00ff"],[true,false,null,2,null,null]]"#;
        assert_eq!(
            rows(text, true, &TABLE, 0).unwrap(),
            vec![
                (
                    vec![
                        Value::Integer(1),
                        Value::Integer(i64::MIN),
                        Value::Real(0.30000000000000004),
                        Value::Real(1e300),
                        Value::Text("a\"\\\0😀é".into()),
                        Value::Blob(vec![0, 255]),
                    ],
                    vec![]
                ),
                (
                    vec![
                        Value::Integer(1),
                        Value::Integer(0),
                        Value::Null,
                        Value::Integer(2),
                        Value::Null,
                        Value::Null,
                    ],
                    vec![]
                ),
            ]
        );
        // `null` has no rows; a `one` relation's payload is the row itself.
        assert_eq!(rows("null", true, &ONE_REAL, 0).unwrap(), vec![]);
        assert_eq!(
            rows("[2.5]", false, &ONE_REAL, 0).unwrap(),
            vec![(vec![Value::Real(2.5)], vec![])]
        );
    }

    #[test]
    fn nested_payloads_are_handed_on_as_json_text() {
        // As it is, or the JSON a string holds (SQLite before 3.45).
        let text = r#"[[1.5,[[1],[2]],null],[2.5,"[[3]]","null"]]"#;
        assert_eq!(
            rows(text, true, &ONE_REAL, 2).unwrap(),
            vec![
                (
                    vec![Value::Real(1.5)],
                    vec!["[[1],[2]]".into(), "null".into()]
                ),
                (vec![Value::Real(2.5)], vec!["[[3]]".into(), "null".into()]),
            ]
        );
    }

    #[test]
    fn payloads_of_another_shape_say_what_they_are() {
        assert_eq!(
            shape(rows(r#""[[1]]""#, true, &ONE_REAL, 0)),
            ("a JSON array", "a JSON string".into())
        );
        assert_eq!(
            shape(rows("7", true, &ONE_REAL, 0)),
            ("a JSON array", "a JSON number".into())
        );
        assert_eq!(
            shape(rows("[1]", true, &ONE_REAL, 0)),
            (ROW, "a JSON number".into())
        );
        assert_eq!(
            shape(rows("[[]]", true, &ONE_REAL, 0)),
            (ROW_WIDTH, "an array of 0 values".into())
        );
        assert_eq!(
            shape(rows("[[1,2,3]]", true, &ONE_REAL, 1)),
            (ROW_WIDTH, "an array of 3 values".into())
        );
        assert_eq!(
            shape(rows("[[1]]", true, &ONE_REAL, 1)),
            (ROW_WIDTH, "an array of 1 values".into())
        );
        let (expected, found) = shape(rows("[[1]]x", true, &ONE_REAL, 0));
        assert_eq!(expected, "JSON");
        assert!(found.starts_with("invalid JSON: "), "{found}");
    }

    #[test]
    fn values_that_do_not_decode_name_their_column() {
        for text in [r#"[[1,2,3,4,"t",[5,6]]]"#, r#"[[1,2,3,4,"t","0g"]]"#] {
            match rows(text, true, &TABLE, 0) {
                Err(PayloadError::Decode(e)) => {
                    let message = e.to_string();
                    assert!(message.contains('t') && message.contains('b'), "{message}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        // And what the record refuses is handed back as it is.
        let refused = read("[[1]]", true, &ONE_REAL, 0, &mut |_, _| {
            Err(Error::Database {
                message: "refused".into(),
            })
        });
        assert!(matches!(
            refused,
            Err(PayloadError::Decode(Error::Database { .. }))
        ));
    }

    #[test]
    fn rejects_malformed_input_without_panicking() {
        for bad in [
            "",
            "[",
            "[[1],",
            "[[1 2]]",
            "\"abc",
            "[[\"\\u12\"]]",
            "[[\"\\ud800\"]]",
            "{}",
            "[{}]",
            "[[{}]]",
            "tru",
            "[[-]]",
            "[[1.]]",
            "[[1e]]",
            "[[\"\\q\"]]",
        ] {
            assert!(rows(bad, true, &ONE_REAL, 0).is_err(), "{bad:?}");
        }
        let deep = format!("[[{}", "[".repeat(1000));
        assert!(rows(&deep, true, &ONE_REAL, 1).is_err());
    }

    #[test]
    fn floats_come_back_bit_for_bit() {
        // Shortest round-trip and 17-digit renderings of awkward doubles (subnormals,
        // extremes, long mantissas) and of a spread of bit patterns.
        let mut bits = 0x9E37_79B9_7F4A_7C15_u64;
        let spread = (0..2_000).map(|_| {
            bits = bits.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            f64::from_bits(bits)
        });
        let awkward = [
            2.638_344_616_030_823e-256,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            5e-324,
            0.1 + 0.2,
            -0.0,
        ];
        for r in awkward.into_iter().chain(spread).filter(|r| r.is_finite()) {
            for text in [format!("{r:?}"), format!("{r:.16e}")] {
                let read = rows(&format!("[[{text}]]"), true, &ONE_REAL, 0).unwrap();
                match read.as_slice() {
                    [(values, _)] => match values.as_slice() {
                        [Value::Real(back)] => assert_eq!(back.to_bits(), r.to_bits(), "{text}"),
                        other => panic!("{text}: {other:?}"),
                    },
                    other => panic!("{text}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn integers_beyond_i64_become_reals() {
        let text = "[[9223372036854775807,9223372036854775808,-9223372036854775809,1,\"\",null]]";
        let read = rows(text, true, &TABLE, 0).unwrap();
        assert_eq!(
            read[0].0[..3],
            [
                Value::Integer(i64::MAX),
                Value::Real(9_223_372_036_854_775_808.0),
                Value::Real(-9_223_372_036_854_775_809.0),
            ]
        );
    }
}
