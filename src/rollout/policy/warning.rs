//! What a policy or plan allows but an author should look at twice.

use std::fmt;

use chrono::NaiveDate;

/// A tier whose batches span more than this many window occurrences gets a
/// warning: it would take months.
pub const MANY_OCCURRENCES: usize = 8;

/// A legal but risky policy or plan: each is printed as one sentence, and
/// embedders can match on the kind instead of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// A tier whose scope mentions `prod` does not come, directly or
    /// through others, after a tier with a soak.
    ProductionWithoutSoak {
        /// The tier.
        tier: String,
    },
    /// A tier selects no host (needs a fleet).
    EmptyTier {
        /// The tier.
        tier: String,
    },
    /// A tier's batches span more than
    /// [`MANY_OCCURRENCES`] window
    /// occurrences (needs a plan).
    ManyOccurrences {
        /// The tier.
        tier: String,
        /// The window.
        window: String,
        /// How many batches the tier has.
        batches: usize,
        /// The local date its last batch finishes.
        finish: NaiveDate,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::ProductionWithoutSoak { tier } => write!(
                f,
                "tier `{tier}` selects production hosts but does not come after any tier with a soak; add `after` a tested tier with `soak`"
            ),
            Warning::EmptyTier { tier } => write!(f, "tier `{tier}` has no hosts"),
            Warning::ManyOccurrences {
                tier,
                window,
                batches,
                finish,
            } => write!(
                f,
                "tier `{tier}` needs more than {} occurrences of window `{window}` ({batches} batches, finishing {}); it would take months",
                MANY_OCCURRENCES,
                finish.format("%Y-%m-%d")
            ),
        }
    }
}
