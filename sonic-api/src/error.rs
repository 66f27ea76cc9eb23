//! Errors of the API: an HTTP status and a message, sent as `{"error": "..."}`.
//!
//! The status says whose mistake it was: every 4xx is detected before anything is written;
//! a 500 means the server or the database failed, and its detail stays in the log.

use sonic_db_core::Error;

/// A failed request: the status and what the client is told.
///
/// ```
/// use sonic_db_api::ApiError;
/// let denied = ApiError::forbidden("only admins may do that");
/// assert_eq!((denied.status, denied.message.as_str()), (403, "only admins may do that"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The message of the `{"error": ...}` body.
    pub message: String,
}

impl ApiError {
    /// An error with any status (a hook's own 4xx, e.g. `422`).
    ///
    /// ```
    /// use sonic_db_api::ApiError;
    /// assert_eq!(ApiError::new(422, "title is empty").status, 422);
    /// ```
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// `400 Bad Request`: malformed, or names something that does not exist.
    ///
    /// ```
    /// assert_eq!(sonic_db_api::ApiError::bad_request("no").status, 400);
    /// ```
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// `403 Forbidden`: an access rule or a hook refused.
    ///
    /// ```
    /// assert_eq!(sonic_db_api::ApiError::forbidden("no").status, 403);
    /// ```
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, message)
    }

    /// `404 Not Found`.
    ///
    /// ```
    /// assert_eq!(sonic_db_api::ApiError::not_found("no").status, 404);
    /// ```
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, message)
    }

    /// `500`: the message goes to the log only; the client gets a generic one.
    ///
    /// ```
    /// assert_eq!(sonic_db_api::ApiError::internal("disk on fire").status, 500);
    /// ```
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, message)
    }

    /// The same error with `context: ` before its message (which record of an array).
    ///
    /// ```
    /// let e = sonic_db_api::ApiError::bad_request("bad id").context("record 3");
    /// assert_eq!(e.message, "record 3: bad id");
    /// ```
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

impl std::error::Error for ApiError {}

/// What the client is told when the database refused a statement or a result for its size
/// (the database's own text goes to the log).
const TOO_LARGE: &str = "the request needs a statement or a result larger than the database allows: ask for fewer records, relations or columns";

/// The marks of a size limit in a database error: SQLite's `SQLITE_TOOBIG` ("string or blob too
/// big", "statement too long"), its parameter limit, and D1's limits on rows, statements and
/// responses ("too large").
const SIZE_ERRORS: [&str; 5] = [
    "too big",
    "toobig",
    "too many sql variables",
    "statement too long",
    "too large",
];

/// Whether a database error is a size limit: the request asked for too much, a 413, not a
/// failure of the server.
fn is_size_limit(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    SIZE_ERRORS.iter().any(|mark| message.contains(mark))
}

/// Sonic's errors by whose fault they are: what the client sent (a value that cannot be
/// stored, an integer beyond 2^53, a query that cannot be expressed) is 400, a duplicate key or
/// a missing referenced record 409, a statement or result beyond the database's size limits
/// 413; a row that does not decode, the database or KV failing 500.
///
/// ```
/// use sonic_db_api::ApiError;
/// let d1 = sonic_db_core::Error::Database { message: "D1_ERROR: string or blob too big: SQLITE_TOOBIG".into() };
/// let error = ApiError::from(d1);
/// assert_eq!(error.status, 413);
/// assert!(!error.message.contains("SQLITE")); // the database's text stays in the log
/// ```
impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        if let Error::Database { message } = &error {
            if is_size_limit(message) {
                tracing::warn!(detail = %message, "sonic-api: a database size limit refused the request");
                return ApiError::new(413, TOO_LARGE);
            }
        }
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
        ApiError::new(status, error.to_string())
    }
}
