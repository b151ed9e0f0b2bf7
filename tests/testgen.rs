//! The shared test generators (`fleetscope::testgen`) keep their power: the
//! expression strategies produce every predicate form, negation, operator,
//! path shape and literal kind; the fleets hold every kind of value; enough
//! random predicates select some but not all hosts to mean something; and
//! the fuzzers' byte decoder reaches every value of the vocabulary.
//!
//! The samples come from proptest's deterministic runner, so these counts
//! are the same on every run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::collections::BTreeSet;

use fleetscope::syntax::{Expr, ExprKind, Literal, Path};
use fleetscope::testgen::vocab::{self, LiteralKind, MISSING_KEY, ROLES, TEXTS};
use fleetscope::testgen::{bytes, strategy};
use fleetscope::{reference, Fleet};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::Value;

fn samples<T: std::fmt::Debug>(strategy: BoxedStrategy<T>, n: usize) -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn leaves<'a>(expr: &'a Expr, out: &mut Vec<&'a Expr>) {
    match &expr.node {
        ExprKind::Not(inner) => leaves(inner, out),
        ExprKind::And(terms) | ExprKind::Or(terms) => {
            terms.iter().for_each(|t| leaves(t, out));
        }
        _ => out.push(expr),
    }
}

/// Names for what a leaf is: its form, negation, operator, literal kinds
/// and path shape.
fn features(leaf: &Expr) -> Vec<String> {
    let path = |p: &Path| match p {
        Path::Name => "path name".to_string(),
        Path::Role => "path role".to_string(),
        Path::Tag(k) if k == MISSING_KEY => "path missing tag".to_string(),
        Path::Tag(_) => "path tag".to_string(),
        Path::Fact(keys) if keys.first().is_some_and(|k| k == MISSING_KEY) => {
            "path missing fact".to_string()
        }
        Path::Fact(keys) => format!("path fact depth {}", keys.len()),
    };
    let literal = |l: &Literal| format!("literal {}", l.kind_name());
    match &leaf.node {
        ExprKind::Compare { path: p, op, value } => vec![
            format!("compare {}", op.as_str()),
            literal(&value.node),
            path(&p.node),
        ],
        ExprKind::In {
            path: p,
            negated,
            values,
        } => {
            let mut out = vec![format!("in negated={negated}"), path(&p.node)];
            out.extend(values.iter().map(|v| literal(&v.node)));
            out
        }
        ExprKind::Like {
            path: p, negated, ..
        } => {
            vec![format!("like negated={negated}"), path(&p.node)]
        }
        ExprKind::Matches {
            path: p, negated, ..
        } => {
            vec![format!("matches negated={negated}"), path(&p.node)]
        }
        ExprKind::Has(p) => vec!["has".to_string(), path(&p.node)],
        ExprKind::Const(b) => vec![format!("const {b}")],
        ExprKind::ScopeRef(_) => vec!["scope reference".to_string()],
        ExprKind::Not(_) | ExprKind::And(_) | ExprKind::Or(_) => vec![],
    }
}

fn expected_features() -> BTreeSet<String> {
    let mut out: BTreeSet<String> = [
        "in negated=false",
        "in negated=true",
        "like negated=false",
        "like negated=true",
        "matches negated=false",
        "matches negated=true",
        "has",
        "const true",
        "const false",
        "scope reference",
        "path name",
        "path role",
        "path tag",
        "path missing tag",
        "path missing fact",
        "path fact depth 1",
        "path fact depth 2",
        "path fact depth 3",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    // Written out rather than derived from the vocabulary, so that dropping
    // an operator or a literal kind from the generators fails here.
    for op in ["=", "!=", "<", "<=", ">", ">="] {
        out.insert(format!("compare {op}"));
    }
    for kind in [
        "string",
        "number",
        "boolean",
        "version",
        "Debian version",
        "RPM version",
        "SemVer version",
        "instant",
    ] {
        out.insert(format!("literal {kind}"));
    }
    out
}

#[test]
fn every_literal_kind_has_a_vocabulary_of_its_own_kind() {
    let mut names = BTreeSet::new();
    for kind in LiteralKind::ALL {
        let literals = kind.vocabulary();
        assert!(!literals.is_empty(), "{kind:?} has no literals");
        let kinds: BTreeSet<&str> = literals.iter().map(Literal::kind_name).collect();
        assert_eq!(kinds.len(), 1, "{kind:?} mixes kinds: {kinds:?}");
        names.extend(kinds);
    }
    assert_eq!(names.len(), LiteralKind::ALL.len(), "{names:?}");
}

#[test]
fn every_vocabulary_literal_compiles_where_expressions_put_it() {
    let catalog = vocab::catalog().unwrap();
    for kind in LiteralKind::ALL {
        for literal in kind.vocabulary() {
            for source in [
                format!("facts.os.version = {literal}"),
                format!("tags.env in ({literal}, {literal})"),
            ] {
                let compiled = catalog.compile(&source);
                assert!(compiled.is_ok(), "{source:?}: {:?}", compiled.err());
            }
        }
    }
}

#[test]
fn eval_expressions_use_every_form_operator_path_and_literal_kind() {
    let mut seen = BTreeSet::new();
    for expr in samples(strategy::eval_expr(), 1000) {
        let mut found = Vec::new();
        leaves(&expr, &mut found);
        seen.extend(found.into_iter().flat_map(features));
    }
    let missing: Vec<_> = expected_features().difference(&seen).cloned().collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

#[test]
fn syntax_expressions_use_every_form_operator_and_literal_kind() {
    let mut seen = BTreeSet::new();
    for expr in samples(strategy::syntax_expr(), 1000) {
        let mut found = Vec::new();
        leaves(&expr, &mut found);
        seen.extend(found.into_iter().flat_map(features));
    }
    let missing: Vec<_> = expected_features()
        .into_iter()
        .filter(|f| !f.starts_with("path "))
        .filter(|f| !seen.contains(f))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

fn value_kinds(value: &Value, depth: usize, out: &mut BTreeSet<String>) {
    let kind = match value {
        Value::Null => "null".to_string(),
        Value::Bool(_) => "bool".to_string(),
        Value::Number(n) if n.is_f64() => "float".to_string(),
        Value::Number(n) if n.as_i64().is_none() => "integer beyond i64".to_string(),
        Value::Number(n) if n.as_i64().is_some_and(|i| i < 0) => "negative integer".to_string(),
        Value::Number(_) => "integer".to_string(),
        Value::String(s) if s.is_empty() => "empty string".to_string(),
        Value::String(s) if s.parse::<f64>().is_ok() => "numeric string".to_string(),
        Value::String(_) => "string".to_string(),
        Value::Array(items) => {
            items.iter().for_each(|v| value_kinds(v, depth + 1, out));
            if items.is_empty() {
                out.insert("empty array".to_string());
            }
            format!("array at depth {depth}")
        }
        Value::Object(map) => {
            map.values().for_each(|v| value_kinds(v, depth + 1, out));
            format!("object at depth {depth}")
        }
    };
    out.insert(kind);
}

#[test]
fn fleets_hold_every_kind_of_value() {
    let mut seen = BTreeSet::new();
    let mut roles = BTreeSet::new();
    for fleet in samples(strategy::fleet(8), 300) {
        for host in fleet.hosts() {
            host.facts
                .values()
                .for_each(|v| value_kinds(v, 0, &mut seen));
            roles.extend(host.roles.iter().cloned());
            if host.roles.iter().collect::<BTreeSet<_>>().len() < host.roles.len() {
                seen.insert("repeated role".to_string());
            }
            if host.tags.values().any(String::is_empty) {
                seen.insert("empty tag value".to_string());
            }
        }
    }
    let expected = [
        "null",
        "bool",
        "float",
        "integer",
        "negative integer",
        "integer beyond i64",
        "string",
        "numeric string",
        "empty string",
        "empty array",
        "array at depth 0",
        "array at depth 1",
        "object at depth 0",
        "object at depth 1",
        "repeated role",
        "empty tag value",
    ];
    let missing: Vec<_> = expected.iter().filter(|k| !seen.contains(**k)).collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    let all_roles: BTreeSet<String> = ROLES.iter().map(|r| r.to_string()).collect();
    assert_eq!(roles, all_roles);
}

/// A predicate that selects no host or every host says little about
/// evaluation; the vocabulary is kept small so that many do neither.
/// About 18% do with the vocabulary of this commit.
#[test]
fn enough_random_predicates_select_some_but_not_all_hosts() {
    let catalog = vocab::catalog().unwrap();
    let predicates = samples(strategy::eval_predicate(), 2000);
    let fleets: Vec<Fleet> = samples(strategy::fleet(8), 2000);
    let mut telling = 0;
    for (predicate, fleet) in predicates.iter().zip(&fleets) {
        let scope = catalog.compile(&predicate.to_string()).unwrap();
        let n = reference::select(&scope, fleet, vocab::now()).len();
        if n > 0 && n < fleet.len() {
            telling += 1;
        }
    }
    assert!(
        telling * 100 >= predicates.len() * 12,
        "only {telling} of {} predicates select some but not all hosts",
        predicates.len()
    );
}

#[test]
fn the_byte_decoder_reaches_the_whole_vocabulary() {
    let scalars: BTreeSet<String> = (0..=255u8).map(|b| bytes::scalar(b).to_string()).collect();
    for (_, group) in vocab::json_scalars() {
        for value in group {
            assert!(
                scalars.contains(&value.to_string()),
                "no byte decodes to {value}"
            );
        }
    }
    let mut tag_values = BTreeSet::new();
    let mut roles = BTreeSet::new();
    for b in 0..=255u8 {
        let host = bytes::host(&mut [b, b, b & 0x7f, b & 0x7f, b].into_iter()).unwrap();
        tag_values.extend(host.tags.values().cloned());
        roles.extend(host.roles);
        assert_eq!(host.facts.len(), 1);
    }
    let texts: BTreeSet<String> = TEXTS.iter().map(|t| t.to_string()).collect();
    assert_eq!(tag_values, texts);
    assert_eq!(roles.len(), ROLES.len());
    assert!(bytes::host(&mut [1u8, 2, 3, 4].into_iter()).is_none());
}
