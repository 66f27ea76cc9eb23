//! What the router and the handlers share: a registered table seen through its record-erased
//! [`Route`], the set of them with the [`Limits`], and one parsed request ([`Call`]). Below
//! both, so that the handlers reach other tables (relations) without depending on the router.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sonic_db_core::{Db, TableDef};

use crate::context::Ctx;
use crate::error::ApiError;
use crate::reply::Reply;

/// A future that borrows the API for the length of a request.
pub(crate) type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// The caps that keep requests inside the platform's limits: each is a 4xx, never a 500.
///
/// ```
/// let limits = sonic_db_api::Limits { max_body_bytes: 64 * 1024, ..Default::default() };
/// assert_eq!(limits.max_bulk_records, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body, checked before it is parsed (413). Default 1 MiB.
    pub max_body_bytes: usize,
    /// The most records one `POST` may create (413). Default 100: each also costs a KV
    /// write within a Worker invocation's 1,000 KV operations.
    pub max_bulk_records: usize,
    /// The largest page when relations are loaded (400 above it). Default 25: a page's
    /// relations travel in one D1 result, which has a size limit.
    pub max_page_with_relations: u64,
    /// The longest `LIKE` pattern, in bytes (D1 refuses longer ones): of `$like`/`$nlike`,
    /// and of `$contains`/`$startsWith`/`$endsWith` once escaped, wildcards included. Default 50.
    pub max_like_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1024 * 1024,
            max_bulk_records: 100,
            max_page_with_relations: 25,
            max_like_bytes: sonic_db_core::Capabilities::D1.max_like_pattern_bytes,
        }
    }
}

/// A registered table, whatever its record type.
pub(crate) trait Route<P> {
    fn route(&self) -> &str;
    fn def(&self) -> &'static TableDef;
    fn serve<'a>(&'a self, call: Call<'a, P>) -> LocalFuture<'a, Result<Reply, ApiError>>;
    /// The fields hidden from this principal when the table is loaded as a relation, or
    /// `None` if it may not be loaded (its read rule is not an unfiltered yes).
    fn relation_view<'a>(&'a self, ctx: Ctx<P>) -> LocalFuture<'a, Option<Vec<&'static str>>>;
    /// Its part of `openapi.json` for the principal of `ctx`.
    fn openapi<'a>(
        &'a self,
        prefix: &'a str,
        ctx: Ctx<P>,
    ) -> LocalFuture<'a, crate::openapi::TableDoc>;
}

/// The registered tables and the caps they are served under.
pub(crate) struct Routes<P> {
    pub(crate) tables: Vec<Box<dyn Route<P>>>,
    pub(crate) limits: Limits,
}

impl<P> Routes<P> {
    /// The registered table whose SQL name is `name`.
    pub(crate) fn table_named(&self, name: &str) -> Option<&dyn Route<P>> {
        self.tables
            .iter()
            .find(|t| t.def().name == name)
            .map(|t| t.as_ref())
    }
}

/// The request methods the API tells apart; any other is a 405.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Other,
}

impl Verb {
    /// The verb of an `http` crate method.
    pub(crate) fn of(method: &http::Method) -> Verb {
        Verb::named(method.as_str())
    }

    /// The verb of a method name as sent. Case-sensitive, as methods are (RFC 9110) and as
    /// `http` compares them: a Worker's runtime already upper-cases the standard names but
    /// `PATCH`, so `patch` is another method here, on every adapter.
    pub(crate) fn named(method: &str) -> Verb {
        match method {
            "GET" => Verb::Get,
            "POST" => Verb::Post,
            "PUT" => Verb::Put,
            "PATCH" => Verb::Patch,
            "DELETE" => Verb::Delete,
            _ => Verb::Other,
        }
    }
}

/// What the API reads of a request, whichever adapter received it. Not an `http::Request`:
/// the `worker` adapter builds this straight from the Worker's request, so that a Worker's
/// wasm holds none of `http`'s URI, method and header-map code.
pub(crate) struct Incoming<'a> {
    pub(crate) verb: Verb,
    /// The path as sent (percent-encoded).
    pub(crate) path: &'a str,
    /// The query string as sent, without its `?`.
    pub(crate) query: Option<&'a str>,
    /// `Content-Type` (its first value).
    pub(crate) content_type: Option<&'a [u8]>,
    /// Every `If-Match` value.
    pub(crate) if_match: Vec<&'a [u8]>,
    /// `cf-ray`: a 500's request id when present (Cloudflare's).
    pub(crate) cf_ray: Option<&'a [u8]>,
    pub(crate) body: &'a [u8],
}

/// A header value as text when it is visible ASCII or tabs, as `http::HeaderValue::to_str`
/// has it.
pub(crate) fn header_text(value: &[u8]) -> Option<&str> {
    if value.iter().all(|&b| (32..127).contains(&b) || b == b'\t') {
        std::str::from_utf8(value).ok()
    } else {
        None
    }
}

/// One request, parsed as far as the router goes.
pub(crate) struct Call<'a, P> {
    pub(crate) routes: &'a Routes<P>,
    pub(crate) db: &'a Db,
    pub(crate) verb: Verb,
    pub(crate) id: Option<String>,
    /// The id segment as sent (percent-encoded): a composite key's parts are split on its
    /// `,` before each is decoded, so that a `,` inside a part (`%2C`) stays in it.
    pub(crate) raw_id: Option<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) content_type: Option<&'a [u8]>,
    pub(crate) if_match: &'a [&'a [u8]],
    pub(crate) body: &'a [u8],
    pub(crate) principal: Arc<P>,
}

impl<P> Call<'_, P> {
    pub(crate) fn ctx(&self, operation: crate::Operation, table: &'static str) -> Ctx<P> {
        Ctx::shared(
            Arc::clone(&self.principal),
            operation,
            table,
            self.id.clone(),
        )
    }
}

/// A path segment, percent-decoded.
pub(crate) fn decode_segment(segment: &str) -> Result<String, ApiError> {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ApiError::bad_request("the id in the path is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::Verb;

    #[test]
    fn verbs_are_read_by_their_exact_names() {
        for (name, verb) in [
            ("GET", Verb::Get),
            ("POST", Verb::Post),
            ("PUT", Verb::Put),
            ("PATCH", Verb::Patch),
            ("DELETE", Verb::Delete),
            ("HEAD", Verb::Other),
            ("OPTIONS", Verb::Other),
            ("PROPFIND", Verb::Other),
            ("patch", Verb::Other),
            ("", Verb::Other),
        ] {
            assert_eq!(Verb::named(name), verb, "{name}");
            if let Ok(method) = http::Method::from_bytes(name.as_bytes()) {
                assert_eq!(Verb::of(&method), verb, "http's {name}");
            }
        }
    }
}
