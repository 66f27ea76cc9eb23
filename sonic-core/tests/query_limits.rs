//! The value limits of [`Capabilities`]: `LIKE` patterns and TEXT/BLOB values and rows beyond
//! the length limits are refused with `Error::Limit` naming the table (and column), before
//! anything is sent — on SQLite declaring D1's capabilities as D1 itself would refuse them.
//! Where SQLite has the same limit, its own verdict is the reference. Integers beyond D1's
//! exact range of numbers are not a limit: they round-trip exactly (#12 item 3).

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

/// The integers at the edges of what a JavaScript number holds exactly, and beyond.
fn edge_integers() -> [i64; 8] {
    let max = MAX_SAFE_INTEGER;
    [
        max,
        -max,
        max + 1,
        -max - 1,
        max + 2,
        -max - 2,
        i64::MAX,
        i64::MIN,
    ]
}

#[test]
fn integers_beyond_2_53_round_trip_exactly_under_d1_capabilities() {
    // #12 item 3: D1's capabilities no longer refuse them; records are selected with their
    // INTEGER columns as numbers within ±(2^53 − 1) and as text (`CAST(col AS TEXT)`) beyond,
    // and read back by the column type.
    let (db, sql, _) = setup_with(Capabilities::D1);
    let ints = edge_integers();
    let rows: Vec<Sample> = ints.iter().map(|&i| sample(i, i)).collect();
    assert_eq!(block_on(db.insert_many(&rows)).unwrap(), rows);
    let inserts = sql.statements();
    let exact = |column: &str| {
        format!(
            r#"CASE WHEN "{column}" BETWEEN -9007199254740991 AND 9007199254740991 THEN "{column}" ELSE CAST("{column}" AS TEXT) END"#
        )
    };
    assert!(
        inserts[0]
            .sql
            .contains(&format!("RETURNING {}", exact("id"))),
        "{}",
        inserts[0].sql
    );
    sql.reset();

    for &i in &ints {
        assert_eq!(block_on(db.find::<Sample>(i)).unwrap(), Some(sample(i, i)));
        let by_filter = block_on(db.select::<Sample>().filter(Sample::INT.eq(i)).all());
        assert_eq!(by_filter.unwrap(), [sample(i, i)], "{i}");
    }
    let find = sql.statements()[0].sql.clone();
    assert!(find.contains(&exact("int")), "{find}");
    assert!(find.contains(&exact("flag")), "{find}");
    assert!(!find.contains(r#"CAST("text""#), "{find}");
    // What crosses JavaScript: a number where a double holds the integer, its text beyond.
    for &i in &ints {
        let cells = block_on(db.sql(find.as_str()).bind(i).result())
            .unwrap()
            .values;
        let expected = if i.unsigned_abs() <= MAX_SAFE_INTEGER.unsigned_abs() {
            Value::Integer(i)
        } else {
            Value::Text(i.to_string())
        };
        assert_eq!(cells[0], expected, "the key {i}");
        assert_eq!(cells[3], expected, "the column int = {i}");
        assert_eq!(cells[6], Value::Integer(1), "the flag of {i}");
    }

    let big = MAX_SAFE_INTEGER + 1;
    let ids = |filter: Filter<Sample>| {
        let mut found: Vec<i64> = block_on(db.select::<Sample>().filter(filter).all())
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect();
        found.sort_unstable();
        found
    };
    assert_eq!(ids(Sample::INT.gt(big)), [big + 1, i64::MAX]);
    assert_eq!(
        ids(Sample::INT.between(-big, big)),
        [-big, -big + 1, big - 1, big]
    );
    assert_eq!(
        ids(Sample::INT.in_list([big, i64::MIN, 5])),
        [i64::MIN, big]
    );
    // A list long enough to travel as JSON (`json_each`), exact as well.
    let long_list: Vec<i64> = (0..150).chain([big + 1, -big - 1]).collect();
    assert_eq!(ids(Sample::INT.in_list(long_list)), [-big - 1, big + 1]);
    assert_eq!(
        ids(Filter::<Sample>::parse("int", "$eq", "9007199254740993").unwrap()),
        [big + 1]
    );
    let ordered: Vec<i64> = block_on(db.select::<Sample>().order_by(Sample::INT.asc()).all())
        .unwrap()
        .into_iter()
        .map(|s| s.int)
        .collect();
    let mut sorted = ints.to_vec();
    sorted.sort_unstable();
    assert_eq!(ordered, sorted, "ordered as integers, not as their text");

    // Writes by a big key, and of big values.
    assert_eq!(
        block_on(db.update(&sample(big, i64::MIN))).unwrap(),
        sample(big, i64::MIN)
    );
    assert_eq!(
        block_on(db.upsert(&sample(i64::MAX, big + 1))).unwrap(),
        sample(i64::MAX, big + 1)
    );
    let changed = block_on(
        db.update_where::<Sample>()
            .set(Sample::INT, i64::MAX)
            .filter(Sample::ID.eq(i64::MIN))
            .run(),
    )
    .unwrap();
    assert_eq!(changed, 1);
    assert_eq!(
        block_on(db.find::<Sample>(i64::MIN))
            .unwrap()
            .map(|s| s.int),
        Some(i64::MAX)
    );
    let deleted = block_on(
        db.delete_where::<Sample>()
            .filter(Sample::ID.eq(-big - 1))
            .returning(),
    )
    .unwrap();
    assert_eq!(deleted, [sample(-big - 1, -big - 1)]);
    assert!(block_on(db.delete::<Sample>(big + 1)).unwrap());
    assert_eq!(block_on(db.find::<Sample>(big + 1)).unwrap(), None);

    // Projections: INTEGER columns selected as text, read back exactly.
    let records = block_on(db.select::<Sample>().order_by(Sample::ID.asc()).all()).unwrap();
    let pairs: Vec<(i64, i64)> = block_on(
        db.select::<Sample>()
            .columns((Sample::ID, Sample::INT))
            .order_by(Sample::ID.asc())
            .all(),
    )
    .unwrap();
    let expected: Vec<(i64, i64)> = records.iter().map(|s| (s.id, s.int)).collect();
    assert_eq!(pairs, expected);

    // Raw SQL binds every i64 exactly.
    let raw = block_on(db.sql("SELECT ? AS n").bind(i64::MIN).all_json()).unwrap();
    assert_eq!(raw[0]["n"], i64::MIN);

    // Counts beyond the range mean "no limit" / "past the end" and are clamped. They are
    // integer literals in the text (to i64::MAX), never bound.
    sql.reset();
    let all = block_on(db.select::<Sample>().limit(u64::MAX).all()).unwrap();
    assert_eq!(all.len(), 6);
    let none = block_on(db.select::<Sample>().offset(u64::MAX).all()).unwrap();
    assert!(none.is_empty());
    let statements = sql.statements();
    assert_eq!(statements.len(), 2);
    assert!(statements[0].sql.ends_with(" LIMIT 9223372036854775807"));
    assert!(statements[1]
        .sql
        .ends_with(" LIMIT -1 OFFSET 9223372036854775807"));
    assert!(statements.iter().all(|s| s.params.is_empty()));

    // SQLite's own capabilities store every i64 exactly, and its SQL selects columns as is.
    let (db, sql, _) = setup_with(Capabilities::SQLITE);
    let extremes = [sample(1, i64::MAX), sample(2, i64::MIN), sample(big, big)];
    assert_eq!(block_on(db.insert_many(&extremes)).unwrap(), extremes);
    let found = block_on(db.select::<Sample>().filter(Sample::INT.eq(big)).one()).unwrap();
    assert_eq!(found.id, big);
    assert!(sql.statements().iter().all(|s| !s.sql.contains("CAST")));
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
    // A key, found by it or fresh; a key at the limit is read.
    assert_limit(block_on(db.find::<Post>(long.as_str())), "`posts`.`id`");
    assert_limit(
        block_on(db.find_fresh::<Post>(long.as_str())),
        "`posts`.`id`",
    );
    assert_eq!(sql.statement_count(), 0, "nothing reached the database");
    let at_limit = "x".repeat(LIMIT);
    assert_eq!(block_on(db.find::<Post>(at_limit.as_str())).unwrap(), None);
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
