//! The REST API natively: `rest::handle` on in-memory SQLite declared with D1's capabilities
//! (100 parameters per statement, relations in one statement) and an in-memory KV. Every
//! request gets its own `Db`, as in the Worker; they share the database and the KV store.
//!
//! The same behaviours run on workerd with real D1 and KV in `e2e/tests/rest_*.test.mjs`.

#![cfg(not(target_arch = "wasm32"))]
// Reason: test helpers outside `#[test]` functions fail the test by panicking.
#![allow(clippy::expect_used)]
// Reason: the test client indexes the path segments it has just split off a test's own URL.
#![allow(clippy::indexing_slicing)]

use std::sync::Arc;

use serde_json::{json, Value as Json};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{CacheConfig, Capabilities, Db, MemoryKv};
use sonic_example_blog::migrations::schema;
use sonic_example_blog::schema::{Comment, Post, User};
use sonic_example_worker::rest::{self, ApiRequest, Method, Resource};

struct Api {
    sql: CountingSql<SqliteBackend>,
    kv: MemoryKv,
}

struct Res {
    status: u16,
    body: Json,
}

impl Api {
    fn new() -> Api {
        let backend = SqliteBackend::memory()
            .expect("in-memory SQLite")
            .with_capabilities(Capabilities::D1);
        backend.exec(&schema().to_sql()).expect("the seed schema");
        Api {
            sql: CountingSql::new(backend),
            kv: MemoryKv::new(),
        }
    }

    /// A new handle per request, built as the Worker's (`http::database`).
    fn db(&self) -> Db {
        Db::from_shared(Arc::new(self.sql.clone()))
            .with_schema(&schema())
            .with_kv(self.kv.clone(), CacheConfig::new())
            .expect("cache config")
    }

    fn call(&self, method: Method, target: &str, body: Option<&str>) -> Res {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let segments: Vec<String> = path
            .trim_start_matches("/v1/")
            .split('/')
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .expect("UTF-8 path")
                    .into_owned()
            })
            .collect();
        let query: Vec<(String, String)> = worker::url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let request = ApiRequest {
            method,
            table: &segments[0],
            id: segments.get(1).map(String::as_str),
            query: &query,
            body: body.unwrap_or("").as_bytes(),
        };
        let reply = pollster::block_on(rest::handle(&self.db(), &request));
        let body = match &reply.body {
            Some(text) => serde_json::from_str(text).expect("JSON body"),
            None => Json::Null,
        };
        Res {
            status: reply.status,
            body,
        }
    }

    fn get(&self, target: &str) -> Res {
        self.call(Method::Get, target, None)
    }

    fn post(&self, target: &str, body: &Json) -> Res {
        self.call(Method::Post, target, Some(&body.to_string()))
    }

    fn put(&self, target: &str, body: &Json) -> Res {
        self.call(Method::Put, target, Some(&body.to_string()))
    }

    fn delete(&self, target: &str) -> Res {
        self.call(Method::Delete, target, None)
    }

    fn count(&self, table: &str) -> i64 {
        self.sql
            .inner()
            .with_connection(|c| {
                c.query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                    r.get(0)
                })
            })
            .expect("count")
    }

    fn counts(&self) -> [i64; 3] {
        [
            self.count("users"),
            self.count("posts"),
            self.count("comments"),
        ]
    }

    /// Ada (u1) with two posts (p1 "Hello Rust", p2 "D1 notes"), Grace (u2) with one ("Zebra"),
    /// and a comment on p1.
    fn seed(&self) {
        let users = json!([
            {"id": "u1", "name": "Ada", "email": "ada@example.com", "password": "x", "role": "admin"},
            {"id": "u2", "name": null, "email": "grace@example.com", "password": "y", "role": "user"},
        ]);
        assert_eq!(self.post("/v1/users", &users).status, 201);
        let posts = json!([
            {"id": "p1", "title": "Hello Rust", "body": "first", "user_id": "u1"},
            {"id": "p2", "title": "D1 notes", "body": null, "user_id": "u1"},
            {"id": "p3", "title": "Zebra", "user_id": "u2"},
        ]);
        assert_eq!(self.post("/v1/posts", &posts).status, 201);
        let comment = json!({"id": "c1", "post_id": "p1", "body": "Nice"});
        assert_eq!(self.post("/v1/comments", &comment).status, 201);
    }
}

fn ids(body: &Json) -> Vec<&str> {
    body["data"]
        .as_array()
        .expect("data array")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect()
}

#[test]
fn create_read_update_delete() {
    let api = Api::new();
    let created = api.post(
        "/v1/users",
        &json!({"id": "u1", "name": "Ada", "email": "ada@example.com", "password": "h", "role": "admin"}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let stored = &created.body["data"];
    assert_eq!(stored["email"], "ada@example.com");
    let created_on = stored["created_on"].as_i64().expect("created_on");
    assert!(created_on > 0);
    assert_eq!(stored["updated_on"], created_on);

    // An insert writes nothing to KV: the first read is from D1 (and fills), the next a hit.
    let read = api.get("/v1/users/u1");
    assert_eq!(read.status, 200);
    assert_eq!(read.body["source"], "d1");
    assert_eq!(read.body["data"], *stored);
    let read = api.get("/v1/users/u1");
    assert_eq!(read.body["source"], "kv");
    assert_eq!(read.body["data"], *stored);

    // A partial update keeps the other fields.
    let updated = api.put("/v1/users/u1", &json!({"name": "Ada L."}));
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["data"]["name"], "Ada L.");
    assert_eq!(updated.body["data"]["email"], "ada@example.com");
    assert_eq!(updated.body["data"]["created_on"], created_on);
    // The update invalidated the record: read from D1 once, then from KV.
    let read = api.get("/v1/users/u1");
    assert_eq!(read.body["source"], "d1");
    assert_eq!(read.body["data"]["name"], "Ada L.");
    let read = api.get("/v1/users/u1");
    assert_eq!(read.body["source"], "kv");
    assert_eq!(read.body["data"]["name"], "Ada L.");

    // The id may be repeated in the body; server-set fields are ignored.
    let same = api.put(
        "/v1/users/u1",
        &json!({"id": "u1", "name": null, "created_on": 5, "updated_on": 6}),
    );
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(same.body["data"]["name"], Json::Null);
    assert_eq!(same.body["data"]["created_on"], created_on);

    assert_eq!(api.delete("/v1/users/u1").status, 204);
    let gone = api.get("/v1/users/u1");
    assert_eq!(gone.status, 404);
    assert_eq!(gone.body["error"], "no `users` record with id `u1`");
    assert_eq!(api.delete("/v1/users/u1").status, 404);
    assert_eq!(api.put("/v1/users/u1", &json!({"name": "x"})).status, 404);
    assert_eq!(api.counts(), [0, 0, 0]);
}

#[test]
fn a_row_written_elsewhere_is_read_from_d1_then_kv() {
    let api = Api::new();
    api.sql
        .inner()
        .exec("INSERT INTO users (id, email, password) VALUES ('u9', 'z@example.com', 'p')")
        .expect("insert");
    let first = api.get("/v1/users/u9");
    assert_eq!(first.status, 200);
    assert_eq!(first.body["source"], "d1");
    assert_eq!(first.body["data"]["role"], "user", "the column default");
    let second = api.get("/v1/users/u9");
    assert_eq!(second.body["source"], "kv");
    assert_eq!(second.body["data"], first.body["data"]);
}

#[test]
fn a_post_without_id_gets_a_uuid() {
    let api = Api::new();
    let res = api.post(
        "/v1/users",
        &json!({"email": "n@example.com", "password": "p", "role": "user", "id": null}),
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let id = res.body["data"]["id"].as_str().expect("id");
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id.as_bytes()[14], b'4', "{id}");
    assert_eq!(api.get(&format!("/v1/users/{id}")).status, 200);
}

#[test]
fn lists_filter_sort_page_and_count() {
    let api = Api::new();
    api.seed();

    let all = api.get("/v1/posts");
    assert_eq!(all.status, 200);
    assert_eq!(all.body["source"], "d1");
    assert_eq!(all.body["total"], 3);
    assert_eq!(ids(&all.body), ["p1", "p2", "p3"], "by primary key");

    let sorted = api.get("/v1/posts?sort=title:desc");
    assert_eq!(ids(&sorted.body), ["p3", "p1", "p2"]);
    let two_keys = api.get("/v1/posts?sort=user_id:desc,title");
    assert_eq!(ids(&two_keys.body), ["p3", "p2", "p1"]);
    let repeated = api.get("/v1/posts?sort=user_id:desc&sort=title:asc");
    assert_eq!(ids(&repeated.body), ["p3", "p2", "p1"]);

    let page = api.get("/v1/posts?sort=title&limit=1&offset=1");
    assert_eq!(ids(&page.body), ["p1"]);
    assert_eq!(page.body["total"], 3);

    let ada = api.get("/v1/posts?filters[user_id][$eq]=u1");
    assert_eq!(ids(&ada.body), ["p1", "p2"]);
    assert_eq!(ada.body["total"], 2);
    let either = api.get("/v1/posts?filters[title][$eq]=Zebra&filters[title][$eq]=D1%20notes");
    assert_eq!(
        ids(&either.body),
        ["p2", "p3"],
        "repeated field and operator: OR"
    );
    let both = api.get("/v1/posts?filters[user_id][$eq]=u1&filters[title][$like]=%25Rust%25");
    assert_eq!(ids(&both.body), ["p1"], "different fields: AND");
    let range = api.get("/v1/posts?filters[title][$gte]=E&filters[title][$lt]=Z");
    assert_eq!(ids(&range.body), ["p1"], "different operators: AND");
    let listed = api.get("/v1/posts?filters[id][$in]=p1,p3&filters[id][$ne]=p3");
    assert_eq!(ids(&listed.body), ["p1"]);
    let null = api.get("/v1/posts?filters[body][$null]=");
    assert_eq!(ids(&null.body), ["p2", "p3"]);
    let shorthand = api.get("/v1/users?filters[role]=admin");
    assert_eq!(ids(&shorthand.body), ["u1"]);
    let empty = api.get("/v1/posts?filters[title][$eq]=nothing&limit=0");
    assert_eq!(empty.body, json!({"data": [], "source": "d1", "total": 0}));
}

#[test]
fn relations_load_in_one_statement() {
    let api = Api::new();
    api.seed();

    api.sql.reset();
    let posts = api.get("/v1/posts?with=author&sort=title");
    assert_eq!(posts.status, 200, "{}", posts.body);
    // The page and its count: one round trip (a batch of the two statements), and the
    // authors come with the posts, inside the first.
    assert_eq!(api.sql.round_trips(), 1);
    assert_eq!(api.sql.statement_count(), 2);
    assert!(api.sql.statements()[0].sql.contains("json"));
    let data = posts.body["data"].as_array().expect("data");
    assert_eq!(data[0]["id"], "p2");
    assert_eq!(data[0]["author"]["email"], "ada@example.com");
    assert_eq!(data[2]["author"]["id"], "u2");

    api.sql.reset();
    let users = api.get("/v1/users?with=posts");
    assert_eq!(api.sql.round_trips(), 1);
    let data = users.body["data"].as_array().expect("data");
    let titles: Vec<&Json> = data[0]["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .map(|p| &p["title"])
        .collect();
    assert_eq!(titles, [&json!("Hello Rust"), &json!("D1 notes")]);
    assert_eq!(data[1]["posts"].as_array().map(Vec::len), Some(1));

    let nested = api.get("/v1/users?with=posts.comments&filters[id][$eq]=u1");
    assert_eq!(
        nested.body["data"][0]["posts"][0]["comments"][0]["body"],
        "Nice"
    );
    let several = api.get("/v1/posts?with=author,comments&filters[id][$eq]=p1");
    assert_eq!(several.body["data"][0]["author"]["id"], "u1");
    assert_eq!(several.body["data"][0]["comments"][0]["id"], "c1");

    let one = api.get("/v1/posts/p1?with=author");
    assert_eq!(one.body["source"], "d1");
    assert_eq!(one.body["data"]["author"]["name"], "Ada");
    assert!(api.get("/v1/posts/p1").body["data"].get("author").is_none());
}

#[test]
fn a_thousand_records_in_one_atomic_post() {
    let api = Api::new();
    api.seed();
    let posts: Vec<Json> = (0..1000)
        .map(|i| json!({"id": format!("bulk-{i:04}"), "title": format!("Bulk {i}"), "user_id": "u2"}))
        .collect();
    api.sql.reset();
    let res = api.post("/v1/posts", &Json::Array(posts.clone()));
    assert_eq!(res.status, 201, "{}", res.body);
    assert_eq!(res.body["data"].as_array().map(Vec::len), Some(1000));
    assert_eq!(api.sql.round_trips(), 1, "one atomic batch");
    assert!(api.sql.max_params() <= 100);
    assert_eq!(api.count("posts"), 1003);
    let total = api.get("/v1/posts?filters[user_id][$eq]=u2&limit=1");
    assert_eq!(total.body["total"], 1001);

    // Again: every id is taken now, the first duplicate fails the whole batch.
    let again = api.post("/v1/posts", &Json::Array(posts));
    assert_eq!(again.status, 409, "{}", again.body);
    assert_eq!(api.count("posts"), 1003);
}

#[test]
fn edge_values_survive() {
    let api = Api::new();
    api.seed();
    let title = "Ünïcödé ✓ 🦀 日本語 עברית e\u{301} 'quoted' \"double\" \\ %_ \u{0}";
    let long_id = "ü/".repeat(300);
    let body = "x".repeat(200_000);
    let res = api.post(
        "/v1/posts",
        &json!({"id": long_id, "title": title, "body": body, "user_id": "u1"}),
    );
    assert_eq!(res.status, 201, "{}", res.body);
    let path = format!(
        "/v1/posts/{}",
        percent_encoding::utf8_percent_encode(&long_id, percent_encoding::NON_ALPHANUMERIC)
    );
    assert_eq!(api.get(&path).body["source"], "d1");
    let read = api.get(&path);
    assert_eq!(
        read.body["source"], "kv",
        "a >512-byte key is hashed, still cached"
    );
    assert_eq!(read.body["data"]["title"], title);
    assert_eq!(
        read.body["data"]["body"].as_str().map(str::len),
        Some(200_000)
    );
    let found = api.get("/v1/posts?filters[title][$like]=%25🦀%25");
    assert_eq!(found.body["total"], 1);
}

/// Every mistake: 400 (or 404/405/409) with a message, and nothing written.
#[test]
fn bad_input_is_refused_and_writes_nothing() {
    let api = Api::new();
    api.seed();
    let before = api.counts();
    let user = |extra: Json| {
        let mut u = json!({"id": "n1", "email": "n@example.com", "password": "p", "role": "user"});
        for (k, v) in extra.as_object().expect("object") {
            u[k] = v.clone();
        }
        u.to_string()
    };
    let post_bodies: &[(&str, String, u16, &str)] = &[
        ("/v1/users", "{".into(), 400, "malformed JSON"),
        ("/v1/users", "".into(), 400, "no body"),
        ("/v1/users", "42".into(), 400, "must be a JSON object"),
        (
            "/v1/users",
            user(json!({"nickname": "n"})),
            400,
            "unknown field `nickname`",
        ),
        (
            "/v1/users",
            user(json!({"posts": []})),
            400,
            "`posts` is a relation",
        ),
        (
            "/v1/users",
            user(json!({"email": 5})),
            400,
            "field `email`: invalid type: integer `5`",
        ),
        (
            "/v1/users",
            user(json!({"role": "boss"})),
            400,
            "field `role`: unknown variant `boss`",
        ),
        (
            "/v1/users",
            user(json!({"email": null})),
            400,
            "field `email`: invalid type: null",
        ),
        (
            "/v1/users",
            user(json!({"created_on": "yesterday"})),
            400,
            "field `created_on`",
        ),
        (
            "/v1/users",
            r#"{"id": "n1", "password": "p", "role": "user"}"#.into(),
            400,
            "missing field `email`",
        ),
        (
            "/v1/users",
            user(json!({"email": "ada@example.com"})),
            409,
            "unique",
        ),
        ("/v1/users", user(json!({"id": "u1"})), 409, "unique"),
        (
            "/v1/posts",
            json!({"title": "t", "user_id": "nobody"}).to_string(),
            409,
            "foreign key",
        ),
        (
            "/v1/users?x=1",
            user(json!({})),
            400,
            "unknown query parameter `x`",
        ),
        (
            "/v1/users",
            format!(
                "[{}, {}]",
                user(json!({})),
                user(json!({"id": "n2", "email": 7}))
            ),
            400,
            "record 1: field `email`",
        ),
        (
            "/v1/users",
            format!("[{}, 3]", user(json!({}))),
            400,
            "record 1: a record must be a JSON object",
        ),
        (
            "/v1/users",
            format!("[{}, {}]", user(json!({})), user(json!({"id": "n2"}))),
            409,
            "unique",
        ),
        (
            "/v1/posts",
            json!({"title": "t", "user_id": "u1", "body": "x".repeat(2_000_001)}).to_string(),
            400,
            "D1 stores rows of at most",
        ),
    ];
    for (path, body, status, message) in post_bodies {
        let res = api.call(Method::Post, path, Some(body));
        assert_eq!(res.status, *status, "POST {path} {body:.80}: {}", res.body);
        let error = res.body["error"].as_str().expect("error message");
        assert!(error.contains(message), "POST {path} {body:.80}: {error}");
    }
    let too_many = Json::Array(vec![json!({}); 1001]);
    assert_eq!(api.post("/v1/users", &too_many).status, 400);

    let puts: &[(&str, &str, u16, &str)] = &[
        ("/v1/users/u1", "{", 400, "malformed JSON"),
        ("/v1/users/u1", "[]", 400, "must be a JSON object"),
        (
            "/v1/users/u1",
            r#"{"id": "u2"}"#,
            400,
            "is not the one in the path",
        ),
        (
            "/v1/users/u1",
            r#"{"nick": "x"}"#,
            400,
            "unknown field `nick`",
        ),
        (
            "/v1/users/u1",
            r#"{"name": 3}"#,
            400,
            "field `name`: invalid type",
        ),
        (
            "/v1/users/u1",
            r#"{"email": "grace@example.com"}"#,
            409,
            "unique",
        ),
        (
            "/v1/posts/p1",
            r#"{"user_id": "nobody"}"#,
            409,
            "foreign key",
        ),
        ("/v1/users/zz", r#"{"name": "x"}"#, 404, "no `users` record"),
    ];
    for (path, body, status, message) in puts {
        let res = api.call(Method::Put, path, Some(body));
        assert_eq!(res.status, *status, "PUT {path} {body}: {}", res.body);
        let error = res.body["error"].as_str().expect("error message");
        assert!(error.contains(message), "PUT {path} {body}: {error}");
    }

    let gets: &[(&str, u16, &str)] = &[
        ("/v1/posts?sort=nope", 400, "has no column `nope`"),
        ("/v1/posts?sort=title:sideways", 400, "sort direction"),
        ("/v1/posts?sort=", 400, "empty item"),
        ("/v1/posts?filters[nope][$eq]=1", 400, "has no column `nope`"),
        ("/v1/posts?filters[title][$regex]=x", 400, "unknown filter operator `$regex`"),
        ("/v1/posts?filters[created_on][$gt]=soon", 400, "cannot encode column `posts`.`created_on`"),
        ("/v1/posts?filters[title][$between]=a", 400, "takes 2 operand(s)"),
        ("/v1/posts?filters[title", 400, "malformed filter"),
        ("/v1/posts?filters[title][$eq][x]=1", 400, "malformed filter"),
        ("/v1/posts?filters=1", 400, "malformed filter"),
        ("/v1/posts?filters[title][$like]=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 400, "D1 allows 50"),
        ("/v1/posts?limit=-1", 400, "`limit` must be an integer from 0 to 1000"),
        ("/v1/posts?limit=abc", 400, "`limit`"),
        ("/v1/posts?limit=1001", 400, "`limit`"),
        ("/v1/posts?limit=1&limit=2", 400, "given twice"),
        ("/v1/posts?offset=-3", 400, "`offset`"),
        ("/v1/posts?with=nope", 400, "has no relation `nope`"),
        ("/v1/users?with=posts,posts.comments", 400, "both load `posts`"),
        ("/v1/users/u1?with=posts.comments&with=posts", 400, "both load `posts`"),
        ("/v1/posts?foo=1", 400, "unknown query parameter `foo`"),
        ("/v1/posts/p1?limit=1", 400, "unknown query parameter `limit`"),
        ("/v1/posts/p1?with=nope", 400, "has no relation `nope`"),
        ("/v1/nope", 404, "no table `nope`"),
        ("/v1/nope/1", 404, "no table `nope`"),
        ("/v1/posts/missing", 404, "no `posts` record with id `missing`"),
    ];
    for (path, status, message) in gets {
        let res = api.get(path);
        assert_eq!(res.status, *status, "GET {path}: {}", res.body);
        let error = res.body["error"].as_str().expect("error message");
        assert!(error.contains(message), "GET {path}: {error}");
    }
    let wrong_method = api.call(Method::Put, "/v1/users", Some("{}"));
    assert_eq!(wrong_method.status, 405);
    assert_eq!(
        api.call(Method::Post, "/v1/users/u1", Some("{}")).status,
        405
    );
    assert_eq!(api.call(Method::Other, "/v1/users/u1", None).status, 405);
    assert_eq!(
        api.call(Method::Delete, "/v1/users/u1?x=1", None).status,
        400
    );

    assert_eq!(api.counts(), before);
    let ada = api.get("/v1/users/u1");
    assert_eq!(ada.body["data"]["email"], "ada@example.com");
}

/// The body checks compare keys with `ColumnDef::field`: the names serde writes must be those.
#[test]
fn serialised_fields_are_the_column_fields() {
    fn check<T: Resource>(record: &T) {
        let json = serde_json::to_value(record).expect("serialise");
        let keys: Vec<&str> = json
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut fields: Vec<&str> = T::DEF.columns.iter().map(|c| c.field).collect();
        fields.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, fields, "{}", T::DEF.name);
        for column in T::DEF.columns {
            assert_eq!(
                column.field, column.name,
                "filters and sort use column names"
            );
        }
    }
    let api = Api::new();
    api.seed();
    let db = api.db();
    pollster::block_on(async {
        check(&db.find::<User>("u1").await.expect("read").expect("u1"));
        check(&db.find::<Post>("p1").await.expect("read").expect("p1"));
        check(&db.find::<Comment>("c1").await.expect("read").expect("c1"));
    });
}
