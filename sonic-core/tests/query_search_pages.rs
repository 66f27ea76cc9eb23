//! Text search that matches user input literally (`contains`, `starts_with`, `ends_with`),
//! `exists()`, and keyset pagination (`after`). Each test checks the rows or answers returned
//! and, where it is a promise, the statements sent.

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
use sonic_db_core::{Capabilities, Error, Filter};

fn seed() -> (
    sonic_db_core::Db,
    sonic_db_core::testing::sql::CountingSql<sonic_db_core::sqlite::SqliteBackend>,
) {
    let (db, sql, _clock) = setup();
    block_on(async {
        db.insert_many(&[
            User::new("u1", "ada@example.com"),
            User::new("u2", "bob_smith@example.com"),
            User::new("u3", "bobXsmith@example.com"),
        ])
        .await
        .unwrap();
        db.insert_many(&[
            Post::new("p1", "u1", "50% off", 10),
            Post::new("p2", "u1", "500 off", 250),
            Post::new("p3", "u2", r"C:\path_to", 10),
            Post::new("p4", "u3", "Cpath", 10),
            Post::new("p5", "u3", "_hidden", 99),
            Post::new("p6", "u3", "xhidden", 99),
        ])
        .await
        .unwrap();
    });
    sql.reset();
    (db, sql)
}

fn post_ids(db: &sonic_db_core::Db, filter: Filter<Post>) -> Vec<String> {
    let posts = block_on(
        db.select::<Post>()
            .filter(filter)
            .order_by(Post::ID.asc())
            .all(),
    )
    .unwrap();
    posts.into_iter().map(|p| p.id).collect()
}

#[test]
fn text_helpers_match_wildcards_and_the_escape_character_literally() {
    let (db, _) = seed();
    // `%` is a character: "50% off" only, where `like("%0% off%")` would also match "500 off".
    assert_eq!(post_ids(&db, Post::TITLE.contains("0% off")), ["p1"]);
    assert_eq!(post_ids(&db, Post::TITLE.like("%0% off%")), ["p1", "p2"]);
    // `_` is a character.
    assert_eq!(post_ids(&db, Post::TITLE.starts_with("_")), ["p5"]);
    assert_eq!(post_ids(&db, Post::TITLE.like("_%")).len(), 6);
    // The escape character itself is matched literally.
    assert_eq!(post_ids(&db, Post::TITLE.contains(r"\path")), ["p3"]);
    assert_eq!(post_ids(&db, Post::TITLE.ends_with(r"\path_to")), ["p3"]);
    assert_eq!(post_ids(&db, Post::TITLE.ends_with("path")), ["p4"]);
    // Plain text, ASCII case-insensitive as LIKE is.
    assert_eq!(post_ids(&db, Post::TITLE.starts_with("c")), ["p3", "p4"]);
    // Negation and combination work as for any filter.
    assert_eq!(
        post_ids(&db, !Post::TITLE.contains("hidden") & Post::VIEWS.eq(10)),
        ["p1", "p3", "p4"]
    );
    // On an `Option<String>` column too; NULL matches nothing.
    let users: Vec<String> = block_on(
        db.select::<User>()
            .filter(User::EMAIL.starts_with("bob_"))
            .all(),
    )
    .unwrap()
    .into_iter()
    .map(|u| u.id)
    .collect();
    assert_eq!(users, ["u2"]);
    let named = block_on(
        db.select::<User>()
            .filter(User::NAME.ends_with("u1"))
            .count(),
    );
    assert_eq!(named.unwrap(), 1);
}

#[test]
fn text_helpers_bind_the_escaped_pattern_and_count_it_against_the_like_limit() {
    let (db, sql) = seed();
    block_on(
        db.select::<Post>()
            .filter(Post::TITLE.contains("a%b"))
            .all(),
    )
    .unwrap();
    let sent = &sql.statements()[0];
    assert!(
        sent.sql.ends_with(r#""title" LIKE ? ESCAPE '\'"#),
        "{}",
        sent.sql
    );
    assert_eq!(sent.params, [sonic_db_core::Value::Text(r"%a\%b%".into())]);

    let (d1, d1_sql, _) = setup_with(Capabilities::D1);
    // 24 `%` escape to 48 bytes, plus the two wildcards: 50, D1's limit, is allowed.
    let fits = block_on(
        d1.select::<Post>()
            .filter(Post::TITLE.contains(&"%".repeat(24)))
            .all(),
    );
    assert!(fits.is_ok(), "{fits:?}");
    let long = block_on(
        d1.select::<Post>()
            .filter(Post::TITLE.contains(&"%".repeat(25)))
            .all(),
    );
    match long {
        Err(Error::Limit(message)) => assert!(message.contains("`posts`.`title`"), "{message}"),
        other => panic!("expected a limit error, got {other:?}"),
    }
    assert_eq!(d1_sql.statement_count(), 1, "the long pattern was not sent");
}

#[test]
fn exists_is_one_statement_that_answers_whether_a_row_matches() {
    let (db, sql) = seed();
    assert!(block_on(db.select::<Post>().filter(Post::VIEWS.eq(99)).exists()).unwrap());
    assert!(!block_on(db.select::<Post>().filter(Post::VIEWS.gt(1000)).exists()).unwrap());
    // Limit and offset do not apply: there is a match, even past the end.
    assert!(block_on(db.select::<Post>().limit(0).offset(100).exists()).unwrap());
    assert!(!block_on(
        db.select::<User>()
            .filter(User::ID.in_list(Vec::<String>::new()))
            .exists()
    )
    .unwrap());
    assert_eq!(sql.statement_count(), 4);
    assert_eq!(sql.round_trips(), 4);
    let first = &sql.statements()[0].sql;
    assert!(
        first.starts_with(r#"SELECT EXISTS (SELECT 1 FROM "posts" WHERE"#),
        "{first}"
    );
}

/// Walks every page of `select` (built by `query`) with `after`, `size` rows at a time.
fn walk(
    db: &sonic_db_core::Db,
    size: u64,
    order: &[sonic_db_core::Order<Post>],
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut last: Option<Post> = None;
    loop {
        let mut select = db.select::<Post>().limit(size);
        for term in order {
            select = select.order_by(*term);
        }
        if let Some(last) = &last {
            select = select.after(last);
        }
        let page = block_on(select.all()).unwrap();
        if page.is_empty() {
            return pages;
        }
        pages.push(page.iter().map(|p| p.id.clone()).collect());
        last = page.last().cloned();
    }
}

#[test]
fn after_pages_through_ties_by_primary_key_without_gaps_or_repeats() {
    let (db, _) = seed();
    // views: p1 10, p2 250, p3 10, p4 10, p5 99, p6 99; descending, ties by id ascending.
    let pages = walk(&db, 2, &[Post::VIEWS.desc()]);
    assert_eq!(pages, [["p2", "p5"], ["p6", "p1"], ["p3", "p4"]]);
    let pages = walk(&db, 4, &[Post::VIEWS.asc(), Post::USER_ID.desc()]);
    assert_eq!(pages, [vec!["p4", "p3", "p1", "p5"], vec!["p6", "p2"]]);
    // No order: the primary key.
    let pages = walk(&db, 5, &[]);
    assert_eq!(pages, [vec!["p1", "p2", "p3", "p4", "p5"], vec!["p6"]]);
    // A descending primary key is unique already: nothing appended.
    let pages = walk(&db, 4, &[Post::ID.desc()]);
    assert_eq!(pages, [vec!["p6", "p5", "p4", "p3"], vec!["p2", "p1"]]);
}

#[test]
fn after_keeps_its_place_when_rows_are_inserted_before_it() {
    let (db, _) = seed();
    let first = block_on(
        db.select::<Post>()
            .order_by(Post::VIEWS.asc())
            .limit(3)
            .all(),
    )
    .unwrap();
    let last = first.last().unwrap().clone();
    assert_eq!(last.id, "p4");
    // A row that sorts before the cursor would shift an offset by one; not a keyset.
    block_on(db.insert(&Post::new("p0", "u1", "new", 0))).unwrap();
    let next = block_on(
        db.select::<Post>()
            .order_by(Post::VIEWS.asc())
            .after(&last)
            .limit(2)
            .all(),
    )
    .unwrap();
    let ids: Vec<&str> = next.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["p5", "p6"]);
}

#[test]
fn after_combines_with_filters_counts_and_unique_columns() {
    let (db, sql) = seed();
    let u1 = block_on(db.find::<User>("u1")).unwrap().unwrap();
    // A unique NOT NULL column ends the keyset: no primary key term is appended.
    sql.reset();
    let after_ada = block_on(
        db.select::<User>()
            .order_by(User::EMAIL.asc())
            .after(&u1)
            .all(),
    )
    .unwrap();
    let ids: Vec<&str> = after_ada.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["u3", "u2"]); // "bobX…" sorts before "bob_…"
    let sent = &sql.statements()[0].sql;
    assert!(
        sent.ends_with(r#"WHERE "email" > ? ORDER BY "email""#),
        "{sent}"
    );

    let p3 = block_on(db.find::<Post>("p3")).unwrap().unwrap();
    let rest = db
        .select::<Post>()
        .filter(Post::VIEWS.lt(100))
        .order_by(Post::VIEWS.asc())
        .after(&p3);
    assert_eq!(block_on(rest.count()).unwrap(), 3); // p4, then p5 and p6
    let page = block_on(
        db.select::<Post>()
            .filter(Post::VIEWS.lt(100))
            .order_by(Post::VIEWS.asc())
            .after(&p3)
            .limit(1)
            .page(),
    )
    .unwrap();
    assert_eq!((page.items[0].id.as_str(), page.total), ("p4", 3));
    assert!(block_on(
        db.select::<Post>()
            .order_by(Post::VIEWS.desc())
            .after(&p3)
            .exists()
    )
    .unwrap());
}

#[test]
fn after_refuses_an_order_on_a_nullable_column_naming_it() {
    let (db, sql) = seed();
    let u1 = block_on(db.find::<User>("u1")).unwrap().unwrap();
    sql.reset();
    let result = block_on(
        db.select::<User>()
            .order_by(User::NAME.asc())
            .after(&u1)
            .all(),
    );
    match result {
        Err(Error::InvalidQuery(message)) => {
            assert!(
                message.contains("`users`") && message.contains("`name`"),
                "{message}"
            )
        }
        other => panic!("expected an invalid-query error, got {other:?}"),
    }
    assert_eq!(sql.statement_count(), 0);
}

#[test]
fn after_and_exists_work_with_every_eager_strategy() {
    for capabilities in [
        sonic_db_core::Capabilities::SQLITE,
        single_statement(),
        per_level(),
    ] {
        let (db, _, _) = setup_with(capabilities);
        block_on(async {
            db.insert_many(&[User::new("u1", "a@x"), User::new("u2", "b@x")])
                .await
                .unwrap();
            db.insert_many(&[
                Post::new("p1", "u1", "a", 1),
                Post::new("p2", "u2", "b", 1),
                Post::new("p3", "u2", "c", 2),
            ])
            .await
            .unwrap();
        });
        let first = block_on(db.select::<Post>().order_by(Post::VIEWS.asc()).first())
            .unwrap()
            .unwrap();
        let rest = block_on(
            db.select::<Post>()
                .order_by(Post::VIEWS.asc())
                .after(&first)
                .with(Post::AUTHOR)
                .all(),
        )
        .unwrap();
        let got: Vec<(&str, Option<&str>)> = rest
            .iter()
            .map(|p| (p.id.as_str(), p.author.get().map(|a| a.id.as_str())))
            .collect();
        assert_eq!(got, [("p2", Some("u2")), ("p3", Some("u2"))]);
        let u1 = block_on(db.find::<User>("u1")).unwrap().unwrap();
        let after_u1 = block_on(db.select::<User>().after(&u1).with(User::POSTS).all()).unwrap();
        assert_eq!(after_u1.len(), 1);
        assert_eq!(after_u1[0].posts.as_ref().map(Vec::len), Some(2));
        assert!(block_on(db.select::<User>().with(User::POSTS).exists()).unwrap());
    }
}
