//! The rollout state machine under random sequences of operations, valid and
//! invalid, as a patch tool (or a confused one) would send them.
//!
//! After every operation: an operation that failed left the state byte for
//! byte unchanged; serializing then loading is the identity; `next` is
//! pure; and replaying the audit log shows that no batch began twice, no
//! host has two results, no tier began before its predecessors finished
//! and soaked, outside its window, before its notice period or without its
//! approval, nothing began while halted, and every failure beyond
//! `max_failures` halted its tier.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};
use fleetscope::rollout::calendar::earliest_slot;
use fleetscope::rollout::{
    Action, EventKind, Operation, Outcome, Plan, Policy, Rollout, RunError, StorageError, Store,
    TierPhase,
};
use fleetscope::Fleet;
use proptest::prelude::*;

#[path = "common/stores.rs"]
mod stores;
use stores::TestStore;

fn utc(text: &str) -> DateTime<Utc> {
    text.parse().expect("test instants are valid RFC 3339")
}

/// A small random policy: tier `i` selects hosts tagged `grp = g<i>`.
#[derive(Debug, Clone)]
struct TierSpec {
    hosts: usize,
    after: Vec<usize>,
    window: usize,
    batch: usize,
    max_failures: usize,
    soak_h: u32,
    notice_h: u32,
    approval: bool,
}

fn tier_spec(index: usize) -> impl Strategy<Value = TierSpec> {
    (
        0usize..6,
        proptest::collection::vec(any::<bool>(), index),
        0usize..3,
        1usize..4,
        0usize..3,
        0u32..30,
        0u32..14,
        proptest::bool::weighted(0.3),
    )
        .prop_map(
            |(hosts, after, window, batch, max_failures, soak_h, notice_h, approval)| TierSpec {
                hosts,
                after: after
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b)
                    .map(|(i, _)| i)
                    .collect(),
                window,
                batch,
                max_failures,
                soak_h,
                notice_h,
                approval,
            },
        )
}

fn policy_spec() -> impl Strategy<Value = (Vec<TierSpec>, bool)> {
    (1usize..5).prop_flat_map(|n| {
        let tiers: Vec<_> = (0..n).map(tier_spec).collect();
        (tiers, any::<bool>())
    })
}

fn build(tiers: &[TierSpec], blackout: bool) -> Plan {
    const WINDOWS: [&str; 3] = ["any", "nightly", "weekend"];
    let mut toml = String::from(
        "timezone = \"Europe/Berlin\"\n\
         [windows.nightly]\nevery = \"daily at 22:00\"\nduration = \"3h\"\n\
         [windows.weekend]\nevery = \"weekly sat,sun at 02:00\"\nduration = \"4h\"\n\
         timezone = \"America/New_York\"\n",
    );
    if blackout {
        toml.push_str(
            "[[blackouts]]\nname = \"freeze\"\nfrom = \"2026-12-01\"\nto = \"2026-12-04\"\n",
        );
    }
    toml.push_str(
        "[defaults]\nwindow = \"any\"\nbatch_duration = \"1h\"\nmax_failures = 0\nsoak = \"0h\"\nnotice = \"0h\"\n",
    );
    let mut hosts = Vec::new();
    for (i, t) in tiers.iter().enumerate() {
        let after: Vec<String> = t.after.iter().map(|a| format!("\"t{a}\"")).collect();
        toml.push_str(&format!(
            "[[tiers]]\nname = \"t{i}\"\nscope = \"tags.grp = g{i}\"\nafter = [{}]\nwindow = \"{}\"\nbatch = {}\nmax_failures = {}\nsoak = \"{}h\"\nnotice = \"{}h\"\napproval = {}\n",
            after.join(", "),
            WINDOWS[t.window],
            t.batch,
            t.max_failures,
            t.soak_h,
            t.notice_h,
            t.approval
        ));
        for h in 0..t.hosts {
            hosts.push(format!(
                "{{\"name\": \"h{i}-{h}\", \"tags\": {{\"grp\": \"g{i}\"}}}}"
            ));
        }
    }
    let policy = Policy::from_toml("random.toml", &toml).expect("generated policies are valid");
    let fleet = Fleet::from_json(format!("[{}]", hosts.join(",")).as_bytes())
        .expect("generated fleets are valid");
    Plan::new(
        &policy,
        &fleetscope::IndexedFleet::new(fleet.clone()),
        utc("2026-11-27T10:00:00Z"),
        "normal",
    )
    .expect("plannable")
}

/// One step. Numbers pick among what exists at run time, so every sequence
/// is meaningful whatever the state.
#[derive(Debug, Clone)]
enum Op {
    /// Do what `next` says (the n-th action).
    Follow(usize, bool),
    Advance(u32),
    Record(usize, bool),
    Begin(usize, usize),
    Notified(usize),
    Approve(usize),
    Halt,
    Resume(Option<usize>),
    Abort,
    Backwards(u32),
    UnknownHost,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (any::<usize>(), proptest::bool::weighted(0.15)).prop_map(|(n, f)| Op::Follow(n, f)),
        2 => (1u32..3000).prop_map(Op::Advance),
        2 => (any::<usize>(), any::<bool>()).prop_map(|(h, f)| Op::Record(h, f)),
        1 => (any::<usize>(), 0usize..4).prop_map(|(t, b)| Op::Begin(t, b)),
        1 => any::<usize>().prop_map(Op::Notified),
        1 => any::<usize>().prop_map(Op::Approve),
        1 => Just(Op::Halt),
        1 => proptest::option::of(any::<usize>()).prop_map(Op::Resume),
        1 => (0u32..10).prop_map(|n| if n == 0 { Op::Abort } else { Op::Advance(n) }),
        1 => (1u32..600).prop_map(Op::Backwards),
        1 => Just(Op::UnknownHost),
    ]
}

struct Sim {
    rollout: Rollout,
    now: DateTime<Utc>,
    /// The same rollout in every store, driven with the same operations:
    /// each must answer exactly as the in-memory rollout does.
    mirrors: Vec<(TestStore, Box<dyn Store>)>,
}

impl Sim {
    fn new(rollout: Rollout, now: DateTime<Utc>) -> Sim {
        let mirrors = stores::kinds()
            .into_iter()
            .map(|kind| {
                let place = TestStore::new(kind, "prop");
                let mut store = place.open(true);
                store.create(&place.name, &rollout).unwrap();
                (place, store)
            })
            .collect();
        Sim {
            rollout,
            now,
            mirrors,
        }
    }

    fn tier(&self, n: usize) -> String {
        let tiers = &self.rollout.plan().tiers;
        tiers
            .get(n % (tiers.len() + 1))
            .map_or_else(|| "no-such-tier".to_string(), |t| t.name.clone())
    }

    /// Performs an operation on the rollout and on the mirror, which must
    /// agree on the outcome.
    fn run(&mut self, op: Operation, at: DateTime<Utc>) -> Result<(), RunError> {
        let r = &mut self.rollout;
        let result = match &op {
            Operation::Record { hosts, outcome } => match hosts.as_slice() {
                [host] => r.record(host, outcome.clone(), "t", at).map(|_| ()),
                _ => r.perform(&op, "t", at).map(|_| ()),
            },
            Operation::Begin { tier, batch } => r.begin(tier, *batch, "t", at),
            Operation::Notified { tier } => r.notified(tier, "t", at),
            Operation::Approve { tier } => r.approve(tier, "t", at),
            Operation::Halt { reason } => r.halt(reason, "t", at),
            Operation::Resume { tier } => r.resume(tier.as_deref(), "t", at),
            Operation::Abort { reason } => r.abort(reason, "t", at),
        };
        for (place, store) in &mut self.mirrors {
            let mirrored = store.perform(&place.name, &op, "t", at);
            match (&result, mirrored) {
                (Ok(()), Ok(applied)) => assert_eq!(applied.revision, r.revision()),
                (Err(e), Err(StorageError::Refused(m))) => assert_eq!(e, &m, "{op:?}"),
                (ours, theirs) => panic!(
                    "{:?} disagrees on {op:?}: in memory {ours:?}, in the store {theirs:?}",
                    place.kind
                ),
            }
        }
        result
    }

    /// The store holds exactly the in-memory rollout and answers alike.
    fn check_mirror(&mut self) {
        let now = self.now;
        for (place, store) in &mut self.mirrors {
            let exported = store.export(&place.name).unwrap();
            assert_eq!(&exported, &self.rollout, "{:?} drifted", place.kind);
            let next = store.next(&place.name, now).unwrap();
            assert_eq!(next.actions, self.rollout.next(now));
            assert_eq!(next.revision, self.rollout.revision());
            let at = now.max(self.rollout.last_event_at());
            assert_eq!(
                store.status(&place.name, at).unwrap(),
                self.rollout.status(at)
            );
        }
    }

    fn apply(&mut self, op: &Op) -> Result<(), RunError> {
        let now = self.now;
        let fail_with = |fail: bool, reason: String| {
            if fail {
                Outcome::Failed(reason)
            } else {
                Outcome::Succeeded
            }
        };
        let operation = match op {
            Op::Follow(n, fail) => {
                let actions = self.rollout.next(now);
                let Some(action) = actions.get(n % actions.len().max(1)) else {
                    return Ok(());
                };
                match action {
                    Action::Notify { tier, .. } => Operation::Notified { tier: tier.clone() },
                    Action::Start {
                        tier,
                        batch,
                        began: None,
                        ..
                    } => Operation::Begin {
                        tier: tier.clone(),
                        batch: *batch,
                    },
                    Action::Start { pending, .. } | Action::Halted { pending, .. }
                        if !pending.is_empty() =>
                    {
                        let host = &pending[n % pending.len()];
                        // Now and then two hosts in one call (all or nothing).
                        let mut hosts = vec![host.clone()];
                        if n % 5 == 0 {
                            hosts.push(pending[(n / 5) % pending.len()].clone());
                        }
                        Operation::Record {
                            hosts,
                            outcome: fail_with(*fail, "boom".into()),
                        }
                    }
                    Action::AwaitApproval { tier, .. } => Operation::Approve { tier: tier.clone() },
                    Action::Wait { until, .. } => {
                        self.now = (*until).max(now);
                        return Ok(());
                    }
                    Action::Halted { tier, .. } => Operation::Resume { tier: tier.clone() },
                    _ => return Ok(()),
                }
            }
            Op::Advance(minutes) => {
                self.now += TimeDelta::minutes(i64::from(*minutes));
                return Ok(());
            }
            Op::Record(h, fail) => {
                let hosts: Vec<String> = self
                    .rollout
                    .plan()
                    .tiers
                    .iter()
                    .flat_map(|t| t.hosts.clone())
                    .collect();
                let Some(host) = hosts.get(h % hosts.len().max(1)) else {
                    return Ok(());
                };
                Operation::Record {
                    hosts: vec![host.clone()],
                    outcome: fail_with(*fail, format!("reason {}", h % 2)),
                }
            }
            Op::Begin(t, b) => Operation::Begin {
                tier: self.tier(*t),
                batch: *b,
            },
            Op::Notified(t) => Operation::Notified {
                tier: self.tier(*t),
            },
            Op::Approve(t) => Operation::Approve {
                tier: self.tier(*t),
            },
            Op::Halt => Operation::Halt {
                reason: "incident".into(),
            },
            Op::Resume(t) => Operation::Resume {
                tier: t.map(|t| self.tier(t)),
            },
            Op::Abort => Operation::Abort {
                reason: "enough".into(),
            },
            Op::Backwards(minutes) => {
                let earlier =
                    self.rollout.last_event_at() - TimeDelta::minutes(i64::from(*minutes));
                return self.run(
                    Operation::Halt {
                        reason: "late".into(),
                    },
                    earlier,
                );
            }
            Op::UnknownHost => Operation::Record {
                hosts: vec!["not-a-host".into()],
                outcome: Outcome::Succeeded,
            },
        };
        self.run(operation, now)
    }
}

/// Replays the log and checks the rules the state machine must keep.
fn check_log(r: &Rollout, now: DateTime<Utc>) {
    let plan = r.plan();
    let status = r.status(now.max(r.last_event_at()));
    let index: BTreeMap<&str, usize> = plan
        .tiers
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    let blackouts = plan.blackout_intervals();
    let mut began: BTreeSet<(String, usize)> = BTreeSet::new();
    let mut results: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    let mut tier_halted: BTreeSet<String> = BTreeSet::new();
    let mut halted = false;
    let mut aborted = false;
    let mut notified: BTreeMap<String, DateTime<Utc>> = BTreeMap::new();
    let mut approved: BTreeSet<String> = BTreeSet::new();
    let mut last = None;
    let events = r.events();
    for (k, e) in events.iter().enumerate() {
        assert!(!aborted, "an event after the abort: {e:?}");
        if let Some(l) = last {
            assert!(e.at >= l, "the log goes back in time at {e:?}");
        }
        last = Some(e.at);
        match &e.event {
            EventKind::Created { .. } => assert_eq!(k, 0),
            EventKind::Notified { tier } => {
                assert!(!halted, "notified while halted");
                assert!(
                    notified.insert(tier.clone(), e.at).is_none(),
                    "notified twice"
                );
            }
            EventKind::Approved { tier } => {
                assert!(approved.insert(tier.clone()), "approved twice");
            }
            EventKind::Began { tier, batch } => {
                assert!(!halted, "a batch began while the rollout was halted");
                assert!(
                    !tier_halted.contains(tier),
                    "a batch of a halted tier began"
                );
                assert!(began.insert((tier.clone(), *batch)), "batch began twice");
                let t = index[tier.as_str()];
                let planned = &plan.tiers[t];
                // Every host of the batch before has a result by now.
                if *batch > 1 {
                    for h in &planned.batches[batch - 2].hosts {
                        assert!(results.get(h).is_some_and(|at| *at <= e.at));
                    }
                }
                // Predecessors finished and soaked.
                for p in &planned.after {
                    let pi = index[p.as_str()];
                    let finished = status.tiers[pi]
                        .finished
                        .unwrap_or_else(|| panic!("{tier} began but {p} never finished"));
                    assert!(
                        finished + plan.tiers[pi].soak <= e.at,
                        "{tier} began during the soak of {p}"
                    );
                }
                assert!(e.at >= plan.start);
                // Window and blackouts.
                let availability = planned.window.availability().expect("window");
                assert_eq!(
                    earliest_slot(
                        &availability,
                        &blackouts,
                        e.at,
                        planned.batch_duration,
                        TimeDelta::days(1)
                    ),
                    Some(e.at),
                    "batch {batch} of {tier} began outside its window or in a blackout"
                );
                if planned.approval {
                    assert!(approved.contains(tier), "{tier} began without approval");
                }
                let n = notified.get(tier).expect("began without notice");
                assert!(
                    *n + planned.notice_period <= e.at,
                    "began inside the notice period"
                );
            }
            EventKind::Result {
                tier,
                host,
                outcome,
                ..
            } => {
                assert!(
                    results.insert(host.clone(), e.at).is_none(),
                    "{host} has two results"
                );
                if matches!(outcome, Outcome::Failed(_)) {
                    let count = failures.entry(tier.clone()).or_insert(0);
                    *count += 1;
                    let t = index[tier.as_str()];
                    let over = *count > plan.tiers[t].max_failures;
                    let halts_next = matches!(
                        events.get(k + 1).map(|e| &e.event),
                        Some(EventKind::TierHalted { tier: h, .. }) if h == tier
                    );
                    if over && !tier_halted.contains(tier) {
                        assert!(halts_next, "failure {count} of {tier} did not halt it");
                    } else {
                        assert!(!halts_next, "{tier} halted without reason");
                    }
                }
            }
            EventKind::TierHalted { tier, .. } => {
                assert!(tier_halted.insert(tier.clone()));
            }
            EventKind::Halted { .. } => {
                assert!(!halted);
                halted = true;
            }
            EventKind::Resumed { tier: None } => {
                assert!(halted);
                halted = false;
            }
            EventKind::Resumed { tier: Some(t) } => {
                assert!(tier_halted.remove(t));
            }
            EventKind::Aborted { .. } => aborted = true,
        }
    }
    // The state agrees with the log.
    for (t, run) in r.tiers().iter().enumerate() {
        let failed = run.failures();
        assert_eq!(failed, failures.get(&run.name).copied().unwrap_or(0));
        assert_eq!(run.halted.is_some(), tier_halted.contains(&run.name));
        assert_eq!(status.tiers[t].failed, failed);
        if run.halted.is_some() && !aborted {
            assert_eq!(status.tiers[t].phase, TierPhase::Halted);
        }
    }
    assert_eq!(r.halted().is_some(), halted);
    assert_eq!(r.aborted().is_some(), aborted);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_operations_keep_the_invariants(
        (tiers, blackout) in policy_spec(),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let plan = build(&tiers, blackout);
        let start = plan.start;
        let mut sim = Sim::new(
            Rollout::new(plan, "test", start - TimeDelta::hours(1)).expect("runnable"),
            start - TimeDelta::hours(1),
        );
        for op in &ops {
            let before = sim.rollout.to_json().unwrap();
            let revision = sim.rollout.revision();
            match sim.apply(op) {
                Ok(()) => {}
                Err(e) => {
                    prop_assert_eq!(&sim.rollout.to_json().unwrap(), &before, "{:?} failed ({}) but changed the state", op, e);
                    prop_assert_eq!(sim.rollout.revision(), revision);
                }
            }
            if sim.rollout.revision() == revision {
                prop_assert_eq!(&sim.rollout.to_json().unwrap(), &before, "{:?} changed the state without a new revision", op);
            }
            let json = sim.rollout.to_json().unwrap();
            let back = Rollout::from_json(&json).expect("a state written loads");
            prop_assert_eq!(&back, &sim.rollout);
            prop_assert_eq!(back.to_json().unwrap(), json);
            prop_assert_eq!(sim.rollout.next(sim.now), sim.rollout.next(sim.now));
            let next = sim.rollout.next(sim.now);
            if sim.rollout.aborted().is_some() {
                let aborted_only = matches!(next.as_slice(), [Action::Halted { tier: None, aborted: true, .. }]);
                prop_assert!(aborted_only);
            } else if sim.rollout.halted().is_some() {
                let halted_only = matches!(next.as_slice(), [Action::Halted { tier: None, aborted: false, .. }]);
                prop_assert!(halted_only);
            }
            check_log(&sim.rollout, sim.now);
            sim.check_mirror();
        }
    }

    /// Following `next` faithfully always reaches `done` (or a halt that a
    /// resume lifts), and the result matches the plan's host count.
    #[test]
    fn following_next_reaches_done((tiers, blackout) in policy_spec(), seed in any::<u64>()) {
        let plan = build(&tiers, blackout);
        let total: usize = plan.tiers.iter().map(|t| t.hosts.len()).sum();
        let start = plan.start;
        let mut sim = Sim::new(Rollout::new(plan, "test", start).expect("runnable"), start);
        let mut x = seed;
        for _ in 0..2000 {
            if matches!(sim.rollout.next(sim.now).as_slice(), [Action::Done { .. }]) {
                break;
            }
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let fail = (x >> 60) == 0;
            let n = usize::try_from(x >> 33).unwrap_or(0);
            sim.apply(&Op::Follow(n, fail)).expect("what next offers is accepted");
        }
        let done = matches!(sim.rollout.next(sim.now).as_slice(), [Action::Done { .. }]);
        prop_assert!(done, "not done: {:?}", sim.rollout.next(sim.now));
        let recorded: usize = sim.rollout.tiers().iter().flat_map(|t| &t.batches).map(|b| b.results.len()).sum();
        prop_assert_eq!(recorded, total);
        check_log(&sim.rollout, sim.now);
        sim.check_mirror();
    }
}

// ------------------------------------------------------------ examples ----

fn two_tiers(max_failures: usize) -> Rollout {
    let spec = |after: Vec<usize>| TierSpec {
        hosts: 4,
        after,
        window: 0,
        batch: 2,
        max_failures,
        soak_h: 2,
        notice_h: 0,
        approval: false,
    };
    let plan = build(&[spec(vec![]), spec(vec![0]), spec(vec![])], false);
    Rollout::new(plan, "test", utc("2026-11-27T10:00:00Z")).expect("runnable")
}

#[test]
fn a_failure_beyond_max_halts_the_tier_and_its_dependents_but_not_other_branches() {
    let mut r = two_tiers(1);
    let at = utc("2026-11-27T10:00:00Z");
    r.notified("t0", "t", at).expect("notice due");
    r.notified("t2", "t", at).expect("notice due");
    r.begin("t0", 1, "t", at).expect("fits");
    r.begin("t2", 1, "t", at).expect("fits");
    let fail = || Outcome::Failed("disk full".into());
    assert!(r.record("h0-0", fail(), "t", at).expect("first failure"));
    assert!(r.tiers()[0].halted.is_none(), "one failure is tolerated");
    // The same result again changes nothing.
    let before = r.to_json().unwrap();
    assert!(!r.record("h0-0", fail(), "t", at).expect("a retry"));
    assert_eq!(r.to_json().unwrap(), before);
    r.record("h0-1", fail(), "t", at).expect("second failure");
    assert!(r.tiers()[0].halted.is_some(), "the 2nd failure exceeds 1");
    let next = r.next(at);
    assert!(next
        .iter()
        .any(|a| matches!(a, Action::Halted { tier: Some(t), .. } if t == "t0")));
    assert!(next
        .iter()
        .any(|a| matches!(a, Action::Start { tier, .. } if tier == "t2")));
    assert!(!next
        .iter()
        .any(|a| matches!(a, Action::Start { tier, .. } if tier == "t1")));
    assert_eq!(r.status(at).tiers[1].phase, TierPhase::Blocked);
    // Resuming lets it go on.
    r.resume(Some("t0"), "ops", at).expect("halted");
    assert!(r
        .next(at)
        .iter()
        .any(|a| matches!(a, Action::Start { tier, batch: 2, .. } if tier == "t0")));
}

#[test]
fn invalid_operations_say_why_and_change_nothing() {
    let mut r = two_tiers(0);
    let at = utc("2026-11-27T10:00:00Z");
    let before = r.to_json().unwrap();
    assert!(matches!(
        r.record("nope", Outcome::Succeeded, "t", at),
        Err(RunError::UnknownHost(_))
    ));
    assert!(matches!(
        r.record("h0-0", Outcome::Succeeded, "t", at),
        Err(RunError::NotInRunningBatch { .. })
    ));
    assert!(matches!(
        r.begin("t1", 1, "t", at),
        Err(RunError::CannotBegin { .. })
    ));
    assert!(matches!(
        r.approve("t0", "t", at),
        Err(RunError::ApprovalNotNeeded(_))
    ));
    assert!(matches!(
        r.resume(None, "t", at),
        Err(RunError::NotHalted { .. })
    ));
    assert!(matches!(
        r.halt("x", "t", at - TimeDelta::hours(1)),
        Err(RunError::TimeWentBackwards { .. })
    ));
    assert_eq!(r.to_json().unwrap(), before);
    r.abort("wrong patch", "ops", at).expect("abort");
    let err = r.halt("x", "t", at).expect_err("after abort");
    assert!(err.to_string().contains("aborted by ops"), "{err}");
}

#[test]
fn state_files_from_other_versions_or_programs_are_refused_clearly() {
    let r = two_tiers(0);
    let json = r.to_json().unwrap();
    let newer = json.replacen("\"version\": 1", "\"version\": 2", 1);
    let err = Rollout::from_json(&newer).expect_err("newer");
    assert!(err.to_string().contains("upgrade fleetscope"), "{err}");
    let older = json.replacen("\"version\": 1", "\"version\": 0", 1);
    assert!(Rollout::from_json(&older).is_err());
    let foreign = Rollout::from_json("{\"hosts\": []}").expect_err("foreign");
    assert!(foreign.to_string().contains("format"), "{foreign}");
    assert!(Rollout::from_json("not json").is_err());
}

#[test]
fn a_dependent_tier_is_notified_on_the_plans_schedule_and_starts_when_planned() {
    let text = r#"
[defaults]
notice = "48h"
[[tiers]]
name = "test"
scope = "tags.env = test"
[[tiers]]
name = "prod"
scope = "tags.env = prod"
after = ["test"]
"#;
    let policy = Policy::from_toml("p.toml", text).expect("valid");
    let mut t = fleetscope::Host::named("t1");
    t.tags.insert("env".into(), "test".into());
    let mut p = fleetscope::Host::named("p1");
    p.tags.insert("env".into(), "prod".into());
    let fleet = Fleet::new(vec![t, p]).expect("fleet");
    let plan = Plan::new(
        &policy,
        &fleetscope::IndexedFleet::new(fleet.clone()),
        utc("2026-11-23T08:00:00Z"),
        "normal",
    )
    .expect("plan");
    assert_eq!(plan.tiers[1].notice, Some(utc("2026-11-23T09:00:00Z")));
    assert_eq!(plan.tiers[1].batches[0].start, utc("2026-11-25T09:00:00Z"));
    let mut r = Rollout::new(plan, "test", utc("2026-11-23T08:00:00Z")).expect("runnable");

    // Both notices are due on the plan's schedule, long before `prod` is ready.
    r.notified("test", "ops", utc("2026-11-23T08:00:00Z"))
        .expect("test notice");
    let at = utc("2026-11-23T09:00:00Z");
    assert!(
        r.next(at)
            .iter()
            .any(|a| matches!(a, Action::Notify { tier, .. } if tier == "prod")),
        "{:?}",
        r.next(at)
    );
    r.notified("prod", "ops", at).expect("prod notice");

    let at = utc("2026-11-25T08:00:00Z");
    r.begin("test", 1, "tool", at).expect("test starts");
    r.record(
        "t1",
        Outcome::Succeeded,
        "tool",
        utc("2026-11-25T08:30:00Z"),
    )
    .expect("result");
    // Ready at 08:30, but the notice period (from 11-23 09:00) ends at 09:00.
    let waiting = r.next(utc("2026-11-25T08:30:00Z"));
    assert!(
        waiting.iter().any(|a| matches!(a, Action::Wait { tier: Some(t), until, .. } if t == "prod" && *until == utc("2026-11-25T09:00:00Z"))),
        "{waiting:?}"
    );
    let now = r.next(utc("2026-11-25T09:00:00Z"));
    assert!(
        now.iter()
            .any(|a| matches!(a, Action::Start { tier, batch: 1, .. } if tier == "prod")),
        "{now:?}"
    );
}
