//! The `parse_eval` fuzz target's checks, also run on stable over the seed
//! corpus by `tests/fuzz_seeds.rs`.
//!
//! Any input is compiled against a small fixed catalog; whatever compiles is
//! evaluated with the reference interpreter over a small fixed fleet (arrays,
//! missing tags, numbers and numeric strings, dates, floats, booleans, nested
//! objects). Evaluation must not panic, `select` must agree with `matches`
//! and with `explain`, and the tree printed and compiled again must select
//! the same hosts.
//!
//! The catalog (`SCOPES`), the fleet (`FIXED_FLEET`) and `now()` are
//! the shared test vocabulary's, from `fleetscope::testgen::vocab`.

use fleetscope::testgen::vocab::{fixed_fleet, now, SCOPES};
use fleetscope::{reference, Catalog, Limits};

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
    let fleet = fixed_fleet().expect("the fixed fleet is valid");
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
