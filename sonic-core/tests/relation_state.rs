//! The three states of a relation field, in records and in JSON, with every eager strategy:
//! not loaded → absent; loaded `one` without a match → `null` (`One::NotFound`); loaded
//! `many` without a match → `[]`.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(all(feature = "rusqlite", feature = "derive"))]

mod query_support;

use query_support::*;
use serde_json::{json, Value as Json};
use sonic_db_core::{Capabilities, Db, One};

/// u1 wrote p1 (with comment 1); u2 wrote nothing; p9's author does not exist (inserted with
/// foreign keys off).
fn seeded(capabilities: Capabilities) -> Db {
    let (db, _, _) = setup_with(capabilities);
    block_on(async {
        db.insert_many(&[User::new("u1", "a@x"), User::new("u2", "b@x")])
            .await
            .unwrap();
        db.insert(&Post::new("p1", "u1", "Hello", 1)).await.unwrap();
        db.insert(&Comment::new(1, "p1", "first")).await.unwrap();
        db.sql("PRAGMA foreign_keys = OFF").run().await.unwrap();
        db.insert(&Post::new("p9", "ghost", "orphan", 0))
            .await
            .unwrap();
    });
    db
}

fn strategies() -> [(&'static str, Capabilities); 3] {
    [
        ("sqlite (joined / per level)", Capabilities::SQLITE),
        ("single statement", single_statement()),
        ("per level", per_level()),
    ]
}

#[test]
fn a_one_relation_loaded_without_a_match_is_not_found_and_null_in_json() {
    for (strategy, capabilities) in strategies() {
        let db = seeded(capabilities);
        let posts = block_on(
            db.select::<Post>()
                .with(Post::AUTHOR)
                .order_by(Post::ID.asc())
                .all(),
        )
        .unwrap();
        assert_eq!(
            posts[0].author.get().map(|a| a.id.as_str()),
            Some("u1"),
            "{strategy}"
        );
        assert_eq!(posts[1].author, One::NotFound, "{strategy}");
        // With a limit, natively joined too (the rows as SQLite lends them).
        let limited = block_on(
            db.select::<Post>()
                .with(Post::AUTHOR)
                .order_by(Post::ID.asc())
                .limit(10)
                .all(),
        )
        .unwrap();
        assert_eq!(limited, posts, "{strategy}");
        let json = serde_json::to_value(&posts[1]).unwrap();
        assert_eq!(json.get("author"), Some(&Json::Null), "{strategy}");
        assert!(
            json.get("comments").is_none(),
            "{strategy}: not loaded, absent"
        );

        // Nested under a many relation, and in a one relation two levels down.
        let comments = block_on(
            db.select::<Comment>()
                .with(Comment::POST.with(Post::AUTHOR))
                .all(),
        )
        .unwrap();
        let post = comments[0].post.get().expect("comment 1's post");
        assert!(post.author.is_loaded(), "{strategy}");
    }
}

#[test]
fn a_many_relation_loaded_without_a_match_is_an_empty_list_in_json() {
    for (strategy, capabilities) in strategies() {
        let db = seeded(capabilities);
        let users = block_on(
            db.select::<User>()
                .with(User::POSTS.with(Post::COMMENTS))
                .order_by(User::ID.asc())
                .all(),
        )
        .unwrap();
        assert_eq!(users[1].posts, Some(vec![]), "{strategy}");
        let json = serde_json::to_value(&users).unwrap();
        assert_eq!(json[1]["posts"], json!([]), "{strategy}");
        assert_eq!(
            json[0]["posts"][0]["comments"][0]["body"], "first",
            "{strategy}"
        );
        // Alone, without order: the joined strategy on SQLite.
        let posts = block_on(
            db.select::<Post>()
                .with(Post::COMMENTS)
                .filter(Post::ID.eq("p9"))
                .all(),
        )
        .unwrap();
        let json = serde_json::to_value(&posts[0]).unwrap();
        assert_eq!(json["comments"], json!([]), "{strategy}");
        assert!(
            json.get("author").is_none(),
            "{strategy}: not loaded, absent"
        );
    }
}

#[test]
fn json_reads_back_into_the_same_states() {
    let db = seeded(Capabilities::SQLITE);
    let posts = block_on(
        db.select::<Post>()
            .with(Post::AUTHOR)
            .order_by(Post::ID.asc())
            .all(),
    )
    .unwrap();
    let text = serde_json::to_string(&posts).unwrap();
    let back: Vec<Post> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, posts);
    let plain: Post = serde_json::from_value(json!({
        "id": "p1", "user_id": "u1", "title": "t", "views": 0, "created_on": 0, "updated_on": 0
    }))
    .unwrap();
    assert_eq!(plain.author, One::NotLoaded);
}
