//! The REST API on the Workers runtime: `worker::Request` → [`ApiRequest`] →
//! [`rest::handle`] → `worker::Response`.
//!
//! Kept apart from [`rest`] so that the API itself does not depend on the runtime and is
//! tested natively; this adapter only decodes the path, query and body, builds the [`Db`] of
//! the request, and encodes the [`Reply`].

use std::borrow::Cow;

use sonic_db_core::{CacheConfig, Db};
use sonic_db_d1::D1Backend;
use sonic_db_kv::WorkersKv;
use worker::url::form_urlencoded;

use crate::Fills;
use worker::{Env, Request, Response, RouteContext, Router};

use crate::rest::{self, ApiError, ApiRequest, Method, Reply};

/// Adds `/v1/{table}` and `/v1/{table}/{id}` (every method; [`rest::handle`] answers `405`
/// for the ones a path does not take).
pub fn register(router: Router<'_, Fills>) -> Router<'_, Fills> {
    router
        .on_async("/v1/:table", serve)
        .on_async("/v1/:table/:id", serve)
}

/// The database of a request: D1 binding `DB`, cached in KV namespace `KV` (5-minute TTL),
/// knowing the tables of the schema, so that a delete also invalidates the cached records its
/// `ON DELETE CASCADE`s remove (deleting a user drops the KV entries of their posts and of
/// those posts' comments).
///
/// One per request: a `Db` is cheap to build, and its cache bookkeeping (the tables whose
/// invalidation KV refused) then lives exactly as long as the request. Fills (the KV put
/// after a miss) run on the request's `wait_until`, after the response. No D1 session is
/// used, so every statement, and every KV fill, reads the primary: the cache never stores a
/// replica's older row.
pub fn database(env: &Env, fills: &Fills) -> sonic_db_core::Result<Db> {
    Ok(Db::new(D1Backend::from_env(env, "DB")?)
        .with_schema(&sonic_example_blog::migrations::schema())
        .with_kv(WorkersKv::from_env(env, "KV")?, CacheConfig::new())?
        .with_defer(fills.clone()))
}

/// A request's parts, decoded and owned.
struct Parts {
    method: Method,
    table: String,
    id: Option<String>,
    query: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn serve(mut req: Request, ctx: RouteContext<Fills>) -> worker::Result<Response> {
    let reply = match decode(&mut req, &ctx).await {
        Ok(parts) => match database(&ctx.env, &ctx.data) {
            Ok(db) => {
                let request = ApiRequest {
                    method: parts.method,
                    table: &parts.table,
                    id: parts.id.as_deref(),
                    query: &parts.query,
                    body: &parts.body,
                };
                rest::handle(&db, &request).await
            }
            Err(e) => Reply::error(ApiError::internal(e.to_string())),
        },
        Err(e) => Reply::error(e),
    };
    if reply.status >= 500 {
        worker::console_error!(
            "{} {}: {}",
            req.method(),
            req.path(),
            reply.body.as_deref().unwrap_or("")
        );
    }
    respond(reply)
}

async fn decode(req: &mut Request, ctx: &RouteContext<Fills>) -> Result<Parts, ApiError> {
    let method = match req.method() {
        worker::Method::Get => Method::Get,
        worker::Method::Post => Method::Post,
        worker::Method::Put => Method::Put,
        worker::Method::Delete => Method::Delete,
        _ => Method::Other,
    };
    let table = path_param(ctx, "table")?.unwrap_or_default();
    let id = path_param(ctx, "id")?;
    // The query string of the raw URL, decoded by `form_urlencoded` alone: `Request::url`
    // would parse the whole URL, which links the `url` crate's host parser and its Unicode
    // (IDNA) tables, about 100 KB of wasm for a host this Worker never looks at.
    let raw_url = req.inner().url();
    let query = match raw_url.split_once('?') {
        Some((_, query)) => {
            let query = query.split_once('#').map_or(query, |(query, _)| query);
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect()
        }
        None => Vec::new(),
    };
    let body = if matches!(method, Method::Post | Method::Put) {
        req.bytes()
            .await
            .map_err(|e| ApiError::bad_request(format!("cannot read the body: {e}")))?
    } else {
        Vec::new()
    };
    Ok(Parts {
        method,
        table,
        id,
        query,
        body,
    })
}

/// A path segment, percent-decoded (`%2F` in an id is a `/` of the id, not a separator).
fn path_param(ctx: &RouteContext<Fills>, name: &str) -> Result<Option<String>, ApiError> {
    let Some(raw) = ctx.param(name) else {
        return Ok(None);
    };
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map(Cow::into_owned)
        .map(Some)
        .map_err(|_| ApiError::bad_request(format!("the {name} in the path is not UTF-8")))
}

fn respond(reply: Reply) -> worker::Result<Response> {
    let mut builder = Response::builder().with_status(reply.status);
    for (name, value) in &reply.headers {
        builder = builder.with_header(name, value)?;
    }
    Ok(match reply.body {
        Some(body) => builder
            .with_header("content-type", "application/json; charset=utf-8")?
            .fixed(body.into_bytes()),
        None => builder.empty(),
    })
}
