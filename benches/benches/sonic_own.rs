//! Sonic's own trade-offs, each group side by side:
//!
//! - `find`: `db.find::<User>(id)` answered by a warm in-memory KV cache (`MemoryKv` through
//!   the `Db`'s cache config) vs the same read from SQL (a `Db` without cache), with raw
//!   rusqlite and Diesel for scale.
//! - `eager_9x10x10`: the association workload loaded per level (`EagerStrategy::PerLevel`,
//!   SQLite's default: users joined to their posts, then the comments `IN (…)`), in one
//!   statement
//!   (`EagerStrategy::SingleStatement`, D1's default, set through the backend's capabilities)
//!   and the N+1 way, with raw rusqlite for scale.
//! - `aggregate_90_groups`: comments per post with the newest comment's id (9 × 10 × 10
//!   fixture: 900 comments in 90 groups), `columns((POST_ID, count(), ID.max())).group_by(..)`
//!   vs the same `GROUP BY` in raw rusqlite and Diesel.
//! - `join_5x10`: black-haired users `LEFT JOIN` their posts into `(User, Option<Post>)`
//!   (5 users × 10 posts = 50 rows), `left_join(User::POSTS)` vs raw rusqlite and Diesel's
//!   `left_outer_join`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use sonic_benches::fixture::Seed;
use sonic_benches::{diesel, raw, sonic};

/// The record every `find` reads (of 100).
const ID: i64 = 42;

fn find(c: &mut Criterion) {
    let mut group = c.benchmark_group("find");
    let seed = Seed::Trivial(100);
    let cached = sonic::Bench::new(seed, sonic::Strategy::Default).with_kv();
    cached.find(ID); // the miss that fills KV
    group.bench_function("sonic_kv_warm", |b| b.iter(|| black_box(cached.find(ID))));
    let s = sonic::Bench::new(seed, sonic::Strategy::Default);
    group.bench_function("sonic_sql", |b| b.iter(|| black_box(s.find(ID))));
    let r = raw::Bench::new(seed);
    group.bench_function("rusqlite", |b| b.iter(|| black_box(r.find(ID))));
    let mut d = diesel::Bench::new(seed);
    group.bench_function("diesel", |b| b.iter(|| black_box(d.find(ID))));
    group.finish();
}

fn eager(c: &mut Criterion) {
    let mut group = c.benchmark_group("eager_9x10x10");
    for (name, strategy) in [
        ("sonic_per_level", sonic::Strategy::Default),
        ("sonic_single_statement", sonic::Strategy::SingleStatement),
        ("sonic_n_plus_1", sonic::Strategy::NPlusOne),
    ] {
        let s = sonic::Bench::new(Seed::Associations, strategy);
        group.bench_function(name, |b| b.iter(|| black_box(s.associations())));
    }
    let r = raw::Bench::new(Seed::Associations);
    group.bench_function("rusqlite", |b| b.iter(|| black_box(r.associations())));
    group.finish();
}

fn aggregate(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregate_90_groups");
    let s = sonic::Bench::new(Seed::Associations, sonic::Strategy::Default);
    group.bench_function("sonic", |b| b.iter(|| black_box(s.aggregate())));
    let r = raw::Bench::new(Seed::Associations);
    group.bench_function("rusqlite", |b| b.iter(|| black_box(r.aggregate())));
    let mut d = diesel::Bench::new(Seed::Associations);
    group.bench_function("diesel", |b| b.iter(|| black_box(d.aggregate())));
    group.finish();
}

fn join(c: &mut Criterion) {
    let mut group = c.benchmark_group("join_5x10");
    let s = sonic::Bench::new(Seed::Associations, sonic::Strategy::Default);
    group.bench_function("sonic", |b| b.iter(|| black_box(s.join())));
    let r = raw::Bench::new(Seed::Associations);
    group.bench_function("rusqlite", |b| b.iter(|| black_box(r.medium())));
    let mut d = diesel::Bench::new(Seed::Associations);
    group.bench_function("diesel", |b| b.iter(|| black_box(d.medium())));
    group.finish();
}

criterion_group!(benches, find, eager, aggregate, join);
criterion_main!(benches);
