//! Source text for a tree, laid out at random: what a person might type
//! for the same expression.
//!
//! [`layout`] writes spacing (spaces, tabs, newlines, comments) between
//! tokens, keyword case, `all` for `true`, single or double quotes, escapes,
//! leading zeros, redundant parentheses and trailing commas; the text parses
//! to a tree equal to the one written. It matches on every [`ExprKind`] and
//! [`Literal`], so a new operator or literal kind does not compile until it
//! can be written here.

use proptest::prelude::*;

use super::Rng;
use crate::syntax::{quote, Expr, ExprKind, InstantBase, Literal, Number, Path};

/// Source text for `expr` laid out at random: spacing (spaces, tabs,
/// newlines, comments) between tokens, keyword case, `all` for `true`,
/// single or double quotes, redundant parentheses, trailing commas in
/// lists. It parses to a tree equal to `expr`.
pub fn layout(expr: Expr) -> BoxedStrategy<String> {
    any::<u64>()
        .prop_map(move |seed| {
            let mut out = String::new();
            let mut rng = Rng::new(seed);
            write_expr(&mut out, &mut rng, &expr);
            out
        })
        .boxed()
}

/// Whitespace where a token boundary needs some.
fn space(out: &mut String, rng: &mut Rng) {
    let s = rng.pick(&[
        " ",
        " ",
        " ",
        "  ",
        "\n",
        "\t",
        "\r\n",
        " # comment (\"'\n",
        "\n  ",
    ]);
    out.push_str(s);
}

/// Whitespace where a token boundary needs none.
fn maybe_space(out: &mut String, rng: &mut Rng) {
    if rng.one_in(2) {
        space(out, rng);
    }
}

fn keyword(out: &mut String, rng: &mut Rng, word: &str) {
    match rng.below(4) {
        0 => out.push_str(&word.to_uppercase()),
        1 => {
            for (i, c) in word.chars().enumerate() {
                if i % 2 == 0 {
                    out.extend(c.to_uppercase());
                } else {
                    out.push(c);
                }
            }
        }
        _ => out.push_str(word),
    }
}

fn write_expr(out: &mut String, rng: &mut Rng, expr: &Expr) {
    // Redundant parentheses around any operand leave the tree unchanged.
    if rng.one_in(8) {
        out.push('(');
        maybe_space(out, rng);
        write_bare(out, rng, expr);
        maybe_space(out, rng);
        out.push(')');
    } else {
        write_bare(out, rng, expr);
    }
}

fn write_operand(out: &mut String, rng: &mut Rng, expr: &Expr, parens: bool) {
    if parens {
        out.push('(');
        maybe_space(out, rng);
        write_expr(out, rng, expr);
        maybe_space(out, rng);
        out.push(')');
    } else {
        write_expr(out, rng, expr);
    }
}

fn write_bare(out: &mut String, rng: &mut Rng, expr: &Expr) {
    let chain = |k: &ExprKind| matches!(k, ExprKind::And(_) | ExprKind::Or(_));
    match &expr.node {
        ExprKind::Const(true) => {
            let word = rng.pick(&["true", "all"]);
            keyword(out, rng, word);
        }
        ExprKind::Const(false) => keyword(out, rng, "false"),
        ExprKind::ScopeRef(name) => {
            out.push('@');
            out.push_str(name);
        }
        ExprKind::Has(path) => {
            keyword(out, rng, "has");
            maybe_space(out, rng);
            out.push('(');
            maybe_space(out, rng);
            write_path(out, rng, &path.node);
            maybe_space(out, rng);
            out.push(')');
        }
        ExprKind::Compare { path, op, value } => {
            write_path(out, rng, &path.node);
            maybe_space(out, rng);
            out.push_str(op.as_str());
            maybe_space(out, rng);
            write_literal(out, rng, &value.node);
        }
        ExprKind::In {
            path,
            negated,
            values,
        } => {
            write_path(out, rng, &path.node);
            space(out, rng);
            if *negated {
                keyword(out, rng, "not");
                space(out, rng);
            }
            keyword(out, rng, "in");
            maybe_space(out, rng);
            out.push('(');
            for (i, v) in values.iter().enumerate() {
                maybe_space(out, rng);
                if i > 0 {
                    out.push(',');
                    maybe_space(out, rng);
                }
                write_literal(out, rng, &v.node);
            }
            maybe_space(out, rng);
            if rng.one_in(3) {
                out.push(',');
                maybe_space(out, rng);
            }
            out.push(')');
        }
        ExprKind::Like {
            path,
            negated,
            pattern,
        }
        | ExprKind::Matches {
            path,
            negated,
            pattern,
        } => {
            write_path(out, rng, &path.node);
            space(out, rng);
            if *negated {
                keyword(out, rng, "not");
                space(out, rng);
            }
            let op = if matches!(expr.node, ExprKind::Like { .. }) {
                "like"
            } else {
                "matches"
            };
            keyword(out, rng, op);
            maybe_space(out, rng);
            write_string(out, rng, &pattern.node);
        }
        ExprKind::Not(inner) => {
            keyword(out, rng, "not");
            if chain(&inner.node) {
                maybe_space(out, rng);
                write_operand(out, rng, inner, true);
            } else {
                space(out, rng);
                write_operand(out, rng, inner, false);
            }
        }
        ExprKind::And(terms) | ExprKind::Or(terms) => {
            let (word, needs) = if matches!(expr.node, ExprKind::And(_)) {
                ("and", chain as fn(&ExprKind) -> bool)
            } else {
                (
                    "or",
                    (|k: &ExprKind| matches!(k, ExprKind::Or(_))) as fn(&ExprKind) -> bool,
                )
            };
            for (i, term) in terms.iter().enumerate() {
                if i > 0 {
                    space(out, rng);
                    keyword(out, rng, word);
                    space(out, rng);
                }
                write_operand(out, rng, term, needs(&term.node));
            }
        }
    }
}

fn write_path(out: &mut String, rng: &mut Rng, path: &Path) {
    let key = |out: &mut String, rng: &mut Rng, k: &str| {
        let mut chars = k.chars();
        let ident = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ident && !rng.one_in(4) {
            out.push_str(k);
        } else {
            write_string(out, rng, k);
        }
    };
    match path {
        Path::Name => out.push_str("name"),
        Path::Role => out.push_str("role"),
        Path::Tag(k) => {
            out.push_str("tags.");
            key(out, rng, k);
        }
        Path::Fact(keys) => {
            out.push_str("facts");
            for k in keys {
                out.push('.');
                key(out, rng, k);
            }
        }
    }
}

/// A string literal in double quotes (as the printer writes it) or in
/// single quotes with the other escapes.
fn write_string(out: &mut String, rng: &mut Rng, text: &str) {
    if rng.one_in(2) {
        out.push_str(&quote(text));
        return;
    }
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' if rng.one_in(2) => out.push_str("\\n"),
            '"' if rng.one_in(2) => out.push_str("\\\""),
            c if c.is_control() || rng.one_in(16) => {
                out.push_str(&format!("\\u{{{:X}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('\'');
}

fn write_literal(out: &mut String, rng: &mut Rng, literal: &Literal) {
    match literal {
        Literal::Str(s) => {
            // The printer decides when a bare word reads back the same.
            let printed = literal.to_string();
            if printed.starts_with('"') || rng.one_in(3) {
                write_string(out, rng, s);
            } else {
                out.push_str(&printed);
            }
        }
        Literal::Bool(b) => keyword(out, rng, if *b { "true" } else { "false" }),
        Literal::Number(Number::Int(i)) if *i >= 0 && rng.one_in(4) => {
            // Leading zeros do not change an integer.
            out.push_str(&format!("00{i}"));
        }
        Literal::Number(n) => out.push_str(&Literal::Number(*n).to_string()),
        Literal::Version(v) => {
            keyword(out, rng, "version");
            maybe_space(out, rng);
            out.push('(');
            maybe_space(out, rng);
            write_string(out, rng, v);
            maybe_space(out, rng);
            out.push(')');
        }
        Literal::Package { scheme, text } => {
            keyword(out, rng, scheme.name());
            maybe_space(out, rng);
            out.push('(');
            maybe_space(out, rng);
            write_string(out, rng, text);
            maybe_space(out, rng);
            out.push(')');
        }
        Literal::Instant(i) => {
            let printed = Literal::Instant(*i).to_string();
            match (i.base, printed.strip_prefix("now()")) {
                (InstantBase::Now, Some(rest)) => {
                    keyword(out, rng, "now");
                    maybe_space(out, rng);
                    out.push('(');
                    maybe_space(out, rng);
                    out.push(')');
                    out.push_str(rest);
                }
                _ => out.push_str(&printed),
            }
        }
    }
}
