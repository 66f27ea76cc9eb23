//! Atomic units (`Db::batch`): one round trip, all or nothing, typed results in order, KV
//! invalidated only after the unit commits.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod query_support;

use query_support::{block_on, setup, setup_with, Post, User};
use sonic_db_core::kv::MemoryKv;
use sonic_db_core::{CacheConfig, Capabilities, Error, Source};

#[test]
fn a_unit_is_one_round_trip_with_typed_results_in_order() {
    let (db, sql, _) = setup();
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    sql.reset();

    let mut unit = db.batch();
    let renamed = unit
        .update(&User {
            name: Some("Ada".into()),
            ..User::new("u1", "a@x")
        })
        .unwrap();
    let missing = unit.update(&User::new("nobody", "n@x")).unwrap();
    let posts = unit
        .insert_many(&[
            Post::new("p1", "u1", "one", 1),
            Post::new("p2", "u1", "two", 2),
        ])
        .unwrap();
    let upserted = unit.upsert(&User::new("u2", "b@x")).unwrap();
    let gone = unit.delete::<Post>("p1").unwrap();
    let absent = unit.delete::<Post>("p9").unwrap();
    let seen = unit.select(db.select::<Post>()).unwrap();
    let mut results = block_on(unit.run()).unwrap();
    assert_eq!(sql.round_trips(), 1, "one batch");

    assert_eq!(
        results.take(renamed).unwrap().unwrap().name.as_deref(),
        Some("Ada")
    );
    assert_eq!(
        results.take(missing).unwrap(),
        None,
        "an update of nothing yields None"
    );
    let posts = results.take(posts).unwrap();
    assert_eq!(
        posts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["p1", "p2"]
    );
    assert_eq!(results.take(upserted).unwrap().id, "u2");
    assert!(results.take(gone).unwrap());
    assert!(!results.take(absent).unwrap());
    let seen = results.take(seen).unwrap();
    assert_eq!(
        seen.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        ["p2"],
        "the select sees the writes before it"
    );
    assert!(matches!(
        results.take(seen_again()),
        Err(Error::InvalidQuery(_))
    ));
}

/// A handle of another batch (index 99).
fn seen_again() -> sonic_db_core::Pending<Vec<Post>> {
    let (db, _, _) = setup();
    let mut other = db.batch();
    for _ in 0..99 {
        let _ = other.select(db.select::<Post>()).unwrap();
    }
    other.select(db.select::<Post>()).unwrap()
}

#[test]
fn a_failing_statement_applies_nothing_and_touches_no_kv() {
    let (db, _, _) = setup();
    let kv = MemoryKv::new();
    let db = db.with_kv(kv.clone(), CacheConfig::new()).unwrap();
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    block_on(db.find::<User>("u1")).unwrap(); // filled
    let cached = kv.keys();

    let mut unit = db.batch();
    unit.update(&User {
        name: Some("changed".into()),
        ..User::new("u1", "a@x")
    })
    .unwrap();
    unit.insert(&Post::new("p1", "u1", "kept?", 0)).unwrap();
    unit.insert(&User::new("u2", "a@x")).unwrap(); // duplicate email
    let err = block_on(unit.run()).unwrap_err();
    assert!(matches!(err, Error::UniqueViolation { .. }), "{err}");

    assert_eq!(block_on(db.select::<Post>().count()).unwrap(), 0);
    let user = block_on(db.find_fresh::<User>("u1")).unwrap().unwrap();
    assert_eq!(
        user.name.as_deref(),
        Some("name of u1"),
        "the update rolled back"
    );
    assert_eq!(kv.keys(), cached, "KV untouched");
    let found = block_on(db.find_with_source::<User>("u1"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.record.name.as_deref(), found.source),
        (Some("name of u1"), Source::Kv)
    );
}

#[test]
fn kv_is_invalidated_after_the_unit_commits() {
    let (db, _, _) = setup();
    let kv = MemoryKv::new();
    let db = db
        .with_schema(&query_support::schema())
        .with_kv(kv.clone(), CacheConfig::new())
        .unwrap();
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    block_on(db.insert(&Post::new("p1", "u1", "old", 0))).unwrap();
    block_on(db.find::<Post>("p1")).unwrap(); // filled with "old"

    let mut unit = db.batch();
    unit.update(&Post::new("p1", "u1", "new", 1)).unwrap();
    unit.insert(&Post::new("p2", "u1", "two", 2)).unwrap();
    block_on(unit.run()).unwrap();
    assert!(
        kv.peek("sonic:posts:p2").is_none(),
        "an insert writes nothing to KV"
    );
    for (id, title) in [("p1", "new"), ("p2", "two")] {
        let found = block_on(db.find_with_source::<Post>(id)).unwrap().unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            (title, Source::D1)
        );
        let found = block_on(db.find_with_source::<Post>(id)).unwrap().unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            (title, Source::Kv)
        );
    }

    // A delete in a unit follows the cascade in KV, as Db::delete does.
    let mut unit = db.batch();
    unit.delete::<User>("u1").unwrap();
    block_on(unit.run()).unwrap();
    assert_eq!(block_on(db.find::<Post>("p1")).unwrap(), None);
    assert_eq!(block_on(db.find::<Post>("p2")).unwrap(), None);
}

#[test]
fn chunks_under_the_parameter_limit_stay_inside_the_unit() {
    let (db, sql, _) = setup_with(Capabilities::D1);
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    let posts: Vec<Post> = (0..60)
        .map(|i| Post::new(&format!("p{i:02}"), "u1", "t", i))
        .collect();
    sql.reset();
    let mut unit = db.batch();
    let _ = unit.insert_many(&posts).unwrap();
    let _ = unit
        .insert(&Post::new("p00", "u1", "duplicate", 0))
        .unwrap();
    assert!(matches!(
        block_on(unit.run()),
        Err(Error::UniqueViolation { .. })
    ));
    assert_eq!(sql.round_trips(), 1);
    assert!(sql.statement_count() > 2, "the insert was chunked");
    assert!(sql.max_params() <= 100);
    assert_eq!(
        block_on(db.select::<Post>().count()).unwrap(),
        0,
        "no chunk stayed"
    );

    let mut unit = db.batch();
    let again = unit.insert_many(&posts).unwrap();
    let mut results = block_on(unit.run()).unwrap();
    assert_eq!(results.take(again).unwrap().len(), 60);
}

#[test]
fn bad_input_fails_before_anything_is_sent() {
    let (db, sql, _) = setup_with(Capabilities::D1);
    sql.reset();
    let mut unit = db.batch();
    let err = unit
        .insert(&Post::new("p1", "u1", &"x".repeat(2_000_001), 0))
        .unwrap_err();
    assert!(matches!(err, Error::Limit(_)), "{err}");
    let err = unit
        .select(db.select::<User>().with(User::POSTS))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
    assert_eq!(sql.round_trips(), 0);
}
