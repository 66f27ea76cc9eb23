//! The seed schema: users write posts, posts have comments.
//!
//! It follows the seed's Drizzle schema (`users`, `posts`, with the audit columns
//! `created_on` / `updated_on` in Unix milliseconds and the `users` ⇄ `posts` relations), with
//! the `comments` table of the Diesel benchmark workload added. Where the seed leaves every
//! column nullable, this schema requires what a blog cannot do without (an email, a password,
//! a role, a title); a user's display name and a post's body stay optional.
//!
//! Relation fields start unloaded (`None`) and are then absent from the JSON;
//! `#[serde(flatten)]` puts `created_on` / `updated_on` at the top level of each record:
//!
//! ```
//! use sonic_db_core::Audit;
//! use sonic_example_blog::schema::{Role, User};
//!
//! let user = User {
//!     id: "u1".into(),
//!     name: None,
//!     email: "ada@example.com".into(),
//!     password: "hash".into(),
//!     role: Role::Admin,
//!     audit: Audit { created_on: 1, updated_on: 2 },
//!     posts: None,
//! };
//! assert_eq!(
//!     serde_json::to_string(&user).unwrap(),
//!     r#"{"id":"u1","name":null,"email":"ada@example.com","password":"hash","role":"admin","created_on":1,"updated_on":2}"#
//! );
//! ```

use serde::{Deserialize, Serialize};
use sonic_db_core::{Audit, One};

/// What a user may do: stored as the text `"admin"` or `"user"`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    Serialize,
    Deserialize,
    sonic_db_core::TextEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages everything.
    Admin,
    /// Writes posts and comments.
    #[default]
    User,
}

/// A user (`users`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "users")]
pub struct User {
    /// Primary key.
    #[column(primary_key)]
    pub id: String,
    /// Display name.
    pub name: Option<String>,
    /// Login, unique.
    #[column(unique)]
    pub email: String,
    /// Password hash: write-only, never shown by an API (`#[column(secret)]`).
    #[column(secret)]
    pub password: String,
    /// `"admin"` or `"user"` (the default for rows inserted by raw SQL).
    #[column(default = "'user'")]
    pub role: Role,
    /// `created_on` / `updated_on`.
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    /// The user's posts, when loaded.
    #[relation(many, remote = user_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub posts: Option<Vec<Post>>,
}

/// A blog post (`posts`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "posts")]
pub struct Post {
    /// Primary key.
    #[column(primary_key)]
    pub id: String,
    /// Title.
    pub title: String,
    /// Body text.
    pub body: Option<String>,
    /// The author (`users.id`); deleting the user deletes their posts.
    #[column(references = User::ID, on_delete = "cascade")]
    pub user_id: String,
    /// `created_on` / `updated_on`.
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    /// The author, when loaded.
    #[relation(one, local = user_id)]
    #[serde(skip_serializing_if = "One::is_not_loaded", default)]
    pub author: One<User>,
    /// The comments, when loaded.
    #[relation(many, remote = post_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comments: Option<Vec<Comment>>,
}

/// A comment on a post (`comments`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "comments")]
pub struct Comment {
    /// Primary key.
    #[column(primary_key)]
    pub id: String,
    /// The post (`posts.id`); deleting the post deletes its comments.
    #[column(references = Post::ID, on_delete = "cascade")]
    pub post_id: String,
    /// Text.
    pub body: String,
    /// `created_on` / `updated_on`.
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    /// The post, when loaded.
    #[relation(one, local = post_id)]
    #[serde(skip_serializing_if = "One::is_not_loaded", default)]
    pub post: One<Post>,
}
