//! Business hours: which instants are "regular" working time for a client
//! (`docs/policy.md`), and how many seconds of an interval fall outside
//! them.
//!
//! An instant is inside business hours when its local reading in the
//! business zone falls on a business day that is not a holiday, at a local
//! time `t` with `open <= t < close`. That definition follows DST by
//! construction: on a day the clocks jump forward, the skipped local hour
//! simply has no instants; on a day they go back, the repeated local hour
//! counts twice if it lies inside business hours. The count is exact to the
//! second: an interval is cut wherever the zone's UTC offset changes, and
//! within each piece local time is UTC plus a constant, so business time is
//! a sum of interval overlaps per local day. This module never reads the
//! clock and knows nothing of plans.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Offset, TimeDelta, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

/// Seconds in a day of local wall-clock time.
const DAY: i64 = 86_400;

/// Offsets are probed this far apart when looking for a DST change: the
/// tz database has no two changes within an hour of each other that would
/// cancel out, so a change is never missed.
const PROBE: i64 = 3_600;

/// A client's business hours: days of the week, local opening hours, the
/// zone they are local to, and holidays (local dates that are after hours
/// all day).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    /// Business days, Monday first.
    days: [bool; 7],
    /// Opening time, in seconds after local midnight.
    open: u32,
    /// Closing time, in seconds after local midnight (at most 86 400).
    close: u32,
    /// The zone the hours and holidays are local to.
    timezone: Tz,
    /// Local dates that are after hours all day.
    holidays: BTreeSet<NaiveDate>,
}

/// What is wrong with business hours as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    /// A day list with something that is neither a day nor a range.
    #[error("`{text}` is not a day of the week or a range of days")]
    BadDay {
        /// The item as written.
        text: String,
    },
    /// No business day at all.
    #[error("no business days are listed")]
    NoDays,
    /// Hours not in the `HH:MM-HH:MM` form.
    #[error("`{text}` is not a range of local times like \"08:00-18:00\"")]
    BadHours {
        /// The hours as written.
        text: String,
    },
    /// Closing not after opening.
    #[error("business hours `{text}` close at or before they open; hours that cross midnight are not supported")]
    EmptyHours {
        /// The hours as written.
        text: String,
    },
}

impl HoursError {
    /// How to fix the problem.
    pub fn help(&self) -> &'static str {
        match self {
            HoursError::BadDay { .. } | HoursError::NoDays => {
                "write days such as \"mon-fri\", \"mon,tue,wed,thu,fri\" or \"sun-thu\""
            }
            HoursError::BadHours { .. } => {
                "write local opening and closing times such as \"08:00-18:00\" (\"24:00\" closes at midnight)"
            }
            HoursError::EmptyHours { .. } => {
                "the closing time must be later the same day, such as \"08:00-18:00\""
            }
        }
    }
}

/// Reads a day name (`mon`, `monday`, any case).
fn weekday(text: &str) -> Option<Weekday> {
    let t = text.trim().to_ascii_lowercase();
    let days = [
        ("mon", "monday", Weekday::Mon),
        ("tue", "tuesday", Weekday::Tue),
        ("wed", "wednesday", Weekday::Wed),
        ("thu", "thursday", Weekday::Thu),
        ("fri", "friday", Weekday::Fri),
        ("sat", "saturday", Weekday::Sat),
        ("sun", "sunday", Weekday::Sun),
    ];
    days.iter()
        .find(|(short, long, _)| t == *short || t == *long)
        .map(|(_, _, d)| *d)
}

/// Reads `HH:MM` (hours 00 to 24, `24:00` only) into seconds after midnight.
fn clock(text: &str) -> Option<u32> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 3600 + m * 60)
}

impl BusinessHours {
    /// Builds business hours from the policy's text: `days` items are day
    /// names or ranges (`mon-fri`, wrapping ranges such as `sun-thu`
    /// allowed), each item possibly a comma-separated list; `hours` is
    /// `HH:MM-HH:MM` in local time.
    pub fn new<'a>(
        days: impl IntoIterator<Item = &'a str>,
        hours: &str,
        timezone: Tz,
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<BusinessHours, HoursError> {
        let mut set = [false; 7];
        for item in days.into_iter().flat_map(|d| d.split(',')) {
            let bad = || HoursError::BadDay {
                text: item.trim().to_string(),
            };
            match item.split_once('-') {
                Some((from, to)) => {
                    let from = weekday(from).ok_or_else(bad)?;
                    let to = weekday(to).ok_or_else(bad)?;
                    let mut d = from;
                    loop {
                        if let Some(slot) = set.get_mut(d.num_days_from_monday() as usize) {
                            *slot = true;
                        }
                        if d == to {
                            break;
                        }
                        d = d.succ();
                    }
                }
                None => {
                    let d = weekday(item).ok_or_else(bad)?;
                    if let Some(slot) = set.get_mut(d.num_days_from_monday() as usize) {
                        *slot = true;
                    }
                }
            }
        }
        if !set.contains(&true) {
            return Err(HoursError::NoDays);
        }
        let bad_hours = || HoursError::BadHours {
            text: hours.to_string(),
        };
        let (open, close) = hours.split_once('-').ok_or_else(bad_hours)?;
        let (open, close) = (
            clock(open).ok_or_else(bad_hours)?,
            clock(close).ok_or_else(bad_hours)?,
        );
        if close <= open {
            return Err(HoursError::EmptyHours {
                text: hours.to_string(),
            });
        }
        Ok(BusinessHours {
            days: set,
            open,
            close,
            timezone,
            holidays: holidays.into_iter().collect(),
        })
    }

    /// The zone the hours are local to.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// The holidays, in date order.
    pub fn holidays(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.holidays.iter().copied()
    }

    /// Whether `date` (local) is a business day: a listed weekday and not a
    /// holiday.
    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        self.days
            .get(date.weekday().num_days_from_monday() as usize)
            .copied()
            .unwrap_or(false)
            && !self.holidays.contains(&date)
    }

    /// Whether the instant `t` is inside business hours.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        let local = t.with_timezone(&self.timezone).naive_local();
        let seconds = local.time().num_seconds_from_midnight();
        self.is_business_day(local.date()) && self.open <= seconds && seconds < self.close
    }

    /// Seconds of `[start, end)` inside business hours. Instants are counted
    /// to the whole second (a fractional start counts from the second it
    /// falls in); an empty or reversed interval has none.
    pub fn business_seconds(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> u64 {
        let (mut a, end) = (start.timestamp(), end.timestamp());
        let mut total: i64 = 0;
        while a < end {
            let offset = self.offset_at(a);
            let b = self.next_change(a, end, offset);
            total = total.saturating_add(self.business_in_piece(a + offset, b + offset));
            a = b;
        }
        u64::try_from(total).unwrap_or(0)
    }

    /// Seconds of `[start, end)` outside business hours or on a holiday.
    pub fn after_hours_seconds(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> u64 {
        let length = u64::try_from(end.timestamp().saturating_sub(start.timestamp())).unwrap_or(0);
        length.saturating_sub(self.business_seconds(start, end))
    }

    /// The zone's UTC offset at the UTC second `t`, in seconds.
    fn offset_at(&self, t: i64) -> i64 {
        DateTime::from_timestamp(t, 0).map_or(0, |utc| {
            i64::from(
                self.timezone
                    .offset_from_utc_datetime(&utc.naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        })
    }

    /// The first second in `(a, end]` whose offset differs from `offset`,
    /// or `end`.
    fn next_change(&self, a: i64, end: i64, offset: i64) -> i64 {
        let mut lo = a;
        while lo < end {
            let hi = lo.saturating_add(PROBE).min(end);
            if self.offset_at(hi) != offset && hi > lo {
                // offset_at(lo) == offset != offset_at(hi): bisect.
                let (mut l, mut h) = (lo, hi);
                while h - l > 1 {
                    let mid = l + (h - l) / 2;
                    if self.offset_at(mid) == offset {
                        l = mid;
                    } else {
                        h = mid;
                    }
                }
                return h;
            }
            lo = hi;
        }
        end
    }

    /// Business seconds of the local interval `[la, lb)`, in seconds of
    /// local wall-clock time since the epoch, where local time runs at one
    /// second per second (no offset change inside).
    fn business_in_piece(&self, la: i64, lb: i64) -> i64 {
        let epoch = DateTime::UNIX_EPOCH.date_naive();
        let mut total = 0i64;
        let mut day = la.div_euclid(DAY);
        let last = (lb - 1).div_euclid(DAY);
        while day <= last {
            let date = epoch.checked_add_signed(TimeDelta::days(day));
            if date.is_some_and(|d| self.is_business_day(d)) {
                let open = day * DAY + i64::from(self.open);
                let close = day * DAY + i64::from(self.close);
                let overlap = lb.min(close) - la.max(open);
                if overlap > 0 {
                    total += overlap;
                }
            }
            day += 1;
        }
        total
    }
}

impl fmt::Display for BusinessHours {
    /// `mon,tue,wed,thu,fri 08:00-18:00 America/New_York`: the same form
    /// the policy accepts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.days_text(),
            self.hours_text(),
            self.timezone.name()
        )
    }
}

impl BusinessHours {
    /// The business days as a list of short names, Monday first
    /// (`mon,tue,wed,thu,fri`).
    pub fn days_text(&self) -> String {
        let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        names
            .iter()
            .zip(self.days.iter())
            .filter(|(_, on)| **on)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The hours as `HH:MM-HH:MM`.
    pub fn hours_text(&self) -> String {
        let hm = |s: u32| format!("{:02}:{:02}", s / 3600, (s % 3600) / 60);
        format!("{}-{}", hm(self.open), hm(self.close))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn ny() -> BusinessHours {
        BusinessHours::new(
            ["mon-fri"],
            "08:00-18:00",
            chrono_tz::America::New_York,
            [NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()],
        )
        .unwrap()
    }

    #[test]
    fn parses_days_and_hours() {
        let h = BusinessHours::new(["sun-tue", "thu"], "09:30-24:00", Tz::UTC, []).unwrap();
        assert_eq!(h.days_text(), "mon,tue,thu,sun");
        assert_eq!(h.hours_text(), "09:30-24:00");
        let h = BusinessHours::new(["Monday,tue , wed"], "00:00-01:00", Tz::UTC, []).unwrap();
        assert_eq!(h.days_text(), "mon,tue,wed");
        assert!(matches!(
            BusinessHours::new(["mon-fry"], "08:00-18:00", Tz::UTC, []),
            Err(HoursError::BadDay { text }) if text == "mon-fry"
        ));
        assert_eq!(
            BusinessHours::new(Vec::<&str>::new(), "08:00-18:00", Tz::UTC, []),
            Err(HoursError::NoDays)
        );
        for bad in ["8-18", "08:00", "08:00-24:30", "25:00-26:00", "08:60-09:00"] {
            assert!(
                matches!(
                    BusinessHours::new(["mon"], bad, Tz::UTC, []),
                    Err(HoursError::BadHours { .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            BusinessHours::new(["mon"], "18:00-08:00", Tz::UTC, []),
            Err(HoursError::EmptyHours { .. })
        ));
    }

    #[test]
    fn counts_inside_and_outside() {
        let h = ny();
        // Thursday 2026-11-26 17:00 to 19:00 EST: one hour in, one out.
        let (s, e) = (at("2026-11-26T22:00:00Z"), at("2026-11-27T00:00:00Z"));
        assert_eq!(h.business_seconds(s, e), 3600);
        assert_eq!(h.after_hours_seconds(s, e), 3600);
        // Christmas (a Friday) is after hours all day.
        let (s, e) = (at("2026-12-25T13:00:00Z"), at("2026-12-25T20:00:00Z"));
        assert_eq!(h.after_hours_seconds(s, e), 7 * 3600);
        // A weekend.
        let (s, e) = (at("2026-11-28T15:00:00Z"), at("2026-11-29T15:00:00Z"));
        assert_eq!(h.after_hours_seconds(s, e), 24 * 3600);
        // Reversed and empty intervals.
        assert_eq!(h.after_hours_seconds(e, s), 0);
        assert_eq!(h.business_seconds(s, s), 0);
    }

    #[test]
    fn follows_dst() {
        // Sydney: business hours every day, 02:00-03:00 local. On
        // 2026-10-04 the clocks jump from 02:00 to 03:00: no business time.
        let h = BusinessHours::new(["mon-sun"], "02:00-03:00", chrono_tz::Australia::Sydney, [])
            .unwrap();
        let (s, e) = (at("2026-10-03T12:00:00Z"), at("2026-10-04T12:00:00Z"));
        assert_eq!(h.business_seconds(s, e), 0);
        // On 2026-04-05 they go back from 03:00 to 02:00: 02:00-03:00 is
        // lived twice, two hours of business time.
        let (s, e) = (at("2026-04-04T12:00:00Z"), at("2026-04-05T12:00:00Z"));
        assert_eq!(h.business_seconds(s, e), 7200);
        // An ordinary day: one hour.
        let (s, e) = (at("2026-06-04T12:00:00Z"), at("2026-06-05T12:00:00Z"));
        assert_eq!(h.business_seconds(s, e), 3600);
    }

    #[test]
    fn odd_seconds_count_exactly() {
        let h = ny();
        // 07:59:59 to 08:00:01 EST on a Monday: one second each side.
        let (s, e) = (at("2026-11-23T12:59:59Z"), at("2026-11-23T13:00:01Z"));
        assert_eq!(h.business_seconds(s, e), 1);
        assert_eq!(h.after_hours_seconds(s, e), 1);
        assert!(h.contains(at("2026-11-23T13:00:00Z")));
        assert!(!h.contains(at("2026-11-23T12:59:59Z")));
    }
}
