//! Plans (ROLLOUT.md rules 2 to 5, 7, 9, 10) as a patch tool or a policy
//! author sees them, plus property tests over random policies and fleets.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use chrono::{DateTime, TimeDelta, Utc};
use fleetscope::rollout::calendar::{Availability, Blackouts};
use fleetscope::rollout::{Plan, PlanError, Policy};
use fleetscope::{reference, Fleet, Host, IndexedFleet};
use proptest::prelude::*;

fn at(text: &str) -> DateTime<Utc> {
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => t.to_utc(),
        Err(e) => panic!("bad instant {text}: {e}"),
    }
}

fn host(name: &str, env: Option<&str>, extra: &[(&str, &str)]) -> Host {
    let mut h = Host::named(name);
    if let Some(env) = env {
        h.tags.insert("env".into(), env.into());
    }
    for (k, v) in extra {
        h.tags.insert((*k).into(), (*v).into());
    }
    h
}

fn policy(text: &str) -> Policy {
    match Policy::from_toml("test.toml", text) {
        Ok(p) => p,
        Err(e) => panic!("{}", e.render()),
    }
}

fn fleet(hosts: Vec<Host>) -> Fleet {
    match Fleet::new(hosts) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    }
}

/// Plans through the indexed engine, as every caller does.
fn plan_for(
    p: &Policy,
    f: &Fleet,
    start: DateTime<Utc>,
    severity: &str,
) -> Result<Plan, PlanError> {
    Plan::new(p, &IndexedFleet::new(f.clone()), start, severity)
}

fn plan(p: &Policy, f: &Fleet, start: &str, severity: &str) -> Plan {
    match plan_for(p, f, at(start), severity) {
        Ok(plan) => plan,
        Err(e) => panic!("{e}"),
    }
}

const TWO_TIERS: &str = r#"
[defaults]
batch = "25%"
batch_duration = "1h"
soak = "24h"
notice = "2h"

[[tiers]]
name = "test"
scope = "tags.env = test"
batch = "100%"

[[tiers]]
name = "prod"
scope = "tags.env = prod"
after = ["test"]
"#;

#[test]
fn percent_batches_round_up_and_the_plan_says_so() {
    let hosts = (0..7)
        .map(|i| host(&format!("p{i}"), Some("prod"), &[]))
        .collect();
    let p = policy(TWO_TIERS);
    let plan = plan(&p, &fleet(hosts), "2026-11-23T08:00:00Z", "normal");
    let prod = &plan.tiers[1];
    assert_eq!(prod.batch_size, 2, "25% of 7 hosts is batches of 2");
    let sizes: Vec<usize> = prod.batches.iter().map(|b| b.hosts.len()).collect();
    assert_eq!(sizes, [2, 2, 2, 1]);
    assert!(
        plan.to_string().contains("batch 25% of 7 hosts = 2"),
        "{plan}"
    );
}

#[test]
fn timing_follows_soak_notice_and_sequential_batches() {
    let hosts = vec![
        host("t1", Some("test"), &[]),
        host("p1", Some("prod"), &[]),
        host("p2", Some("prod"), &[]),
    ];
    let plan = plan(
        &policy(TWO_TIERS),
        &fleet(hosts),
        "2026-11-23T08:00:00Z",
        "normal",
    );
    let test = &plan.tiers[0];
    // Notice (2h) is honoured from the plan's start: first batch at 10:00.
    assert_eq!(test.ready, at("2026-11-23T08:00:00Z"));
    assert_eq!(test.batches[0].start, at("2026-11-23T10:00:00Z"));
    assert_eq!(test.notice, Some(at("2026-11-23T08:00:00Z")));
    assert_eq!(test.finish, at("2026-11-23T11:00:00Z"));
    let prod = &plan.tiers[1];
    // Ready when test has finished and soaked 24h.
    assert_eq!(prod.ready, at("2026-11-24T11:00:00Z"));
    assert_eq!(prod.notice, Some(at("2026-11-24T09:00:00Z")));
    assert_eq!(prod.batches[0].start, at("2026-11-24T11:00:00Z"));
    assert_eq!(prod.batches[1].start, at("2026-11-24T12:00:00Z"));
    assert_eq!(prod.finish, at("2026-11-24T13:00:00Z"));
    assert_eq!(prod.wave, 1);
}

#[test]
fn each_host_joins_the_first_tier_and_coverage_is_reported() {
    let text = r#"
[[tiers]]
name = "canary"
scope = "tags.ring = 0"
[[tiers]]
name = "prod"
scope = "tags.env = prod"
after = ["canary"]
[[tiers]]
name = "lab"
scope = "tags.env = lab"
"#;
    let hosts = vec![
        host("a", Some("prod"), &[("ring", "0")]),
        host("b", Some("prod"), &[]),
        host("c", None, &[]),
        host("d", Some("dev"), &[("ring", "0")]),
    ];
    let plan = plan(
        &policy(text),
        &fleet(hosts),
        "2026-11-23T08:00:00Z",
        "normal",
    );
    let names: Vec<&str> = plan.tiers.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["canary", "prod", "lab"], "rollout order");
    assert_eq!(plan.tiers[0].hosts, ["a", "d"]);
    assert_eq!(plan.tiers[1].hosts, ["b"]);
    assert_eq!(plan.unassigned, ["c"]);
    assert_eq!(plan.overlaps.len(), 1);
    assert_eq!(plan.overlaps[0].host, "a");
    assert_eq!(plan.overlaps[0].tiers, ["canary", "prod"]);
    assert_eq!(plan.empty_tiers, ["lab"]);
    let lab = &plan.tiers[2];
    assert!(lab.batches.is_empty() && lab.notice.is_none());
    assert_eq!(
        lab.finish, lab.ready,
        "an empty tier finishes when it is ready"
    );
    assert!(plan
        .warnings
        .iter()
        .any(|w| w.contains("tier `lab` has no hosts")));
}

#[test]
fn exclusive_policies_reject_overlap() {
    let text = "exclusive = true\n[[tiers]]\nname = \"a\"\nscope = \"true\"\n[[tiers]]\nname = \"b\"\nscope = \"name = x\"\n";
    let err = plan_for(
        &policy(text),
        &fleet(vec![host("x", None, &[])]),
        at("2026-11-23T08:00:00Z"),
        "normal",
    )
    .expect_err("overlap is an error");
    assert_eq!(
        err,
        PlanError::Overlap {
            count: 1,
            host: "x".into(),
            tiers: vec!["a".into(), "b".into()]
        }
    );
}

#[test]
fn unknown_severity_is_an_error_listing_known_ones() {
    let text = format!("{TWO_TIERS}\n[severity.critical]\nsoak = \"1h\"\n");
    let err = plan_for(
        &policy(&text),
        &fleet(vec![]),
        at("2026-11-23T08:00:00Z"),
        "urgent",
    )
    .expect_err("unknown");
    assert_eq!(
        err.to_string(),
        "unknown severity `urgent`; known: normal, critical"
    );
}

#[test]
fn max_unavailable_limits_each_group_per_batch() {
    let text = r#"
[[tiers]]
name = "web"
scope = "true"
batch = 4
max_unavailable = { per = "tags.cluster", count = 1 }
"#;
    let hosts = vec![
        host("a1", None, &[("cluster", "a")]),
        host("a2", None, &[("cluster", "a")]),
        host("a3", None, &[("cluster", "a")]),
        host("b1", None, &[("cluster", "b")]),
        host("n1", None, &[]),
        host("n2", None, &[]),
        host("n3", None, &[]),
    ];
    let plan = plan(
        &policy(text),
        &fleet(hosts),
        "2026-11-23T08:00:00Z",
        "normal",
    );
    let batches: Vec<Vec<&str>> = plan.tiers[0]
        .batches
        .iter()
        .map(|b| b.hosts.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        batches,
        vec![vec!["a1", "b1", "n1", "n2"], vec!["a2", "n3"], vec!["a3"]]
    );
}

#[test]
fn batches_respect_windows_blackouts_and_dst() {
    // Daily 01:30-03:30 in New York; 2026-11-01 01:30 happens twice (the
    // earlier, EDT, is used). A blackout covers 2026-11-02 local.
    let text = r#"
timezone = "America/New_York"
[windows.night]
every = "daily at 01:30"
duration = "2h"
[[blackouts]]
name = "audit"
from = "2026-11-02"
to = "2026-11-03"
[[tiers]]
name = "all"
scope = "true"
window = "night"
batch = 1
batch_duration = "90m"
"#;
    let hosts = (0..3).map(|i| host(&format!("h{i}"), None, &[])).collect();
    let plan = plan(
        &policy(text),
        &fleet(hosts),
        "2026-10-31T12:00:00Z",
        "normal",
    );
    let starts: Vec<DateTime<Utc>> = plan.tiers[0].batches.iter().map(|b| b.start).collect();
    assert_eq!(
        starts,
        [
            at("2026-11-01T05:30:00Z"), // 01:30 EDT, the earlier of the fold
            at("2026-11-03T06:30:00Z"), // 11-02 is blacked out; 01:30 EST
            at("2026-11-04T06:30:00Z"),
        ]
    );
}

#[test]
fn approval_is_marked_and_severity_overrides_tier_settings() {
    let text = format!(
        "{}\n[severity.critical]\nsoak = \"2h\"\nbatch = \"100%\"\napproval = false\n",
        TWO_TIERS.replace(
            "after = [\"test\"]",
            "after = [\"test\"]\napproval = true\nbatch = 1"
        )
    );
    let p = policy(&text);
    let hosts = vec![
        host("t", Some("test"), &[]),
        host("p1", Some("prod"), &[]),
        host("p2", Some("prod"), &[]),
    ];
    let f = fleet(hosts);
    let normal = plan(&p, &f, "2026-11-23T08:00:00Z", "normal");
    assert!(normal.tiers[1].approval);
    assert_eq!(normal.tiers[1].batches.len(), 2);
    let critical = plan(&p, &f, "2026-11-23T08:00:00Z", "critical");
    assert!(!critical.tiers[1].approval);
    assert_eq!(
        critical.tiers[1].batches.len(),
        1,
        "severity's batch beats the tier's own"
    );
    assert_eq!(
        critical.tiers[1].ready,
        critical.tiers[0].finish + TimeDelta::hours(2)
    );
}

#[test]
fn replanning_shows_which_hosts_came_and_went() {
    let p = policy(TWO_TIERS);
    let before = plan(
        &p,
        &fleet(vec![
            host("p1", Some("prod"), &[]),
            host("p2", Some("prod"), &[]),
        ]),
        "2026-11-23T08:00:00Z",
        "normal",
    );
    let after = plan(
        &p,
        &fleet(vec![
            host("p2", Some("prod"), &[]),
            host("p3", Some("prod"), &[]),
        ]),
        "2026-11-23T08:00:00Z",
        "normal",
    );
    let changes = after.changes_since(&before);
    let prod = changes
        .iter()
        .find(|c| c.tier == "prod")
        .expect("prod tier");
    assert_eq!(prod.came, ["p3"]);
    assert_eq!(prod.went, ["p1"]);
}

#[test]
fn plans_round_trip_through_json() {
    let p = policy(TWO_TIERS);
    let f = fleet(vec![
        host("t", Some("test"), &[]),
        host("p", Some("prod"), &[]),
    ]);
    let plan = plan(&p, &f, "2026-11-23T08:00:00Z", "normal");
    let json = plan.to_json().unwrap();
    let back: Plan = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, plan);
    // The JSON contract's keys.
    let value: serde_json::Value = serde_json::from_str(&json).expect("json");
    let tier = &value["tiers"][1];
    for key in [
        "name", "wave", "ready", "notice", "finish", "approval", "hosts", "batches",
    ] {
        assert!(tier.get(key).is_some(), "missing tier key {key}");
    }
    for key in ["start", "end", "hosts"] {
        assert!(
            tier["batches"][0].get(key).is_some(),
            "missing batch key {key}"
        );
    }
    assert!(value["unassigned"].is_array() && value["overlaps"].is_array());
    assert_eq!(tier["ready"], "2026-11-24T11:00:00Z");
}

// ---------------------------------------------------------------------------
// Properties over random policies and fleets.

const ZONES: [&str; 3] = ["UTC", "Europe/Berlin", "America/New_York"];
const WINDOWS: [(&str, &str, u32); 4] = [
    ("nightly", "daily at 01:30", 3),
    ("weekend", "weekly sat,sun at 02:00", 4),
    ("patch", "monthly second tue +4d at 01:00", 6),
    ("late", "weekly mon,wed at 23:30", 2),
];
const SCOPES: [&str; 7] = [
    "tags.env = test",
    "tags.env = prod",
    "tags.env = prod and tags.ring = 0",
    "role = web",
    "tags.env != prod",
    "true",
    "tags.cluster in (c1, c2)",
];

#[derive(Debug, Clone)]
struct TierSpec {
    scope: usize,
    after: Vec<usize>,
    batch: (bool, u32),
    minutes: u32,
    window: Option<usize>,
    soak_h: u32,
    notice_h: u32,
    limit: Option<u32>,
    approval: bool,
}

fn tier_spec(index: usize) -> impl Strategy<Value = TierSpec> {
    (
        0..SCOPES.len(),
        proptest::collection::vec(0..index.max(1), 0..3),
        (any::<bool>(), 1u32..100),
        1u32..=4,
        proptest::option::of(0..WINDOWS.len()),
        0u32..48,
        0u32..72,
        proptest::option::of(1u32..3),
        any::<bool>(),
    )
        .prop_map(
            move |(scope, after, batch, quarters, window, soak_h, notice_h, limit, approval)| {
                TierSpec {
                    scope,
                    after: if index == 0 { Vec::new() } else { after },
                    batch,
                    minutes: quarters * 30,
                    window,
                    soak_h,
                    notice_h,
                    limit,
                    approval,
                }
            },
        )
}

fn policy_text(zone: usize, tiers: &[TierSpec], blackout: Option<(u32, u32)>) -> String {
    let mut t = format!("timezone = \"{}\"\n", ZONES[zone]);
    for (i, (name, every, hours)) in WINDOWS.iter().enumerate() {
        t.push_str(&format!(
            "[windows.{name}]\nevery = \"{every}\"\nduration = \"{hours}h\"\ntimezone = \"{}\"\n",
            ZONES[i % ZONES.len()]
        ));
    }
    if let Some((day, len)) = blackout {
        let from = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default()
            + TimeDelta::days(i64::from(day));
        let to = from + TimeDelta::days(i64::from(len));
        t.push_str(&format!(
            "[[blackouts]]\nname = \"freeze\"\nfrom = \"{from}\"\nto = \"{to}\"\n"
        ));
    }
    for (i, spec) in tiers.iter().enumerate() {
        let window = spec.window.map_or("any", |w| WINDOWS[w].0);
        // A batch must fit its window; keep it within the shortest one.
        let minutes = spec.minutes.min(120);
        let batch = if spec.batch.0 {
            format!("\"{}%\"", spec.batch.1)
        } else {
            (spec.batch.1 % 7 + 1).to_string()
        };
        let after: Vec<String> = spec.after.iter().map(|a| format!("\"t{a}\"")).collect();
        t.push_str(&format!(
            "[[tiers]]\nname = \"t{i}\"\nscope = \"{}\"\nafter = [{}]\nwindow = \"{window}\"\nbatch = {batch}\nbatch_duration = \"{minutes}m\"\nsoak = \"{}h\"\nnotice = \"{}h\"\napproval = {}\n",
            SCOPES[spec.scope],
            after.join(", "),
            spec.soak_h,
            spec.notice_h,
            spec.approval
        ));
        if let Some(limit) = spec.limit {
            t.push_str(&format!(
                "max_unavailable = {{ per = \"tags.cluster\", count = {limit} }}\n"
            ));
        }
    }
    t
}

fn random_fleet() -> impl Strategy<Value = Vec<Host>> {
    proptest::collection::vec(
        (
            proptest::option::of(prop_oneof![Just("test"), Just("prod"), Just("dev")]),
            proptest::option::of(0u8..3),
            proptest::option::of(0u8..2),
            any::<bool>(),
        ),
        0..40,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(|(i, (env, cluster, ring, web))| {
                let mut h = Host::named(format!("h{i:02}"));
                if let Some(env) = env {
                    h.tags.insert("env".into(), env.into());
                }
                if let Some(c) = cluster {
                    h.tags.insert("cluster".into(), format!("c{c}"));
                }
                if let Some(r) = ring {
                    h.tags.insert("ring".into(), r.to_string());
                }
                if web {
                    h.roles.push("web".into());
                }
                h
            })
            .collect()
    })
}

fn scenario() -> impl Strategy<Value = (String, Vec<Host>, i64)> {
    (1usize..5)
        .prop_flat_map(|n| {
            let tiers: Vec<_> = (0..n).map(tier_spec).collect();
            (
                0..ZONES.len(),
                tiers,
                proptest::option::of((0u32..60, 1u32..10)),
                random_fleet(),
                0i64..(400 * 24),
            )
        })
        .prop_map(|(zone, tiers, blackout, hosts, start_hours)| {
            (policy_text(zone, &tiers, blackout), hosts, start_hours)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn plans_obey_the_rules((text, hosts, start_hours) in scenario()) {
        let policy = match Policy::from_toml("random.toml", &text) {
            Ok(p) => p,
            Err(e) => return Err(TestCaseError::fail(format!("{}\n{text}", e.render()))),
        };
        let fleet = fleet(hosts);
        let start = at("2026-10-01T00:00:00Z") + TimeDelta::hours(start_hours);
        let plan = plan_for(&policy, &fleet, start, "normal").map_err(|e| TestCaseError::fail(e.to_string()))?;

        // Deterministic: byte-identical JSON, also from a reloaded fleet.
        let again = plan_for(&policy, &Fleet::new(fleet.hosts().to_vec()).map_err(|e| TestCaseError::fail(e.to_string()))?, start, "normal")
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(plan.to_json().unwrap(), again.to_json().unwrap());

        // No host in two tiers or two batches; every tier host in exactly one batch.
        let mut seen = std::collections::BTreeSet::new();
        for tier in &plan.tiers {
            let mut in_batches: Vec<&String> = tier.batches.iter().flat_map(|b| &b.hosts).collect();
            in_batches.sort();
            let mut listed: Vec<&String> = tier.hosts.iter().collect();
            listed.sort();
            prop_assert_eq!(in_batches, listed, "tier {} batches hold exactly its hosts", tier.name);
            for h in &tier.hosts {
                prop_assert!(seen.insert(h.clone()), "host {} in two tiers", h);
            }
        }
        // Assignment: first tier in rollout order whose scope selects the host.
        for h in fleet.hosts() {
            let first = policy.order().iter().map(|t| &policy.tiers()[*t]).find(|t| reference::matches(&t.scope, h, start));
            let planned = plan.tiers.iter().find(|t| t.hosts.contains(&h.name)).map(|t| t.name.as_str());
            prop_assert_eq!(first.map(|t| t.name.as_str()), planned);
            prop_assert_eq!(first.is_none(), plan.unassigned.contains(&h.name));
        }

        let blackouts: Blackouts = plan.blackout_intervals();
        let mut finish = std::collections::BTreeMap::new();
        for tier in &plan.tiers {
            let policy_tier = policy.tier_index(&tier.name).ok_or_else(|| TestCaseError::fail("tier"))?;
            // Never before the predecessors' finish plus soak.
            for pred in &tier.after {
                let (pf, soak): &(DateTime<Utc>, TimeDelta) = finish.get(pred).ok_or_else(|| TestCaseError::fail("predecessor planned later"))?;
                prop_assert!(tier.ready >= *pf + *soak);
            }
            prop_assert!(tier.ready >= start);
            let availability = tier.window.availability().ok_or_else(|| TestCaseError::fail("window spec"))?;
            let mut previous_end = tier.ready;
            for batch in &tier.batches {
                prop_assert!(batch.hosts.len() <= tier.batch_size);
                prop_assert!(batch.start >= previous_end, "batches run one after another");
                prop_assert_eq!(batch.end - batch.start, tier.batch_duration);
                prop_assert!(blackouts.overlapping(batch.start, batch.end).is_none(), "batch in a blackout");
                if let Availability::Window(w) = &availability {
                    let inside = w
                        .occurrences(batch.start - w.duration)
                        .take_while(|o| o.start <= batch.start)
                        .any(|o| o.start <= batch.start && batch.end <= o.end);
                    prop_assert!(inside, "batch {:?} outside window {}", batch, tier.window.name);
                }
                previous_end = batch.end;
            }
            if let Some(first) = tier.batches.first() {
                prop_assert!(first.start >= start + tier.notice_period, "notice honoured from the start");
                prop_assert_eq!(tier.notice, Some(first.start - tier.notice_period));
            }
            // Group limits.
            if let Some(limit) = &tier.max_unavailable {
                for batch in &tier.batches {
                    let mut counts = std::collections::BTreeMap::new();
                    for name in &batch.hosts {
                        if let Some(c) = fleet.get(name).and_then(|h| h.tags.get("cluster")) {
                            *counts.entry(c.clone()).or_insert(0usize) += 1;
                        }
                    }
                    prop_assert!(counts.values().all(|c| *c <= limit.count), "{:?}", counts);
                }
            }
            let settings = policy.settings(policy_tier, "normal");
            finish.insert(tier.name.clone(), (tier.finish, settings.soak));
        }
    }
}

#[test]
fn a_start_at_the_end_of_time_is_an_error_not_a_panic() {
    let p = policy(TWO_TIERS);
    let f = fleet(vec![
        host("t", Some("test"), &[]),
        host("p", Some("prod"), &[]),
    ]);
    let end = DateTime::<Utc>::MAX_UTC - TimeDelta::hours(4); // the 24h soak crosses the end
    match plan_for(&p, &f, end, "normal") {
        Ok(plan) => panic!("planned past the end of time: {plan:?}"),
        Err(e) => assert!(
            matches!(e, PlanError::OutOfRange { .. } | PlanError::NoSlot { .. }),
            "{e}"
        ),
    }
}

#[test]
fn large_tiers_keep_fleet_order_and_exact_overlaps() {
    // Above the size where names and overlap records are built in parallel.
    let text = "[[tiers]]\nname = \"a\"\nscope = \"tags.env = prod\"\n[[tiers]]\nname = \"b\"\nscope = \"true\"\nafter = [\"a\"]\n";
    let hosts: Vec<Host> = (0..70_000)
        .map(|i| host(&format!("h{i:05}"), (i % 3 != 0).then_some("prod"), &[]))
        .collect();
    let f = fleet(hosts);
    let p = policy(text);
    let first = plan(&p, &f, "2026-11-23T08:00:00Z", "normal");
    let expected_a: Vec<String> = (0..70_000)
        .filter(|i| i % 3 != 0)
        .map(|i| format!("h{i:05}"))
        .collect();
    assert_eq!(first.tiers[0].hosts, expected_a);
    assert_eq!(first.tiers[1].hosts.len(), 70_000 - expected_a.len());
    assert_eq!(first.overlaps.len(), expected_a.len());
    for (o, name) in first.overlaps.iter().zip(&expected_a) {
        assert_eq!(&o.host, name);
        assert_eq!(o.tiers, ["a", "b"]);
    }
    let again = plan(&p, &f, "2026-11-23T08:00:00Z", "normal");
    assert_eq!(first.to_json().unwrap(), again.to_json().unwrap());
}
