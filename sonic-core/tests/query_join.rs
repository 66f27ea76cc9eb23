//! Joins along declared relations and explicit columns, into typed pairs.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod query_support;

use query_support::{block_on, setup_with, Comment, Post, User};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{Capabilities, Db, Error};

fn seeded(capabilities: Capabilities) -> (Db, CountingSql<SqliteBackend>) {
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
        Post::new("p3", "u2", "three", 5),
    ]))
    .unwrap();
    sql.reset();
    (db, sql)
}

#[test]
fn a_left_join_pairs_each_record_with_its_match_or_none_in_one_statement() {
    let (db, sql) = seeded(Capabilities::SQLITE);
    let pairs: Vec<(User, Option<Post>)> = block_on(
        db.select::<User>()
            .left_join(User::POSTS)
            .order_by(User::ID.asc())
            .order_by_joined(Post::ID.asc())
            .all(),
    )
    .unwrap();
    let ids: Vec<(&str, Option<&str>)> = pairs
        .iter()
        .map(|(u, p)| (u.id.as_str(), p.as_ref().map(|p| p.id.as_str())))
        .collect();
    assert_eq!(
        ids,
        [
            ("u1", Some("p1")),
            ("u1", Some("p2")),
            ("u2", Some("p3")),
            ("u3", None)
        ]
    );
    // Both records whole: same-named columns (`id`, the audit columns) did not merge.
    let (user, post) = &pairs[0];
    assert_eq!(user, &User::new("u1", "a@x").with_audit());
    assert_eq!(
        post.as_ref().unwrap(),
        &Post::new("p1", "u1", "one", 10).with_audit()
    );
    assert!(user.posts.is_none(), "relations start unloaded");
    assert_eq!(sql.statement_count(), 1);
}

trait WithAudit {
    fn with_audit(self) -> Self;
}

impl WithAudit for User {
    fn with_audit(mut self) -> Self {
        self.audit.created_on = query_support::NOW;
        self.audit.updated_on = query_support::NOW;
        self
    }
}

impl WithAudit for Post {
    fn with_audit(mut self) -> Self {
        self.audit.created_on = query_support::NOW;
        self.audit.updated_on = query_support::NOW;
        self
    }
}

#[test]
fn an_inner_join_keeps_only_matches_and_filters_and_orders_on_either_side() {
    let (db, sql) = seeded(Capabilities::SQLITE);
    let pairs: Vec<(Post, User)> = block_on(
        db.select::<Post>()
            .filter(Post::VIEWS.gte(5))
            .join(Post::AUTHOR)
            .filter_joined(User::EMAIL.in_list(["a@x", "b@x"]))
            .filter(Post::TITLE.ne("two"))
            .order_by_joined(User::EMAIL.desc())
            .order_by(Post::VIEWS.asc())
            .limit(5)
            .all(),
    )
    .unwrap();
    let ids: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(p, u)| (p.id.as_str(), u.id.as_str()))
        .collect();
    assert_eq!(ids, [("p3", "u2"), ("p1", "u1")]);
    let statement = sql.statements().pop().unwrap();
    assert!(
        statement
            .sql
            .contains(r#" JOIN "users" AS "r" ON "r"."id" = "l"."user_id""#),
        "{}",
        statement.sql
    );
    assert_eq!(statement.params.len(), 4, "every value bound");

    let users: Vec<(User, Post)> = block_on(
        db.select::<User>()
            .join(User::POSTS)
            .filter(User::ID.eq("u3"))
            .all(),
    )
    .unwrap();
    assert!(users.is_empty(), "u3 has no post");
}

#[test]
fn explicit_columns_join_without_a_declared_relation() {
    let (db, _) = seeded(Capabilities::SQLITE);
    block_on(db.insert_many(&[
        Comment::new(1, "p1", "first"),
        Comment::new(2, "p3", "second"),
    ]))
    .unwrap();
    let rows: Vec<(Comment, Option<User>)> = block_on(
        db.select::<Comment>()
            .left_join_on(Comment::BODY, User::NAME)
            .order_by(Comment::ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|(_, u)| u.is_none()));
    assert_eq!(
        rows[0].0,
        Comment::new(1, "p1", "first"),
        "awkward values decode whole"
    );
    let rows: Vec<(Post, Comment)> = block_on(
        db.select::<Post>()
            .join_on(Post::ID, Comment::POST_ID)
            .all(),
    )
    .unwrap();
    assert_eq!(rows.len(), 2);
}

#[test]
fn count_rows_counts_the_joined_rows() {
    let (db, _) = seeded(Capabilities::SQLITE);
    assert_eq!(
        block_on(
            db.select::<User>()
                .left_join(User::POSTS)
                .limit(1)
                .count_rows()
        )
        .unwrap(),
        4
    );
    assert_eq!(
        block_on(db.select::<User>().join(User::POSTS).count_rows()).unwrap(),
        3
    );
}

#[test]
fn limits_and_misuse_are_refused_before_sending() {
    let (db, sql) = seeded(Capabilities::D1);
    let many: Vec<String> = (0..120).map(|i| format!("u{i}")).collect();
    let pairs = block_on(
        db.select::<Post>()
            .filter(Post::USER_ID.in_list(many.clone()))
            .join(Post::AUTHOR)
            .filter_joined(User::ID.in_list(many))
            .all(),
    )
    .unwrap();
    assert_eq!(pairs.len(), 3);
    assert!(sql.max_params() <= 100, "lists went as JSON");
    sql.reset();
    let err = block_on(
        db.select::<Post>()
            .join(Post::AUTHOR)
            .filter_joined(User::NAME.like("%".repeat(51)))
            .all(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Limit(m) if m.contains("`users`.`name`")),
        "{err}"
    );
    let err = block_on(
        db.select::<User>()
            .with(User::POSTS)
            .join(User::POSTS)
            .all(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)));
    assert_eq!(sql.statement_count(), 0);
}

#[test]
fn a_decode_error_names_the_joined_table() {
    let (db, _) = seeded(Capabilities::SQLITE);
    block_on(db.sql("UPDATE users SET active = 7 WHERE id = 'u2'").run()).unwrap();
    let err = block_on(db.select::<Post>().join(Post::AUTHOR).all()).unwrap_err();
    assert!(
        matches!(&err, Error::Decode { table, column, .. } if table == "users" && column == "active"),
        "{err}"
    );
}
