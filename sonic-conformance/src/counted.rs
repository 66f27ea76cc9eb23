//! A handle that counts what it sends, for the scenarios whose statement or round-trip
//! counts are a promise (`exists()` is one statement). It works on every backend, workerd's
//! D1 included, as it only wraps the suite's shared SQL backend.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sonic_db_core::backend::SharedBackend;
use sonic_db_core::{Capabilities, Db, QueryResult, Result, SqlBackend, Statement};

/// Statements and round trips sent through a [`counted`] handle.
#[derive(Debug, Default)]
pub(crate) struct Sent {
    statements: AtomicUsize,
    round_trips: AtomicUsize,
}

impl Sent {
    /// (statements, round trips) since the handle was made.
    pub(crate) fn get(&self) -> (usize, usize) {
        (
            self.statements.load(Ordering::Relaxed),
            self.round_trips.load(Ordering::Relaxed),
        )
    }
}

struct CountingBackend {
    inner: SharedBackend,
    sent: Arc<Sent>,
}

#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
impl SqlBackend for CountingBackend {
    fn capabilities(&self) -> &Capabilities {
        self.inner.capabilities()
    }

    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        self.sent.statements.fetch_add(1, Ordering::Relaxed);
        self.sent.round_trips.fetch_add(1, Ordering::Relaxed);
        self.inner.execute(statement).await
    }

    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        self.sent
            .statements
            .fetch_add(statements.len(), Ordering::Relaxed);
        self.sent.round_trips.fetch_add(1, Ordering::Relaxed);
        self.inner.batch(statements).await
    }

    fn transaction(&self, body: &mut dyn FnMut() -> Result<()>) -> Result<()> {
        self.inner.transaction(body)
    }

    async fn execute_script(&self, sql: &str) -> Result<()> {
        self.inner.execute_script(sql).await
    }
}

/// A handle without KV cache on `db`'s SQL backend, and what it sends.
pub(crate) fn counted(db: &Db) -> (Db, Arc<Sent>) {
    let sent = Arc::new(Sent::default());
    let backend = CountingBackend {
        inner: db.backend().clone(),
        sent: sent.clone(),
    };
    (Db::new(backend), sent)
}
