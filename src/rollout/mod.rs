//! Rollout policies: tiers, maintenance windows, plans and running them.
//!
//! `calendar` knows recurrences, zones and blackouts; `policy` reads and
//! validates policy files; `plan` turns a policy and a fleet into a dated
//! plan; `run` is the state machine that runs a plan; `store` keeps its
//! state in a file, atomically and under a lock.

pub mod calendar;
mod plan;
mod policy;
mod run;
mod store;

pub use plan::{
    Batch, BlackoutPeriod, GroupLimit, Overlap, Plan, PlanError, TierChange, TierPlan, WindowSpec,
};
pub use policy::{
    scopes_from_toml, Amount, MaxUnavailable, Overrides, Percent, Policy, PolicyError, PolicyIssue,
    Rounding, ScopesError, Settings, Tier, Warning, WindowChoice, MANY_OCCURRENCES, NORMAL,
};
pub use run::{
    Action, BatchRun, Event, EventKind, HostResult, Outcome, Rollout, RunError, Signoff,
    StateError, Status, Stop, TierPhase, TierRun, TierStatus, ENGINE, FORMAT, VERSION,
};
pub use store::{StateFile, StoreError, DEFAULT_LOCK_TIMEOUT};
