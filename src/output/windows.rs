//! The next occurrences of a policy's windows, so that an author sees what
//! the calendar rules mean before planning (`fleetscope windows`).
//!
//! Pure: takes a policy and an instant, returns data; text and JSON are two
//! renderings of the same list.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::rollout::calendar::format_duration;
use crate::rollout::Policy;

/// One window and its next occurrences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowListing {
    /// The window's name.
    pub window: String,
    /// Its recurrence as the policy gives it.
    pub every: String,
    /// How long each occurrence lasts.
    pub duration: String,
    /// The zone its local times are in.
    pub timezone: String,
    /// Its next occurrences, in order.
    pub occurrences: Vec<ListedOccurrence>,
}

/// One occurrence of a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedOccurrence {
    /// Local start with its UTC offset (RFC 3339).
    pub local_start: String,
    /// Start in UTC.
    pub start: DateTime<Utc>,
    /// End in UTC.
    pub end: DateTime<Utc>,
    /// The blackout it overlaps, if any: no batch runs in the part of it
    /// that the blackout covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blackout: Option<String>,
}

/// The next `count` occurrences of every window (in name order) that end
/// after `from`. A window whose calendar ends (the end of representable
/// time) lists fewer. Costs one recurrence step per occurrence listed.
pub fn upcoming(policy: &Policy, from: DateTime<Utc>, count: usize) -> Vec<WindowListing> {
    policy
        .windows()
        .iter()
        .map(|(name, window)| WindowListing {
            window: name.clone(),
            every: window.recurrence.to_string(),
            duration: format_duration(window.duration),
            timezone: window.timezone.name().to_string(),
            occurrences: window
                .occurrences(from)
                .take(count)
                .map(|o| ListedOccurrence {
                    local_start: o.start.with_timezone(&window.timezone).to_rfc3339(),
                    start: o.start,
                    end: o.end,
                    blackout: policy
                        .blackouts()
                        .overlapping(o.start, o.end)
                        .map(str::to_string),
                })
                .collect(),
        })
        .collect()
}

/// The listing as text: one block per window, one line per occurrence
/// (local start with weekday, UTC start and end), blackouts marked.
pub fn to_text(listings: &[WindowListing]) -> String {
    let mut out = String::new();
    if listings.is_empty() {
        out.push_str(
            "The policy defines no windows; every tier runs at any time outside blackouts.\n",
        );
    }
    for (i, l) in listings.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "window {} — {} for {} ({})",
            l.window, l.every, l.duration, l.timezone
        );
        let zone: chrono_tz::Tz = l.timezone.parse().unwrap_or(chrono_tz::Tz::UTC);
        for o in &l.occurrences {
            let local = o.start.with_timezone(&zone);
            let local_end = o.end.with_timezone(&zone);
            let _ = write!(
                out,
                "  {} → {}   {} → {}",
                local.format("%a %Y-%m-%d %H:%M %Z"),
                local_end.format("%H:%M %Z"),
                o.start.format("%Y-%m-%d %H:%M UTC"),
                o.end.format("%Y-%m-%d %H:%M UTC"),
            );
            if let Some(b) = &o.blackout {
                let _ = write!(out, "   overlaps blackout `{b}`");
            }
            out.push('\n');
        }
        if l.occurrences.is_empty() {
            out.push_str("  no further occurrences\n");
        }
    }
    out
}

/// The listing as pretty JSON.
pub fn to_json(listings: &[WindowListing]) -> String {
    serde_json::to_string_pretty(listings).unwrap_or_default()
}
