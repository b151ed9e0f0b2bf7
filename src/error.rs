//! The error of turning text into a [`Scope`](crate::Scope): one enum over
//! the phases, as regex-syntax's `Error` wraps its parser's and
//! translator's. Each phase defines only the errors it raises.

use crate::diagnostic::Located;
use crate::scope::{BindError, BindErrorKind};
use crate::syntax::{ParseError, ParseErrorKind};

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
