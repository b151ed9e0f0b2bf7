//! Finding where a batch fits: inside one occurrence of a window (or
//! anywhere) and clear of every blackout (rule 5).
//!
//! The search jumps: past a whole occurrence when the batch does not fit in
//! it, and to a blackout's end when one is in the way. It never steps
//! through time in fixed increments, so a 20-year horizon costs about one
//! step per occurrence that a blackout touches.

use chrono::{DateTime, TimeDelta, Utc};

use super::blackout::Blackouts;
use super::window::Window;

/// Where batches may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// At any time (a policy's `window = "any"`); only blackouts apply.
    Any,
    /// Only inside the occurrences of this window.
    Window(Window),
}

/// The earliest instant `s >= not_before` such that `[s, s + length)` lies
/// wholly inside one occurrence of the window (or anywhere, for
/// [`Availability::Any`]) and overlaps no blackout.
///
/// A batch that does not fit in what is left of an occurrence moves to the
/// next occurrence it fits in; a blackout that cuts an occurrence lets the
/// slot start at the blackout's end if the rest of the occurrence still
/// holds it. Overlapping occurrences are each considered on their own: a
/// slot never spans two of them.
///
/// Returns `None` when no slot starts within `horizon` after `not_before`,
/// when `length` is negative, when `length` is longer than the window's
/// duration (no occurrence can ever hold it), and past the end of chrono's
/// calendar.
pub fn earliest_slot(
    availability: &Availability,
    blackouts: &Blackouts,
    not_before: DateTime<Utc>,
    length: TimeDelta,
    horizon: TimeDelta,
) -> Option<DateTime<Utc>> {
    if length < TimeDelta::zero() {
        return None;
    }
    let deadline = not_before
        .checked_add_signed(horizon)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let found = match availability {
        Availability::Any => {
            match first_clear(blackouts, not_before, length, DateTime::<Utc>::MAX_UTC)? {
                Clear::Fits(start) => Some(start),
                Clear::Blocked(_) => None,
            }
        }
        Availability::Window(window) => in_window(window, blackouts, not_before, length, deadline),
    }?;
    (found <= deadline).then_some(found)
}

fn in_window(
    window: &Window,
    blackouts: &Blackouts,
    not_before: DateTime<Utc>,
    length: TimeDelta,
    deadline: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    // Every occurrence is exactly this long, so this one test settles "too
    // long for the window" instead of searching the whole horizon.
    if window.elapsed() < length {
        return None;
    }
    // `cursor` only grows: every start before it is either before
    // `not_before`, before the occurrence being examined (so before every
    // later one too), or blocked by a blackout. Later occurrences start no
    // earlier, so the first occurrence that holds a slot holds the earliest.
    let mut cursor = not_before;
    'restart: loop {
        for occurrence in window.occurrences(cursor) {
            if occurrence.start.max(cursor) > deadline {
                return None;
            }
            let from = occurrence.start.max(cursor);
            match first_clear(blackouts, from, length, occurrence.end)? {
                Clear::Fits(start) => return Some(start),
                Clear::Blocked(next) => {
                    cursor = next;
                    if cursor >= occurrence.end {
                        // A blackout reaches past this occurrence: skip the
                        // occurrences that end inside it in one jump.
                        continue 'restart;
                    }
                }
            }
        }
        // The calendar ran out.
        return None;
    }
}

enum Clear {
    /// The batch fits here, clear of blackouts.
    Fits(DateTime<Utc>),
    /// The first start clear of blackouts, but the batch would overrun the
    /// occurrence from there.
    Blocked(DateTime<Utc>),
}

/// The first `s >= from` with `[s, s + length)` clear of blackouts, or
/// where the search stopped if the batch no longer ends by `limit`. Each
/// step jumps to the latest end of the blackouts in the way, which is after
/// `s`; every start skipped overlaps one of them.
fn first_clear(
    blackouts: &Blackouts,
    from: DateTime<Utc>,
    length: TimeDelta,
    limit: DateTime<Utc>,
) -> Option<Clear> {
    let mut start = from;
    loop {
        let end = start.checked_add_signed(length)?;
        if end > limit {
            return Some(Clear::Blocked(start));
        }
        match blackouts.blocked_until(start, end) {
            None => return Some(Clear::Fits(start)),
            Some(clear) => start = clear,
        }
    }
}
