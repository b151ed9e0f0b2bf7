//! fleetscope: dynamic host scopes and tiered, windowed patch rollouts.
#![forbid(unsafe_code)]

pub mod rollout;
