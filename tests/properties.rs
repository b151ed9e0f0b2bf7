//! Properties that must hold for every expression: printing then parsing
//! gives the same tree; evaluation is deterministic and its entry points
//! agree; the negated operators are exactly the fail-closed rewrite the
//! spec gives for them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use fleetscope::syntax::{self, Expr, ExprKind, Limits, Spanned};
use fleetscope::testgen::{layout::layout, strategy, vocab};
use fleetscope::{reference, Fleet};
use proptest::prelude::*;

/// Printing may lengthen an expression (escapes); the round trip is about
/// meaning, not the length limit.
fn unbounded() -> Limits {
    Limits {
        max_len: usize::MAX,
        ..Limits::default()
    }
}

fn selected(source: &str, fleet: &Fleet) -> Vec<usize> {
    let scope = vocab::catalog()
        .unwrap()
        .compile(source)
        .unwrap_or_else(|e| panic!("{source:?} does not compile: {e}"));
    reference::select(&scope, fleet, vocab::now())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any tree the parser can produce prints to text that parses back to it.
    #[test]
    fn printed_trees_parse_to_the_same_tree(expr in strategy::syntax_expr()) {
        let printed = expr.to_string();
        let parsed = syntax::parse_with(&printed, &unbounded());
        prop_assert!(parsed.is_ok(), "{printed:?} does not parse: {:?}", parsed.err());
        prop_assert_eq!(parsed.ok(), Some(expr), "printed: {:?}", printed);
    }

    /// Layout (spacing, comments, keyword case, quotes, redundant
    /// parentheses, trailing commas) does not change the tree, and printing
    /// what was parsed gives text that parses to the same tree again.
    #[test]
    fn layout_does_not_change_the_tree(
        (expr, source) in strategy::syntax_expr().prop_flat_map(|e| (Just(e.clone()), layout(e)))
    ) {
        let parsed = syntax::parse_with(&source, &unbounded());
        prop_assert!(parsed.is_ok(), "{source:?} does not parse: {:?}", parsed.err());
        let parsed = parsed.ok();
        prop_assert_eq!(&parsed, &Some(expr), "source: {:?}", source);
        let printed = parsed.as_ref().map(|p| p.to_string()).unwrap_or_default();
        let again = syntax::parse_with(&printed, &unbounded()).ok();
        prop_assert_eq!(again, parsed, "printed: {:?}", printed);
    }

    /// Any text, most of it invalid: parsing returns (no panic), errors
    /// point inside the input, and whatever parses round-trips.
    #[test]
    fn any_text_parses_or_fails_cleanly(source in prop_oneof![
        any::<String>(),
        strategy::token_soup(),
    ]) {
        match syntax::parse(&source) {
            Ok(expr) => {
                let printed = expr.to_string();
                prop_assert_eq!(syntax::parse_with(&printed, &unbounded()).ok(), Some(expr));
            }
            Err(e) => {
                prop_assert!(e.span().start <= e.span().end && e.span().end <= source.len(), "{e:?}");
                let _ = e.render(&source, "expr");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The reference interpreter is deterministic, `matches` agrees with
    /// `select`, and `explain` agrees with both.
    #[test]
    fn evaluation_is_deterministic_and_consistent(
        expr in strategy::eval_expr(),
        fleet in strategy::fleet(8),
    ) {
        let source = expr.to_string();
        let scope = vocab::catalog().unwrap().compile(&source);
        prop_assert!(scope.is_ok(), "{source:?}: {:?}", scope.as_ref().err());
        let Ok(scope) = scope else { return Ok(()) };
        let now = vocab::now();
        let first = reference::select(&scope, &fleet, now);
        prop_assert_eq!(&first, &reference::select(&scope, &fleet, now));
        let by_host: Vec<usize> = fleet
            .hosts()
            .iter()
            .enumerate()
            .filter(|(_, h)| reference::matches(&scope, h, now))
            .map(|(i, _)| i)
            .collect();
        prop_assert_eq!(&first, &by_host);
        for (i, host) in fleet.hosts().iter().enumerate() {
            prop_assert_eq!(reference::explain(&scope, host, now).holds, first.contains(&i));
        }
    }

    /// `not E` is the complement of `E`; `E and F`, `E or F` are the
    /// intersection and union.
    #[test]
    fn boolean_operators_are_set_operations(
        e in strategy::eval_expr(),
        f in strategy::eval_expr(),
        fleet in strategy::fleet(8),
    ) {
        let all: Vec<usize> = (0..fleet.len()).collect();
        let se = selected(&e.to_string(), &fleet);
        let sf = selected(&f.to_string(), &fleet);
        let not_e = selected(&format!("not ({e})"), &fleet);
        let and = selected(&format!("({e}) and ({f})"), &fleet);
        let or = selected(&format!("({e}) or ({f})"), &fleet);
        prop_assert_eq!(not_e, all.iter().copied().filter(|i| !se.contains(i)).collect::<Vec<_>>());
        prop_assert_eq!(and, se.iter().copied().filter(|i| sf.contains(i)).collect::<Vec<_>>());
        prop_assert_eq!(or, all.iter().copied().filter(|i| se.contains(i) || sf.contains(i)).collect::<Vec<_>>());
    }

    /// Each negated operator holds exactly when the path has a value and
    /// the positive form does not hold (LANGUAGE.md, "Predicates").
    #[test]
    fn negated_operators_fail_closed(pred in strategy::eval_predicate(), fleet in strategy::fleet(8)) {
        let Expr { node, .. } = pred;
        let (negated, positive, path) = match node {
            ExprKind::Compare { path, op: syntax::CmpOp::Ne, value } => (
                ExprKind::Compare { path: path.clone(), op: syntax::CmpOp::Ne, value: value.clone() },
                ExprKind::Compare { path: path.clone(), op: syntax::CmpOp::Eq, value },
                path,
            ),
            ExprKind::In { path, values, .. } => (
                ExprKind::In { path: path.clone(), negated: true, values: values.clone() },
                ExprKind::In { path: path.clone(), negated: false, values },
                path,
            ),
            ExprKind::Like { path, pattern, .. } => (
                ExprKind::Like { path: path.clone(), negated: true, pattern: pattern.clone() },
                ExprKind::Like { path: path.clone(), negated: false, pattern },
                path,
            ),
            ExprKind::Matches { path, pattern, .. } => (
                ExprKind::Matches { path: path.clone(), negated: true, pattern: pattern.clone() },
                ExprKind::Matches { path: path.clone(), negated: false, pattern },
                path,
            ),
            _ => return Ok(()),
        };
        let span = Default::default();
        let negated = Spanned::new(negated, span).to_string();
        let rewrite = format!(
            "has({}) and not ({})",
            path.node,
            Spanned::new(positive, span)
        );
        prop_assert_eq!(selected(&negated, &fleet), selected(&rewrite, &fleet), "{} vs {}", negated, rewrite);
    }
}
