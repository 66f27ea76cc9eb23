//! A many-to-many relation (SonicJs's `categoriesToPosts`) loaded by name through the API:
//! the related table's field rules apply inside it, its cap too, and its access rule decides
//! whether it loads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use http::Request;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use sonic_db_api::{Access, Api, Check, FieldAccess, TableApi};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{Capabilities, Db, EagerStrategy, Schema};

#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "posts")]
struct Post {
    #[column(primary_key)]
    id: String,
    title: String,
    #[relation(many, through = CategoryToPost, from = post_id, to = category_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    categories: Option<Vec<Category>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "categories")]
struct Category {
    #[column(primary_key)]
    id: String,
    title: String,
    /// Only admins see it.
    notes: Option<String>,
    #[relation(many, through = CategoryToPost, from = category_id, to = post_id)]
    #[serde(skip_serializing_if = "Option::is_none", default)]
    posts: Option<Vec<Post>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sonic_db_core::Table)]
#[table(name = "categoriesToPosts")]
struct CategoryToPost {
    #[column(primary_key)]
    id: String,
    #[column(rename = "postId", references = Post::ID)]
    post_id: String,
    #[column(rename = "categoryId", references = Category::ID)]
    category_id: String,
}

fn db(eager: EagerStrategy) -> Db {
    let backend = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(Capabilities {
            eager,
            ..Capabilities::SQLITE
        });
    let db = Db::new(backend);
    let schema = Schema::new()
        .table::<Post>()
        .table::<Category>()
        .table::<CategoryToPost>();
    pollster::block_on(async {
        for s in schema.statements() {
            db.sql(s).run().await.unwrap();
        }
        for i in 0..5 {
            db.insert(&Post {
                id: format!("p{i}"),
                title: format!("post {i}"),
                categories: None,
            })
            .await
            .unwrap();
        }
        for i in 0..4 {
            db.insert(&Category {
                id: format!("c{i}"),
                title: format!("category {i}"),
                notes: Some("internal".into()),
                posts: None,
            })
            .await
            .unwrap();
        }
        // p0 in every category; p1 in c1; every post in c0.
        let mut n = 0;
        let mut link = |p: String, c: String| {
            n += 1;
            CategoryToPost {
                id: format!("l{n}"),
                post_id: p,
                category_id: c,
            }
        };
        for c in 0..4 {
            let row = link("p0".into(), format!("c{c}"));
            db.link(Post::CATEGORIES, &row).await.unwrap();
        }
        let row = link("p1".into(), "c1".into());
        db.link(Post::CATEGORIES, &row).await.unwrap();
        for p in 1..5 {
            let row = link(format!("p{p}"), "c0".into());
            db.link(Post::CATEGORIES, &row).await.unwrap();
        }
    });
    db
}

fn api(categories_readable: bool) -> Api<bool> {
    let admin = || Check::when(|ctx: sonic_db_api::Ctx<bool>| async move { *ctx.principal });
    Api::new("/v1")
        .table(
            TableApi::<Post, bool>::new("posts")
                .relation("categories", || Post::CATEGORIES.into())
                .relation("categories.posts", || {
                    Post::CATEGORIES.with(Category::POSTS).into()
                })
                .max_related(3)
                .read(Access::allow()),
        )
        .table(
            TableApi::<Category, bool>::new("categories")
                .field(Category::NOTES, FieldAccess::new().read(admin()))
                .read(if categories_readable {
                    Access::allow()
                } else {
                    Access::deny()
                }),
        )
}

fn get(api: &Api<bool>, db: &Db, admin: bool, path: &str) -> (u16, Json) {
    let request = Request::get(path).body(Vec::new()).unwrap();
    let response = pollster::block_on(api.handle(db, admin, request));
    let json = serde_json::from_slice(response.body()).unwrap();
    (response.status().as_u16(), json)
}

fn ids(list: &Json) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

#[test]
fn a_many_to_many_relation_loads_by_name_with_the_related_tables_rules_and_cap() {
    let mut answers = Vec::new();
    for eager in [EagerStrategy::SingleStatement, EagerStrategy::PerLevel] {
        let db = db(eager);
        let api = api(true);
        let (status, body) = get(&api, &db, false, "/v1/posts/p1?with=categories");
        assert_eq!(status, 200, "{body}");
        assert_eq!(ids(&body["data"]["categories"]), ["c0", "c1"], "{eager:?}");
        let category = &body["data"]["categories"][0];
        assert!(
            category.get("notes").is_none(),
            "hidden inside the relation: {category}"
        );
        assert_eq!(category["title"], "category 0");
        let (_, admin) = get(&api, &db, true, "/v1/posts/p1?with=categories");
        assert_eq!(admin["data"]["categories"][0]["notes"], "internal");

        // Capped: p0 is in 4 categories, c0 holds 5 posts; the cap is 3 at every level.
        let (status, body) = get(&api, &db, false, "/v1/posts/p0?with=categories.posts");
        assert_eq!(status, 200, "{body}");
        assert_eq!(ids(&body["data"]["categories"]), ["c0", "c1", "c2"]);
        assert_eq!(
            ids(&body["data"]["categories"][0]["posts"]),
            ["p0", "p1", "p2"]
        );
        assert_eq!(
            body["truncated"],
            json!({"categories": 3, "categories.posts": 3})
        );
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1], "both strategies answer alike");
}

#[test]
fn a_many_to_many_relation_to_a_table_the_principal_may_not_read_is_refused() {
    let db = db(EagerStrategy::SingleStatement);
    let (status, body) = get(&api(false), &db, false, "/v1/posts/p1?with=categories");
    assert_eq!(status, 403, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("categories"),
        "{body}"
    );
}
