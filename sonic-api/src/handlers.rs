//! The five operations, once for every table: access rules, hooks, field rules, then Sonic.
//! Everything a client can get wrong is refused before the first write; writes of several
//! records are one atomic batch, and an update or delete conditioned on what a rule or an
//! `If-Match` saw applies only if the row is still that one (compare-and-set in SQL). Not
//! generic over the record type: what needs it is behind the table's [`Records`].

use serde_json::{json, Map, Value as Json};
use sonic_db_core::{Source, SqlType, TableDef, Value};

use crate::body::{columns_of, expect_object, parse_json, value_bytes, MAX_ROW_BYTES};
use crate::capped::{report, Caps};
use crate::context::{Ctx, Operation};
use crate::error::ApiError;
use crate::params::{expect_no_query, record_relations};
use crate::render::{strip, Views};
use crate::reply::not_allowed;
use crate::reply::{Named, Reply};
use crate::route::{decode_segment, header_text, Call, Verb};
use crate::rules::WritePolicy;
use crate::typed::{Authorized, Erased, Read, Records, Write};

/// Dispatches by method and the presence of an id.
pub(crate) async fn serve<P: 'static>(
    table: &dyn Records<P>,
    call: Call<'_, P>,
) -> Result<Reply, ApiError> {
    match (call.verb, call.id.is_some()) {
        (Verb::Get, false) => list(table, &call).await,
        (Verb::Post, false) => create(table, &call).await,
        (Verb::Get, true) => get(table, &call).await,
        (Verb::Put | Verb::Patch, true) => update(table, &call).await,
        (Verb::Delete, true) => delete(table, &call).await,
        (_, false) => Ok(not_allowed("GET, POST")),
        (_, true) => Ok(not_allowed("GET, PUT, PATCH, DELETE")),
    }
}

/// The operation's rule: its filter, or a 403 (no rule: denied).
async fn authorize<P: 'static>(
    table: &dyn Records<P>,
    ctx: &Ctx<P>,
) -> Result<Option<Erased>, ApiError> {
    match table.authorize(ctx).await {
        Authorized::Allowed(filter) => Ok(filter),
        Authorized::NoRule | Authorized::Denied => Err(ApiError::forbidden(format!(
            "{} on `{}` is not allowed",
            ctx.operation.name(),
            table.def().name
        ))),
    }
}

/// What the response may show of the table and of each relation asked for, and the caps of
/// the relations (their eager loads are the table's).
async fn views<P: 'static>(
    table: &dyn Records<P>,
    call: &Call<'_, P>,
    ctx: &Ctx<P>,
    relations: &[String],
) -> Result<(Views, Caps), ApiError> {
    let table_def = table.def();
    let mut views = Views::default();
    views.add(table_def.name, table.field_rules().hidden(ctx).await);
    let mut caps = Caps::default();
    let mut fields: Vec<&str> = Vec::with_capacity(relations.len());
    let names = table.relation_names();
    for name in relations {
        if !names.contains(&name.as_str()) {
            return Err(ApiError::bad_request(format!(
                "`{}` has no relation `{name}` to load (with: {})",
                table_def.name,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )));
        }
        let first = name.split('.').next().unwrap_or(name);
        if fields.contains(&first) {
            return Err(ApiError::bad_request(format!(
                "`with` names `{first}` twice (`{name}`): ask for one"
            )));
        }
        fields.push(first);
        let mut def = table_def;
        for step in name.split('.') {
            let relation = def.relation(step).ok_or_else(|| {
                ApiError::internal(format!(
                    "the relation name `{name}` of `{}` does not match its schema at `{step}`",
                    table_def.name
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
        caps.relations.push((name.clone(), table.related_cap(name)));
    }
    Ok((views, caps))
}

/// The views of a write's response: the table's fields readable by the principal.
async fn read_view<P: 'static>(table: &dyn Records<P>, call: &Call<'_, P>) -> Views {
    let def = table.def();
    let mut views = Views::default();
    views.add(
        def.name,
        table
            .field_rules()
            .hidden(&call.ctx(Operation::Read, def.name))
            .await,
    );
    views
}

/// `GET /{route}`: a page, filtered, sorted, with relations, and the total.
async fn list<P: 'static>(table: &dyn Records<P>, call: &Call<'_, P>) -> Result<Reply, ApiError> {
    let def = table.def();
    let ctx = call.ctx(Operation::Read, def.name);
    let rule_filter = authorize(table, &ctx).await?;
    let hidden = table.field_rules().hidden(&ctx).await;
    let limits = call.routes.limits;
    let spec = table.parse_list(&call.query, &hidden, limits.max_like_bytes)?;
    let (views, caps) = views(table, call, &ctx, &spec.relations).await?;
    let cap = if caps.relations.is_empty() {
        table.max_page()
    } else {
        table.max_page().min(limits.max_page_with_relations)
    };
    let limit = spec.limit.unwrap_or(cap);
    if limit > cap {
        return Err(ApiError::bad_request(format!(
            "`limit` is {limit}; `{}` pages hold at most {cap} records{}",
            def.name,
            if caps.relations.is_empty() {
                ""
            } else {
                " with relations"
            }
        )));
    }
    table.hooks().before(&ctx).await?;
    let (records, total) = table.page(call.db, rule_filter, spec, limit, &caps).await?;
    let mut truncated = Default::default();
    let mut data = Vec::with_capacity(records.len());
    for mut json in records {
        strip(&mut json, def, &views);
        caps.apply(&mut json, def, &mut truncated);
        data.push(json);
    }
    let data = Json::Array(data);
    table.hooks().after(&ctx, &data).await?;
    let mut body = Map::new();
    body.insert("data".into(), data);
    body.insert("source".into(), json!(Source::D1));
    body.insert("total".into(), json!(total));
    report(&mut body, truncated);
    Ok(Reply::json(200, Json::Object(body)))
}

/// `GET /{route}/{id}`: from KV when cached there and no rule filters reads, else from D1.
async fn get<P: 'static>(table: &dyn Records<P>, call: &Call<'_, P>) -> Result<Reply, ApiError> {
    let def = table.def();
    let ctx = call.ctx(Operation::Read, def.name);
    let rule = authorize(table, &ctx).await?;
    let id = path_id(call)?;
    let key = parse_key(table, call)?;
    let relations = record_relations(&call.query)?;
    let (views, caps) = views(table, call, &ctx, &relations).await?;
    table.hooks().before(&ctx).await?;
    let read = Read {
        db: call.db,
        ctx: &ctx,
        key,
        id,
        rule,
        caps: &caps,
    };
    let (mut data, tag, source) = table.read(read).await?;
    strip(&mut data, def, &views);
    let mut truncated = Default::default();
    caps.apply(&mut data, def, &mut truncated);
    table.hooks().after(&ctx, &data).await?;
    let mut body = Map::new();
    body.insert("data".into(), data);
    body.insert("source".into(), json!(source));
    report(&mut body, truncated);
    Ok(Reply::json(200, Json::Object(body)).header(Named::ETag, tag))
}

/// The body's fields less those the principal may not write (dropped, or a 403). Audit
/// columns are always dropped: the server sets them. On update the key is checked against the
/// path and dropped.
fn writable_fields<P>(
    def: &'static TableDef,
    policy: WritePolicy,
    ctx: &Ctx<P>,
    writable: &[bool],
    mut fields: Map<String, Json>,
) -> Result<Map<String, Json>, ApiError> {
    let columns = columns_of(def, &fields)?;
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
                    "the `{}` in the body ({}) is not the one in the path (`{path}`)",
                    column.field,
                    crate::render::text(&given)
                )));
            }
            fields.remove(column.field);
            continue;
        }
        if !writable.get(index).copied().unwrap_or(false) {
            match policy {
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
                        def.name,
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
    let content_type = call.content_type.and_then(header_text).unwrap_or("");
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
async fn create<P: 'static>(table: &dyn Records<P>, call: &Call<'_, P>) -> Result<Reply, ApiError> {
    let def = table.def();
    let ctx = call.ctx(Operation::Create, def.name);
    if authorize(table, &ctx).await?.is_some() {
        return Err(ApiError::forbidden(format!(
            "create on `{}` is not allowed (its rule is a filter)",
            def.name
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
    let writable = table.field_rules().writable(&ctx).await;
    let keys = def.key_columns()?;
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
        let fields = table.hooks().resolve(&ctx, fields).await.map_err(at)?;
        let mut fields =
            writable_fields(def, table.write_policy(), &ctx, &writable, fields).map_err(at)?;
        for key in &keys {
            // A generated key stays absent: the database assigns it and the insert returns
            // it. A missing TEXT key gets a new id; a part of a composite key is required.
            if fields.get(key.field).is_none_or(Json::is_null) && !def.constraints.generated_key {
                if key.sql_type != SqlType::Text || keys.len() > 1 {
                    return Err(at(ApiError::bad_request(format!(
                        "`{}` is required",
                        key.field
                    ))));
                }
                fields.insert(key.field.to_string(), Json::String(crate::ids::new_id()?));
            }
        }
        records.push(table.new_record(&ctx, fields).await.map_err(at)?);
    }
    table.hooks().before(&ctx).await?;
    let mut data = table.insert(call.db, records, many).await?;
    let views = read_view(table, call).await;
    for json in &mut data {
        strip(json, def, &views);
    }
    let data = match (many, data.pop()) {
        (false, Some(one)) => one,
        (_, last) => Json::Array(data.into_iter().chain(last).collect()),
    };
    table.hooks().after(&ctx, &data).await?;
    Ok(Reply::json(201, json!({ "data": data })))
}

/// `PUT`/`PATCH /{route}/{id}`: sets only the fields named, in one SQL statement.
async fn update<P: 'static>(table: &dyn Records<P>, call: &Call<'_, P>) -> Result<Reply, ApiError> {
    let def = table.def();
    let ctx = call.ctx(Operation::Update, def.name);
    let rule = authorize(table, &ctx).await?;
    let id = path_id(call)?;
    let key = parse_key(table, call)?;
    expect_no_query(&call.query)?;
    let fields = expect_object(expect_json(call)?, "the body of an update")?;
    let fields = table.hooks().resolve(&ctx, fields).await?;
    let writable = table.field_rules().writable(&ctx).await;
    let fields = writable_fields(def, table.write_policy(), &ctx, &writable, fields)?;
    if fields.is_empty() {
        return Err(ApiError::bad_request(format!(
            "the body names no field of `{}` you may change",
            def.name
        )));
    }
    let mut bytes = 0;
    for (field, value) in &fields {
        let index = def
            .columns
            .iter()
            .position(|c| c.field == field)
            .unwrap_or_default();
        let value = table.column_from_json(index, value)?;
        bytes += value_bytes(&value);
    }
    if bytes > MAX_ROW_BYTES {
        return Err(ApiError::new(
            413,
            format!("the update is {bytes} bytes; D1 stores rows of at most {MAX_ROW_BYTES}"),
        ));
    }
    table.hooks().before(&ctx).await?;
    let write = Write::new(call, &ctx, key, id, rule);
    let (mut data, tag) = table.update(write, &fields).await?;
    let views = read_view(table, call).await;
    strip(&mut data, def, &views);
    table.hooks().after(&ctx, &data).await?;
    Ok(Reply::json(200, json!({ "data": data })).header(Named::ETag, tag))
}

/// `DELETE /{route}/{id}`: `204`; KV forgets the record (and what cascaded).
async fn delete<P: 'static>(table: &dyn Records<P>, call: &Call<'_, P>) -> Result<Reply, ApiError> {
    let def = table.def();
    let ctx = call.ctx(Operation::Delete, def.name);
    let rule = authorize(table, &ctx).await?;
    let id = path_id(call)?;
    let key = parse_key(table, call)?;
    expect_no_query(&call.query)?;
    table.hooks().before(&ctx).await?;
    let write = Write::new(call, &ctx, key, id, rule);
    table.delete(write).await?;
    table.hooks().after(&ctx, &Json::Null).await?;
    Ok(Reply::no_content())
}

fn path_id<'a, P>(call: &'a Call<'_, P>) -> Result<&'a str, ApiError> {
    call.id
        .as_deref()
        .ok_or_else(|| ApiError::internal("a record route without an id"))
}

/// The key from the path: a value of the key column's type, or for a composite key one value
/// per key column, from the parts of `a,b` (split before each is percent-decoded, so that a
/// `,` inside a part travels as `%2C`).
fn parse_key<P>(table: &dyn Records<P>, call: &Call<'_, P>) -> Result<Vec<Value>, ApiError> {
    let def = table.def();
    let text = path_id(call)?;
    match def.primary_key {
        [one] => Ok(vec![parse_part(table, *one, text, text)?]),
        keys => {
            let raw = call.raw_id.as_deref().unwrap_or(text);
            let parts: Vec<&str> = raw.split(',').collect();
            if parts.len() != keys.len() {
                let names: Vec<&str> = def.key_columns()?.iter().map(|c| c.field).collect();
                return Err(ApiError::bad_request(format!(
                    "`{text}` is not a key of `{}`: its records are addressed by their {} key \
                     parts, each percent-encoded, joined by `,` (`{}`)",
                    def.name,
                    keys.len(),
                    names.join(",")
                )));
            }
            keys.iter()
                .zip(parts)
                .map(|(&index, part)| parse_part(table, index, &decode_segment(part)?, text))
                .collect()
        }
    }
}

/// One key part from the path, `text`, as a value of column `index`'s type (`id` is the
/// whole id, for messages).
fn parse_part<P>(
    table: &dyn Records<P>,
    index: usize,
    text: &str,
    id: &str,
) -> Result<Value, ApiError> {
    let def = table.def();
    let column = def.column_at(index)?;
    let invalid = |detail: String| {
        ApiError::bad_request(format!(
            "`{id}` is not a valid `{}`.`{}`: {detail}",
            def.name, column.field
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
    table
        .column_from_value(index, value)
        .map_err(|e| invalid(e.to_string()))
}
