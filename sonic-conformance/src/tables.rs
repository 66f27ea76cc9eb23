//! The suite's own tables, so that it never touches an application's data.
//!
//! `conf_users` → `conf_posts` → `conf_comments` (text and integer keys, `many` and `one`
//! relations, foreign keys with `ON DELETE CASCADE`, audit columns), and `conf_values`, which
//! has one column of every kind a Sonic column can hold. The suite creates them itself
//! ([`schema`]): no migration is needed.

use serde::{Deserialize, Serialize};
use sonic_db_core::{Audit, Json, One, Schema};

/// A user (`conf_users`): text key, unique email, audit columns, posts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "conf_users")]
pub struct ConfUser {
    /// Primary key.
    #[column(primary_key)]
    pub id: String,
    /// Unique.
    #[column(unique)]
    pub email: String,
    /// Optional, to filter on `NULL`.
    pub name: Option<String>,
    /// To filter and sort on.
    pub age: i64,
    /// A float to filter and sort on.
    pub score: f64,
    /// A bool to filter on.
    pub active: bool,
    /// `created_on` / `updated_on`.
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    /// The user's posts, when loaded.
    #[relation(many, remote = user_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub posts: Option<Vec<ConfPost>>,
}

/// A post (`conf_posts`): integer key, author, comments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "conf_posts")]
pub struct ConfPost {
    /// Primary key.
    #[column(primary_key)]
    pub id: i64,
    /// The author; deleting the user deletes the post.
    #[column(references = ConfUser::ID, on_delete = "cascade")]
    pub user_id: String,
    /// Title.
    pub title: String,
    /// A counter.
    pub views: i64,
    /// Optional body.
    pub body: Option<String>,
    /// `created_on` / `updated_on`.
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    /// A reviewer, if any: no foreign key, so that it may also name nobody.
    pub reviewer_id: Option<String>,
    /// The author, when loaded.
    #[relation(one, local = user_id)]
    #[serde(skip_serializing_if = "One::is_not_loaded", default)]
    pub author: One<ConfUser>,
    /// The reviewer, when loaded: `One::NotFound` when there is none.
    #[relation(one, local = reviewer_id)]
    #[serde(skip_serializing_if = "One::is_not_loaded", default)]
    pub reviewer: One<ConfUser>,
    /// The comments, when loaded.
    #[relation(many, remote = post_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub comments: Option<Vec<ConfComment>>,
}

/// A JSON document of a comment.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CommentMeta {
    /// Tags.
    pub tags: Vec<String>,
    /// An optional weight.
    pub weight: Option<i64>,
}

/// A comment (`conf_comments`): the awkward types, to check them inside relations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "conf_comments")]
pub struct ConfComment {
    /// Primary key.
    #[column(primary_key)]
    pub id: i64,
    /// The post; deleting the post deletes the comment.
    #[column(references = ConfPost::ID, on_delete = "cascade")]
    pub post_id: i64,
    /// Text.
    pub body: String,
    /// A bool.
    pub flag: bool,
    /// A 64-bit integer.
    pub big: i64,
    /// Bytes.
    pub data: Vec<u8>,
    /// Optional bytes (`NULL` and empty differ).
    pub extra: Option<Vec<u8>>,
    /// A float.
    pub ratio: f64,
    /// A JSON document.
    pub meta: Json<CommentMeta>,
    /// `created_on` / `updated_on`.
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
    /// The post, when loaded.
    #[relation(one, local = post_id)]
    #[serde(skip_serializing_if = "One::is_not_loaded", default)]
    pub post: One<ConfPost>,
}

/// A tag (`conf_tags`): posts through the join table `conf_post_tags`, SonicJs's
/// `categoriesToPosts` shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "conf_tags")]
pub struct ConfTag {
    /// Primary key.
    #[column(primary_key)]
    pub id: String,
    /// A label.
    pub label: String,
    /// The tagged posts, when loaded (many-to-many).
    #[relation(many, through = ConfPostTag, from = tag_id, to = post_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub posts: Option<Vec<ConfPost>>,
}

/// A link of a post and a tag (`conf_post_tags`): its own key, one column per side, audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "conf_post_tags")]
pub struct ConfPostTag {
    /// Primary key.
    #[column(primary_key)]
    pub id: String,
    /// The post; deleting it removes the link.
    #[column(references = ConfPost::ID, on_delete = "cascade")]
    pub post_id: i64,
    /// The tag; deleting it removes the link.
    #[column(references = ConfTag::ID, on_delete = "cascade")]
    pub tag_id: String,
    /// `created_on` / `updated_on`.
    #[audit]
    #[serde(flatten)]
    pub audit: Audit,
}

/// A mood, stored as text (`"happy"`, `"so-so"`, `"grumpy"`).
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
pub enum Mood {
    /// `"happy"`.
    #[default]
    Happy,
    /// `"so-so"`.
    #[text(rename = "so-so")]
    SoSo,
    /// `"grumpy"`.
    Grumpy,
}

/// A nested part of [`Doc`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DocPart {
    /// A label.
    pub label: String,
    /// An optional note.
    pub note: Option<String>,
    /// Children, to nest further.
    pub children: Vec<DocPart>,
}

/// The JSON document of [`ConfValue::doc`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Doc {
    /// A title.
    pub title: String,
    /// A 64-bit integer inside JSON text.
    pub count: i64,
    /// A float that JSON writes exactly.
    pub ratio: f64,
    /// A flag.
    pub flag: bool,
    /// A list.
    pub tags: Vec<String>,
    /// Nesting.
    pub parts: Vec<DocPart>,
    /// Optional.
    pub extra: Option<Box<Doc>>,
}

/// One column of every kind a Sonic column can hold (`conf_values`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "conf_values")]
pub struct ConfValue {
    /// Primary key.
    #[column(primary_key)]
    pub id: i64,
    /// `i64`.
    pub int64: i64,
    /// `i32`.
    pub int32: i32,
    /// `u32`.
    pub uint32: u32,
    /// `bool`.
    pub flag: bool,
    /// `f64`.
    pub real: f64,
    /// `String`.
    pub text: String,
    /// `Option<String>`.
    pub maybe_text: Option<String>,
    /// `Vec<u8>`.
    pub bytes: Vec<u8>,
    /// `Option<Vec<u8>>`.
    pub maybe_bytes: Option<Vec<u8>>,
    /// `Json<T>` of a struct.
    pub doc: Json<Doc>,
    /// `serde_json::Value`.
    pub any: serde_json::Value,
    /// A `TextEnum`.
    pub mood: Mood,
}

impl ConfValue {
    /// A row with ordinary values in every column.
    pub fn plain(id: i64) -> ConfValue {
        ConfValue {
            id,
            int64: id,
            int32: 0,
            uint32: 0,
            flag: false,
            real: 0.5,
            text: format!("value {id}"),
            maybe_text: None,
            bytes: Vec::new(),
            maybe_bytes: None,
            doc: Json(Doc::default()),
            any: serde_json::Value::Null,
            mood: Mood::Happy,
        }
    }
}

impl ConfUser {
    /// A user with the given key, email, name and age (score 0, active, audit unset).
    pub fn new(id: &str, email: &str, name: Option<&str>, age: i64) -> ConfUser {
        ConfUser {
            id: id.to_string(),
            email: email.to_string(),
            name: name.map(str::to_string),
            age,
            score: 0.0,
            active: true,
            audit: Audit::default(),
            posts: None,
        }
    }
}

impl ConfPost {
    /// A post (no body, audit unset).
    pub fn new(id: i64, user_id: &str, title: &str, views: i64) -> ConfPost {
        ConfPost {
            id,
            user_id: user_id.to_string(),
            title: title.to_string(),
            views,
            body: None,
            reviewer_id: None,
            audit: Audit::default(),
            author: One::NotLoaded,
            reviewer: One::NotLoaded,
            comments: None,
        }
    }
}

impl ConfComment {
    /// A comment with ordinary values (audit unset).
    pub fn new(id: i64, post_id: i64, body: &str) -> ConfComment {
        ConfComment {
            id,
            post_id,
            body: body.to_string(),
            flag: false,
            big: 0,
            data: Vec::new(),
            extra: None,
            ratio: 0.0,
            meta: Json(CommentMeta::default()),
            audit: Audit::default(),
            post: One::NotLoaded,
        }
    }
}

/// A shop's item (`conf_items`): a key the database generates, a composite `UNIQUE`, a
/// two-column index, a `CHECK`, `STRICT`, and nullable columns with declared defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(
    name = "conf_items",
    unique(shop, sku),
    index(shop, price),
    check = "price >= 0",
    strict
)]
pub struct ConfItem {
    /// Generated by the database when `None`.
    #[column(primary_key)]
    pub id: Option<i64>,
    /// With `sku`, unique.
    pub shop: String,
    /// With `shop`, unique.
    pub sku: String,
    /// Never negative (`CHECK`).
    pub price: i64,
    /// `'draft'` when inserted as `None`.
    #[column(default = "'draft'")]
    pub state: Option<String>,
    /// `7` when inserted as `None`.
    #[column(default = "7")]
    pub stock: Option<i64>,
}

impl ConfItem {
    /// An item without a key, state or stock (the database fills them).
    pub fn new(shop: &str, sku: &str, price: i64) -> ConfItem {
        ConfItem {
            id: None,
            shop: shop.to_string(),
            sku: sku.to_string(),
            price,
            state: None,
            stock: None,
        }
    }
}

/// A post's rank under a tag (`conf_rankings`): a composite primary key `(tag, post)` of a
/// text and a 64-bit integer part, found, written and cached by the tuple.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "conf_rankings", primary_key(tag, post))]
pub struct ConfRanking {
    /// First key part.
    pub tag: String,
    /// Second key part (beyond 2^53 in the scenarios, to catch integers read as floats).
    pub post: i64,
    /// The rank.
    pub rank: i64,
}

impl ConfRanking {
    /// A ranking.
    pub fn new(tag: &str, post: i64, rank: i64) -> ConfRanking {
        ConfRanking {
            tag: tag.to_string(),
            post,
            rank,
        }
    }
}

/// The suite's tables as a [`Schema`] (`CREATE TABLE IF NOT EXISTS` + indexes).
pub fn schema() -> Schema {
    Schema::new()
        .table::<ConfUser>()
        .table::<ConfPost>()
        .table::<ConfComment>()
        .table::<ConfValue>()
        .table::<ConfTag>()
        .table::<ConfPostTag>()
        .table::<ConfItem>()
        .table::<ConfRanking>()
}

/// The SQL names of the suite's tables, children before parents (the order to empty or drop
/// them in).
pub fn table_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = schema().ordered_tables().iter().map(|t| t.name).collect();
    names.reverse();
    names
}
