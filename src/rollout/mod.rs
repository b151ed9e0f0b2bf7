//! Rollout policies: tiers, maintenance windows, plans and running them.
//!
//! `calendar` knows recurrences, zones and blackouts; `policy` reads and
//! validates policy files; `plan` turns a policy and a fleet into a dated
//! plan; `run` is the state machine that runs a plan; `store` keeps its
//! state in a file, atomically and under a lock; `stores` puts states in
//! databases behind one [`Store`] trait. `cost` is money: it prices time
//! with the rates a policy's terms give.

pub mod calendar;
mod cost;
mod plan;
mod policy;
mod run;
mod store;
mod stores;

pub use cost::{hours_text, Cost, HoursSpec, Money, Rates};
pub use plan::{
    Batch, BlackoutPeriod, GroupLimit, Overlap, Plan, PlanError, TierChange, TierPlan, WindowSpec,
};
pub use policy::{
    scopes_from_toml, Amount, MaxUnavailable, NoticeTerms, Overrides, Percent, Policy, PolicyError,
    PolicyIssue, Rounding, ScopesError, Settings, Terms, Tier, Warning, WindowChoice,
    MANY_OCCURRENCES, NORMAL,
};
pub use run::{
    Action, Applied, BatchRun, Event, EventKind, HostResult, Operation, Outcome, Rollout, RunError,
    Signoff, StateError, Status, Stop, TierPhase, TierRun, TierStatus, ENGINE, FORMAT, VERSION,
};
pub use store::{StateFile, StoreError, DEFAULT_LOCK_TIMEOUT};
#[cfg(feature = "postgres")]
pub use stores::PostgresStore;
#[cfg(feature = "sqlite")]
pub use stores::SqliteStore;
pub use stores::{
    check_name, redact, ConnInfo, ConnInfoError, Listed, Location, Next, StorageError, Store,
    DEFAULT_NAME, SCHEMA_VERSION,
};
