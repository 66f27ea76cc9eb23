//! Composite primary keys (`#[table(primary_key(a, b))]`, #12 item 1): DDL, find / update /
//! delete / upsert by the tuple, keyset pages that break ties on every key column, the KV
//! cache keyed by the tuple (hits, invalidation, ids that only differ in where a `:` falls),
//! relations from a composite-key table, many-to-many through a composite-key join table
//! (eager loads, link, unlink), cascades into it, the operations that need one key column
//! refused with an error naming the table and its key, and migrations that rebuild a table
//! holding rows into a composite key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "tests"
)]
#![cfg(all(feature = "rusqlite", feature = "derive"))]

use std::path::PathBuf;

use sonic_db_core::migrate::{check, Migrations};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{
    CacheConfig, Capabilities, Db, EagerStrategy, Error, MemoryKv, One, Schema, Source, Table,
    Value,
};

#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "posts")]
struct Post {
    #[column(primary_key)]
    id: String,
    title: String,
    #[relation(many, through = PostCategory, from = post_id, to = category_id)]
    categories: Option<Vec<Category>>,
    /// The join rows themselves: children with a composite key.
    #[relation(many, remote = post_id)]
    links: Option<Vec<PostCategory>>,
}

#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "categories")]
struct Category {
    #[column(primary_key)]
    id: String,
    name: String,
    #[relation(many, through = PostCategory, from = category_id, to = post_id)]
    posts: Option<Vec<Post>>,
}

/// A join table keyed by the pair, as Drizzle's `primaryKey({ columns: [..] })`.
#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "post_categories", primary_key(post_id, category_id))]
struct PostCategory {
    #[column(references = Post::ID, on_delete = "cascade")]
    post_id: String,
    #[column(references = Category::ID, on_delete = "cascade")]
    category_id: String,
    position: i64,
    #[relation(one, local = post_id)]
    post: One<Post>,
}

/// A composite key of two types, the second part an INTEGER.
#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "scores", primary_key(player, round))]
struct Score {
    player: String,
    round: i64,
    points: i64,
}

/// A composite key with an INTEGER part beyond 2^53, deleted by a cascade from `posts`.
#[derive(Debug, Clone, PartialEq, sonic_db_core::Table)]
#[table(name = "votes", primary_key(post_id, voter))]
struct Vote {
    #[column(references = Post::ID, on_delete = "cascade")]
    post_id: String,
    voter: i64,
}

const BIG: i64 = 9_007_199_254_740_993;

fn schema() -> Schema {
    Schema::new()
        .table::<Post>()
        .table::<Category>()
        .table::<PostCategory>()
        .table::<Score>()
        .table::<Vote>()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    pollster::block_on(f)
}

fn sqlite(eager: EagerStrategy) -> SqliteBackend {
    let sqlite = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(Capabilities {
            eager,
            ..Capabilities::SQLITE
        });
    sqlite.exec(&schema().to_sql()).unwrap();
    sqlite
}

fn db() -> Db {
    Db::new(sqlite(EagerStrategy::SingleStatement)).with_schema(&schema())
}

fn cached_db(capabilities: Capabilities) -> Db {
    let sqlite = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(capabilities);
    sqlite.exec(&schema().to_sql()).unwrap();
    Db::new(sqlite)
        .with_schema(&schema())
        .with_kv(MemoryKv::new(), CacheConfig::new())
        .unwrap()
}

fn post(id: &str) -> Post {
    Post {
        id: id.into(),
        title: format!("post {id}"),
        categories: None,
        links: None,
    }
}

fn category(id: &str) -> Category {
    Category {
        id: id.into(),
        name: format!("category {id}"),
        posts: None,
    }
}

fn link(post_id: &str, category_id: &str, position: i64) -> PostCategory {
    PostCategory {
        post_id: post_id.into(),
        category_id: category_id.into(),
        position,
        post: One::NotLoaded,
    }
}

fn score(player: &str, round: i64, points: i64) -> Score {
    Score {
        player: player.into(),
        round,
        points,
    }
}

/// Where `find_with_source` read the link `(post, category)` from, and its position.
async fn link_source(db: &Db, post: &str, category: &str) -> (Source, i64) {
    let found = db
        .find_with_source::<PostCategory>((post, category))
        .await
        .unwrap()
        .unwrap();
    (found.source, found.record.position)
}

async fn seed(db: &Db) {
    db.insert_many(&[post("p1"), post("p2")]).await.unwrap();
    db.insert_many(&[category("c1"), category("c2"), category("c3")])
        .await
        .unwrap();
    db.insert_many(&[
        link("p1", "c1", 1),
        link("p1", "c2", 2),
        link("p2", "c1", 3),
    ])
    .await
    .unwrap();
}

#[test]
fn the_table_has_a_table_level_primary_key() {
    assert_eq!(PostCategory::DEF.primary_key, [0, 1]);
    assert!(PostCategory::DEF.has_composite_key());
    let ddl = schema().statements();
    let create = ddl
        .iter()
        .find(|s| s.contains("\"post_categories\" ("))
        .unwrap();
    assert!(
        create.contains("    PRIMARY KEY (\"post_id\", \"category_id\")"),
        "{create}"
    );
    assert!(
        create.contains("\"post_id\" TEXT NOT NULL REFERENCES"),
        "{create}"
    );
    assert_eq!(
        create.matches("PRIMARY KEY").count(),
        1,
        "no column is a key of its own: {create}"
    );
    // The key's index serves lookups by its first column; the second, a foreign key, gets
    // its own.
    assert!(
        ddl.iter()
            .any(|s| s.contains("ON \"post_categories\" (\"category_id\")")),
        "{ddl:?}"
    );
    assert!(
        !ddl.iter()
            .any(|s| s.contains("ON \"post_categories\" (\"post_id\")")),
        "{ddl:?}"
    );
    // The key parts are handles like any column; their docs and defs say they are keys.
    assert!(PostCategory::POST_ID.def().primary_key && !PostCategory::POSITION.def().primary_key);
}

#[test]
fn find_update_upsert_delete_by_the_tuple() {
    let db = db();
    block_on(async {
        seed(&db).await;
        // `&str` parts convert into the `(String, String)` key, as `"p1"` does for a `String`.
        let found = db
            .find::<PostCategory>(("p1", "c2"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((found.post_id.as_str(), found.position), ("p1", 2));
        assert_eq!(db.find::<PostCategory>(("p2", "c2")).await.unwrap(), None);
        assert_eq!(db.find::<PostCategory>(("c1", "p1")).await.unwrap(), None);
        let fresh = db.find_fresh::<PostCategory>(("p2", "c1")).await.unwrap();
        assert_eq!(fresh.map(|l| l.position), Some(3));

        // An update matches every key column: only (p1, c2) changes.
        let updated = db.update(&link("p1", "c2", 20)).await.unwrap();
        assert_eq!(updated.position, 20);
        let positions: Vec<i64> = db
            .select::<PostCategory>()
            .order_by(PostCategory::POSITION.asc())
            .all()
            .await
            .unwrap()
            .iter()
            .map(|l| l.position)
            .collect();
        assert_eq!(positions, [1, 3, 20]);
        // No row with that pair: not found, nothing else touched.
        let missing = db.update(&link("p2", "c2", 9)).await;
        assert!(missing.is_err(), "{missing:?}");

        // Upsert: `ON CONFLICT ("post_id", "category_id")`.
        db.upsert(&link("p2", "c2", 7)).await.unwrap();
        db.upsert(&link("p2", "c2", 8)).await.unwrap();
        let again = db
            .find::<PostCategory>(("p2", "c2"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.position, 8);
        assert_eq!(db.select::<PostCategory>().count().await.unwrap(), 4);

        // Delete by the tuple: that row only.
        assert!(db.delete::<PostCategory>(("p1", "c1")).await.unwrap());
        assert!(!db.delete::<PostCategory>(("p1", "c1")).await.unwrap());
        assert_eq!(db.select::<PostCategory>().count().await.unwrap(), 3);
        assert!(db
            .find::<PostCategory>(("p2", "c1"))
            .await
            .unwrap()
            .is_some());

        // Keys of two types, and a batch delete by the tuple.
        db.insert_many(&[
            score("ada", 1, 10),
            score("ada", 2, 30),
            score("bob", 1, 20),
        ])
        .await
        .unwrap();
        assert_eq!(
            db.find::<Score>(("ada", 2_i64))
                .await
                .unwrap()
                .map(|s| s.points),
            Some(30)
        );
        let mut unit = db.batch();
        let gone = unit.delete::<Score>(("ada", 1_i64)).unwrap();
        let mut done = unit.run().await.unwrap();
        assert!(done.take(gone).unwrap());
        assert_eq!(db.select::<Score>().count().await.unwrap(), 2);
    });
}

#[test]
fn keyset_pages_break_ties_on_every_key_column() {
    let db = db();
    block_on(async {
        // Every row scores 5: the order is the key, (player, round).
        let rows = [
            score("bob", 2, 5),
            score("ada", 2, 5),
            score("bob", 1, 5),
            score("ada", 1, 5),
            score("ada", 3, 5),
        ];
        db.insert_many(&rows).await.unwrap();
        let mut seen = Vec::new();
        // The first cursor need not be a stored row: after (ada, 1) come (ada, 2), a later
        // round of the same player, and (bob, 1), an earlier round of a later player.
        let mut last = score("ada", 1, 5);
        loop {
            let page = db
                .select::<Score>()
                .order_by(Score::POINTS.desc())
                .after(&last)
                .limit(2)
                .all()
                .await
                .unwrap();
            let Some(end) = page.last() else { break };
            last = end.clone();
            seen.extend(page.iter().map(|s| (s.player.clone(), s.round)));
        }
        let expected: Vec<(String, i64)> = [("ada", 2), ("ada", 3), ("bob", 1), ("bob", 2)]
            .iter()
            .map(|(p, r)| (p.to_string(), *r))
            .collect();
        assert_eq!(seen, expected, "every later row once, in key order");
    });
}

#[test]
fn the_kv_cache_keys_records_by_the_tuple() {
    // D1's capabilities read INTEGERs as text: the key parts come back as the INTEGERs.
    for capabilities in [Capabilities::SQLITE, Capabilities::D1] {
        kv_cache_keys_records_by_the_tuple(cached_db(capabilities));
    }
}

fn kv_cache_keys_records_by_the_tuple(db: Db) {
    block_on(async {
        seed(&db).await;
        // A `:` inside a part cannot make two tuples share a cache entry.
        db.insert_many(&[score("a:b", 1, 1), score("a", 1, 2)])
            .await
            .unwrap();
        assert_eq!(link_source(&db, "p1", "c1").await.0, Source::D1);
        assert_eq!(link_source(&db, "p1", "c1").await, (Source::Kv, 1));
        assert_eq!(link_source(&db, "p1", "c2").await, (Source::D1, 2));

        for (player, points) in [("a:b", 1), ("a", 2), ("a:b", 1), ("a", 2)] {
            let found = db.find::<Score>((player, 1_i64)).await.unwrap().unwrap();
            assert_eq!(found.points, points, "{player}");
        }
        let kv = db.cache().unwrap();
        let ab = kv
            .key_of::<Score>(&Value::Text("4:ta:b2:i1".into()))
            .unwrap();
        let a = kv.key_of::<Score>(&Value::Text("2:ta2:i1".into())).unwrap();
        assert_ne!(ab, a);
        assert!(kv.kv().get(&ab).await.unwrap().is_some(), "{ab}");
        assert!(kv.kv().get(&a).await.unwrap().is_some(), "{a}");
        // The record id is what the cache's by-id methods take; a bare part is no record's.
        let id = score("a:b", 1, 1).record_id().unwrap();
        assert_eq!(kv.key_of::<Score>(&id), Some(ab.clone()));
        assert_eq!(kv.key_of::<Score>(&Value::Text("a:b".into())), None);
        assert_eq!(
            kv.peek::<Score>(&id).await.unwrap().map(|s| s.points),
            Some(1)
        );
        let bare = kv.invalidate::<Score>(&Value::Text("a:b".into())).await;
        assert!(
            matches!(&bare, Err(Error::InvalidQuery(m)) if m.contains("`scores`")),
            "{bare:?}"
        );
        kv.invalidate::<Score>(&id).await.unwrap();
        let again = db
            .find_with_source::<Score>(("a:b", 1_i64))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.source, Source::D1, "invalidated by its record id");

        // An update invalidates the entry: the next read is the new row, from SQL.
        db.update(&link("p1", "c1", 100)).await.unwrap();
        assert_eq!(link_source(&db, "p1", "c1").await, (Source::D1, 100));
        assert_eq!(link_source(&db, "p1", "c1").await, (Source::Kv, 100));

        // So do an upsert, an update by filter and a delete by the tuple.
        db.upsert(&link("p1", "c1", 101)).await.unwrap();
        assert_eq!(
            db.find::<PostCategory>(("p1", "c1"))
                .await
                .unwrap()
                .unwrap()
                .position,
            101
        );
        let changed = db
            .update_where::<PostCategory>()
            .set(PostCategory::POSITION, 102)
            .filter(PostCategory::POST_ID.eq("p1"))
            .run()
            .await
            .unwrap();
        assert_eq!(
            changed, 2,
            "(p1, c1) and (p1, c2): one count per row, not per key part"
        );
        assert_eq!(
            db.find::<PostCategory>(("p1", "c1"))
                .await
                .unwrap()
                .unwrap()
                .position,
            102
        );
        db.find::<PostCategory>(("p1", "c1")).await.unwrap(); // cached again
        assert!(db.delete::<PostCategory>(("p1", "c1")).await.unwrap());
        assert_eq!(db.find::<PostCategory>(("p1", "c1")).await.unwrap(), None);

        // A delete by filter, and a cascade from `posts`, invalidate the pairs they remove.
        db.find::<PostCategory>(("p1", "c2")).await.unwrap(); // cached
        db.find::<PostCategory>(("p2", "c1")).await.unwrap(); // cached
        let removed = db
            .delete_where::<PostCategory>()
            .filter(PostCategory::CATEGORY_ID.eq("c2"))
            .run()
            .await
            .unwrap();
        assert_eq!(removed, 1);
        assert_eq!(db.find::<PostCategory>(("p1", "c2")).await.unwrap(), None);
        db.insert(&link("p1", "c3", 3)).await.unwrap();
        db.find::<PostCategory>(("p1", "c3")).await.unwrap(); // cached
        let votes = [
            Vote {
                post_id: "p2".into(),
                voter: BIG,
            },
            Vote {
                post_id: "p1".into(),
                voter: BIG,
            },
        ];
        db.insert_many(&votes).await.unwrap();
        for vote in &votes {
            db.find::<Vote>((vote.post_id.as_str(), BIG)).await.unwrap(); // cached
        }
        assert!(db.delete::<Post>("p2").await.unwrap());
        assert_eq!(db.find::<Vote>(("p2", BIG)).await.unwrap(), None);
        let other_vote = db
            .find_with_source::<Vote>(("p1", BIG))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            other_vote.source,
            Source::Kv,
            "only the deleted post's votes"
        );
        assert_eq!(
            db.find::<PostCategory>(("p2", "c1")).await.unwrap(),
            None,
            "the cascade's rows are not served stale from KV"
        );
        // The cascade names the pairs it deletes (a `SELECT` of both key columns before the
        // `DELETE`): the other pairs stay cached.
        assert_eq!(link_source(&db, "p1", "c3").await.0, Source::Kv);
    });
}

#[test]
fn relations_from_and_through_a_composite_key_table() {
    for eager in [EagerStrategy::SingleStatement, EagerStrategy::PerLevel] {
        let db = Db::new(sqlite(eager)).with_schema(&schema());
        block_on(async {
            seed(&db).await;
            // A `one` relation from the join table by its own foreign key column.
            let links = db
                .select::<PostCategory>()
                .order_by(PostCategory::POSITION.asc())
                .with(PostCategory::POST)
                .all()
                .await
                .unwrap();
            let owners: Vec<&str> = links
                .iter()
                .map(|l| l.post.get().map(|p| p.id.as_str()).unwrap())
                .collect();
            assert_eq!(owners, ["p1", "p1", "p2"], "{eager:?}");

            // Many-to-many through the composite-key join table, both ways.
            let posts = db
                .select::<Post>()
                .order_by(Post::ID.asc())
                .with(Post::CATEGORIES)
                .all()
                .await
                .unwrap();
            let names = |p: &Post| -> Vec<String> {
                let mut ids: Vec<String> = p
                    .categories
                    .as_ref()
                    .unwrap()
                    .iter()
                    .map(|c| c.id.clone())
                    .collect();
                ids.sort();
                ids
            };
            assert_eq!(names(&posts[0]), ["c1", "c2"], "{eager:?}");
            assert_eq!(names(&posts[1]), ["c1"], "{eager:?}");
            let c1 = db
                .select::<Category>()
                .filter(Category::ID.eq("c1"))
                .with(Category::POSTS)
                .first()
                .await
                .unwrap()
                .unwrap();
            assert_eq!(c1.posts.unwrap().len(), 2, "{eager:?}");

            // Children keyed by a pair come in key order (every key column breaks ties).
            db.insert(&link("p1", "c3", 0)).await.unwrap();
            let with_links = db
                .select::<Post>()
                .filter(Post::ID.eq("p1"))
                .with(Post::LINKS)
                .first()
                .await
                .unwrap()
                .unwrap();
            let order: Vec<&str> = with_links
                .links
                .as_ref()
                .unwrap()
                .iter()
                .map(|l| l.category_id.as_str())
                .collect();
            assert_eq!(order, ["c1", "c2", "c3"], "{eager:?}");
            assert!(db.delete::<PostCategory>(("p1", "c3")).await.unwrap());

            // Link is idempotent; unlink removes the pair only.
            assert!(db
                .link(Post::CATEGORIES, &link("p2", "c3", 9))
                .await
                .unwrap());
            assert!(!db
                .link(Post::CATEGORIES, &link("p2", "c3", 9))
                .await
                .unwrap());
            assert_eq!(db.unlink(Post::CATEGORIES, "p2", "c3").await.unwrap(), 1);
            assert_eq!(db.unlink(Post::CATEGORIES, "p2", "c3").await.unwrap(), 0);
            assert_eq!(db.select::<PostCategory>().count().await.unwrap(), 3);
        });
    }
}

#[test]
fn single_key_operations_are_refused_naming_the_table_and_key() {
    let db = db();
    block_on(async {
        seed(&db).await;
        let record = link("p1", "c1", 1);
        let err = record.primary_key_value().unwrap_err();
        assert!(matches!(err, Error::Unsupported(_)), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("`post_categories`") && text.contains("`post_id`, `category_id`"),
            "{text}"
        );
        assert_eq!(
            record.key_values().unwrap(),
            [Value::Text("p1".into()), Value::Text("c1".into())]
        );
        assert!(PostCategory::DEF.primary_key_column().is_err());

        // Key columns cannot be set by an update.
        let set_key = db
            .update_where::<PostCategory>()
            .set(PostCategory::CATEGORY_ID, "c9".to_string())
            .filter(PostCategory::POST_ID.eq("p1"))
            .run()
            .await
            .unwrap_err();
        assert!(set_key.to_string().contains("`category_id`"), "{set_key}");
        let by_name = db
            .update_where::<PostCategory>()
            .set_by_name("post_id", Value::Text("p9".into()));
        assert!(by_name.is_err() || by_name.unwrap().run().await.is_err());
    });
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

mod before {
    /// The join table with a surrogate key, before the pair became the key.
    #[derive(sonic_db_core::Table)]
    #[table(name = "memberships")]
    pub struct Membership {
        #[column(primary_key)]
        pub id: Option<i64>,
        pub team: String,
        pub member: String,
        pub role: String,
    }
}

mod after {
    #[derive(sonic_db_core::Table)]
    #[table(name = "memberships", primary_key(team, member))]
    pub struct Membership {
        pub team: String,
        pub member: String,
        pub role: String,
    }
}

mod reordered {
    /// The same columns, the key's order swapped: another key, another rebuild.
    #[derive(sonic_db_core::Table)]
    #[table(name = "memberships", primary_key(member, team))]
    pub struct Membership {
        pub team: String,
        pub member: String,
        pub role: String,
    }
}

fn memberships(sqlite: &SqliteBackend) -> Vec<(String, String, String)> {
    sqlite.with_connection(|conn| {
        let mut stmt = conn
            .prepare("SELECT team, member, role FROM memberships ORDER BY team, member")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    })
}

#[test]
fn a_change_of_primary_key_rebuilds_the_table_with_its_rows() {
    let dir = TempDir(std::env::temp_dir().join(format!("sonic-cpk-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    // The surrogate `id` goes: a drop, allowed here.
    let migrations = Migrations::new(&dir.0).allow_drops(true);
    let sqlite = SqliteBackend::memory().unwrap();
    let init = Schema::new().table::<before::Membership>();
    migrations.write_next("init", &init).unwrap().unwrap();
    migrations.apply(&sqlite).unwrap();
    sqlite
        .exec(
            "INSERT INTO memberships (team, member, role) VALUES \
             ('t1', 'ada', 'owner'), ('t1', 'bob', 'member'), ('t2', 'ada', 'member')",
        )
        .unwrap();
    let rows = memberships(&sqlite);

    let composite = Schema::new().table::<after::Membership>();
    let path = migrations
        .write_next("pair_key", &composite)
        .unwrap()
        .unwrap();
    let sql = std::fs::read_to_string(path).unwrap();
    assert!(sql.contains("-- Rebuild \"memberships\""), "{sql}");
    assert!(
        sql.contains("PRIMARY KEY a single column → (team, member)"),
        "{sql}"
    );
    assert!(sql.contains("PRIMARY KEY (\"team\", \"member\")"), "{sql}");
    migrations.apply(&sqlite).unwrap();
    assert_eq!(memberships(&sqlite), rows, "the rebuild keeps the rows");
    assert!(
        check(&sqlite, &composite).unwrap().is_empty(),
        "the database is the schema"
    );
    assert_eq!(
        migrations.plan(&composite).unwrap(),
        None,
        "nothing left to do"
    );
    let duplicate =
        sqlite.exec("INSERT INTO memberships (team, member, role) VALUES ('t1', 'ada', 'x')");
    assert!(
        duplicate.unwrap_err().to_string().contains("UNIQUE"),
        "the pair is the key"
    );

    let swapped = Schema::new().table::<reordered::Membership>();
    let drift = check(&sqlite, &swapped).unwrap();
    assert_eq!(
        drift.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["primary key of `memberships` differs (database → schema): (team, member) → (member, team)"],
        "the key order is checked"
    );
    let path = migrations.write_next("swap", &swapped).unwrap().unwrap();
    let sql = std::fs::read_to_string(path).unwrap();
    assert!(
        sql.contains("PRIMARY KEY (team, member) → (member, team)"),
        "{sql}"
    );
    migrations.apply(&sqlite).unwrap();
    assert_eq!(memberships(&sqlite), rows);
    // Cached rows of the old key order are not read as the new one's.
    use sonic_db_core::cache::envelope::fingerprint;
    assert_ne!(
        fingerprint(after::Membership::DEF),
        fingerprint(reordered::Membership::DEF)
    );

    // Read and written through Sonic after the migrations.
    let db = Db::new(sqlite);
    block_on(async {
        let found = db
            .find::<reordered::Membership>(("bob", "t1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.role, "member");
    });
}

/// A table written by hand whose `PrimaryKey` type disagrees with its two key columns: the
/// arity cannot be checked at compile time, so a find is an error naming the table, never a
/// read by the first column alone.
struct Mismatched;

impl Table for Mismatched {
    const DEF: &'static sonic_db_core::TableDef = &sonic_db_core::TableDef {
        name: "mismatched",
        rust_name: "Mismatched",
        columns: &[
            sonic_db_core::ColumnDef::new("a", "a", sonic_db_core::SqlType::Integer),
            sonic_db_core::ColumnDef::new("b", "b", sonic_db_core::SqlType::Integer),
        ],
        primary_key: &[0, 1],
        relations: &[],
        constraints: sonic_db_core::schema::Constraints::NONE,
    };
    type PrimaryKey = i64;
    fn encode_into(&self, out: &mut Vec<Value>) -> Result<(), Error> {
        out.extend([Value::Integer(1), Value::Integer(2)]);
        Ok(())
    }
    fn column_value(&self, index: usize) -> Result<Value, Error> {
        Ok(Value::Integer(index as i64 + 1))
    }
    fn decode(_: &mut [Value]) -> Result<Self, Error> {
        Ok(Mismatched)
    }
    fn touch(&mut self, _: i64, _: bool) {}
}

#[test]
fn a_key_of_the_wrong_arity_is_an_error_naming_the_table() {
    let db = db();
    block_on(async {
        db.sql(
            "CREATE TABLE mismatched (a INTEGER NOT NULL, b INTEGER NOT NULL, PRIMARY KEY (a, b))",
        )
        .run()
        .await
        .unwrap();
        for result in [
            db.find::<Mismatched>(1).await.map(|_| ()),
            db.delete::<Mismatched>(1).await.map(|_| ()),
        ] {
            let err = result.unwrap_err();
            assert!(
                matches!(&err, Error::InvalidQuery(m) if m.contains("`mismatched`") && m.contains("2 columns")),
                "{err}"
            );
        }
        // The record's own key has both parts.
        assert_eq!(
            Mismatched.key_values().unwrap(),
            [Value::Integer(1), Value::Integer(2)]
        );
    });
}
