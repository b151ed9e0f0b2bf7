//! The version orders against what the real tools said, row by row.
//!
//! `tests/fixtures/versions/{dpkg,rpm,semver}.tsv` were written by
//! `tests/fixtures/versions/generate.py` from `dpkg`, rpm 4.18's
//! `rpm.vercmp` and node-semver 7 (see the README there). Each row holds
//! two texts, whether the tool accepts each, and how it orders them. No
//! tool is needed to run this test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::cmp::Ordering;

use fleetscope::versions::VersionScheme;

struct Row {
    line: usize,
    a: String,
    b: String,
    valid_a: bool,
    valid_b: bool,
    order: Option<i64>,
}

fn rows(scheme: VersionScheme) -> Vec<Row> {
    let path = format!(
        "{}/tests/fixtures/versions/{}.tsv",
        env!("CARGO_MANIFEST_DIR"),
        scheme.name()
    );
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let fields: Vec<serde_json::Value> = line
                .split('\t')
                .map(|f| serde_json::from_str(f).unwrap())
                .collect();
            assert_eq!(fields.len(), 5, "{path}:{}", i + 1);
            Row {
                line: i + 1,
                a: fields[0].as_str().unwrap().to_string(),
                b: fields[1].as_str().unwrap().to_string(),
                valid_a: fields[2].as_bool().unwrap(),
                valid_b: fields[3].as_bool().unwrap(),
                order: fields[4].as_i64(),
            }
        })
        .collect()
}

fn check(scheme: VersionScheme, min_compared: usize) {
    let rows = rows(scheme);
    let mut failures = Vec::new();
    let mut compared = 0;
    for row in &rows {
        let (va, vb) = (scheme.is_valid(&row.a), scheme.is_valid(&row.b));
        if (va, vb) != (row.valid_a, row.valid_b) {
            failures.push(format!(
                "line {}: validity of {:?} / {:?}: tool says {} / {}, we say {va} / {vb}",
                row.line, row.a, row.b, row.valid_a, row.valid_b
            ));
            continue;
        }
        let expected = row.order.map(|o| o.cmp(&0));
        let ours = scheme.compare(&row.a, &row.b);
        if ours != expected {
            failures.push(format!(
                "line {}: {:?} vs {:?}: tool says {expected:?}, we say {ours:?}",
                row.line, row.a, row.b
            ));
        }
        if expected.is_some() {
            compared += 1;
            // The swapped pair must give the reverse answer.
            assert_eq!(
                scheme.compare(&row.b, &row.a),
                expected.map(Ordering::reverse),
                "line {} swapped",
                row.line
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} {} rows disagree with the tool:\n{}",
        failures.len(),
        rows.len(),
        scheme.name(),
        failures.join("\n")
    );
    // A fixture that lost its rows would pass vacuously.
    assert!(
        compared >= min_compared,
        "only {compared} {} pairs compared",
        scheme.name()
    );
    let invalid = rows.iter().filter(|r| !r.valid_a || !r.valid_b).count();
    println!(
        "{}: {} rows agree ({compared} ordered pairs, {invalid} with an invalid side)",
        scheme.name(),
        rows.len()
    );
}

#[test]
fn dpkg_agrees_with_dpkg_compare_versions() {
    check(VersionScheme::Dpkg, 3000);
}

#[test]
fn rpm_agrees_with_rpm_vercmp() {
    check(VersionScheme::Rpm, 3000);
}

#[test]
fn semver_agrees_with_node_semver() {
    check(VersionScheme::Semver, 3000);
}
