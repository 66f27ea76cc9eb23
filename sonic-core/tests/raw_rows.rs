//! Raw SQL rows into `Deserialize` types (structs, maps, tuples, single values) with SQLite's
//! storage classes handled, and duplicate column names refused by name on every by-name path.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(all(feature = "rusqlite", feature = "derive"))]

mod query_support;

use std::collections::{BTreeMap, HashMap};

use query_support::*;
use serde::Deserialize;
use sonic_db_core::{Db, Error};

fn seeded() -> Db {
    let (db, _, _) = setup();
    block_on(async {
        let mut bob = User::new("u2", "b@x");
        bob.active = false;
        bob.name = None;
        db.insert_many(&[User::new("u1", "a@x"), bob])
            .await
            .unwrap();
        db.insert_many(&[
            Post::new("p1", "u1", "Hello", 10),
            Post::new("p2", "u2", "Again", 20),
        ])
        .await
        .unwrap();
        db.insert(&Comment::new(3, "p1", "hi")).await.unwrap();
    });
    db
}

#[derive(Debug, PartialEq, Deserialize)]
struct UserRow {
    id: String,
    name: Option<String>,
    active: bool,
}

#[test]
fn structs_read_bools_from_0_and_1_and_nulls_as_none() {
    let db = seeded();
    let rows: Vec<UserRow> = block_on(
        db.sql("SELECT id, name, active FROM users ORDER BY id")
            .all_as(),
    )
    .unwrap();
    assert_eq!(
        rows,
        [
            UserRow {
                id: "u1".into(),
                name: Some("name of u1".into()),
                active: true
            },
            UserRow {
                id: "u2".into(),
                name: None,
                active: false
            },
        ]
    );
    // A missing `Option` field is `None` (serde's rule); any other missing field is an
    // error naming it.
    let missing = block_on(db.sql("SELECT id, name FROM users").all_as::<UserRow>());
    match missing {
        Err(Error::InvalidQuery(message)) => {
            assert!(
                message.contains("row 0") && message.contains("`active`"),
                "{message}"
            )
        }
        other => panic!("expected a missing-field error, got {other:?}"),
    }
}

#[test]
fn a_value_of_the_wrong_kind_names_the_column_and_the_row() {
    let db = seeded();
    let not_a_bool = block_on(
        db.sql("SELECT users.id, name, views AS active FROM users JOIN posts ON posts.user_id = users.id ORDER BY users.id")
            .all_as::<UserRow>(),
    );
    match not_a_bool {
        Err(Error::Decode {
            table,
            column,
            source,
            ..
        }) => {
            assert_eq!(
                (table.as_str(), column.as_str()),
                ("UserRow (raw row 0)", "active")
            );
            assert_eq!(
                source.to_string(),
                "expected INTEGER 0 or 1 (bool), found INTEGER 10"
            );
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    let text_for_int = block_on(db.sql("SELECT 'x' AS n").all_as::<(i64,)>());
    match text_for_int {
        Err(Error::Decode { column, source, .. }) => {
            assert_eq!(column, "n");
            assert!(
                source.to_string().ends_with(r#"found TEXT "x""#),
                "{source}"
            );
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn tuples_single_values_blobs_json_text_and_enums() {
    let db = seeded();
    let pairs: Vec<(String, Option<String>, bool)> = block_on(
        db.sql("SELECT id, name, active FROM users ORDER BY id")
            .all_as(),
    )
    .unwrap();
    assert_eq!(pairs[1], ("u2".into(), None, false));
    let count: Option<u64> = block_on(db.sql("SELECT count(*) FROM posts").first_as()).unwrap();
    assert_eq!(count, Some(2));
    let none: Option<u64> = block_on(db.sql("SELECT 1 WHERE 0").first_as()).unwrap();
    assert_eq!(none, None);

    #[derive(Debug, PartialEq, Deserialize)]
    struct CommentRow {
        blob: Vec<u8>,
        maybe_blob: Option<Vec<u8>>,
        meta: Meta,
        ratio: f64,
        big: i64,
    }
    let comment: CommentRow = block_on(
        db.sql("SELECT blob, maybe_blob, meta, ratio, big FROM comments")
            .first_as(),
    )
    .unwrap()
    .unwrap();
    let expected = Comment::new(3, "p1", "hi");
    assert_eq!(comment.blob, expected.blob);
    assert_eq!(comment.maybe_blob, None, "comment 3 has a NULL maybe_blob");
    assert_eq!(comment.meta, expected.meta.0, "JSON held in TEXT");
    assert_eq!((comment.ratio, comment.big), (expected.ratio, expected.big));

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Mood {
        Hello,
        Again,
    }
    let moods: Vec<(Mood,)> = block_on(
        db.sql("SELECT lower(title) FROM posts ORDER BY id")
            .all_as(),
    )
    .unwrap();
    assert_eq!(moods, [(Mood::Hello,), (Mood::Again,)]);
    // An integer stored in a REAL-typed expression still reads as f64.
    let ratio: Option<f64> = block_on(db.sql("SELECT 2").first_as()).unwrap();
    assert_eq!(ratio, Some(2.0));
    // Several columns cannot be one value.
    let wide = block_on(db.sql("SELECT 1, 2").first_as::<i64>());
    assert!(matches!(wide, Err(Error::InvalidQuery(m)) if m.contains("2 columns")));
}

#[test]
fn duplicate_column_names_are_an_error_by_name_but_not_by_position() {
    let db = seeded();
    let joined = "SELECT posts.id, users.id, title FROM posts JOIN users ON users.id = posts.user_id ORDER BY posts.id";
    let expect_duplicate = |result: Result<(), Error>, what: &str| match result {
        Err(Error::InvalidQuery(message)) => {
            assert!(
                message.contains("the column `id` more than once"),
                "{what}: {message}"
            )
        }
        other => panic!("{what}: expected a duplicate-column error, got {other:?}"),
    };
    expect_duplicate(block_on(db.sql(joined).all_json()).map(drop), "all_json");
    expect_duplicate(
        block_on(db.sql(joined).first_json()).map(drop),
        "first_json",
    );
    expect_duplicate(
        block_on(db.sql(joined).all_as::<HashMap<String, String>>()).map(drop),
        "all_as into a map",
    );
    expect_duplicate(
        block_on(db.sql(joined).all_as::<serde_json::Value>()).map(drop),
        "all_as into JSON",
    );
    // Positionally, both ids are kept.
    let rows: Vec<(String, String, String)> = block_on(db.sql(joined).all_as()).unwrap();
    assert_eq!(rows[0], ("p1".into(), "u1".into(), "Hello".into()));
    // Aliased, the names are unique.
    let aliased: Vec<BTreeMap<String, String>> = block_on(
        db.sql("SELECT posts.id AS post, users.id AS user FROM posts JOIN users ON users.id = posts.user_id ORDER BY post")
            .all_as(),
    )
    .unwrap();
    assert_eq!(aliased[1]["user"], "u2");
}
