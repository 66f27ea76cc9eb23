//! Many-to-many relations through a join table shaped as SonicJs's `categoriesToPosts`
//! (`id`, `postId`, `categoryId`, audit columns): eager loads in one statement (D1's strategy)
//! and per level give the same records, level options apply, link is idempotent, unlink
//! removes the pair, relation filters and migrations go through the join table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{Audit, Capabilities, Db, EagerStrategy, Error, Schema};

#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "posts")]
struct Post {
    #[column(primary_key)]
    id: String,
    title: String,
    #[relation(many, through = CategoryToPost, from = post_id, to = category_id)]
    categories: Option<Vec<Category>>,
}

#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "categories")]
struct Category {
    #[column(primary_key)]
    id: String,
    title: String,
    #[relation(many, through = CategoryToPost, from = category_id, to = post_id)]
    posts: Option<Vec<Post>>,
}

/// SonicJs's `categoriesToPosts`.
#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "categoriesToPosts")]
struct CategoryToPost {
    #[column(primary_key)]
    id: String,
    #[column(rename = "postId", references = Post::ID, on_delete = "cascade")]
    post_id: String,
    #[column(rename = "categoryId", references = Category::ID, on_delete = "cascade")]
    category_id: String,
    #[audit]
    audit: Audit,
}

fn schema() -> Schema {
    Schema::new()
        .table::<Post>()
        .table::<Category>()
        .table::<CategoryToPost>()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

fn setup(eager: EagerStrategy) -> (Db, CountingSql<SqliteBackend>) {
    let sqlite = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(Capabilities {
            eager,
            ..Capabilities::SQLITE
        });
    sqlite.exec(&schema().to_sql()).unwrap();
    let sql = CountingSql::new(sqlite);
    (Db::new(sql.clone()), sql)
}

fn post(id: &str) -> Post {
    Post {
        id: id.into(),
        title: format!("post {id}"),
        categories: None,
    }
}

fn category(id: &str, title: &str) -> Category {
    Category {
        id: id.into(),
        title: title.into(),
        posts: None,
    }
}

fn link(id: &str, post: &str, category: &str) -> CategoryToPost {
    CategoryToPost {
        id: id.into(),
        post_id: post.into(),
        category_id: category.into(),
        audit: Audit::default(),
    }
}

/// p1: rust, web; p2: web; p3: none; p4: rust, db, web (linked out of key order).
fn seed(db: &Db) {
    block_on(async {
        db.insert_many(&[post("p1"), post("p2"), post("p3"), post("p4")])
            .await
            .unwrap();
        db.insert_many(&[
            category("web", "Web"),
            category("rust", "Rust"),
            category("db", "Databases"),
        ])
        .await
        .unwrap();
        for (id, p, c) in [
            ("l1", "p4", "web"),
            ("l2", "p1", "web"),
            ("l3", "p1", "rust"),
            ("l4", "p2", "web"),
            ("l5", "p4", "db"),
            ("l6", "p4", "rust"),
        ] {
            assert!(db.link(Post::CATEGORIES, &link(id, p, c)).await.unwrap());
        }
    });
}

fn names(post: &Post) -> Vec<String> {
    post.categories
        .as_ref()
        .expect("loaded")
        .iter()
        .map(|c| c.id.clone())
        .collect()
}

#[test]
fn both_strategies_load_the_same_records_single_statement_in_one() {
    let mut answers = Vec::new();
    for eager in [EagerStrategy::SingleStatement, EagerStrategy::PerLevel] {
        let (db, sql) = setup(eager);
        seed(&db);
        sql.reset();
        let posts = block_on(
            db.select::<Post>()
                .with(Post::CATEGORIES.with(Category::POSTS))
                .order_by(Post::ID.asc())
                .all(),
        )
        .unwrap();
        let by_post: Vec<Vec<String>> = posts.iter().map(names).collect();
        assert_eq!(
            by_post,
            [
                vec!["rust", "web"],
                vec!["web"],
                vec![],
                vec!["db", "rust", "web"]
            ],
            "{eager:?}: each post's categories, by primary key"
        );
        // Nested: the posts of p1's `web` category.
        let web = &posts[0].categories.as_ref().unwrap()[1];
        let web_posts: Vec<&str> = web
            .posts
            .as_ref()
            .unwrap()
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(web_posts, ["p1", "p2", "p4"], "{eager:?}");
        let statements = sql.statement_count();
        match eager {
            EagerStrategy::SingleStatement => {
                assert_eq!(statements, 1, "one statement on D1");
                let text = &sql.statements()[0].sql;
                assert!(text.contains("\"categoriesToPosts\""), "{text}");
            }
            _ => assert_eq!(statements, 3, "posts, categories, their posts"),
        }
        answers.push(posts);
    }
    assert_eq!(answers[0], answers[1]);
}

#[test]
fn level_options_filter_order_and_page_per_parent_alike() {
    let mut answers = Vec::new();
    for eager in [EagerStrategy::SingleStatement, EagerStrategy::PerLevel] {
        let (db, _) = setup(eager);
        seed(&db);
        let posts = block_on(
            db.select::<Post>()
                .with(
                    Post::CATEGORIES
                        .filter(Category::ID.ne("db"))
                        .order_by(Category::TITLE.desc())
                        .limit(1),
                )
                .order_by(Post::ID.asc())
                .all(),
        )
        .unwrap();
        let by_post: Vec<Vec<String>> = posts.iter().map(names).collect();
        assert_eq!(
            by_post,
            [vec!["web"], vec!["web"], vec![], vec!["web"]],
            "{eager:?}: titles descending (Web, Rust), the first"
        );
        let paged = block_on(
            db.select::<Post>()
                .with(Post::CATEGORIES.offset(1).limit(1))
                .filter(Post::ID.eq("p4"))
                .one(),
        )
        .unwrap();
        assert_eq!(names(&paged), ["rust"], "{eager:?}");
        answers.push(posts);
    }
    assert_eq!(answers[0], answers[1]);
}

#[test]
fn link_is_idempotent_and_unlink_removes_the_pair() {
    for eager in [EagerStrategy::SingleStatement, EagerStrategy::PerLevel] {
        let (db, _) = setup(eager);
        seed(&db);
        block_on(async {
            // Linking again (another join row id) inserts nothing.
            assert!(!db
                .link(Post::CATEGORIES, &link("l9", "p1", "web"))
                .await
                .unwrap());
            assert_eq!(db.select::<CategoryToPost>().count().await.unwrap(), 6);
            // The other direction sees the same pairs.
            let rust = db
                .select::<Category>()
                .with(Category::POSTS)
                .filter(Category::ID.eq("rust"))
                .one()
                .await
                .unwrap();
            let ids: Vec<&str> = rust.posts.iter().flatten().map(|p| p.id.as_str()).collect();
            assert_eq!(ids, ["p1", "p4"]);

            assert_eq!(db.unlink(Post::CATEGORIES, "p1", "web").await.unwrap(), 1);
            assert_eq!(db.unlink(Post::CATEGORIES, "p1", "web").await.unwrap(), 0);
            let p1 = db
                .select::<Post>()
                .with(Post::CATEGORIES)
                .filter(Post::ID.eq("p1"))
                .one()
                .await
                .unwrap();
            assert_eq!(names(&p1), ["rust"]);
            assert_eq!(db.select::<CategoryToPost>().count().await.unwrap(), 5);

            // A pair linked twice by hand still loads the category once.
            db.insert(&link("dup", "p2", "web")).await.unwrap();
            let p2 = db
                .select::<Post>()
                .with(Post::CATEGORIES)
                .filter(Post::ID.eq("p2"))
                .one()
                .await
                .unwrap();
            assert_eq!(names(&p2), ["web"], "{eager:?}");

            // The audit columns of the join row are stamped like any insert.
            let row = db.find::<CategoryToPost>("l3").await.unwrap().unwrap();
            assert!(row.audit.created_on > 0);
        });
    }
}

#[test]
fn link_refuses_a_row_of_another_table_and_a_relation_without_a_join_table() {
    let (db, _) = setup(EagerStrategy::PerLevel);
    seed(&db);
    #[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
    #[table(name = "other")]
    struct Other {
        #[column(primary_key)]
        id: String,
    }
    let err = block_on(db.link(Post::CATEGORIES, &Other { id: "x".into() })).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery(m) if m.contains("links through `categoriesToPosts`, not `other`")),
        "{err}"
    );
    // A link to a missing category is a foreign key error, and nothing is written.
    let before = block_on(db.select::<CategoryToPost>().count()).unwrap();
    let err = block_on(db.link(Post::CATEGORIES, &link("l9", "p1", "nope"))).unwrap_err();
    assert!(matches!(err, Error::ForeignKeyViolation { .. }), "{err}");
    assert_eq!(
        block_on(db.select::<CategoryToPost>().count()).unwrap(),
        before
    );
}

#[test]
fn relation_filters_go_through_the_join_table() {
    for eager in [EagerStrategy::SingleStatement, EagerStrategy::PerLevel] {
        let (db, _) = setup(eager);
        seed(&db);
        let rusty = block_on(
            db.select::<Post>()
                .filter(Post::CATEGORIES.exists(Category::TITLE.eq("Rust")))
                .order_by(Post::ID.asc())
                .all(),
        )
        .unwrap();
        let ids: Vec<&str> = rusty.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["p1", "p4"]);
    }
}

#[test]
fn migrations_index_both_columns_of_the_join_table() {
    let sql = schema().to_sql();
    for column in ["postId", "categoryId"] {
        let wanted = format!("ON \"categoriesToPosts\" (\"{column}\")");
        assert!(sql.contains(&wanted), "{wanted} in:\n{sql}");
    }
}

#[test]
fn a_two_table_join_of_a_many_to_many_relation_is_refused_by_name() {
    let (db, sql) = setup(EagerStrategy::PerLevel);
    seed(&db);
    sql.reset();
    let err = block_on(db.select::<Post>().join(Post::CATEGORIES).all()).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidQuery(m) if m.contains("`posts`.`categories` is many-to-many")),
        "{err}"
    );
    let err = block_on(db.select::<Post>().left_join(Post::CATEGORIES).count_rows()).unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
    assert_eq!(sql.statement_count(), 0, "nothing sent");
}
