//! Blackouts: named ranges of local dates during which nothing may run.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::error::CalendarError;
use super::zone::resolve_local;

/// A policy's blackout periods, converted once to UTC intervals.
///
/// Each period runs from local midnight of its `from` date (inclusive) to
/// local midnight of its `to` date (exclusive) in the policy's time zone. A
/// midnight that does not exist (a DST jump at 00:00) moves to the first
/// instant after the jump, as window starts do; a midnight that exists
/// twice is the earlier instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blackouts {
    /// Sorted by start, then end, then input order (the sort is stable), so
    /// that [`Blackouts::overlapping`] answers deterministically.
    periods: Vec<Blackout>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Blackout {
    name: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Blackouts {
    /// Converts `(name, from, to)` periods of local dates in `timezone`.
    ///
    /// Rejects a period whose `to` is not after its `from`
    /// ([`CalendarError::EmptyBlackout`], naming it), and dates at the very
    /// edge of chrono's calendar that have no UTC instant. Overlapping
    /// periods are allowed.
    pub fn new(
        timezone: Tz,
        periods: &[(String, NaiveDate, NaiveDate)],
    ) -> Result<Blackouts, CalendarError> {
        let mut converted = Vec::with_capacity(periods.len());
        for (name, from, to) in periods {
            if to <= from {
                return Err(CalendarError::EmptyBlackout {
                    name: name.clone(),
                    from: *from,
                    to: *to,
                });
            }
            let midnight = |date: NaiveDate| {
                resolve_local(timezone, date.and_time(NaiveTime::MIN)).ok_or_else(|| {
                    CalendarError::BlackoutOutOfRange {
                        name: name.clone(),
                        date,
                    }
                })
            };
            converted.push(Blackout {
                name: name.clone(),
                start: midnight(*from)?,
                end: midnight(*to)?,
            });
        }
        converted.sort_by_key(|b| (b.start, b.end));
        Ok(Blackouts { periods: converted })
    }

    /// No blackouts at all.
    pub fn none() -> Blackouts {
        Blackouts::default()
    }

    /// The name of a blackout that overlaps `[start, end)`, if any: the one
    /// that starts first. An empty range (`end <= start`) overlaps a
    /// blackout only when `start` lies strictly inside it.
    pub fn overlapping(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Option<&str> {
        self.overlaps(start, end).next().map(|b| b.name.as_str())
    }

    /// The latest end among blackouts overlapping `[start, end)`: no
    /// interval starting before it and overlapping those blackouts is free,
    /// so a search can jump straight there.
    pub(super) fn blocked_until(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.overlaps(start, end).map(|b| b.end).max()
    }

    fn overlaps(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> impl Iterator<Item = &Blackout> + '_ {
        let end = end.max(start);
        // Half-open intervals overlap when each starts before the other
        // ends; for an empty range this means strictly inside.
        self.periods
            .iter()
            .filter(move |b| b.start < end && start < b.end)
    }
}
