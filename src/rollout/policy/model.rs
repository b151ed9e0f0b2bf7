//! The validated policy: a [`Policy`] cannot be constructed invalid, and
//! answers what a tier's settings are under a severity.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{NaiveDate, TimeDelta};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::Warning;
use crate::rollout::calendar::{Availability, Blackouts, Window};
use crate::scope::{Catalog, Scope};
use crate::syntax::Path;

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
    pub(super) timezone: Tz,
    pub(super) exclusive: bool,
    pub(super) catalog: Catalog,
    pub(super) windows: BTreeMap<String, Window>,
    pub(super) blackout_list: Vec<(String, NaiveDate, NaiveDate)>,
    pub(super) blackouts: Blackouts,
    pub(super) defaults: Overrides,
    pub(super) severities: BTreeMap<String, Overrides>,
    pub(super) tiers: Vec<Tier>,
    pub(super) order: Vec<usize>,
    pub(super) waves: Vec<usize>,
    pub(super) terms: super::terms::Terms,
}

/// The severity a plan is made for when none is given.
pub const NORMAL: &str = "normal";

impl Policy {
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
    #[expect(
        clippy::indexing_slicing,
        reason = "order and after hold tier indices below tiers.len(), validated when the policy was built"
    )]
    pub fn warnings(&self) -> Vec<Warning> {
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
                out.push(Warning::ProductionWithoutSoak {
                    tier: tier.name.clone(),
                });
            }
        }
        out
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
