//! Tables with a composite primary key (`#[table(primary_key(a, b))]`): the REST routes
//! address one record by a single `/{id}` segment, so such a table is refused at mount time
//! by `Api::try_table`, and mounted with `Api::table` each of its routes answers `501` (the
//! detail naming the table and its key columns goes to the log, as every 5xx's); the other
//! tables and the OpenAPI document are unaffected.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test setup"
)]

mod common;

use common::{get, write, Who};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sonic_db_api::{Access, Api, TableApi};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Db, Error, Schema};

#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "tags")]
struct Tag {
    #[column(primary_key)]
    id: String,
    label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "post_tags", primary_key(post_id, tag_id))]
struct PostTag {
    post_id: String,
    tag_id: String,
}

fn db() -> Db {
    let schema = Schema::new().table::<Tag>().table::<PostTag>();
    let db = Db::new(SqliteBackend::memory().unwrap()).with_schema(&schema);
    pollster::block_on(async {
        for s in schema.statements() {
            db.sql(s).run().await.unwrap();
        }
        db.insert(&PostTag {
            post_id: "p1".into(),
            tag_id: "t1".into(),
        })
        .await
        .unwrap();
    });
    db
}

fn tags() -> TableApi<Tag, Who> {
    TableApi::new("tags")
        .read(Access::allow())
        .create(Access::allow())
}

fn post_tags() -> TableApi<PostTag, Who> {
    TableApi::new("post-tags")
        .read(Access::allow())
        .create(Access::allow())
        .delete(Access::allow())
}

#[test]
fn try_table_refuses_a_composite_key_at_mount_time() {
    let api = Api::<Who>::new("/v1").try_table(tags()).unwrap();
    let Err(error) = api.try_table(post_tags()) else {
        panic!("a composite key is refused");
    };
    assert!(matches!(error, Error::Unsupported(_)), "{error}");
    let text = error.to_string();
    assert!(
        text.contains("`post_tags`") && text.contains("`post_id`, `tag_id`"),
        "{text}"
    );
}

#[test]
fn mounted_anyway_every_route_answers_501_and_the_rest_is_served() {
    let api = Api::new("/v1").table(tags()).table(post_tags());
    let db = db();
    for path in ["/v1/post-tags", "/v1/post-tags/p1", "/v1/post-tags/p1,t1"] {
        let answer = get(&api, &db, Who::Admin, path);
        assert_eq!(answer.status, 501, "{path}: {}", answer.text());
        // A 5xx names only the request id; the detail goes to the log.
        assert!(
            answer.text().contains("request id"),
            "{path}: {}",
            answer.text()
        );
    }
    let create = write(
        &api,
        &db,
        Who::Admin,
        "POST",
        "/v1/post-tags",
        json!({"post_id": "p2", "tag_id": "t2"}),
    );
    assert_eq!(create.status, 501, "{}", create.text());
    let rows = pollster::block_on(db.select::<PostTag>().count()).unwrap();
    assert_eq!(rows, 1, "nothing written");

    let tag = write(
        &api,
        &db,
        Who::Admin,
        "POST",
        "/v1/tags",
        json!({"label": "rust"}),
    );
    assert_eq!(tag.status, 201, "{}", tag.text());
    let id = tag.json["data"]["id"].as_str().unwrap().to_string();
    let read = get(&api, &db, Who::Admin, &format!("/v1/tags/{id}"));
    assert_eq!(read.status, 200, "{}", read.text());
    let doc = get(&api, &db, Who::Admin, "/v1/openapi.json");
    assert_eq!(doc.status, 200, "{}", doc.text());
    let paths = doc.json["paths"].as_object().unwrap();
    assert!(paths.keys().any(|p| p.starts_with("/v1/tags")), "{paths:?}");
    assert!(
        !paths.keys().any(|p| p.starts_with("/v1/post-tags")),
        "a table no route serves is not documented: {paths:?}"
    );
}
