//! Inventories from other tools read as fleets: each example file maps to
//! hosts exactly as docs/fleet.md says, malformed variants name the record
//! and field, detection picks the right reader, `--fleet-format` overrides
//! it, the same fleet gives the same selections in every format, and the
//! indexed engine agrees with the reference interpreter on fleets loaded
//! from every format.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use fleetscope::detect_fleet_format as detect;
use fleetscope::testgen::{strategy, vocab};
use fleetscope::{reference, Fleet, FleetError, FleetFormat, Host, IndexedFleet, InventoryError};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

const ANSIBLE: &str = "examples/inventories/ansible/ansible.json";
const ANSIBLE_EXPORT: &str = "examples/inventories/ansible/ansible-export.json";
const EC2: &str = "examples/inventories/ec2/describe-instances.json";
const EC2_PAGES: &str = "examples/inventories/ec2/describe-instances-pages.json";
const PUPPETDB: &str = "examples/inventories/puppetdb/inventory.json";

fn path(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(relative)
        .display()
        .to_string()
}

fn read_json(relative: &str) -> Value {
    let text = std::fs::read_to_string(path(relative)).expect("fixture exists");
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn load(relative: &str) -> Fleet {
    Fleet::load(path(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn host<'a>(fleet: &'a Fleet, name: &str) -> &'a Host {
    fleet.get(name).unwrap_or_else(|| panic!("no host {name}"))
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn object(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

fn names(fleet: &Fleet) -> Vec<&str> {
    fleet.hosts().iter().map(|h| h.name.as_str()).collect()
}

fn error(bytes: &str, format: FleetFormat) -> String {
    match Fleet::from_json_with(bytes.as_bytes(), format) {
        Ok(fleet) => panic!("{bytes} loaded as {format}: {fleet:?}"),
        Err(e) => e.to_string(),
    }
}

fn assert_contains(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
}

// ------------------------------------------------------------------ ansible

#[test]
fn ansible_example_maps_field_by_field() {
    let fleet = load(ANSIBLE);
    let hostvars = read_json(ANSIBLE)["_meta"]["hostvars"].clone();
    // hostvars in document order, then the host only a group names.
    assert_eq!(
        names(&fleet),
        [
            "db-01.example.com",
            "web-01.example.com",
            "web-01.staging.example.com",
            "web-02.example.com",
            "bastion-01.example.com",
        ]
    );
    let db = host(&fleet, "db-01.example.com");
    assert_eq!(db.roles, ["db", "prod"]);
    assert_eq!(
        db.tags,
        tags(&[("env", "prod"), ("pci", "true"), ("ring", "2")])
    );
    assert_eq!(db.facts, object(&hostvars["db-01.example.com"]));
    assert_eq!(db.facts["backup"], json!(true));

    // canary sits under web under prod: all three, in document order.
    let web1 = host(&fleet, "web-01.example.com");
    assert_eq!(web1.roles, ["canary", "prod", "web"]);
    assert_eq!(
        web1.tags,
        tags(&[("env", "prod"), ("pci", "true"), ("ring", "2")])
    );
    assert_eq!(web1.facts, object(&hostvars["web-01.example.com"]));
    assert_eq!(web1.facts["ansible_host"], json!("10.0.1.11"));
    assert_eq!(web1.facts["http_port"], json!(443));

    // In two groups directly; `all` never a role.
    let staging = host(&fleet, "web-01.staging.example.com");
    assert_eq!(staging.roles, ["staging", "web_staging"]);
    assert_eq!(staging.tags, tags(&[("env", "staging"), ("ring", "1")]));

    // Host tags replace group tags (Ansible's merge); null and the list are
    // left out, the float and the boolean become text.
    let web2 = host(&fleet, "web-02.example.com");
    assert_eq!(web2.roles, ["prod", "web"]);
    assert_eq!(
        web2.tags,
        tags(&[
            ("cost", "12.5"),
            ("env", "prod"),
            ("pci", "false"),
            ("ring", "0")
        ])
    );
    assert_eq!(web2.facts, object(&hostvars["web-02.example.com"]));
    assert_eq!(web2.facts["tags"]["ports"], json!([80, 443]));

    // No vars at all, only in `ungrouped`.
    let bastion = host(&fleet, "bastion-01.example.com");
    assert!(bastion.roles.is_empty());
    assert!(bastion.tags.is_empty());
    assert!(bastion.facts.is_empty());
}

#[test]
fn ansible_scopes_see_groups_tags_and_vars() {
    let fleet = IndexedFleet::new(load(ANSIBLE));
    let select = |source: &str| -> Vec<String> {
        let scope = fleetscope::Scope::parse(source).expect("valid scope");
        fleet
            .select(&scope, vocab::now())
            .names(&fleet)
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        select("role = prod and tags.ring = \"0\""),
        ["web-02.example.com"]
    );
    assert_eq!(
        select("facts.tags.env = staging"),
        ["web-01.staging.example.com"]
    );
    assert_eq!(select("facts.ansible_host like \"10.0.*\"").len(), 2);
    assert_eq!(select("tags.pci = \"true\"").len(), 2);
    assert_eq!(
        select("not has(facts.ansible_user)"),
        ["bastion-01.example.com"]
    );
}

#[test]
fn ansible_export_output_is_refused_with_the_fix() {
    let err = Fleet::load(path(ANSIBLE_EXPORT)).expect_err("export refused");
    assert!(
        matches!(
            &err,
            FleetError::Inventory(InventoryError::AnsibleExport { group }) if group == "db"
        ),
        "{err:?}"
    );
    assert_contains(
        &err.to_string(),
        &[
            "group `db`",
            "--list --export",
            "ansible-inventory -i INVENTORY --list",
            "without `--export`",
        ],
    );
}

#[test]
fn ansible_malformed_variants_name_the_record_and_field() {
    let a = FleetFormat::Ansible;
    let text = error(r#"{"_meta": {"hostvars": {"a": {}, "b": []}}}"#, a);
    assert_contains(
        &text,
        &[
            "ansible inventory: host `b`, line 1, column",
            "expected a map",
        ],
    );

    let doc =
        "{\n  \"_meta\": {\"hostvars\": {}},\n  \"web\": {\n    \"hosts\": [\"a\", 7]\n  }\n}";
    let text = error(doc, a);
    assert_contains(
        &text,
        &[
            "group `web`, field `hosts[1]`, line 4, column 20",
            "invalid type: integer `7`, expected a non-empty host name",
        ],
    );

    let text = error(r#"{"_meta": {"hostvars": {}}, "web": ["a", "b"]}"#, a);
    assert_contains(&text, &["group `web`", "expected a group"]);

    let text = error(
        r#"{"_meta": {"hostvars": {}}, "web": {"children": "db"}}"#,
        a,
    );
    assert_contains(&text, &["group `web`, field `children`"]);

    let text = error(r#"{"_meta": {"hostvars": {}}, "web": {"hosts": [""]}}"#, a);
    assert_contains(
        &text,
        &["group `web`, field `hosts[0]`", "non-empty host name"],
    );

    let text = error(r#"{"_meta": {"hostvars": {"": {}}}}"#, a);
    assert_contains(&text, &["field `_meta.hostvars`", "host name is empty"]);

    let text = error(r#"{"_meta": {"profile": "x"}}"#, a);
    assert_contains(&text, &["field `_meta`", "missing field `hostvars`"]);

    let text = error(r#"{"_meta": 3}"#, a);
    assert_contains(
        &text,
        &["field `_meta`", "expected an object with `hostvars`"],
    );

    // Forced onto a document without `_meta`.
    let text = error(r#"{"all": {"hosts": ["a"]}}"#, a);
    assert_contains(&text, &["field `_meta`", "missing field `_meta`"]);

    let text = error(r#"{"_meta": {"hostvars": {"a": {}, "a": {}}}}"#, a);
    assert_contains(&text, &["host `a` appears twice"]);

    let text = error(r#"{"_meta": {"hostvars": {}}} {}"#, a);
    assert_contains(&text, &["line 1, column", "only one JSON document"]);

    let text = error(r#"{"_meta": {"hostvars": {}}, "all": {"hosts": ["a"]"#, a);
    assert_contains(&text, &["ansible inventory: ", "EOF"]);
}

#[test]
fn ansible_group_cycles_end_and_hold_every_group_once() {
    let doc = r#"{
        "_meta": {"hostvars": {"h": {"tags": ["not", "a", "map"]}}},
        "a": {"children": ["b"], "hosts": ["h"]},
        "b": {"children": ["c", "a", "undefined"]},
        "c": {"children": ["a", "c"], "hosts": ["h", "g"]},
        "all": {"children": ["a", "ungrouped"]},
        "ungrouped": {"hosts": ["u"]}
    }"#;
    let fleet = Fleet::from_json_with(doc.as_bytes(), FleetFormat::Ansible).expect("loads");
    assert_eq!(names(&fleet), ["h", "g", "u"]);
    let h = host(&fleet, "h");
    assert_eq!(h.roles, ["a", "b", "c"]);
    // `tags` that is not an object gives no tags but stays a fact.
    assert!(h.tags.is_empty());
    assert_eq!(h.facts["tags"], json!(["not", "a", "map"]));
    assert_eq!(host(&fleet, "g").roles, ["a", "b", "c"]);
    assert!(host(&fleet, "u").roles.is_empty());
}

#[test]
fn ansible_tag_scalars_become_text_as_json_writes_them() {
    let doc = r#"{"_meta": {"hostvars": {"h": {"tags": {
        "s": "x", "i": 7, "neg": -3, "f": 1.5, "e": 1e20, "t": true, "n": null, "a": [1], "o": {"k": 1}, "empty": ""
    }}}}}"#;
    let fleet = Fleet::from_json_with(doc.as_bytes(), FleetFormat::Ansible).expect("loads");
    assert_eq!(
        host(&fleet, "h").tags,
        tags(&[
            ("e", "1e+20"),
            ("empty", ""),
            ("f", "1.5"),
            ("i", "7"),
            ("neg", "-3"),
            ("s", "x"),
            ("t", "true"),
        ])
    );
}

// ---------------------------------------------------------------------- ec2

#[test]
fn ec2_example_maps_field_by_field() {
    let fleet = load(EC2);
    let doc = read_json(EC2);
    let instances: Vec<&Value> = doc["Reservations"]
        .as_array()
        .expect("reservations")
        .iter()
        .flat_map(|r| r["Instances"].as_array().expect("instances"))
        .collect();
    assert_eq!(fleet.len(), 5);
    for (host, instance) in fleet.hosts().iter().zip(&instances) {
        assert_eq!(host.name, instance["InstanceId"].as_str().expect("id"));
        assert!(host.roles.is_empty());
        assert_eq!(host.facts, object(instance));
    }
    // Every state is a host.
    let states: Vec<&str> = fleet
        .hosts()
        .iter()
        .map(|h| h.facts["State"]["Name"].as_str().expect("state"))
        .collect();
    assert_eq!(
        states,
        ["running", "stopped", "running", "pending", "terminated"]
    );
    assert_eq!(
        host(&fleet, "i-0a1b2c3d4e5f60001").tags,
        tags(&[
            ("Name", "web-01"),
            ("aws:autoscaling:groupName", "web-prod-asg"),
            ("env", "prod"),
            ("patch:ring", "0"),
            ("role", "web"),
        ])
    );
    assert_eq!(
        host(&fleet, "i-0a1b2c3d4e5f60003").tags,
        tags(&[
            ("Cost Center", "4711"),
            ("Name", "db-01"),
            ("env", "prod"),
            ("role", "db")
        ])
    );
    // No Tags key: no tags.
    let untagged = host(&fleet, "i-0a1b2c3d4e5f60004");
    assert!(untagged.tags.is_empty() && !untagged.facts.contains_key("Tags"));
    assert_eq!(
        untagged.facts["Placement"]["AvailabilityZone"],
        json!("eu-west-1c")
    );
}

#[test]
fn ec2_pages_give_the_same_fleet_as_one_document() {
    assert_eq!(load(EC2_PAGES), load(EC2));
}

#[test]
fn ec2_malformed_variants_name_the_instance_and_field() {
    let e = FleetFormat::Ec2;
    let doc = "{\"Reservations\": [{\"Instances\": [\n  {\"InstanceId\": \"i-1\"},\n  {\"State\": {\"Name\": \"running\"}}\n]}]}";
    let text = error(doc, e);
    assert_contains(
        &text,
        &[
            "ec2 inventory: instance Reservations[0].Instances[1], line 3, column",
            "missing field `InstanceId`",
        ],
    );

    let text = error(
        r#"{"Reservations": [{"Instances": []}, {"Instances": [{"InstanceId": 7}]}]}"#,
        e,
    );
    assert_contains(
        &text,
        &[
            "instance Reservations[1].Instances[0], field `InstanceId`",
            "expected a non-empty host name",
        ],
    );

    let text = error(
        r#"{"Reservations": [{"Instances": [{"InstanceId": "i-1", "Tags": [{"Key": "a", "Value": "b"}, {"Key": "c", "Value": 1}]}]}]}"#,
        e,
    );
    assert_contains(
        &text,
        &[
            "instance Reservations[0].Instances[0], field `Tags[1].Value`",
            "expected a string",
        ],
    );

    let text = error(
        r#"{"Reservations": [{"Instances": [{"InstanceId": "i-1", "Tags": [{"Value": "b"}]}]}]}"#,
        e,
    );
    assert_contains(&text, &["field `Tags[0]`", "missing field `Key`"]);

    let text = error(
        r#"{"Reservations": [{"Instances": [{"InstanceId": "i-1", "Tags": {"env": "prod"}}]}]}"#,
        e,
    );
    assert_contains(&text, &["field `Tags`", "expected a list of tags"]);

    let text = error(
        r#"{"Reservations": [{"Instances": [{"InstanceId": "i-1", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]}]}]}"#,
        e,
    );
    assert_contains(&text, &["field `Tags`", "tag key `a` appears twice"]);

    let text = error(
        r#"{"Reservations": [{"Instances": [{"InstanceId": ""}]}]}"#,
        e,
    );
    assert_contains(&text, &["field `InstanceId`", "non-empty host name"]);

    let text = error(r#"{"Reservations": [{"ReservationId": "r-1"}]}"#, e);
    assert_contains(
        &text,
        &["reservation Reservations[0]", "missing field `Instances`"],
    );

    let text = error(r#"[{"Reservations": []}, {"NextToken": "x"}]"#, e);
    assert_contains(
        &text,
        &[
            "ec2 inventory: page 1, line 1, column",
            "missing field `Reservations`",
        ],
    );

    let text = error(
        r#"[{"Reservations": []}, {"Reservations": [{"Instances": [{"InstanceId": "i-1", "Tags": 3}]}]}]"#,
        e,
    );
    assert_contains(
        &text,
        &["page 1, instance Reservations[0].Instances[0], field `Tags`"],
    );

    let text = error(
        r#"[{"Reservations": [{"Instances": [{"InstanceId": "i-1"}]}]}, {"Reservations": [{"Instances": [{"InstanceId": "i-2"}, {"InstanceId": "i-1"}]}]}]"#,
        e,
    );
    assert_eq!(
        text,
        "ec2 inventory: page 0, instance Reservations[0].Instances[0] and page 1, instance Reservations[0].Instances[1] are both named `i-1`; host names must be unique"
    );

    let text = error("42", e);
    assert_contains(&text, &["describe-instances"]);
}

// ----------------------------------------------------------------- puppetdb

#[test]
fn puppetdb_example_maps_field_by_field() {
    let fleet = load(PUPPETDB);
    let doc = read_json(PUPPETDB);
    let records = doc.as_array().expect("records");
    assert_eq!(fleet.len(), records.len());
    for (host, record) in fleet.hosts().iter().zip(records) {
        assert_eq!(host.name, record["certname"].as_str().expect("certname"));
        assert_eq!(host.facts, object(&record["facts"]));
    }
    let web1 = host(&fleet, "web01.prod.example.com");
    assert_eq!(web1.roles, ["web"]);
    assert_eq!(
        web1.tags,
        tags(&[
            ("1.3.6.1.4.1.34380.1.2.1", "ring-0"),
            ("environment", "production"),
            ("pp_datacenter", "eu-west"),
            ("pp_environment", "prod"),
            ("pp_role", "web"),
            ("pp_service", "shop"),
        ])
    );
    assert_eq!(web1.facts["os"]["release"]["full"], json!("22.04"));
    // The top-level environment wins over an extension of that name.
    let db = host(&fleet, "db01.prod.example.com");
    assert_eq!(db.roles, ["db"]);
    assert_eq!(
        db.tags,
        tags(&[
            ("environment", "production"),
            ("pp_datacenter", "eu-west"),
            ("pp_role", "db")
        ])
    );
    // No extensions: the environment only.
    let ci = host(&fleet, "ci-runner01.example.com");
    assert!(ci.roles.is_empty());
    assert_eq!(ci.tags, tags(&[("environment", "development")]));
    // No trusted data at all.
    let legacy = host(&fleet, "legacy01.example.com");
    assert!(legacy.roles.is_empty());
    assert_eq!(legacy.tags, tags(&[("environment", "production")]));
}

#[test]
fn puppetdb_optional_fields_and_role_lists() {
    let doc = r#"[
        {"certname": "a", "facts": {}, "environment": null, "trusted": {"extensions": {"pp_role": ["web", "api"], "n": 5, "b": false, "o": {}, "x": null}}},
        {"certname": "b", "facts": {"k": 1}, "environment": 3, "trusted": null},
        {"certname": "c", "facts": {}, "trusted": {"extensions": null}, "timestamp": "2026-11-20T10:00:00Z"}
    ]"#;
    let fleet = Fleet::from_json_with(doc.as_bytes(), FleetFormat::PuppetDb).expect("loads");
    let a = host(&fleet, "a");
    assert_eq!(a.roles, ["web", "api"]);
    assert_eq!(a.tags, tags(&[("b", "false"), ("n", "5")]));
    let b = host(&fleet, "b");
    assert!(b.roles.is_empty() && b.tags.is_empty());
    assert_eq!(b.facts["k"], json!(1));
    assert!(host(&fleet, "c").tags.is_empty());
}

#[test]
fn puppetdb_malformed_variants_name_the_record_and_field() {
    let p = FleetFormat::PuppetDb;
    let text = error(
        "[\n{\"certname\": \"a\", \"facts\": {}},\n{\"certname\": \"b\"}\n]",
        p,
    );
    assert_contains(
        &text,
        &[
            "puppetdb inventory: record 1, line 3, column",
            "missing field `facts`",
        ],
    );

    let text = error(r#"[{"facts": {}}]"#, p);
    assert_contains(&text, &["record 0", "missing field `certname`"]);

    let text = error(r#"[{"certname": 7, "facts": {}}]"#, p);
    assert_contains(
        &text,
        &[
            "record 0, field `certname`",
            "expected a non-empty host name",
        ],
    );

    let text = error(r#"[{"certname": "", "facts": {}}]"#, p);
    assert_contains(
        &text,
        &["record 0, field `certname`", "non-empty host name"],
    );

    let text = error(r#"[{"certname": "a", "facts": []}]"#, p);
    assert_contains(&text, &["record 0, field `facts`", "expected a map"]);

    let text = error(
        r#"[{"certname": "a", "facts": {}}, {"certname": "b", "facts": {}, "trusted": {"extensions": {"pp_role": 7}}}]"#,
        p,
    );
    assert_contains(
        &text,
        &[
            "record 1, field `trusted.extensions.pp_role`",
            "line 1, column 103: invalid type: integer `7`, expected a role name",
        ],
    );

    let text = error(
        r#"[{"certname": "a", "facts": {}, "trusted": {"extensions": {"pp_role": ["web", 1]}}}]"#,
        p,
    );
    assert_contains(
        &text,
        &["field `trusted.extensions.pp_role[1]`", "expected a string"],
    );

    let text = error(
        r#"[{"certname": "a", "facts": {}, "trusted": {"extensions": []}}]"#,
        p,
    );
    assert_contains(
        &text,
        &[
            "record 0, field `trusted.extensions`",
            "expected the certificate extensions",
        ],
    );

    let text = error(
        r#"[{"certname": "a", "facts": {}, "trusted": "remote"}]"#,
        p,
    );
    assert_contains(&text, &["record 0, field `trusted`"]);

    let text = error(
        r#"[{"certname": "a", "facts": {}}, {"certname": "b", "facts": {}}, {"certname": "a", "facts": {}}]"#,
        p,
    );
    assert_eq!(
        text,
        "puppetdb inventory: record 0 and record 2 are both named `a`; host names must be unique"
    );

    let text = error(r#"{"certname": "a", "facts": {}}"#, p);
    assert_contains(&text, &["/pdb/query/v4/inventory"]);
}

// -------------------------------------------------------------- detection

#[test]
fn detection_picks_each_example_format() {
    let cases = [
        ("examples/fleet.json", FleetFormat::Fleetscope),
        (ANSIBLE, FleetFormat::Ansible),
        (ANSIBLE_EXPORT, FleetFormat::Ansible),
        (EC2, FleetFormat::Ec2),
        (EC2_PAGES, FleetFormat::Ec2),
        (PUPPETDB, FleetFormat::PuppetDb),
        (
            "tests/fixtures/same-fleet/fleet.json",
            FleetFormat::Fleetscope,
        ),
    ];
    for (file, format) in cases {
        let bytes = std::fs::read(path(file)).expect("fixture");
        assert_eq!(detect(&bytes), format, "{file}");
    }
    // The wrapped fleetscope form is decided at its first key.
    assert_eq!(
        detect(br#"{"hosts": [{"name": "a"}]}"#),
        FleetFormat::Fleetscope
    );
    // Loading with the detected format is what `load` does.
    for (file, format) in [
        (ANSIBLE, FleetFormat::Ansible),
        (EC2, FleetFormat::Ec2),
        (PUPPETDB, FleetFormat::PuppetDb),
    ] {
        let forced = Fleet::load_with(path(file), format).expect("loads");
        assert_eq!(forced, load(file), "{file}");
    }
}

#[test]
fn format_names_round_trip_and_unknown_ones_are_refused() {
    for format in FleetFormat::ALL {
        assert_eq!(format.to_string().parse::<FleetFormat>(), Ok(format));
    }
    assert_eq!("PuppetDB".parse::<FleetFormat>(), Ok(FleetFormat::PuppetDb));
    let err = "chef".parse::<FleetFormat>().expect_err("unknown");
    assert_contains(
        &err.to_string(),
        &["`chef`", "fleetscope, ansible, ec2, puppetdb"],
    );
}

#[test]
fn fleetscope_files_load_as_before() {
    // JSON Lines by extension, with and without detection.
    let lines = path("tests/fixtures/same-fleet/fleet.jsonl");
    let json = path("tests/fixtures/same-fleet/fleet.json");
    let a = Fleet::load(&lines).expect("jsonl");
    assert_eq!(a, Fleet::load(&json).expect("json"));
    assert_eq!(
        a,
        Fleet::load_with(&lines, FleetFormat::Fleetscope).expect("jsonl")
    );
    // The fleetscope reader's own errors are unchanged.
    let err = Fleet::from_json(br#"[{"name": "a", "role": "web"}]"#).expect_err("typo");
    assert!(
        matches!(
            err,
            FleetError::Malformed {
                record: Some(0),
                ..
            }
        ),
        "{err:?}"
    );
    let err = Fleet::from_json_with(
        br#"[{"certname": "a", "facts": {}}]"#,
        FleetFormat::Fleetscope,
    )
    .expect_err("not a fleetscope host");
    assert_contains(&err.to_string(), &["record 0", "unknown field `certname`"]);
}

// ------------------------------------------------------ the same fleet

/// Expressions the five files of tests/fixtures/same-fleet must answer
/// alike; `None` for the format that cannot express roles (ec2).
const SAME_FLEET_QUERIES: [(&str, bool); 10] = [
    ("true", true),
    ("name like \"web-*\"", true),
    ("tags.env = prod", true),
    ("tags.env != prod", true),
    ("tags.ring = \"0\" or tags.ring = \"1\"", true),
    (
        "facts.os.family = ubuntu and facts.os.version >= version(\"24.04\")",
        true,
    ),
    ("facts.cpus >= 8", true),
    (
        "facts.last_patched < now() - 30d or not has(facts.last_patched)",
        true,
    ),
    ("role in (web, api) and tags.env = prod", false),
    ("not role = db", false),
];

#[test]
fn the_same_fleet_selects_alike_in_every_format() {
    let dir = "tests/fixtures/same-fleet";
    let baseline = IndexedFleet::new(load(&format!("{dir}/fleet.json")));
    let formats = [
        ("fleet.jsonl", FleetFormat::Fleetscope, true),
        ("ansible.json", FleetFormat::Ansible, true),
        ("ec2.json", FleetFormat::Ec2, false),
        ("puppetdb.json", FleetFormat::PuppetDb, true),
    ];
    let catalog = vocab::catalog().unwrap();
    let select = |fleet: &IndexedFleet, source: &str| -> Vec<String> {
        let scope = catalog.compile(source).expect("valid scope");
        let mut names: Vec<String> = fleet
            .select(&scope, vocab::now())
            .names(fleet)
            .map(str::to_string)
            .collect();
        names.sort();
        names
    };
    for (file, format, has_roles) in formats {
        let bytes = std::fs::read(path(&format!("{dir}/{file}"))).expect("fixture");
        if file != "fleet.jsonl" {
            assert_eq!(detect(&bytes), format, "{file}");
        }
        let fleet = IndexedFleet::new(load(&format!("{dir}/{file}")));
        assert_eq!(fleet.len(), baseline.len(), "{file}");
        for (source, needs_roles_or_any) in SAME_FLEET_QUERIES {
            if !needs_roles_or_any && !has_roles {
                continue;
            }
            let expected = select(&baseline, source);
            assert!(
                !expected.is_empty() || source == "false",
                "{source} selects nothing"
            );
            assert_eq!(select(&fleet, source), expected, "{file}: {source}");
        }
    }
    // The JSON Lines and ansible forms are the very same hosts (the
    // fleetscope files were written as the ansible mapping's image).
    let ansible = load(&format!("{dir}/ansible.json"));
    for h in load(&format!("{dir}/fleet.json")).hosts() {
        assert_eq!(Some(h), ansible.get(&h.name), "{}", h.name);
    }
}

// ----------------------------------------------------- engine = reference

fn engine_agrees(
    fleet: &Fleet,
    indexed: &IndexedFleet,
    expr: &fleetscope::syntax::Expr,
) -> Result<(), TestCaseError> {
    let source = expr.to_string();
    let scope = vocab::catalog()
        .unwrap()
        .compile(&source)
        .unwrap_or_else(|e| panic!("{source}: {e}"));
    let now = vocab::now();
    let expected = reference::select(&scope, fleet, now);
    let got: Vec<usize> = indexed
        .select(&scope, now)
        .iter()
        .map(|id| id.index())
        .collect();
    prop_assert_eq!(got, expected, "{}", expr);
    Ok(())
}

/// A generated fleet written in each inventory format, with the hosts the
/// mapping must give back.
fn as_ansible(fleet: &Fleet) -> (String, Vec<Host>) {
    let mut hostvars = Vec::new();
    let mut expected = Vec::new();
    for h in fleet.hosts() {
        let mut vars = h.facts.clone();
        if !h.tags.is_empty() {
            vars.insert("tags".into(), json!(h.tags));
        }
        hostvars.push(format!(
            "{}: {}",
            json!(h.name),
            Value::Object(vars.clone())
        ));
        expected.push(Host {
            name: h.name.clone(),
            roles: vocab::ROLES
                .iter()
                .filter(|r| h.roles.iter().any(|x| x == *r))
                .map(|r| r.to_string())
                .collect(),
            tags: h.tags.clone(),
            facts: vars,
        });
    }
    let mut groups = Vec::new();
    for role in vocab::ROLES {
        let members: Vec<&str> = fleet
            .hosts()
            .iter()
            .filter(|h| h.roles.iter().any(|r| r == role))
            .map(|h| h.name.as_str())
            .collect();
        groups.push(format!("{}: {}", json!(role), json!({"hosts": members})));
    }
    groups.push(format!("\"all\": {}", json!({"children": vocab::ROLES})));
    let text = format!(
        "{{\"_meta\": {{\"hostvars\": {{{}}}, \"profile\": \"inventory_legacy\"}}, {}}}",
        hostvars.join(", "),
        groups.join(", ")
    );
    (text, expected)
}

fn as_ec2(fleet: &Fleet, paged: bool) -> (String, Vec<Host>) {
    let mut expected = Vec::new();
    let mut instances = Vec::new();
    for h in fleet.hosts() {
        let mut object = h.facts.clone();
        object.insert("InstanceId".into(), json!(h.name));
        if !h.tags.is_empty() {
            let list: Vec<Value> = h
                .tags
                .iter()
                .map(|(k, v)| json!({"Key": k, "Value": v}))
                .collect();
            object.insert("Tags".into(), Value::Array(list));
        }
        instances.push(Value::Object(object.clone()));
        expected.push(Host {
            name: h.name.clone(),
            roles: Vec::new(),
            tags: h.tags.clone(),
            facts: object,
        });
    }
    let half = instances.len() / 2;
    let (first, second) = instances.split_at(half);
    let reservations = json!([{"ReservationId": "r-1", "Instances": first}, {"ReservationId": "r-2", "Instances": second}]);
    let text = if paged {
        json!([{"Reservations": reservations, "NextToken": "t"}, {"Reservations": []}]).to_string()
    } else {
        json!({"Reservations": reservations}).to_string()
    };
    (text, expected)
}

fn as_puppetdb(fleet: &Fleet) -> (String, Vec<Host>) {
    let mut expected = Vec::new();
    let mut records = Vec::new();
    for h in fleet.hosts() {
        let mut extensions: Map<String, Value> =
            h.tags.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        let mut tags = h.tags.clone();
        match h.roles.as_slice() {
            [] => {}
            [one] => {
                extensions.insert("pp_role".into(), json!(one));
                tags.insert("pp_role".into(), one.clone());
            }
            many => {
                extensions.insert("pp_role".into(), json!(many));
            }
        }
        records.push(
            json!({"certname": h.name, "facts": h.facts, "trusted": {"extensions": extensions}}),
        );
        expected.push(Host {
            name: h.name.clone(),
            roles: h.roles.clone(),
            tags,
            facts: h.facts.clone(),
        });
    }
    (Value::Array(records).to_string(), expected)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A generated fleet written as each inventory format is detected, loads
    /// to exactly the hosts the mapping gives, and the indexed engine agrees
    /// with the reference interpreter on it.
    #[test]
    fn generated_fleets_round_trip_through_every_format(
        fleet in strategy::fleet(8),
        exprs in prop::collection::vec(strategy::eval_expr(), 1..6),
        paged in any::<bool>(),
    ) {
        let renderings = [
            (FleetFormat::Ansible, as_ansible(&fleet)),
            (FleetFormat::Ec2, as_ec2(&fleet, paged)),
            (FleetFormat::PuppetDb, as_puppetdb(&fleet)),
        ];
        for (format, (text, expected)) in renderings {
            if !fleet.is_empty() {
                prop_assert_eq!(detect(text.as_bytes()), format, "{}", text);
            }
            let loaded = Fleet::from_json_with(text.as_bytes(), format)
                .map_err(|e| TestCaseError::fail(format!("{format}: {e}\n{text}")))?;
            prop_assert_eq!(loaded.hosts(), expected.as_slice(), "{}", format);
            let indexed = IndexedFleet::new(loaded.clone());
            for expr in &exprs {
                engine_agrees(&loaded, &indexed, expr)?;
            }
        }
    }

    /// The example inventories, queried with generated expressions: the
    /// indexed engine and the reference interpreter select the same hosts.
    #[test]
    fn engine_agrees_with_the_reference_on_every_example(
        exprs in prop::collection::vec(strategy::eval_expr(), 1..8),
    ) {
        for file in [ANSIBLE, EC2, PUPPETDB, "tests/fixtures/same-fleet/ansible.json", "tests/fixtures/same-fleet/ec2.json", "tests/fixtures/same-fleet/puppetdb.json"] {
            let fleet = load(file);
            let indexed = IndexedFleet::new(fleet.clone());
            for expr in &exprs {
                engine_agrees(&fleet, &indexed, expr)?;
            }
        }
    }
}

// -------------------------------------------------------------- the CLI

const BIN: &str = env!("CARGO_BIN_EXE_fleetscope");

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run fleetscope");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_detects_the_format_and_fleet_format_overrides_it() {
    let ansible = path(ANSIBLE);
    let (ok, out, err) = cli(&["eval", "--fleet", &ansible, "role = canary"]);
    assert!(ok, "{err}");
    assert_eq!(out, "web-01.example.com\n");
    let (ok, out, _) = cli(&[
        "eval",
        "--fleet",
        &ansible,
        "--fleet-format",
        "ansible",
        "role = canary",
    ]);
    assert!(ok);
    assert_eq!(out, "web-01.example.com\n");

    // Forced onto the wrong reader: that reader's error, exit 2.
    let puppetdb = path(PUPPETDB);
    let out = Command::new(BIN)
        .args([
            "eval",
            "--fleet",
            &puppetdb,
            "--fleet-format",
            "fleetscope",
            "true",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert_contains(
        &String::from_utf8_lossy(&out.stderr),
        &["record 0", "unknown field `certname`"],
    );
    let (ok, _, err) = cli(&[
        "explain",
        "--fleet",
        &puppetdb,
        "--fleet-format",
        "ec2",
        "--host",
        "x",
        "true",
    ]);
    assert!(!ok);
    assert_contains(
        &err,
        &["ec2 inventory: page 0", "missing field `Reservations`"],
    );

    let (ok, _, err) = cli(&[
        "eval",
        "--fleet",
        &puppetdb,
        "--fleet-format",
        "chef",
        "true",
    ]);
    assert!(!ok);
    assert_contains(&err, &["chef", "fleetscope, ansible, ec2, puppetdb"]);

    let export = path(ANSIBLE_EXPORT);
    let (ok, _, err) = cli(&["eval", "--fleet", &export, "true"]);
    assert!(!ok);
    assert_contains(&err, &["--list --export", "without `--export`"]);
}

#[test]
fn cli_validate_plan_and_rollout_take_fleet_format() {
    let policy = path("examples/policy.toml");
    let ec2 = path(EC2);
    let (ok, out, err) = cli(&[
        "validate",
        &policy,
        "--fleet",
        &ec2,
        "--fleet-format",
        "ec2",
        "--now",
        "2026-11-21T00:00:00Z",
    ]);
    assert!(ok, "{err}");
    assert_contains(&out, &["(5 hosts)"]);
    let (ok, _, err) = cli(&[
        "validate",
        &policy,
        "--fleet",
        &ec2,
        "--fleet-format",
        "puppetdb",
    ]);
    assert!(!ok);
    assert_contains(&err, &["puppetdb inventory"]);

    let puppetdb = path(PUPPETDB);
    let (ok, out, err) = cli(&[
        "plan",
        &policy,
        "--fleet",
        &puppetdb,
        "--fleet-format",
        "puppetdb",
        "--start",
        "2026-11-23T08:00:00Z",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let plan: Value = serde_json::from_str(&out).expect("plan json");
    assert!(plan.get("tiers").is_some(), "{out}");
    let (ok, _, err) = cli(&[
        "plan",
        &policy,
        "--fleet",
        &puppetdb,
        "--fleet-format",
        "ansible",
        "--start",
        "2026-11-23T08:00:00Z",
    ]);
    assert!(!ok);
    assert_contains(&err, &["ansible inventory"]);

    let dir = std::env::temp_dir().join(format!("fleetscope-inventory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let state = dir.join("rollout.json").display().to_string();
    let ansible = path(ANSIBLE);
    let (ok, _, err) = cli(&[
        "rollout",
        "start",
        &policy,
        "--fleet",
        &ansible,
        "--fleet-format",
        "ec2",
        "--start",
        "2026-11-23T08:00:00Z",
        "--state",
        &state,
    ]);
    assert!(!ok);
    assert_contains(&err, &["ec2 inventory"]);
    let (ok, _, err) = cli(&[
        "rollout",
        "start",
        &policy,
        "--fleet",
        &ansible,
        "--fleet-format",
        "ansible",
        "--start",
        "2026-11-23T08:00:00Z",
        "--state",
        &state,
    ]);
    assert!(ok, "{err}");
    assert!(Path::new(&state).exists());
    let _ = std::fs::remove_dir_all(&dir);
}
