//! Recurrences (rule 6): text → pest pairs → [`Recurrence`], and the local
//! dates a recurrence falls on.
//!
//! Step one is the pest grammar in `grammar/recurrence.pest`; step two walks
//! the pairs into an owned value and checks ranges. Pest types never leave
//! this module: errors become [`CalendarError::InvalidRecurrence`] with a
//! column, what was expected, and a help text where a fix is known.
//!
//! This module knows nothing of time zones or instants; `window` turns the
//! local dates and time found here into UTC occurrences.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Timelike, Weekday};
use pest::iterators::Pair;
use pest::Parser as _;

use super::duration::column_of;
use super::error::CalendarError;

mod syntax {
    //! The generated parser, kept private so pest types stay in this file.
    #[derive(pest_derive::Parser)]
    #[grammar = "grammar/recurrence.pest"]
    pub(super) struct RecurrenceParser;
}

use syntax::{RecurrenceParser, Rule};

/// The largest offset, in days, of an ordinal-weekday recurrence. It keeps
/// an occurrence within a month of its base day, which is what lets date
/// iteration look only one month back.
const MAX_OFFSET_DAYS: u32 = 27;

/// When a maintenance window recurs: a pattern of local dates and a local
/// wall-clock start time, as in `weekly sat,sun at 02:00` or
/// `monthly second tue +4d at 01:00`.
///
/// Parse one with [`str::parse`]; the grammar is
///
/// ```text
/// daily at HH:MM
/// weekly DAY[,DAY...] at HH:MM
/// monthly N at HH:MM
/// monthly (first|second|third|fourth|last) DAY [+Nd|-Nd] at HH:MM
/// ```
///
/// with `DAY` one of `mon` .. `sun` or `monday` .. `sunday`, keywords in any
/// case, `N` from 1 to 31 (months without that day are skipped), offsets
/// from 0 to 27 days, hours 00-23 (one digit is accepted) and minutes 00-59.
/// Parsing rejects anything else, a weekday listed twice included, with
/// [`CalendarError::InvalidRecurrence`].
///
/// `Display` prints the canonical form (lowercase, short day names in
/// Monday-first order, no `+0d`), which parses back to an equal value.
///
/// ```
/// use fleetscope::rollout::calendar::Recurrence;
///
/// let r: Recurrence = "Monthly Second Tuesday+4d at 1:00".parse()?;
/// assert_eq!(r.to_string(), "monthly second tue +4d at 01:00");
/// # Ok::<(), fleetscope::rollout::calendar::CalendarError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recurrence {
    pattern: Pattern,
    at: NaiveTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pattern {
    Daily,
    Weekly(WeekdaySet),
    /// Day of the month, 1..=31.
    MonthDay(u32),
    NthWeekday {
        nth: Nth,
        weekday: Weekday,
        /// Days from the base day, within ±[`MAX_OFFSET_DAYS`].
        offset_days: i32,
    },
}

/// A set of weekdays as a bitmask, bit 0 = Monday: equality and printing
/// do not depend on the order the author listed the days in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WeekdaySet(u8);

impl WeekdaySet {
    fn contains(self, day: Weekday) -> bool {
        self.0 & Self::bit(day) != 0
    }

    fn bit(day: Weekday) -> u8 {
        1 << day.num_days_from_monday()
    }

    fn iter(self) -> impl Iterator<Item = Weekday> {
        WEEK.into_iter().filter(move |day| self.contains(*day))
    }
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nth {
    First,
    Second,
    Third,
    Fourth,
    Last,
}

impl Nth {
    fn name(self) -> &'static str {
        match self {
            Nth::First => "first",
            Nth::Second => "second",
            Nth::Third => "third",
            Nth::Fourth => "fourth",
            Nth::Last => "last",
        }
    }
}

impl Recurrence {
    /// The local wall-clock start time of every occurrence.
    pub(super) fn at(&self) -> NaiveTime {
        self.at
    }

    /// The first local date on or after `from` on which this recurrence
    /// has an occurrence; `None` only past the end of chrono's calendar.
    ///
    /// Ordinal-weekday occurrences are found month by month from the month
    /// before `from`: a `-Nd` offset can put a month's occurrence in the
    /// previous month, and with a `+Nd` offset the previous month's
    /// occurrence can fall in `from`'s month. Since the offset is the same
    /// for every month, occurrences come out in date order.
    pub(super) fn first_date_on_or_after(&self, from: NaiveDate) -> Option<NaiveDate> {
        match self.pattern {
            Pattern::Daily => Some(from),
            Pattern::Weekly(days) => (0..7u64)
                .filter_map(|n| from.checked_add_days(Days::new(n)))
                .find(|date| days.contains(date.weekday())),
            Pattern::MonthDay(day) => {
                // No two consecutive months both lack a day (only day 31 is
                // missing from more than one month, and never twice in a row),
                // so three months always suffice; 13 is a safe bound.
                (0..13)
                    .filter_map(|n| month_after(from.year(), from.month(), n))
                    .filter_map(|(y, m)| NaiveDate::from_ymd_opt(y, m, day))
                    .find(|date| *date >= from)
            }
            Pattern::NthWeekday {
                nth,
                weekday,
                offset_days,
            } => (-1..4)
                .filter_map(|n| month_after(from.year(), from.month(), n))
                .filter_map(|(y, m)| base_day(y, m, nth, weekday))
                .filter_map(|base| shift_days(base, offset_days))
                .find(|date| *date >= from),
        }
    }
}

/// The (year, month) `n` months after (`year`, `month`); `n` may be
/// negative. `None` outside chrono's calendar.
fn month_after(year: i32, month: u32, n: i32) -> Option<(i32, u32)> {
    let index = i64::from(year) * 12 + i64::from(month) - 1 + i64::from(n);
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    Some((year, month))
}

fn shift_days(date: NaiveDate, days: i32) -> Option<NaiveDate> {
    let magnitude = Days::new(u64::from(days.unsigned_abs()));
    if days >= 0 {
        date.checked_add_days(magnitude)
    } else {
        date.checked_sub_days(magnitude)
    }
}

/// The `nth` `weekday` of the month: for `second tue`, Patch Tuesday.
fn base_day(year: i32, month: u32, nth: Nth, weekday: Weekday) -> Option<NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let to_weekday =
        |from: Weekday| (7 + weekday.num_days_from_monday() - from.num_days_from_monday()) % 7;
    let weeks = match nth {
        Nth::First => 0,
        Nth::Second => 1,
        Nth::Third => 2,
        Nth::Fourth => 3,
        Nth::Last => {
            let (next_year, next_month) = month_after(year, month, 1)?;
            let last = NaiveDate::from_ymd_opt(next_year, next_month, 1)?.pred_opt()?;
            let back =
                (7 + last.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
            return last.checked_sub_days(Days::new(u64::from(back)));
        }
    };
    // The fourth of any weekday is at most day 28, so this stays in the month.
    first.checked_add_days(Days::new(u64::from(
        to_weekday(first.weekday()) + 7 * weeks,
    )))
}

impl fmt::Display for Recurrence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pattern {
            Pattern::Daily => f.write_str("daily")?,
            Pattern::Weekly(days) => {
                f.write_str("weekly ")?;
                for (i, day) in days.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(weekday_name(day))?;
                }
            }
            Pattern::MonthDay(day) => write!(f, "monthly {day}")?,
            Pattern::NthWeekday {
                nth,
                weekday,
                offset_days,
            } => {
                write!(f, "monthly {} {}", nth.name(), weekday_name(weekday))?;
                if offset_days != 0 {
                    write!(f, " {offset_days:+}d")?;
                }
            }
        }
        write!(f, " at {:02}:{:02}", self.at.hour(), self.at.minute())
    }
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

impl FromStr for Recurrence {
    type Err = CalendarError;

    /// Parses the grammar described on [`Recurrence`].
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut pairs = RecurrenceParser::parse(Rule::recurrence, text)
            .map_err(|error| syntax_error(text, &error))?;
        let schedule = pairs
            .next()
            .and_then(|recurrence| recurrence.into_inner().next())
            .ok_or_else(|| internal(text))?;
        Builder { text }.recurrence(schedule)
    }
}

/// Walks the pairs of a successful parse. Every `ok_or_else(internal)`
/// below is a shape the grammar guarantees; it still returns an error
/// rather than panicking, in case grammar and walker ever drift apart.
struct Builder<'t> {
    text: &'t str,
}

impl Builder<'_> {
    fn recurrence(&self, schedule: Pair<'_, Rule>) -> Result<Recurrence, CalendarError> {
        let rule = schedule.as_rule();
        let mut items = schedule.into_inner();
        // Keyword pairs (`weekly`, `at`) are in `items` too; each arm picks
        // the pairs it needs by rule.
        let pattern = match rule {
            Rule::daily => Pattern::Daily,
            Rule::weekly => {
                let mut days = WeekdaySet(0);
                for item in items.clone().filter(|p| p.as_rule() == Rule::weekday) {
                    let day = self.weekday(&item)?;
                    if days.contains(day) {
                        return Err(self.invalid(
                            &item,
                            "a weekday not listed before",
                            Some(format!(
                                "`{}` is listed twice; list each day once",
                                item.as_str()
                            )),
                        ));
                    }
                    days.0 |= WeekdaySet::bit(day);
                }
                Pattern::Weekly(days)
            }
            Rule::monthly => {
                let item = items
                    .find(|p| matches!(p.as_rule(), Rule::month_day | Rule::nth_weekday))
                    .ok_or_else(|| internal(self.text))?;
                if item.as_rule() == Rule::month_day {
                    Pattern::MonthDay(self.month_day(&item)?)
                } else {
                    self.nth_weekday(item)?
                }
            }
            _ => return Err(internal(self.text)),
        };
        let time = items
            .find(|p| p.as_rule() == Rule::time)
            .ok_or_else(|| internal(self.text))?;
        Ok(Recurrence {
            pattern,
            at: self.time(time)?,
        })
    }

    fn nth_weekday(&self, item: Pair<'_, Rule>) -> Result<Pattern, CalendarError> {
        let mut parts = item.into_inner();
        let nth = match parts
            .next()
            .map(|p| p.as_str().to_ascii_lowercase())
            .as_deref()
        {
            Some("first") => Nth::First,
            Some("second") => Nth::Second,
            Some("third") => Nth::Third,
            Some("fourth") => Nth::Fourth,
            Some("last") => Nth::Last,
            _ => return Err(internal(self.text)),
        };
        let weekday = parts.next().ok_or_else(|| internal(self.text))?;
        let weekday = self.weekday(&weekday)?;
        let offset_days = match parts.next() {
            Some(offset) => self.offset(offset)?,
            None => 0,
        };
        Ok(Pattern::NthWeekday {
            nth,
            weekday,
            offset_days,
        })
    }

    fn offset(&self, offset: Pair<'_, Rule>) -> Result<i32, CalendarError> {
        let mut parts = offset.into_inner();
        let sign = parts.next().ok_or_else(|| internal(self.text))?;
        let days = parts.next().ok_or_else(|| internal(self.text))?;
        let magnitude = days
            .as_str()
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= MAX_OFFSET_DAYS)
            .ok_or_else(|| {
                self.invalid(
                    &days,
                    "an offset of at most 27 days",
                    Some(format!(
                        "an offset moves the occurrence at most {MAX_OFFSET_DAYS} days from its base day, so that it stays tied to that day's month"
                    )),
                )
            })?;
        // The magnitude is at most 27, so the conversion cannot fail.
        let magnitude = i32::try_from(magnitude).map_err(|_| internal(self.text))?;
        Ok(if sign.as_str() == "-" {
            -magnitude
        } else {
            magnitude
        })
    }

    fn month_day(&self, item: &Pair<'_, Rule>) -> Result<u32, CalendarError> {
        item.as_str()
            .parse::<u32>()
            .ok()
            .filter(|day| (1..=31).contains(day))
            .ok_or_else(|| {
                self.invalid(
                    item,
                    "a day of the month from 1 to 31",
                    Some("days of the month are 1-31; for the end of the month use an ordinal, like `monthly last fri`".to_owned()),
                )
            })
    }

    fn weekday(&self, item: &Pair<'_, Rule>) -> Result<Weekday, CalendarError> {
        let word = item.as_str().to_ascii_lowercase();
        WEEK.into_iter()
            .find(|day| word.starts_with(weekday_name(*day)))
            .ok_or_else(|| internal(self.text))
    }

    fn time(&self, time: Pair<'_, Rule>) -> Result<NaiveTime, CalendarError> {
        let mut parts = time.into_inner();
        let hour = parts.next().ok_or_else(|| internal(self.text))?;
        let minute = parts.next().ok_or_else(|| internal(self.text))?;
        let h = hour
            .as_str()
            .parse::<u32>()
            .ok()
            .filter(|h| *h <= 23)
            .ok_or_else(|| {
                self.invalid(
                    &hour,
                    "an hour from 00 to 23",
                    Some("hours are 00-23; midnight is 00:00 of the next day".to_owned()),
                )
            })?;
        let m = minute
            .as_str()
            .parse::<u32>()
            .ok()
            .filter(|m| *m <= 59)
            .ok_or_else(|| {
                self.invalid(
                    &minute,
                    "minutes from 00 to 59",
                    Some("minutes are 00-59".to_owned()),
                )
            })?;
        NaiveTime::from_hms_opt(h, m, 0).ok_or_else(|| internal(self.text))
    }

    fn invalid(&self, at: &Pair<'_, Rule>, expected: &str, help: Option<String>) -> CalendarError {
        let offset = at.as_span().start();
        CalendarError::InvalidRecurrence {
            text: self.text.to_owned(),
            offset,
            column: column_of(self.text, offset),
            expected: expected.to_owned(),
            found: format!("`{}`", at.as_str()),
            help,
        }
    }
}

/// The error for a parse the grammar accepted but the walker could not
/// follow: a bug in this module, reported rather than panicking.
fn internal(text: &str) -> CalendarError {
    CalendarError::InvalidRecurrence {
        text: text.to_owned(),
        offset: 0,
        column: 1,
        expected: "a recurrence this version of fleetscope understands".to_owned(),
        found: "a form the grammar accepts but the parser does not handle".to_owned(),
        help: Some("this is a bug in fleetscope; please report it with the recurrence".to_owned()),
    }
}

fn syntax_error(text: &str, error: &pest::error::Error<Rule>) -> CalendarError {
    let offset = match error.location {
        pest::error::InputLocation::Pos(pos) => pos,
        pest::error::InputLocation::Span((start, _)) => start,
    };
    let positives: &[Rule] = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives,
        pest::error::ErrorVariant::CustomError { .. } => &[],
    };
    let word = word_at(text, offset);
    let found = if word.is_empty() {
        "end of input".to_owned()
    } else {
        format!("`{word}`")
    };
    CalendarError::InvalidRecurrence {
        text: text.to_owned(),
        offset,
        column: column_of(text, offset),
        expected: expected_text(positives),
        found,
        help: syntax_help(positives, word, offset == 0),
    }
}

/// The word (alphanumeric run) or single other character at `offset`.
fn word_at(text: &str, offset: usize) -> &str {
    let rest = text.get(offset..).unwrap_or_default();
    let word_len: usize = rest
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .map(char::len_utf8)
        .sum();
    let len = match (word_len, rest.chars().next()) {
        (0, Some(c)) => c.len_utf8(),
        _ => word_len,
    };
    rest.get(..len).unwrap_or_default()
}

fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::kw_daily | Rule::daily => "`daily`",
        Rule::kw_weekly | Rule::weekly => "`weekly`",
        Rule::kw_monthly | Rule::monthly => "`monthly`",
        Rule::kw_at => "`at`",
        Rule::ordinal | Rule::nth_weekday => {
            "an ordinal (`first`, `second`, `third`, `fourth` or `last`)"
        }
        Rule::weekday => "a day of the week (`mon` to `sun`, or `monday` to `sunday`)",
        Rule::month_day => "a day of the month (1 to 31)",
        Rule::offset | Rule::sign => "an offset like `+4d` or `-2d`",
        Rule::offset_days => "a number of days",
        Rule::day_unit => "the unit `d`",
        Rule::time | Rule::hour => "a time as HH:MM",
        Rule::minute => "two-digit minutes",
        Rule::EOI => "end of input",
        Rule::recurrence | Rule::schedule => "`daily`, `weekly` or `monthly`",
        Rule::word_char | Rule::WHITESPACE => "a recurrence",
    }
}

fn expected_text(positives: &[Rule]) -> String {
    let mut items: Vec<&str> = Vec::new();
    for rule in positives {
        let text = describe(*rule);
        if !items.contains(&text) {
            items.push(text);
        }
    }
    match items.as_slice() {
        [] => describe(Rule::recurrence).to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// A fix for the common mistakes, given what the parser expected and the
/// word it found instead.
fn syntax_help(positives: &[Rule], word: &str, at_start: bool) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    let expects = |rule: Rule| positives.contains(&rule);
    let starts_with_digit = lower.starts_with(|c: char| c.is_ascii_digit());
    if at_start || expects(Rule::kw_daily) {
        return Some(
            "a recurrence starts with `daily`, `weekly` or `monthly`, like `weekly sat at 02:00`"
                .to_owned(),
        );
    }
    if expects(Rule::ordinal) || expects(Rule::nth_weekday) {
        if matches!(lower.as_str(), "fifth" | "5th") {
            return Some(
                "not every month has a fifth of each weekday; use `last` for the final one"
                    .to_owned(),
            );
        }
        if starts_with_digit && lower.ends_with(|c: char| c.is_ascii_alphabetic()) {
            return Some("write the day of the month as a bare number, like `15`".to_owned());
        }
    }
    if lower == "at" && (expects(Rule::weekday) || expects(Rule::month_day)) {
        return Some(
            "say which days before `at`, like `weekly sat at 02:00`, `monthly 15 at 02:00` or `monthly second tue at 02:00`"
                .to_owned(),
        );
    }
    if expects(Rule::weekday) {
        let prefix = lower
            .get(..2)
            .filter(|p| p.chars().all(|c| c.is_ascii_alphabetic()));
        if let Some(day) = prefix.and_then(|p| {
            WEEK.into_iter()
                .find(|day| weekday_name(*day).starts_with(p))
        }) {
            return Some(format!(
                "write `{}` or `{}`",
                weekday_name(day),
                full_weekday_name(day)
            ));
        }
    }
    if expects(Rule::day_unit) {
        return Some("offsets count whole days, like `+4d`".to_owned());
    }
    if expects(Rule::minute) {
        return Some("write minutes with two digits, like `02:05`".to_owned());
    }
    if expects(Rule::time) || expects(Rule::hour) {
        return Some("write the time in 24-hour form as HH:MM, like `14:00`".to_owned());
    }
    if expects(Rule::kw_at) {
        if starts_with_digit {
            return Some("put `at` before the time, like `at 02:00`".to_owned());
        }
        if WEEK
            .into_iter()
            .any(|day| lower.starts_with(weekday_name(day)))
        {
            return Some("separate days with commas, like `sat,sun`".to_owned());
        }
    }
    None
}

fn full_weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, d)
    }

    fn parse(text: &str) -> Recurrence {
        match text.parse() {
            Ok(r) => r,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn base_days() {
        assert_eq!(
            base_day(2026, 1, Nth::Second, Weekday::Tue),
            date(2026, 1, 13)
        );
        assert_eq!(
            base_day(2026, 5, Nth::Last, Weekday::Fri),
            date(2026, 5, 29)
        );
        assert_eq!(
            base_day(2026, 2, Nth::Last, Weekday::Sat),
            date(2026, 2, 28)
        );
        assert_eq!(
            base_day(2026, 3, Nth::First, Weekday::Sun),
            date(2026, 3, 1)
        );
        assert_eq!(
            base_day(2026, 3, Nth::Fourth, Weekday::Sat),
            date(2026, 3, 28)
        );
    }

    #[test]
    fn month_arithmetic_crosses_years() {
        assert_eq!(month_after(2026, 1, -1), Some((2025, 12)));
        assert_eq!(month_after(2026, 12, 1), Some((2027, 1)));
        assert_eq!(month_after(2026, 12, 13), Some((2028, 1)));
    }

    #[test]
    fn monthly_31_skips_short_months() {
        let r = parse("monthly 31 at 00:00");
        assert_eq!(
            r.first_date_on_or_after(date(2026, 4, 1).unwrap_or_default()),
            date(2026, 5, 31)
        );
        assert_eq!(
            r.first_date_on_or_after(date(2026, 2, 1).unwrap_or_default()),
            date(2026, 3, 31)
        );
    }

    #[test]
    fn negative_offset_reaches_into_the_previous_month() {
        // First Monday of June 2026 is June 1; -3d is Friday May 29.
        let r = parse("monthly first mon -3d at 00:00");
        assert_eq!(
            r.first_date_on_or_after(date(2026, 5, 20).unwrap_or_default()),
            date(2026, 5, 29)
        );
    }

    #[test]
    fn canonical_form() {
        assert_eq!(
            parse("WEEKLY Sunday,sat at 2:00").to_string(),
            "weekly sat,sun at 02:00"
        );
        assert_eq!(
            parse("monthly last friday +0d at 23:59").to_string(),
            "monthly last fri at 23:59"
        );
        assert_eq!(
            parse("monthly first mon - 3 d at 00:00").to_string(),
            "monthly first mon -3d at 00:00"
        );
    }

    #[test]
    fn error_column_and_help() {
        let err = "weekly sat at 25:00".parse::<Recurrence>();
        let Err(CalendarError::InvalidRecurrence { column, help, .. }) = err else {
            panic!("25:00 must be rejected");
        };
        assert_eq!(column, 15);
        assert!(help.is_some_and(|h| h.contains("00-23")));
    }
}
