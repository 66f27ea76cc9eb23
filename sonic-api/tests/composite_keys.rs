//! Tables with a composite primary key (`#[table(primary_key(a, b))]`): a record's path is
//! its key parts in key order, each percent-encoded, joined by `,` (`/v1/post-tags/p1,t1`);
//! creates give every part, updates cannot change them, deletes go by the tuple, lists break
//! ties on every part, and the OpenAPI document says how the id is spelled.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test setup"
)]

mod common;

use common::{delete, get, write, Who};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sonic_db_api::{Access, Api, TableApi};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Db, Schema};

#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "post_tags", primary_key(post_id, tag_id))]
struct PostTag {
    post_id: String,
    tag_id: String,
    note: String,
}

/// A key of two types: text and integer.
#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "scores", primary_key(player, round))]
struct Score {
    player: String,
    round: i64,
    points: i64,
}

fn db() -> Db {
    let schema = Schema::new().table::<PostTag>().table::<Score>();
    let db = Db::new(SqliteBackend::memory().unwrap()).with_schema(&schema);
    pollster::block_on(async {
        for s in schema.statements() {
            db.sql(s).run().await.unwrap();
        }
    });
    db
}

fn api() -> Api<Who> {
    Api::new("/v1")
        .table(
            TableApi::<PostTag, Who>::new("post-tags")
                .read(Access::allow())
                .create(Access::allow())
                .update(Access::allow())
                .delete(Access::allow()),
        )
        .table(
            TableApi::<Score, Who>::new("scores")
                .read(Access::allow())
                .create(Access::allow()),
        )
}

fn create(api: &Api<Who>, db: &Db, post: &str, tag: &str, note: &str) -> u16 {
    let body = json!({"post_id": post, "tag_id": tag, "note": note});
    write(api, db, Who::Admin, "POST", "/v1/post-tags", body).status
}

#[test]
fn a_record_is_addressed_by_its_key_parts() {
    let (api, db) = (api(), db());
    assert_eq!(create(&api, &db, "p1", "t1", "first"), 201);
    assert_eq!(create(&api, &db, "p1", "t2", "second"), 201);
    // A `,` and a space inside parts, percent-encoded in the path.
    assert_eq!(create(&api, &db, "a,b", "c d", "commas"), 201);

    let one = get(&api, &db, Who::Admin, "/v1/post-tags/p1,t2");
    assert_eq!(one.status, 200, "{}", one.text());
    assert_eq!(one.json["data"]["note"], "second");
    let encoded = get(&api, &db, Who::Admin, "/v1/post-tags/a%2Cb,c%20d");
    assert_eq!(encoded.status, 200, "{}", encoded.text());
    assert_eq!(encoded.json["data"]["note"], "commas");
    assert_eq!(
        get(&api, &db, Who::Admin, "/v1/post-tags/p1,t9").status,
        404
    );
    // With `,` unencoded, `a,b,c d` has three parts: not a key of two.
    let three = get(&api, &db, Who::Admin, "/v1/post-tags/a,b,c%20d");
    assert_eq!(three.status, 400, "{}", three.text());
    assert!(three.text().contains("post_id,tag_id"), "{}", three.text());
    let one_part = get(&api, &db, Who::Admin, "/v1/post-tags/p1");
    assert_eq!(one_part.status, 400, "{}", one_part.text());

    // An update changes the other fields; the key parts are not writable.
    let patched = write(
        &api,
        &db,
        Who::Admin,
        "PATCH",
        "/v1/post-tags/p1,t1",
        json!({"note": "edited"}),
    );
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(patched.json["data"]["note"], "edited");
    let stored = pollster::block_on(db.find::<PostTag>(("p1", "t1")))
        .unwrap()
        .unwrap();
    assert_eq!(stored.note, "edited");
    let untouched = pollster::block_on(db.find::<PostTag>(("p1", "t2")))
        .unwrap()
        .unwrap();
    assert_eq!(untouched.note, "second", "only the addressed pair changes");

    // A delete removes that pair only.
    assert_eq!(
        delete(&api, &db, Who::Admin, "/v1/post-tags/p1,t1").status,
        204
    );
    assert_eq!(
        get(&api, &db, Who::Admin, "/v1/post-tags/p1,t1").status,
        404
    );
    assert_eq!(
        get(&api, &db, Who::Admin, "/v1/post-tags/p1,t2").status,
        200
    );
}

#[test]
fn creates_need_every_part_and_lists_sort_by_all_of_them() {
    let (api, db) = (api(), db());
    let missing = write(
        &api,
        &db,
        Who::Admin,
        "POST",
        "/v1/post-tags",
        json!({"post_id": "p1", "note": "no tag"}),
    );
    assert_eq!(missing.status, 400, "{}", missing.text());
    assert!(
        missing.text().contains("`tag_id` is required"),
        "{}",
        missing.text()
    );

    for (player, round) in [("bob", 2), ("ada", 2), ("bob", 1), ("ada", 1)] {
        let body = json!({"player": player, "round": round, "points": 5});
        let created = write(&api, &db, Who::Admin, "POST", "/v1/scores", body);
        assert_eq!(created.status, 201, "{}", created.text());
    }
    let one = get(&api, &db, Who::Admin, "/v1/scores/ada,2");
    assert_eq!(one.status, 200, "{}", one.text());
    let bad = get(&api, &db, Who::Admin, "/v1/scores/ada,two");
    assert_eq!(bad.status, 400, "{}", bad.text());

    let page = get(
        &api,
        &db,
        Who::Admin,
        "/v1/scores?sort=points:desc&limit=10",
    );
    assert_eq!(page.status, 200, "{}", page.text());
    let order: Vec<(String, i64)> = page.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["player"].as_str().unwrap().to_string(),
                s["round"].as_i64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, i64)> = [("ada", 1), ("ada", 2), ("bob", 1), ("bob", 2)]
        .iter()
        .map(|(p, r)| (p.to_string(), *r))
        .collect();
    assert_eq!(order, expected, "ties broken by (player, round)");

    let doc = get(&api, &db, Who::Admin, "/v1/openapi.json");
    assert_eq!(doc.status, 200, "{}", doc.text());
    let item = &doc.json["paths"]["/v1/post-tags/{id}"];
    let description = item.to_string();
    assert!(description.contains("post_id,tag_id"), "{description}");
}
