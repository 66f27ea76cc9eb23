//! Responses: a status, a JSON body, a few headers; errors as `{"error": ...}`.

use http::{header, HeaderName, HeaderValue, Response, StatusCode};
use serde_json::{json, Value as Json};

use crate::error::ApiError;

/// The response headers the API writes. Named, not `http::HeaderName`s: the `worker` adapter
/// sets them by their text, without `http`'s header map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Named {
    ContentType,
    RequestId,
    ETag,
    Allow,
}

impl Named {
    /// The header's name, lowercase (for the `worker` adapter).
    #[cfg(feature = "workers")]
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Named::ContentType => "content-type",
            Named::RequestId => "x-request-id",
            Named::ETag => "etag",
            Named::Allow => "allow",
        }
    }

    /// The `http` crate's name (constants: nothing parsed at run time).
    fn http(self) -> HeaderName {
        const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
        match self {
            Named::ContentType => header::CONTENT_TYPE,
            Named::RequestId => X_REQUEST_ID,
            Named::ETag => header::ETAG,
            Named::Allow => header::ALLOW,
        }
    }
}

/// What a handler answers, before it becomes a response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Option<Json>,
    pub(crate) headers: Vec<(Named, String)>,
}

/// A response as the adapters send it: a valid status, the headers whose values a header may
/// hold, the body's bytes.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(Named, String)>,
    pub(crate) body: Vec<u8>,
}

impl Outgoing {
    /// As an `http::Response`.
    pub(crate) fn into_http(self) -> Response<Vec<u8>> {
        let mut response = Response::new(self.body);
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name.http(), value);
            }
        }
        response
    }
}

/// Whether `value` may be a header value, as `http::HeaderValue::from_str` has it (no control
/// character but tabs).
fn valid_value(value: &str) -> bool {
    value.bytes().all(|b| (b >= 32 && b != 127) || b == b'\t')
}

impl Reply {
    pub(crate) fn json(status: u16, body: Json) -> Reply {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
        }
    }

    pub(crate) fn no_content() -> Reply {
        Reply {
            status: 204,
            body: None,
            headers: Vec::new(),
        }
    }

    pub(crate) fn header(mut self, name: Named, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    /// The error as the client sees it: a 5xx says only that it failed, with the request id
    /// to find the detail, which goes to the log.
    pub(crate) fn error(error: &ApiError, request_id: &str) -> Reply {
        let message = if error.status >= 500 {
            tracing::error!(request_id, status = error.status, detail = %error.message, "sonic-api: request failed");
            format!("internal error; request id {request_id}")
        } else {
            error.message.clone()
        };
        Reply::json(
            error.status,
            json!({ "error": message, "status": error.status, "request_id": request_id }),
        )
    }

    /// The response; every error body carries the request id, whichever path built it.
    pub(crate) fn into_outgoing(mut self, request_id: &str) -> Outgoing {
        // `StatusCode::from_u16`'s range: anything else is a 500.
        let status = if (100..1000).contains(&self.status) {
            self.status
        } else {
            500
        };
        if let (true, Some(Json::Object(body))) = (self.status >= 400, self.body.as_mut()) {
            body.entry("request_id")
                .or_insert_with(|| Json::String(request_id.to_owned()));
        }
        let body = self
            .body
            .map(|b| crate::render::text(&b).into_bytes())
            .unwrap_or_default();
        let mut headers = Vec::with_capacity(self.headers.len().saturating_add(2));
        if status != 204 {
            headers.push((
                Named::ContentType,
                "application/json; charset=utf-8".to_string(),
            ));
        }
        if valid_value(request_id) {
            headers.push((Named::RequestId, request_id.to_string()));
        }
        for (name, value) in self.headers {
            if valid_value(&value) {
                headers.retain(|(n, _)| *n != name);
                headers.push((name, value));
            }
        }
        Outgoing {
            status,
            headers,
            body,
        }
    }
}

/// `Allow` of a 405.
pub(crate) fn not_allowed(allow: &'static str) -> Reply {
    Reply::json(
        405,
        serde_json::json!({ "error": format!("method not allowed here (allowed: {allow})"), "status": 405 }),
    )
    .header(Named::Allow, allow.to_string())
}
