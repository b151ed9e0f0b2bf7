//! The scope language as a policy author and an embedding tool meet it:
//! every row of every table in LANGUAGE.md and every example at its end,
//! each against a small hand-built fleet, asserting exactly which hosts are
//! selected.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use chrono::{DateTime, TimeZone, Utc};
use fleetscope::{reference, Catalog, Fleet, Host, Scope};

/// The instant `now()` stands for, unless a test says otherwise.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("valid instant")
}

fn fleet(json: &str) -> Fleet {
    Fleet::from_json(json.as_bytes()).unwrap_or_else(|e| panic!("test fleet: {e}"))
}

/// The names of the hosts `source` selects at `now`, in fleet order.
fn selected_by(scope: &Scope, fleet: &Fleet, now: DateTime<Utc>) -> Vec<String> {
    reference::select(scope, fleet, now)
        .into_iter()
        .map(|i| fleet.hosts()[i].name.clone())
        .collect()
}

#[track_caller]
fn assert_selects_in(catalog: &Catalog, fleet: &Fleet, source: &str, expected: &[&str]) {
    let scope = catalog
        .compile(source)
        .unwrap_or_else(|e| panic!("{source:?} does not compile:\n{}", e.render(source, "expr")));
    let got = selected_by(&scope, fleet, now());
    assert_eq!(got, expected, "{source}");
    // `matches` agrees host by host.
    for host in fleet.hosts() {
        assert_eq!(
            reference::matches(&scope, host, now()),
            expected.contains(&host.name.as_str()),
            "{source} on {}",
            host.name
        );
    }
}

#[track_caller]
fn assert_selects(fleet: &Fleet, source: &str, expected: &[&str]) {
    assert_selects_in(&Catalog::default(), fleet, source, expected);
}

/// A small production fleet. `cache-12` is the untagged production server:
/// it has no `env` tag.
fn servers() -> Fleet {
    fleet(
        r#"[
  {"name": "web-01", "roles": ["web", "api"],
   "tags": {"env": "prod", "ring": "1", "region": "eu-west-1"},
   "facts": {"os": {"family": "ubuntu", "version": "22.04"}, "cpus": 8, "kernel": "5.15.0-91",
             "last_patched": "2026-09-15", "pkgs": ["nginx", "openssl"], "secure_boot": true}},
  {"name": "web-02", "roles": ["web"],
   "tags": {"env": "staging", "ring": "2", "region": "us-east-1"},
   "facts": {"os": {"family": "ubuntu", "version": "22.10"}, "cpus": "16", "kernel": "5.15.0-100",
             "last_patched": "2026-10-20T08:00:00Z", "pkgs": ["nginx"], "secure_boot": "true"}},
  {"name": "db-01", "roles": ["db"],
   "tags": {"env": "prod", "ring": "1", "region": "us-east-1", "pci": "yes"},
   "facts": {"os": {"family": "rhel", "version": "9.2"}, "cpus": 32,
             "last_patched": "2026-06-01", "pkgs": [], "secure_boot": false}},
  {"name": "cache-12", "roles": ["cache"], "tags": {"ring": "0"},
   "facts": {"os": {"family": "ubuntu", "version": "20.04"}, "cpus": 4}},
  {"name": "legacy"}
]"#,
    )
}

// ------------------------------------------------------------ host model

#[test]
fn host_json_example_from_the_spec_loads_and_is_queryable() {
    let f = fleet(
        r#"[{"name": "web-01", "roles": ["web"], "tags": {"env": "prod"}, "facts": {"os": {"family": "ubuntu", "version": "22.04"}, "cpus": 8}}]"#,
    );
    assert_selects(
        &f,
        "name = web-01 and role = web and tags.env = prod and facts.os.family = ubuntu \
         and facts.os.version = \"22.04\" and facts.cpus = 8",
        &["web-01"],
    );
}

#[test]
fn roles_tags_and_facts_default_to_empty() {
    let f = fleet(r#"[{"name": "bare"}]"#);
    let host = &f.hosts()[0];
    assert_eq!(host, &Host::named("bare"));
    assert_selects(&f, "has(role) or has(tags.env) or has(facts.os)", &[]);
    // Empty paths fail closed under every negated operator ...
    assert_selects(
        &f,
        "role != web or role not in (web) or role not like \"*\" or role not matches \".*\"",
        &[],
    );
    // ... and `not (...)` is the plain complement.
    assert_selects(&f, "not (role = web)", &["bare"]);
}

#[test]
fn tag_keys_may_hold_dots_slashes_colons_dashes_and_spaces() {
    let f = fleet(
        r#"[{"name": "a", "tags": {"app.kubernetes.io/name": "shop", "Cost Center": "42",
                                  "aws:cloudformation:stack-name": "core", "team-owner": "pay", "x_y": "1"}},
            {"name": "b", "tags": {"app": "shop"}}]"#,
    );
    assert_selects(&f, r#"tags."app.kubernetes.io/name" = shop"#, &["a"]);
    assert_selects(&f, "tags.'Cost Center' = \"42\"", &["a"]);
    assert_selects(&f, "tags.\"aws:cloudformation:stack-name\" = core", &["a"]);
    // Identifiers may hold `-` and `_` unquoted.
    assert_selects(&f, "tags.team-owner = pay and tags.x_y = \"1\"", &["a"]);
    // `tags.app` is the tag "app", not the prefix of "app.kubernetes.io/name".
    assert_selects(&f, "tags.app = shop", &["b"]);
}

#[test]
fn tag_and_fact_keys_are_case_sensitive() {
    let f = fleet(r#"[{"name": "a", "tags": {"Env": "prod"}, "facts": {"OS": "linux"}}]"#);
    assert_selects(&f, "has(tags.env) or has(facts.os)", &[]);
    assert_selects(&f, "tags.Env = prod and facts.OS = linux", &["a"]);
}

// ------------------------------------------------------------------ paths

#[test]
fn name_path_is_the_hosts_name() {
    assert_selects(&servers(), "name = db-01", &["db-01"]);
    assert_selects(
        &servers(),
        "has(name)",
        &["web-01", "web-02", "db-01", "cache-12", "legacy"],
    );
}

#[test]
fn role_path_is_existential_over_the_roles() {
    let f = servers();
    assert_selects(&f, "role = api", &["web-01"]);
    assert_selects(&f, "role = web", &["web-01", "web-02"]);
    // Each predicate finds its own role.
    assert_selects(&f, "role = web and role = api", &["web-01"]);
    assert_selects(&f, "has(role)", &["web-01", "web-02", "db-01", "cache-12"]);
}

#[test]
fn tags_path_has_no_value_when_the_key_is_absent() {
    let f = servers();
    assert_selects(&f, "has(tags.env)", &["web-01", "web-02", "db-01"]);
    assert_selects(&f, "has(tags.pci)", &["db-01"]);
    assert_selects(&f, "not has(tags.env)", &["cache-12", "legacy"]);
}

#[test]
fn fact_paths_give_scalars_and_array_elements_but_not_objects_or_null() {
    let f = fleet(
        r#"[
  {"name": "scalar", "facts": {"v": "x", "os": {"family": "ubuntu"}}},
  {"name": "array", "facts": {"v": ["y", "x", 3, true, 2.5, null, {"k": "x"}, ["x"]]}},
  {"name": "object", "facts": {"v": {"x": "x"}}},
  {"name": "null", "facts": {"v": null}},
  {"name": "empty-array", "facts": {"v": []}},
  {"name": "absent", "facts": {"w": "x"}}
]"#,
    );
    assert_selects(&f, "has(facts.v)", &["scalar", "array"]);
    assert_selects(&f, "facts.v = x", &["scalar", "array"]);
    // The array gives its scalar elements: "y", "x", 3, true, 2.5.
    assert_selects(
        &f,
        "facts.v = 3 and facts.v = true and facts.v = 2.5",
        &["array"],
    );
    // Objects and nested arrays inside an array are not values.
    assert_selects(&f, "facts.v.k = x", &[]);
    // Nested objects are followed key by key.
    assert_selects(&f, "facts.os.family = ubuntu", &["scalar"]);
    assert_selects(&f, "has(facts.os)", &[]);
    // A path past a scalar has no value.
    assert_selects(&f, "has(facts.v.x)", &["object"]);
    assert_selects(&f, "has(facts.os.family.x)", &[]);
}

#[test]
fn fact_paths_do_not_go_through_arrays() {
    let f = fleet(r#"[{"name": "a", "facts": {"nics": [{"name": "eth0"}, {"name": "eth1"}]}}]"#);
    assert_selects(&f, "has(facts.nics) or has(facts.nics.name)", &[]);
}

#[test]
fn keys_are_identifiers_or_quoted_strings() {
    let f = fleet(
        r#"[{"name": "a", "facts": {"a.b": {"c d": "1"}, "net": {"eth-0": {"ip_v4": "10.0.0.1"}}}}]"#,
    );
    assert_selects(&f, r#"facts."a.b".'c d' = "1""#, &["a"]);
    assert_selects(&f, "facts.net.eth-0.ip_v4 = \"10.0.0.1\"", &["a"]);
    // Quoting an identifier changes nothing.
    assert_selects(&f, r#"facts."net"."eth-0"."ip_v4" = "10.0.0.1""#, &["a"]);
    // `facts.a.b` is two keys, not the key "a.b".
    assert_selects(&f, "has(facts.a.b)", &[]);
}

// ------------------------------------------------------------- predicates

#[test]
fn fail_closed_negation_keeps_the_untagged_production_server_out() {
    let f = servers();
    // cache-12 has no env tag: neither form selects it.
    assert_selects(&f, "tags.env = prod", &["web-01", "db-01"]);
    assert_selects(&f, "tags.env != prod", &["web-02"]);
    // The plain complement does.
    assert_selects(
        &f,
        "not (tags.env = prod)",
        &["web-02", "cache-12", "legacy"],
    );
    assert_selects(&f, "not tags.env = prod", &["web-02", "cache-12", "legacy"]);
    // `P != L` is exactly `has(P) and not (P = L)`.
    assert_selects(&f, "has(tags.env) and not (tags.env = prod)", &["web-02"]);
}

#[test]
fn equality_holds_when_some_value_equals() {
    assert_selects(&servers(), "tags.region = us-east-1", &["web-02", "db-01"]);
    assert_selects(&servers(), "facts.pkgs = openssl", &["web-01"]);
}

#[test]
fn not_equal_needs_a_value_and_no_value_equal() {
    let f = servers();
    // web-01 holds web and api: some role equals web, so `!=` fails.
    assert_selects(&f, "role != web", &["db-01", "cache-12"]);
    assert_selects(&f, "role != api", &["web-02", "db-01", "cache-12"]);
    assert_selects(&f, "facts.pkgs != openssl", &["web-02"]);
    assert_selects(&f, "facts.pkgs != curl", &["web-01", "web-02"]);
}

#[test]
fn ordering_holds_when_some_value_compares_so() {
    let f = servers();
    // cpus: 8, "16", 32, 4 (and none on legacy).
    assert_selects(&f, "facts.cpus < 8", &["cache-12"]);
    assert_selects(&f, "facts.cpus <= 8", &["web-01", "cache-12"]);
    assert_selects(&f, "facts.cpus > 8", &["web-02", "db-01"]);
    assert_selects(&f, "facts.cpus >= 8", &["web-01", "web-02", "db-01"]);
    // Existential: one role orders after "b" is enough.
    assert_selects(&f, "role > b", &["web-01", "web-02", "db-01", "cache-12"]);
    assert_selects(&f, "role < b", &["web-01"]);
}

#[test]
fn in_holds_when_some_value_equals_some_literal() {
    let f = servers();
    assert_selects(&f, "role in (db, cache)", &["db-01", "cache-12"]);
    assert_selects(&f, "role in (api)", &["web-01"]);
    // A trailing comma is allowed, also after a single value.
    assert_selects(&f, "role in (db, cache,)", &["db-01", "cache-12"]);
    assert_selects(&f, "role in (db,)", &["db-01"]);
    // Literals of different kinds may be mixed.
    assert_selects(
        &f,
        "facts.cpus in (4, \"32\", version(\"16\"))",
        &["web-02", "db-01", "cache-12"],
    );
}

#[test]
fn not_in_needs_a_value_and_no_value_in_the_list() {
    let f = servers();
    assert_selects(&f, "role not in (web, cache)", &["db-01"]);
    assert_selects(&f, "tags.env not in (staging)", &["web-01", "db-01"]);
    assert_selects(&f, "tags.env not in (staging,)", &["web-01", "db-01"]);
}

#[test]
fn like_matches_a_glob_against_the_whole_text() {
    let f = fleet(
        r#"[{"name": "db-01"}, {"name": "db-"}, {"name": "xdb-01"}, {"name": "db-1"},
            {"name": "a*b"}, {"name": "a?b"}, {"name": "a\\b"}, {"name": "aXb"}]"#,
    );
    assert_selects(&f, r#"name like "db-*""#, &["db-01", "db-", "db-1"]);
    // `*` also matches the empty run.
    assert_selects(&f, r#"name like "db-*1""#, &["db-01", "db-1"]);
    // `?` is exactly one character.
    assert_selects(&f, r#"name like "db-??""#, &["db-01"]);
    assert_selects(&f, r#"name like "db-?""#, &["db-1"]);
    // Whole text: no implicit wildcards at either end.
    assert_selects(&f, r#"name like "db""#, &[]);
    // `\` escapes the next character; in a string it is written `\\`.
    assert_selects(&f, r#"name like "a\\*b""#, &["a*b"]);
    assert_selects(&f, r#"name like "a\\?b""#, &["a?b"]);
    assert_selects(&f, r#"name like "a\\\\b""#, &["a\\b"]);
    assert_selects(&f, r#"name like "a?b""#, &["a*b", "a?b", "a\\b", "aXb"]);
    // Case-sensitive.
    assert_selects(&f, r#"name like "DB-*""#, &[]);
}

#[test]
fn not_like_needs_a_value_and_no_value_matching() {
    let f = servers();
    assert_selects(&f, r#"role not like "w*""#, &["db-01", "cache-12"]);
    assert_selects(&f, r#"tags.env not like "p*""#, &["web-02"]);
}

#[test]
fn matches_is_anchored_to_the_whole_text() {
    let f = fleet(
        r#"[{"name": "cache-12"}, {"name": "cache-x"}, {"name": "my-cache-1"}, {"name": "eu-west-1"}]"#,
    );
    assert_selects(&f, r#"name matches "cache-[0-9]+""#, &["cache-12"]);
    // As if wrapped in ^(?: ... )$: an alternation cannot escape the anchors.
    assert_selects(&f, r#"name matches "cache-12|my""#, &["cache-12"]);
    assert_selects(&f, r#"name matches "west""#, &[]);
    assert_selects(&f, r#"name matches ".*west.*""#, &["eu-west-1"]);
    // `\d` reaches the regex as `\\d` in the string.
    assert_selects(&f, r#"name matches "cache-\\d+""#, &["cache-12"]);
    // The regex crate's syntax, flags included.
    assert_selects(&f, r#"name matches "(?i)CACHE-X""#, &["cache-x"]);
}

#[test]
fn not_matches_needs_a_value_and_no_value_matching() {
    let f = servers();
    assert_selects(&f, r#"tags.region not matches ".*east.*""#, &["web-01"]);
    assert_selects(&f, r#"role not matches "web|api""#, &["db-01", "cache-12"]);
}

#[test]
fn has_holds_when_the_path_has_a_value() {
    let f = servers();
    assert_selects(
        &f,
        "has(facts.last_patched)",
        &["web-01", "web-02", "db-01"],
    );
    // An empty array has no value.
    assert_selects(&f, "has(facts.pkgs)", &["web-01", "web-02"]);
}

#[test]
fn named_scopes_are_membership_through_a_catalog() {
    let catalog = Catalog::new([
        ("web", "role = web"),
        ("prod", "tags.env = prod"),
        ("prod-web", "@web and @prod"),
    ])
    .expect("valid catalog");
    let f = servers();
    assert_selects_in(&catalog, &f, "@web", &["web-01", "web-02"]);
    assert_selects_in(&catalog, &f, "@prod-web", &["web-01"]);
    assert_selects_in(&catalog, &f, "not @prod", &["web-02", "cache-12", "legacy"]);
    assert_selects_in(
        &catalog,
        &f,
        "@web or role = db",
        &["web-01", "web-02", "db-01"],
    );
    // A named scope is also available as a Scope of its own.
    let scope = catalog.get("prod-web").expect("defined");
    assert_eq!(scope.name(), Some("prod-web"));
    assert_eq!(selected_by(&scope, &f, now()), ["web-01"]);
}

#[test]
fn true_and_all_select_every_host_false_none() {
    let f = servers();
    let every = ["web-01", "web-02", "db-01", "cache-12", "legacy"];
    assert_selects(&f, "true", &every);
    assert_selects(&f, "all", &every);
    assert_selects(&f, "false", &[]);
    assert_selects(&f, "not false and all", &every);
    assert_selects(&f, "not all", &[]);
}

// ------------------------------------------------------ boolean operators

#[test]
fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
    let f = servers();
    // role = db or (role = web and tags.env = staging)
    assert_selects(
        &f,
        "role = db or role = web and tags.env = staging",
        &["web-02", "db-01"],
    );
    assert_selects(
        &f,
        "(role = db or role = web) and tags.env = staging",
        &["web-02"],
    );
    // (not role = web) and has(tags.env)
    assert_selects(&f, "not role = web and has(tags.env)", &["db-01"]);
    assert_selects(
        &f,
        "not (role = web and has(tags.env))",
        &["db-01", "cache-12", "legacy"],
    );
    assert_selects(&f, "not not role = web", &["web-01", "web-02"]);
}

#[test]
fn keywords_are_case_insensitive() {
    let f = servers();
    assert_selects(&f, "role = web AND tags.env = prod", &["web-01"]);
    assert_selects(&f, "role = db Or NOT has(role)", &["db-01", "legacy"]);
    assert_selects(&f, "role NOT IN (web, cache) and role Not In (db,)", &[]);
    assert_selects(
        &f,
        r#"name LIKE "db-*" OR name MATCHES "cache-.*""#,
        &["db-01", "cache-12"],
    );
    assert_selects(&f, "HAS(tags.pci) or FALSE", &["db-01"]);
    assert_selects(
        &f,
        "TRUE and ALL and not False",
        &["web-01", "web-02", "db-01", "cache-12", "legacy"],
    );
    assert_selects(&f, "facts.secure_boot = TRUE", &["web-01", "web-02"]);
    assert_selects(&f, r#"facts.kernel < VERSION("5.15.0-92")"#, &["web-01"]);
    assert_selects(&f, "facts.last_patched < NOW() - 30d", &["web-01", "db-01"]);
}

#[test]
fn comments_and_newlines_separate_tokens() {
    let f = servers();
    let source = "# web servers in production\n\
                  role = web   # the role\n\
                  and\n\
                  \ttags.env = prod # and the env\r\n\
                  # trailing comment";
    assert_selects(&f, source, &["web-01"]);
    // `#` inside a string is text, not a comment.
    let g = fleet(r##"[{"name": "a", "tags": {"t": "x # y"}}]"##);
    assert_selects(&g, "tags.t = \"x # y\"", &["a"]);
    // Tokens need no space around operators and punctuation.
    assert_selects(&f, "role=web and(tags.env!=prod)", &["web-02"]);
}

// -------------------------------------------------- literals and comparison

#[test]
fn strings_compare_exactly_by_text() {
    let f = fleet(
        r#"[{"name": "a", "tags": {"env": "prod"}}, {"name": "b", "tags": {"env": "Prod"}},
            {"name": "c", "tags": {"env": "eu west"}}, {"name": "d", "tags": {"env": " prod"}}]"#,
    );
    assert_selects(&f, r#"tags.env = "prod""#, &["a"]);
    assert_selects(&f, "tags.env = 'prod'", &["a"]);
    assert_selects(&f, "tags.env = Prod", &["b"]);
    assert_selects(&f, "tags.env = 'eu west'", &["c"]);
    assert_selects(&f, "tags.env = \" prod\"", &["d"]);
}

#[test]
fn string_escapes() {
    let f = fleet(
        r#"[{"name": "dq", "tags": {"t": "say \"hi\""}}, {"name": "sq", "tags": {"t": "it's"}},
            {"name": "bs", "tags": {"t": "C:\\temp"}}, {"name": "nl", "tags": {"t": "a\nb"}},
            {"name": "tab", "tags": {"t": "a\tb"}}, {"name": "cr", "tags": {"t": "a\rb"}},
            {"name": "emoji", "tags": {"t": "😀"}}, {"name": "e", "tags": {"t": "é"}}]"#,
    );
    assert_selects(&f, r#"tags.t = "say \"hi\"""#, &["dq"]);
    assert_selects(&f, r#"tags.t = 'say "hi"'"#, &["dq"]);
    assert_selects(&f, r#"tags.t = 'it\'s'"#, &["sq"]);
    assert_selects(&f, r#"tags.t = "it\'s""#, &["sq"]);
    assert_selects(&f, r#"tags.t = "C:\\temp""#, &["bs"]);
    assert_selects(&f, r#"tags.t = "a\nb""#, &["nl"]);
    assert_selects(&f, r#"tags.t = "a\tb""#, &["tab"]);
    assert_selects(&f, r#"tags.t = "a\rb""#, &["cr"]);
    assert_selects(&f, r#"tags.t = "\u{1F600}""#, &["emoji"]);
    assert_selects(&f, r#"tags.t = "\u{e9}" or tags.t = "\u{00E9}""#, &["e"]);
    // A raw newline inside quotes is part of the string.
    assert_selects(&f, "tags.t = \"a\nb\"", &["nl"]);
}

#[test]
fn strings_order_by_unicode_code_point() {
    let f = fleet(
        r#"[{"name": "upper", "tags": {"t": "Z"}}, {"name": "lower", "tags": {"t": "a"}},
            {"name": "accent", "tags": {"t": "é"}}, {"name": "digits", "tags": {"t": "10"}}]"#,
    );
    // "10" < "Z" < "a" < "é" by code point; as text, "10" < "9".
    assert_selects(&f, r#"tags.t < "a""#, &["upper", "digits"]);
    assert_selects(&f, r#"tags.t > "z""#, &["accent"]);
    assert_selects(&f, r#"tags.t < "9""#, &["digits"]);
    assert_selects(
        &f,
        r#"tags.t >= "Z" and tags.t <= "a""#,
        &["upper", "lower"],
    );
}

#[test]
fn bare_words_are_strings() {
    let f = fleet(
        r#"[{"name": "web-01", "tags": {"region": "eu-west-1", "fqdn": "db.example.com",
                                       "arn": "aws:ec2/i-1", "u": "_x"}}]"#,
    );
    assert_selects(
        &f,
        "name = web-01 and tags.region = eu-west-1 and tags.fqdn = db.example.com \
         and tags.arn = aws:ec2/i-1 and tags.u = _x",
        &["web-01"],
    );
    assert_selects(
        &f,
        "name = \"web-01\" and tags.fqdn = 'db.example.com'",
        &["web-01"],
    );
}

#[test]
fn numbers_compare_with_numbers_and_numeric_strings() {
    let f = fleet(
        r#"[{"name": "int", "facts": {"n": 8}}, {"name": "str", "facts": {"n": "8"}},
            {"name": "lead", "facts": {"n": "08"}}, {"name": "neg", "facts": {"n": -3}},
            {"name": "negstr", "facts": {"n": "-3"}}, {"name": "frac", "facts": {"n": "2.5"}},
            {"name": "float", "facts": {"n": 2.5}}, {"name": "words", "facts": {"n": "8 cores"}},
            {"name": "plus", "facts": {"n": "+8"}}, {"name": "exp", "facts": {"n": "8e0"}},
            {"name": "space", "facts": {"n": " 8"}}, {"name": "bool", "facts": {"n": true}}]"#,
    );
    assert_selects(&f, "facts.n = 8", &["int", "str", "lead"]);
    assert_selects(&f, "facts.n = 8.0", &["int", "str", "lead"]);
    assert_selects(&f, "facts.n = -3", &["neg", "negstr"]);
    assert_selects(&f, "facts.n = 2.5", &["frac", "float"]);
    assert_selects(&f, "facts.n < 0", &["neg", "negstr"]);
    assert_selects(&f, "facts.n > 2 and facts.n < 3", &["frac", "float"]);
    // Values that are not wholly a number satisfy no numeric predicate, so
    // their negated form holds.
    assert_selects(
        &f,
        "facts.n != 8",
        &[
            "neg", "negstr", "frac", "float", "words", "plus", "exp", "space", "bool",
        ],
    );
    // As text, "08" is not "8".
    assert_selects(&f, "facts.n = \"8\"", &["int", "str"]);
}

#[test]
fn integers_compare_exactly_even_beyond_float_precision() {
    let f = fleet(
        r#"[{"name": "a", "facts": {"n": 9007199254740993}},
            {"name": "b", "facts": {"n": 9007199254740992}},
            {"name": "max", "facts": {"n": 18446744073709551615}},
            {"name": "huge", "facts": {"n": "170141183460469231731687303715884105727"}}]"#,
    );
    assert_selects(&f, "facts.n = 9007199254740993", &["a"]);
    assert_selects(
        &f,
        "facts.n > 9007199254740992 and facts.n < 9007199254740994",
        &["a"],
    );
    assert_selects(&f, "facts.n = 18446744073709551615", &["max"]);
    assert_selects(&f, "facts.n > 18446744073709551614", &["max", "huge"]);
    assert_selects(
        &f,
        "facts.n = 170141183460469231731687303715884105727",
        &["huge"],
    );
    assert_selects(
        &f,
        "facts.n < -170141183460469231731687303715884105728",
        &[],
    );
}

#[test]
fn floats_have_no_text() {
    let f = fleet(
        r#"[{"name": "float", "facts": {"x": 2.5}}, {"name": "text", "facts": {"x": "2.5"}}]"#,
    );
    assert_selects(&f, "facts.x = 2.5", &["float", "text"]);
    // A float fact compares only as a number: not as text, glob, regex or version.
    assert_selects(&f, r#"facts.x = "2.5""#, &["text"]);
    assert_selects(&f, r#"facts.x like "2*""#, &["text"]);
    assert_selects(&f, r#"facts.x matches "2\\.5""#, &["text"]);
    assert_selects(&f, r#"facts.x = version("2.5")"#, &["text"]);
    // ... so its negated text forms hold: it has a value, and no match.
    assert_selects(&f, r#"facts.x != "2.5""#, &["float"]);
    assert_selects(&f, r#"facts.x not like "2*""#, &["float"]);
}

#[test]
fn integers_and_booleans_have_text() {
    let f = fleet(r#"[{"name": "a", "facts": {"cpus": 16, "ok": true, "neg": -3}}]"#);
    assert_selects(
        &f,
        r#"facts.cpus = "16" and facts.cpus like "1*" and facts.cpus matches "[0-9]+""#,
        &["a"],
    );
    assert_selects(&f, r#"facts.ok = "true" and facts.ok like "t*""#, &["a"]);
    assert_selects(&f, r#"facts.neg = "-3""#, &["a"]);
}

#[test]
fn booleans_compare_with_booleans_and_true_false_strings() {
    let f = fleet(
        r#"[{"name": "t", "facts": {"b": true}}, {"name": "f", "facts": {"b": false}},
            {"name": "ts", "facts": {"b": "true"}}, {"name": "fs", "facts": {"b": "false"}},
            {"name": "cap", "facts": {"b": "True"}}, {"name": "one", "facts": {"b": 1}},
            {"name": "none"}]"#,
    );
    assert_selects(&f, "facts.b = true", &["t", "ts"]);
    assert_selects(&f, "facts.b = false", &["f", "fs"]);
    assert_selects(&f, "facts.b in (true)", &["t", "ts"]);
    assert_selects(&f, "facts.b != true", &["f", "fs", "cap", "one"]);
    assert_selects(&f, "facts.b not in (true, false)", &["cap", "one"]);
}

#[test]
fn versions_compare_in_natural_order() {
    let f = fleet(
        r#"[{"name": "jammy", "facts": {"v": "22.04"}}, {"name": "kinetic", "facts": {"v": "22.10"}},
            {"name": "k91", "facts": {"v": "5.15.0-91"}}, {"name": "k100", "facts": {"v": "5.15.0-100"}},
            {"name": "v12", "facts": {"v": "1.2"}}, {"name": "v121", "facts": {"v": "1.2.1"}},
            {"name": "int", "facts": {"v": 22}}]"#,
    );
    // The three examples of the spec.
    assert_selects(
        &f,
        r#"facts.v < version("22.10") and facts.v >= version("22.04")"#,
        &["jammy"],
    );
    assert_selects(
        &f,
        r#"facts.v > version("5.15.0-91") and facts.v < version("5.15.0-999")"#,
        &["k100"],
    );
    assert_selects(
        &f,
        r#"facts.v > version("1.2") and facts.v < version("1.3")"#,
        &["v121"],
    );
    // As text, "22.10" < "22.04" is false but "5.15.0-100" < "5.15.0-91" is true.
    assert_selects(&f, r#"facts.v < "5.15.0-91" and facts.v > "5""#, &["k100"]);
    // Leading zeros are ignored; an integer fact compares by its text.
    assert_selects(&f, r#"facts.v = version("22.004")"#, &["jammy"]);
    assert_selects(&f, r#"facts.v = version("22")"#, &["int"]);
    // A shorter text is smaller when it is a prefix in runs.
    assert_selects(&f, r#"facts.v < version("1.2.1")"#, &["v12"]);
}

#[test]
fn instants_compare_dates_and_timestamps() {
    let f = fleet(
        r#"[{"name": "date", "facts": {"t": "2026-11-01"}},
            {"name": "utc", "facts": {"t": "2026-11-01T02:00:00Z"}},
            {"name": "offset", "facts": {"t": "2026-11-01T02:00:00+01:00"}},
            {"name": "old", "facts": {"t": "2026-09-15T23:59:59-07:00"}},
            {"name": "word", "facts": {"t": "yesterday"}},
            {"name": "epoch", "facts": {"t": 1761955200}}]"#,
    );
    // A date is midnight UTC, both as a literal and as a host value.
    assert_selects(&f, "facts.t = 2026-11-01", &["date"]);
    assert_selects(&f, "facts.t = 2026-11-01T00:00:00Z", &["date"]);
    assert_selects(&f, "facts.t = 2026-11-01T02:00:00Z", &["utc"]);
    // 02:00+01:00 is 01:00Z.
    assert_selects(&f, "facts.t = 2026-11-01T01:00:00Z", &["offset"]);
    assert_selects(&f, "facts.t = 2026-11-01T03:00:00+02:00", &["offset"]);
    assert_selects(
        &f,
        "facts.t > 2026-11-01 and facts.t < 2026-11-01T02:00:00Z",
        &["offset"],
    );
    // Values that are not instants satisfy no instant predicate.
    assert_selects(
        &f,
        "facts.t < 2030-01-01",
        &["date", "utc", "offset", "old"],
    );
    assert_selects(
        &f,
        "facts.t != 2026-11-01",
        &["utc", "offset", "old", "word", "epoch"],
    );
    // Fractional seconds and a lowercase `t`/`z`.
    assert_selects(&f, "facts.t = 2026-11-01t02:00:00.000z", &["utc"]);
}

#[test]
fn now_is_given_by_the_caller() {
    let f = fleet(
        r#"[{"name": "fresh", "facts": {"p": "2026-10-25"}}, {"name": "month", "facts": {"p": "2026-10-05T12:00:00Z"}},
            {"name": "stale", "facts": {"p": "2026-08-01"}}, {"name": "future", "facts": {"p": "2026-11-01T06:00:00Z"}}]"#,
    );
    // now() is 2026-11-01T00:00:00Z; 30 days before is 2026-10-02; at the
    // later `now`, 2026-10-11.
    assert_selects(&f, "facts.p < now() - 30d", &["stale"]);
    assert_selects(&f, "facts.p < now() - 4w - 2d", &["stale"]);
    assert_selects(&f, "facts.p > now()", &["future"]);
    assert_selects(
        &f,
        "facts.p > now() + 5h and facts.p < now() + 12h",
        &["future"],
    );
    assert_selects(&f, "facts.p >= now() - 7d", &["fresh", "future"]);
    assert_selects(&f, "facts.p = now() + 21600s", &["future"]);
    assert_selects(&f, "facts.p = now() + 360m", &["future"]);
    // Offsets apply to fixed instants too.
    assert_selects(&f, "facts.p = 2026-10-05 + 12h", &["month"]);
    // The same scope at another `now` selects other hosts.
    let scope = Scope::parse("facts.p < now() - 30d").expect("valid");
    let later = Utc
        .with_ymd_and_hms(2026, 11, 10, 0, 0, 0)
        .single()
        .expect("valid");
    assert_eq!(selected_by(&scope, &f, later), ["month", "stale"]);
    assert_eq!(selected_by(&scope, &f, now()), ["stale"]);
}

#[test]
fn the_literal_decides_how_a_value_compares() {
    // One value, read four ways.
    let f = fleet(r#"[{"name": "a", "facts": {"v": "10"}}]"#);
    assert_selects(&f, "facts.v > 9", &["a"]); // number
    assert_selects(&f, r#"facts.v > "9""#, &[]); // text
    assert_selects(&f, r#"facts.v > version("9")"#, &["a"]); // version
    assert_selects(&f, "facts.v > 2000-01-01", &[]); // not an instant
    assert_selects(&f, "facts.v != 2000-01-01", &["a"]);
}

// --------------------------------------------------------------- examples

fn example_fleet() -> Fleet {
    fleet(
        r#"[
  {"name": "web-01", "roles": ["web"], "tags": {"env": "prod", "ring": "1", "region": "eu-west-1"},
   "facts": {"os": {"family": "ubuntu", "version": "20.04"}, "last_patched": "2026-09-01"}},
  {"name": "web-02", "roles": ["web"], "tags": {"env": "staging", "ring": "1", "region": "us-east-1", "pci": "yes"},
   "facts": {"os": {"family": "ubuntu", "version": "22.04"}, "last_patched": "2026-10-28"}},
  {"name": "api-01", "roles": ["api"], "tags": {"env": "prod", "ring": "2"},
   "facts": {"os": {"family": "debian", "version": "12"}, "last_patched": "2026-10-01T23:00:00Z"}},
  {"name": "db-01", "roles": ["db"], "tags": {"ring": "1"},
   "facts": {"os": {"family": "ubuntu", "version": "22.10"}}},
  {"name": "cache-12", "roles": ["cache"], "tags": {"env": "prod", "ring": "0"},
   "facts": {"os": {"family": "ubuntu", "version": "21.10"}, "last_patched": "2026-10-01T00:00:00Z"}},
  {"name": "cache-x", "roles": ["cache"], "tags": {"canary": "yes"}}
]"#,
    )
}

#[test]
fn example_role_and_env() {
    assert_selects(
        &example_fleet(),
        "role = web and tags.env = prod",
        &["web-01"],
    );
}

#[test]
fn example_role_in_and_not_has() {
    assert_selects(
        &example_fleet(),
        "role in (web, api) and not has(tags.pci)",
        &["web-01", "api-01"],
    );
}

#[test]
fn example_like_or_matches() {
    assert_selects(
        &example_fleet(),
        r#"name like "db-*" or name matches "cache-[0-9]+""#,
        &["db-01", "cache-12"],
    );
}

#[test]
fn example_os_version_below() {
    assert_selects(
        &example_fleet(),
        r#"facts.os.family = ubuntu and facts.os.version < version("22.04")"#,
        &["web-01", "cache-12"],
    );
}

#[test]
fn example_patched_over_30_days_ago() {
    // now() - 30d is 2026-10-02T00:00:00Z.
    assert_selects(
        &example_fleet(),
        "facts.last_patched < now() - 30d          # patched over 30 days ago",
        &["web-01", "api-01", "cache-12"],
    );
}

#[test]
fn example_canary_or_ring_outside_a_region() {
    let catalog =
        Catalog::new([("canary", "tags.canary = yes or tags.ring = \"0\"")]).expect("valid");
    // db-01 has no region: `!=` fails closed, so it stays out of this tier.
    assert_selects_in(
        &catalog,
        &example_fleet(),
        r#"@canary or (tags.ring = "1" and tags.region != us-east-1)"#,
        &["web-01", "cache-12", "cache-x"],
    );
}
