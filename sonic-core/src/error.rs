//! The one error type of Sonic.

use crate::value::ConvertError;

/// Everything that can go wrong in Sonic.
///
/// Database errors keep the database's own message; constraint violations are their own
/// variants so callers can tell a duplicate email from a broken connection.
///
/// ```
/// # #[cfg(feature = "rusqlite")] {
/// # pollster::block_on(async {
/// use sonic_db_core::{sqlite::SqliteBackend, Db, Error};
///
/// let db = Db::new(SqliteBackend::memory()?);
/// db.sql("CREATE TABLE users (email TEXT UNIQUE)").run().await?;
/// let sign_up = || db.sql("INSERT INTO users VALUES (?)").bind("ada@example.com").run();
/// sign_up().await?;
/// let status = match sign_up().await {
///     Ok(_) => 201,
///     Err(Error::UniqueViolation { .. }) => 409, // the email is taken
///     Err(_) => 500,
/// };
/// assert_eq!(status, 409);
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A stored value does not convert into the field's type.
    #[error("cannot decode column `{table}`.`{column}`{}: {source}", of_row(.key.as_deref()))]
    Decode {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// The row's primary key ([`Value::describe`](crate::Value::describe)), when it is
        /// known and is not the value that failed.
        key: Option<String>,
        /// What was expected and what was found.
        source: ConvertError,
    },
    /// A field's value cannot be stored (e.g. a `u64` beyond `i64::MAX`, a NaN).
    #[error("cannot encode column `{table}`.`{column}`: {source}")]
    Encode {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
        /// What was expected and what was found.
        source: ConvertError,
    },
    /// A column name that the table does not have (raw input such as a REST sort parameter).
    #[error("table `{table}` has no column `{column}`")]
    UnknownColumn {
        /// Table name.
        table: String,
        /// The unknown name.
        column: String,
    },
    /// A `UNIQUE` or `PRIMARY KEY` constraint failed.
    #[error("unique constraint violated: {message}")]
    UniqueViolation {
        /// The database's message.
        message: String,
    },
    /// A `FOREIGN KEY` constraint failed.
    #[error("foreign key constraint violated{}: {message}", writing(.table.as_deref()))]
    ForeignKeyViolation {
        /// The database's message (SQLite's names no table).
        message: String,
        /// The table the failing write was to, when Sonic sent it.
        table: Option<String>,
    },
    /// A `NOT NULL` or `CHECK` constraint failed.
    #[error("constraint violated: {message}")]
    ConstraintViolation {
        /// The database's message.
        message: String,
    },
    /// Any other error reported by the SQL database.
    #[error("database error: {message}")]
    Database {
        /// The database's message.
        message: String,
    },
    /// A platform limit would be exceeded and Sonic cannot split the work without changing
    /// its meaning; nothing was sent to the database.
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// A query that cannot be expressed (e.g. an update with no columns to set).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// A record that was required was not found.
    #[error("no `{table}` record matches")]
    NotFound {
        /// Table name.
        table: String,
    },
    /// The backend cannot do what was asked (e.g. an interactive transaction on D1); nothing
    /// was sent.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The key-value store failed.
    #[error("KV error: {0}")]
    Kv(String),
    /// JSON (de)serialisation failed outside of a column conversion.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Wraps a conversion error of a column being read.
    ///
    /// For tables implemented by hand ([`Table::decode`](crate::Table::decode)).
    ///
    /// ```
    /// use sonic_db_core::{ConvertError, Error};
    /// let e = Error::decode("users", "age", ConvertError::new("INTEGER", "TEXT \"x\""));
    /// let message = "cannot decode column `users`.`age`: expected INTEGER, found TEXT \"x\"";
    /// assert_eq!(e.to_string(), message);
    /// ```
    pub fn decode(table: &str, column: &str, source: ConvertError) -> Self {
        Error::decode_row(table, column, None, source)
    }

    /// Wraps a conversion error of a column being read from the row whose primary key is
    /// `key` (`None`, or a `NULL`, when it is not known).
    ///
    /// ```
    /// use sonic_db_core::{ConvertError, Error, Value};
    /// let key = Value::Text("u1".into());
    /// let e = Error::decode_row("users", "age", Some(&key), ConvertError::new("INTEGER", "TEXT \"x\""));
    /// assert_eq!(
    ///     e.to_string(),
    ///     "cannot decode column `users`.`age` of the row with key TEXT \"u1\": expected INTEGER, found TEXT \"x\""
    /// );
    /// ```
    pub fn decode_row(
        table: &str,
        column: &str,
        key: Option<&crate::value::Value>,
        source: ConvertError,
    ) -> Self {
        Error::Decode {
            table: table.to_string(),
            column: column.to_string(),
            key: key
                .filter(|key| !key.is_null())
                .map(crate::value::Value::describe),
            source,
        }
    }

    /// Names `table` in a foreign-key violation of a write to it (SQLite's message names no
    /// table); any other error is returned as it is.
    ///
    /// ```
    /// use sonic_db_core::Error;
    /// let e = Error::from_sqlite_message("FOREIGN KEY constraint failed").in_table("posts");
    /// assert_eq!(e.to_string(), "foreign key constraint violated (writing `posts`): FOREIGN KEY constraint failed");
    /// ```
    pub fn in_table(self, table: &str) -> Self {
        match self {
            Error::ForeignKeyViolation {
                message,
                table: None,
            } => Error::ForeignKeyViolation {
                message,
                table: Some(table.to_string()),
            },
            other => other,
        }
    }

    /// Wraps a conversion error of a column being written.
    ///
    /// For tables implemented by hand ([`Table::encode_into`](crate::Table::encode_into)).
    ///
    /// ```
    /// use sonic_db_core::{ConvertError, Error};
    /// let too_big = ConvertError::new("an i64", "u64 18446744073709551615");
    /// let e = Error::encode("stats", "hits", too_big);
    /// assert!(matches!(&e, Error::Encode { column, .. } if column == "hits"));
    /// ```
    pub fn encode(table: &str, column: &str, source: ConvertError) -> Self {
        Error::Encode {
            table: table.to_string(),
            column: column.to_string(),
            source,
        }
    }

    /// Classifies a SQLite error message (as both SQLite and D1 word them) into the
    /// constraint variants, keeping the message.
    ///
    /// ```
    /// use sonic_db_core::Error;
    /// let e = Error::from_sqlite_message("UNIQUE constraint failed: users.email");
    /// assert!(matches!(e, Error::UniqueViolation { .. }));
    /// ```
    pub fn from_sqlite_message(message: impl Into<String>) -> Self {
        let message = message.into();
        if message.contains("UNIQUE constraint failed")
            || message.contains("PRIMARY KEY constraint failed")
        {
            Error::UniqueViolation { message }
        } else if message.contains("FOREIGN KEY constraint failed") {
            Error::ForeignKeyViolation {
                message,
                table: None,
            }
        } else if message.contains("NOT NULL constraint failed")
            || message.contains("CHECK constraint failed")
        {
            Error::ConstraintViolation { message }
        } else {
            Error::Database { message }
        }
    }
}

/// ` of the row with key …` in a decode error's message, when the key is known.
fn of_row(key: Option<&str>) -> String {
    key.map(|key| format!(" of the row with key {key}"))
        .unwrap_or_default()
}

/// ` (writing `table`)` in a foreign-key violation's message, when the table is known.
fn writing(table: Option<&str>) -> String {
    table
        .map(|table| format!(" (writing `{table}`)"))
        .unwrap_or_default()
}

/// Sonic's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
