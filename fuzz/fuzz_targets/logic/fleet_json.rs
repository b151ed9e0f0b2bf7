//! The fast fleet readers under arbitrary input: a JSON document read in
//! memory, streamed in blocks of any size, and JSON Lines, each give
//! exactly what the exact readers (`Fleet::from_json`,
//! `Fleet::from_json_lines`) give — the same hosts, or the same error,
//! word for word — and never panic.
//!
//! Input layout: one byte for the block size (1 to 256 bytes), then the
//! text.

use fleetscope::{Fleet, FleetError, IndexedFleet};

fn outcome(r: Result<IndexedFleet, FleetError>) -> Result<Fleet, String> {
    r.map(|f| f.to_fleet()).map_err(|e| e.to_string())
}

pub fn run(data: &[u8]) {
    let Some((block, text)) = data.split_first() else {
        return;
    };
    let block = usize::from(*block) + 1;
    let exact = Fleet::from_json(text).map_err(|e| e.to_string());
    assert_eq!(outcome(IndexedFleet::from_json(text)), exact, "in memory");
    assert_eq!(
        outcome(IndexedFleet::from_json_in_blocks(text, block)),
        exact,
        "in blocks of {block}"
    );
    let exact_lines = Fleet::from_json_lines(text).map_err(|e| e.to_string());
    assert_eq!(
        outcome(IndexedFleet::from_json_lines(text)),
        exact_lines,
        "JSON Lines"
    );
}
