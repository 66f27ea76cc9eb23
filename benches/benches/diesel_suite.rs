//! Diesel's benchmark suite (`diesel_bench`) on in-memory SQLite, three implementations per
//! workload in one criterion group each, so the report shows them side by side:
//! `sonic` (Sonic's query API, derive'd tables, rusqlite backend), `rusqlite` (raw,
//! `prepare_cached`, columns by index: the physical limit) and `diesel` (Diesel 2.3).
//!
//! `cargo bench -p sonic-benches --bench diesel_suite` measures; `cargo test --benches` runs
//! every routine once (no timing). Results and method: BENCHMARKS.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sonic_benches::fixture::Seed;
use sonic_benches::{diesel, raw, sonic};

fn trivial_query(c: &mut Criterion) {
    let mut group = c.benchmark_group("trivial_query");
    for n in [1, 100, 10_000] {
        let seed = Seed::Trivial(n);
        let s = sonic::Bench::new(seed, sonic::Strategy::Default);
        group.bench_function(BenchmarkId::new("sonic", n), |b| {
            b.iter(|| black_box(s.trivial()))
        });
        let r = raw::Bench::new(seed);
        group.bench_function(BenchmarkId::new("rusqlite", n), |b| {
            b.iter(|| black_box(r.trivial()))
        });
        let mut d = diesel::Bench::new(seed);
        group.bench_function(BenchmarkId::new("diesel", n), |b| {
            b.iter(|| black_box(d.trivial()))
        });
    }
    group.finish();
}

fn medium_query(c: &mut Criterion) {
    let mut group = c.benchmark_group("medium_query");
    for n in [1, 100, 1_000] {
        let seed = Seed::Medium(n);
        let s = sonic::Bench::new(seed, sonic::Strategy::Default);
        group.bench_function(BenchmarkId::new("sonic", n), |b| {
            b.iter(|| black_box(s.medium()))
        });
        // The same call on a backend that declares single-statement eager loading (D1's).
        let single = sonic::Bench::new(seed, sonic::Strategy::SingleStatement);
        group.bench_function(BenchmarkId::new("sonic_single_statement", n), |b| {
            b.iter(|| black_box(single.medium()))
        });
        let r = raw::Bench::new(seed);
        group.bench_function(BenchmarkId::new("rusqlite", n), |b| {
            b.iter(|| black_box(r.medium()))
        });
        let mut d = diesel::Bench::new(seed);
        group.bench_function(BenchmarkId::new("diesel", n), |b| {
            b.iter(|| black_box(d.medium()))
        });
    }
    group.finish();
}

fn insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("insert");
    for n in [1, 10, 100] {
        let mut s = sonic::Bench::new(Seed::Empty, sonic::Strategy::Default);
        group.bench_function(BenchmarkId::new("sonic", n), |b| {
            b.iter(|| black_box(s.insert(n)))
        });
        // Without RETURNING (`insert_many_count`), as the plain INSERTs below.
        let mut s = sonic::Bench::new(Seed::Empty, sonic::Strategy::Default);
        group.bench_function(BenchmarkId::new("sonic_count", n), |b| {
            b.iter(|| black_box(s.insert_count(n)))
        });
        let mut r = raw::Bench::new(Seed::Empty);
        group.bench_function(BenchmarkId::new("rusqlite", n), |b| b.iter(|| r.insert(n)));
        // What Sonic's insert_many does (reads the rows back), at the physical limit.
        let mut r = raw::Bench::new(Seed::Empty);
        group.bench_function(BenchmarkId::new("rusqlite_returning", n), |b| {
            b.iter(|| black_box(r.insert_returning(n)))
        });
        let mut d = diesel::Bench::new(Seed::Empty);
        group.bench_function(BenchmarkId::new("diesel", n), |b| b.iter(|| d.insert(n)));
    }
    group.finish();
}

fn loading_associations(c: &mut Criterion) {
    let mut group = c.benchmark_group("loading_associations");
    let s = sonic::Bench::new(Seed::Associations, sonic::Strategy::Default);
    group.bench_function("sonic", |b| b.iter(|| black_box(s.associations())));
    let r = raw::Bench::new(Seed::Associations);
    group.bench_function("rusqlite", |b| b.iter(|| black_box(r.associations())));
    let mut d = diesel::Bench::new(Seed::Associations);
    group.bench_function("diesel", |b| b.iter(|| black_box(d.associations())));
    group.finish();
}

criterion_group!(
    benches,
    trivial_query,
    medium_query,
    insert,
    loading_associations
);
criterion_main!(benches);
