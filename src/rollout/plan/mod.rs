//! Plans: from a validated policy, a fleet, a start instant and a severity,
//! which host is patched in which batch, when (`docs/policy.md`, "The
//! rules, as the planner applies them").
//!
//! The plan freezes the hosts it resolved: running it never evaluates a
//! scope again. The same inputs give the same plan, byte for byte: host order
//! is fleet order, tier order is rollout order, and no hash map is iterated.

//!
//! `types` holds the plan as a document, `planner` makes one, `text` prints
//! one for people.

mod error;
mod planner;
mod pricing;
mod text;
mod types;

pub use error::PlanError;
pub use types::{
    Batch, BlackoutPeriod, GroupLimit, Overlap, Plan, TierChange, TierPlan, WindowSpec,
};
