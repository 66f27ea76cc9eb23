//! Access rules with SonicJs's semantics: per operation a constant, an async check of the
//! request context, or a filter AND-ed into the query; per record an item rule on the stored
//! row; per field who may read, create and update it.
//!
//! A table registered without a rule for an operation denies it: the safe default.

use std::future::Future;
use std::sync::Arc;

use sonic_db_core::Filter;

use crate::context::{BoxFuture, Ctx};

/// A yes/no answer that may depend on the request: used for fields, and as the simple form of
/// an operation rule.
///
/// ```
/// use sonic_db_api::Check;
/// let admins_only: Check<bool> = Check::when(|ctx| async move { *ctx.principal });
/// # let _ = admins_only;
/// ```
pub enum Check<P> {
    /// Always yes.
    Allow,
    /// Always no.
    Deny,
    /// Asks the function.
    When(Arc<dyn Fn(Ctx<P>) -> BoxFuture<bool>>),
}

impl<P: 'static> Check<P> {
    /// An async check of the context.
    ///
    /// ```
    /// let signed_in = sonic_db_api::Check::<Option<String>>::when(|ctx| async move { ctx.principal.is_some() });
    /// # let _ = signed_in;
    /// ```
    pub fn when<F, Fut>(check: F) -> Self
    where
        F: Fn(Ctx<P>) -> Fut + 'static,
        Fut: Future<Output = bool> + 'static,
    {
        Check::When(Arc::new(move |ctx| Box::pin(check(ctx))))
    }

    pub(crate) async fn allows(&self, ctx: &Ctx<P>) -> bool {
        match self {
            Check::Allow => true,
            Check::Deny => false,
            Check::When(check) => check(ctx.clone()).await,
        }
    }
}

impl<P> Clone for Check<P> {
    fn clone(&self) -> Self {
        match self {
            Check::Allow => Check::Allow,
            Check::Deny => Check::Deny,
            Check::When(check) => Check::When(Arc::clone(check)),
        }
    }
}

/// The rule of one operation on one table.
///
/// ```
/// use sonic_db_api::Access;
/// # #[derive(Debug, Clone, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, user_id: String }
/// // Users change only their own posts: `WHERE user_id = ?` is added to the update.
/// let own: Access<Post, String> = Access::filter(|ctx: sonic_db_api::Ctx<String>| async move {
///     Post::USER_ID.eq(ctx.principal.as_str()).into()
/// });
/// # let _ = own;
/// ```
pub enum Access<T, P> {
    /// A yes/no check of the context (or a constant).
    Check(Check<P>),
    /// The [`Scope`] of rows the request may touch, AND-ed into the read, update or delete.
    /// On `create`, which has no rows to filter, only [`Scope::All`] allows.
    Filter(FilterRule<T, P>),
}

impl<T: 'static, P: 'static> Access<T, P> {
    /// Everyone may.
    ///
    /// ```
    /// let _public: sonic_db_api::Access<(), ()> = sonic_db_api::Access::allow();
    /// ```
    pub fn allow() -> Self {
        Access::Check(Check::Allow)
    }

    /// Nobody may (what a table without a rule answers).
    ///
    /// ```
    /// let _closed: sonic_db_api::Access<(), ()> = sonic_db_api::Access::deny();
    /// ```
    pub fn deny() -> Self {
        Access::Check(Check::Deny)
    }

    /// Those for whom `check` answers yes.
    ///
    /// ```
    /// let _admins: sonic_db_api::Access<(), bool> =
    ///     sonic_db_api::Access::when(|ctx| async move { *ctx.principal });
    /// ```
    pub fn when<F, Fut>(check: F) -> Self
    where
        F: Fn(Ctx<P>) -> Fut + 'static,
        Fut: Future<Output = bool> + 'static,
    {
        Access::Check(Check::when(check))
    }

    /// The rows `filter` returns for this request.
    ///
    /// ```
    /// # #[derive(Debug, Clone, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, published: bool }
    /// use sonic_db_api::{Access, Scope};
    /// // Editors (principal `true`) see every post, others the published ones.
    /// let _published: Access<Post, bool> = Access::filter(|ctx| async move {
    ///     if *ctx.principal { Scope::All } else { Scope::Only(Post::PUBLISHED.eq(true)) }
    /// });
    /// ```
    pub fn filter<F, Fut>(filter: F) -> Self
    where
        F: Fn(Ctx<P>) -> Fut + 'static,
        Fut: Future<Output = Scope<T>> + 'static,
    {
        Access::Filter(Arc::new(move |ctx| Box::pin(filter(ctx))))
    }

    pub(crate) async fn decide(&self, ctx: &Ctx<P>) -> Decision<T> {
        match self {
            Access::Check(check) => {
                if check.allows(ctx).await {
                    Decision::Allowed(None)
                } else {
                    Decision::Denied
                }
            }
            Access::Filter(filter) => match filter(ctx.clone()).await {
                Scope::All => Decision::Allowed(None),
                Scope::Only(filter) => Decision::Allowed(Some(filter)),
                Scope::Nothing => Decision::Denied,
            },
        }
    }

    /// Whether the rule is a yes/no one that lets everyone in without a filter, for relations:
    /// a loaded relation cannot carry a filter.
    pub(crate) async fn allows_unfiltered(&self, ctx: &Ctx<P>) -> bool {
        matches!(self.decide(ctx).await, Decision::Allowed(None))
    }
}

/// A rule that returns the rows a request may touch.
pub type FilterRule<T, P> = Arc<dyn Fn(Ctx<P>) -> BoxFuture<Scope<T>>>;

/// The rows a filter rule lets one request touch.
///
/// ```
/// # #[derive(Debug, Clone, sonic_db_core::Table)]
/// # #[table(name = "posts")]
/// # struct Post { #[column(primary_key)] id: String, user_id: String }
/// use sonic_db_api::Scope;
/// let own: Scope<Post> = Post::USER_ID.eq("u1").into();
/// assert!(matches!(own, Scope::Only(_)));
/// ```
pub enum Scope<T> {
    /// Every row: no condition (and a single `GET` may be served from KV).
    All,
    /// The rows matching the filter, AND-ed into the statement.
    Only(Filter<T>),
    /// None: the request is denied (403).
    Nothing,
}

impl<T> From<Filter<T>> for Scope<T> {
    fn from(filter: Filter<T>) -> Self {
        Scope::Only(filter)
    }
}

/// What an operation rule decided.
pub(crate) enum Decision<T> {
    /// Refused.
    Denied,
    /// Allowed, on the rows of the filter if there is one.
    Allowed(Option<Filter<T>>),
}

/// A rule on one record: the stored one for read/update/delete, the new one for create.
pub type ItemRule<T, P> = Arc<dyn Fn(Ctx<P>, T) -> BoxFuture<bool>>;

/// Who may read, create and update one field. Each defaults to allowed; a field hidden from
/// read is absent from every response (relations too) and cannot be filtered or sorted on.
///
/// ```
/// use sonic_db_api::{Check, FieldAccess};
/// // Everyone reads `role`; only admins (principal `true`) set it.
/// let role: FieldAccess<bool> = FieldAccess::new()
///     .create(Check::when(|ctx| async move { *ctx.principal }))
///     .update(Check::when(|ctx| async move { *ctx.principal }));
/// # let _ = role;
/// ```
pub struct FieldAccess<P> {
    pub(crate) read: Check<P>,
    pub(crate) create: Check<P>,
    pub(crate) update: Check<P>,
}

impl<P: 'static> FieldAccess<P> {
    /// Readable and writable by everyone who may do the operation.
    ///
    /// ```
    /// let _open: sonic_db_api::FieldAccess<()> = sonic_db_api::FieldAccess::new();
    /// ```
    pub fn new() -> Self {
        FieldAccess {
            read: Check::Allow,
            create: Check::Allow,
            update: Check::Allow,
        }
    }

    /// Who may see it.
    ///
    /// ```
    /// use sonic_db_api::{Check, FieldAccess};
    /// let _hidden: FieldAccess<()> = FieldAccess::new().read(Check::Deny);
    /// ```
    pub fn read(mut self, check: Check<P>) -> Self {
        self.read = check;
        self
    }

    /// Who may give it on create.
    ///
    /// ```
    /// use sonic_db_api::{Check, FieldAccess};
    /// let _fixed: FieldAccess<()> = FieldAccess::new().create(Check::Deny);
    /// ```
    pub fn create(mut self, check: Check<P>) -> Self {
        self.create = check;
        self
    }

    /// Who may change it.
    ///
    /// ```
    /// use sonic_db_api::{Check, FieldAccess};
    /// let _frozen: FieldAccess<()> = FieldAccess::new().update(Check::Deny);
    /// ```
    pub fn update(mut self, check: Check<P>) -> Self {
        self.update = check;
        self
    }
}

impl<P: 'static> Default for FieldAccess<P> {
    fn default() -> Self {
        Self::new()
    }
}

/// What happens to a field in a body that the principal may not write.
///
/// ```
/// let _strict = sonic_db_api::WritePolicy::Refuse;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WritePolicy {
    /// Dropped silently, as SonicJs does.
    #[default]
    Drop,
    /// The request is refused with a 403 naming the field.
    Refuse,
}
