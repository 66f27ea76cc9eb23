//! Tenants routed across five databases — three D1 databases and two Durable Objects — by
//! `sonic_db_shard::Shards`, each with its cache entries under its own prefix of one KV
//! namespace. Test routes (`e2e/do/tenants.test.mjs`):
//!
//! - `POST /tenants/_setup`: the schema on every shard (`CREATE … IF NOT EXISTS`);
//! - `GET /tenants/{tenant}/shard` → `{"shard"}`: where the tenant lives;
//! - `POST /tenants/{tenant}/notes`, body `{"id", "text"}` → 201 and the stored note;
//! - `GET /tenants/{tenant}/notes/{id}` → `{"data", "source"}` (`d1` or `kv`), or 404;
//! - `DELETE /tenants/{tenant}/notes/{id}` → 204 or 404;
//! - `GET /tenants/_all?offset=&limit=` → `{"data", "total"}`: one page across every shard.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sonic_db_core::{CacheConfig, Db, Schema, Source, Table};
use sonic_db_d1::D1Backend;
use sonic_db_do::DoStubBackend;
use sonic_db_kv::WorkersKv;
use sonic_db_shard::{ShardKv, Shards};
use worker::{Env, Method, Request, Response, Result};

/// A tenant's note; the same id may exist in several tenants' shards.
#[derive(Debug, Clone, Serialize, Deserialize, Table)]
#[table(name = "notes")]
pub struct Note {
    #[column(primary_key)]
    pub id: String,
    pub tenant: String,
    pub text: String,
}

/// The body of `POST /tenants/{tenant}/notes`.
#[derive(Deserialize)]
struct NewNote {
    id: String,
    text: String,
}

/// The three D1 bindings and the two objects, by shard name.
const D1_SHARDS: [&str; 3] = ["DB1", "DB2", "DB3"];
const OBJECT_SHARDS: [&str; 2] = ["object-1", "object-2"];

fn shards(env: &Env) -> sonic_db_core::Result<Shards> {
    let kv = WorkersKv::from_env(env, "KV")?;
    let cached =
        |db: Db, name: &str| db.with_kv(ShardKv::new(kv.clone(), name), CacheConfig::new());
    let mut shards = Shards::new();
    for binding in D1_SHARDS {
        let db = cached(Db::new(D1Backend::from_env(env, binding)?), binding)?;
        shards = shards.add(binding, db)?;
    }
    for object in OBJECT_SHARDS {
        let db = cached(
            Db::new(DoStubBackend::from_env(env, "OBJECTS", object)?),
            object,
        )?;
        shards = shards.add(object, db)?;
    }
    Ok(shards)
}

/// Serves `/tenants/…`.
pub(crate) async fn serve(mut req: Request, env: &Env) -> Result<Response> {
    let shards = match shards(env) {
        Ok(shards) => shards,
        Err(e) => return error(500, &e.to_string()),
    };
    let path = req.path();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let outcome = match (req.method(), parts.as_slice()) {
        (Method::Post, ["tenants", "_setup"]) => setup(&shards).await,
        (Method::Get, ["tenants", "_all"]) => {
            let url = req.url()?;
            let number = |name: &str| {
                url.query_pairs()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| v.parse::<u64>().ok())
            };
            all(
                &shards,
                number("offset").unwrap_or(0),
                number("limit").unwrap_or(20),
            )
            .await
        }
        (Method::Get, ["tenants", tenant, "shard"]) => match shards.name_for(tenant) {
            Ok(name) => Ok(Response::from_json(&json!({ "shard": name }))?),
            Err(e) => Err(e),
        },
        (Method::Post, ["tenants", tenant, "notes"]) => {
            let body: NewNote = match req.json().await {
                Ok(body) => body,
                Err(e) => return error(400, &format!("expected {{\"id\", \"text\"}}: {e}")),
            };
            let note = Note {
                id: body.id,
                tenant: (*tenant).to_owned(),
                text: body.text,
            };
            match shards.for_key(tenant) {
                Ok(db) => match db.insert(&note).await {
                    Ok(stored) => Ok(Response::from_json(&stored)?.with_status(201)),
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            }
        }
        (Method::Get, ["tenants", tenant, "notes", id]) => match shards.for_key(tenant) {
            Ok(db) => match db.find_with_source::<Note>(*id).await {
                Ok(Some(found)) => {
                    let source = if found.source == Source::Kv {
                        "kv"
                    } else {
                        "d1"
                    };
                    Ok(Response::from_json(
                        &json!({ "data": found.record, "source": source }),
                    )?)
                }
                Ok(None) => return error(404, "no such note"),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        (Method::Delete, ["tenants", tenant, "notes", id]) => match shards.for_key(tenant) {
            Ok(db) => match db.delete::<Note>(*id).await {
                Ok(true) => Ok(Response::empty()?.with_status(204)),
                Ok(false) => return error(404, "no such note"),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        _ => return error(404, "unknown route"),
    };
    match outcome {
        Ok(response) => Ok(response),
        Err(e) => error(500, &e.to_string()),
    }
}

async fn setup(shards: &Shards) -> sonic_db_core::Result<Response> {
    let schema = Schema::new().table::<Note>();
    let statements: Vec<String> = schema.statements();
    shards
        .fan_out(|db| {
            let statements = statements.clone();
            async move {
                for statement in &statements {
                    db.sql(statement).run().await?;
                }
                Ok(())
            }
        })
        .await?;
    reply(&json!({ "shards": shards.names().collect::<Vec<_>>() }))
}

async fn all(shards: &Shards, offset: u64, limit: u64) -> sonic_db_core::Result<Response> {
    let page = shards
        .fan_out_page(
            |db, n| async move {
                db.select::<Note>()
                    .order_by(Note::ID.asc())
                    .order_by(Note::TENANT.asc())
                    .limit(n)
                    .page()
                    .await
            },
            |a: &Note, b: &Note| a.id.cmp(&b.id).then_with(|| a.tenant.cmp(&b.tenant)),
            offset,
            limit,
        )
        .await?;
    reply(&json!({ "data": page.items, "total": page.total }))
}

fn reply(body: &serde_json::Value) -> sonic_db_core::Result<Response> {
    Response::from_json(body).map_err(|e| sonic_db_core::Error::Database {
        message: e.to_string(),
    })
}

fn error(status: u16, message: &str) -> Result<Response> {
    Ok(Response::from_json(&json!({ "error": message }))?.with_status(status))
}
