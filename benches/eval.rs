//! Selection over generated fleets of 10k, 100k and 1M hosts: the indexed
//! engine beside the reference interpreter and a hand-written closure, in
//! the same run, so that results read as ratios.
//!
//! `cargo bench --bench eval`; set `FLEETSCOPE_BENCH_SIZES=10000,100000`
//! to leave out the largest fleet.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion};
use fleetscope::testgen::{self, QUERIES};
use fleetscope::{reference, Fleet, IndexedFleet, Scope};

fn sizes() -> Vec<usize> {
    std::env::var("FLEETSCOPE_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000])
}

fn eval(c: &mut Criterion) {
    let now = testgen::now();
    for n in sizes() {
        let hosts = testgen::fleet(n, 7);
        let Ok(fleet) = Fleet::new(hosts.clone()) else {
            eprintln!("generated fleet rejected");
            return;
        };
        let index = IndexedFleet::new(fleet);
        let mut group = c.benchmark_group(format!("eval/{n}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
        for q in QUERIES {
            let Ok(scope) = Scope::parse(q.source) else {
                eprintln!("query {} does not parse", q.name);
                continue;
            };
            group.bench_with_input(BenchmarkId::new("engine", q.name), &scope, |b, s| {
                b.iter(|| black_box(index.select(s, now)).len())
            });
            group.bench_with_input(BenchmarkId::new("closure", q.name), &q.name, |b, name| {
                b.iter(|| black_box(testgen::baseline(name, &hosts, now)))
            });
            group.bench_with_input(BenchmarkId::new("reference", q.name), &scope, |b, s| {
                b.iter(|| {
                    hosts
                        .iter()
                        .filter(|h| reference::matches(s, h, now))
                        .count()
                })
            });
        }
        group.finish();

        let mut build = c.benchmark_group(format!("build/{n}"));
        build
            .sample_size(10)
            .warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_secs(1));
        if n <= 100_000 {
            let json = serde_json::to_vec(&hosts).unwrap_or_default();
            build.bench_function("deserialize_json", |b| {
                b.iter(|| Fleet::from_json(black_box(&json)).map(|f| f.len()))
            });
            build.bench_function("index", |b| {
                b.iter_batched(
                    || Fleet::new(hosts.clone()),
                    |f| f.map(|f| IndexedFleet::new(f).len()),
                    BatchSize::LargeInput,
                )
            });
        }
        build.finish();
    }
}

criterion_group!(benches, eval);
criterion_main!(benches);
