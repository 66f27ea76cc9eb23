//! Relation filters: `exists` / `not_exists` along `many` relations and comparisons through
//! `one` relations, nested, negated, in selects (every eager strategy), counts, pages,
//! `exists()`, `update_where`, `delete_where`; one statement each; operands checked on the
//! related table.

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
use sonic_db_core::query::and;
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{sqlite::SqliteBackend, Capabilities, Db, Error, Filter};

/// u1 (active) wrote p1 "Hello Rust" (comments 1 flagged no, 2 flagged yes) and p2 "Notes";
/// u2 (inactive) wrote p3 "Rust again"; u3 (active) wrote nothing.
fn seeded(capabilities: Capabilities) -> (Db, CountingSql<SqliteBackend>) {
    let (db, sql, _) = setup_with(capabilities);
    block_on(async {
        let mut u2 = User::new("u2", "b@x");
        u2.active = false;
        db.insert_many(&[User::new("u1", "a@x"), u2, User::new("u3", "c@x")])
            .await
            .unwrap();
        db.insert_many(&[
            Post::new("p1", "u1", "Hello Rust", 10),
            Post::new("p2", "u1", "Notes", 5),
            Post::new("p3", "u2", "Rust again", 7),
        ])
        .await
        .unwrap();
        // Comment::new flags even ids; `big` within D1's exact range.
        let comment = |id, body| Comment {
            big: 0,
            ..Comment::new(id, "p1", body)
        };
        db.insert_many(&[comment(1, "meh"), comment(2, "great")])
            .await
            .unwrap();
    });
    sql.reset();
    (db, sql)
}

fn user_ids(db: &Db, filter: Filter<User>) -> Vec<String> {
    let users = block_on(
        db.select::<User>()
            .filter(filter)
            .order_by(User::ID.asc())
            .all(),
    );
    users.unwrap().into_iter().map(|u| u.id).collect()
}

fn post_ids(db: &Db, filter: Filter<Post>) -> Vec<String> {
    let posts = block_on(
        db.select::<Post>()
            .filter(filter)
            .order_by(Post::ID.asc())
            .all(),
    );
    posts.unwrap().into_iter().map(|p| p.id).collect()
}

#[test]
fn exists_and_not_exists_along_a_many_relation() {
    let (db, sql) = seeded(Capabilities::SQLITE);
    assert_eq!(
        user_ids(&db, User::POSTS.exists(Post::TITLE.contains("rust"))),
        ["u1", "u2"]
    );
    assert_eq!(user_ids(&db, User::POSTS.exists(Post::VIEWS.gt(8))), ["u1"]);
    assert_eq!(
        user_ids(&db, User::POSTS.not_exists(Post::VIEWS.gt(8))),
        ["u2", "u3"]
    );
    assert_eq!(user_ids(&db, User::POSTS.exists(and([]))), ["u1", "u2"]);
    assert_eq!(user_ids(&db, User::POSTS.not_exists(and([]))), ["u3"]);
    assert_eq!(user_ids(&db, !User::POSTS.exists(and([]))), ["u3"]);
    // Combined with conditions on the record itself.
    assert_eq!(
        user_ids(
            &db,
            User::POSTS.exists(Post::TITLE.contains("rust")) & User::ACTIVE.eq(true)
        ),
        ["u1"]
    );
    assert_eq!(sql.statement_count(), 7, "one statement per select");
    let text = &sql.statements()[0].sql;
    assert!(
        text.contains(r#"EXISTS (SELECT 1 FROM "posts" AS "users>posts" WHERE "users>posts"."user_id" = "users"."id" AND "users>posts"."title" LIKE ? ESCAPE '\')"#),
        "{text}"
    );
}

#[test]
fn comparisons_through_a_one_relation_and_nested_relations() {
    let (db, _) = seeded(Capabilities::SQLITE);
    assert_eq!(
        post_ids(&db, Post::AUTHOR.exists(User::ACTIVE.eq(false))),
        ["p3"]
    );
    assert_eq!(
        post_ids(&db, Post::AUTHOR.not_exists(User::ACTIVE.eq(false))),
        ["p1", "p2"]
    );
    // Two levels: users with a post that has a flagged comment.
    let flagged = User::POSTS.exists(Post::COMMENTS.exists(Comment::FLAG.eq(true)));
    assert_eq!(user_ids(&db, flagged), ["u1"]);
    // Down and up again: posts whose author wrote a post with a flagged comment.
    let siblings =
        Post::AUTHOR.exists(User::POSTS.exists(Post::COMMENTS.exists(Comment::FLAG.eq(true))));
    assert_eq!(post_ids(&db, siblings), ["p1", "p2"]);
    // A dangling key matches nothing through the relation.
    block_on(db.sql("PRAGMA foreign_keys = OFF").run()).unwrap();
    block_on(db.insert(&Post::new("p9", "ghost", "orphan", 0))).unwrap();
    assert_eq!(
        post_ids(&db, Post::AUTHOR.exists(and([]))),
        ["p1", "p2", "p3"]
    );
    assert_eq!(post_ids(&db, Post::AUTHOR.not_exists(and([]))), ["p9"]);
}

#[test]
fn relation_filters_work_with_every_eager_strategy_count_page_and_exists() {
    for capabilities in [
        Capabilities::SQLITE,
        single_statement(),
        per_level(),
        Capabilities::D1,
    ] {
        let (db, _) = seeded(capabilities.clone());
        let rusty = User::POSTS.exists(Post::TITLE.contains("rust"));
        let users = block_on(
            db.select::<User>()
                .filter(rusty.clone())
                .with(User::POSTS.with(Post::COMMENTS))
                .order_by(User::ID.asc())
                .all(),
        )
        .unwrap();
        let loaded: Vec<(String, usize)> = users
            .iter()
            .map(|u| (u.id.clone(), u.posts.as_ref().map_or(0, Vec::len)))
            .collect();
        assert_eq!(
            loaded,
            [("u1".to_string(), 2), ("u2".to_string(), 1)],
            "{capabilities:?}"
        );
        // The joined strategy (one many relation, no order).
        let posts = block_on(
            db.select::<Post>()
                .filter(Post::AUTHOR.exists(User::ACTIVE.eq(true)))
                .with(Post::COMMENTS)
                .all(),
        )
        .unwrap();
        let mut ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["p1", "p2"], "{capabilities:?}");
        assert_eq!(
            block_on(db.select::<User>().filter(rusty.clone()).count()).unwrap(),
            2
        );
        let page = block_on(
            db.select::<User>()
                .filter(rusty.clone())
                .order_by(User::ID.asc())
                .limit(1)
                .page(),
        )
        .unwrap();
        assert_eq!((page.items[0].id.as_str(), page.total), ("u1", 2));
        assert!(block_on(db.select::<User>().filter(rusty).exists()).unwrap());
    }
}

#[test]
fn update_where_and_delete_where_take_relation_filters_in_one_statement() {
    let (db, sql) = seeded(Capabilities::SQLITE);
    let bumped = block_on(
        db.update_where::<Post>()
            .set_expr(Post::VIEWS, Post::VIEWS + 100)
            .filter(Post::AUTHOR.exists(User::ACTIVE.eq(false)))
            .returning(),
    )
    .unwrap();
    assert_eq!(bumped.len(), 1);
    assert_eq!((bumped[0].id.as_str(), bumped[0].views), ("p3", 107));
    assert_eq!(sql.statement_count(), 1);

    // Posts without a flagged comment go; their comments cascade.
    sql.reset();
    let deleted = block_on(
        db.delete_where::<Post>()
            .filter(Post::COMMENTS.not_exists(Comment::FLAG.eq(true)))
            .run(),
    )
    .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(post_ids(&db, and([])), ["p1"]);
    // Users who no longer have any post.
    let gone = block_on(
        db.delete_where::<User>()
            .filter(User::POSTS.not_exists(and([])))
            .run(),
    );
    assert_eq!(gone.unwrap(), 2);
    assert_eq!(user_ids(&db, and([])), ["u1"]);
}

#[test]
fn operands_inside_a_relation_filter_are_checked_against_the_related_table() {
    let (d1, sql) = seeded(Capabilities::D1);
    let nan = block_on(
        d1.select::<Post>()
            .filter(Post::COMMENTS.exists(Comment::RATIO.eq(f64::NAN)))
            .all(),
    );
    match nan {
        Err(Error::Encode { table, column, .. }) => {
            assert_eq!((table.as_str(), column.as_str()), ("comments", "ratio"))
        }
        other => panic!("expected an encode error, got {other:?}"),
    }
    let long = block_on(
        d1.select::<User>()
            .filter(User::POSTS.exists(Post::TITLE.like("%".repeat(60))))
            .all(),
    );
    match long {
        Err(Error::Limit(message)) => assert!(message.contains("`posts`.`title`"), "{message}"),
        other => panic!("expected a limit error, got {other:?}"),
    }
    assert_eq!(sql.statement_count(), 0, "refused before anything was sent");
    // More values than D1 binds: the list inside the subquery travels as JSON.
    let many: Vec<String> = (0..150)
        .map(|i| format!("x{i}"))
        .chain(["p3".to_string()])
        .collect();
    let users = block_on(
        d1.select::<User>()
            .filter(User::POSTS.exists(Post::ID.in_list(many)))
            .all(),
    )
    .unwrap();
    assert_eq!(
        users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["u2"]
    );
    assert!(sql.max_params() <= 100);
}

#[test]
fn relation_filters_inside_eager_levels_in_every_strategy() {
    for capabilities in [
        Capabilities::SQLITE,
        single_statement(),
        per_level(),
        Capabilities::D1,
    ] {
        let (db, _) = seeded(capabilities.clone());
        // Each user with only the posts that have a flagged comment, and each post with its
        // author only when the author is active.
        let users = block_on(
            db.select::<User>()
                .with(
                    User::POSTS
                        .filter(Post::COMMENTS.exists(Comment::FLAG.eq(true)))
                        .with(Post::AUTHOR.filter(User::POSTS.exists(Post::VIEWS.gt(8)))),
                )
                .order_by(User::ID.asc())
                .all(),
        )
        .unwrap();
        let loaded: Vec<(String, Vec<(String, bool)>)> = users
            .iter()
            .map(|u| {
                let posts = u.posts.as_ref().unwrap();
                let posts = posts
                    .iter()
                    .map(|p| (p.id.clone(), p.author.get().is_some()))
                    .collect();
                (u.id.clone(), posts)
            })
            .collect();
        assert_eq!(
            loaded,
            [
                ("u1".to_string(), vec![("p1".to_string(), true)]),
                ("u2".to_string(), vec![]),
                ("u3".to_string(), vec![]),
            ],
            "{capabilities:?}"
        );
        // The same filter on a `one` level: p3's author (u2) has no post over 8 views.
        let posts = block_on(
            db.select::<Post>()
                .with(Post::AUTHOR.filter(User::POSTS.exists(Post::VIEWS.gt(8))))
                .order_by(Post::ID.asc())
                .all(),
        )
        .unwrap();
        let authors: Vec<Option<&str>> = posts
            .iter()
            .map(|p| p.author.get().map(|a| a.id.as_str()))
            .collect();
        assert_eq!(authors, [Some("u1"), Some("u1"), None], "{capabilities:?}");
    }
}
