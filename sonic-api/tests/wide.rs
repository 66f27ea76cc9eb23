//! A partial update's row-size check counts only the columns it names, and refuses before
//! any statement is sent (no read of the row, no read-merge-write): a 98-column table.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};
use sonic_db_api::{Access, Api, Limits, TableApi};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{Capabilities, Db, Schema, Table};

/// An id and 97 text columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "wide")]
struct Wide {
    #[column(primary_key)]
    id: String,
    c01: String,
    c02: String,
    c03: String,
    c04: String,
    c05: String,
    c06: String,
    c07: String,
    c08: String,
    c09: String,
    c10: String,
    c11: String,
    c12: String,
    c13: String,
    c14: String,
    c15: String,
    c16: String,
    c17: String,
    c18: String,
    c19: String,
    c20: String,
    c21: String,
    c22: String,
    c23: String,
    c24: String,
    c25: String,
    c26: String,
    c27: String,
    c28: String,
    c29: String,
    c30: String,
    c31: String,
    c32: String,
    c33: String,
    c34: String,
    c35: String,
    c36: String,
    c37: String,
    c38: String,
    c39: String,
    c40: String,
    c41: String,
    c42: String,
    c43: String,
    c44: String,
    c45: String,
    c46: String,
    c47: String,
    c48: String,
    c49: String,
    c50: String,
    c51: String,
    c52: String,
    c53: String,
    c54: String,
    c55: String,
    c56: String,
    c57: String,
    c58: String,
    c59: String,
    c60: String,
    c61: String,
    c62: String,
    c63: String,
    c64: String,
    c65: String,
    c66: String,
    c67: String,
    c68: String,
    c69: String,
    c70: String,
    c71: String,
    c72: String,
    c73: String,
    c74: String,
    c75: String,
    c76: String,
    c77: String,
    c78: String,
    c79: String,
    c80: String,
    c81: String,
    c82: String,
    c83: String,
    c84: String,
    c85: String,
    c86: String,
    c87: String,
    c88: String,
    c89: String,
    c90: String,
    c91: String,
    c92: String,
    c93: String,
    c94: String,
    c95: String,
    c96: String,
    c97: String,
}

/// D1's row size, which the API enforces whatever the backend.
const ROW: usize = Capabilities::D1.max_value_bytes;

fn setup() -> (Api<()>, Db, CountingSql<SqliteBackend>) {
    let sqlite = SqliteBackend::memory().unwrap();
    sqlite
        .exec(&Schema::new().table::<Wide>().to_sql())
        .unwrap();
    let sql = CountingSql::new(sqlite);
    let db = Db::new(sql.clone());
    let api = Api::new("/v1")
        .table(
            TableApi::<Wide, ()>::new("wide")
                .read(Access::allow())
                .update(Access::allow()),
        )
        .limits(Limits {
            max_body_bytes: 4 * ROW,
            ..Limits::default()
        });
    (api, db, sql)
}

/// Every column of a row, each `bytes` long.
fn fields(columns: usize, bytes: usize, fill: char) -> Map<String, Json> {
    Wide::DEF.columns[1..=columns]
        .iter()
        .map(|c| (c.field.to_string(), json!(fill.to_string().repeat(bytes))))
        .collect()
}

fn patch(api: &Api<()>, db: &Db, body: Map<String, Json>) -> (u16, Json) {
    let request = http::Request::patch("/v1/wide/w1")
        .header("content-type", "application/json")
        .body(Json::Object(body).to_string().into_bytes())
        .unwrap();
    let response = pollster::block_on(api.handle(db, (), request));
    let json = serde_json::from_slice(response.body()).unwrap();
    (response.status().as_u16(), json)
}

#[test]
fn a_partial_update_is_measured_by_the_columns_it_names() {
    assert_eq!(Wide::DEF.columns.len(), 98);
    let (api, db, sql) = setup();
    // The stored row: 97 columns of 20,000 bytes (1,940,000 bytes).
    let mut row = fields(97, 20_000, 'a');
    row.insert("id".into(), json!("w1"));
    let stored: Wide = serde_json::from_value(Json::Object(row)).unwrap();
    pollster::block_on(db.insert(&stored)).unwrap();

    // One column of 50,000 bytes: named, it is 50,000 bytes; the rest of the row is not read.
    sql.reset();
    let (status, body) = patch(&api, &db, fields(1, 50_000, 'b'));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["c01"].as_str().unwrap().len(), 50_000);
    assert_eq!(body["data"]["c02"].as_str().unwrap().len(), 20_000);
    assert_eq!(
        sql.statement_count(),
        1,
        "one UPDATE … RETURNING: {:?}",
        sql.statements()
    );

    // All 97 named, just over D1's row: a 413 before any statement, and nothing changes.
    let over = ROW / 97 + 1;
    sql.reset();
    let (status, body) = patch(&api, &db, fields(97, over, 'c'));
    assert_eq!(status, 413, "{body}");
    let message = body["error"].as_str().unwrap();
    assert!(message.contains(&(over * 97).to_string()), "{message}");
    assert_eq!(sql.statement_count(), 0, "refused before the database");
    let now = pollster::block_on(db.find::<Wide>("w1".to_string()))
        .unwrap()
        .unwrap();
    assert_eq!((now.c01.len(), now.c97.len()), (50_000, 20_000));

    // All 97 named, just under: written.
    let under = ROW / 97;
    let (status, body) = patch(&api, &db, fields(97, under, 'd'));
    assert_eq!(
        status,
        200,
        "{}",
        body.to_string().chars().take(200).collect::<String>()
    );
    let now = pollster::block_on(db.find::<Wide>("w1".to_string()))
        .unwrap()
        .unwrap();
    assert_eq!(now.c97, "d".repeat(under));
}
