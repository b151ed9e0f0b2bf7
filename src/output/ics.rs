//! Calendar files: a plan as an RFC 5545 iCalendar with one event per batch
//! (`docs/outputs.md`, `fleetscope plan --format ics`).
//!
//! Escaping, quoting and line folding are the `icalendar` crate's; it
//! keeps properties and parameters in ordered maps, so output is the same
//! bytes for the same inputs. Two things this module pins for that: the
//! `DTSTAMP` is the plan's start (never the clock), and every event has a
//! `UID` made from the calendar id, the tier and the batch number, so a
//! re-plan (another fleet, another start) updates the events a client
//! imported instead of adding new ones.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use icalendar::{Calendar, Component, Event, EventLike, Property};

use crate::rollout::hours_text;
use crate::rollout::Plan;
use crate::rollout::{Batch, TierPlan};

/// The `PRODID` of every calendar fleetscope writes.
pub const PRODID: &str = "-//fleetscope//rollout plan//EN";

/// The `UID` of batch `batch` (1-based) of `tier` in the calendar
/// `calendar_id`: `<tier>.<batch>.<calendar_id>@fleetscope`, with every
/// byte outside `A-Za-z0-9-_` written as `%XX` so that the parts cannot run
/// into each other. Stable: it depends on nothing else.
pub fn uid(calendar_id: &str, tier: &str, batch: usize) -> String {
    format!(
        "{}.{batch}.{}@fleetscope",
        encode(tier),
        encode(calendar_id)
    )
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A contact name as an RFC 5545 parameter value: always quoted, so that
/// `;`, `,` and `:` are safe; a double quote cannot appear inside one at
/// all and becomes `'`, and control characters (line breaks) become spaces.
fn quoted_param(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| match c {
            '"' => '\'',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    format!("\"{}\"", clean.trim())
}

/// The plan as an iCalendar file: CRLF line ends, folded at 75 octets.
/// `calendar_id` names the series of plans whose events replace each other
/// (the CLI uses the policy's `[notice] calendar_id`, or its file name).
pub fn calendar(plan: &Plan, calendar_id: &str) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"));
    cal.append_property(Property::new("PRODID", PRODID));
    cal.append_property(Property::new("CALSCALE", "GREGORIAN"));
    cal.append_property(Property::new("METHOD", "PUBLISH"));
    cal.append_property(Property::new(
        "X-WR-CALNAME",
        format!("Patching: {calendar_id}"),
    ));
    for tier in &plan.tiers {
        let count = tier.batches.len();
        for (i, batch) in tier.batches.iter().enumerate() {
            cal.push(event(plan, tier, i + 1, count, batch, calendar_id));
        }
    }
    cal.to_string()
}

fn event(
    plan: &Plan,
    tier: &TierPlan,
    number: usize,
    count: usize,
    batch: &Batch,
    calendar_id: &str,
) -> Event {
    let mut e = Event::new();
    e.uid(&uid(calendar_id, &tier.name, number));
    e.timestamp(plan.start);
    e.starts(batch.start);
    e.ends(batch.end);
    let hosts = batch.hosts.len();
    e.summary(&format!(
        "Patching {}: batch {number} of {count}, {hosts} host{}",
        tier.name,
        if hosts == 1 { "" } else { "s" }
    ));
    e.description(&description(tier, batch));
    if let Some(email) = tier
        .contact
        .get("email")
        .map(|m| m.trim())
        .filter(|m| m.contains('@'))
    {
        let mut attendee = Property::new("ATTENDEE", format!("mailto:{email}"));
        if let Some(name) = tier.contact.get("name") {
            attendee.add_parameter("CN", &quoted_param(name));
        }
        attendee.add_parameter("ROLE", "REQ-PARTICIPANT");
        e.append_multi_property(attendee);
    }
    e.done()
}

fn description(tier: &TierPlan, batch: &Batch) -> String {
    let zone: Tz = tier.timezone.parse().unwrap_or(Tz::UTC);
    let local = |t: DateTime<Utc>| {
        t.with_timezone(&zone)
            .format("%a %Y-%m-%d %H:%M %Z")
            .to_string()
    };
    let mut lines = vec![
        format!("Tier {}: {} hosts", tier.name, batch.hosts.len()),
        format!(
            "Time: {} to {} ({} to {})",
            local(batch.start),
            local(batch.end),
            batch.start.format("%Y-%m-%d %H:%M UTC"),
            batch.end.format("%Y-%m-%d %H:%M UTC")
        ),
    ];
    lines.push(match (&tier.window.every, &tier.window.duration) {
        (Some(every), Some(duration)) => format!(
            "Window: {} ({every} for {duration}, {})",
            tier.window.name,
            tier.window.timezone.as_deref().unwrap_or("")
        ),
        _ => "Window: any time outside blackouts".to_string(),
    });
    if tier.contact.is_empty() {
        lines.push("Contact: none set in the policy".to_string());
    } else {
        // Name, phone and email as they are; any other key with its name.
        let known = ["name", "phone", "email"];
        let parts: Vec<String> = known
            .iter()
            .filter_map(|k| tier.contact.get(*k).cloned())
            .chain(
                tier.contact
                    .iter()
                    .filter(|(k, _)| !known.contains(&k.as_str()))
                    .map(|(k, v)| format!("{k} {v}")),
            )
            .collect();
        lines.push(format!("Contact: {}", parts.join(", ")));
    }
    if let Some(after) = batch.after_hours_s {
        let total = u64::try_from((batch.end - batch.start).num_seconds()).unwrap_or(0);
        lines.push(format!(
            "After hours: {} of {}",
            hours_text(after),
            hours_text(total)
        ));
    }
    if let Some(c) = &batch.cost {
        lines.push(format!("Cost: {} {}", c.amount, c.currency));
    }
    lines.push("Services on these hosts may be unavailable during this time.".to_string());
    lines.join("\n")
}
