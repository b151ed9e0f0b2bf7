//! Differential fuzzing: the indexed engine must select exactly what the
//! reference interpreter selects, for any expression over any small fleet,
//! also after upserts and removals.
//!
//! Input layout: the expression's UTF-8 text, a 0 byte, then bytes that
//! describe hosts (five bytes each) until a 0xFF byte, then changes (one
//! byte saying upsert or remove, then a host or a name).

use chrono::{TimeZone, Utc};
use fleetscope::{reference, Catalog, Fleet, Host, IndexedFleet};
use serde_json::{json, Value};

#[path = "vocab.rs"]
mod vocab;
use vocab::{NAMES, WORDS};

const ROLES: &[&str] = &["web", "db", "api", "8", "true", "22.04"];
const TAG_KEYS: &[&str] = &["env", "ring", "app.kubernetes.io/name"];
const FACT_KEYS: &[&str] = &["os", "cpus", "list", "last_patched"];

fn pick<'a>(items: &[&'a str], b: u8) -> &'a str {
    items
        .get(usize::from(b) % items.len().max(1))
        .copied()
        .unwrap_or("")
}

fn scalar(b: u8) -> Value {
    match b % 8 {
        0..=2 => Value::from(pick(WORDS, b / 8)),
        3 => Value::from([-3i64, 1, 8, 22][usize::from(b / 8) % 4]),
        4 => json!(2.5),
        5 => Value::from(b & 0x10 != 0),
        6 => json!(u64::MAX),
        _ => Value::Null,
    }
}

fn fact(b: u8, c: u8) -> Value {
    match b % 4 {
        0 | 1 => scalar(c),
        2 => json!([scalar(c), scalar(c.rotate_left(3)), {"x": 1}]),
        _ => json!({"version": scalar(c)}),
    }
}

/// A host from five bytes: name, roles, tag, fact key and kind, fact value.
fn host(bytes: &mut impl Iterator<Item = u8>) -> Option<Host> {
    let mut next = || bytes.next();
    let (n, r, t, f, v) = (next()?, next()?, next()?, next()?, next()?);
    let mut host = Host::named(pick(NAMES, n));
    for (bit, role) in ROLES.iter().enumerate() {
        if r & (1 << bit) != 0 {
            host.roles.push((*role).to_string());
        }
    }
    if t & 0x80 == 0 {
        host.tags.insert(
            pick(TAG_KEYS, t).to_string(),
            pick(WORDS, t >> 2).to_string(),
        );
    }
    if f & 0x80 == 0 {
        host.facts
            .insert(pick(FACT_KEYS, f).to_string(), fact(f >> 2, v));
    }
    Some(host)
}

fn check(engine: &IndexedFleet, model: &[Host], catalog: &Catalog, expr: &str) {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
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
    let loaded = IndexedFleet::from_json_lines(&lines).expect("valid JSON Lines");
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
            let name = pick(NAMES, op >> 1);
            let expected = model
                .iter()
                .position(|m| m.name == name)
                .map(|i| model.remove(i));
            assert_eq!(engine.remove(name), expected);
        }
        check(&engine, &model, &catalog, expr);
    }
}
