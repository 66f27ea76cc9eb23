//! What a rule or a hook knows of a request: who asks (the application's principal), which
//! operation on which table and record.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future of a rule or hook. Not `Send`: Workers run one thread per isolate.
///
/// ```
/// let answer: sonic_db_api::BoxFuture<bool> = Box::pin(async { true });
/// assert!(pollster::block_on(answer));
/// ```
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// The five operations of a table, as SonicJs names them in its access rules (a list and a
/// single `GET` are both `Read`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `POST`
    Create,
    /// `GET` (a list or one record)
    Read,
    /// `PUT` / `PATCH`
    Update,
    /// `DELETE`
    Delete,
}

impl Operation {
    /// Its lowercase name, for messages.
    ///
    /// ```
    /// assert_eq!(sonic_db_api::Operation::Update.name(), "update");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// The request as rules and hooks see it. Cheap to clone (the principal is shared).
///
/// ```
/// use sonic_db_api::{Ctx, Operation};
/// let ctx = Ctx::new("ada".to_string(), Operation::Read, "posts", None);
/// assert_eq!((ctx.principal.as_str(), ctx.table, ctx.id.as_deref()), ("ada", "posts", None));
/// ```
#[derive(Debug)]
pub struct Ctx<P> {
    /// Who asks: whatever the application made of the request's credentials (the library
    /// logs nobody in).
    pub principal: Arc<P>,
    /// What is asked.
    pub operation: Operation,
    /// The table's SQL name.
    pub table: &'static str,
    /// The record's id from the path, if the request names one.
    pub id: Option<String>,
}

impl<P> Ctx<P> {
    /// A context (the API builds them; tests of rules too).
    ///
    /// ```
    /// let ctx = sonic_db_api::Ctx::new((), sonic_db_api::Operation::Delete, "users", Some("u1".into()));
    /// assert_eq!(ctx.id.as_deref(), Some("u1"));
    /// ```
    pub fn new(
        principal: P,
        operation: Operation,
        table: &'static str,
        id: Option<String>,
    ) -> Self {
        Ctx {
            principal: Arc::new(principal),
            operation,
            table,
            id,
        }
    }

    pub(crate) fn shared(
        principal: Arc<P>,
        operation: Operation,
        table: &'static str,
        id: Option<String>,
    ) -> Self {
        Ctx {
            principal,
            operation,
            table,
            id,
        }
    }
}

impl<P> Clone for Ctx<P> {
    fn clone(&self) -> Self {
        Ctx {
            principal: Arc::clone(&self.principal),
            operation: self.operation,
            table: self.table,
            id: self.id.clone(),
        }
    }
}
