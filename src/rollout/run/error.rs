//! Why an operation was refused ([`RunError`]) and why a stored state could
//! not be read ([`StateError`]).

use super::{Outcome, FORMAT, VERSION};

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
    /// The state could not be turned into JSON (an internal error).
    #[error("the rollout state could not be serialized: {0}")]
    Serialize(String),
    /// Well-formed, but its parts disagree (a hand edit?).
    #[error("the rollout state is inconsistent: {0}")]
    Inconsistent(String),
}
