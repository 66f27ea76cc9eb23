//! The five operations, once, for every [`Resource`].
//!
//! Each returns a [`Reply`] or an [`ApiError`]; nothing here panics, because a panic kills
//! the Worker's wasm instance (and every request it is serving).

use serde::Serialize;
use serde_json::Value as Json;
use sonic_db_core::query::Op;
use sonic_db_core::{Db, Filter, Found, FromValue, Source, SqlType, Table, ToValue, Value};

use super::body::{expect_object, merged_record, new_record, parse_json};
use super::error::ApiError;
use super::ids::new_id;
use super::params::{expect_no_query, item_includes, ListParams};
use super::resource::Resource;
use super::Reply;

/// The most records one `POST` may insert. They are written atomically (one D1 batch); an
/// insert costs no KV operation (records are cached by the first read).
pub const MAX_RECORDS_PER_POST: usize = 1_000;

/// `{"data": [...], "source": "d1", "total": N}`: lists always read D1.
#[derive(Serialize)]
struct ListBody<'a, T> {
    data: &'a [T],
    source: Source,
    total: u64,
}

/// `{"data": ...}`: what a write stored.
#[derive(Serialize)]
struct DataBody<'a, T: ?Sized> {
    data: &'a T,
}

/// `GET /v1/{table}`: a page of records, filtered, sorted, with relations, and the total.
///
/// The page and its total are one D1 batch (one round trip, one transaction), and relations
/// are loaded by the same statement as the records (`json_group_array` subqueries).
pub async fn list<T: Resource>(db: &Db, query: &[(String, String)]) -> Result<Reply, ApiError> {
    let params = ListParams::<T>::parse(query)?;
    let mut select = db.select::<T>().limit(params.limit).offset(params.offset);
    if let Some(filter) = params.filter {
        select = select.filter(filter);
    }
    for order in params.order {
        select = select.order_by(order);
    }
    for include in params.includes {
        select = select.with(include);
    }
    let page = select.page().await?;
    Reply::json(
        200,
        &ListBody {
            data: &page.items,
            source: Source::D1,
            total: page.total,
        },
    )
}

/// `GET /v1/{table}/{id}`: one record, from KV when it is cached there (`"source": "kv"`),
/// else from D1, which then fills KV. With `?with=`, from D1 with its relations.
pub async fn get<T: Resource>(
    db: &Db,
    id: &str,
    query: &[(String, String)],
) -> Result<Reply, ApiError> {
    let key = parse_key::<T>(id)?;
    let includes = item_includes::<T>(query)?;
    let found = if includes.is_empty() {
        db.find_with_source::<T>(key).await?
    } else {
        let mut select = db.select::<T>().filter(key_filter::<T>(&key)?);
        for include in includes {
            select = select.with(include);
        }
        select.first().await?.map(|record| Found {
            record,
            source: Source::D1,
        })
    };
    match found {
        Some(found) => Reply::json(200, &found),
        None => Err(missing::<T>(id)),
    }
}

/// `POST /v1/{table}`: a JSON object inserts one record, a JSON array inserts them all or
/// none (Sonic splits them into statements under D1's 100-parameter limit and sends them as
/// one atomic batch). `201` with the records as stored (audit columns filled).
pub async fn create<T: Resource>(
    db: &Db,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Reply, ApiError> {
    expect_no_query(query)?;
    match parse_json(body)? {
        Json::Array(items) => {
            if items.len() > MAX_RECORDS_PER_POST {
                return Err(ApiError::bad_request(format!(
                    "{} records in one request; at most {MAX_RECORDS_PER_POST}",
                    items.len()
                )));
            }
            let mut records = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let record = expect_object(item, "a record")
                    .and_then(|fields| new_record::<T>(fields, new_id))
                    .map_err(|e| e.context(format_args!("record {i}")))?;
                records.push(record);
            }
            let stored = db.insert_many(&records).await?;
            Reply::json(201, &DataBody { data: &stored[..] })
        }
        json => {
            let fields = expect_object(json, "the body (a record, or an array of records)")?;
            let record = new_record::<T>(fields, new_id)?;
            let stored = db.insert(&record).await?;
            Reply::json(201, &DataBody { data: &stored })
        }
    }
}

/// `PUT /v1/{table}/{id}`: merges the fields of the body into the stored record and writes
/// it back (`updated_on` stamped); KV gets the new row.
///
/// The stored record is read from D1, not KV, so the merge starts from the latest committed
/// row. Two concurrent `PUT`s of different fields of one record can still lose one of them
/// (read, merge, write are separate statements; D1 has no interactive transactions).
pub async fn update<T: Resource>(
    db: &Db,
    id: &str,
    query: &[(String, String)],
    body: &[u8],
) -> Result<Reply, ApiError> {
    expect_no_query(query)?;
    let key = parse_key::<T>(id)?;
    let fields = expect_object(parse_json(body)?, "the body of a PUT")?;
    let Some(stored) = db.find_fresh::<T>(key).await? else {
        return Err(missing::<T>(id));
    };
    let record = merged_record(&stored, id, fields)?;
    match db.update(&record).await {
        Ok(updated) => Reply::json(200, &DataBody { data: &updated }),
        // Deleted between the read and the write.
        Err(sonic_db_core::Error::NotFound { .. }) => Err(missing::<T>(id)),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /v1/{table}/{id}`: `204`, or `404` if there was no such record. KV forgets it.
pub async fn delete<T: Resource>(
    db: &Db,
    id: &str,
    query: &[(String, String)],
) -> Result<Reply, ApiError> {
    expect_no_query(query)?;
    let key = parse_key::<T>(id)?;
    if db.delete::<T>(key).await? {
        Ok(Reply::no_content())
    } else {
        Err(missing::<T>(id))
    }
}

/// The primary key from the path, converted to the key column's type.
fn parse_key<T: Table>(text: &str) -> Result<T::PrimaryKey, ApiError> {
    let column = T::DEF.primary_key_column()?;
    let invalid = |detail: String| {
        ApiError::bad_request(format!(
            "`{text}` is not a valid `{}` {}: {detail}",
            T::DEF.name,
            column.name
        ))
    };
    let value = match column.sql_type {
        SqlType::Integer => text
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|e| invalid(e.to_string()))?,
        SqlType::Real => text
            .parse::<f64>()
            .map(Value::Real)
            .map_err(|e| invalid(e.to_string()))?,
        SqlType::Text => Value::Text(text.to_string()),
        SqlType::Blob => Value::Blob(text.as_bytes().to_vec()),
    };
    T::PrimaryKey::from_value(value).map_err(|e| invalid(e.to_string()))
}

/// `primary key = key`, for a select by key with relations.
fn key_filter<T: Table>(key: &T::PrimaryKey) -> Result<Filter<T>, ApiError> {
    let value = key
        .to_value()
        .map_err(|e| ApiError::bad_request(format!("invalid `{}` key: {e}", T::DEF.name)))?;
    Ok(Filter::by_name(
        T::DEF.primary_key_column()?.name,
        Op::Eq,
        [value],
    )?)
}

fn missing<T: Table>(id: &str) -> ApiError {
    ApiError::not_found(format!("no `{}` record with id `{id}`", T::DEF.name))
}
