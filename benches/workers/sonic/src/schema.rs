//! The benchmark's tables (benches/workers/migrations/0001_init.sql is their DDL).

use serde::{Deserialize, Serialize};
use sonic_db::{One, Schema, Table};

/// A user (`users`).
#[derive(Debug, Clone, Serialize, Deserialize, Table)]
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
    /// The user's posts, when loaded.
    #[relation(many, remote = user_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub posts: Option<Vec<Post>>,
}

/// A post (`posts`).
#[derive(Debug, Clone, Serialize, Deserialize, Table)]
#[table(name = "posts")]
pub struct Post {
    /// Primary key.
    #[column(primary_key)]
    pub id: i64,
    /// The author.
    #[column(references = User::ID, on_delete = "cascade")]
    pub user_id: i64,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// The author, when loaded.
    #[relation(one, local = user_id)]
    #[serde(skip_serializing_if = "One::is_not_loaded", default)]
    pub author: One<User>,
    /// The comments, when loaded.
    #[relation(many, remote = post_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comments: Option<Vec<Comment>>,
}

/// A comment (`comments`).
#[derive(Debug, Clone, Serialize, Deserialize, Table)]
#[table(name = "comments")]
pub struct Comment {
    /// Primary key.
    #[column(primary_key)]
    pub id: i64,
    /// The post.
    #[column(references = Post::ID, on_delete = "cascade")]
    pub post_id: i64,
    /// Text.
    pub body: String,
}

/// The three tables, each after the ones it refers to.
pub fn schema() -> Schema {
    Schema::new()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
}
