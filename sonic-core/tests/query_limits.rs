//! The value limits of [`Capabilities`]: integers beyond the exact range, `LIKE` patterns and
//! TEXT/BLOB values and rows beyond the length limits are refused with `Error::Limit` naming
//! the table (and column), before anything is sent — on SQLite declaring D1's capabilities as
//! D1 itself would refuse them. Where SQLite has the same limit, its own verdict is the
//! reference.

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
use rusqlite::limits::Limit;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Capabilities, Db, Error, Filter, Json, Value, MAX_SAFE_INTEGER};

fn sample(id: i64, int: i64) -> Sample {
    Sample {
        id,
        text: format!("text {id}"),
        maybe_text: None,
        int,
        real: 0.5,
        blob: vec![1, 2, 3],
        flag: true,
        json: Json(vec![]),
    }
}

/// An `Error::Limit` whose message names `what` (e.g. "`samples`.`int`").
#[track_caller]
fn assert_limit<T: std::fmt::Debug>(result: sonic_db_core::Result<T>, what: &str) -> String {
    match result {
        Err(Error::Limit(message)) => {
            assert!(message.contains(what), "{message} does not name {what}");
            message
        }
        other => panic!("expected Error::Limit naming {what}, got {other:?}"),
    }
}

#[test]
fn integers_beyond_the_declared_exact_range_are_refused_naming_the_column() {
    let (db, sql, _) = setup_with(Capabilities::D1);
    let big = MAX_SAFE_INTEGER + 1;

    // The edges of the range go through exactly.
    let edges = [sample(1, MAX_SAFE_INTEGER), sample(2, -MAX_SAFE_INTEGER)];
    assert_eq!(block_on(db.insert_many(&edges)).unwrap(), edges);
    sql.reset();

    // Writes.
    let message = assert_limit(block_on(db.insert(&sample(3, big))), "`samples`.`int`");
    assert!(message.contains(&big.to_string()), "{message}");
    assert_limit(
        block_on(db.insert_many(&[sample(3, 0), sample(4, -big), sample(5, 0)])),
        "`samples`.`int`",
    );
    assert_limit(block_on(db.update(&sample(1, i64::MAX))), "`samples`.`int`");
    assert_limit(block_on(db.upsert(&sample(1, i64::MIN))), "`samples`.`int`");
    assert_limit(block_on(db.insert(&sample(big, 0))), "`samples`.`id`");
    assert_limit(
        block_on(
            db.update_where::<Sample>()
                .set(Sample::INT, big)
                .filter(Sample::ID.eq(1))
                .run(),
        ),
        "`samples`.`int`",
    );
    assert_limit(
        block_on(
            db.update_where::<Sample>()
                .set_by_name("int", Value::Integer(big))
                .unwrap()
                .filter(Sample::ID.eq(1))
                .run(),
        ),
        "`samples`.`int`",
    );

    // Operands, inline or in a list long enough to travel as JSON.
    let long_list: Vec<i64> = (0..150).chain([big]).collect();
    for filter in [
        Sample::INT.eq(big),
        Sample::INT.gt(-big),
        Sample::INT.between(0, big),
        Sample::INT.in_list([1, big]),
        Sample::INT.not_in_list(long_list),
        Sample::ID.eq(1) | !Sample::INT.lte(i64::MIN),
        Filter::<Sample>::parse("int", "$eq", "9007199254740992").unwrap(),
    ] {
        assert_limit(
            block_on(db.select::<Sample>().filter(filter).all()),
            "`samples`.`int`",
        );
    }
    assert_limit(block_on(db.find::<Sample>(big)), "`samples`.`id`");
    assert_limit(
        block_on(
            db.delete_where::<Sample>()
                .filter(Sample::INT.eq(big))
                .run(),
        ),
        "`samples`.`int`",
    );
    assert_limit(block_on(db.delete::<Sample>(big)), "parameter 1");
    assert_limit(block_on(db.sql("SELECT ?").bind(big).run()), "parameter 1");
    assert_eq!(sql.statement_count(), 0, "nothing reached the database");
    let stored = block_on(db.select::<Sample>().order_by(Sample::ID.asc()).all()).unwrap();
    assert_eq!(stored, edges, "nothing changed");

    // Counts beyond the range mean "no limit" / "past the end" and are clamped, not refused.
    // They are integer literals in the text (to i64::MAX), never bound, so D1's exact range of
    // bound integers does not apply to them.
    sql.reset();
    let all = block_on(db.select::<Sample>().limit(u64::MAX).all()).unwrap();
    assert_eq!(all.len(), 2);
    let none = block_on(db.select::<Sample>().offset(u64::MAX).all()).unwrap();
    assert!(none.is_empty());
    let statements = sql.statements();
    assert_eq!(statements.len(), 2);
    assert!(statements[0].sql.ends_with(" LIMIT 9223372036854775807"));
    assert!(statements[1]
        .sql
        .ends_with(" LIMIT -1 OFFSET 9223372036854775807"));
    assert!(statements.iter().all(|s| s.params.is_empty()));

    // SQLite's own capabilities store every i64 exactly.
    let (db, _, _) = setup_with(Capabilities::SQLITE);
    let extremes = [sample(1, i64::MAX), sample(2, i64::MIN), sample(big, big)];
    assert_eq!(block_on(db.insert_many(&extremes)).unwrap(), extremes);
    let found = block_on(db.select::<Sample>().filter(Sample::INT.eq(big)).one()).unwrap();
    assert_eq!(found.id, big);
}

/// A SQLite backend that declares SQLite's capabilities but runs with its own `limit` set to
/// `value`: what SQLite itself accepts.
fn sqlite_limited(limit: Limit, value: i32) -> Db {
    let sqlite = SqliteBackend::memory().unwrap();
    sqlite.exec(&schema().to_sql()).unwrap();
    sqlite
        .with_connection(|conn| conn.set_limit(limit, value))
        .unwrap();
    Db::new(sqlite)
}

#[test]
fn like_patterns_longer_than_the_backend_allows_are_refused() {
    let (db, sql, _) = setup_with(Capabilities::D1);
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    block_on(db.insert(&Post::new("p1", "u1", &"a".repeat(60), 1))).unwrap();
    sql.reset();

    let fifty = format!("{}%", "a".repeat(49));
    let fifty_one = format!("{}%", "a".repeat(50));
    let found = block_on(db.select::<Post>().filter(Post::TITLE.like(&fifty)).all()).unwrap();
    assert_eq!(found.len(), 1);
    for filter in [
        Post::TITLE.like(&fifty_one),
        Post::TITLE.not_like(&fifty_one),
        // Bytes, not characters: 26 × "é" is 52 bytes.
        Post::TITLE.like("é".repeat(26)),
        Filter::<Post>::parse("title", "$nlike", &fifty_one).unwrap(),
        Post::ID.eq("p1") & Post::TITLE.like(&fifty_one),
    ] {
        let message = assert_limit(
            block_on(db.select::<Post>().filter(filter).count()),
            "`posts`.`title`",
        );
        assert!(
            message.contains("LIKE pattern") && message.contains("50"),
            "{message}"
        );
    }
    assert_limit(
        block_on(
            db.update_where::<Post>()
                .set(Post::VIEWS, 2)
                .filter(Post::TITLE.like(&fifty_one))
                .run(),
        ),
        "`posts`.`title`",
    );
    assert_eq!(sql.statement_count(), 1, "only the first select was sent");

    // SQLite with the same limit refuses exactly the same patterns.
    let sqlite = sqlite_limited(Limit::SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 50);
    let like = |pattern: &str| block_on(sqlite.sql("SELECT 'a' LIKE ?").bind(pattern).run());
    assert!(like(&fifty).is_ok());
    let err = like(&fifty_one).unwrap_err();
    assert!(
        err.to_string().contains("LIKE or GLOB pattern too complex"),
        "{err}"
    );
    assert!(like(&"é".repeat(26)).is_err());

    // SQLite's default limit is 50,000 bytes.
    let (db, _, _) = setup();
    assert!(block_on(
        db.select::<Post>()
            .filter(Post::TITLE.like(&fifty_one))
            .all()
    )
    .is_ok());
}

#[test]
fn values_and_rows_beyond_the_length_limit_are_refused_as_sqlite_would() {
    const LIMIT: usize = 1_000;
    let capabilities = Capabilities {
        max_value_bytes: LIMIT,
        ..Capabilities::SQLITE
    };
    let (db, sql, _) = setup_with(capabilities);
    let reference = sqlite_limited(Limit::SQLITE_LIMIT_LENGTH, LIMIT as i32);
    for db in [&db, &reference] {
        block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    }

    // Rows: Sonic's verdict is SQLite's, byte for byte, around the limit.
    let mut accepted = 0;
    for len in 900..=LIMIT + 1 {
        let post = Post::new(&format!("p{len}"), "u1", &"t".repeat(len), len as i64);
        let sonic = block_on(db.insert(&post));
        let sqlite = block_on(reference.insert(&post));
        assert_eq!(
            sonic.is_ok(),
            sqlite.is_ok(),
            "title of {len} bytes: {sonic:?} / {sqlite:?}"
        );
        match sonic {
            Ok(_) => accepted += 1,
            Err(err) => {
                // The title alone is too long at LIMIT + 1 bytes; before that the row is.
                let what = if len > LIMIT {
                    "`posts`.`title`"
                } else {
                    "a `posts` row"
                };
                let message = assert_limit(Err::<(), _>(err), what);
                assert!(message.contains(&LIMIT.to_string()), "{message}");
                let sqlite = sqlite.unwrap_err().to_string();
                assert!(sqlite.contains("too big"), "{sqlite}");
            }
        }
    }
    assert!(
        (1..100).contains(&accepted),
        "the boundary lies in the range: {accepted}"
    );

    // Single values, named by column wherever they belong to one.
    sql.reset();
    let long = "x".repeat(LIMIT + 1);
    assert_limit(
        block_on(
            db.update_where::<Post>()
                .set(Post::TITLE, long.clone())
                .filter(Post::ID.eq("p900"))
                .run(),
        ),
        "`posts`.`title`",
    );
    assert_limit(
        block_on(
            db.select::<Post>()
                .filter(Post::TITLE.eq(long.clone()))
                .all(),
        ),
        "`posts`.`title`",
    );
    assert_limit(
        block_on(
            db.select::<Post>()
                .filter(Post::TITLE.in_list([long.clone()]))
                .all(),
        ),
        "`posts`.`title`",
    );
    let message = assert_limit(
        block_on(db.sql("SELECT ?").bind(long.as_str()).run()),
        "parameter 1",
    );
    assert!(
        message.contains(&format!("TEXT of {} bytes", LIMIT + 1)),
        "{message}"
    );
    assert_limit(
        block_on(db.sql("SELECT ?").bind(vec![0_u8; LIMIT + 1]).run()),
        "BLOB",
    );
    assert_eq!(sql.statement_count(), 0, "nothing reached the database");
    // SQLite agrees about single values.
    assert!(block_on(
        reference
            .sql("SELECT ?")
            .bind("x".repeat(LIMIT).as_str())
            .run()
    )
    .is_ok());
    assert!(block_on(reference.sql("SELECT ?").bind(long.as_str()).run()).is_err());

    // An IN list too long for the parameter limit travels as one JSON text: checked too.
    let (db, _, _) = setup_with(Capabilities {
        max_params: 10,
        max_value_bytes: LIMIT,
        ..Capabilities::SQLITE
    });
    let ids: Vec<String> = (0..200).map(|i| format!("post {i}")).collect();
    assert_limit(
        block_on(db.select::<Post>().filter(Post::ID.in_list(ids)).all()),
        "parameter 1: a TEXT of",
    );
}

#[test]
fn d1_takes_values_up_to_two_million_bytes() {
    let (db, sql, _) = setup_with(Capabilities::D1);
    block_on(db.insert(&User::new("u1", "a@x"))).unwrap();
    let near = "n".repeat(1_999_900);
    let stored = block_on(db.insert(&Post::new("p1", "u1", &near, 1))).unwrap();
    assert_eq!(stored.title.len(), near.len());
    sql.reset();

    assert_limit(
        block_on(db.insert(&Post::new("p2", "u1", &"n".repeat(2_000_001), 1))),
        "`posts`.`title`",
    );
    // Each value fits, the row does not.
    let mut row = sample(1, 0);
    row.text = "t".repeat(1_500_000);
    row.blob = vec![7; 600_000];
    let message = assert_limit(block_on(db.insert(&row)), "a `samples` row");
    assert!(message.contains("2000000"), "{message}");
    assert_eq!(sql.statement_count(), 0);
}
