//! `MemoryKv` enforces the platform's rules, and the list helpers follow the cursor.

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use pollster::block_on;
use sonic_db_core::kv::{
    self, get_all, list_all, KvBackend, KvListOptions, KvPutOptions, MemoryKv, MAX_VALUE_BYTES,
};
use sonic_db_core::testing::kv::CountingKv;
use sonic_db_core::{Error, FixedClock};

fn kv_error(result: sonic_db_core::Result<impl std::fmt::Debug>) -> String {
    match result {
        Err(Error::Kv(message)) => message,
        other => panic!("expected Error::Kv, got {other:?}"),
    }
}

#[test]
fn keys_follow_the_platform_rules() {
    block_on(async {
        let kv = MemoryKv::new();
        let ttl = KvPutOptions::ttl(60);
        assert!(kv_error(kv.put("", b"v", &ttl).await).contains("empty"));
        assert!(kv_error(kv.put(".", b"v", &ttl).await).contains("not allowed"));
        assert!(kv_error(kv.put("..", b"v", &ttl).await).contains("not allowed"));
        assert!(kv_error(kv.get("..").await).contains("not allowed"));
        assert!(kv_error(kv.delete("").await).contains("empty"));

        let max = "k".repeat(512);
        kv.put(&max, b"v", &ttl).await.unwrap();
        assert_eq!(kv.get(&max).await.unwrap(), Some(b"v".to_vec()));
        let long = "k".repeat(513);
        assert!(kv_error(kv.put(&long, b"v", &ttl).await).contains("513 bytes"));
        // Bytes, not characters: 171 three-byte characters are 513 bytes.
        let wide = "€".repeat(171);
        assert!(kv_error(kv.put(&wide, b"v", &ttl).await).contains("longer than 512"));
        // Keys that are only dots, but not exactly `.`/`..`, are fine.
        kv.put("...", b"v", &ttl).await.unwrap();
    });
}

#[test]
fn values_and_metadata_have_size_limits() {
    block_on(async {
        let kv = MemoryKv::new();
        let big = vec![7u8; MAX_VALUE_BYTES];
        kv.put("big", &big, &KvPutOptions::default()).await.unwrap();
        assert_eq!(
            kv.get("big").await.unwrap().map(|v| v.len()),
            Some(MAX_VALUE_BYTES)
        );
        let too_big = vec![7u8; MAX_VALUE_BYTES + 1];
        assert!(
            kv_error(kv.put("big", &too_big, &KvPutOptions::default()).await).contains("25 MiB")
        );

        // 1024 bytes of serialised JSON is the limit: a string of 1022 chars plus quotes.
        let at_limit = KvPutOptions {
            metadata: Some(serde_json::Value::String("m".repeat(1022))),
            ..KvPutOptions::default()
        };
        kv.put("meta", b"v", &at_limit).await.unwrap();
        let over = KvPutOptions {
            metadata: Some(serde_json::Value::String("m".repeat(1023))),
            ..KvPutOptions::default()
        };
        assert!(kv_error(kv.put("meta", b"v", &over).await).contains("1025 bytes"));

        let page = kv.list(&KvListOptions::prefix("meta")).await.unwrap();
        assert_eq!(page.keys[0].metadata, at_limit.metadata);
    });
}

#[test]
fn ttl_minimum_and_expiry_follow_the_clock() {
    block_on(async {
        let clock = FixedClock::new(1_000_000);
        let kv = MemoryKv::with_clock(clock.clone());
        assert!(kv_error(kv.put("k", b"v", &KvPutOptions::ttl(59)).await).contains("minimum of 60"));
        let soon = KvPutOptions {
            expiration: Some(1_000 + 59),
            ..KvPutOptions::default()
        };
        assert!(kv_error(kv.put("k", b"v", &soon).await).contains("60 s in the future"));

        kv.put("k", b"v", &KvPutOptions::ttl(60)).await.unwrap();
        let absolute = KvPutOptions {
            expiration: Some(1_000 + 120),
            ..KvPutOptions::default()
        };
        kv.put("a", b"v", &absolute).await.unwrap();
        kv.put("forever", b"v", &KvPutOptions::default())
            .await
            .unwrap();

        clock.advance(59_999);
        assert!(kv.get("k").await.unwrap().is_some());
        clock.advance(1);
        assert_eq!(kv.get("k").await.unwrap(), None, "expired at exactly 60 s");
        assert!(kv.get("a").await.unwrap().is_some());
        let names: Vec<String> = list_all(&kv, "")
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.name)
            .collect();
        assert_eq!(names, ["a", "forever"]);
        assert_eq!(
            kv.list(&KvListOptions::prefix("a")).await.unwrap().keys[0].expiration,
            Some(1_120)
        );

        clock.advance(60_000);
        assert_eq!(
            kv.get_bulk(&["a".into(), "forever".into()]).await.unwrap(),
            vec![None, Some(b"v".to_vec())]
        );
    });
}

#[test]
fn bulk_get_takes_at_most_100_keys_and_get_all_chunks() {
    block_on(async {
        let kv = CountingKv::new(MemoryKv::new());
        let keys: Vec<String> = (0..250).map(|i| format!("k{i:03}")).collect();
        for key in keys.iter().step_by(2) {
            kv.put(key, key.as_bytes(), &KvPutOptions::default())
                .await
                .unwrap();
        }
        assert!(kv_error(kv.get_bulk(&keys[..101]).await).contains("at most 100"));
        kv.reset();
        let values = get_all(&kv, &keys).await.unwrap();
        assert_eq!(kv.counts().bulk_gets, 3);
        for (i, (key, value)) in keys.iter().zip(values).enumerate() {
            assert_eq!(value, (i % 2 == 0).then(|| key.as_bytes().to_vec()));
        }
    });
}

#[test]
fn list_pages_through_more_than_1000_keys_with_a_cursor() {
    block_on(async {
        let clock = FixedClock::new(0);
        let kv = MemoryKv::with_clock(clock.clone());
        for i in 0..2500 {
            kv.put(&format!("p:{i:05}"), b"v", &KvPutOptions::default())
                .await
                .unwrap();
        }
        kv.put("q:other", b"v", &KvPutOptions::default())
            .await
            .unwrap();

        let first = kv.list(&KvListOptions::prefix("p:")).await.unwrap();
        assert_eq!(first.keys.len(), 1000);
        assert!(!first.list_complete);
        assert_eq!(first.keys[0].name, "p:00000");
        let second = kv
            .list(&KvListOptions {
                cursor: first.cursor.clone(),
                ..KvListOptions::prefix("p:")
            })
            .await
            .unwrap();
        assert_eq!(second.keys[0].name, "p:01000");
        assert!(kv_error(
            kv.list(&KvListOptions {
                limit: Some(1001),
                ..KvListOptions::default()
            })
            .await
        )
        .contains("1..=1000"));

        let all = list_all(&kv, "p:").await.unwrap();
        assert_eq!(all.len(), 2500);
        assert!(all.windows(2).all(|w| w[0].name < w[1].name));

        // Expired keys still take room in a page: pages come back short, even empty, with
        // `list_complete: false`; the helper keeps following the cursor.
        for i in 0..1500 {
            kv.put(&format!("p:{i:05}"), b"v", &KvPutOptions::ttl(60))
                .await
                .unwrap();
        }
        clock.advance(61_000);
        let empty = kv.list(&KvListOptions::prefix("p:")).await.unwrap();
        assert!(empty.keys.is_empty() && !empty.list_complete && empty.cursor.is_some());
        assert_eq!(list_all(&kv, "p:").await.unwrap().len(), 1000);

        // delete_prefix removes every key, not just the first page (SonicJs stopped at 100).
        assert_eq!(kv::delete_prefix(&kv, "p:").await.unwrap(), 1000);
        assert_eq!(kv.keys(), ["q:other"]);
    });
}

#[test]
fn write_rate_limit_is_optional_and_per_key() {
    block_on(async {
        let clock = FixedClock::new(0);
        let kv = MemoryKv::with_clock(clock.clone()).limit_write_rate();
        let o = KvPutOptions::default();
        kv.put("a", b"1", &o).await.unwrap();
        kv.put("b", b"1", &o).await.unwrap();
        assert!(kv_error(kv.put("a", b"2", &o).await).contains("429"));
        assert!(kv_error(kv.delete("a").await).contains("429"));
        clock.advance(1000);
        kv.put("a", b"2", &o).await.unwrap();
        assert_eq!(kv.get("a").await.unwrap(), Some(b"2".to_vec()));
    });
}
