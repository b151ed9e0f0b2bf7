//! `dpkg("...")`, `rpm("...")` and `semver("...")` in the scope language, as
//! a policy author meets them: which hosts each comparison selects, in both
//! the reference interpreter and the indexed engine; what a host value that
//! is not a version of the kind does; that the three names stay ordinary
//! words without a `(`; and that printing round-trips.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use chrono::{DateTime, TimeZone, Utc};
use fleetscope::syntax::{self, Literal, ParseErrorKind};
use fleetscope::versions::VersionScheme;
use fleetscope::{reference, Fleet, IndexedFleet, Scope, ScopeErrorKind};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().unwrap()
}

const FLEET: &str = r#"[
  {"name": "focal", "tags": {"env": "prod"}, "facts": {"pm": "dpkg",
    "packages": {"openssl": "1.1.1f-1ubuntu2.20", "libc6": "2.31-0ubuntu9.14", "node": "v18.19.0"}}},
  {"name": "jammy-old", "tags": {"env": "prod"}, "facts": {"pm": "dpkg",
    "packages": {"openssl": "3.0.2-0ubuntu1.10", "libc6": "2.35-0ubuntu3.1", "node": "20.11.0-rc.1"}}},
  {"name": "jammy-new", "tags": {"env": "test"}, "facts": {"pm": "dpkg",
    "packages": {"openssl": "3.0.2-0ubuntu1.15", "libc6": "2.35-0ubuntu3.8", "node": "20.11.0"}}},
  {"name": "jammy-rc", "facts": {"pm": "dpkg",
    "packages": {"openssl": "3.0.2~rc1-0ubuntu1", "node": "20.11.0+build.7"}}},
  {"name": "epoch", "facts": {"pm": "dpkg", "packages": {"openssl": "1:1.0"}}},
  {"name": "el9", "tags": {"env": "prod"}, "facts": {"pm": "rpm",
    "packages": {"openssl": "1:3.0.7-24.el9", "glibc": "2.34-83.el9_3.7"}}},
  {"name": "el9-old", "facts": {"pm": "rpm",
    "packages": {"openssl": "1:3.0.7-6.el9_2", "glibc": "2.34-60.el9"}}},
  {"name": "numbers", "facts": {"pm": 7, "packages": {"openssl": 7, "node": 20, "glibc": 2.5}}},
  {"name": "junk", "facts": {"packages": {"openssl": "not a version", "glibc": "", "node": "1.2"}}},
  {"name": "bare"}
]"#;

fn fleet() -> Fleet {
    Fleet::from_json(FLEET.as_bytes()).unwrap()
}

/// The hosts `source` selects, checked to be the same in the reference
/// interpreter, host by host, and in the indexed engine.
#[track_caller]
fn selects(source: &str, expected: &[&str]) {
    let scope = Scope::parse(source)
        .unwrap_or_else(|e| panic!("{source:?} does not compile:\n{}", e.render(source, "expr")));
    let fleet = fleet();
    let got: Vec<&str> = reference::select(&scope, &fleet, now())
        .into_iter()
        .map(|i| fleet.hosts()[i].name.as_str())
        .collect();
    assert_eq!(got, expected, "reference: {source}");
    let indexed = IndexedFleet::new(fleet.clone());
    let selection = indexed.select(&scope, now());
    let engine: Vec<&str> = selection.names(&indexed).collect();
    assert_eq!(engine, expected, "engine: {source}");
    // The printed tree means the same.
    let printed = scope.expr().to_string();
    let again = Scope::parse(&printed).unwrap();
    let reprinted: Vec<usize> = reference::select(&again, &fleet, now());
    assert_eq!(
        reprinted.len(),
        expected.len(),
        "printed as {printed:?}: {source}"
    );
}

#[test]
fn dpkg_orders_as_debian_does() {
    // The number 7 reads as the version "7", which is newer than 3.0.2.
    selects(
        r#"facts.packages.openssl < dpkg("3.0.2-0ubuntu1.15")"#,
        &["focal", "jammy-old", "jammy-rc"],
    );
    // The scope of the docs: vulnerable and in production.
    selects(
        r#"facts.packages.openssl < dpkg("3.0.2-0ubuntu1.15") and tags.env = prod"#,
        &["focal", "jammy-old"],
    );
    // `~` before the release; an epoch after everything without one.
    // "1:3.0.7-6.el9_2" is no Debian version (`_` in the revision).
    selects(
        r#"facts.packages.openssl >= dpkg("3.0.2~rc1")"#,
        &[
            "jammy-old",
            "jammy-new",
            "jammy-rc",
            "epoch",
            "el9",
            "numbers",
        ],
    );
    selects(r#"facts.packages.openssl = dpkg("0:1:1.0")"#, &[]);
    selects(r#"facts.packages.openssl = dpkg("1:1.0-0")"#, &["epoch"]);
    selects(
        r#"facts.packages.libc6 in (dpkg("2.35-0ubuntu3.8"), dpkg("2.31-0ubuntu9.14"))"#,
        &["focal", "jammy-new"],
    );
}

#[test]
fn rpm_orders_as_rpm_does() {
    selects(
        r#"facts.packages.openssl < rpm("1:3.0.7-24.el9")"#,
        &[
            "focal",
            "jammy-old",
            "jammy-new",
            "jammy-rc",
            "epoch",
            "el9-old",
            "numbers",
            "junk",
        ],
    );
    selects(r#"facts.packages.glibc >= rpm("2.34-83.el9_3")"#, &["el9"]);
    // A version without a release sorts before any release of it.
    selects(r#"facts.packages.glibc > rpm("2.34")"#, &["el9", "el9-old"]);
    selects(
        r#"facts.packages.openssl = rpm("1:3.0.7-24_el9")"#,
        &["el9"],
    );
}

#[test]
fn semver_orders_by_precedence() {
    selects(
        r#"facts.packages.node < semver("20.11.0")"#,
        &["focal", "jammy-old"],
    );
    // Build metadata is ignored, a leading `v` accepted on either side.
    selects(
        r#"facts.packages.node = semver("v20.11.0+other")"#,
        &["jammy-new", "jammy-rc"],
    );
    selects(
        r#"facts.packages.node >= semver("18.0.0")"#,
        &["focal", "jammy-old", "jammy-new", "jammy-rc"],
    );
}

#[test]
fn numbers_are_their_decimal_text_under_dpkg_and_rpm_only() {
    selects(r#"facts.pm = dpkg("7")"#, &["numbers"]);
    selects(r#"facts.pm = rpm("7.0")"#, &[]);
    selects(
        r#"facts.pm < rpm("7.0") and facts.pm > rpm("6")"#,
        &["numbers"],
    );
    // Any text is an RPM version, and letters sort before digits.
    selects(
        r#"facts.pm < rpm("7.0")"#,
        &[
            "focal",
            "jammy-old",
            "jammy-new",
            "jammy-rc",
            "epoch",
            "el9",
            "el9-old",
            "numbers",
        ],
    );
    // Under semver a bare number is not a version: `20` is not `20.0.0`.
    selects(
        r#"facts.packages.node >= semver("0.0.0")"#,
        &["focal", "jammy-old", "jammy-new", "jammy-rc"],
    );
    // A float has no text, so it is no version of any kind; nor is "".
    selects(r#"facts.packages.glibc < rpm("3")"#, &["el9", "el9-old"]);
    selects(
        r#"facts.packages.glibc != rpm("3")"#,
        &["el9", "el9-old", "numbers", "junk"],
    );
}

#[test]
fn values_that_are_not_versions_satisfy_no_predicate_but_its_negation() {
    // "not a version" is no Debian version; "1.2" no SemVer version.
    selects(
        r#"facts.packages.openssl != dpkg("3.0.2-0ubuntu1.15")"#,
        &[
            "focal",
            "jammy-old",
            "jammy-rc",
            "epoch",
            "el9",
            "el9-old",
            "numbers",
            "junk",
        ],
    );
    selects(
        r#"facts.packages.node not in (semver("20.11.0"))"#,
        &["focal", "jammy-old", "numbers", "junk"],
    );
    selects(r#"facts.packages.node = semver("1.2.0")"#, &[]);
    // The empty string is no RPM version; without a value, `!=` fails
    // closed as always.
    selects(
        r#"facts.packages.glibc != rpm("2.34-60.el9")"#,
        &["el9", "numbers", "junk"],
    );
    selects(
        r#"not (facts.packages.glibc = rpm("2.34-60.el9"))"#,
        &[
            "focal",
            "jammy-old",
            "jammy-new",
            "jammy-rc",
            "epoch",
            "el9",
            "numbers",
            "junk",
            "bare",
        ],
    );
}

#[test]
fn the_names_are_not_keywords() {
    // Without `(` they are bare words, as they always were.
    selects("facts.pm = rpm", &["el9", "el9-old"]);
    selects(
        "facts.pm in (dpkg, semver)",
        &["focal", "jammy-old", "jammy-new", "jammy-rc", "epoch"],
    );
    let expr = syntax::parse("facts.package_manager = rpm").unwrap();
    match &expr.node {
        fleetscope::syntax::ExprKind::Compare { value, .. } => {
            assert_eq!(value.node, Literal::Str("rpm".into()));
        }
        other => panic!("{other:?}"),
    }
    // With `(` they are literals, in any case and with spaces, like version.
    let expr = syntax::parse("facts.x = RPM ( \"1.0\" )").unwrap();
    assert_eq!(expr.to_string(), "facts.x = rpm(\"1.0\")");
    // Words that only start with the names stay words.
    selects("facts.pm = dpkg-x or facts.pm = rpms", &[]);
    assert!(syntax::parse("facts.x = semverish(\"1.0.0\")").is_err());
}

#[test]
fn printing_round_trips() {
    for source in [
        r#"facts.a = dpkg("1:2.30-1ubuntu1")"#,
        r#"facts.a in (rpm("2:1.0-3.el9"), semver("v1.2.3-rc.1+b"), version("1"), rpm)"#,
        r#"facts.a != rpm("quote \" and é \t tab")"#,
        r#"not facts.a >= semver("1.2.3")"#,
    ] {
        let expr = syntax::parse(source).unwrap();
        let printed = expr.to_string();
        assert_eq!(syntax::parse(&printed).unwrap(), expr, "{printed}");
    }
}

#[test]
fn invalid_literals_are_errors_with_span_and_help() {
    for (source, scheme, span) in [
        (r#"facts.a < dpkg("a1.0")"#, VersionScheme::Dpkg, (15, 21)),
        (r#"facts.a < dpkg("1.0-")"#, VersionScheme::Dpkg, (15, 21)),
        (r#"facts.a < dpkg("1:")"#, VersionScheme::Dpkg, (15, 19)),
        (r#"facts.a in (x, rpm(""))"#, VersionScheme::Rpm, (19, 21)),
        (
            r#"facts.a = semver("1.2")"#,
            VersionScheme::Semver,
            (17, 22),
        ),
        (
            r#"facts.a = semver("01.2.3")"#,
            VersionScheme::Semver,
            (17, 25),
        ),
        (
            r#"facts.a = semver("9007199254740992.0.0")"#,
            VersionScheme::Semver,
            (17, 39),
        ),
        (
            r#"facts.a = semver("=1.2.3")"#,
            VersionScheme::Semver,
            (17, 25),
        ),
    ] {
        let err = match Scope::parse(source) {
            Ok(_) => panic!("{source} accepted"),
            Err(e) => e,
        };
        assert!(
            matches!(err.kind(), ScopeErrorKind::Parse(ParseErrorKind::InvalidVersion { scheme: s, .. }) if *s == scheme.title()),
            "{source}: {err:?}"
        );
        assert_eq!((err.span().start, err.span().end), span, "{source}");
        assert_eq!(err.help(), Some(scheme.accepts()), "{source}");
    }
    let long = format!("facts.a = semver(\"1.0.0-{}\")", "a".repeat(251));
    let err = Scope::parse(&long).map(|_| ()).unwrap_err();
    assert!(err.to_string().contains("at most 256 characters"), "{err}");
    // The largest SemVer numbers and 256 characters are still fine.
    Scope::parse("facts.a = semver(\"9007199254740991.0.0\")").unwrap();
    Scope::parse(&format!("facts.a = semver(\"1.0.0-{}\")", "a".repeat(250))).unwrap();
}

#[test]
fn explain_names_the_order() {
    let scope = Scope::parse(
        r#"facts.packages.openssl < dpkg("3.0.2-0ubuntu1.15") or facts.packages.node in (semver("1.2.3"), version("1.2"))"#,
    )
    .unwrap();
    let fleet = fleet();
    let host = fleet.get("jammy-old").unwrap();
    let text = reference::explain(&scope, host, now()).to_string();
    assert!(
        text.contains(r#"dpkg order: "3.0.2-0ubuntu1.10" < "3.0.2-0ubuntu1.15""#),
        "{text}"
    );
    assert!(
        text.contains(r#"semver order: "20.11.0-rc.1" > "1.2.3""#),
        "{text}"
    );
    assert!(
        text.contains(r#"natural version order: "20.11.0-rc.1" > "1.2""#),
        "{text}"
    );
    let junk = fleet.get("junk").unwrap();
    let text = reference::explain(&scope, junk, now()).to_string();
    assert!(
        text.contains(r#"dpkg order: "not a version" is not a valid Debian version: a Debian version cannot hold spaces"#),
        "{text}"
    );
}
