//! Errors in the text of a scope expression, each with the span it is
//! about. Errors that need the catalog or compile patterns (unknown
//! `@name`, cycles, invalid regexes and globs) belong to binding, in
//! `crate::scope`.

use crate::diagnostic::Located;

/// An error in the text of a scope expression: what is wrong, where, and
/// how to fix it. Found before anything is resolved or evaluated: syntax,
/// limits, escapes, numbers, instants, ordering with a boolean.
pub type ParseError = Located<ParseErrorKind>;

/// What is wrong with the text of a scope expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseErrorKind {
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
    /// `< <= > >=` with a boolean literal.
    #[error("`{op}` orders values, but booleans have no order")]
    BoolOrdering {
        /// The operator used.
        op: String,
    },
}
