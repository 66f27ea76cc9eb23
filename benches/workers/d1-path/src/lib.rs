//! Sonic's D1 paths and the same by hand with the `worker` crate, as functions Node can call
//! (`wasm-bindgen --target nodejs`, driven by `bench.mjs` on a stand-in D1 binding): each runs
//! its path `n` times and returns how many answers were right. Only the Worker's own work is
//! timed (binding values, reading results, decoding records): no runtime, no HTTP, no D1.
//!
//! - insert: one user, `RETURNING` the row as stored (`Db::insert` / `prepare`, `bind`,
//!   `first`), the create route of benches/workers.
//! - list: 20 posts of a user, newest first (`Db::select` / `prepare`, `bind`, `all`), the
//!   list route.

use serde::Deserialize;
use sonic_db_core::{Db, Table};
use sonic_db_d1::D1Backend;
use wasm_bindgen::prelude::*;
use worker::wasm_bindgen::JsCast;

/// A user, as Sonic reads it.
#[derive(Debug, Clone, Table)]
#[table(name = "users")]
pub struct User {
    /// Primary key.
    #[column(primary_key)]
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
    /// Hair colour, if known.
    pub hair_color: Option<String>,
}

/// A post, as Sonic reads it.
#[derive(Debug, Clone, Table)]
#[table(name = "posts")]
pub struct Post {
    /// Primary key.
    #[column(primary_key)]
    pub id: i64,
    /// The author.
    pub user_id: i64,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
}

/// A user, as the hand-written code reads it.
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
    }
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
        right += u32::from(
            stored.id == user.id
                && stored.name == user.name
                && stored.email == user.email
                && stored.hair_color == user.hair_color,
        );
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
        right += u32::from(stored.is_some_and(|s| {
            s.id == user.id
                && s.name == user.name
                && s.email == user.email
                && s.hair_color == user.hair_color
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
        right += u32::from(
            posts.len() == 20
                && posts.iter().all(|p| {
                    p.id > 0 && p.user_id == 1 && !p.title.is_empty() && !p.body.is_empty()
                }),
        );
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
        right += u32::from(
            posts.len() == 20
                && posts.iter().all(|p| {
                    p.id > 0 && p.user_id == 1 && !p.title.is_empty() && !p.body.is_empty()
                }),
        );
    }
    Ok(right)
}
