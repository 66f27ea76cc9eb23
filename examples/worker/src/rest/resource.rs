//! The tables served under `/v1/{table}`, and the relations each lets clients load.
//!
//! The handlers are generic over any `#[derive(Table)]` struct that serde can read and write;
//! the only thing they cannot derive from the schema is which relations a client may ask for
//! with `?with=` (and under which name: nested relations such as `posts.comments` are a
//! choice, not a fact of the schema). That is this trait: one short `impl` per table.
//!
//! To serve another table, implement [`Resource`] for it and add it to
//! [`super::handle`]'s `match`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sonic_db_core::query::Include;
use sonic_db_core::Table;
use sonic_example_blog::schema::{Comment, Post, User};

/// How [`Resource::RELATIONS`] builds the eager load of one `?with=` name.
pub type IncludeFn<T> = fn() -> Include<T>;

/// A table of the REST API.
///
/// `Clone` because eager loading clones a record shared by several parents (the author of
/// several posts).
pub trait Resource: Table + Clone + Serialize + DeserializeOwned {
    /// The names `?with=` accepts, each with the relation (possibly nested) it loads. Every
    /// entry is loaded by the same statement as the records themselves on D1.
    const RELATIONS: &'static [(&'static str, IncludeFn<Self>)];

    /// The relation named `name`, if clients may load it.
    fn include(name: &str) -> Option<Include<Self>> {
        Self::RELATIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, include)| include())
    }

    /// The names of [`Self::RELATIONS`], for messages.
    fn relation_names() -> String {
        let names: Vec<&str> = Self::RELATIONS.iter().map(|(n, _)| *n).collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    }
}

impl Resource for User {
    const RELATIONS: &'static [(&'static str, IncludeFn<Self>)] = &[
        ("posts", || User::POSTS.into()),
        ("posts.comments", || User::POSTS.with(Post::COMMENTS).into()),
    ];
}

impl Resource for Post {
    const RELATIONS: &'static [(&'static str, IncludeFn<Self>)] = &[
        ("author", || Post::AUTHOR.into()),
        ("comments", || Post::COMMENTS.into()),
    ];
}

impl Resource for Comment {
    const RELATIONS: &'static [(&'static str, IncludeFn<Self>)] = &[
        ("post", || Comment::POST.into()),
        ("post.author", || Comment::POST.with(Post::AUTHOR).into()),
    ];
}
