//! Package version literals through the command line: `eval` on the bundled
//! example fleet selects what `dpkg --compare-versions` and `rpm.vercmp`
//! say it should; invalid literals are rejected with a caret and a help
//! line; host values that are not versions of the kind satisfy no
//! predicate of it, but its negation.
//!
//! The expected orders come from `tests/fixtures/versions/fleet-openssl-*.tsv`,
//! written by the real tools (see the README there); when `dpkg` is on PATH,
//! one query is also checked against it live.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::collections::BTreeMap;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_fleetscope");

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn root(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// Each host of the example fleet with its openssl version, in fleet order.
fn fleet_openssl() -> Vec<(String, Option<String>)> {
    let text = std::fs::read_to_string(root("examples/fleet.json")).unwrap();
    let hosts: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    hosts
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap().to_string(),
                h["facts"]["packages"]["openssl"]
                    .as_str()
                    .map(str::to_string),
            )
        })
        .collect()
}

/// (value, literal) → the tool's order, `None` when the value is invalid.
fn tool_orders(kind: &str) -> BTreeMap<(String, String), Option<i64>> {
    let path = root(&format!("tests/fixtures/versions/fleet-openssl-{kind}.tsv"));
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .map(|line| {
            let f: Vec<serde_json::Value> = line
                .split('\t')
                .map(|x| serde_json::from_str(x).unwrap())
                .collect();
            let key = (
                f[0].as_str().unwrap().to_string(),
                f[1].as_str().unwrap().to_string(),
            );
            (key, f[4].as_i64())
        })
        .collect()
}

fn eval(expr: &str) -> Vec<String> {
    let out = run(&["eval", "--fleet", &root("examples/fleet.json"), expr]);
    assert_eq!(out.status.code(), Some(0), "{expr}: {}", stderr(&out));
    stdout(&out).lines().map(str::to_string).collect()
}

/// For every literal in the fixture: `<` selects the hosts the tool puts
/// below it, `!=` the hosts with a value the tool does not call equal.
fn check_kind(kind: &str) {
    let orders = tool_orders(kind);
    let literals: Vec<String> = orders
        .keys()
        .map(|(_, lit)| lit.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(!literals.is_empty());
    let hosts = fleet_openssl();
    for literal in &literals {
        let order_of = |v: &String| {
            *orders
                .get(&(v.clone(), literal.clone()))
                .unwrap_or_else(|| panic!("fixture lacks {v:?}; regenerate it"))
        };
        let below: Vec<String> = hosts
            .iter()
            .filter(|(_, v)| v.as_ref().is_some_and(|v| order_of(v) == Some(-1)))
            .map(|(n, _)| n.clone())
            .collect();
        let expr = format!("facts.packages.openssl < {kind}(\"{literal}\")");
        assert!(!below.is_empty(), "{expr} should select someone");
        assert_eq!(eval(&expr), below, "{expr}");
        let not_equal: Vec<String> = hosts
            .iter()
            .filter(|(_, v)| v.as_ref().is_some_and(|v| order_of(v) != Some(0)))
            .map(|(n, _)| n.clone())
            .collect();
        let expr = format!("facts.packages.openssl != {kind}(\"{literal}\")");
        assert_eq!(eval(&expr), not_equal, "{expr}");
    }
}

#[test]
fn eval_on_the_example_fleet_follows_dpkg() {
    check_kind("dpkg");
}

#[test]
fn eval_on_the_example_fleet_follows_rpm() {
    check_kind("rpm");
}

#[test]
fn eval_on_the_example_fleet_matches_dpkg_live_when_installed() {
    let literal = "3.0.2-0ubuntu1.15";
    let probe = Command::new("dpkg").arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        println!("SKIPPED: `dpkg` is not on PATH; the fixture-based tests still ran");
        return;
    }
    let hosts = fleet_openssl();
    let mut lt: BTreeMap<String, bool> = BTreeMap::new();
    for (_, v) in &hosts {
        if let Some(v) = v {
            lt.entry(v.clone()).or_insert_with(|| {
                let valid = Command::new("dpkg")
                    .args(["--validate-version", "--", v])
                    .output()
                    .unwrap()
                    .status
                    .success();
                valid
                    && Command::new("dpkg")
                        .args(["--compare-versions", "--", v, "lt", literal])
                        .output()
                        .unwrap()
                        .status
                        .success()
            });
        }
    }
    let expected: Vec<String> = hosts
        .iter()
        .filter(|(_, v)| v.as_ref().is_some_and(|v| lt[v]))
        .map(|(n, _)| n.clone())
        .collect();
    let got = eval(&format!("facts.packages.openssl < dpkg(\"{literal}\")"));
    assert_eq!(got, expected);
    println!(
        "dpkg live: {} of {} hosts below {literal}, {} distinct versions asked",
        got.len(),
        hosts.len(),
        lt.len()
    );
}

#[test]
fn the_readme_scope_runs_on_the_example_fleet() {
    let all = eval(r#"facts.packages.openssl < dpkg("3.0.2-0ubuntu1.15")"#);
    let prod = eval(r#"facts.packages.openssl < dpkg("3.0.2-0ubuntu1.15") and tags.env = prod"#);
    assert!(!prod.is_empty() && prod.len() < all.len());
    assert!(prod.iter().all(|h| all.contains(h)));
    // `rpm` without `(` is still the word: the RHEL hosts' package manager.
    let rpm_hosts = eval("facts.package_manager = rpm");
    let rhel = eval("facts.os.family = rhel");
    assert_eq!(rpm_hosts, rhel);
    assert!(!rpm_hosts.is_empty());
}

#[test]
fn invalid_literals_are_rejected_with_a_caret_and_help() {
    for (expr, caret, help) in [
        (
            r#"facts.v < dpkg("a1.0")"#,
            "1 | facts.v < dpkg(\"a1.0\")\n  |                ^^^^^^",
            "help: dpkg(\"...\") takes a Debian version",
        ),
        (
            r#"facts.v < rpm("")"#,
            "1 | facts.v < rpm(\"\")\n  |               ^^",
            "help: rpm(\"...\") takes an RPM version",
        ),
        (
            r#"facts.v < semver("1.2")"#,
            "1 | facts.v < semver(\"1.2\")\n  |                  ^^^^^",
            "help: semver(\"...\") takes a SemVer 2.0.0 version",
        ),
    ] {
        let out = run(&["check", expr]);
        assert_eq!(out.status.code(), Some(2), "{expr}");
        let err = stderr(&out);
        assert!(err.contains("is not a valid"), "{err}");
        assert!(err.contains(caret), "{err}");
        assert!(err.contains(help), "{err}");
    }
    let out = run(&["check", "facts.v < dpkg(1.0)"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("help: write the version as a quoted string: dpkg(\"1.0\")"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn invalid_host_values_satisfy_no_predicate_of_the_kind_but_its_negation() {
    let dir = std::env::temp_dir().join(format!("fleetscope-version-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fleet = dir.join("fleet.json");
    std::fs::write(
        &fleet,
        r#"[
  {"name": "good", "facts": {"v": "1.2.3"}},
  {"name": "not-dpkg", "facts": {"v": "1.2_3"}},
  {"name": "not-rpm", "facts": {"v": ""}},
  {"name": "not-semver", "facts": {"v": "1.2"}},
  {"name": "number", "facts": {"v": 2}},
  {"name": "float", "facts": {"v": 2.5}},
  {"name": "none"}
]"#,
    )
    .unwrap();
    let fleet = fleet.display().to_string();
    let eval = |expr: &str| {
        let out = run(&["eval", "--fleet", &fleet, expr]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    // dpkg: "1.2_3", "" and 2.5 are no Debian versions; 2 reads as "2".
    assert_eq!(eval(r#"facts.v < dpkg("9")"#), "good\nnot-semver\nnumber\n");
    assert_eq!(
        eval(r#"facts.v >= dpkg("0")"#),
        "good\nnot-semver\nnumber\n"
    );
    assert_eq!(
        eval(r#"facts.v != dpkg("1.2.3")"#),
        "not-dpkg\nnot-rpm\nnot-semver\nnumber\nfloat\n"
    );
    // rpm: every non-empty text is a version ("1.2_3" = "1.2.3").
    assert_eq!(eval(r#"facts.v = rpm("1.2.3")"#), "good\nnot-dpkg\n");
    assert_eq!(
        eval(r#"facts.v != rpm("1.2.3")"#),
        "not-rpm\nnot-semver\nnumber\nfloat\n"
    );
    // semver: "1.2" and the number 2 are no SemVer versions.
    assert_eq!(eval(r#"facts.v <= semver("9.0.0")"#), "good\n");
    assert_eq!(
        eval(r#"facts.v not in (semver("1.2.3"), semver("2.0.0"))"#),
        "not-dpkg\nnot-rpm\nnot-semver\nnumber\nfloat\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_says_which_order_compared_what() {
    let out = run(&[
        "explain",
        "--fleet",
        &root("examples/fleet.json"),
        "--host",
        &fleet_openssl()
            .into_iter()
            .find(|(_, v)| v.as_deref() == Some("3.0.2-0ubuntu1.10"))
            .unwrap()
            .0,
        r#"facts.packages.openssl < dpkg("3.0.2-0ubuntu1.15")"#,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(r#"dpkg order: "3.0.2-0ubuntu1.10" < "3.0.2-0ubuntu1.15""#),
        "{text}"
    );
}
