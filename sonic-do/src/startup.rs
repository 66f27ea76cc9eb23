//! Migrations applied when a Durable Object starts, before it serves any request.

use std::cell::RefCell;
use std::rc::Rc;

use sonic_db_core::migrate::MigrationFile;
use sonic_db_core::{Error, Result};

/// The migrations an object applied when it started, or why they stopped.
///
/// ```no_run
/// use sonic_db_core::migrate::MigrationFile;
/// use sonic_db_do::{DoSqlBackend, MigrationsAtStart};
/// use worker::wasm_bindgen; // the macro's expansion names it
///
/// // The files `sonic_db_core::migrate` generated (and wrangler applies on D1).
/// const MIGRATIONS: &[MigrationFile] = &[MigrationFile {
///     name: "0001_init.sql",
///     sql: "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, text TEXT NOT NULL);",
/// }];
///
/// #[worker::durable_object]
/// pub struct Notes {
///     db: sonic_db_core::Db,
///     migrations: MigrationsAtStart,
/// }
///
/// impl worker::DurableObject for Notes {
///     fn new(state: worker::State, _env: worker::Env) -> Self {
///         let migrations = MigrationsAtStart::begin(&state, MIGRATIONS);
///         Notes { db: sonic_db_core::Db::new(DoSqlBackend::from_state(state)), migrations }
///     }
///
///     async fn fetch(&self, _req: worker::Request) -> worker::Result<worker::Response> {
///         if let Err(e) = self.migrations.outcome() {
///             return worker::Response::error(e.to_string(), 500);
///         }
///         let rows = self.db.sql("SELECT count(*) AS n FROM notes").all_json().await;
///         worker::Response::ok(format!("{rows:?}"))
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct MigrationsAtStart {
    outcome: Rc<RefCell<Option<Result<Vec<String>>>>>,
}

impl MigrationsAtStart {
    /// Applies the files the object's database has not applied yet
    /// ([`sonic_db_core::migrate::apply_embedded`]) inside `blockConcurrencyWhile`: the
    /// runtime delivers no request to the object until they ran. Call it in
    /// `DurableObject::new`.
    pub fn begin(state: &worker::State, files: &'static [MigrationFile]) -> Self {
        let outcome = Rc::new(RefCell::new(None));
        start(state, files, Rc::clone(&outcome));
        MigrationsAtStart { outcome }
    }

    /// The files this start applied (empty when the object was up to date), or the error
    /// that stopped them, naming the file — the object is then as before that file, and its
    /// requests should report the error rather than run on an old schema.
    pub fn outcome(&self) -> Result<Vec<String>> {
        match &*self.outcome.borrow() {
            Some(Ok(applied)) => Ok(applied.clone()),
            Some(Err(e)) => Err(Error::Database {
                message: e.to_string(),
            }),
            None => Err(Error::Database {
                message: "the migrations at object start have not finished".to_string(),
            }),
        }
    }
}

#[cfg(target_arch = "wasm32")]
fn start(
    state: &worker::State,
    files: &'static [MigrationFile],
    slot: Rc<RefCell<Option<Result<Vec<String>>>>>,
) {
    use sonic_db_core::Db;

    let db = Db::new(crate::DoSqlBackend::from_state(worker::State::from(
        crate::clone_state(state.as_raw()),
    )));
    // The returned future only reports blockConcurrencyWhile's own failure; the outcome is
    // kept in the slot, which the future fills before the object serves anything.
    let running = state.block_concurrency_while(async move {
        let applied = sonic_db_core::migrate::apply_embedded(&db, files)
            .await
            .map_err(|e| Error::Database {
                message: format!("migrations at object start: {e}"),
            });
        *slot.borrow_mut() = Some(applied);
        Ok(())
    });
    drop(running);
}

#[cfg(not(target_arch = "wasm32"))]
fn start(
    _state: &worker::State,
    _files: &'static [MigrationFile],
    slot: Rc<RefCell<Option<Result<Vec<String>>>>>,
) {
    *slot.borrow_mut() = Some(Err(crate::not_in_a_worker()));
}
