//! Routing through `Db` with a KV cache, asserted with counting backends: which store each
//! call touches, and exactly which KV operations each write does.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod cache_common;

use cache_common::{block_on, note, Events, Note};
use sonic_db_core::cache::{CacheConfig, CacheEvent, KvCache, Source, TableCache};
use sonic_db_core::kv::MemoryKv;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::faulty_sql::{FaultySql, SqlFaultRates};
use sonic_db_core::testing::kv::{CountingKv, KvCounts};
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{
    Capabilities, Column, ColumnDef, Db, Error, FixedClock, ForeignKey, QueryResult, RelationDef,
    RelationKind, Schema, SqlBackend, SqlType, Statement, Table, TableDef, Value,
};

const ID: Column<Note, i64> = Column::new(0);
const TITLE: Column<Note, String> = Column::new(1);

struct Setup {
    db: Db,
    sql: CountingSql<SqliteBackend>,
    kv: CountingKv<MemoryKv>,
    events: Events,
}

fn setup(config: CacheConfig) -> Setup {
    let sqlite = SqliteBackend::memory().unwrap();
    sqlite
        .exec(
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body BLOB, \
             score REAL NOT NULL)",
        )
        .unwrap();
    let sql = CountingSql::new(sqlite);
    let clock = FixedClock::new(cache_common::T0);
    let kv = CountingKv::new(MemoryKv::with_clock(clock.clone()));
    let events = Events::default();
    let cache = KvCache::new(kv.clone(), config)
        .unwrap()
        .with_hook(events.hook());
    let db = Db::new(sql.clone()).with_clock(clock).with_cache(cache);
    Setup {
        db,
        sql,
        kv,
        events,
    }
}

impl Setup {
    fn reset(&self) {
        self.sql.reset();
        self.kv.reset();
    }
    /// (SQL statements, KV counts) since the last reset.
    fn counts(&self) -> (usize, KvCounts) {
        (self.sql.statement_count(), self.kv.counts())
    }
}

/// A find reads the record and its two generations with one bulk get.
fn kv(bulk_gets: u64, puts: u64, deletes: u64) -> KvCounts {
    KvCounts {
        bulk_gets,
        puts,
        deletes,
        ..KvCounts::default()
    }
}

#[test]
fn cold_find_is_one_statement_and_one_fill_warm_find_is_one_bulk_get() {
    block_on(async {
        let s = setup(CacheConfig::new());
        s.db.sql("INSERT INTO notes VALUES (1, 'a', NULL, 0.5)")
            .run()
            .await
            .unwrap();
        s.reset();

        let cold = s.db.find_with_source::<Note>(1).await.unwrap().unwrap();
        assert_eq!(cold.source, Source::D1);
        assert_eq!(s.counts(), (1, kv(1, 1, 0)));

        s.reset();
        let warm = s.db.find_with_source::<Note>(1).await.unwrap().unwrap();
        assert_eq!((warm.record, warm.source), (cold.record, Source::Kv));
        assert_eq!(s.counts(), (0, kv(1, 0, 0)));
        assert_eq!(serde_json::to_value(Source::Kv).unwrap(), "kv");

        // `find` is the same read without the source.
        s.reset();
        assert_eq!(s.db.find::<Note>(1).await.unwrap().unwrap().title, "a");
        assert_eq!(s.counts(), (0, kv(1, 0, 0)));

        // A missing record: one get, one statement, nothing cached.
        s.reset();
        assert!(s.db.find::<Note>(2).await.unwrap().is_none());
        assert_eq!(s.counts(), (1, kv(1, 0, 0)));
    });
}

#[test]
fn fresh_reads_lists_counts_and_filters_never_touch_kv() {
    block_on(async {
        let s = setup(CacheConfig::new());
        s.db.insert_many(&[note(1, "a"), note(2, "b")])
            .await
            .unwrap();
        s.db.find::<Note>(1).await.unwrap();
        s.reset();

        let fresh = s.db.find_fresh::<Note>(1).await.unwrap().unwrap();
        assert_eq!(fresh.title, "a");
        assert_eq!(s.db.select::<Note>().all().await.unwrap().len(), 2);
        assert_eq!(s.db.select::<Note>().count().await.unwrap(), 2);
        let one =
            s.db.select::<Note>()
                .filter(ID.eq(1))
                .first()
                .await
                .unwrap();
        assert_eq!(one.unwrap().id, 1);
        let (statements, kv_counts) = s.counts();
        assert_eq!(statements, 4);
        assert_eq!(kv_counts.total(), 0, "only find-by-key reads KV");
    });
}

#[test]
fn inserts_do_no_kv_operation_and_other_writes_put_one_generation_per_bucket() {
    block_on(async {
        // Notes 1 to 5 fall in five different buckets of 64.
        let s = setup(CacheConfig::new());

        s.reset();
        s.db.insert(&note(1, "a")).await.unwrap();
        assert_eq!(s.counts(), (1, kv(0, 0, 0)), "insert: nothing in KV");

        s.reset();
        s.db.insert_many(&[note(2, "b"), note(3, "c"), note(4, "d")])
            .await
            .unwrap();
        assert_eq!(s.counts(), (1, kv(0, 0, 0)), "insert_many: nothing in KV");
        for id in 1..=4 {
            s.db.find::<Note>(id).await.unwrap(); // filled
        }

        s.reset();
        s.db.update(&note(1, "a2")).await.unwrap();
        assert_eq!(s.counts(), (1, kv(0, 1, 0)), "update: one generation put");

        s.reset();
        s.db.upsert(&note(5, "e")).await.unwrap();
        s.db.upsert(&note(5, "e2")).await.unwrap();
        assert_eq!(s.counts(), (2, kv(0, 2, 0)), "upsert: one generation put");

        s.reset();
        let changed =
            s.db.update_where::<Note>()
                .set(TITLE, "z")
                .filter(ID.lt(3))
                .run()
                .await;
        assert_eq!(changed.unwrap(), 2);
        assert_eq!(
            s.counts(),
            (1, kv(0, 2, 0)),
            "update_where: one generation put per bucket changed"
        );

        s.reset();
        let rows =
            s.db.update_where::<Note>()
                .set(TITLE, "y")
                .filter(ID.eq(3))
                .returning()
                .await;
        assert_eq!(rows.unwrap().len(), 1);
        assert_eq!(s.counts(), (1, kv(0, 1, 0)));

        // Each written record is read from SQL once, then from KV; note 4 was not written.
        s.reset();
        let titles: Vec<(String, Source)> = futures_titles(&s.db, 1..=5).await;
        let expected = [
            ("z", Source::D1),
            ("z", Source::D1),
            ("y", Source::D1),
            ("d", Source::Kv),
            ("e2", Source::D1),
        ];
        assert_eq!(titles, expected.map(|(t, s)| (t.to_string(), s)));
        assert_eq!(s.counts(), (4, kv(5, 4, 0)));
        let titles: Vec<(String, Source)> = futures_titles(&s.db, 1..=5).await;
        assert!(titles.iter().all(|(_, source)| *source == Source::Kv));

        s.reset();
        assert!(s.db.delete::<Note>(1).await.unwrap());
        assert_eq!(s.counts(), (1, kv(0, 1, 0)), "delete: one generation put");
        s.reset();
        assert!(!s.db.delete::<Note>(1).await.unwrap());
        assert_eq!(
            s.counts(),
            (1, kv(0, 0, 0)),
            "a delete that deleted nothing does nothing"
        );

        s.reset();
        let deleted =
            s.db.delete_where::<Note>()
                .filter(ID.in_list([2, 3, 9]))
                .run()
                .await;
        assert_eq!(deleted.unwrap(), 2);
        assert_eq!(
            s.counts(),
            (1, kv(0, 2, 0)),
            "delete_where: one generation put per bucket"
        );

        s.reset();
        let gone =
            s.db.delete_where::<Note>()
                .filter(ID.eq(4))
                .returning()
                .await
                .unwrap();
        assert_eq!(gone.len(), 1);
        assert_eq!(s.counts(), (1, kv(0, 1, 0)));

        s.reset();
        for id in 1..=4 {
            assert!(s.db.find::<Note>(id).await.unwrap().is_none());
        }
        assert!(s.events.take().is_empty());
    });
}

async fn futures_titles(db: &Db, ids: std::ops::RangeInclusive<i64>) -> Vec<(String, Source)> {
    let mut out = Vec::new();
    for id in ids {
        let found = db.find_with_source::<Note>(id).await.unwrap().unwrap();
        out.push((found.record.title, found.source));
    }
    out
}

#[test]
fn a_failed_sql_write_never_touches_kv() {
    block_on(async {
        let s = setup(CacheConfig::new());
        s.db.insert(&note(1, "a")).await.unwrap();
        s.db.find::<Note>(1).await.unwrap(); // filled
        s.reset();
        // Constraint errors: nothing changed, nothing to suspect.
        assert!(matches!(
            s.db.insert(&note(1, "b")).await,
            Err(Error::UniqueViolation { .. })
        ));
        assert!(matches!(
            s.db.update(&note(7, "b")).await,
            Err(Error::NotFound { .. })
        ));
        assert_eq!(s.kv.counts().total(), 0);
        let found = s.db.find_with_source::<Note>(1).await.unwrap().unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            ("a", Source::Kv)
        );
    });
}

#[test]
fn an_ambiguous_sql_failure_invalidates_what_it_may_have_written() {
    block_on(async {
        let sqlite = SqliteBackend::memory().unwrap();
        sqlite
            .exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body BLOB, score REAL NOT NULL)")
            .unwrap();
        let sql = FaultySql::new(CountingSql::new(sqlite), 1, SqlFaultRates::default());
        let kv = CountingKv::new(MemoryKv::new());
        let db = Db::new(sql.clone())
            .with_kv(kv.clone(), CacheConfig::new())
            .unwrap();
        db.insert(&note(1, "a")).await.unwrap();
        db.find::<Note>(1).await.unwrap(); // filled
        assert_eq!(
            db.find_with_source::<Note>(1)
                .await
                .unwrap()
                .unwrap()
                .source,
            Source::Kv
        );

        sql.set_rates(SqlFaultRates {
            read: 0.0,
            write: 1.0,
        });
        kv.reset();
        assert!(db.update(&note(1, "b")).await.is_err());
        assert!(db
            .update_where::<Note>()
            .set(TITLE, "c")
            .filter(ID.eq(1))
            .run()
            .await
            .is_err());
        // The error does not say whether D1 committed: the key's bucket, and for the write
        // by filter (keys unknown) the table, get fresh generations, for every handle.
        assert_eq!((kv.counts().puts, kv.counts().deletes), (2, 0));
        assert!(kv.inner().peek("sonic:notes:#g").is_some());
        let found = db.find_with_source::<Note>(1).await.unwrap().unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            ("a", Source::D1)
        );
    });
}

#[test]
fn tables_can_opt_out_and_keys_can_be_prefixed() {
    block_on(async {
        let s = setup(CacheConfig::new().table::<Note>(TableCache::disabled()));
        s.db.insert(&note(1, "a")).await.unwrap();
        s.db.update_where::<Note>()
            .set(TITLE, "b")
            .filter(ID.eq(1))
            .run()
            .await
            .unwrap();
        let found = s.db.find_with_source::<Note>(1).await.unwrap().unwrap();
        assert_eq!(found.source, Source::D1);
        s.db.delete::<Note>(1).await.unwrap();
        assert_eq!(s.kv.counts().total(), 0);

        let s = setup(CacheConfig::new().table::<Note>(TableCache::new().prefix("blog").ttl(3600)));
        s.db.insert(&note(1, "a")).await.unwrap();
        s.db.find::<Note>(1).await.unwrap();
        assert_eq!(s.kv.inner().keys(), ["blog:notes:1"]);
        assert_eq!(
            s.kv.inner().expires_at_ms("blog:notes:1"),
            Some(cache_common::T0 + 3_600_000)
        );
    });
}

#[test]
fn a_corrupted_entry_is_healed_through_db() {
    block_on(async {
        let s = setup(CacheConfig::new());
        s.db.insert(&note(1, "right")).await.unwrap();
        for garbage in [
            &b"\x00\xff"[..],
            br#"{"v":2,"fp":"0000000000000000","tg":"","bg":"","row":[1,"old",null,0.0]}"#,
            b"{\"data\":{}}",
        ] {
            s.kv.inner().plant("sonic:notes:1", garbage.to_vec());
            s.reset();
            let found = s.db.find_with_source::<Note>(1).await.unwrap().unwrap();
            assert_eq!((found.record, found.source), (note(1, "right"), Source::D1));
            assert_eq!(
                s.counts(),
                (1, kv(1, 1, 0)),
                "read SQL and overwrote the entry"
            );
            assert!(matches!(
                &s.events.take()[..],
                [CacheEvent::Undecodable { .. }]
            ));
            let found = s.db.find_with_source::<Note>(1).await.unwrap().unwrap();
            assert_eq!((found.record, found.source), (note(1, "right"), Source::Kv));
        }
    });
}

#[test]
fn invalidate_and_purge_cover_writes_made_outside_the_api() {
    block_on(async {
        let s = setup(CacheConfig::new());
        s.db.insert_many(&(1..=3).map(|i| note(i, "a")).collect::<Vec<_>>())
            .await
            .unwrap();
        for id in 1..=3 {
            s.db.find::<Note>(id).await.unwrap(); // filled
        }
        // Raw SQL bypasses the cache: the entry is stale until invalidated.
        s.db.sql("UPDATE notes SET title = 'raw' WHERE id = 1")
            .run()
            .await
            .unwrap();
        assert_eq!(s.db.find::<Note>(1).await.unwrap().unwrap().title, "a");
        let cache = s.db.cache().unwrap();
        cache
            .invalidate::<Note>(&sonic_db_core::Value::Integer(1))
            .await
            .unwrap();
        assert_eq!(s.db.find::<Note>(1).await.unwrap().unwrap().title, "raw");

        s.db.find::<Note>(1).await.unwrap(); // filled again
        s.db.sql("UPDATE notes SET title = 'raw'")
            .run()
            .await
            .unwrap();
        assert_eq!(cache.purge::<Note>().await.unwrap(), 3);
        let left = s.kv.inner().keys();
        assert!(
            left.iter().all(|k| k.contains(":#")),
            "only generations: {left:?}"
        );
        assert_eq!(s.db.find::<Note>(2).await.unwrap().unwrap().title, "raw");
    });
}

// ---- deletes through foreign keys ----
//
// `users` ← `posts` (CASCADE) ← `comments` (CASCADE); `likes` → `users` (SET NULL); `threads`
// → `threads` (CASCADE, a tree). `users` declares a `many` relation to `posts` (and nothing
// else declares one), so without a schema only `posts` can be found from `users`.

/// A row of the foreign-key tables: an integer key and an optional integer reference.
/// A row's INTEGER cells that arrived as text (D1's capabilities, #12 item 3) as INTEGERs.
fn integers_from_text(row: &mut [Value]) {
    for value in row {
        if let Value::Text(text) = value {
            if let Some(i) = sonic_db_core::value::integer_from_text(text) {
                *value = Value::Integer(i);
            }
        }
    }
}

macro_rules! ref_table {
    ($ty:ident, $def:ident) => {
        #[derive(Debug, Clone, PartialEq)]
        struct $ty {
            id: i64,
            parent: Option<i64>,
        }

        impl Table for $ty {
            const DEF: &'static TableDef = &$def;
            type PrimaryKey = i64;

            fn encode_into(&self, out: &mut Vec<Value>) -> sonic_db_core::Result<()> {
                out.push(self.column_value(0)?);
                out.push(self.column_value(1)?);
                Ok(())
            }

            fn column_value(&self, index: usize) -> sonic_db_core::Result<Value> {
                match index {
                    0 => Ok(Value::Integer(self.id)),
                    1 => Ok(self.parent.map_or(Value::Null, Value::Integer)),
                    _ => Err(Error::InvalidQuery(format!("no column {index}"))),
                }
            }

            fn decode(row: &mut [Value]) -> sonic_db_core::Result<Self> {
                // INTEGER columns arrive as text under D1's capabilities (#12 item 3).
                integers_from_text(row);
                match row {
                    [Value::Integer(id), Value::Null] => Ok($ty {
                        id: *id,
                        parent: None,
                    }),
                    [Value::Integer(id), Value::Integer(parent)] => Ok($ty {
                        id: *id,
                        parent: Some(*parent),
                    }),
                    _ => Err(Error::Database {
                        message: format!("bad {} row {row:?}", $def.name),
                    }),
                }
            }

            fn touch(&mut self, _now_ms: i64, _inserting: bool) {}
        }

        impl $ty {
            fn new(id: i64, parent: impl Into<Option<i64>>) -> Self {
                $ty {
                    id,
                    parent: parent.into(),
                }
            }
        }
    };
}

const fn key_column(name: &'static str) -> ColumnDef {
    ColumnDef {
        primary_key: true,
        ..ColumnDef::new(name, name, SqlType::Integer)
    }
}

static USERS: TableDef = TableDef {
    name: "users",
    rust_name: "User",
    columns: &[
        key_column("id"),
        ColumnDef {
            nullable: true,
            ..ColumnDef::new("team", "team", SqlType::Integer)
        },
    ],
    primary_key: &[0],
    relations: &[RelationDef {
        name: "posts",
        kind: RelationKind::Many,
        target: || &POSTS,
        local: 0,
        remote: || 1,
        through: None,
    }],
    constraints: sonic_db_core::schema::Constraints::NONE,
};
static POSTS: TableDef = TableDef {
    name: "posts",
    rust_name: "Post",
    columns: &[
        key_column("id"),
        ColumnDef {
            nullable: true,
            references: Some(ForeignKey {
                target: || (&USERS, &USERS.columns[0]),
                on_delete: Some("CASCADE"),
            }),
            ..ColumnDef::new("user_id", "user_id", SqlType::Integer)
        },
    ],
    primary_key: &[0],
    relations: &[],
    constraints: sonic_db_core::schema::Constraints::NONE,
};
static COMMENTS: TableDef = TableDef {
    name: "comments",
    rust_name: "Comment",
    columns: &[
        key_column("id"),
        ColumnDef {
            nullable: true,
            references: Some(ForeignKey {
                target: || (&POSTS, &POSTS.columns[0]),
                on_delete: Some("cascade"),
            }),
            ..ColumnDef::new("post_id", "post_id", SqlType::Integer)
        },
    ],
    primary_key: &[0],
    relations: &[],
    constraints: sonic_db_core::schema::Constraints::NONE,
};
static LIKES: TableDef = TableDef {
    name: "likes",
    rust_name: "Like",
    columns: &[
        key_column("id"),
        ColumnDef {
            nullable: true,
            references: Some(ForeignKey {
                target: || (&USERS, &USERS.columns[0]),
                on_delete: Some("SET NULL"),
            }),
            ..ColumnDef::new("user_id", "user_id", SqlType::Integer)
        },
    ],
    primary_key: &[0],
    relations: &[],
    constraints: sonic_db_core::schema::Constraints::NONE,
};
static THREADS: TableDef = TableDef {
    name: "threads",
    rust_name: "Thread",
    columns: &[
        key_column("id"),
        ColumnDef {
            nullable: true,
            references: Some(ForeignKey {
                target: || (&THREADS, &THREADS.columns[0]),
                on_delete: Some("CASCADE"),
            }),
            ..ColumnDef::new("parent_id", "parent_id", SqlType::Integer)
        },
    ],
    primary_key: &[0],
    relations: &[],
    constraints: sonic_db_core::schema::Constraints::NONE,
};

// `ring_a.b_id` → `ring_b` and `ring_b.a_id` → `ring_a`, both CASCADE: a cycle.
static RING_A: TableDef = TableDef {
    name: "ring_a",
    rust_name: "RingA",
    columns: &[
        key_column("id"),
        ColumnDef {
            nullable: true,
            references: Some(ForeignKey {
                target: || (&RING_B, &RING_B.columns[0]),
                on_delete: Some("CASCADE"),
            }),
            ..ColumnDef::new("b_id", "b_id", SqlType::Integer)
        },
    ],
    primary_key: &[0],
    relations: &[],
    constraints: sonic_db_core::schema::Constraints::NONE,
};
static RING_B: TableDef = TableDef {
    name: "ring_b",
    rust_name: "RingB",
    columns: &[
        key_column("id"),
        ColumnDef {
            nullable: true,
            references: Some(ForeignKey {
                target: || (&RING_A, &RING_A.columns[0]),
                on_delete: Some("CASCADE"),
            }),
            ..ColumnDef::new("a_id", "a_id", SqlType::Integer)
        },
    ],
    primary_key: &[0],
    relations: &[],
    constraints: sonic_db_core::schema::Constraints::NONE,
};

ref_table!(RingA, RING_A);
ref_table!(RingB, RING_B);
ref_table!(User, USERS);
ref_table!(Post, POSTS);
ref_table!(Comment, COMMENTS);
ref_table!(Like, LIKES);
ref_table!(Thread, THREADS);

const USER_ID: Column<User, i64> = Column::new(0);
const THREAD_ID: Column<Thread, i64> = Column::new(0);

fn graph_schema() -> Schema {
    Schema::new()
        .table::<User>()
        .table::<Post>()
        .table::<Comment>()
        .table::<Like>()
        .table::<Thread>()
        .table::<RingA>()
        .table::<RingB>()
}

/// Two handles (two isolates) on one SQL database and one KV namespace, counted.
struct Graph {
    db: Db,
    sql: CountingSql<SqliteBackend>,
    kv: CountingKv<MemoryKv>,
    events: Events,
    clock: FixedClock,
    schema: Option<Schema>,
}

fn graph(capabilities: Capabilities, schema: Option<Schema>, config: CacheConfig) -> Graph {
    let sqlite = SqliteBackend::memory()
        .unwrap()
        .with_capabilities(capabilities);
    for statement in graph_schema().statements() {
        sqlite.exec(&statement).unwrap();
    }
    let sql = CountingSql::new(sqlite);
    let clock = FixedClock::new(cache_common::T0);
    let kv = CountingKv::new(MemoryKv::with_clock(clock.clone()));
    let events = Events::default();
    let cache = KvCache::new(kv.clone(), config)
        .unwrap()
        .with_hook(events.hook());
    let mut db = Db::new(sql.clone()).with_clock(clock.clone());
    if let Some(schema) = &schema {
        db = db.with_schema(schema);
    }
    Graph {
        db: db.with_cache(cache),
        sql,
        kv,
        events,
        clock,
        schema,
    }
}

impl Graph {
    fn reset(&self) {
        self.sql.reset();
        self.kv.reset();
    }

    /// (SQL round trips, SQL statements, KV counts) since the last reset.
    fn counts(&self) -> (usize, usize, KvCounts) {
        (
            self.sql.round_trips(),
            self.sql.statement_count(),
            self.kv.counts(),
        )
    }

    /// Another handle on the same SQL and KV, remembering nothing (another isolate).
    fn other(&self) -> Db {
        let db = Db::new(self.sql.clone()).with_clock(self.clock.clone());
        let db = match &self.schema {
            Some(schema) => db.with_schema(schema),
            None => db,
        };
        db.with_kv(self.kv.clone(), CacheConfig::new()).unwrap()
    }

    /// Users 1 and 2; posts 10, 11 (user 1) and 20 (user 2); comments 100 (post 10), 110
    /// (post 11), 200 (post 20); likes 1000 (user 1) and 2000 (user 2): every one read once,
    /// so cached in KV.
    async fn seed(&self) {
        let db = &self.db;
        db.insert_many(&[User::new(1, None), User::new(2, None)])
            .await
            .unwrap();
        db.insert_many(&[Post::new(10, 1), Post::new(11, 1), Post::new(20, 2)])
            .await
            .unwrap();
        db.insert_many(&[
            Comment::new(100, 10),
            Comment::new(110, 11),
            Comment::new(200, 20),
        ])
        .await
        .unwrap();
        db.insert_many(&[Like::new(1000, 1), Like::new(2000, 2)])
            .await
            .unwrap();
        for id in [1, 2] {
            db.find::<User>(id).await.unwrap();
        }
        for id in [10, 11, 20] {
            db.find::<Post>(id).await.unwrap();
        }
        for id in [100, 110, 200] {
            db.find::<Comment>(id).await.unwrap();
        }
        for id in [1000, 2000] {
            db.find::<Like>(id).await.unwrap();
        }
        self.reset();
    }
}

async fn source<T: Table>(db: &Db, id: i64) -> Option<(T, Source)>
where
    // A single-column key (`IntoKey` converts into column types and tuples of them).
    T::PrimaryKey: From<i64> + sonic_db_core::ColumnType,
{
    db.find_with_source::<T>(id)
        .await
        .unwrap()
        .map(|f| (f.record, f.source))
}

#[test]
fn a_cascade_two_levels_deep_deletes_every_cached_row_it_removes() {
    block_on(async {
        let g = graph(Capabilities::D1, Some(graph_schema()), CacheConfig::new());
        g.seed().await;
        assert_eq!(
            source::<Comment>(&g.db, 100).await,
            Some((Comment::new(100, 10), Source::Kv))
        );
        g.reset();

        assert!(g.db.delete::<User>(1).await.unwrap());
        // One round trip: the keys of posts, comments and likes, then the DELETE; then one
        // generation put per bucket of a row gone or changed (all in different buckets here):
        // user 1, posts 10 and 11, comments 100 and 110, like 1000 (SET NULL).
        assert_eq!(g.counts(), (1, 4, kv(0, 6, 0)));
        let statements = g.sql.statements();
        assert!(statements.iter().all(|s| s.batched));
        assert!(statements[3].sql.starts_with("DELETE FROM \"users\""));
        assert!(statements
            .iter()
            .any(|s| s.sql.contains("FROM \"comments\" WHERE \"post_id\" IN (SELECT \"id\" FROM \"posts\" WHERE \"user_id\" IN (SELECT \"id\" FROM \"users\" WHERE \"id\" = ?))")));
        assert!(statements.iter().all(|s| s.params.len() == 1));

        // Gone for this handle and for another one.
        let other = g.other();
        for db in [&g.db, &other] {
            assert_eq!(source::<Post>(db, 10).await, None);
            assert_eq!(source::<Post>(db, 11).await, None);
            assert_eq!(source::<Comment>(db, 100).await, None);
            assert_eq!(source::<Comment>(db, 110).await, None);
        }
        // The old entries are still in KV, never served again.
        assert!(g.kv.inner().peek("sonic:posts:10").is_some());
        // User 2's rows were not touched and are still hits.
        assert_eq!(
            source::<Comment>(&other, 200).await,
            Some((Comment::new(200, 20), Source::Kv))
        );
        assert_eq!(
            source::<Post>(&g.db, 20).await,
            Some((Post::new(20, 2), Source::Kv))
        );
        assert!(g.events.take().is_empty());
    });
}

#[test]
fn set_null_invalidates_the_rows_it_changes() {
    block_on(async {
        let g = graph(
            Capabilities::SQLITE,
            Some(graph_schema()),
            CacheConfig::new(),
        );
        g.seed().await;
        assert!(g.db.delete::<User>(1).await.unwrap());
        let other = g.other();
        // The like stays, with its user cleared: read from SQL once, then cached again.
        assert_eq!(
            source::<Like>(&other, 1000).await,
            Some((Like::new(1000, None), Source::D1))
        );
        assert_eq!(
            source::<Like>(&g.db, 1000).await,
            Some((Like::new(1000, None), Source::Kv)),
            "filled by the other handle's read, after the delete"
        );
        assert_eq!(
            source::<Like>(&other, 1000).await,
            Some((Like::new(1000, None), Source::Kv))
        );
        assert_eq!(
            source::<Like>(&other, 2000).await,
            Some((Like::new(2000, 2), Source::Kv))
        );
    });
}

#[test]
fn delete_where_collects_the_cascade_in_the_same_batch() {
    block_on(async {
        let g = graph(Capabilities::D1, Some(graph_schema()), CacheConfig::new());
        g.seed().await;

        // `run`: users 1 and 2, so every post, comment and like.
        let deleted =
            g.db.delete_where::<User>()
                .filter(USER_ID.in_list([1, 2, 3]))
                .run()
                .await
                .unwrap();
        assert_eq!(deleted, 2);
        assert_eq!(g.counts(), (1, 4, kv(0, 2 + 3 + 3 + 2, 0)));
        let other = g.other();
        for id in [10, 11, 20] {
            assert_eq!(source::<Post>(&other, id).await, None);
        }
        for id in [100, 110, 200] {
            assert_eq!(source::<Comment>(&g.db, id).await, None);
        }

        // `returning`, with an IN list too long for D1's 100 parameters: the DELETE and every
        // SELECT send it as one JSON parameter. (The likes stayed, without their user.)
        g.db.sql("DELETE FROM likes").run().await.unwrap();
        g.seed().await;
        let ids: Vec<i64> = (2..300).collect();
        let gone =
            g.db.delete_where::<User>()
                .filter(USER_ID.in_list(ids))
                .returning()
                .await
                .unwrap();
        assert_eq!(gone, [User::new(2, None)]);
        // User 2, post 20, comment 200, like 2000.
        assert_eq!(g.counts(), (1, 4, kv(0, 4, 0)));
        assert!(g.sql.statements().iter().all(|s| s.params.len() == 1));
        assert_eq!(source::<Comment>(&g.other(), 200).await, None);
        assert_eq!(
            source::<Comment>(&g.other(), 100).await,
            Some((Comment::new(100, 10), Source::Kv))
        );

        // A filter that matches nothing sends the same batch and touches no KV key.
        g.reset();
        let none =
            g.db.delete_where::<User>()
                .filter(USER_ID.eq(42))
                .run()
                .await
                .unwrap();
        assert_eq!((none, g.counts()), (0, (1, 4, kv(0, 0, 0))));
        assert!(g.events.take().is_empty());
    });
}

#[test]
fn tables_nothing_depends_on_delete_in_one_statement_as_before() {
    block_on(async {
        let g = graph(Capabilities::D1, Some(graph_schema()), CacheConfig::new());
        g.seed().await;
        assert!(g.db.delete::<Comment>(100).await.unwrap());
        assert_eq!(g.counts(), (1, 1, kv(0, 1, 0)));
        assert!(!g.sql.statements()[0].batched);

        // Uncached dependents are not selected either (but followed: comments are cached).
        let config = CacheConfig::new()
            .table::<Post>(TableCache::disabled())
            .table::<Like>(TableCache::disabled());
        let g = graph(Capabilities::D1, Some(graph_schema()), config);
        g.seed().await;
        assert!(g.db.delete::<User>(1).await.unwrap());
        // The comments' SELECT, then the DELETE; KV: user 1, comments 100 and 110.
        assert_eq!(g.counts(), (1, 2, kv(0, 3, 0)));
        assert_eq!(source::<Comment>(&g.other(), 110).await, None);
    });
}

#[test]
fn without_a_schema_the_deleted_tables_many_relations_are_followed() {
    block_on(async {
        let g = graph(Capabilities::D1, None, CacheConfig::new());
        g.seed().await;
        assert!(g.db.delete::<User>(1).await.unwrap());
        // `users` has a `many` relation to `posts`, whose foreign key cascades: found. Nothing
        // leads from `posts` to `comments` or from `users` to `likes`.
        assert_eq!(g.counts(), (1, 2, kv(0, 3, 0)));
        let other = g.other();
        assert_eq!(source::<Post>(&other, 10).await, None);
        assert_eq!(source::<Post>(&g.db, 11).await, None);
        // The documented limitation: entries of rows the handle cannot know of stay until
        // their TTL (here a comment whose post cascaded away).
        assert_eq!(
            source::<Comment>(&other, 100).await,
            Some((Comment::new(100, 10), Source::Kv))
        );
    });
}

#[test]
fn a_self_referencing_cascade_deletes_the_whole_subtree() {
    block_on(async {
        let g = graph(Capabilities::D1, Some(graph_schema()), CacheConfig::new());
        // 1 ← 2 ← 3 ← 4, 1 ← 5; 6 ← 7 apart.
        let tree = [
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (4, Some(3)),
            (5, Some(1)),
        ];
        let apart = [(6, None), (7, Some(6))];
        for (id, parent) in tree.into_iter().chain(apart) {
            g.db.insert(&Thread::new(id, parent)).await.unwrap();
            g.db.find::<Thread>(id).await.unwrap(); // cached
        }
        g.reset();
        assert!(g.db.delete::<Thread>(1).await.unwrap());
        // The subtree's keys (a recursive CTE), then the DELETE; one generation put per
        // thread's bucket.
        assert_eq!(g.counts(), (1, 2, kv(0, 5, 0)));
        assert!(g.sql.statements()[0].sql.contains("WITH RECURSIVE"));
        let other = g.other();
        for id in 1..=5 {
            assert_eq!(source::<Thread>(&other, id).await, None, "thread {id}");
            assert_eq!(source::<Thread>(&g.db, id).await, None, "thread {id}");
        }
        assert_eq!(
            source::<Thread>(&other, 7).await,
            Some((Thread::new(7, 6), Source::Kv))
        );

        // By filter: `RETURNING` names only the rows the statement itself deletes (6), not
        // those the cascade removes (7); the subtree's SELECT names both.
        g.reset();
        let deleted =
            g.db.delete_where::<Thread>()
                .filter(THREAD_ID.eq(6))
                .run()
                .await
                .unwrap();
        assert_eq!(deleted, 1);
        assert_eq!(g.counts(), (1, 2, kv(0, 2, 0)));
        assert_eq!(source::<Thread>(&other, 7).await, None);
    });
}

#[test]
fn a_cascade_cycle_through_two_tables_invalidates_both_tables() {
    block_on(async {
        let g = graph(Capabilities::D1, Some(graph_schema()), CacheConfig::new());
        g.db.insert(&RingA::new(1, None)).await.unwrap();
        g.db.insert(&RingB::new(1, 1)).await.unwrap();
        g.db.insert(&RingA::new(2, None)).await.unwrap();
        g.db.insert(&RingB::new(2, 2)).await.unwrap();
        g.db.update(&RingA::new(2, Some(1))).await.unwrap();
        let other = g.other();
        assert!(source::<RingB>(&other, 2).await.is_some());
        assert_eq!(source::<RingB>(&other, 2).await.unwrap().1, Source::Kv);
        g.events.take();
        g.reset();
        // a1 ← b1 ← a2 ← b2: deleting a1 deletes all four. The first step (b1) is listed;
        // past it, the cycle cannot be, so both tables get a fresh table generation.
        assert!(g.db.delete::<RingA>(1).await.unwrap());
        assert_eq!(g.counts(), (1, 2, kv(0, 2, 0)), "one table generation each");
        assert!(g.events.take().is_empty());
        // No handle is served b2 any more.
        for db in [&other, &g.db] {
            assert_eq!(source::<RingB>(db, 2).await, None);
            assert_eq!(source::<RingA>(db, 2).await, None);
        }
    });
}

#[test]
fn beyond_the_batch_limit_the_dependent_tables_are_invalidated_whole() {
    block_on(async {
        // One statement per batch: no room for the SELECTs.
        let capabilities = Capabilities {
            max_batch_statements: 1,
            ..Capabilities::D1
        };
        let g = graph(capabilities, Some(graph_schema()), CacheConfig::new());
        g.seed().await;
        assert!(g.db.delete::<User>(1).await.unwrap());
        // Just the DELETE; the user's bucket, and a table generation for posts, comments
        // and likes.
        assert_eq!(g.counts(), (1, 1, kv(0, 4, 0)));
        for key in ["sonic:posts:#g", "sonic:comments:#g", "sonic:likes:#g"] {
            assert!(g.kv.inner().peek(key).is_some(), "{key}");
        }
        let other = g.other();
        assert_eq!(source::<Post>(&other, 10).await, None);
        assert_eq!(source::<Comment>(&other, 110).await, None);
        // User 2's rows are read from SQL once more (the price of a table generation).
        assert_eq!(
            source::<Post>(&other, 20).await,
            Some((Post::new(20, 2), Source::D1))
        );
        assert_eq!(
            source::<Post>(&g.db, 20).await,
            Some((Post::new(20, 2), Source::Kv))
        );
    });
}

#[test]
fn a_cascade_shares_the_generation_budget_of_its_delete() {
    block_on(async {
        let g = graph(
            Capabilities::D1,
            Some(graph_schema()),
            CacheConfig::new().max_kv_writes_per_write(3),
        );
        g.seed().await;
        assert!(g.db.delete::<User>(1).await.unwrap());
        // Six buckets changed, budget 3: user 1 and posts 10, 11 get bucket generations;
        // comments and likes, past the budget, one table generation each.
        assert_eq!(g.counts(), (1, 4, kv(0, 5, 0)));
        let other = g.other();
        for db in [&g.db, &other] {
            for id in [10, 11] {
                assert_eq!(source::<Post>(db, id).await, None);
            }
            for id in [100, 110] {
                assert_eq!(source::<Comment>(db, id).await, None);
            }
        }
        assert_eq!(
            source::<Like>(&other, 1000).await,
            Some((Like::new(1000, None), Source::D1))
        );
    });
}

#[test]
fn an_ambiguous_failure_of_a_cascading_delete_invalidates_the_dependent_tables() {
    block_on(async {
        let sqlite = SqliteBackend::memory()
            .unwrap()
            .with_capabilities(Capabilities::D1);
        for statement in graph_schema().statements() {
            sqlite.exec(&statement).unwrap();
        }
        let sql = FaultySql::new(CountingSql::new(sqlite), 7, SqlFaultRates::default());
        let kv = CountingKv::new(MemoryKv::new());
        let db = Db::new(sql.clone())
            .with_schema(&graph_schema())
            .with_kv(kv.clone(), CacheConfig::new())
            .unwrap();
        db.insert(&User::new(1, None)).await.unwrap();
        db.insert(&Post::new(10, 1)).await.unwrap();
        db.find::<Post>(10).await.unwrap();
        assert_eq!(source::<Post>(&db, 10).await.unwrap().1, Source::Kv);

        sql.set_rates(SqlFaultRates {
            read: 0.0,
            write: 1.0,
        });
        kv.reset();
        assert!(db.delete::<User>(1).await.is_err());
        // It may have committed: the user's bucket, and (their keys unknown) the tables of
        // posts, comments and likes.
        assert_eq!(kv.counts(), self::kv(0, 4, 0));
        sql.set_enabled(false);
        assert_eq!(
            source::<Post>(&db, 10).await,
            Some((Post::new(10, 1), Source::D1))
        );
    });
}

// ---- insert_many must get back every row ----

/// A backend that loses the last row of every `INSERT` result with two rows or more.
struct LosesInsertedRow(SqliteBackend);

#[async_trait::async_trait]
impl SqlBackend for LosesInsertedRow {
    fn capabilities(&self) -> &Capabilities {
        self.0.capabilities()
    }

    async fn execute(&self, statement: &Statement) -> sonic_db_core::Result<QueryResult> {
        let mut result = self.0.execute(statement).await?;
        if statement.sql.starts_with("INSERT") && result.row_count() >= 2 {
            let keep = (result.row_count() - 1) * result.columns.len();
            result.values.truncate(keep);
        }
        Ok(result)
    }

    async fn batch(&self, statements: &[Statement]) -> sonic_db_core::Result<Vec<QueryResult>> {
        self.0.batch(statements).await
    }
}

#[test]
fn insert_many_that_gets_back_fewer_rows_fails_and_needs_no_kv_operation() {
    block_on(async {
        let sqlite = SqliteBackend::memory().unwrap();
        sqlite
            .exec(
                "CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT NOT NULL, body BLOB, \
                 score REAL NOT NULL)",
            )
            .unwrap();
        let kv = CountingKv::new(MemoryKv::new());
        let events = Events::default();
        let cache = KvCache::new(kv.clone(), CacheConfig::new())
            .unwrap()
            .with_hook(events.hook());
        let db = Db::new(LosesInsertedRow(sqlite)).with_cache(cache);

        let error = db
            .insert_many(&[note(1, "a"), note(2, "b"), note(3, "c")])
            .await
            .unwrap_err();
        match &error {
            Error::Database { message } => {
                assert_eq!(message, "an insert of 3 `notes` records returned 2 rows")
            }
            other => panic!("expected Error::Database, got {other:?}"),
        }
        assert_eq!(kv.counts().total(), 0, "an insert does nothing in KV");
        assert!(events.take().is_empty());
        // The rows did commit; their keys are new, so nothing stale can be in KV.
        for id in 1..=3 {
            let found = db.find_with_source::<Note>(id).await.unwrap().unwrap();
            assert_eq!(found.source, Source::D1);
        }
        assert_eq!(
            db.find_with_source::<Note>(3)
                .await
                .unwrap()
                .unwrap()
                .source,
            Source::Kv
        );
        // A single insert is checked the same way (one row back for one record).
        assert!(db.insert(&note(4, "d")).await.is_ok());
    });
}
