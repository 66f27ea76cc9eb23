//! [`Db::session`]: a request-scoped read-replication session (D1 sessions) at the `Db`
//! level, so application code carries a bookmark without touching the backend.

use crate::db::Db;
use crate::error::Result;

impl Db {
    /// This database in a session starting at the client's `bookmark` (e.g. from an
    /// `x-d1-bookmark` request header): on D1 with read replication, its reads see at least
    /// every write that bookmark saw, whichever replica serves them, so a client reads its own
    /// writes; `None` starts a session anywhere. [`Db::bookmark`] then gives the bookmark to
    /// return to the client. On a backend without sessions (SQLite, a Durable Object: one
    /// copy, every read sees every write) it is this same database.
    ///
    /// One per request. The session keeps the KV cache for reads and invalidations but fills
    /// nothing into it: a replica's row may be older than what another request already
    /// cached.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    ///
    /// let db = Db::new(SqliteBackend::memory()?);
    /// let request_db = db.session(Some("bookmark from the request"))?;
    /// request_db.sql("CREATE TABLE t (x INTEGER)").run().await?;
    /// assert_eq!(request_db.bookmark()?, None); // SQLite has no sessions: nothing to return
    /// # Ok::<(), sonic_db_core::Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub fn session(&self, bookmark: Option<&str>) -> Result<Db> {
        Ok(match self.backend().session(bookmark)? {
            Some(sql) => self.in_session(sql),
            None => self.clone(),
        })
    }

    /// The latest bookmark of this handle's session ([`Db::session`]), to send back to the
    /// client (e.g. in an `x-d1-bookmark` response header); `None` outside of a session or
    /// on a backend without sessions.
    ///
    /// ```
    /// # #[cfg(feature = "rusqlite")] {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db};
    ///
    /// assert_eq!(Db::new(SqliteBackend::memory()?).bookmark()?, None);
    /// # }
    /// # Ok::<(), sonic_db_core::Error>(())
    /// ```
    pub fn bookmark(&self) -> Result<Option<String>> {
        self.backend().bookmark()
    }
}
