//! Sonic on Durable Object SQLite: the Worker routes `/do/{name}/…` to the object named
//! `name` (binding `OBJECTS`, class `SonicObject`), and each object runs Sonic on its own
//! SQLite database through `sonic_db_do::DoSqlBackend`, with Workers KV (`KV`) as the cache
//! under a prefix of its own, so objects never see each other's rows or cache entries.
//!
//! The only routes are test routes (feature `test-routes`, served with
//! `SONIC_TEST_ROUTES = "1"`), driven by `e2e/do/*.test.mjs` through `scripts/do-worker.sh`:
//!
//! - `POST /do/{name}/_conformance`, body `sonic_db_conformance::Options` as JSON: the
//!   conformance suite on the object's database → the report;
//! - `POST /do/{name}/_transaction`: a batch whose last statement fails changes nothing, the
//!   same batch without it commits; then `Db::transaction`s that give up or fail midway change
//!   nothing, and a batch failing inside one undoes only itself → `{"error", "after_failure",
//!   "after_success", "interactive"}`;
//! - `GET /do/{name}/_count`: the rows of that test table in this object;
//! - `GET /do/{name}/_migrations`: what the object applied when it started (the example
//!   Worker's migration files, `sonic_db_do::MigrationsAtStart`) and its `d1_migrations`;
//!   `POST|GET /do/{name}/_users` adds a row to the migrated `users` table / counts them;
//!   `POST /do/{name}/_migrate_broken` applies those files and one that fails halfway →
//!   `{"error", "users_columns", "recorded"}`;
//! - `POST /remote/_conformance`: the suite in the Worker, on an object's database through
//!   `sonic_db_do::DoStubBackend`;
//! - `/tenants/…`: tenants placed across three D1 databases and two objects (see `tenants`).
//!
//! A default build answers every request with a 404 JSON error: nothing here has access rules.

use worker::{event, Context, Env, Request, Response, Result};

#[cfg(feature = "test-routes")]
mod object;
#[cfg(feature = "test-routes")]
mod tenants;

/// Routes `/do/{name}/…` to the object named `name`.
#[event(fetch)]
pub async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    #[cfg(feature = "test-routes")]
    {
        let served = env.var("SONIC_TEST_ROUTES").map(|v| v.to_string()).ok();
        if served.as_deref() == Some("1") {
            if req.path().starts_with("/tenants/") {
                return tenants::serve(req, &env).await;
            }
            if req.path() == "/remote/_conformance" {
                return object::remote_conformance(req, &env).await;
            }
            return object::forward(req, &env).await;
        }
    }
    let _ = (req, env);
    not_found()
}

fn not_found() -> Result<Response> {
    Ok(Response::from_json(&serde_json_error("not found"))?.with_status(404))
}

/// `{"error": message}` without serde_json in the default build.
fn serde_json_error(message: &str) -> std::collections::BTreeMap<&'static str, &str> {
    std::collections::BTreeMap::from([("error", message)])
}
