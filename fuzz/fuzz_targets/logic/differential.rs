//! Differential fuzzing: the indexed engine must select exactly what the
//! reference interpreter selects, for any expression over any small fleet,
//! also after upserts and removals.
//!
//! Input layout: the expression's UTF-8 text, a 0 byte, then bytes that
//! describe hosts (five bytes each) until a 0xFF byte, then changes (one
//! byte saying upsert or remove, then a host or a name).
//!
//! Hosts are decoded by `fleetscope::testgen::bytes`, over the vocabulary
//! the property tests use.

use fleetscope::testgen::bytes::{host, pick};
use fleetscope::testgen::{now, vocab::HOST_NAMES};
use fleetscope::{reference, Catalog, Fleet, Host, IndexedFleet};

fn check(engine: &IndexedFleet, model: &[Host], catalog: &Catalog, expr: &str) {
    let now = now();
    let fleet = Fleet::new(model.to_vec()).expect("model names are unique");
    let scope = catalog.compile(expr).expect("compiled before");
    let expected: Vec<&str> = reference::select(&scope, &fleet, now)
        .into_iter()
        .map(|i| fleet.hosts()[i].name.as_str())
        .collect();
    let selection = engine.select(&scope, now);
    let got: Vec<&str> = selection.names(engine).collect();
    assert_eq!(got, expected, "expression `{expr}`");
    for (name, selection) in engine.memberships(catalog, now) {
        let named = catalog.get(&name).expect("listed scope");
        let expected = reference::select(&named, &fleet, now).len();
        assert_eq!(selection.len(), expected, "named scope `{name}`");
    }
}

/// Checks one input; panics when the engine and the reference disagree.
pub fn run(data: &[u8]) {
    let Some(split) = data.iter().position(|b| *b == 0) else {
        return;
    };
    let Ok(expr) = std::str::from_utf8(&data[..split]) else {
        return;
    };
    let catalog = Catalog::new([("a", "role = web"), ("b", "@a or tags.env != prod")])
        .expect("valid catalog");
    if catalog.compile(expr).is_err() {
        return;
    }
    let mut bytes = data[split + 1..].iter().copied().peekable();
    let mut model: Vec<Host> = Vec::new();
    while bytes.peek().is_some_and(|b| *b != 0xFF) {
        let Some(h) = host(&mut bytes) else { break };
        if !model.iter().any(|m| m.name == h.name) {
            model.push(h);
        }
    }
    bytes.next();
    let mut engine = IndexedFleet::new(Fleet::new(model.clone()).expect("unique names"));
    check(&engine, &model, &catalog, expr);
    // The same hosts read straight into the index from JSON Lines and from
    // a JSON array, as the CLI reads fleet files.
    let mut lines = Vec::new();
    for h in &model {
        lines.extend(serde_json::to_vec(h).expect("a host serializes"));
        lines.push(b'\n');
    }
    let mut loaded = IndexedFleet::from_json_lines(&lines).expect("valid JSON Lines");
    check(&loaded, &model, &catalog, expr);
    // Every column, however small, answering globs and regexes through the
    // sorted orders of its dictionary.
    loaded.set_pattern_order_min(0);
    check(&loaded, &model, &catalog, expr);
    let array = serde_json::to_vec(&model).expect("hosts serialize");
    let loaded = IndexedFleet::from_json(&array).expect("valid JSON array");
    check(&loaded, &model, &catalog, expr);
    while let Some(op) = bytes.next() {
        if op & 1 == 0 {
            let Some(h) = host(&mut bytes) else { break };
            match model.iter_mut().find(|m| m.name == h.name) {
                Some(slot) => *slot = h.clone(),
                None => model.push(h.clone()),
            }
            engine.upsert(h).expect("non-empty name");
        } else {
            let name = pick(HOST_NAMES, op >> 1);
            let expected = model
                .iter()
                .position(|m| m.name == name)
                .map(|i| model.remove(i));
            assert_eq!(engine.remove(name), expected);
        }
        check(&engine, &model, &catalog, expr);
    }
}
