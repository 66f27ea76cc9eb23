//! The SonicJs REST API on the seed's tables (`users`, `posts`, `comments`), over one Sonic
//! [`Db`]: D1 is the source of truth, Workers KV caches single records.
//!
//! | request | response |
//! |---|---|
//! | `GET /v1/{table}?limit&offset&sort&filters&with` | `200 {"data": [...], "source": "d1", "total": N}` |
//! | `GET /v1/{table}/{id}` | `200 {"data": {...}, "source": "kv" \| "d1"}` |
//! | `POST /v1/{table}` (object, or array of up to 1,000) | `201 {"data": ... as stored}` |
//! | `PUT /v1/{table}/{id}` (some fields) | `200 {"data": ... as stored}` |
//! | `DELETE /v1/{table}/{id}` | `204` |
//!
//! List parameters ([`params`]): `limit` (default 100, at most 1,000), `offset`,
//! `sort=field[:asc|:desc]` (several, comma-separated or repeated; the primary key breaks
//! ties), `filters[field][$op]=value` (`$eq $ne $lt $lte $gt $gte $like $nlike $in $nin $null
//! $notnull $between`; the same field and operator repeated = OR, anything else = AND),
//! `with=relation` (see [`resource`]: `users?with=posts`, `posts?with=author`, …).
//!
//! Errors are `{"error": "..."}`: `400` for anything malformed or unknown (JSON, field, type,
//! column, operator, parameter, relation) — checked before anything is written —, `404` for a
//! missing record or table, `405` for a method a path does not take, `409` for a duplicate key
//! or a reference to a missing record, `500` only for failures of the platform.
//!
//! Why it is built this way:
//! - **One generic set of handlers** ([`handlers`]) over any [`Resource`] (a
//!   `#[derive(Table)]` struct that serde reads and writes), so a table is served by adding
//!   one line to [`handle`] and a short `impl Resource`. The table's [`sonic_db_core::TableDef`]
//!   is the single description of what a request may name.
//! - **Independent of the `worker` crate**: [`handle`] takes an [`ApiRequest`] and returns a
//!   [`Reply`], so the whole API is unit-tested natively on SQLite + in-memory KV
//!   (`tests/rest.rs`); `crate::http` is the thin adapter to `worker::Request` /
//!   `worker::Response`.
//! - **Sonic routes the reads**: a record by id goes through `Db::find_with_source` (KV, else
//!   D1 then KV), everything else reads D1; every write goes to D1 first, then writes the
//!   stored row through to KV (see `sonic_db_core::cache` for the guarantee).

pub mod body;
pub mod error;
pub mod handlers;
pub mod ids;
pub mod params;
pub mod resource;

use serde::Serialize;
use sonic_db_core::Db;
use sonic_example_blog::schema::{Comment, Post, User};

pub use error::ApiError;
pub use resource::Resource;

/// The tables served, for messages.
pub const TABLES: &str = "users, posts, comments";

/// The HTTP methods the API knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
    /// Any other.
    Other,
}

/// A request to `/v1/{table}` or `/v1/{table}/{id}`, decoded.
#[derive(Debug, Clone, Copy)]
pub struct ApiRequest<'a> {
    /// The method.
    pub method: Method,
    /// `{table}`, percent-decoded.
    pub table: &'a str,
    /// `{id}`, percent-decoded, if the path has one.
    pub id: Option<&'a str>,
    /// The query string's pairs, decoded, in order.
    pub query: &'a [(String, String)],
    /// The body (empty for `GET` / `DELETE`).
    pub body: &'a [u8],
}

/// A response: status, JSON body (none for `204`), extra headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The JSON text of the body.
    pub body: Option<String>,
    /// Extra headers (`Allow` of a `405`).
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// `status` with `body` serialised as JSON.
    pub fn json(status: u16, body: &impl Serialize) -> Result<Reply, ApiError> {
        let text = serde_json::to_string(body)
            .map_err(|e| ApiError::internal(format!("cannot serialise the response: {e}")))?;
        Ok(Reply {
            status,
            body: Some(text),
            headers: Vec::new(),
        })
    }

    /// `204 No Content`.
    pub fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
            headers: Vec::new(),
        }
    }

    /// `{"error": message}` with the error's status.
    pub fn error(error: ApiError) -> Reply {
        Reply {
            status: error.status,
            body: Some(serde_json::json!({ "error": error.message }).to_string()),
            headers: Vec::new(),
        }
    }
}

/// Serves one request. Never panics; every failure is a [`Reply`] with an error status.
pub async fn handle(db: &Db, request: &ApiRequest<'_>) -> Reply {
    let result = match request.table {
        "users" => serve::<User>(db, request).await,
        "posts" => serve::<Post>(db, request).await,
        "comments" => serve::<Comment>(db, request).await,
        other => Err(ApiError::not_found(format!(
            "no table `{other}` (tables: {TABLES})"
        ))),
    };
    result.unwrap_or_else(Reply::error)
}

/// Dispatches by method and the presence of an id.
async fn serve<T: Resource>(db: &Db, request: &ApiRequest<'_>) -> Result<Reply, ApiError> {
    let ApiRequest {
        method,
        id,
        query,
        body,
        ..
    } = *request;
    match (method, id) {
        (Method::Get, None) => handlers::list::<T>(db, query).await,
        (Method::Post, None) => handlers::create::<T>(db, query, body).await,
        (Method::Get, Some(id)) => handlers::get::<T>(db, id, query).await,
        (Method::Put, Some(id)) => handlers::update::<T>(db, id, query, body).await,
        (Method::Delete, Some(id)) => handlers::delete::<T>(db, id, query).await,
        (_, None) => Ok(not_allowed("GET, POST")),
        (_, Some(_)) => Ok(not_allowed("GET, PUT, DELETE")),
    }
}

fn not_allowed(allow: &'static str) -> Reply {
    let mut reply = Reply::error(ApiError {
        status: 405,
        message: format!("method not allowed here (allowed: {allow})"),
    });
    reply.headers.push(("allow", allow.to_string()));
    reply
}
