//! Options per level of eager loading (filter, order, limit, offset), the same records in the
//! same order in every strategy, nested, and within the backend's limits.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod query_support;

use query_support::{block_on, per_level, setup_with, single_statement, Comment, Post, User};
use sonic_db_core::query::Include;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{Capabilities, Db, EagerStrategy};

fn seeded(capabilities: Capabilities) -> (Db, CountingSql<SqliteBackend>) {
    let (db, sql, _) = setup_with(capabilities);
    let mut inactive = User::new("u3", "c@x");
    inactive.active = false;
    block_on(db.insert_many(&[
        User::new("u1", "a@x"),
        User::new("u2", "b@x"),
        inactive,
        User::new("u4", "d@x"),
    ]))
    .unwrap();
    let mut posts = Vec::new();
    for (i, user) in ["u1", "u1", "u1", "u1", "u2", "u2", "u3"]
        .iter()
        .enumerate()
    {
        // Views repeat (ties broken by the primary key).
        posts.push(Post::new(
            &format!("p{i}"),
            user,
            &format!("title {}", i % 3),
            (i as i64 * 7) % 5,
        ));
    }
    block_on(db.insert_many(&posts)).unwrap();
    let comments: Vec<Comment> = (0..20)
        .map(|i| Comment {
            big: i, // within D1's exact range
            ..Comment::new(i, &format!("p{}", i % 7), &format!("c{i}"))
        })
        .collect();
    block_on(db.insert_many(&comments)).unwrap();
    sql.reset();
    (db, sql)
}

/// Users with at most two posts of 1+ views, most read first, each with its newest flagged
/// comment.
fn options() -> Include<User> {
    User::POSTS
        .filter(Post::VIEWS.gte(1))
        .order_by(Post::VIEWS.desc())
        .limit(2)
        .with(
            Post::COMMENTS
                .filter(Comment::FLAG.eq(true))
                .order_by(Comment::ID.desc())
                .limit(1),
        )
        .into()
}

/// The same, computed with plain selects.
fn expected(db: &Db) -> Vec<User> {
    block_on(async {
        let mut users = db
            .select::<User>()
            .order_by(User::ID.asc())
            .all()
            .await
            .unwrap();
        for user in &mut users {
            let mut posts = db
                .select::<Post>()
                .filter(Post::USER_ID.eq(&user.id) & Post::VIEWS.gte(1))
                .order_by(Post::VIEWS.desc())
                .order_by(Post::ID.asc())
                .limit(2)
                .all()
                .await
                .unwrap();
            for post in &mut posts {
                post.comments = Some(
                    db.select::<Comment>()
                        .filter(Comment::POST_ID.eq(&post.id) & Comment::FLAG.eq(true))
                        .order_by(Comment::ID.desc())
                        .limit(1)
                        .all()
                        .await
                        .unwrap(),
                );
            }
            user.posts = Some(posts);
        }
        users
    })
}

#[test]
fn every_strategy_loads_the_same_filtered_ordered_limited_levels() {
    for capabilities in [per_level(), single_statement(), Capabilities::D1] {
        let strategy = capabilities.eager;
        // On D1 comments' REAL column keeps this tree per level (JSON would round it).
        let embeds = strategy == EagerStrategy::SingleStatement && capabilities.json_exact_reals;
        let (db, sql) = seeded(capabilities);
        let got = block_on(
            db.select::<User>()
                .with(options())
                .order_by(User::ID.asc())
                .all(),
        )
        .unwrap();
        let statements = sql.statement_count();
        let want = expected(&db);
        assert_eq!(got, want, "{strategy:?}");
        assert!(got[0].posts.as_ref().unwrap().len() == 2 && got[3].posts == Some(vec![]));
        if embeds {
            assert_eq!(statements, 1, "one statement, one round trip");
        } else {
            assert_eq!(statements, 3, "users, then one statement per level");
        }
    }
}

#[test]
fn offsets_page_each_parents_children() {
    for capabilities in [per_level(), single_statement()] {
        let strategy = capabilities.eager;
        let (db, _) = seeded(capabilities);
        let users = block_on(
            db.select::<User>()
                .with(User::POSTS.order_by(Post::ID.desc()).offset(1).limit(2))
                .order_by(User::ID.asc())
                .all(),
        )
        .unwrap();
        let ids: Vec<Vec<String>> = users
            .iter()
            .map(|u| u.posts.iter().flatten().map(|p| p.id.clone()).collect())
            .collect();
        assert_eq!(
            ids,
            [vec!["p2", "p1"], vec!["p4"], vec![], vec![]],
            "{strategy:?}"
        );
        let only_offset = block_on(
            db.select::<User>()
                .with(User::POSTS.offset(3))
                .filter(User::ID.eq("u1"))
                .one(),
        )
        .unwrap();
        assert_eq!(
            only_offset
                .posts
                .unwrap()
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>(),
            ["p3"]
        );
    }
}

#[test]
fn a_filtered_one_relation_is_not_found_where_nothing_matches() {
    for capabilities in [per_level(), single_statement()] {
        let (db, _) = seeded(capabilities);
        let posts = block_on(
            db.select::<Post>()
                .with(Post::AUTHOR.filter(User::ACTIVE.eq(true)))
                .order_by(Post::ID.asc())
                .all(),
        )
        .unwrap();
        let authors: Vec<Option<String>> = posts
            .iter()
            .map(|p| p.author.get().map(|u| u.id.clone()))
            .collect();
        assert_eq!(authors.last().unwrap(), &None, "u3 is inactive");
        assert!(
            matches!(posts.last().unwrap().author, sonic_db_core::One::NotFound),
            "loaded and filtered out reads as not found, not as never loaded"
        );
        assert_eq!(authors[0].as_deref(), Some("u1"));
    }
}

#[test]
fn a_level_with_options_never_rides_in_the_parents_join() {
    let (db, sql) = seeded(per_level());
    block_on(
        db.select::<User>()
            .with(User::POSTS.filter(Post::VIEWS.gt(0)))
            .all(),
    )
    .unwrap();
    let statements = sql.statements();
    assert_eq!(statements.len(), 2);
    assert!(!statements[0].sql.contains("JOIN"), "{}", statements[0].sql);
    assert!(
        statements[1].sql.contains(r#"AND ("views" > ?)"#),
        "{}",
        statements[1].sql
    );
}

#[test]
fn level_filters_are_checked_and_count_against_the_parameter_limit() {
    let (db, sql) = seeded(Capabilities::D1);
    let long = db
        .select::<User>()
        .with(User::POSTS.filter(Post::TITLE.like("%".repeat(51))))
        .all();
    assert!(
        matches!(block_on(long), Err(sonic_db_core::Error::Limit(m)) if m.contains("`posts`.`title`"))
    );
    assert_eq!(sql.statement_count(), 0);

    // Per level on D1's limits: 150 parents' keys plus 60 filter values per statement.
    let (db, sql) = seeded(Capabilities {
        eager: EagerStrategy::PerLevel,
        ..Capabilities::D1
    });
    let users: Vec<User> = (10..160)
        .map(|i| User::new(&format!("x{i}"), &format!("x{i}@x")))
        .collect();
    block_on(db.insert_many(&users)).unwrap();
    sql.reset();
    let titles: Vec<String> = (0..60).map(|i| format!("title {}", i % 3)).collect();
    let loaded = block_on(
        db.select::<User>()
            .with(User::POSTS.filter(Post::TITLE.in_list(titles)))
            .all(),
    )
    .unwrap();
    assert_eq!(loaded.len(), 154);
    assert!(sql.max_params() <= 100, "{}", sql.max_params());
}

#[test]
fn column_selection_reads_the_rest_as_none_in_every_strategy() {
    let mut loaded = Vec::new();
    for capabilities in [per_level(), single_statement()] {
        let (db, sql) = seeded(capabilities);
        let posts = block_on(
            db.select::<Post>()
                .with(Post::AUTHOR.columns((
                    User::EMAIL,
                    User::ACTIVE,
                    User::CREATED_ON,
                    User::UPDATED_ON,
                )))
                .with(
                    Post::COMMENTS
                        .columns((
                            Comment::BODY,
                            Comment::FLAG,
                            Comment::META,
                            Comment::BLOB,
                            Comment::BIG,
                            Comment::RATIO,
                        ))
                        .order_by(Comment::ID.desc()),
                )
                .order_by(Post::ID.asc())
                .all(),
        )
        .unwrap();
        let author = posts[0].author.get().unwrap();
        assert_eq!(
            (
                author.id.as_str(),
                author.email.as_str(),
                author.name.as_ref()
            ),
            ("u1", "a@x", None)
        );
        let comments = posts[0].comments.as_ref().unwrap();
        assert_eq!(comments[0].id, 14);
        assert!(comments
            .iter()
            .all(|c| c.maybe_blob.is_none() && c.blob.len() == 3));
        assert!(
            !sql.statements()
                .iter()
                .any(|s| s.sql.contains("\"maybe_blob\"")),
            "not read"
        );
        loaded.push(posts);
    }
    assert_eq!(loaded[0], loaded[1]);
}

#[test]
fn leaving_out_a_not_null_column_or_selecting_an_aggregate_is_refused_before_sending() {
    let (db, sql) = seeded(single_statement());
    let err = block_on(
        db.select::<User>()
            .with(User::POSTS.columns(Post::VIEWS))
            .all(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, sonic_db_core::Error::InvalidQuery(m) if m.contains("`posts`.`title`") && m.contains("`posts` of `users`")),
        "{err}"
    );
    let err = block_on(
        db.select::<User>()
            .with(User::POSTS.columns(sonic_db_core::query::count()))
            .all(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, sonic_db_core::Error::InvalidQuery(m) if m.contains("count(*)")),
        "{err}"
    );
    assert_eq!(sql.statement_count(), 0);
    let (db, sql) = seeded(per_level());
    let err = block_on(
        db.select::<User>()
            .with(User::POSTS.columns(Post::VIEWS))
            .all(),
    )
    .unwrap_err();
    assert!(matches!(err, sonic_db_core::Error::InvalidQuery(_)));
    assert_eq!(sql.statement_count(), 0);
}
