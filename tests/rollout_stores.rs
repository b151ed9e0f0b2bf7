//! Rollouts in the database stores under concurrency and faults, through
//! the command line as patch workers use it: many workers at once, racing
//! results, workers killed at random instants, the server stopped in the
//! middle, a stale worker; plus locations, names, list/export/import,
//! schema versions, and passwords never shown.
//!
//! SQLite variants always run; PostgreSQL variants run when
//! `FLEETSCOPE_TEST_POSTGRES_URL` is set (`.ci/postgres.sh start`), and
//! otherwise print that they were skipped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

#[path = "common/stores.rs"]
mod stores;
use stores::Kind;

const BIN: &str = env!("CARGO_BIN_EXE_fleetscope");
const AT: &str = "2026-11-23T08:00:00Z";

/// One tier of `hosts` hosts in one batch, tolerating `max_failures`.
fn policy(max_failures: usize, batch: &str) -> String {
    format!(
        "timezone = \"UTC\"\n[defaults]\nwindow = \"any\"\nbatch = \"{batch}\"\nbatch_duration = \"1h\"\n\
         max_failures = {max_failures}\nsoak = \"0h\"\nnotice = \"0h\"\n\
         [[tiers]]\nname = \"big\"\nscope = \"tags.env = prod\"\n"
    )
}

fn fleet(hosts: usize) -> String {
    let hosts: Vec<String> = (0..hosts)
        .map(|i| format!("{{\"name\": \"w{i:03}\", \"tags\": {{\"env\": \"prod\"}}}}"))
        .collect();
    format!("[{}]", hosts.join(","))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A directory, a store of `kind` and a rollout in it, notified and with
/// its first batch begun.
struct Rig {
    dir: PathBuf,
    state: String,
    name: String,
}

impl Rig {
    fn new(test: &str, kind: Kind, hosts: usize, max_failures: usize, batch: &str) -> Rig {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("rollout_stores")
            .join(format!("{test}-{kind:?}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("policy.toml"), policy(max_failures, batch)).unwrap();
        std::fs::write(dir.join("fleet.json"), fleet(hosts)).unwrap();
        let (state, name) = match kind {
            Kind::Json => ("state.json".to_string(), "default".to_string()),
            Kind::Sqlite => ("state.db".to_string(), test.to_string()),
            Kind::Postgres => (
                stores::postgres_url().unwrap(),
                format!("{test}-{}-{}", std::process::id(), unique()),
            ),
        };
        let rig = Rig { dir, state, name };
        rig.ok(&[
            "start",
            "policy.toml",
            "--fleet",
            "fleet.json",
            "--start",
            AT,
            "--at",
            AT,
        ]);
        rig.ok(&["notified", "--tier", "big", "--at", AT]);
        rig.ok(&["begin", "--tier", "big", "--batch", "1", "--at", AT]);
        rig
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(&self.dir)
            .arg("rollout")
            .args(args)
            .args(["--state", &self.state, "--name", &self.name])
            .env_remove("FLEETSCOPE_STATE");
        let reads = ["next", "status", "log", "export"];
        if !args.first().is_some_and(|a| reads.contains(a)) {
            c.args(["--by", "worker"]);
        }
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    }

    fn export(&self) -> Value {
        let out = Command::new(BIN)
            .current_dir(&self.dir)
            .args([
                "rollout",
                "export",
                "--state",
                &self.state,
                "--name",
                &self.name,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_str(&text(&out.stdout)).unwrap()
    }

    /// Every host's recorded outcome (`succeeded` or `failed`).
    fn results(&self) -> BTreeMap<String, String> {
        let state = self.export();
        let mut results = BTreeMap::new();
        for tier in state["tiers"].as_array().unwrap() {
            for batch in tier["batches"].as_array().unwrap() {
                if let Some(r) = batch.get("results").and_then(Value::as_object) {
                    for (host, result) in r {
                        let outcome = match &result["outcome"] {
                            Value::String(s) => s.clone(),
                            _ => "failed".to_string(),
                        };
                        assert!(results.insert(host.clone(), outcome).is_none());
                    }
                }
            }
        }
        results
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// Checks the log: the tier halted exactly once, right after the failure
/// that first exceeded `max_failures`.
fn assert_halted_once_at_first_excess(rig: &Rig, max_failures: usize) {
    let events = rig.export()["events"].as_array().unwrap().clone();
    let mut failures = 0;
    let mut halts = 0;
    for (i, e) in events.iter().enumerate() {
        match e["event"].as_str().unwrap() {
            "result" if e["outcome"].get("failed").is_some() => {
                failures += 1;
                let next_is_halt = events
                    .get(i + 1)
                    .is_some_and(|n| n["event"] == "tier_halted");
                assert_eq!(
                    next_is_halt,
                    failures == max_failures + 1,
                    "failure {failures} (tolerated {max_failures}); halt after it: {next_is_halt}"
                );
            }
            "tier_halted" => halts += 1,
            _ => {}
        }
    }
    assert_eq!(halts, usize::from(failures > max_failures), "{events:?}");
}

#[test]
fn eight_workers_record_at_once_and_the_tier_halts_exactly_once() {
    for kind in stores::databases() {
        let hosts = 96;
        let max_failures = 5;
        let rig = Rig::new("eight", kind, hosts, max_failures, "100%");
        // Every 7th host fails: 14 failures, arriving from several workers.
        let fails = |i: usize| i % 7 == 3;
        let workers: Vec<Child> = (0..8)
            .map(|w| {
                let mut script = String::new();
                for i in (w..hosts).step_by(8) {
                    let outcome = if fails(i) {
                        "--failed 'exit 100'"
                    } else {
                        "--ok"
                    };
                    script.push_str(&format!(
                        "'{BIN}' rollout record --host w{i:03} {outcome} --at {AT} --by w{w} \
                         --state '{}' --name '{}' >/dev/null || exit 1\n",
                        rig.state, rig.name
                    ));
                }
                Command::new("sh")
                    .current_dir(&rig.dir)
                    .args(["-c", &script])
                    .env_remove("FLEETSCOPE_STATE")
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for w in workers {
            let out = w.wait_with_output().unwrap();
            assert!(out.status.success(), "{kind:?}: {}", text(&out.stderr));
        }
        let results = rig.results();
        assert_eq!(results.len(), hosts, "{kind:?}: every host has one result");
        let failed = results.values().filter(|o| *o == "failed").count();
        assert_eq!(failed, (0..hosts).filter(|i| fails(*i)).count(), "{kind:?}");
        assert_halted_once_at_first_excess(&rig, max_failures);
        let status: Value =
            serde_json::from_str(&rig.ok(&["status", "--now", AT, "--format", "json"])).unwrap();
        assert_eq!(status["tiers"][0]["failed"], failed);
        assert_eq!(status["tiers"][0]["phase"], "halted");
    }
}

#[test]
fn two_workers_racing_different_outcomes_for_one_host_one_wins() {
    for kind in stores::databases() {
        let rig = Rig::new("race", kind, 12, 100, "100%");
        for i in 0..12 {
            let host = format!("w{i:03}");
            let racers: Vec<Child> = [vec!["--ok"], vec!["--failed", "boom"]]
                .iter()
                .map(|outcome| {
                    let mut args = vec!["record", "--host", &host, "--at", AT];
                    args.extend(outcome.iter().copied());
                    rig.command(&args)
                        .stdout(Stdio::null())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            let outs: Vec<Output> = racers
                .into_iter()
                .map(|r| r.wait_with_output().unwrap())
                .collect();
            let codes: Vec<Option<i32>> = outs.iter().map(|o| o.status.code()).collect();
            assert!(
                codes == [Some(0), Some(2)] || codes == [Some(2), Some(0)],
                "{kind:?} {host}: {codes:?}"
            );
            let loser = outs.iter().find(|o| o.status.code() == Some(2)).unwrap();
            assert!(
                text(&loser.stderr).contains("already has the result"),
                "{}",
                text(&loser.stderr)
            );
            let winner_ok = codes[0] == Some(0);
            let stored = rig.results()[&host].clone();
            assert_eq!(stored == "succeeded", winner_ok, "{kind:?} {host}");
            // The same outcome again is a no-op.
            let again = if winner_ok {
                vec!["--ok"]
            } else {
                vec!["--failed", "boom"]
            };
            let mut args = vec!["record", "--host", &host, "--at", AT];
            args.extend(again);
            let out = rig.ok(&args);
            assert!(out.contains("already had this result"), "{out}");
        }
        assert_eq!(rig.results().len(), 12);
    }
}

#[test]
fn workers_killed_at_random_instants_lose_nothing_committed() {
    for kind in stores::databases() {
        let hosts = 60;
        let rig = Rig::new("kill", kind, hosts, 1000, "100%");
        let mut seed: u64 = 0x5eed ^ unique();
        let mut confirmed: Vec<Vec<String>> = Vec::new();
        let mut attempted: Vec<Vec<String>> = Vec::new();
        // Calls of three hosts each, every one killed after a random delay.
        for call in 0..hosts / 3 {
            let group: Vec<String> = (0..3).map(|k| format!("w{:03}", call * 3 + k)).collect();
            let mut args = vec!["record", "--ok", "--at", AT];
            for h in &group {
                args.extend(["--host", h.as_str()]);
            }
            let mut child = rig
                .command(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            std::thread::sleep(Duration::from_micros((seed >> 33) % 40_000));
            let _ = child.kill();
            let status = child.wait().unwrap();
            if status.success() {
                confirmed.push(group.clone());
            }
            attempted.push(group);
        }
        let results = rig.results();
        for group in &confirmed {
            for h in group {
                assert!(
                    results.contains_key(h),
                    "{kind:?}: {h} was confirmed but is missing"
                );
            }
        }
        for group in &attempted {
            let present = group.iter().filter(|h| results.contains_key(*h)).count();
            assert!(
                present == 0 || present == 3,
                "{kind:?}: {group:?} half applied"
            );
        }
        // The rollout goes on: the rest are recorded and the tier finishes.
        for group in &attempted {
            let mut args = vec!["record", "--ok", "--at", AT];
            for h in group {
                args.extend(["--host", h.as_str()]);
            }
            rig.ok(&args);
        }
        assert_eq!(rig.results().len(), hosts);
        let next = rig.ok(&["next", "--now", "2026-11-23T09:00:00Z"]);
        assert!(next.starts_with("done"), "{kind:?}: {next}");
        eprintln!(
            "{kind:?}: {} of {} killed calls had committed",
            confirmed.len(),
            attempted.len()
        );
    }
}

#[test]
fn a_stale_worker_cannot_begin_a_batch_after_another_halted() {
    for kind in stores::databases() {
        let rig = Rig::new("stale", kind, 4, 0, "2");
        rig.ok(&[
            "record", "--host", "w000", "--host", "w001", "--ok", "--at", AT,
        ]);
        // Worker A reads: batch 2 may start now.
        let seen: Value =
            serde_json::from_str(&rig.ok(&["next", "--now", AT, "--format", "json"])).unwrap();
        assert_eq!(seen["actions"][0]["kind"], "start");
        assert_eq!(seen["actions"][0]["batch"], 2);
        // Worker B halts the rollout while A is paused.
        rig.ok(&["halt", "--reason", "bad patch", "--at", AT]);
        // A resumes with what it read: refused, nothing changes.
        let before = rig.export();
        let out = rig.run(&["begin", "--tier", "big", "--batch", "2", "--at", AT]);
        assert_eq!(out.status.code(), Some(2), "{kind:?}");
        assert!(
            text(&out.stderr).contains("halted"),
            "{}",
            text(&out.stderr)
        );
        assert_eq!(rig.export(), before);
        // After a resume, batch 2's hosts fail and halt the tier: a worker
        // that read "begin batch 3" before... there is none; a stale begin
        // of batch 2 again is refused because it already began.
        rig.ok(&["resume", "--at", AT]);
        rig.ok(&["begin", "--tier", "big", "--batch", "2", "--at", AT]);
        rig.ok(&[
            "record",
            "--host",
            "w002",
            "--failed",
            "disk full",
            "--at",
            AT,
        ]);
        let out = rig.run(&["begin", "--tier", "big", "--batch", "2", "--at", AT]);
        assert_eq!(out.status.code(), Some(2));
        let events = rig.export()["events"].as_array().unwrap().clone();
        assert_eq!(events.iter().filter(|e| e["event"] == "began").count(), 2);
        assert_eq!(
            events
                .iter()
                .filter(|e| e["event"] == "tier_halted")
                .count(),
            1
        );
    }
}

/// A password never appears: not in `start`'s message, not in errors when
/// the server is unreachable (exit 1), not in a bad URL's error (exit 2).
#[test]
fn passwords_are_never_shown_and_an_unreachable_server_exits_1() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rollout_stores_pw");
    std::fs::create_dir_all(&dir).unwrap();
    let down = "postgres://ops:hunter2secret@127.0.0.1:1/rollouts";
    for args in [
        vec!["next", "--state", down],
        vec!["record", "--host", "x", "--ok", "--state", down],
        vec!["list", "--state", down],
    ] {
        let out = Command::new(BIN)
            .current_dir(&dir)
            .arg("rollout")
            .args(&args)
            .env_remove("FLEETSCOPE_STATE")
            .output()
            .unwrap();
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains("hunter2secret"), "{all}");
        if cfg!(feature = "postgres") {
            assert_eq!(out.status.code(), Some(1), "{args:?}: {all}");
            assert!(all.contains("postgres://ops@127.0.0.1:1/rollouts"), "{all}");
        } else {
            assert_eq!(out.status.code(), Some(2), "{all}");
            assert!(all.contains("postgres` feature"), "{all}");
        }
    }
    // Through the environment variable as well.
    let out = Command::new(BIN)
        .current_dir(&dir)
        .args(["rollout", "status"])
        .env("FLEETSCOPE_STATE", down)
        .output()
        .unwrap();
    assert!(!text(&out.stderr).contains("hunter2secret"));
    assert_ne!(out.status.code(), Some(0));
    let out = Command::new(BIN)
        .current_dir(&dir)
        .args([
            "rollout",
            "next",
            "--state",
            "postgres://u:hunter2secret@h/db?sslmode=require",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !text(&out.stderr).contains("hunter2secret"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("u:***@h"),
        "{}",
        text(&out.stderr)
    );

    // A real server: `start` names it without the password.
    if let Some(url) = stores::postgres_url() {
        assert!(
            url.contains(':') && url.contains('@'),
            "the CI URL carries a password"
        );
        let password = url
            .split("://")
            .nth(1)
            .and_then(|r| r.split('@').next())
            .and_then(|u| u.split(':').nth(1))
            .unwrap()
            .to_string();
        std::fs::write(dir.join("policy.toml"), policy(0, "100%")).unwrap();
        std::fs::write(dir.join("fleet.json"), fleet(3)).unwrap();
        let name = format!("pw-{}", std::process::id());
        let out = Command::new(BIN)
            .current_dir(&dir)
            .args([
                "rollout",
                "start",
                "policy.toml",
                "--fleet",
                "fleet.json",
                "--start",
                AT,
                "--name",
                &name,
            ])
            .env("FLEETSCOPE_STATE", &url)
            .output()
            .unwrap();
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{all}");
        assert!(!all.contains(&password), "{all}");
        assert!(all.contains("(PostgreSQL)"), "{all}");
        let out = Command::new(BIN)
            .current_dir(&dir)
            .args(["rollout", "log", "--name", &name])
            .env("FLEETSCOPE_STATE", &url)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert!(!text(&out.stdout).contains(&password));
    }
}

#[test]
fn stopping_postgres_mid_rollout_fails_with_exit_1_and_loses_nothing() {
    if stores::postgres_url().is_none() {
        return;
    }
    // A private server, so that stopping it disturbs no other test.
    let pg_dir = std::env::temp_dir().join(format!("fleetscope-pg-stop-{}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres.sh");
    let pg = |what: &str| {
        let out = Command::new("bash")
            .arg(&script)
            .arg(what)
            .env("FLEETSCOPE_PG_DIR", &pg_dir)
            .env("FLEETSCOPE_PG_PORT", "54371")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "postgres.sh {what}: {}",
            text(&out.stderr)
        );
        text(&out.stdout).trim().to_string()
    };
    let url = pg("start");
    let password = url
        .split(':')
        .nth(2)
        .and_then(|p| p.split('@').next())
        .unwrap()
        .to_string();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rollout_stores_stop");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.toml"), policy(100, "100%")).unwrap();
    std::fs::write(dir.join("fleet.json"), fleet(6)).unwrap();
    let rig = Rig {
        dir,
        state: url.clone(),
        name: format!("stop-{}", unique()),
    };
    rig.ok(&[
        "start",
        "policy.toml",
        "--fleet",
        "fleet.json",
        "--start",
        AT,
        "--at",
        AT,
    ]);
    rig.ok(&["notified", "--tier", "big", "--at", AT]);
    rig.ok(&["begin", "--tier", "big", "--batch", "1", "--at", AT]);
    rig.ok(&[
        "record", "--host", "w000", "--host", "w001", "--ok", "--at", AT,
    ]);
    pg("stop");
    for args in [
        vec!["record", "--host", "w002", "--ok", "--at", AT],
        vec!["next", "--now", AT],
        vec!["status", "--now", AT],
    ] {
        let out = rig.run(&args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains("cannot connect to postgres://fleetscope@127.0.0.1:54371"),
            "{err}"
        );
        assert!(!err.contains(&password), "{err}");
    }
    pg("start");
    rig.ok(&[
        "record", "--host", "w002", "--host", "w003", "--host", "w004", "--host", "w005", "--ok",
        "--at", AT,
    ]);
    assert_eq!(rig.results().len(), 6);
    let next = rig.ok(&["next", "--now", "2026-11-23T09:00:00Z"]);
    assert!(next.starts_with("done"), "{next}");
    pg("clean");
}

#[test]
fn names_list_export_import_and_the_default_store_from_the_environment() {
    for kind in stores::databases() {
        let rig = Rig::new("names", kind, 3, 0, "100%");
        rig.ok(&["record", "--host", "w000", "--ok", "--at", AT]);
        // A second rollout in the same store, chosen with --name.
        let other = format!("{}-copy", rig.name);
        let exported = rig.ok(&["export"]);
        std::fs::write(rig.dir.join("exported.json"), &exported).unwrap();
        let out = Command::new(BIN)
            .current_dir(&rig.dir)
            .args(["rollout", "import", "exported.json", "--name", &other])
            .env("FLEETSCOPE_STATE", &rig.state)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        // Importing again under the same name is refused.
        let out = Command::new(BIN)
            .current_dir(&rig.dir)
            .args([
                "rollout",
                "import",
                "exported.json",
                "--name",
                &other,
                "--state",
                &rig.state,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        // The copy is the same rollout, byte for byte once exported.
        let copy = Command::new(BIN)
            .current_dir(&rig.dir)
            .args(["rollout", "export", "--name", &other, "--state", &rig.state])
            .output()
            .unwrap();
        assert_eq!(text(&copy.stdout), exported);
        // --state wins over the environment.
        let out = Command::new(BIN)
            .current_dir(&rig.dir)
            .args(["rollout", "list", "--state", &rig.state])
            .env("FLEETSCOPE_STATE", "elsewhere.json")
            .output()
            .unwrap();
        let list = text(&out.stdout);
        assert!(list.contains(&rig.name) && list.contains(&other), "{list}");
        // An unknown name is refused with the names it holds.
        let out = Command::new(BIN)
            .current_dir(&rig.dir)
            .args(["rollout", "next", "--name", "nope", "--state", &rig.state])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(
            text(&out.stderr).contains("no rollout named `nope`"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[cfg(feature = "sqlite")]
#[test]
fn an_sqlite_store_from_a_newer_fleetscope_is_refused() {
    let rig = Rig::new("newer", Kind::Sqlite, 2, 0, "100%");
    let db = rusqlite::Connection::open(rig.dir.join("state.db")).unwrap();
    db.execute("UPDATE fleetscope_schema SET version = 99", [])
        .unwrap();
    drop(db);
    let out = rig.run(&["next", "--now", AT]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("schema version 99") && err.contains("newer fleetscope"),
        "{err}"
    );
    // A missing database is not created by a command that only reads.
    let out = Command::new(BIN)
        .current_dir(&rig.dir)
        .args(["rollout", "next", "--state", "missing.db"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!rig.dir.join("missing.db").exists());
}
