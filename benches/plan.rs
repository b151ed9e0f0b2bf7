//! Planning generated fleets of 10k, 100k and 1M hosts with an 8-tier
//! policy, split by phase so the ratios show where the time goes:
//!
//! - `select`: evaluating the 8 tier scopes with the indexed engine;
//! - `plan`: the whole `Plan::new` (selection, assignment, batches with a
//!   `max_unavailable` limit, windows across time zones and a blackout, host
//!   names written into the plan);
//! - `plan_any_window`: the same policy with every window set to `any`, so
//!   that `plan - plan_any_window` is the calendar's share;
//! - `select_reference`: the 8 scopes with the reference interpreter, the
//!   baseline for the selection phase;
//! - `plan_priced`: the windowed policy plus `[business_hours]` (with
//!   holidays) and `[cost]`, so that `plan_priced / plan` is the price of
//!   counting after-hours time and cost for every batch.
//!
//! `cargo bench --bench plan`; `FLEETSCOPE_BENCH_SIZES=10000,100000` leaves
//! out the largest fleet.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use fleetscope::rollout::{Plan, Policy};
use fleetscope::{reference, testgen, Fleet, IndexedFleet};

/// Eight tiers in three time zones, a Patch-Tuesday window and a freeze.
pub const POLICY: &str = r#"
timezone = "Europe/Berlin"

[scopes]
prod = "tags.env = prod"
frontend = "role in (web, api, proxy, lb)"

[windows.nightly]
every = "daily at 22:00"
duration = "6h"

[windows.weekend]
every = "weekly sat,sun at 01:00"
duration = "8h"
timezone = "America/New_York"

[windows.patch]
every = "monthly second tue +4d at 00:00"
duration = "12h"
timezone = "Asia/Tokyo"

[[blackouts]]
name = "freeze"
from = "2026-12-19"
to = "2027-01-04"

[defaults]
window = "nightly"
batch = "10%"
batch_duration = "30m"
max_failures = "2%"
soak = "12h"
notice = "24h"

[[tiers]]
name = "lab"
scope = "tags.env = dev"
batch = "50%"

[[tiers]]
name = "staging"
scope = "tags.env = staging"
after = ["lab"]

[[tiers]]
name = "canary"
scope = "@prod and tags.ring = 0"
after = ["staging"]
approval = true

[[tiers]]
name = "prod-frontend"
scope = "@prod and @frontend"
after = ["canary"]
window = "weekend"
max_unavailable = { per = "tags.az", count = 500 }

[[tiers]]
name = "prod-data"
scope = "@prod and role in (db, cache, storage, queue)"
after = ["canary"]
batch = "5%"
window = "patch"

[[tiers]]
name = "prod-eu"
scope = "@prod and tags.region like \"eu-*\""
after = ["canary"]

[[tiers]]
name = "prod-stale"
scope = "@prod and facts.last_patched < now() - 180d"
after = ["canary"]

[[tiers]]
name = "prod-rest"
scope = "@prod"
after = ["prod-frontend", "prod-data", "prod-eu", "prod-stale"]
"#;

fn sizes() -> Vec<usize> {
    std::env::var("FLEETSCOPE_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000])
}

/// The business hours and rates `plan_priced` adds.
const PRICED: &str = r#"
[business_hours]
days = "mon-fri"
hours = "08:00-18:00"
timezone = "America/New_York"
holidays = ["2026-12-24", "2026-12-25", "2027-01-01"]

[cost]
currency = "USD"
regular = 150
after_hours = 225.50
"#;

fn policies() -> Option<(Policy, Policy)> {
    let windowed = Policy::from_toml("bench.toml", POLICY).ok()?;
    let any = POLICY
        .replace("window = \"nightly\"", "window = \"any\"")
        .replace("window = \"weekend\"", "window = \"any\"")
        .replace("window = \"patch\"", "window = \"any\"");
    let any = Policy::from_toml("bench-any.toml", &any).ok()?;
    Some((windowed, any))
}

fn plan(c: &mut Criterion) {
    let Some((windowed, any)) = policies() else {
        eprintln!("the benchmark policy does not validate");
        return;
    };
    let Ok(priced) = Policy::from_toml("bench-priced.toml", &format!("{POLICY}{PRICED}")) else {
        eprintln!("the priced benchmark policy does not validate");
        return;
    };
    let start = testgen::now();
    for n in sizes() {
        let Ok(fleet) = Fleet::new(testgen::fleet(n, 7)) else {
            eprintln!("generated fleet rejected");
            return;
        };
        let index = IndexedFleet::new(fleet.clone());
        let mut group = c.benchmark_group(format!("plan/{n}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2));
        group.bench_function(BenchmarkId::new("select", n), |b| {
            b.iter(|| {
                for tier in windowed.tiers() {
                    black_box(index.select(&tier.scope, start).len());
                }
            })
        });
        group.bench_function(BenchmarkId::new("plan", n), |b| {
            b.iter(|| {
                black_box(Plan::new(&windowed, &index, start, "normal").map(|p| p.tiers.len()))
            })
        });
        group.bench_function(BenchmarkId::new("plan_priced", n), |b| {
            b.iter(|| black_box(Plan::new(&priced, &index, start, "normal").map(|p| p.cost)))
        });
        group.bench_function(BenchmarkId::new("plan_any_window", n), |b| {
            b.iter(|| black_box(Plan::new(&any, &index, start, "normal").map(|p| p.tiers.len())))
        });
        if n <= 100_000 {
            group.bench_function(BenchmarkId::new("select_reference", n), |b| {
                b.iter(|| {
                    for tier in windowed.tiers() {
                        black_box(reference::select(&tier.scope, &fleet, start).len());
                    }
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, plan);
criterion_main!(benches);
