//! Why a plan could not be made.

use chrono::{DateTime, Utc};

use crate::rollout::calendar::HORIZON_DAYS;

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The caller asked for a severity the policy does not define.
    #[error("unknown severity `{severity}`; known: {}", .known.join(", "))]
    UnknownSeverity {
        /// The severity asked for.
        severity: String,
        /// `normal` and every `[severity.NAME]`.
        known: Vec<String>,
    },
    /// The policy is `exclusive` and tiers overlap.
    #[error("the policy is exclusive, but {count} host(s) are selected by several tiers, first `{host}` by {}", .tiers.join(", "))]
    Overlap {
        /// How many hosts overlap.
        count: usize,
        /// The first such host, in fleet order.
        host: String,
        /// The tiers selecting it.
        tiers: Vec<String>,
    },
    /// No slot for a batch within the search horizon.
    #[error("tier `{tier}`: batch {batch} finds no slot in window `{window}` outside blackouts within {} years after {after}", HORIZON_DAYS / 366)]
    NoSlot {
        /// The tier.
        tier: String,
        /// 1-based batch number.
        batch: usize,
        /// The window.
        window: String,
        /// The instant searched from.
        after: DateTime<Utc>,
    },
    /// A time would fall outside the calendar (a start near the end of time).
    #[error("tier `{tier}`: its times fall outside the calendar; start the plan earlier")]
    OutOfRange {
        /// The tier.
        tier: String,
    },
    /// The plan could not be turned into JSON (an internal error).
    #[error("the plan could not be serialized: {0}")]
    Serialize(String),
}
