//! [`Rollout::status`]: progress per tier, and how it reads on a terminal.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::progress::Progress;
use super::{ts, Event, Rollout, Stop};

/// Progress of one tier, as [`Rollout::status`] reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierStatus {
    /// The tier.
    pub name: String,
    /// Where it stands.
    pub phase: TierPhase,
    /// Hosts in the tier.
    pub hosts: usize,
    /// Hosts that succeeded.
    pub succeeded: usize,
    /// Hosts that failed.
    pub failed: usize,
    /// Failures the tier tolerates.
    pub max_failures: usize,
    /// Batches in the tier.
    pub batches: usize,
    /// Batches with every result in.
    pub batches_done: usize,
    /// When it is (or was) ready, once its predecessors have finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<DateTime<Utc>>,
    /// When it finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<DateTime<Utc>>,
    /// Why it is halted or blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a tier stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TierPhase {
    /// Waiting for predecessors, soak, notice or a window.
    Pending,
    /// Ready, waiting for a person's approval.
    WaitingApproval,
    /// A batch has begun and the tier has not finished.
    Running,
    /// Halted on failures.
    Halted,
    /// A tier it comes after (directly or not) is halted.
    Blocked,
    /// Every host has a result.
    Finished,
    /// The rollout was aborted before the tier finished.
    Aborted,
}

impl fmt::Display for TierPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TierPhase::Pending => "pending",
            TierPhase::WaitingApproval => "waiting for approval",
            TierPhase::Running => "running",
            TierPhase::Halted => "halted",
            TierPhase::Blocked => "blocked",
            TierPhase::Finished => "finished",
            TierPhase::Aborted => "aborted",
        })
    }
}

/// A summary of a rollout, per tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The state's revision.
    pub revision: u64,
    /// The plan's severity.
    pub severity: String,
    /// The whole rollout's halt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub halted: Option<Stop>,
    /// The abort.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted: Option<Stop>,
    /// Every tier, in rollout order.
    pub tiers: Vec<TierStatus>,
    /// Events in the log.
    pub events: usize,
    /// The last event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event: Option<Event>,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "rollout (severity `{}`), revision {}, {} events",
            self.severity, self.revision, self.events
        )?;
        if let Some(a) = &self.aborted {
            writeln!(f, "ABORTED by {} at {}: {}", a.by, ts(a.at), a.reason)?;
        } else if let Some(h) = &self.halted {
            writeln!(f, "HALTED by {} at {}: {}", h.by, ts(h.at), h.reason)?;
        }
        for t in &self.tiers {
            writeln!(
                f,
                "  {:<16} {:<20} batches {}/{}  hosts {}/{} ok, {} failed (tolerates {})",
                t.name,
                t.phase.to_string(),
                t.batches_done,
                t.batches,
                t.succeeded,
                t.hosts,
                t.failed,
                t.max_failures
            )?;
            if let Some(note) = &t.note {
                writeln!(f, "  {:<16} {note}", "")?;
            }
        }
        if let Some(e) = &self.last_event {
            writeln!(f, "last event: {} by {}: {}", ts(e.at), e.actor, e.event)?;
        }
        Ok(())
    }
}

impl Rollout {
    /// Progress per tier at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> Status {
        self.progress().status(now, self.events.last().cloned())
    }
}

impl Progress {
    /// [`Rollout::status`] from the summaries; `last_event` is the log's
    /// last entry.
    pub(crate) fn status(&self, now: DateTime<Utc>, last_event: Option<Event>) -> Status {
        let views = self.views();
        let tiers = self
            .plan
            .tiers
            .iter()
            .zip(&self.tiers)
            .zip(&views)
            .map(|((tier, run), view)| {
                let failed = run.failures;
                let results = run.results;
                let batches_done = run.done;
                let began = run.began_any();
                let (phase, note) = if view.finished.is_some_and(|f| f <= now) {
                    (TierPhase::Finished, None)
                } else if self.abort.is_some() {
                    (TierPhase::Aborted, None)
                } else if let Some(h) = &run.halted {
                    (
                        TierPhase::Halted,
                        Some(format!("halted at {}: {}", ts(h.at), h.reason)),
                    )
                } else if let Some(by) = &view.blocked_by {
                    (
                        TierPhase::Blocked,
                        Some(format!("blocked: tier `{by}` is halted")),
                    )
                } else if began {
                    (TierPhase::Running, None)
                } else if tier.approval
                    && run.approved.is_none()
                    && view.ready.as_ref().is_some_and(|(r, _)| *r <= now)
                {
                    (TierPhase::WaitingApproval, None)
                } else {
                    (TierPhase::Pending, None)
                };
                TierStatus {
                    name: tier.name.clone(),
                    phase,
                    hosts: run.hosts,
                    succeeded: results - failed.min(results),
                    failed,
                    max_failures: tier.max_failures,
                    batches: run.sizes.len(),
                    batches_done,
                    ready: view.ready.as_ref().map(|(r, _)| *r),
                    finished: view.finished,
                    note,
                }
            })
            .collect();
        Status {
            revision: self.revision,
            severity: self.plan.severity.clone(),
            halted: self.halt.clone(),
            aborted: self.abort.clone(),
            tiers,
            events: usize::try_from(self.events).unwrap_or(usize::MAX),
            last_event,
        }
    }
}
