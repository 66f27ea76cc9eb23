//! Platform limits handled for the user, on a SQLite backend that declares D1's limits:
//! multi-row inserts split under 100 parameters yet atomic, long `IN` lists sent as one JSON
//! parameter, and statements that cannot fit refused before they reach the database.

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
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Capabilities, Db, Error, Json};

fn limited() -> Capabilities {
    Capabilities {
        max_params: 100,
        ..Capabilities::SQLITE
    }
}

fn sample(id: i64) -> Sample {
    Sample {
        id,
        text: format!("text {id}"),
        maybe_text: (id % 2 == 0).then(|| format!("maybe {id}")),
        int: id * 1_000,
        real: id as f64 / 7.0,
        blob: id.to_le_bytes().to_vec(),
        flag: id % 3 == 0,
        json: Json(vec![id.to_string()]),
    }
}

#[test]
fn a_thousand_rows_insert_in_chunks_of_at_most_100_parameters() {
    let (db, sql, _) = setup_with(limited());
    let samples: Vec<Sample> = (0..1_000).map(sample).collect();
    let stored = block_on(db.insert_many(&samples)).unwrap();
    assert_eq!(stored, samples, "every row back, in order");

    let statements = sql.statements();
    assert_eq!(sql.round_trips(), 1, "one atomic batch");
    // 8 columns: 12 rows (96 parameters) per statement.
    assert_eq!(statements.len(), 1_000usize.div_ceil(12));
    assert!(statements
        .iter()
        .all(|s| s.batched && s.params.len() <= 100));
    assert_eq!(sql.max_params(), 96);
    assert_eq!(
        statements.iter().map(|s| s.params.len()).sum::<usize>(),
        8 * 1_000
    );
    assert_eq!(block_on(db.select::<Sample>().count()).unwrap(), 1_000);
}

#[test]
fn a_failure_in_the_last_chunk_leaves_no_row_behind() {
    let (db, sql, _) = setup_with(limited());
    let mut samples: Vec<Sample> = (0..1_000).map(sample).collect();
    samples.push(sample(0)); // duplicate primary key in the very last row
    let err = block_on(db.insert_many(&samples)).unwrap_err();
    assert!(
        matches!(&err, Error::UniqueViolation { message } if message.contains("samples.id")),
        "{err}"
    );
    assert!(
        sql.statement_count() > 80,
        "the failure came after many chunks ran"
    );
    assert_eq!(block_on(db.select::<Sample>().count()).unwrap(), 0);
}

#[test]
fn long_in_lists_travel_as_one_json_parameter() {
    let (db, sql, _) = setup_with(limited());
    block_on(db.insert_many(&(0..300).map(sample).collect::<Vec<_>>())).unwrap();
    sql.reset();

    let wanted: Vec<i64> = (0..300).filter(|i| i % 2 == 1).collect();
    let found = block_on(
        db.select::<Sample>()
            .filter(Sample::ID.in_list(wanted.iter().copied()) & Sample::FLAG.eq(true))
            .order_by(Sample::ID.asc())
            .all(),
    )
    .unwrap();
    let expected: Vec<i64> = wanted.iter().copied().filter(|i| i % 3 == 0).collect();
    assert_eq!(found.iter().map(|s| s.id).collect::<Vec<_>>(), expected);
    let statement = &sql.statements()[0];
    assert!(statement
        .sql
        .contains("IN (SELECT value FROM json_each(?))"));
    assert_eq!(statement.params.len(), 2);

    // Text and real values keep their exact meaning through JSON too.
    let texts: Vec<String> = (0..150).map(|i| format!("text {i}")).collect();
    assert_eq!(
        block_on(
            db.select::<Sample>()
                .filter(Sample::TEXT.in_list(texts.clone()))
                .count()
        )
        .unwrap(),
        150
    );
    assert_eq!(
        block_on(
            db.select::<Sample>()
                .filter(Sample::TEXT.not_in_list(texts))
                .count()
        )
        .unwrap(),
        150
    );
    let reals: Vec<f64> = (0..150).map(|i| i as f64 / 7.0).collect();
    assert_eq!(
        block_on(
            db.select::<Sample>()
                .filter(Sample::REAL.in_list(reals))
                .count()
        )
        .unwrap(),
        150
    );
    // Short lists stay inline.
    sql.reset();
    block_on(
        db.select::<Sample>()
            .filter(Sample::ID.in_list([1, 2, 3]))
            .all(),
    )
    .unwrap();
    assert!(sql.statements()[0].sql.contains("IN (?, ?, ?)"));

    // Filtered writes by long id lists.
    let ids: Vec<i64> = (0..200).collect();
    let updated = block_on(
        db.update_where::<Sample>()
            .set(Sample::TEXT, "bulk")
            .filter(Sample::ID.in_list(ids.clone()))
            .run(),
    )
    .unwrap();
    assert_eq!(updated, 200);
    let deleted = block_on(
        db.delete_where::<Sample>()
            .filter(Sample::ID.in_list(ids))
            .returning(),
    )
    .unwrap();
    assert_eq!(deleted.len(), 200);
    assert!(deleted.iter().all(|s| s.text == "bulk"));
    assert_eq!(block_on(db.select::<Sample>().count()).unwrap(), 100);
    assert!(sql.max_params() <= 100);
}

#[test]
fn what_cannot_fit_is_refused_before_reaching_the_database() {
    let (db, sql1, _) = setup_with(limited());
    let blobs: Vec<Vec<u8>> = (0..150u8).map(|i| vec![i]).collect();
    let err = block_on(
        db.select::<Sample>()
            .filter(Sample::BLOB.in_list(blobs))
            .all(),
    )
    .unwrap_err();
    match &err {
        Error::Limit(message) => {
            assert!(message.contains("`samples`.`blob`"), "{message}");
            assert!(message.contains("150 values"), "{message}");
            assert!(message.contains("100"), "{message}");
        }
        other => panic!("expected a limit error, got {other:?}"),
    }

    let (db, sql, _) = setup_with(Capabilities {
        max_sql_len: 120,
        ..Capabilities::SQLITE
    });
    let err = block_on(
        db.select::<Sample>()
            .filter(Sample::TEXT.eq("x") & Sample::INT.gt(1) & Sample::REAL.lt(2.0))
            .all(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Limit(m) if m.contains("bytes")),
        "{err}"
    );
    let err = block_on(db.sql(format!("SELECT '{}'", "x".repeat(200))).run()).unwrap_err();
    assert!(matches!(err, Error::Limit(_)), "{err}");

    // The statements Sonic memoizes per table (a find by key, a plain select) are checked
    // when they are built, not again when in-process SQLite runs them (`execute_rows_now`,
    // which the counting wrapper does not offer): the check must still refuse them.
    let sqlite = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(Capabilities {
            max_sql_len: 20,
            ..Capabilities::SQLITE
        });
    sqlite.exec(&schema().to_sql()).unwrap();
    let db = Db::new(sqlite);
    let find = block_on(db.find::<Sample>(1)).unwrap_err();
    let plain = block_on(db.select::<Sample>().all()).unwrap_err();
    let first = block_on(db.select::<Sample>().first()).unwrap_err();
    // A filtered select's text is memoized by its shape for every backend: written (and
    // accepted) by a backend without the small limit first, it is still refused here.
    let roomy = SqliteBackend::memory().unwrap();
    roomy.exec(&schema().to_sql()).unwrap();
    let roomy = Db::new(roomy);
    let filtered = || Sample::INT.gt(1) & Sample::TEXT.eq("shaped");
    block_on(roomy.select::<Sample>().filter(filtered()).all()).unwrap();
    let shaped = block_on(db.select::<Sample>().filter(filtered()).all()).unwrap_err();
    for err in [find, plain, first, shaped] {
        assert!(
            matches!(&err, Error::Limit(m) if m.contains("bytes")),
            "{err}"
        );
    }

    let (db, sql2, _) = setup_with(Capabilities {
        max_params: 5,
        ..Capabilities::SQLITE
    });
    let err = block_on(db.insert(&sample(1))).unwrap_err();
    assert!(
        matches!(&err, Error::Limit(m) if m.contains("8 parameters")),
        "{err}"
    );
    let err = block_on(
        db.sql("SELECT ?, ?, ?, ?, ?, ?")
            .bind(1)
            .bind(2)
            .bind(3)
            .bind(4)
            .bind(5)
            .bind(6)
            .run(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Limit(_)), "{err}");

    let (db, sql3, _) = setup_with(Capabilities {
        max_params: 100,
        max_batch_statements: 3,
        ..Capabilities::SQLITE
    });
    let err = block_on(db.insert_many(&(0..100).map(sample).collect::<Vec<_>>())).unwrap_err();
    assert!(
        matches!(&err, Error::Limit(m) if m.contains("batch")),
        "{err}"
    );

    for counter in [sql1, sql, sql2, sql3] {
        assert_eq!(counter.statement_count(), 0, "nothing was sent");
    }
}
