//! Time zones: parsing IANA names, and turning local wall-clock times into
//! UTC instants under rule 6's DST policy.
//!
//! The policy, for a local time `t`: the result is the earliest instant whose
//! local reading is `t` or later. That single rule covers all three cases:
//! an ordinary time maps to its one instant, a time in a fold (clocks went
//! back) maps to its earlier instant, and a time in a gap (clocks jumped
//! forward) maps to the first instant after the jump. It is also monotone,
//! which is what lets windows yield occurrences in start order.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::{Tz, TZ_VARIANTS};

use super::error::CalendarError;

/// Parses an IANA time zone name such as `"Europe/Berlin"` or `"UTC"`.
///
/// Names are matched exactly, as the tz database spells them. Rejects
/// anything else; the error suggests a close name where there is one: the
/// same name in other case (`"europe/berlin"`), a near miss
/// (`"Europe/Berln"`), or a bare city (`"Berlin"`).
pub fn parse_timezone(name: &str) -> Result<Tz, CalendarError> {
    name.parse::<Tz>()
        .map_err(|_| CalendarError::UnknownTimeZone {
            name: name.to_owned(),
            suggestion: suggest_zone(name).map(str::to_owned),
        })
}

/// The known zone name closest to `name`, if any is close enough to be
/// what the author meant. Ties go to the first in the database's order, so
/// the suggestion is deterministic.
fn suggest_zone(name: &str) -> Option<&'static str> {
    let wanted = name.trim().to_lowercase();
    if wanted.is_empty() {
        return None;
    }
    let names = TZ_VARIANTS.iter().map(|tz| tz.name());
    if let Some(exact) = names.clone().find(|n| n.to_lowercase() == wanted) {
        return Some(exact);
    }
    // A bare city: "berlin" for "Europe/Berlin", "new york" for
    // "America/New_York".
    let city = wanted.replace(' ', "_");
    if let Some(found) = names.clone().find(|n| {
        n.rsplit('/')
            .next()
            .is_some_and(|last| last.to_lowercase() == city)
    }) {
        return Some(found);
    }
    // Allow about one typo per five characters, and at least two.
    let limit = (wanted.chars().count() / 5).max(2);
    names
        .map(|n| {
            (
                crate::diagnostic::edit_distance(&n.to_lowercase(), &wanted),
                n,
            )
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, n)| n)
}

/// The UTC instant of local wall-clock time `local` in `tz`: the earliest
/// instant whose local reading is `local` or later (see the module doc).
/// `None` only at the edges of chrono's representable range.
pub(super) fn resolve_local(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => first_instant_at_or_after(tz, local),
    }
}

/// Binary search for the first UTC instant whose local reading in `tz` is
/// at least `local`. Used only for times in a gap, where chrono has no
/// answer. UTC offsets stay within ±26 hours, so the answer lies within 26
/// hours of `local` read as UTC; the invariant `reading(lo) < local <=
/// reading(hi)` guarantees the result is the end of a jump over `local`.
fn first_instant_at_or_after(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let reading = |seconds: i64| {
        let utc = DateTime::from_timestamp(seconds, 0)?.naive_utc();
        let offset = tz.offset_from_utc_datetime(&utc).fix();
        utc.checked_add_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc())))
    };
    // Transitions fall on whole seconds in the tz database, so searching
    // over whole seconds is exact.
    let span = 26 * 3600;
    let as_utc = local.and_utc().timestamp();
    let mut lo = as_utc.checked_sub(span)?;
    let mut hi = as_utc.checked_add(span)?;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if reading(mid)? < local {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    DateTime::from_timestamp(hi, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|date| date.and_hms_opt(h, mi, 0))
            .unwrap_or_default()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Option<DateTime<Utc>> {
        Some(local(y, mo, d, h, mi).and_utc())
    }

    #[test]
    fn gap_moves_to_the_first_instant_after_the_jump() {
        let ny = chrono_tz::America::New_York;
        assert_eq!(
            resolve_local(ny, local(2026, 3, 8, 2, 30)),
            utc(2026, 3, 8, 7, 0)
        );
        assert_eq!(
            resolve_local(ny, local(2026, 3, 8, 2, 0)),
            utc(2026, 3, 8, 7, 0)
        );
        assert_eq!(
            resolve_local(ny, local(2026, 3, 8, 3, 0)),
            utc(2026, 3, 8, 7, 0)
        );
    }

    #[test]
    fn fold_takes_the_earlier_instant() {
        let ny = chrono_tz::America::New_York;
        assert_eq!(
            resolve_local(ny, local(2026, 11, 1, 1, 30)),
            utc(2026, 11, 1, 5, 30)
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest_zone("europe/berlin"), Some("Europe/Berlin"));
        assert_eq!(suggest_zone("Europe/Berln"), Some("Europe/Berlin"));
        assert_eq!(suggest_zone("Berlin"), Some("Europe/Berlin"));
        assert_eq!(suggest_zone("new york"), Some("America/New_York"));
        assert_eq!(suggest_zone("Mars/Olympus_Mons"), None);
        assert_eq!(crate::diagnostic::edit_distance("kitten", "sitting"), 3);
        assert_eq!(crate::diagnostic::edit_distance("", "abc"), 3);
    }
}
