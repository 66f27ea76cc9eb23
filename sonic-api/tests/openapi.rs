//! `GET /v1/openapi.json`: per caller, only the operations its rules allow and the fields it
//! may see; validated by a maintained OpenAPI validator (Python's `openapi-spec-validator`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use common::*;
use serde_json::Value as Json;

fn document(who: Who) -> Json {
    let answer = get(&api(), &db(), who, "/v1/openapi.json");
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json
}

fn properties(doc: &Json, schema: &str) -> Vec<String> {
    let mut names: Vec<String> = doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .expect("the schema exists")
        .keys()
        .cloned()
        .collect();
    names.sort();
    names
}

#[test]
fn each_caller_sees_what_its_rules_allow() {
    let anonymous = document(Who::Anonymous);
    let admin = document(Who::Admin);
    assert!(anonymous["paths"]["/v1/posts"]["get"].is_object());
    assert!(
        anonymous["paths"]["/v1/posts"]["post"].is_null(),
        "anonymous callers may not create"
    );
    assert!(admin["paths"]["/v1/posts"]["post"].is_object());
    assert!(admin["paths"]["/v1/posts/{id}"]["patch"].is_object());
    assert!(anonymous["paths"]["/v1/comments/{id}"]["delete"].is_null());
    assert_eq!(
        properties(&anonymous, "users"),
        ["created_on", "id", "name", "role", "updated_on"]
    );
    assert_eq!(
        properties(&admin, "users"),
        ["created_on", "email", "id", "name", "role", "updated_on"]
    );
    // The secret is writable by admins on create, and marked write-only; never readable.
    let create = &admin["components"]["schemas"]["users.create"]["properties"];
    assert_eq!(create["password"]["writeOnly"], true);
    assert!(create["created_on"].is_null(), "server-managed");
    assert!(create["id"].is_null(), "generated");
    assert_eq!(
        admin["components"]["schemas"]["posts"]["properties"]["published"]["type"],
        "boolean"
    );
    assert_eq!(
        admin["components"]["schemas"]["posts"]["properties"]["body"]["type"],
        serde_json::json!(["string", "null"])
    );
    let text = serde_json::to_string(&anonymous).unwrap();
    assert!(
        !text.contains("password") && !text.contains("email"),
        "{text}"
    );
}

#[test]
fn the_document_is_valid_openapi() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    for (who, name) in [
        (Who::Anonymous, "anonymous"),
        (Who::User("u1".into()), "user"),
        (Who::Admin, "admin"),
    ] {
        let path = dir.join(format!("sonic-api-openapi-{name}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&document(who)).unwrap()).unwrap();
        let output = std::process::Command::new("python3")
            .args(["-m", "openapi_spec_validator", path.to_str().unwrap()])
            .output()
            .expect("python3 runs (scripts/test-all.sh installs openapi-spec-validator)");
        assert!(
            output.status.success(),
            "openapi-spec-validator refused {}: {}{}",
            path.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
