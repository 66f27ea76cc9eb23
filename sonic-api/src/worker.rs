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

use sonic_db_core::Db;

use crate::api::Api;

/// Serves `request` with `api`. The body is refused (413) from its `Content-Length` before it
/// is read when that is over [`crate::Limits::max_body_bytes`]; the core checks the read length
/// again.
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
    let mut builder = http::Request::builder()
        .method(request.method().as_ref())
        .uri(request.url()?.as_str());
    for (name, value) in request.headers().entries() {
        builder = builder.header(name, value);
    }
    let declared = request
        .headers()
        .get("content-length")?
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    let body = if declared > api.limits.max_body_bytes {
        // Not read: the core answers 413 for any body this long.
        vec![0; api.limits.max_body_bytes.saturating_add(1)]
    } else {
        request.bytes().await.unwrap_or_default()
    };
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
