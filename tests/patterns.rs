//! Globs and regexes on columns with many distinct values run through
//! sorted orders of the columns' dictionaries (`docs/ingest.md`, "Patterns
//! on names and columns"); they must select exactly what the reference
//! interpreter selects, also after upserts and removals that add values to
//! the dictionaries (tested one by one, then folded into a rebuilt order).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use fleetscope::testgen::strategy::{eval_expr_over, host, TreeSize};
use fleetscope::testgen::vocab::HOST_NAMES;
use fleetscope::testgen::{now, wide, Rng};
use fleetscope::{reference, Fleet, Host, IndexedFleet, Scope};
use proptest::prelude::*;

/// Bytes the index holds in the orders of its columns (0: none built).
fn column_orders(f: &IndexedFleet) -> usize {
    f.index_bytes_by_part()
        .into_iter()
        .find(|(part, _)| part == "column orders")
        .map(|(_, b)| b)
        .expect("the index reports its column orders")
}

/// The engine selects what the reference selects from the model's hosts.
fn agrees(engine: &IndexedFleet, model: &[Host], source: &str) -> Result<(), TestCaseError> {
    let scope = Scope::parse(source).map_err(|e| TestCaseError::fail(format!("{source}: {e}")))?;
    let fleet = Fleet::new(model.to_vec()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let expected: Vec<&str> = reference::select(&scope, &fleet, now())
        .into_iter()
        .map(|i| fleet.hosts()[i].name.as_str())
        .collect();
    let selection = engine.select(&scope, now());
    let got: Vec<&str> = selection.names(engine).collect();
    prop_assert_eq!(got, expected, "scope `{}`", source);
    prop_assert_eq!(engine.len(), model.len());
    Ok(())
}

#[derive(Debug, Clone)]
enum Change {
    /// A new host with a new serial.
    Add,
    /// The host at this position (modulo the fleet's size) gets a new
    /// serial.
    Replace(usize),
    /// The host at this position (modulo the fleet's size) goes.
    Remove(usize),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        3 => Just(Change::Add),
        2 => any::<usize>().prop_map(Change::Replace),
        1 => any::<usize>().prop_map(Change::Remove),
    ]
}

/// Applies `change` (the `k`-th) to the engine and the model alike.
fn apply(
    engine: &mut IndexedFleet,
    model: &mut Vec<Host>,
    rng: &mut Rng,
    k: u64,
    change: &Change,
) -> Result<(), TestCaseError> {
    match change {
        Change::Add => {
            let host = wide::host(rng, wide::name(1_000_000 + k), 1_000_000 + k);
            model.push(host.clone());
            prop_assert!(engine.upsert(host).is_ok());
        }
        Change::Replace(i) if !model.is_empty() => {
            let i = i % model.len();
            let host = wide::host(rng, model[i].name.clone(), 2_000_000 + k);
            model[i] = host.clone();
            prop_assert!(engine.upsert(host).is_ok());
        }
        Change::Remove(i) if !model.is_empty() => {
            let host = model.remove(i % model.len());
            prop_assert_eq!(engine.remove(&host.name), Some(host));
        }
        _ => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Fleets above the threshold, every shape of glob and regex, and
    /// enough changes to make the orders stale and rebuilt.
    #[test]
    fn patterns_on_wide_columns_agree_with_the_reference(
        seed in any::<u64>(),
        extra in 0usize..300,
        exprs in prop::collection::vec(wide::expr(), 6),
        changes in prop::collection::vec(change(), 0..320),
    ) {
        let mut model = wide::fleet(IndexedFleet::PATTERN_ORDER_MIN + extra, seed);
        let mut engine = IndexedFleet::new(Fleet::new(model.clone()).unwrap());
        // The orders are in use: a prefix glob on the serials builds one.
        prop_assert_eq!(column_orders(&engine), 0);
        agrees(&engine, &model, "tags.serial like \"web-*\"")?;
        prop_assert!(column_orders(&engine) > 0);
        for e in &exprs {
            agrees(&engine, &model, e)?;
        }
        let mut rng = Rng::new(seed ^ 0x5eed);
        for (k, c) in changes.iter().enumerate() {
            apply(&mut engine, &mut model, &mut rng, k as u64, c)?;
            if k % 64 == 63 {
                for e in &exprs {
                    agrees(&engine, &model, e)?;
                }
            }
        }
        for e in &exprs {
            agrees(&engine, &model, e)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The vocabulary's small fleets (texts, integers beyond `i64`,
    /// floats, booleans, arrays, missing paths) with every column, however
    /// small, answering patterns through its orders.
    #[test]
    fn every_column_through_orders_agrees_with_the_reference(
        expr in eval_expr_over(&[], TreeSize { depth: 3, size: 8, branch: 3 }),
        hosts in prop::collection::vec(host(), 0..8),
        changes in prop::collection::vec(
            prop_oneof![
                host().prop_map(Ok),
                prop::sample::select(HOST_NAMES).prop_map(Err),
            ],
            0..6,
        ),
    ) {
        let source = expr.to_string();
        let mut model: Vec<Host> = Vec::new();
        for h in hosts {
            if !model.iter().any(|o| o.name == h.name) {
                model.push(h);
            }
        }
        let mut engine = IndexedFleet::new(Fleet::new(model.clone()).unwrap());
        engine.set_pattern_order_min(0);
        agrees(&engine, &model, &source)?;
        for c in changes {
            match c {
                Ok(host) => {
                    match model.iter_mut().find(|h| h.name == host.name) {
                        Some(slot) => *slot = host.clone(),
                        None => model.push(host.clone()),
                    }
                    prop_assert!(engine.upsert(host).is_ok());
                }
                Err(name) => {
                    let expected = model.iter().position(|h| h.name == name).map(|i| model.remove(i));
                    prop_assert_eq!(engine.remove(name), expected);
                }
            }
            agrees(&engine, &model, &source)?;
        }
    }
}

/// New values are tested one by one until they make up an eighth of the
/// order; then the order is dropped and the next pattern builds it again.
#[test]
fn orders_are_rebuilt_once_many_values_were_added() {
    let n = IndexedFleet::PATTERN_ORDER_MIN * 2;
    let mut model = wide::fleet(n, 7);
    let mut engine = IndexedFleet::new(Fleet::new(model.clone()).unwrap());
    let query = "tags.serial like \"*7\"";
    agrees(&engine, &model, query).unwrap();
    let built = column_orders(&engine);
    assert!(built > 0);
    let mut rng = Rng::new(8);
    // A few new values: the order stays and they are tested on their own.
    for k in 0..(n / 16) as u64 {
        apply(&mut engine, &mut model, &mut rng, k, &Change::Add).unwrap();
    }
    assert_eq!(column_orders(&engine), built);
    agrees(&engine, &model, query).unwrap();
    // More than an eighth: the order goes, and comes back larger.
    for k in (n / 16) as u64..(n / 4) as u64 {
        apply(&mut engine, &mut model, &mut rng, k, &Change::Add).unwrap();
    }
    assert!(column_orders(&engine) < built);
    agrees(&engine, &model, query).unwrap();
    assert!(column_orders(&engine) > built);
}

/// Below the threshold a column is tested value by value and builds no
/// order; the answers are the same.
#[test]
fn small_columns_build_no_order() {
    let model = wide::fleet(IndexedFleet::PATTERN_ORDER_MIN / 2, 3);
    let engine = IndexedFleet::new(Fleet::new(model.clone()).unwrap());
    for query in ["tags.serial like \"web-*\"", "facts.fqdn matches \".*7\""] {
        agrees(&engine, &model, query).unwrap();
    }
    assert_eq!(column_orders(&engine), 0);
}
