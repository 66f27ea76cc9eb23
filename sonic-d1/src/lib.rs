//! Cloudflare D1 as a Sonic SQL backend: [`D1Backend`] implements [`SqlBackend`] on a
//! `worker::D1Database` binding.
//!
//! ```no_run
//! use sonic_db_core::Db;
//! use sonic_db_d1::D1Backend;
//!
//! async fn handler(env: &worker::Env) -> sonic_db_core::Result<u64> {
//!     let db = Db::new(D1Backend::from_env(env, "DB")?);
//!     db.sql("UPDATE posts SET views = views + 1 WHERE id = ?").bind(7).run().await
//! }
//! ```
//!
//! The backend only runs inside a Worker (wasm32). It also compiles natively, so that code
//! using it type-checks and unit-tests everywhere; there its statements fail with
//! [`Error::Database`] (no D1 binding can exist outside a Worker).
//!
//! # Values
//!
//! Parameters and results cross JavaScript, and D1 carries them as JSON, so numbers are
//! doubles on the way in and out:
//!
//! | [`Value`] | bound as | notes |
//! |---|---|---|
//! | `Integer(i)` | number, marker cast to INTEGER | within ±(2^53 − 1) ([`MAX_SAFE_INTEGER`]) a number; beyond, its decimal text, which the cast makes the exact INTEGER (`worker`'s `D1Type::Integer` is an `i32`, so it is not used) |
//! | `Real(r)` | number | NaN/±∞ refused with [`Error::Limit`] (D1's JSON would store NULL) |
//! | `Text(s)` | string | any Unicode, NUL included |
//! | `Blob(b)` | `Uint8Array` | D1 binds an ArrayBuffer view as a BLOB |
//! | `Null` | `null` | |
//!
//! D1 binds every JavaScript number as a REAL (measured: `SELECT typeof(?)` with `1` gives
//! `'real'`, `5 / ?` with `2` gives `2.5`). Columns declared INTEGER hide it through their
//! affinity, but expressions, untyped columns and comparisons with TEXT do not, so the backend
//! sends the marker of every integer parameter as `CAST(? AS INTEGER)` (also `?NNN` and named
//! markers, numbered as SQLite numbers them): integer parameters behave as on SQLite.
//!
//! Result cells come back as JavaScript values and are read as: `null` → `Null`; a string →
//! `Text`; an array of numbers (how D1 returns a BLOB) → `Blob`, every element checked to be
//! a byte; a boolean → `Integer` 0/1; a number → `Integer` when it is an integer within
//! ±(2^53 − 1), otherwise `Real`. D1 does not say whether a number was stored as INTEGER or
//! REAL, so a REAL column holding `2.0` reads as `Integer(2)` — which `f64: FromValue`
//! accepts exactly — and an INTEGER beyond 2^53 selected as is arrives already rounded by D1
//! and reads as `Real`, so decoding it into an `i64` is a clear error rather than a wrong
//! number. D1's JSON also turns a stored ±∞ into `null`. Any other JavaScript value is an
//! [`Error::Database`] naming the column; nothing panics.
//!
//! # 64-bit integers
//!
//! Every `i64` round-trips exactly (#12 item 3). Parameters: beyond ±(2^53 − 1) an integer is
//! bound as its decimal text under its `CAST(? AS INTEGER)`, so SQLite stores and compares the
//! exact INTEGER — in inserts, updates, filters (`=`, ranges, `IN`), keys. Results: because
//! [`Capabilities::D1`] declares `max_exact_integer`, sonic-db-core selects the INTEGER columns
//! of records as themselves within ±(2^53 − 1) and as `CAST(col AS TEXT)` beyond (a `CASE`;
//! in finds, selects, joins, `RETURNING`, the keys a write returns; eager-loaded relations
//! travel in SQLite's JSON text, exact already) and reads the text back by the column's
//! declared type.
//!
//! Raw SQL (`db.sql(..)`) follows the same rule for parameters: any `i64` binds exactly. Its
//! result cells are what D1 returns: select a 64-bit column as `CAST(col AS TEXT)` to read it
//! exactly — decoding rows into a `#[derive(Table)]` type (`.all::<T>()`) then reads that text
//! into the INTEGER field; as a plain value or JSON it stays the text. An INTEGER beyond
//! ±(2^53 − 1) selected as is reads as a `Real` (rounded by D1), which an `i64` refuses.
//!
//! # Which D1 call runs a statement
//!
//! D1 has no call that returns positional rows, their column names and the write counters
//! together: `raw({ columnNames: true })` returns exact rows (two result columns named `id`
//! stay two columns) but no `meta`; `run()` returns `meta` (`changes`, `last_row_id`) but no
//! rows; `all()` returns both but turns each row into an object keyed by column name, which
//! merges same-named columns — the source of Drizzle's shifted-column bugs on D1. So
//! [`SqlBackend::execute`] picks by the statement's text (a small tokenizer that skips
//! literals, quoted names and comments):
//!
//! - `INSERT`/`UPDATE`/`DELETE`/`REPLACE` (also after `WITH …`) without `RETURNING`: `run()`;
//!   `changes` and `last_insert_rowid` come from `meta` (`last_row_id` is SQLite's
//!   `last_insert_rowid()`, meaningful after an `INSERT`);
//! - with `RETURNING`: `raw({ columnNames: true })`; `changes` is the number of rows returned
//!   (exactly SQLite's count of rows the statement changed), `last_insert_rowid` is `None`;
//! - everything else (`SELECT`, `VALUES`, `PRAGMA`, DDL, …): `raw({ columnNames: true })`,
//!   `changes` 0 — also for an empty result, whose column names are still reported.
//!
//! SQL text holding several statements (`a; b`) is run whole by D1, which returns the last
//! one's result, so the last statement decides. (The SQLite backend refuses such text: keep
//! one statement per [`Statement`] and use [`SqlBackend::batch`] for more.)
//!
//! `worker-sys` 0.8.7 binds `raw()` without its options argument, so this crate binds
//! `raw(options)` itself.
//!
//! A result is read into wasm in one call rather than one to three per cell: a small
//! JavaScript module of this crate (`src/pack.js`, a wasm-bindgen snippet, which worker-build
//! bundles with the Worker) packs every cell and text into buffers in wasm's memory; values it
//! does not pack (BLOBs, `BigInt`s) are read one by one. The meaning of each value is the same
//! either way.
//!
//! # Batches
//!
//! [`SqlBackend::batch`] is D1's `batch()`: one round trip, and atomic — the statements run as
//! one transaction, and if one fails none has any effect. D1's `batch()` returns every result
//! as objects keyed by column name (there is no raw batch), with two consequences: a
//! statement in a batch whose result has two columns of the same name reports that column
//! once (alias them), and a statement in a batch that returns no rows reports no column names
//! (`columns` is empty). Column order is the objects' key order, which is the select order
//! except that JavaScript lists integer-like names (`"1"`, `"42"`) first. `changes` follows
//! the same rules as above (for writes it is `meta.changes`, and `last_insert_rowid` is
//! `meta.last_row_id` for every write).
//!
//! # Errors
//!
//! The D1 binding throws `Error("D1_ERROR: <message>", { cause: Error("<message>") })` for a
//! failed query, from `first`, `run`, `all`, `raw` and `batch` alike (the `worker` crate maps
//! `all()`'s rejection differently from the others, but the thrown value is the same). The
//! backend takes the message, removes the `D1_ERROR: ` prefix and keeps SQLite's text (with
//! D1's `: SQLITE_CONSTRAINT`-style suffix), then classifies it with
//! [`Error::from_sqlite_message`]: a duplicate key is [`Error::UniqueViolation`] whichever
//! path ran it, a missing parent [`Error::ForeignKeyViolation`], a `NOT NULL`/`CHECK` failure
//! [`Error::ConstraintViolation`], anything else [`Error::Database`]. Statements with more
//! than 100 parameters or 100 KB of SQL are refused with [`Error::Limit`] before anything is
//! sent.
//!
//! # `D1Database::prepare` never panics here
//!
//! `worker::D1Database::prepare` (0.8.7) calls the binding's `prepare` through a `catch`
//! binding and then `unwrap`s the `Result`. In the runtime's D1 API (workerd's `d1-api`),
//! `prepare(sql)` only stores the SQL text in a new `D1PreparedStatement`: invalid SQL is
//! reported when the statement runs, not when it is prepared. So the unwrap fires only if the
//! JavaScript call itself throws — a binding object that is not a working `D1Database` (e.g.
//! a mock without `prepare`). This backend prepares through `worker-sys`'s `catch` binding
//! directly and maps such an exception to an [`Error`]; `bind` is called the same way (D1's
//! `bind` throws `D1_TYPE_ERROR` for unsupported JavaScript types, which this backend never
//! produces).
//!
//! # Sessions (read replication)
//!
//! [`D1Backend::with_session`] runs statements in a D1 session: every query of the session
//! sees at least the writes of the previous ones, even when D1 serves reads from replicas.
//! [`D1Backend::bookmark`] returns the session's latest bookmark; send it to the client (e.g.
//! in an `x-d1-bookmark` header) and start the next request's session from it to keep
//! sequential consistency across requests.
//!
//! Application code does this at the `Db` level, whatever the backend:
//! [`Db::session`](sonic_db_core::Db::session) and [`Db::bookmark`](sonic_db_core::Db::bookmark)
//! (on SQLite or a Durable Object, which have no replicas, the session is the database itself
//! and the bookmark `None`). The example Worker reads the client's bookmark from the
//! `x-d1-bookmark` request header and returns the new one in the same response header.
//!
//! ```no_run
//! use sonic_db_d1::D1Backend;
//!
//! async fn at_db_level(req: &worker::Request, db: &sonic_db_core::Db) -> sonic_db_core::Result<Option<String>> {
//!     let bookmark = req.headers().get("x-d1-bookmark").ok().flatten();
//!     let db = db.session(bookmark.as_deref())?;
//!     db.sql("SELECT 1").all_json().await?;
//!     db.bookmark() // → the response's x-d1-bookmark
//! }
//!
//! async fn handler(req: &worker::Request, env: &worker::Env) -> sonic_db_core::Result<Option<String>> {
//!     let bookmark = req.headers().get("x-d1-bookmark").ok().flatten();
//!     let backend = D1Backend::from_env(env, "DB")?.with_session(bookmark.as_deref())?;
//!     let db = sonic_db_core::Db::new(backend.clone());
//!     db.sql("SELECT 1").all_json().await?;
//!     backend.bookmark() // → the response's x-d1-bookmark
//! }
//! ```

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod analysis;
#[cfg(target_arch = "wasm32")]
mod bindings;
#[cfg(target_arch = "wasm32")]
mod calls;
#[cfg(target_arch = "wasm32")]
mod cells;
// What D1's results mean, natively testable (the wasm32 side only classifies JS values).
pub mod decode;
#[cfg(target_arch = "wasm32")]
mod js;
// Natively only the statement checks run; the rest is used on wasm32 and by the unit tests.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod lexer;
#[cfg(target_arch = "wasm32")]
mod names;
#[cfg(target_arch = "wasm32")]
mod pack;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod params;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod rules;
#[cfg(target_arch = "wasm32")]
mod sent;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod shape;
#[cfg(target_arch = "wasm32")]
mod thrown;

use std::fmt;

pub use rules::MAX_SAFE_INTEGER;
pub use worker::D1SessionConstraint;

#[cfg(doc)]
use sonic_db_core::Value;
use sonic_db_core::{Capabilities, Error, QueryResult, Result, SqlBackend, Statement};
use worker::wasm_bindgen::JsCast;
use worker::{D1Database, D1DatabaseSession, Env};

/// A Sonic SQL backend on a D1 database binding, optionally inside a D1 session.
///
/// Cheap to clone: clones share the JavaScript binding (and the session, so a clone sees the
/// bookmarks of statements run through the original).
pub struct D1Backend {
    db: D1Database,
    session: Option<D1DatabaseSession>,
    capabilities: Capabilities,
}

impl D1Backend {
    /// A backend on `db` (from `env.d1("DB")`), outside any session.
    pub fn new(db: D1Database) -> Self {
        D1Backend {
            db,
            session: None,
            capabilities: Capabilities::D1,
        }
    }

    /// A backend on the D1 binding named `binding` in the Worker's environment. Found and
    /// checked once per isolate and environment object, so that building a `Db` per request
    /// costs no lookups.
    pub fn from_env(env: &Env, binding: &str) -> Result<Self> {
        #[cfg(target_arch = "wasm32")]
        if let Some(db) = bindings::remembered(env, binding) {
            return Ok(D1Backend::new(db));
        }
        let db = env.d1(binding).map_err(|e| Error::Database {
            message: format!("D1 binding `{binding}`: {e}"),
        })?;
        #[cfg(target_arch = "wasm32")]
        bindings::remember(env, binding, &db);
        Ok(D1Backend::new(db))
    }

    /// A backend on the same database whose statements run in a new D1 session starting at
    /// `bookmark` (one returned by [`bookmark`](D1Backend::bookmark), possibly in an earlier
    /// request): its queries see at least everything that bookmark saw. `None` starts an
    /// unconstrained session (the first query may go to any replica).
    pub fn with_session(&self, bookmark: Option<&str>) -> Result<Self> {
        let session = self
            .db
            .with_session(bookmark)
            .map_err(|e| session_error(&e))?;
        Ok(self.in_session(session))
    }

    /// A backend on the same database whose statements run in a new D1 session that starts
    /// as `constraint` says (`FirstPrimary`: the first query goes to the primary, so it sees
    /// every committed write).
    pub fn with_session_constraint(&self, constraint: D1SessionConstraint) -> Result<Self> {
        let session = self
            .db
            .with_session_constraint(constraint)
            .map_err(|e| session_error(&e))?;
        Ok(self.in_session(session))
    }

    fn in_session(&self, session: D1DatabaseSession) -> Self {
        D1Backend {
            db: clone_js(&self.db),
            session: Some(session),
            capabilities: self.capabilities.clone(),
        }
    }

    /// The latest bookmark of this backend's session: `None` outside a session, or before the
    /// session's first query.
    pub fn bookmark(&self) -> Result<Option<String>> {
        match &self.session {
            None => Ok(None),
            Some(session) => session.get_bookmark().map_err(|e| session_error(&e)),
        }
    }

    /// Whether statements run in a D1 session.
    pub fn in_a_session(&self) -> bool {
        self.session.is_some()
    }

    /// The underlying binding, e.g. for `exec()` in maintenance code.
    pub fn database(&self) -> &D1Database {
        &self.db
    }
}

fn session_error(e: &worker::Error) -> Error {
    Error::Database {
        message: format!("D1 session: {e}"),
    }
}

/// Another handle to the same JavaScript object.
fn clone_js<T: JsCast + AsRef<worker::wasm_bindgen::JsValue>>(value: &T) -> T {
    T::unchecked_from_js(value.as_ref().clone())
}

impl Clone for D1Backend {
    fn clone(&self) -> Self {
        D1Backend {
            db: clone_js(&self.db),
            session: self.session.as_ref().map(clone_js),
            capabilities: self.capabilities.clone(),
        }
    }
}

impl fmt::Debug for D1Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("D1Backend")
            .field("session", &self.session.is_some())
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

#[cfg(target_arch = "wasm32")]
#[async_trait::async_trait(?Send)]
impl SqlBackend for D1Backend {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        self.execute_js(statement).await
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        self.batch_js(statements).await
    }

    /// [`Db::session`](sonic_db_core::Db::session) on D1: [`D1Backend::with_session`].
    fn session(&self, bookmark: Option<&str>) -> Result<Option<std::sync::Arc<dyn SqlBackend>>> {
        Ok(Some(std::sync::Arc::new(self.with_session(bookmark)?)))
    }

    fn bookmark(&self) -> Result<Option<String>> {
        D1Backend::bookmark(self)
    }
}

/// Natively there is no D1: statements are checked as on wasm32, then fail.
#[cfg(not(target_arch = "wasm32"))]
#[async_trait::async_trait]
impl SqlBackend for D1Backend {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        rules::check_statement(statement, &self.capabilities)?;
        Err(not_in_a_worker())
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        for statement in statements {
            rules::check_statement(statement, &self.capabilities)?;
        }
        Err(not_in_a_worker())
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn not_in_a_worker() -> Error {
    Error::Database {
        message: "D1 is only available inside a Cloudflare Worker (wasm32); use \
                  sonic_db_core::sqlite::SqliteBackend natively"
            .to_string(),
    }
}
