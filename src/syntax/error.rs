//! Errors in a scope expression, each with the span it is about.

use std::fmt;

use crate::diagnostic::{self, LineCol};
use crate::syntax::Span;

/// An error in a scope expression: what is wrong, where, and how to fix it.
///
/// Found before any host is evaluated: syntax, limits, invalid regex or glob,
/// ordering with a boolean, unknown `@name`, cycles among named scopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{at}: {kind}")]
pub struct ScopeError {
    kind: ScopeErrorKind,
    span: Span,
    at: LineCol,
    help: Option<String>,
}

/// What went wrong in a scope expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeErrorKind {
    /// The text does not follow the grammar.
    #[error("expected {expected}, found {found}")]
    Syntax {
        /// What the grammar allows at this point, in words.
        expected: String,
        /// What stands there instead.
        found: String,
    },
    /// The expression is longer than the configured limit.
    #[error("the expression is {len} bytes long; the limit is {limit} bytes")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Parentheses or `not`s nest deeper than the configured limit.
    #[error("the expression nests deeper than the limit of {limit} levels")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A string literal is not closed.
    #[error("this string is never closed")]
    UnterminatedString,
    /// A backslash escape in a string is not one the language knows.
    #[error("unknown escape `{escape}` in a string")]
    BadEscape {
        /// The escape as written.
        escape: String,
    },
    /// A number or duration does not fit the range the language supports.
    #[error("{what} `{text}` is out of range")]
    OutOfRange {
        /// "number", "duration" or "instant".
        what: &'static str,
        /// The text as written.
        text: String,
    },
    /// A date or timestamp that has the right shape but is not a real instant.
    #[error("`{text}` is not a valid date or RFC 3339 timestamp")]
    BadInstant {
        /// The text as written.
        text: String,
    },
    /// `dpkg("...")`, `rpm("...")` or `semver("...")` with a text that is
    /// not a valid version of that scheme.
    #[error("`{text}` is not a valid {scheme}: {reason}")]
    InvalidVersion {
        /// "Debian version", "RPM version" or "SemVer version".
        scheme: &'static str,
        /// The text inside the quotes, escapes applied.
        text: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `matches` with a pattern the regex engine rejects.
    #[error("invalid regex: {reason}")]
    InvalidRegex {
        /// The regex engine's explanation.
        reason: String,
    },
    /// `like` with a pattern that is not a valid glob.
    #[error("invalid glob: {reason}")]
    InvalidGlob {
        /// What is wrong with it.
        reason: String,
    },
    /// `< <= > >=` with a boolean literal.
    #[error("`{op}` orders values, but booleans have no order")]
    BoolOrdering {
        /// The operator used.
        op: String,
    },
    /// `@NAME` names no scope in the catalog.
    #[error("unknown scope `@{name}`; known scopes: {}", known_list(.known))]
    UnknownScope {
        /// The name as written.
        name: String,
        /// Every name the catalog knows, sorted.
        known: Vec<String>,
    },
    /// Named scopes refer to each other in a circle.
    #[error("named scopes form a cycle: {}", .cycle.iter().map(|n| format!("@{n}")).collect::<Vec<_>>().join(" -> "))]
    ScopeCycle {
        /// The scopes on the cycle, the first repeated at the end.
        cycle: Vec<String>,
    },
    /// Named scopes expand to more than the configured limit.
    #[error("with its named scopes expanded the expression has {what}; the limit is {limit}")]
    TooLarge {
        /// What exceeded the limit, in words.
        what: String,
        /// The limit.
        limit: usize,
    },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "none (no scopes are defined)".to_string()
    } else {
        known
            .iter()
            .map(|n| format!("@{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl ScopeError {
    /// An error of `kind` at `span` of `source`.
    pub fn new(kind: ScopeErrorKind, span: Span, source: &str) -> Self {
        ScopeError {
            kind,
            span,
            at: LineCol::of(source, span.start),
            help: None,
        }
    }

    /// Adds a sentence that says how to fix the error.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ScopeErrorKind {
        &self.kind
    }

    /// The byte span in the expression that the error is about.
    pub fn span(&self) -> Span {
        self.span
    }

    /// Line and column of the span's start.
    pub fn line_col(&self) -> LineCol {
        self.at
    }

    /// How to fix it, where a fix is known.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The error under its source line with a caret, for terminals.
    /// `source` must be the expression the error came from.
    pub fn render(&self, source: &str, origin: &str) -> String {
        diagnostic::render(
            source,
            origin,
            self.span,
            &self.kind.to_string(),
            self.help.as_deref(),
        )
    }
}

/// Edit distance counting a swap of two neighbours as one edit (optimal
/// string alignment), for "did you mean" suggestions. Inputs are short words.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    if let Some(first) = d.first_mut() {
        for (j, cell) in first.iter_mut().enumerate() {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_lower = word.to_lowercase();
    let allowed = match word.chars().count() {
        0..=1 => 0,
        2..=4 => 1,
        _ => 2,
    };
    candidates
        .into_iter()
        .map(|c| (edit_distance(&word_lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= allowed)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("and", "and"), 0);
        assert_eq!(edit_distance("adn", "and"), 1);
        assert_eq!(edit_distance("matchs", "matches"), 1);
        assert_eq!(edit_distance("", "or"), 2);
    }

    #[test]
    fn closest_prefers_the_nearest_and_rejects_far_words() {
        assert_eq!(closest("matchs", ["matches", "like"]), Some("matches"));
        assert_eq!(closest("AMD", ["and", "or"]), Some("and"));
        assert_eq!(closest("banana", ["and", "or"]), None);
    }
}
