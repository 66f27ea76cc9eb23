//! The seed's tables (users, posts, comments) as SonicJs's REST API under `/v1`, through
//! `sonic-db-api`: the schema is the blog's, this file is the rules and one line to mount.
//!
//! Principals: no `Authorization` header is anonymous; `Bearer <ADMIN_TOKEN>` is the admin;
//! `Bearer <token>` from `USER_TOKENS` (`u1:token,u2:token`) is that user. Both are Worker
//! secrets. Any other token is a 401.
//!
//! | table | read | create | update | delete |
//! |---|---|---|---|---|
//! | users | all (e-mail: signed in; password: never) | admin | admin; a user themselves (not `role`) | admin |
//! | posts | all | signed in (author = caller) | admin; the author | admin; the author |
//! | comments | all | signed in | admin | admin |

use std::rc::Rc;

use sha2::{Digest, Sha256};
use sonic_db::{CacheConfig, D1Backend, Db, WorkersKv};
use sonic_db_api::{Access, Api, Check, Ctx, FieldAccess, Operation, Scope, TableApi};
use sonic_example_blog::migrations::schema;
use sonic_example_blog::schema::{Comment, Post, User};
use worker::{event, web_sys, Context, Env, Response, Result};

/// Who calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// No credentials.
    Anonymous,
    /// A user, by id.
    User(String),
    /// The holder of the admin token.
    Admin,
}

fn admin(ctx: &Ctx<Who>) -> bool {
    *ctx.principal == Who::Admin
}

fn signed_in<T: 'static>() -> Access<T, Who> {
    Access::when(|ctx: Ctx<Who>| async move { *ctx.principal != Who::Anonymous })
}

fn admin_only<T: 'static>() -> Access<T, Who> {
    Access::when(|ctx: Ctx<Who>| async move { admin(&ctx) })
}

/// The API: built once per isolate.
pub fn api() -> Api<Who> {
    let users = TableApi::<User, Who>::new("users")
        .relation("posts", || User::POSTS.into())
        .relation("posts.comments", || User::POSTS.with(Post::COMMENTS).into())
        .read(Access::allow())
        .create(admin_only())
        .update(Access::filter(|ctx: Ctx<Who>| async move {
            match &*ctx.principal {
                Who::Admin => Scope::All,
                Who::User(id) => User::ID.eq(id.clone()).into(),
                Who::Anonymous => Scope::Nothing,
            }
        }))
        .delete(admin_only())
        .field(
            User::EMAIL,
            FieldAccess::new().read(Check::when(|ctx: Ctx<Who>| async move {
                *ctx.principal != Who::Anonymous
            })),
        )
        .field(
            User::ROLE,
            FieldAccess::new()
                .create(Check::when(|ctx: Ctx<Who>| async move { admin(&ctx) }))
                .update(Check::when(|ctx: Ctx<Who>| async move { admin(&ctx) })),
        );
    let authors = |ctx: Ctx<Who>| async move {
        match &*ctx.principal {
            Who::Admin => Scope::All,
            Who::User(id) => Post::USER_ID.eq(id.clone()).into(),
            Who::Anonymous => Scope::Nothing,
        }
    };
    let posts = TableApi::<Post, Who>::new("posts")
        .relation("author", || Post::AUTHOR.into())
        .relation("comments", || Post::COMMENTS.into())
        .read(Access::allow())
        .create(signed_in())
        .update(Access::filter(authors))
        .delete(Access::filter(authors))
        .resolve_input(|ctx: Ctx<Who>, mut input| async move {
            if let (Who::User(id), Operation::Create) = (&*ctx.principal, ctx.operation) {
                input.insert("user_id".into(), serde_json::Value::String(id.clone()));
            }
            Ok(input)
        });
    let comments = TableApi::<Comment, Who>::new("comments")
        .relation("post", || Comment::POST.into())
        .read(Access::allow())
        .create(signed_in())
        .update(admin_only())
        .delete(admin_only());
    Api::new("/v1").table(users).table(posts).table(comments)
}

thread_local! {
    static API: Rc<Api<Who>> = Rc::new(api());
}

#[event(fetch)]
async fn fetch(req: web_sys::Request, env: Env, _ctx: Context) -> Result<Response> {
    let Some(who) = who(&req, &env)? else {
        let body = r#"{"error":"unknown token","status":401}"#;
        return Ok(Response::ok(body)?.with_status(401));
    };
    let db = Db::new(D1Backend::from_env(&env, "DB").map_err(to_worker)?)
        .with_schema(&schema())
        .with_kv(
            WorkersKv::from_env(&env, "KV").map_err(to_worker)?,
            CacheConfig::new(),
        )
        .map_err(to_worker)?;
    sonic_db_api::worker::serve(&API.with(Rc::clone), &db, who, req).await
}

/// The caller from `Authorization: Bearer <token>`; `None` for a token nobody holds.
fn who(req: &web_sys::Request, env: &Env) -> Result<Option<Who>> {
    let Some(header) = req.headers().get("authorization")? else {
        return Ok(Some(Who::Anonymous));
    };
    let Some(token) = header.strip_prefix("Bearer ") else {
        return Ok(None);
    };
    let token = Sha256::digest(token.as_bytes());
    let secret = |name: &str| env.secret(name).map(|s| s.to_string()).ok();
    if let Some(admin) = secret("ADMIN_TOKEN") {
        if !admin.is_empty() && Sha256::digest(admin.as_bytes()) == token {
            return Ok(Some(Who::Admin));
        }
    }
    for entry in secret("USER_TOKENS").unwrap_or_default().split(',') {
        if let Some((id, user_token)) = entry.trim().split_once(':') {
            if !user_token.is_empty() && Sha256::digest(user_token.as_bytes()) == token {
                return Ok(Some(Who::User(id.to_string())));
            }
        }
    }
    Ok(None)
}

fn to_worker(error: sonic_db::Error) -> worker::Error {
    worker::Error::RustError(error.to_string())
}
