//! The half of each operation that needs the record type: the rules' typed filters and item
//! rules, the typed queries, records from and to JSON. One trait object per table
//! ([`Records`]), so that the handlers, which do everything else, are compiled once for all
//! tables instead of once per table (the Worker's size, issue #14 item 5).

use std::any::Any;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use sonic_db_core::query::{and, or, Include, Op};
use sonic_db_core::{Db, Filter, Key, Order, Source, Table, TableDef, Value};

use crate::body::{check_addressable, new_record};
use crate::capped::Caps;
use crate::context::{Ctx, Operation};
use crate::error::ApiError;
use crate::etag::{etag, if_match, matches};
use crate::hooks::Hooks;
use crate::params::ListParams;
use crate::render::to_json;
use crate::route::{Call, LocalFuture};
use crate::rules::{Decision, WritePolicy};
use crate::table::{FieldRules, TableApi};

/// A typed value of a table (a filter, a query, a record), record-erased between the handlers
/// and the table it came from, which takes it back.
pub(crate) struct Erased(Box<dyn Any>);

impl Erased {
    fn new<X: 'static>(value: X) -> Self {
        Erased(Box::new(value))
    }

    fn take<X: 'static>(self) -> Result<X, ApiError> {
        self.0
            .downcast::<X>()
            .map(|value| *value)
            .map_err(|_| ApiError::internal("a typed value of another table"))
    }
}

/// What the operation's rule says.
pub(crate) enum Authorized {
    /// The table has no rule for it.
    NoRule,
    Denied,
    /// Allowed, within the rule's filter if any.
    Allowed(Option<Erased>),
}

/// A list request: its untyped parts and its typed filter and order.
pub(crate) struct ListSpec {
    pub(crate) limit: Option<u64>,
    pub(crate) offset: u64,
    pub(crate) relations: Vec<String>,
    query: Erased,
}

/// A table of the API as the handlers see it: its configuration, and the typed halves of the
/// operations.
pub(crate) trait Records<P> {
    fn def(&self) -> &'static TableDef;
    fn hooks(&self) -> &Hooks<P>;
    fn field_rules(&self) -> FieldRules<'_, P>;
    fn max_page(&self) -> u64;
    fn write_policy(&self) -> WritePolicy;
    /// The `with=` names, as registered.
    fn relation_names(&self) -> Vec<&str>;
    fn related_cap(&self, name: &str) -> u64;
    fn authorize<'a>(&'a self, ctx: &'a Ctx<P>) -> LocalFuture<'a, Authorized>;
    fn parse_list(
        &self,
        pairs: &[(String, String)],
        hidden: &[&str],
        max_like_bytes: usize,
    ) -> Result<ListSpec, ApiError>;
    /// The table's own conversion of a column value (`column_from_value`).
    fn column_from_value(&self, index: usize, value: Value) -> sonic_db_core::Result<Value>;
    /// The table's own conversion of a column's JSON (`column_from_json`).
    fn column_from_json(&self, index: usize, json: &Json) -> sonic_db_core::Result<Value>;
    /// A page of records as JSON (not stripped), and the total.
    fn page<'a>(
        &'a self,
        db: &'a Db,
        rule: Option<Erased>,
        spec: ListSpec,
        limit: u64,
        caps: &'a Caps,
    ) -> LocalFuture<'a, Result<(Vec<Json>, u64), ApiError>>;
    /// The record with key `key` (the path's `id`) as JSON (not stripped), its ETag and where
    /// it was read; its item rule checked.
    fn read<'a>(
        &'a self,
        read: Read<'a, P>,
    ) -> LocalFuture<'a, Result<(Json, String, Source), ApiError>>;
    /// A new record from a body's filtered fields; its id checked, its item rule asked.
    fn new_record<'a>(
        &'a self,
        ctx: &'a Ctx<P>,
        fields: Map<String, Json>,
    ) -> LocalFuture<'a, Result<Erased, ApiError>>;
    /// Inserts the new records, as stored, as JSON (not stripped).
    fn insert<'a>(
        &'a self,
        db: &'a Db,
        records: Vec<Erased>,
        many: bool,
    ) -> LocalFuture<'a, Result<Vec<Json>, ApiError>>;
    /// Sets `fields` of the record, checked as [`Records::delete`]; the record as stored, as
    /// JSON (not stripped), and its ETag.
    fn update<'a>(
        &'a self,
        write: Write<'a, P>,
        fields: &'a Map<String, Json>,
    ) -> LocalFuture<'a, Result<(Json, String), ApiError>>;
    /// Deletes the record, if it is still the one `If-Match` and the item rule saw.
    fn delete<'a>(&'a self, write: Write<'a, P>) -> LocalFuture<'a, Result<(), ApiError>>;
}

/// A single-record read.
pub(crate) struct Read<'a, P> {
    pub(crate) db: &'a Db,
    pub(crate) ctx: &'a Ctx<P>,
    pub(crate) key: Vec<Value>,
    pub(crate) id: &'a str,
    pub(crate) rule: Option<Erased>,
    pub(crate) caps: &'a Caps,
}

/// An update or a delete by key.
pub(crate) struct Write<'a, P> {
    pub(crate) db: &'a Db,
    /// The request's `If-Match` values.
    pub(crate) if_match: &'a [&'a [u8]],
    pub(crate) ctx: &'a Ctx<P>,
    pub(crate) key: Vec<Value>,
    pub(crate) id: &'a str,
    pub(crate) rule: Option<Erased>,
}

impl<'a, P> Write<'a, P> {
    /// The write of `call`'s record `key` (the path's `id`) under `rule`.
    pub(crate) fn new(
        call: &'a Call<'_, P>,
        ctx: &'a Ctx<P>,
        key: Vec<Value>,
        id: &'a str,
        rule: Option<Erased>,
    ) -> Self {
        Write {
            db: call.db,
            if_match: call.if_match,
            ctx,
            key,
            id,
            rule,
        }
    }
}

fn rule_filter<T: 'static>(rule: Option<Erased>) -> Result<Option<Filter<T>>, ApiError> {
    rule.map(Erased::take::<Filter<T>>).transpose()
}

impl<T, P> TableApi<T, P>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    /// The eager loads of the relations asked for, each `many` level capped at one record
    /// more than its cap.
    fn includes(&self, caps: &Caps) -> Result<Vec<Include<T>>, ApiError> {
        let mut includes = Vec::with_capacity(caps.relations.len());
        for (name, cap) in &caps.relations {
            let (_, include) = self
                .relations
                .iter()
                .find(|(n, _)| n == name)
                .ok_or_else(|| ApiError::internal(format!("no relation `{name}`")))?;
            includes.push(include().limit_each(cap.saturating_add(1)));
        }
        Ok(includes)
    }

    /// The key and the rule's filter: what a write by key may touch.
    fn scope(key: Vec<Value>, rule: Option<Erased>) -> Result<Vec<Filter<T>>, ApiError> {
        let mut scope = vec![Filter::by_key(&key)?];
        scope.extend(rule_filter::<T>(rule)?);
        Ok(scope)
    }

    /// Reads the record when an item rule or `If-Match` must see it, checks both, and returns
    /// the condition "still that row" under which the write may apply.
    async fn check_stored(
        &self,
        write: &Write<'_, P>,
        scope: &[Filter<T>],
    ) -> Result<Option<Filter<T>>, ApiError> {
        let (ctx, id) = (write.ctx, write.id);
        let tags = if_match(write.if_match)?;
        let rule = self.item_rule(ctx.operation);
        if tags.is_none() && rule.is_none() {
            return Ok(None);
        }
        let mut select = write.db.select::<T>();
        for filter in scope {
            select = select.filter(filter.clone());
        }
        let Some(stored) = select.first().await? else {
            return Err(missing(T::DEF, id));
        };
        if let Some(tags) = tags {
            let current = etag(&stored)?;
            if !matches(&tags, &current) {
                return Err(changed(T::DEF, id, &current));
            }
        }
        if let Some(rule) = rule {
            if !rule(ctx.clone(), stored.clone()).await {
                return Err(item_denied(T::DEF, ctx.operation, id));
            }
        }
        Ok(Some(unchanged(&stored)?))
    }

    /// Why a write by key changed nothing: the row is gone or out of the rule's scope (404),
    /// or it changed after the check (412).
    async fn lost(&self, db: &Db, scope: &[Filter<T>], conditional: bool, id: &str) -> ApiError {
        if conditional {
            let mut select = db.select::<T>();
            for filter in scope {
                select = select.filter(filter.clone());
            }
            if let Ok(Some(_)) = select.first().await {
                return changed_meanwhile(T::DEF, id);
            }
        }
        missing(T::DEF, id)
    }
}

impl<T, P> Records<P> for TableApi<T, P>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    fn def(&self) -> &'static TableDef {
        T::DEF
    }

    fn hooks(&self) -> &Hooks<P> {
        &self.hooks
    }

    fn field_rules(&self) -> FieldRules<'_, P> {
        TableApi::field_rules(self)
    }

    fn max_page(&self) -> u64 {
        self.max_page
    }

    fn write_policy(&self) -> WritePolicy {
        self.write_policy
    }

    fn relation_names(&self) -> Vec<&str> {
        self.relations.iter().map(|(n, _)| n.as_str()).collect()
    }

    fn related_cap(&self, name: &str) -> u64 {
        TableApi::related_cap(self, name)
    }

    fn authorize<'a>(&'a self, ctx: &'a Ctx<P>) -> LocalFuture<'a, Authorized> {
        Box::pin(async move {
            let Some(rule) = self.rule(ctx.operation) else {
                return Authorized::NoRule;
            };
            match rule.decide(ctx).await {
                Decision::Denied => Authorized::Denied,
                Decision::Allowed(filter) => Authorized::Allowed(filter.map(Erased::new)),
            }
        })
    }

    fn parse_list(
        &self,
        pairs: &[(String, String)],
        hidden: &[&str],
        max_like_bytes: usize,
    ) -> Result<ListSpec, ApiError> {
        let mut groups: Vec<Vec<Filter<T>>> = Vec::new();
        let params = ListParams::parse(
            T::DEF,
            pairs,
            hidden,
            max_like_bytes,
            &mut |group, column, op, text| {
                let filter = Filter::<T>::parse(column, op, text)?;
                match groups.get_mut(group) {
                    Some(alternatives) => alternatives.push(filter),
                    None => groups.push(vec![filter]),
                }
                Ok(())
            },
        )?;
        let filter = (!groups.is_empty()).then(|| and(groups.into_iter().map(or)));
        let order = params
            .order
            .iter()
            .map(|&(column, direction)| Order::<T>::by_name(column, direction))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ListSpec {
            limit: params.limit,
            offset: params.offset,
            relations: params.relations,
            query: Erased::new((filter, order)),
        })
    }

    fn column_from_value(&self, index: usize, value: Value) -> sonic_db_core::Result<Value> {
        T::column_from_value(index, value)
    }

    fn column_from_json(&self, index: usize, json: &Json) -> sonic_db_core::Result<Value> {
        T::column_from_json(index, json)
    }

    fn page<'a>(
        &'a self,
        db: &'a Db,
        rule: Option<Erased>,
        spec: ListSpec,
        limit: u64,
        caps: &'a Caps,
    ) -> LocalFuture<'a, Result<(Vec<Json>, u64), ApiError>> {
        Box::pin(async move {
            let (filter, order) = spec.query.take::<(Option<Filter<T>>, Vec<Order<T>>)>()?;
            let mut select = db.select::<T>().limit(limit).offset(spec.offset);
            for filter in filter.into_iter().chain(rule_filter::<T>(rule)?) {
                select = select.filter(filter);
            }
            for order in order {
                select = select.order_by(order);
            }
            for include in self.includes(caps)? {
                select = select.with(include);
            }
            let page = select.page().await?;
            let data = page
                .items
                .iter()
                .map(|record| to_json(record, T::DEF))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((data, page.total))
        })
    }

    fn read<'a>(
        &'a self,
        read: Read<'a, P>,
    ) -> LocalFuture<'a, Result<(Json, String, Source), ApiError>> {
        Box::pin(async move {
            let Read {
                db,
                ctx,
                key,
                id,
                rule,
                caps,
            } = read;
            let rule = rule_filter::<T>(rule)?;
            let includes = self.includes(caps)?;
            let (record, source) = if rule.is_none() && includes.is_empty() {
                let key = <T::PrimaryKey as Key>::from_key_parts(key)
                    .map_err(|e| ApiError::bad_request(format!("invalid id `{id}`: {e}")))?;
                match db.find_with_source::<T>(key).await? {
                    Some(found) => (found.record, found.source),
                    None => return Err(missing(T::DEF, id)),
                }
            } else {
                let mut select = db.select::<T>().filter(Filter::by_key(&key)?);
                if let Some(filter) = rule {
                    select = select.filter(filter);
                }
                for include in includes {
                    select = select.with(include);
                }
                match select.first().await? {
                    Some(record) => (record, Source::D1),
                    None => return Err(missing(T::DEF, id)),
                }
            };
            if let Some(rule) = self.item_rule(Operation::Read) {
                if !rule(ctx.clone(), record.clone()).await {
                    return Err(item_denied(T::DEF, Operation::Read, id));
                }
            }
            let tag = etag(&record)?;
            Ok((to_json(&record, T::DEF)?, tag, source))
        })
    }

    fn new_record<'a>(
        &'a self,
        ctx: &'a Ctx<P>,
        fields: Map<String, Json>,
    ) -> LocalFuture<'a, Result<Erased, ApiError>> {
        Box::pin(async move {
            let record: T = new_record(fields)?;
            for part in record.key_values()? {
                check_addressable(T::DEF.name, &part)?;
            }
            if let Some(rule) = self.item_rule(Operation::Create) {
                if !rule(ctx.clone(), record.clone()).await {
                    return Err(ApiError::forbidden(format!(
                        "create on `{}` is not allowed for this record",
                        T::DEF.name
                    )));
                }
            }
            Ok(Erased::new(record))
        })
    }

    fn insert<'a>(
        &'a self,
        db: &'a Db,
        records: Vec<Erased>,
        many: bool,
    ) -> LocalFuture<'a, Result<Vec<Json>, ApiError>> {
        Box::pin(async move {
            let records = records
                .into_iter()
                .map(Erased::take::<T>)
                .collect::<Result<Vec<_>, _>>()?;
            let stored = match records.as_slice() {
                [one] if !many => vec![db.insert(one).await?],
                _ => db.insert_many(&records).await?,
            };
            stored
                .iter()
                .map(|record| to_json(record, T::DEF))
                .collect()
        })
    }

    fn update<'a>(
        &'a self,
        mut write: Write<'a, P>,
        fields: &'a Map<String, Json>,
    ) -> LocalFuture<'a, Result<(Json, String), ApiError>> {
        Box::pin(async move {
            let scope = Self::scope(write.key.clone(), write.rule.take())?;
            let seen = self.check_stored(&write, &scope).await?;
            let mut update = write.db.update_where::<T>();
            for (field, value) in fields {
                let column = T::DEF.columns.iter().find(|c| c.field == field);
                if let Some(column) = column {
                    update = update.set_json(column.name, value)?;
                }
            }
            for filter in &scope {
                update = update.filter(filter.clone());
            }
            let conditional = seen.is_some();
            if let Some(unchanged) = seen {
                update = update.filter(unchanged);
            }
            let Some(updated) = update.returning().await?.into_iter().next() else {
                return Err(self.lost(write.db, &scope, conditional, write.id).await);
            };
            let tag = etag(&updated)?;
            Ok((to_json(&updated, T::DEF)?, tag))
        })
    }

    fn delete<'a>(&'a self, mut write: Write<'a, P>) -> LocalFuture<'a, Result<(), ApiError>> {
        Box::pin(async move {
            let scope = Self::scope(write.key.clone(), write.rule.take())?;
            let seen = self.check_stored(&write, &scope).await?;
            let mut delete = write.db.delete_where::<T>();
            for filter in &scope {
                delete = delete.filter(filter.clone());
            }
            let conditional = seen.is_some();
            if let Some(unchanged) = seen {
                delete = delete.filter(unchanged);
            }
            if delete.returning().await?.is_empty() {
                return Err(self.lost(write.db, &scope, conditional, write.id).await);
            }
            Ok(())
        })
    }
}

/// Every column equal to what was read: a compare-and-set condition.
fn unchanged<T: Table>(stored: &T) -> Result<Filter<T>, ApiError> {
    let mut row = Vec::with_capacity(T::DEF.columns.len());
    stored.encode_into(&mut row)?;
    let mut conditions = Vec::with_capacity(row.len());
    for (column, value) in T::DEF.columns.iter().zip(row) {
        let condition = match value {
            Value::Null => Filter::by_name(column.name, Op::IsNull, [])?,
            value => Filter::by_name(column.name, Op::Eq, [value])?,
        };
        conditions.push(condition);
    }
    Ok(and(conditions))
}

pub(crate) fn missing(def: &'static TableDef, id: &str) -> ApiError {
    ApiError::not_found(format!("no `{}` record with id `{id}`", def.name))
}

fn item_denied(def: &'static TableDef, operation: Operation, id: &str) -> ApiError {
    ApiError::forbidden(format!(
        "{} of `{}` `{id}` is not allowed",
        operation.name(),
        def.name
    ))
}

fn changed(def: &'static TableDef, id: &str, current: &str) -> ApiError {
    ApiError::new(
        412,
        format!("`{}` `{id}` has changed (its ETag is {current})", def.name),
    )
}

fn changed_meanwhile(def: &'static TableDef, id: &str) -> ApiError {
    ApiError::new(
        412,
        format!(
            "`{}` `{id}` changed while it was being written; read it again",
            def.name
        ),
    )
}
