//! Projections and aggregates: chosen columns and aggregates into typed tuples, `group_by`,
//! `having`, `distinct`, with the select's filter, order and paging.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod query_support;

use query_support::{block_on, setup, setup_with, Comment, Post, User};
use sonic_db_core::query::{count, not};
use sonic_db_core::{Capabilities, Error, Value};

fn seeded(
    capabilities: Capabilities,
) -> (
    sonic_db_core::Db,
    sonic_db_core::testing::sql::CountingSql<sonic_db_core::sqlite::SqliteBackend>,
) {
    let (db, sql, _) = setup_with(capabilities);
    block_on(db.insert_many(&[
        User::new("u1", "a@x"),
        User::new("u2", "b@x"),
        User::new("u3", "c@x"),
    ]))
    .unwrap();
    block_on(db.insert_many(&[
        Post::new("p1", "u1", "one", 10),
        Post::new("p2", "u1", "two", 20),
        Post::new("p3", "u1", "two", 5),
        Post::new("p4", "u2", "four", 7),
    ]))
    .unwrap();
    sql.reset();
    (db, sql)
}

/// user, posts, sum, avg, min and max of views, distinct titles.
type AuthorRow = (
    String,
    u64,
    Option<i64>,
    Option<f64>,
    Option<i64>,
    Option<i64>,
    u64,
);

#[test]
fn aggregates_per_group_are_typed_and_come_in_one_statement() {
    let (db, sql) = seeded(Capabilities::SQLITE);
    let rows: Vec<AuthorRow> = block_on(
        db.select::<Post>()
            .columns((
                Post::USER_ID,
                count(),
                Post::VIEWS.sum(),
                Post::VIEWS.avg(),
                Post::VIEWS.min(),
                Post::VIEWS.max(),
                Post::TITLE.count_distinct(),
            ))
            .group_by(Post::USER_ID)
            .order_by(Post::USER_ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(
        rows,
        [
            (
                "u1".to_string(),
                3,
                Some(35),
                Some(35.0 / 3.0),
                Some(5),
                Some(20),
                2
            ),
            ("u2".to_string(), 1, Some(7), Some(7.0), Some(7), Some(7), 1),
        ]
    );
    assert_eq!(sql.statement_count(), 1);
}

#[test]
fn aggregates_of_no_rows_are_none_and_count_is_zero() {
    let (db, _) = seeded(Capabilities::SQLITE);
    let (n, total, mean, least, last) = block_on(
        db.select::<Post>()
            .columns((
                count(),
                Post::VIEWS.sum(),
                Post::VIEWS.avg(),
                Post::VIEWS.min(),
                Post::TITLE.max(),
            ))
            .filter(Post::VIEWS.gt(1_000))
            .one(),
    )
    .unwrap();
    assert_eq!((n, total, mean, least, last), (0, None, None, None, None));
    // Grouped, no row matches: no group at all.
    let groups: Vec<(String, u64)> = block_on(
        db.select::<Post>()
            .columns((Post::USER_ID, count()))
            .filter(Post::VIEWS.gt(1_000))
            .group_by(Post::USER_ID)
            .all(),
    )
    .unwrap();
    assert!(groups.is_empty());
}

#[test]
fn sums_of_floats_are_f64_and_min_max_keep_the_column_type() {
    let (db, _) = seeded(Capabilities::SQLITE);
    block_on(db.insert_many(&[Comment::new(1, "p1", "a"), Comment::new(2, "p1", "b")])).unwrap();
    let (ratio, flag_min, flag_max): (Option<f64>, Option<bool>, Option<bool>) = block_on(
        db.select::<Comment>()
            .columns((
                Comment::RATIO.sum(),
                Comment::FLAG.min(),
                Comment::FLAG.max(),
            ))
            .one(),
    )
    .unwrap();
    assert!((ratio.unwrap() - 3.2).abs() < 1e-9);
    assert_eq!((flag_min, flag_max), (Some(false), Some(true)));
}

#[test]
fn having_filters_groups_by_aggregates_and_grouped_columns() {
    let (db, sql) = seeded(Capabilities::SQLITE);
    let busy: Vec<String> = block_on(
        db.select::<Post>()
            .columns(Post::USER_ID)
            .group_by(Post::USER_ID)
            .having(count().gte(2))
            .all(),
    )
    .unwrap();
    assert_eq!(busy, ["u1"]);

    let quiet: Vec<(String, Option<i64>)> = block_on(
        db.select::<Post>()
            .columns((Post::USER_ID, Post::VIEWS.sum()))
            .group_by(Post::USER_ID)
            .having(Post::VIEWS.sum().lt(30) | Post::USER_ID.eq("nobody").into())
            .having(!sonic_db_core::query::Having::from(Post::USER_ID.eq("u9")))
            .all(),
    )
    .unwrap();
    assert_eq!(quiet, [("u2".to_string(), Some(7))]);
    let last = sql.statements().pop().unwrap();
    assert_eq!(
        last.sql,
        r#"SELECT "user_id", SUM("views") FROM "posts" GROUP BY "user_id" HAVING ((SUM("views") < ? OR "user_id" = ?) AND NOT ("user_id" = ?))"#
    );
    assert_eq!(last.params.len(), 3, "every value bound");
}

#[test]
fn order_by_aggregates_then_columns_with_limit_and_offset() {
    let (db, _) = seeded(Capabilities::SQLITE);
    let ranked: Vec<(String, u64)> = block_on(
        db.select::<Post>()
            .columns((Post::USER_ID, count()))
            .group_by(Post::USER_ID)
            .order_by(count().desc())
            .order_by(Post::USER_ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(ranked, [("u1".to_string(), 3), ("u2".to_string(), 1)]);
    let second: Vec<String> = block_on(
        db.select::<Post>()
            .filter(not(Post::ID.eq("p1")))
            .order_by(Post::VIEWS.desc())
            .columns(Post::ID)
            .limit(2)
            .offset(1)
            .all(),
    )
    .unwrap();
    assert_eq!(second, ["p4", "p3"]);
}

#[test]
fn distinct_rows_once() {
    let (db, _) = seeded(Capabilities::SQLITE);
    let pairs: Vec<(String, String)> = block_on(
        db.select::<Post>()
            .columns((Post::USER_ID, Post::TITLE))
            .distinct()
            .order_by(Post::USER_ID.asc())
            .order_by(Post::TITLE.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(
        pairs,
        [
            ("u1".to_string(), "one".to_string()),
            ("u1".to_string(), "two".to_string()),
            ("u2".to_string(), "four".to_string()),
        ]
    );
}

#[test]
fn nullable_columns_need_optional_and_ungrouped_columns_are_refused_before_sending() {
    let (db, sql) = seeded(Capabilities::SQLITE);
    let err = block_on(db.select::<User>().columns(User::NAME).all()).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery(m) if m.contains("`users`.`name`") && m.contains("optional")),
        "{err}"
    );
    let names: Vec<Option<String>> = block_on(
        db.select::<User>()
            .columns(User::NAME.optional())
            .order_by(User::ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(names[0].as_deref(), Some("name of u1"));

    let err = block_on(db.select::<Post>().columns((Post::TITLE, count())).all()).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery(m) if m.contains("`posts`.`title`")),
        "{err}"
    );
    let err = block_on(
        db.select::<Post>()
            .columns((Post::USER_ID, count()))
            .group_by(Post::USER_ID)
            .order_by(Post::VIEWS.asc())
            .all(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery(m) if m.contains("`posts`.`views`")),
        "{err}"
    );
    let err = block_on(
        db.select::<Post>()
            .columns(Post::USER_ID)
            .group_by(Post::USER_ID)
            .having(Post::TITLE.eq("x"))
            .all(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery(m) if m.contains("`posts`.`title`")),
        "{err}"
    );
    let err = block_on(
        db.select::<User>()
            .with(User::POSTS)
            .columns(User::ID)
            .all(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)));
    assert_eq!(
        sql.statement_count(),
        1,
        "only the valid projection was sent"
    );
}

#[test]
fn a_decode_error_names_the_table_and_the_aggregate() {
    let (db, _) = seeded(Capabilities::SQLITE);
    block_on(db.sql("INSERT INTO posts (id, user_id, title, views, created_on, updated_on) VALUES ('p9', 'u3', 't', 1e300, 0, 0)").run()).unwrap();
    let err = block_on(db.select::<Post>().columns(Post::VIEWS.sum()).one()).unwrap_err();
    assert!(
        matches!(&err, Error::Decode { table, column, .. } if table == "posts" && column == "sum(views)"),
        "{err}"
    );
}

#[test]
fn d1_limits_are_checked_before_anything_is_sent() {
    let (db, sql) = seeded(Capabilities::D1);
    // 101 bound values: the filter's list moves into one JSON parameter, the HAVING's cannot.
    let ids: Vec<String> = (0..150).map(|i| format!("p{i}")).collect();
    let n: u64 = block_on(
        db.select::<Post>()
            .columns(count())
            .filter(Post::ID.in_list(ids))
            .one(),
    )
    .unwrap();
    assert_eq!(n, 4);
    assert!(sql.max_params() <= 100);
    sql.reset();
    let mut having = count().eq(0u64);
    for i in 0..100u64 {
        having = having | count().eq(i + 1);
    }
    let err = block_on(
        db.select::<Post>()
            .columns(Post::USER_ID)
            .group_by(Post::USER_ID)
            .having(having)
            .all(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Limit(_)), "{err}");
    assert_eq!(sql.statement_count(), 0);
    // An operand beyond ±(2^53 − 1) is no limit: it binds exactly (#12 item 3).
    let none = block_on(
        db.select::<Post>()
            .columns(Post::USER_ID)
            .group_by(Post::USER_ID)
            .having(Post::VIEWS.sum().gt(1 << 60))
            .all(),
    )
    .unwrap();
    assert!(none.is_empty());
    assert_eq!(sql.statement_count(), 1);
}

#[test]
fn the_same_results_on_d1_limits() {
    let query = |db: &sonic_db_core::Db| {
        block_on(
            db.select::<Post>()
                .columns((Post::USER_ID, count(), Post::VIEWS.avg()))
                .group_by(Post::USER_ID)
                .order_by(Post::USER_ID.asc())
                .all(),
        )
        .unwrap()
    };
    assert_eq!(
        query(&seeded(Capabilities::SQLITE).0),
        query(&seeded(Capabilities::D1).0)
    );
    let _ = setup;
    let _ = Value::Null;
}
