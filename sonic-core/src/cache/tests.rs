//! The cache layer on its own (`KvCache` driven as `Db` drives it, over a map standing in for
//! SQL): routing, write-through, healing, and the coherence rules under KV failures. Unit tests,
//! since they drive the crate-private write protocol (tickets) directly.

#[path = "../../tests/cache_common/mod.rs"]
mod cache_common;

use cache_common::{block_on, note, Events, Note, Store, NOTES, T0};
use sonic_db_core::cache::{
    envelope, CacheConfig, CacheEvent, Found, KvCache, KvOp, Source, TableCache,
};
use sonic_db_core::kv::{KvBackend, MemoryKv};
use sonic_db_core::testing::kv::{CountingKv, FaultyKv, KvFaultRates};
use sonic_db_core::{Error, FixedClock, Value};

/// Drives a [`KvCache`] the way `Db` does, over a [`Store`] standing in for SQL.
struct Repo {
    cache: KvCache,
    store: Store,
    events: Events,
    clock: FixedClock,
}

impl Repo {
    fn new(kv: impl KvBackend + 'static, config: CacheConfig) -> Self {
        Self::over(kv, config, Store::default(), FixedClock::new(T0))
    }

    /// Another handle on the same store (another isolate), with its own memory.
    fn over(
        kv: impl KvBackend + 'static,
        config: CacheConfig,
        store: Store,
        clock: FixedClock,
    ) -> Self {
        let events = Events::default();
        let cache = KvCache::new(kv, config)
            .unwrap()
            .with_hook(events.hook())
            .with_clock(clock.clone());
        Repo {
            cache,
            store,
            events,
            clock,
        }
    }

    async fn find(&self, id: i64) -> Option<Found<Note>> {
        let store = self.store.clone();
        self.cache
            .find(&Value::Integer(id), || async move { Ok(store.load(id)) })
            .await
            .unwrap()
    }

    async fn save(&self, note: Note) {
        let ticket = self.cache.begin_write(&NOTES, &[Value::Integer(note.id)]);
        self.store.set(note.clone());
        ticket.put_rows(&[note]).await;
    }

    async fn delete(&self, id: i64) {
        let ticket = self.cache.begin_write(&NOTES, &[Value::Integer(id)]);
        self.store.remove(id);
        ticket.delete_ids(&[Value::Integer(id)]).await;
    }
}

const KEY1: &str = "sonic:notes:1";

#[test]
fn cold_find_fills_and_warm_find_is_one_kv_get() {
    block_on(async {
        let clock = FixedClock::new(T0);
        let kv = CountingKv::new(MemoryKv::with_clock(clock.clone()));
        let repo = Repo::over(kv.clone(), CacheConfig::new(), Store::default(), clock);
        repo.store.set(note(1, "a"));

        let cold = repo.find(1).await.unwrap();
        assert_eq!((cold.record.title.as_str(), cold.source), ("a", Source::D1));
        assert_eq!(repo.store.loads(), 1);
        assert_eq!((kv.counts().gets, kv.counts().puts), (1, 1));
        assert!(kv.inner().peek(KEY1).is_some());
        assert_eq!(kv.inner().expires_at_ms(KEY1), Some(T0 + 300_000));

        kv.reset();
        let warm = repo.find(1).await.unwrap();
        assert_eq!(warm, cold.clone().with_source(Source::Kv));
        assert_eq!(repo.store.loads(), 1, "a warm find reads no SQL");
        assert_eq!(kv.counts().total(), 1);
        assert_eq!(kv.counts().gets, 1);

        // A missing record is not cached (no negative entries).
        kv.reset();
        assert!(repo.find(2).await.is_none());
        assert_eq!((kv.counts().gets, kv.counts().writes()), (1, 0));
        assert!(repo.events.take().is_empty());
    });
}

trait WithSource {
    fn with_source(self, source: Source) -> Self;
}
impl WithSource for sonic_db_core::Found<Note> {
    fn with_source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }
}

#[test]
fn disabled_tables_and_null_ids_never_touch_kv() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let config = CacheConfig::new().table::<Note>(TableCache::disabled());
        let repo = Repo::new(kv.clone(), config);
        repo.store.set(note(1, "a"));
        assert_eq!(repo.find(1).await.unwrap().source, Source::D1);
        assert_eq!(repo.find(1).await.unwrap().source, Source::D1);
        repo.save(note(1, "b")).await;
        repo.delete(1).await;
        assert_eq!(kv.counts().total(), 0);

        let repo = Repo::new(kv.clone(), CacheConfig::new());
        let found = repo
            .cache
            .find::<Note, _, _>(&Value::Null, || async { Ok(None) })
            .await;
        assert!(found.unwrap().is_none());
        assert_eq!(kv.counts().total(), 0);
    });
}

#[test]
fn writes_go_through_with_one_kv_write_per_record() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new().prefix("app").ttl(120));
        repo.save(note(1, "a")).await;
        assert_eq!((kv.counts().puts, kv.counts().deletes), (1, 0));
        assert!(kv.inner().peek("app:notes:1").is_some());

        kv.reset();
        let found = repo.find(1).await.unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            ("a", Source::Kv)
        );
        assert_eq!(repo.store.loads(), 0);

        repo.save(note(1, "b")).await;
        assert_eq!(repo.find(1).await.unwrap().record.title, "b");
        assert_eq!(repo.store.loads(), 0, "write-through: the new row is a hit");

        kv.reset();
        repo.delete(1).await;
        assert_eq!((kv.counts().puts, kv.counts().deletes), (0, 1));
        assert!(repo.find(1).await.is_none());
        assert!(kv.inner().keys().is_empty());
    });
}

#[test]
fn entries_expire_after_the_ttl() {
    block_on(async {
        let clock = sonic_db_core::FixedClock::new(0);
        let kv = MemoryKv::with_clock(clock.clone());
        let repo = Repo::over(
            kv,
            CacheConfig::new().ttl(60),
            Default::default(),
            clock.clone(),
        );
        repo.store.set(note(1, "a"));
        repo.find(1).await.unwrap();
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);
        clock.advance(60_000);
        assert_eq!(repo.find(1).await.unwrap().source, Source::D1);
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);
    });
}

fn fingerprint() -> String {
    envelope::fingerprint(&NOTES)
}

/// Plants `bytes` under note 1's key, finds note 1, and checks it was healed from SQL.
fn assert_heals(bytes: Vec<u8>, reason: &str) {
    block_on(async {
        let kv = MemoryKv::new();
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.store.set(note(1, "right"));
        kv.plant(KEY1, bytes);

        let found = repo.find(1).await.unwrap();
        assert_eq!((found.record, found.source), (note(1, "right"), Source::D1));
        let events = repo.events.take();
        assert!(
            matches!(&events[..], [CacheEvent::Undecodable { table: "notes", key, reason: r }]
                if key == KEY1 && r.contains(reason)),
            "{events:?}"
        );
        let healed = repo.find(1).await.unwrap();
        assert_eq!(
            (healed.record, healed.source),
            (note(1, "right"), Source::Kv)
        );
        assert_eq!(repo.store.loads(), 1);
        assert!(repo.events.take().is_empty());
    });
}

#[test]
fn garbage_bytes_are_healed() {
    assert_heals(vec![0xff, 0x00, 0x13], "not JSON");
}

#[test]
fn an_old_schema_fingerprint_is_healed() {
    let old = r#"{"v":1,"t":"notes","fp":"0123456789abcdef","row":[1,"old",null,1.0]}"#;
    assert_heals(old.as_bytes().to_vec(), "fingerprint");
}

#[test]
fn another_envelope_version_is_healed() {
    let v2 = format!(r#"{{"v":2,"fp":"{}","row":[]}}"#, fingerprint());
    assert_heals(v2.into_bytes(), "version 2");
}

#[test]
fn valid_json_of_the_wrong_shape_is_healed() {
    assert_heals(
        br#"{"title":"SonicJs cached the whole response"}"#.to_vec(),
        "no version",
    );
    assert_heals(b"[1,2,3]".to_vec(), "not a JSON object");
    let short = format!(r#"{{"v":1,"fp":"{}","row":[1,"x"]}}"#, fingerprint());
    assert_heals(short.into_bytes(), "2 values");
}

#[test]
fn a_row_that_does_not_decode_is_healed() {
    // Right envelope, but TEXT where the REAL `score` is: Table::decode refuses it.
    let wrong_type = format!(
        r#"{{"v":1,"fp":"{}","row":[1,"x",null,"high"]}}"#,
        fingerprint()
    );
    assert_heals(wrong_type.into_bytes(), "score");
    // Right envelope of another record under this key.
    let other = envelope::encode(
        &NOTES,
        &fingerprint(),
        &[
            Value::Integer(2),
            Value::Text("two".into()),
            Value::Null,
            Value::Real(0.0),
        ],
    );
    assert_heals(other, "another record");
}

#[test]
fn an_undecodable_entry_of_a_deleted_record_is_removed() {
    block_on(async {
        let kv = MemoryKv::new();
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        kv.plant(KEY1, "garbage");
        assert!(repo.find(1).await.is_none());
        assert!(kv.peek(KEY1).is_none());
        assert_eq!(repo.events.take().len(), 1);
    });
}

#[test]
fn a_failing_kv_get_is_a_miss_not_an_error() {
    block_on(async {
        let kv = FaultyKv::new(
            MemoryKv::new(),
            1,
            KvFaultRates {
                get: 1.0,
                ..Default::default()
            },
        );
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.store.set(note(1, "a"));
        assert_eq!(repo.find(1).await.unwrap().source, Source::D1);
        assert!(matches!(
            &repo.events.take()[..],
            [CacheEvent::KvFailed { op: KvOp::Get, .. }]
        ));
        // The fill still happened; with KV back, the next read is a hit.
        kv.set_enabled(false);
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);
    });
}

#[test]
fn a_failed_write_through_never_leaves_the_old_value_visible_here() {
    block_on(async {
        let kv = FaultyKv::new(MemoryKv::new(), 1, KvFaultRates::default());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.save(note(1, "old")).await;
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);

        kv.set_rates(KvFaultRates {
            put: 1.0,
            ..Default::default()
        });
        repo.save(note(1, "new")).await;
        let events = repo.events.take();
        assert!(
            matches!(&events[..], [CacheEvent::KvFailed { op: KvOp::Put, .. }]),
            "{events:?}"
        );
        // KV still holds the old row, but this handle knows the key is suspect.
        assert!(String::from_utf8(kv.inner().peek(KEY1).unwrap())
            .unwrap()
            .contains("old"));
        let found = repo.find(1).await.unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            ("new", Source::D1)
        );

        // KV recovers: the next find repairs the entry, and the one after is a hit again.
        kv.set_enabled(false);
        assert_eq!(repo.find(1).await.unwrap().source, Source::D1);
        assert!(String::from_utf8(kv.inner().peek(KEY1).unwrap())
            .unwrap()
            .contains("new"));
        let found = repo.find(1).await.unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            ("new", Source::Kv)
        );
    });
}

#[test]
fn a_lost_acknowledgement_is_treated_as_a_failure() {
    block_on(async {
        let kv = FaultyKv::new(
            MemoryKv::new(),
            1,
            KvFaultRates {
                lost_ack: 1.0,
                ..Default::default()
            },
        );
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.save(note(1, "a")).await;
        assert!(kv.inner().peek(KEY1).is_some(), "applied");
        assert_eq!(
            repo.find(1).await.unwrap().source,
            Source::D1,
            "but not trusted"
        );
    });
}

#[test]
fn a_failed_delete_never_resurrects_the_record_here() {
    block_on(async {
        let kv = FaultyKv::new(MemoryKv::new(), 1, KvFaultRates::default());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.save(note(1, "a")).await;
        kv.set_rates(KvFaultRates {
            delete: 1.0,
            ..Default::default()
        });
        repo.delete(1).await;
        assert!(
            kv.inner().peek(KEY1).is_some(),
            "the stale entry is still in KV"
        );
        assert!(repo.find(1).await.is_none());
        kv.set_enabled(false);
        assert!(repo.find(1).await.is_none());
        assert!(kv.inner().peek(KEY1).is_none(), "repaired by the find");
    });
}

#[test]
fn a_racing_fill_from_another_isolate_is_not_served_to_the_writer() {
    block_on(async {
        let kv = MemoryKv::new();
        let writer = Repo::new(kv.clone(), CacheConfig::new());
        let other = Repo::over(
            kv.clone(),
            CacheConfig::new(),
            writer.store.clone(),
            writer.clock.clone(),
        );
        writer.save(note(1, "old")).await;
        kv.delete(KEY1).await.unwrap();

        // The other isolate reads SQL ("old"), then the writer writes "new" (SQL and KV),
        // then the other isolate's fill lands: KV holds "old" again.
        let stale = note(1, "old");
        let found = other
            .cache
            .find(&Value::Integer(1), || async {
                writer.save(note(1, "new")).await;
                Ok(Some(stale))
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.record.title, "old"); // concurrent with the write: fine
        assert!(String::from_utf8(kv.peek(KEY1).unwrap())
            .unwrap()
            .contains("old"));

        // The writer never sees it: the bytes are not what it wrote.
        let mine = writer.find(1).await.unwrap();
        assert_eq!(
            (mine.record.title.as_str(), mine.source),
            ("new", Source::D1)
        );
        assert_eq!(
            writer.find(1).await.unwrap().source,
            Source::Kv,
            "and repaired it"
        );
        assert_eq!(other.find(1).await.unwrap().record.title, "new");
    });
}

#[test]
fn a_fill_racing_a_write_of_the_same_handle_is_dropped() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.store.set(note(1, "old"));
        let found = repo
            .cache
            .find(&Value::Integer(1), || async {
                let old = repo.store.load(1);
                repo.save(note(1, "new")).await;
                Ok(old)
            })
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.record.title, "old");
        assert_eq!(
            kv.counts().puts,
            1,
            "only the write's put; the stale fill was skipped"
        );
        let found = repo.find(1).await.unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            ("new", Source::Kv)
        );
    });
}

#[test]
fn a_cancelled_write_makes_its_key_suspect() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.save(note(1, "old")).await;
        {
            let _ticket = repo.cache.begin_write(&NOTES, &[Value::Integer(1)]);
            repo.store.set(note(1, "new")); // SQL committed, then the future was dropped
        }
        kv.reset();
        let found = repo.find(1).await.unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            ("new", Source::D1)
        );
        assert_eq!(kv.counts().gets, 0, "a suspect key is not read from KV");
        assert_eq!(kv.counts().puts, 1, "it is repaired");
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);
    });
}

#[test]
fn sql_errors_touch_no_kv_and_ambiguous_ones_make_keys_suspect() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.save(note(1, "a")).await;
        kv.reset();

        let definite = Error::UniqueViolation {
            message: "UNIQUE constraint failed".into(),
        };
        repo.cache
            .begin_write(&NOTES, &[Value::Integer(1)])
            .failed(&definite);
        assert_eq!(kv.counts().total(), 0);
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);

        let ambiguous = Error::Database {
            message: "Network connection lost".into(),
        };
        repo.cache
            .begin_write(&NOTES, &[Value::Integer(1)])
            .failed(&ambiguous);
        assert_eq!(
            kv.counts().writes(),
            0,
            "a failed SQL write never touches KV"
        );
        assert_eq!(repo.find(1).await.unwrap().source, Source::D1);
        assert!(repo
            .events
            .take()
            .iter()
            .any(|e| matches!(e, CacheEvent::Suspect { key: Some(_), .. })));
    });
}

#[test]
fn an_ambiguous_write_by_filter_makes_the_table_suspect_until_keys_are_repaired() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.save(note(1, "a")).await;
        repo.save(note(2, "b")).await;
        let error = Error::Database {
            message: "D1_ERROR: timeout".into(),
        };
        repo.cache.begin_write_where(&NOTES).failed(&error);
        assert!(repo
            .events
            .take()
            .iter()
            .any(|e| matches!(e, CacheEvent::Suspect { key: None, .. })));

        kv.reset();
        assert_eq!(repo.find(1).await.unwrap().source, Source::D1);
        assert_eq!(repo.find(2).await.unwrap().source, Source::D1);
        assert_eq!(kv.counts().gets, 0);
        // Each repaired key is trusted again.
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);
        assert_eq!(repo.find(2).await.unwrap().source, Source::Kv);

        // And the suspicion ends by itself after TTL + 60 s.
        repo.cache.begin_write_where(&NOTES).failed(&error);
        repo.clock.advance(360_000);
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);
    });
}

#[test]
fn suspicion_of_a_key_expires_after_ttl_plus_60_seconds() {
    block_on(async {
        let clock = FixedClock::new(T0);
        let faulty = FaultyKv::new(
            MemoryKv::with_clock(clock.clone()),
            1,
            KvFaultRates::default(),
        );
        let kv = CountingKv::new(faulty.clone());
        let repo = Repo::over(
            kv.clone(),
            CacheConfig::new(),
            Store::default(),
            clock.clone(),
        );
        repo.save(note(1, "a")).await;
        faulty.set_rates(KvFaultRates {
            put: 1.0,
            ..Default::default()
        });
        repo.save(note(1, "b")).await; // the write-through fails: "a" stays in KV
        clock.advance(359_999);
        kv.reset();
        let found = repo.find(1).await.unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            ("b", Source::D1)
        );
        assert_eq!(
            (kv.counts().gets, kv.counts().puts),
            (0, 1),
            "bypass, failed repair"
        );

        // TTL + 60 s after the failure the handle stops remembering the key: by then the
        // stale entry has expired (TTL 300 s), so reading KV again is safe.
        faulty.set_enabled(false);
        clock.advance(1);
        kv.reset();
        let found = repo.find(1).await.unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            ("b", Source::D1)
        );
        assert_eq!(
            (kv.counts().gets, kv.counts().puts),
            (1, 1),
            "a plain miss and fill"
        );
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);
    });
}

#[test]
fn multi_record_writes_respect_the_kv_write_budget() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new().max_kv_writes_per_write(2));
        let rows: Vec<Note> = (1..=5).map(|i| note(i, "x")).collect();
        for row in &rows {
            repo.store.set(row.clone());
        }
        repo.cache.begin_write_where(&NOTES).put_rows(&rows).await;
        assert_eq!(kv.counts().puts, 2);
        assert!(repo
            .events
            .take()
            .iter()
            .any(|e| matches!(e, CacheEvent::Suspect { reason, .. } if reason.contains("budget"))));
        kv.reset();
        let sources: Vec<Source> = futures_sources(&repo, 1..=5).await;
        assert_eq!(
            sources,
            [Source::Kv, Source::Kv, Source::D1, Source::D1, Source::D1]
        );
    });
}

async fn futures_sources(repo: &Repo, ids: std::ops::RangeInclusive<i64>) -> Vec<Source> {
    let mut out = Vec::new();
    for id in ids {
        out.push(repo.find(id).await.unwrap().source);
    }
    out
}

#[test]
fn one_write_per_record_fits_the_platform_write_rate() {
    block_on(async {
        let clock = sonic_db_core::FixedClock::new(0);
        let kv = MemoryKv::with_clock(clock.clone()).limit_write_rate();
        let repo = Repo::over(
            kv.clone(),
            CacheConfig::new(),
            Default::default(),
            clock.clone(),
        );
        // Write, then read: one KV write in total, so no 429 (delete-then-fill would need two).
        repo.save(note(1, "a")).await;
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);
        // A second write within the second is refused by KV (429): still correct here.
        repo.save(note(1, "b")).await;
        assert!(repo
            .events
            .take()
            .iter()
            .any(|e| matches!(e, CacheEvent::KvFailed { error, .. } if error.contains("429"))));
        assert_eq!(repo.find(1).await.unwrap().record.title, "b");
    });
}

#[test]
fn ids_too_long_for_a_key_are_hashed() {
    block_on(async {
        let kv = MemoryKv::new();
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        let key = repo
            .cache
            .key_of::<Note>(&Value::Text("x".repeat(600)))
            .unwrap();
        assert!(key.starts_with("sonic:notes:#h") && key.len() <= 512);
        assert_eq!(
            repo.cache
                .key_of::<Note>(&Value::Integer(i64::MIN))
                .unwrap(),
            "sonic:notes:-9223372036854775808"
        );
    });
}

#[test]
fn configuration_is_validated() {
    for bad in [
        CacheConfig::new().ttl(59),
        CacheConfig::new().prefix(""),
        CacheConfig::new().prefix("a:b"),
        CacheConfig::new().table::<Note>(TableCache::new().ttl(10)),
    ] {
        assert!(matches!(bad.validate(), Err(Error::Kv(_))), "{bad:?}");
    }
    assert!(CacheConfig::new().prefix("my-app/v2").validate().is_ok());
}

#[test]
fn a_write_whose_kv_step_comes_late_deletes_instead_of_putting() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.save(note(1, "a")).await;
        kv.reset();
        let ticket = repo.cache.begin_write(&NOTES, &[Value::Integer(1)]);
        repo.store.set(note(1, "b"));
        repo.clock.advance(10_001); // the request stalled between SQL and KV
        ticket.put_rows(&[note(1, "b")]).await;
        assert_eq!((kv.counts().puts, kv.counts().deletes), (0, 1));
        let found = repo.find(1).await.unwrap();
        assert_eq!(
            (found.record.title.as_str(), found.source),
            ("b", Source::D1)
        );
        assert_eq!(repo.find(1).await.unwrap().source, Source::Kv);
    });
}
