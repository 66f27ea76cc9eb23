use serde::{Deserialize, Serialize};
use sonic_db::{Audit, One, Schema, Table, TextEnum};

// Stored as TEXT: "admin" | "user".
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, TextEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    #[default]
    User,
}

#[derive(Debug, Clone, Serialize, Deserialize, Table)]
#[table(name = "users")]
pub struct User {
    #[column(primary_key)]
    pub id: String,
    pub name: Option<String>,
    #[column(unique)]
    pub email: String,
    #[serde(skip_serializing)] // read from requests, never written into a response
    pub password: String,
    #[column(default = "'user'")]
    pub role: Role,
    #[audit] // created_on, updated_on: Unix ms, filled by Sonic on every write
    #[serde(flatten)]
    pub audit: Audit,
    #[relation(many, remote = user_id)] // a user has many posts
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub posts: Option<Vec<Post>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Table)]
#[table(name = "posts")]
pub struct Post {
    #[column(primary_key)]
    pub id: String,
    pub title: String,
    pub body: Option<String>,
    #[column(references = User::ID, on_delete = "cascade")] // indexed in migrations
    pub user_id: String,
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    #[relation(one, local = user_id)] // a post has one author
    #[serde(skip_serializing_if = "One::is_not_loaded", default)]
    pub author: One<User>,
}

/// Every table, each after the ones it refers to: the DDL, the migrations, and the KV cache's
/// knowledge of `ON DELETE CASCADE` come from it.
pub fn schema() -> Schema {
    Schema::new().table::<User>().table::<Post>()
}
