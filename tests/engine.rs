//! The indexed engine as an embedding tool uses it, checked against the
//! reference interpreter: the same hosts, in the same order, for random
//! expressions over random fleets, also after random upserts and removals.

use chrono::{DateTime, TimeZone, Utc};
use fleetscope::{reference, Catalog, Fleet, Host, IndexedFleet, Scope};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

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

#[path = "../fuzz/fuzz_targets/logic/vocab.rs"]
mod vocab;
use vocab::{NAMES, WORDS};

const PATHS: &[&str] = &[
    "name",
    "role",
    "tags.env",
    "tags.ring",
    "tags.\"app.kubernetes.io/name\"",
    "tags.missing",
    "facts.os",
    "facts.os.version",
    "facts.cpus",
    "facts.list",
    "facts.last_patched",
    "facts.nope.deep",
];
const LITERALS: &[&str] = &[
    "\"prod\"",
    "prod",
    "\"1\"",
    "1",
    "01",
    "2.5",
    "-3",
    "8",
    "true",
    "false",
    "version(\"22.04\")",
    "version(\"5.15.0-100\")",
    "2026-01-01",
    "2026-05-30T00:00:00Z",
    "now()",
    "now() - 30d",
    "\"true\"",
    "\"x y\"",
    "\"\"",
    "22.04",
];
const GLOBS: &[&str] = &["*", "h*", "?", "web-*", "2026-*", "*.04", "\\\\*", "*1", ""];
const REGEXES: &[&str] = &[
    ".*", "h[0-9]", "[0-9]+", "prod|dev", "(?i)PROD", "2026-.*", "",
];

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_string)
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        word().prop_map(Value::from),
        prop::sample::select(&[-3i64, 1, 8, 22][..]).prop_map(Value::from),
        Just(json!(2.5)),
        Just(json!(8.0)),
        Just(json!(u64::MAX)),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
    ]
}

fn fact_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar(),
        1 => prop::collection::vec(scalar(), 0..3).prop_map(Value::from),
        1 => prop::collection::vec(prop_oneof![scalar(), Just(json!({"x": 1}))], 0..3).prop_map(Value::from),
        1 => scalar().prop_map(|v| json!({"version": v})),
    ]
}

fn host() -> impl Strategy<Value = Host> {
    let tags = prop::collection::btree_map(
        prop::sample::select(&["env", "ring", "app.kubernetes.io/name"][..])
            .prop_map(str::to_string),
        word(),
        0..3,
    );
    let facts = prop::collection::btree_map(
        prop::sample::select(&["os", "cpus", "list", "last_patched"][..]).prop_map(str::to_string),
        fact_value(),
        0..4,
    );
    (
        prop::sample::select(NAMES),
        prop::collection::vec(
            prop::sample::select(&["web", "db", "api", "8", "true", "22.04"][..]),
            0..3,
        ),
        tags,
        facts,
    )
        .prop_map(|(name, roles, tags, facts)| Host {
            name: name.to_string(),
            roles: roles.into_iter().map(str::to_string).collect(),
            tags,
            facts: facts.into_iter().collect::<Map<String, Value>>(),
        })
}

fn leaf(refs: &'static [&'static str]) -> BoxedStrategy<String> {
    let path = || prop::sample::select(PATHS);
    let lit = || prop::sample::select(LITERALS);
    let op = prop::sample::select(&["=", "!=", "<", "<=", ">", ">="][..]);
    let mut options = vec![
        (path(), op, lit())
            .prop_map(|(p, o, l)| format!("{p} {o} {l}"))
            .boxed(),
        (path(), any::<bool>(), prop::collection::vec(lit(), 1..4))
            .prop_map(|(p, n, ls)| {
                format!("{p} {}in ({})", if n { "not " } else { "" }, ls.join(", "))
            })
            .boxed(),
        (path(), any::<bool>(), prop::sample::select(GLOBS))
            .prop_map(|(p, n, g)| format!("{p} {}like \"{g}\"", if n { "not " } else { "" }))
            .boxed(),
        (path(), any::<bool>(), prop::sample::select(REGEXES))
            .prop_map(|(p, n, r)| format!("{p} {}matches \"{r}\"", if n { "not " } else { "" }))
            .boxed(),
        path().prop_map(|p| format!("has({p})")).boxed(),
        prop::sample::select(&["true", "false", "all"][..])
            .prop_map(str::to_string)
            .boxed(),
    ];
    if !refs.is_empty() {
        options.push(
            prop::sample::select(refs)
                .prop_map(|r| format!("@{r}"))
                .boxed(),
        );
    }
    prop::strategy::Union::new(options).boxed()
}

fn expr(refs: &'static [&'static str]) -> impl Strategy<Value = String> {
    leaf(refs).prop_recursive(4, 16, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| format!("not ({e})")),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|es| format!("({})", es.join(" and "))),
            prop::collection::vec(inner, 2..4).prop_map(|es| format!("({})", es.join(" or "))),
        ]
    })
}

#[derive(Debug, Clone)]
enum Change {
    Upsert(Host),
    Remove(&'static str),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        host().prop_map(Change::Upsert),
        prop::sample::select(NAMES).prop_map(Change::Remove),
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
        // Expressions the language rejects (ordering with a boolean) are
        // not this test's business.
        let Ok(catalog) = Catalog::new([("a", a), ("b", b)]) else { return Ok(()) };
        let Ok(scope) = catalog.compile(&root) else { return Ok(()) };
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
