//! The plan as a person reads it: a table per wave and tier, times in the
//! tier's zone and in UTC.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::{Plan, TierPlan};
use crate::rollout::{calendar, cost};

impl fmt::Display for Plan {
    /// A readable table per wave and tier, times in the tier's zone and UTC,
    /// then the coverage report and warnings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total: usize = self.tiers.iter().map(|t| t.hosts.len()).sum();
        writeln!(
            f,
            "Plan for severity `{}` starting {} — {} tiers, {} hosts planned, {} unassigned",
            self.severity,
            self.start.format("%Y-%m-%d %H:%M UTC"),
            self.tiers.len(),
            total,
            self.unassigned.len()
        )?;
        let mut waves: Vec<usize> = self.tiers.iter().map(|t| t.wave).collect();
        waves.sort_unstable();
        waves.dedup();
        for wave in waves {
            writeln!(f, "\nWave {wave}")?;
            for tier in self.tiers.iter().filter(|t| t.wave == wave) {
                write_tier(f, tier)?;
            }
        }
        let busy = self.tiers.iter().flat_map(|t| &t.batches);
        let busy = busy.map(|b| (b.end - b.start).num_seconds()).sum::<i64>();
        if let Some(line) = cost::summary_line(
            self.after_hours_s,
            u64::try_from(busy).unwrap_or(0),
            self.cost.as_ref(),
        ) {
            writeln!(f, "\nTotal")?;
            if let Some(h) = &self.business_hours {
                writeln!(f, "  business hours: {} {} {}", h.days, h.hours, h.timezone)?;
            }
            writeln!(f, "  {line}")?;
        }
        writeln!(f, "\nCoverage")?;
        writeln!(
            f,
            "  unassigned hosts: {}{}",
            self.unassigned.len(),
            sample(&self.unassigned)
        )?;
        writeln!(f, "  overlapping hosts: {}", self.overlaps.len())?;
        let mut pairs: BTreeMap<&[String], usize> = BTreeMap::new();
        for o in &self.overlaps {
            *pairs.entry(o.tiers.as_slice()).or_insert(0) += 1;
        }
        for (tiers, count) in pairs {
            writeln!(
                f,
                "    {count} selected by {} (patched in {})",
                tiers.join(" + "),
                tiers.first().map_or("", String::as_str)
            )?;
        }
        if !self.empty_tiers.is_empty() {
            writeln!(f, "  empty tiers: {}", self.empty_tiers.join(", "))?;
        }
        if !self.warnings.is_empty() {
            writeln!(f, "\nWarnings")?;
            for w in &self.warnings {
                writeln!(f, "  - {w}")?;
            }
        }
        Ok(())
    }
}

/// One tier's block: its window, batches, limits, times and, with business
/// hours, its after-hours time and cost.
fn write_tier(f: &mut fmt::Formatter<'_>, tier: &TierPlan) -> fmt::Result {
    let zone: Tz = tier.timezone.parse().unwrap_or(Tz::UTC);
    let when = |t: DateTime<Utc>| {
        let local = t.with_timezone(&zone);
        format!(
            "{} ({})",
            local.format("%Y-%m-%d %H:%M %Z"),
            t.format("%H:%M UTC")
        )
    };
    writeln!(f, "  tier {} — {} hosts", tier.name, tier.hosts.len())?;
    if !tier.after.is_empty() {
        writeln!(f, "    after:     {}", tier.after.join(", "))?;
    }
    writeln!(
        f,
        "    window:    {}{}",
        tier.window.name,
        tier.window
            .every
            .as_ref()
            .map_or(String::new(), |e| format!(
                " ({e} for {}, {})",
                tier.window.duration.as_deref().unwrap_or(""),
                tier.window.timezone.as_deref().unwrap_or("")
            ))
    )?;
    writeln!(
        f,
        "    batches:   {} × up to {} hosts (batch {} of {} hosts = {}), {} each",
        tier.batches.len(),
        tier.batch_size,
        tier.batch_setting,
        tier.hosts.len(),
        tier.batch_size,
        calendar::format_duration(tier.batch_duration)
    )?;
    if let Some(m) = &tier.max_unavailable {
        writeln!(
            f,
            "    limit:     at most {} per {} in a batch",
            m.count, m.per
        )?;
    }
    writeln!(
        f,
        "    failures:  tolerates {}; failure {} halts the tier",
        tier.max_failures,
        tier.max_failures.saturating_add(1)
    )?;
    writeln!(f, "    ready:     {}", when(tier.ready))?;
    if tier.approval {
        writeln!(f, "    approval:  waits for approval when ready")?;
    }
    if let Some(n) = tier.notice {
        let who = tier
            .contact
            .get("name")
            .map_or(String::new(), |c| format!(" to {c}"));
        writeln!(f, "    notice:    {}{who}", when(n))?;
    }
    for (i, b) in tier.batches.iter().enumerate().take(12) {
        writeln!(
            f,
            "    batch {:>3}: {} → {}  {} hosts",
            i + 1,
            when(b.start),
            when(b.end),
            b.hosts.len()
        )?;
    }
    if tier.batches.len() > 12 {
        writeln!(f, "    ... {} more batches", tier.batches.len() - 12)?;
    }
    writeln!(
        f,
        "    finish:    {}   soak {}",
        when(tier.finish),
        calendar::format_duration(tier.soak)
    )?;
    let busy = tier.batches.iter().map(|b| (b.end - b.start).num_seconds());
    let busy = u64::try_from(busy.sum::<i64>()).unwrap_or(0);
    if let Some(line) = cost::summary_line(tier.after_hours_s, busy, tier.cost.as_ref()) {
        writeln!(f, "    {line}")?;
    }
    Ok(())
}

fn sample(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
    let more = if names.len() > 5 {
        format!(", ... {} more", names.len() - 5)
    } else {
        String::new()
    };
    format!(" ({}{more})", shown.join(", "))
}
