//! The smallest Worker on Sonic: the README's tutorial, ready to copy.
//!
//! `POST /users` inserts a user (into D1; KV is filled by reads), `GET /users/:id` reads one
//! (from KV when cached, else D1, and says which), `GET /users` lists the latest (D1). Bindings, in
//! `wrangler.toml`: D1 database `DB`, migrated from `migrations/` (written by `cargo run --bin
//! migrate`), and KV namespace `KV`, the cache of single records.
//!
//! `scripts/starter-worker.sh` builds it the way the README says and runs
//! `e2e/starter/starter.test.mjs` against it on workerd (Miniflare).

/// The tables: the README's schema block, verbatim (`tests/readme.rs` checks it).
#[allow(missing_docs)] // commented for the tutorial's reader, with `//`
pub mod schema;

// The README shows this file from here to the end (`tests/readme.rs` checks it).
use serde::{Deserialize, Serialize};
use sonic_db::{Audit, CacheConfig, D1Backend, Db, Error, WorkersKv};
use worker::js_sys::decode_uri_component;
use worker::{event, Context, Env, Request, Response, Result, RouteContext, Router};

use crate::schema::{schema, Role, User};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Router::new()
        .get_async("/users", list_users)
        .post_async("/users", create_user)
        .get_async("/users/:id", get_user)
        .run(req, env)
        .await
}

/// One `Db` per request: D1 binding `DB`, single records cached in KV namespace `KV`.
fn database(env: &Env) -> sonic_db::Result<Db> {
    Db::new(D1Backend::from_env(env, "DB")?)
        .with_schema(&schema()) // so that a delete also drops its cascaded rows from KV
        .with_kv(WorkersKv::from_env(env, "KV")?, CacheConfig::new()) // 5-minute TTL
}

/// `GET /users/:id` → `200 {"data": {...}, "source": "kv" | "d1"}`, or `404`.
async fn get_user(_req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let id = ctx.param("id").map(|id| decode_uri_component(id)); // `%20` → ` `
    let Some(Ok(id)) = id else {
        return error(400, "a malformed id");
    };
    let found = async { database(&ctx.env)?.find_with_source::<User>(id).await };
    match found.await {
        Ok(Some(found)) => reply(200, &found), // KV when cached, else D1 (then cached)
        Ok(None) => error(404, "no such user"),
        Err(e) => failure(e),
    }
}

/// What a client sends to create a user: Sonic fills `created_on` / `updated_on`.
#[derive(Deserialize)]
struct NewUser {
    id: String,
    name: Option<String>,
    email: String,
    password: String,
    #[serde(default)]
    role: Role,
}

/// `POST /users` → `201 {"data": {...}}`; `409` for a taken id or email.
async fn create_user(mut req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let Ok(new) = req.json::<NewUser>().await else {
        return error(400, "expected {id, email, password, name?, role?}");
    };
    let user = User {
        id: new.id,
        name: new.name,
        email: new.email,
        password: new.password,
        role: new.role,
        audit: Audit::default(),
        posts: None,
    };
    let inserted = async { database(&ctx.env)?.insert(&user).await }; // D1 only
    match inserted.await {
        Ok(user) => reply(201, &Data { data: user }),
        Err(e) => failure(e),
    }
}

/// `GET /users` → `200 {"items": [...], "total": N}`: the latest 20, from D1.
async fn list_users(_req: Request, ctx: RouteContext<()>) -> Result<Response> {
    let page = async {
        database(&ctx.env)?
            .select::<User>()
            .order_by(User::CREATED_ON.desc())
            .order_by(User::ID.asc())
            .limit(20)
            .page()
            .await
    };
    match page.await {
        Ok(page) => reply(200, &page),
        Err(e) => failure(e),
    }
}

#[derive(Serialize)]
struct Data<T> {
    data: T,
}

fn reply(status: u16, body: &impl Serialize) -> Result<Response> {
    Response::builder().with_status(status).from_json(body)
}

/// `{"error": "..."}`.
fn error(status: u16, message: impl Into<String>) -> Result<Response> {
    #[derive(Serialize)]
    struct Message {
        error: String,
    }
    let error = message.into();
    reply(status, &Message { error })
}

/// A Sonic error as a response: `409` for a duplicate key or a missing reference, else `500`.
fn failure(e: Error) -> Result<Response> {
    let status = match e {
        Error::UniqueViolation { .. } | Error::ForeignKeyViolation { .. } => 409,
        _ => 500,
    };
    error(status, e.to_string())
}
