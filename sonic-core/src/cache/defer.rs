//! Work that may run after the response: cache fills.

use std::future::Future;
use std::pin::Pin;

use crate::backend::MaybeSendSync;

/// A cache fill handed to a [`Defer`] hook.
#[cfg(not(target_arch = "wasm32"))]
pub type Deferred = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
/// A cache fill handed to a [`Defer`] hook.
#[cfg(target_arch = "wasm32")]
pub type Deferred = Pin<Box<dyn Future<Output = ()> + 'static>>;

/// Runs cache fills off the request's critical path.
///
/// A fill (the KV put after a miss) is not needed for the caller's answer, nor for coherence
/// (a late fill is tagged with the generations read before its SQL read, so it can never be
/// served after a later write). On Workers, hand it to `Context::wait_until` (the `sonic-db-kv`
/// crate's `WaitUntil`); without a hook, the fill is awaited before `find` returns. Any
/// `Fn(Deferred)` is a hook, which is how tests run fills late or out of order.
///
/// ```
/// # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
/// # use sonic_db_core::{sqlite::SqliteBackend, CacheConfig, Db, MemoryKv, Schema, Source};
/// # #[derive(Debug, Clone, sonic_db_core::Table)]
/// # struct Post { #[column(primary_key)] id: String }
/// # pollster::block_on(async {
/// use std::sync::{Arc, Mutex};
/// use sonic_db_core::cache::Deferred;
///
/// let later: Arc<Mutex<Vec<Deferred>>> = Arc::default();
/// let queue = later.clone();
/// let db = Db::new(SqliteBackend::memory()?)
///     .with_kv(MemoryKv::new(), CacheConfig::new())?
///     .with_defer(move |work: Deferred| queue.lock().unwrap().push(work));
/// # for s in Schema::new().table::<Post>().statements() { db.sql(s).run().await?; }
/// db.insert(&Post { id: "p1".into() }).await?;
/// assert_eq!(db.find_with_source::<Post>("p1").await?.unwrap().source, Source::D1);
/// assert_eq!(db.find_with_source::<Post>("p1").await?.unwrap().source, Source::D1); // not filled yet
/// let fills: Vec<Deferred> = later.lock().unwrap().drain(..).collect();
/// for fill in fills { fill.await; } // "after the response"
/// assert_eq!(db.find_with_source::<Post>("p1").await?.unwrap().source, Source::Kv);
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// # }
/// ```
pub trait Defer: MaybeSendSync {
    /// Runs `work` some time later (it must not be dropped unrun if the fill matters).
    fn defer(&self, work: Deferred);
}

impl<F: Fn(Deferred) + MaybeSendSync> Defer for F {
    fn defer(&self, work: Deferred) {
        self(work);
    }
}
