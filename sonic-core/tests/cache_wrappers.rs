//! The test wrappers themselves: `CountingKv`, `FaultyKv`, `FaultySql`, `SeededRng`.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::{Arc, Mutex};

use pollster::block_on;
use sonic_db_core::kv::{KvBackend, KvListOptions, KvPutOptions, MemoryKv};
use sonic_db_core::testing::faulty_sql::{FaultySql, SqlFaultRates};
use sonic_db_core::testing::kv::{CountingKv, FaultyKv, KvFaultRates, SeededRng};
use sonic_db_core::{Capabilities, Error, QueryResult, Result, SqlBackend, Statement};

/// Records what reaches it.
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

#[async_trait::async_trait]
impl SqlBackend for Recorder {
    fn capabilities(&self) -> &Capabilities {
        &Capabilities::D1
    }
    async fn execute(&self, statement: &Statement) -> Result<QueryResult> {
        self.0.lock().unwrap().push(statement.sql.to_string());
        Ok(QueryResult::default())
    }
    async fn batch(&self, statements: &[Statement]) -> Result<Vec<QueryResult>> {
        let mut log = self.0.lock().unwrap();
        log.extend(statements.iter().map(|s| s.sql.to_string()));
        Ok(vec![QueryResult::default(); statements.len()])
    }
}

#[test]
fn seeded_rng_is_reproducible_and_in_range() {
    let mut a = SeededRng::new(99);
    let first: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
    let mut b = SeededRng::new(99);
    assert_eq!(first, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
    let mut c = SeededRng::new(100);
    assert_ne!(first[0], c.next_u64());
    let mut r = SeededRng::new(1);
    let mut hits = 0;
    for _ in 0..10_000 {
        assert!(r.below(7) < 7);
        let u = r.unit();
        assert!((0.0..1.0).contains(&u));
        hits += u64::from(r.chance(0.25));
    }
    assert!((2_200..2_800).contains(&hits), "{hits}");
    assert!(!r.chance(0.0));
    assert_eq!(r.below(0), 0);
}

#[test]
fn counting_kv_counts_every_operation_even_failed_ones() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let other = kv.clone();
        kv.put("a", b"1", &KvPutOptions::default()).await.unwrap();
        kv.get("a").await.unwrap();
        kv.get("").await.unwrap_err();
        kv.get_bulk(&["a".into()]).await.unwrap();
        kv.delete("a").await.unwrap();
        kv.list(&KvListOptions::default()).await.unwrap();
        let counts = other.counts();
        assert_eq!(
            (
                counts.gets,
                counts.bulk_gets,
                counts.puts,
                counts.deletes,
                counts.lists
            ),
            (2, 1, 1, 1, 1)
        );
        assert_eq!((counts.total(), counts.writes()), (6, 2));
    });
}

#[test]
fn faulty_kv_fails_reproducibly_at_the_configured_rates() {
    block_on(async {
        let run = |seed| async move {
            let kv = FaultyKv::new(MemoryKv::new(), seed, KvFaultRates::uniform(0.3));
            let mut outcome = Vec::new();
            for i in 0..200 {
                let key = format!("k{}", i % 10);
                outcome.push(kv.put(&key, b"v", &KvPutOptions::default()).await.is_ok());
                outcome.push(kv.get(&key).await.is_ok());
                outcome.push(kv.delete(&key).await.is_ok());
            }
            (outcome, kv.injected())
        };
        let (a, injected) = run(7).await;
        let (b, _) = run(7).await;
        let (c, _) = run(8).await;
        assert_eq!(a, b, "same seed, same faults");
        assert_ne!(a, c);
        let failures = a.iter().filter(|ok| !**ok).count() as u64;
        assert_eq!(failures, injected);
        assert!((120..240).contains(&failures), "{failures} of 600 at 30 %");
    });
}

#[test]
fn faulty_kv_fails_only_the_chosen_operations() {
    block_on(async {
        let kv = FaultyKv::new(
            MemoryKv::new(),
            1,
            KvFaultRates {
                delete: 1.0,
                ..KvFaultRates::default()
            },
        );
        kv.put("a", b"1", &KvPutOptions::default()).await.unwrap();
        let err = kv.delete("a").await.unwrap_err();
        assert!(
            matches!(&err, Error::Kv(m) if m.starts_with("injected fault")),
            "{err}"
        );
        assert_eq!(
            kv.get("a").await.unwrap(),
            Some(b"1".to_vec()),
            "not deleted"
        );

        // A lost acknowledgement: applied, yet reported as failed.
        kv.set_rates(KvFaultRates {
            lost_ack: 1.0,
            ..KvFaultRates::default()
        });
        assert!(kv.put("a", b"2", &KvPutOptions::default()).await.is_err());
        assert_eq!(kv.inner().peek("a"), Some(b"2".to_vec()));
        assert!(kv.delete("a").await.is_err());
        assert_eq!(kv.inner().peek("a"), None);
        assert!(
            kv.get("a").await.is_ok(),
            "reads never lose acknowledgements"
        );
    });
}

#[test]
fn faulty_sql_fails_before_running_anything() {
    block_on(async {
        let recorder = Recorder::default();
        let sql = FaultySql::new(recorder.clone(), 3, SqlFaultRates::uniform(1.0));
        let insert = Statement::new("INSERT INTO t VALUES (1)", vec![]);
        let err = sql.execute(&insert).await.unwrap_err();
        assert!(
            matches!(&err, Error::Database { message } if message.starts_with("injected fault"))
        );
        assert!(sql.batch(&[insert.clone(), insert.clone()]).await.is_err());
        assert!(
            recorder.0.lock().unwrap().is_empty(),
            "nothing reached the database"
        );
        assert_eq!(sql.injected(), 2);
        assert_eq!(sql.capabilities(), &Capabilities::D1);

        // Reads and writes have their own rates; a batch with any write is a write.
        sql.set_rates(SqlFaultRates {
            read: 0.0,
            write: 1.0,
        });
        let select = Statement::new("  select 1", vec![]);
        let with = Statement::new("WITH x AS (SELECT 1) SELECT * FROM x", vec![]);
        sql.execute(&select).await.unwrap();
        sql.batch(&[select.clone(), with]).await.unwrap();
        assert!(sql.batch(&[select.clone(), insert.clone()]).await.is_err());
        sql.set_enabled(false);
        sql.execute(&insert).await.unwrap();
        assert_eq!(recorder.0.lock().unwrap().len(), 4);
    });
}

#[test]
fn faulty_sql_rates_are_reproducible() {
    block_on(async {
        let run = |seed| async move {
            let sql = FaultySql::new(Recorder::default(), seed, SqlFaultRates::uniform(0.5));
            let mut out = Vec::new();
            for _ in 0..100 {
                out.push(
                    sql.execute(&Statement::new("UPDATE t SET a = 1", vec![]))
                        .await
                        .is_ok(),
                );
            }
            out
        };
        assert_eq!(run(11).await, run(11).await);
        let ok = run(11).await.iter().filter(|ok| **ok).count();
        assert!((30..70).contains(&ok), "{ok}");
    });
}
