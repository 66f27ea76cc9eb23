//! The five operations, once for every table: access rules, hooks, field rules, then Sonic.
//! Everything a client can get wrong is refused before the first write; writes of several
//! records are one atomic batch, and an update or delete conditioned on what a rule or an
//! `If-Match` saw applies only if the row is still that one (compare-and-set in SQL).

use http::{header, Method};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value as Json};
use sonic_db_core::query::{and, Include, Op};
use sonic_db_core::{Filter, Key, Source, SqlType, Table, Value};

use crate::body::{
    check_addressable, columns_of, expect_object, new_record, parse_json, value_bytes,
    MAX_ROW_BYTES,
};
use crate::capped::{report, Caps};
use crate::context::{Ctx, Operation};
use crate::error::ApiError;
use crate::etag::{etag, if_match, matches};
use crate::params::{expect_no_query, record_relations, ListParams};
use crate::render::{render, Views};
use crate::reply::not_allowed;
use crate::reply::Reply;
use crate::route::{decode_segment, Call};
use crate::rules::{Decision, WritePolicy};
use crate::table::TableApi;

/// Dispatches by method and the presence of an id.
pub(crate) async fn serve<T, P>(
    table: &TableApi<T, P>,
    call: Call<'_, P>,
) -> Result<Reply, ApiError>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    let method = call.method.clone();
    match (method, call.id.is_some()) {
        (Method::GET, false) => list(table, &call).await,
        (Method::POST, false) => create(table, &call).await,
        (Method::GET, true) => get(table, &call).await,
        (Method::PUT | Method::PATCH, true) => update(table, &call).await,
        (Method::DELETE, true) => delete(table, &call).await,
        (_, false) => Ok(not_allowed("GET, POST")),
        (_, true) => Ok(not_allowed("GET, PUT, PATCH, DELETE")),
    }
}

/// The operation's rule: its filter, or a 403 (no rule: denied).
async fn authorize<T, P>(
    table: &TableApi<T, P>,
    ctx: &Ctx<P>,
) -> Result<Option<Filter<T>>, ApiError>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    let denied = || {
        ApiError::forbidden(format!(
            "{} on `{}` is not allowed",
            ctx.operation.name(),
            T::DEF.name
        ))
    };
    let rule = table.rule(ctx.operation).ok_or_else(denied)?;
    match rule.decide(ctx).await {
        Decision::Denied => Err(denied()),
        Decision::Allowed(filter) => Ok(filter),
    }
}

/// What the response may show of `T` and of each relation asked for, their eager loads (each
/// `many` level capped at one record more than its cap) and the caps.
async fn views<T, P>(
    table: &TableApi<T, P>,
    call: &Call<'_, P>,
    ctx: &Ctx<P>,
    relations: &[String],
) -> Result<(Views, Vec<Include<T>>, Caps), ApiError>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    let mut views = Views::default();
    views.add(T::DEF.name, table.hidden_fields(ctx).await);
    let mut includes = Vec::with_capacity(relations.len());
    let mut caps = Caps::default();
    let mut fields: Vec<&str> = Vec::with_capacity(relations.len());
    for name in relations {
        let Some((_, include)) = table.relations.iter().find(|(n, _)| n == name) else {
            let names: Vec<&str> = table.relations.iter().map(|(n, _)| n.as_str()).collect();
            return Err(ApiError::bad_request(format!(
                "`{}` has no relation `{name}` to load (with: {})",
                T::DEF.name,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        };
        let first = name.split('.').next().unwrap_or(name);
        if fields.contains(&first) {
            return Err(ApiError::bad_request(format!(
                "`with` names `{first}` twice (`{name}`): ask for one"
            )));
        }
        fields.push(first);
        let mut def = T::DEF;
        for step in name.split('.') {
            let relation = def.relation(step).ok_or_else(|| {
                ApiError::internal(format!(
                    "the relation name `{name}` of `{}` does not match its schema at `{step}`",
                    T::DEF.name
                ))
            })?;
            let target = (relation.target)();
            let route = call.routes.table_named(target.name).ok_or_else(|| {
                ApiError::forbidden(format!(
                    "`{name}` loads `{}`, which this API does not serve",
                    target.name
                ))
            })?;
            let target_ctx = Ctx::shared(
                std::sync::Arc::clone(&ctx.principal),
                Operation::Read,
                target.name,
                None,
            );
            let hidden = route.relation_view(target_ctx).await.ok_or_else(|| {
                ApiError::forbidden(format!(
                    "`{name}` loads `{}`, which you may not read without conditions",
                    target.name
                ))
            })?;
            views.add(target.name, hidden);
            def = target;
        }
        let cap = table.related_cap(name);
        includes.push(include().limit_each(cap.saturating_add(1)));
        caps.relations.push((name.clone(), cap));
    }
    Ok((views, includes, caps))
}

/// `GET /{route}`: a page, filtered, sorted, with relations, and the total.
async fn list<T, P>(table: &TableApi<T, P>, call: &Call<'_, P>) -> Result<Reply, ApiError>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    let ctx = call.ctx(Operation::Read, T::DEF.name);
    let rule_filter = authorize(table, &ctx).await?;
    let hidden = table.hidden_fields(&ctx).await;
    let limits = call.routes.limits;
    let params = ListParams::<T>::parse(&call.query, &hidden, limits.max_like_bytes)?;
    let (views, includes, caps) = views(table, call, &ctx, &params.relations).await?;
    let cap = if includes.is_empty() {
        table.max_page
    } else {
        table.max_page.min(limits.max_page_with_relations)
    };
    let limit = params.limit.unwrap_or(cap);
    if limit > cap {
        return Err(ApiError::bad_request(format!(
            "`limit` is {limit}; `{}` pages hold at most {cap} records{}",
            T::DEF.name,
            if includes.is_empty() {
                ""
            } else {
                " with relations"
            }
        )));
    }
    table.hooks.before(&ctx).await?;
    let mut select = call.db.select::<T>().limit(limit).offset(params.offset);
    for filter in params.filter.into_iter().chain(rule_filter) {
        select = select.filter(filter);
    }
    for order in params.order {
        select = select.order_by(order);
    }
    for include in includes {
        select = select.with(include);
    }
    let page = select.page().await?;
    let mut truncated = Default::default();
    let mut data = Vec::with_capacity(page.items.len());
    for record in &page.items {
        let mut json = render(record, T::DEF, &views)?;
        caps.apply(&mut json, T::DEF, &mut truncated);
        data.push(json);
    }
    let data = Json::Array(data);
    table.hooks.after(&ctx, &data).await?;
    let mut body = Map::new();
    body.insert("data".into(), data);
    body.insert("source".into(), json!(Source::D1));
    body.insert("total".into(), json!(page.total));
    report(&mut body, truncated);
    Ok(Reply::json(200, Json::Object(body)))
}

/// `GET /{route}/{id}`: from KV when cached there and no rule filters reads, else from D1.
async fn get<T, P>(table: &TableApi<T, P>, call: &Call<'_, P>) -> Result<Reply, ApiError>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    let ctx = call.ctx(Operation::Read, T::DEF.name);
    let rule_filter = authorize(table, &ctx).await?;
    let id = path_id(call)?;
    let key = parse_key::<T, P>(call)?;
    let relations = record_relations(&call.query)?;
    let (views, includes, caps) = views(table, call, &ctx, &relations).await?;
    table.hooks.before(&ctx).await?;
    let (record, source) = if rule_filter.is_none() && includes.is_empty() {
        let key = <T::PrimaryKey as Key>::from_key_parts(key)
            .map_err(|e| ApiError::bad_request(format!("invalid id `{id}`: {e}")))?;
        match call.db.find_with_source::<T>(key).await? {
            Some(found) => (found.record, found.source),
            None => return Err(missing::<T>(id)),
        }
    } else {
        let mut select = call.db.select::<T>().filter(key_filter::<T>(key)?);
        if let Some(filter) = rule_filter {
            select = select.filter(filter);
        }
        for include in includes {
            select = select.with(include);
        }
        match select.first().await? {
            Some(record) => (record, Source::D1),
            None => return Err(missing::<T>(id)),
        }
    };
    if let Some(rule) = table.item_rule(Operation::Read) {
        if !rule(ctx.clone(), record.clone()).await {
            return Err(item_denied::<T>(Operation::Read, id));
        }
    }
    let tag = etag(&record)?;
    let mut data = render(&record, T::DEF, &views)?;
    let mut truncated = Default::default();
    caps.apply(&mut data, T::DEF, &mut truncated);
    table.hooks.after(&ctx, &data).await?;
    let mut body = Map::new();
    body.insert("data".into(), data);
    body.insert("source".into(), json!(source));
    report(&mut body, truncated);
    Ok(Reply::json(200, Json::Object(body)).header(header::ETAG, tag))
}

/// The body's fields less those the principal may not write (dropped, or a 403). Audit
/// columns are always dropped: the server sets them. On update the key is checked against the
/// path and dropped.
fn writable_fields<T, P>(
    table: &TableApi<T, P>,
    ctx: &Ctx<P>,
    writable: &[bool],
    mut fields: Map<String, Json>,
) -> Result<Map<String, Json>, ApiError>
where
    T: Table,
{
    let columns = columns_of::<T>(&fields)?;
    for (index, column) in columns {
        if column.audit.is_some() {
            fields.remove(column.field);
            continue;
        }
        if column.primary_key && ctx.operation == Operation::Update {
            let given = fields.get(column.field).cloned().unwrap_or_default();
            let path = ctx.id.as_deref().unwrap_or_default();
            if given.as_str() != Some(path)
                && given.as_i64().map(|i| i.to_string()).as_deref() != Some(path)
            {
                return Err(ApiError::bad_request(format!(
                    "the `{}` in the body ({given}) is not the one in the path (`{path}`)",
                    column.field
                )));
            }
            fields.remove(column.field);
            continue;
        }
        if !writable.get(index).copied().unwrap_or(false) {
            match table.write_policy {
                WritePolicy::Drop => {
                    fields.remove(column.field);
                }
                WritePolicy::Refuse => {
                    return Err(ApiError::forbidden(format!(
                        "you may not {} `{}`.`{}`",
                        if ctx.operation == Operation::Create {
                            "set"
                        } else {
                            "change"
                        },
                        T::DEF.name,
                        column.field
                    )))
                }
            }
        }
    }
    Ok(fields)
}

/// Writes need a JSON body.
fn expect_json(call: &Call<'_, impl Sized>) -> Result<Json, ApiError> {
    let content_type = call
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            415,
            format!("send `Content-Type: application/json`, not `{content_type}`"),
        ));
    }
    parse_json(call.body)
}

/// `POST /{route}`: one object, or an array created all or none.
async fn create<T, P>(table: &TableApi<T, P>, call: &Call<'_, P>) -> Result<Reply, ApiError>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    let ctx = call.ctx(Operation::Create, T::DEF.name);
    if authorize(table, &ctx).await?.is_some() {
        return Err(ApiError::forbidden(format!(
            "create on `{}` is not allowed (its rule is a filter)",
            T::DEF.name
        )));
    }
    expect_no_query(&call.query)?;
    let (items, many) = match expect_json(call)? {
        Json::Array(items) => (items, true),
        json => (vec![json], false),
    };
    let max = call.routes.limits.max_bulk_records;
    if items.len() > max {
        return Err(ApiError::new(
            413,
            format!("{} records in one request; at most {max}", items.len()),
        ));
    }
    if items.is_empty() {
        return Err(ApiError::bad_request("an empty array creates nothing"));
    }
    let writable = table.writable_columns(&ctx).await;
    let keys = T::DEF.key_columns()?;
    let mut records = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let at = |e: ApiError| {
            if many {
                e.context(format_args!("record {i}"))
            } else {
                e
            }
        };
        let fields = expect_object(item, "a record").map_err(at)?;
        let fields = table.hooks.resolve(&ctx, fields).await.map_err(at)?;
        let mut fields = writable_fields(table, &ctx, &writable, fields).map_err(at)?;
        for key in &keys {
            // A generated key stays absent: the database assigns it and the insert returns
            // it. A missing TEXT key gets a new id; a part of a composite key is required.
            if fields.get(key.field).is_none_or(Json::is_null) && !T::DEF.constraints.generated_key
            {
                if key.sql_type != SqlType::Text || keys.len() > 1 {
                    return Err(at(ApiError::bad_request(format!(
                        "`{}` is required",
                        key.field
                    ))));
                }
                fields.insert(key.field.to_string(), Json::String(crate::ids::new_id()?));
            }
        }
        let record: T = new_record(fields).map_err(at)?;
        for part in record.key_values()? {
            check_addressable(T::DEF.name, &part).map_err(at)?;
        }
        if let Some(rule) = table.item_rule(Operation::Create) {
            if !rule(ctx.clone(), record.clone()).await {
                return Err(at(ApiError::forbidden(format!(
                    "create on `{}` is not allowed for this record",
                    T::DEF.name
                ))));
            }
        }
        records.push(record);
    }
    table.hooks.before(&ctx).await?;
    let stored = match records.as_slice() {
        [one] if !many => vec![call.db.insert(one).await?],
        _ => call.db.insert_many(&records).await?,
    };
    let mut views = Views::default();
    views.add(
        T::DEF.name,
        table
            .hidden_fields(&call.ctx(Operation::Read, T::DEF.name))
            .await,
    );
    let mut data = stored
        .iter()
        .map(|record| render(record, T::DEF, &views))
        .collect::<Result<Vec<_>, _>>()?;
    let data = match (many, data.pop()) {
        (false, Some(one)) => one,
        (_, last) => Json::Array(data.into_iter().chain(last).collect()),
    };
    table.hooks.after(&ctx, &data).await?;
    Ok(Reply::json(201, json!({ "data": data })))
}

/// The record as read before a conditional write, and the condition "still that row".
struct Seen<T> {
    unchanged: Filter<T>,
}

/// Reads the record when an item rule or `If-Match` must see it, checks both, and returns the
/// condition under which the write may apply.
async fn check_stored<T, P>(
    table: &TableApi<T, P>,
    call: &Call<'_, P>,
    ctx: &Ctx<P>,
    scope: &[Filter<T>],
    id: &str,
) -> Result<Option<Seen<T>>, ApiError>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    let tags = if_match(call.headers)?;
    let rule = table.item_rule(ctx.operation);
    if tags.is_none() && rule.is_none() {
        return Ok(None);
    }
    let mut select = call.db.select::<T>();
    for filter in scope {
        select = select.filter(filter.clone());
    }
    let Some(stored) = select.first().await? else {
        return Err(missing::<T>(id));
    };
    if let Some(tags) = tags {
        let current = etag(&stored)?;
        if !matches(&tags, &current) {
            return Err(ApiError::new(
                412,
                format!(
                    "`{}` `{id}` has changed (its ETag is {current})",
                    T::DEF.name
                ),
            ));
        }
    }
    if let Some(rule) = rule {
        if !rule(ctx.clone(), stored.clone()).await {
            return Err(item_denied::<T>(ctx.operation, id));
        }
    }
    Ok(Some(Seen {
        unchanged: unchanged(&stored)?,
    }))
}

/// `PUT`/`PATCH /{route}/{id}`: sets only the fields named, in one SQL statement.
async fn update<T, P>(table: &TableApi<T, P>, call: &Call<'_, P>) -> Result<Reply, ApiError>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    let ctx = call.ctx(Operation::Update, T::DEF.name);
    let rule_filter = authorize(table, &ctx).await?;
    let id = path_id(call)?;
    let key = parse_key::<T, P>(call)?;
    expect_no_query(&call.query)?;
    let fields = expect_object(expect_json(call)?, "the body of an update")?;
    let fields = table.hooks.resolve(&ctx, fields).await?;
    let writable = table.writable_columns(&ctx).await;
    let fields = writable_fields(table, &ctx, &writable, fields)?;
    if fields.is_empty() {
        return Err(ApiError::bad_request(format!(
            "the body names no field of `{}` you may change",
            T::DEF.name
        )));
    }
    let mut bytes = 0;
    for (field, value) in &fields {
        let index = T::DEF
            .columns
            .iter()
            .position(|c| c.field == field)
            .unwrap_or_default();
        let value = T::column_from_json(index, value)?;
        bytes += value_bytes(&value);
    }
    if bytes > MAX_ROW_BYTES {
        return Err(ApiError::new(
            413,
            format!("the update is {bytes} bytes; D1 stores rows of at most {MAX_ROW_BYTES}"),
        ));
    }
    let mut scope = vec![key_filter::<T>(key)?];
    scope.extend(rule_filter);
    table.hooks.before(&ctx).await?;
    let seen = check_stored(table, call, &ctx, &scope, id).await?;
    let mut update = call.db.update_where::<T>();
    for (field, value) in &fields {
        let column = T::DEF.columns.iter().find(|c| c.field == field);
        if let Some(column) = column {
            update = update.set_json(column.name, value)?;
        }
    }
    for filter in &scope {
        update = update.filter(filter.clone());
    }
    let conditional = seen.is_some();
    if let Some(seen) = seen {
        update = update.filter(seen.unchanged);
    }
    let Some(updated) = update.returning().await?.into_iter().next() else {
        return Err(lost::<T, P>(call, &scope, conditional, id).await);
    };
    let tag = etag(&updated)?;
    let mut views = Views::default();
    views.add(
        T::DEF.name,
        table
            .hidden_fields(&call.ctx(Operation::Read, T::DEF.name))
            .await,
    );
    let data = render(&updated, T::DEF, &views)?;
    table.hooks.after(&ctx, &data).await?;
    Ok(Reply::json(200, json!({ "data": data })).header(header::ETAG, tag))
}

/// `DELETE /{route}/{id}`: `204`; KV forgets the record (and what cascaded).
async fn delete<T, P>(table: &TableApi<T, P>, call: &Call<'_, P>) -> Result<Reply, ApiError>
where
    T: Table + Clone + Serialize + DeserializeOwned,
    P: 'static,
{
    let ctx = call.ctx(Operation::Delete, T::DEF.name);
    let rule_filter = authorize(table, &ctx).await?;
    let id = path_id(call)?;
    let key = parse_key::<T, P>(call)?;
    expect_no_query(&call.query)?;
    let mut scope = vec![key_filter::<T>(key)?];
    scope.extend(rule_filter);
    table.hooks.before(&ctx).await?;
    let seen = check_stored(table, call, &ctx, &scope, id).await?;
    let mut delete = call.db.delete_where::<T>();
    for filter in &scope {
        delete = delete.filter(filter.clone());
    }
    let conditional = seen.is_some();
    if let Some(seen) = seen {
        delete = delete.filter(seen.unchanged);
    }
    if delete.returning().await?.is_empty() {
        return Err(lost::<T, P>(call, &scope, conditional, id).await);
    }
    table.hooks.after(&ctx, &Json::Null).await?;
    Ok(Reply::no_content())
}

/// Why a write by key changed nothing: the row is gone or out of the rule's scope (404), or
/// it changed after the check (412).
async fn lost<T: Table, P>(
    call: &Call<'_, P>,
    scope: &[Filter<T>],
    conditional: bool,
    id: &str,
) -> ApiError {
    if conditional {
        let mut select = call.db.select::<T>();
        for filter in scope {
            select = select.filter(filter.clone());
        }
        if let Ok(Some(_)) = select.first().await {
            return ApiError::new(
                412,
                format!(
                    "`{}` `{id}` changed while it was being written; read it again",
                    T::DEF.name
                ),
            );
        }
    }
    missing::<T>(id)
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

fn path_id<'a, P>(call: &'a Call<'_, P>) -> Result<&'a str, ApiError> {
    call.id
        .as_deref()
        .ok_or_else(|| ApiError::internal("a record route without an id"))
}

/// The key from the path: a value of the key column's type, or for a composite key one value
/// per key column, from the parts of `a,b` (split before each is percent-decoded, so that a
/// `,` inside a part travels as `%2C`).
fn parse_key<T: Table, P>(call: &Call<'_, P>) -> Result<Vec<Value>, ApiError> {
    let text = path_id(call)?;
    match T::DEF.primary_key {
        [one] => Ok(vec![parse_part::<T>(*one, text, text)?]),
        keys => {
            let raw = call.raw_id.as_deref().unwrap_or(text);
            let parts: Vec<&str> = raw.split(',').collect();
            if parts.len() != keys.len() {
                let names: Vec<&str> = T::DEF.key_columns()?.iter().map(|c| c.field).collect();
                return Err(ApiError::bad_request(format!(
                    "`{text}` is not a key of `{}`: its records are addressed by their {} key \
                     parts, each percent-encoded, joined by `,` (`{}`)",
                    T::DEF.name,
                    keys.len(),
                    names.join(",")
                )));
            }
            keys.iter()
                .zip(parts)
                .map(|(&index, part)| parse_part::<T>(index, &decode_segment(part)?, text))
                .collect()
        }
    }
}

/// One key part from the path, `text`, as a value of column `index`'s type (`id` is the
/// whole id, for messages).
fn parse_part<T: Table>(index: usize, text: &str, id: &str) -> Result<Value, ApiError> {
    let column = T::DEF.column_at(index)?;
    let invalid = |detail: String| {
        ApiError::bad_request(format!(
            "`{id}` is not a valid `{}`.`{}`: {detail}",
            T::DEF.name,
            column.field
        ))
    };
    let value = match column.sql_type {
        SqlType::Integer => {
            Value::Integer(text.parse::<i64>().map_err(|e| invalid(e.to_string()))?)
        }
        SqlType::Real => Value::Real(text.parse::<f64>().map_err(|e| invalid(e.to_string()))?),
        SqlType::Text => Value::Text(text.to_string()),
        SqlType::Blob => Value::Blob(text.as_bytes().to_vec()),
    };
    T::column_from_value(index, value).map_err(|e| invalid(e.to_string()))
}

/// `<key column> = <part>` for every key column.
fn key_filter<T: Table>(key: Vec<Value>) -> Result<Filter<T>, ApiError> {
    let mut conditions = Vec::with_capacity(key.len());
    for (column, part) in T::DEF.key_columns()?.into_iter().zip(key) {
        conditions.push(Filter::by_name(column.name, Op::Eq, [part])?);
    }
    match (conditions.pop(), conditions.is_empty()) {
        (Some(one), true) => Ok(one),
        (Some(last), false) => {
            conditions.push(last);
            Ok(and(conditions))
        }
        (None, _) => Err(ApiError::internal("a table without a primary key column")),
    }
}

fn missing<T: Table>(id: &str) -> ApiError {
    ApiError::not_found(format!("no `{}` record with id `{id}`", T::DEF.name))
}

fn item_denied<T: Table>(operation: Operation, id: &str) -> ApiError {
    ApiError::forbidden(format!(
        "{} of `{}` `{id}` is not allowed",
        operation.name(),
        T::DEF.name
    ))
}
