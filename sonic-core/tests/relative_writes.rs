//! Updates relative to the current value (`set_expr`) and compare-and-set (`Db::update_if`).

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

fn seeded() -> sonic_db_core::Db {
    let (db, _, _) = setup();
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    block_on(db.insert(&Post::new("p1", "u1", "one", 10))).unwrap();
    block_on(db.insert(&Post::new("p2", "u1", "two", 20))).unwrap();
    db
}

#[test]
fn set_expr_computes_from_each_rows_current_value_in_one_statement() {
    let db = seeded();
    let updated = block_on(
        db.update_where::<Post>()
            .set_expr(Post::VIEWS, Post::VIEWS * 2 + 1)
            .all_rows()
            .returning(),
    )
    .unwrap();
    let mut views: Vec<(String, i64)> = updated.into_iter().map(|p| (p.id, p.views)).collect();
    views.sort();
    assert_eq!(views, [("p1".to_string(), 21), ("p2".to_string(), 41)]);

    let updated = block_on(
        db.update_where::<Post>()
            .set_expr(Post::VIEWS, Post::VIEWS - 1)
            .filter(Post::ID.eq("p1"))
            .returning(),
    )
    .unwrap();
    assert_eq!(updated[0].views, 20);
}

#[test]
fn coalesce_fills_only_nulls() {
    let db = seeded();
    block_on(db.insert(&User {
        name: None,
        ..User::new("u2", "b@x")
    }))
    .unwrap();
    block_on(
        db.update_where::<User>()
            .set_expr(User::NAME, User::NAME.coalesce("anonymous"))
            .all_rows()
            .run(),
    )
    .unwrap();
    let names: Vec<Option<String>> = block_on(db.select::<User>().order_by(User::ID.asc()).all())
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, [Some("name of u1".into()), Some("anonymous".into())]);
}

/// Operands beyond ±(2^53 − 1) are exact under D1's capabilities too (#12 item 3): bound as
/// text under a cast on D1, and the result read back as text.
#[test]
fn operands_beyond_2_53_are_exact_on_d1_capabilities() {
    let (db, sql, _) = setup_with(Capabilities::D1);
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    block_on(db.insert(&Post::new("p1", "u1", "v1", 5))).unwrap();
    sql.reset();
    let changed = block_on(
        db.update_where::<Post>()
            .set_expr(Post::VIEWS, Post::VIEWS + (1_i64 << 60))
            .all_rows()
            .run(),
    )
    .unwrap();
    assert_eq!(changed, 1);
    assert_eq!(sql.round_trips(), 1);
    let post = block_on(db.find_fresh::<Post>("p1")).unwrap().unwrap();
    assert_eq!(post.views, (1_i64 << 60) + 5);
}

#[test]
fn update_if_writes_only_when_the_stored_row_matches() {
    let (db, _, clock) = setup();
    let kv = MemoryKv::new();
    let db = db.with_kv(kv.clone(), CacheConfig::new()).unwrap();
    let stored = block_on(db.insert(&Post::new("p1", "u1", "v1", 1))).unwrap_err();
    assert!(matches!(stored, Error::ForeignKeyViolation { .. }));
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    let read = block_on(db.insert(&Post::new("p1", "u1", "v1", 1))).unwrap();
    clock.advance(1_000);

    // Compare-and-set on updated_on, as an API's If-Match would.
    let edit = Post::new("p1", "u1", "v2", 1);
    let applied = block_on(db.update_if(&edit, Post::UPDATED_ON.eq(read.audit.updated_on)))
        .unwrap()
        .expect("the row matched");
    assert_eq!(applied.title, "v2");
    let stale = Post::new("p1", "u1", "lost", 1);
    let refused =
        block_on(db.update_if(&stale, Post::UPDATED_ON.eq(read.audit.updated_on))).unwrap();
    assert_eq!(refused, None, "the row changed since it was read");
    assert_eq!(
        block_on(db.update_if(&Post::new("p9", "u1", "x", 0), Post::VIEWS.eq(0))).unwrap(),
        None,
        "no such record"
    );

    // The applied update invalidated p1: read from SQL once, then from KV.
    for source in [Source::D1, Source::Kv] {
        let found = block_on(db.find_with_source::<Post>("p1"))
            .unwrap()
            .unwrap();
        assert_eq!((found.record.title.as_str(), found.source), ("v2", source));
    }
}
