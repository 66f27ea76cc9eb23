//! One table served by the API: its route name, the relations clients may load, its page
//! size, access rules, secret fields and hooks. A builder; [`crate::Api::table`] registers it.

use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use sonic_db_core::query::Include;
use sonic_db_core::{Column, Table, TableDef};

use crate::context::{Ctx, Operation};
use crate::error::ApiError;
use crate::hooks::Hooks;
use crate::rules::{Access, FieldAccess, ItemRule, WritePolicy};

/// Records per page when the client does not say.
pub const DEFAULT_PAGE: u64 = 100;

/// The most records a loaded `many` relation holds per record unless the table says otherwise
/// ([`TableApi::max_related`]); more are left out and the response says so (`truncated`).
pub const DEFAULT_MAX_RELATED: u64 = 100;

/// How a `with=` name builds the eager load.
pub(crate) type IncludeFn<T> = Arc<dyn Fn() -> Include<T>>;

/// A table of the API, for records of `T` and principals of type `P`.
///
/// **Secure by default**: every operation is denied (403) until a rule allows it, so that
/// registering a table never publishes it by accident.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use sonic_db_api::{Access, TableApi};
///
/// #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
/// #[table(name = "users")]
/// struct User {
///     #[column(primary_key)]
///     id: String,
///     email: String,
///     #[column(secret)] // never in a response, never filtered or sorted on
///     password: String,
/// }
///
/// let users: TableApi<User, Option<String>> = TableApi::new("users")
///     .read(Access::allow())
///     .create(Access::when(|ctx: sonic_db_api::Ctx<Option<String>>| async move {
///         ctx.principal.is_some() // signed in
///     }));
/// # let _ = users;
/// ```
pub struct TableApi<T: 'static, P> {
    pub(crate) route: String,
    pub(crate) relations: Vec<(String, IncludeFn<T>)>,
    pub(crate) max_page: u64,
    pub(crate) max_related: u64,
    pub(crate) related_caps: Vec<(String, u64)>,
    pub(crate) access: [Option<Access<T, P>>; 4],
    pub(crate) items: [Option<ItemRule<T, P>>; 4],
    pub(crate) fields: Vec<(usize, FieldAccess<P>)>,
    pub(crate) secrets: Vec<usize>,
    pub(crate) write_policy: WritePolicy,
    pub(crate) client_ids: bool,
    pub(crate) hooks: Hooks<P>,
}

pub(crate) fn slot(operation: Operation) -> usize {
    match operation {
        Operation::Create => 0,
        Operation::Read => 1,
        Operation::Update => 2,
        Operation::Delete => 3,
    }
}

impl<T: 'static, P> TableApi<T, P>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    /// Serves `T` under `/{prefix}/{route}`; every operation denied until allowed.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    /// let posts = sonic_db_api::TableApi::<Post, ()>::new("posts");
    /// # let _ = posts;
    /// ```
    pub fn new(route: impl Into<String>) -> Self {
        TableApi {
            route: route.into(),
            relations: Vec::new(),
            max_page: DEFAULT_PAGE,
            max_related: DEFAULT_MAX_RELATED,
            related_caps: Vec::new(),
            access: [None, None, None, None],
            items: [None, None, None, None],
            fields: Vec::new(),
            secrets: Vec::new(),
            write_policy: WritePolicy::Drop,
            client_ids: false,
            hooks: Hooks::default(),
        }
    }

    /// Lets clients load a relation with `?with=name`; `name` is the relation's field, nested
    /// ones joined by dots (`posts.comments`), and `include` builds the eager load. The
    /// related tables' own rules apply: a relation loads only if the principal may read its
    /// table without a filter, and their hidden fields are absent.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String,
    /// #   #[relation(many, remote = user_id)] #[serde(default)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String }
    /// let users = sonic_db_api::TableApi::<User, ()>::new("users").relation("posts", || User::POSTS.into());
    /// # let _ = users;
    /// ```
    pub fn relation(
        mut self,
        name: impl Into<String>,
        include: impl Fn() -> Include<T> + 'static,
    ) -> Self {
        self.relations.push((name.into(), Arc::new(include)));
        self
    }

    /// The largest page a client may ask for (default and cap of `limit`: 100).
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    /// let posts = sonic_db_api::TableApi::<Post, ()>::new("posts").max_page(20);
    /// # let _ = posts;
    /// ```
    pub fn max_page(mut self, records: u64) -> Self {
        self.max_page = records;
        self
    }

    /// The most records each loaded `many` relation holds per record, at every level of a
    /// nested name (default [`DEFAULT_MAX_RELATED`]). The cap is in the SQL (the relation's
    /// `LIMIT`), so a record with thousands of children never sends them all in one database
    /// result; the first ones by primary key are kept and the response's `truncated` names the
    /// relations that had more (`{"truncated": {"posts": 100}}`), to page through their own
    /// route (`/posts?filters[user_id][$eq]=…`).
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String,
    /// #   #[relation(many, remote = user_id)] #[serde(default)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String }
    /// let users = sonic_db_api::TableApi::<User, ()>::new("users")
    ///     .relation("posts", || User::POSTS.into())
    ///     .max_related(20);
    /// # let _ = users;
    /// ```
    pub fn max_related(mut self, records: u64) -> Self {
        self.max_related = records;
        self
    }

    /// [`TableApi::max_related`] for one relation name (as given to [`TableApi::relation`]).
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "users")]
    /// # struct User { #[column(primary_key)] id: String,
    /// #   #[relation(many, remote = user_id)] #[serde(default)] posts: Option<Vec<Post>> }
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # #[table(name = "posts")]
    /// # struct Post { #[column(primary_key)] id: String, #[column(references = User::ID)] user_id: String }
    /// let users = sonic_db_api::TableApi::<User, ()>::new("users")
    ///     .relation("posts", || User::POSTS.into())
    ///     .max_related_for("posts", 10);
    /// # let _ = users;
    /// ```
    pub fn max_related_for(mut self, relation: impl Into<String>, records: u64) -> Self {
        let relation = relation.into();
        self.related_caps.retain(|(name, _)| *name != relation);
        self.related_caps.push((relation, records));
        self
    }

    /// The cap of the relation loaded as `name`.
    pub(crate) fn related_cap(&self, name: &str) -> u64 {
        self.related_caps
            .iter()
            .find(|(n, _)| n == name)
            .map_or(self.max_related, |(_, cap)| *cap)
    }

    /// The rule of `GET` (lists and single records).
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    /// let posts = sonic_db_api::TableApi::<Post, ()>::new("posts").read(sonic_db_api::Access::allow());
    /// # let _ = posts;
    /// ```
    pub fn read(self, rule: Access<T, P>) -> Self {
        self.access(Operation::Read, rule)
    }

    /// The rule of `POST` (a filter rule denies: there are no rows to filter).
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    /// let posts = sonic_db_api::TableApi::<Post, bool>::new("posts")
    ///     .create(sonic_db_api::Access::when(|ctx| async move { *ctx.principal }));
    /// # let _ = posts;
    /// ```
    pub fn create(self, rule: Access<T, P>) -> Self {
        self.access(Operation::Create, rule)
    }

    /// The rule of `PUT`/`PATCH`.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    /// let posts = sonic_db_api::TableApi::<Post, ()>::new("posts").update(sonic_db_api::Access::deny());
    /// # let _ = posts;
    /// ```
    pub fn update(self, rule: Access<T, P>) -> Self {
        self.access(Operation::Update, rule)
    }

    /// The rule of `DELETE`.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    /// let posts = sonic_db_api::TableApi::<Post, ()>::new("posts").delete(sonic_db_api::Access::deny());
    /// # let _ = posts;
    /// ```
    pub fn delete(self, rule: Access<T, P>) -> Self {
        self.access(Operation::Delete, rule)
    }

    /// The rule of any operation.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    /// use sonic_db_api::{Access, Operation, TableApi};
    /// let posts = TableApi::<Post, ()>::new("posts").access(Operation::Read, Access::allow());
    /// # let _ = posts;
    /// ```
    pub fn access(mut self, operation: Operation, rule: Access<T, P>) -> Self {
        if let Some(place) = self.access.get_mut(slot(operation)) {
            *place = Some(rule);
        }
        self
    }

    /// An item rule: for read, update and delete asked of the stored record (a single `GET`,
    /// `PUT`/`PATCH`, `DELETE`; lists are governed by filter rules), for create of each new
    /// record. A `false` is a 403 and nothing is written. The update or delete that follows
    /// applies only if the record is still the one the rule saw.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String, locked: bool }
    /// use sonic_db_api::{Access, Operation, TableApi};
    /// let posts = TableApi::<Post, ()>::new("posts")
    ///     .update(Access::allow())
    ///     .item(Operation::Update, |_ctx, post| async move { !post.locked });
    /// # let _ = posts;
    /// ```
    pub fn item<F, Fut>(mut self, operation: Operation, rule: F) -> Self
    where
        F: Fn(Ctx<P>, T) -> Fut + 'static,
        Fut: Future<Output = bool> + 'static,
    {
        let rule: ItemRule<T, P> = Arc::new(move |ctx, record| Box::pin(rule(ctx, record)));
        if let Some(place) = self.items.get_mut(slot(operation)) {
            *place = Some(rule);
        }
        self
    }

    /// Who may read, create and update one field.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct User { #[column(primary_key)] id: String, role: String }
    /// use sonic_db_api::{Check, FieldAccess, TableApi};
    /// let users = TableApi::<User, bool>::new("users")
    ///     .field(User::ROLE, FieldAccess::new().update(Check::when(|ctx| async move { *ctx.principal })));
    /// # let _ = users;
    /// ```
    pub fn field<V>(mut self, column: Column<T, V>, access: FieldAccess<P>) -> Self {
        self.fields.retain(|(index, _)| *index != column.index());
        self.fields.push((column.index(), access));
        self
    }

    /// A write-only field (a password hash): never in a response, never filtered or sorted
    /// on; still written from bodies where its field rules allow. Columns declared
    /// `#[column(secret)]` are secret without it; this makes more columns secret in this API
    /// only.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct User { #[column(primary_key)] id: String, password: String }
    /// let users = sonic_db_api::TableApi::<User, ()>::new("users").secret(User::PASSWORD);
    /// # let _ = users;
    /// ```
    pub fn secret<V>(mut self, column: Column<T, V>) -> Self {
        self.secrets.push(column.index());
        self
    }

    /// What a field the principal may not write does to a body: dropped (default, as
    /// SonicJs) or a 403.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    /// use sonic_db_api::{TableApi, WritePolicy};
    /// let posts = TableApi::<Post, ()>::new("posts").on_unwritable(WritePolicy::Refuse);
    /// # let _ = posts;
    /// ```
    pub fn on_unwritable(mut self, policy: WritePolicy) -> Self {
        self.write_policy = policy;
        self
    }

    /// Takes the primary key from `POST` bodies (ids are refused when a URL could not
    /// address them: empty, `.`, `..`, containing `/`, over 512 bytes). Without it, ids are
    /// generated (text keys: v4 UUIDs) and an id in a body is an unwritable field.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Tag { #[column(primary_key)] id: String }
    /// let tags = sonic_db_api::TableApi::<Tag, ()>::new("tags").client_ids(true);
    /// # let _ = tags;
    /// ```
    pub fn client_ids(mut self, allowed: bool) -> Self {
        self.client_ids = allowed;
        self
    }

    /// The `resolve_input` hook: rewrites each create body and each update body.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String, user_id: String }
    /// let posts = sonic_db_api::TableApi::<Post, String>::new("posts").resolve_input(|ctx, mut input| async move {
    ///     input.insert("user_id".into(), ctx.principal.as_str().into()); // the author is who posts
    ///     Ok(input)
    /// });
    /// # let _ = posts;
    /// ```
    pub fn resolve_input<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Ctx<P>, Map<String, Json>) -> Fut + 'static,
        Fut: Future<Output = Result<Map<String, Json>, ApiError>> + 'static,
    {
        self.hooks.resolve_input = Some(Arc::new(move |ctx, input| Box::pin(hook(ctx, input))));
        self
    }

    /// The `before_operation` hook: after the access rules, before the database.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    /// use sonic_db_api::{ApiError, Operation};
    /// let posts = sonic_db_api::TableApi::<Post, ()>::new("posts").before_operation(|ctx| async move {
    ///     match ctx.operation {
    ///         Operation::Delete => Err(ApiError::new(409, "posts are archived, not deleted")),
    ///         _ => Ok(()),
    ///     }
    /// });
    /// # let _ = posts;
    /// ```
    pub fn before_operation<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Ctx<P>) -> Fut + 'static,
        Fut: Future<Output = Result<(), ApiError>> + 'static,
    {
        self.hooks.before = Some(Arc::new(move |ctx| Box::pin(hook(ctx))));
        self
    }

    /// The `after_operation` hook, with the response's `data`.
    ///
    /// ```
    /// # #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, sonic_db_core::Table)]
    /// # struct Post { #[column(primary_key)] id: String }
    /// let posts = sonic_db_api::TableApi::<Post, ()>::new("posts").after_operation(|ctx, data| async move {
    ///     tracing::info!(table = ctx.table, op = ctx.operation.name(), %data, "served");
    ///     Ok(())
    /// });
    /// # let _ = posts;
    /// ```
    pub fn after_operation<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Ctx<P>, Json) -> Fut + 'static,
        Fut: Future<Output = Result<(), ApiError>> + 'static,
    {
        self.hooks.after = Some(Arc::new(move |ctx, data| Box::pin(hook(ctx, data))));
        self
    }

    pub(crate) fn rule(&self, operation: Operation) -> Option<&Access<T, P>> {
        self.access.get(slot(operation)).and_then(Option::as_ref)
    }

    pub(crate) fn item_rule(&self, operation: Operation) -> Option<&ItemRule<T, P>> {
        self.items.get(slot(operation)).and_then(Option::as_ref)
    }

    /// The field rules, without the record type.
    pub(crate) fn field_rules(&self) -> FieldRules<'_, P> {
        FieldRules {
            def: T::DEF,
            fields: &self.fields,
            secrets: &self.secrets,
            client_ids: self.client_ids,
        }
    }

    /// The fields (Rust/JSON names) this principal may not see.
    pub(crate) async fn hidden_fields(&self, ctx: &Ctx<P>) -> Vec<&'static str> {
        self.field_rules().hidden(ctx).await
    }

    /// Which columns this principal may write in the context's operation, by index.
    pub(crate) async fn writable_columns(&self, ctx: &Ctx<P>) -> Vec<bool> {
        self.field_rules().writable(ctx).await
    }
}

/// A table's field rules and secrets: not generic over the record type, so compiled once for
/// every table.
pub(crate) struct FieldRules<'a, P> {
    pub(crate) def: &'static TableDef,
    fields: &'a [(usize, FieldAccess<P>)],
    secrets: &'a [usize],
    client_ids: bool,
}

impl<P: 'static> FieldRules<'_, P> {
    fn field_access(&self, index: usize) -> Option<&FieldAccess<P>> {
        self.fields
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, a)| a)
    }

    /// The fields (Rust/JSON names) this principal may not see.
    pub(crate) async fn hidden(&self, ctx: &Ctx<P>) -> Vec<&'static str> {
        let mut hidden = Vec::new();
        for (index, column) in self.def.columns.iter().enumerate() {
            let secret = column.secret || self.secrets.contains(&index);
            let unreadable = match self.field_access(index) {
                Some(access) => !access.read.allows(ctx).await,
                None => false,
            };
            if secret || unreadable {
                hidden.push(column.field);
            }
        }
        hidden
    }

    /// Which columns this principal may write in the context's operation, by index.
    pub(crate) async fn writable(&self, ctx: &Ctx<P>) -> Vec<bool> {
        let mut writable = Vec::with_capacity(self.def.columns.len());
        for (index, column) in self.def.columns.iter().enumerate() {
            let allowed = if column.audit.is_some() {
                false
            } else if column.primary_key {
                // A composite key's parts are the record's own data, given by the client.
                ctx.operation == Operation::Create
                    && (self.client_ids || self.def.has_composite_key())
            } else {
                match self.field_access(index) {
                    Some(access) => match ctx.operation {
                        Operation::Create => access.create.allows(ctx).await,
                        _ => access.update.allows(ctx).await,
                    },
                    None => true,
                }
            };
            writable.push(allowed);
        }
        writable
    }
}
