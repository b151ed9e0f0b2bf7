//! Rollout policy files: TOML read into raw serde types, then validated into
//! a [`Policy`] that cannot be constructed invalid (ROLLOUT.md rule 1).
//!
//! Every problem is collected, not just the first, and each names the key
//! path (`tiers[2].after[0]`) and, for expressions, the span inside the
//! expression. This module decides nothing about hosts or dates; that is
//! `plan`'s job.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{NaiveDate, TimeDelta};
use chrono_tz::Tz;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::{Deserialize, Serialize};

use super::calendar::{
    self, parse_duration, parse_timezone, Availability, Blackouts, Recurrence, Window,
};
use crate::scope::{Catalog, CatalogError, Scope};
use crate::syntax::{closest, Path, ScopeError};

// ---------------------------------------------------------------------------
// The file as written.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    timezone: Option<String>,
    #[serde(default)]
    exclusive: bool,
    #[serde(default)]
    scopes: BTreeMap<String, String>,
    #[serde(default)]
    windows: BTreeMap<String, RawWindow>,
    #[serde(default)]
    blackouts: Vec<RawBlackout>,
    #[serde(default)]
    defaults: RawSettings,
    #[serde(default)]
    tiers: Vec<RawTier>,
    #[serde(default)]
    severity: BTreeMap<String, RawSettings>,
    // The client's terms (issue 12), validated in `terms`.
    business_hours: Option<super::terms::RawBusinessHours>,
    cost: Option<super::terms::RawCost>,
    notice: Option<super::terms::RawNotice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    every: String,
    duration: String,
    timezone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlackout {
    name: String,
    from: RawDate,
    to: RawDate,
}

/// A date written as a string (`"2026-12-19"`) or as a TOML date.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawDate {
    Text(String),
    Toml(toml::value::Datetime),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    window: Option<String>,
    batch: Option<RawAmount>,
    batch_duration: Option<String>,
    max_failures: Option<RawAmount>,
    soak: Option<String>,
    notice: Option<String>,
    approval: Option<bool>,
}

/// A count (`3`, `"3"`) or a percentage (`"25%"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RawAmount {
    Count(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    name: String,
    scope: String,
    #[serde(default)]
    after: Vec<String>,
    #[serde(default)]
    exclusive: Option<bool>,
    window: Option<String>,
    batch: Option<RawAmount>,
    batch_duration: Option<String>,
    max_failures: Option<RawAmount>,
    soak: Option<String>,
    notice: Option<String>,
    approval: Option<bool>,
    max_unavailable: Option<RawMaxUnavailable>,
    contact: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaxUnavailable {
    per: String,
    count: i64,
}

// ---------------------------------------------------------------------------
// The validated policy.

/// A number of hosts: a fixed count or a share of a tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    /// Exactly this many.
    Count(u64),
    /// This share of the tier's hosts.
    Percent(Percent),
}

impl Amount {
    /// Hosts per batch for a tier of `size` hosts: a percentage rounds up,
    /// and a batch holds at least one host.
    pub fn batch_size(self, size: usize) -> usize {
        let n = match self {
            Amount::Count(c) => usize::try_from(c).unwrap_or(usize::MAX),
            Amount::Percent(p) => p.of(size, Rounding::Up),
        };
        n.max(1)
    }

    /// Failures a tier of `size` hosts tolerates: a percentage rounds down
    /// (5% of 50 hosts allows 2; the 3rd halts). Never more than the tier.
    pub fn allowed_failures(self, size: usize) -> usize {
        match self {
            Amount::Count(c) => usize::try_from(c).unwrap_or(usize::MAX).min(size),
            Amount::Percent(p) => p.of(size, Rounding::Down),
        }
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amount::Count(c) => write!(f, "{c}"),
            Amount::Percent(p) => write!(f, "{p}"),
        }
    }
}

/// A percentage from 0% to 100%, kept exactly in billionths of a percent so
/// that rounding a share of hosts up or down is exact (`99.99999999%` of 3
/// hosts rounds down to 2, not to 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Percent(u64);

/// Which way a share of hosts is rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Towards more hosts (batch sizes).
    Up,
    /// Towards fewer hosts (failure budgets).
    Down,
}

impl Percent {
    const SCALE: u64 = 1_000_000_000;

    /// A whole percentage; `None` above 100.
    pub const fn whole(p: u64) -> Option<Percent> {
        if p <= 100 {
            Some(Percent(p * Percent::SCALE))
        } else {
            None
        }
    }

    /// Reads `25`, `12.5` or `0.000000001` (at most nine decimals), 0 to 100.
    pub fn parse(text: &str) -> Option<Percent> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty()
            || !digits(int)
            || !digits(frac)
            || frac.len() > 9
            || (text.contains('.') && frac.is_empty())
        {
            return None;
        }
        let whole: u64 = int.parse().ok()?;
        let mut nanos: u64 = if frac.is_empty() {
            0
        } else {
            frac.parse().ok()?
        };
        for _ in frac.len()..9 {
            nanos *= 10;
        }
        let value = whole.checked_mul(Percent::SCALE)?.checked_add(nanos)?;
        (value <= 100 * Percent::SCALE).then_some(Percent(value))
    }

    /// This share of `size`, rounded as asked.
    pub fn of(self, size: usize, rounding: Rounding) -> usize {
        let numerator = u128::from(self.0) * size as u128;
        let denominator = 100 * u128::from(Percent::SCALE);
        let share = match rounding {
            Rounding::Up => numerator.div_ceil(denominator),
            Rounding::Down => numerator / denominator,
        };
        usize::try_from(share).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.0 / Percent::SCALE;
        let frac = self.0 % Percent::SCALE;
        if frac == 0 {
            write!(f, "{whole}%")
        } else {
            let digits = format!("{frac:09}");
            write!(f, "{whole}.{}%", digits.trim_end_matches('0'))
        }
    }
}

/// Where a tier's batches may run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowChoice {
    /// Any time outside blackouts (`window = "any"`).
    Any,
    /// Inside the occurrences of the named window.
    Named(String),
}

impl fmt::Display for WindowChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WindowChoice::Any => f.write_str("any"),
            WindowChoice::Named(n) => f.write_str(n),
        }
    }
}

/// A tier's pacing, after defaults and (for a plan) severity overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Where batches may run.
    pub window: WindowChoice,
    /// Hosts per batch.
    pub batch: Amount,
    /// Time each batch is given.
    pub batch_duration: TimeDelta,
    /// Failures tolerated before the tier halts.
    pub max_failures: Amount,
    /// Wait after the tier finishes before its dependents may start.
    pub soak: TimeDelta,
    /// How long before its first batch the tier's contact is told.
    pub notice: TimeDelta,
    /// Whether a person must approve before the tier starts.
    pub approval: bool,
}

impl Default for Settings {
    /// What applies when neither `[defaults]` nor the tier says otherwise:
    /// any time, all hosts in one batch of one hour, no failures tolerated,
    /// no soak, no notice, no approval.
    fn default() -> Self {
        Settings {
            window: WindowChoice::Any,
            batch: Amount::Percent(Percent(100 * Percent::SCALE)),
            batch_duration: TimeDelta::hours(1),
            max_failures: Amount::Count(0),
            soak: TimeDelta::zero(),
            notice: TimeDelta::zero(),
            approval: false,
        }
    }
}

/// Optional values of [`Settings`]: a tier's own keys, `[defaults]`, or a
/// `[severity.NAME]` table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `window`
    pub window: Option<WindowChoice>,
    /// `batch`
    pub batch: Option<Amount>,
    /// `batch_duration`
    pub batch_duration: Option<TimeDelta>,
    /// `max_failures`
    pub max_failures: Option<Amount>,
    /// `soak`
    pub soak: Option<TimeDelta>,
    /// `notice`
    pub notice: Option<TimeDelta>,
    /// `approval`
    pub approval: Option<bool>,
}

impl Overrides {
    fn apply(&self, s: &mut Settings) {
        if let Some(v) = &self.window {
            s.window = v.clone();
        }
        if let Some(v) = self.batch {
            s.batch = v;
        }
        if let Some(v) = self.batch_duration {
            s.batch_duration = v;
        }
        if let Some(v) = self.max_failures {
            s.max_failures = v;
        }
        if let Some(v) = self.soak {
            s.soak = v;
        }
        if let Some(v) = self.notice {
            s.notice = v;
        }
        if let Some(v) = self.approval {
            s.approval = v;
        }
    }
}

/// At most `count` hosts that share a value of `per` in one batch.
#[derive(Debug, Clone, PartialEq)]
pub struct MaxUnavailable {
    /// The path whose values form the groups (`tags.cluster`).
    pub per: Path,
    /// Hosts of one group allowed in a batch; at least 1.
    pub count: usize,
}

/// One tier of a policy.
#[derive(Debug, Clone)]
pub struct Tier {
    /// Unique name.
    pub name: String,
    /// Which hosts the tier may take.
    pub scope: Scope,
    /// Tiers that must finish (plus their soak) first, by index into
    /// [`Policy::tiers`].
    pub after: Vec<usize>,
    /// The tier's own settings keys.
    pub own: Overrides,
    /// Limit per group inside a batch.
    pub max_unavailable: Option<MaxUnavailable>,
    /// Who is told before the tier starts (free-form keys: name, phone, ...).
    pub contact: BTreeMap<String, String>,
}

/// A validated rollout policy: names resolve, tiers form a DAG, durations,
/// zones and recurrences parse, and every tier can fit a batch in its window.
#[derive(Debug, Clone)]
pub struct Policy {
    timezone: Tz,
    exclusive: bool,
    catalog: Catalog,
    windows: BTreeMap<String, Window>,
    blackout_list: Vec<(String, NaiveDate, NaiveDate)>,
    blackouts: Blackouts,
    defaults: Overrides,
    severities: BTreeMap<String, Overrides>,
    tiers: Vec<Tier>,
    order: Vec<usize>,
    waves: Vec<usize>,
    terms: super::terms::Terms,
}

/// The severity a plan is made for when none is given.
pub const NORMAL: &str = "normal";

// ---------------------------------------------------------------------------
// Errors.

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyIssue {
    /// Where in the file: a key path such as `tiers[2].after[0]`, or empty
    /// for the file as a whole.
    pub key: String,
    /// What is wrong, as a sentence.
    pub message: String,
    /// How to fix it, where known.
    pub help: Option<String>,
    /// For errors inside an expression: the expression and the error (with
    /// its span), so it can be shown with a caret.
    pub expression: Option<(String, ScopeError)>,
}

impl fmt::Display for PolicyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{}: {}", self.key, self.message)?;
        }
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// A policy that could not be read or is invalid; lists every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}", issues_text(.issues))]
pub struct PolicyError {
    /// The file the policy came from (as given to [`Policy::from_toml`]).
    pub file: String,
    /// Every problem, in the order of the file's sections.
    pub issues: Vec<PolicyIssue>,
}

fn issues_text(issues: &[PolicyIssue]) -> String {
    let texts: Vec<String> = issues.iter().map(ToString::to_string).collect();
    if texts.len() == 1 {
        texts.concat()
    } else {
        format!("{} problems:\n  {}", texts.len(), texts.join("\n  "))
    }
}

impl PolicyError {
    fn single(file: &str, key: impl Into<String>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            file: file.to_string(),
            issues: vec![PolicyIssue {
                key: key.into(),
                message: message.into(),
                help: None,
                expression: None,
            }],
        }
    }

    /// Every problem, each on its own lines; expression errors under their
    /// source line with a caret.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for issue in &self.issues {
            match &issue.expression {
                Some((source, error)) => {
                    out.push_str(&error.render(source, &format!("{} {}", self.file, issue.key)));
                }
                None => {
                    let key = if issue.key.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", issue.key)
                    };
                    out.push_str(&format!("error: {}{key}: {}\n", self.file, issue.message));
                    if let Some(help) = &issue.help {
                        out.push_str(&format!("  = help: {help}\n"));
                    }
                }
            }
        }
        out
    }
}

/// Collects issues while validating.
#[derive(Default)]
struct Issues(Vec<PolicyIssue>);

impl Issues {
    fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(PolicyIssue {
            key: key.into(),
            message: message.into(),
            help: None,
            expression: None,
        });
    }

    fn push_help(
        &mut self,
        key: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.0.push(PolicyIssue {
            key: key.into(),
            message: message.into(),
            help: Some(help.into()),
            expression: None,
        });
    }

    fn push_scope(&mut self, key: impl Into<String>, source: &str, error: ScopeError) {
        self.0.push(PolicyIssue {
            key: key.into(),
            message: error.to_string(),
            help: error.help().map(str::to_string),
            expression: Some((source.to_string(), error)),
        });
    }
}

/// A TOML or shape error, with the key path when serde knows it.
fn shape_error(
    file: &str,
    text: &str,
    e: serde_path_to_error::Error<toml::de::Error>,
) -> PolicyError {
    let key = e.path().to_string();
    let inner = e.into_inner();
    let at = inner
        .span()
        .map(|s| crate::diagnostic::LineCol::of(text, s.start));
    let mut message = inner.message().trim().to_string();
    if let Some(at) = at {
        message = format!("{message} (line {}, column {})", at.line, at.column);
    }
    let key = if key == "." { String::new() } else { key };
    let mut err = PolicyError::single(file, key, message);
    if let Some(issue) = err.issues.first_mut() {
        if issue.message.starts_with("unknown field") {
            issue.help = Some("see docs/policy.md for every key a policy may hold".into());
        }
    }
    err
}

// ---------------------------------------------------------------------------
// Reading.

/// Reads only the `[scopes]` table of a policy file as a catalog, ignoring
/// the rest, for evaluating expressions with a policy's named scopes.
pub fn scopes_from_toml(text: &str) -> Result<Catalog, ScopesError> {
    #[derive(Deserialize)]
    struct OnlyScopes {
        #[serde(default)]
        scopes: BTreeMap<String, String>,
    }
    let table: OnlyScopes = toml::from_str(text).map_err(|e| ScopesError::Toml(e.to_string()))?;
    Catalog::new(table.scopes).map_err(|e| ScopesError::Catalog(Box::new(e)))
}

/// Why a policy's `[scopes]` table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopesError {
    /// The file is not TOML, or `scopes` is not a table of strings.
    #[error("{0}")]
    Toml(String),
    /// A scope is invalid.
    #[error("{0}")]
    Catalog(Box<CatalogError>),
}

impl ScopesError {
    /// The error for a terminal; `file` names the policy file.
    pub fn render(&self, file: &str) -> String {
        match self {
            ScopesError::Toml(text) => format!("error: {file}: {text}"),
            ScopesError::Catalog(e) => e.render(&format!("{file} [scopes]")),
        }
    }
}

impl Policy {
    /// Parses and validates a policy. `file` names the source in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Policy, PolicyError> {
        let de = toml::Deserializer::parse(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| crate::diagnostic::LineCol::of(text, s.start));
            let message = match at {
                Some(at) => format!(
                    "{} (line {}, column {})",
                    e.message().trim(),
                    at.line,
                    at.column
                ),
                None => e.message().trim().to_string(),
            };
            PolicyError::single(file, "", format!("not valid TOML: {message}"))
        })?;
        let raw: RawPolicy =
            serde_path_to_error::deserialize(de).map_err(|e| shape_error(file, text, e))?;
        validate(file, raw)
    }

    /// Reads and validates a policy file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError::single(&name, "", format!("cannot read the file: {e}")))?;
        Policy::from_toml(&name, &text)
    }

    /// The policy's time zone: default for windows, blackouts and printing.
    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// Whether any host selected by two tiers is an error.
    pub fn exclusive(&self) -> bool {
        self.exclusive
    }

    /// The named scopes.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The tiers in file order.
    pub fn tiers(&self) -> &[Tier] {
        &self.tiers
    }

    /// Tier indices in rollout order: topological, ties in file order.
    pub fn order(&self) -> &[usize] {
        &self.order
    }

    /// The wave of each tier (by file index): 0 for tiers after nothing,
    /// otherwise one more than the latest wave they come after. Tiers of one
    /// wave have no path between them and may run at the same time.
    pub fn waves(&self) -> &[usize] {
        &self.waves
    }

    /// The named windows.
    pub fn windows(&self) -> &BTreeMap<String, Window> {
        &self.windows
    }

    /// The blackouts as written: name, first local date, first date after.
    pub fn blackout_periods(&self) -> &[(String, NaiveDate, NaiveDate)] {
        &self.blackout_list
    }

    /// The blackouts as UTC intervals.
    pub fn blackouts(&self) -> &Blackouts {
        &self.blackouts
    }

    /// The severities the policy defines overrides for (`normal` is always
    /// accepted, with or without a table).
    pub fn severities(&self) -> impl Iterator<Item = &str> {
        self.severities.keys().map(String::as_str)
    }

    /// Whether `severity` is one a plan may be made for.
    pub fn knows_severity(&self, severity: &str) -> bool {
        severity == NORMAL || self.severities.contains_key(severity)
    }

    /// A tier's settings for a plan of `severity`: built-in defaults, then
    /// `[defaults]`, then the tier's own keys, then `[severity.NAME]`.
    pub fn settings(&self, tier: usize, severity: &str) -> Settings {
        let mut s = Settings::default();
        self.defaults.apply(&mut s);
        if let Some(t) = self.tiers.get(tier) {
            t.own.apply(&mut s);
        }
        if let Some(o) = self.severities.get(severity) {
            o.apply(&mut s);
        }
        s
    }

    /// Where a tier's batches may run, and the zone its times print in.
    pub fn availability(&self, choice: &WindowChoice) -> (Availability, Tz) {
        match choice {
            WindowChoice::Named(name) => match self.windows.get(name) {
                Some(w) => (Availability::Window(w.clone()), w.timezone),
                // Validation guarantees the name; stay total regardless.
                None => (Availability::Any, self.timezone),
            },
            WindowChoice::Any => (Availability::Any, self.timezone),
        }
    }

    /// Warnings that need no fleet: a tier whose scope mentions `prod` and
    /// that does not come, directly or through others, after a tier with a
    /// soak.
    pub fn warnings(&self) -> Vec<String> {
        // In rollout order every predecessor is settled first: one pass.
        let mut soaked_before = vec![false; self.tiers.len()];
        let mut out = Vec::new();
        for &t in &self.order {
            let tier = &self.tiers[t];
            soaked_before[t] = tier
                .after
                .iter()
                .any(|a| soaked_before[*a] || self.settings(*a, NORMAL).soak > TimeDelta::zero());
            if !soaked_before[t] && mentions_prod(&tier.scope) {
                out.push(format!(
                    "tier `{}` selects production hosts but does not come after any tier with a soak; add `after` a tested tier with `soak`",
                    tier.name
                ));
            }
        }
        out
    }

    /// Every tier that `tier` comes after, directly or through others.
    pub fn ancestors(&self, tier: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<usize> = self.tiers.get(tier).map_or(Vec::new(), |t| t.after.clone());
        while let Some(a) = stack.pop() {
            if seen.insert(a) {
                if let Some(t) = self.tiers.get(a) {
                    stack.extend(t.after.iter().copied());
                }
            }
        }
        seen
    }

    /// The client's terms: business hours, hourly rates, notice texts.
    pub fn terms(&self) -> &super::terms::Terms {
        &self.terms
    }

    /// Index of the tier with this name.
    pub fn tier_index(&self, name: &str) -> Option<usize> {
        self.tiers.iter().position(|t| t.name == name)
    }
}

/// Whether a scope, or any named scope it refers to, mentions `prod`.
fn mentions_prod(scope: &Scope) -> bool {
    // Follow the resolved references, not the text: `@production` is not
    // `@prod`. The catalog has no cycles, and `seen` visits each name once.
    let catalog = scope.catalog();
    let mut pending = scope.references();
    let mut seen = BTreeSet::new();
    let mut texts = vec![scope.source().to_string()];
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(named) = catalog.get(&name) {
            texts.push(named.source().to_string());
            pending.extend(named.references());
        }
        texts.push(name);
    }
    texts
        .iter()
        .any(|t| t.to_ascii_lowercase().contains("prod"))
}

// ---------------------------------------------------------------------------
// Validation.

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

/// The longest duration a policy may give anything: a plan looks no further
/// ahead than this, so a longer soak, notice or window could never be met.
pub const MAX_DURATION_DAYS: i64 = super::plan::HORIZON_DAYS;

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

fn validate(file: &str, raw: RawPolicy) -> Result<Policy, PolicyError> {
    let mut issues = Issues::default();

    let timezone = match raw.timezone.as_deref() {
        None => Tz::UTC,
        Some(name) => parse_timezone(name).unwrap_or_else(|e| {
            issues.push("timezone", e.to_string());
            Tz::UTC
        }),
    };

    // Scopes: the catalog checks names, references and cycles as a whole.
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
        let duration = parse_delta(&w.duration, &format!("{key}.duration"), &mut issues);
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

    let mut blackout_list = Vec::new();
    for (i, b) in raw.blackouts.iter().enumerate() {
        let key = format!("blackouts[{i}]");
        let from = parse_date(&b.from, &format!("{key}.from"), &mut issues);
        let to = parse_date(&b.to, &format!("{key}.to"), &mut issues);
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

    let names = WindowNames {
        valid: &windows,
        defined: &raw.windows,
    };
    let defaults = parse_overrides(&raw.defaults, "defaults", &names, &mut issues);
    let mut severities = BTreeMap::new();
    for (name, s) in &raw.severity {
        severities.insert(
            name.clone(),
            parse_overrides(s, &format!("severity.{name}"), &names, &mut issues),
        );
    }

    // Tiers: names first, so that `after` can refer forward.
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
                    && matches!(e.kind(), crate::syntax::ScopeErrorKind::UnknownScope { name, .. } if raw.scopes.contains_key(name));
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
            &names,
            &mut issues,
        );
        let max_unavailable = t.max_unavailable.as_ref().and_then(|m| {
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
                    format!("count = {} means no host could ever be patched, so the tier would never finish", m.count),
                    "allow at least 1 host per group",
                );
                return None;
            }
            Some(MaxUnavailable {
                per: per?,
                count: usize::try_from(m.count).unwrap_or(usize::MAX),
            })
        });
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

    // The tier graph: cycles name every tier on them.
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
    let (order, waves) = if cyclic {
        (Vec::new(), Vec::new())
    } else {
        rollout_order(&tiers)
    };

    // Every batch must fit in its window, under every severity.
    let mut severity_names: Vec<String> = vec![NORMAL.to_string()];
    severity_names.extend(severities.keys().filter(|s| *s != NORMAL).cloned());
    let provisional = Policy {
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

    if issues.0.is_empty() {
        Ok(provisional)
    } else {
        Err(PolicyError {
            file: file.to_string(),
            issues: issues.0,
        })
    }
}

/// Kahn's algorithm with ties broken by file order, and each tier's wave.
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
