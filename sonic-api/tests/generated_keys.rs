//! Tables whose key the database generates (an `Option<i64>` primary key, #12): creates need
//! no id, the response carries the one generated, and an id in the body follows the rules for
//! server-managed fields (dropped, or refused with `WritePolicy::Refuse`).

mod common;

use common::{write, Who};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sonic_db_api::{Access, Api, TableApi, WritePolicy};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Db, Schema};

#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "tags")]
struct Tag {
    #[column(primary_key)]
    id: Option<i64>,
    label: String,
}

fn db() -> Db {
    let schema = Schema::new().table::<Tag>();
    let db = Db::new(SqliteBackend::memory().unwrap()).with_schema(&schema);
    pollster::block_on(async {
        for s in schema.statements() {
            db.sql(s).run().await.unwrap();
        }
    });
    db
}

fn tags_api(policy: WritePolicy) -> Api<Who> {
    Api::new("/v1").table(
        TableApi::<Tag, Who>::new("tags")
            .read(Access::allow())
            .create(Access::allow())
            .on_unwritable(policy),
    )
}

#[test]
fn a_create_without_an_id_returns_the_generated_one() {
    let (api, db) = (tags_api(WritePolicy::Drop), db());
    let one = write(
        &api,
        &db,
        Who::Admin,
        "POST",
        "/v1/tags",
        json!({"label": "a"}),
    );
    assert_eq!(one.status, 201, "{}", one.text());
    let id = one.json["data"]["id"].as_i64().expect("a generated id");
    let many = write(
        &api,
        &db,
        Who::Admin,
        "POST",
        "/v1/tags",
        json!([{"label": "b"}, {"label": "c"}]),
    );
    assert_eq!(many.status, 201, "{}", many.text());
    let ids: Vec<i64> = many.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.iter().all(|i| *i != id) && ids[0] != ids[1], "{ids:?}");
    let read = common::get(&api, &db, Who::Admin, &format!("/v1/tags/{}", ids[1]));
    assert_eq!(read.json["data"]["label"], "c", "{}", read.text());

    // An id in the body is server-managed: dropped by default…
    let given = write(
        &api,
        &db,
        Who::Admin,
        "POST",
        "/v1/tags",
        json!({"id": 999, "label": "d"}),
    );
    assert_eq!(given.status, 201, "{}", given.text());
    assert_ne!(given.json["data"]["id"], 999);
    // …and refused when the table refuses unwritable fields.
    let strict = tags_api(WritePolicy::Refuse);
    let refused = write(
        &strict,
        &db,
        Who::Admin,
        "POST",
        "/v1/tags",
        json!({"id": 999, "label": "e"}),
    );
    assert_eq!(refused.status, 403, "{}", refused.text());
}
