//! The query layer: typed filters and orderings, selects with eager relations, writes, and
//! raw SQL, compiled to [`Statement`](crate::Statement)s that fit the backend's
//! [`Capabilities`](crate::Capabilities).
//!
//! Entry points are the methods of [`Db`](crate::Db); this module holds the builders they
//! return and the pieces filters are made of. A [`Select`] also turns into a projection of
//! chosen columns and aggregates ([`Select::columns`], with [`count`], `group_by` and
//! `having`) or a join into typed pairs ([`Select::join`], [`Select::left_join`]), and its
//! eager relations take options per level (`User::POSTS.filter(..).order_by(..).limit(3)`). Two rules hold for every statement Sonic
//! writes: values are always bound parameters, and identifiers are always double-quoted names
//! taken from the schema. (The one exception to the first: `LIMIT`/`OFFSET` counts are
//! integer literals — `u64`s of the typed API, never text — because SQLite re-prepares a
//! statement whose bound LIMIT changes at every execution.)
//!
//! ```
//! # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
//! # pollster::block_on(async {
//! use serde::{Deserialize, Serialize};
//! use sonic_db_core::{sqlite::SqliteBackend, Audit, Db, Schema};
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
//! #[table(name = "users")]
//! struct User {
//!     #[column(primary_key)]
//!     id: String,
//!     #[column(unique)]
//!     email: String,
//!     #[audit]
//!     #[serde(flatten)]
//!     audit: Audit,
//!     #[relation(many, remote = user_id)]
//!     #[serde(skip_serializing_if = "Option::is_none", default)]
//!     posts: Option<Vec<Post>>,
//! }
//!
//! #[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
//! #[table(name = "posts")]
//! struct Post {
//!     #[column(primary_key)]
//!     id: String,
//!     #[column(references = User::ID, on_delete = "cascade")]
//!     user_id: String,
//!     title: String,
//!     views: i64,
//!     #[audit]
//!     #[serde(flatten)]
//!     audit: Audit,
//! }
//!
//! let db = Db::new(SqliteBackend::memory()?);
//! for statement in Schema::new().table::<User>().table::<Post>().statements() {
//!     db.sql(statement).run().await?;
//! }
//! let ada = User { id: "u1".into(), email: "ada@example.com".into(), audit: Audit::default(), posts: None };
//! db.insert(&ada).await?;
//! db.insert_many(&[
//!     Post { id: "p1".into(), user_id: "u1".into(), title: "Hello".into(), views: 3, audit: Audit::default() },
//!     Post { id: "p2".into(), user_id: "u1".into(), title: "Again".into(), views: 40, audit: Audit::default() },
//! ]).await?;
//!
//! let popular = db
//!     .select::<Post>()
//!     .filter(Post::VIEWS.gte(10) & Post::TITLE.like("a%"))
//!     .order_by(Post::CREATED_ON.desc())
//!     .limit(10)
//!     .all()
//!     .await?;
//! assert_eq!(popular.len(), 1);
//!
//! let with_posts = db.select::<User>().with(User::POSTS).filter(User::EMAIL.eq("ada@example.com")).one().await?;
//! assert_eq!(with_posts.posts.map(|p| p.len()), Some(2));
//!
//! let renamed = db.update_where::<Post>().set(Post::TITLE, "Hi").filter(Post::ID.eq("p1")).returning().await?;
//! assert_eq!(renamed[0].title, "Hi");
//! assert!(db.delete::<Post>("p2").await?);
//! # Ok::<(), sonic_db_core::Error>(())
//! # }).unwrap();
//! # }
//! ```
//!
//! # Keys and defaults on insert
//!
//! - **Generated keys.** A table whose primary key is an `Option<i64>` has SQLite's
//!   `INTEGER PRIMARY KEY` (the rowid): a record inserted with `id: None` gets the key SQLite
//!   chooses, and every insert path (`insert`, `insert_many` in as many statements as the
//!   backend's limits need, `upsert`, batches, transactions) returns the stored records with
//!   their keys, in the order given. Finds and deletes take the `i64`; updating a record that
//!   still has `None` is refused (insert it first). Without `AUTOINCREMENT`, SQLite may reuse
//!   the key of the last row after it is deleted.
//! - **Defaults.** A nullable column with `#[column(default = "…")]` stores its default when
//!   an insert gives `None` (the insert binds `COALESCE(?, <default>)`, so SQLite computes the
//!   default as it would for a column left out, and the returned record shows it). Inserting
//!   an explicit `NULL` there takes raw SQL or an update. Updates write `None` as `NULL`; an
//!   upsert stores what an insert would, in both of its branches. A non-`Option` field
//!   always has a value, so its default serves raw inserts only.
//!
//! ```
//! # #[cfg(all(feature = "derive", feature = "rusqlite"))] {
//! # pollster::block_on(async {
//! use sonic_db_core::{sqlite::SqliteBackend, Db, Schema};
//!
//! #[derive(Debug, Clone, sonic_db_core::Table)]
//! #[table(name = "notes")]
//! struct Note {
//!     #[column(primary_key)]
//!     id: Option<i64>,
//!     text: String,
//!     #[column(default = "'open'")]
//!     state: Option<String>,
//! }
//!
//! let db = Db::new(SqliteBackend::memory()?);
//! for statement in Schema::new().table::<Note>().statements() {
//!     db.sql(statement).run().await?;
//! }
//! let note = db.insert(&Note { id: None, text: "hi".into(), state: None }).await?;
//! assert_eq!((note.id, note.state.as_deref()), (Some(1), Some("open")));
//! assert!(db.find::<Note>(1).await?.is_some());
//! # Ok::<(), sonic_db_core::Error>(())
//! # }).unwrap();
//! # }
//! ```

mod api;
mod batch;
mod by_name;
pub(crate) mod cascade;
mod eager;
mod filter;
mod join;
mod keyset;
mod link;
mod order;
mod project;
mod raw;
mod raw_rows;
mod related;
mod rows;
mod select;
mod session;
mod transaction;
mod write;

pub use crate::sql::order::Direction;
pub use batch::{Batch, BatchResults, Pending};
pub use by_name::Op;
pub use eager::{Eager, Include, Relation};
pub use filter::{and, not, or, Filter};
pub use join::{Inner, Join, JoinKind, LeftOuter};
pub use order::Order;
pub use project::{
    count, Aggregate, AggregateValue, Having, Optional, OrderTerm, Projection, Selectable,
    Selection, Summable, Term,
};
pub use raw::{JsonRow, RawQuery};
pub use select::{Page, Select};
pub use write::{Computed, DeleteWhere, Numeric, UpdateWhere};

pub(crate) use write::{delete, insert, insert_many, insert_many_count, update, update_if, upsert};
