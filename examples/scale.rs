//! How the indexed engine scales: per query, the engine beside the
//! reference interpreter and a hand-written closure, in the same run; and
//! what the index costs to build, to hold and to change.
//!
//! ```text
//! cargo run --release --example scale -- --hosts 1000000 [--seed 7]
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::time::{Duration, Instant};

use fleetscope::testgen::{self, QUERIES};
use fleetscope::{reference, Fleet, IndexedFleet, Scope};

mod common;
use common::{arg, ratio, time};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Resident memory of this process, in bytes (Linux; 0 elsewhere).
fn rss() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn fmt(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us < 1_000.0 {
        format!("{us:.1} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = arg(&args, "--hosts").map_or(Ok(1_000_000), |s| s.parse())?;
    let seed: u64 = arg(&args, "--seed").map_or(Ok(7), |s| s.parse())?;
    let now = testgen::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("fleet: {n} generated hosts (seed {seed}), {threads} threads available");

    let start = Instant::now();
    let hosts = testgen::fleet(n, seed);
    println!("generate:            {}", fmt(start.elapsed()));

    let json = serde_json::to_vec(&hosts)?;
    let start = Instant::now();
    let fleet = Fleet::from_json(&json)?;
    let deserialize = start.elapsed();
    let json_len = json.len();
    drop(json);

    let rss_before = rss();
    let start = Instant::now();
    let index = IndexedFleet::new(fleet);
    let build = start.elapsed();
    let rss_after = rss();
    println!(
        "deserialize JSON:    {} ({:.0} bytes/host of JSON)",
        fmt(deserialize),
        json_len as f64 / n.max(1) as f64
    );
    println!(
        "build index:         {}   = {:.2}x the JSON deserialize",
        fmt(build),
        ratio(build, deserialize)
    );
    println!(
        "index memory:        {:.0} bytes/host (estimate from capacities), {:.0} bytes/host (RSS growth over the build)",
        index.index_bytes() as f64 / n.max(1) as f64,
        rss_after.saturating_sub(rss_before) as f64 / n.max(1) as f64
    );

    if args.iter().any(|a| a == "--memory") {
        for (part, bytes) in index.index_bytes_by_part() {
            println!(
                "  {:>8.1} bytes/host  {part}",
                bytes as f64 / n.max(1) as f64
            );
        }
    }

    println!();
    println!(
        "{:<18} {:>9} {:>11} {:>11} {:>11} {:>12} {:>12}",
        "query", "hosts", "engine", "closure", "reference", "vs closure", "vs reference"
    );
    let reference_runs = if n >= 500_000 { 1 } else { 3 };
    for q in QUERIES {
        let scope = Scope::parse(q.source)?;
        let (engine_t, selected) = time(21, || index.select(&scope, now));
        let (closure_t, by_hand) = time(5, || {
            testgen::baseline(q.name, &hosts, now).unwrap_or_default()
        });
        let (reference_t, by_ref) = time(reference_runs, || {
            hosts
                .iter()
                .enumerate()
                .filter(|(_, h)| reference::matches(&scope, h, now))
                .map(|(i, _)| i as u32)
                .collect::<Vec<u32>>()
        });
        let engine_ids: Vec<u32> = selected.iter().map(|id| id.index() as u32).collect();
        if engine_ids != by_ref || by_hand != by_ref {
            return Err(format!(
                "{}: engine selected {}, closure {}, reference {}",
                q.name,
                engine_ids.len(),
                by_hand.len(),
                by_ref.len()
            )
            .into());
        }
        println!(
            "{:<18} {:>9} {:>11} {:>11} {:>11} {:>11.1}x {:>11.1}x",
            q.name,
            selected.len(),
            fmt(engine_t),
            fmt(closure_t),
            fmt(reference_t),
            ratio(closure_t, engine_t),
            ratio(reference_t, engine_t)
        );
    }

    // Changes: replace existing hosts (new tags and kernel), add new ones,
    // remove some.
    let mut index = index;
    let k = 1000.min(n.max(1));
    let mut replaced: Vec<_> = hosts
        .iter()
        .step_by((n / k).max(1))
        .take(k)
        .cloned()
        .collect();
    for h in &mut replaced {
        h.tags.insert("env".into(), "dev".into());
        h.facts
            .insert("kernel".into(), serde_json::json!({"version": "6.8.0-99"}));
    }
    let start = Instant::now();
    for h in replaced {
        index.upsert(h)?;
    }
    let upsert_replace = start.elapsed() / k as u32;
    let added = testgen::fleet(k, seed + 1)
        .into_iter()
        .map(|mut h| {
            h.name = format!("new-{}", h.name);
            h
        })
        .collect::<Vec<_>>();
    let names: Vec<String> = added.iter().map(|h| h.name.clone()).collect();
    let start = Instant::now();
    for h in added {
        index.upsert(h)?;
    }
    let upsert_add = start.elapsed() / k as u32;
    let start = Instant::now();
    for name in &names {
        index.remove(name);
    }
    let remove = start.elapsed() / k as u32;
    println!();
    println!(
        "upsert (replace):    {} per host\nupsert (new host):   {} per host\nremove:              {} per host",
        fmt(upsert_replace),
        fmt(upsert_add),
        fmt(remove)
    );
    Ok(())
}
