//! Inventory readers under arbitrary input: detection and every format's
//! reader return (a fleet or an error, never a panic), and on whatever
//! loads the indexed engine selects exactly what the reference interpreter
//! selects.
//!
//! Input layout: an expression's UTF-8 text, a 0 byte, then the inventory
//! document (no 0 byte: the document is the whole input and the expression
//! is `true`).

use fleetscope::detect_fleet_format as detect;
use fleetscope::{reference, Catalog, Fleet, FleetFormat, IndexedFleet};

pub fn run(data: &[u8]) {
    let (expr, document) = match data.iter().position(|b| *b == 0) {
        Some(i) => (
            data.get(..i).unwrap_or(&[]),
            data.get(i + 1..).unwrap_or(&[]),
        ),
        None => (&b"true"[..], data),
    };
    let detected = detect(document);
    let scope = std::str::from_utf8(expr)
        .ok()
        .and_then(|source| Catalog::default().compile(source).ok());
    let now = fleetscope::testgen::now();
    for format in [
        detected,
        FleetFormat::Ansible,
        FleetFormat::Ec2,
        FleetFormat::PuppetDb,
    ] {
        match Fleet::from_json_with(document, format) {
            Err(e) => {
                // Every error renders.
                assert!(!e.to_string().is_empty());
            }
            Ok(fleet) => {
                let Some(scope) = &scope else { continue };
                let expected = reference::select(scope, &fleet, now);
                let indexed = IndexedFleet::new(fleet);
                let got: Vec<usize> = indexed
                    .select(scope, now)
                    .iter()
                    .map(|id| id.index())
                    .collect();
                assert_eq!(got, expected, "{format}: {}", scope.source());
            }
        }
    }
}
