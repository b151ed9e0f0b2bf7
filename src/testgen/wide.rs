//! Fleets whose columns hold more distinct values than
//! [`IndexedFleet::PATTERN_ORDER_MIN`](crate::IndexedFleet::PATTERN_ORDER_MIN),
//! so that globs and regexes on them run through the sorted orders of the
//! dictionaries, and patterns of every shape over those values.
//!
//! Every host has a unique `tags.serial` such as `web-000123.prod.example.com`
//! (with unpadded numbers, so that values are prefixes of one another, and
//! with multi-byte characters), and a `facts.fqdn` that mixes such texts
//! with integers, booleans, floats and arrays, whose texts (an integer's
//! digits, a boolean's word) patterns match too. Everything comes from an
//! explicit seed.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::Rng;
use crate::fleet::Host;

const PREFIXES: &[&str] = &["web-", "db-", "web", "wéb-", "", "日本-"];
const SUFFIXES: &[&str] = &[
    ".prod.example.com",
    ".stage.example.com",
    "",
    "7",
    "-é",
    ".prod",
];

/// A serial-like text for number `n`: a prefix, `n` padded to six digits
/// or not, a suffix.
pub fn serial(rng: &mut Rng, n: u64) -> String {
    let prefix = rng.pick(PREFIXES);
    let suffix = rng.pick(SUFFIXES);
    if rng.chance(70) {
        format!("{prefix}{n:06}{suffix}")
    } else {
        format!("{prefix}{n}{suffix}")
    }
}

/// A host named `name` whose `tags.serial` and `facts.fqdn` are made
/// from number `n` (unique numbers give unique serials).
pub fn host(rng: &mut Rng, name: String, n: u64) -> Host {
    let mut host = Host::named(name);
    host.roles
        .push(rng.pick(&["web", "db", "web-7", "7"]).to_string());
    host.tags.insert("serial".into(), serial(rng, n));
    if rng.chance(50) {
        host.tags
            .insert("env".into(), rng.pick(&["prod", "dev"]).into());
    }
    let fqdn: Value = match rng.below(10) {
        0 => json!(n),
        1 => json!(rng.chance(50)),
        2 => json!(n as f64 + 0.5),
        3 => json!([serial(rng, n), n + 7]),
        4 => Value::Null,
        _ => json!(serial(rng, n)),
    };
    host.facts.insert("fqdn".into(), fqdn);
    host
}

/// The name of host `i`: some end in a digit, some in a letter.
pub fn name(i: u64) -> String {
    if i.is_multiple_of(3) {
        format!("n-{i:05}.x")
    } else {
        format!("n-{i}")
    }
}

/// `n` hosts `name(0)`, `name(1)`, …, with serials from their position.
pub fn fleet(n: usize, seed: u64) -> Vec<Host> {
    let mut rng = Rng::new(seed);
    (0..n as u64).map(|i| host(&mut rng, name(i), i)).collect()
}

/// The paths the patterns test: the high-cardinality columns, and `name`
/// and `role` beside them.
pub const PATHS: &[&str] = &["tags.serial", "facts.fqdn", "name", "role", "tags.env"];

/// Globs of every shape over the serials: prefix, suffix, contains,
/// exact, mixed, empty, with `?`, with multi-byte literals.
pub const GLOBS: &[&str] = &[
    "web-*",
    "web-0001*",
    "web*",
    "*7",
    "*.prod.example.com",
    "*com",
    "*prod*",
    "*é*",
    "*-é",
    "web-000123.prod.example.com",
    "web-12",
    "web",
    "web-*7",
    "w?b-*",
    "*-00?7*",
    "wéb-*.prod",
    "日本-*",
    "*本*",
    "",
    "*",
    "?",
    "1*",
    "*1",
    "true",
    "n-*",
    "n-1*.x",
];

/// Regexes (as written in a scope) of every shape over the serials: with
/// literal prefixes, suffixes, alternations, classes and case folding.
pub const REGEXES: &[&str] = &[
    "web-[0-9]+7",
    "(web|db)-[0-9]+\\.prod\\..*",
    ".*7",
    "web-0.*",
    "(?i)WEB-.*",
    ".*(prod|stage).*",
    "[0-9]+",
    "true|false",
    "1.*",
    "wéb-.*",
    "web-1[0-9]?",
    "(web|wéb)-.*-é",
    "(web|web-00)0.*",
    ".*\\.(com|prod)",
    "n-[0-9]+",
    "日本-.*7",
];

/// `text` as a scope string literal.
pub fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One `like` or `matches` predicate (maybe negated) over [`PATHS`].
pub fn predicate() -> BoxedStrategy<String> {
    let path = prop::sample::select(PATHS);
    let like = (path.clone(), any::<bool>(), prop::sample::select(GLOBS)).prop_map(
        |(path, negated, glob)| {
            let not = if negated { "not " } else { "" };
            format!("{path} {not}like {}", quote(glob))
        },
    );
    let matches =
        (path, any::<bool>(), prop::sample::select(REGEXES)).prop_map(|(path, negated, regex)| {
            let not = if negated { "not " } else { "" };
            format!("{path} {not}matches {}", quote(regex))
        });
    prop_oneof![like, matches].boxed()
}

/// A predicate alone, or two joined by `and`/`or`, or one under `not`.
pub fn expr() -> BoxedStrategy<String> {
    prop_oneof![
        3 => predicate(),
        1 => (predicate(), predicate()).prop_map(|(a, b)| format!("{a} and {b}")),
        1 => (predicate(), predicate()).prop_map(|(a, b)| format!("{a} or {b}")),
        1 => predicate().prop_map(|a| format!("not ({a})")),
    ]
    .boxed()
}
