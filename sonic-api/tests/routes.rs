//! Routes and shapes: lists (every filter operator, sort, paging, relations, total), single
//! records (KV source, ETag), create one or many, partial update, delete, and JSON errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use serde_json::json;

#[test]
fn list_has_data_total_and_source() {
    let (api, db) = (api(), seeded());
    let answer = get(&api, &db, Who::Admin, "/v1/posts?limit=2&sort=views:desc");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(ids(&answer.json), ["p1", "p3"]);
    assert_eq!(answer.json["total"], 3);
    assert_eq!(answer.json["source"], "d1");
    let next = get(
        &api,
        &db,
        Who::Admin,
        "/v1/posts?limit=2&offset=2&sort=views:desc",
    );
    assert_eq!(ids(&next.json), ["p2"]);
}

#[test]
fn every_filter_operator_filters() {
    let (api, db) = (api(), seeded());
    let cases = [
        ("filters[views][$eq]=10", vec!["p1"]),
        ("filters[views]=10", vec!["p1"]),
        ("filters[views][$ne]=10", vec!["p2", "p3"]),
        ("filters[views][$lt]=5", vec!["p2"]),
        ("filters[views][$lte]=5", vec!["p2", "p3"]),
        ("filters[views][$gt]=5", vec!["p1"]),
        ("filters[views][$gte]=5", vec!["p1", "p3"]),
        ("filters[title][$like]=H%25", vec!["p1"]),
        ("filters[title][$nlike]=H%25", vec!["p2", "p3"]),
        ("filters[id][$in]=p1,p3", vec!["p1", "p3"]),
        ("filters[id][$nin]=p1,p3", vec!["p2"]),
        ("filters[body][$null]=", vec!["p1", "p2", "p3"]),
        ("filters[body][$notnull]=", vec![]),
        ("filters[views][$between]=1,9", vec!["p3"]),
        ("filters[title][$contains]=ll", vec!["p1"]),
        ("filters[title][$contains]=%25", vec![]),
        ("filters[title][$startsWith]=d", vec!["p2"]),
        ("filters[title][$endsWith]='s", vec!["p3"]),
        ("filters[title][$endsWith]=_s", vec![]),
        (
            "filters[title][$eq]=Hello&filters[title][$eq]=Draft",
            vec!["p1", "p2"],
        ),
        ("filters[views][$gte]=1&filters[views][$lte]=9", vec!["p3"]),
    ];
    // Every operator of the typed API's by-name form is served and tested here.
    for (name, _) in sonic_db_core::query::Op::NAMES {
        assert!(
            cases.iter().any(|(q, _)| q.contains(&format!("[${name}]"))),
            "no case for `${name}`"
        );
    }
    for (query, expected) in cases {
        let answer = get(&api, &db, Who::Admin, &format!("/v1/posts?{query}"));
        assert_eq!(answer.status, 200, "{query}: {}", answer.text());
        assert_eq!(ids(&answer.json), expected, "{query}");
        assert_eq!(answer.json["total"], expected.len(), "{query}");
    }
}

#[test]
fn bad_list_parameters_are_400s() {
    let (api, db) = (api(), seeded());
    for query in [
        "limt=5",
        "limit=-1",
        "limit=abc",
        "limit=1&limit=2",
        "offset=99999999999999999999",
        "filters[nope][$eq]=1",
        "filters[views][$drop]=1",
        "filters[views][$gt]=many",
        "filters[views",
        "sort=nope",
        "sort=views:sideways",
        "with=nope",
        "filters[title][$like]=%25aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "limit=51",
        "with=author&limit=26",
        // 25 `%`, escaped to 50 bytes, and the two wildcards: 52 > 50.
        "filters[title][$contains]=%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25%25",
        "filters[views][$contains]=1",
        "filters[views][$startsWith]=1",
    ] {
        let answer = get(&api, &db, Who::Admin, &format!("/v1/posts?{query}"));
        assert_eq!(answer.status, 400, "{query}: {}", answer.text());
        assert!(answer.json["error"].is_string(), "{query}");
    }
}

#[test]
fn literal_text_operators_are_capped_after_escaping() {
    let (api, db) = (api(), seeded());
    // 49 bytes and one wildcard: exactly D1's 50-byte pattern, accepted.
    let at_cap = format!("/v1/posts?filters[title][$startsWith]={}", "a".repeat(49));
    let answer = get(&api, &db, Who::Admin, &at_cap);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json["total"], 0);
    // 49 bytes with a `_`: escaped, 51.
    let over = format!("/v1/posts?filters[title][$endsWith]=_{}", "a".repeat(48));
    let answer = get(&api, &db, Who::Admin, &over);
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert!(
        answer.json["error"].as_str().unwrap().contains("51 bytes"),
        "{}",
        answer.text()
    );
}

#[test]
fn relations_load_nested() {
    let (api, db) = (api(), seeded());
    let answer = get(&api, &db, Who::Admin, "/v1/users/u1?with=posts.comments");
    assert_eq!(answer.status, 200, "{}", answer.text());
    let posts = answer.json["data"]["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 2);
    let p1 = posts.iter().find(|p| p["id"] == "p1").unwrap();
    assert_eq!(p1["comments"][0]["text"], "Nice");
    let list = get(
        &api,
        &db,
        Who::Admin,
        "/v1/posts?with=author&filters[id]=p3",
    );
    assert_eq!(list.json["data"][0]["author"]["name"], "Bob");
    let both = get(&api, &db, Who::Admin, "/v1/users?with=posts,posts.comments");
    assert_eq!(both.status, 400, "{}", both.text());
}

#[test]
fn a_record_comes_from_kv_when_cached_with_an_etag() {
    let (api, db) = (api(), seeded());
    // Inserts leave KV alone: the first read is D1's and fills KV, the next one is KV's.
    let first = get(&api, &db, Who::Admin, "/v1/users/u1");
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json["source"], "d1");
    let answer = get(&api, &db, Who::Admin, "/v1/users/u1");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json["source"], "kv");
    assert_eq!(answer.json["data"]["name"], "Ada");
    let tag = answer.header("etag").unwrap();
    assert_eq!(
        first.header("etag").unwrap(),
        tag,
        "the same record, the same tag"
    );
    assert_eq!(get(&api, &db, Who::Admin, "/v1/users/nobody").status, 404);
}

#[test]
fn create_one_or_many_with_server_managed_fields() {
    let (api, db) = (api(), seeded());
    let one = write(
        &api,
        &db,
        Who::User("u2".into()),
        "POST",
        "/v1/posts",
        json!({"title": "New", "created_on": 5, "updated_on": 5}),
    );
    assert_eq!(one.status, 201, "{}", one.text());
    let data = &one.json["data"];
    assert_eq!(data["user_id"], "u2"); // resolve_input
    assert_eq!(data["id"].as_str().unwrap().len(), 36); // a generated UUID
    assert!(data["created_on"].as_i64().unwrap() > 5); // the server's clock, not the body's
    let many = write(
        &api,
        &db,
        Who::User("u2".into()),
        "POST",
        "/v1/posts",
        json!([{"title": "A"}, {"title": "B"}]),
    );
    assert_eq!(many.status, 201, "{}", many.text());
    assert_eq!(many.json["data"].as_array().unwrap().len(), 2);
    assert_eq!(get(&api, &db, Who::Admin, "/v1/posts").json["total"], 6);
}

#[test]
fn bulk_create_is_all_or_nothing() {
    let (api, db) = (api(), seeded());
    let before = state(&db);
    let bad_type = json!([{"title": "fine"}, {"title": 7}]);
    let answer = write(
        &api,
        &db,
        Who::User("u2".into()),
        "POST",
        "/v1/posts",
        bad_type,
    );
    assert_eq!(answer.status, 400, "{}", answer.text());
    assert!(
        answer.json["error"]
            .as_str()
            .unwrap()
            .starts_with("record 1: "),
        "{}",
        answer.text()
    );
    let duplicate = json!([{"id": "x", "title": "A", "user_id": "u1"}, {"id": "x", "title": "B", "user_id": "u1"}]);
    let answer = write(&api, &db, Who::Admin, "POST", "/v1/posts", duplicate);
    // Admins may not give ids (client_ids off): the ids are dropped and generated.
    assert_eq!(answer.status, 201, "{}", answer.text());
    let after_admin = state(&db);
    let missing_parent =
        json!([{"title": "A", "user_id": "u1"}, {"title": "B", "user_id": "nobody"}]);
    let answer = write(&api, &db, Who::Admin, "POST", "/v1/posts", missing_parent);
    assert_eq!(answer.status, 409, "{}", answer.text());
    assert_eq!(state(&db), after_admin);
    let too_many: Vec<_> = (0..101)
        .map(|i| json!({"title": format!("t{i}")}))
        .collect();
    let answer = write(
        &api,
        &db,
        Who::User("u2".into()),
        "POST",
        "/v1/posts",
        json!(too_many),
    );
    assert_eq!(answer.status, 413, "{}", answer.text());
    assert_ne!(before, after_admin);
    assert_eq!(state(&db), after_admin);
}

#[test]
fn update_sets_only_the_fields_named() {
    let (api, db) = (api(), seeded());
    let answer = write(
        &api,
        &db,
        Who::User("u1".into()),
        "PATCH",
        "/v1/posts/p1",
        json!({"title": "Hi"}),
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json["data"]["title"], "Hi");
    assert_eq!(answer.json["data"]["views"], 10);
    assert!(answer.header("etag").is_some());
    let put = write(
        &api,
        &db,
        Who::User("u1".into()),
        "PUT",
        "/v1/posts/p1",
        json!({"id": "p1", "views": 11}),
    );
    assert_eq!(put.status, 200, "{}", put.text());
    assert_eq!(
        (
            put.json["data"]["title"].as_str(),
            put.json["data"]["views"].as_i64()
        ),
        (Some("Hi"), Some(11))
    );
    let other_id = write(
        &api,
        &db,
        Who::Admin,
        "PUT",
        "/v1/posts/p1",
        json!({"id": "p2"}),
    );
    assert_eq!(other_id.status, 400, "{}", other_id.text());
    let missing = write(
        &api,
        &db,
        Who::Admin,
        "PUT",
        "/v1/posts/p9",
        json!({"title": "x"}),
    );
    assert_eq!(missing.status, 404, "{}", missing.text());
}

#[test]
fn two_clients_updating_different_fields_both_survive() {
    let (api, db) = (api(), seeded());
    // Each request is one UPDATE of its own column: interleaving cannot lose either.
    for round in 0..10 {
        let title = format!("title {round}");
        let a = write(
            &api,
            &db,
            Who::User("u1".into()),
            "PATCH",
            "/v1/posts/p1",
            json!({"title": title}),
        );
        let b = write(
            &api,
            &db,
            Who::Admin,
            "PATCH",
            "/v1/posts/p1",
            json!({"views": round}),
        );
        assert_eq!((a.status, b.status), (200, 200));
        let stored = get(&api, &db, Who::Admin, "/v1/posts/p1");
        assert_eq!(stored.json["data"]["title"], title);
        assert_eq!(stored.json["data"]["views"], round);
    }
}

#[test]
fn delete_removes_and_then_404s() {
    let (api, db) = (api(), seeded());
    let answer = delete(&api, &db, Who::User("u1".into()), "/v1/posts/p1");
    assert_eq!(answer.status, 204, "{}", answer.text());
    assert!(answer.response.body().is_empty());
    assert_eq!(get(&api, &db, Who::Admin, "/v1/posts/p1").status, 404);
    assert_eq!(
        delete(&api, &db, Who::User("u1".into()), "/v1/posts/p1").status,
        404
    );
    // The comment went with it (ON DELETE CASCADE), from KV too.
    assert_eq!(get(&api, &db, Who::Admin, "/v1/comments/c1").status, 404);
}

#[test]
fn stale_if_match_is_412_and_nothing_is_written() {
    let (api, db) = (api(), seeded());
    let read = get(&api, &db, Who::Admin, "/v1/posts/p1");
    let tag = read.header("etag").unwrap();
    let with_tag = |method: &str, tag: &str, body: serde_json::Value| {
        let request = http::Request::builder()
            .method(method)
            .uri("/v1/posts/p1")
            .header("content-type", "application/json")
            .header("if-match", tag)
            .body(if body.is_null() {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            })
            .unwrap();
        send(&api, &db, Who::Admin, request)
    };
    let first = with_tag("PATCH", &tag, json!({"title": "one"}));
    assert_eq!(first.status, 200, "{}", first.text());
    let new_tag = first.header("etag").unwrap();
    assert_ne!(new_tag, tag);
    let before = state(&db);
    let stale = with_tag("PATCH", &tag, json!({"title": "two"}));
    assert_eq!(stale.status, 412, "{}", stale.text());
    assert_eq!(with_tag("DELETE", &tag, json!(null)).status, 412);
    assert_eq!(state(&db), before);
    assert_eq!(
        with_tag("PATCH", &new_tag, json!({"title": "two"})).status,
        200
    );
    assert_eq!(
        with_tag("PATCH", "*", json!({"title": "three"})).status,
        200
    );
}

#[test]
fn ids_a_url_cannot_address_are_refused() {
    let api = sonic_db_api::Api::new("/v1").table(
        sonic_db_api::TableApi::<Comment, Who>::new("comments")
            .client_ids(true)
            .create(sonic_db_api::Access::allow()),
    );
    let db = seeded();
    let before = state(&db);
    for id in [
        String::new(),
        ".".into(),
        "..".into(),
        "a/b".into(),
        "x".repeat(513),
    ] {
        let answer = write(
            &api,
            &db,
            Who::Admin,
            "POST",
            "/v1/comments",
            json!({"id": id, "text": "t", "post_id": "p1"}),
        );
        assert_eq!(answer.status, 400, "{id:?}: {}", answer.text());
    }
    assert_eq!(state(&db), before);
    let fine = write(
        &api,
        &db,
        Who::Admin,
        "POST",
        "/v1/comments",
        json!({"id": "c2", "text": "t", "post_id": "p1"}),
    );
    assert_eq!(fine.status, 201, "{}", fine.text());
}

#[test]
fn every_error_is_json() {
    let (api, db) = (api(), seeded());
    let before = state(&db);
    let cases = [
        (get(&api, &db, Who::Admin, "/elsewhere"), 404),
        (get(&api, &db, Who::Admin, "/v1/nope"), 404),
        (get(&api, &db, Who::Admin, "/v1/posts/p1/extra"), 404),
        (
            write(&api, &db, Who::Admin, "PUT", "/v1/posts", json!({})),
            405,
        ),
        (
            write(&api, &db, Who::Admin, "POST", "/v1/posts/p1", json!({})),
            405,
        ),
        (
            write(&api, &db, Who::Admin, "POST", "/v1/posts", json!("text")),
            400,
        ),
        (
            write(
                &api,
                &db,
                Who::Admin,
                "POST",
                "/v1/posts",
                json!({"title": "t", "user_id": "u1", "nope": 1}),
            ),
            400,
        ),
        (
            write(
                &api,
                &db,
                Who::Admin,
                "POST",
                "/v1/posts",
                json!({"title": "t", "user_id": "u1", "views": 9_223_372_036_854_775_808_u64}),
            ),
            400,
        ),
        (
            write(
                &api,
                &db,
                Who::Admin,
                "POST",
                "/v1/posts",
                json!({"title": "t", "user_id": "u1", "author": {}}),
            ),
            400,
        ),
        (
            write(&api, &db, Who::Admin, "PATCH", "/v1/posts/p1", json!({})),
            400,
        ),
        (
            write(
                &api,
                &db,
                Who::Admin,
                "PATCH",
                "/v1/posts/p1",
                json!({"views": "many"}),
            ),
            400,
        ),
        (
            write(
                &api,
                &db,
                Who::Admin,
                "PATCH",
                "/v1/posts/p1?x=1",
                json!({"views": 1}),
            ),
            400,
        ),
    ];
    for (i, (answer, status)) in cases.iter().enumerate() {
        assert_eq!(answer.status, *status, "case {i}: {}", answer.text());
        assert!(answer.json["error"].is_string(), "case {i}");
        assert!(answer
            .header("content-type")
            .unwrap()
            .starts_with("application/json"));
    }
    let malformed = http::Request::post("/v1/posts")
        .header("content-type", "application/json")
        .body(b"{\"title\": ".to_vec())
        .unwrap();
    assert_eq!(send(&api, &db, Who::Admin, malformed).status, 400);
    let text = http::Request::post("/v1/posts")
        .header("content-type", "text/plain")
        .body(b"{}".to_vec())
        .unwrap();
    assert_eq!(send(&api, &db, Who::Admin, text).status, 415);
    let huge = http::Request::post("/v1/posts")
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * 1024 * 1024])
        .unwrap();
    assert_eq!(send(&api, &db, Who::Admin, huge).status, 413);
    assert_eq!(state(&db), before);
}

#[test]
fn a_500_says_only_its_request_id() {
    use sonic_db_core::testing::faulty_sql::{FaultySql, SqlFaultRates};
    let backend = FaultySql::new(
        sonic_db_core::sqlite::SqliteBackend::memory().unwrap(),
        1,
        SqlFaultRates::uniform(1.0),
    );
    let db = sonic_db_core::Db::new(backend);
    let answer = get(&api(), &db, Who::Admin, "/v1/posts");
    assert_eq!(answer.status, 500);
    let message = answer.json["error"].as_str().unwrap();
    let id = answer.json["request_id"].as_str().unwrap();
    assert_eq!(message, format!("internal error; request id {id}"));
    assert_eq!(answer.header("x-request-id").unwrap(), id);
}

/// The HTTP form of the audit rule: audit columns belong to the server's clock, so values for
/// them in a body are dropped on create (above), `PATCH` and `PUT` alike, never written.
#[test]
fn audit_values_in_a_body_are_not_written_by_any_method() {
    let (api, db) = (api(), seeded());
    let before = get(&api, &db, Who::Admin, "/v1/posts/p1").json["data"].clone();
    let created_on = before["created_on"].as_i64().unwrap();
    for method in ["PATCH", "PUT"] {
        let answer = write(
            &api,
            &db,
            Who::User("u1".into()),
            method,
            "/v1/posts/p1",
            json!({"id": "p1", "title": method, "created_on": 5, "updated_on": 6}),
        );
        assert_eq!(answer.status, 200, "{method}: {}", answer.text());
        let data = &answer.json["data"];
        assert_eq!(data["title"], method);
        assert_eq!(data["created_on"].as_i64(), Some(created_on), "{method}");
        assert!(
            data["updated_on"].as_i64().unwrap() >= created_on,
            "{method}"
        );
        assert_ne!(data["updated_on"].as_i64(), Some(6), "{method}");
    }
}
