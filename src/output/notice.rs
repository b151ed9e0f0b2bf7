//! Written notices: what each tier's contact is told before patching
//! (`docs/outputs.md`, `fleetscope notice`).
//!
//! A [`Notice`] is built from a plan, the policy's `[notice]` terms and
//! the fleet (for the hosts' roles); text, Markdown and JSON are renderings
//! of the same facts. A tier without a contact still gets a notice, which
//! says plainly that nobody is set to receive it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::fleet::Host;
use crate::rollout::NoticeTerms;
use crate::rollout::Plan;
use crate::rollout::TierPlan;
use crate::rollout::{hours_text, Cost, HoursSpec};

/// The notice for one tier's contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// The tier.
    pub tier: String,
    /// The contact as the policy gives it (name, phone, email, ...);
    /// `None` when the tier has none.
    pub contact: Option<BTreeMap<String, String>>,
    /// When the notice must be sent.
    pub notice_at: DateTime<Utc>,
    /// The zone local times are given in (the tier's window's).
    pub timezone: String,
    /// Who does the work, and whom to call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The number to call if trouble arises.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_phone: Option<String>,
    /// Hosts in the tier.
    pub hosts: usize,
    /// Roles of those hosts, sorted.
    pub roles: Vec<String>,
    /// Every batch.
    pub batches: Vec<NoticeBatch>,
    /// The business hours after-hours time is counted against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub business_hours: Option<HoursSpec>,
    /// Seconds of the work outside business hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_hours_s: Option<u64>,
    /// What the work costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// That services may be unavailable.
    pub unavailability: String,
    /// That patches can break things, and skipping them leaves holes open.
    pub risk: String,
    /// Closing text from the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
}

/// One batch as its contact is told of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeBatch {
    /// 1-based.
    pub batch: usize,
    /// Start, UTC.
    pub start: DateTime<Utc>,
    /// End, UTC.
    pub end: DateTime<Utc>,
    /// Start in the tier's zone (RFC 3339 with offset).
    pub local_start: String,
    /// End in the tier's zone.
    pub local_end: String,
    /// How many hosts.
    pub hosts: usize,
    /// Their names, in fleet order.
    pub host_names: Vec<String>,
    /// Their roles, sorted.
    pub roles: Vec<String>,
    /// Seconds of it outside business hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_hours_s: Option<u64>,
    /// What it costs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
}

/// Why notices could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoticeError {
    /// `--tier` named a tier the plan does not have.
    #[error("the plan has no tier `{tier}`; its tiers: {}", .known.join(", "))]
    UnknownTier {
        /// The name asked for.
        tier: String,
        /// The plan's tiers.
        known: Vec<String>,
    },
}

/// What a tier without batches gets instead of a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoNotice {
    /// The tier.
    pub tier: String,
    /// Why nobody is told.
    pub reason: String,
}

/// Notices for every tier with batches, in rollout order, or for the one
/// named. A named tier without batches gives a [`NoNotice`] instead.
/// `host` finds a host of the fleet by name (for its roles).
pub fn notices(
    plan: &Plan,
    terms: &NoticeTerms,
    host: &dyn Fn(&str) -> Option<Host>,
    tier: Option<&str>,
) -> Result<(Vec<Notice>, Vec<NoNotice>), NoticeError> {
    let chosen: Vec<&TierPlan> = match tier {
        None => plan
            .tiers
            .iter()
            .filter(|t| !t.batches.is_empty())
            .collect(),
        Some(name) => match plan.tiers.iter().find(|t| t.name == name) {
            Some(t) => vec![t],
            None => {
                return Err(NoticeError::UnknownTier {
                    tier: name.to_string(),
                    known: plan.tiers.iter().map(|t| t.name.clone()).collect(),
                })
            }
        },
    };
    let mut out = Vec::new();
    let mut none = Vec::new();
    for t in chosen {
        match (t.notice, t.batches.is_empty()) {
            (Some(at), false) => out.push(notice(plan, t, at, terms, host)),
            _ => none.push(NoNotice {
                tier: t.name.clone(),
                reason: format!(
                    "tier `{}` has no batches in this plan (no host is patched in it), so it needs no notice",
                    t.name
                ),
            }),
        }
    }
    Ok((out, none))
}

fn roles_of(names: &[String], host: &dyn Fn(&str) -> Option<Host>) -> Vec<String> {
    let set: BTreeSet<String> = names
        .iter()
        .filter_map(|n| host(n))
        .flat_map(|h| h.roles)
        .collect();
    set.into_iter().collect()
}

fn notice(
    plan: &Plan,
    t: &TierPlan,
    at: DateTime<Utc>,
    terms: &NoticeTerms,
    host: &dyn Fn(&str) -> Option<Host>,
) -> Notice {
    let zone: Tz = t.timezone.parse().unwrap_or(Tz::UTC);
    let batches: Vec<NoticeBatch> = t
        .batches
        .iter()
        .enumerate()
        .map(|(i, b)| NoticeBatch {
            batch: i + 1,
            start: b.start,
            end: b.end,
            local_start: b.start.with_timezone(&zone).to_rfc3339(),
            local_end: b.end.with_timezone(&zone).to_rfc3339(),
            hosts: b.hosts.len(),
            host_names: b.hosts.clone(),
            roles: roles_of(&b.hosts, host),
            after_hours_s: b.after_hours_s,
            cost: b.cost.clone(),
        })
        .collect();
    let provider = terms.provider.clone();
    Notice {
        tier: t.name.clone(),
        contact: (!t.contact.is_empty()).then(|| t.contact.clone()),
        notice_at: at,
        timezone: t.timezone.clone(),
        provider_phone: terms.provider_phone.clone(),
        hosts: t.hosts.len(),
        roles: roles_of(&t.hosts, host),
        batches,
        business_hours: plan.business_hours.clone(),
        after_hours_s: t.after_hours_s,
        cost: t.cost.clone(),
        unavailability: "Services running on these hosts may be unavailable, or slower than usual, at any time during the times listed above.".to_string(),
        risk: "Patches occasionally introduce errors or incompatibilities. Not installing them, however, leaves known vulnerabilities open on these hosts.".to_string(),
        footer: terms.footer.clone(),
        provider,
    }
}

/// How to write a notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Plain text.
    Text,
    /// Markdown.
    Markdown,
}

/// An instant in `zone` and in UTC, as notices show times.
fn when(zone: Tz, t: DateTime<Utc>) -> String {
    format!(
        "{} ({})",
        t.with_timezone(&zone).format("%a %Y-%m-%d %H:%M %Z"),
        t.format("%Y-%m-%d %H:%M UTC")
    )
}

/// Writes one `name: value` line of the header.
fn field(out: &mut String, md: bool, name: &str, value: &str) {
    if md {
        let _ = writeln!(out, "- **{name}:** {value}");
    } else {
        let _ = writeln!(out, "{name:<15} {value}");
    }
}

/// Writes a paragraph and the blank line after it.
fn para(out: &mut String, text: &str) {
    let _ = writeln!(out, "{text}\n");
}

/// Writes the title, underlined in text or as a heading in Markdown.
fn title(out: &mut String, n: &Notice, md: bool) {
    let title = format!("Planned patching: {}", n.tier);
    if md {
        let _ = writeln!(out, "# {title}\n");
    } else {
        let _ = writeln!(out, "{title}\n{}\n", "=".repeat(title.chars().count()));
    }
}

/// Writes the recipient's fields, or says that nobody receives the notice.
fn recipient(out: &mut String, n: &Notice, md: bool) {
    match &n.contact {
        Some(c) => {
            let get = |k: &str| c.get(k).map(String::as_str);
            field(out, md, "To", get("name").unwrap_or("(no name given)"));
            if let Some(p) = get("phone") {
                field(out, md, "Phone", p);
            }
            if let Some(e) = get("email") {
                field(out, md, "Email", e);
            }
            for (k, v) in c.iter().filter(|(k, _)| !matches!(k.as_str(), "name" | "phone" | "email")) {
                field(out, md, k, v);
            }
        }
        None => field(
            out,
            md,
            "To",
            &format!("nobody — tier `{}` has no contact in the policy, so this notice has no recipient; add `contact = {{ name = \"...\", phone = \"...\", email = \"...\" }}` to the tier", n.tier),
        ),
    }
}

/// Writes the sender, send-by time, host count and roles fields.
fn facts(out: &mut String, n: &Notice, md: bool, zone: Tz) {
    if let Some(p) = &n.provider {
        field(out, md, "From", p);
    }
    field(out, md, "Send by", &when(zone, n.notice_at));
    field(out, md, "Hosts", &n.hosts.to_string());
    field(
        out,
        md,
        "Roles",
        &if n.roles.is_empty() {
            "none recorded".to_string()
        } else {
            n.roles.join(", ")
        },
    );
}

/// Writes the schedule: what is patched, then one line per batch.
fn schedule(out: &mut String, n: &Notice, md: bool, zone: Tz) {
    para(
        out,
        &format!(
            "We will patch {} host{} of tier {} in {} batch{}, at these times ({} and UTC):",
            n.hosts,
            if n.hosts == 1 { "" } else { "s" },
            n.tier,
            n.batches.len(),
            if n.batches.len() == 1 { "" } else { "es" },
            n.timezone
        ),
    );
    for b in &n.batches {
        let mut line = format!(
            "{}batch {}: {} → {}, {} host{}",
            if md { "- " } else { "  " },
            b.batch,
            when(zone, b.start),
            when(zone, b.end),
            b.hosts,
            if b.hosts == 1 { "" } else { "s" }
        );
        if !b.roles.is_empty() {
            let _ = write!(line, " ({})", b.roles.join(", "));
        }
        if let Some(a) = b.after_hours_s.filter(|a| *a > 0) {
            let _ = write!(line, "; {} after hours", hours_text(a));
        }
        if let Some(c) = &b.cost {
            let _ = write!(line, "; {} {}", c.amount, c.currency);
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out);
}

/// How long the work takes, and how much of it falls after hours.
fn hours_paragraph(n: &Notice) -> String {
    let total_s: i64 = n
        .batches
        .iter()
        .map(|b| (b.end - b.start).num_seconds())
        .sum();
    let total_s = u64::try_from(total_s).unwrap_or(0);
    match (&n.business_hours, n.after_hours_s) {
        (Some(h), Some(after)) => {
            let regular = total_s.saturating_sub(after);
            let hours = format!("{} {} {}", h.days, h.hours, h.timezone);
            if after == 0 {
                format!(
                    "All {} of the work falls inside business hours ({hours}).",
                    hours_text(total_s)
                )
            } else if regular == 0 {
                format!(
                    "All {} of the work falls after hours (business hours are {hours}).",
                    hours_text(total_s)
                )
            } else {
                format!(
                    "{} of the {} of work falls after hours (business hours are {hours}); {} falls inside them.",
                    hours_text(after),
                    hours_text(total_s),
                    hours_text(regular)
                )
            }
        }
        _ => format!("The work takes {} in total.", hours_text(total_s)),
    }
}

/// What the work costs, or that it costs money at all.
fn cost_paragraph(n: &Notice) -> String {
    match &n.cost {
        Some(c) => format!(
            "Work in regular hours costs money, and work after hours costs more: this tier's work is charged {} {} ({} in business hours, {} after hours).",
            c.amount,
            c.currency,
            hours_text(c.regular_s),
            hours_text(c.after_hours_s)
        ),
        None => {
            "Work in regular hours costs money, and work after hours may cost more.".to_string()
        }
    }
}

/// Writes whom to call if anything goes wrong, and the policy's footer.
fn closing(out: &mut String, n: &Notice) {
    if let Some(phone) = &n.provider_phone {
        para(
            out,
            &format!(
                "If anything goes wrong, call {}{phone}.",
                n.provider
                    .as_deref()
                    .map_or(String::new(), |p| format!("{p} at "))
            ),
        );
    }
    if let Some(f) = &n.footer {
        para(out, f.trim_end());
    }
}

/// A notice as plain text or Markdown.
pub fn render(n: &Notice, style: Style) -> String {
    let md = style == Style::Markdown;
    let mut out = String::new();
    let zone: Tz = n.timezone.parse().unwrap_or(Tz::UTC);
    title(&mut out, n, md);
    recipient(&mut out, n, md);
    facts(&mut out, n, md, zone);
    let _ = writeln!(out);
    schedule(&mut out, n, md, zone);
    para(&mut out, &n.unavailability);
    para(&mut out, &n.risk);
    para(&mut out, &hours_paragraph(n));
    para(&mut out, &cost_paragraph(n));
    closing(&mut out, n);
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}
