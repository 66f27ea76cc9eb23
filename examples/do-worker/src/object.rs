//! The Durable Object class and the test routes it serves.

use serde_json::json;
use sonic_db_conformance::Options;
use sonic_db_core::migrate::MigrationFile;
use sonic_db_core::{CacheConfig, Db, SqlBackend, Statement, Value};
use sonic_db_do::{DoSqlBackend, MigrationsAtStart};
use sonic_db_kv::WorkersKv;
// `#[durable_object]` expands to code that names the wasm-bindgen crate.
use worker::wasm_bindgen;
use worker::{durable_object, DurableObject, Env, Method, Request, Response, Result, State};

/// `POST /remote/_conformance`: the conformance suite in the Worker, on the database of the
/// object `remote` through `DoStubBackend` (every statement a request to the object).
pub(crate) async fn remote_conformance(mut req: Request, env: &Env) -> Result<Response> {
    let body = req.bytes().await?;
    let mut options: Options = if body.iter().all(u8::is_ascii_whitespace) {
        Options::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(options) => options,
            Err(e) => return error(400, &format!("not conformance Options: {e}")),
        }
    };
    options.backend = "durable object sqlite through its stub + workers kv".to_string();
    let db = sonic_db_do::DoStubBackend::from_env(env, "OBJECTS", "remote").and_then(|sql| {
        let kv = WorkersKv::from_env(env, "KV")?;
        Db::new(sql).with_kv(kv, CacheConfig::new().prefix("remote"))
    });
    match db {
        Ok(db) => Response::from_json(&sonic_db_conformance::run(&db, &options).await),
        Err(e) => error(500, &e.to_string()),
    }
}

/// Sends `/do/{name}/{route}` to the object `name` as `/{route}`.
pub(crate) async fn forward(req: Request, env: &Env) -> Result<Response> {
    let path = req.path();
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let (Some("do"), Some(name), Some(route)) = (parts.next(), parts.next(), parts.next()) else {
        return error(404, "expected /do/{name}/{route}");
    };
    // The name also prefixes the object's cache keys, which take these characters.
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if name.is_empty() || name.len() > 48 || !name.chars().all(valid) {
        return error(400, "an object name is 1 to 48 of A-Z a-z 0-9 - _");
    }
    let stub = env
        .durable_object("OBJECTS")?
        .id_from_name(name)?
        .get_stub()?;
    let mut url = req.url()?;
    url.set_path(&format!("/{route}"));
    let mut forwarded = Request::new_with_init(
        url.as_str(),
        worker::RequestInit::new()
            .with_method(req.method())
            .with_body(req.inner().body().map(Into::into)),
    )?;
    let _ = forwarded.headers_mut()?.set("x-sonic-object", name);
    stub.fetch_with_request(forwarded).await
}

/// The example Worker's migration files, the ones `wrangler d1 migrations apply` runs on its D1
/// database, applied by every object when it starts.
const MIGRATIONS: &[MigrationFile] =
    sonic_db_core::embed_migrations!("../worker/migrations": "0001_init.sql");

/// The same files plus one that fails halfway: applied on request (`/_migrate_broken`) to show
/// that a failing file leaves the object as it was.
const WITH_A_BROKEN_FILE: &[MigrationFile] = sonic_db_core::embed_migrations!(
    "fixtures/broken-migration": "0002_broken.sql"
);

/// One object: its own SQLite database, migrated when the object starts, Sonic on it, KV under
/// the object's prefix.
#[durable_object]
pub struct SonicObject {
    backend: DoSqlBackend,
    migrations: MigrationsAtStart,
    /// When this instance was constructed (ms since the epoch, and a random part): a restart
    /// (a new workerd on the same state) shows as a new value.
    instance: String,
    env: Env,
}

impl DurableObject for SonicObject {
    fn new(state: State, env: Env) -> Self {
        let migrations = MigrationsAtStart::begin(&state, MIGRATIONS);
        SonicObject {
            backend: DoSqlBackend::from_state(state),
            migrations,
            instance: format!(
                "{}-{}",
                worker::js_sys::Date::now(),
                worker::js_sys::Math::random()
            ),
            env,
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let name = req.headers().get("x-sonic-object")?.unwrap_or_default();
        match (req.method(), req.path().as_str()) {
            (Method::Post, "/_conformance") => {
                let body = req.bytes().await?;
                let mut options: Options = if body.iter().all(u8::is_ascii_whitespace) {
                    Options::default()
                } else {
                    match serde_json::from_slice(&body) {
                        Ok(options) => options,
                        Err(e) => return error(400, &format!("not conformance Options: {e}")),
                    }
                };
                if options.backend.is_empty() {
                    options.backend = format!("durable object sqlite `{name}` + workers kv");
                }
                let db = match self.db(&name) {
                    Ok(db) => db,
                    Err(e) => return error(500, &e.to_string()),
                };
                Response::from_json(&sonic_db_conformance::run(&db, &options).await)
            }
            (Method::Post, "/_transaction") => self.transaction().await,
            (Method::Get, "/_migrations") => self.migrations().await,
            (Method::Post, "/_migrate_broken") => self.migrate_broken().await,
            (Method::Post, "/_users") | (Method::Get, "/_users") => {
                let insert = Statement::new(
                    "INSERT INTO users (id, email, password) \
                     SELECT 'u' || n, 'u' || n || '@example.test', 'x' \
                     FROM (SELECT count(*) + 1 AS n FROM users)",
                    vec![],
                );
                if req.method() == Method::Post {
                    if let Err(e) = self.backend.execute(&insert).await {
                        return error(500, &e.to_string());
                    }
                }
                let count = Statement::new("SELECT count(*) FROM users", vec![]);
                match self.backend.execute(&count).await.map(|r| r.values) {
                    Ok(values) => match values.first() {
                        Some(Value::Integer(n)) => Response::from_json(&json!({ "count": n })),
                        other => error(500, &format!("count(*) returned {other:?}")),
                    },
                    Err(e) => error(500, &e.to_string()),
                }
            }
            // Statements of a `DoStubBackend` in the Worker (a shard of `/tenants/…`).
            (Method::Post, "/sql") => sonic_db_do::serve_sql(&self.backend, req).await,
            (Method::Get, "/_count") => match self.count().await {
                Ok(n) => Response::from_json(&json!({ "count": n })),
                Err(e) => error(500, &e.to_string()),
            },
            _ => error(404, "unknown route"),
        }
    }
}

impl SonicObject {
    /// Sonic on this object's database; cache keys under `do/{name}/`.
    fn db(&self, name: &str) -> sonic_db_core::Result<Db> {
        let backend = DoSqlBackend::from_state(self.backend.state());
        let kv = WorkersKv::from_env(&self.env, "KV")?;
        Db::new(backend).with_kv(kv, CacheConfig::new().prefix(format!("do/{name}/")))
    }

    /// What this instance applied when it started, and what the object's record holds.
    async fn migrations(&self) -> Result<Response> {
        let recorded = Statement::new("SELECT name FROM d1_migrations ORDER BY id", vec![]);
        let recorded = match self.backend.execute(&recorded).await {
            Ok(rows) => rows.values,
            Err(e) => return error(500, &e.to_string()),
        };
        let names: Vec<_> = recorded
            .into_iter()
            .filter_map(|v| match v {
                Value::Text(name) => Some(name),
                _ => None,
            })
            .collect();
        let (applied, failure) = match self.migrations.outcome() {
            Ok(applied) => (Some(applied), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Response::from_json(&json!({
            "instance": self.instance,
            "applied_at_start": applied,
            "error": failure,
            "recorded": names,
        }))
    }

    /// Applies the example's files and a broken one through `apply_embedded`, as at start: the
    /// error names the file, and neither its ALTER nor its record stays.
    async fn migrate_broken(&self) -> Result<Response> {
        let db = Db::new(DoSqlBackend::from_state(self.backend.state()));
        let files: Vec<MigrationFile> = MIGRATIONS
            .iter()
            .chain(WITH_A_BROKEN_FILE)
            .copied()
            .collect();
        let failure = sonic_db_core::migrate::apply_embedded(&db, &files)
            .await
            .err()
            .map(|e| e.to_string());
        let columns = Statement::new(
            "SELECT name FROM pragma_table_info('users') ORDER BY cid",
            vec![],
        );
        let recorded = Statement::new("SELECT name FROM d1_migrations ORDER BY id", vec![]);
        let texts = |values: Vec<Value>| -> Vec<String> {
            values
                .into_iter()
                .filter_map(|v| match v {
                    Value::Text(t) => Some(t),
                    _ => None,
                })
                .collect()
        };
        match (
            self.backend.execute(&columns).await,
            self.backend.execute(&recorded).await,
        ) {
            (Ok(columns), Ok(recorded)) => Response::from_json(&json!({
                "error": failure,
                "users_columns": texts(columns.values),
                "recorded": texts(recorded.values),
            })),
            (a, b) => error(500, &format!("{:?} {:?}", a.err(), b.err())),
        }
    }

    /// A failing batch leaves nothing; the same batch without its failing statement commits.
    async fn transaction(&self) -> Result<Response> {
        let run = |sql: &'static str, params: Vec<Value>| Statement::new(sql, params);
        let setup = [
            run(
                "CREATE TABLE IF NOT EXISTS tx_items (id TEXT PRIMARY KEY)",
                vec![],
            ),
            run("DELETE FROM tx_items", vec![]),
        ];
        if let Err(e) = self.backend.batch(&setup).await {
            return error(500, &e.to_string());
        }
        let insert = |id: &str| {
            run(
                "INSERT INTO tx_items (id) VALUES (?)",
                vec![Value::Text(id.to_owned())],
            )
        };
        let failing = [insert("a"), insert("b"), insert("a")];
        let failure = self
            .backend
            .batch(&failing)
            .await
            .err()
            .map(|e| e.to_string());
        let after_failure = self.count().await;
        let committed = self.backend.batch(&[insert("a"), insert("b")]).await;
        let after_success = self.count().await;
        let interactive = self.interactive().await;
        match (after_failure, committed, after_success, interactive) {
            (Ok(after_failure), Ok(_), Ok(after_success), Ok(interactive)) => {
                Response::from_json(&json!({
                    "error": failure,
                    "after_failure": after_failure,
                    "after_success": after_success,
                    "interactive": interactive,
                }))
            }
            (a, b, c, d) => error(500, &format!("{a:?} {:?} {c:?} {d:?}", b.map(|_| ()))),
        }
    }

    /// `Db::transaction` on the object's database, after `transaction` left rows a and b: a
    /// body that gives up midway (after a write and a batch) and one whose statement fails
    /// leave both alone; a batch failing inside a body that goes on undoes only the batch.
    async fn interactive(&self) -> sonic_db_core::Result<serde_json::Value> {
        let db = Db::new(DoSqlBackend::from_state(self.backend.state()));
        let insert = |id: &str| {
            Statement::new(
                "INSERT INTO tx_items (id) VALUES (?)",
                vec![Value::Text(id.to_owned())],
            )
        };
        let given_up = db
            .transaction(|tx| async move {
                tx.backend().execute(&insert("c")).await?;
                tx.backend().batch(&[insert("d"), insert("e")]).await?;
                Err::<(), _>(sonic_db_core::Error::InvalidQuery(
                    "given up midway".to_string(),
                ))
            })
            .await
            .err()
            .map(|e| e.to_string());
        let after_given_up = self.count().await?;
        let failed = db
            .transaction(|tx| async move {
                tx.backend().execute(&insert("c")).await?;
                tx.backend().execute(&insert("a")).await?; // a exists: UNIQUE
                Ok(())
            })
            .await
            .err()
            .map(|e| e.to_string());
        let after_failed = self.count().await?;
        let batch_error = db
            .transaction(|tx| async move {
                tx.backend().execute(&insert("c")).await?;
                let batch = tx.backend().batch(&[insert("d"), insert("a")]).await;
                tx.backend().execute(&insert("e")).await?;
                Ok(batch.err().map(|e| e.to_string()))
            })
            .await?;
        let after_partial = self.count().await?;
        Ok(json!({
            "given_up": given_up,
            "after_given_up": after_given_up,
            "failed": failed,
            "after_failed": after_failed,
            "batch_error": batch_error,
            "after_partial": after_partial,
        }))
    }

    async fn count(&self) -> sonic_db_core::Result<i64> {
        let exists = Statement::new(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'tx_items'",
            vec![],
        );
        let found = self.backend.execute(&exists).await?;
        if found.values.first() != Some(&Value::Integer(1)) {
            return Ok(0);
        }
        let count = Statement::new("SELECT count(*) FROM tx_items", vec![]);
        match self.backend.execute(&count).await?.values.first() {
            Some(Value::Integer(n)) => Ok(*n),
            other => Err(sonic_db_core::Error::Database {
                message: format!("count(*) returned {other:?}"),
            }),
        }
    }
}

fn error(status: u16, message: &str) -> Result<Response> {
    Ok(Response::from_json(&json!({ "error": message }))?.with_status(status))
}
