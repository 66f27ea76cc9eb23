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
//!
//! Sonic's `tracing` events go to the console (`wrangler tail`), filtered by the variable
//! `SONIC_LOG` ([`logging`]; warnings only without it).
//!
//! Test routes, for the end-to-end tests only: compiled in with the cargo feature
//! `test-routes` (off by default; scripts/e2e.sh turns it on), and served only when the
//! Worker's environment has `SONIC_TEST_ROUTES = "1"` (set by the e2e harness, never by
//! `wrangler.toml`; otherwise they answer `404` like any unknown path). A real deployment must not serve them: they read, write and drop D1 tables and KV
//! keys without any access control.
//!
//! - `GET /_probe/kv`, `PUT|GET /_probe/kv/:key`: raw KV round trips for
//!   `e2e/tests/probe.test.mjs` (`probe`)
//! - `POST /_backend/...`: the `sonic-db-d1` / `sonic-db-kv` test routes (`backend_routes`)
//! - `POST /_conformance[?sabotage=...]`: the `sonic-db-conformance` suite on D1 + KV
//!   (`conformance`)
//!
//! To copy it: keep [`rest`] and [`http`], replace the tables in [`rest::handle`] and the
//! `impl Resource`s in [`rest::resource`], generate your migrations, and drop the test routes
//! (the `test-routes` feature, its modules and the `sonic-db-conformance` dependency).

#[cfg(feature = "test-routes")]
pub mod backend_routes;
#[cfg(feature = "test-routes")]
pub mod conformance;
pub mod http;
pub mod logging;
#[cfg(feature = "test-routes")]
mod probe;
pub mod rest;

use worker::{event, Context, Env, Request, Response, Result, Router};

/// What every route gets: the request's `wait_until`, on which the cache runs its fills after
/// the response.
pub type Fills = sonic_db_kv::WaitUntil;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    logging::init(&env);
    let router = Router::with_data(Fills::new(ctx)).get("/health", |_, _| {
        Response::from_json(&serde_json::json!({ "ok": true }))
    });
    let router = http::register(router);
    #[cfg(feature = "test-routes")]
    let router = if test_routes_enabled(&env) {
        conformance::register(backend_routes::register(probe::register(router)))
    } else {
        router
    };
    router.run(req, env).await
}

/// Whether the test routes (`/_probe`, `/_backend`, `/_conformance`) are served: only when the
/// environment variable `SONIC_TEST_ROUTES` is exactly `"1"`.
pub fn test_routes_enabled(env: &Env) -> bool {
    env.var("SONIC_TEST_ROUTES")
        .is_ok_and(|flag| flag.to_string() == "1")
}
