//! The command line's contract for scopes and plans: spellings, exit codes,
//! output formats, errors with a caret on stderr.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_fleetscope");

fn run(args: &[&str]) -> Output {
    match Command::new(BIN).args(args).output() {
        Ok(o) => o,
        Err(e) => panic!("cannot run {BIN}: {e}"),
    }
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = match Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot run {BIN}: {e}"),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Files {
    dir: std::path::PathBuf,
}

impl Files {
    fn new(tag: &str) -> Files {
        let dir = std::env::temp_dir().join(format!("fleetscope-cli-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Files { dir }
    }

    fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("write file");
        path.display().to_string()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const FLEET: &str = r#"[
  {"name": "web-01", "roles": ["web"], "tags": {"env": "prod", "cluster": "a"}, "facts": {"last_patched": "2026-09-01", "os": {"version": "22.04"}}},
  {"name": "web-02", "roles": ["web"], "tags": {"env": "test"}, "facts": {"last_patched": "2026-11-20"}},
  {"name": "db-01", "roles": ["db"], "tags": {"env": "prod"}},
  {"name": "bare-01"}
]"#;

const POLICY: &str = r#"
[scopes]
web = "role = web"
prod = "tags.env = prod"

[[tiers]]
name = "test"
scope = "tags.env = test"
soak = "1h"

[[tiers]]
name = "prod"
scope = "@prod"
after = ["test"]
"#;

#[test]
fn check_accepts_valid_and_renders_errors_with_a_caret() {
    let ok = run(&["check", "role = web and tags.env = prod"]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(stdout(&ok).is_empty() && stderr(&ok).is_empty());

    let bad = run(&["check", "role == web"]);
    assert_eq!(bad.status.code(), Some(2));
    let err = stderr(&bad);
    assert!(err.contains("--> expr:1:6"), "{err}");
    assert!(err.contains("1 | role == web\n  |      ^^"), "{err}");
    assert!(
        err.contains("help: `==` is not an operator here; write `=`"),
        "{err}"
    );
}

#[test]
fn check_reads_the_expression_from_stdin() {
    let ok = run_stdin(
        &["check", "-"],
        b"role = web\n  and tags.env = prod # comment\n",
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let bad = run_stdin(&["check", "-"], b"role = web\n  and tags.env = (prod\n");
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("expr:2:"), "{}", stderr(&bad));
    let invalid = run_stdin(&["check", "-"], b"role = \xff");
    assert_eq!(invalid.status.code(), Some(2));
    assert!(
        stderr(&invalid).contains("not UTF-8"),
        "{}",
        stderr(&invalid)
    );
}

#[test]
fn check_with_a_policy_knows_its_scopes() {
    let files = Files::new("check-policy");
    let policy = files.write("p.toml", POLICY);
    assert_eq!(
        run(&["check", "--policy", &policy, "@web and @prod"])
            .status
            .code(),
        Some(0)
    );
    let unknown = run(&["check", "--policy", &policy, "@wbe"]);
    assert_eq!(unknown.status.code(), Some(2));
    let err = stderr(&unknown);
    assert!(
        err.contains("unknown scope `@wbe`; known scopes: @prod, @web"),
        "{err}"
    );
    assert!(err.contains("did you mean `@web`?"), "{err}");
}

#[test]
fn eval_prints_names_in_fleet_order_as_text_or_json() {
    let files = Files::new("eval");
    let fleet = files.write("fleet.json", FLEET);
    let text = run(&[
        "eval",
        "--fleet",
        &fleet,
        "--now",
        "2026-11-21T00:00:00Z",
        "tags.env = prod or role = web",
    ]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    assert_eq!(stdout(&text), "web-01\nweb-02\ndb-01\n");

    let json = run(&[
        "eval",
        "--fleet",
        &fleet,
        "--now",
        "2026-11-21T00:00:00Z",
        "--format",
        "json",
        "facts.last_patched < now() - 30d",
    ]);
    assert_eq!(stdout(&json).trim(), r#"["web-01"]"#);

    let none = run(&["eval", "--fleet", &fleet, "role = nothing"]);
    assert_eq!(none.status.code(), Some(0), "no match is still success");
    assert!(stdout(&none).is_empty());
}

#[test]
fn eval_uses_the_policy_scopes_and_fail_closed_negation() {
    let files = Files::new("eval-policy");
    let fleet = files.write("fleet.json", FLEET);
    let policy = files.write("p.toml", POLICY);
    let out = run(&[
        "eval",
        "--fleet",
        &fleet,
        "--policy",
        &policy,
        "@web and @prod",
    ]);
    assert_eq!(stdout(&out), "web-01\n");
    // bare-01 has no env tag: neither `= prod` nor `!= prod` selects it.
    let out = run(&["eval", "--fleet", &fleet, "tags.env != prod"]);
    assert_eq!(stdout(&out), "web-02\n");
    let out = run(&["eval", "--fleet", &fleet, "not (tags.env = prod)"]);
    assert_eq!(stdout(&out), "web-02\nbare-01\n");
}

#[test]
fn eval_rejects_bad_input_with_exit_2() {
    let files = Files::new("eval-bad");
    let fleet = files.write("fleet.json", FLEET);
    let dup = files.write("dup.json", r#"[{"name": "a"}, {"name": "a"}]"#);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["eval", "--fleet", &dup, "true"], "both named `a`"),
        (
            vec!["eval", "--fleet", "/nonexistent/fleet.json", "true"],
            "cannot read fleet file",
        ),
        (
            vec!["eval", "--fleet", &fleet, "--now", "yesterday", "true"],
            "--now `yesterday` is not an RFC 3339 timestamp",
        ),
        (
            vec!["eval", "--fleet", &fleet, "name matches \"(\""],
            "invalid regex",
        ),
    ];
    for (args, needle) in cases {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
}

#[test]
fn explain_shows_each_node_and_the_hosts_values() {
    let files = Files::new("explain");
    let fleet = files.write("fleet.json", FLEET);
    let policy = files.write("p.toml", POLICY);
    let out = run(&[
        "explain",
        "--fleet",
        &fleet,
        "--policy",
        &policy,
        "--host",
        "web-02",
        "@web and tags.env = prod",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with("host web-02 is not selected\n"), "{text}");
    assert!(text.contains("no  @web and tags.env = prod"), "{text}");
    assert!(text.contains("  yes @web"), "{text}");
    assert!(
        text.contains("    yes role = web    [role: \"web\"]"),
        "{text}"
    );
    assert!(
        text.contains("  no  tags.env = prod    [tags.env: \"test\"]"),
        "{text}"
    );

    let json = run(&[
        "explain",
        "--fleet",
        &fleet,
        "--host",
        "bare-01",
        "--format",
        "json",
        "has(tags.env)",
    ]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value["holds"], false);
    assert_eq!(value["values"]["path"], "tags.env");
    assert_eq!(value["values"]["values"], serde_json::json!([]));

    let unknown = run(&["explain", "--fleet", &fleet, "--host", "web", "true"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("similar names: web-01, web-02"),
        "{}",
        stderr(&unknown)
    );
}

#[test]
fn validate_and_plan_follow_their_contracts() {
    let files = Files::new("plan");
    let fleet = files.write("fleet.json", FLEET);
    let policy = files.write("p.toml", POLICY);
    let ok = run(&["validate", &policy, "--fleet", &fleet]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let text = stdout(&ok);
    assert!(text.contains("rollout order: test -> prod"), "{text}");
    assert!(text.contains("unassigned: 1\n    bare-01"), "{text}");

    let bad = files.write(
        "bad.toml",
        &POLICY.replace("after = [\"test\"]", "after = [\"tst\"]"),
    );
    let out = run(&["validate", &bad]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("tiers[1].after[0]: unknown tier `tst`"),
        "{}",
        stderr(&out)
    );

    let plan = run(&[
        "plan",
        &policy,
        "--fleet",
        &fleet,
        "--start",
        "2026-11-23T08:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", stderr(&plan));
    let value: serde_json::Value = serde_json::from_slice(&plan.stdout).expect("json");
    assert_eq!(value["tiers"][0]["name"], "test");
    assert_eq!(
        value["tiers"][1]["hosts"],
        serde_json::json!(["web-01", "db-01"])
    );
    assert_eq!(value["tiers"][1]["ready"], "2026-11-23T10:00:00Z");
    assert_eq!(value["unassigned"], serde_json::json!(["bare-01"]));
    let saved = files.write("plan.json", &stdout(&plan));

    // Same inputs, same bytes.
    let again = run(&[
        "plan",
        &policy,
        "--fleet",
        &fleet,
        "--start",
        "2026-11-23T08:00:00Z",
        "--format",
        "json",
    ]);
    assert_eq!(plan.stdout, again.stdout);

    let fewer = files.write("fewer.json", r#"[{"name": "db-01", "tags": {"env": "prod"}}, {"name": "db-02", "tags": {"env": "prod"}}]"#);
    let diff = run(&[
        "plan",
        &policy,
        "--fleet",
        &fewer,
        "--start",
        "2026-11-23T08:00:00Z",
        "--previous",
        &saved,
    ]);
    let text = stdout(&diff);
    assert!(
        text.contains("prod: +1 -1\n    + db-02\n    - web-01"),
        "{text}"
    );

    let severity = run(&[
        "plan",
        &policy,
        "--fleet",
        &fleet,
        "--start",
        "2026-11-23T08:00:00Z",
        "--severity",
        "urgent",
    ]);
    assert_eq!(severity.status.code(), Some(2));
    assert!(stderr(&severity).contains("unknown severity `urgent`"));
}

#[test]
fn explain_shows_floats_as_floats_and_quotes_odd_host_names() {
    let files = Files::new("explain-float");
    let fleet = files.write("fleet.json", r#"[{"name": "web 01", "facts": {"n": 8.0}}]"#);
    let out = run(&[
        "explain",
        "--fleet",
        &fleet,
        "--host",
        "web 01",
        "facts.n = \"8\"",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // A float has no text, so the string comparison fails; the value shows why.
    assert!(
        text.starts_with("host \"web 01\" is not selected\n"),
        "{text}"
    );
    assert!(
        text.contains("no  facts.n = \"8\"    [facts.n: 8.0]"),
        "{text}"
    );
}

/// A reader that stops early (`fleetscope plan ... | head`) is not a
/// failure: the output larger than a pipe's buffer meets a closed pipe,
/// and the command still exits 0 with nothing on stderr, for the JSON
/// plan (streamed through serde_json) and for eval's names.
#[test]
fn a_reader_that_stops_early_is_no_failure() {
    let files = Files::new("pipe");
    let hosts: Vec<String> = (0..3000)
        .map(|i| {
            format!(
                "{{\"name\":\"web-{i:05}.example.com\",\"roles\":[\"web\"],\"tags\":{{\"env\":\"{}\"}}}}",
                ["test", "staging", "prod"][i % 3]
            )
        })
        .collect();
    let fleet = files.write("fleet.jsonl", &hosts.join("\n"));
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policy.toml");
    for args in [
        vec![
            "plan",
            policy,
            "--fleet",
            &fleet,
            "--start",
            "2026-11-23T08:00:00Z",
            "--format",
            "json",
        ],
        vec!["eval", "--fleet", &fleet, "role = web"],
    ] {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("runs");
        let mut out = child.stdout.take().expect("stdout");
        let mut first = [0u8; 16];
        std::io::Read::read_exact(&mut out, &mut first).expect("some output");
        drop(out);
        let done = child.wait_with_output().expect("waits");
        assert_eq!(done.status.code(), Some(0), "{args:?}: {}", stderr(&done));
        assert_eq!(stderr(&done), "", "{args:?}");
    }
}
