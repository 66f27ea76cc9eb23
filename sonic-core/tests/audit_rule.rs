//! One rule for audit columns in every write path: Sonic stamps them from the clock and
//! refuses explicit values, unless the `Db` is `keeping_audit()`, which writes the values given
//! (the record's, or the `set` ones) and stamps nothing. Checked for insert, insert_many,
//! update, upsert, batches and every way `update_where` sets a column.

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
use sonic_db_core::{Audit, Db, Error, Value};

const GIVEN: Audit = Audit {
    created_on: 1_500_000_000_000,
    updated_on: 1_600_000_000_000,
};

fn at(created_on: i64, updated_on: i64) -> Audit {
    Audit {
        created_on,
        updated_on,
    }
}

fn with_audit(id: &str, audit: Audit) -> User {
    User {
        audit,
        ..User::new(id, &format!("{id}@x"))
    }
}

fn stored_audit(db: &Db, id: &str) -> Audit {
    block_on(db.find::<User>(id)).unwrap().unwrap().audit
}

/// Every explicit way of setting an audit column in an update of some columns.
fn explicit_sets(db: &Db) -> Vec<(&'static str, Result<u64, Error>)> {
    let filter = || User::ID.eq("u1");
    let by_name = |name: &str| {
        db.update_where::<User>()
            .set_by_name(name, Value::Integer(7))
            .map(|u| u.filter(filter()))
    };
    let by_json = |name: &str| {
        db.update_where::<User>()
            .set_json(name, &json!(7))
            .map(|u| u.filter(filter()))
    };
    let typed = [
        (
            "set created_on",
            db.update_where::<User>()
                .set(User::CREATED_ON, 7)
                .filter(filter()),
        ),
        (
            "set updated_on",
            db.update_where::<User>()
                .set(User::UPDATED_ON, 7)
                .filter(filter()),
        ),
        (
            "set_expr updated_on",
            db.update_where::<User>()
                .set_expr(User::UPDATED_ON, User::UPDATED_ON + 1)
                .filter(filter()),
        ),
    ];
    let mut out: Vec<(&'static str, Result<u64, Error>)> = typed
        .into_iter()
        .map(|(what, update)| (what, block_on(update.run())))
        .collect();
    for (what, update) in [
        ("set_by_name created_on", by_name("created_on")),
        ("set_by_name updated_on", by_name("updated_on")),
        ("set_json created_on", by_json("created_on")),
        ("set_json updated_on", by_json("updated_on")),
    ] {
        out.push((what, update.and_then(|u| block_on(u.run()))));
    }
    out
}

#[test]
fn the_clock_owns_audit_columns_and_explicit_values_are_refused_alike() {
    let (db, sql, clock) = setup();
    // Record values are not the clock's: insert and insert_many stamp both columns.
    let one = block_on(db.insert(&with_audit("u1", GIVEN))).unwrap();
    assert_eq!(one.audit, at(NOW, NOW));
    let many =
        block_on(db.insert_many(&[with_audit("u2", GIVEN), with_audit("u3", GIVEN)])).unwrap();
    assert!(many.iter().all(|u| u.audit == at(NOW, NOW)));

    // Update and upsert keep the stored created_on and stamp updated_on.
    clock.advance(10);
    let updated = block_on(db.update(&with_audit("u1", GIVEN))).unwrap();
    assert_eq!(updated.audit, at(NOW, NOW + 10));
    let upserted = block_on(db.upsert(&with_audit("u2", GIVEN))).unwrap();
    assert_eq!(upserted.audit, at(NOW, NOW + 10));

    // A batch follows the same rule.
    clock.advance(10);
    let mut unit = db.batch();
    let inserted = unit.insert(&with_audit("u4", GIVEN)).unwrap();
    let changed = unit.update(&with_audit("u3", GIVEN)).unwrap();
    let mut done = block_on(unit.run()).unwrap();
    assert_eq!(done.take(inserted).unwrap().audit, at(NOW + 20, NOW + 20));
    assert_eq!(
        done.take(changed).unwrap().unwrap().audit,
        at(NOW, NOW + 20)
    );

    // Typed, computed, by name or from JSON: the same refusal, before anything is sent.
    sql.reset();
    for (what, result) in explicit_sets(&db) {
        let err = result.expect_err(what);
        let message = err.to_string();
        assert!(matches!(err, Error::InvalidQuery(_)), "{what}: {message}");
        assert!(
            message.contains("is an audit column") && message.contains("keeping_audit"),
            "{what}: {message}"
        );
    }
    assert_eq!(sql.statement_count(), 0, "refused before sending");
    assert_eq!(stored_audit(&db, "u1"), at(NOW, NOW + 10));

    // Any other column set by update_where stamps updated_on.
    clock.advance(5);
    block_on(
        db.update_where::<User>()
            .set(User::ACTIVE, false)
            .filter(User::ID.eq("u1"))
            .run(),
    )
    .unwrap();
    assert_eq!(stored_audit(&db, "u1"), at(NOW, NOW + 25));
}

#[test]
fn keeping_audit_writes_the_values_given_in_every_path() {
    let (stamping, _, clock) = setup();
    let db = stamping.keeping_audit();
    assert!(db.keeps_audit() && !stamping.keeps_audit());

    let one = block_on(db.insert(&with_audit("u1", GIVEN))).unwrap();
    assert_eq!(one.audit, GIVEN);
    let other = at(1, 2);
    let many =
        block_on(db.insert_many(&[with_audit("u2", other), with_audit("u3", GIVEN)])).unwrap();
    assert_eq!((many[0].audit, many[1].audit), (other, GIVEN));

    // Update and upsert write both columns as given, created_on included.
    clock.advance(10);
    let moved = at(3, 4);
    assert_eq!(
        block_on(db.update(&with_audit("u1", moved))).unwrap().audit,
        moved
    );
    assert_eq!(
        block_on(db.upsert(&with_audit("u2", moved))).unwrap().audit,
        moved
    );
    assert_eq!(
        block_on(db.upsert(&with_audit("u9", moved))).unwrap().audit,
        moved,
        "an upsert that inserts"
    );

    let mut unit = db.batch();
    let pending = unit.insert(&with_audit("u4", GIVEN)).unwrap();
    assert_eq!(
        block_on(unit.run()).unwrap().take(pending).unwrap().audit,
        GIVEN
    );

    // Every explicit set is accepted; the last one run leaves 7 in both columns.
    for (what, result) in explicit_sets(&db) {
        assert_eq!(result.expect(what), 1, "{what}");
    }
    assert_eq!(stored_audit(&db, "u1"), at(7, 7));

    // Setting another column stamps nothing.
    block_on(
        db.update_where::<User>()
            .set(User::ACTIVE, false)
            .filter(User::ID.eq("u1"))
            .run(),
    )
    .unwrap();
    assert_eq!(stored_audit(&db, "u1"), at(7, 7));

    // The handle it came from still stamps.
    let stamped = block_on(stamping.update(&with_audit("u3", other))).unwrap();
    assert_eq!(stamped.audit, at(GIVEN.created_on, NOW + 10));
}
