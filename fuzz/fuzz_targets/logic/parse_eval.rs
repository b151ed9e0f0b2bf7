//! The `parse_eval` fuzz target's checks, also run on stable over the seed
//! corpus by `tests/fuzz_seeds.rs`.
//!
//! Any input is compiled against a small fixed catalog; whatever compiles is
//! evaluated with the reference interpreter over a small fixed fleet (arrays,
//! missing tags, numbers and numeric strings, dates, floats, booleans, nested
//! objects). Evaluation must not panic, `select` must agree with `matches`
//! and with `explain`, and the tree printed and compiled again must select
//! the same hosts.

use chrono::{DateTime, TimeZone, Utc};
use fleetscope::{reference, Catalog, Fleet, Limits};

/// The scopes `@name` can refer to.
pub const SCOPES: [(&str, &str); 4] = [
    ("web", "role = web"),
    ("prod", "tags.env = prod"),
    ("prod-web", "@web and @prod"),
    (
        "stale",
        "facts.last_patched < now() - 30d or not has(facts.last_patched)",
    ),
];

/// The hosts every input is evaluated against.
pub const FLEET: &str = r#"[
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

/// The instant `now()` stands for.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// Runs the checks on raw fuzzer bytes.
pub fn run(data: &[u8]) {
    match std::str::from_utf8(data) {
        Ok(text) => check(text),
        Err(_) => check(&String::from_utf8_lossy(data)),
    }
}

/// Runs the checks on one source text. Panics when a check fails.
pub fn check(source: &str) {
    let catalog = Catalog::new(SCOPES).expect("the fixed catalog is valid");
    let fleet = Fleet::from_json(FLEET.as_bytes()).expect("the fixed fleet is valid");
    let scope = match catalog.compile(source) {
        Ok(scope) => scope,
        Err(err) => {
            let span = err.span();
            assert!(
                span.start <= span.end && span.end <= source.len(),
                "error span {span} outside the input: {err}"
            );
            let _ = err.render(source, "fuzz");
            return;
        }
    };
    let now = now();
    let selected = reference::select(&scope, &fleet, now);
    assert_eq!(
        selected,
        reference::select(&scope, &fleet, now),
        "select is not deterministic"
    );
    for (i, host) in fleet.hosts().iter().enumerate() {
        let hit = reference::matches(&scope, host, now);
        assert_eq!(
            hit,
            selected.contains(&i),
            "matches and select disagree on {}",
            host.name
        );
        assert_eq!(
            reference::explain(&scope, host, now).holds,
            hit,
            "explain and matches disagree on {}",
            host.name
        );
    }
    // The printed tree means the same thing. It may be longer than the
    // source (escapes), so compile it without the length limit.
    let printed = scope.expr().to_string();
    let unbounded = Catalog::with_limits(
        SCOPES,
        Limits {
            max_len: usize::MAX,
            ..Limits::default()
        },
    )
    .expect("the fixed catalog is valid");
    match unbounded.compile(&printed) {
        Ok(again) => assert_eq!(
            reference::select(&again, &fleet, now),
            selected,
            "the printed form selects other hosts: {printed:?}"
        ),
        Err(err) => panic!("printed form {printed:?} of {source:?} does not compile: {err}"),
    }
}
