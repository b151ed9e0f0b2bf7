//! Scope expressions as text: the grammar, the owned AST, parsing and printing.
//!
//! Step one: a linear pre-scan checks length, parenthesis depth and string
//! termination, so pest (which recurses once per nesting level) never sees an
//! input that could exhaust the stack. Step two: pest parses
//! `grammar/scope.pest`. Step three: the parse tree becomes an owned [`Expr`]
//! with spans; escapes, numbers, durations and instants are checked there.
//! pest types never leave this module. Nothing here knows about hosts, named
//! scopes or evaluation.

mod ast;
mod build;
mod error;
mod print;

pub use ast::{CmpOp, Expr, ExprKind, Instant, InstantBase, Literal, Number, Path, Spanned};
pub use error::{ParseError, ParseErrorKind};

use crate::diagnostic::Span;

/// The language's keywords: never bare values, and quoted when printed.
pub(crate) const KEYWORDS: [&str; 12] = [
    "and", "or", "not", "in", "like", "matches", "has", "true", "false", "all", "now", "version",
];

/// Seconds per duration unit, largest first (`1w` is `604800s`). The scope
/// language and policy durations share these units.
pub(crate) const DURATION_UNITS: [(char, i64); 5] = [
    ('w', 7 * 24 * 3600),
    ('d', 24 * 3600),
    ('h', 3600),
    ('m', 60),
    ('s', 1),
];
pub use print::{quote, write_path};

/// Limits that keep hostile or accidental inputs cheap to reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of parentheses and `not`s, also counted with named
    /// scopes expanded. Default 128.
    pub max_depth: usize,
    /// Longest expression in bytes. Default 64 KiB.
    pub max_len: usize,
    /// Most nodes an expression may have with every `@name` expanded, so a
    /// catalog whose scopes refer to each other many times over cannot make
    /// evaluation exponential. Default 100,000.
    pub max_expanded_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 128,
            max_len: 64 * 1024,
            max_expanded_nodes: 100_000,
        }
    }
}

/// Parses a scope expression with the default [`Limits`].
///
/// ```
/// let expr = fleetscope::syntax::parse("role = web and tags.env = prod")?;
/// assert_eq!(expr.to_string(), "role = web and tags.env = prod");
/// # Ok::<(), fleetscope::syntax::ParseError>(())
/// ```
pub fn parse(source: &str) -> Result<Expr, ParseError> {
    parse_with(source, &Limits::default())
}

/// Parses a scope expression. Takes time linear in the input; rejects input
/// longer than `limits.max_len` or nested deeper than `limits.max_depth`
/// before running the grammar.
pub fn parse_with(source: &str, limits: &Limits) -> Result<Expr, ParseError> {
    if source.len() > limits.max_len {
        return Err(ParseError::new(
            ParseErrorKind::TooLong {
                len: source.len(),
                limit: limits.max_len,
            },
            Span::new(limits.max_len, source.len()),
            source,
        )
        .with_help("store long expressions as named scopes and combine them with @name"));
    }
    prescan(source, limits.max_depth)?;
    build::parse(source, limits.max_depth)
}

/// One linear pass over the text, before pest: parenthesis depth (outside
/// strings and comments) and strings that are never closed.
fn prescan(source: &str, max_depth: usize) -> Result<(), ParseError> {
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            quote @ (b'"' | b'\'') => {
                let open = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            let closer = if quote == b'"' { "\"" } else { "'" };
                            return Err(ParseError::new(
                                ParseErrorKind::UnterminatedString,
                                Span::new(open, open + 1),
                                source,
                            )
                            .with_help(format!("close the string with a matching {closer}")));
                        }
                        Some(b'\\') => i += 2,
                        Some(&b) if b == quote => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b'#' => {
                while bytes.get(i).is_some_and(|c| *c != b'\n') {
                    i += 1;
                }
            }
            b'(' => {
                depth += 1;
                if depth > max_depth {
                    return Err(too_deep(source, Span::new(i, i + 1), max_depth));
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// How to get under the depth limit, for either phase that checks it.
pub(crate) const TOO_DEEP_HELP: &str =
    "remove redundant parentheses or `not`s, or split the expression into named scopes";

pub(crate) fn too_deep(source: &str, span: Span, limit: usize) -> ParseError {
    ParseError::new(ParseErrorKind::TooDeep { limit }, span, source).with_help(TOO_DEEP_HELP)
}
