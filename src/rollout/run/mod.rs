//! Running a plan (`docs/running.md`): the rollout state that a patch tool
//! drives step by step, persists between runs, and can trust.
//!
//! This module owns the state machine: what may happen next
//! ([`Rollout::next`], a pure function of the state and an instant), and
//! the operations that change the state (results, acknowledgements,
//! approvals, halts, resumes, an abort). Every operation is validated in
//! full before anything is written, so an operation that returns an error
//! leaves the state exactly as it was, byte for byte once serialized.
//!
//! It must not read the clock (every instant is passed in), touch files
//! (that is the `store` module, above this one), or evaluate a scope: the hosts are the ones
//! the plan froze (rule 9).
//!
//! Decisions that rule 8 leaves open, written out in `docs/running.md`:
//! - a `start` action is acknowledged with [`Rollout::begin`], a `notify`
//!   action with [`Rollout::notified`]; each is accepted only when
//!   [`Rollout::next`] at that instant offers exactly that action, so the
//!   timing rules are enforced in one place;
//! - a tier finishes when every host has a result and the tier is not
//!   halted; after a halt is lifted it finishes no earlier than the resume;
//! - a batch may begin once the batch before it has every result (it need
//!   not wait out its `batch_duration`), and only where it fits wholly in
//!   one window occurrence, clear of blackouts, from the instant asked;
//! - a tier's notice goes out `notice_period` before its first batch, and
//!   that batch starts no earlier than `notice_period` after the notice was
//!   acknowledged.

mod error;
mod next;
mod ops;
mod progress;
mod state;
mod status;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

pub use error::{RunError, StateError};
pub use next::Action;
pub use ops::{Applied, Operation};
pub(crate) use progress::{BatchProgress, HostRow, Progress, TierProgress};
pub use state::{
    BatchRun, Event, EventKind, HostResult, Outcome, Rollout, Signoff, Stop, TierRun, ENGINE,
    FORMAT, VERSION,
};
pub use status::{Status, TierPhase, TierStatus};

/// An instant as RFC 3339 in UTC, as every message shows it.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `t + d`, saturating at the ends of the calendar: a time past the end is
/// "never", which `next` reports as a wait rather than a panic.
pub(crate) fn plus(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    match t.checked_add_signed(d) {
        Some(t) => t,
        None if d < TimeDelta::zero() => DateTime::<Utc>::MIN_UTC,
        None => DateTime::<Utc>::MAX_UTC,
    }
}
