//! Rollout policies: tiers, maintenance windows, plans and running them.
//!
//! `calendar` knows recurrences, zones and blackouts; `policy` reads and
//! validates policy files; `plan` turns a policy and a fleet into a dated
//! plan.

pub mod calendar;
pub mod plan;
pub mod policy;

pub use plan::{Batch, Overlap, Plan, PlanError, TierPlan};
pub use policy::{Policy, PolicyError};
