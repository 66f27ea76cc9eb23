//! The JSON a Worker and a Durable Object exchange when the Worker runs statements on the
//! object's database ([`DoStubBackend`](crate::DoStubBackend) → [`serve_sql`](crate::serve_sql)).
//! Rust on both ends with serde_json: integers stay exact 64-bit numbers on the way.

use serde::{Deserialize, Serialize};
use sonic_db_core::{Error, QueryResult, Statement, Value};

/// One cell or parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum WireValue {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<&Value> for WireValue {
    fn from(value: &Value) -> Self {
        match value {
            Value::Null => WireValue::Null,
            Value::Integer(i) => WireValue::Integer(*i),
            Value::Real(r) => WireValue::Real(*r),
            Value::Text(s) => WireValue::Text(s.clone()),
            Value::Blob(b) => WireValue::Blob(b.clone()),
        }
    }
}

impl From<WireValue> for Value {
    fn from(value: WireValue) -> Self {
        match value {
            WireValue::Null => Value::Null,
            WireValue::Integer(i) => Value::Integer(i),
            WireValue::Real(r) => Value::Real(r),
            WireValue::Text(s) => Value::Text(s),
            WireValue::Blob(b) => Value::Blob(b),
        }
    }
}

/// Statements to run: one alone, or several as one transaction.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireRequest {
    pub(crate) statements: Vec<(String, Vec<WireValue>)>,
    pub(crate) atomic: bool,
}

impl WireRequest {
    pub(crate) fn new(statements: &[Statement], atomic: bool) -> Self {
        WireRequest {
            statements: statements
                .iter()
                .map(|s| {
                    (
                        s.sql.to_string(),
                        s.params.iter().map(WireValue::from).collect(),
                    )
                })
                .collect(),
            atomic,
        }
    }

    pub(crate) fn into_statements(self) -> Vec<Statement> {
        self.statements
            .into_iter()
            .map(|(sql, params)| Statement::new(sql, params.into_iter().map(Value::from).collect()))
            .collect()
    }
}

/// One statement's result.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WireResult {
    columns: Vec<String>,
    values: Vec<WireValue>,
    changes: u64,
    last_insert_rowid: Option<i64>,
}

impl From<&QueryResult> for WireResult {
    fn from(result: &QueryResult) -> Self {
        WireResult {
            columns: result.columns.to_vec(),
            values: result.values.iter().map(WireValue::from).collect(),
            changes: result.changes,
            last_insert_rowid: result.last_insert_rowid,
        }
    }
}

impl From<WireResult> for QueryResult {
    fn from(result: WireResult) -> Self {
        QueryResult {
            columns: result.columns.into(),
            values: result.values.into_iter().map(Value::from).collect(),
            changes: result.changes,
            last_insert_rowid: result.last_insert_rowid,
        }
    }
}

/// The results, or the error with what the caller needs to classify it again.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum WireResponse {
    Results(Vec<WireResult>),
    /// A platform limit refused before running (Error::Limit).
    Limit(String),
    /// SQLite's (or the runtime's) message: classified again with `Error::from_sqlite_message`.
    Failed(String),
}

impl WireResponse {
    pub(crate) fn from_result(result: sonic_db_core::Result<Vec<QueryResult>>) -> Self {
        match result {
            Ok(results) => WireResponse::Results(results.iter().map(WireResult::from).collect()),
            Err(Error::Limit(message)) => WireResponse::Limit(message),
            Err(e) => WireResponse::Failed(sqlite_text(e)),
        }
    }

    pub(crate) fn into_result(self) -> sonic_db_core::Result<Vec<QueryResult>> {
        match self {
            WireResponse::Results(results) => Ok(results.into_iter().map(Into::into).collect()),
            WireResponse::Limit(message) => Err(Error::Limit(message)),
            WireResponse::Failed(message) => Err(Error::from_sqlite_message(message)),
        }
    }
}

/// The text `from_sqlite_message` classifies back into the same variant.
fn sqlite_text(error: Error) -> String {
    match error {
        Error::UniqueViolation { message }
        | Error::ForeignKeyViolation { message, .. }
        | Error::ConstraintViolation { message }
        | Error::Database { message } => message,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_results_and_errors_survive_the_trip() {
        let statements = vec![Statement::new(
            "SELECT ?, ?, ?, ?, ?",
            vec![
                Value::Null,
                Value::Integer(i64::MIN),
                Value::Real(0.1),
                Value::Text("é\0".into()),
                Value::Blob(vec![0, 255]),
            ],
        )];
        let json = serde_json::to_string(&WireRequest::new(&statements, true)).unwrap();
        let back: WireRequest = serde_json::from_str(&json).unwrap();
        assert!(back.atomic);
        assert_eq!(back.into_statements(), statements);

        let result = QueryResult {
            columns: vec!["a".to_string()].into(),
            values: vec![Value::Integer(i64::MAX)],
            changes: 1,
            last_insert_rowid: Some(7),
        };
        let json = serde_json::to_string(&WireResponse::from_result(Ok(vec![result.clone()])));
        let back: WireResponse = serde_json::from_str(&json.unwrap()).unwrap();
        assert_eq!(back.into_result().unwrap(), vec![result]);

        for error in [
            Error::Limit("too many".into()),
            Error::from_sqlite_message("UNIQUE constraint failed: t.id: SQLITE_CONSTRAINT"),
            Error::from_sqlite_message("FOREIGN KEY constraint failed: SQLITE_CONSTRAINT"),
            Error::from_sqlite_message("no such table: nope"),
        ] {
            let expected = format!("{error:?}");
            let json = serde_json::to_string(&WireResponse::from_result(Err(error))).unwrap();
            let back: WireResponse = serde_json::from_str(&json).unwrap();
            assert_eq!(format!("{:?}", back.into_result().unwrap_err()), expected);
        }
    }
}
