//! Rollout policies: tiers, maintenance windows, plans and running them.

pub mod calendar;
