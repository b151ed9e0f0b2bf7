//! Errors of turning text into a [`Scope`](crate::Scope): binding's own
//! ([`BindError`]), and [`ScopeError`], one enum over the phases, as
//! regex-syntax's `Error` wraps its parser's and translator's. Each phase
//! defines only the errors it raises.

use crate::diagnostic::Located;
use crate::syntax::{ParseError, ParseErrorKind};

/// An error found while binding a parsed expression to a catalog: an
/// unknown or cyclic `@name`, an expression too large or deep once named
/// scopes are expanded, an invalid regex or glob.
pub type BindError = Located<BindErrorKind>;

/// What is wrong with a scope once its names and patterns are resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BindErrorKind {
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
    /// Parentheses or `not`s nest deeper than the limit once named scopes
    /// are expanded.
    #[error("the expression nests deeper than the limit of {limit} levels")]
    TooDeep {
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

/// An error in a scope expression: what is wrong, where (byte span and
/// line:column), and how to fix it where a fix is known. Raised before any
/// host is evaluated.
pub type ScopeError = Located<ScopeErrorKind>;

/// Which phase rejected a scope expression, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeErrorKind {
    /// The text is not a valid expression ([`crate::syntax`]).
    #[error(transparent)]
    Parse(ParseErrorKind),
    /// The expression's names or patterns do not resolve ([`crate::Catalog`]).
    #[error(transparent)]
    Bind(BindErrorKind),
}

impl From<ParseError> for ScopeError {
    fn from(error: ParseError) -> Self {
        error.map_kind(ScopeErrorKind::Parse)
    }
}

impl From<BindError> for ScopeError {
    fn from(error: BindError) -> Self {
        error.map_kind(ScopeErrorKind::Bind)
    }
}
