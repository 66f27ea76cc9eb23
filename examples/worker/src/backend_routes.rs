//! Test routes for the Sonic backends (`sonic-db-d1`, `sonic-db-kv`), driven by
//! `e2e/tests/backend_*.test.mjs`. JSON in, JSON out, everything `POST`:
//!
//! - `/_backend/sql` `{sql, params}` → one [`SqlBackend::execute`] →
//!   `{columns, rows, changes, last_insert_rowid}`
//! - `/_backend/batch` `{statements: [{sql, params}]}` → [`SqlBackend::batch`] → `{results}`
//! - `/_backend/session` `{bookmark?, constraint?, statements}` → the statements one by one in
//!   a D1 session → `{results, bookmark}`
//! - `/_backend/kv/{put,get,get_bulk,get_all,get_bulk_text,delete,list,list_all,delete_prefix}`
//!   → the [`KvBackend`] operations and the `sonic_db_core::kv` helpers
//! - `/_backend/probe/worker_prepare` `{sql}` → `worker::D1Database::prepare(sql).all()`
//!   directly, to show what `worker`'s own `prepare` does with invalid SQL
//!
//! Values are tagged so that they cross HTTP exactly: `{"type": "integer", "value": "…"}`
//! (a string: JSON numbers in JavaScript lose integers beyond 2^53), `{"type": "real",
//! "value": 1.5}` (or `"NaN"`, `"Infinity"`, `"-Infinity"`), `{"type": "text", "value": "…"}`,
//! `{"type": "blob", "value": [0, 255]}`, `{"type": "null"}`; and, in parameters only,
//! `{"type": "bool", "value": true}` (bound through `bool: ToValue`, i.e. as 1/0).
//!
//! Errors are `{"error": {"kind", "message"}}` with `kind` one of `unique`, `foreign_key`,
//! `constraint` (409), `limit`, `invalid_query`, `kv`, `request` (400), `database`, `other`
//! (500).

use std::future::Future;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value as Json};
use sonic_db_core::kv::{self, KvBackend, KvListOptions, KvPutOptions};
use sonic_db_core::{Error, QueryResult, SqlBackend, Statement, ToValue, Value};
use sonic_db_d1::{D1Backend, D1SessionConstraint};
use sonic_db_kv::WorkersKv;
use worker::{Request, Response, RouteContext, Router};

use crate::Fills;

/// Adds the `/_backend/...` routes to `router`.
pub fn register(router: Router<'_, Fills>) -> Router<'_, Fills> {
    router
        .post_async("/_backend/sql", |req, ctx| respond(req, ctx, sql))
        .post_async("/_backend/batch", |req, ctx| respond(req, ctx, batch))
        .post_async("/_backend/session", |req, ctx| respond(req, ctx, session))
        .post_async("/_backend/kv/put", |req, ctx| respond(req, ctx, kv_put))
        .post_async("/_backend/kv/get", |req, ctx| respond(req, ctx, kv_get))
        .post_async("/_backend/kv/get_bulk", |req, ctx| {
            respond(req, ctx, kv_get_bulk)
        })
        .post_async("/_backend/kv/get_all", |req, ctx| {
            respond(req, ctx, kv_get_all)
        })
        .post_async("/_backend/kv/get_bulk_text", |req, ctx| {
            respond(req, ctx, kv_get_bulk_text)
        })
        .post_async("/_backend/kv/delete", |req, ctx| {
            respond(req, ctx, kv_delete)
        })
        .post_async("/_backend/kv/list", |req, ctx| respond(req, ctx, kv_list))
        .post_async("/_backend/kv/list_all", |req, ctx| {
            respond(req, ctx, kv_list_all)
        })
        .post_async("/_backend/kv/delete_prefix", |req, ctx| {
            respond(req, ctx, kv_delete_prefix)
        })
        .post_async("/_backend/probe/worker_prepare", |req, ctx| {
            respond(req, ctx, worker_prepare)
        })
}

/// Parses the JSON body, runs `handler`, and renders its result or error.
async fn respond<T, F, Fut>(
    mut req: Request,
    ctx: RouteContext<Fills>,
    handler: F,
) -> worker::Result<Response>
where
    T: DeserializeOwned,
    F: FnOnce(T, RouteContext<Fills>) -> Fut,
    Fut: Future<Output = Result<Json, Error>>,
{
    let body = match req.json::<T>().await {
        Ok(body) => body,
        Err(e) => return error_json(400, "request", &format!("bad request body: {e}")),
    };
    match handler(body, ctx).await {
        Ok(json) => Response::from_json(&json),
        Err(error) => {
            let (status, kind) = match &error {
                Error::UniqueViolation { .. } => (409, "unique"),
                Error::ForeignKeyViolation { .. } => (409, "foreign_key"),
                Error::ConstraintViolation { .. } => (409, "constraint"),
                Error::Limit(_) => (400, "limit"),
                Error::InvalidQuery(_) => (400, "invalid_query"),
                Error::Kv(_) => (400, "kv"),
                Error::Database { .. } => (500, "database"),
                _ => (500, "other"),
            };
            error_json(status, kind, &error.to_string())
        }
    }
}

fn error_json(status: u16, kind: &str, message: &str) -> worker::Result<Response> {
    Ok(
        Response::from_json(&json!({ "error": { "kind": kind, "message": message } }))?
            .with_status(status),
    )
}

// ---- SQL ------------------------------------------------------------------------------------

/// A tagged parameter.
#[derive(Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
enum Param {
    Null,
    Integer(String),
    Real(Real),
    Text(String),
    Blob(Vec<u8>),
    Bool(bool),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Real {
    Number(f64),
    Special(String),
}

impl Param {
    fn into_value(self, position: usize) -> Result<Value, Error> {
        let bad = |what: String| Error::InvalidQuery(format!("parameter {position}: {what}"));
        Ok(match self {
            Param::Null => Value::Null,
            Param::Integer(text) => Value::Integer(
                text.parse()
                    .map_err(|e| bad(format!("`{text}` is not an i64 ({e})")))?,
            ),
            Param::Real(Real::Number(r)) => Value::Real(r),
            Param::Real(Real::Special(text)) => Value::Real(match text.as_str() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                _ => return Err(bad(format!("`{text}` is not a REAL"))),
            }),
            Param::Text(text) => Value::Text(text),
            Param::Blob(bytes) => Value::Blob(bytes),
            Param::Bool(b) => b.to_value().map_err(|e| bad(e.to_string()))?,
        })
    }
}

#[derive(Deserialize)]
struct StatementIn {
    sql: String,
    #[serde(default)]
    params: Vec<Param>,
}

impl StatementIn {
    fn into_statement(self) -> Result<Statement, Error> {
        let params = self
            .params
            .into_iter()
            .enumerate()
            .map(|(i, p)| p.into_value(i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Statement::new(self.sql, params))
    }
}

fn tagged(value: &Value) -> Json {
    match value {
        Value::Null => json!({ "type": "null" }),
        Value::Integer(i) => json!({ "type": "integer", "value": i.to_string() }),
        Value::Real(r) if r.is_finite() => json!({ "type": "real", "value": r }),
        Value::Real(r) => json!({ "type": "real", "value": r.to_string() }),
        Value::Text(s) => json!({ "type": "text", "value": s }),
        Value::Blob(b) => json!({ "type": "blob", "value": b }),
    }
}

fn result_json(result: &QueryResult) -> Json {
    let width = result.columns.len();
    let rows: Vec<Vec<Json>> = if width == 0 {
        Vec::new()
    } else {
        result
            .values
            .chunks(width)
            .map(|row| row.iter().map(tagged).collect())
            .collect()
    };
    json!({
        "columns": &*result.columns,
        "rows": rows,
        "changes": result.changes,
        "last_insert_rowid": result.last_insert_rowid.map(|id| id.to_string()),
    })
}

async fn sql(body: StatementIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let backend = D1Backend::from_env(&ctx.env, "DB")?;
    let result = backend.execute(&body.into_statement()?).await?;
    Ok(result_json(&result))
}

#[derive(Deserialize)]
struct BatchIn {
    statements: Vec<StatementIn>,
}

fn statements(body: Vec<StatementIn>) -> Result<Vec<Statement>, Error> {
    body.into_iter().map(StatementIn::into_statement).collect()
}

async fn batch(body: BatchIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let backend = D1Backend::from_env(&ctx.env, "DB")?;
    let results = backend.batch(&statements(body.statements)?).await?;
    Ok(json!({ "results": results.iter().map(result_json).collect::<Vec<_>>() }))
}

#[derive(Deserialize)]
struct SessionIn {
    #[serde(default)]
    bookmark: Option<String>,
    #[serde(default)]
    constraint: Option<String>,
    statements: Vec<StatementIn>,
}

async fn session(body: SessionIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let database = D1Backend::from_env(&ctx.env, "DB")?;
    let backend = match body.constraint.as_deref() {
        None => database.with_session(body.bookmark.as_deref())?,
        Some("first-primary") => {
            database.with_session_constraint(D1SessionConstraint::FirstPrimary)?
        }
        Some("first-unconstrained") => {
            database.with_session_constraint(D1SessionConstraint::FirstUnconstrained)?
        }
        Some(other) => return Err(Error::InvalidQuery(format!("unknown constraint `{other}`"))),
    };
    let before = backend.bookmark()?;
    let mut results = Vec::new();
    for statement in statements(body.statements)? {
        results.push(result_json(&backend.execute(&statement).await?));
    }
    Ok(json!({
        "results": results,
        "bookmark_before": before,
        "bookmark": backend.bookmark()?,
        "in_a_session": backend.in_a_session(),
    }))
}

#[derive(Deserialize)]
struct PrepareIn {
    sql: String,
}

/// `worker`'s own `D1Database::prepare` (which unwraps internally) with arbitrary SQL.
async fn worker_prepare(body: PrepareIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let db = ctx.env.d1("DB").map_err(|e| Error::Database {
        message: e.to_string(),
    })?;
    let statement = db.prepare(body.sql);
    Ok(match statement.all().await {
        Ok(_) => json!({ "prepared": true, "ran": true }),
        Err(e) => json!({ "prepared": true, "ran": false, "error": e.to_string() }),
    })
}

// ---- KV -------------------------------------------------------------------------------------

fn kv_store(ctx: &RouteContext<Fills>) -> Result<WorkersKv, Error> {
    WorkersKv::from_env(&ctx.env, "KV")
}

fn bytes_json(value: &Option<Vec<u8>>) -> Json {
    json!(value)
}

#[derive(Deserialize)]
struct PutIn {
    key: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    bytes: Option<Vec<u8>>,
    #[serde(default)]
    ttl: Option<u64>,
    #[serde(default)]
    expiration: Option<u64>,
    #[serde(default)]
    metadata: Option<Json>,
}

async fn kv_put(body: PutIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let value = match (body.text, body.bytes) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(bytes)) => bytes,
        _ => return Err(Error::InvalidQuery("give `text` or `bytes`".to_string())),
    };
    let options = KvPutOptions {
        expiration_ttl: body.ttl,
        expiration: body.expiration,
        metadata: body.metadata,
    };
    kv_store(&ctx)?.put(&body.key, &value, &options).await?;
    Ok(json!({ "ok": true }))
}

#[derive(Deserialize)]
struct KeyIn {
    key: String,
}

async fn kv_get(body: KeyIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let value = kv_store(&ctx)?.get(&body.key).await?;
    let text = value
        .as_ref()
        .and_then(|b| std::str::from_utf8(b).ok().map(str::to_string));
    Ok(json!({ "bytes": bytes_json(&value), "text": text }))
}

async fn kv_delete(body: KeyIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    kv_store(&ctx)?.delete(&body.key).await?;
    Ok(json!({ "ok": true }))
}

#[derive(Deserialize)]
struct KeysIn {
    keys: Vec<String>,
}

async fn kv_get_bulk(body: KeysIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let values = kv_store(&ctx)?.get_bulk(&body.keys).await?;
    Ok(json!({ "values": values.iter().map(bytes_json).collect::<Vec<_>>() }))
}

async fn kv_get_all(body: KeysIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let values = kv::get_all(&kv_store(&ctx)?, &body.keys).await?;
    Ok(json!({ "values": values.iter().map(bytes_json).collect::<Vec<_>>() }))
}

async fn kv_get_bulk_text(body: KeysIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let values = kv_store(&ctx)?.get_bulk_text(&body.keys).await?;
    Ok(json!({ "values": values }))
}

#[derive(Deserialize)]
struct ListIn {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

fn key_json(key: &kv::KvKey) -> Json {
    json!({ "name": key.name, "expiration": key.expiration, "metadata": key.metadata })
}

async fn kv_list(body: ListIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let options = KvListOptions {
        prefix: body.prefix,
        cursor: body.cursor,
        limit: body.limit,
    };
    let page = kv_store(&ctx)?.list(&options).await?;
    Ok(json!({
        "keys": page.keys.iter().map(key_json).collect::<Vec<_>>(),
        "list_complete": page.list_complete,
        "cursor": page.cursor,
    }))
}

#[derive(Deserialize)]
struct PrefixIn {
    prefix: String,
}

async fn kv_list_all(body: PrefixIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let keys = kv::list_all(&kv_store(&ctx)?, &body.prefix).await?;
    Ok(json!({ "keys": keys.iter().map(key_json).collect::<Vec<_>>() }))
}

async fn kv_delete_prefix(body: PrefixIn, ctx: RouteContext<Fills>) -> Result<Json, Error> {
    let deleted = kv::delete_prefix(&kv_store(&ctx)?, &body.prefix).await?;
    Ok(json!({ "deleted": deleted }))
}
