//! Hooks, as SonicJs's tables have them: `resolve_input` rewrites a create or update body,
//! `before_operation` runs after the access rules and before the database, `after_operation`
//! sees the result. Each is async and can refuse with an [`ApiError`] (a 4xx of its choice).

use std::sync::Arc;

use serde_json::{Map, Value as Json};

use crate::context::{BoxFuture, Ctx};
use crate::error::ApiError;

/// Rewrites the JSON object of one record to create, or of an update, before the field rules
/// and the write (e.g. sets `user_id` from the principal). Set with
/// [`TableApi::resolve_input`](crate::TableApi::resolve_input).
///
/// ```
/// use sonic_db_api::hooks::ResolveInput;
/// let trim: ResolveInput<()> = std::sync::Arc::new(|_ctx, input| Box::pin(async move { Ok(input) }));
/// # let _ = trim;
/// ```
pub type ResolveInput<P> =
    Arc<dyn Fn(Ctx<P>, Map<String, Json>) -> BoxFuture<Result<Map<String, Json>, ApiError>>>;

/// Runs before the database is asked; an error refuses the request. Set with
/// [`TableApi::before_operation`](crate::TableApi::before_operation).
///
/// ```
/// use sonic_db_api::{hooks::BeforeOperation, ApiError};
/// let closed: BeforeOperation<()> =
///     std::sync::Arc::new(|_ctx| Box::pin(async { Err(ApiError::new(503, "read-only today")) }));
/// # let _ = closed;
/// ```
pub type BeforeOperation<P> = Arc<dyn Fn(Ctx<P>) -> BoxFuture<Result<(), ApiError>>>;

/// Runs after the operation with what the response will carry (`data`: a record, a list, or
/// `null` after a delete); an error replaces the response (a write has already happened). Set
/// with [`TableApi::after_operation`](crate::TableApi::after_operation).
///
/// ```
/// use sonic_db_api::hooks::AfterOperation;
/// let audit: AfterOperation<()> = std::sync::Arc::new(|ctx, _data| {
///     Box::pin(async move { Ok(tracing::info!(table = ctx.table, "written")) })
/// });
/// # let _ = audit;
/// ```
pub type AfterOperation<P> = Arc<dyn Fn(Ctx<P>, Json) -> BoxFuture<Result<(), ApiError>>>;

/// The hooks of one table.
pub(crate) struct Hooks<P> {
    pub(crate) resolve_input: Option<ResolveInput<P>>,
    pub(crate) before: Option<BeforeOperation<P>>,
    pub(crate) after: Option<AfterOperation<P>>,
}

impl<P> Default for Hooks<P> {
    fn default() -> Self {
        Hooks {
            resolve_input: None,
            before: None,
            after: None,
        }
    }
}

impl<P> Hooks<P> {
    pub(crate) async fn resolve(
        &self,
        ctx: &Ctx<P>,
        input: Map<String, Json>,
    ) -> Result<Map<String, Json>, ApiError> {
        match &self.resolve_input {
            Some(hook) => hook(ctx.clone(), input).await,
            None => Ok(input),
        }
    }

    pub(crate) async fn before(&self, ctx: &Ctx<P>) -> Result<(), ApiError> {
        match &self.before {
            Some(hook) => hook(ctx.clone()).await,
            None => Ok(()),
        }
    }

    pub(crate) async fn after(&self, ctx: &Ctx<P>, data: &Json) -> Result<(), ApiError> {
        match &self.after {
            Some(hook) => hook(ctx.clone(), data.clone()).await,
            None => Ok(()),
        }
    }
}
