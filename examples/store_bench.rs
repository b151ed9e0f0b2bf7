//! What the rollout stores cost, as ratios measured in one run.
//!
//! ```text
//! cargo run --release --example make_fleet -- 1000 > /tmp/fleet-1k.json
//! cargo run --release --example make_fleet -- 1000000 > /tmp/fleet-1m.json
//! cargo build --release --features postgres --bin fleetscope
//! export FLEETSCOPE_TEST_POSTGRES_URL=$(.ci/postgres.sh start)   # optional
//! cargo run --release --features postgres --example store_bench -- /tmp/fleet-1k.json /tmp/fleet-1m.json
//! ```
//!
//! 1. The CLI's `next`, `begin` and `record` (one host) at 1k and at 1M
//!    hosts, batches of 100, on SQLite and PostgreSQL: the median of
//!    several runs, and the ratio 1M / 1k (the goal: at most 2).
//! 2. `rollout start` of the 1M-host fleet into SQLite against writing the
//!    same rollout's JSON state file, in the library and through the CLI.
//! 3. Library throughput recording results into a 1M-host rollout: 1 and 8
//!    workers, 1 and 500 results per transaction, on each store; each
//!    configuration runs for a few seconds on hosts of its own.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use fleetscope::rollout::Operation;
use fleetscope::rollout::{Location, Outcome, Plan, Policy, Rollout, StateFile};
use fleetscope::{Fleet, IndexedFleet};

mod common;
use common::{median, ms};

const AT: &str = "2026-11-23T08:00:00Z";

fn policy(batch: &str) -> String {
    format!(
        "timezone = \"UTC\"\n[defaults]\nwindow = \"any\"\nbatch = {batch}\nbatch_duration = \"1h\"\n\
         max_failures = \"50%\"\nsoak = \"0h\"\nnotice = \"0h\"\n\
         [[tiers]]\nname = \"all\"\nscope = \"tags.ring = 0 or tags.ring = 1\"\n"
    )
}

fn at() -> DateTime<Utc> {
    AT.parse().unwrap_or_default()
}

fn bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    // target/release/examples/store_bench -> target/release/fleetscope
    exe.parent()
        .and_then(Path::parent)
        .map(|d| d.join("fleetscope"))
        .unwrap_or_default()
}

fn cli(dir: &Path, args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = Command::new(bin())
        .current_dir(dir)
        .arg("rollout")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin().display()));
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

/// Per-command CLI cost on one store at one fleet size: (next, begin,
/// record), medians.
fn cli_costs(
    dir: &Path,
    state: &str,
    name: &str,
    fleet: &str,
    rounds: usize,
) -> (Duration, Duration, Duration, Duration) {
    let s = ["--state", state, "--name", name];
    let with = |args: &[&str]| -> Vec<String> {
        args.iter().chain(s.iter()).map(|a| a.to_string()).collect()
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(dir, &refs)
    };
    let start = run(with(&[
        "start",
        "policy.toml",
        "--fleet",
        fleet,
        "--start",
        AT,
        "--at",
        AT,
    ]));
    run(with(&["notified", "--tier", "all", "--at", AT]));
    let (mut next, mut begin, mut record) = (Vec::new(), Vec::new(), Vec::new());
    for b in 1..=rounds {
        next.push(run(with(&["next", "--now", AT])));
        begin.push(run(with(&[
            "begin",
            "--tier",
            "all",
            "--batch",
            &b.to_string(),
            "--at",
            AT,
        ])));
        // The batch's hosts, from `next --format json`.
        let out = Command::new(bin())
            .current_dir(dir)
            .args(with(&["rollout", "next", "--now", AT, "--format", "json"]))
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let hosts: Vec<String> = v["actions"][0]["pending"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let (timed, rest) = hosts.split_at(hosts.len().min(5));
        for h in timed {
            record.push(run(with(&["record", "--host", h, "--ok", "--at", AT])));
        }
        let mut args = vec![
            "record".to_string(),
            "--ok".into(),
            "--at".into(),
            AT.into(),
        ];
        for h in rest {
            args.extend(["--host".to_string(), h.clone()]);
        }
        args.extend(s.iter().map(|a| a.to_string()));
        if !rest.is_empty() {
            run(args);
        }
    }
    (start, median(next), median(begin), median(record))
}

fn rollout_for(fleet: &IndexedFleet, batch: &str) -> Rollout {
    let policy = Policy::from_toml("bench.toml", &policy(batch)).unwrap_or_else(|e| panic!("{e}"));
    let plan = Plan::new(&policy, fleet, at(), "normal").unwrap_or_else(|e| panic!("{e}"));
    let mut r = Rollout::new(plan, "bench", at()).unwrap_or_else(|e| panic!("{e}"));
    r.notified("all", "bench", at())
        .unwrap_or_else(|e| panic!("{e}"));
    r.begin("all", 1, "bench", at())
        .unwrap_or_else(|e| panic!("{e}"));
    r
}

/// Results per second recording into `name` with `workers` threads, `per`
/// results per transaction, for about `budget`, on hosts `hosts`.
fn throughput(
    location: &Location,
    name: &str,
    hosts: &[String],
    workers: usize,
    per: usize,
    budget: Duration,
) -> f64 {
    let share = hosts.len() / workers;
    let started = Instant::now();
    let done: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let mine = hosts.get(w * share..(w + 1) * share).unwrap_or(&[]);
                scope.spawn(move || {
                    let mut store = location.open(false).unwrap_or_else(|e| panic!("{e}"));
                    let mut recorded = 0;
                    for chunk in mine.chunks(per) {
                        if started.elapsed() >= budget {
                            break;
                        }
                        let op = Operation::Record {
                            hosts: chunk.to_vec(),
                            outcome: Outcome::Succeeded,
                        };
                        // A store that gives up (the JSON file's lock
                        // timeout) ends this worker; what it did counts.
                        if let Err(e) = store.perform(name, &op, "bench", at()) {
                            println!("  worker {w} stopped: {e}");
                            break;
                        }
                        recorded += chunk.len();
                    }
                    recorded
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    done as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (small, large, only) = match args.as_slice() {
        [small, large] => (small, large, None),
        [small, large, only] => (small, large, Some(only.as_str())),
        _ => {
            eprintln!(
                "usage: store_bench FLEET_1K.json FLEET_1M.json [1|2|3] (see the file's header)"
            );
            std::process::exit(2);
        }
    };
    let run = |section: &str| only.is_none_or(|o| o == section);
    let dir = std::env::temp_dir().join(format!("fleetscope-store-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("policy.toml"), policy("100")).unwrap_or_else(|e| panic!("{e}"));
    let small = std::fs::canonicalize(small).unwrap_or_else(|e| panic!("{small}: {e}"));
    let large = std::fs::canonicalize(large).unwrap_or_else(|e| panic!("{large}: {e}"));
    let postgres = std::env::var("FLEETSCOPE_TEST_POSTGRES_URL").ok();
    if postgres.is_none() {
        println!("(PostgreSQL skipped: FLEETSCOPE_TEST_POSTGRES_URL is not set)");
    }
    let tag = std::process::id();
    let mut stores: Vec<(&str, String)> =
        vec![("SQLite", dir.join("bench.db").display().to_string())];
    if let Some(url) = &postgres {
        stores.push(("PostgreSQL", url.clone()));
    }

    let mut starts = Vec::new();
    if run("1") {
        println!("\n1. CLI cost per command, batches of 100 (median of 8 rounds at 1k, 8 at 1M)");
        println!(
            "{:<11} {:<8} {:>12} {:>12} {:>12}",
            "store", "command", "1k hosts", "1M hosts", "1M / 1k"
        );
        for (kind, state) in &stores {
            let small_costs = cli_costs(
                &dir,
                state,
                &format!("small-{tag}"),
                &small.display().to_string(),
                8,
            );
            let large_costs = cli_costs(
                &dir,
                state,
                &format!("large-{tag}"),
                &large.display().to_string(),
                8,
            );
            starts.push((*kind, large_costs.0));
            for (command, a, b) in [
                ("next", small_costs.1, large_costs.1),
                ("begin", small_costs.2, large_costs.2),
                ("record", small_costs.3, large_costs.3),
            ] {
                println!(
                    "{kind:<11} {command:<8} {:>12} {:>12} {:>11.2}x",
                    ms(a),
                    ms(b),
                    b.as_secs_f64() / a.as_secs_f64()
                );
            }
        }
    }

    println!("\n2. Creating the 1M-host rollout");
    let text = std::fs::read(&large).unwrap_or_else(|e| panic!("{e}"));
    let fleet = IndexedFleet::new(Fleet::from_json(&text).unwrap_or_else(|e| panic!("{e}")));
    drop(text);
    let rollout = rollout_for(&fleet, "100");
    let json_path = dir.join("bench.json");
    let started = Instant::now();
    StateFile::new(&json_path)
        .create(&rollout)
        .unwrap_or_else(|e| panic!("{e}"));
    let json_write = started.elapsed();
    let json_size = std::fs::metadata(&json_path).map(|m| m.len()).unwrap_or(0);
    let sqlite_path = dir.join("create.db");
    let started = Instant::now();
    Location::Sqlite(sqlite_path.clone())
        .open(true)
        .and_then(|mut s| s.create("default", &rollout))
        .unwrap_or_else(|e| panic!("{e}"));
    let sqlite_write = started.elapsed();
    let sqlite_size = std::fs::metadata(&sqlite_path)
        .map(|m| m.len())
        .unwrap_or(0)
        + std::fs::metadata(dir.join("create.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!(
        "library: JSON state file {} ({} MB), SQLite {} ({} MB): SQLite / JSON = {:.2}x",
        ms(json_write),
        json_size >> 20,
        ms(sqlite_write),
        sqlite_size >> 20,
        sqlite_write.as_secs_f64() / json_write.as_secs_f64()
    );
    let cli_json = cli(
        &dir,
        &[
            "start",
            "policy.toml",
            "--fleet",
            &large.display().to_string(),
            "--start",
            AT,
            "--at",
            AT,
            "--state",
            "cli.json",
        ],
    );
    if !run("1") {
        let sqlite = cli(
            &dir,
            &[
                "start",
                "policy.toml",
                "--fleet",
                &large.display().to_string(),
                "--start",
                AT,
                "--at",
                AT,
                "--state",
                "cli.db",
            ],
        );
        starts.push(("SQLite", sqlite));
    }
    {
        for (kind, took) in &starts {
            println!(
                "CLI `rollout start` 1M: {kind} {} against JSON {}: {:.2}x",
                ms(*took),
                ms(cli_json),
                took.as_secs_f64() / cli_json.as_secs_f64()
            );
        }
    }

    if !run("3") {
        return;
    }
    println!("\n3. Library throughput recording results into a 1M-host rollout (one batch of every host)");
    let whole = rollout_for(&fleet, "\"100%\"");
    let hosts: Vec<String> = whole
        .plan()
        .tiers
        .iter()
        .flat_map(|t| t.hosts.iter().cloned())
        .collect();
    let mut places: Vec<(&str, Location, Duration)> = vec![
        (
            "JSON",
            Location::Json(dir.join("throughput.json")),
            Duration::from_secs(6),
        ),
        (
            "SQLite",
            Location::Sqlite(dir.join("throughput.db")),
            Duration::from_secs(4),
        ),
    ];
    if let Some(url) = &postgres {
        if let Ok(l) = Location::parse(url) {
            places.push(("PostgreSQL", l, Duration::from_secs(4)));
        }
    }
    println!(
        "{:<11} {:>8} {:>10} {:>14}",
        "store", "workers", "per txn", "results/s"
    );
    for (kind, location, budget) in &places {
        let name = if *kind == "JSON" {
            "default".to_string()
        } else {
            format!("tp-{tag}")
        };
        location
            .open(true)
            .and_then(|mut s| s.create(&name, &whole))
            .unwrap_or_else(|e| panic!("{e}"));
        // Each configuration gets hosts of its own.
        let mut offset = 0;
        for workers in [1, 8] {
            for per in [1, 500] {
                let span = 200_000.min(hosts.len().saturating_sub(offset));
                let mine = hosts.get(offset..offset + span).unwrap_or(&[]);
                offset += span;
                let rate = throughput(location, &name, mine, workers, per, *budget);
                println!("{kind:<11} {workers:>8} {per:>10} {rate:>14.1}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
