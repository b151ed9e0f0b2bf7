//! Rollout policies: tiers, maintenance windows, plans and running them.
//!
//! `calendar` knows recurrences, zones and blackouts; `policy` reads and
//! validates policy files; `plan` turns a policy and a fleet into a dated
//! plan; `run` is the state machine that runs a plan; `store` keeps its
//! state in a file, atomically and under a lock; `stores` puts states in
//! databases behind one [`Store`] trait.

pub mod calendar;
pub mod plan;
pub mod policy;
pub mod run;
pub mod store;
pub mod stores;

pub use plan::{Batch, Overlap, Plan, PlanError, TierPlan};
pub use policy::{Policy, PolicyError, Warning};
pub use run::{Action, Event, EventKind, Outcome, Rollout, RunError, StateError, Status};
pub use store::{StateFile, StoreError};
pub use stores::{Location, StorageError, Store};
