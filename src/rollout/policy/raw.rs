//! The policy file as written: serde types that mirror the TOML, with
//! unknown keys refused. Nothing here is validated; `check` does that.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPolicy {
    pub(super) timezone: Option<String>,
    #[serde(default)]
    pub(super) exclusive: bool,
    #[serde(default)]
    pub(super) scopes: BTreeMap<String, String>,
    #[serde(default)]
    pub(super) windows: BTreeMap<String, RawWindow>,
    #[serde(default)]
    pub(super) blackouts: Vec<RawBlackout>,
    #[serde(default)]
    pub(super) defaults: RawSettings,
    #[serde(default)]
    pub(super) tiers: Vec<RawTier>,
    #[serde(default)]
    pub(super) severity: BTreeMap<String, RawSettings>,
    // The client's terms, validated in `terms`.
    pub(super) business_hours: Option<super::terms::RawBusinessHours>,
    pub(super) cost: Option<super::terms::RawCost>,
    pub(super) notice: Option<super::terms::RawNotice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWindow {
    pub(super) every: String,
    pub(super) duration: String,
    pub(super) timezone: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBlackout {
    pub(super) name: String,
    pub(super) from: RawDate,
    pub(super) to: RawDate,
}

/// A date written as a string (`"2026-12-19"`) or as a TOML date.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawDate {
    Text(String),
    Toml(toml::value::Datetime),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSettings {
    pub(super) window: Option<String>,
    pub(super) batch: Option<RawAmount>,
    pub(super) batch_duration: Option<String>,
    pub(super) max_failures: Option<RawAmount>,
    pub(super) soak: Option<String>,
    pub(super) notice: Option<String>,
    pub(super) approval: Option<bool>,
}

/// A count (`3`, `"3"`) or a percentage (`"25%"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(super) enum RawAmount {
    Count(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTier {
    pub(super) name: String,
    pub(super) scope: String,
    #[serde(default)]
    pub(super) after: Vec<String>,
    #[serde(default)]
    pub(super) exclusive: Option<bool>,
    pub(super) window: Option<String>,
    pub(super) batch: Option<RawAmount>,
    pub(super) batch_duration: Option<String>,
    pub(super) max_failures: Option<RawAmount>,
    pub(super) soak: Option<String>,
    pub(super) notice: Option<String>,
    pub(super) approval: Option<bool>,
    pub(super) max_unavailable: Option<RawMaxUnavailable>,
    pub(super) contact: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaxUnavailable {
    pub(super) per: String,
    pub(super) count: i64,
}
