//! The smallest useful D1 + KV Worker, written against `worker` directly: what an application
//! would ship without Sonic. `scripts/worker-size.sh` builds it the way the example Worker is
//! built and prints both wasm sizes.
//!
//! One route, `GET /users/:id`: the record from KV, or else from D1 (then put into KV), the
//! read path Sonic's `db.find` implements.

use worker::{event, Context, Env, Request, Response, Result, RouteContext, Router};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Router::new()
        .get_async("/users/:id", |_, ctx| async move { find_user(&ctx).await })
        .run(req, env)
        .await
}

async fn find_user(ctx: &RouteContext<()>) -> Result<Response> {
    let Some(id) = ctx.param("id").and_then(|id| id.parse::<i32>().ok()) else {
        return Response::error("id must be an integer", 400);
    };
    let kv = ctx.kv("KV")?;
    let key = format!("users:{id}");
    if let Some(cached) = kv.get(&key).text().await? {
        return Response::ok(cached);
    }
    let row: Option<serde_json::Value> = ctx
        .d1("DB")?
        .prepare("SELECT id, name, hair_color FROM users WHERE id = ?1")
        .bind(&[id.into()])?
        .first(None)
        .await?;
    match row {
        Some(row) => {
            let body = row.to_string();
            kv.put(&key, body.as_str())?
                .expiration_ttl(300)
                .execute()
                .await?;
            Response::ok(body)
        }
        None => Response::error("not found", 404),
    }
}
