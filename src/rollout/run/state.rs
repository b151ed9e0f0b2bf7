//! The rollout state as it is stored: the state-file contract (`format`,
//! `version`, the frozen plan, per-tier and per-batch progress, the audit
//! log), reading it back with its checks, and the rollout's accessors.
//!
//! Changing these types changes the stored format: bump [`VERSION`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::ops::check_actor;
use super::{ts, RunError, StateError};
use crate::rollout::calendar::{Blackouts, MAX_DURATION_DAYS};
use crate::rollout::plan::Plan;

/// The `format` field of every state file.
pub const FORMAT: &str = "fleetscope-rollout";

/// The state-file format version this build writes, and the newest it reads.
pub const VERSION: u32 = 1;

/// The actor recorded for events the engine causes itself (a tier halting
/// on failures).
pub const ENGINE: &str = "fleetscope";

/// A plan being run: the frozen plan, what has happened to each tier, batch
/// and host, and the log of every change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rollout {
    pub(super) format: String,
    pub(super) version: u32,
    /// Incremented by every operation that changes the state.
    pub(super) revision: u64,
    pub(super) plan: Plan,
    pub(super) tiers: Vec<TierRun>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) halt: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) abort: Option<Stop>,
    pub(super) events: Vec<Event>,
}

/// A halt or an abort: why, by whom, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    /// Why.
    pub reason: String,
    /// Who or what.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// Who did something, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signoff {
    /// Who or what.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What has happened to one tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierRun {
    /// The tier's name (the plan's tier at the same position).
    pub name: String,
    /// When its contact was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<Signoff>,
    /// Its approval, when it needs one and has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<Signoff>,
    /// Set while the tier is halted on failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halted: Option<Stop>,
    /// The last time a halt of this tier was lifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed: Option<Signoff>,
    /// Its batches, as in the plan.
    pub batches: Vec<BatchRun>,
}

/// What has happened to one batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRun {
    /// When the patch tool began it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub began: Option<DateTime<Utc>>,
    /// Each host's result, by host name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub results: BTreeMap<String, HostResult>,
}

/// A host's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostResult {
    /// Succeeded or failed.
    pub outcome: Outcome,
    /// When it was reported.
    pub at: DateTime<Utc>,
}

/// What happened when a host was patched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The host was patched.
    Succeeded,
    /// The host was not patched, for this reason.
    Failed(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Succeeded => f.write_str("succeeded"),
            Outcome::Failed(reason) => write!(f, "failed ({reason})"),
        }
    }
}

/// One entry of the audit log: a change, when, and who or what caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened (the instant the operation was given).
    pub at: DateTime<Utc>,
    /// Who or what caused it; [`ENGINE`] for the engine's own decisions.
    pub actor: String,
    /// What changed.
    #[serde(flatten)]
    pub event: EventKind,
}

/// What an [`Event`] changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The rollout was created from a plan.
    Created {
        /// The plan's severity.
        severity: String,
        /// The plan's start.
        start: DateTime<Utc>,
        /// How many hosts the plan froze.
        hosts: usize,
    },
    /// A tier's contact was told.
    Notified {
        /// The tier.
        tier: String,
    },
    /// A tier was approved.
    Approved {
        /// The tier.
        tier: String,
    },
    /// A batch began.
    Began {
        /// The tier.
        tier: String,
        /// The batch, 1-based.
        batch: usize,
    },
    /// A host's result was recorded.
    Result {
        /// The tier.
        tier: String,
        /// The batch, 1-based.
        batch: usize,
        /// The host.
        host: String,
        /// What happened.
        outcome: Outcome,
    },
    /// A tier halted because its failures exceeded `max_failures`.
    TierHalted {
        /// The tier.
        tier: String,
        /// Why.
        reason: String,
    },
    /// The whole rollout was halted.
    Halted {
        /// Why.
        reason: String,
    },
    /// A halt was lifted: the whole rollout's, or one tier's.
    Resumed {
        /// The tier, for a tier's halt.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tier: Option<String>,
    },
    /// The rollout was aborted, for good.
    Aborted {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKind::Created {
                severity,
                start,
                hosts,
            } => write!(
                f,
                "created for severity `{severity}`, {hosts} hosts, starting {}",
                ts(*start)
            ),
            EventKind::Notified { tier } => write!(f, "notified the contact of tier `{tier}`"),
            EventKind::Approved { tier } => write!(f, "approved tier `{tier}`"),
            EventKind::Began { tier, batch } => write!(f, "began batch {batch} of tier `{tier}`"),
            EventKind::Result {
                tier,
                batch,
                host,
                outcome,
            } => write!(f, "{host} {outcome} (tier `{tier}`, batch {batch})"),
            EventKind::TierHalted { tier, reason } => write!(f, "halted tier `{tier}`: {reason}"),
            EventKind::Halted { reason } => write!(f, "halted the rollout: {reason}"),
            EventKind::Resumed { tier: Some(tier) } => write!(f, "resumed tier `{tier}`"),
            EventKind::Resumed { tier: None } => write!(f, "resumed the rollout"),
            EventKind::Aborted { reason } => write!(f, "aborted the rollout: {reason}"),
        }
    }
}

impl Rollout {
    /// Starts running `plan`. `by` and `at` go into the first log entry;
    /// `at` may be before the plan's start.
    ///
    /// Rejects a plan that cannot be run: duplicate tier or host names, a
    /// tier coming after an unknown or later tier, a batch host outside its
    /// tier, a window or time zone that does not parse.
    pub fn new(plan: Plan, by: &str, at: DateTime<Utc>) -> Result<Rollout, RunError> {
        check_actor(by)?;
        check_plan(&plan).map_err(RunError::InvalidPlan)?;
        let hosts = plan.tiers.iter().map(|t| t.hosts.len()).sum();
        let tiers = plan
            .tiers
            .iter()
            .map(|t| TierRun {
                name: t.name.clone(),
                notified: None,
                approved: None,
                halted: None,
                resumed: None,
                batches: vec![
                    BatchRun {
                        began: None,
                        results: BTreeMap::new(),
                    };
                    t.batches.len()
                ],
            })
            .collect();
        let created = Event {
            at,
            actor: by.to_string(),
            event: EventKind::Created {
                severity: plan.severity.clone(),
                start: plan.start,
                hosts,
            },
        };
        Ok(Rollout {
            format: FORMAT.to_string(),
            version: VERSION,
            revision: 1,
            plan,
            tiers,
            halt: None,
            abort: None,
            events: vec![created],
        })
    }

    /// The frozen plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The revision: incremented by every change, so two copies with the
    /// same revision of the same file are the same state.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The audit log, oldest first.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// What has happened to each tier, in rollout order.
    pub fn tiers(&self) -> &[TierRun] {
        &self.tiers
    }

    /// The whole rollout's halt, if it is halted.
    pub fn halted(&self) -> Option<&Stop> {
        self.halt.as_ref()
    }

    /// The abort, if it was aborted.
    pub fn aborted(&self) -> Option<&Stop> {
        self.abort.as_ref()
    }

    /// The instant of the last event: no operation may be earlier.
    pub fn last_event_at(&self) -> DateTime<Utc> {
        // The maximum, not the last: a hand-edited log may be out of order.
        self.events
            .iter()
            .map(|e| e.at)
            .max()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The state as pretty JSON, with `format` and `version` first.
    ///
    /// Fails only if serialization itself fails (every field is a string,
    /// number, list or map with string keys, so it should not); callers
    /// must never write a state they could not serialize.
    pub fn to_json(&self) -> Result<String, StateError> {
        serde_json::to_string_pretty(self).map_err(|e| StateError::Serialize(e.to_string()))
    }

    /// Reads a state written by [`Rollout::to_json`], checking its format,
    /// its version and that its parts agree.
    pub fn from_json(text: &str) -> Result<Rollout, StateError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| StateError::NotJson(e.to_string()))?;
        let format = value.get("format").and_then(|f| f.as_str());
        if format != Some(FORMAT) {
            return Err(StateError::Foreign(format.map(str::to_string)));
        }
        let version = value.get("version").and_then(serde_json::Value::as_u64);
        match version {
            Some(v) if v == u64::from(VERSION) => {}
            Some(v) if v > u64::from(VERSION) => return Err(StateError::Newer(v)),
            Some(v) => return Err(StateError::Unsupported(v)),
            None => {
                return Err(StateError::Malformed(
                    "`version` is missing or not a whole number".into(),
                ))
            }
        }
        let rollout: Rollout = serde_path_to_error::deserialize(value)
            .map_err(|e| StateError::Malformed(format!("at `{}`: {}", e.path(), e.inner())))?;
        rollout.check().map_err(StateError::Inconsistent)?;
        Ok(rollout)
    }

    /// Checks that the parts of a deserialized state agree.
    pub(super) fn check(&self) -> Result<(), String> {
        check_plan(&self.plan)?;
        if self.tiers.len() != self.plan.tiers.len() {
            return Err(format!(
                "the plan has {} tiers but the state tracks {}",
                self.plan.tiers.len(),
                self.tiers.len()
            ));
        }
        if self.events.is_empty() {
            return Err("the event log is empty".into());
        }
        for (run, tier) in self.tiers.iter().zip(&self.plan.tiers) {
            if run.name != tier.name {
                return Err(format!(
                    "the state tracks tier `{}` where the plan has `{}`",
                    run.name, tier.name
                ));
            }
            if run.batches.len() != tier.batches.len() {
                return Err(format!(
                    "tier `{}` has {} batches in the plan but {} in the state",
                    tier.name,
                    tier.batches.len(),
                    run.batches.len()
                ));
            }
            let mut previous_complete = true;
            for (i, (b, planned)) in run.batches.iter().zip(&tier.batches).enumerate() {
                if let Some(host) = b.results.keys().find(|h| !planned.hosts.contains(h)) {
                    return Err(format!(
                        "host `{host}` has a result in batch {} of tier `{}`, which does not hold it",
                        i + 1,
                        tier.name
                    ));
                }
                if b.began.is_none() && !b.results.is_empty() {
                    return Err(format!(
                        "batch {} of tier `{}` has results but never began",
                        i + 1,
                        tier.name
                    ));
                }
                if b.began.is_some() && !previous_complete {
                    return Err(format!(
                        "batch {} of tier `{}` began before the batch before it finished",
                        i + 1,
                        tier.name
                    ));
                }
                previous_complete = b.results.len() == planned.hosts.len();
            }
        }
        Ok(())
    }
}

impl TierRun {
    /// Hosts of this tier that failed.
    pub fn failures(&self) -> usize {
        self.batches
            .iter()
            .flat_map(|b| b.results.values())
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
            .count()
    }
}

/// The plan's blackouts, refusing (unlike [`Plan::blackout_intervals`]) a
/// zone or period that does not parse: a rollout must not silently ignore
/// a freeze.
pub(super) fn plan_blackouts(plan: &Plan) -> Result<Blackouts, String> {
    let zone: Tz = plan
        .timezone
        .parse()
        .map_err(|_| format!("the plan's time zone `{}` is unknown", plan.timezone))?;
    let periods: Vec<_> = plan
        .blackouts
        .iter()
        .map(|b| (b.name.clone(), b.from, b.to))
        .collect();
    Blackouts::new(zone, &periods).map_err(|e| e.to_string())
}

/// Checks what running relies on and a plan made by [`Plan::new`] always
/// satisfies.
fn check_plan(plan: &Plan) -> Result<(), String> {
    plan_blackouts(plan)?;
    let mut tiers = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    for tier in &plan.tiers {
        for after in &tier.after {
            if !tiers.contains(after.as_str()) {
                return Err(format!(
                    "tier `{}` comes after `{after}`, which is not an earlier tier",
                    tier.name
                ));
            }
        }
        if !tiers.insert(tier.name.as_str()) {
            return Err(format!("two tiers are named `{}`", tier.name));
        }
        if tier.window.availability().is_none() {
            return Err(format!(
                "the window `{}` of tier `{}` does not parse",
                tier.window.name, tier.name
            ));
        }
        if tier.batch_duration < TimeDelta::zero()
            || tier.soak < TimeDelta::zero()
            || tier.notice_period < TimeDelta::zero()
        {
            return Err(format!("tier `{}` has a negative duration", tier.name));
        }
        let longest = TimeDelta::days(MAX_DURATION_DAYS);
        if tier.batch_duration > longest || tier.soak > longest || tier.notice_period > longest {
            return Err(format!(
                "tier `{}` has a duration longer than {} days",
                tier.name, MAX_DURATION_DAYS
            ));
        }
        let members: BTreeSet<&str> = tier.hosts.iter().map(String::as_str).collect();
        let mut in_batches = 0;
        for batch in &tier.batches {
            for host in &batch.hosts {
                if !members.contains(host.as_str()) {
                    return Err(format!(
                        "host `{host}` is in a batch of tier `{}` but not in the tier",
                        tier.name
                    ));
                }
                if !hosts.insert(host.as_str()) {
                    return Err(format!("host `{host}` is in two batches"));
                }
                in_batches += 1;
            }
        }
        if in_batches != tier.hosts.len() {
            return Err(format!(
                "tier `{}` has {} hosts but its batches hold {in_batches}",
                tier.name,
                tier.hosts.len()
            ));
        }
    }
    Ok(())
}
