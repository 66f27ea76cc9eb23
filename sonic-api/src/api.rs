//! The API: registered tables under one path prefix, and the dispatch of a request to one of
//! them. Built once (per Worker isolate), then [`Api::handle`] serves each request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use http::{header, HeaderName, Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sonic_db_core::{Db, Table, TableDef};

use crate::context::Ctx;
use crate::error::ApiError;
use crate::handlers;
use crate::reply::Reply;
pub use crate::route::Limits;
use crate::route::{decode_segment, header_text, Call, Incoming, LocalFuture, Route, Routes, Verb};
use crate::table::TableApi;

impl<T, P> Route<P> for TableApi<T, P>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    fn route(&self) -> &str {
        &self.route
    }

    fn def(&self) -> &'static TableDef {
        T::DEF
    }

    fn serve<'a>(&'a self, call: Call<'a, P>) -> LocalFuture<'a, Result<Reply, ApiError>> {
        Box::pin(handlers::serve(self as &dyn crate::typed::Records<P>, call))
    }

    fn openapi<'a>(
        &'a self,
        prefix: &'a str,
        ctx: Ctx<P>,
    ) -> LocalFuture<'a, crate::openapi::TableDoc> {
        Box::pin(crate::openapi::table_doc(self, prefix, ctx))
    }

    fn relation_view<'a>(&'a self, ctx: Ctx<P>) -> LocalFuture<'a, Option<Vec<&'static str>>> {
        Box::pin(async move {
            let readable = match self.rule(crate::Operation::Read) {
                Some(rule) => rule.allows_unfiltered(&ctx).await,
                None => false,
            };
            if readable && self.item_rule(crate::Operation::Read).is_none() {
                Some(self.hidden_fields(&ctx).await)
            } else {
                None
            }
        })
    }
}

/// The header whose value is a 500's request id when present (Cloudflare's).
const CF_RAY: HeaderName = HeaderName::from_static("cf-ray");

/// SonicJs's table API over registered tables, for principals of type `P` (what the
/// application makes of a request's credentials: `()` for a public API, a user, an enum of
/// roles).
///
/// | request | response |
/// |---|---|
/// | `GET /{prefix}/{route}?filters[f][$op]=&sort=&limit=&offset=&with=` | `200 {"data": [...], "total": N, "source": "d1"}` |
/// | `GET /{prefix}/{route}/{id}?with=` | `200 {"data": {...}, "source": "kv" \| "d1"}` + `ETag` |
/// | `POST /{prefix}/{route}` (object, or array) | `201 {"data": ... as stored}` |
/// | `PUT`/`PATCH /{prefix}/{route}/{id}` (the fields to change; `If-Match`) | `200 {"data": ...}` + `ETag` |
/// | `DELETE /{prefix}/{route}/{id}` (`If-Match`) | `204` |
///
/// A table with a composite primary key (`#[table(primary_key(post_id, tag_id))]`) addresses
/// a record by its key parts in key order, each percent-encoded, joined by `,`:
/// `/{prefix}/post-tags/p1,rust` (a `,` inside a part is `%2C`); a create gives every part
/// (they are the record's own data, not generated), an update cannot change them, and lists
/// break ties on every part.
///
/// Errors are `{"error", "status", "request_id"}` JSON, unknown paths and methods too.
/// `GET /{prefix}/openapi.json` describes what the caller may do (OpenAPI 3.1).
///
/// ```
/// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, title: String }
/// use sonic_db_api::{Access, Api, TableApi};
/// use sonic_db_core::{sqlite::SqliteBackend, Db, Schema};
///
/// # pollster::block_on(async {
/// let db = Db::new(SqliteBackend::memory()?);
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// let api = Api::new("/v1").table(TableApi::<Post, ()>::new("posts").read(Access::allow()));
/// let request = http::Request::get("/v1/posts?limit=5").body(Vec::new()).unwrap();
/// let response = api.handle(&db, (), request).await;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.body(), br#"{"data":[],"source":"d1","total":0}"#);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
pub struct Api<P> {
    prefix: String,
    pub(crate) routes: Routes<P>,
    requests: AtomicU64,
}

impl<P: 'static> Api<P> {
    /// An API under `prefix` (`/v1`, `/api`), with no table yet.
    ///
    /// ```
    /// let api = sonic_db_api::Api::<()>::new("/api");
    /// # let _ = api;
    /// ```
    pub fn new(prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        Api {
            prefix: prefix.trim_end_matches('/').to_string(),
            routes: Routes {
                tables: Vec::new(),
                limits: Limits::default(),
            },
            requests: AtomicU64::new(0),
        }
    }

    /// Serves a table (a later table with the same route replaces it).
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Tag { #[column(primary_key)] id: String }
    /// let api = sonic_db_api::Api::<()>::new("/v1").table(sonic_db_api::TableApi::<Tag, ()>::new("tags"));
    /// # let _ = api;
    /// ```
    pub fn table<T>(mut self, table: TableApi<T, P>) -> Self
    where
        T: Table + Clone + Serialize + DeserializeOwned,
    {
        self.routes.tables.retain(|t| t.route() != table.route);
        self.routes.tables.push(Box::new(table));
        self
    }

    /// Replaces the [`Limits`].
    ///
    /// ```
    /// use sonic_db_api::{Api, Limits};
    /// let api = Api::<()>::new("/v1").limits(Limits { max_bulk_records: 10, ..Limits::default() });
    /// # let _ = api;
    /// ```
    pub fn limits(mut self, limits: Limits) -> Self {
        self.routes.limits = limits;
        self
    }

    /// Serves one request for `principal`. Never panics; every failure is a JSON error.
    ///
    /// The request id of a 500 is the `cf-ray` header when there is one.
    pub async fn handle<B: AsRef<[u8]>>(
        &self,
        db: &Db,
        principal: P,
        request: Request<B>,
    ) -> Response<Vec<u8>> {
        let headers = request.headers();
        let incoming = Incoming {
            verb: Verb::of(request.method()),
            path: request.uri().path(),
            query: request.uri().query(),
            content_type: headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
            if_match: headers
                .get_all(header::IF_MATCH)
                .iter()
                .map(|v| v.as_bytes())
                .collect(),
            cf_ray: headers.get(&CF_RAY).map(|v| v.as_bytes()),
            body: request.body().as_ref(),
        };
        self.respond(db, principal, &incoming).await.into_http()
    }

    /// [`Api::handle`] on what an adapter read of the request, for the adapter to send.
    pub(crate) async fn respond(
        &self,
        db: &Db,
        principal: P,
        request: &Incoming<'_>,
    ) -> crate::reply::Outgoing {
        let request_id = self.request_id(request.cf_ray, db);
        let reply = match self.dispatch(db, principal, request).await {
            Ok(reply) => reply,
            Err(error) => Reply::error(&error, &request_id),
        };
        reply.into_outgoing(&request_id)
    }

    fn request_id(&self, cf_ray: Option<&[u8]>, db: &Db) -> String {
        if let Some(ray) = cf_ray.and_then(header_text) {
            return ray.to_string();
        }
        let n = self.requests.fetch_add(1, Ordering::Relaxed);
        format!("{:x}-{n}", db.now_ms())
    }

    async fn dispatch(
        &self,
        db: &Db,
        principal: P,
        request: &Incoming<'_>,
    ) -> Result<Reply, ApiError> {
        let path = request.path;
        let rest = path
            .strip_prefix(self.prefix.as_str())
            .filter(|rest| rest.starts_with('/'))
            .ok_or_else(|| ApiError::not_found(format!("no route `{path}`")))?;
        let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
        let (route, id, raw_id) = match segments.as_slice() {
            [route] => (*route, None, None),
            [route, id] => (*route, Some(decode_segment(id)?), Some(id.to_string())),
            _ => return Err(ApiError::not_found(format!("no route `{path}`"))),
        };
        if route == "openapi.json" && id.is_none() {
            if request.verb != Verb::Get {
                return Ok(crate::reply::not_allowed("GET"));
            }
            let principal = Arc::new(principal);
            let mut docs = Vec::with_capacity(self.routes.tables.len());
            for table in &self.routes.tables {
                let ctx = Ctx::shared(
                    Arc::clone(&principal),
                    crate::Operation::Read,
                    table.def().name,
                    None,
                );
                docs.push(table.openapi(&self.prefix, ctx).await);
            }
            return Ok(Reply::json(
                200,
                crate::openapi::document(&self.prefix, docs),
            ));
        }
        let table = self
            .routes
            .tables
            .iter()
            .find(|t| t.route() == route)
            .ok_or_else(|| {
                let routes: Vec<&str> = self.routes.tables.iter().map(|t| t.route()).collect();
                ApiError::not_found(format!(
                    "no table `{route}` (tables: {})",
                    routes.join(", ")
                ))
            })?;
        let body = request.body;
        if body.len() > self.routes.limits.max_body_bytes {
            return Err(ApiError::new(
                413,
                format!(
                    "the body is {} bytes; at most {}",
                    body.len(),
                    self.routes.limits.max_body_bytes
                ),
            ));
        }
        let query = request
            .query
            .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        let call = Call {
            routes: &self.routes,
            db,
            verb: request.verb,
            id,
            raw_id,
            query,
            content_type: request.content_type,
            if_match: &request.if_match,
            body,
            principal: Arc::new(principal),
        };
        table.serve(call).await
    }
}
