//! The client's terms in a policy: `[business_hours]`, `[cost]` and
//! `[notice]` (`docs/policy.md`), as written and as validated.
//!
//! Kept apart from the rest of the policy file so that it reads as one
//! concern: the policy module deserializes these tables and hands them
//! here; this module returns the validated [`Terms`] and the problems it
//! found, each with its key path. It decides nothing about plans.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::rollout::calendar::{parse_timezone, BusinessHours};
use crate::rollout::cost::{parse_cents, Rates};

/// `[business_hours]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBusinessHours {
    days: RawDays,
    hours: String,
    timezone: Option<String>,
    #[serde(default)]
    holidays: Vec<RawDate>,
}

/// `"mon-fri"`, `"mon,tue"` or `["mon", "tue"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawDays {
    Text(String),
    List(Vec<String>),
}

/// A date as a string or a TOML date.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawDate {
    Text(String),
    Toml(toml::value::Datetime),
}

/// `[cost]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCost {
    currency: String,
    regular: RawRate,
    after_hours: RawRate,
}

/// A rate: `150`, `150.5` or `"150.50"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawRate {
    Int(i64),
    Float(f64),
    Text(String),
}

/// `[notice]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNotice {
    provider: Option<String>,
    provider_phone: Option<String>,
    footer: Option<String>,
    calendar_id: Option<String>,
}

/// Who writes the notices, and what they add.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoticeTerms {
    /// The service provider's name (who does the patching).
    pub provider: Option<String>,
    /// Whom the client calls if trouble arises.
    pub provider_phone: Option<String>,
    /// Closing text for every notice.
    pub footer: Option<String>,
    /// What calendar events' identifiers are made from; defaults to the
    /// policy file's name.
    pub calendar_id: Option<String>,
}

/// The validated client terms of a policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms {
    /// `[business_hours]`, when given.
    pub business_hours: Option<BusinessHours>,
    /// `[cost]`, when given (requires business hours).
    pub rates: Option<Rates>,
    /// `[notice]`.
    pub notice: NoticeTerms,
}

/// A problem with the terms: key path, message, help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TermsIssue {
    pub key: String,
    pub message: String,
    pub help: Option<String>,
}

fn issue(key: &str, message: impl Into<String>, help: Option<&str>) -> TermsIssue {
    TermsIssue {
        key: key.to_string(),
        message: message.into(),
        help: help.map(str::to_string),
    }
}

/// Validates the three tables. `policy_zone` is the default zone of
/// business hours.
pub(crate) fn validate(
    hours: Option<&RawBusinessHours>,
    cost: Option<&RawCost>,
    notice: Option<&RawNotice>,
    policy_zone: Tz,
) -> (Terms, Vec<TermsIssue>) {
    let mut issues = Vec::new();
    let business_hours = hours.and_then(|h| business_hours(h, policy_zone, &mut issues));
    let rates = cost.and_then(|c| rates(c, &mut issues));
    if cost.is_some() && hours.is_none() {
        issues.push(issue(
            "cost",
            "[cost] prices time inside and outside business hours, but the policy has no [business_hours]",
            Some("add [business_hours] (days, hours, timezone); for one flat rate, make every hour a business hour with days = \"mon-sun\" and hours = \"00:00-24:00\""),
        ));
    }
    let notice = notice.map_or_else(NoticeTerms::default, |n| {
        for (key, value) in [
            ("notice.provider", &n.provider),
            ("notice.provider_phone", &n.provider_phone),
            ("notice.calendar_id", &n.calendar_id),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                issues.push(issue(
                    key,
                    "is empty",
                    Some("give a value or leave the key out"),
                ));
            }
        }
        NoticeTerms {
            provider: n.provider.clone(),
            provider_phone: n.provider_phone.clone(),
            footer: n.footer.clone(),
            calendar_id: n.calendar_id.clone(),
        }
    });
    (
        Terms {
            business_hours,
            rates,
            notice,
        },
        issues,
    )
}

fn business_hours(
    raw: &RawBusinessHours,
    policy_zone: Tz,
    issues: &mut Vec<TermsIssue>,
) -> Option<BusinessHours> {
    let zone = match raw.timezone.as_deref() {
        None => Some(policy_zone),
        Some(name) => match parse_timezone(name) {
            Ok(z) => Some(z),
            Err(e) => {
                issues.push(issue("business_hours.timezone", e.to_string(), None));
                None
            }
        },
    };
    let mut holidays = Vec::new();
    let mut dates_ok = true;
    for (i, d) in raw.holidays.iter().enumerate() {
        let text = match d {
            RawDate::Text(t) => t.clone(),
            RawDate::Toml(t) => t.to_string(),
        };
        match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(date) if text.len() == 10 => holidays.push(date),
            _ => {
                dates_ok = false;
                issues.push(issue(
                    &format!("business_hours.holidays[{i}]"),
                    format!("`{text}` is not a date"),
                    Some("write a local date as \"YYYY-MM-DD\""),
                ));
            }
        }
    }
    let days: Vec<&str> = match &raw.days {
        RawDays::Text(t) => vec![t.as_str()],
        RawDays::List(l) => l.iter().map(String::as_str).collect(),
    };
    // Check days and hours even when the zone is bad, so that every
    // problem is reported at once.
    match BusinessHours::new(days, &raw.hours, zone.unwrap_or(Tz::UTC), holidays) {
        Ok(h) => (zone.is_some() && dates_ok).then_some(h),
        Err(e) => {
            let key = match e {
                crate::rollout::calendar::HoursError::BadDay { .. }
                | crate::rollout::calendar::HoursError::NoDays => "business_hours.days",
                _ => "business_hours.hours",
            };
            issues.push(issue(key, e.to_string(), Some(e.help())));
            None
        }
    }
}

fn rates(raw: &RawCost, issues: &mut Vec<TermsIssue>) -> Option<Rates> {
    let currency = raw.currency.trim();
    let currency_ok = currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase());
    if !currency_ok {
        issues.push(issue(
            "cost.currency",
            format!("`{}` is not a currency code", raw.currency),
            Some("write a three-letter ISO 4217 code such as \"USD\" or \"EUR\""),
        ));
    }
    let mut rate = |key: &str, r: &RawRate| {
        let text = match r {
            RawRate::Int(i) => i.to_string(),
            // The shortest text that reads back as this float: `150.5`
            // for 150.5, so two-place decimals come through exactly.
            RawRate::Float(f) => f.to_string(),
            RawRate::Text(t) => t.trim().to_string(),
        };
        let cents = parse_cents(&text);
        if cents.is_none() {
            issues.push(issue(
                key,
                format!("`{text}` is not an hourly rate"),
                Some("write a non-negative amount with at most two decimal places, such as 150 or 187.50"),
            ));
        }
        cents
    };
    let regular = rate("cost.regular", &raw.regular);
    let after_hours = rate("cost.after_hours", &raw.after_hours);
    Some(Rates {
        currency: currency_ok.then(|| currency.to_string())?,
        regular: regular?,
        after_hours: after_hours?,
    })
}
