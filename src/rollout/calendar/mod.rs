//! Maintenance-window calendars: durations, recurrences, time zones,
//! windows, blackouts, and finding the earliest slot a batch fits in
//! (`docs/policy.md`, windows and blackouts).
//!
//! This module owns the meaning of time in a policy: how a local wall-clock
//! start in an IANA zone becomes a UTC instant across DST changes, which
//! local dates a recurrence falls on, and where a batch of a given length
//! may run. It never reads the clock (every instant is passed in) and knows
//! nothing of tiers, hosts or plans.
//!
//! Layers, each in its own file: `duration` and `recurrence` turn text into
//! values (the recurrence grammar is `grammar/recurrence.pest`); `zone`
//! parses zone names and resolves local times; `window` and `blackout` turn
//! those into UTC intervals; `slot` searches them.
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use fleetscope::rollout::calendar::{
//!     earliest_slot, parse_duration, parse_timezone, Availability, Blackouts, Window,
//! };
//!
//! let window = Window {
//!     recurrence: "weekly sat,sun at 02:00".parse()?,
//!     duration: parse_duration("4h")?,
//!     timezone: parse_timezone("Europe/Berlin")?,
//! };
//! // Friday 2026-06-05, noon UTC: the first slot is Saturday 02:00 CEST.
//! let slot = earliest_slot(
//!     &Availability::Window(window),
//!     &Blackouts::none(),
//!     Utc.with_ymd_and_hms(2026, 6, 5, 12, 0, 0).unwrap(),
//!     TimeDelta::hours(1),
//!     TimeDelta::days(365),
//! );
//! assert_eq!(slot, Some(Utc.with_ymd_and_hms(2026, 6, 6, 0, 0, 0).unwrap()));
//! # Ok::<(), fleetscope::rollout::calendar::CalendarError>(())
//! ```

mod blackout;
mod duration;
mod error;
mod hours;
mod recurrence;
mod slot;
mod window;
mod zone;

/// How far ahead a batch is searched for before a plan gives up.
pub const HORIZON_DAYS: i64 = 20 * 366;

/// The longest duration a policy may give anything: a plan looks no further
/// ahead than [`HORIZON_DAYS`], so a longer soak, notice or window could
/// never be met.
pub const MAX_DURATION_DAYS: i64 = HORIZON_DAYS;

pub use blackout::Blackouts;
pub use duration::{format_duration, parse_duration};
pub use error::CalendarError;
pub use hours::{BusinessHours, HoursError};
pub use recurrence::Recurrence;
pub use slot::{earliest_slot, Availability};
pub use window::{Occurrence, Window};
pub use zone::parse_timezone;
