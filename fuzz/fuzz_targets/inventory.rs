//! Inventory readers (checks in `logic/inventory.rs`, shared with
//! `tests/fuzz_seeds.rs`): detection and the ansible, ec2 and puppetdb
//! readers never panic, and the indexed engine agrees with the reference
//! interpreter on every fleet they load.
//!
//! Input layout: an expression's UTF-8 text, a 0 byte, then the document.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "logic/inventory.rs"]
mod logic;

fuzz_target!(|data: &[u8]| logic::run(data));
