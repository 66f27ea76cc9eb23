//! Placement balance and key movement (the simulation behind docs/scaling.md), isolation of
//! shards in SQL and in a shared KV namespace, and fan-out pages equal to one database's.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use pollster::block_on;
use sonic_db_core::kv::{KvBackend, KvListOptions, MemoryKv};
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::{CacheConfig, Db, Schema, Source, Table};
use sonic_db_shard::{ShardKv, Shards};

#[derive(Debug, Clone, PartialEq, Table)]
#[table(name = "notes")]
struct Note {
    #[column(primary_key)]
    id: String,
    tenant: String,
    stars: i64,
}

fn note(id: &str, tenant: &str, stars: i64) -> Note {
    Note {
        id: id.into(),
        tenant: tenant.into(),
        stars,
    }
}

fn database(kv: Option<(&MemoryKv, &str)>) -> Db {
    let db = Db::new(SqliteBackend::memory().unwrap());
    let db = match kv {
        Some((kv, name)) => db
            .with_kv(ShardKv::new(kv.clone(), name), CacheConfig::new())
            .unwrap(),
        None => db,
    };
    for statement in Schema::new().table::<Note>().statements() {
        block_on(db.sql(statement).run()).unwrap();
    }
    db
}

fn shards(names: &[&str]) -> Shards {
    names.iter().fold(Shards::new(), |shards, name| {
        shards
            .add(name, Db::new(SqliteBackend::memory().unwrap()))
            .unwrap()
    })
}

fn placements(shards: &Shards, keys: &[String]) -> Vec<String> {
    keys.iter()
        .map(|k| shards.name_for(k).unwrap().to_owned())
        .collect()
}

#[test]
fn keys_spread_evenly_and_a_new_shard_takes_only_its_share() {
    let keys: Vec<String> = (0..100_000).map(|i| format!("tenant-{i}")).collect();
    let eight: Vec<String> = (1..=8).map(|i| format!("d1-{i}")).collect();
    let names: Vec<&str> = eight.iter().map(String::as_str).collect();
    let before = placements(&shards(&names), &keys);

    let mut load: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &before {
        *load.entry(name).or_default() += 1;
    }
    let mean = keys.len() / names.len();
    for (name, n) in &load {
        let off = (*n as f64 - mean as f64).abs() / mean as f64;
        assert!(
            off < 0.03,
            "{name} holds {n} keys, {:.1} % off the mean",
            off * 100.0
        );
    }

    // A ninth shard: only keys that move to it move, about 1/9 of them.
    let mut nine = names.clone();
    nine.push("d1-9");
    let after = placements(&shards(&nine), &keys);
    let moved: Vec<(&String, &String)> =
        before.iter().zip(&after).filter(|(a, b)| a != b).collect();
    assert!(moved.iter().all(|(_, to)| to.as_str() == "d1-9"));
    let share = moved.len() as f64 / keys.len() as f64;
    assert!((0.105..0.118).contains(&share), "{share}");

    // Removing a shard moves only its own keys.
    let seven: Vec<&str> = names.iter().copied().filter(|n| *n != "d1-3").collect();
    let fewer = placements(&shards(&seven), &keys);
    for ((was, now), key) in before.iter().zip(&fewer).zip(&keys) {
        if was != "d1-3" {
            assert_eq!(was, now, "{key} moved although its shard stayed");
        }
    }
}

#[test]
fn each_shard_has_its_own_rows_and_its_own_cache_entries() {
    let kv = MemoryKv::new();
    let shards = ["a", "b", "c"].iter().fold(Shards::new(), |shards, name| {
        shards.add(name, database(Some((&kv, name)))).unwrap()
    });
    // Two tenants on two different shards, each with a note of the same id.
    let tenants: Vec<String> = (0..100).map(|i| format!("t{i}")).collect();
    let first = &tenants[0];
    let other = tenants
        .iter()
        .find(|t| shards.name_for(t).unwrap() != shards.name_for(first).unwrap())
        .unwrap();
    let (db1, db2) = (
        shards.for_key(first).unwrap(),
        shards.for_key(other).unwrap(),
    );
    block_on(db1.insert(&note("n1", first, 1))).unwrap();
    block_on(db2.insert(&note("n1", other, 2))).unwrap();

    for (db, tenant) in [(db1, first), (db2, other)] {
        for source in [Source::D1, Source::Kv] {
            let found = block_on(db.find_with_source::<Note>("n1"))
                .unwrap()
                .unwrap();
            assert_eq!((&found.record.tenant, found.source), (tenant, source));
        }
    }
    // A delete in one shard: the other's record and cache entry stay.
    assert!(block_on(db1.delete::<Note>("n1")).unwrap());
    assert_eq!(block_on(db1.find::<Note>("n1")).unwrap(), None);
    let kept = block_on(db2.find_with_source::<Note>("n1"))
        .unwrap()
        .unwrap();
    assert_eq!((&kept.record.tenant, kept.source), (other, Source::Kv));
    // Every key in the shared namespace is under a shard's prefix.
    let listed = block_on(kv.list(&KvListOptions::default())).unwrap();
    assert!(!listed.keys.is_empty());
    assert!(listed
        .keys
        .iter()
        .all(|k| ["a/", "b/", "c/"].iter().any(|p| k.name.starts_with(p))));
}

#[test]
fn a_fan_out_page_equals_the_page_of_one_database_holding_everything() {
    let all = database(None);
    let shards = ["a", "b", "c"].iter().fold(Shards::new(), |shards, name| {
        shards.add(name, database(None)).unwrap()
    });
    for i in 0..60 {
        let tenant = format!("t{}", i % 7);
        let record = note(&format!("n{i:02}"), &tenant, (i * 37) % 11);
        block_on(all.insert(&record)).unwrap();
        block_on(shards.for_key(&tenant).unwrap().insert(&record)).unwrap();
    }
    let order = |a: &Note, b: &Note| b.stars.cmp(&a.stars).then_with(|| a.id.cmp(&b.id));
    for (offset, limit) in [(0, 10), (5, 7), (55, 10), (100, 5), (0, 0)] {
        let expected = block_on(
            all.select::<Note>()
                .order_by(Note::STARS.desc())
                .order_by(Note::ID.asc())
                .offset(offset)
                .limit(limit)
                .page(),
        )
        .unwrap();
        let merged = block_on(shards.fan_out_page(
            |db, n| async move {
                db.select::<Note>()
                    .order_by(Note::STARS.desc())
                    .order_by(Note::ID.asc())
                    .limit(n)
                    .page()
                    .await
            },
            order,
            offset,
            limit,
        ))
        .unwrap();
        assert_eq!(merged.total, expected.total);
        assert_eq!(
            merged.items, expected.items,
            "offset {offset}, limit {limit}"
        );
    }
    let counts =
        block_on(shards.fan_out(|db| async move { db.select::<Note>().count().await })).unwrap();
    assert_eq!(counts.iter().map(|(_, n)| n).sum::<u64>(), 60);
}
