//! Target `api`: sonic-db-api's REST entry point (`Api::handle` on the `http` crate's types),
//! natively on SQLite + in-memory KV, with hostile paths, query strings and JSON bodies.
//!
//! Every answer is below 500 with a JSON body (or none for 204); a 4xx changes nothing; a
//! created record reads back with exactly the fields sent.

use std::time::Instant;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sonic_db_api::{Access, Api, TableApi};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{CacheConfig, Db, MemoryKv, Schema};

use crate::{run_property, Report};

/// A record with a field of each kind.
#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "notes")]
pub struct Note {
    /// Key.
    #[column(primary_key)]
    pub id: String,
    /// Text.
    pub title: String,
    /// Integer.
    #[serde(default)]
    pub views: i64,
    /// Nullable real.
    #[serde(default)]
    pub score: Option<f64>,
    /// Bool.
    #[serde(default)]
    pub done: bool,
}

fn json_value() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)),
        any::<String>().prop_map(Json::from),
        Just(json!([1, "a"])),
        Just(json!({"nested": true})),
        Just(Json::from(u64::MAX)),
    ]
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("id".to_string()),
        Just("title".to_string()),
        Just("views".to_string()),
        Just("score".to_string()),
        Just("done".to_string()),
        "[a-z_\\[\\]$]{1,8}",
    ]
}

fn query_pair() -> impl Strategy<Value = (String, String)> {
    let key = prop_oneof![
        Just("limit".to_string()),
        Just("offset".to_string()),
        Just("sort".to_string()),
        Just("with".to_string()),
        (
            field(),
            prop_oneof![
                Just("$eq"),
                Just("$ne"),
                Just("$lt"),
                Just("$gte"),
                Just("$in"),
                Just("$like"),
                Just("$null"),
                Just("$between"),
                Just("$bogus")
            ]
        )
            .prop_map(|(f, op)| format!("filters[{f}][{op}]")),
        any::<String>(),
    ];
    let value = prop_oneof![
        any::<String>(),
        "-?[0-9]{1,20}",
        Just("title:desc".to_string()),
        Just("1,2".to_string())
    ];
    (key, value)
}

#[derive(Debug, Clone)]
struct Call {
    method: &'static str,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

fn call() -> impl Strategy<Value = Call> {
    let method = prop_oneof![
        Just("GET"),
        Just("POST"),
        Just("PUT"),
        Just("PATCH"),
        Just("DELETE"),
        Just("OPTIONS")
    ];
    let path = prop_oneof![
        Just("/v1/notes".to_string()),
        Just("/v1/notes/n1".to_string()),
        Just("/v1/notes/n2".to_string()),
        "[a-zA-Z0-9%._~-]{0,12}".prop_map(|id| format!("/v1/notes/{id}")),
        Just("/v1/nope".to_string()),
        Just("/v1/notes/a/b".to_string()),
        Just("/v1/notes/%FF".to_string()),
    ];
    let body = prop_oneof![
        Just(None),
        proptest::collection::btree_map(field(), json_value(), 0..5)
            .prop_map(|m| Some(serde_json::to_vec(&m).unwrap_or_default())),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(Some),
        Just(Some(b"[{\"title\":\"a\"},{\"title\":1}]".to_vec())),
    ];
    (
        method,
        path,
        proptest::collection::vec(query_pair(), 0..3),
        body,
    )
        .prop_map(|(method, path, query, body)| Call {
            method,
            path,
            query,
            body,
        })
}

fn state(db: &Db) -> Result<String, TestCaseError> {
    pollster::block_on(db.select::<Note>().all())
        .map(|notes| format!("{notes:?}"))
        .map_err(|e| TestCaseError::fail(format!("reading the state: {e}")))
}

/// Runs the target.
pub fn fuzz(cases: u64, deadline: Option<Instant>) -> Result<Report, String> {
    let schema = Schema::new().table::<Note>();
    let db = Db::new(SqliteBackend::memory().map_err(|e| e.to_string())?)
        .with_schema(&schema)
        .with_kv(MemoryKv::new(), CacheConfig::new())
        .map_err(|e| e.to_string())?;
    for s in schema.statements() {
        pollster::block_on(db.sql(s).run()).map_err(|e| e.to_string())?;
    }
    let api = Api::<()>::new("/v1").table(
        TableApi::<Note, ()>::new("notes")
            .client_ids(true)
            .read(Access::allow())
            .create(Access::allow())
            .update(Access::allow())
            .delete(Access::allow()),
    );
    run_property(call(), cases, deadline, |call| {
        let before = state(&db)?;
        let mut uri = call.path.clone();
        if !call.query.is_empty() {
            let mut query = form_urlencoded(&call.query);
            query.insert(0, '?');
            uri.push_str(&query);
        }
        let mut builder = http::Request::builder()
            .method(call.method)
            .uri(uri.as_str());
        if call.body.is_some() {
            builder = builder.header("content-type", "application/json");
        }
        let Ok(request) = builder.body(call.body.clone().unwrap_or_default()) else {
            return Ok(()); // not an HTTP request at all (the runtime would not deliver it)
        };
        let response = pollster::block_on(api.handle(&db, (), request));
        let status = response.status().as_u16();
        prop_assert!(
            status < 500,
            "{status} for {call:?}: {}",
            String::from_utf8_lossy(response.body())
        );
        let body: Json = if response.body().is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(response.body())
                .map_err(|e| TestCaseError::fail(format!("not JSON ({e}) for {call:?}")))?
        };
        if status >= 400 {
            prop_assert_eq!(
                state(&db)?,
                before,
                "a {} changed the state: {:?}",
                status,
                call
            );
            prop_assert!(
                body.get("error").is_some(),
                "{status} without an error: {body}"
            );
        }
        if status == 201 && call.method == "POST" {
            let sent: serde_json::Map<String, Json> = call
                .body
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or_default();
            let Some(id) = body.pointer("/data/id").and_then(Json::as_str) else {
                return Ok(()); // an array
            };
            let path = format!("/v1/notes/{}", encode_segment(id));
            let read = pollster::block_on(
                api.handle(
                    &db,
                    (),
                    http::Request::get(path.as_str())
                        .body(Vec::new())
                        .unwrap_or_default(),
                ),
            );
            let read: Json = serde_json::from_slice(read.body())
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            // A null or missing id asks the server for one (documented): not a field to compare.
            for (key, value) in sent
                .iter()
                .filter(|(k, v)| !(k.as_str() == "id" && v.is_null()))
            {
                let got = read.pointer(&format!("/data/{key}"));
                let same = match (got, value) {
                    (Some(Json::Number(a)), Json::Number(b)) => a.as_f64() == b.as_f64(),
                    (Some(a), b) => a == b,
                    (None, _) => false,
                };
                prop_assert!(same, "sent {key} = {value}, read back {got:?} ({read})");
            }
        }
        Ok(())
    })
}

fn form_urlencoded(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_segment(k), encode_segment(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
