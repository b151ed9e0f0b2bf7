//! Runs each fuzz target's checks over its stored seed corpus on stable
//! Rust, so CI exercises the targets without nightly or cargo-fuzz. The
//! targets' bodies live in `fuzz/fuzz_targets/logic/` and are shared with
//! the cargo-fuzz binaries.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::path::Path;

#[path = "../fuzz/fuzz_targets/logic/differential.rs"]
mod differential;
#[path = "../fuzz/fuzz_targets/logic/fleet_json.rs"]
mod fleet_json;
#[path = "../fuzz/fuzz_targets/logic/inventory.rs"]
mod inventory;
#[path = "../fuzz/fuzz_targets/logic/parse.rs"]
mod parse;
#[path = "../fuzz/fuzz_targets/logic/parse_eval.rs"]
mod parse_eval;

/// Every file in `fuzz/seeds/<target>/` and, when present, the local
/// corpus and crash artifacts that cargo-fuzz keeps (`fuzz/corpus/<target>`,
/// `fuzz/artifacts/<target>`), so that a crash found locally is replayed here.
fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for dir in ["seeds", "corpus", "artifacts"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                let bytes = std::fs::read(&path).expect("readable corpus file");
                out.push((path.display().to_string(), bytes));
            }
        }
    }
    out.sort();
    out
}

fn run_all(target: &str, run: fn(&[u8])) {
    let inputs = inputs(target);
    assert!(
        inputs.len() >= 12,
        "the seed corpus of {target} has {} inputs",
        inputs.len()
    );
    for (name, bytes) in inputs {
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(outcome.is_ok(), "{target} fails on {name}");
    }
}

#[test]
fn parse_target_passes_on_its_corpus() {
    run_all("parse", parse::run);
}

#[test]
fn parse_eval_target_passes_on_its_corpus() {
    run_all("parse_eval", parse_eval::run);
}

#[test]
fn differential_target_passes_on_its_corpus() {
    run_all("differential", differential::run);
}

#[test]
fn inventory_target_passes_on_its_corpus() {
    run_all("inventory", inventory::run);
}

#[test]
fn fleet_json_target_passes_on_its_corpus() {
    run_all("fleet_json", fleet_json::run);
}

#[test]
fn targets_take_invalid_utf8_and_edge_inputs() {
    for input in [
        &b""[..],
        b"\xff\xfe role = web",
        b"role = \"\xc3\x28\"",
        b"(((((((((((",
        b"not not not",
        b"\x00",
        b"facts.x < now() - 9223372036854775807s - 1s",
    ] {
        parse::run(input);
        parse_eval::run(input);
        differential::run(input);
        inventory::run(input);
        fleet_json::run(input);
    }
}
