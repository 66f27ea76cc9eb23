//! The payloads of single-statement eager loading, read with serde_json straight into the
//! values of each related row: no tree of JSON values in between (building and walking one
//! cost 8 % of a single-statement load of 9 × 10 × 10 records natively, BENCHMARKS.md).
//!
//! A payload is `null` (no related row), an array of rows (`many`) or one row (`one`); a row
//! is an array of column values that SQLite's `json_array` wrote, then one payload per nested
//! relation. The whole tree is read in one pass: a nested payload goes to its relation's
//! [`RowSink`] while the parent row is read (skipping it, then reading it again, took a fifth
//! of a 9 × 10 × 10 load, BENCHMARKS.md). SQLite before 3.45 loses the JSON subtype of a
//! subquery's result, so a nested payload may arrive as a string holding the JSON; strings
//! are read as payloads only where a nested one stands, so their depth is the query's. What matters stays exact:
//! integers are 64-bit, and floats are correctly rounded (serde_json's `float_roundtrip`
//! feature, which sonic-db-core enables), so a REAL written with 17 significant digits comes
//! back bit for bit. serde_json also bounds the nesting depth (128), so hostile input is an
//! error rather than a stack overflow.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, SeqAccess, Visitor};

use crate::error::Error;
use crate::schema::{ColumnDef, TableDef};
use crate::value::{ConvertError, SqlType, Value};

/// Where one relation's payloads go: the records being built, with a sink per nested
/// relation. Not generic, so that one reader serves every level and every table.
pub(crate) trait RowSink {
    /// The related table, whose columns a row holds first.
    fn table(&self) -> &'static TableDef;

    /// Whether a payload is an array of rows (`many`) or one row.
    fn many(&self) -> bool;

    /// How many nested payloads follow a row's columns.
    fn nested_len(&self) -> usize;

    /// The sink of the nested relation `index`, which the row's nested payload goes to.
    fn nested(&mut self, index: usize) -> Option<&mut dyn RowSink>;

    /// A whole row was read: its column `values`, its nested payloads into the nested sinks.
    fn row(&mut self, values: &mut Vec<Value>) -> Result<(), Error>;

    /// A payload of this relation that is not of its shape: what was expected, what was found.
    fn shape_error(&self, expected: &'static str, found: String) -> Error;
}

/// Reads the payload `text` into `sink`.
pub(crate) fn read(text: &str, sink: &mut dyn RowSink) -> Result<(), Error> {
    read_payload(text, sink, &mut None)
}

/// [`read`], keeping in `failure` the first refusal that is not serde_json's own (a serde
/// error only carries text).
fn read_payload(
    text: &str,
    sink: &mut dyn RowSink,
    failure: &mut Option<Error>,
) -> Result<(), Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let payload = Shaped {
        sink: &mut *sink,
        failure: &mut *failure,
        at: At::Payload,
    };
    let read = payload
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    match (read, failure.take()) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some(failure)) => Err(failure),
        (Err(e), None) => Err(sink.shape_error("JSON", format!("invalid JSON: {e}"))),
    }
}

/// Keeps `refusal` and stops the parse.
fn fail<E: de::Error>(failure: &mut Option<Error>, refusal: Error) -> E {
    *failure = Some(refusal);
    E::custom("payload refused")
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
    /// A payload nested in a row, which may also be a string holding the JSON.
    Nested,
    /// A related row: its column values, then one payload per nested relation.
    Row,
}

/// What a row must be.
const ROW: &str = "a JSON array per related row";
/// What a row must hold.
const ROW_WIDTH: &str = "one JSON value per column and nested relation";

/// A payload or a row, read into its sink.
struct Shaped<'p> {
    sink: &'p mut dyn RowSink,
    failure: &'p mut Option<Error>,
    at: At,
}

impl Shaped<'_> {
    /// Refuses a value that is not an array where one must be.
    fn refuse<E: de::Error>(self, found: Found) -> E {
        let expected = match self.at {
            At::Payload | At::Nested => "a JSON array",
            At::Row => ROW,
        };
        let refusal = self.sink.shape_error(expected, found.to_string());
        fail(self.failure, refusal)
    }
}

impl<'de> DeserializeSeed<'de> for Shaped<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Shaped<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTING)
    }

    /// No related row, where a payload stands.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        match self.at {
            At::Payload | At::Nested => Ok(()),
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

    /// A nested payload that SQLite before 3.45 wrote as a string holding its JSON.
    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        if self.at != At::Nested {
            return Err(self.refuse(Found::Text));
        }
        read_payload(text, self.sink, self.failure).map_err(|refusal| fail(self.failure, refusal))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let (sink, failure) = (self.sink, self.failure);
        if self.at == At::Row || !sink.many() {
            return read_row(sink, failure, seq);
        }
        while seq
            .next_element_seed(Shaped {
                sink: &mut *sink,
                failure: &mut *failure,
                at: At::Row,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// A related row: its column values, then its nested payloads into the nested sinks; the
/// whole row handed to `sink`.
fn read_row<'de, A: SeqAccess<'de>>(
    sink: &mut dyn RowSink,
    failure: &mut Option<Error>,
    mut seq: A,
) -> Result<(), A::Error> {
    let table = sink.table();
    let mut values = Vec::with_capacity(table.columns.len());
    for column in table.columns {
        match seq.next_element_seed(Column { table, column })? {
            Some(Ok(value)) => values.push(value),
            Some(Err(e)) => return Err(fail(failure, e)),
            None => return Err(fail(failure, wrong_width(sink, values.len()))),
        }
    }
    let nested = sink.nested_len();
    for index in 0..nested {
        let read = match sink.nested(index) {
            Some(nested) => seq.next_element_seed(Shaped {
                sink: nested,
                failure: &mut *failure,
                at: At::Nested,
            })?,
            None => None,
        };
        if read.is_none() {
            return Err(fail(failure, wrong_width(sink, values.len() + index)));
        }
    }
    let mut more = 0;
    while seq.next_element::<IgnoredAny>()?.is_some() {
        more += 1;
    }
    if more > 0 {
        let refusal = wrong_width(sink, values.len() + nested + more);
        return Err(fail(failure, refusal));
    }
    sink.row(&mut values).map_err(|e| fail(failure, e))
}

/// Refuses a row of `read` values (too few or too many).
fn wrong_width(sink: &dyn RowSink, read: usize) -> Error {
    sink.shape_error(ROW_WIDTH, format!("an array of {read} values"))
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

    /// A table named apart, to tell which level a refusal came from.
    static NESTED: TableDef = TableDef {
        name: "nested",
        columns: &[ColumnDef::new("r", "r", SqlType::Real)],
        ..EMPTY_NOTES
    };

    /// A row as [`Collect`] keeps it: its values, then each nested sink's rows.
    #[derive(Debug, PartialEq)]
    struct Read {
        values: Vec<Value>,
        nested: Vec<Vec<Read>>,
    }

    /// A sink that keeps what it reads.
    struct Collect {
        table: &'static TableDef,
        many: bool,
        nested: Vec<Collect>,
        rows: Vec<Read>,
    }

    impl Collect {
        fn new(table: &'static TableDef, many: bool, nested: Vec<Collect>) -> Self {
            Collect {
                table,
                many,
                nested,
                rows: Vec::new(),
            }
        }
    }

    impl RowSink for Collect {
        fn table(&self) -> &'static TableDef {
            self.table
        }

        fn many(&self) -> bool {
            self.many
        }

        fn nested_len(&self) -> usize {
            self.nested.len()
        }

        fn nested(&mut self, index: usize) -> Option<&mut dyn RowSink> {
            self.nested.get_mut(index).map(|n| n as &mut dyn RowSink)
        }

        fn row(&mut self, values: &mut Vec<Value>) -> Result<(), Error> {
            let nested = self
                .nested
                .iter_mut()
                .map(|n| std::mem::take(&mut n.rows))
                .collect();
            let values = std::mem::take(values);
            self.rows.push(Read { values, nested });
            Ok(())
        }

        fn shape_error(&self, expected: &'static str, found: String) -> Error {
            Error::decode(
                self.table.name,
                "(payload)",
                ConvertError::new(expected, found),
            )
        }
    }

    /// The rows `text` holds for a sink of `table` with `nested` nested sinks of [`NESTED`].
    fn rows(
        text: &str,
        many: bool,
        table: &'static TableDef,
        nested: usize,
    ) -> Result<Vec<Read>, Error> {
        let nested = (0..nested)
            .map(|_| Collect::new(&NESTED, true, vec![]))
            .collect();
        let mut sink = Collect::new(table, many, nested);
        read(text, &mut sink)?;
        Ok(sink.rows)
    }

    fn plain(values: Vec<Value>) -> Read {
        Read {
            values,
            nested: vec![],
        }
    }

    /// The message of a shape refusal by the sink of `table`.
    fn refusal(table: &str, expected: &'static str, found: &str) -> String {
        Error::decode(table, "(payload)", ConvertError::new(expected, found)).to_string()
    }

    fn shape(result: Result<Vec<Read>, Error>) -> String {
        match result {
            Err(e) => e.to_string(),
            Ok(rows) => panic!("read: {rows:?}"),
        }
    }

    #[test]
    fn reads_what_sqlite_writes() {
        let text = r#"[[1,-9223372036854775808,0.30000000000000004,1.0e+300,"a\"\\\u0000\ud83d\ude00é","00ff"],[true,false,null,2,null,null]]"#;
        assert_eq!(
            rows(text, true, &TABLE, 0).unwrap(),
            vec![
                plain(vec![
                    Value::Integer(1),
                    Value::Integer(i64::MIN),
                    Value::Real(0.30000000000000004),
                    Value::Real(1e300),
                    Value::Text("a\"\\\0😀é".into()),
                    Value::Blob(vec![0, 255]),
                ]),
                plain(vec![
                    Value::Integer(1),
                    Value::Integer(0),
                    Value::Null,
                    Value::Integer(2),
                    Value::Null,
                    Value::Null,
                ]),
            ]
        );
        // `null` has no rows; a `one` relation's payload is the row itself.
        assert_eq!(rows("null", true, &ONE_REAL, 0).unwrap(), vec![]);
        assert_eq!(
            rows("[2.5]", false, &ONE_REAL, 0).unwrap(),
            vec![plain(vec![Value::Real(2.5)])]
        );
    }

    #[test]
    fn nested_payloads_are_read_with_their_row() {
        // As they are, or the JSON a string holds (SQLite before 3.45); each row gets its own.
        let text = r#"[[1.5,[[1],[2]],null],[2.5,"[[3]]","null"],[3.5,[],[[4.5]]]]"#;
        let one = |r: i64| plain(vec![Value::Integer(r)]);
        assert_eq!(
            rows(text, true, &ONE_REAL, 2).unwrap(),
            vec![
                Read {
                    values: vec![Value::Real(1.5)],
                    nested: vec![vec![one(1), one(2)], vec![]],
                },
                Read {
                    values: vec![Value::Real(2.5)],
                    nested: vec![vec![one(3)], vec![]],
                },
                Read {
                    values: vec![Value::Real(3.5)],
                    nested: vec![vec![], vec![plain(vec![Value::Real(4.5)])]],
                },
            ]
        );
        // Two levels down.
        let deepest = Collect::new(&NESTED, false, vec![]);
        let middle = Collect::new(&NESTED, true, vec![deepest]);
        let mut top = Collect::new(&ONE_REAL, true, vec![middle]);
        read(r#"[[1,[[2,[3]],[4,null]]]]"#, &mut top).unwrap();
        let leaf = |r: i64, below: Vec<Read>| Read {
            values: vec![Value::Integer(r)],
            nested: vec![below],
        };
        assert_eq!(
            top.rows,
            vec![leaf(1, vec![leaf(2, vec![one(3)]), leaf(4, vec![])])]
        );
    }

    #[test]
    fn payloads_of_another_shape_say_what_they_are() {
        let top = |expected, found| refusal("one_real", expected, found);
        assert_eq!(
            shape(rows(r#""[[1]]""#, true, &ONE_REAL, 0)),
            top("a JSON array", "a JSON string")
        );
        assert_eq!(
            shape(rows("7", true, &ONE_REAL, 0)),
            top("a JSON array", "a JSON number")
        );
        assert_eq!(
            shape(rows("[1]", true, &ONE_REAL, 0)),
            top(ROW, "a JSON number")
        );
        assert_eq!(
            shape(rows("[[]]", true, &ONE_REAL, 0)),
            top(ROW_WIDTH, "an array of 0 values")
        );
        assert_eq!(
            shape(rows("[[1,null,3]]", true, &ONE_REAL, 1)),
            top(ROW_WIDTH, "an array of 3 values")
        );
        assert_eq!(
            shape(rows("[[1]]", true, &ONE_REAL, 1)),
            top(ROW_WIDTH, "an array of 1 values")
        );
        let invalid = shape(rows("[[1]]x", true, &ONE_REAL, 0));
        assert!(
            invalid.starts_with(&top("JSON", "invalid JSON: ")),
            "{invalid}"
        );
        // A nested payload's refusal is its own relation's.
        let nested = |expected, found| refusal("nested", expected, found);
        assert_eq!(
            shape(rows("[[1,[7]]]", true, &ONE_REAL, 1)),
            nested(ROW, "a JSON number")
        );
        assert_eq!(
            shape(rows("[[1,[[1,2]]]]", true, &ONE_REAL, 1)),
            nested(ROW_WIDTH, "an array of 2 values")
        );
        assert_eq!(
            shape(rows("[[1,true]]", true, &ONE_REAL, 1)),
            nested("a JSON array", "a JSON boolean")
        );
        let held = shape(rows(r#"[[1,"[["]]"#, true, &ONE_REAL, 1));
        assert!(
            held.starts_with(&nested("JSON", "invalid JSON: ")),
            "{held}"
        );
    }

    #[test]
    fn values_that_do_not_decode_name_their_column() {
        for text in [r#"[[1,2,3,4,"t",[5,6]]]"#, r#"[[1,2,3,4,"t","0g"]]"#] {
            let message = shape(rows(text, true, &TABLE, 0));
            assert!(message.contains("`t`.`b`"), "{message}");
        }
        // And what the sink refuses is handed back as it is.
        struct Refuse;
        impl RowSink for Refuse {
            fn table(&self) -> &'static TableDef {
                &ONE_REAL
            }
            fn many(&self) -> bool {
                true
            }
            fn nested_len(&self) -> usize {
                0
            }
            fn nested(&mut self, _: usize) -> Option<&mut dyn RowSink> {
                None
            }
            fn row(&mut self, _: &mut Vec<Value>) -> Result<(), Error> {
                Err(Error::Database {
                    message: "refused".into(),
                })
            }
            fn shape_error(&self, _: &'static str, _: String) -> Error {
                Error::Database {
                    message: "shape".into(),
                }
            }
        }
        match read("[[1]]", &mut Refuse) {
            Err(Error::Database { message }) => assert_eq!(message, "refused"),
            other => panic!("{other:?}"),
        }
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
                    [row] => match row.values.as_slice() {
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
            read[0].values[..3],
            [
                Value::Integer(i64::MAX),
                Value::Real(9_223_372_036_854_775_808.0),
                Value::Real(-9_223_372_036_854_775_809.0),
            ]
        );
    }

    /// A row of [`MIXED`] and what SQLite nests in it: a `many` relation whose rows nest a
    /// `many` relation of their own, then a `one` relation.
    #[derive(Debug, Clone)]
    struct Tree {
        values: Vec<Value>,
        posts: Vec<(Vec<Value>, Vec<Vec<Value>>)>,
        author: Option<Vec<Value>>,
    }

    static MIXED: TableDef = TableDef {
        name: "mixed",
        columns: &[
            ColumnDef::new("i", "i", SqlType::Integer),
            ColumnDef::new("r", "r", SqlType::Real),
            ColumnDef::new("t", "t", SqlType::Text),
        ],
        ..EMPTY_NOTES
    };

    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::Integer),
            any::<f64>()
                .prop_filter("finite", |r| r.is_finite())
                .prop_map(Value::Real),
            any::<String>().prop_map(Value::Text),
        ]
    }

    fn tree() -> impl proptest::strategy::Strategy<Value = Tree> {
        use proptest::collection::vec;
        use proptest::prelude::*;
        let row = || vec(value(), 3);
        (
            row(),
            vec((row(), vec(row(), 0..3)), 0..3),
            proptest::option::of(row()),
        )
            .prop_map(|(values, posts, author)| Tree {
                values,
                posts,
                author,
            })
    }

    /// A payload as SQLite writes it: an empty `many` as `[]` or `null`, a nested payload
    /// as JSON or, with `held`, as a string holding it (before 3.45).
    fn payload(rows: Vec<serde_json::Value>, many: bool, held: bool) -> serde_json::Value {
        let json = match (many, rows.len()) {
            (true, 0) if held => serde_json::Value::Null,
            (true, _) => serde_json::Value::Array(rows),
            (false, _) => rows.into_iter().next().unwrap_or(serde_json::Value::Null),
        };
        if held {
            serde_json::Value::String(json.to_string())
        } else {
            json
        }
    }

    fn row(values: &[Value], nested: Vec<serde_json::Value>) -> serde_json::Value {
        let values = values.iter().map(|v| match v {
            Value::Null => serde_json::Value::Null,
            Value::Integer(i) => (*i).into(),
            Value::Real(r) => (*r).into(),
            Value::Text(t) => t.clone().into(),
            Value::Blob(b) => hex::encode(b).into(),
        });
        serde_json::Value::Array(values.chain(nested).collect())
    }

    proptest::proptest! {
        /// Whatever SQLite nests, the one pass hands every row its own nested rows.
        #[test]
        fn nested_trees_read_as_written(
            trees in proptest::collection::vec(tree(), 0..4),
            held in proptest::prelude::any::<bool>(),
        ) {
            let json: Vec<_> = trees
                .iter()
                .map(|t| {
                    let posts = t
                        .posts
                        .iter()
                        .map(|(values, comments)| {
                            let comments = comments.iter().map(|c| row(c, vec![])).collect();
                            row(values, vec![payload(comments, true, held)])
                        })
                        .collect();
                    let author = t.author.iter().map(|a| row(a, vec![])).collect();
                    row(&t.values, vec![payload(posts, true, held), payload(author, false, held)])
                })
                .collect();
            let text = serde_json::Value::Array(json).to_string();

            let comments = Collect::new(&MIXED, true, vec![]);
            let posts = Collect::new(&MIXED, true, vec![comments]);
            let author = Collect::new(&MIXED, false, vec![]);
            let mut top = Collect::new(&MIXED, true, vec![posts, author]);
            read(&text, &mut top).unwrap();

            let expected: Vec<Read> = trees
                .into_iter()
                .map(|t| Read {
                    values: t.values,
                    nested: vec![
                        t.posts
                            .into_iter()
                            .map(|(values, comments)| Read {
                                values,
                                nested: vec![comments.into_iter().map(plain).collect()],
                            })
                            .collect(),
                        t.author.into_iter().map(plain).collect(),
                    ],
                })
                .collect();
            proptest::prop_assert_eq!(top.rows, expected);
        }
    }
}
