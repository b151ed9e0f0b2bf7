//! What loading a fleet costs, as ratios against baselines measured in the
//! same run (issue 10's numbers):
//! - one-shot `fleetscope eval` on the JSON Lines file vs the floor (read
//!   the file, parse it into `serde::de::IgnoredAny` on every core), and on
//!   the JSON array vs its floor (read, parse on one core);
//! - peak memory of that command per host;
//! - `fleetscope plan` of the bundled policy vs that eval;
//! - name patterns vs hand-written closures over the same names;
//! - patterns on names and on a unique tag of an in-memory fleet
//!   (`--wide N` hosts, default 1,000,000) whose names and values end in
//!   digits and contain `prod`, vs closures over the same texts;
//! - where a column starts to answer patterns through sorted orders: the
//!   per-value test vs the orders on columns of 128 to 16,384 values.
//!
//! ```text
//! cargo build --release --bin fleetscope --example make_fleet --example ingest
//! target/release/examples/make_fleet 1000000 --jsonl > /tmp/fleet.jsonl
//! target/release/examples/make_fleet 1000000 > /tmp/fleet.json
//! target/release/examples/ingest --jsonl /tmp/fleet.jsonl --json /tmp/fleet.json
//! # the pattern tables alone (with --jsonl, also the one over that file):
//! target/release/examples/ingest --patterns-only [--jsonl /tmp/fleet.jsonl]
//! ```
//!
//! Peak memory is read with `/usr/bin/time -v` around the child process
//! (GNU time; without it, memory is not shown).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fleetscope::{IndexedFleet, Scope};
use serde::de::IgnoredAny;

mod common;
use common::{arg, median, ms, ratio, time};

const QUERY: &str = "role in (web, api) and tags.env = prod and tags.ring = \"0\"";
const NOW: &str = "2026-11-21T09:00:00Z";

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

/// Reads the file and parses each line into `IgnoredAny`, on all cores.
fn floor_lines(path: &Path) -> usize {
    use rayon::prelude::*;
    let bytes = std::fs::read(path).expect("readable fleet");
    let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
    lines
        .par_iter()
        .with_min_len(4096)
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice::<IgnoredAny>(l).map_or(0, |_| 1))
        .sum()
}

/// Reads the file and parses it into `IgnoredAny` on one core.
fn floor_document(path: &Path) -> usize {
    let bytes = std::fs::read(path).expect("readable fleet");
    serde_json::from_slice::<IgnoredAny>(&bytes).map_or(0, |_| bytes.len())
}

/// Runs the CLI under `/usr/bin/time -v`: wall time and peak RSS (bytes).
fn cli(bin: &Path, args: &[&str]) -> Result<(Duration, Option<u64>), Box<dyn std::error::Error>> {
    let report = std::env::temp_dir().join(format!("ingest-time-{}", std::process::id()));
    let gnu_time = Path::new("/usr/bin/time").exists();
    let mut cmd = if gnu_time {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-v").arg("-o").arg(&report).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args).stdout(std::process::Stdio::null());
    let start = Instant::now();
    let status = cmd.status()?;
    let wall = start.elapsed();
    if !status.success() {
        return Err(format!("{} {} failed: {status}", bin.display(), args.join(" ")).into());
    }
    let rss = std::fs::read_to_string(&report).ok().and_then(|t| {
        t.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes): ")
            })
            .and_then(|k| k.trim().parse::<u64>().ok())
            .map(|k| k * 1024)
    });
    let _ = std::fs::remove_file(&report);
    Ok((wall, rss))
}

type Error = Box<dyn std::error::Error>;

/// A job's wall time, and its peak RSS (bytes) when known.
type Measured = (Duration, Option<u64>);

/// One measured job.
type Job<'a> = Box<dyn FnMut() -> Result<Measured, Error> + 'a>;

/// A floor computed in this process, as a job.
fn in_process(mut f: impl FnMut() -> usize + 'static) -> Job<'static> {
    Box::new(move || {
        let start = Instant::now();
        std::hint::black_box(f());
        Ok((start.elapsed(), None))
    })
}

/// Runs each job once per round, `runs` rounds, so that load from other
/// processes falls on all of them alike; the median wall time of each and
/// its largest peak RSS.
fn interleaved(runs: usize, jobs: &mut [Job<'_>]) -> Result<Vec<Measured>, Error> {
    let mut walls: Vec<Vec<Duration>> = vec![Vec::new(); jobs.len()];
    let mut peaks: Vec<Option<u64>> = vec![None; jobs.len()];
    for _ in 0..runs.max(1) {
        for (i, job) in jobs.iter_mut().enumerate() {
            let (wall, rss) = job()?;
            walls[i].push(wall);
            peaks[i] = peaks[i].max(rss);
        }
    }
    Ok(walls.into_iter().map(median).zip(peaks).collect())
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = arg(&args, "--runs").map_or(Ok(3), |s| s.parse())?;
    let wide: usize = arg(&args, "--wide").map_or(Ok(1_000_000), |s| s.parse())?;
    let jsonl = arg(&args, "--jsonl").map(PathBuf::from);
    if !args.iter().any(|a| a == "--patterns-only") {
        let jsonl = jsonl
            .as_deref()
            .ok_or("--jsonl FILE is required (or --patterns-only)")?;
        loading(&args, jsonl, runs)?;
    }
    if let Some(jsonl) = &jsonl {
        loaded_patterns(jsonl, runs)?;
    }
    wide_patterns(wide, runs)?;
    order_threshold(runs)?;
    Ok(())
}

/// Load, eval, plan and memory of the CLI on the given files.
fn loading(args: &[String], jsonl: &Path, runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    let json = arg(args, "--json").map(PathBuf::from);
    let policy = arg(args, "--policy").unwrap_or_else(|| "examples/policy.toml".into());
    let bin = match arg(args, "--bin") {
        Some(b) => PathBuf::from(b),
        None => std::env::current_exe()?
            .parent()
            .and_then(Path::parent)
            .map(|d| d.join("fleetscope"))
            .ok_or("cannot find the fleetscope binary; pass --bin")?,
    };
    let threads = rayon::current_num_threads();
    println!("{} threads; CLI {}", threads, bin.display());

    // Warm the page cache; then the floor and the commands, interleaved
    // round by round.
    let _ = std::fs::read(jsonl)?;
    let hosts = floor_lines(jsonl).max(1);
    let jsonl_s = jsonl.to_string_lossy().to_string();
    let eval_args = [
        "eval", "--fleet", &jsonl_s, "--format", "json", "--now", NOW, QUERY,
    ];
    let plan_args = [
        "plan", &policy, "--fleet", &jsonl_s, "--start", NOW, "--format", "json",
    ];
    let owned = jsonl.to_path_buf();
    let measured = interleaved(
        runs,
        &mut [
            in_process(move || floor_lines(&owned)),
            Box::new(|| cli(&bin, &eval_args)),
            Box::new(|| cli(&bin, &plan_args)),
        ],
    )?;
    let [(floor, _), (eval, rss), (plan, plan_rss)] = measured[..] else {
        return Err("three jobs measured".into());
    };
    let per_host = |r: u64| r as f64 / hosts as f64;
    println!();
    println!(
        "JSON Lines, {hosts} hosts ({} MB)",
        std::fs::metadata(jsonl)?.len() / 1_000_000
    );
    println!(
        "  floor (read + IgnoredAny, {threads} cores)  {}",
        ms(floor)
    );
    println!(
        "  fleetscope eval --format json          {}   = {:.2}x the floor (target <= 3x)",
        ms(eval),
        ratio(eval, floor)
    );
    if let Some(rss) = rss {
        println!(
            "  peak RSS                               {:.0} bytes/host (target <= 500)",
            per_host(rss)
        );
    }
    println!(
        "  fleetscope plan {policy}    {}   = {:.2}x the eval (target <= 1.5x){}",
        ms(plan),
        ratio(plan, eval),
        plan_rss.map_or(String::new(), |r| format!(
            ", peak RSS {:.0} bytes/host",
            per_host(r)
        ))
    );

    if let Some(json) = &json {
        let _ = std::fs::read(json)?;
        let json_s = json.to_string_lossy().to_string();
        let args = [
            "eval", "--fleet", &json_s, "--format", "json", "--now", NOW, QUERY,
        ];
        let owned = json.clone();
        let measured = interleaved(
            runs,
            &mut [
                in_process(move || floor_document(&owned)),
                Box::new(|| cli(&bin, &args)),
            ],
        )?;
        let [(floor, _), (eval, rss)] = measured[..] else {
            return Err("two jobs measured".into());
        };
        println!();
        println!(
            "JSON array ({} MB)",
            std::fs::metadata(json)?.len() / 1_000_000
        );
        println!("  floor (read + IgnoredAny, 1 core)      {}", ms(floor));
        println!(
            "  fleetscope eval --format json          {}   = {:.2}x the floor (target <= 3x)",
            ms(eval),
            ratio(eval, floor)
        );
        if let Some(rss) = rss {
            println!(
                "  peak RSS                               {:.0} bytes/host",
                per_host(rss)
            );
        }
    }

    Ok(())
}

/// The index the library holds for `jsonl`, and name patterns over it.
fn loaded_patterns(jsonl: &Path, runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let fleet = IndexedFleet::load(jsonl)?;
    let load = start.elapsed();
    let per_host = |b: usize| b as f64 / fleet.len().max(1) as f64;
    println!();
    println!(
        "index held by the library: {:.0} bytes/host (estimate from capacities), of which:",
        per_host(fleet.index_bytes())
    );
    for (part, bytes) in fleet.index_bytes_by_part() {
        if per_host(bytes) >= 0.5 {
            println!("  {:>7.1} bytes/host  {part}", per_host(bytes));
        }
    }
    let names: Vec<&str> = fleet.names().map(|(_, n)| n).collect();
    let order = warm(&fleet, "name like \"x*\"")?;
    println!();
    println!(
        "name patterns over {} names (library load {}; name orders built once, on the first pattern: {})",
        names.len(),
        ms(load),
        ms(order)
    );
    let re = regex::Regex::new("^(?:web-[0-9]+7)$")?;
    let cases: Vec<(&str, Closure<'_>, &str)> = vec![
        (
            "name like \"web-*\"",
            Box::new(|n: &str| n.starts_with("web-")),
            ">= 10x",
        ),
        (
            "name like \"*7\"",
            Box::new(|n: &str| n.ends_with('7')),
            ">= 10x",
        ),
        ("name like \"*1\"", Box::new(|n: &str| n.ends_with('1')), ""),
        (
            "name like \"*prod*\"",
            Box::new(|n: &str| n.contains("prod")),
            ">= 1x",
        ),
        (
            "name like \"*west*\"",
            Box::new(|n: &str| n.contains("west")),
            "",
        ),
        (
            "name matches \"web-[0-9]+7\"",
            Box::new(|n: &str| re.is_match(n)),
            ">= 0.67x",
        ),
        (
            "name matches \"web-[0-9]+\\\\..*\"",
            Box::new({
                let re = regex::Regex::new("^(?:web-[0-9]+\\..*)$")?;
                move |n: &str| re.is_match(n)
            }),
            "",
        ),
    ];
    pattern_table(&fleet, &names, cases, runs)
}

/// A test of one text, written by hand.
type Closure<'a> = Box<dyn Fn(&str) -> bool + Sync + 'a>;

/// Times the query that builds the orders the next queries use.
fn warm(fleet: &IndexedFleet, query: &str) -> Result<Duration, Box<dyn std::error::Error>> {
    let scope = Scope::parse(query)?;
    let start = Instant::now();
    let _ = fleet.select(&scope, NOW.parse()?);
    Ok(start.elapsed())
}

/// Each query through the engine against its closure over `texts` (the
/// text of each host, in host order), checking that both find the same
/// hosts.
fn pattern_table(
    fleet: &IndexedFleet,
    texts: &[&str],
    cases: Vec<(impl AsRef<str>, Closure<'_>, &str)>,
    runs: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let now = NOW.parse()?;
    println!(
        "  {:<34} {:>10} {:>10} {:>10} {:>9}",
        "query", "engine", "closure", "speedup", "target"
    );
    for (query, closure, target) in cases {
        let query = query.as_ref();
        let scope = Scope::parse(query)?;
        let (engine, selected) = time(runs.max(5), || fleet.select(&scope, now));
        let (hand, matched) = time(runs.max(5), || {
            texts
                .iter()
                .enumerate()
                .filter(|(_, n)| closure(n))
                .map(|(i, _)| i as u32)
                .collect::<Vec<u32>>()
        });
        assert_eq!(
            selected
                .iter()
                .map(|id| id.index() as u32)
                .collect::<Vec<u32>>(),
            matched,
            "engine and closure disagree on {query}"
        );
        println!(
            "  {:<34} {:>10} {:>10} {:>9.1}x {:>9}  ({} hosts)",
            query,
            ms(engine),
            ms(hand),
            ratio(hand, engine),
            target,
            matched.len()
        );
    }
    Ok(())
}

const WIDE_ROLES: &[&str] = &[
    "web", "api", "db", "cache", "queue", "search", "worker", "proxy",
];

/// Host `i` of `n` in the in-memory fleet: its name and its unique serial.
/// Names are `{role}-{i:07}`, half of them followed by
/// `.{env}.example.com`; serials the same with another role, env and a
/// number permuted from `i`, so that the serials' order is not the hosts'.
/// Both end in a digit half the time (so `*7` matches about 5%) and
/// contain `prod` about 30% of the time.
fn wide_texts(i: usize, n: usize) -> (String, String) {
    let mut h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = |m: u64| {
        h ^= h >> 29;
        h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        (h >> 33) % m
    };
    let mut text = |number: usize| {
        let role = WIDE_ROLES[next(WIDE_ROLES.len() as u64) as usize];
        let env = ["prod", "prod", "prod", "stage", "dev"][next(5) as usize];
        if next(2) == 0 {
            format!("{role}-{number:07}")
        } else {
            format!("{role}-{number:07}.{env}.example.com")
        }
    };
    // 7919 is prime: `i -> i * 7919 mod n` permutes `0..n` unless 7919
    // divides n.
    let permuted = if n.is_multiple_of(7919) {
        i
    } else {
        i * 7919 % n
    };
    (text(i), text(permuted))
}

/// Patterns on the names and on the unique `tags.serial` of an in-memory
/// fleet of `n` hosts, against closures over the same texts.
fn wide_patterns(n: usize, runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    let texts: Vec<(String, String)> = (0..n).map(|i| wide_texts(i, n)).collect();
    let mut lines = Vec::with_capacity(n * 80);
    for (name, serial) in &texts {
        serde_json::to_writer(
            &mut lines,
            &serde_json::json!({"name": name, "tags": {"serial": serial}}),
        )?;
        lines.push(b'\n');
    }
    let fleet = IndexedFleet::from_json_lines(&lines)?;
    drop(lines);
    let names: Vec<&str> = texts.iter().map(|(n, _)| n.as_str()).collect();
    let serials: Vec<&str> = texts.iter().map(|(_, s)| s.as_str()).collect();
    let re = regex::Regex::new("^(?:web-[0-9]+7)$")?;
    let re_prod = regex::Regex::new("^(?:web-[0-9]+\\.prod\\..*)$")?;
    let cases = |path: &str| -> Vec<(String, Closure<'_>, &'static str)> {
        // One row per query: the pattern, the closure, the target.
        #[rustfmt::skip]
        let rows: Vec<(&str, Closure<'_>, &str)> = vec![
            ("like \"web-*\"", Box::new(|t| t.starts_with("web-")), ">= 10x"),
            ("like \"*7\"", Box::new(|t| t.ends_with('7')), ">= 10x"),
            ("like \"*.com\"", Box::new(|t| t.ends_with(".com")), ""),
            ("like \"*prod*\"", Box::new(|t| t.contains("prod")), ">= 1x"),
            ("like \"*0000*\"", Box::new(|t| t.contains("0000")), ""),
            ("matches \"web-[0-9]+7\"", Box::new(|t| re.is_match(t)), ">= 0.67x"),
            ("matches \"web-[0-9]+\\\\.prod\\\\..*\"", Box::new(|t| re_prod.is_match(t)), ""),
        ];
        rows.into_iter()
            .map(|(pattern, closure, target)| (format!("{path} {pattern}"), closure, target))
            .collect()
    };
    for (path, texts, what) in [
        ("name", &names, "names of an in-memory fleet"),
        ("tags.serial", &serials, "unique tags.serial values"),
    ] {
        let order = warm(&fleet, &format!("{path} like \"x*\""))?;
        println!();
        println!(
            "{path} patterns over {n} {what} (orders built on the first pattern: {})",
            ms(order)
        );
        pattern_table(&fleet, texts, cases(path), runs)?;
    }
    let per_value = |part: &str| {
        fleet
            .index_bytes_by_part()
            .into_iter()
            .find(|(p, _)| p == part)
            .map_or(0.0, |(_, b)| b as f64 / n.max(1) as f64)
    };
    println!(
        "  orders: {:.1} bytes per distinct value (name orders {:.1} bytes per host)",
        per_value("column orders"),
        per_value("name order")
    );
    Ok(())
}

/// Where a column starts to pay for sorted orders: on columns of `n`
/// unique serials, a glob and a regex by the per-value test (threshold
/// above `n`) and through the orders (threshold 0), and the cost of
/// building the orders, once.
fn order_threshold(runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    println!();
    println!(
        "per-value test vs sorted orders, by distinct values in the column (median per query)"
    );
    let queries = [
        "tags.serial like \"web-*\"",
        "tags.serial like \"*7\"",
        "tags.serial matches \"web-[0-9]+7\"",
    ];
    println!(
        "  {:>7} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "values", "web-* test", "orders", "*7 test", "orders", "regex test", "orders", "build"
    );
    let now = NOW.parse()?;
    for n in [128usize, 256, 512, 1024, 2048, 4096, 16384] {
        let mut lines = Vec::new();
        for i in 0..n {
            let (name, serial) = wide_texts(i, n);
            serde_json::to_writer(
                &mut lines,
                &serde_json::json!({"name": name, "tags": {"serial": serial}}),
            )?;
            lines.push(b'\n');
        }
        let mut fleet = IndexedFleet::from_json_lines(&lines)?;
        let mut row = Vec::new();
        let reps = (runs * 2000 / n).max(5);
        for query in queries {
            let scope = Scope::parse(query)?;
            fleet.set_pattern_order_min(usize::MAX);
            let (test, a) = time(reps, || fleet.select(&scope, now));
            fleet.set_pattern_order_min(0);
            let (ordered, b) = time(reps, || fleet.select(&scope, now));
            assert_eq!(a, b, "both paths agree on {query}");
            row.push(test);
            row.push(ordered);
        }
        // A fresh index: its first pattern builds the orders.
        let mut fresh = IndexedFleet::from_json_lines(&lines)?;
        fresh.set_pattern_order_min(0);
        let build = warm(&fresh, "tags.serial like \"x*\"")?;
        let us = |d: &Duration| format!("{:.1} us", d.as_secs_f64() * 1e6);
        println!(
            "  {:>7} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12} {:>12}",
            n,
            us(&row[0]),
            us(&row[1]),
            us(&row[2]),
            us(&row[3]),
            us(&row[4]),
            us(&row[5]),
            us(&build)
        );
    }
    Ok(())
}
