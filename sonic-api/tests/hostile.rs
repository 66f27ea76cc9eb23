//! Hostile input on every route: each request gets a 4xx JSON error and leaves every table as
//! it was (checked after each one).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use serde_json::json;
use sonic_db_api::{Access, Api, Limits, TableApi};

/// The seeded tables with client ids on comments and a 4 MiB body cap, so that the row-size
/// and bulk caps are reached after parsing.
fn hostile_api() -> Api<Who> {
    api()
        .table(
            comments()
                .client_ids(true)
                .create(Access::allow())
                .update(Access::allow())
                .delete(Access::allow()),
        )
        .limits(Limits {
            max_body_bytes: 4 * 1024 * 1024,
            ..Limits::default()
        })
}

fn raw(
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> http::Request<Vec<u8>> {
    let mut builder = http::Request::builder().method(method).uri(path);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(body).unwrap()
}

fn json_req(method: &str, path: &str, body: serde_json::Value) -> http::Request<Vec<u8>> {
    raw(
        method,
        path,
        Some("application/json"),
        body.to_string().into_bytes(),
    )
}

#[test]
fn hostile_requests_get_4xx_json_and_change_nothing() {
    let api = hostile_api();
    let db = seeded();
    let big = "x".repeat(3 * 1024 * 1024);
    let long_id = "i".repeat(513);
    let bulk: Vec<_> = (0..5_000)
        .map(|i| json!({"id": format!("b{i}"), "text": "t", "post_id": "p1"}))
        .collect();
    let cases: Vec<(&str, http::Request<Vec<u8>>, u16)> = vec![
        (
            "malformed JSON",
            raw(
                "POST",
                "/v1/comments",
                Some("application/json"),
                b"{\"text\": ".to_vec(),
            ),
            400,
        ),
        (
            "trailing garbage",
            raw(
                "POST",
                "/v1/comments",
                Some("application/json"),
                b"{} {}".to_vec(),
            ),
            400,
        ),
        (
            "lone surrogate",
            raw(
                "POST",
                "/v1/comments",
                Some("application/json"),
                br#"{"id":"s","text":"\ud800","post_id":"p1"}"#.to_vec(),
            ),
            400,
        ),
        (
            "invalid UTF-8",
            raw(
                "POST",
                "/v1/comments",
                Some("application/json"),
                b"{\"id\":\"s\",\"text\":\"\xff\",\"post_id\":\"p1\"}".to_vec(),
            ),
            400,
        ),
        (
            "no body",
            raw("POST", "/v1/comments", Some("application/json"), Vec::new()),
            400,
        ),
        (
            "wrong content type",
            raw("POST", "/v1/comments", Some("text/plain"), b"{}".to_vec()),
            415,
        ),
        (
            "no content type",
            raw(
                "PATCH",
                "/v1/comments/c1",
                None,
                b"{\"text\":\"x\"}".to_vec(),
            ),
            415,
        ),
        (
            "wrong type",
            json_req(
                "POST",
                "/v1/comments",
                json!({"id": "w", "text": 5, "post_id": "p1"}),
            ),
            400,
        ),
        (
            "wrong type in update",
            json_req("PATCH", "/v1/posts/p1", json!({"views": "many"})),
            400,
        ),
        (
            "null for a required field",
            json_req("PATCH", "/v1/posts/p1", json!({"title": null})),
            400,
        ),
        (
            "integer beyond i64 but within u64",
            raw(
                "PATCH",
                "/v1/posts/p1",
                Some("application/json"),
                br#"{"views": 9223372036854775808}"#.to_vec(),
            ),
            400,
        ),
        (
            "integer beyond i64",
            raw(
                "PATCH",
                "/v1/posts/p1",
                Some("application/json"),
                br#"{"views": 99999999999999999999999}"#.to_vec(),
            ),
            400,
        ),
        (
            "3 MB string",
            json_req(
                "POST",
                "/v1/comments",
                json!({"id": "big", "text": big, "post_id": "p1"}),
            ),
            413,
        ),
        (
            "3 MB update",
            json_req("PATCH", "/v1/comments/c1", json!({"text": big})),
            413,
        ),
        (
            "SQL in a field name",
            json_req(
                "POST",
                "/v1/comments",
                json!({"id": "q", "text\"; DROP TABLE posts; --": "x", "post_id": "p1"}),
            ),
            400,
        ),
        (
            "SQL in a filter name",
            raw(
                "GET",
                "/v1/posts?filters[title%3B%20DROP%20TABLE%20posts][$eq]=x",
                None,
                Vec::new(),
            ),
            400,
        ),
        (
            "SQL in a sort",
            raw(
                "GET",
                "/v1/posts?sort=title%3B%20DROP%20TABLE%20posts",
                None,
                Vec::new(),
            ),
            400,
        ),
        (
            "unknown field",
            json_req(
                "POST",
                "/v1/comments",
                json!({"id": "u", "text": "x", "post_id": "p1", "evil": 1}),
            ),
            400,
        ),
        (
            "unknown operator",
            raw(
                "GET",
                "/v1/posts?filters[views][$regex]=.*",
                None,
                Vec::new(),
            ),
            400,
        ),
        (
            "unknown column",
            raw("GET", "/v1/posts?filters[rowid][$gt]=0", None, Vec::new()),
            400,
        ),
        (
            "negative limit",
            raw("GET", "/v1/posts?limit=-5", None, Vec::new()),
            400,
        ),
        (
            "huge offset",
            raw(
                "GET",
                "/v1/posts?offset=18446744073709551616",
                None,
                Vec::new(),
            ),
            400,
        ),
        (
            "limit over the cap",
            raw("GET", "/v1/posts?limit=100000", None, Vec::new()),
            400,
        ),
        (
            "long LIKE",
            raw(
                "GET",
                &format!("/v1/posts?filters[title][$like]={}", "a".repeat(51)),
                None,
                Vec::new(),
            ),
            400,
        ),
        (
            "id with a slash",
            json_req(
                "POST",
                "/v1/comments",
                json!({"id": "a/b", "text": "x", "post_id": "p1"}),
            ),
            400,
        ),
        (
            "id of 513 bytes",
            json_req(
                "POST",
                "/v1/comments",
                json!({"id": long_id, "text": "x", "post_id": "p1"}),
            ),
            400,
        ),
        (
            "id `..`",
            json_req(
                "POST",
                "/v1/comments",
                json!({"id": "..", "text": "x", "post_id": "p1"}),
            ),
            400,
        ),
        (
            "5,000-record bulk",
            json_req("POST", "/v1/comments", json!(bulk)),
            413,
        ),
        (
            "duplicate keys in a bulk",
            json_req(
                "POST",
                "/v1/comments",
                json!([{"id": "d", "text": "1", "post_id": "p1"}, {"id": "d", "text": "2", "post_id": "p1"}]),
            ),
            409,
        ),
        (
            "a key twice in an object",
            raw(
                "POST",
                "/v1/comments",
                Some("application/json"),
                br#"{"id":"twice","text":"a","text":"b","post_id":"p1"}"#.to_vec(),
            ),
            400,
        ),
        (
            "a key twice in an update",
            raw(
                "PATCH",
                "/v1/comments/c1",
                Some("application/json"),
                br#"{"text":"a","text":"b"}"#.to_vec(),
            ),
            400,
        ),
        (
            "a key twice in a nested value",
            raw(
                "POST",
                "/v1/comments",
                Some("application/json"),
                br#"[{"id":"n","text":"a","post_id":"p1"},{"id":"m","id":"m2","text":"a","post_id":"p1"}]"#.to_vec(),
            ),
            400,
        ),
        (
            "an existing key",
            json_req(
                "POST",
                "/v1/comments",
                json!({"id": "c1", "text": "again", "post_id": "p1"}),
            ),
            409,
        ),
        (
            "a missing parent",
            json_req(
                "POST",
                "/v1/comments",
                json!({"id": "orphan", "text": "x", "post_id": "nope"}),
            ),
            409,
        ),
        (
            "a missing parent by update",
            json_req("PATCH", "/v1/comments/c1", json!({"post_id": "nope"})),
            409,
        ),
        (
            "PUT on a collection",
            json_req("PUT", "/v1/comments", json!({})),
            405,
        ),
        (
            "POST on a record",
            json_req("POST", "/v1/comments/c1", json!({})),
            405,
        ),
        ("HEAD", raw("HEAD", "/v1/comments", None, Vec::new()), 405),
        (
            "unknown path",
            raw("GET", "/v1/comments/c1/more", None, Vec::new()),
            404,
        ),
        (
            "unknown table",
            raw("GET", "/v1/passwords", None, Vec::new()),
            404,
        ),
        (
            "a path outside the prefix",
            raw("GET", "/admin/login", None, Vec::new()),
            404,
        ),
        (
            "the prefix alone",
            raw("DELETE", "/v1", None, Vec::new()),
            404,
        ),
        (
            "a wrong method on openapi.json",
            raw("POST", "/v1/openapi.json", None, Vec::new()),
            405,
        ),
        (
            "bad percent-encoding",
            raw("GET", "/v1/comments/%FF", None, Vec::new()),
            400,
        ),
        (
            "a query on a write",
            json_req("PATCH", "/v1/comments/c1?debug=1", json!({"text": "x"})),
            400,
        ),
    ];
    let before = state(&db);
    for (what, request, status) in cases {
        let answer = send(&api, &db, Who::Admin, request);
        assert_eq!(
            answer.status,
            status,
            "{what}: {}",
            answer.text().chars().take(300).collect::<String>()
        );
        let request_id = answer
            .header("x-request-id")
            .expect("every answer has a request id");
        if what != "HEAD" {
            assert!(
                answer.json["error"].is_string(),
                "{what}: {}",
                answer.text()
            );
            assert_eq!(answer.json["request_id"], request_id.as_str(), "{what}");
            assert_eq!(answer.json["status"], status, "{what}");
        }
        assert_eq!(state(&db), before, "{what} changed the tables");
    }
}

#[test]
fn sql_nul_and_unicode_in_values_are_stored_verbatim() {
    let api = hostile_api();
    let db = seeded();
    for text in [
        "'; DROP TABLE posts; --",
        "a\u{0}b",
        "\u{1F600} \u{FEFF}",
        "%_\\",
    ] {
        let created = send(
            &api,
            &db,
            Who::Admin,
            json_req(
                "POST",
                "/v1/comments",
                json!({"text": text, "post_id": "p1"}),
            ),
        );
        assert_eq!(created.status, 201, "{}", created.text());
        let id = created.json["data"]["id"].as_str().unwrap();
        let read = get(&api, &db, Who::Admin, &format!("/v1/comments/{id}"));
        assert_eq!(read.json["data"]["text"], text);
    }
    assert_eq!(get(&api, &db, Who::Admin, "/v1/posts").json["total"], 3);
}

/// Every `i64` is stored and served exactly (#12 item 3), also on D1's capabilities, where
/// Sonic binds and selects integers beyond ±(2^53 − 1) as text.
#[test]
fn integers_beyond_2_53_are_stored_exactly() {
    let api = hostile_api();
    for db in [seeded(), seeded_with(sonic_db_core::Capabilities::D1)] {
        for views in [(1_i64 << 53) + 1, i64::MAX, i64::MIN] {
            let patched = write(
                &api,
                &db,
                Who::Admin,
                "PATCH",
                "/v1/posts/p1",
                json!({ "views": views }),
            );
            assert_eq!(patched.status, 200, "{}", patched.text());
            assert_eq!(patched.json["data"]["views"], views);
            let read = get(&api, &db, Who::Admin, "/v1/posts/p1");
            assert_eq!(read.json["data"]["views"], views);
            let listed = get(
                &api,
                &db,
                Who::Admin,
                &format!("/v1/posts?filters[views][$eq]={views}"),
            );
            assert_eq!(ids(&listed.json), ["p1"], "{}", listed.text());
        }
    }
}

#[test]
fn an_api_without_the_table_knows_nothing_of_it() {
    let api =
        Api::new("/v1").table(TableApi::<Comment, Who>::new("comments").read(Access::allow()));
    let db = seeded();
    let answer = get(&api, &db, Who::Admin, "/v1/users");
    assert_eq!(answer.status, 404);
    assert_eq!(answer.json["error"], "no table `users` (tables: comments)");
}
