//! `fleetscope rollout ...` as a patch tool drives it: whole rollouts from
//! start to done, halts and resumes, invalid operations, and the state file
//! surviving kills in the middle of a write and concurrent writers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "common/stores.rs"]
mod stores;
use stores::Kind;

const BIN: &str = env!("CARGO_BIN_EXE_fleetscope");
const PAUSE_ENV: &str = "FLEETSCOPE_TEST_PAUSE_BEFORE_RENAME_MS";

const POLICY: &str = r#"
timezone = "UTC"

[windows.nightly]
every = "daily at 22:00"
duration = "4h"

[defaults]
window = "any"
batch = 2
batch_duration = "1h"
max_failures = 0
soak = "1h"
notice = "1h"

[[tiers]]
name = "test"
scope = "tags.env = test"

[[tiers]]
name = "prod"
scope = "tags.env = prod"
after = ["test"]
approval = true
window = "nightly"
max_failures = 1
"#;

const FLEET: &str = r#"[
  {"name": "t1", "tags": {"env": "test"}},
  {"name": "t2", "tags": {"env": "test"}},
  {"name": "t3", "tags": {"env": "test"}},
  {"name": "p1", "tags": {"env": "prod"}},
  {"name": "p2", "tags": {"env": "prod"}},
  {"name": "p3", "tags": {"env": "prod"}}
]"#;

const START: &str = "2026-11-23T08:00:00Z";

/// A fresh directory with the policy and fleet, and a created state file.
fn setup(name: &str) -> PathBuf {
    setup_in(name, Kind::Json)
}

/// A fresh directory with the policy and fleet, and a rollout created in a
/// store of this kind; the commands of [`command`] go to that rollout.
fn setup_in(name: &str, kind: Kind) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("rollout_cli")
        .join(format!("{name}-{kind:?}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("test dir");
    std::fs::write(dir.join("policy.toml"), POLICY).expect("write policy");
    std::fs::write(dir.join("fleet.json"), FLEET).expect("write fleet");
    let (state, rollout) = match kind {
        Kind::Json => ("state.json".to_string(), "default".to_string()),
        Kind::Sqlite => ("state.db".to_string(), name.to_string()),
        Kind::Postgres => (
            stores::postgres_url().expect("checked by kinds()"),
            format!("{name}-{}-{}", std::process::id(), START),
        ),
    };
    std::fs::write(dir.join(".store"), format!("{state}\n{rollout}\n")).expect("write .store");
    let mut args = vec![
        "start",
        "policy.toml",
        "--fleet",
        "fleet.json",
        "--start",
        START,
        "--at",
        "2026-11-23T07:00:00Z",
        "--by",
        "tester",
    ];
    let store = store_args(&dir);
    args.extend(store.iter().map(String::as_str));
    let out = fs(&dir, &args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    dir
}

/// `--state STORE --name NAME` of the directory's rollout.
fn store_args(dir: &Path) -> Vec<String> {
    let saved = std::fs::read_to_string(dir.join(".store")).expect(".store");
    let mut lines = saved.lines();
    let state = lines.next().expect("state").to_string();
    let name = lines.next().expect("name").to_string();
    vec!["--state".into(), state, "--name".into(), name]
}

/// The rollout as a JSON state, whatever the store.
fn snapshot(dir: &Path) -> Vec<u8> {
    let out = fs(dir, &["export"]);
    assert!(out.status.success(), "export: {}", text(&out.stderr));
    out.stdout
}

fn fs(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().expect("run fleetscope")
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir).arg("rollout").args(args);
    if args.first() != Some(&"start") {
        c.args(store_args(dir));
    }
    c.env_remove(PAUSE_ENV);
    c
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = fs(dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Exit 2, and the reason on stderr.
fn refused(dir: &Path, args: &[&str]) -> String {
    let before = snapshot(dir);
    let out = fs(dir, args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: {}",
        text(&out.stdout)
    );
    let after = snapshot(dir);
    assert_eq!(before, after, "{args:?} was refused but changed the state");
    let err = text(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    err
}

fn next(dir: &Path, now: &str) -> Vec<Value> {
    let out = ok(dir, &["next", "--now", now, "--format", "json"]);
    let v: Value = serde_json::from_str(&out).expect("next prints JSON");
    v["actions"].as_array().expect("actions").clone()
}

fn add_minutes(t: &str, minutes: i64) -> String {
    let t: chrono::DateTime<chrono::Utc> = t.parse().expect("instant");
    (t + chrono::TimeDelta::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Drives the rollout like a patch tool: `fail` decides a host's outcome;
/// halted tiers are resumed by an operator. Returns the kinds seen.
fn drive(dir: &Path, fail: impl Fn(&str) -> bool) -> Vec<String> {
    let mut now = START.to_string();
    let mut seen = Vec::new();
    for _ in 0..200 {
        let actions = next(dir, &now);
        // Asking twice gives the same answer.
        assert_eq!(actions, next(dir, &now));
        let mut wake: Option<String> = None;
        let mut acted = false;
        for a in &actions {
            let kind = a["kind"].as_str().expect("kind").to_string();
            seen.push(kind.clone());
            let tier = a["tier"].as_str().unwrap_or_default();
            match kind.as_str() {
                "done" => return seen,
                "notify" => {
                    ok(
                        dir,
                        &["notified", "--tier", tier, "--by", "tool", "--at", &now],
                    );
                    acted = true;
                }
                "await_approval" => {
                    ok(
                        dir,
                        &["approve", "--tier", tier, "--by", "alice", "--at", &now],
                    );
                    acted = true;
                }
                "start" => {
                    let batch = a["batch"].as_u64().expect("batch").to_string();
                    if a.get("began").is_none() {
                        ok(
                            dir,
                            &[
                                "begin", "--tier", tier, "--batch", &batch, "--at", &now, "--by",
                                "tool",
                            ],
                        );
                        // Still the answer until every host has a result.
                        let again = next(dir, &now);
                        assert!(again.iter().any(|x| x["kind"] == "start"
                            && x["tier"] == tier
                            && x["batch"].as_u64().map(|b| b.to_string()) == Some(batch.clone())));
                    }
                    now = add_minutes(&now, 10);
                    for host in a["pending"].as_array().expect("pending") {
                        let host = host.as_str().expect("host");
                        let mut args = vec!["record", "--host", host, "--at", &now, "--by", "tool"];
                        if fail(host) {
                            args.extend(["--failed", "exit status 100"]);
                        } else {
                            args.push("--ok");
                        }
                        ok(dir, &args);
                    }
                    acted = true;
                }
                "halted" => {
                    assert!(!a["aborted"].as_bool().expect("aborted flag"));
                    now = add_minutes(&now, 30);
                    let mut args = vec!["resume", "--by", "operator", "--at", &now];
                    if !tier.is_empty() {
                        args.extend(["--tier", tier]);
                    }
                    ok(dir, &args);
                    acted = true;
                }
                "wait" => {
                    let until = a["until"].as_str().expect("until").to_string();
                    assert!(a["reason"].as_str().is_some_and(|r| !r.is_empty()));
                    if wake.as_ref().is_none_or(|w| until < *w) {
                        wake = Some(until);
                    }
                }
                other => panic!("unknown kind {other}"),
            }
            if acted {
                break;
            }
        }
        if !acted {
            now = wake.expect("something to wait for");
        }
    }
    panic!("the rollout did not finish: {seen:?}");
}

#[test]
fn a_whole_rollout_from_start_to_done() {
    for kind in stores::kinds() {
        a_whole_rollout_from_start_to_done_in(kind);
    }
}

fn a_whole_rollout_from_start_to_done_in(kind: Kind) {
    let dir = setup_in("whole", kind);
    let seen = drive(&dir, |_| false);
    for kind in ["notify", "start", "wait", "await_approval", "done"] {
        assert!(seen.iter().any(|k| k == kind), "never saw {kind}: {seen:?}");
    }
    let status = ok(&dir, &["status", "--now", "2027-01-01T00:00:00Z"]);
    assert!(
        status.contains("test") && status.contains("finished"),
        "{status}"
    );
    let json: Value = serde_json::from_str(&ok(
        &dir,
        &[
            "status",
            "--now",
            "2027-01-01T00:00:00Z",
            "--format",
            "json",
        ],
    ))
    .expect("json");
    for t in json["tiers"].as_array().expect("tiers") {
        assert_eq!(t["phase"], "finished");
        assert_eq!(t["succeeded"], 3);
    }
    // The audit log names who did what.
    let log = ok(&dir, &["log"]);
    assert!(
        log.contains("alice") && log.contains("approved tier `prod`"),
        "{log}"
    );
    // Every operation after done is refused or a no-op; nothing is started.
    let err = refused(
        &dir,
        &[
            "begin",
            "--tier",
            "prod",
            "--batch",
            "1",
            "--at",
            "2027-01-01T00:00:00Z",
        ],
    );
    assert!(err.contains("cannot begin"), "{err}");
}

#[test]
fn a_rollout_that_halts_on_failures_and_resumes() {
    for kind in stores::kinds() {
        a_rollout_that_halts_on_failures_and_resumes_in(kind);
    }
}

fn a_rollout_that_halts_on_failures_and_resumes_in(kind: Kind) {
    let dir = setup_in("halts", kind);
    // t2 fails: test tolerates none and halts; p1 and p2 fail: prod
    // tolerates one and halts on the second.
    let seen = drive(&dir, |h| matches!(h, "t2" | "p1" | "p2"));
    let halts = seen.iter().filter(|k| *k == "halted").count();
    assert!(halts >= 2, "{seen:?}");
    assert_eq!(seen.last().map(String::as_str), Some("done"));
    let log = ok(&dir, &["log"]);
    assert!(log.contains("halted tier `test`"), "{log}");
    assert!(log.contains("halted tier `prod`"), "{log}");
    assert!(log.contains("resumed tier `test`"), "{log}");
}

#[test]
fn halt_is_honoured_while_waiting_and_invalid_operations_exit_2() {
    for kind in stores::kinds() {
        halt_is_honoured_while_waiting_and_invalid_operations_exit_2_in(kind);
    }
}

fn halt_is_honoured_while_waiting_and_invalid_operations_exit_2_in(kind: Kind) {
    let dir = setup_in("invalid", kind);
    let now = "2026-11-23T08:00:00Z";
    ok(
        &dir,
        &[
            "halt",
            "--reason",
            "incident 42",
            "--by",
            "bob",
            "--at",
            now,
        ],
    );
    let actions = next(&dir, now);
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0]["kind"], "halted");
    assert!(actions[0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("incident 42")));
    refused(&dir, &["notified", "--tier", "test", "--at", now]);
    refused(&dir, &["halt", "--reason", "again", "--at", now]);
    refused(&dir, &["record", "--host", "ghost", "--ok", "--at", now]);
    refused(&dir, &["record", "--host", "p1", "--ok", "--at", now]);
    refused(
        &dir,
        &["approve", "--tier", "nope", "--by", "x", "--at", now],
    );
    refused(
        &dir,
        &["approve", "--tier", "prod", "--by", "x", "--at", now],
    );
    refused(
        &dir,
        &["resume", "--by", "x", "--at", "2026-11-23T07:30:00Z"],
    );
    ok(&dir, &["resume", "--by", "bob", "--at", now]);
    refused(&dir, &["resume", "--by", "bob", "--at", now]);
    ok(
        &dir,
        &["abort", "--reason", "bad patch", "--by", "bob", "--at", now],
    );
    let actions = next(&dir, now);
    assert_eq!(actions[0]["kind"], "halted");
    assert_eq!(actions[0]["aborted"], true);
    let err = refused(&dir, &["resume", "--by", "bob", "--at", now]);
    assert!(err.contains("aborted"), "{err}");
    // Starting over the same rollout is refused too.
    let mut args = vec![
        "start",
        "policy.toml",
        "--fleet",
        "fleet.json",
        "--start",
        START,
    ];
    let store = store_args(&dir);
    args.extend(store.iter().map(String::as_str));
    let out = fs(&dir, &args);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("already exists") || err.contains("already holds a rollout named"),
        "{err}"
    );
}

#[test]
fn state_files_from_a_newer_version_are_refused() {
    let dir = setup("version");
    let path = dir.join("state.json");
    let json = std::fs::read_to_string(&path).expect("state");
    std::fs::write(&path, json.replacen("\"version\": 1", "\"version\": 9", 1)).expect("write");
    let out = fs(&dir, &["next", "--now", START]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("version 9"),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(&path, "{\"tiers\": []}").expect("write");
    let out = fs(&dir, &["status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not a rollout state"));
}

// ------------------------------------------------- crashes and races ----

fn revision(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("state.json")).expect("state file exists");
    let v: Value = serde_json::from_str(&text).expect("the state file is whole JSON");
    assert_eq!(v["format"], "fleetscope-rollout");
    v["revision"].as_u64().expect("revision")
}

/// Waits until the writer has flushed its temporary file (it is whole JSON).
fn wait_for_temp(dir: &Path) {
    let temp = dir.join("state.json.tmp");
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok(t) = std::fs::read_to_string(&temp) {
            if serde_json::from_str::<Value>(&t).is_ok() {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("the writer never wrote its temporary file");
}

fn paused(dir: &Path, args: &[&str], ms: u64) -> Child {
    command(dir, args)
        .env(PAUSE_ENV, ms.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn")
}

#[test]
fn a_kill_between_flush_and_rename_leaves_the_old_state() {
    let dir = setup("kill");
    let before = std::fs::read(dir.join("state.json")).expect("state");
    let mut child = paused(
        &dir,
        &["halt", "--reason", "x", "--by", "k", "--at", START],
        60_000,
    );
    wait_for_temp(&dir);
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_eq!(
        std::fs::read(dir.join("state.json")).expect("state"),
        before
    );
    // The lock died with its holder: the next writer goes straight in.
    let started = Instant::now();
    ok(&dir, &["halt", "--reason", "y", "--by", "k", "--at", START]);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(revision(&dir), 2);
}

#[test]
fn kills_at_random_moments_leave_the_old_or_the_new_state() {
    let dir = setup("kill-random");
    // A deterministic sequence of delays (the seed is fixed).
    let mut x: u64 = 0x5eed;
    let mut expected = revision(&dir);
    for i in 0..24 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let pause = (x >> 59) * 3; // 0..93 ms inside the write
        let kill_after = Duration::from_millis((x >> 33) % 60);
        let args: &[&str] = if i % 2 == 0 {
            &["halt", "--reason", "r", "--by", "k", "--at", START]
        } else {
            &["resume", "--by", "k", "--at", START]
        };
        let before = revision(&dir);
        let mut child = paused(&dir, args, pause);
        std::thread::sleep(kill_after);
        let _ = child.kill();
        let status = child.wait().expect("wait");
        let after = revision(&dir);
        assert!(
            after == before || after == before + 1,
            "revision {before} -> {after}"
        );
        if status.success() {
            assert_eq!(
                after,
                before + 1,
                "the command succeeded but its write is missing"
            );
        }
        if after == before {
            // The write did not land: make it so the sequence alternates.
            ok(&dir, args);
        }
        expected += 1;
        assert_eq!(revision(&dir), expected);
    }
}

#[test]
fn two_concurrent_writers_do_not_lose_an_update() {
    for kind in stores::kinds() {
        two_concurrent_writers_do_not_lose_an_update_in(kind);
    }
}

fn two_concurrent_writers_do_not_lose_an_update_in(kind: Kind) {
    let dir = setup_in("race", kind);
    let now = START;
    ok(
        &dir,
        &["notified", "--tier", "test", "--by", "tool", "--at", now],
    );
    let at = "2026-11-23T09:00:00Z";
    ok(
        &dir,
        &[
            "begin", "--tier", "test", "--batch", "1", "--by", "tool", "--at", at,
        ],
    );
    if kind == Kind::Json {
        // The first writer holds the lock while paused before its rename;
        // the second must wait for it and then build on its state.
        let first = paused(
            &dir,
            &["record", "--host", "t1", "--ok", "--by", "a", "--at", at],
            1_500,
        );
        wait_for_temp(&dir);
        let second = fs(
            &dir,
            &["record", "--host", "t2", "--ok", "--by", "b", "--at", at],
        );
        assert!(second.status.success(), "{}", text(&second.stderr));
        let first = first.wait_with_output().expect("first writer");
        assert!(first.status.success());
    } else {
        // Two writers at once; each transaction builds on the other's.
        let writers: Vec<Child> = ["t1", "t2"]
            .iter()
            .map(|h| {
                command(
                    &dir,
                    &["record", "--host", h, "--ok", "--by", "w", "--at", at],
                )
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn")
            })
            .collect();
        for w in writers {
            assert!(w.wait_with_output().expect("writer").status.success());
        }
    }
    let log = ok(&dir, &["log"]);
    assert!(
        log.contains("t1 succeeded") && log.contains("t2 succeeded"),
        "{log}"
    );

    // Several writers at once: exactly one halt lands, the others see it
    // and are refused; without the lock two could read "not halted".
    let children: Vec<Child> = (0..4)
        .map(|i| {
            let reason = format!("r{i}");
            command(
                &dir,
                &["halt", "--reason", &reason, "--by", "w", "--at", at],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn")
        })
        .collect();
    let codes: Vec<Option<i32>> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait").status.code())
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == Some(0)).count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == Some(2)).count(),
        3,
        "{codes:?}"
    );
    let log = ok(&dir, &["log"]);
    assert_eq!(log.matches("halted the rollout").count(), 1, "{log}");
}
