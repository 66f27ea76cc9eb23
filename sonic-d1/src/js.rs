//! The JavaScript side of [`D1Backend`]: binding values, calling D1, reading its results.
//!
//! Only compiled for wasm32. Every JavaScript call goes through a `catch` binding or
//! `Reflect`, and every value read from JavaScript is checked before use, so a failure of any
//! kind becomes an [`Error`](sonic_db_core::Error), never a panic.

use std::sync::Arc;

use sonic_db_core::{QueryResult, Result, Statement, Value};
use worker::js_sys::{Array, JsString, Object, Promise, Reflect, Uint8Array, JSON};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker_sys::types::{
    D1Database as DatabaseSys, D1DatabaseSession as SessionSys, D1PreparedStatement as PreparedSys,
};

use crate::analysis::Analysis;
use crate::calls::{Preparer, Statement as StatementJs};
use crate::cells::{classify, raw_item};
use crate::decode::{cell_to_value, decode_cells, unexpected};
use crate::names::KeptNames;
use crate::pack::{read_objects, read_rows, Read};
use crate::params::{cast_integer_params, check_sent_len, integer_mask, sql_to_send};
use crate::rules::{
    check_statement, error_from_message, exact_count, exact_integer, integer_binding, params_json,
    IntegerBinding,
};
use crate::shape::Shape;
use crate::thrown::js_error;
use crate::D1Backend;

impl D1Backend {
    /// Prepares and binds one statement (its integer parameters cast to INTEGER, see
    /// [`crate::params`]).
    ///
    /// This calls the binding's `prepare` through a `catch` binding (`crate::calls`) instead of
    /// `worker::D1Database::prepare`, which unwraps the result: that unwrap can only fire when
    /// the JavaScript `prepare` call itself throws (a binding object that is not a working
    /// `D1Database`), since D1's `prepare` only stores the SQL text — SQL errors surface when
    /// the statement runs. Either way, here it is an `Err`.
    fn prepare(&self, statement: &Statement, analysis: &Analysis) -> Result<PreparedSys> {
        let sql = self.sql_to_send_js(statement, analysis)?;
        let preparer: &Preparer = match &self.session {
            Some(session) => session.as_ref().unchecked_ref(),
            None => self.db.as_ref().unchecked_ref(),
        };
        let prepared = preparer.prepare(&sql).map_err(js_error)?;
        if statement.params.is_empty() {
            return Ok(prepared);
        }
        let json = if statement.params.len() >= JSON_FROM_PARAMS {
            params_json(&statement.params)
        } else {
            None
        };
        let params = match json {
            Some(json) => JSON::parse(&json)
                .map_err(js_error)?
                .dyn_into::<Array>()
                .map_err(|_| unexpected("JSON.parse of the parameters is not an array"))?,
            None => {
                let params = Array::new();
                for value in &statement.params {
                    params.push(&to_js(value));
                }
                params
            }
        };
        prepared.bind(params).map_err(js_error)
    }

    /// [`sql_to_send`] as a JavaScript string, kept with the statement's analysis for the
    /// next statement of the same text and integer parameters.
    fn sql_to_send_js(&self, statement: &Statement, analysis: &Analysis) -> Result<JsString> {
        let Some(mask) = integer_mask(&statement.params) else {
            let sql = sql_to_send(statement, &analysis.markers, &self.capabilities)?;
            return Ok(JsString::from(sql.as_ref()));
        };
        let (sql, len) = analysis.sent.get_or_make(mask, || {
            let sql = cast_integer_params(&statement.sql, &analysis.markers, &statement.params);
            (JsString::from(sql.as_ref()), sql.len())
        });
        // Checked each time: another backend of a larger limit may have kept it.
        check_sent_len(len, &self.capabilities)?;
        Ok(sql)
    }

    /// [`sonic_db_core::SqlBackend::execute`] on wasm32.
    pub(crate) async fn execute_js(&self, statement: &Statement) -> Result<QueryResult> {
        check_statement(statement, &self.capabilities)?;
        let analysis = Analysis::of_statement(statement);
        let prepared = self.prepare(statement, &analysis)?;
        match analysis.shape {
            Shape::Write => {
                let result = settle(prepared.run()).await?;
                check_success(&result)?;
                let (changes, last_insert_rowid) = counters(&result)?;
                Ok(QueryResult {
                    columns: Default::default(),
                    values: Vec::new(),
                    changes,
                    last_insert_rowid,
                })
            }
            shape => {
                let rows = raw_with_column_names(&prepared).await?;
                // Packed in one call (`crate::pack`), value by value where that does not
                // apply. (One `JSON.stringify` text, tried before the packing, was up to 15 %
                // faster than value by value on short cells and 1.2x to 2.9x slower on long
                // texts or texts with quotes.)
                let (columns, values, row_count) = match read_rows(&rows, &analysis.names)? {
                    Some(read) => read,
                    None => read_by_value(&rows, &analysis.names)?,
                };
                Ok(QueryResult {
                    columns,
                    values,
                    changes: if shape == Shape::Returning {
                        row_count as u64
                    } else {
                        0
                    },
                    last_insert_rowid: None,
                })
            }
        }
    }

    /// [`sonic_db_core::SqlBackend::batch`] on wasm32.
    pub(crate) async fn batch_js(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        if statements.is_empty() {
            return Ok(Vec::new());
        }
        // Check every statement before preparing any: nothing is sent if one is refused.
        for statement in statements {
            check_statement(statement, &self.capabilities)?;
        }
        let analyses: Vec<Analysis> = statements.iter().map(Analysis::of_statement).collect();
        let prepared = Array::new();
        for (statement, analysis) in statements.iter().zip(&analyses) {
            prepared.push(self.prepare(statement, analysis)?.as_ref());
        }
        let call = match &self.session {
            Some(session) => {
                let session: &SessionSys = session.as_ref().unchecked_ref();
                session.session_batch(prepared)
            }
            None => {
                let db: &DatabaseSys = self.db.as_ref().unchecked_ref();
                db.batch(prepared)
            }
        };
        let results = settle(call).await?;
        let results: Array = results
            .dyn_into()
            .map_err(|_| unexpected("D1 batch() did not resolve to an array"))?;
        if results.length() as usize != statements.len() {
            return Err(unexpected(format!(
                "D1 batch() returned {} results for {} statements",
                results.length(),
                statements.len()
            )));
        }
        analyses
            .iter()
            .zip(results.iter())
            .map(|(analysis, result)| {
                check_success(&result)?;
                let (columns, values, row_count) = decode_objects(&result)?;
                let (changes, last_insert_rowid) = counters(&result)?;
                Ok(match analysis.shape {
                    Shape::Rows => QueryResult {
                        columns,
                        values,
                        changes: 0,
                        last_insert_rowid: None,
                    },
                    Shape::Returning => QueryResult {
                        columns,
                        values,
                        changes: row_count as u64,
                        last_insert_rowid,
                    },
                    Shape::Write => QueryResult {
                        columns,
                        values,
                        changes,
                        last_insert_rowid,
                    },
                })
            })
            .collect()
    }
}

/// A parameter as D1's `bind()` takes it. [`check_statement`] has already refused what would
/// not cross exactly (non-finite reals); an integer beyond ±(2^53 − 1) goes as its decimal
/// text, which its marker's `CAST(? AS INTEGER)` makes the exact INTEGER.
fn to_js(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Integer(i) => match integer_binding(*i) {
            IntegerBinding::Number(n) => JsValue::from_f64(n),
            IntegerBinding::Text(text) => JsValue::from_str(&text),
        },
        Value::Real(r) => JsValue::from_f64(*r),
        Value::Text(s) => JsValue::from_str(s),
        // D1 binds an ArrayBuffer view as a BLOB.
        Value::Blob(bytes) => Uint8Array::from(bytes.as_slice()).into(),
    }
}

/// Awaits a D1 promise; a synchronous throw or a rejection becomes an [`Error`].
async fn settle(call: Result<Promise, JsValue>) -> Result<JsValue> {
    let promise = call.map_err(js_error)?;
    JsFuture::from(promise).await.map_err(js_error)
}

/// `statement.raw({ columnNames: true })`: the column names, then one array per row.
async fn raw_with_column_names(statement: &PreparedSys) -> Result<Array> {
    thread_local! {
        /// `{ columnNames: true }`, made once per isolate (D1 only reads it).
        static COLUMN_NAMES: std::result::Result<JsValue, JsValue> = column_names_option();
    }
    let options = COLUMN_NAMES
        .with(|options| options.clone())
        .map_err(js_error)?;
    let statement: &StatementJs = statement.unchecked_ref();
    let returned = statement.raw(&options).map_err(js_error)?;
    let rows = JsFuture::from(Promise::resolve(&returned))
        .await
        .map_err(js_error)?;
    rows.dyn_into()
        .map_err(|_| unexpected("D1 raw() did not resolve to an array"))
}

/// The columns, values and row count of `rows` (`raw({ columnNames: true })`'s output),
/// read value by value: what `crate::pack` does not pack, and where its shape is wrong.
fn read_by_value(rows: &Array, names: &KeptNames) -> Result<Read> {
    // The length is read once: each read is a call into JavaScript.
    let length = rows.length();
    // No element at all (D1 sends no result set for some DDL): an empty result.
    if length == 0 {
        return Ok((Arc::default(), Vec::new(), 0));
    }
    let columns = names.get_or_read(&rows.get(0))?;
    let (values, row_count) = decode_cells(&columns, (1..length).map(|i| raw_item(&rows.get(i))))?;
    Ok((columns, values, row_count))
}

/// `{ columnNames: true }`.
fn column_names_option() -> std::result::Result<JsValue, JsValue> {
    let options = Object::new();
    Reflect::set(&options, &JsValue::from_str("columnNames"), &JsValue::TRUE)?;
    Ok(options.into())
}

/// From how many parameters a statement hands them to `bind()` as one JSON array (when
/// `params_json` carries them all). Measured with this crate's code built for wasm32 and run
/// in Node (V8), on short texts, integers and `NULL`s: value by value is ahead up to 8 (0.9 µs
/// against 1.7 for 4), even at 12, the JSON array ahead from 16, by 36 % at 100.
const JSON_FROM_PARAMS: usize = 16;

/// Columns, values and row count from a batch result, whose rows D1 turns into objects keyed
/// by column name (see the crate docs for what that loses): packed (`crate::pack`), else value
/// by value.
fn decode_objects(result: &JsValue) -> Result<Read> {
    let rows = Reflect::get(result, &JsValue::from_str("results")).map_err(js_error)?;
    if rows.is_undefined() || rows.is_null() {
        return Ok((Arc::default(), Vec::new(), 0));
    }
    let rows: Array = rows
        .dyn_into()
        .map_err(|_| unexpected("D1 batch result rows are not an array"))?;
    let Some(first) = rows.iter().next() else {
        return Ok((Arc::default(), Vec::new(), 0));
    };
    let first: Object = first
        .dyn_into()
        .map_err(|_| unexpected("D1 batch result row 0 is not an object"))?;
    let keys = Object::keys(&first);
    let columns: Arc<[String]> = keys
        .iter()
        .map(|key| {
            key.as_string()
                .ok_or_else(|| unexpected("D1 batch result column name is not a string"))
        })
        .collect::<Result<_>>()?;
    if let Some(read) = read_objects(&rows, &keys, &columns)? {
        return Ok(read);
    }
    let mut values = Vec::with_capacity(columns.len() * rows.length() as usize);
    let mut row_count = 0;
    for (index, row) in rows.iter().enumerate() {
        if !row.is_object() {
            return Err(unexpected(format!(
                "D1 batch result row {index} is not an object"
            )));
        }
        for (key, column) in keys.iter().zip(columns.iter()) {
            let cell = Reflect::get(&row, &key).map_err(js_error)?;
            values.push(cell_to_value(classify(&cell), column)?);
        }
        row_count += 1;
    }
    Ok((columns, values, row_count))
}

/// `meta.changes` and `meta.last_row_id` of a D1 result (0 and `None` when absent; a rowid
/// beyond ±(2^53 − 1), which D1 could not report exactly, is `None`).
fn counters(result: &JsValue) -> Result<(u64, Option<i64>)> {
    let meta = Reflect::get(result, &JsValue::from_str("meta")).map_err(js_error)?;
    if !meta.is_object() {
        return Ok((0, None));
    }
    let number = |name: &str| -> Result<Option<f64>> {
        Ok(Reflect::get(&meta, &JsValue::from_str(name))
            .map_err(js_error)?
            .as_f64())
    };
    let changes = number("changes")?.and_then(exact_count).unwrap_or(0);
    let last_row_id = number("last_row_id")?.and_then(exact_integer);
    Ok((changes, last_row_id))
}

/// A D1 result object with `success: false` is an error (the binding normally throws instead).
fn check_success(result: &JsValue) -> Result<()> {
    let success = Reflect::get(result, &JsValue::from_str("success")).map_err(js_error)?;
    if success.as_bool() == Some(false) {
        let message = Reflect::get(result, &JsValue::from_str("error"))
            .ok()
            .and_then(|e| e.as_string())
            .unwrap_or_default();
        return Err(error_from_message(&message));
    }
    Ok(())
}
