//! Errors of the REST API: an HTTP status and a message, rendered as `{"error": "..."}`.
//!
//! The status tells the client whose mistake it was. Everything a client can get wrong (the
//! JSON, a field, a query parameter, a value that cannot be stored) is a 4xx and is detected
//! before anything is written; a 5xx means the server or the database failed.

use sonic_db_core::Error;

/// A failed request: the HTTP status and what to tell the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The message of the `{"error": ...}` body.
    pub message: String,
}

impl ApiError {
    /// `400 Bad Request`: the request is malformed or names something that does not exist.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            message: message.into(),
        }
    }

    /// `404 Not Found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError {
            status: 404,
            message: message.into(),
        }
    }

    /// `500 Internal Server Error`: not the client's fault.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            status: 500,
            message: message.into(),
        }
    }

    /// The same error with `context: ` before its message (e.g. which record of an array).
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

/// Sonic's errors, sorted by whose fault they are.
///
/// Sonic reports the client-caused ones as their own variants, so no message has to be parsed:
/// a name that is not a column ([`Error::UnknownColumn`]), a value that cannot be stored
/// ([`Error::Encode`], [`Error::Limit`] — e.g. an integer beyond 2^53, which D1 cannot bind),
/// a query that cannot be expressed ([`Error::InvalidQuery`]) are 400; a duplicate key or a
/// reference to a missing record are 409 (the request conflicts with what is stored, and may
/// succeed later). A row that does not decode, a database or KV failure are 500.
impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let status = match &error {
            Error::UnknownColumn { .. }
            | Error::Encode { .. }
            | Error::Limit(_)
            | Error::InvalidQuery(_)
            | Error::ConstraintViolation { .. } => 400,
            Error::UniqueViolation { .. } | Error::ForeignKeyViolation { .. } => 409,
            Error::NotFound { .. } => 404,
            _ => 500,
        };
        ApiError {
            status,
            message: error.to_string(),
        }
    }
}
