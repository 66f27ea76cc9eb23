//! The adapter to the `worker` crate (feature `workers`): a `worker::Request` in, a
//! `worker::Response` out, through [`Api::handle`].
//!
//! Build the [`Api`] once per isolate (a `thread_local!` `Rc`; Workers run one thread), not
//! per request; the [`Db`] holds the request's bindings and is built per request:
//!
//! ```ignore
//! thread_local! {
//!     static API: std::rc::Rc<Api<Who>> = std::rc::Rc::new(my_api());
//! }
//!
//! #[event(fetch)]
//! async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
//!     let db = Db::new(D1Backend::from_env(&env, "DB")?);
//!     let who = who_is(&req, &env);
//!     sonic_db_api::worker::serve(&API.with(Rc::clone), &db, who, req).await
//! }
//! ```

use futures_core::Stream;
use sonic_db_core::Db;

use crate::api::{Api, READ_HEADERS};

/// Serves `request` with `api`. The body is read only up to one byte past
/// [`crate::Limits::max_body_bytes`] (from its `Content-Length` when declared, else chunk by
/// chunk), so an oversized body costs no memory before the core answers 413.
///
/// ```no_run
/// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
/// # struct Post { #[column(primary_key)] id: String }
/// use sonic_db_api::{Access, Api, TableApi};
///
/// async fn fetch(req: worker::Request, db: sonic_db_core::Db) -> worker::Result<worker::Response> {
///     let api = Api::new("/v1").table(TableApi::<Post, ()>::new("posts").read(Access::allow()));
///     sonic_db_api::worker::serve(&api, &db, (), req).await
/// }
/// ```
pub async fn serve<P: 'static>(
    api: &Api<P>,
    db: &Db,
    principal: P,
    mut request: worker::Request,
) -> worker::Result<worker::Response> {
    // The raw URL: `Request::url` would parse it with the `url` crate, whose host parser and
    // Unicode (IDNA) tables weigh about 100 KB of wasm for a host the API never looks at.
    let mut builder = http::Request::builder()
        .method(request.method().as_ref())
        .uri(request.inner().url());
    // Only the headers the API reads, by their constant names: copying every header would
    // parse each name at run time (see `READ_HEADERS`).
    let headers = request.headers();
    for name in READ_HEADERS {
        if let Ok(Some(value)) = headers.get(name.as_str()) {
            builder = builder.header(name, value);
        }
    }
    let body = read_capped(&mut request, api.routes.limits.max_body_bytes).await;
    let http_request = builder
        .body(body)
        .map_err(|e| worker::Error::RustError(format!("a request http cannot hold: {e}")))?;
    let response = api.handle(db, principal, http_request).await;
    let headers = worker::Headers::new();
    for (name, value) in response.headers() {
        if let Ok(value) = value.to_str() {
            headers.set(name.as_str(), value)?;
        }
    }
    let status = response.status().as_u16();
    let body = response.into_body();
    let out = if body.is_empty() {
        worker::Response::empty()?
    } else {
        worker::Response::from_bytes(body)?
    };
    Ok(out.with_status(status).with_headers(headers))
}

/// The body, or its first `max + 1` bytes when it is longer (the core then answers 413). A
/// body that cannot be read is empty (the core then answers 400 to a write).
async fn read_capped(request: &mut worker::Request, max: usize) -> Vec<u8> {
    let declared = request
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|n| n.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return vec![0; max.saturating_add(1)];
    }
    if request.inner().body().is_none() {
        return Vec::new();
    }
    let Ok(stream) = request.stream() else {
        return Vec::new();
    };
    let mut stream = std::pin::pin!(stream);
    let mut body = Vec::new();
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let Ok(chunk) = chunk else {
            return Vec::new();
        };
        body.extend_from_slice(&chunk);
        if body.len() > max {
            break;
        }
    }
    body
}
