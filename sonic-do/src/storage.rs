//! Statements on the object's `ctx.storage.sql`; batches and interactive transactions inside
//! `transactionSync`.

use std::cell::Cell;

use sonic_db_core::{Error, QueryResult, Result, Statement};
use worker::js_sys::{Function, Reflect};
use worker::wasm_bindgen::closure::ScopedClosure;
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

/// Runs SQL text of several statements (a migration file): `sql.exec` runs each in turn.
pub(crate) fn execute_script(state: &DurableObjectState, script: &str) -> Result<()> {
    let cursor = sql(state).exec(script, None).map_err(|e| sql_error(&e))?;
    for row in cursor.raw() {
        row.map_err(|e| sql_error(&e))?;
    }
    Ok(())
}

/// Runs the statements inside `ctx.storage.transactionSync`: a failure rolls all of them back.
/// Inside an open [`transaction`] this nests (workerd opens a savepoint per call), so a batch
/// there is still all or nothing and its failure undoes only the batch.
pub(crate) fn batch(
    state: &DurableObjectState,
    statements: &[Statement],
) -> Result<Vec<QueryResult>> {
    let sql = sql(state);
    let mut results = Vec::with_capacity(statements.len());
    in_transaction_sync(state, &mut || {
        results = statements
            .iter()
            .map(|s| run(&sql, s))
            .collect::<Result<Vec<_>>>()?;
        Ok(())
    })?;
    Ok(results)
}

thread_local! {
    /// Whether a [`transaction`] body is running in this isolate. Bodies cannot await, so
    /// while one runs nothing else of this isolate does: only the body itself could start
    /// another, which is refused (transactions do not nest, as natively).
    static TRANSACTION_OPEN: Cell<bool> = const { Cell::new(false) };
}

/// Runs `body` inside `ctx.storage.transactionSync`: every statement it sends through this
/// object's storage commits when it returns `Ok`, or is rolled back when it returns an error,
/// which comes back unchanged.
pub(crate) fn transaction(
    state: &DurableObjectState,
    body: &mut dyn FnMut() -> Result<()>,
) -> Result<()> {
    if TRANSACTION_OPEN.with(Cell::get) {
        return Err(Error::InvalidQuery(
            "a transaction is already open on this Durable Object: transactions do not nest \
             (use the handle the transaction's body receives)"
                .to_string(),
        ));
    }
    TRANSACTION_OPEN.with(|open| open.set(true));
    let outcome = in_transaction_sync(state, body);
    TRANSACTION_OPEN.with(|open| open.set(false));
    outcome
}

/// Calls `ctx.storage.transactionSync` with `body` lent to JavaScript for the call's duration
/// (no copy of what it borrows). An error of `body` is kept here while the callback throws,
/// which is how it asks for the rollback, and returned as it was.
fn in_transaction_sync(
    state: &DurableObjectState,
    body: &mut dyn FnMut() -> Result<()>,
) -> Result<()> {
    let storage = storage(state)?;
    let transaction_sync: Function = Reflect::get(&storage, &JsValue::from_str("transactionSync"))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| Error::Database {
            message: "ctx.storage.transactionSync is missing: is this a SQLite-backed Durable \
                      Object (new_sqlite_classes in wrangler.toml)?"
                .to_string(),
        })?;
    let mut failure: Option<Error> = None;
    let mut ran = false;
    let mut callback = || -> std::result::Result<JsValue, JsValue> {
        ran = true;
        match body() {
            Ok(()) => Ok(JsValue::UNDEFINED),
            Err(error) => {
                failure = Some(error);
                Err(JsValue::from_str("sonic: rolled back"))
            }
        }
    };
    let lent = ScopedClosure::<dyn FnMut() -> std::result::Result<JsValue, JsValue>>::borrow_mut(
        &mut callback,
    );
    let called = transaction_sync.call1(&storage, lent.as_js_value());
    drop(lent);
    match (failure, called) {
        (Some(error), _) => Err(error),
        (None, Err(e)) => Err(js_error("transactionSync", &e)),
        (None, Ok(_)) if ran => Ok(()),
        (None, Ok(_)) => Err(Error::Database {
            message: "transactionSync returned without running the transaction's body".to_string(),
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
