//! The owned syntax tree of a scope expression.
//!
//! It mirrors the source: every node keeps the byte span it came from, and
//! equality ignores spans, so `role=web` and `role = web` are equal trees.
//! Nothing here is resolved or compiled yet; that is `crate::scope`'s job.

use std::fmt;

use chrono::{DateTime, FixedOffset};

use crate::diagnostic::Span;
use crate::versions::VersionScheme;

/// A value with the source span it was read from. Equality compares only the
/// value, so trees that differ in layout compare equal.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it stands in the source.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with its span.
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.node == other.node
    }
}

/// A scope expression: a node and its span.
pub type Expr = Spanned<ExprKind>;

/// What an expression node is.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `true`/`all` (every host) or `false` (no host).
    Const(bool),
    /// `@NAME`: membership in a named scope.
    ScopeRef(String),
    /// `has(P)`: the path has at least one value.
    Has(Spanned<Path>),
    /// `P op L` for `= != < <= > >=`.
    Compare {
        /// The path whose values are compared.
        path: Spanned<Path>,
        /// The operator.
        op: CmpOp,
        /// The literal on the right; its kind decides how values compare.
        value: Spanned<Literal>,
    },
    /// `P in (L, ...)` or, negated, `P not in (L, ...)`.
    In {
        /// The path whose values are tested.
        path: Spanned<Path>,
        /// `not in`: holds only when the path has a value and `in` does not hold.
        negated: bool,
        /// The candidates, at least one.
        values: Vec<Spanned<Literal>>,
    },
    /// `P like "glob"` or `P not like "glob"`.
    Like {
        /// The path whose values are matched.
        path: Spanned<Path>,
        /// `not like`: fails closed like every negated operator.
        negated: bool,
        /// The glob, after string escapes were applied.
        pattern: Spanned<String>,
    },
    /// `P matches "regex"` or `P not matches "regex"` (whole-text match).
    Matches {
        /// The path whose values are matched.
        path: Spanned<Path>,
        /// `not matches`: fails closed like every negated operator.
        negated: bool,
        /// The regex, after string escapes were applied.
        pattern: Spanned<String>,
    },
    /// `not E`: the plain complement.
    Not(Box<Expr>),
    /// `E and E and ...`, two or more operands.
    And(Vec<Expr>),
    /// `E or E or ...`, two or more operands.
    Or(Vec<Expr>),
}

/// Where a predicate reads a host's values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Path {
    /// `name`: the host's name.
    Name,
    /// `role`: each of the host's roles.
    Role,
    /// `tags.KEY`: the tag's value, if the tag is set.
    Tag(String),
    /// `facts.A.B`: the value at that path in the host's facts.
    Fact(Vec<String>),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=` (fails closed: needs a value)
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    /// Whether the operator orders values (`< <= > >=`).
    pub fn is_ordering(self) -> bool {
        matches!(self, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge)
    }

    /// The operator's source text.
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// Whether `ordering` (value compared with literal) satisfies the operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ordering == Equal,
            CmpOp::Ne => ordering != Equal,
            CmpOp::Lt => ordering == Less,
            CmpOp::Le => ordering != Greater,
            CmpOp::Gt => ordering == Greater,
            CmpOp::Ge => ordering != Less,
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A literal on the right of a predicate. Its kind decides how host values
/// compare with it.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A quoted string or a bare word: compares with a value's text.
    Str(String),
    /// A number: compares numerically with numbers and numeric strings.
    Number(Number),
    /// `true` / `false`: compares with booleans and the strings "true"/"false".
    Bool(bool),
    /// `version("...")`: compares in natural version order.
    Version(String),
    /// `dpkg("...")`, `rpm("...")` or `semver("...")`: compares in that
    /// package manager's version order. The text is a valid version of
    /// the scheme (checked when the expression is parsed).
    Package {
        /// Whose order: Debian, RPM or SemVer.
        scheme: VersionScheme,
        /// The version as written inside the quotes.
        text: String,
    },
    /// An instant, absolute or relative to `now()`.
    Instant(Instant),
}

impl Literal {
    /// A short name of the literal's kind, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Literal::Str(_) => "string",
            Literal::Number(_) => "number",
            Literal::Bool(_) => "boolean",
            Literal::Version(_) => "version",
            Literal::Package { scheme, .. } => scheme.title(),
            Literal::Instant(_) => "instant",
        }
    }
}

/// A number literal: integers compare exactly, others as 64-bit floats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// An integer such as `8` or `-3`.
    Int(i128),
    /// A number with a fraction such as `2.5`.
    Float(f64),
}

/// An instant literal: a base plus an offset in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Instant {
    /// `now()` or a fixed instant.
    pub base: InstantBase,
    /// Seconds added to the base (`now() - 30d` is -2,592,000).
    pub offset_seconds: i64,
}

/// Where an instant literal starts from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum InstantBase {
    /// `now()`: the instant the caller evaluates at.
    Now,
    /// A date or an RFC 3339 timestamp.
    At(DateTime<FixedOffset>),
}
