//! Proptest strategies for expressions (as trees), hosts and fleets.
//!
//! Two families of expressions:
//! - [`syntax_expr`]: any tree the parser can produce, with arbitrary text in
//!   keys, strings, patterns and numbers. It may not compile (a random regex
//!   is rarely valid); use it for printing and parsing.
//! - [`eval_expr`] / [`eval_expr_over`]: trees over the vocabulary in
//!   [`super::vocab`] that always compile against the named scopes they are
//!   given, so that evaluation can be compared. Paths hit present and missing
//!   tags and facts, arrays, nested objects and values of mixed types;
//!   literals cover every [`LiteralKind`]; every operator and every negated
//!   form occurs.
//!
//! Both families share one leaf generator ([`leaf`]): a new operator is
//! added there. [`fleet`] and [`host`] generate hosts with the same
//! vocabulary. Print a tree with `to_string()` or, with random layout, with
//! [`super::layout`].

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::Value;

use super::vocab::{
    json_scalars, LiteralKind, CMP_OPS, FACT_KEYS, GLOBS, HOST_NAMES, INNER_KEYS, MISSING_KEY,
    NAME_PREFIXES, REGEXES, ROLES, TAG_KEYS, TEXTS,
};
use crate::diagnostic::Span;
use crate::syntax::{Expr, ExprKind, Literal, Path, Spanned};
use crate::{Fleet, Host};

fn node<T>(value: T) -> Spanned<T> {
    Spanned::new(value, Span::default())
}

/// How big generated trees get: proptest's `prop_recursive` parameters.
#[derive(Debug, Clone, Copy)]
pub struct TreeSize {
    /// Levels of `and` / `or` / `not` above the leaves.
    pub depth: u32,
    /// The number of nodes aimed at.
    pub size: u32,
    /// Terms per `and` / `or` aimed at.
    pub branch: u32,
}

impl TreeSize {
    /// The size the property tests use.
    pub const DEFAULT: TreeSize = TreeSize {
        depth: 4,
        size: 48,
        branch: 4,
    };
}

fn expr_from(leaf: BoxedStrategy<ExprKind>, size: TreeSize) -> BoxedStrategy<Expr> {
    leaf.prop_map(node)
        .prop_recursive(size.depth, size.size, size.branch, |inner| {
            prop_oneof![
                inner.clone().prop_map(|e| node(ExprKind::Not(Box::new(e)))),
                prop::collection::vec(inner.clone(), 2..4).prop_map(|t| node(ExprKind::And(t))),
                prop::collection::vec(inner, 2..4).prop_map(|t| node(ExprKind::Or(t))),
            ]
        })
        .boxed()
}

/// A predicate or constant built from the given parts: every predicate form
/// of the language, each negated form, constants and (when `scope_name` is
/// given) `@name` references. The one place a new operator is added.
pub fn leaf(
    path: BoxedStrategy<Path>,
    literal: BoxedStrategy<Literal>,
    glob: BoxedStrategy<String>,
    regex: BoxedStrategy<String>,
    scope_name: Option<BoxedStrategy<String>>,
) -> BoxedStrategy<ExprKind> {
    let op = prop::sample::select(CMP_OPS);
    let compare = (path.clone(), op, literal.clone()).prop_map(|(path, op, value)| {
        // Booleans have no order: the parser rejects `< true`; use `=`.
        let op = if matches!(value, Literal::Bool(_)) && op.is_ordering() {
            crate::syntax::CmpOp::Eq
        } else {
            op
        };
        ExprKind::Compare {
            path: node(path),
            op,
            value: node(value),
        }
    });
    let in_list = (
        path.clone(),
        any::<bool>(),
        prop::collection::vec(literal, 1..4),
    )
        .prop_map(|(path, negated, values)| ExprKind::In {
            path: node(path),
            negated,
            values: values.into_iter().map(node).collect(),
        });
    let like = (path.clone(), any::<bool>(), glob).prop_map(|(path, negated, p)| ExprKind::Like {
        path: node(path),
        negated,
        pattern: node(p),
    });
    let matches =
        (path.clone(), any::<bool>(), regex).prop_map(|(path, negated, p)| ExprKind::Matches {
            path: node(path),
            negated,
            pattern: node(p),
        });
    let has = path.prop_map(|p| ExprKind::Has(node(p)));
    let constant = any::<bool>().prop_map(ExprKind::Const);
    let mut options: Vec<(u32, BoxedStrategy<ExprKind>)> = vec![
        (1, constant.boxed()),
        (2, has.boxed()),
        (6, compare.boxed()),
        (3, in_list.boxed()),
        (2, like.boxed()),
        (2, matches.boxed()),
    ];
    if let Some(name) = scope_name {
        options.push((2, name.prop_map(ExprKind::ScopeRef).boxed()));
    }
    Union::new_weighted(options).boxed()
}

/// Any text, biased towards the characters that need care when printed:
/// quotes, backslashes, control characters, `#`, spaces, non-ASCII.
pub fn tricky_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-zA-Z_][a-zA-Z0-9_.:/-]{0,8}",
        2 => "[ -~]{0,10}",
        2 => prop::collection::vec(
            prop::sample::select(vec![
                "a", "Z", "0", "-", ".", "/", ":", " ", "\"", "'", "\\", "\n", "\t", "\r",
                "\u{1}", "\u{7f}", "#", "(", ")", ",", "*", "?", "é", "😀", "\u{200b}",
            ]),
            0..8,
        )
        .prop_map(|parts| parts.concat()),
        1 => any::<String>(),
        1 => prop::sample::select(vec![
            "and", "OR", "Not", "in", "like", "matches", "has", "true", "FALSE", "all",
            "now", "version", "name", "role", "tags", "facts", "now()", "1", "-3", "2.5",
            "2026-11-01", "nowx", "trueish", "a.", "_",
        ])
        .prop_map(str::to_string),
    ]
    .boxed()
}

/// Source text made of the language's tokens in random order: mostly
/// invalid, sometimes valid, always near the grammar's edges. A new keyword,
/// operator or literal form belongs in this list too.
pub fn token_soup() -> BoxedStrategy<String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "role",
            "name",
            "tags.env",
            "facts.os.version",
            "tags.'a b'",
            " = ",
            "!=",
            "<",
            ">=",
            " in ",
            " not ",
            "not ",
            " like ",
            " matches ",
            " and ",
            " or ",
            "(",
            ")",
            ",",
            "@web",
            "has(",
            "true",
            "all",
            "web",
            "\"x\"",
            "'y",
            "8",
            "-3",
            "2.5",
            "2026-11-01",
            "now()",
            " - 30d",
            "version(\"1.2\")",
            "#c\n",
            "\\",
            "==",
            "&&",
            " ",
        ]),
        0..12,
    )
    .prop_map(|parts| parts.concat())
    .boxed()
}

/// Any path, with keys that may need quoting.
pub fn syntax_path() -> BoxedStrategy<Path> {
    prop_oneof![
        Just(Path::Name),
        Just(Path::Role),
        tricky_text().prop_map(Path::Tag),
        prop::collection::vec(tricky_text(), 1..4).prop_map(Path::Fact),
    ]
    .boxed()
}

/// A fixed instant anywhere in the years the grammar can write (four
/// digits), with an offset of whole minutes and sometimes nanoseconds.
pub fn fixed_instant() -> BoxedStrategy<DateTime<FixedOffset>> {
    // 0000-01-02 .. 9999-12-30, clear of the ends so any offset still
    // leaves a four-digit local year.
    let seconds = -62_167_046_400i64..253_402_128_000i64;
    let offset_minutes = prop_oneof![Just(0i32), -1439i32..1440];
    let nanos = prop_oneof![3 => Just(0u32), 1 => 0u32..1_000_000_000];
    (seconds, offset_minutes, nanos)
        .prop_filter_map("representable instant", |(s, m, n)| {
            let offset = FixedOffset::east_opt(m * 60)?;
            let utc = DateTime::<Utc>::from_timestamp(s, n)?;
            Some(utc.with_timezone(&offset))
        })
        .boxed()
}

/// Any literal the parser can produce: each [`LiteralKind`] with arbitrary
/// contents.
pub fn syntax_literal() -> BoxedStrategy<Literal> {
    Union::new_weighted(
        LiteralKind::ALL
            .iter()
            .map(|k| (k.weight(), k.arbitrary()))
            .collect(),
    )
    .boxed()
}

/// Any tree the parser can produce, with arbitrary text; it may not compile.
pub fn syntax_expr() -> BoxedStrategy<Expr> {
    let leaf = leaf(
        syntax_path(),
        syntax_literal(),
        tricky_text(),
        tricky_text(),
        Some("[a-zA-Z_][a-zA-Z0-9_-]{0,8}".boxed()),
    );
    expr_from(
        leaf,
        TreeSize {
            depth: 5,
            ..TreeSize::DEFAULT
        },
    )
}

fn select_str(items: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::sample::select(items).prop_map(str::to_string).boxed()
}

/// A path over the vocabulary: present and missing tags, facts at one to
/// three levels (through objects, into arrays, past scalars).
pub fn eval_path() -> BoxedStrategy<Path> {
    let mut first: Vec<&str> = FACT_KEYS.to_vec();
    first.push(MISSING_KEY);
    let mut tags: Vec<&str> = TAG_KEYS.to_vec();
    tags.push(MISSING_KEY);
    let fact = (
        prop::sample::select(first),
        prop::collection::vec(prop::sample::select(INNER_KEYS), 0..3),
    )
        .prop_map(|(first, rest)| {
            let mut keys = vec![first.to_string()];
            keys.extend(rest.into_iter().map(str::to_string));
            Path::Fact(keys)
        });
    prop_oneof![
        1 => Just(Path::Name),
        2 => Just(Path::Role),
        3 => prop::sample::select(tags).prop_map(|k| Path::Tag(k.to_string())),
        4 => fact,
    ]
    .boxed()
}

/// A literal over the vocabulary, of every [`LiteralKind`].
pub fn eval_literal() -> BoxedStrategy<Literal> {
    Union::new_weighted(
        LiteralKind::ALL
            .iter()
            .map(|k| (k.weight(), prop::sample::select(k.vocabulary()).boxed()))
            .collect(),
    )
    .boxed()
}

/// A leaf over the vocabulary that may refer to the named scopes `refs`.
fn eval_leaf(refs: &[String]) -> BoxedStrategy<ExprKind> {
    let scope_name = (!refs.is_empty()).then(|| prop::sample::select(refs.to_vec()).boxed());
    leaf(
        eval_path(),
        eval_literal(),
        select_str(GLOBS),
        select_str(REGEXES),
        scope_name,
    )
}

/// A tree over the vocabulary that compiles against
/// [`super::vocab::catalog`].
pub fn eval_expr() -> BoxedStrategy<Expr> {
    eval_expr_over(&super::vocab::scope_names(), TreeSize::DEFAULT)
}

/// A tree over the vocabulary of at most `size` that refers only to the
/// named scopes `refs` (none when empty), so it compiles in any catalog that
/// defines them.
pub fn eval_expr_over(refs: &[String], size: TreeSize) -> BoxedStrategy<Expr> {
    expr_from(eval_leaf(refs), size)
}

/// A single predicate over the vocabulary (no `and`/`or`/`not`, no `@`).
pub fn eval_predicate() -> BoxedStrategy<Expr> {
    eval_leaf(&[]).prop_map(node).boxed()
}

/// A scalar fact value from [`json_scalars`].
pub fn json_scalar() -> BoxedStrategy<Value> {
    Union::new_weighted(
        json_scalars()
            .into_iter()
            .map(|(w, values)| (w, prop::sample::select(values).boxed()))
            .collect(),
    )
    .boxed()
}

/// A fact value: scalars, arrays (of scalars, sometimes with an object in
/// them), and objects nested up to two levels.
pub fn json_fact() -> BoxedStrategy<Value> {
    json_scalar()
        .prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(prop::sample::select(INNER_KEYS), inner, 0..3)
                    .prop_map(|m| {
                        Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                    }),
            ]
        })
        .boxed()
}

/// A host's roles (sometimes repeated), tags and facts over the vocabulary,
/// with no name.
pub fn host_body() -> BoxedStrategy<Host> {
    (
        prop_oneof![
            3 => prop::sample::subsequence(ROLES, 0..=3),
            1 => prop::collection::vec(prop::sample::select(ROLES), 0..3),
        ],
        prop::collection::btree_map(
            prop::sample::select(TAG_KEYS),
            prop::sample::select(TEXTS),
            0..4,
        ),
        prop::collection::btree_map(prop::sample::select(FACT_KEYS), json_fact(), 0..5),
    )
        .prop_map(|(roles, tags, facts)| Host {
            name: String::new(),
            roles: roles.into_iter().map(str::to_string).collect(),
            tags: tags
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            facts: facts.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        })
        .boxed()
}

/// A host named from [`HOST_NAMES`], so that several generated hosts may
/// share a name (for upserts and removals).
pub fn host() -> BoxedStrategy<Host> {
    (prop::sample::select(HOST_NAMES), host_body())
        .prop_map(|(name, host)| Host {
            name: name.to_string(),
            ..host
        })
        .boxed()
}

/// A fleet of up to `max_hosts` hosts with unique names such as `web-01`,
/// `db-02`, `Web-03`.
pub fn fleet(max_hosts: usize) -> BoxedStrategy<Fleet> {
    prop::collection::vec(
        (prop::sample::select(NAME_PREFIXES), host_body()),
        0..=max_hosts,
    )
    .prop_filter_map("unique names", |hosts| {
        let hosts = hosts
            .into_iter()
            .enumerate()
            .map(|(i, (prefix, host))| Host {
                name: format!("{prefix}{:02}", i + 1),
                ..host
            })
            .collect();
        // The names are unique by construction: nothing is filtered out.
        Fleet::new(hosts).ok()
    })
    .boxed()
}
