//! The adapter to the `worker` crate (feature `workers`): a Worker's request in, a
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
//! async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> worker::Result<Response> {
//!     let db = Db::new(D1Backend::from_env(&env, "DB")?);
//!     let who = who_is(&req, &env);
//!     sonic_db_api::worker::serve(&API.with(Rc::clone), &db, who, req).await
//! }
//! ```

use futures_core::Stream;
use sonic_db_core::Db;
use worker::web_sys;

use crate::api::Api;
use crate::route::{header_text, Incoming, Verb};

/// A request [`serve`] reads: the runtime's own [`web_sys::Request`], or the `worker`
/// crate's [`worker::Request`] around it.
///
/// Prefer the first in the Worker's entry (`#[event(fetch)] async fn fetch(req:
/// web_sys::Request, …)`): building a `worker::Request` reads `request.cf`, an object the
/// runtime makes anew for each request (4–9 µs of the isolate's CPU per request on local
/// workerd, 5–10 % of a read served from KV), which the API never looks at.
///
/// ```
/// fn takes<R: sonic_db_api::worker::WorkerRequest>() {}
/// takes::<worker::web_sys::Request>();
/// takes::<worker::Request>();
/// ```
pub trait WorkerRequest: sealed::Sealed {
    /// The runtime's request.
    fn into_web_sys(self) -> web_sys::Request;
}

impl WorkerRequest for web_sys::Request {
    fn into_web_sys(self) -> web_sys::Request {
        self
    }
}

impl WorkerRequest for worker::Request {
    fn into_web_sys(self) -> web_sys::Request {
        // The same JavaScript object (`web_sys::Request::clone` would be `Request.clone()`,
        // a copy with its body teed).
        Clone::clone(self.inner())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for worker::web_sys::Request {}
    impl Sealed for worker::Request {}
}

/// Serves `request` with `api`. The body is read only up to one byte past
/// [`crate::Limits::max_body_bytes`] (from its `Content-Length` when declared, else chunk by
/// chunk), so an oversized body costs no memory before the core answers 413.
///
/// The API reads the few parts it needs straight from the runtime's request, without
/// `http`'s URI, method and header parsers and header map (which [`Api::handle`] uses), about
/// 20 KB of a Worker's wasm.
///
/// ```no_run
/// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
/// # struct Post { #[column(primary_key)] id: String }
/// use sonic_db_api::{Access, Api, TableApi};
///
/// async fn fetch(
///     req: worker::web_sys::Request,
///     db: sonic_db_core::Db,
/// ) -> worker::Result<worker::Response> {
///     let api = Api::new("/v1").table(TableApi::<Post, ()>::new("posts").read(Access::allow()));
///     sonic_db_api::worker::serve(&api, &db, (), req).await
/// }
/// ```
pub async fn serve<P: 'static>(
    api: &Api<P>,
    db: &Db,
    principal: P,
    request: impl WorkerRequest,
) -> worker::Result<worker::Response> {
    let request = request.into_web_sys();
    let verb = Verb::named(&request.method());
    // The raw URL: `worker::Request::url` would parse it with the `url` crate, whose host
    // parser and Unicode (IDNA) tables weigh about 100 KB of wasm for a host the API never
    // looks at.
    let url = request.url();
    let (path, query) = path_and_query(&url);
    let headers = request.headers();
    let header = |name: &str| headers.get(name).ok().flatten();
    let content_type = header("content-type");
    let if_match = header("if-match");
    let cf_ray = header("cf-ray");
    let declared = header("content-length").and_then(|n| n.parse::<usize>().ok());
    let body = read_capped(&request, declared, api.routes.limits.max_body_bytes).await;
    let incoming = Incoming {
        verb,
        path,
        query,
        content_type: content_type.as_deref().map(str::as_bytes),
        if_match: if_match.as_deref().map(str::as_bytes).into_iter().collect(),
        cf_ray: cf_ray.as_deref().map(str::as_bytes),
        body: &body,
    };
    let response = api.respond(db, principal, &incoming).await;
    let headers = worker::Headers::new();
    for (name, value) in &response.headers {
        if header_text(value.as_bytes()).is_some() {
            headers.set(name.as_str(), value)?;
        }
    }
    let out = if response.body.is_empty() {
        worker::Response::empty()?
    } else {
        worker::Response::from_bytes(response.body)?
    };
    Ok(out.with_status(response.status).with_headers(headers))
}

/// The path and the query string (without its `?`) of an absolute URL, as sent: what
/// [`serve`] routes by, for a Worker's own routes beside the API without the `url` crate.
/// Workers' URLs are serialised by the WHATWG URL parser; a fragment is not part of either
/// (`http`'s URI parser drops it too).
///
/// ```
/// use sonic_db_api::worker::path_and_query;
/// assert_eq!(path_and_query("https://example.com/health?x=1"), ("/health", Some("x=1")));
/// assert_eq!(path_and_query("https://example.com"), ("/", None));
/// ```
pub fn path_and_query(url: &str) -> (&str, Option<&str>) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split_once('#').map_or(rest, |(rest, _)| rest);
    let rest = rest
        .find(['/', '?'])
        .and_then(|start| rest.get(start..))
        .unwrap_or("");
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (rest, None),
    };
    (if path.is_empty() { "/" } else { path }, query)
}

/// The body, or its first `max + 1` bytes when it is longer (the core then answers 413). A
/// body that cannot be read (already read, a broken stream) is empty (the core then answers
/// 400 to a write).
async fn read_capped(request: &web_sys::Request, declared: Option<usize>, max: usize) -> Vec<u8> {
    if declared.is_some_and(|n| n > max) {
        return vec![0; max.saturating_add(1)];
    }
    let Some(stream) = request.body() else {
        return Vec::new();
    };
    // A read or locked stream is not read again (`ByteStream::from` would panic on a lock).
    if request.body_used() || stream.locked() {
        return Vec::new();
    }
    let mut stream = std::pin::pin!(worker::ByteStream::from(stream));
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

#[cfg(test)]
mod tests {
    use super::path_and_query;

    #[test]
    fn path_and_query_split_a_workers_url_as_http_does() {
        for (url, path, query) in [
            ("https://example.com/v1/posts", "/v1/posts", None),
            (
                "https://example.com/v1/posts?limit=5&sort=-id",
                "/v1/posts",
                Some("limit=5&sort=-id"),
            ),
            (
                "http://127.0.0.1:8787/v1/posts/a%2Cb?",
                "/v1/posts/a%2Cb",
                Some(""),
            ),
            (
                "https://example.com/v1/posts?with=author#top",
                "/v1/posts",
                Some("with=author"),
            ),
            ("https://example.com", "/", None),
            ("https://example.com?x=1", "/", Some("x=1")),
        ] {
            assert_eq!(path_and_query(url), (path, query), "{url}");
            let uri: http::Uri = url.parse().unwrap();
            assert_eq!((uri.path(), uri.query()), (path, query), "http on {url}");
        }
    }
}
