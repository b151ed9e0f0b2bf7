//! Parses arbitrary input; whatever parses must print and re-parse to an
//! equal tree. The checks live in `logic/parse.rs`, shared with the stable
//! test `tests/fuzz_seeds.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "logic/parse.rs"]
mod logic;

fuzz_target!(|data: &[u8]| logic::run(data));
