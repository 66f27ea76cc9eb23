//! Raw SQL rows into `Deserialize` types: bools from 0/1, NULL as `None`, tuples, a single
//! value; duplicate column names refused by name on every by-name path.

use serde::Deserialize;
use sonic_db_core::Error;

use crate::check::{all, expect_error, same, Outcome, Step};
use crate::ctx::Ctx;
use crate::tables::{ConfPost, ConfUser};

#[derive(Debug, PartialEq, Deserialize)]
struct UserRow {
    id: String,
    name: Option<String>,
    active: bool,
    score: f64,
}

/// Rows by name, by position and as one value, on every backend alike.
pub(crate) async fn raw_rows(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    let mut ada = ConfUser::new("w1", "w1@x.test", Some("Ada"), 36);
    ada.score = 0.5;
    let mut bob = ConfUser::new("w2", "w2@x.test", None, 17);
    bob.active = false;
    db.insert_many(&[ada, bob]).await.step("seeding users")?;
    db.insert(&ConfPost::new(1, "w1", "Hello", 3))
        .await
        .step("seeding a post")?;
    let mut outcomes = Vec::new();

    let users = db
        .sql("SELECT id, name, active, score FROM conf_users ORDER BY id")
        .all_as::<UserRow>()
        .await
        .step("users as structs");
    outcomes.push(users.and_then(|users| {
        same(
            "users as structs (bool from 0/1, NULL as None, REAL)",
            &vec![
                UserRow {
                    id: "w1".into(),
                    name: Some("Ada".into()),
                    active: true,
                    score: 0.5,
                },
                UserRow {
                    id: "w2".into(),
                    name: None,
                    active: false,
                    score: 0.0,
                },
            ],
            &users,
        )
    }));
    let tuples = db
        .sql("SELECT id, age > 18 FROM conf_users ORDER BY id")
        .all_as::<(String, bool)>()
        .await
        .step("rows as tuples");
    outcomes.push(tuples.and_then(|rows| {
        same(
            "rows as tuples",
            &vec![("w1".to_string(), true), ("w2".to_string(), false)],
            &rows,
        )
    }));
    let total = db
        .sql("SELECT sum(age) FROM conf_users")
        .first_as::<Option<u64>>()
        .await
        .step("a single value");
    outcomes.push(total.and_then(|total| same("sum(age)", &Some(Some(53)), &total)));

    let joined = "SELECT conf_posts.id, conf_users.id FROM conf_posts \
                  JOIN conf_users ON conf_users.id = conf_posts.user_id";
    let duplicate = |m: &Error| matches!(m, Error::InvalidQuery(m) if m.contains("`id`"));
    outcomes.push(expect_error(
        "all_json with two `id` columns",
        "Error::InvalidQuery naming `id`",
        db.sql(joined).all_json().await,
        duplicate,
    ));
    outcomes.push(expect_error(
        "all_as into a map with two `id` columns",
        "Error::InvalidQuery naming `id`",
        db.sql(joined)
            .all_as::<std::collections::BTreeMap<String, serde_json::Value>>()
            .await,
        duplicate,
    ));
    let positional = db
        .sql(joined)
        .all_as::<(i64, String)>()
        .await
        .step("two `id` columns as a tuple");
    outcomes.push(positional.and_then(|rows| {
        same(
            "two `id` columns as a tuple",
            &vec![(1, "w1".to_string())],
            &rows,
        )
    }));
    all(outcomes)
}

/// The same `SELECT *` text before and after one of its columns is renamed: each result has
/// the names the table had when it ran (a backend that keeps the names it read per statement
/// text must check them, not assume them).
pub(crate) async fn renamed_columns(ctx: &Ctx) -> Outcome {
    let db = &ctx.db;
    const SELECT: &str = "SELECT * FROM conf_renamed";
    for ddl in [
        "DROP TABLE IF EXISTS conf_renamed",
        "CREATE TABLE conf_renamed (id INTEGER PRIMARY KEY, first_name TEXT)",
        "INSERT INTO conf_renamed (id, first_name) VALUES (1, 'x')",
    ] {
        db.sql(ddl).run().await.step(ddl)?;
    }
    let before = db
        .sql(SELECT)
        .all_json()
        .await
        .step("rows before the rename")?;
    let rename = "ALTER TABLE conf_renamed RENAME COLUMN first_name TO given_name";
    db.sql(rename).run().await.step(rename)?;
    let after = db
        .sql(SELECT)
        .all_json()
        .await
        .step("rows after the rename")?;
    db.sql("DROP TABLE conf_renamed")
        .run()
        .await
        .step("dropping conf_renamed")?;
    let row = |name: &str| serde_json::json!([{ "id": 1, name: "x" }]);
    all([
        same(
            "rows before the rename",
            &row("first_name"),
            &serde_json::json!(before),
        ),
        same(
            "rows after the rename",
            &row("given_name"),
            &serde_json::json!(after),
        ),
    ])
}
