//! Differential fuzzing (checks in `logic/differential.rs`, shared with
//! `tests/fuzz_seeds.rs`): the indexed engine must select exactly what the
//! reference interpreter selects, for any expression over any small fleet,
//! also after upserts and removals.
//!
//! Input layout: the expression's UTF-8 text, a 0 byte, then bytes that
//! describe hosts (five bytes each) until a 0xFF byte, then changes (one
//! byte saying upsert or remove, then a host or a name).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "logic/differential.rs"]
mod logic;

fuzz_target!(|data: &[u8]| logic::run(data));
