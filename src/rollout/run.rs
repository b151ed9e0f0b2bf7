//! Running a plan (ROLLOUT.md rule 8): the rollout state that a patch tool
//! drives step by step, persists between runs, and can trust.
//!
//! This module owns the state machine: what may happen next
//! ([`Rollout::next`], a pure function of the state and an instant), and
//! the operations that change the state (results, acknowledgements,
//! approvals, halts, resumes, an abort). Every operation is validated in
//! full before anything is written, so an operation that returns an error
//! leaves the state exactly as it was, byte for byte once serialized.
//!
//! It must not read the clock (every instant is passed in), touch files
//! (that is [`super::store`]), or evaluate a scope: the hosts are the ones
//! the plan froze (rule 9).
//!
//! Decisions that rule 8 leaves open, written out in `docs/running.md`:
//! - a `start` action is acknowledged with [`Rollout::begin`], a `notify`
//!   action with [`Rollout::notified`]; each is accepted only when
//!   [`Rollout::next`] at that instant offers exactly that action, so the
//!   timing rules are enforced in one place;
//! - a tier finishes when every host has a result and the tier is not
//!   halted; after a halt is lifted it finishes no earlier than the resume;
//! - a batch may begin once the batch before it has every result (it need
//!   not wait out its `batch_duration`), and only where it fits wholly in
//!   one window occurrence, clear of blackouts, from the instant asked;
//! - a tier's notice goes out `notice_period` before its first batch, and
//!   that batch starts no earlier than `notice_period` after the notice was
//!   acknowledged.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::calendar::{self, earliest_slot, Availability, Blackouts};
use super::plan::{Plan, HORIZON_DAYS};

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
    format: String,
    version: u32,
    /// Incremented by every operation that changes the state.
    revision: u64,
    plan: Plan,
    tiers: Vec<TierRun>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    halt: Option<Stop>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    abort: Option<Stop>,
    events: Vec<Event>,
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
pub struct Signed {
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
    pub notified: Option<Signed>,
    /// Its approval, when it needs one and has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<Signed>,
    /// Set while the tier is halted on failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halted: Option<Stop>,
    /// The last time a halt of this tier was lifted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumed: Option<Signed>,
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

/// What a patch tool should do now. Batches are numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Tell the tier's contact that the tier starts at `until`, then
    /// acknowledge with [`Rollout::notified`].
    Notify {
        /// The tier.
        tier: String,
        /// When its first batch is expected to start.
        until: DateTime<Utc>,
        /// What to tell.
        reason: String,
        /// The contact, as the policy gives it.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        contact: BTreeMap<String, String>,
    },
    /// Patch these hosts. When `began` is absent, acknowledge with
    /// [`Rollout::begin`] first; the action stays until every host of the
    /// batch has a result.
    Start {
        /// The tier.
        tier: String,
        /// The batch, 1-based.
        batch: usize,
        /// Every host of the batch.
        hosts: Vec<String>,
        /// The hosts of the batch that have no result yet.
        pending: Vec<String>,
        /// When the batch began, once acknowledged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        began: Option<DateTime<Utc>>,
        /// When the batch's time (`batch_duration`) is up.
        until: DateTime<Utc>,
        /// Why now.
        reason: String,
    },
    /// Nothing to do for this tier (or the rollout) before `until`.
    Wait {
        /// The tier, when one is waiting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tier: Option<String>,
        /// The batch waited for, when the wait is for a batch's slot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch: Option<usize>,
        /// When to ask again.
        until: DateTime<Utc>,
        /// What is being waited for.
        reason: String,
    },
    /// A person must approve the tier ([`Rollout::approve`]).
    AwaitApproval {
        /// The tier.
        tier: String,
        /// Why.
        reason: String,
    },
    /// The tier (or, without a tier, the whole rollout) is halted or
    /// aborted; only a person can go on.
    Halted {
        /// The tier, for a tier's halt.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tier: Option<String>,
        /// Why, by whom and since when.
        reason: String,
        /// True when the rollout was aborted: nothing can resume it.
        aborted: bool,
        /// Hosts of a batch that had begun and still have no result: their
        /// results are still accepted.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pending: Vec<String>,
    },
    /// Every tier has finished.
    Done {
        /// A summary.
        reason: String,
    },
}

impl Action {
    /// The instant a wait lasts until, a notice is for, or a batch's time
    /// is up.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        match self {
            Action::Notify { until, .. }
            | Action::Start { until, .. }
            | Action::Wait { until, .. } => Some(*until),
            _ => None,
        }
    }
}

/// Why an operation was refused. The state is unchanged after each.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The plan cannot be run as it is (a hand-edited or damaged plan).
    #[error("the plan cannot be run: {0}")]
    InvalidPlan(String),
    /// No tier of this rollout has the host.
    #[error("no host named `{0}` in this rollout (the hosts were frozen when it was created)")]
    UnknownHost(String),
    /// The host's batch is not the one running in its tier.
    #[error("host `{host}` is in batch {batch} of tier `{tier}`, which is not running: {why}")]
    NotInRunningBatch {
        /// The host.
        host: String,
        /// Its tier.
        tier: String,
        /// Its batch, 1-based.
        batch: usize,
        /// What the batch's state is.
        why: String,
    },
    /// The host already has a different result.
    #[error("host `{host}` already has the result `{previous}` (recorded at {at}); results are final, so `{new}` is refused")]
    ConflictingResult {
        /// The host.
        host: String,
        /// The result it has.
        previous: Outcome,
        /// When that was recorded.
        at: String,
        /// The result refused.
        new: Outcome,
    },
    /// The instant given is before the last event.
    #[error(
        "time went backwards: {at} is before the last recorded event ({last}); pass a later time"
    )]
    TimeWentBackwards {
        /// The instant given.
        at: String,
        /// The last event's instant.
        last: String,
    },
    /// No tier has the name.
    #[error("no tier named `{tier}` in this rollout; tiers: {}", .known.join(", "))]
    UnknownTier {
        /// The name given.
        tier: String,
        /// The rollout's tiers.
        known: Vec<String>,
    },
    /// The tier has no batch with that number.
    #[error("tier `{tier}` has no batch {batch}; its batches are numbered 1 to {count}")]
    UnknownBatch {
        /// The tier.
        tier: String,
        /// The number given.
        batch: usize,
        /// How many it has.
        count: usize,
    },
    /// The policy does not ask for an approval of this tier.
    #[error("tier `{0}` needs no approval")]
    ApprovalNotNeeded(String),
    /// The tier was approved already.
    #[error("tier `{tier}` was already approved by {by} at {at}")]
    AlreadyApproved {
        /// The tier.
        tier: String,
        /// Who approved it.
        by: String,
        /// When.
        at: String,
    },
    /// The tier's predecessors have not finished.
    #[error("tier `{tier}` cannot be approved yet: {why}")]
    NotReadyForApproval {
        /// The tier.
        tier: String,
        /// What it waits for.
        why: String,
    },
    /// `begin` for a batch that `next` does not offer to start.
    #[error("batch {batch} of tier `{tier}` cannot begin at {at}: {why}")]
    CannotBegin {
        /// The tier.
        tier: String,
        /// The batch, 1-based.
        batch: usize,
        /// The instant given.
        at: String,
        /// What `next` says for the tier instead.
        why: String,
    },
    /// `notified` for a tier whose notice is not due.
    #[error("tier `{tier}` has no notice due at {at}: {why}")]
    NoNoticeDue {
        /// The tier.
        tier: String,
        /// The instant given.
        at: String,
        /// What `next` says for the tier instead.
        why: String,
    },
    /// `halt` while halted.
    #[error("the rollout is already halted (by {by} at {at}: {reason})")]
    AlreadyHalted {
        /// Who halted it.
        by: String,
        /// When.
        at: String,
        /// Why.
        reason: String,
    },
    /// `resume` without a tier while the rollout is not halted.
    #[error("the rollout is not halted{}", if .halted_tiers.is_empty() { String::new() } else { format!("; halted tiers: {} (resume one with its tier name)", .halted_tiers.join(", ")) })]
    NotHalted {
        /// Tiers that are halted on failures.
        halted_tiers: Vec<String>,
    },
    /// `resume` of a tier that is not halted.
    #[error("tier `{0}` is not halted")]
    TierNotHalted(String),
    /// Any operation after an abort.
    #[error("the rollout was aborted by {by} at {at} ({reason}); nothing can change it any more")]
    Aborted {
        /// Who aborted it.
        by: String,
        /// When.
        at: String,
        /// Why.
        reason: String,
    },
    /// A reason (of a halt, an abort or a failure) was empty.
    #[error("a {0} must have a reason; write why")]
    EmptyReason(&'static str),
    /// The actor was empty.
    #[error("every change must say who made it; `by` is empty")]
    NoActor,
}

/// Why a state file's text could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// Not JSON at all.
    #[error("not a rollout state: not valid JSON ({0})")]
    NotJson(String),
    /// JSON, but not a rollout state.
    #[error("not a rollout state: its `format` is {}, expected `{FORMAT}`", .0.as_deref().map_or("missing".to_string(), |f| format!("`{f}`")))]
    Foreign(Option<String>),
    /// Written by a newer fleetscope.
    #[error("the state was written in format version {0}, but this fleetscope reads versions up to {VERSION}; upgrade fleetscope to run it")]
    Newer(u64),
    /// A version this build cannot read.
    #[error("the state has format version {0}, which no fleetscope release wrote; this one reads version {VERSION}")]
    Unsupported(u64),
    /// The right format and version, but a field is wrong.
    #[error("the rollout state is damaged: {0}")]
    Malformed(String),
    /// Well-formed, but its parts disagree (a hand edit?).
    #[error("the rollout state is inconsistent: {0}")]
    Inconsistent(String),
}

/// Progress of one tier, as [`Rollout::status`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierStatus {
    /// The tier.
    pub name: String,
    /// Where it stands.
    pub phase: TierPhase,
    /// Hosts in the tier.
    pub hosts: usize,
    /// Hosts that succeeded.
    pub succeeded: usize,
    /// Hosts that failed.
    pub failed: usize,
    /// Failures the tier tolerates.
    pub max_failures: usize,
    /// Batches in the tier.
    pub batches: usize,
    /// Batches with every result in.
    pub batches_done: usize,
    /// When it is (or was) ready, once its predecessors have finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<DateTime<Utc>>,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<DateTime<Utc>>,
    /// Why it is halted or blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a tier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TierPhase {
    /// Waiting for predecessors, soak, notice or a window.
    Pending,
    /// Ready, waiting for a person's approval.
    WaitingApproval,
    /// A batch has begun and the tier has not finished.
    Running,
    /// Halted on failures.
    Halted,
    /// A tier it comes after (directly or not) is halted.
    Blocked,
    /// Every host has a result.
    Finished,
    /// The rollout was aborted before the tier finished.
    Aborted,
}

impl fmt::Display for TierPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TierPhase::Pending => "pending",
            TierPhase::WaitingApproval => "waiting for approval",
            TierPhase::Running => "running",
            TierPhase::Halted => "halted",
            TierPhase::Blocked => "blocked",
            TierPhase::Finished => "finished",
            TierPhase::Aborted => "aborted",
        })
    }
}

/// A summary of a rollout, per tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The state's revision.
    pub revision: u64,
    /// The plan's severity.
    pub severity: String,
    /// The whole rollout's halt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub halted: Option<Stop>,
    /// The abort.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted: Option<Stop>,
    /// Every tier, in rollout order.
    pub tiers: Vec<TierStatus>,
    /// Events in the log.
    pub events: usize,
    /// The last event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event: Option<Event>,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "rollout (severity `{}`), revision {}, {} events",
            self.severity, self.revision, self.events
        )?;
        if let Some(a) = &self.aborted {
            writeln!(f, "ABORTED by {} at {}: {}", a.by, ts(a.at), a.reason)?;
        } else if let Some(h) = &self.halted {
            writeln!(f, "HALTED by {} at {}: {}", h.by, ts(h.at), h.reason)?;
        }
        for t in &self.tiers {
            writeln!(
                f,
                "  {:<16} {:<20} batches {}/{}  hosts {}/{} ok, {} failed (tolerates {})",
                t.name,
                t.phase.to_string(),
                t.batches_done,
                t.batches,
                t.succeeded,
                t.hosts,
                t.failed,
                t.max_failures
            )?;
            if let Some(note) = &t.note {
                writeln!(f, "  {:<16} {note}", "")?;
            }
        }
        if let Some(e) = &self.last_event {
            writeln!(f, "last event: {} by {}: {}", ts(e.at), e.actor, e.event)?;
        }
        Ok(())
    }
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

/// An instant as RFC 3339 in UTC, as every message shows it.
fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `t + d`, saturating at the ends of the calendar: a time past the end is
/// "never", which `next` reports as a wait rather than a panic.
fn plus(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    match t.checked_add_signed(d) {
        Some(t) => t,
        None if d < TimeDelta::zero() => DateTime::<Utc>::MIN_UTC,
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// Derived facts about one tier, computed in rollout order.
#[derive(Debug, Clone, Default)]
struct View {
    /// Every predecessor has finished.
    preds_finished: bool,
    /// A halted tier this one comes after, directly or not.
    blocked_by: Option<String>,
    /// When it is ready, and why then (set once its predecessors finished).
    ready: Option<(DateTime<Utc>, String)>,
    /// When it finished.
    finished: Option<DateTime<Utc>>,
    /// The first batch without every result.
    current: Option<usize>,
}

/// The calendar a tier is scheduled with.
struct Calendar {
    availability: Availability,
    blackouts: Blackouts,
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

    /// A host's result, if it has one.
    pub fn result(&self, host: &str) -> Option<&HostResult> {
        self.tiers
            .iter()
            .flat_map(|t| &t.batches)
            .find_map(|b| b.results.get(host))
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
    pub fn to_json(&self) -> String {
        // Every field is a string, number, list or map with string keys, so
        // serialization cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
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
    fn check(&self) -> Result<(), String> {
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

    // ------------------------------------------------------------------
    // Reading: what to do now.

    /// What to do at `now`: one action per tier that has something to do or
    /// wait for, in rollout order; a single `halted` action while the whole
    /// rollout is halted or aborted; a single `done` when every tier has
    /// finished.
    ///
    /// A pure function of the state and `now`: asking twice gives the same
    /// answer. It costs one slot search per tier that is waiting for a
    /// batch or a notice.
    pub fn next(&self, now: DateTime<Utc>) -> Vec<Action> {
        if let Some(a) = &self.abort {
            return vec![Action::Halted {
                tier: None,
                reason: format!("aborted by {} at {}: {}", a.by, ts(a.at), a.reason),
                aborted: true,
                pending: Vec::new(),
            }];
        }
        if let Some(h) = &self.halt {
            return vec![Action::Halted {
                tier: None,
                reason: format!(
                    "the rollout was halted by {} at {}: {}",
                    h.by,
                    ts(h.at),
                    h.reason
                ),
                aborted: false,
                pending: self.in_flight(),
            }];
        }
        let views = self.views();
        let blackouts = self.blackouts();
        let mut actions = Vec::new();
        for (i, view) in views.iter().enumerate() {
            if let Some(action) = self.tier_action(i, view, &blackouts, now) {
                actions.push(action);
            }
        }
        if actions.is_empty() {
            let finished = views.iter().filter(|v| v.finished.is_some()).count();
            let hosts: usize = self.plan.tiers.iter().map(|t| t.hosts.len()).sum();
            let failed = self.failed_total();
            actions.push(Action::Done {
                reason: format!(
                    "{finished} of {} tiers finished; {} of {hosts} hosts succeeded, {failed} failed",
                    views.len(),
                    hosts - failed.min(hosts)
                ),
            });
        }
        actions
    }

    fn tier_action(
        &self,
        i: usize,
        view: &View,
        blackouts: &Blackouts,
        now: DateTime<Utc>,
    ) -> Option<Action> {
        let tier = self.plan.tiers.get(i)?;
        let run = self.tiers.get(i)?;
        let name = tier.name.clone();
        if let Some(finished) = view.finished {
            // An empty tier finishes when it is ready, which may be later.
            return (finished > now).then(|| Action::Wait {
                tier: Some(name.clone()),
                batch: None,
                until: finished,
                reason: format!("tier `{name}` has no hosts; it finishes when it is ready"),
            });
        }
        if let Some(h) = &run.halted {
            return Some(Action::Halted {
                tier: Some(name),
                reason: format!("halted at {}: {}", ts(h.at), h.reason),
                aborted: false,
                pending: view
                    .current
                    .filter(|b| run.batches.get(*b).is_some_and(|b| b.began.is_some()))
                    .map_or_else(Vec::new, |b| self.pending_of(i, Some(b))),
            });
        }
        if view.blocked_by.is_some() {
            // The halted tier in the way reports its own state.
            return None;
        }
        if !view.preds_finished || view.ready.as_ref().is_some_and(|(r, _)| now < *r) {
            // Not ready yet, but the notice runs on the plan's schedule
            // (rule 9: the plan is what runs): it goes out at the planned
            // instant even while earlier tiers are still at work, so the
            // tier is not a whole notice period late. Its first batch still
            // waits for the notice period after the notice went out.
            if run.notified.is_none() && tier.notice_period > TimeDelta::zero() {
                if let (Some(due), Some(first)) = (tier.notice, tier.batches.first()) {
                    if now >= due {
                        let contact = contact_text(&tier.contact);
                        return Some(Action::Notify {
                            reason: format!(
                                "tell {contact} that tier `{name}` ({} hosts) is planned to start at {}",
                                tier.hosts.len(),
                                ts(first.start)
                            ),
                            tier: name,
                            until: first.start,
                            contact: tier.contact.clone(),
                        });
                    }
                }
            }
        }
        if !view.preds_finished {
            // The tier in the way reports its own state.
            return None;
        }
        let (ready, why) = view.ready.clone()?;
        if now < ready {
            return Some(Action::Wait {
                tier: Some(name),
                batch: None,
                until: ready,
                reason: why,
            });
        }
        if tier.approval && run.approved.is_none() {
            return Some(Action::AwaitApproval {
                reason: format!(
                    "tier `{name}` needs a person's approval; it is ready since {}",
                    ts(ready)
                ),
                tier: name,
            });
        }
        let base = run.approved.as_ref().map_or(ready, |a| a.at.max(ready));
        let calendar = Calendar {
            availability: tier.window.availability()?,
            blackouts: blackouts.clone(),
        };
        let contact = contact_text(&tier.contact);
        let Some(notified) = &run.notified else {
            let from = base.max(plus(now, tier.notice_period));
            let Some(first) = calendar.slot(from, tier.batch_duration) else {
                return Some(no_slot(&name, &tier.window.name, from));
            };
            let due = plus(first, -tier.notice_period);
            if now >= due {
                return Some(Action::Notify {
                    reason: format!(
                        "tell {contact} that tier `{name}` ({} hosts) starts at {}",
                        tier.hosts.len(),
                        ts(first)
                    ),
                    tier: name,
                    until: first,
                    contact: tier.contact.clone(),
                });
            }
            return Some(Action::Wait {
                reason: format!(
                    "the notice to {contact} for tier `{name}` is due at {}, {} before its first batch at {}",
                    ts(due),
                    calendar::format_duration(tier.notice_period),
                    ts(first)
                ),
                tier: Some(name),
                batch: None,
                until: due,
            });
        };
        let b = view.current?;
        let planned = tier.batches.get(b)?;
        let batch_run = run.batches.get(b)?;
        let pending = self.pending_of(i, Some(b));
        if let Some(began) = batch_run.began {
            return Some(Action::Start {
                reason: format!(
                    "batch {} of tier `{name}` began at {}; {} of {} results are in",
                    b + 1,
                    ts(began),
                    planned.hosts.len() - pending.len(),
                    planned.hosts.len()
                ),
                tier: name,
                batch: b + 1,
                hosts: planned.hosts.clone(),
                pending,
                began: Some(began),
                until: plus(began, tier.batch_duration),
            });
        }
        // Not before the notice period has passed, nor before the batch
        // before it has every result.
        let after_notice = plus(notified.at, tier.notice_period);
        let previous_done = b
            .checked_sub(1)
            .and_then(|p| run.batches.get(p))
            .and_then(|p| p.results.values().map(|r| r.at).max());
        let not_before = previous_done
            .map_or(base, |d| d.max(base))
            .max(after_notice);
        let from = not_before.max(now);
        let Some(slot) = calendar.slot(from, tier.batch_duration) else {
            return Some(no_slot(&name, &tier.window.name, from));
        };
        if slot == now {
            return Some(Action::Start {
                reason: format!(
                    "batch {} of tier `{name}` fits now ({} hosts, {})",
                    b + 1,
                    planned.hosts.len(),
                    calendar::format_duration(tier.batch_duration)
                ),
                tier: name,
                batch: b + 1,
                hosts: planned.hosts.clone(),
                pending,
                began: None,
                until: plus(now, tier.batch_duration),
            });
        }
        let reason = if from > now && from == slot {
            if from == after_notice {
                format!(
                    "the notice period ({}) of tier `{name}` runs until {}",
                    calendar::format_duration(tier.notice_period),
                    ts(from)
                )
            } else {
                format!("batch {} of tier `{name}` may start at {}", b + 1, ts(from))
            }
        } else {
            calendar.why_later(&tier.window.name, from, slot, tier.batch_duration)
        };
        Some(Action::Wait {
            tier: Some(name),
            batch: Some(b + 1),
            until: slot,
            reason,
        })
    }

    /// Facts about each tier, in rollout order (predecessors come first).
    fn views(&self) -> Vec<View> {
        let index: BTreeMap<&str, usize> = self
            .plan
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_str(), i))
            .collect();
        let mut views: Vec<View> = Vec::with_capacity(self.plan.tiers.len());
        for (tier, run) in self.plan.tiers.iter().zip(&self.tiers) {
            let preds: Vec<(&str, Option<&View>)> = tier
                .after
                .iter()
                .map(|a| {
                    (
                        a.as_str(),
                        index.get(a.as_str()).and_then(|p| views.get(*p)),
                    )
                })
                .collect();
            let mut view = View {
                preds_finished: preds
                    .iter()
                    .all(|(_, v)| v.is_some_and(|v| v.finished.is_some())),
                ..View::default()
            };
            view.blocked_by = preds.iter().find_map(|(name, v)| {
                let v = v.as_ref()?;
                let halted = index
                    .get(name)
                    .and_then(|p| self.tiers.get(*p))
                    .is_some_and(|r| r.halted.is_some());
                if halted {
                    Some((*name).to_string())
                } else {
                    v.blocked_by.clone()
                }
            });
            if view.preds_finished {
                let mut ready = (
                    self.plan.start,
                    format!("the rollout starts at {}", ts(self.plan.start)),
                );
                for (name, v) in &preds {
                    let Some(p) = index.get(name).and_then(|p| self.plan.tiers.get(*p)) else {
                        continue;
                    };
                    if let Some(finished) = v.and_then(|v| v.finished) {
                        let soaked = plus(finished, p.soak);
                        if soaked > ready.0 {
                            ready = (
                                soaked,
                                format!(
                                    "the soak of tier `{name}` ({}) runs until {}",
                                    calendar::format_duration(p.soak),
                                    ts(soaked)
                                ),
                            );
                        }
                    }
                }
                view.ready = Some(ready);
            }
            view.current = tier
                .batches
                .iter()
                .zip(&run.batches)
                .position(|(planned, b)| b.results.len() < planned.hosts.len());
            view.finished = if run.halted.is_some() {
                None
            } else if tier.hosts.is_empty() {
                match (&view.ready, tier.approval, &run.approved) {
                    (Some((ready, _)), false, _) => Some(*ready),
                    (Some((ready, _)), true, Some(a)) => Some(a.at.max(*ready)),
                    _ => None,
                }
            } else if view.current.is_none() {
                run.batches
                    .iter()
                    .flat_map(|b| b.results.values().map(|r| r.at))
                    .chain(run.resumed.as_ref().map(|r| r.at))
                    .max()
            } else {
                None
            };
            views.push(view);
        }
        views
    }

    fn blackouts(&self) -> Blackouts {
        // Checked when the rollout was created or loaded.
        plan_blackouts(&self.plan).unwrap_or_default()
    }

    /// Hosts of batch `b` of tier `i` without a result.
    fn pending_of(&self, i: usize, b: Option<usize>) -> Vec<String> {
        let (Some(tier), Some(run), Some(b)) = (self.plan.tiers.get(i), self.tiers.get(i), b)
        else {
            return Vec::new();
        };
        let (Some(planned), Some(batch)) = (tier.batches.get(b), run.batches.get(b)) else {
            return Vec::new();
        };
        planned
            .hosts
            .iter()
            .filter(|h| !batch.results.contains_key(*h))
            .cloned()
            .collect()
    }

    /// Hosts of every begun batch that have no result yet.
    fn in_flight(&self) -> Vec<String> {
        let mut hosts = Vec::new();
        for (tier, run) in self.plan.tiers.iter().zip(&self.tiers) {
            for (planned, batch) in tier.batches.iter().zip(&run.batches) {
                if batch.began.is_some() {
                    hosts.extend(
                        planned
                            .hosts
                            .iter()
                            .filter(|h| !batch.results.contains_key(*h))
                            .cloned(),
                    );
                }
            }
        }
        hosts
    }

    fn failed_total(&self) -> usize {
        self.tiers.iter().map(TierRun::failures).sum()
    }

    /// Progress per tier at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> Status {
        let views = self.views();
        let tiers = self
            .plan
            .tiers
            .iter()
            .zip(&self.tiers)
            .zip(&views)
            .map(|((tier, run), view)| {
                let failed = run.failures();
                let results: usize = run.batches.iter().map(|b| b.results.len()).sum();
                let batches_done = tier
                    .batches
                    .iter()
                    .zip(&run.batches)
                    .filter(|(p, b)| b.results.len() == p.hosts.len())
                    .count();
                let began = run.batches.iter().any(|b| b.began.is_some());
                let (phase, note) = if view.finished.is_some_and(|f| f <= now) {
                    (TierPhase::Finished, None)
                } else if self.abort.is_some() {
                    (TierPhase::Aborted, None)
                } else if let Some(h) = &run.halted {
                    (
                        TierPhase::Halted,
                        Some(format!("halted at {}: {}", ts(h.at), h.reason)),
                    )
                } else if let Some(by) = &view.blocked_by {
                    (
                        TierPhase::Blocked,
                        Some(format!("blocked: tier `{by}` is halted")),
                    )
                } else if began {
                    (TierPhase::Running, None)
                } else if tier.approval
                    && run.approved.is_none()
                    && view.ready.as_ref().is_some_and(|(r, _)| *r <= now)
                {
                    (TierPhase::WaitingApproval, None)
                } else {
                    (TierPhase::Pending, None)
                };
                TierStatus {
                    name: tier.name.clone(),
                    phase,
                    hosts: tier.hosts.len(),
                    succeeded: results - failed.min(results),
                    failed,
                    max_failures: tier.max_failures,
                    batches: tier.batches.len(),
                    batches_done,
                    ready: view.ready.as_ref().map(|(r, _)| *r),
                    finished: view.finished,
                    note,
                }
            })
            .collect();
        Status {
            revision: self.revision,
            severity: self.plan.severity.clone(),
            halted: self.halt.clone(),
            aborted: self.abort.clone(),
            tiers,
            events: self.events.len(),
            last_event: self.events.last().cloned(),
        }
    }

    // ------------------------------------------------------------------
    // Changing: every operation validates everything before it writes.

    /// Records a host's result. Returns `Ok(false)`, changing nothing, when
    /// the host already has this very result (a retry).
    ///
    /// Refuses a host the rollout does not have, a host whose batch has not
    /// begun or has no result missing, a result that contradicts the one
    /// recorded, a time before the last event, and any result after an
    /// abort. Results are accepted while the tier or the rollout is halted:
    /// the hosts of a begun batch are still being patched.
    ///
    /// A failure that takes the tier's failures beyond `max_failures`
    /// halts the tier (logged with [`ENGINE`] as the actor); after the halt
    /// is resumed, every further failure halts it again.
    pub fn record(
        &mut self,
        host: &str,
        outcome: Outcome,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, RunError> {
        self.check_open()?;
        check_actor(by)?;
        if matches!(&outcome, Outcome::Failed(r) if r.trim().is_empty()) {
            return Err(RunError::EmptyReason("failure"));
        }
        let (t, b) = self
            .locate(host)
            .ok_or_else(|| RunError::UnknownHost(host.to_string()))?;
        let tier_name = self.tier_name(t);
        let (Some(tier), Some(run)) = (self.plan.tiers.get(t), self.tiers.get(t)) else {
            return Err(RunError::UnknownHost(host.to_string()));
        };
        let batch = run
            .batches
            .get(b)
            .ok_or_else(|| RunError::UnknownHost(host.to_string()))?;
        if let Some(previous) = batch.results.get(host) {
            if previous.outcome == outcome {
                return Ok(false);
            }
            return Err(RunError::ConflictingResult {
                host: host.to_string(),
                previous: previous.outcome.clone(),
                at: ts(previous.at),
                new: outcome,
            });
        }
        if batch.began.is_none() {
            return Err(RunError::NotInRunningBatch {
                host: host.to_string(),
                tier: tier_name,
                batch: b + 1,
                why: "it has not begun; `next` says when it may, and `begin` records that it did"
                    .into(),
            });
        }
        self.check_time(at)?;
        let failures = run.failures() + usize::from(matches!(outcome, Outcome::Failed(_)));
        let halts = matches!(outcome, Outcome::Failed(_))
            && failures > tier.max_failures
            && run.halted.is_none();
        let halt_reason = match &outcome {
            Outcome::Failed(reason) => format!(
                "{failures} failures exceed max_failures {} (the last: {host}: {reason})",
                tier.max_failures
            ),
            Outcome::Succeeded => String::new(),
        };

        // Apply.
        if let Some(batch) = self.tiers.get_mut(t).and_then(|r| r.batches.get_mut(b)) {
            batch.results.insert(
                host.to_string(),
                HostResult {
                    outcome: outcome.clone(),
                    at,
                },
            );
        }
        self.log(
            at,
            by,
            EventKind::Result {
                tier: tier_name.clone(),
                batch: b + 1,
                host: host.to_string(),
                outcome,
            },
        );
        if halts {
            if let Some(run) = self.tiers.get_mut(t) {
                run.halted = Some(Stop {
                    reason: halt_reason.clone(),
                    by: ENGINE.to_string(),
                    at,
                });
            }
            self.log(
                at,
                ENGINE,
                EventKind::TierHalted {
                    tier: tier_name,
                    reason: halt_reason,
                },
            );
        }
        Ok(true)
    }

    /// Acknowledges a `start` action: the patch tool began batch `batch`
    /// (1-based) of `tier` at `at`. Accepted only when [`Rollout::next`] at
    /// `at` offers to start exactly this batch.
    pub fn begin(
        &mut self,
        tier: &str,
        batch: usize,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), RunError> {
        self.check_open()?;
        check_actor(by)?;
        let t = self.tier_index(tier)?;
        let count = self.plan.tiers.get(t).map_or(0, |p| p.batches.len());
        if batch == 0 || batch > count {
            return Err(RunError::UnknownBatch {
                tier: tier.to_string(),
                batch,
                count,
            });
        }
        self.check_time(at)?;
        let actions = self.next(at);
        let offered = actions.iter().any(|a| {
            matches!(a, Action::Start { tier: n, batch: k, began: None, .. } if n == tier && *k == batch)
        });
        if !offered {
            return Err(RunError::CannotBegin {
                tier: tier.to_string(),
                batch,
                at: ts(at),
                why: describe_for(&actions, tier),
            });
        }
        if let Some(b) = self
            .tiers
            .get_mut(t)
            .and_then(|r| r.batches.get_mut(batch - 1))
        {
            b.began = Some(at);
        }
        self.log(
            at,
            by,
            EventKind::Began {
                tier: tier.to_string(),
                batch,
            },
        );
        Ok(())
    }

    /// Acknowledges a `notify` action: the tier's contact was told at `at`.
    /// Accepted only when [`Rollout::next`] at `at` asks for this notice.
    pub fn notified(&mut self, tier: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        self.check_open()?;
        check_actor(by)?;
        let t = self.tier_index(tier)?;
        self.check_time(at)?;
        let actions = self.next(at);
        let due = actions
            .iter()
            .any(|a| matches!(a, Action::Notify { tier: n, .. } if n == tier));
        if !due {
            return Err(RunError::NoNoticeDue {
                tier: tier.to_string(),
                at: ts(at),
                why: describe_for(&actions, tier),
            });
        }
        if let Some(run) = self.tiers.get_mut(t) {
            run.notified = Some(Signed {
                by: by.to_string(),
                at,
            });
        }
        self.log(
            at,
            by,
            EventKind::Notified {
                tier: tier.to_string(),
            },
        );
        Ok(())
    }

    /// Approves a tier whose policy asks for approval. Accepted once every
    /// tier it comes after has finished (its soak may still be running, so
    /// an approver can look at the results and approve in advance), also
    /// while the rollout is halted.
    pub fn approve(&mut self, tier: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        self.check_open()?;
        check_actor(by)?;
        let t = self.tier_index(tier)?;
        let (Some(planned), Some(run)) = (self.plan.tiers.get(t), self.tiers.get(t)) else {
            return Err(self.unknown_tier(tier));
        };
        if !planned.approval {
            return Err(RunError::ApprovalNotNeeded(tier.to_string()));
        }
        if let Some(a) = &run.approved {
            return Err(RunError::AlreadyApproved {
                tier: tier.to_string(),
                by: a.by.clone(),
                at: ts(a.at),
            });
        }
        let views = self.views();
        let view = views.get(t).cloned().unwrap_or_default();
        if !view.preds_finished {
            let waiting: Vec<String> = planned
                .after
                .iter()
                .filter(|a| {
                    self.tier_index(a)
                        .ok()
                        .and_then(|p| views.get(p))
                        .is_none_or(|v| v.finished.is_none())
                })
                .map(|a| format!("`{a}`"))
                .collect();
            return Err(RunError::NotReadyForApproval {
                tier: tier.to_string(),
                why: format!(
                    "tier(s) {} it comes after have not finished",
                    waiting.join(", ")
                ),
            });
        }
        self.check_time(at)?;
        if let Some(run) = self.tiers.get_mut(t) {
            run.approved = Some(Signed {
                by: by.to_string(),
                at,
            });
        }
        self.log(
            at,
            by,
            EventKind::Approved {
                tier: tier.to_string(),
            },
        );
        Ok(())
    }

    /// Halts the whole rollout until [`Rollout::resume`]: `next` reports
    /// only the halt; results of hosts already being patched are still
    /// accepted, and approvals too.
    pub fn halt(&mut self, reason: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        self.check_open()?;
        check_actor(by)?;
        if reason.trim().is_empty() {
            return Err(RunError::EmptyReason("halt"));
        }
        if let Some(h) = &self.halt {
            return Err(RunError::AlreadyHalted {
                by: h.by.clone(),
                at: ts(h.at),
                reason: h.reason.clone(),
            });
        }
        self.check_time(at)?;
        self.halt = Some(Stop {
            reason: reason.to_string(),
            by: by.to_string(),
            at,
        });
        self.log(
            at,
            by,
            EventKind::Halted {
                reason: reason.to_string(),
            },
        );
        Ok(())
    }

    /// Lifts a halt: the whole rollout's with `tier = None`, or the named
    /// tier's halt on failures. A resumed tier finishes no earlier than its
    /// resume, so its dependents soak from then at the earliest.
    pub fn resume(
        &mut self,
        tier: Option<&str>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), RunError> {
        self.check_open()?;
        check_actor(by)?;
        match tier {
            None => {
                if self.halt.is_none() {
                    return Err(RunError::NotHalted {
                        halted_tiers: self
                            .tiers
                            .iter()
                            .filter(|t| t.halted.is_some())
                            .map(|t| t.name.clone())
                            .collect(),
                    });
                }
                self.check_time(at)?;
                self.halt = None;
            }
            Some(name) => {
                let t = self.tier_index(name)?;
                if self.tiers.get(t).is_none_or(|r| r.halted.is_none()) {
                    return Err(RunError::TierNotHalted(name.to_string()));
                }
                self.check_time(at)?;
                if let Some(run) = self.tiers.get_mut(t) {
                    run.halted = None;
                    run.resumed = Some(Signed {
                        by: by.to_string(),
                        at,
                    });
                }
            }
        }
        self.log(
            at,
            by,
            EventKind::Resumed {
                tier: tier.map(str::to_string),
            },
        );
        Ok(())
    }

    /// Aborts the rollout for good: afterwards every operation is refused
    /// and `next` reports the abort.
    pub fn abort(&mut self, reason: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        self.check_open()?;
        check_actor(by)?;
        if reason.trim().is_empty() {
            return Err(RunError::EmptyReason("abort"));
        }
        self.check_time(at)?;
        self.abort = Some(Stop {
            reason: reason.to_string(),
            by: by.to_string(),
            at,
        });
        self.log(
            at,
            by,
            EventKind::Aborted {
                reason: reason.to_string(),
            },
        );
        Ok(())
    }

    fn log(&mut self, at: DateTime<Utc>, by: &str, event: EventKind) {
        self.revision += 1;
        self.events.push(Event {
            at,
            actor: by.to_string(),
            event,
        });
    }

    fn check_open(&self) -> Result<(), RunError> {
        match &self.abort {
            Some(a) => Err(RunError::Aborted {
                by: a.by.clone(),
                at: ts(a.at),
                reason: a.reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn check_time(&self, at: DateTime<Utc>) -> Result<(), RunError> {
        let last = self.last_event_at();
        if at < last {
            return Err(RunError::TimeWentBackwards {
                at: ts(at),
                last: ts(last),
            });
        }
        Ok(())
    }

    fn tier_index(&self, name: &str) -> Result<usize, RunError> {
        self.plan
            .tiers
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| self.unknown_tier(name))
    }

    fn unknown_tier(&self, name: &str) -> RunError {
        RunError::UnknownTier {
            tier: name.to_string(),
            known: self.plan.tiers.iter().map(|t| t.name.clone()).collect(),
        }
    }

    fn tier_name(&self, t: usize) -> String {
        self.plan
            .tiers
            .get(t)
            .map_or_else(String::new, |t| t.name.clone())
    }

    /// The tier and batch (0-based) holding a host.
    fn locate(&self, host: &str) -> Option<(usize, usize)> {
        self.plan.tiers.iter().enumerate().find_map(|(t, tier)| {
            tier.batches
                .iter()
                .position(|b| b.hosts.iter().any(|h| h == host))
                .map(|b| (t, b))
        })
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

impl Calendar {
    fn slot(&self, from: DateTime<Utc>, length: TimeDelta) -> Option<DateTime<Utc>> {
        earliest_slot(
            &self.availability,
            &self.blackouts,
            from,
            length,
            TimeDelta::days(HORIZON_DAYS),
        )
    }

    /// Why a batch asked for at `from` fits only at `slot`.
    fn why_later(
        &self,
        window: &str,
        from: DateTime<Utc>,
        slot: DateTime<Utc>,
        length: TimeDelta,
    ) -> String {
        if let Some(name) = self.blackouts.overlapping(from, plus(from, length)) {
            return format!(
                "blackout `{name}`; the next slot that fits is at {}",
                ts(slot)
            );
        }
        let unblocked = earliest_slot(
            &self.availability,
            &Blackouts::none(),
            from,
            length,
            TimeDelta::days(HORIZON_DAYS),
        );
        if let Some(open) = unblocked.filter(|s| *s < slot) {
            if let Some(name) = self.blackouts.overlapping(open, plus(open, length)) {
                return format!(
                    "window `{window}` opens at {} but blackout `{name}` covers it; the next slot that fits is at {}",
                    ts(open),
                    ts(slot)
                );
            }
        }
        format!(
            "the next slot in window `{window}` that holds a {} batch opens at {}",
            calendar::format_duration(length),
            ts(slot)
        )
    }
}

fn no_slot(tier: &str, window: &str, from: DateTime<Utc>) -> Action {
    Action::Halted {
        tier: Some(tier.to_string()),
        reason: format!(
            "tier `{tier}` finds no slot in window `{window}` outside blackouts within {} years after {}; a person must look",
            HORIZON_DAYS / 366,
            ts(from)
        ),
        aborted: false,
        pending: Vec::new(),
    }
}

/// What the actions say for one tier, for an error message.
fn describe_for(actions: &[Action], tier: &str) -> String {
    let found = actions.iter().find(|a| match a {
        Action::Notify { tier: t, .. }
        | Action::Start { tier: t, .. }
        | Action::AwaitApproval { tier: t, .. } => t == tier,
        Action::Wait { tier: t, .. } | Action::Halted { tier: t, .. } => {
            t.as_deref() == Some(tier) || t.is_none()
        }
        Action::Done { .. } => true,
    });
    match found {
        Some(Action::Notify { until, .. }) => format!(
            "its contact must be notified first (first batch at {})",
            ts(*until)
        ),
        Some(Action::Start {
            batch,
            began: Some(b),
            ..
        }) => format!("batch {batch} began at {} and is still running", ts(*b)),
        Some(Action::Start { batch, .. }) => format!("batch {batch} is the one to start now"),
        Some(Action::Wait { until, reason, .. }) => {
            format!("`next` says wait until {}: {reason}", ts(*until))
        }
        Some(Action::AwaitApproval { .. }) => "it waits for approval".into(),
        Some(Action::Halted { reason, .. }) => format!("halted: {reason}"),
        Some(Action::Done { .. }) => "the rollout is done".into(),
        None => "it waits for the tiers it comes after, or has finished".into(),
    }
}

fn contact_text(contact: &BTreeMap<String, String>) -> String {
    match contact.get("name") {
        Some(name) => format!("`{name}`"),
        None => "the tier's contact".into(),
    }
}

fn check_actor(by: &str) -> Result<(), RunError> {
    if by.trim().is_empty() {
        return Err(RunError::NoActor);
    }
    Ok(())
}

/// The plan's blackouts, refusing (unlike [`Plan::blackout_intervals`]) a
/// zone or period that does not parse: a rollout must not silently ignore
/// a freeze.
fn plan_blackouts(plan: &Plan) -> Result<Blackouts, String> {
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
        let longest = TimeDelta::days(crate::rollout::policy::MAX_DURATION_DAYS);
        if tier.batch_duration > longest || tier.soak > longest || tier.notice_period > longest {
            return Err(format!(
                "tier `{}` has a duration longer than {} days",
                tier.name,
                crate::rollout::policy::MAX_DURATION_DAYS
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
