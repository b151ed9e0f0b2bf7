//! Printing an AST back to source. The output parses to an equal AST: groups
//! get parentheses exactly where precedence needs them, and strings are
//! quoted unless they read back as the same bare word.

use std::fmt::{self, Write as _};

use chrono::Timelike;

use super::ast::{Expr, ExprKind, Instant, InstantBase, Literal, Number, Path};

use super::{DURATION_UNITS, KEYWORDS};

impl fmt::Display for ExprKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExprKind::Const(true) => f.write_str("true"),
            ExprKind::Const(false) => f.write_str("false"),
            ExprKind::ScopeRef(name) => write!(f, "@{name}"),
            ExprKind::Has(path) => write!(f, "has({})", path.node),
            ExprKind::Compare { path, op, value } => {
                write!(f, "{} {} {}", path.node, op, value.node)
            }
            ExprKind::In {
                path,
                negated,
                values,
            } => {
                write!(
                    f,
                    "{} {}in (",
                    path.node,
                    if *negated { "not " } else { "" }
                )?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", v.node)?;
                }
                f.write_str(")")
            }
            ExprKind::Like {
                path,
                negated,
                pattern,
            } => write!(
                f,
                "{} {}like {}",
                path.node,
                if *negated { "not " } else { "" },
                quote(&pattern.node)
            ),
            ExprKind::Matches {
                path,
                negated,
                pattern,
            } => write!(
                f,
                "{} {}matches {}",
                path.node,
                if *negated { "not " } else { "" },
                quote(&pattern.node)
            ),
            ExprKind::Not(inner) => {
                f.write_str("not ")?;
                write_operand(f, inner, |k| {
                    matches!(k, ExprKind::And(_) | ExprKind::Or(_))
                })
            }
            ExprKind::And(terms) => write_chain(f, terms, " and ", |k| {
                matches!(k, ExprKind::And(_) | ExprKind::Or(_))
            }),
            ExprKind::Or(terms) => write_chain(f, terms, " or ", |k| matches!(k, ExprKind::Or(_))),
        }
    }
}

fn write_chain(
    f: &mut fmt::Formatter<'_>,
    terms: &[Expr],
    sep: &str,
    needs_parens: fn(&ExprKind) -> bool,
) -> fmt::Result {
    for (i, term) in terms.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        write_operand(f, term, needs_parens)?;
    }
    Ok(())
}

fn write_operand(
    f: &mut fmt::Formatter<'_>,
    expr: &Expr,
    needs_parens: fn(&ExprKind) -> bool,
) -> fmt::Result {
    if needs_parens(&expr.node) {
        write!(f, "({})", expr.node)
    } else {
        write!(f, "{}", expr.node)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_path(&mut s, self);
        f.write_str(&s)
    }
}

/// Appends the source form of `path` to `out`, quoting keys that are not
/// plain identifiers.
pub fn write_path(out: &mut String, path: &Path) {
    match path {
        Path::Name => out.push_str("name"),
        Path::Role => out.push_str("role"),
        Path::Tag(key) => {
            out.push_str("tags.");
            push_key(out, key);
        }
        Path::Fact(keys) => {
            out.push_str("facts");
            for key in keys {
                out.push('.');
                push_key(out, key);
            }
        }
    }
}

fn push_key(out: &mut String, key: &str) {
    let mut chars = key.chars();
    let ident = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ident {
        out.push_str(key);
    } else {
        out.push_str(&quote(key));
    }
}

/// `text` as a double-quoted string literal with the language's escapes.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_bare_word(text: &str) -> bool {
    let mut chars = text.chars();
    let shape = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '/' | '-'));
    shape && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(text))
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) if is_bare_word(s) => f.write_str(s),
            Literal::Str(s) => f.write_str(&quote(s)),
            Literal::Number(n) => n.fmt(f),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Version(v) => write!(f, "version({})", quote(v)),
            Literal::Package { scheme, text } => write!(f, "{scheme}({})", quote(text)),
            Literal::Instant(i) => i.fmt(f),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(i) => write!(f, "{i}"),
            // `Display` for f64 never uses an exponent and round-trips; it
            // drops ".0", which would read back as an integer.
            Number::Float(x) => {
                let text = x.to_string();
                if text.contains('.') {
                    f.write_str(&text)
                } else {
                    write!(f, "{text}.0")
                }
            }
        }
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.base {
            InstantBase::Now => f.write_str("now()")?,
            InstantBase::At(at) => {
                let midnight_utc = at.offset().local_minus_utc() == 0
                    && at.num_seconds_from_midnight() == 0
                    && at.nanosecond() == 0;
                if midnight_utc {
                    write!(f, "{}", at.format("%Y-%m-%d"))?;
                } else {
                    f.write_str(&at.to_rfc3339())?;
                }
            }
        }
        if self.offset_seconds != 0 {
            let sign = if self.offset_seconds < 0 { '-' } else { '+' };
            let mut magnitude = self.offset_seconds.unsigned_abs();
            // The parser reads each duration as an i64, and -i64::MIN is
            // not one: write that offset as two durations.
            if magnitude > i64::MAX as u64 {
                write!(f, " {sign} 1s")?;
                magnitude -= 1;
            }
            // The largest unit that divides the offset exactly.
            let (amount, unit) = DURATION_UNITS
                .into_iter()
                .map(|(unit, scale)| (unit, scale.unsigned_abs()))
                .find(|(_, scale)| magnitude.is_multiple_of(*scale))
                .map_or((magnitude, 's'), |(unit, scale)| (magnitude / scale, unit));
            write!(f, " {sign} {amount}{unit}")?;
        }
        Ok(())
    }
}
