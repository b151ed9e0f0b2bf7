//! The indexed engine as an embedding tool uses it, checked against the
//! reference interpreter: the same hosts, in the same order, for random
//! expressions over random fleets, also after random upserts and removals.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use fleetscope::testgen::now;
use fleetscope::testgen::strategy::{eval_expr_over, host, TreeSize};
use fleetscope::testgen::vocab::HOST_NAMES;
use fleetscope::{reference, Catalog, Fleet, Host, IndexedFleet, Scope};
use proptest::prelude::*;
use serde_json::json;

fn fleet(hosts: serde_json::Value) -> IndexedFleet {
    let bytes = serde_json::to_vec(&hosts).unwrap_or_default();
    IndexedFleet::new(Fleet::from_json(&bytes).expect("valid fleet"))
}

fn names(fleet: &IndexedFleet, source: &str) -> Vec<String> {
    let scope = Scope::parse(source).expect("valid scope");
    fleet
        .select(&scope, now())
        .names(fleet)
        .map(str::to_string)
        .collect()
}

#[test]
fn negated_operators_fail_closed_and_not_complements() {
    let f = fleet(json!([
        {"name": "a", "tags": {"env": "prod"}},
        {"name": "b", "tags": {"env": "dev"}},
        {"name": "c"}
    ]));
    assert_eq!(names(&f, "tags.env != prod"), ["b"]);
    assert_eq!(names(&f, "tags.env not in (prod)"), ["b"]);
    assert_eq!(names(&f, "tags.env not like \"p*\""), ["b"]);
    assert_eq!(names(&f, "tags.env not matches \"p.*\""), ["b"]);
    assert_eq!(names(&f, "not tags.env = prod"), ["b", "c"]);
    assert_eq!(names(&f, "not (tags.env != prod)"), ["a", "c"]);
}

#[test]
fn removed_hosts_never_appear_even_in_complements() {
    let mut f = fleet(json!([{"name": "a"}, {"name": "b", "roles": ["web"]}, {"name": "c"}]));
    assert!(f.remove("a").is_some());
    assert!(f.remove("a").is_none());
    assert_eq!(names(&f, "not role = web"), ["c"]);
    assert_eq!(names(&f, "true"), ["b", "c"]);
    assert_eq!(names(&f, "name like \"*\""), ["b", "c"]);
    assert_eq!(f.len(), 2);
}

#[test]
fn upserts_replace_in_place_and_append_new_hosts() {
    let mut f = fleet(json!([{"name": "a"}, {"name": "b"}]));
    let mut web = Host::named("a");
    web.roles.push("web".into());
    let id = f.upsert(web).expect("valid host");
    assert_eq!(id.index(), 0);
    let mut c = Host::named("c");
    c.roles.push("web".into());
    assert_eq!(f.upsert(c).expect("valid host").index(), 2);
    assert_eq!(names(&f, "role = web"), ["a", "c"]);
    assert_eq!(f.position("c").map(|i| i.index()), Some(2));
    assert!(f.upsert(Host::named("")).is_err());
}

#[test]
fn selections_count_without_names_and_combine() {
    let f = fleet(json!([
        {"name": "a", "roles": ["web"]},
        {"name": "b", "roles": ["web", "db"]},
        {"name": "c", "roles": ["db"]}
    ]));
    let web = f.select(&Scope::parse("role = web").expect("valid"), now());
    let db = f.select(&Scope::parse("role = db").expect("valid"), now());
    assert_eq!(web.len(), 2);
    assert_eq!((&web & &db).names(&f).collect::<Vec<_>>(), ["b"]);
    assert_eq!((&web | &db).len(), 3);
    assert_eq!((&web - &db).names(&f).collect::<Vec<_>>(), ["a"]);
    assert!(f.position("b").is_some_and(|id| web.contains(id)));
}

#[test]
fn memberships_and_scopes_of_a_host() {
    let f = fleet(json!([
        {"name": "a", "roles": ["web"], "tags": {"env": "prod"}},
        {"name": "b", "roles": ["web"]}
    ]));
    let catalog = Catalog::new([
        ("web", "role = web"),
        ("prodweb", "@web and tags.env = prod"),
        ("rest", "not @prodweb"),
    ])
    .expect("valid catalog");
    let all = f.memberships(&catalog, now());
    let listed: Vec<(String, Vec<&str>)> = all
        .iter()
        .map(|(k, v)| (k.clone(), v.names(&f).collect()))
        .collect();
    assert_eq!(
        listed,
        [
            ("prodweb".to_string(), vec!["a"]),
            ("rest".to_string(), vec!["b"]),
            ("web".to_string(), vec!["a", "b"]),
        ]
    );
    assert_eq!(
        f.scopes_of("a", &catalog, now()),
        Some(vec!["prodweb".into(), "web".into()])
    );
    assert_eq!(f.scopes_of("zz", &catalog, now()), None);
}

// ---- the differential property ----

/// Expressions over the shared vocabulary (`fleetscope::testgen`) that may
/// refer to the named scopes `refs`, kept small: each case checks three of
/// them after every change.
fn expr(refs: &[&str]) -> impl Strategy<Value = String> {
    let refs: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
    let size = TreeSize {
        depth: 4,
        size: 16,
        branch: 3,
    };
    eval_expr_over(&refs, size).prop_map(|e| e.to_string())
}

#[derive(Debug, Clone)]
enum Change {
    Upsert(Host),
    Remove(&'static str),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        host().prop_map(Change::Upsert),
        prop::sample::select(HOST_NAMES).prop_map(Change::Remove),
    ]
}

fn unique(hosts: Vec<Host>) -> Vec<Host> {
    let mut out: Vec<Host> = Vec::new();
    for h in hosts {
        if !out.iter().any(|o| o.name == h.name) {
            out.push(h);
        }
    }
    out
}

/// The engine against the reference over the model's hosts: the scope,
/// every named scope, and every host's list of scopes.
fn check(
    engine: &IndexedFleet,
    model: &[Host],
    scope: &Scope,
    catalog: &Catalog,
) -> Result<(), TestCaseError> {
    let fleet = Fleet::new(model.to_vec()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let expected: Vec<&str> = reference::select(scope, &fleet, now())
        .into_iter()
        .filter_map(|i| fleet.hosts().get(i).map(|h| h.name.as_str()))
        .collect();
    let selection = engine.select(scope, now());
    let got: Vec<&str> = selection.names(engine).collect();
    prop_assert_eq!(&got, &expected, "scope `{}`", scope.source());
    prop_assert_eq!(selection.len(), expected.len());
    prop_assert_eq!(engine.len(), model.len());

    let all = engine.memberships(catalog, now());
    for name in catalog.names() {
        let named = catalog
            .get(name)
            .ok_or_else(|| TestCaseError::fail("named scope"))?;
        let expected: Vec<&str> = reference::select(&named, &fleet, now())
            .into_iter()
            .filter_map(|i| fleet.hosts().get(i).map(|h| h.name.as_str()))
            .collect();
        let got: Vec<&str> = all
            .get(name)
            .map(|s| s.names(engine).collect())
            .unwrap_or_default();
        prop_assert_eq!(got, expected, "named scope `{}`", name);
    }
    for host in model {
        let expected: Vec<String> = catalog
            .names()
            .filter(|n| {
                catalog
                    .get(n)
                    .is_some_and(|s| reference::matches(&s, host, now()))
            })
            .map(str::to_string)
            .collect();
        prop_assert_eq!(engine.scopes_of(&host.name, catalog, now()), Some(expected));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn engine_agrees_with_the_reference(
        a in expr(&[]),
        b in expr(&["a"]),
        root in expr(&["a", "b"]),
        hosts in prop::collection::vec(host(), 0..8),
        changes in prop::collection::vec(change(), 0..6),
    ) {
        // The generator only writes expressions that compile.
        let catalog = Catalog::new([("a", a), ("b", b)]);
        prop_assert!(catalog.is_ok(), "{:?}", catalog.err());
        let Ok(catalog) = catalog else { return Ok(()) };
        let scope = catalog.compile(&root);
        prop_assert!(scope.is_ok(), "{root:?}: {:?}", scope.err());
        let Ok(scope) = scope else { return Ok(()) };
        let mut model = unique(hosts);
        let fleet = Fleet::new(model.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut engine = IndexedFleet::new(fleet);
        check(&engine, &model, &scope, &catalog)?;
        for change in changes {
            match change {
                Change::Upsert(host) => {
                    match model.iter_mut().find(|h| h.name == host.name) {
                        Some(slot) => *slot = host.clone(),
                        None => model.push(host.clone()),
                    }
                    prop_assert!(engine.upsert(host).is_ok());
                }
                Change::Remove(name) => {
                    let expected = model.iter().position(|h| h.name == name).map(|i| model.remove(i));
                    prop_assert_eq!(engine.remove(name), expected);
                }
            }
            check(&engine, &model, &scope, &catalog)?;
        }
        // After the changes, the index answers as a fresh build does.
        let rebuilt = IndexedFleet::new(engine.to_fleet());
        let (x, y) = (engine.select(&scope, now()), rebuilt.select(&scope, now()));
        let a: Vec<&str> = x.names(&engine).collect();
        let b: Vec<&str> = y.names(&rebuilt).collect();
        prop_assert_eq!(a, b);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The same check over fleets read straight into the index from JSON,
    /// `{"hosts": [...]}` and JSON Lines (the path the CLI takes), which
    /// also rebuild exactly the hosts they were given.
    #[test]
    fn engine_over_loaded_fleets_agrees_with_the_reference(
        a in expr(&[]),
        root in expr(&["a"]),
        hosts in prop::collection::vec(host(), 0..8),
    ) {
        let Ok(catalog) = Catalog::new([("a", a)]) else { return Ok(()) };
        let Ok(scope) = catalog.compile(&root) else { return Ok(()) };
        let model = unique(hosts);
        let array = serde_json::to_vec(&model).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let wrapped = serde_json::to_vec(&json!({ "hosts": model }))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut lines = Vec::new();
        for h in &model {
            lines.extend(serde_json::to_vec(h).map_err(|e| TestCaseError::fail(e.to_string()))?);
            lines.push(b'\n');
        }
        let expected = Fleet::new(model.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for engine in [
            IndexedFleet::from_json(&array),
            IndexedFleet::from_json(&wrapped),
            IndexedFleet::from_json_lines(&lines),
        ] {
            let engine = engine.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(engine.to_fleet(), expected.clone());
            check(&engine, &model, &scope, &catalog)?;
        }
    }
}
