//! The example Worker: SonicJs's REST API on D1 + Workers KV with Sonic, served by
//! `sonic-db-api`.
//!
//! Bindings (see `wrangler.toml`): D1 database `DB`, migrated with the migrations Sonic
//! generated from the seed schema (`migrations/`, written by `cargo run -p sonic-example-blog
//! --bin migrations`), KV namespace `KV`, the cache of single records, and the secret
//! `ADMIN_TOKEN`, the bearer token of the only principal that writes.
//!
//! Routes:
//!
//! - `GET /health` → `{"ok":true}`
//! - everything else: the REST API under `/v1` on `users`, `posts`, `comments` ([`api`]: the
//!   rules and the mount); unknown paths and methods are its JSON errors, with a request id
//!
//! Sonic's `tracing` events go to the console (`wrangler tail`), filtered by the variable
//! `SONIC_LOG` ([`logging`]; warnings only without it).
//!
//! Test routes, for the end-to-end tests only: compiled in with the cargo feature
//! `test-routes` (off by default; scripts/e2e.sh turns it on), and served only when the
//! Worker's environment has `SONIC_TEST_ROUTES = "1"` (set by the e2e harness, never by
//! `wrangler.toml`; otherwise they are unknown paths of the API, a JSON `404`). A real
//! deployment must not serve them: they read, write and drop D1 tables and KV keys without any
//! access control.
//!
//! - `GET /_probe/kv`, `PUT|GET /_probe/kv/:key`: raw KV round trips for
//!   `e2e/tests/probe.test.mjs` (`probe`)
//! - `POST /_backend/...`: the `sonic-db-d1` / `sonic-db-kv` test routes (`backend_routes`)
//! - `POST /_conformance[?sabotage=...]`: the `sonic-db-conformance` suite on D1 + KV
//!   (`conformance`)
//!
//! To copy it: keep [`api`] with your tables and rules, generate your migrations, and drop the
//! test routes (the `test-routes` feature, its modules and the `sonic-db-conformance`
//! dependency).

pub mod api;

#[cfg(feature = "test-routes")]
pub mod backend_routes;
#[cfg(feature = "test-routes")]
pub mod conformance;
pub mod logging;
#[cfg(feature = "test-routes")]
mod probe;

use worker::{event, web_sys, Context, Env, Response, Result};

/// What every route gets: the request's `wait_until`, on which the cache runs its fills after
/// the response.
pub type Fills = sonic_db_kv::WaitUntil;

/// The runtime's request as it comes (`web_sys::Request`), not `worker::Request`, whose
/// construction reads `request.cf` for every request (see `sonic_db_api::worker::serve`).
#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> Result<Response> {
    logging::init(&env);
    let fills = Fills::new(ctx);
    let url = req.url();
    let (path, _) = sonic_db_api::worker::path_and_query(&url);
    if path == "/health" {
        return Response::from_json(&serde_json::json!({ "ok": true }));
    }
    #[cfg(feature = "test-routes")]
    if test_routes_enabled(&env)
        && ["/_probe/", "/_backend/", "/_conformance"]
            .iter()
            .any(|p| path.starts_with(p) || path == p.trim_end_matches('/'))
    {
        let router = worker::Router::with_data(fills);
        let router = conformance::register(backend_routes::register(probe::register(router)));
        return router.run(worker::Request::from(req), env).await;
    }
    api::serve(req, &env, &fills).await
}

/// Whether the test routes (`/_probe`, `/_backend`, `/_conformance`) are served: only when the
/// environment variable `SONIC_TEST_ROUTES` is exactly `"1"`.
pub fn test_routes_enabled(env: &Env) -> bool {
    env.var("SONIC_TEST_ROUTES")
        .is_ok_and(|flag| flag.to_string() == "1")
}
