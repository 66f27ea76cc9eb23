//! Responses: a status, a JSON body, a few headers; errors as `{"error": ...}`.

use http::{header, HeaderValue, Response, StatusCode};
use serde_json::{json, Value as Json};

use crate::error::ApiError;

/// What a handler answers, before it becomes an `http::Response`.
/// Built at compile time: at run time `from_static` would parse the name.
const X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");

#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) body: Option<Json>,
    pub(crate) headers: Vec<(header::HeaderName, String)>,
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

    pub(crate) fn header(mut self, name: header::HeaderName, value: String) -> Reply {
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
    pub(crate) fn into_response(mut self, request_id: &str) -> Response<Vec<u8>> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let (true, Some(Json::Object(body))) = (self.status >= 400, self.body.as_mut()) {
            body.entry("request_id")
                .or_insert_with(|| Json::String(request_id.to_owned()));
        }
        let body = self
            .body
            .map(|b| crate::render::text(&b).into_bytes())
            .unwrap_or_default();
        let mut response = Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        if status != StatusCode::NO_CONTENT {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
        }
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert(X_REQUEST_ID, value);
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// `Allow` of a 405.
pub(crate) fn not_allowed(allow: &'static str) -> Reply {
    Reply::json(
        405,
        serde_json::json!({ "error": format!("method not allowed here (allowed: {allow})"), "status": 405 }),
    )
    .header(header::ALLOW, allow.to_string())
}
