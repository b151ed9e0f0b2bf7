//! Validation: raw TOML types to a [`Policy`], one function per thing
//! checked (time zone, scopes, windows, blackouts, settings, tiers, the
//! tier graph, the fit of batches in windows). Every problem is collected.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeDelta};
use chrono_tz::Tz;
use petgraph::graph::{DiGraph, NodeIndex};

use super::error::Issues;
use super::raw::{
    RawAmount, RawDate, RawMaxUnavailable, RawPolicy, RawSettings, RawTier, RawWindow,
};
use super::{
    Amount, MaxUnavailable, Overrides, Percent, Policy, PolicyError, Tier, WindowChoice, NORMAL,
};
use crate::diagnostic::closest;
use crate::rollout::calendar::{
    self, parse_duration, parse_timezone, Blackouts, Recurrence, Window, MAX_DURATION_DAYS,
};
use crate::scope::{Catalog, CatalogError, Scope};

fn parse_amount(raw: &RawAmount, key: &str, issues: &mut Issues) -> Option<Amount> {
    let text = match raw {
        RawAmount::Count(c) if *c >= 0 => return Some(Amount::Count(*c as u64)),
        RawAmount::Count(c) => {
            issues.push(
                key,
                format!("{c} is negative; write a count of hosts or a percentage such as \"25%\""),
            );
            return None;
        }
        RawAmount::Text(t) => t.trim(),
    };
    if let Some(number) = text.strip_suffix('%') {
        match Percent::parse(number.trim()) {
            Some(p) => Some(Amount::Percent(p)),
            None => {
                issues.push_help(
                    key,
                    format!("`{text}` is not a percentage from 0% to 100%"),
                    "write a count such as 5, or a percentage such as \"25%\" or \"12.5%\" (at most nine decimals)",
                );
                None
            }
        }
    } else if let Ok(c) = text.parse::<u64>() {
        Some(Amount::Count(c))
    } else {
        issues.push_help(
            key,
            format!("`{text}` is neither a count nor a percentage"),
            "write a count such as 5, or a percentage such as \"25%\"",
        );
        None
    }
}

fn parse_delta(text: &str, key: &str, issues: &mut Issues) -> Option<TimeDelta> {
    match parse_duration(text) {
        Ok(d) if d > TimeDelta::days(MAX_DURATION_DAYS) => {
            issues.push_help(
                key,
                format!("`{text}` is longer than a plan looks ahead ({MAX_DURATION_DAYS} days)"),
                "durations in a policy are at most 20 years",
            );
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            issues.push(key, e.to_string());
            None
        }
    }
}

/// Windows that validated, and the names of every window the file defines
/// (an invalid one is reported once, at its own key).
struct WindowNames<'a> {
    valid: &'a BTreeMap<String, Window>,
    defined: &'a BTreeMap<String, RawWindow>,
}

fn parse_overrides(
    raw: &RawSettings,
    prefix: &str,
    windows: &WindowNames<'_>,
    issues: &mut Issues,
) -> Overrides {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    Overrides {
        window: raw
            .window
            .as_ref()
            .and_then(|w| window_choice(w, &key("window"), windows, issues)),
        batch: raw
            .batch
            .as_ref()
            .and_then(|a| parse_amount(a, &key("batch"), issues)),
        batch_duration: raw
            .batch_duration
            .as_ref()
            .and_then(|d| parse_delta(d, &key("batch_duration"), issues)),
        max_failures: raw
            .max_failures
            .as_ref()
            .and_then(|a| parse_amount(a, &key("max_failures"), issues)),
        soak: raw
            .soak
            .as_ref()
            .and_then(|d| parse_delta(d, &key("soak"), issues)),
        notice: raw
            .notice
            .as_ref()
            .and_then(|d| parse_delta(d, &key("notice"), issues)),
        approval: raw.approval,
    }
}

fn window_choice(
    name: &str,
    key: &str,
    windows: &WindowNames<'_>,
    issues: &mut Issues,
) -> Option<WindowChoice> {
    if name == "any" {
        return Some(WindowChoice::Any);
    }
    if windows.valid.contains_key(name) {
        return Some(WindowChoice::Named(name.to_string()));
    }
    if windows.defined.contains_key(name) {
        return None;
    }
    let known: Vec<&str> = windows.defined.keys().map(String::as_str).collect();
    let help = match closest(name, known.iter().copied()) {
        Some(guess) => format!("did you mean `{guess}`?"),
        None => format!(
            "known windows: {}; or \"any\" for any time outside blackouts",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ),
    };
    issues.push_help(key, format!("unknown window `{name}`"), help);
    None
}

fn parse_date(raw: &RawDate, key: &str, issues: &mut Issues) -> Option<NaiveDate> {
    let text = match raw {
        RawDate::Text(t) => t.clone(),
        RawDate::Toml(d) => d.to_string(),
    };
    match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
        Ok(d) if text.len() == 10 => Some(d),
        _ => {
            issues.push_help(
                key,
                format!("`{text}` is not a date"),
                "write a local date as \"YYYY-MM-DD\"",
            );
            None
        }
    }
}

pub(super) fn validate(file: &str, raw: RawPolicy) -> Result<Policy, PolicyError> {
    let mut issues = Issues::default();
    let timezone = check_timezone(&raw, &mut issues);
    let (catalog, catalog_ok) = check_scopes(&raw, &mut issues);
    let windows = check_windows(&raw, timezone, &mut issues);
    let (blackout_list, blackouts) = check_blackouts(&raw, timezone, &mut issues);
    let terms = check_terms(&raw, timezone, &mut issues);
    let names = WindowNames {
        valid: &windows,
        defined: &raw.windows,
    };
    let (defaults, severities) = check_settings(&raw, &names, &mut issues);
    let tiers = check_tiers(&raw, &catalog, catalog_ok, &names, &mut issues);
    let (order, waves) = check_tier_graph(&tiers, &mut issues);
    let policy = Policy {
        timezone,
        exclusive: raw.exclusive,
        catalog,
        windows,
        blackout_list,
        blackouts,
        defaults,
        severities,
        tiers,
        order,
        waves,
        terms,
    };
    check_batches_fit(&policy, &mut issues);
    if issues.0.is_empty() {
        Ok(policy)
    } else {
        Err(PolicyError {
            file: file.to_string(),
            issues: issues.0,
        })
    }
}

/// The policy's zone; UTC when absent or unknown (reported).
fn check_timezone(raw: &RawPolicy, issues: &mut Issues) -> Tz {
    match raw.timezone.as_deref() {
        None => Tz::UTC,
        Some(name) => parse_timezone(name).unwrap_or_else(|e| {
            issues.push("timezone", e.to_string());
            Tz::UTC
        }),
    }
}

/// Scopes: the catalog checks names, references and cycles as a whole.
/// Returns the catalog (empty when broken) and whether it was valid.
fn check_scopes(raw: &RawPolicy, issues: &mut Issues) -> (Catalog, bool) {
    let mut catalog_ok = true;
    let catalog = match Catalog::new(raw.scopes.iter().map(|(k, v)| (k.clone(), v.clone()))) {
        Ok(c) => c,
        Err(e) => {
            match e {
                CatalogError::Scope {
                    name,
                    expression,
                    error,
                } => issues.push_scope(format!("scopes.{name}"), &expression, *error),
                other => issues.push("scopes", other.to_string()),
            }
            catalog_ok = false;
            Catalog::default()
        }
    };
    (catalog, catalog_ok)
}

/// Windows that validate, by name.
fn check_windows(raw: &RawPolicy, timezone: Tz, issues: &mut Issues) -> BTreeMap<String, Window> {
    let mut windows = BTreeMap::new();
    for (name, w) in &raw.windows {
        let key = format!("windows.{name}");
        if name == "any" {
            issues.push(
                &key,
                "`any` is reserved for \"no window\"; choose another name",
            );
            continue;
        }
        let recurrence = w
            .every
            .parse::<Recurrence>()
            .map_err(|e| issues.push(format!("{key}.every"), e.to_string()));
        let duration = parse_delta(&w.duration, &format!("{key}.duration"), issues);
        let zone = match w.timezone.as_deref() {
            None => Some(timezone),
            Some(z) => parse_timezone(z)
                .map_err(|e| issues.push(format!("{key}.timezone"), e.to_string()))
                .ok(),
        };
        if let Some(d) = duration {
            if d <= TimeDelta::zero() {
                issues.push(
                    format!("{key}.duration"),
                    "a window must last longer than zero",
                );
                continue;
            }
        }
        if let (Ok(recurrence), Some(duration), Some(timezone)) = (recurrence, duration, zone) {
            windows.insert(
                name.clone(),
                Window {
                    recurrence,
                    duration,
                    timezone,
                },
            );
        }
    }
    windows
}

/// Blackouts as listed, and as intervals in the policy's zone.
fn check_blackouts(
    raw: &RawPolicy,
    timezone: Tz,
    issues: &mut Issues,
) -> (Vec<(String, NaiveDate, NaiveDate)>, Blackouts) {
    let mut blackout_list = Vec::new();
    for (i, b) in raw.blackouts.iter().enumerate() {
        let key = format!("blackouts[{i}]");
        let from = parse_date(&b.from, &format!("{key}.from"), issues);
        let to = parse_date(&b.to, &format!("{key}.to"), issues);
        if let (Some(from), Some(to)) = (from, to) {
            if to <= from {
                issues.push_help(
                    format!("{key}.to"),
                    format!(
                        "blackout `{}` ends ({to}) before it starts ({from})",
                        b.name
                    ),
                    "`to` is the first date after the blackout (exclusive)",
                );
            } else {
                blackout_list.push((b.name.clone(), from, to));
            }
        }
    }
    let blackouts = Blackouts::new(timezone, &blackout_list).unwrap_or_else(|e| {
        issues.push("blackouts", e.to_string());
        Blackouts::none()
    });
    (blackout_list, blackouts)
}

/// `[business_hours]`, `[cost]` and `[notice]`: the client's terms.
fn check_terms(raw: &RawPolicy, timezone: Tz, issues: &mut Issues) -> super::terms::Terms {
    let (terms, terms_issues) = super::terms::validate(
        raw.business_hours.as_ref(),
        raw.cost.as_ref(),
        raw.notice.as_ref(),
        timezone,
    );
    for i in terms_issues {
        match i.help {
            Some(help) => issues.push_help(i.key, i.message, help),
            None => issues.push(i.key, i.message),
        }
    }
    terms
}

/// `[defaults]` and every `[severity.NAME]`.
fn check_settings(
    raw: &RawPolicy,
    names: &WindowNames<'_>,
    issues: &mut Issues,
) -> (Overrides, BTreeMap<String, Overrides>) {
    let defaults = parse_overrides(&raw.defaults, "defaults", names, issues);
    let mut severities = BTreeMap::new();
    for (name, s) in &raw.severity {
        severities.insert(
            name.clone(),
            parse_overrides(s, &format!("severity.{name}"), names, issues),
        );
    }
    (defaults, severities)
}

/// Every tier: a unique name, a valid scope, known `after` tiers, its own
/// settings and `max_unavailable`.
fn check_tiers(
    raw: &RawPolicy,
    catalog: &Catalog,
    catalog_ok: bool,
    names: &WindowNames<'_>,
    issues: &mut Issues,
) -> Vec<Tier> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, t) in raw.tiers.iter().enumerate() {
        if t.name.trim().is_empty() {
            issues.push(format!("tiers[{i}].name"), "a tier needs a name");
        } else if index.insert(t.name.as_str(), i).is_some() {
            issues.push(
                format!("tiers[{i}].name"),
                format!("tier `{}` is defined more than once", t.name),
            );
        }
    }
    if raw.tiers.is_empty() {
        issues.push_help(
            "tiers",
            "the policy has no tiers",
            "add [[tiers]] with a name and a scope",
        );
    }
    let mut tiers = Vec::with_capacity(raw.tiers.len());
    for (i, t) in raw.tiers.iter().enumerate() {
        let key = format!("tiers[{i}]");
        let scope = match catalog.compile(&t.scope) {
            Ok(s) => Some(s),
            Err(e) => {
                // With [scopes] already broken, a reference to a scope the
                // file does define is not a second problem.
                let cascade = !catalog_ok
                    && matches!(e.kind(), crate::ScopeErrorKind::Bind(crate::BindErrorKind::UnknownScope { name, .. }) if raw.scopes.contains_key(name));
                if !cascade {
                    issues.push_scope(format!("{key}.scope"), &t.scope, e);
                }
                None
            }
        };
        // An invalid scope is already an issue; `false` keeps the remaining
        // checks (which report more issues) going.
        let Some(scope) = scope.or_else(|| Scope::parse("false").ok()) else {
            continue;
        };
        let after = check_after(i, t, &index, issues);
        let own = parse_overrides(
            &RawSettings {
                window: t.window.clone(),
                batch: t.batch.clone(),
                batch_duration: t.batch_duration.clone(),
                max_failures: t.max_failures.clone(),
                soak: t.soak.clone(),
                notice: t.notice.clone(),
                approval: t.approval,
            },
            &key,
            names,
            issues,
        );
        let max_unavailable = t
            .max_unavailable
            .as_ref()
            .and_then(|m| check_max_unavailable(m, &key, issues));
        if t.exclusive.is_some() {
            issues.push_help(
                format!("{key}.exclusive"),
                "`exclusive` applies to the whole policy",
                "move `exclusive = true` to the top of the file",
            );
        }
        tiers.push(Tier {
            name: t.name.clone(),
            scope,
            after,
            own,
            max_unavailable,
            contact: t.contact.clone().unwrap_or_default(),
        });
    }
    tiers
}

/// A tier's `after` list as tier indices: each known, none itself, no
/// duplicates.
fn check_after(
    i: usize,
    t: &RawTier,
    index: &BTreeMap<&str, usize>,
    issues: &mut Issues,
) -> Vec<usize> {
    let key = format!("tiers[{i}]");
    let mut after = Vec::new();
    for (j, name) in t.after.iter().enumerate() {
        let akey = format!("{key}.after[{j}]");
        match index.get(name.as_str()) {
            Some(&k) if k == i => {
                issues.push(akey, format!("tier `{}` comes after itself", t.name))
            }
            Some(&k) => {
                if !after.contains(&k) {
                    after.push(k);
                }
            }
            None => {
                // Suggestions compare with every tier name; after many
                // unknown names they stop, so a huge bad file stays fast.
                let suggest = issues.0.len() < 50;
                let help = match closest(name, index.keys().copied().filter(|_| suggest)) {
                    Some(g) => format!("did you mean `{g}`?"),
                    None => format!(
                        "known tiers: {}",
                        index.keys().copied().collect::<Vec<_>>().join(", ")
                    ),
                };
                issues.push_help(akey, format!("unknown tier `{name}`"), help);
            }
        }
    }
    after
}

/// `max_unavailable`: a path to group by and a positive count.
fn check_max_unavailable(
    m: &RawMaxUnavailable,
    key: &str,
    issues: &mut Issues,
) -> Option<MaxUnavailable> {
    let per = match crate::syntax::parse(&format!("has({})", m.per)) {
        Ok(expr) => match expr.node {
            crate::syntax::ExprKind::Has(p) => Some(p.node),
            _ => None,
        },
        Err(_) => None,
    };
    if per.is_none() {
        issues.push_help(
            format!("{key}.max_unavailable.per"),
            format!("`{}` is not a path", m.per),
            "write a path such as \"tags.cluster\" or \"facts.rack\"",
        );
    }
    if m.count <= 0 {
        issues.push_help(
            format!("{key}.max_unavailable.count"),
            format!(
                "count = {} means no host could ever be patched, so the tier would never finish",
                m.count
            ),
            "allow at least 1 host per group",
        );
        return None;
    }
    Some(MaxUnavailable {
        per: per?,
        count: usize::try_from(m.count).unwrap_or(usize::MAX),
    })
}

/// The tier graph: cycles name every tier on them; without cycles, the
/// rollout order and each tier's wave.
#[expect(
    clippy::indexing_slicing,
    reason = "graph nodes are created for every tier index, and SCC members are graph nodes; components are never empty"
)]
fn check_tier_graph(tiers: &[Tier], issues: &mut Issues) -> (Vec<usize>, Vec<usize>) {
    let mut graph: DiGraph<usize, ()> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..tiers.len()).map(|i| graph.add_node(i)).collect();
    for (i, t) in tiers.iter().enumerate() {
        for &a in &t.after {
            graph.add_edge(nodes[a], nodes[i], ());
        }
    }
    let mut cyclic = false;
    // kosaraju_scc walks with explicit stacks; tarjan_scc recurses once per
    // tier of a chain and overflows the stack on long `after` chains.
    let mut components = petgraph::algo::kosaraju_scc(&graph);
    components.sort_by_key(|c| c.iter().map(|n| n.index()).min());
    for component in components {
        if component.len() > 1 {
            cyclic = true;
            let mut members: Vec<usize> = component.iter().map(|n| graph[*n]).collect();
            members.sort_unstable();
            let names: Vec<&str> = members.iter().map(|m| tiers[*m].name.as_str()).collect();
            issues.push_help(
                format!("tiers[{}].after", members[0]),
                format!("tiers form a cycle through `after`: {}", names.join(", ")),
                "tiers must run in an order; remove one of these `after` entries",
            );
        }
    }
    if cyclic {
        (Vec::new(), Vec::new())
    } else {
        rollout_order(tiers)
    }
}

/// Every batch must fit in its window, under every severity.
fn check_batches_fit(policy: &Policy, issues: &mut Issues) {
    let mut severity_names: Vec<String> = vec![NORMAL.to_string()];
    severity_names.extend(policy.severities.keys().filter(|s| *s != NORMAL).cloned());
    let provisional = policy;
    for (i, tier) in provisional.tiers.iter().enumerate() {
        for severity in &severity_names {
            let s = provisional.settings(i, severity);
            if s.batch_duration <= TimeDelta::zero() {
                issues.push(
                    format!("tiers[{i}].batch_duration"),
                    format!(
                        "tier `{}`: a batch must be given more than zero time",
                        tier.name
                    ),
                );
                break;
            }
            if let WindowChoice::Named(w) = &s.window {
                if let Some(window) = provisional.windows.get(w) {
                    if s.batch_duration > window.duration {
                        let under = if severity == NORMAL {
                            String::new()
                        } else {
                            format!(" (severity {severity})")
                        };
                        issues.push_help(
                            format!("tiers[{i}].batch_duration"),
                            format!(
                                "tier `{}`{under}: batch_duration {} is longer than window `{w}` ({}), so no batch could ever run",
                                tier.name,
                                calendar::format_duration(s.batch_duration),
                                calendar::format_duration(window.duration)
                            ),
                            "shorten batch_duration or lengthen the window",
                        );
                        break;
                    }
                }
            }
        }
    }
}

/// Kahn's algorithm with ties broken by file order, and each tier's wave.
#[expect(
    clippy::indexing_slicing,
    reason = "indices are tier positions below tiers.len(), the length of every table here"
)]
fn rollout_order(tiers: &[Tier]) -> (Vec<usize>, Vec<usize>) {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut indegree: Vec<usize> = tiers.iter().map(|t| t.after.len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); tiers.len()];
    for (i, t) in tiers.iter().enumerate() {
        for &a in &t.after {
            dependents[a].push(i);
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> = (0..tiers.len())
        .filter(|i| indegree[*i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(tiers.len());
    let mut waves = vec![0usize; tiers.len()];
    while let Some(Reverse(t)) = ready.pop() {
        order.push(t);
        for &d in &dependents[t] {
            waves[d] = waves[d].max(waves[t] + 1);
            indegree[d] -= 1;
            if indegree[d] == 0 {
                ready.push(Reverse(d));
            }
        }
    }
    (order, waves)
}
