//! Raw KV round trips through the `worker` crate, without Sonic, for
//! `e2e/tests/probe.test.mjs`: `GET /_probe/kv`, `PUT|GET /_probe/kv/:key`. A test route.

use serde::Serialize;
use worker::{Response, Router};

use crate::Fills;

#[derive(Debug, Serialize)]
struct KvEntry<'a> {
    key: &'a str,
    value: Option<String>,
}

const KV_PROBE_KEY: &str = "_probe:kv";

/// Raw KV round trips through the `worker` crate, without Sonic.
pub fn register(router: Router<'_, Fills>) -> Router<'_, Fills> {
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
