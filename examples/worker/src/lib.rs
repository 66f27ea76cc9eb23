//! The example Worker: the SonicJs REST API on D1 + Workers KV with Sonic.
//!
//! Bindings (see `wrangler.toml`): D1 database `DB`, migrated with the migrations Sonic
//! generated from the seed schema (`migrations/`, written by `cargo run -p sonic-example-blog
//! --bin migrations`), and KV namespace `KV`, the cache of single records.
//!
//! Routes:
//!
//! - `/v1/{table}`, `/v1/{table}/{id}`: the REST API ([`rest`]; the adapter to the runtime is
//!   [`http`]) on `users`, `posts`, `comments`
//! - `GET /health` → `{"ok":true}`
//! - `GET /_probe/kv`, `PUT|GET /_probe/kv/:key`: raw KV round trips for
//!   `e2e/tests/probe.test.mjs`
//! - `POST /_backend/...`: the `sonic-d1` / `sonic-kv` test routes ([`backend_routes`])
//!
//! To copy it: keep [`rest`] and [`http`], replace the tables in [`rest::handle`] and the
//! `impl Resource`s in [`rest::resource`], generate your migrations, and drop the test routes.

pub mod backend_routes;
pub mod http;
pub mod rest;

use serde::Serialize;
use worker::{event, Context, Env, Request, Response, Result, Router};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let router = Router::new().get("/health", |_, _| {
        Response::from_json(&serde_json::json!({ "ok": true }))
    });
    let router = http::register(router);
    let router = probe_routes(router);
    let router = backend_routes::register(router);
    // The conformance suite's `/_conformance` route (sonic-conformance) registers here.
    router.run(req, env).await
}

#[derive(Debug, Serialize)]
struct KvEntry<'a> {
    key: &'a str,
    value: Option<String>,
}

const KV_PROBE_KEY: &str = "_probe:kv";

/// Raw KV round trips through the `worker` crate, without Sonic.
fn probe_routes(router: Router<'_, ()>) -> Router<'_, ()> {
    router
        .get_async("/_probe/kv", |_, ctx| async move {
            let kv = ctx.env.kv("KV")?;
            kv.put(KV_PROBE_KEY, "pong")?.execute().await?;
            let value = kv.get(KV_PROBE_KEY).text().await?;
            Response::from_json(&KvEntry {
                key: KV_PROBE_KEY,
                value,
            })
        })
        .put_async("/_probe/kv/:key", |mut req, ctx| async move {
            let Some(key) = ctx.param("key").cloned() else {
                return Response::error("missing key", 400);
            };
            let body = req.text().await?;
            ctx.env.kv("KV")?.put(&key, body)?.execute().await?;
            Ok(Response::empty()?.with_status(204))
        })
        .get_async("/_probe/kv/:key", |_, ctx| async move {
            let Some(key) = ctx.param("key") else {
                return Response::error("missing key", 400);
            };
            match ctx.env.kv("KV")?.get(key).text().await? {
                Some(value) => Response::from_json(&KvEntry {
                    key,
                    value: Some(value),
                }),
                None => Response::error("not found", 404),
            }
        })
}
