//! The tables, principals, rules and request helpers shared by the API's tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test setup"
)]

use http::{Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sonic_db_api::{Access, Api, Check, FieldAccess, Operation, Scope, TableApi};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Audit, CacheConfig, Db, MemoryKv, Schema};

#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: String,
    pub name: Option<String>,
    #[column(unique)]
    pub email: String,
    #[serde(default)]
    #[column(secret)]
    pub password: String,
    #[serde(default = "default_role")]
    pub role: String,
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    #[relation(many, remote = user_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub posts: Option<Vec<Post>>,
}

fn default_role() -> String {
    "user".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: String,
    pub title: String,
    pub body: Option<String>,
    #[serde(default)]
    pub views: i64,
    #[serde(default)]
    pub published: bool,
    #[serde(default)]
    pub locked: bool,
    #[column(references = User::ID, on_delete = "cascade")]
    pub user_id: String,
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    #[relation(one, local = user_id)]
    #[serde(skip_serializing_if = "sonic_db_core::One::is_not_loaded", default)]
    pub author: sonic_db_core::One<User>,
    #[relation(many, remote = post_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comments: Option<Vec<Comment>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "comments")]
pub struct Comment {
    #[column(primary_key)]
    pub id: String,
    pub text: String,
    #[column(references = Post::ID, on_delete = "cascade")]
    pub post_id: String,
}

/// Who asks.
#[derive(Debug, Clone, PartialEq)]
pub enum Who {
    Anonymous,
    User(String),
    Admin,
}

impl Who {
    pub fn id(&self) -> Option<String> {
        match self {
            Who::User(id) => Some(id.clone()),
            _ => None,
        }
    }
}

pub fn schema() -> Schema {
    Schema::new()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
}

pub fn is_admin() -> Check<Who> {
    Check::when(|ctx| async move { *ctx.principal == Who::Admin })
}

pub fn signed_in<T: 'static>() -> Access<T, Who> {
    Access::when(|ctx| async move { *ctx.principal != Who::Anonymous })
}

/// Users: anyone reads (e-mail only for admins and the user), only admins create, delete or
/// set roles; users update themselves. The password is secret.
pub fn users() -> TableApi<User, Who> {
    TableApi::new("users")
        .relation("posts", || User::POSTS.into())
        .relation("posts.comments", || User::POSTS.with(Post::COMMENTS).into())
        .read(Access::allow())
        .create(Access::when(
            |ctx| async move { *ctx.principal == Who::Admin },
        ))
        .update(Access::filter(|ctx| async move {
            match &*ctx.principal {
                Who::Admin => Scope::All,
                Who::User(id) => User::ID.eq(id.clone()).into(),
                Who::Anonymous => Scope::Nothing,
            }
        }))
        .delete(Access::when(
            |ctx| async move { *ctx.principal == Who::Admin },
        ))
        .field(
            User::EMAIL,
            FieldAccess::new().read(Check::when(|ctx| async move {
                *ctx.principal != Who::Anonymous
            })),
        )
        .field(
            User::ROLE,
            FieldAccess::new().create(is_admin()).update(is_admin()),
        )
}

/// Posts: anonymous readers see published posts; users create theirs (the author is who
/// posts) and change or delete their own unless locked; admins everything.
pub fn posts() -> TableApi<Post, Who> {
    TableApi::new("posts")
        .relation("author", || Post::AUTHOR.into())
        .relation("comments", || Post::COMMENTS.into())
        .max_page(50)
        .read(Access::filter(|ctx| async move {
            match &*ctx.principal {
                Who::Anonymous => Post::PUBLISHED.eq(true).into(),
                _ => Scope::All,
            }
        }))
        .create(signed_in())
        .update(Access::filter(own_posts))
        .delete(Access::filter(own_posts))
        .item(Operation::Update, |ctx, post| async move {
            *ctx.principal == Who::Admin || !post.locked
        })
        .item(Operation::Delete, |ctx, post| async move {
            *ctx.principal == Who::Admin || !post.locked
        })
        .field(
            Post::LOCKED,
            FieldAccess::new().create(is_admin()).update(is_admin()),
        )
        .resolve_input(|ctx, mut input| async move {
            if let Who::User(id) = &*ctx.principal {
                if ctx.operation == Operation::Create {
                    input.insert("user_id".into(), json!(id));
                }
            }
            Ok(input)
        })
}

async fn own_posts(ctx: sonic_db_api::Ctx<Who>) -> Scope<Post> {
    match &*ctx.principal {
        Who::Admin => Scope::All,
        Who::User(id) => Post::USER_ID.eq(id.clone()).into(),
        Who::Anonymous => Scope::Nothing,
    }
}

/// Comments: read by all, written by nobody (no rule).
pub fn comments() -> TableApi<Comment, Who> {
    TableApi::new("comments").read(Access::allow())
}

pub fn api() -> Api<Who> {
    Api::new("/v1")
        .table(users())
        .table(posts())
        .table(comments())
}

pub fn db() -> Db {
    db_with(sonic_db_core::Capabilities::SQLITE)
}

/// [`db`] on SQLite declaring `capabilities` (e.g. D1's).
pub fn db_with(capabilities: sonic_db_core::Capabilities) -> Db {
    let schema = schema();
    let db = Db::new(
        SqliteBackend::memory()
            .unwrap()
            .with_capabilities(capabilities),
    )
    .with_schema(&schema)
    .with_kv(MemoryKv::new(), CacheConfig::new())
    .unwrap();
    pollster::block_on(async {
        for s in schema.statements() {
            db.sql(s).run().await.unwrap();
        }
    });
    db
}

/// Ada (admin in the data, user u1), Bob (u2); p1 by Ada published, p2 by Ada draft, p3 by Bob
/// published and locked; c1 on p1.
pub fn seeded() -> Db {
    seeded_with(sonic_db_core::Capabilities::SQLITE)
}

/// [`seeded`] on SQLite declaring `capabilities`.
pub fn seeded_with(capabilities: sonic_db_core::Capabilities) -> Db {
    let db = db_with(capabilities);
    pollster::block_on(async {
        let user = |id: &str, name: &str| User {
            id: id.into(),
            name: Some(name.into()),
            email: format!("{name}@example.com").to_lowercase(),
            password: format!("hash-of-{name}"),
            role: "user".into(),
            audit: Audit::default(),
            posts: None,
        };
        db.insert_many(&[user("u1", "Ada"), user("u2", "Bob")])
            .await
            .unwrap();
        let post =
            |id: &str, title: &str, user: &str, published: bool, locked: bool, views: i64| Post {
                id: id.into(),
                title: title.into(),
                body: None,
                views,
                published,
                locked,
                user_id: user.into(),
                audit: Audit::default(),
                author: sonic_db_core::One::NotLoaded,
                comments: None,
            };
        db.insert_many(&[
            post("p1", "Hello", "u1", true, false, 10),
            post("p2", "Draft", "u1", false, false, 0),
            post("p3", "Bob's", "u2", true, true, 5),
        ])
        .await
        .unwrap();
        db.insert(&Comment {
            id: "c1".into(),
            text: "Nice".into(),
            post_id: "p1".into(),
        })
        .await
        .unwrap();
    });
    db
}

pub struct Answer {
    pub status: u16,
    pub json: Json,
    pub response: Response<Vec<u8>>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(self.response.body()).into_owned()
    }
}

pub fn send(api: &Api<Who>, db: &Db, who: Who, request: Request<Vec<u8>>) -> Answer {
    let response = pollster::block_on(api.handle(db, who, request));
    let json = if response.body().is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(response.body()).expect("every body is JSON")
    };
    Answer {
        status: response.status().as_u16(),
        json,
        response,
    }
}

pub fn get(api: &Api<Who>, db: &Db, who: Who, path: &str) -> Answer {
    send(api, db, who, Request::get(path).body(Vec::new()).unwrap())
}

pub fn write(api: &Api<Who>, db: &Db, who: Who, method: &str, path: &str, body: Json) -> Answer {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(body.to_string().into_bytes())
        .unwrap();
    send(api, db, who, request)
}

pub fn delete(api: &Api<Who>, db: &Db, who: Who, path: &str) -> Answer {
    send(
        api,
        db,
        who,
        Request::delete(path).body(Vec::new()).unwrap(),
    )
}

/// Every row of every table, for "nothing changed" checks.
pub fn state(db: &Db) -> String {
    pollster::block_on(async {
        let users = db.select::<User>().all().await.unwrap();
        let posts = db.select::<Post>().all().await.unwrap();
        let comments = db.select::<Comment>().all().await.unwrap();
        format!("{users:?}\n{posts:?}\n{comments:?}")
    })
}

pub fn ids(json: &Json) -> Vec<String> {
    json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}
