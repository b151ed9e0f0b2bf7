//! The command line's side of issue 12: `notice`, `windows`, `plan
//! --format ics|svg`, and plans of policies without business hours staying
//! byte-identical to what they were before business hours existed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_fleetscope");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const START: &str = "2026-11-23T08:00:00Z";

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(ROOT)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"))
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn temp_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("fleetscope-client-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn plans_without_business_hours_are_byte_identical_to_before() {
    let policy = "tests/fixtures/policy-without-hours.toml";
    let base = [
        "plan",
        policy,
        "--fleet",
        "examples/fleet.json",
        "--start",
        START,
    ];
    let text = ok(&base);
    let expected =
        std::fs::read_to_string(format!("{ROOT}/tests/fixtures/plan-without-hours.txt")).unwrap();
    assert!(text == expected, "text plan changed");
    let mut json_args = base.to_vec();
    json_args.extend(["--format", "json"]);
    let json = ok(&json_args);
    let expected =
        std::fs::read_to_string(format!("{ROOT}/tests/fixtures/plan-without-hours.json")).unwrap();
    assert!(json == expected, "JSON plan changed");
    assert!(!json.contains("after_hours_s") && !json.contains("\"cost\""));
}

#[test]
fn notices_carry_every_fact_for_a_tier_with_a_contact() {
    let out = ok(&[
        "notice",
        "examples/policy.toml",
        "--fleet",
        "examples/fleet.json",
        "--start",
        START,
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let notices = v["notices"].as_array().unwrap();
    let names: Vec<&str> = notices
        .iter()
        .map(|n| n["tier"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["test", "canary", "prod-web", "prod-db", "prod-rest"]
    );
    let plan: serde_json::Value = serde_json::from_str(&ok(&[
        "plan",
        "examples/policy.toml",
        "--fleet",
        "examples/fleet.json",
        "--start",
        START,
        "--format",
        "json",
    ]))
    .unwrap();
    for (n, tier) in notices.iter().zip(plan["tiers"].as_array().unwrap()) {
        assert_eq!(n["contact"], tier["contact"]);
        assert!(n["contact"]["name"].is_string());
        assert_eq!(n["notice_at"], tier["notice"]);
        assert_eq!(n["provider"], "Example Patching GmbH");
        assert_eq!(n["provider_phone"], "+49 30 5550 1000");
        assert!(n["unavailability"]
            .as_str()
            .unwrap()
            .contains("may be unavailable"));
        let risk = n["risk"].as_str().unwrap();
        assert!(
            risk.contains("errors or incompatibilities") && risk.contains("known vulnerabilities")
        );
        assert_eq!(n["cost"], tier["cost"]);
        assert_eq!(n["after_hours_s"], tier["after_hours_s"]);
        let batches = n["batches"].as_array().unwrap();
        let planned = tier["batches"].as_array().unwrap();
        assert_eq!(batches.len(), planned.len());
        for (b, p) in batches.iter().zip(planned) {
            assert_eq!(b["start"], p["start"]);
            assert_eq!(b["end"], p["end"]);
            assert_eq!(
                b["hosts"].as_u64().unwrap() as usize,
                p["hosts"].as_array().unwrap().len()
            );
            assert!(!b["roles"].as_array().unwrap().is_empty());
            assert_eq!(b["after_hours_s"], p["after_hours_s"]);
            assert_eq!(b["cost"], p["cost"]);
            for key in ["currency", "regular_s", "after_hours_s", "amount"] {
                assert!(!b["cost"][key].is_null(), "{key}");
            }
        }
    }

    let text = ok(&[
        "notice",
        "examples/policy.toml",
        "--fleet",
        "examples/fleet.json",
        "--start",
        START,
        "--tier",
        "canary",
    ]);
    for needle in [
        "Planned patching: canary",
        "To              Ops on call",
        "Phone           +1 555 0100",
        "Send by         Sat 2026-11-28 22:00 CET (2026-11-28 21:00 UTC)",
        "Hosts           48",
        "Roles           ",
        "batch 1: Mon 2026-11-30 22:00 CET (2026-11-30 21:00 UTC) → Mon 2026-11-30 23:00 CET (2026-11-30 22:00 UTC), 10 hosts",
        "may be unavailable",
        "known vulnerabilities open",
        "All 5h of the work falls after hours",
        "charged 937.50 EUR",
        "call Example Patching GmbH at +49 30 5550 1000",
        "Questions about this schedule?",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(
        !text.contains("Planned patching: test"),
        "only the named tier"
    );
    let md = ok(&[
        "notice",
        "examples/policy.toml",
        "--fleet",
        "examples/fleet.json",
        "--start",
        START,
        "--tier",
        "test",
        "--format",
        "markdown",
    ]);
    assert!(md.starts_with("# Planned patching: test\n"));
    assert!(md.contains("- **Email:** platform@example.com"));
}

#[test]
fn a_tier_without_a_contact_gets_a_clear_statement_not_an_error() {
    let policy = temp_file(
        "nocontact.toml",
        "[[tiers]]\nname = \"solo\"\nscope = \"true\"\n[[tiers]]\nname = \"nobody\"\nscope = \"role = none\"\n",
    );
    let fleet = temp_file("fleet.json", r#"[{"name": "a", "roles": ["web"]}]"#);
    let text = ok(&["notice", &policy, "--fleet", &fleet, "--start", START]);
    assert!(
        text.contains("tier `solo` has no contact in the policy, so this notice has no recipient"),
        "{text}"
    );
    assert!(text.contains("Roles           web"));
    assert!(text.contains("The work takes 1h in total."), "{text}");
    let json = ok(&[
        "notice", &policy, "--fleet", &fleet, "--start", START, "--format", "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v["notices"][0]["contact"].is_null());
    // A tier with no hosts: named, it gets a statement too.
    let text = ok(&[
        "notice", &policy, "--fleet", &fleet, "--start", START, "--tier", "nobody",
    ]);
    assert!(
        text.contains("tier `nobody` has no batches in this plan"),
        "{text}"
    );
    // An unknown tier is an error that lists the known ones.
    let o = run(&[
        "notice", &policy, "--fleet", &fleet, "--start", START, "--tier", "nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no tier `nope`; its tiers: solo, nobody"));
}

#[test]
fn plan_writes_calendars_and_pictures() {
    let base = [
        "plan",
        "examples/policy.toml",
        "--fleet",
        "examples/fleet.json",
        "--start",
        START,
    ];
    let mut ics = base.to_vec();
    ics.extend(["--format", "ics"]);
    let cal = ok(&ics);
    assert!(cal.starts_with("BEGIN:VCALENDAR\r\n") && cal.ends_with("END:VCALENDAR\r\n"));
    // The policy file's name names the calendar unless told otherwise.
    assert!(cal.contains("UID:test.1.policy@fleetscope\r\n"));
    assert_eq!(ok(&ics), cal, "deterministic");
    ics.extend(["--calendar-id", "acme-2026-12"]);
    assert!(ok(&ics).contains("UID:test.1.acme-2026-12@fleetscope\r\n"));
    let mut svg = base.to_vec();
    svg.extend(["--format", "svg"]);
    let picture = ok(&svg);
    assert!(picture.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(picture.trim_end().ends_with("</svg>"));
}

#[test]
fn windows_lists_occurrences_and_marks_blackouts() {
    let text = ok(&[
        "windows",
        "examples/policy.toml",
        "--from",
        "2026-12-14T00:00:00Z",
        "--count",
        "4",
    ]);
    assert!(
        text.contains("window weekend — weekly sat,sun at 02:00 for 4h (Europe/Berlin)"),
        "{text}"
    );
    assert!(text.contains("Sat 2026-12-19 02:00 CET → 06:00 CET   2026-12-19 01:00 UTC → 2026-12-19 05:00 UTC   overlaps blackout `year-end freeze`"), "{text}");
    assert!(text.contains("Sun 2026-12-20 02:00 CET"));
    let json = ok(&[
        "windows",
        "examples/policy.toml",
        "--from",
        "2026-12-14T00:00:00Z",
        "--count",
        "4",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let listings = v.as_array().unwrap();
    assert_eq!(listings.len(), 3);
    for l in listings {
        assert_eq!(l["occurrences"].as_array().unwrap().len(), 4);
    }
    let weekend = listings.iter().find(|l| l["window"] == "weekend").unwrap();
    assert_eq!(
        weekend["occurrences"][0]["local_start"],
        "2026-12-19T02:00:00+01:00"
    );
    assert_eq!(weekend["occurrences"][0]["start"], "2026-12-19T01:00:00Z");
    assert_eq!(weekend["occurrences"][0]["blackout"], "year-end freeze");
    let nyc = listings
        .iter()
        .find(|l| l["window"] == "patch-weekend")
        .unwrap();
    assert!(nyc["occurrences"][0]["blackout"].is_null());
    let o = run(&["windows", "examples/policy.toml", "--count", "0"]);
    assert_eq!(o.status.code(), Some(2));
}
