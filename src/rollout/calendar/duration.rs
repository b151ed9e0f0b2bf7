//! Durations as policy authors write them: `4h`, `90m`, `1h30m`, `2d`, `1w`.
//!
//! Hand-written rather than a pest grammar: the language is a flat list of
//! `<digits><unit>` terms, and a direct scanner gives better column numbers
//! for the few mistakes people make (`1.5h`, `4`, `4 hours`).

use chrono::TimeDelta;

use super::error::CalendarError;

/// Seconds per unit, largest first: the order [`format_duration`] prints in.
use crate::syntax::DURATION_UNITS as UNITS;

const EXPECTED_UNIT: &str = "a unit: `s`, `m`, `h`, `d` or `w`";

/// Parses a duration such as `"4h"`, `"90m"`, `"1h30m"`, `"2d"`, `"1w"` or
/// `"45s"`.
///
/// Units are `s`, `m`, `h`, `d` (24 hours) and `w` (7 days), lowercase.
/// Several terms add up (`"1h30m"`, also `"1h 30m"`); zero is allowed
/// (`"0h"`). Leading and trailing whitespace is ignored.
///
/// Rejects, with the column of the problem: an empty text, a leading `-`,
/// a number without a unit, an unknown unit, fractions (`"1.5h"`: write
/// `"1h30m"`), and a total beyond what [`TimeDelta`] can hold.
pub fn parse_duration(text: &str) -> Result<TimeDelta, CalendarError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(CalendarError::EmptyDuration);
    }
    if trimmed.starts_with('-') {
        return Err(CalendarError::NegativeDuration {
            text: text.to_owned(),
        });
    }
    let leading = text.len() - text.trim_start().len();
    let invalid =
        |byte: usize, expected: &str, help: Option<String>| CalendarError::InvalidDuration {
            text: text.to_owned(),
            column: column_of(text, leading + byte),
            expected: expected.to_owned(),
            help,
        };
    let overflow = || CalendarError::DurationOverflow {
        text: text.to_owned(),
    };

    let mut total: i64 = 0;
    let mut chars = trimmed.char_indices().peekable();
    while let Some(&(start, first)) = chars.peek() {
        if first.is_whitespace() {
            chars.next();
            continue;
        }
        if !first.is_ascii_digit() {
            let help = (start == 0 && first == '+')
                .then(|| "durations are never signed; drop the `+`".to_owned());
            return Err(invalid(start, "a number, like the `4` in `4h`", help));
        }
        let mut amount: i64 = 0;
        while let Some(&(_, c)) = chars.peek() {
            let Some(digit) = c.to_digit(10) else { break };
            amount = amount
                .checked_mul(10)
                .and_then(|a| a.checked_add(i64::from(digit)))
                .ok_or_else(overflow)?;
            chars.next();
        }
        let Some((unit_at, unit)) = chars.next() else {
            let help = format!("add a unit, for example `{amount}h` or `{amount}m`");
            return Err(invalid(trimmed.len(), EXPECTED_UNIT, Some(help)));
        };
        let Some(&(_, seconds)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(invalid(
                unit_at,
                EXPECTED_UNIT,
                unit_help(trimmed, unit_at, unit),
            ));
        };
        // `4hours` or `4ms`: the unit is a single letter.
        if let Some(&(next_at, next)) = chars.peek() {
            if next.is_alphabetic() {
                let word: String = trimmed
                    .get(unit_at..)
                    .unwrap_or_default()
                    .chars()
                    .take_while(|c| c.is_alphabetic())
                    .collect();
                return Err(invalid(
                    next_at,
                    "a number or the end of the duration",
                    Some(format!(
                        "units are single letters (`s`, `m`, `h`, `d`, `w`); `{word}` is not one"
                    )),
                ));
            }
        }
        total = amount
            .checked_mul(seconds)
            .and_then(|s| s.checked_add(total))
            .ok_or_else(overflow)?;
    }
    TimeDelta::try_seconds(total).ok_or_else(overflow)
}

/// A fix for the unit character `unit` found at byte `at` of `text`.
fn unit_help(text: &str, at: usize, unit: char) -> Option<String> {
    match unit {
        '.' | ',' => {
            Some("fractions are not supported; write `1h30m` rather than `1.5h`".to_owned())
        }
        'S' | 'M' | 'H' | 'D' | 'W' => Some(format!(
            "units are lowercase; write `{}`",
            unit.to_ascii_lowercase()
        )),
        'y' => Some("there is no year unit; write weeks or days, like `52w`".to_owned()),
        c if c.is_whitespace() => {
            let rest = text.get(at..).unwrap_or_default().trim_start();
            let word: String = rest.chars().take_while(|c| c.is_alphabetic()).collect();
            (!word.is_empty()).then(|| {
                format!("write the unit as one letter right after the number, like `4h`, not `4 {word}`")
            })
        }
        _ => None,
    }
}

/// 1-based character column of byte offset `byte` in `text`.
pub(super) fn column_of(text: &str, byte: usize) -> usize {
    crate::diagnostic::LineCol::of(text, byte).column
}

/// Formats a duration in the style [`parse_duration`] reads, largest units
/// first: `"1w1d"`, `"1d2h"`, `"30m"`, `"0s"`.
///
/// Sub-second parts are dropped (truncated toward zero), since durations
/// are written in whole seconds. A negative duration is printed with a
/// leading `-`, which [`parse_duration`] rejects.
pub fn format_duration(d: TimeDelta) -> String {
    let seconds = d.num_seconds();
    if seconds == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if seconds < 0 {
        out.push('-');
    }
    // unsigned_abs: i64::MIN has no positive i64 counterpart.
    let mut rest = seconds.unsigned_abs();
    for (unit, size) in UNITS {
        let size = size.unsigned_abs();
        let count = rest / size;
        if count > 0 {
            out.push_str(&count.to_string());
            out.push(unit);
            rest %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_summed_terms() {
        assert_eq!(parse_duration("4h"), Ok(TimeDelta::hours(4)));
        assert_eq!(parse_duration("90m"), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_duration("1h30m"), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_duration(" 1h 30m "), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_duration("2d"), Ok(TimeDelta::days(2)));
        assert_eq!(parse_duration("1w"), Ok(TimeDelta::weeks(1)));
        assert_eq!(parse_duration("45s"), Ok(TimeDelta::seconds(45)));
        assert_eq!(parse_duration("0h"), Ok(TimeDelta::zero()));
    }

    #[test]
    fn formats_largest_units_first() {
        assert_eq!(format_duration(TimeDelta::hours(26)), "1d2h");
        assert_eq!(format_duration(TimeDelta::minutes(30)), "30m");
        assert_eq!(format_duration(TimeDelta::zero()), "0s");
        assert_eq!(format_duration(TimeDelta::days(8)), "1w1d");
        assert_eq!(format_duration(TimeDelta::seconds(-90)), "-1m30s");
        assert_eq!(format_duration(TimeDelta::milliseconds(1500)), "1s");
    }

    #[test]
    fn errors_point_at_the_problem() {
        let Err(CalendarError::InvalidDuration { column, help, .. }) = parse_duration("1.5h")
        else {
            panic!("1.5h must be rejected");
        };
        assert_eq!(column, 2);
        assert!(help.is_some_and(|h| h.contains("1h30m")));
        assert!(matches!(
            parse_duration("4"),
            Err(CalendarError::InvalidDuration { column: 2, .. })
        ));
        assert!(matches!(
            parse_duration("4hours"),
            Err(CalendarError::InvalidDuration { column: 3, .. })
        ));
    }
}
