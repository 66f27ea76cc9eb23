//! The seed's tables as SonicJs's REST API, through `sonic-db-api`: this file is the rules and
//! the mount; the routes, shapes, checks and caps are the library's.
//!
//! Anyone reads every table (the users' `password`, `#[column(secret)]` in the schema, is
//! never shown, filtered or sorted on); only the admin writes. The admin is whoever sends
//! `Authorization: Bearer <ADMIN_TOKEN>`, a Worker secret (`wrangler secret put ADMIN_TOKEN`;
//! locally `.dev.vars`); no header is anonymous, any other token a 401.

use sonic_db_api::{Access, Api, Ctx, Limits, TableApi};
use sonic_db_core::{CacheConfig, Db};
use sonic_example_blog::schema::{Comment, Post, User};

/// Who calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// No credentials: reads only.
    Anonymous,
    /// The holder of the `ADMIN_TOKEN` secret: reads and writes.
    Admin,
}

fn admin<T: 'static>() -> Access<T, Who> {
    Access::when(|ctx: Ctx<Who>| async move { *ctx.principal == Who::Admin })
}

/// Read by all, written by the admin, ids taken from bodies (the admin seeds records with
/// known ids), `?with=` names as listed.
fn table<T>(route: &str) -> TableApi<T, Who>
where
    T: sonic_db_core::Table + Clone + serde::Serialize + serde::de::DeserializeOwned,
{
    TableApi::new(route)
        .client_ids(true)
        .read(Access::allow())
        .create(admin())
        .update(admin())
        .delete(admin())
}

/// The API under `/v1`: `users` (`?with=posts`, `posts.comments`), `posts` (`author`,
/// `comments`), `comments` (`post`, `post.author`). Up to 1,000 records per `POST` (one
/// atomic batch; an insert writes nothing to KV).
///
/// ```
/// use sonic_example_worker::api::{api, Who};
/// # use sonic_db_core::{sqlite::SqliteBackend, Db};
/// # pollster::block_on(async {
/// # let db = Db::new(SqliteBackend::memory()?);
/// # for s in sonic_example_blog::migrations::schema().statements() { db.sql(s).run().await?; }
/// let api = api();
/// let post = |who| {
///     let body = br#"{"id": "u1", "email": "ada@example.com", "password": "hash", "role": "user"}"#;
///     let request = http::Request::post("/v1/users").header("content-type", "application/json");
///     api.handle(&db, who, request.body(body.to_vec()).unwrap())
/// };
/// assert_eq!(post(Who::Anonymous).await.status(), 403);
/// let created = post(Who::Admin).await;
/// assert_eq!(created.status(), 201);
/// assert!(!String::from_utf8_lossy(created.body()).contains("hash"));
/// # Ok::<(), sonic_db_core::Error>(())
/// # }).unwrap();
/// ```
pub fn api() -> Api<Who> {
    let users = table::<User>("users")
        .relation("posts", || User::POSTS.into())
        .relation("posts.comments", || User::POSTS.with(Post::COMMENTS).into());
    let posts = table::<Post>("posts")
        .relation("author", || Post::AUTHOR.into())
        .relation("comments", || Post::COMMENTS.into());
    let comments = table::<Comment>("comments")
        .relation("post", || Comment::POST.into())
        .relation("post.author", || Comment::POST.with(Post::AUTHOR).into());
    Api::new("/v1")
        .table(users)
        .table(posts)
        .table(comments)
        .limits(Limits {
            max_bulk_records: 1000,
            ..Limits::default()
        })
}

/// The database of a request: D1 binding `DB`, cached in KV namespace `KV` (5-minute TTL),
/// knowing the tables of the schema, so that a delete also invalidates the cached records its
/// `ON DELETE CASCADE`s remove (deleting a user drops the KV entries of their posts and of
/// those posts' comments).
///
/// Built once per isolate (bindings, schema, cache configuration: nothing of it changes between
/// requests) and cloned for each request with the request's `wait_until`, on which fills (the
/// KV put after a miss) run after the response. Clones share the cache's memory of
/// invalidations KV refused, so every request of the isolate, not only the one that wrote,
/// reads those keys from SQL until repaired. No D1 session is used, so every statement, and
/// every KV fill, reads the primary; a request with an `x-d1-bookmark` header runs in a
/// session ([`serve`], `Db::session`), whose reads fill nothing, so the cache never stores a
/// replica's older row.
pub fn database(env: &worker::Env, fills: &crate::Fills) -> sonic_db_core::Result<Db> {
    thread_local! {
        static DB: std::cell::OnceCell<Db> = const { std::cell::OnceCell::new() };
    }
    DB.with(|kept| {
        let db = match kept.get() {
            Some(db) => db.clone(),
            None => {
                let db = Db::new(sonic_db_d1::D1Backend::from_env(env, "DB")?)
                    .with_schema(&sonic_example_blog::migrations::schema())
                    .with_kv(
                        sonic_db_kv::WorkersKv::from_env(env, "KV")?,
                        CacheConfig::new(),
                    )?;
                kept.get_or_init(|| db).clone()
            }
        };
        Ok(db.with_defer(fills.clone()))
    })
}

/// The same database natively, on any SQL backend and KV (the tests' SQLite and memory KV).
pub fn database_on(
    sql: std::sync::Arc<dyn sonic_db_core::SqlBackend + Send + Sync>,
    kv: impl sonic_db_core::KvBackend + 'static,
) -> sonic_db_core::Result<Db> {
    Db::from_shared(sql)
        .with_schema(&sonic_example_blog::migrations::schema())
        .with_kv(kv, CacheConfig::new())
}

thread_local! {
    /// Built once per isolate.
    static API: std::rc::Rc<Api<Who>> = std::rc::Rc::new(api());
}

/// Serves a request with the API: the caller from its bearer token, the request's database.
pub async fn serve(
    req: worker::web_sys::Request,
    env: &worker::Env,
    fills: &crate::Fills,
) -> worker::Result<worker::Response> {
    let Some(who) = who(&req, env)? else {
        let body = serde_json::json!({"error": "unknown token", "status": 401});
        return Ok(worker::Response::from_json(&body)?.with_status(401));
    };
    let db = database(env, fills).map_err(|e| worker::Error::RustError(e.to_string()))?;
    // Read replication: a client that sends `x-d1-bookmark` is served in a D1 session
    // starting there, and gets the session's latest bookmark back in the same header.
    let bookmark = req.headers().get(BOOKMARK_HEADER)?;
    let Some(bookmark) = bookmark else {
        return sonic_db_api::worker::serve(&API.with(std::rc::Rc::clone), &db, who, req).await;
    };
    let session = db
        .session(Some(bookmark.as_str()).filter(|b| !b.is_empty()))
        .map_err(|e| worker::Error::RustError(e.to_string()))?;
    let mut response =
        sonic_db_api::worker::serve(&API.with(std::rc::Rc::clone), &session, who, req).await?;
    if let Some(latest) = session
        .bookmark()
        .map_err(|e| worker::Error::RustError(e.to_string()))?
    {
        response.headers_mut().set(BOOKMARK_HEADER, &latest)?;
    }
    Ok(response)
}

/// The request and response header of a client's D1 bookmark ([`serve`]). Absent: no session,
/// every read on the primary. Present: a session from that bookmark (empty: from anywhere,
/// `first-primary`: from the primary), whose latest bookmark comes back in the response, so
/// the client's next request reads at least its own writes, on any replica.
pub const BOOKMARK_HEADER: &str = "x-d1-bookmark";

/// The caller from `Authorization: Bearer <token>`; `None` for a token that is not the admin's.
/// Compared as SHA-256 digests: equal lengths, so no early exit on a common prefix.
fn who(req: &worker::web_sys::Request, env: &worker::Env) -> worker::Result<Option<Who>> {
    use sha2::{Digest, Sha256};
    let Some(header) = req.headers().get("authorization")? else {
        return Ok(Some(Who::Anonymous));
    };
    let Some(token) = header.strip_prefix("Bearer ") else {
        return Ok(None);
    };
    let admin = env.secret("ADMIN_TOKEN").map(|s| s.to_string()).ok();
    Ok(admin
        .filter(|admin| !admin.is_empty())
        .filter(|admin| Sha256::digest(admin.as_bytes()) == Sha256::digest(token.as_bytes()))
        .map(|_| Who::Admin))
}
