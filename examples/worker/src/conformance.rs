//! The conformance suite ([`sonic_db_conformance`]) on the real runtime: D1 + Workers KV.
//! A test route, driven by `e2e/tests/conformance.test.mjs`; like every test route it is
//! compiled in with the feature `test-routes` and served only when `SONIC_TEST_ROUTES = "1"`
//! (see [`crate::test_routes_enabled`]).
//!
//! - `POST /_conformance[?sabotage=<name>]`, body [`Options`] as JSON (`{}` or empty: every
//!   scenario) → `200` and the [`Report`](sonic_db_conformance::Report) as JSON, also when
//!   scenarios fail (the report says which, and why). With `sabotage`, the backends are
//!   wrapped in [`SabotagedSql`] / [`SabotagedKv`] so that the suite must fail
//!   ([`Sabotage::must_fail`]). An unknown sabotage or a body that is not `Options` is `400`
//!   `{"error": "..."}`; a missing binding is `500`.
//! - `GET /_conformance/scenarios` → `["crud", ...]`, every scenario in the order they run.
//! - `GET /_conformance/sabotage` → `{"drop_last_row": ["filter_operators", ...], ...}`: each
//!   sabotage's must-fail scenarios.
//!
//! The suite works on its own tables (`conf_*`, created and dropped by the run) and KV keys
//! (`conformance-…`, 60 s TTL), so it does not touch the API's data; but a full run sends
//! about a thousand D1 statements and 660 KV operations in one request, and it drops tables:
//! never expose it in a real deployment.

use std::collections::BTreeMap;

use serde_json::json;
use sonic_db_conformance::{Options, Sabotage, SabotagedKv, SabotagedSql};
use sonic_db_core::{CacheConfig, Db};
use sonic_db_d1::D1Backend;
use sonic_db_kv::WorkersKv;
use worker::url::form_urlencoded;

use crate::Fills;
use worker::{Env, Request, Response, RouteContext, Router};

/// Adds `/_conformance`, `/_conformance/scenarios` and `/_conformance/sabotage`.
pub fn register(router: Router<'_, Fills>) -> Router<'_, Fills> {
    router
        .post_async("/_conformance", run)
        .get("/_conformance/scenarios", |_, _| {
            Response::from_json(&sonic_db_conformance::scenario_names())
        })
        .get("/_conformance/sabotage", |_, _| {
            let lists: BTreeMap<&str, &[&str]> = Sabotage::ALL
                .into_iter()
                .map(|s| (s.name(), s.must_fail()))
                .collect();
            Response::from_json(&lists)
        })
}

async fn run(mut req: Request, ctx: RouteContext<Fills>) -> worker::Result<Response> {
    // The raw query string, decoded by `form_urlencoded` alone (see `http::decode`).
    let raw_url = req.inner().url();
    let query = raw_url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    let mut sabotage = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "sabotage" => match Sabotage::parse(&value) {
                Ok(parsed) => sabotage = parsed,
                Err(e) => return error(400, &e),
            },
            other => return error(400, &format!("unknown query parameter `{other}`")),
        }
    }

    let body = match req.bytes().await {
        Ok(body) => body,
        Err(e) => return error(400, &format!("cannot read the body: {e}")),
    };
    let mut options: Options = if body.iter().all(u8::is_ascii_whitespace) {
        Options::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(options) => options,
            Err(e) => return error(400, &format!("the body is not conformance Options: {e}")),
        }
    };
    if options.backend.is_empty() {
        options.backend = format!(
            "d1 + workers kv, sabotage {}",
            sabotage.map_or("none", Sabotage::name)
        );
    }

    let db = match database(&ctx.env, sabotage) {
        Ok(db) => db,
        Err(e) => return error(500, &e.to_string()),
    };
    let report = sonic_db_conformance::run(&db, &options).await;
    if !report.ok() {
        // The names only: the messages are in the report (and can be long).
        worker::console_log!(
            "{}: {} passed, {} failed: {}",
            report.backend,
            report.passed,
            report.failed,
            report.failures().join(", ")
        );
    }
    Response::from_json(&report)
}

/// D1 binding `DB` and KV namespace `KV`, each wrapped with `sabotage` (a wrapper applies only
/// the sabotages of its kind, and passes everything through with `None`).
fn database(env: &Env, sabotage: Option<Sabotage>) -> sonic_db_core::Result<Db> {
    let sql = SabotagedSql::new(D1Backend::from_env(env, "DB")?, sabotage);
    let kv = SabotagedKv::new(WorkersKv::from_env(env, "KV")?, sabotage);
    Db::new(sql).with_kv(kv, CacheConfig::new())
}

fn error(status: u16, message: &str) -> worker::Result<Response> {
    Ok(Response::from_json(&json!({ "error": message }))?.with_status(status))
}
