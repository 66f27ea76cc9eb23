//! Durable Object SQLite storage as a Sonic SQL backend: [`DoSqlBackend`] implements
//! [`SqlBackend`] on a Durable Object's `ctx.storage.sql`.
//!
//! ```no_run
//! use sonic_db_core::Db;
//! use sonic_db_do::DoSqlBackend;
//!
//! // In `DurableObject::new(state, env)`: the object's own database.
//! fn open(state: worker::State) -> Db {
//!     Db::new(DoSqlBackend::from_state(state))
//! }
//! ```
//!
//! # Why a Durable Object
//!
//! A D1 database has one writer and 10 GB; each Durable Object has its own SQLite database,
//! in the same thread as the code, so a statement costs microseconds instead of a network
//! round trip, and several statements can form a real transaction. Sonic's capabilities say
//! so: eager loading runs one cheap statement per level ([`EagerStrategy::PerLevel`]) instead
//! of D1's single JSON statement.
//!
//! # Values
//!
//! Values cross JavaScript as on D1, so numbers are exact within ±(2^53 − 1)
//! ([`Capabilities::max_exact_integer`]). Every `i64` still round-trips (#12 item 3): an
//! INTEGER beyond that range is bound as its decimal text, which the INTEGER affinity of the
//! column it is stored in or compared with turns back into the exact INTEGER, and Sonic selects
//! the INTEGER columns of records as numbers within the range and as `CAST(col AS TEXT)`
//! beyond, and reads the text back by the column type. Raw SQL that uses such a parameter where no column affinity applies (`SELECT ? + 1`)
//! writes `CAST(? AS INTEGER)` itself. A number that comes back integral within the range
//! reads as `Integer` (a REAL `2.0` too, which `f64` accepts exactly), others as `Real`;
//! strings are `Text`, byte arrays `Blob`.
//!
//! # Batches are transactions
//!
//! [`SqlBackend::batch`] runs its statements inside the storage's `transactionSync`: they
//! commit together or, when one fails, none has any effect — what `Db::batch()` units and
//! chunked bulk writes rely on, with the same results as D1's `batch()`.
//!
//! # Interactive transactions
//!
//! [`Db::transaction`](sonic_db_core::Db::transaction) works here (D1 refuses it): the body
//! runs inside `transactionSync`, so it reads, decides and writes on the object's database,
//! and every write commits together or — when the body returns an error, which comes back
//! unchanged, or a statement fails — none does. The KV cache is told only after the commit.
//! A batch inside the body is still all or nothing (workerd nests `transactionSync` as a
//! savepoint); a transaction inside the body is refused. The body may await only its
//! handle's statements: Durable Object SQLite runs them synchronously.
//!
//! # Migrations at object start
//!
//! Each object has its own database, so each applies the migration files itself:
//! [`MigrationsAtStart::begin`] in `DurableObject::new` runs the files compiled in with
//! [`sonic_db_core::embed_migrations!`] (the ones `wrangler d1 migrations apply` runs on D1)
//! inside `blockConcurrencyWhile`, so no request reaches the object before they ran. Each file
//! is one transaction with its record in the object's `d1_migrations` table: a restarted
//! object applies only what is new, and a failing file leaves the object as it was and is
//! reported to every request ([`MigrationsAtStart::outcome`]).
//!
//! # Errors
//!
//! The storage throws SQLite's message (e.g. `UNIQUE constraint failed: users.email:
//! SQLITE_CONSTRAINT`); [`Error::from_sqlite_message`] classifies it as on D1 and natively.
//! Statements over the platform's limits (100 bound parameters, 100 KB of SQL) are refused
//! with [`Error::Limit`] before anything runs.
//!
//! Natively (not wasm32) the crate compiles, so code using it type-checks and unit-tests
//! everywhere, but no Durable Object exists there: statements fail with [`Error::Database`].

mod remote;
mod startup;
#[cfg(target_arch = "wasm32")]
mod storage;
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
mod values;
mod wire;

pub use remote::{serve_sql, DoStubBackend};
pub use startup::MigrationsAtStart;

use std::fmt;

#[cfg(doc)]
use sonic_db_core::EagerStrategy;
use sonic_db_core::{Capabilities, Error, QueryResult, Result, SqlBackend, Statement};
use worker::worker_sys::DurableObjectState;

/// What Durable Object SQLite takes: D1's limits (100 parameters, 100 KB statements, 2 MB
/// values, JavaScript numbers), but statements run in-process, so eager loading goes level by
/// level.
///
/// ```
/// use sonic_db_core::EagerStrategy;
/// use sonic_db_do::DO_CAPABILITIES;
///
/// assert_eq!(DO_CAPABILITIES.max_params, 100);
/// assert_eq!(DO_CAPABILITIES.eager, EagerStrategy::PerLevel);
/// assert!(!DO_CAPABILITIES.exact_integer(1 << 53));
/// assert!(DO_CAPABILITIES.transactions); // Db::transaction runs inside transactionSync
/// ```
pub const DO_CAPABILITIES: Capabilities = Capabilities {
    eager: sonic_db_core::EagerStrategy::PerLevel,
    // `ctx.storage.transactionSync` holds the object's database for a synchronous body.
    transactions: true,
    ..Capabilities::D1
};

/// A Sonic SQL backend on a Durable Object's SQLite storage.
pub struct DoSqlBackend {
    state: DurableObjectState,
    capabilities: Capabilities,
}

impl DoSqlBackend {
    /// The backend of the object whose state the runtime handed to `DurableObject::new`.
    /// [`state`](DoSqlBackend::state) gives the state back for the object's other uses.
    ///
    /// ```no_run
    /// use sonic_db_do::DoSqlBackend;
    /// use worker::wasm_bindgen; // the macro's expansion names it
    ///
    /// #[worker::durable_object]
    /// pub struct Notes {
    ///     db: sonic_db_core::Db,
    /// }
    ///
    /// impl worker::DurableObject for Notes {
    ///     fn new(state: worker::State, _env: worker::Env) -> Self {
    ///         Notes { db: sonic_db_core::Db::new(DoSqlBackend::from_state(state)) }
    ///     }
    ///
    ///     async fn fetch(&self, _req: worker::Request) -> worker::Result<worker::Response> {
    ///         let rows = self.db.sql("SELECT 1 AS one").all_json().await;
    ///         worker::Response::ok(format!("{rows:?}"))
    ///     }
    /// }
    /// ```
    pub fn from_state(state: worker::State) -> Self {
        DoSqlBackend {
            state: state._inner(),
            capabilities: DO_CAPABILITIES,
        }
    }

    /// The object's state (storage, id, alarms), another handle to what `from_state` took.
    ///
    /// ```no_run
    /// fn object_id(backend: &sonic_db_do::DoSqlBackend) -> String {
    ///     backend.state().id().to_string()
    /// }
    /// ```
    pub fn state(&self) -> worker::State {
        worker::State::from(clone_state(&self.state))
    }
}

/// Refuses a statement over the platform's limits (the same on both ends of a stub), naming
/// the limit.
fn check(max: &Capabilities, statement: &Statement) -> Result<()> {
    if statement.params.len() > max.max_params {
        return Err(Error::Limit(format!(
            "a statement with {} parameters; Durable Object SQLite binds at most {} \
             (nothing was sent)",
            statement.params.len(),
            max.max_params
        )));
    }
    if statement.sql.len() > max.max_sql_len {
        return Err(Error::Limit(format!(
            "a statement of {} bytes of SQL; Durable Object SQLite takes at most {} \
             (nothing was sent)",
            statement.sql.len(),
            max.max_sql_len
        )));
    }
    Ok(())
}

/// Another handle to the same JavaScript state object.
fn clone_state(state: &DurableObjectState) -> DurableObjectState {
    use worker::wasm_bindgen::JsCast;
    let value: &worker::wasm_bindgen::JsValue = state.as_ref();
    DurableObjectState::unchecked_from_js(value.clone())
}

impl fmt::Debug for DoSqlBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DoSqlBackend")
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

#[cfg(target_arch = "wasm32")]
#[async_trait::async_trait(?Send)]
impl SqlBackend for DoSqlBackend {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        check(&self.capabilities, statement)?;
        storage::execute(&self.state, statement)
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        statements
            .iter()
            .try_for_each(|s| check(&self.capabilities, s))?;
        storage::batch(&self.state, statements)
    }

    fn transaction(&self, body: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        storage::transaction(&self.state, body)
    }

    async fn execute_script(&self, sql: &str) -> Result<()> {
        storage::execute_script(&self.state, sql)
    }
}

/// Natively there is no Durable Object: statements are checked as on wasm32, then fail.
#[cfg(not(target_arch = "wasm32"))]
#[async_trait::async_trait]
impl SqlBackend for DoSqlBackend {
    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        check(&self.capabilities, statement)?;
        Err(not_in_a_worker())
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        statements
            .iter()
            .try_for_each(|s| check(&self.capabilities, s))?;
        Err(not_in_a_worker())
    }

    fn transaction(&self, body: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        let _ = body;
        Err(not_in_a_worker())
    }

    async fn execute_script(&self, sql: &str) -> Result<()> {
        let _ = sql;
        Err(not_in_a_worker())
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn not_in_a_worker() -> Error {
    Error::Database {
        message: "Durable Object storage exists only inside a Cloudflare Worker (wasm32); use \
                  sonic_db_core::sqlite::SqliteBackend natively"
            .to_string(),
    }
}
