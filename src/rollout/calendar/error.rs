//! The one error type of the calendar layer.

use chrono::NaiveDate;

/// Everything a policy author can get wrong in durations, recurrences, time
/// zones and blackouts. Each variant's message is a sentence that says what
/// was wrong and, where a fix is known, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A duration was empty or only whitespace.
    #[error("the duration is empty; write a number and a unit, like `4h` or `1h30m`")]
    EmptyDuration,

    /// A duration did not follow the `<number><unit>...` form.
    #[error(
        "duration `{text}` is not valid at column {column}: expected {expected}{}",
        help_suffix(.help)
    )]
    InvalidDuration {
        /// The duration as written.
        text: String,
        /// 1-based character column of the problem.
        column: usize,
        /// What would have been valid there.
        expected: String,
        /// How to fix it, where that is known.
        help: Option<String>,
    },

    /// A duration started with a minus sign.
    #[error("duration `{text}` is negative; durations count forward, so drop the `-`")]
    NegativeDuration {
        /// The duration as written.
        text: String,
    },

    /// A duration does not fit in the range of representable time spans.
    #[error("duration `{text}` is too large to represent; durations must stay below about 292 million years")]
    DurationOverflow {
        /// The duration as written.
        text: String,
    },

    /// A recurrence did not parse, or one of its numbers is out of range.
    #[error(
        "recurrence `{text}` is not valid at column {column}: expected {expected}, found {found}{}",
        help_suffix(.help)
    )]
    InvalidRecurrence {
        /// The recurrence as written.
        text: String,
        /// Byte offset of the problem in `text`.
        offset: usize,
        /// 1-based character column of the problem in `text`.
        column: usize,
        /// What would have been valid there.
        expected: String,
        /// What was there instead (a word, a character, or "end of input").
        found: String,
        /// How to fix it, where that is known.
        help: Option<String>,
    },

    /// A name that is not in the IANA time zone database.
    #[error("`{name}` is not an IANA time zone name such as `Europe/Berlin` or `UTC`{}", suggestion_suffix(.suggestion))]
    UnknownTimeZone {
        /// The name as written.
        name: String,
        /// A known zone name that is close to what was written.
        suggestion: Option<String>,
    },

    /// A blackout whose end is not after its start.
    #[error(
        "blackout `{name}` runs from {from} to {to}, which is empty: `to` is exclusive, so it must be at least one day after `from`"
    )]
    EmptyBlackout {
        /// The blackout's name.
        name: String,
        /// First local date of the blackout (inclusive).
        from: NaiveDate,
        /// Local date the blackout ends (exclusive).
        to: NaiveDate,
    },

    /// A blackout date so far from today that it has no UTC instant.
    #[error("blackout `{name}` uses the date {date}, which is outside the range of representable instants")]
    BlackoutOutOfRange {
        /// The blackout's name.
        name: String,
        /// The date that could not be converted.
        date: NaiveDate,
    },
}

fn help_suffix(help: &Option<String>) -> String {
    match help {
        Some(help) => format!(" (help: {help})"),
        None => String::new(),
    }
}

fn suggestion_suffix(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(name) => format!("; did you mean `{name}`?"),
        None => String::new(),
    }
}
