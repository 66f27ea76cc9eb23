//! SonicJs's table REST API for [Sonic](https://docs.rs/sonic-db): register `#[derive(Table)]`
//! types with access rules and hooks, and serve `GET`/`POST`/`PUT`/`PATCH`/`DELETE` under a
//! prefix. The core works on the `http` crate's `Request`/`Response`, so the whole API is
//! tested natively on SQLite + in-memory KV; feature `workers` mounts it in a Worker.
//!
//! - **Secure by default**: a table answers 403 to every operation until a rule allows it;
//!   secret fields are never serialised; a field hidden from read is absent everywhere
//!   (relations too) and cannot be filtered or sorted on.
//! - **Rules as SonicJs has them**: per operation a constant, an async check of the context,
//!   or a filter AND-ed into the query; item rules on the stored record; field rules for read,
//!   create, update. The application supplies the principal; the library logs nobody in.
//! - **Writes that do not race**: an update sets only the fields it names, in SQL; `ETag` and
//!   `If-Match` give optimistic concurrency (412), and item rules hold for the row written.
//!
//! | module | what it holds |
//! |---|---|
//! | [`error`] | [`ApiError`]: a status and a message |
//! | [`context`] | [`Ctx`], what rules and hooks see; [`Operation`] |
//! | [`rules`] | [`Access`], [`Check`], [`Scope`], [`FieldAccess`], [`WritePolicy`] |
//! | [`hooks`] | the hook types |
//! | [`table`] | [`TableApi`], one table's configuration |
//! | `params`, `body`, `render`, `etag`, `openapi`, `reply`, `ids` | the request's parts, the description of the API, the response |
//! | `route` | the registered tables as the router and handlers see them, [`Limits`], one parsed request |
//! | `handlers` | the five operations, once for every table |
//! | `typed` | what of them needs the record type, behind one trait object per table |
//! | [`api`] | [`Api`]: routing and [`Limits`] |
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use sonic_db_api::{Access, Api, TableApi};
//! use sonic_db_core::{sqlite::SqliteBackend, Db, Schema};
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
//! #[table(name = "notes")]
//! struct Note {
//!     #[column(primary_key)]
//!     id: String,
//!     text: String,
//! }
//!
//! # pollster::block_on(async {
//! let db = Db::new(SqliteBackend::memory()?);
//! # for s in Schema::new().table::<Note>().statements() { db.sql(s).run().await?; }
//! // The principal: here whether the caller holds the API key.
//! let api = Api::<bool>::new("/api").table(
//!     TableApi::<Note, bool>::new("notes")
//!         .read(Access::allow())
//!         .create(Access::when(|ctx| async move { *ctx.principal })),
//! );
//! let post = |body: &str| {
//!     http::Request::post("/api/notes")
//!         .header("content-type", "application/json")
//!         .body(body.as_bytes().to_vec())
//!         .unwrap()
//! };
//! assert_eq!(api.handle(&db, false, post(r#"{"text": "hi"}"#)).await.status(), 403);
//! assert_eq!(api.handle(&db, true, post(r#"{"text": "hi"}"#)).await.status(), 201);
//! # Ok::<(), sonic_db_core::Error>(())
//! # }).unwrap();
//! ```

pub mod api;
mod body;
mod capped;
pub mod context;
pub mod error;
mod etag;
mod handlers;
pub mod hooks;
mod ids;
mod openapi;
mod params;
mod render;
mod reply;
mod route;
pub mod rules;
pub mod table;
mod typed;

pub use api::{Api, Limits};
pub use context::{BoxFuture, Ctx, Operation};
pub use error::ApiError;
pub use rules::{Access, Check, FieldAccess, Scope, WritePolicy};
pub use table::{TableApi, DEFAULT_MAX_RELATED};
#[cfg(feature = "workers")]
pub mod worker;

/// The README's Worker, compiled as a doctest.
#[cfg(all(doctest, feature = "workers"))]
#[doc = include_str!("../README.md")]
mod readme {}
