//! Telling the client (issue 12), as a policy author or an embedding tool
//! sees it: after-hours time and cost against a plain minute-by-minute
//! count, totals, policy errors, the calendar file read back by an
//! independent parser, and the timeline picture checked against the plan.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use fleetscope::output::{ics, svg};
use fleetscope::rollout::calendar::BusinessHours;
use fleetscope::rollout::{Money, Rates};
use fleetscope::rollout::{Plan, Policy};
use fleetscope::{Fleet, IndexedFleet};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

// ---------------------------------------------------------------------------
// After-hours time and cost against a plain count.

/// Minute by minute: is the minute starting at `t` inside business hours,
/// read straight off its local time in `zone`.
fn minute_is_business(
    t: DateTime<Utc>,
    zone: Tz,
    days: &[bool; 7],
    open_min: u32,
    close_min: u32,
    holidays: &[NaiveDate],
) -> bool {
    let local = t.with_timezone(&zone);
    let minute = local.hour() * 60 + local.minute();
    days[local.weekday().num_days_from_monday() as usize]
        && !holidays.contains(&local.date_naive())
        && open_min <= minute
        && minute < close_min
}

const ZONES: [Tz; 3] = [
    chrono_tz::America::New_York,
    chrono_tz::Europe::Berlin,
    // A half-hour DST shift: exactness is not only about whole hours.
    chrono_tz::Australia::Lord_Howe,
];

/// Instants near DST changes of all three zones in 2026 and 2027.
fn near_dst() -> impl Strategy<Value = DateTime<Utc>> {
    let anchors = [
        "2026-03-08T07:00:00Z", // New York springs forward
        "2026-11-01T06:00:00Z", // New York falls back
        "2026-03-29T01:00:00Z", // Berlin forward
        "2026-10-25T01:00:00Z", // Berlin back
        "2026-04-04T15:00:00Z", // Lord Howe back (half an hour)
        "2026-10-03T15:30:00Z", // Lord Howe forward
        "2026-12-24T12:00:00Z", // holidays, no DST
        "2027-03-14T07:00:00Z",
    ];
    (0..anchors.len(), -3 * 24 * 60..3 * 24 * 60i64)
        .prop_map(move |(i, minutes)| at(anchors[i]) + TimeDelta::minutes(minutes))
}

fn days_strategy() -> impl Strategy<Value = [bool; 7]> {
    prop::array::uniform7(any::<bool>()).prop_filter("some business day", |d| d.contains(&true))
}

fn day_list(days: &[bool; 7]) -> String {
    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    names
        .iter()
        .zip(days)
        .filter(|(_, on)| **on)
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn after_hours_and_cost_match_a_minute_by_minute_count(
        zone in 0..ZONES.len(),
        days in days_strategy(),
        open in 0u32..24 * 4,
        length in 1u32..24 * 4,
        holiday_offsets in prop::collection::vec(-3i64..4, 0..3),
        batches in prop::collection::vec((near_dst(), 1i64..36 * 60), 1..6),
        regular in 0u64..100_000,
        after in 0u64..100_000,
    ) {
        let zone = ZONES[zone];
        // Opening and closing on quarter hours, closing by midnight.
        let open_min = open * 15;
        let close_min = (open_min + length * 15).min(24 * 60);
        prop_assume!(close_min > open_min);
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        let first = batches[0].0.with_timezone(&zone).date_naive();
        let holidays: Vec<NaiveDate> = holiday_offsets
            .iter()
            .map(|d| first + TimeDelta::days(*d))
            .collect();
        let hours = BusinessHours::new(
            [day_list(&days).as_str()],
            &format!("{}-{}", hm(open_min), hm(close_min)),
            zone,
            holidays.clone(),
        ).unwrap();
        let rates = Rates { currency: "USD".into(), regular, after_hours: after };
        let mut parts = Vec::new();
        let (mut sum_regular, mut sum_after) = (0u64, 0u64);
        for (start, minutes) in &batches {
            let end = *start + TimeDelta::minutes(*minutes);
            let mut expected_after = 0u64;
            let mut t = *start;
            while t < end {
                if !minute_is_business(t, zone, &days, open_min, close_min, &holidays) {
                    expected_after += 60;
                }
                t += TimeDelta::minutes(1);
            }
            let total = (*minutes as u64) * 60;
            prop_assert_eq!(hours.after_hours_seconds(*start, end), expected_after);
            prop_assert_eq!(hours.business_seconds(*start, end), total - expected_after);
            let cost = rates.price(total - expected_after, expected_after);
            // Exact: cents per hour times seconds, nothing rounded.
            prop_assert_eq!(
                cost.amount.cent_seconds(),
                u128::from(regular) * u128::from(total - expected_after)
                    + u128::from(after) * u128::from(expected_after)
            );
            sum_regular += total - expected_after;
            sum_after += expected_after;
            parts.push(cost);
        }
        let total = fleetscope::rollout::Cost::total(&parts).unwrap();
        prop_assert_eq!(total.regular_s, sum_regular);
        prop_assert_eq!(total.after_hours_s, sum_after);
        prop_assert_eq!(
            total.amount,
            parts.iter().map(|c| c.amount).sum::<Money>()
        );
        // Rounded once: half-up of the exact sum, which may differ from
        // the sum of the rounded parts.
        let exact = total.amount.cent_seconds();
        prop_assert_eq!(total.amount.rounded_cents(), (exact + 1800) / 3600);
    }
}

// ---------------------------------------------------------------------------
// Plans of the bundled example.

fn example_policy() -> Policy {
    Policy::load(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/policy.toml")).unwrap()
}

fn example_fleet() -> Fleet {
    Fleet::load(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/fleet.json")).unwrap()
}

fn example_plan(severity: &str) -> Plan {
    let fleet = IndexedFleet::new(example_fleet());
    Plan::new(
        &example_policy(),
        &fleet,
        at("2026-11-23T08:00:00Z"),
        severity,
    )
    .unwrap()
}

#[test]
fn totals_are_the_exact_sums_of_their_parts() {
    for severity in ["normal", "critical"] {
        let plan = example_plan(severity);
        let hours = example_policy().terms().business_hours.clone().unwrap();
        let mut plan_amount = Money::ZERO;
        let mut plan_after = 0;
        for tier in &plan.tiers {
            let mut amount = Money::ZERO;
            let mut after = 0;
            for b in &tier.batches {
                let a = b.after_hours_s.unwrap();
                assert_eq!(a, hours.after_hours_seconds(b.start, b.end));
                let c = b.cost.as_ref().unwrap();
                assert_eq!(c.after_hours_s, a);
                assert_eq!(
                    c.regular_s + c.after_hours_s,
                    (b.end - b.start).num_seconds() as u64
                );
                amount = amount + c.amount;
                after += a;
            }
            let tc = tier.cost.as_ref().unwrap();
            assert_eq!(tc.amount, amount, "tier {}", tier.name);
            assert_eq!(tier.after_hours_s, Some(after));
            assert_eq!(tc.after_hours_s, after);
            assert_eq!(tc.currency, "EUR");
            plan_amount = plan_amount + amount;
            plan_after += after;
        }
        assert_eq!(plan.cost.as_ref().unwrap().amount, plan_amount);
        assert_eq!(plan.after_hours_s, Some(plan_after));
    }
    // The critical plan runs some batches in business hours: both rates
    // are in play, and the amounts differ from an all-after-hours price.
    let plan = example_plan("critical");
    let cost = plan.cost.unwrap();
    assert!(cost.regular_s > 0 && cost.after_hours_s > 0, "{cost:?}");
    assert_eq!(
        cost.amount,
        Money::for_time(15_000, cost.regular_s) + Money::for_time(18_750, cost.after_hours_s)
    );
}

#[test]
fn the_text_plan_shows_after_hours_and_cost_per_tier_and_in_total() {
    let text = example_plan("critical").to_string();
    let tiers = text.matches("    after hours: ").count();
    assert_eq!(tiers, 5, "{text}");
    assert!(text.contains("\nTotal\n  business hours: mon,tue,wed,thu,fri 08:00-18:00 Europe/Berlin\n  after hours: "), "{text}");
    assert!(text.contains(" EUR\n"), "{text}");
}

fn policy_error(extra: &str) -> String {
    let base = "[[tiers]]\nname = \"all\"\nscope = \"true\"\n";
    match Policy::from_toml("p.toml", &format!("{base}{extra}")) {
        Ok(_) => panic!("accepted: {extra}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_terms_are_errors_with_key_paths() {
    let e = policy_error("[business_hours]\ndays = \"mon-fry\"\nhours = \"08:00-18:00\"\n");
    assert!(
        e.contains("business_hours.days: `mon-fry` is not a day"),
        "{e}"
    );
    let e = policy_error("[business_hours]\ndays = \"mon\"\nhours = \"18:00-08:00\"\n");
    assert!(
        e.contains("business_hours.hours:") && e.contains("cross midnight"),
        "{e}"
    );
    let e = policy_error("[business_hours]\ndays = [\"mon\"]\nhours = \"08:00-18:00\"\ntimezone = \"Europe/Berln\"\nholidays = [\"2026-13-01\"]\n");
    assert!(
        e.contains("business_hours.timezone:") && e.contains("Europe/Berlin"),
        "{e}"
    );
    assert!(
        e.contains("business_hours.holidays[0]: `2026-13-01` is not a date"),
        "{e}"
    );
    let e = policy_error("[cost]\ncurrency = \"USD\"\nregular = 1\nafter_hours = 2\n");
    assert!(
        e.contains("cost: [cost] prices time") && e.contains("no [business_hours]"),
        "{e}"
    );
    let e = policy_error("[business_hours]\ndays = \"mon-fri\"\nhours = \"08:00-18:00\"\n[cost]\ncurrency = \"dollars\"\nregular = 150.125\nafter_hours = -3\n");
    assert!(
        e.contains("cost.currency: `dollars` is not a currency code"),
        "{e}"
    );
    assert!(
        e.contains("cost.regular: `150.125` is not an hourly rate"),
        "{e}"
    );
    assert!(
        e.contains("cost.after_hours: `-3` is not an hourly rate"),
        "{e}"
    );
    let e = policy_error("[notice]\nprovider = \"x\"\nfax = \"1\"\n");
    assert!(
        e.contains("notice") && e.contains("unknown field `fax`"),
        "{e}"
    );
    // Rates as integers, two-place floats and strings are all exact.
    let ok = "[[tiers]]\nname = \"all\"\nscope = \"true\"\n[business_hours]\ndays = \"mon-fri\"\nhours = \"08:00-18:00\"\n[cost]\ncurrency = \"USD\"\nregular = 150.55\nafter_hours = \"225.10\"\n";
    let p = Policy::from_toml("p.toml", ok).unwrap();
    let rates = p.terms().rates.clone().unwrap();
    assert_eq!((rates.regular, rates.after_hours), (15_055, 22_510));
    // Business hours default to the policy's zone.
    assert_eq!(
        p.terms().business_hours.as_ref().unwrap().timezone(),
        Tz::UTC
    );
}

// ---------------------------------------------------------------------------
// Calendar files, read back with an independent parser (the `ical` crate).

/// A property's parameters as the `ical` crate gives them.
type Params = Vec<(String, Vec<String>)>;

struct ParsedEvent {
    props: BTreeMap<String, String>,
    attendees: Vec<(Params, String)>,
}

fn parse_ics(text: &str) -> Vec<ParsedEvent> {
    let mut parser = ical::IcalParser::new(text.as_bytes());
    let cal = parser.next().expect("one calendar").expect("parses");
    assert!(parser.next().is_none(), "exactly one calendar");
    cal.events
        .iter()
        .map(|e| {
            let mut props = BTreeMap::new();
            let mut attendees = Vec::new();
            for p in &e.properties {
                let value = p.value.clone().unwrap_or_default();
                if p.name == "ATTENDEE" {
                    attendees.push((p.params.clone().unwrap_or_default(), value));
                } else {
                    assert!(
                        props.insert(p.name.clone(), value).is_none(),
                        "{} twice",
                        p.name
                    );
                }
            }
            ParsedEvent { props, attendees }
        })
        .collect()
}

fn ics_time(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

#[test]
fn the_calendar_has_one_event_per_batch_with_the_plans_times() {
    let plan = example_plan("normal");
    let text = ics::calendar(&plan, "acme");
    assert!(text.contains("\r\n") && !text.replace("\r\n", "").contains('\n'));
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "line longer than 75 octets: {line}");
    }
    let events = parse_ics(&text);
    let batches: Vec<_> = plan
        .tiers
        .iter()
        .flat_map(|t| {
            t.batches
                .iter()
                .enumerate()
                .map(move |(i, b)| (t, i + 1, b))
        })
        .collect();
    assert!(batches.len() > 50);
    assert_eq!(events.len(), batches.len());
    let mut uids = std::collections::BTreeSet::new();
    for (e, (tier, n, b)) in events.iter().zip(&batches) {
        assert_eq!(e.props["DTSTART"], ics_time(b.start));
        assert_eq!(e.props["DTEND"], ics_time(b.end));
        assert_eq!(e.props["DTSTAMP"], ics_time(plan.start));
        assert_eq!(e.props["UID"], ics::uid("acme", &tier.name, *n));
        assert!(uids.insert(e.props["UID"].clone()));
        let summary = e.props["SUMMARY"].replace("\\,", ",");
        assert_eq!(
            summary,
            format!(
                "Patching {}: batch {n} of {}, {} hosts",
                tier.name,
                tier.batches.len(),
                b.hosts.len()
            )
        );
        // Compared without spaces: parsers differ in how much whitespace
        // they keep at folds.
        let description: String = e.props["DESCRIPTION"]
            .replace("\\n", "\n")
            .replace("\\,", ",")
            .chars()
            .filter(|c| *c != ' ')
            .collect();
        assert!(
            description.contains(&format!("Window:{}", tier.window.name)),
            "{description}"
        );
        assert!(description.contains("Afterhours:"), "{description}");
        assert!(description.contains("Contact:"), "{description}");
        // The contact is an attendee exactly when it has an email.
        assert_eq!(
            e.attendees.len(),
            usize::from(tier.contact.contains_key("email"))
        );
    }
    // Same inputs, same bytes.
    assert_eq!(ics::calendar(&example_plan("normal"), "acme"), text);
}

#[test]
fn uids_survive_a_replan_with_a_changed_fleet() {
    let policy = example_policy();
    let start = at("2026-11-23T08:00:00Z");
    let full = example_fleet();
    let before = Plan::new(&policy, &IndexedFleet::new(full.clone()), start, "normal").unwrap();
    // Drop every fifth host; the plan moves, batch numbers stay.
    let hosts: Vec<_> = full
        .into_hosts()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 5 != 0)
        .map(|(_, h)| h)
        .collect();
    let after = Plan::new(
        &policy,
        &IndexedFleet::new(Fleet::new(hosts).unwrap()),
        start,
        "normal",
    )
    .unwrap();
    assert_ne!(before, after);
    let uid_of = |plan: &Plan| -> BTreeMap<(String, usize), (String, String)> {
        let events = parse_ics(&ics::calendar(plan, "acme"));
        let keys = plan
            .tiers
            .iter()
            .flat_map(|t| (1..=t.batches.len()).map(move |n| (t.name.clone(), n)));
        keys.zip(events)
            .map(|(k, e)| (k, (e.props["UID"].clone(), e.props["DTSTART"].clone())))
            .collect()
    };
    let (old, new) = (uid_of(&before), uid_of(&after));
    let mut same = 0;
    for (key, (uid, _)) in &new {
        if let Some((old_uid, _)) = old.get(key) {
            assert_eq!(uid, old_uid, "{key:?}");
            same += 1;
        }
    }
    assert!(same > 40, "{same}");
    // And a changed start moves times but keeps identities.
    let later = Plan::new(
        &policy,
        &IndexedFleet::new(example_fleet()),
        start + TimeDelta::days(9),
        "normal",
    )
    .unwrap();
    let moved = uid_of(&later);
    assert!(moved
        .iter()
        .any(|(k, (_, t))| old.get(k).is_some_and(|(_, o)| o != t)));
    for (k, (uid, _)) in &moved {
        assert_eq!(*uid, ics::uid("acme", &k.0, k.1));
    }
}

#[test]
fn tricky_contact_names_are_escaped_and_quoted() {
    let policy = r#"
timezone = "Europe/Berlin"
[notice]
calendar_id = "client; a,b"
[[tiers]]
name = "db; prod, eu"
scope = "true"
contact = { name = "Müller; Ops, \"Night\" Team: Zoë", email = "ops@example.com" }
"#;
    let policy = Policy::from_toml("p.toml", policy).unwrap();
    let fleet = Fleet::from_json(br#"[{"name": "h1"}, {"name": "h2"}]"#).unwrap();
    let plan = Plan::new(
        &policy,
        &IndexedFleet::new(fleet),
        at("2026-11-23T08:00:00Z"),
        "normal",
    )
    .unwrap();
    let folded = ics::calendar(&plan, "client; a,b");
    let text = folded.replace("\r\n ", "");
    // Parameter values: quoted (so `;`, `,`, `:` are safe), DQUOTE not allowed inside.
    assert!(text.contains("ATTENDEE;CN=\"Müller; Ops, 'Night' Team: Zoë\";ROLE=REQ-PARTICIPANT:mailto:ops@example.com"), "{text}");
    // Text values: `;` and `,` backslash-escaped.
    assert!(
        text.contains("SUMMARY:Patching db\\; prod\\, eu: batch 1 of 1\\, 2 hosts"),
        "{text}"
    );
    assert!(
        text.contains("Contact: Müller\\; Ops\\, \"Night\" Team: Zoë\\, ops@example.com"),
        "{text}"
    );
    let events = parse_ics(&folded);
    assert_eq!(events.len(), 1);
    let (params, value) = &events[0].attendees[0];
    assert_eq!(value, "mailto:ops@example.com");
    let cn: Vec<_> = params.iter().filter(|(k, _)| k == "CN").collect();
    assert_eq!(cn.len(), 1);
    assert_eq!(cn[0].1, vec!["Müller; Ops, 'Night' Team: Zoë".to_string()]);
    assert_eq!(
        events[0].props["UID"],
        "db%3B%20prod%2C%20eu.1.client%3B%20a%2Cb@fleetscope"
    );
}

// ---------------------------------------------------------------------------
// The timeline picture.

#[test]
fn every_batch_is_a_bar_in_start_order() {
    /// tier, batch, start, end, x, width
    type Bar = (String, usize, DateTime<Utc>, DateTime<Utc>, f64, f64);
    let bar = regex::Regex::new(
        r#"<rect class="batch" data-tier="([^"]*)" data-batch="(\d+)" data-start="([^"]*)" data-end="([^"]*)" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)""#,
    )
    .unwrap();
    for severity in ["normal", "critical"] {
        let plan = example_plan(severity);
        let picture = svg::timeline(&plan);
        let bars: Vec<Bar> = bar
            .captures_iter(&picture)
            .map(|c| {
                (
                    c[1].to_string(),
                    c[2].parse().unwrap(),
                    at(&c[3]),
                    at(&c[4]),
                    c[5].parse().unwrap(),
                    c[6].parse().unwrap(),
                )
            })
            .collect();
        let expected: Vec<_> = plan
            .tiers
            .iter()
            .flat_map(|t| {
                t.batches
                    .iter()
                    .enumerate()
                    .map(move |(i, b)| (t.name.clone(), i + 1, b.start, b.end))
            })
            .collect();
        assert_eq!(bars.len(), expected.len(), "{severity}");
        assert_eq!(picture.matches("class=\"batch\"").count(), expected.len());
        for (b, e) in bars.iter().zip(&expected) {
            assert_eq!((&b.0, b.1, b.2, b.3), (&e.0, e.1, e.2, e.3));
            assert!(b.5 >= 3.0, "bars stay visible");
        }
        // Across all rows, x follows start times.
        let mut by_start = bars.clone();
        by_start.sort_by_key(|a| a.2);
        for pair in by_start.windows(2) {
            if pair[0].2 < pair[1].2 {
                assert!(pair[0].4 < pair[1].4, "{:?} vs {:?}", pair[0], pair[1]);
            } else {
                assert!((pair[0].4 - pair[1].4).abs() < 1e-9);
            }
        }
        // The normal plan crosses the year-end freeze: it is drawn.
        assert_eq!(
            picture.contains("class=\"blackout\"") && picture.contains("year-end freeze"),
            severity == "normal"
        );
        assert_eq!(picture.matches("class=\"tier\"").count(), plan.tiers.len());
        // Critical plans use `window = "any"`: nothing to shade.
        assert_eq!(picture.contains("class=\"window\""), severity == "normal");
        assert_eq!(svg::timeline(&plan), picture);
    }
}

#[test]
fn the_picture_escapes_names_and_spans_months() {
    let policy = r#"
timezone = "America/New_York"
[windows.monthly]
every = "monthly first sat at 01:00"
duration = "2h"
[[tiers]]
name = "a<b & \"c\""
scope = "true"
window = "monthly"
batch = 1
"#;
    let policy = Policy::from_toml("p.toml", policy).unwrap();
    let fleet = Fleet::from_json(br#"[{"name": "h1"}, {"name": "h2"}, {"name": "h3"}, {"name": "h4"}, {"name": "h5"}, {"name": "h6"}, {"name": "h7"}, {"name": "h8"}]"#).unwrap();
    let plan = Plan::new(
        &policy,
        &IndexedFleet::new(fleet),
        at("2026-11-23T08:00:00Z"),
        "normal",
    )
    .unwrap();
    // Two batches per month: the plan spans about four months.
    assert!(plan.tiers[0].finish - plan.start > TimeDelta::days(100));
    let picture = svg::timeline(&plan);
    assert!(picture.contains("data-tier=\"a&lt;b &amp; &quot;c&quot;\""));
    assert!(!picture.contains("a<b"));
    assert_eq!(picture.matches("class=\"batch\"").count(), 8);
    // Month ticks on a long plan, in the policy's zone.
    for month in [">Dec 2026<", ">Jan 2027<", ">Feb 2027<", ">Mar 2027<"] {
        assert!(picture.contains(month), "{month}");
    }
}
