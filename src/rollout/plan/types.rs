//! The plan as a document: what `Plan::new` produces, what `plan --format
//! json` prints and what a rollout state freezes. Changing these types
//! changes that contract.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::PlanError;

use crate::rollout::calendar::{self, Availability, Blackouts, Window};
use crate::rollout::cost::{Cost, HoursSpec, Rates};
use crate::rollout::policy::WindowChoice;

/// A dated rollout plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The severity the plan was made for.
    pub severity: String,
    /// The instant the plan starts at.
    pub start: DateTime<Utc>,
    /// The policy's time zone (blackout dates are local to it).
    pub timezone: String,
    /// The blackouts the plan honours.
    pub blackouts: Vec<BlackoutPeriod>,
    /// The tiers, in rollout order.
    pub tiers: Vec<TierPlan>,
    /// Hosts no tier selects: they would never be patched.
    pub unassigned: Vec<String>,
    /// Hosts several tiers select, with those tiers in rollout order; each
    /// is patched in the first.
    pub overlaps: Vec<Overlap>,
    /// Tiers that select no host (or only hosts an earlier tier took).
    pub empty_tiers: Vec<String>,
    /// Things that are allowed but probably wrong.
    pub warnings: Vec<String>,
    /// The business hours after-hours time is counted against; absent
    /// without `[business_hours]`, like every field below.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<HoursSpec>,
    /// The hourly rates, with `[cost]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<Rates>,
    /// Seconds of all batches outside business hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hours_s: Option<u64>,
    /// The whole plan's cost: the exact sum of its tiers'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

/// A blackout as the policy wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlackoutPeriod {
    /// Its name.
    pub name: String,
    /// First local date of the blackout.
    pub from: chrono::NaiveDate,
    /// First local date after it.
    pub to: chrono::NaiveDate,
}

/// One tier of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierPlan {
    /// The tier's name.
    pub name: String,
    /// Tiers of one wave have no path between them and may run together.
    pub wave: usize,
    /// The tiers it comes after.
    pub after: Vec<String>,
    /// When its predecessors have finished and soaked (or the plan starts).
    pub ready: DateTime<Utc>,
    /// When its contact is told; `None` for an empty tier.
    pub notice: Option<DateTime<Utc>>,
    /// When its last batch ends (its ready time when it has no batches).
    pub finish: DateTime<Utc>,
    /// Whether it waits for a person's approval at its ready time.
    pub approval: bool,
    /// Where its batches may run, with what that window is.
    pub window: WindowSpec,
    /// The zone its times are shown in.
    pub timezone: String,
    /// Hosts per batch, resolved from the policy's count or percentage.
    pub batch_size: usize,
    /// The policy's batch setting as written (`25%`, `10`).
    pub batch_setting: String,
    /// Time each batch is given.
    #[serde(with = "duration_text")]
    pub batch_duration: TimeDelta,
    /// Failures tolerated before the tier halts, resolved to a count.
    pub max_failures: usize,
    /// Wait after it finishes before its dependents may start.
    #[serde(with = "duration_text")]
    pub soak: TimeDelta,
    /// How long before the first batch its contact is told.
    #[serde(with = "duration_text")]
    pub notice_period: TimeDelta,
    /// The per-group limit, when the tier has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<GroupLimit>,
    /// Who is told.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contact: BTreeMap<String, String>,
    /// Its hosts, in fleet order.
    pub hosts: Vec<String>,
    /// Its batches, in the order they run.
    pub batches: Vec<Batch>,
    /// Seconds of its batches outside business hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hours_s: Option<u64>,
    /// Its cost: the exact sum of its batches'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

/// A `max_unavailable` limit as planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLimit {
    /// The path, as written in the language.
    pub per: String,
    /// Hosts of one group per batch.
    pub count: usize,
}

/// Where a tier's batches may run, self-contained so that a running rollout
/// can reschedule without the policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpec {
    /// The window's name, or `any`.
    pub name: String,
    /// Its recurrence (absent for `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    /// Its duration (absent for `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Its time zone (absent for `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl WindowSpec {
    pub(super) fn of(name: &WindowChoice, availability: &Availability) -> WindowSpec {
        match availability {
            Availability::Window(w) => WindowSpec {
                name: name.to_string(),
                every: Some(w.recurrence.to_string()),
                duration: Some(calendar::format_duration(w.duration)),
                timezone: Some(w.timezone.name().to_string()),
            },
            Availability::Any => WindowSpec {
                name: "any".into(),
                every: None,
                duration: None,
                timezone: None,
            },
        }
    }

    /// The availability this spec describes; `None` if it does not parse
    /// (a hand-edited plan).
    pub fn availability(&self) -> Option<Availability> {
        match (&self.every, &self.duration, &self.timezone) {
            (None, None, None) => Some(Availability::Any),
            (Some(every), Some(duration), Some(zone)) => Some(Availability::Window(Window {
                recurrence: every.parse().ok()?,
                duration: calendar::parse_duration(duration).ok()?,
                timezone: zone.parse().ok()?,
            })),
            _ => None,
        }
    }
}

/// A batch: hosts patched together in `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When its time is up.
    pub end: DateTime<Utc>,
    /// Its hosts, in fleet order.
    pub hosts: Vec<String>,
    /// Seconds of it outside business hours or on a holiday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_hours_s: Option<u64>,
    /// What it costs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

/// A host that several tiers select.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlap {
    /// The host.
    pub host: String,
    /// Every tier that selects it, in rollout order; it joins the first.
    pub tiers: Vec<String>,
}

impl Plan {
    /// The plan as JSON (pretty, stable key order).
    ///
    /// Fails only if serialization itself fails, which the plan's types
    /// (strings, numbers, lists, maps with string keys) should never do.
    pub fn to_json(&self) -> Result<String, PlanError> {
        serde_json::to_string_pretty(self).map_err(|e| PlanError::Serialize(e.to_string()))
    }

    /// The blackouts as UTC intervals, rebuilt from the plan.
    pub fn blackout_intervals(&self) -> Blackouts {
        let zone: Tz = self.timezone.parse().unwrap_or(Tz::UTC);
        let periods: Vec<_> = self
            .blackouts
            .iter()
            .map(|b| (b.name.clone(), b.from, b.to))
            .collect();
        Blackouts::new(zone, &periods).unwrap_or_else(|_| Blackouts::none())
    }

    /// Tier by tier, the hosts that this plan has and `previous` had not
    /// (came) and the other way round (went). Tiers in this plan's order,
    /// then tiers only the previous plan had.
    pub fn changes_since(&self, previous: &Plan) -> Vec<TierChange> {
        let old: BTreeMap<&str, &TierPlan> = previous
            .tiers
            .iter()
            .map(|t| (t.name.as_str(), t))
            .collect();
        let mut out = Vec::new();
        for tier in &self.tiers {
            let before: std::collections::BTreeSet<&str> = old
                .get(tier.name.as_str())
                .map_or_else(Default::default, |t| {
                    t.hosts.iter().map(String::as_str).collect()
                });
            let now: std::collections::BTreeSet<&str> =
                tier.hosts.iter().map(String::as_str).collect();
            out.push(TierChange {
                tier: tier.name.clone(),
                came: tier
                    .hosts
                    .iter()
                    .filter(|h| !before.contains(h.as_str()))
                    .cloned()
                    .collect(),
                went: old.get(tier.name.as_str()).map_or(Vec::new(), |t| {
                    t.hosts
                        .iter()
                        .filter(|h| !now.contains(h.as_str()))
                        .cloned()
                        .collect()
                }),
            });
        }
        for t in &previous.tiers {
            if !self.tiers.iter().any(|n| n.name == t.name) {
                out.push(TierChange {
                    tier: t.name.clone(),
                    came: Vec::new(),
                    went: t.hosts.clone(),
                });
            }
        }
        out
    }
}

/// Hosts that joined and left one tier between two plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierChange {
    /// The tier.
    pub tier: String,
    /// Hosts in the new plan's tier but not the old one's.
    pub came: Vec<String>,
    /// Hosts in the old plan's tier but not the new one's.
    pub went: Vec<String>,
}

/// Serializes a duration as text such as `24h` or `1h30m`.
mod duration_text {
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &TimeDelta, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::calendar::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TimeDelta, D::Error> {
        let text = String::deserialize(d)?;
        super::calendar::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}
