//! KV operations per REST route, counted natively with `CountingKv` on the API the Worker
//! serves (a new `Db` per request from `api::database_on`; the Worker's `api::database` clones
//! one kept per isolate, which sends the same operations): the figures of
//! `sonic-core/docs/coherence.md`. `cargo test -p sonic-example-worker --test kv_operations --
//! --nocapture` prints the table.

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::expect_used)]

use std::sync::Arc;

use serde_json::{json, Value as Json};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::kv::{CountingKv, KvCounts};
use sonic_db_core::{Capabilities, MemoryKv};
use sonic_example_blog::migrations::schema;
use sonic_example_worker::api::{api, database_on, Who};

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Put,
    Delete,
}

struct Api {
    sql: Arc<dyn sonic_db_core::SqlBackend + Send + Sync>,
    kv: CountingKv<MemoryKv>,
}

impl Api {
    fn new() -> Api {
        let sql = SqliteBackend::memory()
            .expect("in-memory SQLite")
            .with_capabilities(Capabilities::D1);
        sql.exec(&schema().to_sql()).expect("the seed schema");
        Api {
            sql: Arc::new(sql),
            kv: CountingKv::new(MemoryKv::new()),
        }
    }

    /// One request through a new handle; returns its status and the KV operations it did.
    fn call(&self, method: Method, table: &str, id: Option<&str>, body: &Json) -> (u16, KvCounts) {
        let db = database_on(self.sql.clone(), self.kv.clone()).expect("cache config");
        let path = match id {
            Some(id) => format!("/v1/{table}/{id}"),
            None => format!("/v1/{table}"),
        };
        let method = match method {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        };
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(body)
            .expect("a request");
        self.kv.reset();
        let response = pollster::block_on(api().handle(&db, Who::Admin, request));
        (response.status().as_u16(), self.kv.counts())
    }
}

/// `get`s + `bulk get`s, `put`s + `delete`s.
fn ops(counts: KvCounts) -> (u64, u64) {
    (counts.gets + counts.bulk_gets, counts.writes())
}

#[test]
fn kv_operations_per_route() {
    let api = Api::new();
    let mut table = vec![
        "| route | KV reads | KV writes |".to_string(),
        "|---|---|---|".to_string(),
    ];
    let mut row = |what: &str, (status, counts): (u16, KvCounts), expected: (u64, u64)| {
        assert!(status < 300, "{what}: status {status}");
        assert_eq!(ops(counts), expected, "{what}: {counts:?}");
        table.push(format!("| {what} | {} | {} |", expected.0, expected.1));
    };
    let user = json!({"id": "u1", "email": "u1@example.com", "password": "p", "role": "user"});
    row(
        "create one (POST /v1/users)",
        api.call(Method::Post, "users", None, &user),
        (0, 0),
    );
    let posts: Vec<Json> = (0..500)
        .map(|i| json!({"id": format!("p{i}"), "title": "t", "user_id": "u1"}))
        .collect();
    row(
        "create 500 (POST /v1/posts, one request)",
        api.call(Method::Post, "posts", None, &Json::Array(posts)),
        (0, 0),
    );
    row(
        "get, cold (GET /v1/users/u1: miss, D1, fill)",
        api.call(Method::Get, "users", Some("u1"), &Json::Null),
        (1, 1),
    );
    row(
        "get, warm (GET /v1/users/u1: hit)",
        api.call(Method::Get, "users", Some("u1"), &Json::Null),
        (1, 0),
    );
    row(
        "update (PUT /v1/users/u1)",
        api.call(Method::Put, "users", Some("u1"), &json!({"name": "x"})),
        (0, 1),
    );
    for i in 0..500 {
        let id = format!("p{i}");
        api.call(Method::Get, "posts", Some(&id), &Json::Null); // cache every post
    }
    row(
        "delete with cascade (DELETE /v1/users/u1, 500 cached posts)",
        api.call(Method::Delete, "users", Some("u1"), &Json::Null),
        (0, 2),
    );
    println!("{}", table.join("\n"));
}
