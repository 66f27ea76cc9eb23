//! Sonic's D1 paths and the same by hand with the `worker` crate, as functions Node can call
//! (`wasm-bindgen --target nodejs`, driven by `bench.mjs` on a stand-in D1 binding): each runs
//! its path `n` times and returns how many answers were right. Only the Worker's own work is
//! timed (binding values, reading results, decoding records): no runtime, no HTTP, no D1.
//!
//! - insert: one user, `RETURNING` the row as stored (`Db::insert` / `prepare`, `bind`,
//!   `first`), the create route of benches/workers.
//! - list: 20 posts of a user, newest first (`Db::select` / `prepare`, `bind`, `all`), the
//!   list route.

// The bench Worker's own tables (benches/workers/sonic): Sonic reads the same records there
// and here.
#[path = "../../sonic/src/schema.rs"]
pub mod schema;

use serde::Deserialize;
use sonic_db::{D1Backend, Db};
use wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;

use schema::{Post, User};

/// A user, as the hand-written code reads it (as benches/workers/hand does, without relations).
#[derive(Deserialize)]
struct UserRow {
    id: i64,
    name: String,
    email: String,
    hair_color: Option<String>,
}

/// A post, as the hand-written code reads it.
#[derive(Deserialize)]
struct PostRow {
    id: i64,
    user_id: i64,
    title: String,
    body: String,
}

fn ada() -> User {
    User {
        id: 1,
        name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        hair_color: None,
        posts: None,
    }
}

/// Whether an inserted user read back, `(id, name, email, hair_color)`, is `sent`.
fn same_user(sent: &User, (id, name, email, hair_color): (i64, &str, &str, Option<&str>)) -> bool {
    (id, name, email, hair_color)
        == (
            sent.id,
            sent.name.as_str(),
            sent.email.as_str(),
            sent.hair_color.as_deref(),
        )
}

/// Whether a list read back, `(id, user_id, title, body)` per post, is 20 posts of user 1.
fn twenty_posts_of_user_1<'a>(
    mut posts: impl ExactSizeIterator<Item = (i64, i64, &'a str, &'a str)>,
) -> bool {
    posts.len() == 20
        && posts.all(|(id, user_id, title, body)| {
            id > 0 && user_id == 1 && !title.is_empty() && !body.is_empty()
        })
}

fn failed(e: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&e.to_string())
}

fn sonic_db(env: JsValue) -> Result<Db, JsValue> {
    let env: worker::Env = env.unchecked_into();
    Ok(Db::new(D1Backend::from_env(&env, "DB").map_err(failed)?))
}

/// `n` inserts of one user with Sonic.
#[wasm_bindgen]
pub async fn sonic_insert(env: JsValue, n: u32) -> Result<u32, JsValue> {
    let db = sonic_db(env)?;
    let user = ada();
    let mut right = 0;
    for _ in 0..n {
        let stored = db.insert(&user).await.map_err(failed)?;
        right += u32::from(same_user(
            &user,
            (
                stored.id,
                &stored.name,
                &stored.email,
                stored.hair_color.as_deref(),
            ),
        ));
    }
    Ok(right)
}

/// `n` inserts of one user by hand.
#[wasm_bindgen]
pub async fn hand_insert(env: JsValue, n: u32) -> Result<u32, JsValue> {
    let env: worker::Env = env.unchecked_into();
    let d1 = env.d1("DB").map_err(failed)?;
    let user = ada();
    let mut right = 0;
    for _ in 0..n {
        let params = [
            JsValue::from_f64(user.id as f64),
            JsValue::from_str(&user.name),
            JsValue::from_str(&user.email),
            user.hair_color
                .as_deref()
                .map_or(JsValue::NULL, JsValue::from_str),
        ];
        let stored: Option<UserRow> = d1
            .prepare(
                "INSERT INTO users (id, name, email, hair_color) VALUES (?1, ?2, ?3, ?4) \
                 RETURNING id, name, email, hair_color",
            )
            .bind(&params)
            .map_err(failed)?
            .first(None)
            .await
            .map_err(failed)?;
        right +=
            u32::from(stored.is_some_and(|s| {
                same_user(&user, (s.id, &s.name, &s.email, s.hair_color.as_deref()))
            }));
    }
    Ok(right)
}

/// `n` lists of a user's 20 newest posts with Sonic.
#[wasm_bindgen]
pub async fn sonic_list(env: JsValue, n: u32) -> Result<u32, JsValue> {
    let db = sonic_db(env)?;
    let mut right = 0;
    for _ in 0..n {
        let posts = db
            .select::<Post>()
            .filter(Post::USER_ID.eq(1))
            .order_by(Post::ID.desc())
            .limit(20)
            .all()
            .await
            .map_err(failed)?;
        right += u32::from(twenty_posts_of_user_1(
            posts
                .iter()
                .map(|p| (p.id, p.user_id, p.title.as_str(), p.body.as_str())),
        ));
    }
    Ok(right)
}

/// `n` lists of a user's 20 newest posts by hand.
#[wasm_bindgen]
pub async fn hand_list(env: JsValue, n: u32) -> Result<u32, JsValue> {
    let env: worker::Env = env.unchecked_into();
    let d1 = env.d1("DB").map_err(failed)?;
    let mut right = 0;
    for _ in 0..n {
        let posts: Vec<PostRow> = d1
            .prepare(
                "SELECT id, user_id, title, body FROM posts WHERE user_id = ?1 \
                 ORDER BY id DESC LIMIT 20",
            )
            .bind(&[JsValue::from_f64(1.0)])
            .map_err(failed)?
            .all()
            .await
            .map_err(failed)?
            .results()
            .map_err(failed)?;
        right += u32::from(twenty_posts_of_user_1(
            posts
                .iter()
                .map(|p| (p.id, p.user_id, p.title.as_str(), p.body.as_str())),
        ));
    }
    Ok(right)
}
