//! The reference interpreter: evaluates a scope for one host at a time by
//! following `docs/language.md` literally. It is the oracle the indexed engine is
//! tested against, so it stays obviously correct rather than fast.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::fleet::{Fleet, Host};
use crate::scope::{Catalog, Node, NodeKind, Scope};
use crate::syntax::{CmpOp, Literal, Path};
use crate::value::{for_each_value, HostValue, Operand};

/// Whether `scope` selects `host` when evaluated at `now`.
pub fn matches(scope: &Scope, host: &Host, now: DateTime<Utc>) -> bool {
    eval(&scope.root, &scope.catalog, host, now)
}

/// Positions (in fleet order) of the hosts that `scope` selects at `now`.
/// Costs one full evaluation per host.
pub fn select(scope: &Scope, fleet: &Fleet, now: DateTime<Utc>) -> Vec<usize> {
    fleet
        .hosts()
        .iter()
        .enumerate()
        .filter(|(_, h)| matches(scope, h, now))
        .map(|(i, _)| i)
        .collect()
}

fn eval(node: &Node, catalog: &Catalog, host: &Host, now: DateTime<Utc>) -> bool {
    match &node.kind {
        NodeKind::Const(b) => *b,
        NodeKind::Ref(i) => catalog
            .named(*i)
            .is_some_and(|n| eval(&n.root, catalog, host, now)),
        NodeKind::Not(inner) => !eval(inner, catalog, host, now),
        NodeKind::And(terms) => terms.iter().all(|t| eval(t, catalog, host, now)),
        NodeKind::Or(terms) => terms.iter().any(|t| eval(t, catalog, host, now)),
        _ => predicate(node, host, now).unwrap_or(false),
    }
}

/// A leaf predicate's value; `None` for inner nodes.
fn predicate(node: &Node, host: &Host, now: DateTime<Utc>) -> Option<bool> {
    Some(match &node.kind {
        NodeKind::Has(path) => has(host, path),
        NodeKind::Compare {
            path,
            op: CmpOp::Ne,
            value,
        } => has(host, path) && !any(host, path, |v| equals(v, value, now)),
        NodeKind::Compare { path, op, value } => {
            let operand = Operand::new(value, now);
            any(host, path, |v| {
                operand.compare(v).is_some_and(|o| op.holds(o))
            })
        }
        NodeKind::In {
            path,
            negated,
            values,
        } => {
            let positive = |h| any(h, path, |v| values.iter().any(|l| equals(v, l, now)));
            if *negated {
                has(host, path) && !positive(host)
            } else {
                positive(host)
            }
        }
        NodeKind::Like {
            path,
            negated,
            glob,
        } => fail_closed(host, path, *negated, |v| {
            v.text().is_some_and(|t| glob.is_match(&t))
        }),
        NodeKind::Matches {
            path,
            negated,
            regex,
        } => fail_closed(host, path, *negated, |v| {
            v.text().is_some_and(|t| regex.is_match(&t))
        }),
        _ => return None,
    })
}

/// `P op` and `P not op`: the negated form needs a value and the positive
/// form to fail.
fn fail_closed(host: &Host, path: &Path, negated: bool, test: impl Fn(&HostValue) -> bool) -> bool {
    let positive = any(host, path, test);
    if negated {
        has(host, path) && !positive
    } else {
        positive
    }
}

fn equals(value: &HostValue, literal: &Literal, now: DateTime<Utc>) -> bool {
    Operand::new(literal, now).compare(value) == Some(std::cmp::Ordering::Equal)
}

fn has(host: &Host, path: &Path) -> bool {
    any(host, path, |_| true)
}

fn any(host: &Host, path: &Path, test: impl Fn(&HostValue) -> bool) -> bool {
    let mut found = false;
    for_each_value(host, path, |v| found = found || test(&v));
    found
}

/// Why a host is or is not selected: the expression as a tree, each node
/// with its value for the host.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The node's source text, as the author wrote it.
    pub text: String,
    /// Whether the node holds for the host.
    pub holds: bool,
    /// For a predicate: its path and the host's values there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<PathValues>,
    /// For a comparison with a version literal (`version`, `dpkg`, `rpm`,
    /// `semver`): which order compared each value with the literal and
    /// what it found, one line per value and literal.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compared: Vec<String>,
    /// For `not`, `and`, `or` and `@name`: the operands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Explanation>,
}

/// A path and the values a host has there, as JSON-like text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathValues {
    /// The path as written in the language.
    pub path: String,
    /// Each value: strings quoted, numbers and booleans bare.
    pub values: Vec<String>,
}

/// Evaluates `scope` for `host` and keeps every intermediate value.
pub fn explain(scope: &Scope, host: &Host, now: DateTime<Utc>) -> Explanation {
    explain_node(&scope.root, scope.source(), &scope.catalog, host, now)
}

fn explain_node(
    node: &Node,
    source: &str,
    catalog: &Catalog,
    host: &Host,
    now: DateTime<Utc>,
) -> Explanation {
    let text = source
        .get(node.span.start..node.span.end)
        .unwrap_or("")
        .to_string();
    let mut children = Vec::new();
    let mut values = None;
    let mut compared = Vec::new();
    match &node.kind {
        NodeKind::Ref(i) => {
            if let Some(named) = catalog.named(*i) {
                children.push(explain_node(&named.root, &named.source, catalog, host, now));
            }
        }
        NodeKind::Not(inner) => children.push(explain_node(inner, source, catalog, host, now)),
        NodeKind::And(terms) | NodeKind::Or(terms) => {
            children = terms
                .iter()
                .map(|t| explain_node(t, source, catalog, host, now))
                .collect();
        }
        NodeKind::Const(_) => {}
        NodeKind::Has(path)
        | NodeKind::Compare { path, .. }
        | NodeKind::In { path, .. }
        | NodeKind::Like { path, .. }
        | NodeKind::Matches { path, .. } => {
            let mut shown = Vec::new();
            for_each_value(host, path, |v| shown.push(show(&v)));
            let literals: &[Literal] = match &node.kind {
                NodeKind::Compare { value, .. } => std::slice::from_ref(value),
                NodeKind::In { values, .. } => values,
                _ => &[],
            };
            for literal in literals {
                for_each_value(host, path, |v| {
                    compared.extend(version_comparison(&v, literal))
                });
            }
            values = Some(PathValues {
                path: path.to_string(),
                values: shown,
            });
        }
    }
    Explanation {
        text,
        holds: eval(node, catalog, host, now),
        values,
        compared,
        children,
    }
}

/// For a version literal, how `value` compared with it and in which
/// order, e.g. `dpkg order: "3.0.2-0ubuntu1.10" < "3.0.2-0ubuntu1.15"`.
fn version_comparison(value: &HostValue, literal: &Literal) -> Option<String> {
    let (order, text) = match literal {
        Literal::Version(text) => ("natural version order".to_string(), text),
        Literal::Package { scheme, text } => (format!("{scheme} order"), text),
        _ => return None,
    };
    let shown_literal = crate::syntax::quote(text);
    let outcome = match literal {
        Literal::Package { scheme, .. } => match value.package_text(*scheme) {
            None => Err(format!("{} is not a valid {}", show(value), scheme.title())),
            Some(t) => match scheme.parse(&t) {
                Err(e) => Err(format!(
                    "{} is not a valid {}: {}",
                    show(value),
                    scheme.title(),
                    e
                )),
                Ok(_) => Operand::new(literal, DateTime::<Utc>::MIN_UTC)
                    .compare(value)
                    .ok_or_else(|| format!("{} is not a valid {}", show(value), scheme.title())),
            },
        },
        _ => Operand::new(literal, DateTime::<Utc>::MIN_UTC)
            .compare(value)
            .ok_or_else(|| format!("{} has no text", show(value))),
    };
    Some(match outcome {
        Ok(ordering) => {
            let symbol = match ordering {
                std::cmp::Ordering::Less => "<",
                std::cmp::Ordering::Equal => "=",
                std::cmp::Ordering::Greater => ">",
            };
            format!("{order}: {} {symbol} {shown_literal}", show(value))
        }
        Err(why) => format!("{order}: {why}"),
    })
}

fn show(value: &HostValue) -> String {
    match value {
        HostValue::Text(s) => crate::syntax::quote(s),
        HostValue::Int(i) => i.to_string(),
        // As the language writes floats: `8.0`, so that it is visible that
        // the value is a float (which has no text), not the integer 8.
        HostValue::Float(f) => crate::syntax::Number::Float(*f).to_string(),
        HostValue::Bool(b) => b.to_string(),
    }
}

impl std::fmt::Display for Explanation {
    /// One line per node, indented by depth: `yes`/`no`, the node's text,
    /// and for predicates the host's values at the path.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut stack = vec![(self, 0usize)];
        while let Some((node, depth)) = stack.pop() {
            let text = node.text.split_whitespace().collect::<Vec<_>>().join(" ");
            write!(
                f,
                "{}{} {}",
                "  ".repeat(depth),
                if node.holds { "yes" } else { "no " },
                text
            )?;
            if let Some(v) = &node.values {
                if v.values.is_empty() {
                    write!(f, "    [{}: no value]", v.path)?;
                } else {
                    write!(f, "    [{}: {}]", v.path, v.values.join(", "))?;
                }
            }
            writeln!(f)?;
            for line in &node.compared {
                writeln!(f, "{}      {line}", "  ".repeat(depth))?;
            }
            for child in node.children.iter().rev() {
                stack.push((child, depth + 1));
            }
        }
        Ok(())
    }
}
