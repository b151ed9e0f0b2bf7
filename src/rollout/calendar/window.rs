//! Maintenance windows: a recurrence of local start times in an IANA zone,
//! each lasting a fixed elapsed duration, enumerated as UTC occurrences.

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use super::recurrence::Recurrence;
use super::zone::resolve_local;

/// A maintenance window: a recurrence of local start times in an IANA time
/// zone, each lasting `duration` of elapsed time.
///
/// A local start that does not exist (the clocks jump forward) starts at the
/// first instant after the jump; one that exists twice (the clocks go back)
/// starts at the earlier instant. The end is the start plus `duration` in
/// real time, whatever the wall clock does in between. A negative
/// `duration` is treated as zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// When occurrences start, in local time.
    pub recurrence: Recurrence,
    /// How long each occurrence lasts, in elapsed time.
    pub duration: TimeDelta,
    /// The zone the recurrence's times are read in.
    pub timezone: Tz,
}

/// One occurrence of a window: the half-open interval `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Occurrence {
    /// First instant inside the occurrence.
    pub start: DateTime<Utc>,
    /// First instant after the occurrence.
    pub end: DateTime<Utc>,
}

impl Window {
    /// The window's occurrences as UTC intervals `[start, end)`, in
    /// increasing start order, beginning with the first whose end is after
    /// `from` (so an occurrence already in progress at `from` is included).
    ///
    /// Lazy and, for practical purposes, infinite: it ends only where
    /// chrono's calendar ends. Occurrences may overlap when the duration is
    /// longer than the gap between starts. Finding the first occurrence
    /// costs a binary search over dates, not a walk from `from - duration`.
    pub fn occurrences(&self, from: DateTime<Utc>) -> impl Iterator<Item = Occurrence> + '_ {
        // The search already starts at the right date; the filter only
        // makes the contract independent of the bounds argued there.
        Occurrences {
            window: self,
            next_date: self.first_date_ending_after(from),
        }
        .skip_while(move |occurrence| occurrence.end <= from)
    }

    /// The length of every occurrence: `duration`, or zero if negative.
    pub(super) fn elapsed(&self) -> TimeDelta {
        self.duration.max(TimeDelta::zero())
    }

    /// The occurrence on local `date`, which must be a date the recurrence
    /// falls on.
    fn occurrence_on(&self, date: NaiveDate) -> Option<Occurrence> {
        let start = resolve_local(self.timezone, date.and_time(self.recurrence.at()))?;
        let end = start.checked_add_signed(self.elapsed())?;
        Some(Occurrence { start, end })
    }

    /// The first occurrence on or after local `date`, with its date.
    fn next_on_or_after(&self, date: NaiveDate) -> Option<(NaiveDate, Occurrence)> {
        let date = self.recurrence.first_date_on_or_after(date)?;
        Some((date, self.occurrence_on(date)?))
    }

    /// The local date of the first occurrence whose end is after `from`.
    ///
    /// Ends grow with dates (local-to-UTC resolution is monotone and the
    /// duration is fixed), so a binary search over dates applies. Bounds:
    /// offsets stay within ±26 hours, and a start can move at most a day
    /// for a gap, so an occurrence dated more than `duration + 5` days
    /// before `from`'s local date ends before `from`, and one dated 3 days
    /// after it starts after `from`.
    fn first_date_ending_after(&self, from: DateTime<Utc>) -> Option<NaiveDate> {
        let local_from = from.with_timezone(&self.timezone).date_naive();
        let back = u64::try_from(self.elapsed().num_days())
            .unwrap_or(0)
            .saturating_add(5);
        let ends_after = |day: i64| {
            date_from_index(day)
                .and_then(|date| self.next_on_or_after(date))
                // Past the end of the calendar counts as "after": it keeps
                // the predicate monotone, and iteration then simply ends.
                .is_none_or(|(_, occurrence)| occurrence.end > from)
        };
        let mut lo = date_index(
            local_from
                .checked_sub_days(Days::new(back))
                .unwrap_or(NaiveDate::MIN),
        );
        let mut hi = date_index(
            local_from
                .checked_add_days(Days::new(3))
                .unwrap_or(NaiveDate::MAX),
        );
        if ends_after(lo) {
            hi = lo;
        }
        // Invariant: !ends_after(lo) (unless lo == hi), ends_after(hi).
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if ends_after(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        date_from_index(hi)
    }
}

fn date_index(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce())
}

fn date_from_index(index: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(index).ok()?)
}

/// The iterator behind [`Window::occurrences`]: walks the recurrence's
/// dates forward from a start found once by binary search.
struct Occurrences<'w> {
    window: &'w Window,
    /// The date to look for the next occurrence from; `None` once the
    /// calendar has run out, which keeps the iterator fused.
    next_date: Option<NaiveDate>,
}

impl Iterator for Occurrences<'_> {
    type Item = Occurrence;

    fn next(&mut self) -> Option<Occurrence> {
        let found = self
            .next_date
            .and_then(|date| self.window.next_on_or_after(date));
        self.next_date = found.and_then(|(date, _)| date.succ_opt());
        found.map(|(_, occurrence)| occurrence)
    }
}

impl std::iter::FusedIterator for Occurrences<'_> {}
