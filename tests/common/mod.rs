//! Proptest strategies shared by the integration tests: scope expressions
//! (as trees and as source text) and fleets.
//!
//! Two families of expressions:
//! - [`syntax_expr`]: any tree the parser can produce, with arbitrary text in
//!   keys, strings, patterns and numbers. It may not compile (a random regex
//!   is rarely valid); use it for printing and parsing.
//! - [`eval_expr`]: trees over a small vocabulary that always compile against
//!   [`catalog`], so that evaluation can be compared. Paths hit present and
//!   missing tags and facts, arrays, nested objects and values of mixed
//!   types; literals cover every kind; every operator and every negated form
//!   occurs.
//!
//! [`fleet`] generates fleets with the same vocabulary, and [`layout`]
//! writes a tree as source text with random spacing, comments, keyword case,
//! quotes, redundant parentheses and trailing commas.
//!
//! Each test file uses part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use fleetscope::diagnostic::Span;
use fleetscope::syntax::{
    quote, CmpOp, Expr, ExprKind, Instant, InstantBase, Literal, Number, Path, Spanned,
};
use fleetscope::{Catalog, Fleet, Host};
use proptest::prelude::*;
use serde_json::{json, Value};

/// The instant `now()` stands for in every evaluating test.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("a valid instant")
}

/// Named scopes that [`eval_expr`] may refer to, and the catalog of them.
pub const SCOPES: [(&str, &str); 5] = [
    ("web", "role = web"),
    ("prod", "tags.env = prod"),
    ("canary", "tags.ring = \"0\" or name like \"*-01\""),
    ("prod-web", "@web and @prod"),
    (
        "stale",
        "facts.last_patched < now() - 30d or not has(facts.last_patched)",
    ),
];

/// The catalog of [`SCOPES`].
pub fn catalog() -> Catalog {
    Catalog::new(SCOPES).expect("the shared test catalog is valid")
}

/// A tree from [`eval_expr`] (or any tree over the same names), compiled
/// against [`catalog`]. Panics with the source when it does not compile.
pub fn compile(expr: &Expr) -> fleetscope::Scope {
    let source = expr.to_string();
    catalog()
        .compile(&source)
        .unwrap_or_else(|e| panic!("{source:?} does not compile: {e}"))
}

/// The names in [`SCOPES`].
pub fn scope_names() -> Vec<String> {
    SCOPES.iter().map(|(n, _)| n.to_string()).collect()
}

fn node<T>(value: T) -> Spanned<T> {
    Spanned::new(value, Span::default())
}

// ---------------------------------------------------------------- vocabulary

/// Roles hosts hold and expressions test.
pub const ROLES: [&str; 5] = ["web", "api", "db", "cache", "Web"];
/// Tag keys, including ones that need quoting; `missing` is never set.
pub const TAG_KEYS: [&str; 7] = [
    "env",
    "ring",
    "region",
    "app.kubernetes.io/name",
    "Cost Center",
    "pci",
    "missing",
];
/// Texts used as tag values, string facts and string literals: words,
/// numeric strings, boolean strings, versions, dates, timestamps, spaces,
/// case variants and the empty string.
pub const TEXTS: [&str; 20] = [
    "prod",
    "Prod",
    "staging",
    "web",
    "eu-west-1",
    "us-east-1",
    "1",
    "0",
    "08",
    "2.5",
    "true",
    "false",
    "22.04",
    "5.15.0-100",
    "2026-09-01",
    "2026-10-30T12:00:00+02:00",
    "eu west",
    "",
    "1:2.30-1ubuntu1",
    "1.0.0-rc.1",
];
/// Integers, including one beyond i64 that only an exact comparison tells
/// from its neighbour.
pub const INTS: [i128; 7] = [
    0,
    1,
    8,
    16,
    -3,
    18_446_744_073_709_551_615,
    18_446_744_073_709_551_614,
];
/// Floats (facts may hold them; they have no text).
pub const FLOATS: [f64; 4] = [2.5, 8.0, -0.5, 1e20];
/// First keys of fact paths; `missing` is never set.
pub const FACT_KEYS: [&str; 9] = [
    "os",
    "cpus",
    "load",
    "last_patched",
    "pkgs",
    "secure_boot",
    "nested",
    "kernel",
    "missing",
];
/// Keys inside fact objects.
pub const INNER_KEYS: [&str; 5] = ["family", "version", "a", "b", "name"];
/// Globs that compile, with wildcards, escapes and the empty glob.
pub const GLOBS: [&str; 10] = [
    "*", "web-*", "db-??", "*0*", "\\*", "", "?", "*.04", "eu-*-1", "*West*",
];
/// Regexes that compile (as the regex engine reads them, after string
/// escapes), including ones that look catastrophic to a backtracker.
pub const REGEXES: [&str; 9] = [
    "web-[0-9]+",
    ".*west.*",
    "[a-z]+",
    "(a*)*b",
    "\\d+\\.\\d+",
    "",
    "true|false",
    "2026-.*",
    "(?i)PROD",
];

// --------------------------------------------------------- expression trees

fn expr_from(leaf: BoxedStrategy<ExprKind>, depth: u32) -> BoxedStrategy<Expr> {
    leaf.prop_map(node)
        .prop_recursive(depth, 48, 4, |inner| {
            prop_oneof![
                inner.clone().prop_map(|e| node(ExprKind::Not(Box::new(e)))),
                prop::collection::vec(inner.clone(), 2..4).prop_map(|t| node(ExprKind::And(t))),
                prop::collection::vec(inner, 2..4).prop_map(|t| node(ExprKind::Or(t))),
            ]
        })
        .boxed()
}

/// A predicate or constant, built from the given parts.
fn leaf(
    path: BoxedStrategy<Path>,
    literal: BoxedStrategy<Literal>,
    glob: BoxedStrategy<String>,
    regex: BoxedStrategy<String>,
    scope_name: Option<BoxedStrategy<String>>,
) -> BoxedStrategy<ExprKind> {
    let op = prop_oneof![
        Just(CmpOp::Eq),
        Just(CmpOp::Ne),
        Just(CmpOp::Lt),
        Just(CmpOp::Le),
        Just(CmpOp::Gt),
        Just(CmpOp::Ge),
    ];
    let compare = (path.clone(), op, literal.clone()).prop_map(|(path, op, value)| {
        // Booleans have no order: the parser rejects `< true`; use `=`.
        let op = if matches!(value, Literal::Bool(_)) && op.is_ordering() {
            CmpOp::Eq
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
    match scope_name {
        Some(name) => prop_oneof![
            1 => constant,
            2 => name.prop_map(ExprKind::ScopeRef),
            2 => has,
            6 => compare,
            3 => in_list,
            2 => like,
            2 => matches,
        ]
        .boxed(),
        None => prop_oneof![
            1 => constant,
            2 => has,
            6 => compare,
            3 => in_list,
            2 => like,
            2 => matches,
        ]
        .boxed(),
    }
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
fn fixed_instant() -> BoxedStrategy<DateTime<FixedOffset>> {
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

/// Any literal the parser can produce.
pub fn syntax_literal() -> BoxedStrategy<Literal> {
    let float = any::<f64>()
        .prop_filter("finite", |f| f.is_finite())
        .prop_map(|f| Literal::Number(Number::Float(f)));
    let instant = (
        prop_oneof![
            1 => Just(InstantBase::Now),
            2 => fixed_instant().prop_map(InstantBase::At),
        ],
        prop_oneof![
            2 => Just(0i64),
            2 => (-1000i64..1000).prop_map(|d| d * 86_400),
            1 => any::<i64>(),
        ],
    )
        .prop_map(|(base, offset_seconds)| {
            Literal::Instant(Instant {
                base,
                offset_seconds,
            })
        });
    prop_oneof![
        4 => tricky_text().prop_map(Literal::Str),
        2 => any::<i128>().prop_map(|i| Literal::Number(Number::Int(i))),
        1 => float,
        1 => any::<bool>().prop_map(Literal::Bool),
        1 => tricky_text().prop_map(Literal::Version),
        1 => package_literal(&[
            "1:2.30-1ubuntu1", "1.0~rc1", " 0:1.0-0 ", "weird text é\n", "1.0^git1", "v1.2.3-rc.1+b",
        ]),
        2 => instant,
    ]
    .boxed()
}

/// `dpkg(...)`, `rpm(...)` or `semver(...)` over the texts of `versions`
/// that are valid in the scheme (an invalid one would not parse).
pub fn package_literal(versions: &[&str]) -> BoxedStrategy<Literal> {
    use fleetscope::versions::VersionScheme;
    let valid: Vec<Literal> = VersionScheme::ALL
        .into_iter()
        .flat_map(|scheme| {
            versions
                .iter()
                .filter(move |v| scheme.is_valid(v))
                .map(move |v| Literal::Package {
                    scheme,
                    text: v.to_string(),
                })
        })
        .collect();
    prop::sample::select(valid).boxed()
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
    expr_from(leaf, 5)
}

/// A path over the shared vocabulary: present and missing tags, facts at
/// one to three levels (through objects, into arrays, past scalars).
pub fn eval_path() -> BoxedStrategy<Path> {
    let fact = (
        prop::sample::select(FACT_KEYS.to_vec()),
        prop::collection::vec(prop::sample::select(INNER_KEYS.to_vec()), 0..3),
    )
        .prop_map(|(first, rest)| {
            let mut keys = vec![first.to_string()];
            keys.extend(rest.into_iter().map(str::to_string));
            Path::Fact(keys)
        });
    prop_oneof![
        1 => Just(Path::Name),
        2 => Just(Path::Role),
        3 => prop::sample::select(TAG_KEYS.to_vec()).prop_map(|k| Path::Tag(k.to_string())),
        4 => fact,
    ]
    .boxed()
}

/// A literal over the shared vocabulary, of every kind.
pub fn eval_literal() -> BoxedStrategy<Literal> {
    let days = -60i64..60;
    let instant = prop_oneof![
        days.clone().prop_map(|d| Instant {
            base: InstantBase::Now,
            offset_seconds: d * 86_400,
        }),
        (days, prop_oneof![Just(0i32), Just(3600), Just(-7200)]).prop_map(|(d, off)| {
            let at = (now() + chrono::TimeDelta::days(d))
                .with_timezone(&FixedOffset::east_opt(off).expect("valid offset"));
            Instant {
                base: InstantBase::At(at),
                offset_seconds: 0,
            }
        }),
    ];
    prop_oneof![
        4 => prop::sample::select(TEXTS.to_vec()).prop_map(|t| Literal::Str(t.to_string())),
        1 => prop::sample::select(ROLES.to_vec()).prop_map(|t| Literal::Str(t.to_string())),
        2 => prop::sample::select(INTS.to_vec()).prop_map(|i| Literal::Number(Number::Int(i))),
        1 => prop::sample::select(FLOATS.to_vec()).prop_map(|f| Literal::Number(Number::Float(f))),
        1 => any::<bool>().prop_map(Literal::Bool),
        1 => prop::sample::select(vec!["22.04", "22.10", "5.15.0-91", "1.2", "9"])
            .prop_map(|v| Literal::Version(v.to_string())),
        2 => package_literal(&[
            "22.04", "1", "08", "5.15.0-91", "1:0", "2.5~rc1", "1.0.0", "v1.0.0-rc.1", "prod",
        ]),
        2 => instant.prop_map(Literal::Instant),
    ]
    .boxed()
}

/// A tree over the shared vocabulary that compiles against [`catalog`].
pub fn eval_expr() -> BoxedStrategy<Expr> {
    let leaf = leaf(
        eval_path(),
        eval_literal(),
        prop::sample::select(GLOBS.to_vec())
            .prop_map(str::to_string)
            .boxed(),
        prop::sample::select(REGEXES.to_vec())
            .prop_map(str::to_string)
            .boxed(),
        Some(prop::sample::select(scope_names()).boxed()),
    );
    expr_from(leaf, 4)
}

/// A single predicate over the shared vocabulary (no `and`/`or`/`not`).
pub fn eval_predicate() -> BoxedStrategy<Expr> {
    leaf(
        eval_path(),
        eval_literal(),
        prop::sample::select(GLOBS.to_vec())
            .prop_map(str::to_string)
            .boxed(),
        prop::sample::select(REGEXES.to_vec())
            .prop_map(str::to_string)
            .boxed(),
        None,
    )
    .prop_map(node)
    .boxed()
}

// ------------------------------------------------------------------- fleets

fn json_scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => prop::sample::select(TEXTS.to_vec()).prop_map(|t| json!(t)),
        2 => prop::sample::select(INTS.to_vec()).prop_map(|i| {
            // serde_json holds integers up to u64.
            u64::try_from(i).map_or_else(|_| json!(i as i64), |u| json!(u))
        }),
        1 => prop::sample::select(FLOATS.to_vec()).prop_map(|f| json!(f)),
        1 => any::<bool>().prop_map(|b| json!(b)),
        1 => Just(Value::Null),
    ]
    .boxed()
}

/// A fact value: scalars, arrays (of scalars, sometimes with an object in
/// them), and objects nested up to two levels.
pub fn json_fact() -> BoxedStrategy<Value> {
    json_scalar()
        .prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(prop::sample::select(INNER_KEYS.to_vec()), inner, 0..3)
                    .prop_map(|m| {
                        Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
                    }),
            ]
        })
        .boxed()
}

/// A host's roles, tags and facts over the shared vocabulary (no name).
pub fn host_body() -> BoxedStrategy<Host> {
    (
        prop::sample::subsequence(ROLES.to_vec(), 0..=3),
        prop::collection::btree_map(
            prop::sample::select(TAG_KEYS[..6].to_vec()),
            prop::sample::select(TEXTS.to_vec()),
            0..4,
        ),
        prop::collection::btree_map(
            prop::sample::select(FACT_KEYS[..8].to_vec()),
            json_fact(),
            0..5,
        ),
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

/// A fleet of up to `max_hosts` hosts with unique names such as `web-01`,
/// `db-02`, `cache-03`.
pub fn fleet(max_hosts: usize) -> BoxedStrategy<Fleet> {
    prop::collection::vec(
        (
            prop::sample::select(vec!["web-", "db-", "cache-", "Web-"]),
            host_body(),
        ),
        0..=max_hosts,
    )
    .prop_map(|hosts| {
        let hosts = hosts
            .into_iter()
            .enumerate()
            .map(|(i, (prefix, host))| Host {
                name: format!("{prefix}{:02}", i + 1),
                ..host
            })
            .collect();
        Fleet::new(hosts).expect("generated names are unique")
    })
    .boxed()
}

// ------------------------------------------------------------- source text

/// Source text for `expr` laid out at random: spacing (spaces, tabs,
/// newlines, comments) between tokens, keyword case, `all` for `true`,
/// single or double quotes, redundant parentheses, trailing commas in
/// lists. It parses to a tree equal to `expr`.
pub fn layout(expr: Expr) -> BoxedStrategy<String> {
    any::<u64>()
        .prop_map(move |seed| {
            let mut out = String::new();
            let mut rng = Rng(seed | 1);
            write_expr(&mut out, &mut rng, &expr);
            out
        })
        .boxed()
}

/// xorshift: enough randomness for layout decisions, reproducible from the
/// seed proptest shrinks.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
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
    if rng.chance(2) {
        space(out, rng);
    }
}

fn keyword(out: &mut String, rng: &mut Rng, word: &str) {
    match rng.next() % 4 {
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
    if rng.chance(8) {
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
            if rng.chance(3) {
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
        if ident && !rng.chance(4) {
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
    if rng.chance(2) {
        out.push_str(&quote(text));
        return;
    }
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' if rng.chance(2) => out.push_str("\\n"),
            '"' if rng.chance(2) => out.push_str("\\\""),
            c if c.is_control() || rng.chance(16) => {
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
            if printed.starts_with('"') || rng.chance(3) {
                write_string(out, rng, s);
            } else {
                out.push_str(&printed);
            }
        }
        Literal::Bool(b) => keyword(out, rng, if *b { "true" } else { "false" }),
        Literal::Number(Number::Int(i)) if *i >= 0 && rng.chance(4) => {
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
