//! The Workers benchmark's routes by hand, with the `worker` crate's D1 and KV (the same
//! routes, responses and KV policy as benches/workers/sonic: a read by id reads the record and
//! its two generations from KV in one bulk get and serves it if its tags are current, else
//! reads D1 and puts the record, tagged, into KV after the response; inserts do no KV
//! operation). What an application would write without Sonic: SQL text, serde structs, one
//! JOIN for the posts' authors, one batch of three statements for users → posts → comments.

use serde::{Deserialize, Serialize};
use worker::{
    event, wasm_bindgen::JsValue, Context, D1Database, Env, Request, Response, Result,
    RouteContext, Router,
};

/// A row of `users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    id: i64,
    name: String,
    email: String,
    hair_color: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    posts: Option<Vec<Post>>,
}

/// A row of `posts`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Post {
    id: i64,
    user_id: i64,
    title: String,
    body: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    comments: Option<Vec<Comment>>,
}

/// A row of `comments`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comment {
    id: i64,
    post_id: i64,
    body: String,
}

/// A row of the posts ⋈ users join.
#[derive(Deserialize)]
struct PostAuthorRow {
    id: i64,
    user_id: i64,
    title: String,
    body: String,
    author_name: String,
    author_email: String,
    author_hair_color: Option<String>,
}

/// A post with its author, as the response shows it.
#[derive(Serialize)]
struct PostWithAuthor {
    id: i64,
    user_id: i64,
    title: String,
    body: String,
    author: User,
}

const USER_COLUMNS: &str = "id, name, email, hair_color";
/// D1's limit of bound parameters per statement, over the 4 columns of `users`.
const ROWS_PER_INSERT: usize = 25;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    Router::with_data(std::rc::Rc::new(ctx))
        .get_async("/users/:id", get_user)
        .get_async("/posts", list_posts)
        .get_async("/posts-with-author", posts_with_author)
        .get_async("/users-with-posts", users_with_posts)
        .post_async("/users", create_user)
        .post_async("/users/bulk", create_users)
        .run(req, env)
        .await
}

type Ctx = RouteContext<std::rc::Rc<Context>>;

fn db(ctx: &Ctx) -> Result<D1Database> {
    ctx.env.d1("DB")
}

/// The users table's KV key prefix, and how many bucket generations it has (Sonic's default).
const USERS_PREFIX: &str = "users";
const BUCKETS: u64 = 64;

/// A user as cached in KV: tagged with the users table's generation and its key's bucket
/// generation, as read before the D1 read that produced it (`""` for an absent key). A write
/// would put fresh generations after D1 (this benchmark has none), so an entry whose tags
/// differ from the current ones is stale and never served: Sonic's KV policy, by hand.
#[derive(Serialize, Deserialize)]
struct Cached {
    tg: String,
    bg: String,
    user: User,
}

/// The generation keys of a record key: its table's, and its bucket's (FNV-1a).
fn generation_keys(key: &str) -> [String; 2] {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    [
        format!("{USERS_PREFIX}:#g"),
        format!("{USERS_PREFIX}:#b{}", hash % BUCKETS),
    ]
}

async fn get_user(_req: Request, ctx: Ctx) -> Result<Response> {
    let Some(id) = ctx.param("id").and_then(|id| id.parse::<i64>().ok()) else {
        return Response::error("id must be an integer", 400);
    };
    let kv = ctx.env.kv("KV")?;
    let key = format!("{USERS_PREFIX}:{id}");
    let [table_key, bucket_key] = generation_keys(&key);
    let mut found = kv.get_bulk(&[&key, &table_key, &bucket_key]).text().await?;
    let mut take = |k: &String| found.remove(k).flatten().unwrap_or_default();
    let (cached, tg, bg) = (take(&key), take(&table_key), take(&bucket_key));
    if let Ok(cached) = serde_json::from_str::<Cached>(&cached) {
        if cached.tg == tg && cached.bg == bg {
            return Response::from_json(&cached.user);
        }
    }
    let user: Option<User> = db(&ctx)?
        .prepare(format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"))
        .bind(&[JsValue::from_f64(id as f64)])?
        .first(None)
        .await?;
    let Some(user) = user else {
        return Response::error("not found", 404);
    };
    let response = Response::from_json(&user)?;
    let value = serde_json::to_string(&Cached { tg, bg, user })?;
    ctx.data.wait_until(async move {
        if let Ok(put) = kv.put(&key, value) {
            let _ = put.expiration_ttl(300).execute().await;
        }
    });
    Ok(response)
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

async fn list_posts(req: Request, ctx: Ctx) -> Result<Response> {
    let Some(user_id) = user_id_param(&req) else {
        return Response::error("user_id must be an integer", 400);
    };
    let posts: Vec<Post> = db(&ctx)?
        .prepare(
            "SELECT id, user_id, title, body FROM posts WHERE user_id = ?1 \
             ORDER BY id DESC LIMIT 20",
        )
        .bind(&[JsValue::from_f64(user_id as f64)])?
        .all()
        .await?
        .results()?;
    Response::from_json(&posts)
}

async fn posts_with_author(_req: Request, ctx: Ctx) -> Result<Response> {
    let rows: Vec<PostAuthorRow> = db(&ctx)?
        .prepare(
            "SELECT p.id, p.user_id, p.title, p.body, u.name AS author_name, \
             u.email AS author_email, u.hair_color AS author_hair_color \
             FROM posts p JOIN users u ON u.id = p.user_id ORDER BY p.id DESC LIMIT 20",
        )
        .all()
        .await?
        .results()?;
    let posts: Vec<PostWithAuthor> = rows
        .into_iter()
        .map(|row| PostWithAuthor {
            id: row.id,
            user_id: row.user_id,
            title: row.title,
            body: row.body,
            author: User {
                id: row.user_id,
                name: row.author_name,
                email: row.author_email,
                hair_color: row.author_hair_color,
                posts: None,
            },
        })
        .collect();
    Response::from_json(&posts)
}

async fn users_with_posts(_req: Request, ctx: Ctx) -> Result<Response> {
    let d1 = db(&ctx)?;
    const USERS: &str = "SELECT id FROM users ORDER BY id LIMIT 10";
    let results = d1
        .batch(vec![
            d1.prepare(format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY id LIMIT 10"
            )),
            d1.prepare(format!(
                "SELECT id, user_id, title, body FROM posts WHERE user_id IN ({USERS}) \
                 ORDER BY id"
            )),
            d1.prepare(format!(
                "SELECT id, post_id, body FROM comments WHERE post_id IN \
                 (SELECT id FROM posts WHERE user_id IN ({USERS})) ORDER BY id"
            )),
        ])
        .await?;
    let [users, posts, comments] = results.as_slice() else {
        return Response::error("D1 returned the wrong number of results", 500);
    };
    let mut users: Vec<User> = users.results()?;
    let mut posts: Vec<Post> = posts.results()?;
    let comments: Vec<Comment> = comments.results()?;
    let mut comments_of: std::collections::HashMap<i64, Vec<Comment>> = Default::default();
    for comment in comments {
        comments_of
            .entry(comment.post_id)
            .or_default()
            .push(comment);
    }
    let mut posts_of: std::collections::HashMap<i64, Vec<Post>> = Default::default();
    for mut post in posts.drain(..) {
        post.comments = Some(comments_of.remove(&post.id).unwrap_or_default());
        posts_of.entry(post.user_id).or_default().push(post);
    }
    for user in &mut users {
        user.posts = Some(posts_of.remove(&user.id).unwrap_or_default());
    }
    Response::from_json(&users)
}

fn user_params(user: &User) -> [JsValue; 4] {
    [
        JsValue::from_f64(user.id as f64),
        JsValue::from_str(&user.name),
        JsValue::from_str(&user.email),
        user.hair_color
            .as_deref()
            .map_or(JsValue::NULL, JsValue::from_str),
    ]
}

async fn create_user(mut req: Request, ctx: Ctx) -> Result<Response> {
    let Ok(user) = req.json::<User>().await else {
        return Response::error("the body is not a user", 400);
    };
    let stored: Option<User> = db(&ctx)?
        .prepare(format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES (?1, ?2, ?3, ?4) RETURNING {USER_COLUMNS}"
        ))
        .bind(&user_params(&user))?
        .first(None)
        .await?;
    match stored {
        Some(stored) => Ok(Response::from_json(&stored)?.with_status(201)),
        None => Response::error("the insert returned nothing", 500),
    }
}

async fn create_users(mut req: Request, ctx: Ctx) -> Result<Response> {
    let Ok(users) = req.json::<Vec<User>>().await else {
        return Response::error("the body is not an array of users", 400);
    };
    let d1 = db(&ctx)?;
    let mut statements = Vec::new();
    for chunk in users.chunks(ROWS_PER_INSERT) {
        let mut sql = format!("INSERT INTO users ({USER_COLUMNS}) VALUES ");
        let mut params = Vec::with_capacity(chunk.len() * 4);
        for (i, user) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let n = i * 4;
            sql.push_str(&format!("(?{}, ?{}, ?{}, ?{})", n + 1, n + 2, n + 3, n + 4));
            params.extend(user_params(user));
        }
        sql.push_str(&format!(" RETURNING {USER_COLUMNS}"));
        statements.push(d1.prepare(sql).bind(&params)?);
    }
    // Atomic like Sonic's insert_many: one batch, rows read back as Sonic reads them.
    let mut inserted = 0;
    for result in d1.batch(statements).await? {
        inserted += result.results::<User>()?.len();
    }
    Ok(Response::from_json(&serde_json::json!({ "inserted": inserted }))?.with_status(201))
}
