//! Writes: insert, insert_many, update, update_where, delete, delete_where and upsert return
//! what the database stored; audit columns follow the clock; constraint violations are told
//! apart; decoding errors name the table and column.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(all(feature = "rusqlite", feature = "derive"))]

mod query_support;

use query_support::*;
use serde_json::json;
use sonic_db_core::{Error, Json, Value};

#[test]
fn insert_returns_the_stored_row_with_audit_columns() {
    let (db, sql, _clock) = setup();
    let mut user = User::new("u1", "ada@example.com");
    user.audit.created_on = 5; // ignored: Sonic stamps audit columns
    user.audit.updated_on = 6;
    let stored = block_on(db.insert(&user)).unwrap();
    assert_eq!(stored.id, "u1");
    assert_eq!(stored.email, "ada@example.com");
    assert_eq!(stored.audit.created_on, NOW);
    assert_eq!(stored.audit.updated_on, NOW);
    assert_eq!(sql.round_trips(), 1);
    assert!(sql.statements()[0].sql.contains("RETURNING"));
    let found = block_on(db.find::<User>("u1")).unwrap().unwrap();
    assert_eq!(found, stored);
}

#[test]
fn insert_many_returns_rows_in_order() {
    let (db, sql, _) = setup();
    let users: Vec<User> = (0..5)
        .map(|i| User::new(&format!("u{i}"), &format!("{i}@example.com")))
        .collect();
    let stored = block_on(db.insert_many(&users)).unwrap();
    assert_eq!(
        stored.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["u0", "u1", "u2", "u3", "u4"]
    );
    assert!(stored.iter().all(|u| u.audit.created_on == NOW));
    assert_eq!(sql.statement_count(), 1, "one multi-row INSERT");
    assert!(block_on(db.insert_many::<User>(&[])).unwrap().is_empty());
    assert_eq!(sql.statement_count(), 1, "nothing to insert, nothing sent");
}

#[test]
fn update_rewrites_the_record_but_keeps_created_on() {
    let (db, _sql, clock) = setup();
    let stored = block_on(db.insert(&User::new("u1", "ada@example.com"))).unwrap();
    clock.advance(1_000);
    let mut changed = stored.clone();
    changed.name = Some("Ada Lovelace".into());
    changed.active = false;
    changed.audit.created_on = 0; // e.g. a PUT body without audit fields
    let updated = block_on(db.update(&changed)).unwrap();
    assert_eq!(updated.name.as_deref(), Some("Ada Lovelace"));
    assert!(!updated.active);
    assert_eq!(
        updated.audit.created_on, NOW,
        "created_on is never rewritten"
    );
    assert_eq!(updated.audit.updated_on, NOW + 1_000);
    assert_eq!(block_on(db.find::<User>("u1")).unwrap().unwrap(), updated);

    let ghost = User::new("ghost", "ghost@example.com");
    let err = block_on(db.update(&ghost)).unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { table } if table == "users"),
        "{err}"
    );
}

#[test]
fn update_where_sets_some_columns_and_stamps_updated_on() {
    let (db, sql, clock) = setup();
    block_on(db.insert_many(&[
        User::new("u1", "a@x"),
        User::new("u2", "b@x"),
        User::new("u3", "c@y"),
    ]))
    .unwrap();
    clock.advance(42);
    sql.reset();
    let updated = block_on(
        db.update_where::<User>()
            .set(User::NAME, "renamed")
            .set(User::ACTIVE, false)
            .filter(User::EMAIL.like("%@x"))
            .returning(),
    )
    .unwrap();
    let mut ids: Vec<_> = updated.iter().map(|u| u.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["u1", "u2"]);
    for user in &updated {
        assert_eq!(user.name.as_deref(), Some("renamed"));
        assert!(!user.active);
        assert_eq!(user.audit.created_on, NOW);
        assert_eq!(user.audit.updated_on, NOW + 42);
    }
    let statement = &sql.statements()[0];
    assert!(
        statement.sql.contains("\"updated_on\" = ?"),
        "{}",
        statement.sql
    );

    let untouched = block_on(db.find::<User>("u3")).unwrap().unwrap();
    assert_eq!(untouched.name.as_deref(), Some("name of u3"));
    assert_eq!(untouched.audit.updated_on, NOW);

    let changed = block_on(
        db.update_where::<User>()
            .set_null(User::NAME)
            .filter(User::ID.eq("u3"))
            .run(),
    )
    .unwrap();
    assert_eq!(changed, 1);
    assert_eq!(block_on(db.find::<User>("u3")).unwrap().unwrap().name, None);

    // An explicit updated_on wins over the clock when the Db keeps audit values (the rule
    // for every path is tested in audit_rule.rs).
    let explicit = block_on(
        db.keeping_audit()
            .update_where::<User>()
            .set(User::UPDATED_ON, 7)
            .filter(User::ID.eq("u3"))
            .returning(),
    )
    .unwrap();
    assert_eq!(explicit[0].audit.updated_on, 7);
}

#[test]
fn filtered_writes_refuse_to_hit_every_row_by_accident() {
    let (db, sql, _) = setup();
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    sql.reset();
    let err = block_on(db.update_where::<User>().set(User::NAME, "x").run()).unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
    let err = block_on(db.delete_where::<User>().run()).unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
    let err = block_on(db.update_where::<User>().filter(User::ID.eq("u1")).run()).unwrap_err();
    assert!(
        matches!(err, Error::InvalidQuery(_)),
        "no column set: {err}"
    );
    let err = block_on(
        db.update_where::<User>()
            .set(User::ID, "u2")
            .filter(User::ID.eq("u1"))
            .run(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "primary key: {err}");
    assert_eq!(sql.statement_count(), 0);

    assert_eq!(
        block_on(
            db.update_where::<User>()
                .set(User::ACTIVE, false)
                .all_rows()
                .run()
        )
        .unwrap(),
        1
    );
    assert_eq!(
        block_on(db.delete_where::<User>().all_rows().run()).unwrap(),
        1
    );
}

#[test]
fn delete_and_delete_where() {
    let (db, _, _) = setup();
    block_on(db.insert_many(&[
        User::new("u1", "a@x"),
        User::new("u2", "b@x"),
        User::new("u3", "c@y"),
    ]))
    .unwrap();
    block_on(db.insert(&Post::new("p1", "u1", "t", 1))).unwrap();

    assert!(block_on(db.delete::<User>("u3")).unwrap());
    assert!(!block_on(db.delete::<User>("u3")).unwrap(), "already gone");
    assert!(block_on(db.find::<User>("u3")).unwrap().is_none());

    let deleted = block_on(
        db.delete_where::<User>()
            .filter(User::EMAIL.like("%@x"))
            .returning(),
    )
    .unwrap();
    let mut ids: Vec<_> = deleted.iter().map(|u| u.id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["u1", "u2"]);
    assert_eq!(deleted.iter().find(|u| u.id == "u1").unwrap().email, "a@x");
    assert_eq!(block_on(db.select::<User>().count()).unwrap(), 0);
    assert_eq!(
        block_on(db.select::<Post>().count()).unwrap(),
        0,
        "ON DELETE CASCADE ran: foreign keys are enforced"
    );
}

#[test]
fn upsert_inserts_then_updates_keeping_created_on() {
    let (db, sql, clock) = setup();
    let user = User::new("u1", "ada@example.com");
    let inserted = block_on(db.upsert(&user)).unwrap();
    assert_eq!(inserted.audit.created_on, NOW);
    assert_eq!(inserted.audit.updated_on, NOW);

    clock.advance(10);
    let mut again = user.clone();
    again.email = "ada@lovelace.org".into();
    let updated = block_on(db.upsert(&again)).unwrap();
    assert_eq!(updated.email, "ada@lovelace.org");
    assert_eq!(updated.audit.created_on, NOW, "created_on kept on conflict");
    assert_eq!(updated.audit.updated_on, NOW + 10);
    assert_eq!(block_on(db.select::<User>().count()).unwrap(), 1);
    assert!(sql
        .statements()
        .iter()
        .any(|s| s.sql.contains("ON CONFLICT (\"id\") DO UPDATE SET")));
}

#[test]
fn unique_and_foreign_key_violations_are_distinguishable() {
    let (db, _, _) = setup();
    block_on(db.insert(&User::new("u1", "ada@example.com"))).unwrap();

    let err = block_on(db.insert(&User::new("u2", "ada@example.com"))).unwrap_err();
    match &err {
        Error::UniqueViolation { message } => {
            assert!(
                message.contains("users.email"),
                "SQLite's message kept: {message}"
            )
        }
        other => panic!("expected a unique violation, got {other:?}"),
    }
    let err = block_on(db.insert(&User::new("u1", "other@example.com"))).unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { message } if message.contains("users.id")),
        "{err}"
    );

    let err = block_on(db.insert(&Post::new("p1", "nobody", "orphan", 0))).unwrap_err();
    match &err {
        Error::ForeignKeyViolation { message, table } => {
            assert!(
                message.contains("FOREIGN KEY constraint failed"),
                "{message}"
            );
            assert_eq!(
                table.as_deref(),
                Some("posts"),
                "Sonic names the table it wrote"
            );
        }
        other => panic!("expected a foreign key violation, got {other:?}"),
    }
    assert_eq!(block_on(db.select::<Post>().count()).unwrap(), 0);
}

#[test]
fn decode_errors_name_the_table_and_column() {
    let (db, _, _) = setup();
    block_on(
        db.sql("INSERT INTO users (id, name, email, active, created_on, updated_on) VALUES (?, NULL, ?, 7, 0, 0)")
            .bind("u1")
            .bind("a@x")
            .run(),
    )
    .unwrap();
    let err = block_on(db.find::<User>("u1")).unwrap_err();
    match &err {
        Error::Decode {
            table,
            column,
            key,
            source,
        } => {
            assert_eq!((table.as_str(), column.as_str()), ("users", "active"));
            assert_eq!(key.as_deref(), Some("TEXT \"u1\""), "the row's primary key");
            assert_eq!(source.found, "INTEGER 7");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }

    // NULL into a field that is not an Option.
    let err = block_on(
        db.sql("SELECT 'u9' AS id, NULL AS name, NULL AS email, 1 AS active, 0 AS created_on, 0 AS updated_on")
            .all::<User>(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { table, column, source, .. } if table == "users" && column == "email" && source.found == "NULL"),
        "{err}"
    );
}

#[test]
fn values_round_trip_through_every_write() {
    let (db, _, _) = setup();
    let sample = Sample {
        id: i64::MIN,
        text: "it's \"quoted\" -- ; \0 ünïcødé 🎉".into(),
        maybe_text: None,
        int: i64::MAX,
        real: -1.5e-300,
        blob: vec![0, 1, 2, 255],
        flag: true,
        json: Json(vec!["a".into(), "\"b\"".into()]),
    };
    let stored = block_on(db.insert(&sample)).unwrap();
    assert_eq!(stored, sample);
    let mut changed = sample.clone();
    changed.maybe_text = Some(String::new());
    changed.blob = Vec::new();
    changed.flag = false;
    assert_eq!(block_on(db.update(&changed)).unwrap(), changed);
    assert_eq!(block_on(db.upsert(&changed)).unwrap(), changed);
    assert_eq!(
        block_on(db.find::<Sample>(i64::MIN)).unwrap(),
        Some(changed.clone())
    );
    let deleted = block_on(
        db.delete_where::<Sample>()
            .filter(Sample::BLOB.eq(Vec::new()))
            .returning(),
    )
    .unwrap();
    assert_eq!(deleted, [changed]);
}

#[test]
fn raw_sql_escape_hatch() {
    let (db, _, _) = setup();
    block_on(db.insert_many(&[User::new("u1", "a@x"), User::new("u2", "b@x")])).unwrap();

    let users = block_on(
        db.sql("SELECT * FROM users WHERE id = ?")
            .bind("u2")
            .all::<User>(),
    )
    .unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].email, "b@x");

    // Columns in any order, matched by name.
    let first = block_on(
        db.sql(
            "SELECT updated_on, created_on, active, email, name, id FROM users ORDER BY id DESC",
        )
        .first::<User>(),
    )
    .unwrap()
    .unwrap();
    assert_eq!(first.id, "u2");
    assert_eq!(first.audit.created_on, NOW);

    let err = block_on(db.sql("SELECT *, 1 AS extra FROM users").all::<User>()).unwrap_err();
    assert!(
        matches!(&err, Error::UnknownColumn { table, column } if table == "users" && column == "extra"),
        "{err}"
    );
    let err = block_on(db.sql("SELECT id, email FROM users").all::<User>()).unwrap_err();
    assert!(
        matches!(&err, Error::Decode { table, column, .. } if table == "users" && column == "name"),
        "{err}"
    );
    let err = block_on(
        db.sql("SELECT id, id, name, email, active, created_on, updated_on FROM users")
            .all::<User>(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");

    let rows = block_on(
        db.sql(
            "SELECT id, ? AS blob, 1.5 AS real, NULL AS missing, ? AS big FROM users ORDER BY id",
        )
        .bind(vec![0u8, 255])
        .bind(i64::MAX)
        .all_json(),
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        serde_json::Value::Object(rows[0].clone()),
        serde_json::json!({"id": "u1", "blob": [0, 255], "real": 1.5, "missing": null, "big": i64::MAX})
    );
    let first = block_on(db.sql("SELECT 1 AS one").first_json())
        .unwrap()
        .unwrap();
    assert_eq!(first["one"], 1);

    let changed = block_on(db.sql("UPDATE users SET active = ?").bind(false).run()).unwrap();
    assert_eq!(changed, 2);
    let result = block_on(
        db.sql("SELECT COUNT(*) AS n FROM users WHERE active = 0")
            .result(),
    )
    .unwrap();
    assert_eq!(result.values, [Value::Integer(2)]);

    let err = block_on(db.sql("SELECT ?").bind(f64::NAN).run()).unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
    let err = block_on(db.sql("SELECT * FROM nowhere").run()).unwrap_err();
    assert!(
        matches!(&err, Error::Database { message } if message.contains("no such table")),
        "{err}"
    );
}

// ------------------------------------------------------------ updates by column name

#[test]
fn set_by_name_is_one_atomic_update_of_the_named_columns() {
    let (db, sql, clock) = setup();
    block_on(db.insert_many(&[User::new("u1", "a@x"), User::new("u2", "b@x")])).unwrap();
    clock.advance(7);
    sql.reset();
    let updated = block_on(
        db.update_where::<User>()
            .set_by_name("name", Value::Null)
            .unwrap()
            .set_by_name("active", Value::Integer(0))
            .unwrap()
            .filter(User::ID.eq("u1"))
            .returning(),
    )
    .unwrap();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0].name, None);
    assert!(!updated[0].active);
    assert_eq!(
        updated[0].email, "a@x",
        "columns not named keep their value"
    );
    assert_eq!(updated[0].audit.created_on, NOW);
    assert_eq!(updated[0].audit.updated_on, NOW + 7);
    assert_eq!(sql.round_trips(), 1);
    let statement = &sql.statements()[0];
    assert!(
        statement
            .sql
            .starts_with("UPDATE \"users\" SET \"name\" = ?, \"active\" = ?, \"updated_on\" = ?")
            && statement.sql.contains("RETURNING"),
        "{}",
        statement.sql
    );
    assert_eq!(
        block_on(db.find::<User>("u2"))
            .unwrap()
            .unwrap()
            .name
            .as_deref(),
        Some("name of u2")
    );

    // A later set of the same column wins; a REAL column takes an exact INTEGER as a REAL.
    block_on(db.insert(&Post::new("p1", "u1", "t", 1))).unwrap();
    block_on(db.insert(&Comment::new(1, "p1", "c"))).unwrap();
    let comment = block_on(
        db.update_where::<Comment>()
            .set_by_name("body", Value::Text("first".into()))
            .unwrap()
            .set_by_name("body", Value::Text("second".into()))
            .unwrap()
            .set_by_name("ratio", Value::Integer(3))
            .unwrap()
            .filter(Comment::ID.eq(1))
            .returning(),
    )
    .unwrap();
    assert_eq!(
        (comment[0].body.as_str(), comment[0].ratio),
        ("second", 3.0)
    );
    let stored = block_on(db.sql("SELECT typeof(ratio) AS t FROM comments").all_json()).unwrap();
    assert_eq!(stored[0]["t"], "real");
}

/// The error of a refused `set_by_name` / `set_json`: `Error::Encode` naming `column` (of
/// `users`, `posts` or `comments`), whose source found what starts with `found`. Returns the
/// message.
fn encode_error<T>(result: Result<T, Error>, column: &str, found: &str) -> String {
    let Err(err) = result else {
        panic!("{column}: accepted");
    };
    match &err {
        Error::Encode {
            table,
            column: c,
            source,
        } => {
            assert_eq!(c, column, "{err}");
            assert!(
                ["users", "posts", "comments"].contains(&table.as_str()),
                "{err}"
            );
            assert!(source.found.starts_with(found), "{err}");
        }
        other => panic!("expected Error::Encode for {column}, got {other:?}"),
    }
    err.to_string()
}

#[test]
fn set_by_name_refuses_what_the_column_cannot_hold_before_sending() {
    let (db, sql, _) = setup();
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    block_on(db.insert(&Post::new("p1", "u1", "t", 1))).unwrap();
    sql.reset();

    let err = db
        .update_where::<User>()
        .set_by_name("nope", Value::Null)
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownColumn { table, column } if table == "users" && column == "nope"),
        "{err}"
    );
    for (column, role) in [
        ("id", "primary key"),
        ("created_on", "audit"),
        ("updated_on", "audit"),
    ] {
        let err = db
            .update_where::<User>()
            .set_by_name(column, Value::Integer(1))
            .unwrap_err();
        assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("`users`.`{column}`")) && message.contains(role),
            "{message}"
        );
    }

    // The storage class of the declared type, nullability, and what the field's type accepts.
    let message = encode_error(
        db.update_where::<Post>()
            .set_by_name("views", Value::Text("many".into())),
        "views",
        "TEXT \"many\"",
    );
    assert_eq!(
        message,
        "cannot encode column `posts`.`views`: expected INTEGER, found TEXT \"many\""
    );
    encode_error(
        db.update_where::<Post>()
            .set_by_name("views", Value::Real(1.5)),
        "views",
        "REAL 1.5",
    );
    encode_error(
        db.update_where::<User>().set_by_name("email", Value::Null),
        "email",
        "NULL",
    );
    encode_error(
        db.update_where::<User>()
            .set_by_name("active", Value::Integer(7)),
        "active",
        "INTEGER 7",
    );
    encode_error(
        db.update_where::<Comment>()
            .set_by_name("meta", Value::Text("{not json".into())),
        "meta",
        "TEXT that does not decode (",
    );
    encode_error(
        db.update_where::<Comment>()
            .set_by_name("blob", Value::Integer(1)),
        "blob",
        "INTEGER 1",
    );
    assert_eq!(sql.statement_count(), 0, "nothing reached the database");
    assert_eq!(block_on(db.find::<Post>("p1")).unwrap().unwrap().views, 1);
}

#[test]
fn set_json_takes_each_field_in_the_json_form_serde_gives_it() {
    let (db, _, _) = setup();
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    block_on(db.insert(&Post::new("p1", "u1", "t", 1))).unwrap();
    block_on(db.insert(&Comment::new(1, "p1", "c"))).unwrap();

    // A PUT body made of what a GET returned, changed.
    let mut expected = block_on(db.find::<Comment>(1)).unwrap().unwrap();
    expected.body = "new body".into();
    expected.flag = !expected.flag;
    expected.meta = Json(Meta {
        tags: vec!["x".into(), "\"y\"".into()],
        score: None,
    });
    expected.blob = vec![0, 1, 255];
    expected.maybe_blob = None;
    expected.big = -42;
    expected.ratio = 2.0;
    let body = serde_json::to_value(&expected).unwrap();
    let mut update = db.update_where::<Comment>().filter(Comment::ID.eq(1));
    for (name, value) in body.as_object().unwrap() {
        if name != "id" {
            update = update.set_json(name, value).unwrap();
        }
    }
    let updated = block_on(update.returning()).unwrap();
    assert_eq!(updated, [expected.clone()]);
    assert_eq!(
        block_on(db.find_fresh::<Comment>(1)).unwrap().unwrap(),
        expected
    );

    let refused = |column: &str, value: serde_json::Value| {
        let err = db
            .update_where::<Comment>()
            .set_json(column, &value)
            .unwrap_err();
        assert!(
            matches!(&err, Error::Encode { table, column: c, .. } if table == "comments" && c == column),
            "{column} = {value}: {err}"
        );
        err.to_string()
    };
    assert_eq!(
        refused("big", json!("7")),
        "cannot encode column `comments`.`big`: expected a JSON integer (or true/false), \
         found a JSON string \"7\""
    );
    refused("big", json!(1.5));
    refused("big", json!(u64::MAX));
    refused("flag", json!(2));
    refused("body", json!(7));
    refused("body", json!(null));
    refused("ratio", json!((1_u64 << 53) + 1));
    refused("blob", json!([1, 256]));
    refused("blob", json!("AQI="));
    refused("meta", json!({ "tags": 5 }));
    assert!(db
        .update_where::<Comment>()
        .set_json("maybe_blob", &json!([7]))
        .is_ok());
    assert!(db
        .update_where::<Comment>()
        .set_json("ratio", &json!(3))
        .is_ok());
    assert!(matches!(
        db.update_where::<Comment>().set_json("id", &json!(2)),
        Err(Error::InvalidQuery(_))
    ));
    assert!(matches!(
        db.update_where::<Comment>().set_json("post", &json!(null)),
        Err(Error::UnknownColumn { .. })
    ));
}
