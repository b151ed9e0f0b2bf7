//! The operations that change a rollout: results, acknowledgements,
//! approvals, halts, resumes and the abort.
//!
//! Each is decided on the summaries ([`Progress`]) and yields the events it
//! causes; applying those events is the whole change. A refused operation
//! yields an error and no event, so it leaves the state unchanged. The
//! in-memory [`Rollout`] and every store decide with this same code.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::next::describe_for;
use super::progress::{HostRow, Progress};
use super::{ts, Action, Event, EventKind, HostResult, Outcome, Rollout, RunError, ENGINE};

/// A change a patch tool or a person asks for, as a store takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Record the same result for these hosts, all or nothing.
    Record {
        /// The hosts.
        hosts: Vec<String>,
        /// Their result.
        outcome: Outcome,
    },
    /// Acknowledge a `start` action ([`Rollout::begin`]).
    Begin {
        /// The tier.
        tier: String,
        /// The batch, 1-based.
        batch: usize,
    },
    /// Acknowledge a `notify` action ([`Rollout::notified`]).
    Notified {
        /// The tier.
        tier: String,
    },
    /// Approve a tier ([`Rollout::approve`]).
    Approve {
        /// The tier.
        tier: String,
    },
    /// Halt the rollout ([`Rollout::halt`]).
    Halt {
        /// Why.
        reason: String,
    },
    /// Lift a halt ([`Rollout::resume`]).
    Resume {
        /// The tier, for a tier's halt.
        tier: Option<String>,
    },
    /// Abort the rollout ([`Rollout::abort`]).
    Abort {
        /// Why.
        reason: String,
    },
}

/// What an applied [`Operation`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Applied {
    /// Hosts whose result was recorded now (a retry of the same result
    /// counts as not changed).
    pub changed: usize,
    /// Tiers halted on failures after the operation.
    pub halted_tiers: Vec<String>,
    /// The revision after the operation.
    pub revision: u64,
}

impl Rollout {
    /// Records a host's result. Returns `Ok(false)`, changing nothing, when
    /// the host already has this very result (a retry).
    ///
    /// Refuses a host the rollout does not have, a host whose batch has not
    /// begun or has no result missing, a result that contradicts the one
    /// recorded, a time before the last event, and any result after an
    /// abort. Results are accepted while the tier or the rollout is halted:
    /// the hosts of a begun batch are still being patched.
    ///
    /// A failure that takes the tier's failures beyond `max_failures`
    /// halts the tier (logged with [`ENGINE`] as the actor); after the halt
    /// is resumed, every further failure halts it again.
    pub fn record(
        &mut self,
        host: &str,
        outcome: Outcome,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, RunError> {
        let events = self
            .progress()
            .record(host, self.host_row(host), outcome, by, at)?;
        let changed = !events.is_empty();
        self.apply_all(events);
        Ok(changed)
    }

    /// Acknowledges a `start` action: the patch tool began batch `batch`
    /// (1-based) of `tier` at `at`. Accepted only when [`Rollout::next`] at
    /// `at` offers to start exactly this batch.
    pub fn begin(
        &mut self,
        tier: &str,
        batch: usize,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), RunError> {
        self.decide(self.progress().begin(tier, batch, by, at))
    }

    /// Acknowledges a `notify` action: the tier's contact was told at `at`.
    /// Accepted only when [`Rollout::next`] at `at` asks for this notice.
    pub fn notified(&mut self, tier: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        self.decide(self.progress().notified(tier, by, at))
    }

    /// Approves a tier whose policy asks for approval. Accepted once every
    /// tier it comes after has finished (its soak may still be running, so
    /// an approver can look at the results and approve in advance), also
    /// while the rollout is halted.
    pub fn approve(&mut self, tier: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        self.decide(self.progress().approve(tier, by, at))
    }

    /// Halts the whole rollout until [`Rollout::resume`]: `next` reports
    /// only the halt; results of hosts already being patched are still
    /// accepted, and approvals too.
    pub fn halt(&mut self, reason: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        self.decide(self.progress().halt(reason, by, at))
    }

    /// Lifts a halt: the whole rollout's with `tier = None`, or the named
    /// tier's halt on failures. A resumed tier finishes no earlier than its
    /// resume, so its dependents soak from then at the earliest.
    pub fn resume(
        &mut self,
        tier: Option<&str>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), RunError> {
        self.decide(self.progress().resume(tier, by, at))
    }

    /// Aborts the rollout for good: afterwards every operation is refused
    /// and `next` reports the abort.
    pub fn abort(&mut self, reason: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        self.decide(self.progress().abort(reason, by, at))
    }

    /// Applies an [`Operation`], all or nothing: when any part is refused
    /// the rollout is left as it was. Costs one pass over the results, and
    /// one search for each host recorded.
    pub fn perform(
        &mut self,
        operation: &Operation,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Applied, RunError> {
        let mut progress = self.progress();
        let mut events = Vec::new();
        let mut changed = 0;
        match operation {
            Operation::Record { hosts, outcome } => {
                // Rows as they stand after the results decided so far.
                let mut recorded: BTreeMap<&str, HostResult> = BTreeMap::new();
                for host in hosts {
                    let row = self.host_row(host).map(|mut row| {
                        if let Some(r) = recorded.get(host.as_str()) {
                            row.result = Some(r.clone());
                        }
                        row
                    });
                    let decided = progress.record(host, row, outcome.clone(), by, at)?;
                    if !decided.is_empty() {
                        changed += 1;
                        recorded.insert(
                            host,
                            HostResult {
                                outcome: outcome.clone(),
                                at,
                            },
                        );
                    }
                    for e in decided {
                        progress.apply(&e);
                        events.push(e);
                    }
                }
            }
            other => events = progress.decide(other, by, at)?,
        }
        self.apply_all(events);
        Ok(Applied {
            changed,
            halted_tiers: self
                .tiers
                .iter()
                .filter(|t| t.halted.is_some())
                .map(|t| t.name.clone())
                .collect(),
            revision: self.revision,
        })
    }
}

impl Progress {
    /// Decides one host's result; `row` is the host's row (`None`: the
    /// rollout has no such host). An empty list is a retry of the same
    /// result.
    pub(crate) fn record(
        &self,
        host: &str,
        row: Option<HostRow>,
        outcome: Outcome,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Event>, RunError> {
        self.check_open()?;
        check_actor(by)?;
        if matches!(&outcome, Outcome::Failed(r) if r.trim().is_empty()) {
            return Err(RunError::EmptyReason("failure"));
        }
        let row = row.ok_or_else(|| RunError::UnknownHost(host.to_string()))?;
        let (Some(tier), Some(run)) = (self.plan.tiers.get(row.tier), self.tiers.get(row.tier))
        else {
            return Err(RunError::UnknownHost(host.to_string()));
        };
        if let Some(previous) = row.result {
            if previous.outcome == outcome {
                return Ok(Vec::new());
            }
            return Err(RunError::ConflictingResult {
                host: host.to_string(),
                previous: previous.outcome,
                at: ts(previous.at),
                new: outcome,
            });
        }
        if row.began.is_none() {
            return Err(RunError::NotInRunningBatch {
                host: host.to_string(),
                tier: tier.name.clone(),
                batch: row.batch + 1,
                why: "it has not begun; `next` says when it may, and `begin` records that it did"
                    .into(),
            });
        }
        self.check_time(at)?;
        let failed = matches!(outcome, Outcome::Failed(_));
        let failures = run.failures + usize::from(failed);
        let halts = failed && failures > tier.max_failures && run.halted.is_none();
        let halt_reason = match &outcome {
            Outcome::Failed(reason) => format!(
                "{failures} failures exceed max_failures {} (the last: {host}: {reason})",
                tier.max_failures
            ),
            Outcome::Succeeded => String::new(),
        };
        let mut events = vec![event(
            at,
            by,
            EventKind::Result {
                tier: tier.name.clone(),
                batch: row.batch + 1,
                host: host.to_string(),
                outcome,
            },
        )];
        if halts {
            events.push(event(
                at,
                ENGINE,
                EventKind::TierHalted {
                    tier: tier.name.clone(),
                    reason: halt_reason,
                },
            ));
        }
        Ok(events)
    }

    pub(crate) fn begin(
        &self,
        tier: &str,
        batch: usize,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Event>, RunError> {
        self.check_open()?;
        check_actor(by)?;
        let t = self.tier_index(tier)?;
        let count = self.tiers.get(t).map_or(0, |p| p.sizes.len());
        if batch == 0 || batch > count {
            return Err(RunError::UnknownBatch {
                tier: tier.to_string(),
                batch,
                count,
            });
        }
        self.check_time(at)?;
        let actions = self.next_without_hosts(at);
        let offered = actions.iter().any(|a| {
            matches!(a, Action::Start { tier: n, batch: k, began: None, .. } if n == tier && *k == batch)
        });
        if !offered {
            return Err(RunError::CannotBegin {
                tier: tier.to_string(),
                batch,
                at: ts(at),
                why: describe_for(&actions, tier),
            });
        }
        Ok(vec![event(
            at,
            by,
            EventKind::Began {
                tier: tier.to_string(),
                batch,
            },
        )])
    }

    pub(crate) fn notified(
        &self,
        tier: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Event>, RunError> {
        self.check_open()?;
        check_actor(by)?;
        self.tier_index(tier)?;
        self.check_time(at)?;
        let actions = self.next_without_hosts(at);
        let due = actions
            .iter()
            .any(|a| matches!(a, Action::Notify { tier: n, .. } if n == tier));
        if !due {
            return Err(RunError::NoNoticeDue {
                tier: tier.to_string(),
                at: ts(at),
                why: describe_for(&actions, tier),
            });
        }
        Ok(vec![event(
            at,
            by,
            EventKind::Notified {
                tier: tier.to_string(),
            },
        )])
    }

    pub(crate) fn approve(
        &self,
        tier: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Event>, RunError> {
        self.check_open()?;
        check_actor(by)?;
        let t = self.tier_index(tier)?;
        let (Some(planned), Some(run)) = (self.plan.tiers.get(t), self.tiers.get(t)) else {
            return Err(self.unknown_tier(tier));
        };
        if !planned.approval {
            return Err(RunError::ApprovalNotNeeded(tier.to_string()));
        }
        if let Some(a) = &run.approved {
            return Err(RunError::AlreadyApproved {
                tier: tier.to_string(),
                by: a.by.clone(),
                at: ts(a.at),
            });
        }
        let views = self.views();
        let view = views.get(t).cloned().unwrap_or_default();
        if !view.preds_finished {
            let waiting: Vec<String> = planned
                .after
                .iter()
                .filter(|a| {
                    self.tier_index(a)
                        .ok()
                        .and_then(|p| views.get(p))
                        .is_none_or(|v| v.finished.is_none())
                })
                .map(|a| format!("`{a}`"))
                .collect();
            return Err(RunError::NotReadyForApproval {
                tier: tier.to_string(),
                why: format!(
                    "tier(s) {} it comes after have not finished",
                    waiting.join(", ")
                ),
            });
        }
        self.check_time(at)?;
        Ok(vec![event(
            at,
            by,
            EventKind::Approved {
                tier: tier.to_string(),
            },
        )])
    }

    pub(crate) fn halt(
        &self,
        reason: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Event>, RunError> {
        self.check_open()?;
        check_actor(by)?;
        if reason.trim().is_empty() {
            return Err(RunError::EmptyReason("halt"));
        }
        if let Some(h) = &self.halt {
            return Err(RunError::AlreadyHalted {
                by: h.by.clone(),
                at: ts(h.at),
                reason: h.reason.clone(),
            });
        }
        self.check_time(at)?;
        Ok(vec![event(
            at,
            by,
            EventKind::Halted {
                reason: reason.to_string(),
            },
        )])
    }

    pub(crate) fn resume(
        &self,
        tier: Option<&str>,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Event>, RunError> {
        self.check_open()?;
        check_actor(by)?;
        match tier {
            None => {
                if self.halt.is_none() {
                    return Err(RunError::NotHalted {
                        halted_tiers: self.halted_tiers(),
                    });
                }
            }
            Some(name) => {
                let t = self.tier_index(name)?;
                if self.tiers.get(t).is_none_or(|r| r.halted.is_none()) {
                    return Err(RunError::TierNotHalted(name.to_string()));
                }
            }
        }
        self.check_time(at)?;
        Ok(vec![event(
            at,
            by,
            EventKind::Resumed {
                tier: tier.map(str::to_string),
            },
        )])
    }

    pub(crate) fn abort(
        &self,
        reason: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Event>, RunError> {
        self.check_open()?;
        check_actor(by)?;
        if reason.trim().is_empty() {
            return Err(RunError::EmptyReason("abort"));
        }
        self.check_time(at)?;
        Ok(vec![event(
            at,
            by,
            EventKind::Aborted {
                reason: reason.to_string(),
            },
        )])
    }

    /// Decides an operation other than `record` (which needs host rows).
    pub(crate) fn decide(
        &self,
        operation: &Operation,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Event>, RunError> {
        match operation {
            Operation::Record { .. } => Ok(Vec::new()),
            Operation::Begin { tier, batch } => self.begin(tier, *batch, by, at),
            Operation::Notified { tier } => self.notified(tier, by, at),
            Operation::Approve { tier } => self.approve(tier, by, at),
            Operation::Halt { reason } => self.halt(reason, by, at),
            Operation::Resume { tier } => self.resume(tier.as_deref(), by, at),
            Operation::Abort { reason } => self.abort(reason, by, at),
        }
    }

    /// Names of the tiers halted on failures.
    pub(crate) fn halted_tiers(&self) -> Vec<String> {
        self.plan
            .tiers
            .iter()
            .zip(&self.tiers)
            .filter(|(_, r)| r.halted.is_some())
            .map(|(t, _)| t.name.clone())
            .collect()
    }

    fn check_open(&self) -> Result<(), RunError> {
        match &self.abort {
            Some(a) => Err(RunError::Aborted {
                by: a.by.clone(),
                at: ts(a.at),
                reason: a.reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn check_time(&self, at: DateTime<Utc>) -> Result<(), RunError> {
        let last = self.last_event_at;
        if at < last {
            return Err(RunError::TimeWentBackwards {
                at: ts(at),
                last: ts(last),
            });
        }
        Ok(())
    }

    pub(crate) fn tier_index(&self, name: &str) -> Result<usize, RunError> {
        self.index_of(name).ok_or_else(|| self.unknown_tier(name))
    }

    fn unknown_tier(&self, name: &str) -> RunError {
        RunError::UnknownTier {
            tier: name.to_string(),
            known: self.plan.tiers.iter().map(|t| t.name.clone()).collect(),
        }
    }
}

impl Rollout {
    /// The tier and batch (0-based) holding a host.
    pub(super) fn locate(&self, host: &str) -> Option<(usize, usize)> {
        self.plan.tiers.iter().enumerate().find_map(|(t, tier)| {
            tier.batches
                .iter()
                .position(|b| b.hosts.iter().any(|h| h == host))
                .map(|b| (t, b))
        })
    }
}

fn event(at: DateTime<Utc>, by: &str, event: EventKind) -> Event {
    Event {
        at,
        actor: by.to_string(),
        event,
    }
}

pub(super) fn check_actor(by: &str) -> Result<(), RunError> {
    if by.trim().is_empty() {
        return Err(RunError::NoActor);
    }
    Ok(())
}
