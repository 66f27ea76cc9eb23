//! Statements and round trips per operation, counted with sonic-db-core's `CountingSql` /
//! `CountingKv` wrappers on the benchmark fixtures. Counts are deterministic and asserted;
//! nothing is timed. `cargo test -p sonic-benches --test round_trips -- --nocapture` prints
//! the table that BENCHMARKS.md quotes.

// Reason: test setup helpers outside `#[test]` functions fail the test by panicking.
#![allow(clippy::unwrap_used)]

use sonic_benches::fixture::Seed;
use sonic_benches::sonic::{self, Comment, Post, Strategy, User};
use sonic_db_core::kv::MemoryKv;
use sonic_db_core::sqlite::SqliteBackend;
use sonic_db_core::testing::kv::CountingKv;
use sonic_db_core::testing::sql::CountingSql;
use sonic_db_core::{CacheConfig, Capabilities, Db, FixedClock, Table};

/// What one operation cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cost {
    round_trips: usize,
    statements: usize,
    max_params: usize,
    kv_gets: u64,
    kv_puts: u64,
}

struct Counted {
    db: Db,
    sql: CountingSql<SqliteBackend>,
    kv: Option<CountingKv<MemoryKv>>,
}

impl Counted {
    fn new(backend: SqliteBackend, with_kv: bool) -> Self {
        let sql = CountingSql::new(backend);
        let mut db = Db::new(sql.clone()).with_clock(FixedClock::new(1_700_000_000_000));
        let kv = with_kv.then(|| CountingKv::new(MemoryKv::new()));
        if let Some(kv) = &kv {
            db = db.with_kv(kv.clone(), CacheConfig::new()).unwrap();
        }
        Counted { db, sql, kv }
    }

    fn reset(&self) {
        self.sql.reset();
        if let Some(kv) = &self.kv {
            kv.reset();
        }
    }

    /// Runs `op` and returns what it cost.
    fn cost<R>(&self, op: impl std::future::Future<Output = R>) -> (R, Cost) {
        self.reset();
        let result = pollster::block_on(op);
        let kv = self.kv.as_ref().map(|kv| kv.counts()).unwrap_or_default();
        let cost = Cost {
            round_trips: self.sql.round_trips(),
            statements: self.sql.statement_count(),
            max_params: self.sql.max_params(),
            kv_gets: kv.gets + kv.bulk_gets,
            kv_puts: kv.puts,
        };
        (result, cost)
    }
}

fn row(table: &mut Vec<String>, operation: &str, cost: Cost) {
    table.push(format!(
        "| {operation} | {} | {} | {} | {} | {} |",
        cost.round_trips, cost.statements, cost.max_params, cost.kv_gets, cost.kv_puts
    ));
}

fn cost(round_trips: usize, statements: usize, max_params: usize, kv: (u64, u64)) -> Cost {
    Cost {
        round_trips,
        statements,
        max_params,
        kv_gets: kv.0,
        kv_puts: kv.1,
    }
}

#[test]
fn statements_and_round_trips_per_operation() {
    let mut table = vec![
        "| operation | SQL round trips | statements | max params | KV gets | KV puts |".to_string(),
        "|---|---|---|---|---|---|".to_string(),
    ];

    // Finds through the KV cache (100 users).
    let cached = Counted::new(sonic::backend(Seed::Trivial(100), Strategy::Default), true);
    let (user, c) = cached.cost(cached.db.find::<User>(42));
    assert_eq!(user.unwrap().unwrap().id, 42);
    assert_eq!(c, cost(1, 1, 1, (1, 1)), "cold find: KV miss, SQL, KV fill");
    row(&mut table, "find, cold (KV miss → SQL → KV fill)", c);
    let (user, c) = cached.cost(cached.db.find::<User>(42));
    assert_eq!(user.unwrap().unwrap().id, 42);
    assert_eq!(c, cost(0, 0, 0, (1, 0)), "warm find: one KV get, no SQL");
    row(&mut table, "find, warm (KV hit)", c);
    let (user, c) = cached.cost(cached.db.find::<User>(1_000));
    assert!(user.unwrap().is_none());
    assert_eq!(c, cost(1, 1, 1, (1, 0)), "find of a missing id");
    row(&mut table, "find, no such record", c);

    // A list never touches KV.
    let (users, c) = cached.cost(cached.db.select::<User>().all());
    assert_eq!(users.unwrap().len(), 100);
    assert_eq!(c, cost(1, 1, 0, (0, 0)));
    row(&mut table, "list (select all 100 users)", c);
    let (page, c) = cached.cost(cached.db.select::<User>().limit(10).page());
    assert_eq!(page.unwrap().total, 100);
    assert_eq!(
        c,
        cost(1, 2, 0, (0, 0)),
        "page + count in one batch (LIMIT is a literal)"
    );
    row(&mut table, "page of 10 + total (one batch)", c);

    // Eager loading, 2 levels: 9 users × 10 posts × 10 comments.
    let eager = |strategy: Strategy, backend: SqliteBackend| {
        let counted = Counted::new(backend, false);
        let (users, c) = counted.cost(async {
            match strategy {
                Strategy::NPlusOne => sonic::n_plus_one(&counted.db).await,
                _ => {
                    counted
                        .db
                        .select::<User>()
                        .with(User::POSTS.with(Post::COMMENTS))
                        .all()
                        .await
                }
            }
        });
        let users = users.unwrap();
        assert_eq!(users.len(), 9);
        let comments: usize = users
            .iter()
            .flat_map(|u| u.posts.as_deref().unwrap_or_default())
            .map(|p| p.comments.as_ref().map_or(0, Vec::len))
            .sum();
        assert_eq!(comments, 900);
        c
    };
    let c = eager(
        Strategy::Default,
        sonic::backend(Seed::Associations, Strategy::Default),
    );
    assert_eq!(
        c,
        cost(2, 2, 90, (0, 0)),
        "per level: users LEFT JOIN posts, then comments IN (90)"
    );
    row(&mut table, "eager 2 levels, per level (SQLite default)", c);
    let c = eager(
        Strategy::SingleStatement,
        sonic::backend(Seed::Associations, Strategy::SingleStatement),
    );
    assert_eq!(c, cost(1, 1, 0, (0, 0)), "single statement");
    row(
        &mut table,
        "eager 2 levels, single statement (D1 default)",
        c,
    );
    let c = eager(
        Strategy::NPlusOne,
        sonic::backend(Seed::Associations, Strategy::Default),
    );
    assert_eq!(c, cost(100, 100, 1, (0, 0)), "N+1: 1 + 9 + 90");
    row(&mut table, "eager 2 levels, N+1 (no `.with`)", c);
    // On D1's limits (100 parameters), per level still fits the 90 post ids in one statement.
    let c = eager(
        Strategy::Default,
        sonic::backend(Seed::Associations, Strategy::Default).with_capabilities(Capabilities {
            eager: sonic_db_core::EagerStrategy::PerLevel,
            ..Capabilities::D1
        }),
    );
    assert_eq!(c, cost(2, 2, 90, (0, 0)));
    row(&mut table, "eager 2 levels, per level, D1 limits", c);

    // Medium query (users with posts, none exist): one statement either way (per level, the
    // posts are joined to the users).
    let medium = |strategy| {
        let counted = Counted::new(sonic::backend(Seed::Medium(100), strategy), false);
        let (users, c) = counted.cost(
            counted
                .db
                .select::<User>()
                .filter(User::HAIR_COLOR.eq("black"))
                .with(User::POSTS)
                .all(),
        );
        assert_eq!(users.unwrap().len(), 50);
        c
    };
    let c = medium(Strategy::Default);
    assert_eq!(c, cost(1, 1, 1, (0, 0)));
    row(&mut table, "medium query (100 users), per level", c);
    let c = medium(Strategy::SingleStatement);
    assert_eq!(c, cost(1, 1, 1, (0, 0)));
    row(&mut table, "medium query (100 users), single statement", c);

    // 1,000 rows on a 100-parameter backend: 33 rows of 3 values per statement, one batch.
    let rows = |first: i64| -> Vec<User> {
        (first..first + 1_000)
            .map(|id| User {
                id,
                name: format!("User {id}"),
                hair_color: None,
                posts: None,
            })
            .collect()
    };
    let d1_limits =
        || sonic::backend(Seed::Empty, Strategy::Default).with_capabilities(Capabilities::D1);
    let counted = Counted::new(d1_limits(), false);
    let (inserted, c) = counted.cost(counted.db.insert_many(&rows(1)));
    assert_eq!(inserted.unwrap().len(), 1_000);
    assert_eq!(
        c,
        cost(1, 31, 99, (0, 0)),
        "ceil(1000 / 33) statements in one batch"
    );
    row(&mut table, "insert_many 1,000 rows, 100-param backend", c);
    let counted = Counted::new(d1_limits(), true);
    let (inserted, c) = counted.cost(counted.db.insert_many(&rows(1)));
    assert_eq!(inserted.unwrap().len(), 1_000);
    assert_eq!(
        c,
        cost(1, 31, 99, (0, 0)),
        "KV: nothing (new keys have nothing stale; reads fill lazily)"
    );
    row(
        &mut table,
        "same, with the KV cache (inserts write nothing to KV)",
        c,
    );

    // Statement shapes the per-level loader sends (for the report).
    let counted = Counted::new(sonic::backend(Seed::Associations, Strategy::Default), false);
    let _ = counted.cost(
        counted
            .db
            .select::<User>()
            .with(User::POSTS.with(Post::COMMENTS))
            .all(),
    );
    let shapes: Vec<String> = counted
        .sql
        .statements()
        .iter()
        .map(|s| {
            let sql = &s.sql;
            match sql.find(" IN (") {
                Some(i) => format!("{} IN (…{} params) …", &sql[..i], s.params.len()),
                None => sql.clone(),
            }
        })
        .collect();
    assert_eq!(shapes.len(), 2);
    assert!(shapes[0].contains(" LEFT JOIN ") && shapes[0].contains(Post::DEF.name));
    assert!(shapes[1].contains(Comment::DEF.name));

    println!("\n{}\n", table.join("\n"));
    println!("per-level statements:\n  {}\n", shapes.join("\n  "));
}
