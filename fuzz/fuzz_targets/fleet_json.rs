//! The fast fleet readers against the exact ones (checks in
//! `logic/fleet_json.rs`, shared with `tests/fuzz_seeds.rs`).
//!
//! Input layout: one byte for the block size, then the text.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "logic/fleet_json.rs"]
mod logic;

fuzz_target!(|data: &[u8]| logic::run(data));
