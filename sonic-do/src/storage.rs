//! Statements on the object's `ctx.storage.sql`, and batches inside `transactionSync`.

use std::cell::RefCell;
use std::rc::Rc;

use sonic_db_core::{Error, QueryResult, Result, Statement};
use worker::js_sys::{Function, Reflect};
use worker::wasm_bindgen::closure::Closure;
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::worker_sys::{DurableObjectState, DurableObjectStorage};
use worker::SqlStorage;

use crate::values::{from_storage, to_storage};
use crate::DO_CAPABILITIES;

fn storage(state: &DurableObjectState) -> Result<DurableObjectStorage> {
    state.storage().map_err(|e| js_error("ctx.storage", &e))
}

fn sql(state: &DurableObjectState) -> SqlStorage {
    worker::State::from(crate::clone_state(state))
        .storage()
        .sql()
}

/// Runs one statement to its end and reads its rows; for a write, the rows it changed
/// (SQLite's `changes()`: the cursor's `rowsWritten` also counts index rows) and the last
/// inserted rowid.
pub(crate) fn execute(state: &DurableObjectState, statement: &Statement) -> Result<QueryResult> {
    run(&sql(state), statement)
}

fn run(sql: &SqlStorage, statement: &Statement) -> Result<QueryResult> {
    let params = statement
        .params
        .iter()
        .map(|value| to_storage(value, &DO_CAPABILITIES))
        .collect::<Result<Vec<_>>>()?;
    let cursor = sql
        .exec(&statement.sql, params)
        .map_err(|e| sql_error(&e))?;
    let mut values = Vec::new();
    for row in cursor.raw() {
        values.extend(
            row.map_err(|e| sql_error(&e))?
                .into_iter()
                .map(from_storage),
        );
    }
    let columns: Vec<String> = cursor.column_names();
    let (changes, last_insert_rowid) = if cursor.rows_written() > 0 {
        written(sql)?
    } else {
        (0, None)
    };
    Ok(QueryResult {
        columns: columns.into(),
        values,
        changes,
        last_insert_rowid,
    })
}

fn written(sql: &SqlStorage) -> Result<(u64, Option<i64>)> {
    let cursor = sql
        .exec("SELECT changes(), last_insert_rowid()", None)
        .map_err(|e| sql_error(&e))?;
    let row = cursor
        .raw()
        .next()
        .transpose()
        .map_err(|e| sql_error(&e))?
        .unwrap_or_default();
    let mut cells = row.into_iter().map(from_storage);
    let changes = match cells.next() {
        Some(sonic_db_core::Value::Integer(n)) => u64::try_from(n).unwrap_or(0),
        _ => 0,
    };
    let rowid = match cells.next() {
        Some(sonic_db_core::Value::Integer(id)) => Some(id),
        _ => None,
    };
    Ok((changes, rowid))
}

/// Runs the statements inside `ctx.storage.transactionSync`: a failure rolls all of them back.
pub(crate) fn batch(
    state: &DurableObjectState,
    statements: &[Statement],
) -> Result<Vec<QueryResult>> {
    let sql = sql(state);
    let storage = storage(state)?;
    let transaction_sync: Function = Reflect::get(&storage, &JsValue::from_str("transactionSync"))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| Error::Database {
            message: "ctx.storage.transactionSync is missing: is this a SQLite-backed Durable \
                      Object (new_sqlite_classes in wrangler.toml)?"
                .to_string(),
        })?;
    // The closure must be 'static: it owns its statements and hands its outcome back here.
    let outcome: Rc<RefCell<Option<Result<Vec<QueryResult>>>>> = Rc::new(RefCell::new(None));
    let owned = statements.to_vec();
    let slot = Rc::clone(&outcome);
    let body = Closure::once(move || -> std::result::Result<JsValue, JsValue> {
        let results = owned
            .iter()
            .map(|s| run(&sql, s))
            .collect::<Result<Vec<_>>>();
        let failed = results.is_err();
        *slot.borrow_mut() = Some(results);
        // Throwing is how the callback asks transactionSync to roll back.
        if failed {
            Err(JsValue::from_str("sonic: rolled back"))
        } else {
            Ok(JsValue::NULL)
        }
    });
    let called = transaction_sync.call1(&storage, body.as_ref().unchecked_ref());
    let results = outcome.borrow_mut().take();
    match (called, results) {
        (_, Some(Err(e))) => Err(e),
        (Ok(_), Some(Ok(results))) => Ok(results),
        (Err(e), _) => Err(js_error("transactionSync", &e)),
        (Ok(_), None) => Err(Error::Database {
            message: "transactionSync returned without running the batch".to_string(),
        }),
    }
}

/// SQLite's message, classified (constraint violations get their own variants).
fn sql_error(e: &worker::Error) -> Error {
    Error::from_sqlite_message(e.to_string())
}

fn js_error(what: &str, e: &JsValue) -> Error {
    let message = e
        .dyn_ref::<worker::js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"));
    Error::Database {
        message: format!("{what}: {message}"),
    }
}
