//! Eager relations, both strategies, against a naive one-query-per-row reference on random
//! data (users → posts → comments, some without children, keys inserted out of order), with
//! the statements each strategy sends counted.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(all(feature = "rusqlite", feature = "derive"))]

mod query_support;

use proptest::prelude::*;
use query_support::*;
use sonic_db_core::query::Include;
use sonic_db_core::{Capabilities, Db, EagerStrategy, One};

/// The reference: one query per row, nothing clever.
fn naive_users(db: &Db) -> Vec<User> {
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
                .filter(Post::USER_ID.eq(&user.id))
                .order_by(Post::ID.asc())
                .all()
                .await
                .unwrap();
            for post in &mut posts {
                post.comments = Some(
                    db.select::<Comment>()
                        .filter(Comment::POST_ID.eq(&post.id))
                        .order_by(Comment::ID.asc())
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

fn naive_posts_with_authors(db: &Db) -> Vec<Post> {
    block_on(async {
        let mut posts = db
            .select::<Post>()
            .order_by(Post::ID.asc())
            .all()
            .await
            .unwrap();
        for post in &mut posts {
            post.author = db.find::<User>(&post.user_id).await.unwrap().into();
        }
        posts
    })
}

/// users: (id, [(post id, [comment ids])]), inserted in a shuffled order.
type Tree = Vec<(String, Vec<(String, Vec<i64>)>)>;

fn tree() -> impl Strategy<Value = Tree> {
    let comments =
        prop::collection::hash_set(-1_000i64..1_000, 0..4).prop_map(|c| c.into_iter().collect());
    let posts = prop::collection::vec(("[a-z]{1,6}", comments), 0..4);
    prop::collection::vec(("[a-z0-9]{1,6}", posts), 0..6)
}

/// Inserts the tree (deduplicating generated keys) in reverse order, so that insertion order
/// and key order differ.
fn load(db: &Db, tree: &Tree) {
    let mut users = Vec::new();
    let mut posts = Vec::new();
    let mut comments = Vec::new();
    let mut seen_posts = std::collections::HashSet::new();
    let mut seen_comments = std::collections::HashSet::new();
    let mut seen_users = std::collections::HashSet::new();
    for (user_id, user_posts) in tree {
        if !seen_users.insert(user_id.clone()) {
            continue;
        }
        users.push(User::new(user_id, &format!("{user_id}@example.com")));
        for (post_id, post_comments) in user_posts {
            let post_id = format!("{post_id}-{user_id}");
            if !seen_posts.insert(post_id.clone()) {
                continue;
            }
            posts.push(Post::new(&post_id, user_id, "title", post_id.len() as i64));
            for comment_id in post_comments {
                if seen_comments.insert(*comment_id) {
                    comments.push(Comment::new(*comment_id, &post_id, "body 'x' \"y\""));
                }
            }
        }
    }
    users.reverse();
    posts.reverse();
    comments.reverse();
    block_on(async {
        db.insert_many(&users).await.unwrap();
        db.insert_many(&posts).await.unwrap();
        db.insert_many(&comments).await.unwrap();
    });
}

fn users_with_posts_and_comments() -> Include<User> {
    User::POSTS.with(Post::COMMENTS).into()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn two_levels_match_the_naive_reference_with_both_strategies(tree in tree()) {
        for capabilities in [single_statement(), per_level()] {
            let (db, sql, _) = setup_with(capabilities.clone());
            load(&db, &tree);
            let expected = naive_users(&db);
            let users_count = expected.len();
            let posts_count: usize = expected.iter().map(|u| u.posts.as_ref().map_or(0, Vec::len)).sum();

            sql.reset();
            let loaded = block_on(
                db.select::<User>()
                    .with(users_with_posts_and_comments())
                    .order_by(User::ID.asc())
                    .all(),
            )
            .unwrap();
            prop_assert_eq!(&loaded, &expected);

            match capabilities.eager {
                EagerStrategy::SingleStatement => {
                    prop_assert_eq!(sql.statement_count(), 1);
                    prop_assert!(sql.statements()[0].sql.contains("json_group_array(json_array("));
                }
                EagerStrategy::PerLevel => {
                    // One statement per level that has parents to load for.
                    let levels = 1 + usize::from(users_count > 0) + usize::from(posts_count > 0);
                    prop_assert_eq!(sql.statement_count(), levels);
                    prop_assert_eq!(sql.round_trips(), levels);
                }
            }

            // The `one` direction: every post with its author (authors shared between posts).
            sql.reset();
            let posts = block_on(
                db.select::<Post>().with(Post::AUTHOR).order_by(Post::ID.asc()).all(),
            )
            .unwrap();
            prop_assert_eq!(&posts, &naive_posts_with_authors(&db));
            prop_assert!(posts.iter().all(|p| p.author.get().is_some_and(|a| a.id == p.user_id)));
        }
    }
}

fn small_blog(
    capabilities: Capabilities,
) -> (
    Db,
    sonic_db_core::testing::sql::CountingSql<sonic_db_core::sqlite::SqliteBackend>,
) {
    let (db, sql, _) = setup_with(capabilities);
    block_on(async {
        db.insert_many(&[
            User::new("u1", "a@x"),
            User::new("u2", "b@x"),
            User::new("u3", "c@x"),
        ])
        .await
        .unwrap();
        db.insert_many(&[
            Post::new("p2", "u1", "second", 2),
            Post::new("p1", "u1", "first", 1),
            Post::new("p3", "u2", "third", 3),
        ])
        .await
        .unwrap();
        db.insert_many(&[
            Comment::new(30, "p1", "c30"),
            Comment::new(-5, "p1", "c-5"),
            Comment::new(7, "p3", "c7"),
        ])
        .await
        .unwrap();
    });
    sql.reset();
    (db, sql)
}

#[test]
fn awkward_values_decode_exactly_two_levels_down() {
    for capabilities in [single_statement(), per_level()] {
        let (db, _) = small_blog(capabilities);
        let users = block_on(
            db.select::<User>()
                .with(User::POSTS.with(Post::COMMENTS))
                .filter(User::ID.eq("u1"))
                .all(),
        )
        .unwrap();
        let posts = users[0].posts.as_ref().unwrap();
        assert_eq!(
            posts.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            ["p1", "p2"]
        );
        let comments = posts[0].comments.as_ref().unwrap();
        assert_eq!(
            comments,
            &[Comment::new(-5, "p1", "c-5"), Comment::new(30, "p1", "c30")]
        );
        // Spelled out: what Drizzle gets wrong inside relations.
        assert!(!comments[0].flag && comments[1].flag);
        assert_eq!(comments[0].big, i64::MAX);
        assert_eq!(comments[1].big, i64::MIN);
        assert_eq!(comments[0].blob, vec![0, 255, (-5i64) as u8]);
        assert_eq!(
            comments[0].maybe_blob,
            Some(vec![]),
            "an empty BLOB is not NULL"
        );
        assert_eq!(comments[1].maybe_blob, None);
        assert_eq!(comments[0].ratio, 0.1 + -5.0);
        assert_eq!(comments[1].meta.0.tags, ["t30", "\"quoted\""]);
        assert_eq!(comments[1].meta.0.score, Some(10.0));
        assert_eq!(
            posts[1].comments.as_deref(),
            Some(&[][..]),
            "loaded, but none"
        );
    }
}

#[test]
fn one_relations_nest_and_missing_ones_are_none() {
    for capabilities in [single_statement(), per_level()] {
        let (db, sql) = small_blog(capabilities.clone());
        let comments = block_on(
            db.select::<Comment>()
                .with(Comment::POST.with(Post::AUTHOR).with(Post::COMMENTS))
                .order_by(Comment::ID.desc())
                .all(),
        )
        .unwrap();
        assert_eq!(
            comments.iter().map(|c| c.id).collect::<Vec<_>>(),
            [30, 7, -5]
        );
        let post = comments[0].post.get().unwrap();
        assert_eq!(post.id, "p1");
        assert_eq!(post.author.get().unwrap().email, "a@x");
        assert_eq!(post.comments.as_ref().unwrap().len(), 2);
        assert_eq!(
            comments[1].post.get().unwrap().author.get().unwrap().id,
            "u2"
        );
        let expected_statements = match capabilities.eager {
            EagerStrategy::SingleStatement => 1,
            EagerStrategy::PerLevel => 4,
        };
        assert_eq!(sql.statement_count(), expected_statements);

        // A dangling key (foreign keys off for the insert) gives no author, not an error.
        block_on(db.sql("PRAGMA foreign_keys = OFF").run()).unwrap();
        block_on(db.insert(&Post::new("p9", "ghost", "orphan", 0))).unwrap();
        let orphan = block_on(
            db.select::<Post>()
                .with(Post::AUTHOR)
                .filter(Post::ID.eq("p9"))
                .one(),
        )
        .unwrap();
        assert_eq!(
            orphan.author,
            One::NotFound,
            "loaded, no match: not `NotLoaded`"
        );
    }
}

#[test]
fn eager_loading_composes_with_filters_limits_first_and_page() {
    for capabilities in [single_statement(), per_level()] {
        let (db, _) = small_blog(capabilities);
        let page = block_on(
            db.select::<User>()
                .with(User::POSTS)
                .filter(User::EMAIL.like("%@x"))
                .order_by(User::ID.desc())
                .limit(2)
                .page(),
        )
        .unwrap();
        assert_eq!(page.total, 3);
        assert_eq!(page.items.len(), 2);
        assert_eq!(page.items[0].id, "u3");
        assert_eq!(page.items[0].posts.as_deref(), Some(&[][..]));
        assert_eq!(page.items[1].posts.as_ref().unwrap()[0].id, "p3");
        assert!(
            page.items[1].posts.as_ref().unwrap()[0].comments.is_none(),
            "not requested"
        );

        let first = block_on(
            db.select::<User>()
                .with(User::POSTS)
                .order_by(User::ID.asc())
                .first(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(first.posts.as_ref().unwrap().len(), 2);

        let none = block_on(
            db.select::<User>()
                .with(User::POSTS)
                .filter(User::ID.eq("zz"))
                .all(),
        )
        .unwrap();
        assert!(none.is_empty());
    }
}

#[test]
fn per_level_chunks_keys_under_the_parameter_limit_in_one_round_trip() {
    let capabilities = Capabilities {
        max_params: 100,
        eager: EagerStrategy::PerLevel,
        ..Capabilities::SQLITE
    };
    let (db, sql, _) = setup_with(capabilities);
    let users: Vec<User> = (0..250)
        .map(|i| User::new(&format!("u{i:03}"), &format!("{i}@x")))
        .collect();
    let posts: Vec<Post> = (0..250)
        .map(|i| Post::new(&format!("p{i:03}"), &format!("u{i:03}"), "t", i))
        .collect();
    block_on(db.insert_many(&users)).unwrap();
    block_on(db.insert_many(&posts)).unwrap();
    sql.reset();

    let loaded = block_on(
        db.select::<User>()
            .with(User::POSTS)
            .order_by(User::ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(loaded.len(), 250);
    for (i, user) in loaded.iter().enumerate() {
        let posts = user.posts.as_ref().unwrap();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].views, i as i64);
    }
    assert_eq!(
        sql.round_trips(),
        2,
        "users, then every chunk of posts in one batch"
    );
    assert_eq!(sql.statement_count(), 1 + 3);
    assert!(sql.max_params() <= 100);
}

#[test]
fn single_statement_on_d1_limits() {
    // The blog's comments hold i64::MIN / i64::MAX, which D1 cannot bind: this test is about
    // the statement's shape under D1's other limits.
    // It also pretends JSON carries REALs exactly, so that comments (which have one) embed.
    let (db, sql) = small_blog(Capabilities {
        eager: EagerStrategy::SingleStatement,
        max_exact_integer: None,
        json_exact_reals: true,
        ..Capabilities::D1
    });
    let users = block_on(
        db.select::<User>()
            .with(User::POSTS.with(Post::COMMENTS.with(Comment::POST)))
            .order_by(User::ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(users.len(), 3);
    let comment = &users[0].posts.as_ref().unwrap()[0]
        .comments
        .as_ref()
        .unwrap()[0];
    assert_eq!(comment.post.get().unwrap().id, "p1", "three levels deep");
    assert_eq!(sql.statement_count(), 1);
    let statement = &sql.statements()[0];
    assert!(
        statement.sql.contains("hex("),
        "BLOBs travel as hex: {}",
        statement.sql
    );
}

/// A backend that makes SQLite drop the JSON subtype of every relation subquery (`'' || …`),
/// as SQLite before 3.45 does on its own: nested relations then arrive as JSON strings.
struct SubtypeLoss(sonic_db_core::backend::SharedBackend);

#[async_trait::async_trait]
impl sonic_db_core::SqlBackend for SubtypeLoss {
    fn capabilities(&self) -> &Capabilities {
        self.0.capabilities()
    }

    async fn execute(
        &self,
        statement: &sonic_db_core::Statement,
    ) -> sonic_db_core::Result<sonic_db_core::QueryResult> {
        let mut statement = statement.clone();
        statement.sql = statement
            .sql
            .replace(
                "(SELECT json_group_array(",
                "'' || (SELECT json_group_array(",
            )
            .replace("(SELECT json_array(", "'' || (SELECT json_array(")
            .into();
        self.0.execute(&statement).await
    }

    async fn batch(
        &self,
        statements: &[sonic_db_core::Statement],
    ) -> sonic_db_core::Result<Vec<sonic_db_core::QueryResult>> {
        self.0.batch(statements).await
    }
}

#[test]
fn nested_payloads_that_arrive_as_json_strings_decode_the_same() {
    let (db, _) = small_blog(single_statement());
    let expected = block_on(
        db.select::<User>()
            .with(User::POSTS.with(Post::COMMENTS.with(Comment::POST)))
            .order_by(User::ID.asc())
            .all(),
    )
    .unwrap();

    let lossy = Db::from_shared(std::sync::Arc::new(SubtypeLoss(db.backend().clone())));
    let loaded = block_on(
        lossy
            .select::<User>()
            .with(User::POSTS.with(Post::COMMENTS.with(Comment::POST)))
            .order_by(User::ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(loaded, expected);
    let statement = lossy
        .select::<User>()
        .with(User::POSTS)
        .to_statement()
        .unwrap();
    assert!(
        !statement.sql.contains("''"),
        "the wrapper, not Sonic, adds the concatenation"
    );
}

/// The reference for posts with their comments (each comment with its post when `nested`).
fn naive_posts_with_comments(db: &Db, nested: bool) -> Vec<Post> {
    block_on(async {
        let mut posts = db
            .select::<Post>()
            .order_by(Post::ID.asc())
            .all()
            .await
            .unwrap();
        for post in &mut posts {
            let mut comments = db
                .select::<Comment>()
                .filter(Comment::POST_ID.eq(&post.id))
                .order_by(Comment::ID.asc())
                .all()
                .await
                .unwrap();
            if nested {
                for comment in &mut comments {
                    let mut parent = db.find::<Post>(&comment.post_id).await.unwrap().unwrap();
                    parent.comments = None;
                    comment.post = One::Found(Box::new(parent));
                }
            }
            post.comments = Some(comments);
        }
        posts
    })
}

fn sorted_by_id(mut posts: Vec<Post>) -> Vec<Post> {
    posts.sort_by(|a, b| a.id.cmp(&b.id));
    posts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// An unordered select of one `many` relation with INTEGER child keys loads it with a
    /// LEFT JOIN in the parents' statement; what is nested below loads per level.
    #[test]
    fn a_joined_level_matches_the_naive_reference(tree in tree()) {
        let (db, sql, _) = setup_with(per_level());
        load(&db, &tree);
        let posts_count = block_on(db.select::<Post>().count()).unwrap();
        let comments_count = block_on(db.select::<Comment>().count()).unwrap();
        for nested in [false, true] {
            let expected = naive_posts_with_comments(&db, nested);
            sql.reset();
            let include: Include<Post> = if nested {
                Post::COMMENTS.with(Comment::POST).into()
            } else {
                Post::COMMENTS.into()
            };
            let loaded = block_on(db.select::<Post>().with(include).all()).unwrap();
            prop_assert_eq!(sorted_by_id(loaded), expected);
            let statements = sql.statements();
            prop_assert!(statements[0].sql.contains(" LEFT JOIN \"comments\" AS \"@1\""), "{}", statements[0].sql);
            let levels = 1 + usize::from(nested && comments_count > 0);
            prop_assert_eq!(statements.len(), levels, "{} posts", posts_count);
        }
    }
}

#[test]
fn joined_children_keep_key_order_filters_apply_and_ordered_or_limited_selects_do_not_join() {
    let (db, sql) = small_blog(per_level());
    let posts = block_on(
        db.select::<Post>()
            .with(Post::COMMENTS)
            .filter(Post::USER_ID.eq("u1"))
            .all(),
    )
    .unwrap();
    let posts = sorted_by_id(posts);
    assert_eq!(posts.len(), 2);
    let ids = |post: &Post| -> Vec<i64> {
        post.comments
            .as_ref()
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(
        ids(&posts[0]),
        [-5, 30],
        "inserted 30 first: key order, not insertion order"
    );
    assert_eq!(ids(&posts[1]), Vec::<i64>::new(), "loaded, but none");
    assert_eq!(sql.statement_count(), 1);
    assert!(sql.statements()[0]
        .sql
        .ends_with("WHERE \"@0\".\"user_id\" = ?"));

    // An order, a limit or a second relation loads per level, as before.
    for select in [
        db.select::<Post>()
            .with(Post::COMMENTS)
            .order_by(Post::ID.asc()),
        db.select::<Post>().with(Post::COMMENTS).limit(5),
        db.select::<Post>().with(Post::COMMENTS).with(Post::AUTHOR),
    ] {
        assert!(!select.to_statement().unwrap().sql.contains("JOIN"));
    }
    // A relation to TEXT keys (whose order an index on the foreign key does not give) too.
    let users = db.select::<User>().with(User::POSTS);
    assert!(!users.to_statement().unwrap().sql.contains("JOIN"));
}

/// A backend that hands back the rows of every joined select dealt out of order (even rows,
/// then odd ones): a parent's rows are no longer adjacent, nor its children in key order.
struct Shuffled(sonic_db_core::backend::SharedBackend);

#[async_trait::async_trait]
impl sonic_db_core::SqlBackend for Shuffled {
    fn capabilities(&self) -> &Capabilities {
        self.0.capabilities()
    }

    async fn execute(
        &self,
        statement: &sonic_db_core::Statement,
    ) -> sonic_db_core::Result<sonic_db_core::QueryResult> {
        let mut result = self.0.execute(statement).await?;
        if statement.sql.contains(" LEFT JOIN ") {
            let width = result.columns.len();
            let rows: Vec<Vec<sonic_db_core::Value>> =
                result.values.chunks(width).map(<[_]>::to_vec).collect();
            result.values = rows
                .iter()
                .step_by(2)
                .chain(rows.iter().skip(1).step_by(2))
                .flatten()
                .cloned()
                .collect();
        }
        Ok(result)
    }

    async fn batch(
        &self,
        statements: &[sonic_db_core::Statement],
    ) -> sonic_db_core::Result<Vec<sonic_db_core::QueryResult>> {
        self.0.batch(statements).await
    }
}

#[test]
fn joined_rows_in_any_order_group_and_sort_the_same() {
    let (db, _) = small_blog(per_level());
    block_on(db.insert_many(&[
        Comment::new(3, "p3", "c3"),
        Comment::new(-9, "p1", "c-9"),
        Comment::new(12, "p3", "c12"),
        Comment::new(1, "p2", "c1"),
    ]))
    .unwrap();
    let expected = naive_posts_with_comments(&db, true);
    let shuffled = Db::from_shared(std::sync::Arc::new(Shuffled(db.backend().clone())));
    let loaded = block_on(
        shuffled
            .select::<Post>()
            .with(Post::COMMENTS.with(Comment::POST))
            .all(),
    )
    .unwrap();
    assert_eq!(loaded.len(), 3, "each post once");
    assert_eq!(sorted_by_id(loaded), expected);
}

#[test]
fn relations_with_real_columns_never_travel_through_json_where_it_rounds_them() {
    // D1's json_array writes 15 significant digits; a comment's `ratio` is a REAL.
    let d1 = Capabilities {
        max_exact_integer: None,
        ..Capabilities::D1
    };
    let (db, sql) = small_blog(d1.clone());
    let posts = block_on(db.select::<Post>().with(Post::AUTHOR).all()).unwrap();
    assert_eq!(posts.len(), 3);
    assert_eq!(sql.round_trips(), 1, "no REAL below posts: one statement");

    sql.reset();
    let users = block_on(
        db.select::<User>()
            .with(User::POSTS.with(Post::COMMENTS))
            .order_by(User::ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(
        sql.statement_count(),
        3,
        "level by level: users, posts, comments"
    );
    let (reference, _) = small_blog(Capabilities::SQLITE);
    let expected = block_on(
        reference
            .select::<User>()
            .with(User::POSTS.with(Post::COMMENTS))
            .order_by(User::ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(users, expected, "every REAL bit-exact");
}
