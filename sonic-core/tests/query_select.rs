//! Selects: every filter operator and combinator, ordering, limit/offset, count, page,
//! first/one/find, and the by-name forms REST input uses. Each test checks the rows returned.

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
use sonic_db_core::query::{and, not, or, Direction, Op};
use sonic_db_core::{Capabilities, Error, Filter, Order, Page, Value};

fn seed() -> (
    sonic_db_core::Db,
    sonic_db_core::testing::sql::CountingSql<sonic_db_core::sqlite::SqliteBackend>,
) {
    let (db, sql, _clock) = setup();
    block_on(async {
        let mut ada = User::new("u1", "ada@example.com");
        ada.name = None;
        let mut bob = User::new("u2", "bob@example.com");
        bob.active = false;
        let cy = User::new("u3", "cy@example.org");
        db.insert_many(&[ada, bob, cy]).await.unwrap();
        db.insert_many(&[
            Post::new("p1", "u1", "Hello world", 10),
            Post::new("p2", "u1", "Rust on Workers", 250),
            Post::new("p3", "u2", "hello again", 10),
            Post::new("p4", "u3", "D1 limits", 0),
            Post::new("p5", "u3", "KV caching", 99),
        ])
        .await
        .unwrap();
    });
    sql.reset();
    (db, sql)
}

fn post_ids(posts: &[Post]) -> Vec<&str> {
    posts.iter().map(|p| p.id.as_str()).collect()
}

fn select_ids(db: &sonic_db_core::Db, filter: Filter<Post>) -> Vec<String> {
    block_on(
        db.select::<Post>()
            .filter(filter)
            .order_by(Post::ID.asc())
            .all(),
    )
    .unwrap()
    .into_iter()
    .map(|p| p.id)
    .collect()
}

#[test]
fn comparison_operators() {
    let (db, _) = seed();
    assert_eq!(select_ids(&db, Post::VIEWS.eq(10)), ["p1", "p3"]);
    assert_eq!(select_ids(&db, Post::VIEWS.ne(10)), ["p2", "p4", "p5"]);
    assert_eq!(select_ids(&db, Post::VIEWS.lt(99)), ["p1", "p3", "p4"]);
    assert_eq!(
        select_ids(&db, Post::VIEWS.lte(99)),
        ["p1", "p3", "p4", "p5"]
    );
    assert_eq!(select_ids(&db, Post::VIEWS.gt(10)), ["p2", "p5"]);
    assert_eq!(
        select_ids(&db, Post::VIEWS.gte(10)),
        ["p1", "p2", "p3", "p5"]
    );
    assert_eq!(
        select_ids(&db, Post::VIEWS.between(10, 99)),
        ["p1", "p3", "p5"]
    );
    assert_eq!(select_ids(&db, Post::TITLE.eq("D1 limits")), ["p4"]);
    // `impl Into<V>`: a `String`, a `&str` and a `&String` all work for a text column.
    let title = String::from("KV caching");
    assert_eq!(select_ids(&db, Post::TITLE.eq(&title)), ["p5"]);
    assert_eq!(select_ids(&db, Post::TITLE.eq(title)), ["p5"]);
}

#[test]
fn like_is_case_insensitive_for_ascii_and_not_like_negates() {
    let (db, _) = seed();
    assert_eq!(select_ids(&db, Post::TITLE.like("hello%")), ["p1", "p3"]);
    assert_eq!(select_ids(&db, Post::TITLE.like("%o_ W%")), ["p2"]);
    assert_eq!(
        select_ids(&db, Post::TITLE.not_like("hello%")),
        ["p2", "p4", "p5"]
    );
}

#[test]
fn lists_and_empty_lists() {
    let (db, _) = seed();
    assert_eq!(
        select_ids(&db, Post::ID.in_list(["p5", "p1", "nope"])),
        ["p1", "p5"]
    );
    assert_eq!(
        select_ids(&db, Post::ID.not_in_list(vec!["p5", "p1"])),
        ["p2", "p3", "p4"]
    );
    assert!(select_ids(&db, Post::ID.in_list(Vec::<String>::new())).is_empty());
    assert_eq!(
        select_ids(&db, Post::ID.not_in_list(Vec::<String>::new())).len(),
        5
    );
}

#[test]
fn null_checks() {
    let (db, _) = seed();
    let without_name = block_on(db.select::<User>().filter(User::NAME.is_null()).all()).unwrap();
    assert_eq!(without_name.len(), 1);
    assert_eq!(without_name[0].id, "u1");
    assert_eq!(without_name[0].name, None);
    let named = block_on(
        db.select::<User>()
            .filter(User::NAME.is_not_null())
            .order_by(User::ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(
        named.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["u2", "u3"]
    );
    assert_eq!(named[0].name.as_deref(), Some("name of u2"));
}

#[test]
fn combinators() {
    let (db, _) = seed();
    let popular = Post::VIEWS.gt(50);
    let by_ada = Post::USER_ID.eq("u1");
    assert_eq!(select_ids(&db, popular.clone().and(by_ada.clone())), ["p2"]);
    assert_eq!(
        select_ids(&db, popular.clone().or(by_ada.clone())),
        ["p1", "p2", "p5"]
    );
    assert_eq!(
        select_ids(&db, and([popular.clone(), by_ada.clone()])),
        ["p2"]
    );
    assert_eq!(
        select_ids(&db, or([popular.clone(), by_ada.clone()])),
        ["p1", "p2", "p5"]
    );
    assert_eq!(select_ids(&db, not(popular.clone())), ["p1", "p3", "p4"]);
    assert_eq!(select_ids(&db, !popular.clone()), ["p1", "p3", "p4"]);
    assert_eq!(select_ids(&db, popular.clone() & by_ada.clone()), ["p2"]);
    assert_eq!(
        select_ids(&db, popular.clone() | by_ada.clone()),
        ["p1", "p2", "p5"]
    );
    // Nesting keeps precedence: (u1 or u3) and not popular.
    assert_eq!(
        select_ids(
            &db,
            or([Post::USER_ID.eq("u1"), Post::USER_ID.eq("u3")]) & !popular.clone()
        ),
        ["p1", "p4"]
    );
    // Empty combinators are the neutral elements.
    assert_eq!(select_ids(&db, and::<Post>([])).len(), 5);
    assert!(select_ids(&db, or::<Post>([])).is_empty());
    // Double negation folds away.
    assert_eq!(not(not(popular.clone())), popular);
    // Two `.filter` calls must both match.
    let both = block_on(
        db.select::<Post>()
            .filter(Post::USER_ID.eq("u1"))
            .filter(Post::VIEWS.eq(10))
            .all(),
    )
    .unwrap();
    assert_eq!(post_ids(&both), ["p1"]);
}

#[test]
fn ordering_by_several_columns_limit_and_offset() {
    let (db, _) = seed();
    let all = block_on(
        db.select::<Post>()
            .order_by(Post::VIEWS.desc())
            .order_by(Post::ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(post_ids(&all), ["p2", "p5", "p1", "p3", "p4"]);

    let ties_reversed = block_on(
        db.select::<Post>()
            .order_by(Post::VIEWS.asc())
            .order_by(Post::ID.desc())
            .all(),
    )
    .unwrap();
    assert_eq!(post_ids(&ties_reversed), ["p4", "p3", "p1", "p5", "p2"]);

    let page = block_on(
        db.select::<Post>()
            .order_by(Post::VIEWS.desc())
            .order_by(Post::ID.asc())
            .limit(2)
            .offset(1)
            .all(),
    )
    .unwrap();
    assert_eq!(post_ids(&page), ["p5", "p1"]);

    let skipped = block_on(db.select::<Post>().order_by(Post::ID.asc()).offset(3).all()).unwrap();
    assert_eq!(post_ids(&skipped), ["p4", "p5"]);

    let none = block_on(db.select::<Post>().limit(0).all()).unwrap();
    assert!(none.is_empty());
}

#[test]
fn count_ignores_limit_and_page_reports_the_total() {
    let (db, sql) = seed();
    let count = block_on(db.select::<Post>().filter(Post::VIEWS.lt(100)).count()).unwrap();
    assert_eq!(count, 4);
    assert_eq!(
        block_on(db.select::<Post>().limit(1).count()).unwrap(),
        5,
        "count is over every matching row"
    );

    sql.reset();
    let page: Page<Post> = block_on(
        db.select::<Post>()
            .filter(Post::VIEWS.lt(100))
            .order_by(Post::ID.asc())
            .limit(2)
            .offset(1)
            .page(),
    )
    .unwrap();
    assert_eq!(page.total, 4);
    assert_eq!(post_ids(&page.items), ["p3", "p4"]);
    assert_eq!(
        sql.round_trips(),
        1,
        "page and total come in one round trip"
    );
    assert_eq!(sql.statement_count(), 2);

    let past_the_end = block_on(db.select::<Post>().offset(50).limit(10).page()).unwrap();
    assert!(past_the_end.items.is_empty());
    assert_eq!(past_the_end.total, 5);

    let json = serde_json::to_value(&page).unwrap();
    assert_eq!(json["total"], 4);
    assert_eq!(json["items"][0]["id"], "p3");
}

#[test]
fn first_one_and_find() {
    let (db, _) = seed();
    let first = block_on(db.select::<Post>().order_by(Post::VIEWS.desc()).first()).unwrap();
    assert_eq!(first.map(|p| p.id).as_deref(), Some("p2"));

    let missing = block_on(db.select::<Post>().filter(Post::VIEWS.gt(1_000)).first()).unwrap();
    assert!(missing.is_none());

    let one = block_on(
        db.select::<Post>()
            .filter(Post::TITLE.eq("D1 limits"))
            .one(),
    )
    .unwrap();
    assert_eq!(one.id, "p4");
    assert_eq!(one.views, 0);

    let err = block_on(db.select::<Post>().filter(Post::VIEWS.gt(1_000)).one()).unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { table } if table == "posts"),
        "{err}"
    );

    let found = block_on(db.find::<User>("u2")).unwrap().unwrap();
    assert_eq!(found.email, "bob@example.com");
    assert!(!found.active);
    assert_eq!(found.audit.created_on, NOW);
    assert!(block_on(db.find::<User>("nobody")).unwrap().is_none());
    let id = String::from("u3");
    assert!(block_on(db.find::<User>(&id)).unwrap().is_some());
}

#[test]
fn dynamic_filters_and_orderings_by_name() {
    let (db, _) = seed();
    let run = |filter: Filter<Post>, order: &str| -> Vec<String> {
        block_on(
            db.select::<Post>()
                .filter(filter)
                .order_by(Order::parse(order).unwrap())
                .order_by(Post::ID.asc())
                .all(),
        )
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect()
    };
    // filters[views][$gte]=10&sort=views:desc
    assert_eq!(
        run(Filter::parse("views", "$gte", "10").unwrap(), "views:desc"),
        ["p2", "p5", "p1", "p3"]
    );
    assert_eq!(
        run(
            Filter::parse("title", "$eq", "KV caching").unwrap(),
            "title"
        ),
        ["p5"]
    );
    assert_eq!(
        run(Filter::parse("id", "$in", "p3,p1").unwrap(), "title:asc"),
        ["p1", "p3"]
    );
    assert_eq!(
        run(
            Filter::parse("views", "$between", "1,99").unwrap(),
            "id:desc"
        ),
        ["p5", "p3", "p1"]
    );
    assert_eq!(
        run(Filter::parse("title", "$like", "%caching").unwrap(), "id"),
        ["p5"]
    );
    assert_eq!(
        run(
            Filter::by_name("views", Op::Lt, [Value::Integer(10)]).unwrap(),
            "id:ASC"
        ),
        ["p4"]
    );
    let active: Filter<User> = Filter::parse("active", "eq", "false").unwrap();
    let inactive = block_on(db.select::<User>().filter(active).all()).unwrap();
    assert_eq!(inactive.len(), 1);
    assert_eq!(inactive[0].id, "u2");
    let unnamed: Filter<User> = Filter::parse("name", "$null", "").unwrap();
    assert_eq!(
        block_on(db.select::<User>().filter(unnamed).count()).unwrap(),
        1
    );

    let by_name = Order::<Post>::by_name("views", Direction::Desc).unwrap();
    assert_eq!(by_name, Post::VIEWS.desc());
}

#[test]
fn literal_text_operators_by_name_match_the_typed_helpers() {
    let (db, _) = seed();
    block_on(db.insert(&Post::new("p6", "u1", "50% off_now", 1))).unwrap();
    let ids = |filter: Filter<Post>| select_ids(&db, filter);
    for (op, text, expected) in [
        ("$contains", "o", vec!["p1", "p2", "p3", "p6"]),
        ("$contains", "0% off_", vec!["p6"]),
        ("$contains", "%", vec!["p6"]),
        ("$startsWith", "hello", vec!["p1", "p3"]),
        ("$startsWith", "_", vec![]),
        ("$endsWith", "ing", vec!["p5"]),
        ("$endsWith", "_now", vec!["p6"]),
    ] {
        let by_name = ids(Filter::parse("title", op, text).unwrap());
        assert_eq!(by_name, expected, "{op} {text:?}");
        let typed = match op {
            "$contains" => Post::TITLE.contains(text),
            "$startsWith" => Post::TITLE.starts_with(text),
            _ => Post::TITLE.ends_with(text),
        };
        assert_eq!(ids(typed), by_name, "{op} {text:?} as the typed helper");
    }
    // Text only: a number column, or a number operand, is refused before any SQL.
    assert!(matches!(
        Filter::<Post>::parse("views", "$contains", "1"),
        Err(Error::InvalidQuery(_))
    ));
    assert!(matches!(
        Filter::<Post>::by_name("title", Op::StartsWith, [Value::Integer(1)]),
        Err(Error::InvalidQuery(_))
    ));
    assert!(matches!(
        Filter::<Post>::by_name("title", Op::EndsWith, []),
        Err(Error::InvalidQuery(_))
    ));
}

#[test]
fn dynamic_input_is_validated_against_the_schema() {
    let err = Filter::<Post>::parse("title\"; DROP TABLE posts; --", "$eq", "x").unwrap_err();
    assert!(
        matches!(&err, Error::UnknownColumn { table, column } if table == "posts" && column.starts_with("title\"")),
        "{err}"
    );
    let err = Order::<Post>::parse("nope:desc").unwrap_err();
    assert!(
        matches!(&err, Error::UnknownColumn { table, column } if table == "posts" && column == "nope"),
        "{err}"
    );
    assert!(matches!(
        Order::<Post>::parse("title:sideways"),
        Err(Error::InvalidQuery(_))
    ));
    assert!(matches!(
        Filter::<Post>::parse("title", "$regex", "x"),
        Err(Error::InvalidQuery(_))
    ));
    let err = Filter::<Post>::parse("views", "$gt", "many").unwrap_err();
    assert!(
        matches!(&err, Error::Encode { table, column, .. } if table == "posts" && column == "views"),
        "{err}"
    );
    assert!(matches!(
        Filter::<Post>::by_name("views", Op::Between, [Value::Integer(1)]),
        Err(Error::InvalidQuery(_))
    ));
    assert!(matches!(
        Filter::<Post>::by_name("views", Op::IsNull, [Value::Integer(1)]),
        Err(Error::InvalidQuery(_))
    ));
}

#[test]
fn operands_that_cannot_be_encoded_fail_when_the_query_runs() {
    let (db, sql, _) = setup();
    let err = block_on(
        db.select::<Sample>()
            .filter(Sample::REAL.eq(f64::NAN))
            .all(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, Error::Encode { table, column, .. } if table == "samples" && column == "real"),
        "{err}"
    );
    let err = block_on(
        db.select::<Sample>()
            .filter(Sample::ID.eq(1) | Sample::REAL.between(0.0, f64::INFINITY))
            .count(),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Encode { .. }), "{err}");
    assert_eq!(sql.statement_count(), 0, "nothing reached the database");
}

#[test]
fn statements_bind_every_value_and_quote_every_identifier() {
    let (db, _) = seed();
    let statement = db
        .select::<Post>()
        .filter(Post::TITLE.eq("x") & Post::VIEWS.between(1, 2))
        .order_by(Post::CREATED_ON.desc())
        .limit(10)
        .offset(20)
        .to_statement()
        .unwrap();
    assert_eq!(
        statement.sql,
        "SELECT \"id\", \"user_id\", \"title\", \"views\", \"created_on\", \"updated_on\" \
         FROM \"posts\" WHERE (\"title\" = ? AND \"views\" BETWEEN ? AND ?) \
         ORDER BY \"created_on\" DESC LIMIT 10 OFFSET 20"
    );
    // LIMIT and OFFSET are literals (integers of the typed API): a bound LIMIT makes SQLite
    // re-prepare the statement at every execution.
    assert_eq!(
        statement.params,
        [
            Value::Text("x".into()),
            Value::Integer(1),
            Value::Integer(2)
        ]
    );
}

#[test]
fn find_sends_the_select_by_primary_key_without_a_limit() {
    let (db, sql) = seed();
    let found = block_on(db.find::<Post>("p2")).unwrap().unwrap();
    assert_eq!(found.title, "Rust on Workers");
    assert_eq!(block_on(db.find::<Post>("nope")).unwrap(), None);
    let statements = sql.statements();
    let select = db
        .select::<Post>()
        .filter(Post::ID.eq("p2"))
        .to_statement()
        .unwrap();
    assert_eq!(
        (statements[0].sql.as_str(), &statements[0].params),
        (&*select.sql, &select.params),
        "the statement a select by key compiles to"
    );
    assert_eq!(statements[1].sql, select.sql, "one text for every key");
    assert_eq!(statements[1].params, [Value::Text("nope".into())]);
}

#[test]
fn futures_are_send() {
    fn assert_send<F: Send>(_: F) {}
    let (db, _, _) = setup();
    assert_send(
        db.select::<User>()
            .with(User::POSTS.with(Post::COMMENTS))
            .all(),
    );
    assert_send(db.select::<Post>().page());
    assert_send(db.find::<User>("u1"));
    let user = User::new("u9", "x@y.z");
    assert_send(db.insert(&user));
    assert_send(
        db.update_where::<User>()
            .set(User::NAME, "n")
            .all_rows()
            .returning(),
    );
    assert_send(db.sql("SELECT 1").all_json());
}

// ------------------------------------------------------------ includes of one relation

/// What D1's `batch()` does to every result: rows become JavaScript objects keyed by column
/// name, so columns of the same name collapse into one (at the first one's position, with the
/// last one's value), and an empty result has no column names at all.
struct KeyedByName(sonic_db_core::sqlite::SqliteBackend);

#[async_trait::async_trait]
impl sonic_db_core::SqlBackend for KeyedByName {
    fn capabilities(&self) -> &sonic_db_core::Capabilities {
        self.0.capabilities()
    }

    async fn execute(
        &self,
        statement: &sonic_db_core::Statement,
    ) -> sonic_db_core::Result<sonic_db_core::QueryResult> {
        self.0.execute(statement).await
    }

    async fn batch(
        &self,
        statements: &[sonic_db_core::Statement],
    ) -> sonic_db_core::Result<Vec<sonic_db_core::QueryResult>> {
        Ok(self
            .0
            .batch(statements)
            .await?
            .into_iter()
            .map(keyed_by_name)
            .collect())
    }
}

fn keyed_by_name(result: sonic_db_core::QueryResult) -> sonic_db_core::QueryResult {
    if result.values.is_empty() {
        return sonic_db_core::QueryResult {
            columns: Default::default(),
            ..result
        };
    }
    let mut names: Vec<String> = Vec::new();
    let mut slot_of = Vec::with_capacity(result.columns.len());
    for name in result.columns.iter() {
        match names.iter().position(|n| n == name) {
            Some(slot) => slot_of.push(slot),
            None => {
                slot_of.push(names.len());
                names.push(name.clone());
            }
        }
    }
    let mut values = Vec::new();
    for row in result.values.chunks(result.columns.len()) {
        let mut object = vec![Value::Null; names.len()];
        for (value, &slot) in row.iter().zip(&slot_of) {
            object[slot] = value.clone();
        }
        values.extend(object);
    }
    sonic_db_core::QueryResult {
        columns: names.into(),
        values,
        ..result
    }
}

/// A blog on SQLite with single-statement eager loading, whose batches come back as D1's do.
fn blog_keyed_by_name() -> sonic_db_core::Db {
    let sqlite = sonic_db_core::sqlite::SqliteBackend::memory()
        .unwrap()
        .with_capabilities(single_statement());
    sqlite.exec(&schema().to_sql()).unwrap();
    let db = sonic_db_core::Db::new(KeyedByName(sqlite));
    block_on(async {
        db.insert_many(&[User::new("u1", "a@x"), User::new("u2", "b@x")])
            .await
            .unwrap();
        db.insert_many(&[
            Post::new("p1", "u1", "one", 1),
            Post::new("p2", "u1", "two", 2),
            Post::new("p3", "u2", "three", 3),
        ])
        .await
        .unwrap();
        db.insert_many(&[Comment::new(1, "p1", "c1"), Comment::new(2, "p3", "c2")])
            .await
            .unwrap();
    });
    db
}

#[test]
fn includes_of_the_same_relation_merge_into_one() {
    for capabilities in [single_statement(), per_level()] {
        let (db, sql, _) = setup_with(capabilities.clone());
        block_on(async {
            db.insert(&User::new("u1", "a@x")).await.unwrap();
            db.insert_many(&[
                Post::new("p1", "u1", "one", 1),
                Post::new("p2", "u1", "two", 2),
            ])
            .await
            .unwrap();
            db.insert(&Comment::new(1, "p2", "c")).await.unwrap();
        });
        let load = |select: sonic_db_core::query::Select<'_, User>| {
            sql.reset();
            let users = block_on(select.order_by(User::ID.asc()).all()).unwrap();
            (users, sql.statement_count())
        };
        let (expected, statements) =
            load(db.select::<User>().with(User::POSTS.with(Post::COMMENTS)));
        assert_eq!(
            expected[0].posts.as_ref().unwrap()[1]
                .comments
                .as_ref()
                .unwrap()[0]
                .id,
            1
        );

        // Either order, and twice the same: the union, loaded once.
        for select in [
            db.select::<User>()
                .with(User::POSTS)
                .with(User::POSTS.with(Post::COMMENTS)),
            db.select::<User>()
                .with(User::POSTS.with(Post::COMMENTS))
                .with(User::POSTS),
            db.select::<User>()
                .with(User::POSTS.with(Post::COMMENTS))
                .with(User::POSTS.with(Post::COMMENTS)),
        ] {
            assert_eq!(
                load(select),
                (expected.clone(), statements),
                "{capabilities:?}"
            );
        }

        // Nested includes merge too: comments from one, their post from the other.
        let (merged, merged_statements) = load(
            db.select::<User>()
                .with(User::POSTS.with(Post::COMMENTS))
                .with(User::POSTS.with(Post::COMMENTS.with(Comment::POST)))
                .with(User::POSTS.with(Post::AUTHOR)),
        );
        let (union, union_statements) = load(
            db.select::<User>().with(
                User::POSTS
                    .with(Post::COMMENTS.with(Comment::POST))
                    .with(Post::AUTHOR),
            ),
        );
        assert_eq!(
            (merged, merged_statements),
            (union.clone(), union_statements)
        );
        let post = &union[0].posts.as_ref().unwrap()[1];
        assert_eq!(post.author.get().unwrap().id, "u1");
        assert_eq!(
            post.comments.as_ref().unwrap()[0].post.get().unwrap().id,
            "p2"
        );

        // `Eager::with` merges as well.
        let (twice, _) = load(
            db.select::<User>()
                .with(User::POSTS.with(Post::COMMENTS).with(Post::COMMENTS)),
        );
        assert_eq!(twice, expected);
    }
}

#[test]
fn relation_columns_have_unique_names_in_a_single_statement() {
    let (db, _, _) = setup_with(single_statement());
    let twice = db
        .select::<User>()
        .with(User::POSTS)
        .with(User::POSTS.with(Post::COMMENTS))
        .to_statement()
        .unwrap();
    let once = db
        .select::<User>()
        .with(User::POSTS.with(Post::COMMENTS))
        .to_statement()
        .unwrap();
    assert_eq!(twice, once);
    assert_eq!(
        twice.sql.matches(" AS \"@posts\"").count(),
        1,
        "{}",
        twice.sql
    );
    assert!(!twice.sql.contains(" AS \"posts\""), "{}", twice.sql);
}

#[test]
fn a_page_with_relations_decodes_from_a_batch_keyed_by_column_name() {
    let db = blog_keyed_by_name();
    let page = block_on(
        db.select::<User>()
            .with(User::POSTS)
            .with(User::POSTS.with(Post::COMMENTS))
            .order_by(User::ID.asc())
            .page(),
    )
    .unwrap();
    assert_eq!(page.total, 2);
    let posts = page.items[0].posts.as_ref().unwrap();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].comments.as_ref().unwrap()[0].body, "c1");
    assert_eq!(posts[1].comments.as_deref(), Some(&[][..]));
    let posts = page.items[1].posts.as_ref().unwrap();
    assert_eq!(posts[0].comments.as_ref().unwrap()[0].body, "c2");

    // A page past the end: no rows, so no column names either.
    let empty = block_on(db.select::<User>().with(User::POSTS).offset(10).page()).unwrap();
    assert_eq!((empty.items.len(), empty.total), (0, 2));
}

#[test]
fn unknown_operators_are_reported_with_the_known_ones() {
    let err = "$regex".parse::<Op>().unwrap_err().to_string();
    assert!(err.contains("unknown filter operator `$regex`"), "{err}");
    for (name, _) in Op::NAMES {
        assert!(err.contains(&format!("${name}")), "{err} lacks {name}");
    }
    let err = Filter::<Post>::parse("title", "$regex", "x").unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
}

#[test]
fn statements_of_one_shape_share_their_text_and_bind_their_own_values() {
    let (db, sql) = seed();
    // Every kind of operand, twice with other values: the second statement runs the text the
    // first wrote, with its own values in the same order.
    let filter = |views: (i64, i64), ids: [&str; 2], title: &str| {
        and([
            Post::VIEWS.between(views.0, views.1),
            or([Post::ID.in_list(ids), Post::TITLE.contains(title)]),
            Post::USER_ID.ne("nobody"),
        ])
    };
    let run = |filter: Filter<Post>| {
        block_on(
            db.select::<Post>()
                .filter(filter)
                .order_by(Post::VIEWS.desc())
                .limit(2)
                .all(),
        )
        .unwrap()
    };
    assert_eq!(
        post_ids(&run(filter((0, 100), ["p4", "p9"], "caching"))),
        ["p5", "p4"]
    );
    assert_eq!(
        post_ids(&run(filter((10, 300), ["p3", "p9"], "Rust"))),
        ["p2", "p3"]
    );
    assert!(run(filter((11, 98), ["p1", "p3"], "zzz")).is_empty());
    let statements = sql.statements();
    assert_eq!(statements.len(), 3);
    assert!(statements.iter().all(|s| s.sql == statements[0].sql));
    assert_eq!(
        statements[1].params,
        [
            Value::Integer(10),
            Value::Integer(300),
            Value::Text("p3".into()),
            Value::Text("p9".into()),
            Value::Text("%Rust%".into()),
            Value::Text("nobody".into()),
        ]
    );
    // Another limit is another text.
    let three = block_on(
        db.select::<Post>()
            .filter(filter((0, 1000), ["p1", "p2"], "o"))
            .order_by(Post::VIEWS.desc())
            .limit(3)
            .all(),
    )
    .unwrap();
    let mut three = post_ids(&three);
    three.sort_unstable();
    assert_eq!(three, ["p1", "p2", "p3"]); // p1 and p3 tie on views
                                           // Counts of one shape, too.
    for (views, expected) in [(100, 4), (10, 1), (0, 0)] {
        let count = block_on(db.select::<Post>().filter(Post::VIEWS.lt(views)).count());
        assert_eq!(count.unwrap(), expected);
    }
}

#[test]
fn a_shape_written_inline_goes_as_json_where_the_parameter_limit_is_lower() {
    // The same shape of statement (an IN list of 20), first where 20 parameters fit, then on
    // a backend that takes 10: there the list must travel as JSON, not as the text the first
    // one wrote.
    let ids: Vec<String> = (1..=20).map(|i| format!("p{i}")).collect();
    let (roomy, _) = seed();
    let found = block_on(
        roomy
            .select::<Post>()
            .filter(Post::ID.in_list(ids.clone()))
            .count(),
    );
    assert_eq!(found.unwrap(), 5);
    let (tight, sql, _) = setup_with(Capabilities {
        max_params: 10,
        ..Capabilities::SQLITE
    });
    block_on(tight.insert(&User::new("u1", "ada@example.com"))).unwrap();
    block_on(tight.insert(&Post::new("p7", "u1", "Seventh", 7))).unwrap();
    sql.reset();
    let found = block_on(tight.select::<Post>().filter(Post::ID.in_list(ids)).count());
    assert_eq!(found.unwrap(), 1);
    let statements = sql.statements();
    assert!(
        statements[0].sql.contains("json_each"),
        "{}",
        statements[0].sql
    );
    assert_eq!(statements[0].params.len(), 1);
}

#[test]
fn a_one_relation_is_joined_in_a_single_statement_under_names_of_its_own() {
    let db = blog_keyed_by_name();
    let joined = db
        .select::<Post>()
        .with(Post::AUTHOR)
        .to_statement()
        .unwrap();
    assert!(
        joined
            .sql
            .contains(r#" LEFT JOIN "users" AS "@1" ON "@1"."id" = "@0"."user_id""#),
        "{}",
        joined.sql
    );
    assert!(
        joined.sql.contains(r#""@1"."id" AS "@author.id""#),
        "{}",
        joined.sql
    );
    assert!(!joined.sql.contains("json_"), "{}", joined.sql);
    // With a relation nested below it, the record comes as JSON.
    let nested = db
        .select::<Post>()
        .with(Post::AUTHOR.with(User::POSTS))
        .to_statement()
        .unwrap();
    assert!(!nested.sql.contains("LEFT JOIN"), "{}", nested.sql);

    // A page is a batch, whose rows this backend keys by column name: both tables have `id`
    // and the audit columns, so the joined ones must be named apart.
    let page = block_on(
        db.select::<Post>()
            .with(Post::AUTHOR)
            .with(Post::COMMENTS)
            .order_by(Post::ID.desc())
            .limit(2)
            .page(),
    )
    .unwrap();
    assert_eq!(page.total, 3);
    let got: Vec<(&str, Option<&str>, usize)> = page
        .items
        .iter()
        .map(|p| {
            let author = p.author.get().map(|a| a.email.as_str());
            (
                p.id.as_str(),
                author,
                p.comments.as_ref().map_or(0, Vec::len),
            )
        })
        .collect();
    assert_eq!(got, [("p3", Some("b@x"), 1), ("p2", Some("a@x"), 0)]);
    let author = page.items[0].author.get().unwrap();
    assert_eq!(
        (author.id.as_str(), author.active),
        ("u2", User::new("u2", "b@x").active)
    );
}

/// A table with a REAL column, and one whose `one` relation targets it.
#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "ratings")]
struct Rating {
    #[column(primary_key)]
    id: i64,
    score: f64,
}

#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "reviews")]
struct Review {
    #[column(primary_key)]
    id: i64,
    rating_id: Option<i64>,
    #[relation(one, local = rating_id)]
    rating: sonic_db_core::One<Rating>,
}

#[test]
fn on_d1_a_joined_one_relation_with_a_real_column_loads_in_one_statement() {
    // D1's JSON does not carry REALs exactly, so a relation to `ratings` through JSON would
    // load per level (two statements); joined, its score is a plain cell.
    let sqlite = sonic_db_core::sqlite::SqliteBackend::memory()
        .unwrap()
        .with_capabilities(Capabilities::D1);
    let schema = sonic_db_core::Schema::new()
        .table::<Rating>()
        .table::<Review>();
    sqlite.exec(&schema.to_sql()).unwrap();
    let sql = sonic_db_core::testing::sql::CountingSql::new(sqlite);
    let db = sonic_db_core::Db::new(sql.clone());
    let third = 1.0 / 3.0;
    block_on(async {
        db.insert(&Rating {
            id: 1,
            score: third,
        })
        .await
        .unwrap();
        for (id, rating_id) in [(10, Some(1)), (11, None), (12, Some(2))] {
            let review = Review {
                id,
                rating_id,
                rating: sonic_db_core::One::NotLoaded,
            };
            db.insert(&review).await.unwrap();
        }
    });
    sql.reset();
    let reviews = block_on(
        db.select::<Review>()
            .with(Review::RATING)
            .order_by(Review::ID.asc())
            .all(),
    )
    .unwrap();
    assert_eq!(sql.statement_count(), 1);
    let ratings: Vec<_> = reviews.iter().map(|r| r.rating.clone()).collect();
    use sonic_db_core::One;
    let found = One::Found(Box::new(Rating {
        id: 1,
        score: third,
    }));
    assert_eq!(ratings, [found, One::NotFound, One::NotFound]);
}

#[test]
fn natively_joined_one_relations_load_in_one_statement_up_to_a_limit_of_100() {
    let (db, sql, _) = setup_with(Capabilities::SQLITE);
    block_on(async {
        db.insert_many(&[User::new("u1", "a@x"), User::new("u2", "b@x")])
            .await
            .unwrap();
        let posts: Vec<Post> = (0..120)
            .map(|i| {
                Post::new(
                    &format!("p{i:03}"),
                    if i % 2 == 0 { "u1" } else { "u2" },
                    "t",
                    i,
                )
            })
            .collect();
        db.insert_many(&posts).await.unwrap();
    });
    let load = |limit: Option<u64>| {
        sql.reset();
        let mut select = db
            .select::<Post>()
            .with(Post::AUTHOR)
            .order_by(Post::ID.desc());
        if let Some(n) = limit {
            select = select.limit(n);
        }
        let posts = block_on(select.all()).unwrap();
        let authors: Vec<(String, String)> = posts
            .iter()
            .map(|p| (p.id.clone(), p.author.get().unwrap().email.clone()))
            .collect();
        (authors, sql.statement_count())
    };
    let (all, per_level) = load(None);
    assert_eq!(
        per_level, 2,
        "without a limit: the posts, then their authors"
    );
    assert_eq!(all.len(), 120);
    assert_eq!(all[0], ("p119".to_string(), "b@x".to_string()));
    for limit in [1, 20, 100] {
        let (some, statements) = load(Some(limit));
        assert_eq!(statements, 1, "a limit of {limit}: one statement");
        assert_eq!(some[..], all[..limit as usize]);
    }
    assert_eq!(load(Some(101)).1, 2, "beyond 100: per level");
}
