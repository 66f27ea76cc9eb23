//! Loaded `many` relations are capped in SQL, the response names what was cut, and a
//! database size limit that is still met is a 413, never a 500; nothing changes either way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use serde_json::json;
use sonic_db_api::{Api, DEFAULT_MAX_RELATED};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Audit, Capabilities, Db, One};

fn post(id: &str, user: &str, body: Option<String>) -> Post {
    Post {
        id: id.into(),
        title: format!("title {id}"),
        body,
        views: 0,
        published: true,
        locked: false,
        user_id: user.into(),
        audit: Audit::default(),
        author: One::NotLoaded,
        comments: None,
    }
}

fn comment(id: &str, post: &str) -> Comment {
    Comment {
        id: id.into(),
        text: format!("on {post}"),
        post_id: post.into(),
    }
}

/// `u1` with `posts` posts (`p000`…), the first with `comments` comments; `u2` with exactly
/// `cap` posts, `u3` with none.
fn with_children(db: &Db, posts: usize, comments: usize, cap: usize) {
    pollster::block_on(async {
        for (id, name) in [("u1", "ada"), ("u2", "bob"), ("u3", "cy")] {
            db.insert(&User {
                id: id.into(),
                name: Some(name.into()),
                email: format!("{name}@example.com"),
                password: "hash".into(),
                role: "user".into(),
                audit: Audit::default(),
                posts: None,
            })
            .await
            .unwrap();
        }
        let mut rows: Vec<Post> = (0..posts)
            .map(|i| post(&format!("p{i:03}"), "u1", None))
            .collect();
        rows.extend((0..cap).map(|i| post(&format!("q{i:03}"), "u2", None)));
        db.insert_many(&rows).await.unwrap();
        let notes: Vec<Comment> = (0..comments)
            .map(|i| comment(&format!("c{i:03}"), "p000"))
            .collect();
        db.insert_many(&notes).await.unwrap();
    });
}

fn capped_api(cap: u64) -> Api<Who> {
    Api::new("/v1")
        .table(users().max_related(cap))
        .table(posts())
        .table(comments())
}

fn post_ids(user: &serde_json::Value) -> Vec<String> {
    user["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_record_with_more_children_than_the_cap_gets_the_first_ones_and_a_report() {
    let db = db();
    with_children(&db, 12, 0, 5);
    let api = capped_api(5);
    let before = state(&db);

    let answer = get(&api, &db, Who::Admin, "/v1/users/u1?with=posts");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        post_ids(&answer.json["data"]),
        ["p000", "p001", "p002", "p003", "p004"],
        "the first ones by primary key"
    );
    assert_eq!(answer.json["truncated"], json!({"posts": 5}));

    // Exactly the cap: complete, nothing reported. None: nothing reported.
    let exact = get(&api, &db, Who::Admin, "/v1/users/u2?with=posts");
    assert_eq!(exact.status, 200, "{}", exact.text());
    assert_eq!(post_ids(&exact.json["data"]).len(), 5);
    assert!(exact.json.get("truncated").is_none(), "{}", exact.text());
    let none = get(&api, &db, Who::Admin, "/v1/users/u3?with=posts");
    assert_eq!(post_ids(&none.json["data"]), Vec::<String>::new());
    assert!(none.json.get("truncated").is_none());

    // A list: each record capped, the report once for the page.
    let list = get(&api, &db, Who::Admin, "/v1/users?with=posts&sort=id");
    assert_eq!(list.status, 200, "{}", list.text());
    let counts: Vec<usize> = list.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| post_ids(u).len())
        .collect();
    assert_eq!(counts, [5, 5, 0]);
    assert_eq!(list.json["truncated"], json!({"posts": 5}));
    assert_eq!(state(&db), before);
}

#[test]
fn nested_relations_are_capped_at_every_level() {
    let db = db();
    with_children(&db, 7, 9, 2);
    let api = capped_api(4);
    let answer = get(&api, &db, Who::Admin, "/v1/users/u1?with=posts.comments");
    assert_eq!(answer.status, 200, "{}", answer.text());
    let posts = answer.json["data"]["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 4);
    let comments: Vec<&str> = posts[0]["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(comments, ["c000", "c001", "c002", "c003"]);
    assert_eq!(posts[1]["comments"], json!([]));
    assert_eq!(
        answer.json["truncated"],
        json!({"posts": 4, "posts.comments": 4})
    );

    // Only the nested level over its cap: only it is reported.
    let db = self::db();
    with_children(&db, 2, 9, 0);
    let answer = get(&api, &db, Who::Admin, "/v1/users/u1?with=posts.comments");
    assert_eq!(answer.json["truncated"], json!({"posts.comments": 4}));
}

#[test]
fn a_relation_can_have_its_own_cap_and_the_default_is_documented() {
    assert_eq!(DEFAULT_MAX_RELATED, 100);
    let db = db();
    with_children(&db, 120, 0, 0);
    let default = api();
    let answer = get(&default, &db, Who::Admin, "/v1/users/u1?with=posts");
    assert_eq!(post_ids(&answer.json["data"]).len(), 100);
    assert_eq!(answer.json["truncated"], json!({"posts": 100}));

    let api = Api::new("/v1")
        .table(users().max_related(50).max_related_for("posts", 3))
        .table(posts())
        .table(comments());
    let answer = get(&api, &db, Who::Admin, "/v1/users/u1?with=posts");
    assert_eq!(post_ids(&answer.json["data"]).len(), 3);
    assert_eq!(answer.json["truncated"], json!({"posts": 3}));
    let nested = get(&api, &db, Who::Admin, "/v1/users/u1?with=posts.comments");
    assert_eq!(post_ids(&nested.json["data"]).len(), 50);
}

#[test]
fn the_cap_is_in_the_sql_on_d1s_single_statement_too() {
    // D1's strategy (one statement, JSON aggregation) on SQLite: the same answer.
    let schema = schema();
    let db = Db::new(
        SqliteBackend::memory()
            .unwrap()
            .with_capabilities(Capabilities::D1),
    );
    pollster::block_on(async {
        for s in schema.statements() {
            db.sql(s).run().await.unwrap();
        }
    });
    with_children(&db, 12, 9, 0);
    let answer = get(
        &capped_api(5),
        &db,
        Who::Admin,
        "/v1/users?with=posts.comments&sort=id",
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(post_ids(&answer.json["data"][0]).len(), 5);
    assert_eq!(
        answer.json["data"][0]["posts"][0]["comments"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert_eq!(
        answer.json["truncated"],
        json!({"posts": 5, "posts.comments": 5})
    );
}

#[test]
fn a_result_beyond_the_databases_size_limit_is_a_413_not_a_500() {
    // D1 builds the eager load as one JSON string per record; past its size limit SQLite says
    // "string or blob too big". Here the limit is lowered to 200 KB and the posts' bodies
    // add up to 600 KB, under the relation cap.
    let schema = schema();
    let backend = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(Capabilities {
            max_value_bytes: 200_000,
            ..Capabilities::D1
        });
    backend.with_connection(|c| {
        let _ = c.set_limit(rusqlite::limits::Limit::SQLITE_LIMIT_LENGTH, 200_000);
    });
    let db = Db::new(backend);
    pollster::block_on(async {
        for s in schema.statements() {
            db.sql(s).run().await.unwrap();
        }
    });
    with_children(&db, 0, 0, 0);
    pollster::block_on(async {
        let big: Vec<Post> = (0..20)
            .map(|i| post(&format!("b{i:02}"), "u1", Some("x".repeat(30_000))))
            .collect();
        db.insert_many(&big).await.unwrap();
    });
    let api = api();
    let before = state(&db);
    for path in ["/v1/users/u1?with=posts", "/v1/users?with=posts"] {
        let answer = get(&api, &db, Who::Admin, path);
        assert_eq!(answer.status, 413, "{path}: {}", answer.text());
        let message = answer.json["error"].as_str().unwrap();
        assert!(
            message.contains("larger than the database allows"),
            "{message}"
        );
        assert!(
            !message.contains("SQLITE"),
            "the database's text stays in the log"
        );
        assert!(answer.json["request_id"].is_string(), "{}", answer.text());
    }
    // The same user without the relation, and with a small cap, still loads.
    assert_eq!(get(&api, &db, Who::Admin, "/v1/users/u1").status, 200);
    let small = Api::new("/v1")
        .table(users().max_related(3))
        .table(posts())
        .table(comments());
    let answer = get(&small, &db, Who::Admin, "/v1/users/u1?with=posts");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json["truncated"], json!({"posts": 3}));
    assert_eq!(state(&db), before);
}
