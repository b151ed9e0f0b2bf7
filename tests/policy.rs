//! Policy validation (ROLLOUT.md rule 1), as a policy author meets it: each
//! mistake is reported with the key path and a sentence that says what is
//! wrong, and every mistake in a file is reported at once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use fleetscope::rollout::{Amount, Percent, WindowChoice};
use fleetscope::rollout::{Policy, PolicyError};

const BASE: &str = r#"
timezone = "Europe/Berlin"

[scopes]
web = "role = web"
prod = "tags.env = prod"

[windows.weekend]
every = "weekly sat,sun at 02:00"
duration = "4h"

[defaults]
window = "weekend"
batch = "25%"
batch_duration = "1h"
soak = "24h"

[[tiers]]
name = "test"
scope = "tags.env = test"

[[tiers]]
name = "prod"
scope = "@prod"
after = ["test"]
"#;

fn invalid(text: &str) -> PolicyError {
    match Policy::from_toml("policy.toml", text) {
        Ok(_) => panic!("policy should be rejected:\n{text}"),
        Err(e) => e,
    }
}

/// The single issue at `key`, asserting that its message contains `needle`.
fn assert_issue(err: &PolicyError, key: &str, needle: &str) {
    let found = err.issues.iter().find(|i| i.key == key);
    match found {
        Some(issue) => assert!(
            issue.message.contains(needle),
            "issue at {key}: {:?} does not contain {needle:?}",
            issue.message
        ),
        None => panic!("no issue at {key}; issues: {:#?}", err.issues),
    }
}

#[test]
fn the_base_policy_is_valid() {
    let policy = Policy::from_toml("policy.toml", BASE).expect("valid");
    assert_eq!(policy.tiers().len(), 2);
    assert_eq!(policy.order(), [0, 1]);
    assert_eq!(policy.waves(), [0, 1]);
    let s = policy.settings(1, "normal");
    assert_eq!(s.window, WindowChoice::Named("weekend".into()));
    assert_eq!(s.batch.to_string(), "25%");
    assert_eq!(Percent::whole(25).map(Amount::Percent), Some(s.batch));
}

#[test]
fn unknown_tier_in_after_names_the_key_and_suggests() {
    let err = invalid(&BASE.replace(r#"after = ["test"]"#, r#"after = ["tset"]"#));
    assert_issue(&err, "tiers[1].after[0]", "unknown tier `tset`");
    let issue = &err.issues[0];
    assert_eq!(issue.help.as_deref(), Some("did you mean `test`?"));
    assert!(err
        .to_string()
        .starts_with("policy.toml: tiers[1].after[0]: unknown tier `tset`"));
}

#[test]
fn a_tier_after_itself_is_an_error() {
    let err = invalid(&BASE.replace(r#"after = ["test"]"#, r#"after = ["prod"]"#));
    assert_issue(&err, "tiers[1].after[0]", "tier `prod` comes after itself");
}

#[test]
fn a_cycle_names_every_tier_on_it() {
    let text = format!(
        "{BASE}\n[[tiers]]\nname = \"a\"\nscope = \"true\"\nafter = [\"c\"]\n\n[[tiers]]\nname = \"b\"\nscope = \"true\"\nafter = [\"a\"]\n\n[[tiers]]\nname = \"c\"\nscope = \"true\"\nafter = [\"b\", \"prod\"]\n"
    );
    let err = invalid(&text);
    assert_issue(
        &err,
        "tiers[2].after",
        "tiers form a cycle through `after`: a, b, c",
    );
}

#[test]
fn duplicate_tier_names_are_errors() {
    let err = invalid(&BASE.replace("name = \"prod\"", "name = \"test\""));
    assert_issue(
        &err,
        "tiers[1].name",
        "tier `test` is defined more than once",
    );
}

#[test]
fn unknown_scope_in_a_tier_shows_the_span_inside_the_expression() {
    let err = invalid(&BASE.replace(r#"scope = "@prod""#, r#"scope = "@prd and role = db""#));
    assert_issue(&err, "tiers[1].scope", "unknown scope `@prd`");
    let (source, scope_err) = err.issues[0].expression.as_ref().expect("expression error");
    assert_eq!(source, "@prd and role = db");
    assert_eq!((scope_err.span().start, scope_err.span().end), (0, 4));
    assert_eq!(scope_err.help(), Some("did you mean `@prod`?"));
    let rendered = err.render();
    assert!(
        rendered.contains("--> policy.toml tiers[1].scope:1:1"),
        "{rendered}"
    );
    assert!(
        rendered.contains("1 | @prd and role = db\n  | ^^^^"),
        "{rendered}"
    );
}

#[test]
fn a_syntax_error_in_a_named_scope_names_the_scope_key() {
    let err = invalid(&BASE.replace(r#"web = "role = web""#, r#"web = "role == web""#));
    assert_issue(&err, "scopes.web", "expected a value");
    let (_, e) = err.issues[0].expression.as_ref().expect("expression error");
    assert_eq!((e.span().start, e.span().end), (5, 7));
}

#[test]
fn a_cycle_among_scopes_is_an_error() {
    let err = invalid(
        &BASE
            .replace(r#"web = "role = web""#, r#"web = "@prod and role = web""#)
            .replace(
                r#"prod = "tags.env = prod""#,
                r#"prod = "tags.env = prod or @web""#,
            ),
    );
    assert_issue(
        &err,
        "scopes.web",
        "named scopes form a cycle: @prod -> @web -> @prod",
    );
}

#[test]
fn unknown_windows_are_errors_wherever_they_are_named() {
    let err = invalid(&BASE.replace(r#"window = "weekend""#, r#"window = "weeknd""#));
    assert_issue(&err, "defaults.window", "unknown window `weeknd`");
    assert_eq!(
        err.issues[0].help.as_deref(),
        Some("did you mean `weekend`?")
    );

    let text = format!("{BASE}\n[severity.critical]\nwindow = \"nightly\"\n");
    assert_issue(
        &invalid(&text),
        "severity.critical.window",
        "unknown window `nightly`",
    );

    let text = BASE.replace(
        r#"after = ["test"]"#,
        "after = [\"test\"]\nwindow = \"holiday\"",
    );
    assert_issue(
        &invalid(&text),
        "tiers[1].window",
        "unknown window `holiday`",
    );
}

#[test]
fn bad_durations_percentages_zones_and_recurrences() {
    let err = invalid(&BASE.replace(r#"batch_duration = "1h""#, r#"batch_duration = "1 hour""#));
    assert_issue(
        &err,
        "defaults.batch_duration",
        "duration `1 hour` is not valid",
    );

    let err = invalid(&BASE.replace(r#"batch = "25%""#, r#"batch = "250%""#));
    assert_issue(
        &err,
        "defaults.batch",
        "`250%` is not a percentage from 0% to 100%",
    );

    let err = invalid(&BASE.replace(r#"batch = "25%""#, r#"batch = "a quarter""#));
    assert_issue(&err, "defaults.batch", "neither a count nor a percentage");

    let err = invalid(&BASE.replace(r#"batch = "25%""#, "batch = -3"));
    assert_issue(&err, "defaults.batch", "negative");

    let err = invalid(&BASE.replace("Europe/Berlin", "Europe/Berln"));
    assert_issue(&err, "timezone", "Europe/Berln");

    let err = invalid(&BASE.replace("weekly sat,sun at 02:00", "weekly sat,sun at 25:00"));
    assert_issue(
        &err,
        "windows.weekend.every",
        "recurrence `weekly sat,sun at 25:00` is not valid",
    );

    let err = invalid(&BASE.replace(
        r#"duration = "4h""#,
        "duration = \"4h\"\ntimezone = \"Mars/Olympus\"",
    ));
    assert_issue(&err, "windows.weekend.timezone", "Mars/Olympus");
}

#[test]
fn a_policy_that_could_never_finish_is_rejected() {
    let text = BASE.replace(
        r#"after = ["test"]"#,
        "after = [\"test\"]\nmax_unavailable = { per = \"tags.cluster\", count = 0 }",
    );
    assert_issue(
        &invalid(&text),
        "tiers[1].max_unavailable.count",
        "count = 0",
    );

    let text = BASE.replace(
        r#"after = ["test"]"#,
        "after = [\"test\"]\nbatch_duration = \"5h\"",
    );
    let err = invalid(&text);
    assert_issue(
        &err,
        "tiers[1].batch_duration",
        "batch_duration 5h is longer than window `weekend` (4h)",
    );

    // The same under a severity override only.
    let text = format!("{BASE}\n[severity.slow]\nbatch_duration = \"6h\"\n");
    let err = invalid(&text);
    assert_issue(&err, "tiers[0].batch_duration", "(severity slow)");
}

#[test]
fn a_misspelt_key_is_an_error_not_ignored() {
    let err = invalid(&BASE.replace(r#"after = ["test"]"#, r#"aftr = ["test"]"#));
    assert_issue(&err, "tiers[1].aftr", "unknown field `aftr`");
    let err = invalid(&format!("{BASE}\n[defaults2]\nsoak = \"1h\"\n"));
    assert!(
        err.issues[0].message.contains("unknown field `defaults2`"),
        "{err}"
    );
    let err = invalid(&BASE.replace("[defaults]\n", "[defaults]\nsaok = \"1h\"\n"));
    assert_issue(&err, "defaults.saok", "unknown field `saok`");
}

#[test]
fn blackouts_must_end_after_they_start() {
    let text = format!(
        "{BASE}\n[[blackouts]]\nname = \"freeze\"\nfrom = \"2027-01-04\"\nto = \"2026-12-19\"\n"
    );
    assert_issue(
        &invalid(&text),
        "blackouts[0].to",
        "blackout `freeze` ends (2026-12-19) before it starts (2027-01-04)",
    );
    let text = format!(
        "{BASE}\n[[blackouts]]\nname = \"freeze\"\nfrom = \"2026-13-01\"\nto = \"2027-01-04\"\n"
    );
    assert_issue(
        &invalid(&text),
        "blackouts[0].from",
        "`2026-13-01` is not a date",
    );
    // TOML's own dates are accepted too.
    let text =
        format!("{BASE}\n[[blackouts]]\nname = \"freeze\"\nfrom = 2026-12-19\nto = 2027-01-04\n");
    let policy = Policy::from_toml("policy.toml", &text).expect("TOML dates are dates");
    assert_eq!(policy.blackout_periods().len(), 1);
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = BASE
        .replace(r#"after = ["test"]"#, r#"after = ["tset"]"#)
        .replace(r#"soak = "24h""#, r#"soak = "a day""#)
        .replace("Europe/Berlin", "Berlin");
    let err = invalid(&text);
    let keys: Vec<&str> = err.issues.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["timezone", "defaults.soak", "tiers[1].after[0]"]);
    assert!(err.to_string().contains("3 problems"), "{err}");
}

#[test]
fn not_toml_at_all_is_a_clean_error_with_a_line() {
    let err = invalid("[[tiers]\nname = 1");
    assert!(err.issues[0].message.starts_with("not valid TOML"), "{err}");
    assert!(err.issues[0].message.contains("line 1"), "{err}");
}

#[test]
fn settings_layer_defaults_tier_and_severity_in_that_order() {
    let text = format!(
        "{}\n[severity.critical]\nsoak = \"2h\"\nwindow = \"any\"\n",
        BASE.replace(
            r#"after = ["test"]"#,
            "after = [\"test\"]\nsoak = \"48h\"\nbatch = 3"
        )
    );
    let policy = Policy::from_toml("policy.toml", &text).expect("valid");
    let normal = policy.settings(1, "normal");
    assert_eq!(normal.soak, chrono::TimeDelta::hours(48));
    assert_eq!(normal.batch, Amount::Count(3));
    let critical = policy.settings(1, "critical");
    assert_eq!(
        critical.soak,
        chrono::TimeDelta::hours(2),
        "severity beats the tier's own key"
    );
    assert_eq!(critical.window, WindowChoice::Any);
    assert_eq!(
        critical.batch,
        Amount::Count(3),
        "keys the severity does not set stay"
    );
    assert!(policy.knows_severity("critical") && policy.knows_severity("normal"));
    assert!(!policy.knows_severity("urgent"));
}

#[test]
fn rollout_order_is_topological_with_file_order_ties_and_waves() {
    let text = r#"
[[tiers]]
name = "prod"
scope = "true"
after = ["canary-b", "canary-a"]
[[tiers]]
name = "canary-b"
scope = "true"
after = ["test"]
[[tiers]]
name = "test"
scope = "true"
[[tiers]]
name = "canary-a"
scope = "true"
after = ["test"]
[[tiers]]
name = "lab"
scope = "true"
"#;
    let policy = Policy::from_toml("p.toml", text).expect("valid");
    let names: Vec<&str> = policy
        .order()
        .iter()
        .map(|t| policy.tiers()[*t].name.as_str())
        .collect();
    assert_eq!(names, ["test", "canary-b", "canary-a", "prod", "lab"]);
    assert_eq!(policy.waves(), [2, 1, 0, 1, 0]);
}

#[test]
fn production_without_a_soaked_predecessor_is_a_warning() {
    let text = BASE.replace(r#"soak = "24h""#, r#"soak = "0s""#);
    let policy = Policy::from_toml("policy.toml", &text).expect("valid");
    let warnings = policy.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0]
            .to_string()
            .contains("tier `prod` selects production hosts")
            && matches!(&warnings[0], fleetscope::rollout::Warning::ProductionWithoutSoak { tier } if tier == "prod"),
        "{warnings:?}"
    );
    // With the soak back, no warning.
    let policy = Policy::from_toml("policy.toml", BASE).expect("valid");
    assert!(policy.warnings().is_empty());
}

#[test]
fn durations_longer_than_the_planning_horizon_are_errors_at_their_key() {
    for (from, to, key) in [
        (r#"soak = "24h""#, r#"soak = "100000000w""#, "defaults.soak"),
        (
            r#"batch_duration = "1h""#,
            r#"batch_duration = "1000000000w""#,
            "defaults.batch_duration",
        ),
        (
            r#"duration = "4h""#,
            r#"duration = "2000w""#,
            "windows.weekend.duration",
        ),
    ] {
        let err = invalid(&BASE.replace(from, to));
        assert_issue(&err, key, "is longer than a plan looks ahead");
    }
}

#[test]
fn a_long_after_chain_validates_without_recursion() {
    // 20,000 tiers, each after the one before: a recursive graph walk would
    // overflow the stack here.
    let mut text = String::from("[[tiers]]\nname = \"t0\"\nscope = \"true\"\n");
    for i in 1..20_000 {
        text.push_str(&format!(
            "[[tiers]]\nname = \"t{i}\"\nscope = \"true\"\nafter = [\"t{}\"]\n",
            i - 1
        ));
    }
    let policy = Policy::from_toml("chain.toml", &text).expect("a long chain is valid");
    assert_eq!(policy.waves().last(), Some(&19_999));

    // The same chain closed into a cycle is an error naming the cycle.
    let closed = text.replacen(
        "name = \"t0\"\nscope = \"true\"\n",
        "name = \"t0\"\nscope = \"true\"\nafter = [\"t19999\"]\n",
        1,
    );
    let err = invalid(&closed);
    assert!(
        err.issues[0]
            .message
            .starts_with("tiers form a cycle through `after`: t0, t1, t2"),
        "{}",
        err.issues[0].message
    );
}

#[test]
fn many_unknown_names_stay_fast_and_are_all_reported() {
    let mut text = String::new();
    for i in 0..5_000 {
        text.push_str(&format!(
            "[[tiers]]\nname = \"t{i}\"\nscope = \"true\"\nafter = [\"x{i}\"]\n"
        ));
    }
    let err = invalid(&text);
    assert_eq!(err.issues.len(), 5_000);
    assert!(err
        .issues
        .iter()
        .all(|i| i.message.starts_with("unknown tier `x")));
}

#[test]
fn the_production_warning_follows_references_not_text() {
    // `@ab` is not `@a`: only scopes actually referred to count.
    let text = r#"
[scopes]
a = "tags.env = prod"
ab = "role = web"
[[tiers]]
name = "web"
scope = "@ab"
"#;
    let policy = Policy::from_toml("p.toml", text).expect("valid");
    assert!(policy.warnings().is_empty(), "{:?}", policy.warnings());

    // Through two references, `prod` is still found.
    let text = r#"
[scopes]
x = "@y or role = db"
y = "tags.env = prod"
[[tiers]]
name = "db"
scope = "@x"
"#;
    let policy = Policy::from_toml("p.toml", text).expect("valid");
    let warnings = policy.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0]
        .to_string()
        .contains("tier `db` selects production hosts"));
}
