//! Parses arbitrary input, compiles it against a small catalog and evaluates
//! it over a small fleet. The checks live in `logic/parse_eval.rs`, shared
//! with the stable test `tests/fuzz_seeds.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "logic/parse_eval.rs"]
mod logic;

fuzz_target!(|data: &[u8]| logic::run(data));
