//! The `tracing` events (see `sonic_db_core::trace`): statements and batches with their SQL
//! and parameter count but never a parameter's value, the eager-loading strategy of a select
//! with relations, and the KV cache's decisions. Each test captures the events of its own
//! thread (see `capture`).

// Test setup outside `#[test]` functions fails the test by panicking, as tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(all(feature = "rusqlite", feature = "derive"))]

mod query_support;

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use query_support::*;
use sonic_db_core::cache::{CacheConfig, CacheEvent};
use sonic_db_core::kv::{KvBackend, KvPutOptions, MemoryKv};
use sonic_db_core::Capabilities;

thread_local! {
    /// The events of this thread while it is inside [`capture`].
    static CAPTURED: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// Where the subscriber writes: the buffer of the thread the event happened on, if it is
/// capturing; events of other threads are dropped.
struct ThreadBuffer;

impl Write for ThreadBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURED.with(|captured| {
            if let Some(bytes) = captured.borrow_mut().as_mut() {
                bytes.extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A buffer shared by every writer a scoped subscriber makes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `f` and returns the events of level `debug` and above it emitted on this thread, one
/// a line.
///
/// One global subscriber, installed once, rather than one scoped to the thread: with scoped
/// subscribers, a callsite first reached by a parallel test thread that has none caches
/// "never" (tokio-rs/tracing#2874) and its event is lost, a flake. With a global one, every
/// callsite registered after it is installed is enabled; the rebuild covers those before.
fn capture(f: impl FnOnce()) -> String {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .without_time()
            .with_writer(|| ThreadBuffer)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    tracing::callsite::rebuild_interest_cache();
    CAPTURED.with(|captured| *captured.borrow_mut() = Some(Vec::new()));
    f();
    let bytes = CAPTURED.with(|captured| captured.borrow_mut().take().unwrap());
    String::from_utf8(bytes).unwrap()
}

/// The lines of `output` that contain every one of `parts`.
fn lines_with<'a>(output: &'a str, parts: &[&str]) -> Vec<&'a str> {
    output
        .lines()
        .filter(|line| parts.iter().all(|part| line.contains(part)))
        .collect()
}

/// The index of the first line at or after `from` that contains every one of `parts`.
fn position(output: &str, from: usize, parts: &[&str]) -> usize {
    output
        .lines()
        .enumerate()
        .skip(from)
        .find(|(_, line)| parts.iter().all(|part| line.contains(part)))
        .map(|(i, _)| i)
        .unwrap_or_else(|| panic!("no line after {from} with {parts:?} in:\n{output}"))
}

const SECRET: &str = "s3cr3t-parameter-value";

#[test]
fn a_statement_reports_its_sql_and_parameter_count_but_no_value() {
    let (db, _, _) = setup();
    block_on(db.insert(&User::new("u1", "a@example.com"))).unwrap();
    let output = capture(|| {
        let found = block_on(
            db.select::<User>()
                .filter(User::EMAIL.eq(SECRET) | User::ID.eq("u1"))
                .all(),
        )
        .unwrap();
        assert_eq!(found.len(), 1);
    });
    let statements = lines_with(&output, &["DEBUG", "sonic::sql", "statement"]);
    assert_eq!(statements.len(), 1, "{output}");
    let line = statements[0];
    assert!(line.contains("sql=SELECT "), "{line}");
    assert!(line.contains("FROM \"users\""), "{line}");
    assert!(line.contains("params=2"), "{line}");
    assert!(line.contains("rows=1"), "{line}");
    assert!(line.contains("changes=0"), "{line}");
    assert!(line.contains("round_trip=\"single\""), "{line}");
    assert!(line.contains("duration_ms="), "{line}");
    assert!(
        !output.contains(SECRET),
        "a bound value was reported:\n{output}"
    );
    assert!(
        !output.contains("u1"),
        "a bound value was reported:\n{output}"
    );
}

#[test]
fn writes_report_rows_changed_and_failures() {
    let (db, _, _) = setup();
    let output = capture(|| {
        block_on(db.insert(&User::new("u1", SECRET))).unwrap();
        block_on(db.insert(&User::new("u2", SECRET))).unwrap_err();
    });
    let inserts = lines_with(
        &output,
        &["sonic::sql", "statement", "sql=INSERT INTO \"users\""],
    );
    assert_eq!(inserts.len(), 2, "{output}");
    assert!(inserts[0].contains("changes=1"), "{output}");
    assert!(inserts[1].contains("error="), "{output}");
    assert!(
        !output.contains(SECRET),
        "a bound value was reported:\n{output}"
    );
}

#[test]
fn a_batch_is_one_round_trip_then_its_statements() {
    let (db, _, _) = setup();
    block_on(db.insert(&User::new("u1", "a@example.com"))).unwrap();
    let output = capture(|| {
        let page = block_on(db.select::<User>().limit(10).page()).unwrap();
        assert_eq!(page.total, 1);
    });
    let batch = position(&output, 0, &["sonic::sql", "batch", "statements=2"]);
    assert!(
        output.lines().nth(batch).unwrap().contains("duration_ms="),
        "{output}"
    );
    let page = position(
        &output,
        batch,
        &["round_trip=\"batch\"", "index=0", "sql=SELECT "],
    );
    let count = position(
        &output,
        page,
        &["round_trip=\"batch\"", "index=1", "COUNT(*)"],
    );
    assert!(
        output.lines().nth(count).unwrap().contains("rows=1"),
        "{output}"
    );
    assert!(
        lines_with(&output, &["round_trip=\"single\""]).is_empty(),
        "{output}"
    );
}

#[test]
fn a_select_with_relations_reports_its_strategy() {
    let strategy_of = |capabilities: Capabilities, joinable: bool| {
        let (db, _, _) = setup_with(capabilities);
        block_on(db.insert(&User::new("u1", "a@example.com"))).unwrap();
        block_on(db.insert(&Post::new("p1", "u1", "title", 1))).unwrap();
        let output = capture(|| {
            if joinable {
                block_on(db.select::<Post>().with(Post::COMMENTS).all()).unwrap();
            } else {
                block_on(
                    db.select::<User>()
                        .with(User::POSTS.with(Post::COMMENTS).with(Post::AUTHOR))
                        .order_by(User::ID.asc())
                        .all(),
                )
                .unwrap();
            }
        });
        let events = lines_with(&output, &["DEBUG", "sonic::eager", "eager loading"]);
        assert_eq!(events.len(), 1, "{output}");
        events[0].to_string()
    };

    let single = strategy_of(single_statement(), false);
    assert!(single.contains("strategy=\"single statement\""), "{single}");
    assert!(
        single.contains("relations=posts(comments, author)"),
        "{single}"
    );
    assert!(single.contains("table=users"), "{single}");
    assert!(
        single.contains("backend_prefers=SingleStatement"),
        "{single}"
    );

    let levels = strategy_of(per_level(), false);
    assert!(levels.contains("strategy=\"per level\""), "{levels}");
    assert!(levels.contains("backend_prefers=PerLevel"), "{levels}");

    let joined = strategy_of(per_level(), true);
    assert!(joined.contains("strategy=\"joined\""), "{joined}");
    assert!(joined.contains("relations=comments"), "{joined}");

    // A select without relations reports none.
    let (db, _, _) = setup();
    let output = capture(|| {
        block_on(db.select::<User>().all()).unwrap();
    });
    assert!(!output.contains("sonic::eager"), "{output}");
}

#[test]
fn a_cached_find_misses_and_fills_then_hits() {
    let (db, _, _) = setup();
    let db = db.with_kv(MemoryKv::new(), CacheConfig::new()).unwrap();
    // Raw SQL does not go through the cache: KV starts empty.
    block_on(
        db.sql(
            "INSERT INTO users (id, email, active, created_on, updated_on) VALUES (?, ?, 1, 0, 0)",
        )
        .bind("u1")
        .bind("a@example.com")
        .run(),
    )
    .unwrap();
    let output = capture(|| {
        block_on(db.find::<User>("u1")).unwrap().unwrap();
        block_on(db.find::<User>("u1")).unwrap().unwrap();
    });
    let key = "key=sonic:users:u1";
    let miss = position(
        &output,
        0,
        &["DEBUG", "sonic::cache", "miss", key, "reason=\"absent\""],
    );
    let select = position(&output, miss, &["sonic::sql", "statement", "sql=SELECT "]);
    let fill = position(&output, select, &["DEBUG", "sonic::cache", "fill", key]);
    let hit = position(&output, fill, &["DEBUG", "sonic::cache", "hit", key]);
    assert_eq!(
        lines_with(&output, &["sonic::sql"]).len(),
        1,
        "the hit reads no SQL:\n{output}"
    );
    assert!(hit > fill);

    // Writes invalidate: a generation put of the record's bucket after an update, and
    // after a delete; then the next find misses on the stale generation.
    let output = capture(|| {
        let mut user = block_on(db.find::<User>("u1")).unwrap().unwrap();
        user.name = Some("renamed".into());
        block_on(db.update(&user)).unwrap();
        block_on(db.find::<User>("u1")).unwrap().unwrap();
        block_on(db.delete::<User>("u1")).unwrap();
    });
    let bucket = "key=sonic:users:#b";
    let put = position(
        &output,
        0,
        &["DEBUG", "sonic::cache", "generation put", bucket],
    );
    let miss = position(
        &output,
        put,
        &[
            "DEBUG",
            "sonic::cache",
            "miss",
            key,
            "reason=\"stale generation\"",
        ],
    );
    position(
        &output,
        miss,
        &["DEBUG", "sonic::cache", "generation put", bucket],
    );
}

#[test]
fn cache_events_are_warnings_whatever_the_hook() {
    let (db, _, _) = setup();
    let kv = MemoryKv::new();
    let events: Arc<Mutex<Vec<CacheEvent>>> = Arc::default();
    let hooked = events.clone();
    let cache = sonic_db_core::cache::KvCache::new(kv.clone(), CacheConfig::new())
        .unwrap()
        .with_hook(move |event: &CacheEvent| hooked.lock().unwrap().push(event.clone()));
    let db = db.with_cache(cache);
    block_on(db.insert(&User::new("u1", "a@example.com"))).unwrap();
    block_on(kv.put("sonic:users:u1", b"not an envelope", &KvPutOptions::ttl(60))).unwrap();
    let output = capture(|| {
        let found = block_on(db.find_with_source::<User>("u1"))
            .unwrap()
            .unwrap();
        assert_eq!(found.source, sonic_db_core::Source::D1);
    });
    let warn = position(
        &output,
        0,
        &[
            "WARN",
            "sonic::cache",
            "undecodable",
            "table=users",
            "key=sonic:users:u1",
            "reason=",
        ],
    );
    position(&output, warn, &["DEBUG", "miss", "reason=\"undecodable\""]);
    position(&output, warn, &["DEBUG", "fill"]);
    // The hook got the event too.
    assert!(matches!(
        events.lock().unwrap().as_slice(),
        [CacheEvent::Undecodable { .. }]
    ));
}

#[test]
fn without_a_subscriber_nothing_is_captured_and_everything_works() {
    // No subscriber on this thread: the events are dropped at their level check.
    let (db, _, _) = setup();
    let db = db.with_kv(MemoryKv::new(), CacheConfig::new()).unwrap();
    block_on(db.insert(&User::new("u1", "a@example.com"))).unwrap();
    assert!(block_on(db.find::<User>("u1")).unwrap().is_some());
    // A subscriber that keeps only warnings sees no debug event.
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        block_on(db.find::<User>("u1")).unwrap();
        block_on(db.select::<User>().with(User::POSTS).all()).unwrap();
    });
    assert!(captured.0.lock().unwrap().is_empty());
}
