//! The Workers benchmark's routes with Sonic (benches/workers/run.sh; the same routes by hand
//! are benches/workers/hand, with Drizzle benches/workers/drizzle):
//!
//! - `GET /users/:id`: the user through the KV cache (`Db::find`: KV, else D1, then a fill
//!   after the response)
//! - `GET /posts?user_id=U`: the user's 20 newest posts
//! - `GET /posts-with-author`: the 20 newest posts, each with its author
//! - `GET /users-with-posts`: the first 10 users with their posts and the posts' comments
//! - `POST /users`: one user → `201` and the user as stored
//! - `POST /users/bulk`: an array of users, inserted atomically → `201 {"inserted": n}`

pub mod schema;

use sonic_db::{CacheConfig, D1Backend, Db, WorkersKv};
use sonic_db_kv::WaitUntil;
use worker::{event, Context, Env, Request, Response, Result, RouteContext, Router};

use schema::{Post, User};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Router::with_data(WaitUntil::new(ctx))
        .get_async("/users/:id", get_user)
        .get_async("/posts", list_posts)
        .get_async("/posts-with-author", posts_with_author)
        .get_async("/users-with-posts", users_with_posts)
        .post_async("/users", create_user)
        .post_async("/users/bulk", create_users)
        .run(req, env)
        .await
}

/// The request's database: D1 `DB`, single records cached in KV `KV` (the default
/// policy: inserts write nothing to KV, fills after the response). Built once per isolate
/// (bindings, schema, cache configuration) and cloned for each request with the request's
/// `wait_until`; the clones share the cache's bookkeeping (suspect keys, each for a bounded
/// window), which is then the isolate's.
fn database(ctx: &RouteContext<WaitUntil>) -> sonic_db::Result<Db> {
    thread_local! {
        static DB: std::cell::OnceCell<Db> = const { std::cell::OnceCell::new() };
    }
    DB.with(|kept| {
        let db = match kept.get() {
            Some(db) => db.clone(),
            None => {
                let db = Db::new(D1Backend::from_env(&ctx.env, "DB")?)
                    .with_schema(&schema::schema())
                    .with_kv(WorkersKv::from_env(&ctx.env, "KV")?, CacheConfig::new())?;
                kept.get_or_init(|| db).clone()
            }
        };
        Ok(db.with_defer(ctx.data.clone()))
    })
}

fn failed(e: impl std::fmt::Display) -> Result<Response> {
    Response::error(e.to_string(), 500)
}

async fn get_user(_req: Request, ctx: RouteContext<WaitUntil>) -> Result<Response> {
    let Some(id) = ctx.param("id").and_then(|id| id.parse::<i64>().ok()) else {
        return Response::error("id must be an integer", 400);
    };
    let db = match database(&ctx) {
        Ok(db) => db,
        Err(e) => return failed(e),
    };
    match db.find::<User>(id).await {
        Ok(Some(user)) => Response::from_json(&user),
        Ok(None) => Response::error("not found", 404),
        Err(e) => failed(e),
    }
}

/// The `user_id` query parameter.
fn user_id_param(req: &Request) -> Option<i64> {
    let url = req.inner().url();
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("user_id="))
        .and_then(|id| id.parse().ok())
}

async fn list_posts(req: Request, ctx: RouteContext<WaitUntil>) -> Result<Response> {
    let Some(user_id) = user_id_param(&req) else {
        return Response::error("user_id must be an integer", 400);
    };
    let db = match database(&ctx) {
        Ok(db) => db,
        Err(e) => return failed(e),
    };
    let posts = db
        .select::<Post>()
        .filter(Post::USER_ID.eq(user_id))
        .order_by(Post::ID.desc())
        .limit(20)
        .all()
        .await;
    match posts {
        Ok(posts) => Response::from_json(&posts),
        Err(e) => failed(e),
    }
}

async fn posts_with_author(_req: Request, ctx: RouteContext<WaitUntil>) -> Result<Response> {
    let db = match database(&ctx) {
        Ok(db) => db,
        Err(e) => return failed(e),
    };
    let posts = db
        .select::<Post>()
        .order_by(Post::ID.desc())
        .limit(20)
        .with(Post::AUTHOR)
        .all()
        .await;
    match posts {
        Ok(posts) => Response::from_json(&posts),
        Err(e) => failed(e),
    }
}

async fn users_with_posts(_req: Request, ctx: RouteContext<WaitUntil>) -> Result<Response> {
    let db = match database(&ctx) {
        Ok(db) => db,
        Err(e) => return failed(e),
    };
    let users = db
        .select::<User>()
        .order_by(User::ID.asc())
        .limit(10)
        .with(User::POSTS.with(Post::COMMENTS))
        .all()
        .await;
    match users {
        Ok(users) => Response::from_json(&users),
        Err(e) => failed(e),
    }
}

async fn create_user(mut req: Request, ctx: RouteContext<WaitUntil>) -> Result<Response> {
    let Ok(user) = req.json::<User>().await else {
        return Response::error("the body is not a user", 400);
    };
    let db = match database(&ctx) {
        Ok(db) => db,
        Err(e) => return failed(e),
    };
    match db.insert(&user).await {
        Ok(stored) => Ok(Response::from_json(&stored)?.with_status(201)),
        Err(e) => failed(e),
    }
}

async fn create_users(mut req: Request, ctx: RouteContext<WaitUntil>) -> Result<Response> {
    let Ok(users) = req.json::<Vec<User>>().await else {
        return Response::error("the body is not an array of users", 400);
    };
    let db = match database(&ctx) {
        Ok(db) => db,
        Err(e) => return failed(e),
    };
    match db.insert_many(&users).await {
        Ok(stored) => Ok(
            Response::from_json(&serde_json::json!({ "inserted": stored.len() }))?.with_status(201),
        ),
        Err(e) => failed(e),
    }
}
