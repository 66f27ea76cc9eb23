//! [`Db::transaction`]: read, decide and write in one all-or-nothing unit, on the backends
//! that can hold one (SQLite natively, a Durable Object's SQLite).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::cache::TransactionLog;
use crate::db::Db;
use crate::error::{Error, Result};

impl Db {
    /// Runs `body` as one transaction: its reads see its own writes, and every write it makes
    /// through the handle it receives commits together when it returns `Ok`, or not at all when
    /// it returns an error (handed back). The KV cache is told after the commit.
    ///
    /// The body must not await anything but that handle's statements. Both backends that hold
    /// transactions run statements in-process and finish them without yielding, and while one
    /// is open nothing else may use the database; so the body's future runs to completion
    /// inside the backend's synchronous transaction
    /// ([`SqlBackend::transaction`](crate::SqlBackend::transaction)). A body that awaits
    /// anything else (a fetch, a timer, KV) would hold the database across it: it is rolled
    /// back with [`Error::InvalidQuery`]. D1 runs no interactive transactions: there the call
    /// fails with [`Error::Unsupported`] before anything is sent, and an atomic
    /// [`Db::batch`] is the unit.
    ///
    /// The handle the body receives has no cache: its reads see the transaction's own writes,
    /// and nothing reaches KV before the commit. After it, the records the body's typed writes
    /// touched are invalidated as the writes themselves would have done (deletes' cascades
    /// included); raw SQL writes are not noted, as outside a transaction.
    ///
    /// ```
    /// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
    /// # pollster::block_on(async {
    /// use sonic_db_core::{sqlite::SqliteBackend, Db, Error, Schema, Table};
    ///
    /// #[derive(Debug, Clone, PartialEq, Table)]
    /// #[table(name = "accounts")]
    /// struct Account { #[column(primary_key)] id: String, balance: i64 }
    ///
    /// let db = Db::new(SqliteBackend::memory()?);
    /// for s in Schema::new().table::<Account>().statements() { db.sql(s).run().await?; }
    /// let account = |id: &str, balance| Account { id: id.into(), balance };
    /// db.insert_many(&[account("a", 100), account("b", 0)]).await?;
    ///
    /// // Read, decide, write: a transfer that must not overdraw.
    /// let transfer = |amount: i64| db.transaction(move |tx| async move {
    ///     let mut from = tx.find::<Account>("a").await?.ok_or(Error::NotFound { table: "accounts".into() })?;
    ///     let mut to = tx.find::<Account>("b").await?.ok_or(Error::NotFound { table: "accounts".into() })?;
    ///     from.balance -= amount;
    ///     to.balance += amount;
    ///     tx.update(&from).await?;
    ///     tx.update(&to).await?;
    ///     if from.balance < 0 {
    ///         return Err(Error::InvalidQuery("insufficient funds".into())); // undoes both
    ///     }
    ///     Ok(from.balance)
    /// });
    /// assert_eq!(transfer(70).await?, 30);
    /// assert!(transfer(70).await.is_err());
    /// assert_eq!(db.find::<Account>("b").await?.map(|b| b.balance), Some(70));
    /// # Ok::<(), Error>(())
    /// # }).unwrap();
    /// # }
    /// ```
    pub async fn transaction<R, F, Fut>(&self, body: F) -> Result<R>
    where
        F: FnOnce(Db) -> Fut,
        Fut: Future<Output = Result<R>>,
    {
        if !self.capabilities().transactions {
            return Err(Error::Unsupported(
                "interactive transactions: this database (D1, or a backend declaring D1's \
                 capabilities) runs none; use an atomic `Db::batch()`, or a Durable Object's \
                 SQLite"
                    .to_string(),
            ));
        }
        let log = Arc::new(TransactionLog::default());
        let handle = self.for_transaction(log.clone());
        let mut body = Some(body);
        let mut outcome = None;
        self.backend().transaction(&mut || {
            let body = body.take().ok_or_else(|| {
                Error::InvalidQuery("the backend ran a transaction's body twice".to_string())
            })?;
            let future = pin!(body(handle.clone()));
            match future.poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(Ok(value)) => {
                    outcome = Some(value);
                    Ok(())
                }
                Poll::Ready(Err(error)) => Err(error),
                Poll::Pending => Err(Error::InvalidQuery(
                    "a transaction's body awaited something other than its database's \
                     statements; it was rolled back (a transaction holds the database, so it \
                     cannot wait: fetch what it needs before, act on KV or the network after)"
                        .to_string(),
                )),
            }
        })?;
        if let Some(cache) = self.cache() {
            log.invalidate(cache).await;
        }
        outcome.ok_or_else(|| Error::InvalidQuery("the backend never ran the body".to_string()))
    }
}
