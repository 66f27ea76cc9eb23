//! Routing through `Db` with a KV cache, asserted with counting backends: which store each
//! call touches, and exactly which KV operations each write does.

mod cache_common;

use cache_common::{block_on, note, Events, Note};
use sonic_core::cache::{CacheConfig, CacheEvent, KvCache, Source, TableCache};
use sonic_core::kv::MemoryKv;
use sonic_core::sqlite::SqliteBackend;
use sonic_core::testing::faulty_sql::{FaultySql, SqlFaultRates};
use sonic_core::testing::kv::{CountingKv, KvCounts};
use sonic_core::testing::sql::CountingSql;
use sonic_core::{Column, Db, Error, FixedClock};

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

fn kv(gets: u64, puts: u64, deletes: u64) -> KvCounts {
    KvCounts {
        gets,
        puts,
        deletes,
        ..KvCounts::default()
    }
}

#[test]
fn cold_find_is_one_statement_and_one_fill_warm_find_is_one_kv_get() {
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
fn each_write_does_one_kv_operation_per_record_after_sql() {
    block_on(async {
        let s = setup(CacheConfig::new());

        s.reset();
        s.db.insert(&note(1, "a")).await.unwrap();
        assert_eq!(s.counts(), (1, kv(0, 1, 0)), "insert: put");

        s.reset();
        s.db.insert_many(&[note(2, "b"), note(3, "c"), note(4, "d")])
            .await
            .unwrap();
        assert_eq!(s.counts(), (1, kv(0, 3, 0)), "insert_many: one put per row");

        s.reset();
        s.db.update(&note(1, "a2")).await.unwrap();
        assert_eq!(s.counts(), (1, kv(0, 1, 0)), "update: put");

        s.reset();
        s.db.upsert(&note(5, "e")).await.unwrap();
        s.db.upsert(&note(5, "e2")).await.unwrap();
        assert_eq!(s.counts(), (2, kv(0, 2, 0)), "upsert: put");

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
            "update_where: one put per changed row"
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

        // Every write went through: all five are hits now, with the written values.
        s.reset();
        let titles: Vec<(String, Source)> = futures_titles(&s.db, 1..=5).await;
        assert_eq!(
            titles,
            [
                ("z", Source::Kv),
                ("z", Source::Kv),
                ("y", Source::Kv),
                ("d", Source::Kv),
                ("e2", Source::Kv)
            ]
            .map(|(t, s)| (t.to_string(), s))
        );
        assert_eq!(s.counts(), (0, kv(5, 0, 0)));

        s.reset();
        assert!(s.db.delete::<Note>(1).await.unwrap());
        assert_eq!(s.counts(), (1, kv(0, 0, 1)), "delete: delete");
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
            (1, kv(0, 0, 2)),
            "delete_where: one delete per deleted row"
        );

        s.reset();
        let gone =
            s.db.delete_where::<Note>()
                .filter(ID.eq(4))
                .returning()
                .await
                .unwrap();
        assert_eq!(gone.len(), 1);
        assert_eq!(s.counts(), (1, kv(0, 0, 1)));

        s.reset();
        assert!(s.db.find::<Note>(2).await.unwrap().is_none());
        assert_eq!(s.kv.inner().keys(), ["sonic:notes:5"]);
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
fn an_ambiguous_sql_failure_makes_this_handle_read_sql() {
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
        assert_eq!(
            kv.counts().total(),
            0,
            "no KV operation after a failed write"
        );
        // The error does not say whether D1 committed, so this handle reads SQL for now.
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
            br#"{"v":1,"fp":"0000000000000000","row":[1,"old",null,0.0]}"#,
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
        // Raw SQL bypasses the cache: the entry is stale until invalidated.
        s.db.sql("UPDATE notes SET title = 'raw' WHERE id = 1")
            .run()
            .await
            .unwrap();
        assert_eq!(s.db.find::<Note>(1).await.unwrap().unwrap().title, "a");
        let cache = s.db.cache().unwrap();
        cache
            .invalidate::<Note>(&sonic_core::Value::Integer(1))
            .await
            .unwrap();
        assert_eq!(s.db.find::<Note>(1).await.unwrap().unwrap().title, "raw");

        assert_eq!(cache.purge::<Note>().await.unwrap(), 3);
        assert!(s.kv.inner().keys().is_empty());
    });
}
