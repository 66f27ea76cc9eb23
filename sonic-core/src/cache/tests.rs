//! The cache layer on its own (`KvCache` driven as `Db` drives it, over a map standing in for
//! SQL): routing, generation checks, the write policy (invalidation, budget, retries),
//! deferred fills, healing. Unit tests, since they drive the crate-private write protocol
//! (tickets) directly.

#[path = "../../tests/cache_common/mod.rs"]
mod cache_common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cache_common::{block_on, note, Events, Note, Store, NOTES, T0};
use sonic_db_core::cache::{
    envelope, CacheConfig, CacheEvent, Deferred, Found, KvCache, KvOp, Source, TableCache,
};
use sonic_db_core::kv::{KvBackend, MemoryKv};
use sonic_db_core::testing::kv::{CountingKv, FaultyKv, KvFaultRates};
use sonic_db_core::{Clock, Error, FixedClock, Value};

/// Drives a [`KvCache`] the way `Db` does, over a [`Store`] standing in for SQL.
struct Repo {
    cache: KvCache,
    store: Store,
    events: Events,
}

/// Fills captured by a [`Defer`](super::Defer) hook, to run late.
#[derive(Clone, Default)]
struct Later(Arc<Mutex<Vec<Deferred>>>);

impl Later {
    fn hook(&self) -> impl Fn(Deferred) + Send + Sync + 'static {
        let queue = self.0.clone();
        move |work: Deferred| queue.lock().unwrap().push(work)
    }
    async fn run_all(&self) {
        let work: Vec<Deferred> = self.0.lock().unwrap().drain(..).collect();
        for w in work {
            w.await;
        }
    }
}

impl Repo {
    fn new(kv: impl KvBackend + 'static, config: CacheConfig) -> Self {
        Self::over(kv, config, Store::default())
    }

    /// Another handle on the same store (another isolate), with its own memory.
    fn over(kv: impl KvBackend + 'static, config: CacheConfig, store: Store) -> Self {
        let events = Events::default();
        let cache = KvCache::new(kv, config)
            .unwrap()
            .with_hook(events.hook())
            .with_clock(FixedClock::new(T0));
        Repo {
            cache,
            store,
            events,
        }
    }

    async fn find(&self, id: i64) -> Option<Found<Note>> {
        let store = self.store.clone();
        self.cache
            .find(&Value::Integer(id), || async move { Ok(store.load(id)) })
            .await
            .unwrap()
    }

    async fn source(&self, id: i64) -> Option<(String, Source)> {
        self.find(id).await.map(|f| (f.record.title, f.source))
    }

    async fn save(&self, note: Note) {
        let ticket = self.cache.begin_write(&NOTES, &[Value::Integer(note.id)]);
        self.store.set(note.clone());
        ticket.put_rows(&[note]).await;
    }

    async fn delete_many(&self, ids: &[i64]) {
        let ticket = self.cache.begin_write_where(&NOTES);
        for &id in ids {
            self.store.remove(id);
        }
        let ids: Vec<Value> = ids.iter().map(|&id| Value::Integer(id)).collect();
        ticket.changed_ids(&ids).await;
    }
}

const KEY1: &str = "sonic:notes:1";

fn at(title: &str, source: Source) -> Option<(String, Source)> {
    Some((title.to_string(), source))
}

#[test]
fn cold_find_fills_and_warm_find_is_one_bulk_get() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::with_clock(FixedClock::new(T0)));
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.store.set(note(1, "a"));

        assert_eq!(repo.source(1).await, at("a", Source::D1));
        assert_eq!(repo.store.loads(), 1);
        assert_eq!((kv.counts().bulk_gets, kv.counts().puts), (1, 1));
        assert_eq!(kv.inner().expires_at_ms(KEY1), Some(T0 + 300_000));

        kv.reset();
        assert_eq!(repo.source(1).await, at("a", Source::Kv));
        assert_eq!(repo.store.loads(), 1, "a warm find reads no SQL");
        assert_eq!(
            kv.counts().total(),
            1,
            "record and generations in one bulk get"
        );

        // A missing record is not cached (no negative entries).
        kv.reset();
        assert!(repo.find(2).await.is_none());
        assert_eq!((kv.counts().bulk_gets, kv.counts().writes()), (1, 0));
        assert!(repo.events.take().is_empty());
    });
}

#[test]
fn disabled_tables_and_null_ids_never_touch_kv() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let config = CacheConfig::new().table::<Note>(TableCache::disabled());
        let repo = Repo::new(kv.clone(), config);
        repo.store.set(note(1, "a"));
        assert_eq!(repo.source(1).await, at("a", Source::D1));
        assert_eq!(repo.source(1).await, at("a", Source::D1));
        repo.save(note(1, "b")).await;
        repo.delete_many(&[1]).await;
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
fn a_write_puts_one_bucket_generation_and_the_next_read_refills() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new().prefix("app"));
        repo.store.set(note(1, "a"));
        repo.find(1).await;
        kv.reset();
        repo.save(note(1, "b")).await;
        assert_eq!((kv.counts().puts, kv.counts().deletes), (1, 0));
        let generations: Vec<String> = kv
            .inner()
            .keys()
            .into_iter()
            .filter(|k| k.starts_with("app:notes:#b"))
            .collect();
        assert_eq!(generations.len(), 1, "{generations:?}");
        assert_eq!(
            kv.inner().expires_at_ms(&generations[0]),
            None,
            "never expires"
        );

        assert_eq!(repo.source(1).await, at("b", Source::D1));
        assert_eq!(repo.source(1).await, at("b", Source::Kv));
        // Another record, in another bucket, is still a hit.
        repo.store.set(note(2, "x"));
        repo.find(2).await;
        repo.save(note(1, "c")).await;
        assert_eq!(repo.source(2).await, at("x", Source::Kv));
    });
}

#[test]
fn another_handle_never_reads_what_a_write_replaced() {
    block_on(async {
        let kv = MemoryKv::new();
        let a = Repo::new(kv.clone(), CacheConfig::new());
        let b = Repo::over(kv.clone(), CacheConfig::new(), a.store.clone());
        a.store.set(note(1, "v1"));
        assert_eq!(b.source(1).await, at("v1", Source::D1));
        assert_eq!(b.source(1).await, at("v1", Source::Kv));
        a.save(note(1, "v2")).await;
        assert_eq!(b.source(1).await, at("v2", Source::D1));
        a.delete_many(&[1]).await;
        assert_eq!(b.source(1).await, None);
    });
}

#[test]
fn a_late_stale_fill_is_never_served() {
    block_on(async {
        let kv = MemoryKv::new();
        let later = Later::default();
        let mut reader = Repo::new(kv.clone(), CacheConfig::new());
        reader.cache = reader.cache.clone().with_defer(later.hook());
        let writer = Repo::over(kv.clone(), CacheConfig::new(), reader.store.clone());
        reader.store.set(note(1, "old"));

        // The reader reads generations and SQL ("old"); its fill is held back.
        assert_eq!(reader.source(1).await, at("old", Source::D1));
        writer.save(note(1, "new")).await; // acknowledged
        later.run_all().await; // the old row lands in KV after the write
        assert!(kv.peek(KEY1).is_some());
        for repo in [&reader, &writer] {
            assert_eq!(repo.source(1).await, at("new", Source::D1));
        }
        later.run_all().await;
        assert_eq!(reader.source(1).await, at("new", Source::Kv));
    });
}

#[test]
fn a_bulk_delete_of_600_puts_at_most_the_budget() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        let ids: Vec<i64> = (1..=600).collect();
        for &id in &ids {
            repo.store.set(note(id, "child"));
            repo.find(id).await;
        }
        kv.reset();
        repo.delete_many(&ids).await;
        assert_eq!(
            kv.counts().writes(),
            1,
            "one table generation instead of 64 buckets"
        );
        assert!(kv.inner().peek("sonic:notes:#g").is_some());
        for id in [1, 77, 600] {
            assert_eq!(repo.find(id).await, None);
        }

        // Within the budget: one put per bucket touched.
        let repo = Repo::new(kv.clone(), CacheConfig::new().max_kv_writes_per_write(64));
        kv.reset();
        repo.delete_many(&ids).await;
        assert_eq!(kv.counts().writes(), 64);
        kv.reset();
        repo.delete_many(&[]).await;
        assert_eq!(kv.counts().writes(), 0);
    });
}

#[test]
fn a_refused_bucket_put_is_retried_then_the_table_is_invalidated() {
    block_on(async {
        let kv = FaultyKv::new(MemoryKv::new(), 7, KvFaultRates::default());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        let other = Repo::over(kv.clone(), CacheConfig::new(), repo.store.clone());
        repo.store.set(note(1, "a"));
        other.find(1).await;

        // Bucket puts refused, twice each: the table generation (also a put) fails too.
        kv.set_rates(KvFaultRates {
            put: 1.0,
            ..Default::default()
        });
        repo.save(note(1, "b")).await;
        let events = repo.events.take();
        let failed = events
            .iter()
            .filter(|e| matches!(e, CacheEvent::KvFailed { op: KvOp::Put, .. }))
            .count();
        assert_eq!(failed, 4, "bucket twice, table twice: {events:?}");
        assert!(events
            .iter()
            .any(|e| matches!(e, CacheEvent::Suspect { key: None, .. })));
        // This handle reads SQL (and tries to repair, which fails as well)...
        assert_eq!(repo.source(1).await, at("b", Source::D1));
        // ... another handle is served the old row: the window documented, until the TTL.
        assert_eq!(other.source(1).await, at("a", Source::Kv));

        // KV back: the next find of this handle repairs with a table generation.
        kv.set_enabled(false);
        assert_eq!(repo.source(1).await, at("b", Source::D1));
        assert_eq!(other.source(1).await, at("b", Source::D1));
        assert_eq!(repo.source(1).await, at("b", Source::Kv));
    });
}

#[test]
fn a_lost_acknowledgement_falls_back_to_the_table_generation() {
    block_on(async {
        let kv = FaultyKv::new(MemoryKv::new(), 7, KvFaultRates::default());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.store.set(note(1, "a"));
        repo.find(1).await;
        kv.set_rates(KvFaultRates {
            lost_ack: 1.0,
            ..Default::default()
        });
        repo.save(note(1, "b")).await;
        kv.set_enabled(false);
        assert_eq!(repo.source(1).await, at("b", Source::D1));
    });
}

#[test]
fn sql_errors_touch_no_kv_unless_the_write_may_have_committed() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        let ticket = repo.cache.begin_write(&NOTES, &[Value::Integer(1)]);
        ticket
            .failed(&Error::UniqueViolation {
                message: "UNIQUE constraint failed: notes.id".into(),
            })
            .await;
        assert_eq!(kv.counts().total(), 0);

        let ticket = repo.cache.begin_write(&NOTES, &[Value::Integer(1)]);
        ticket
            .failed(&Error::Database {
                message: "network".into(),
            })
            .await;
        assert_eq!(kv.counts().puts, 1, "the key's bucket");

        kv.reset();
        let ticket = repo.cache.begin_write_where(&NOTES);
        ticket
            .failed(&Error::Database {
                message: "network".into(),
            })
            .await;
        assert_eq!(kv.counts().puts, 1);
        assert!(
            kv.inner().peek("sonic:notes:#g").is_some(),
            "keys unknown: the table"
        );
    });
}

#[test]
fn a_cancelled_write_makes_its_key_suspect_until_repaired() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.store.set(note(1, "a"));
        repo.find(1).await;
        {
            let _ticket = repo.cache.begin_write(&NOTES, &[Value::Integer(1)]);
            repo.store.set(note(1, "b")); // committed, then the future was dropped
        }
        assert!(matches!(
            &repo.events.take()[..],
            [CacheEvent::Suspect { key: Some(k), .. }] if k == KEY1
        ));
        kv.reset();
        assert_eq!(repo.source(1).await, at("b", Source::D1));
        assert_eq!(kv.counts().puts, 1, "the repair: a fresh bucket generation");
        assert_eq!(repo.source(1).await, at("b", Source::D1));
        assert_eq!(repo.source(1).await, at("b", Source::Kv));
    });
}

/// A clock that counts how often it is read.
#[derive(Clone, Default)]
struct CountingClock(Arc<AtomicUsize>);

impl Clock for CountingClock {
    fn now_ms(&self) -> i64 {
        self.0.fetch_add(1, Ordering::SeqCst);
        T0
    }
}

#[test]
fn finds_read_the_clock_only_while_something_is_suspect() {
    block_on(async {
        let clock = CountingClock::default();
        let mut repo = Repo::new(MemoryKv::new(), CacheConfig::new());
        repo.cache = repo.cache.clone().with_clock(clock.clone());
        repo.store.set(note(1, "a"));
        assert_eq!(repo.source(1).await, at("a", Source::D1));
        assert_eq!(repo.source(1).await, at("a", Source::Kv));
        assert_eq!(
            clock.0.load(Ordering::SeqCst),
            0,
            "nothing suspect, no clock"
        );
        {
            let _ticket = repo.cache.begin_write(&NOTES, &[Value::Integer(1)]);
            repo.store.set(note(1, "b")); // committed, then the future was dropped
        }
        let before = clock.0.load(Ordering::SeqCst);
        assert_eq!(repo.source(1).await, at("b", Source::D1));
        assert!(
            clock.0.load(Ordering::SeqCst) > before,
            "a suspect key's window is checked against the clock"
        );
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
        assert_eq!(repo.source(1).await, at("right", Source::Kv));
        assert_eq!(repo.store.loads(), 1);
        assert!(repo.events.take().is_empty());
    });
}

#[test]
fn undecodable_entries_are_healed() {
    assert_heals(vec![0xff, 0x00, 0x13], "not JSON");
    let old = r#"{"v":2,"t":"notes","fp":"0123456789abcdef","tg":"","bg":"","row":[]}"#;
    assert_heals(old.as_bytes().to_vec(), "fingerprint");
    let v1 = format!(r#"{{"v":1,"fp":"{}","row":[]}}"#, fingerprint());
    assert_heals(v1.into_bytes(), "version 1");
    assert_heals(b"[1,2,3]".to_vec(), "not a JSON object");
    let short = format!(
        r#"{{"v":2,"fp":"{}","tg":"","bg":"","row":[1,"x"]}}"#,
        fingerprint()
    );
    assert_heals(short.into_bytes(), "2 values");
    let wrong_type = format!(
        r#"{{"v":2,"fp":"{}","tg":"","bg":"","row":[1,"x",null,"high"]}}"#,
        fingerprint()
    );
    assert_heals(wrong_type.into_bytes(), "score");
    let other = envelope::encode(
        &NOTES,
        &fingerprint(),
        &envelope::Generations::absent(),
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
fn an_envelope_with_other_generations_is_a_miss() {
    block_on(async {
        let kv = MemoryKv::new();
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        repo.store.set(note(1, "sql"));
        let tagged = |table: &str| {
            envelope::encode(
                &NOTES,
                &fingerprint(),
                &envelope::Generations {
                    table: table.to_string(),
                    bucket: String::new(),
                },
                &[
                    Value::Integer(1),
                    Value::Text("cached".into()),
                    Value::Blob(vec![0, 1, 2, 255]),
                    Value::Real(1.5),
                ],
            )
        };
        kv.plant(KEY1, tagged(""));
        assert_eq!(repo.source(1).await, at("cached", Source::Kv));
        kv.plant("sonic:notes:#g", "t1");
        assert_eq!(repo.source(1).await, at("sql", Source::D1));
        kv.plant(KEY1, tagged("t1"));
        assert_eq!(repo.source(1).await, at("cached", Source::Kv));
        assert!(repo.events.take().is_empty());
    });
}

#[test]
fn a_failing_kv_get_is_a_miss_and_skips_the_fill() {
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
        assert_eq!(repo.source(1).await, at("a", Source::D1));
        assert!(matches!(
            &repo.events.take()[..],
            [CacheEvent::KvFailed { op: KvOp::Get, .. }]
        ));
        assert!(
            kv.inner().peek(KEY1).is_none(),
            "no generations read: no fill"
        );
        kv.set_enabled(false);
        assert_eq!(repo.source(1).await, at("a", Source::D1));
        assert_eq!(repo.source(1).await, at("a", Source::Kv));
    });
}

#[test]
fn purge_invalidates_then_deletes_records_but_keeps_generations() {
    block_on(async {
        let kv = MemoryKv::new();
        let repo = Repo::new(kv.clone(), CacheConfig::new());
        for id in 1..=3 {
            repo.store.set(note(id, "a"));
            repo.find(id).await;
        }
        repo.save(note(1, "b")).await;
        assert_eq!(repo.cache.purge::<Note>().await.unwrap(), 3);
        let left = kv.keys();
        assert!(left.iter().all(|k| k.contains(":#")), "{left:?}");
        assert!(left.contains(&"sonic:notes:#g".to_string()));
        assert_eq!(repo.source(2).await, at("a", Source::D1));
    });
}

#[test]
fn ids_too_long_for_a_key_are_hashed() {
    let repo = Repo::new(MemoryKv::new(), CacheConfig::new());
    let key = repo
        .cache
        .key_of::<Note>(&Value::Text("x".repeat(600)))
        .unwrap();
    assert!(key.starts_with("sonic:notes:#h") && key.len() <= 512);
}

#[test]
fn configuration_is_validated() {
    for bad in [
        CacheConfig::new().ttl(59),
        CacheConfig::new().prefix(""),
        CacheConfig::new().prefix("a:b"),
        CacheConfig::new().table::<Note>(TableCache::new().ttl(10)),
        CacheConfig::new().table::<Note>(TableCache::new().buckets(0)),
        CacheConfig::new().table::<Note>(TableCache::new().buckets(1025)),
    ] {
        assert!(matches!(bad.validate(), Err(Error::Kv(_))), "{bad:?}");
    }
    assert!(CacheConfig::new().prefix("my-app/v2").validate().is_ok());
}
