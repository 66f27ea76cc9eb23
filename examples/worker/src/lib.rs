//! Minimal example Worker for the Sonic end-to-end pipeline.
//!
//! Bindings: D1 database `DB`, KV namespace `KV` (see `wrangler.toml`).
//! Routes (probes used by `e2e/tests/*.test.mjs`; the real REST API will replace them):
//!
//! - `GET  /health`            → `{"ok":true}`
//! - `GET  /_probe/d1`         → runs `SELECT 1 AS one` → `{"one":1}`
//! - `PUT  /_probe/d1/:id`     → body text stored in `probe(id, v)` → the stored row
//! - `GET  /_probe/d1/:id`     → the row or 404
//! - `GET  /_probe/kv`         → puts then gets a fixed key → `{"key":..,"value":..}`
//! - `PUT  /_probe/kv/:key`    → body text stored under `key`
//! - `GET  /_probe/kv/:key`    → `{"key":..,"value":..}` or 404
//! - `POST /_backend/...`      → the `sonic-d1` / `sonic-kv` test routes (see
//!   [`backend_routes`]; kept in their own module so they survive a rewrite of this file)

pub mod backend_routes;

use serde::{Deserialize, Serialize};
use worker::{event, Context, Env, Request, Response, Result, RouteContext, Router};

/// One row of the placeholder `probe` table (`migrations/0001_init.sql`).
#[derive(Debug, Serialize, Deserialize)]
pub struct ProbeRow {
    pub id: i64,
    pub v: Option<String>,
}

#[derive(Debug, Serialize)]
struct KvEntry<'a> {
    key: &'a str,
    value: Option<String>,
}

const KV_PROBE_KEY: &str = "_probe:kv";

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    backend_routes::register(Router::new())
        .get("/health", |_, _| Response::from_json(&serde_json::json!({ "ok": true })))
        .get_async("/_probe/d1", |_, ctx| async move { d1_select_one(&ctx).await })
        .put_async("/_probe/d1/:id", |mut req, ctx| async move {
            let Some(id) = parse_id(&ctx) else {
                return Response::error("id must be an integer", 400);
            };
            let v = req.text().await?;
            let db = ctx.env.d1("DB")?;
            db.prepare("INSERT INTO probe (id, v) VALUES (?1, ?2) ON CONFLICT(id) DO UPDATE SET v = excluded.v")
                .bind(&[(id as f64).into(), v.into()])?
                .run()
                .await?;
            match read_probe(&ctx, id).await? {
                Some(row) => Response::from_json(&row),
                None => Response::error("row vanished", 500),
            }
        })
        .get_async("/_probe/d1/:id", |_, ctx| async move {
            let Some(id) = parse_id(&ctx) else {
                return Response::error("id must be an integer", 400);
            };
            match read_probe(&ctx, id).await? {
                Some(row) => Response::from_json(&row),
                None => Response::error("not found", 404),
            }
        })
        .get_async("/_probe/kv", |_, ctx| async move {
            let kv = ctx.env.kv("KV")?;
            kv.put(KV_PROBE_KEY, "pong")?.execute().await?;
            let value = kv.get(KV_PROBE_KEY).text().await?;
            Response::from_json(&KvEntry { key: KV_PROBE_KEY, value })
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
                Some(value) => Response::from_json(&KvEntry { key, value: Some(value) }),
                None => Response::error("not found", 404),
            }
        })
        .run(req, env)
        .await
}

async fn d1_select_one(ctx: &RouteContext<()>) -> Result<Response> {
    let db = ctx.env.d1("DB")?;
    let row: Option<serde_json::Value> = db.prepare("SELECT 1 AS one").first(None).await?;
    Response::from_json(&row)
}

fn parse_id(ctx: &RouteContext<()>) -> Option<i64> {
    // D1 numbers travel as JS doubles: stay within the exactly representable range.
    const MAX_SAFE: i64 = (1 << 53) - 1;
    ctx.param("id")
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|id| id.abs() <= MAX_SAFE)
}

async fn read_probe(ctx: &RouteContext<()>, id: i64) -> Result<Option<ProbeRow>> {
    ctx.env
        .d1("DB")?
        .prepare("SELECT id, v FROM probe WHERE id = ?1")
        .bind(&[(id as f64).into()])?
        .first::<ProbeRow>(None)
        .await
}
