//! The test vocabulary: every name, key, value, pattern and literal that the
//! generated expressions and fleets use, and the instant `now()` stands for.
//!
//! The proptest strategies ([`super::strategy`]), the fuzzers' byte decoder
//! ([`super::bytes`]) and the fixed fleet of the `parse_eval` fuzz target
//! all draw from these tables, so a new value, key or literal kind is added
//! here once. The vocabulary is small on purpose: random predicates must hit
//! random hosts often enough for a comparison to mean something.
//!
//! It mixes types on purpose: numeric strings (`"1"`, `"08"`), booleans as
//! text, versions, dates and timestamps near [`now`], an integer beyond
//! `i64`, floats, the empty string, keys that need quoting, and keys that are
//! never set (`missing`).

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::syntax::{CmpOp, Instant, InstantBase, Literal, Number};
use crate::versions::VersionScheme;
use crate::{Catalog, CatalogError, Fleet, FleetError};

/// The instant `now()` stands for in every evaluating test, benchmark and
/// fuzz target: 2026-11-01T00:00:00Z.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Named scopes that generated expressions may refer to as `@name`.
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
pub fn catalog() -> Result<Catalog, CatalogError> {
    Catalog::new(SCOPES)
}

/// The names in [`SCOPES`].
pub fn scope_names() -> Vec<String> {
    SCOPES.iter().map(|(n, _)| (*n).to_string()).collect()
}

/// Host names drawn when hosts are upserted and removed by name, so that
/// names collide; some look like numbers, booleans or dates.
pub const HOST_NAMES: &[&str] = &[
    "h0",
    "h1",
    "web-01",
    "8",
    "true",
    "db-02",
    "2026-01-01",
    "h7",
];

/// Prefixes of the unique names (`web-01`, `db-02`, …) of generated fleets.
pub const NAME_PREFIXES: &[&str] = &["web-", "db-", "cache-", "Web-"];

/// Roles hosts hold and expressions test: a case variant and roles that
/// look like a number, a boolean and a version. Eight, so that one byte
/// says which roles a host holds.
pub const ROLES: &[&str] = &["web", "api", "db", "cache", "Web", "8", "true", "22.04"];

/// Tag keys that hosts may set, including ones that need quoting.
pub const TAG_KEYS: &[&str] = &[
    "env",
    "ring",
    "region",
    "app.kubernetes.io/name",
    "Cost Center",
    "pci",
];

/// A tag or fact key that no host ever sets.
pub const MISSING_KEY: &str = "missing";

/// Texts used as tag values, string facts and string literals: words,
/// numeric strings (with a leading zero, negative, fractional), boolean
/// strings, versions, dates and timestamps around [`now`] (one exactly
/// `now() - 30d`), spaces, case variants and the empty string.
pub const TEXTS: &[&str] = &[
    "1:2.30-1ubuntu1",
    "1.0.0-rc.1",
    "1.0~rc1",
    "prod",
    "Prod",
    "staging",
    "dev",
    "web",
    "eu-west-1",
    "us-east-1",
    "1",
    "0",
    "01",
    "08",
    "8",
    "-3",
    "2.5",
    "true",
    "false",
    "22.04",
    "22.10",
    "5.15.0-91",
    "5.15.0-100",
    "2026-01-01",
    "2026-05-30T00:00:00Z",
    "2026-09-01",
    "2026-10-02",
    "2026-10-30T12:00:00+02:00",
    "eu west",
    "x y",
    "",
];

/// Integers, including one beyond `i64` that only an exact comparison tells
/// from its neighbour.
pub const INTS: &[i128] = &[
    0,
    1,
    8,
    16,
    22,
    -3,
    18_446_744_073_709_551_615,
    18_446_744_073_709_551_614,
];

/// Floats (facts may hold them; they have no text), one with an integral
/// value.
pub const FLOATS: &[f64] = &[2.5, 8.0, -0.5, 1e20, 22.04];

/// First keys of facts that hosts may set.
pub const FACT_KEYS: &[&str] = &[
    "os",
    "cpus",
    "load",
    "last_patched",
    "pkgs",
    "secure_boot",
    "nested",
    "kernel",
    "list",
];

/// Keys inside fact objects.
pub const INNER_KEYS: &[&str] = &["family", "version", "a", "b", "name", "x"];

/// Version texts for `version("...")` literals.
pub const VERSIONS: &[&str] = &["22.04", "22.10", "5.15.0-91", "5.15.0-100", "1.2", "9"];

/// Texts for `dpkg(...)`, `rpm(...)` and `semver(...)` literals that
/// evaluating tests use: each becomes a literal of every scheme it is valid
/// in, and they sit close to the host values (numbers, versions, epochs,
/// tildes, pre-releases).
pub const PACKAGE_VERSIONS: &[&str] = &[
    "22.04",
    "1",
    "08",
    "5.15.0-91",
    "1:0",
    "2.5~rc1",
    "1.0.0",
    "v1.0.0-rc.1",
    "prod",
];

/// Tricky texts for package literals that printing and parsing see: valid
/// in some scheme each, with epochs, tildes, carets, padding, non-ASCII.
pub const PACKAGE_TRICKY: &[&str] = &[
    "1:2.30-1ubuntu1",
    "1.0~rc1",
    " 0:1.0-0 ",
    "weird text é\n",
    "1.0^git1",
    "v1.2.3-rc.1+b",
];

/// A `scheme` literal of each text valid in it.
fn package_literals(scheme: VersionScheme, texts: &[&str]) -> Vec<Literal> {
    texts
        .iter()
        .filter(|v| scheme.is_valid(v))
        .map(|v| Literal::Package {
            scheme,
            text: (*v).to_string(),
        })
        .collect()
}

/// Fixed instants written as dates or timestamps (`2026-01-01`,
/// `2026-05-30T00:00:00Z`), besides the ones relative to [`now`].
pub const DATES: &[&str] = &[
    "2026-01-01T00:00:00+00:00",
    "2026-05-30T00:00:00Z",
    "2026-10-02T00:00:00Z",
];

/// Whole days around [`now`] that instant literals are set at.
pub const DAYS: std::ops::Range<i64> = -60..60;

/// UTC offsets (seconds) of the fixed instants near [`now`].
pub const UTC_OFFSETS: &[i32] = &[0, 3600, -7200];

/// Globs that compile, with wildcards, an escaped star and the empty glob.
pub const GLOBS: &[&str] = &[
    "*", "h*", "?", "web-*", "db-??", "*0*", "*1", "\\*", "", "*.04", "eu-*-1", "*West*", "2026-*",
];

/// Regexes that compile (as the regex engine reads them, after string
/// escapes), including ones that look catastrophic to a backtracker.
pub const REGEXES: &[&str] = &[
    ".*",
    "web-[0-9]+",
    "h[0-9]",
    "[0-9]+",
    ".*west.*",
    "[a-z]+",
    "(a*)*b",
    "\\d+\\.\\d+",
    "",
    "true|false",
    "prod|dev",
    "2026-.*",
    "(?i)PROD",
];

/// Every comparison operator.
pub const CMP_OPS: &[CmpOp] = &[
    CmpOp::Eq,
    CmpOp::Ne,
    CmpOp::Lt,
    CmpOp::Le,
    CmpOp::Gt,
    CmpOp::Ge,
];

/// The kinds of literal the generators produce. Adding a literal kind to
/// the language means adding a variant here and filling in its arms below
/// (the compiler points at each); every generator picks it up from here.
/// `super::layout` also matches on [`Literal`] and will not compile until
/// it can write the new kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiteralKind {
    /// Strings and bare words.
    Str,
    /// Integers and floats.
    Number,
    /// `true` / `false`.
    Bool,
    /// `version("...")`.
    Version,
    /// `dpkg("...")`, `rpm("...")` or `semver("...")`: one kind per scheme.
    Package(VersionScheme),
    /// Instants: `now()` with an offset, dates, timestamps.
    Instant,
}

impl LiteralKind {
    /// Every kind.
    pub const ALL: &'static [LiteralKind] = &[
        LiteralKind::Str,
        LiteralKind::Number,
        LiteralKind::Bool,
        LiteralKind::Version,
        LiteralKind::Package(VersionScheme::Dpkg),
        LiteralKind::Package(VersionScheme::Rpm),
        LiteralKind::Package(VersionScheme::Semver),
        LiteralKind::Instant,
    ];

    /// How often the generators pick this kind, relative to the others.
    pub fn weight(self) -> u32 {
        match self {
            LiteralKind::Str => 5,
            LiteralKind::Number => 3,
            LiteralKind::Bool => 1,
            LiteralKind::Version => 1,
            LiteralKind::Package(_) => 1,
            LiteralKind::Instant => 2,
        }
    }

    /// The literals of this kind over the vocabulary: the ones evaluating
    /// tests use, which always compile and often match generated hosts.
    pub fn vocabulary(self) -> Vec<Literal> {
        match self {
            LiteralKind::Str => {
                let mut texts: Vec<&str> = TEXTS.to_vec();
                texts.extend(ROLES.iter().filter(|r| !TEXTS.contains(r)));
                texts
                    .into_iter()
                    .map(|t| Literal::Str(t.to_string()))
                    .collect()
            }
            LiteralKind::Number => INTS
                .iter()
                .map(|i| Literal::Number(Number::Int(*i)))
                .chain(FLOATS.iter().map(|f| Literal::Number(Number::Float(*f))))
                .collect(),
            LiteralKind::Bool => vec![Literal::Bool(false), Literal::Bool(true)],
            LiteralKind::Version => VERSIONS
                .iter()
                .map(|v| Literal::Version((*v).to_string()))
                .collect(),
            LiteralKind::Package(scheme) => package_literals(scheme, PACKAGE_VERSIONS),
            LiteralKind::Instant => instants().into_iter().map(Literal::Instant).collect(),
        }
    }

    /// Any literal of this kind that the parser can produce, with arbitrary
    /// text and numbers; it may not compile (used for printing and parsing).
    pub fn arbitrary(self) -> BoxedStrategy<Literal> {
        match self {
            LiteralKind::Str => super::strategy::tricky_text()
                .prop_map(Literal::Str)
                .boxed(),
            LiteralKind::Number => prop_oneof![
                2 => any::<i128>().prop_map(|i| Literal::Number(Number::Int(i))),
                1 => any::<f64>()
                    .prop_filter("finite", |f| f.is_finite())
                    .prop_map(|f| Literal::Number(Number::Float(f))),
            ]
            .boxed(),
            LiteralKind::Bool => any::<bool>().prop_map(Literal::Bool).boxed(),
            LiteralKind::Version => super::strategy::tricky_text()
                .prop_map(Literal::Version)
                .boxed(),
            LiteralKind::Package(scheme) => {
                prop::sample::select(package_literals(scheme, PACKAGE_TRICKY)).boxed()
            }
            LiteralKind::Instant => (
                prop_oneof![
                    1 => Just(InstantBase::Now),
                    2 => super::strategy::fixed_instant().prop_map(InstantBase::At),
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
                })
                .boxed(),
        }
    }
}

/// The instant literals of the vocabulary: `now()` plus or minus whole days
/// (`now()` itself and `now() - 30d` among them), the same days as fixed
/// instants in several UTC offsets, and [`DATES`].
pub fn instants() -> Vec<Instant> {
    let relative = DAYS.map(|d| Instant {
        base: InstantBase::Now,
        offset_seconds: d * 86_400,
    });
    let fixed = DAYS.flat_map(|d| {
        UTC_OFFSETS.iter().filter_map(move |off| {
            let offset = FixedOffset::east_opt(*off)?;
            let at = (now() + chrono::TimeDelta::days(d)).with_timezone(&offset);
            Some(Instant {
                base: InstantBase::At(at),
                offset_seconds: 0,
            })
        })
    });
    let dates = DATES.iter().filter_map(|d| {
        let at = DateTime::parse_from_rfc3339(d).ok()?;
        Some(Instant {
            base: InstantBase::At(at),
            offset_seconds: 0,
        })
    });
    relative.chain(fixed).chain(dates).collect()
}

/// The scalar values facts hold, in groups with the weight each group is
/// picked with: texts, integers (as JSON holds them: up to `u64`), floats,
/// booleans and null.
pub fn json_scalars() -> Vec<(u32, Vec<Value>)> {
    vec![
        (4, TEXTS.iter().map(|t| json!(t)).collect()),
        (
            2,
            INTS.iter()
                .filter_map(|i| {
                    u64::try_from(*i)
                        .map(|u| json!(u))
                        .ok()
                        .or_else(|| i64::try_from(*i).ok().map(|i| json!(i)))
                })
                .collect(),
        ),
        (1, FLOATS.iter().map(|f| json!(f)).collect()),
        (1, vec![json!(false), json!(true)]),
        (1, vec![Value::Null]),
    ]
}

/// A fixed fleet in JSON, for checks that evaluate arbitrary input against
/// known hosts: arrays (with mixed types, with objects, empty), missing
/// tags, numbers and numeric strings, dates and timestamps, floats,
/// booleans, null, an integer beyond `i64`, nested objects.
pub const FIXED_FLEET: &str = r#"[
  {"name": "web-01", "roles": ["web", "api"], "tags": {"env": "prod", "ring": "1", "region": "eu-west-1"},
   "facts": {"os": {"family": "ubuntu", "version": "22.04"}, "cpus": 8, "load": 2.5,
             "last_patched": "2026-09-01", "kernel": "5.15.0-91", "pkgs": ["nginx", "openssl", 3, true]}},
  {"name": "web-02", "roles": ["web"], "tags": {"env": "staging", "app.kubernetes.io/name": "shop", "Cost Center": "42"},
   "facts": {"os": {"family": "ubuntu", "version": "22.10"}, "cpus": "16", "secure_boot": "true",
             "last_patched": "2026-10-30T12:00:00+02:00", "big": 18446744073709551615}},
  {"name": "db-01", "roles": ["db"], "tags": {"ring": "0"},
   "facts": {"os": {"family": "rhel", "version": "9.2"}, "cpus": -3, "secure_boot": false,
             "kernel": "5.15.0-100", "nics": [{"name": "eth0"}], "nothing": null}},
  {"name": "cache-7", "facts": {"os": "unknown", "list": [], "nested": {"a": {"b": [1, "2", 2.5]}}}}
]"#;

/// [`FIXED_FLEET`] read as a fleet.
pub fn fixed_fleet() -> Result<Fleet, FleetError> {
    Fleet::from_json(FIXED_FLEET.as_bytes())
}
