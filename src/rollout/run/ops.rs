//! The operations that change a rollout: results, acknowledgements,
//! approvals, halts, resumes and the abort. Each validates everything
//! before it writes, so a refused operation leaves the state unchanged.

use chrono::{DateTime, Utc};

use super::next::describe_for;
use super::{
    ts, Action, Event, EventKind, HostResult, Outcome, Rollout, RunError, Signoff, Stop, ENGINE,
};

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
        self.check_open()?;
        check_actor(by)?;
        if matches!(&outcome, Outcome::Failed(r) if r.trim().is_empty()) {
            return Err(RunError::EmptyReason("failure"));
        }
        let (t, b) = self
            .locate(host)
            .ok_or_else(|| RunError::UnknownHost(host.to_string()))?;
        let tier_name = self.tier_name(t);
        let (Some(tier), Some(run)) = (self.plan.tiers.get(t), self.tiers.get(t)) else {
            return Err(RunError::UnknownHost(host.to_string()));
        };
        let batch = run
            .batches
            .get(b)
            .ok_or_else(|| RunError::UnknownHost(host.to_string()))?;
        if let Some(previous) = batch.results.get(host) {
            if previous.outcome == outcome {
                return Ok(false);
            }
            return Err(RunError::ConflictingResult {
                host: host.to_string(),
                previous: previous.outcome.clone(),
                at: ts(previous.at),
                new: outcome,
            });
        }
        if batch.began.is_none() {
            return Err(RunError::NotInRunningBatch {
                host: host.to_string(),
                tier: tier_name,
                batch: b + 1,
                why: "it has not begun; `next` says when it may, and `begin` records that it did"
                    .into(),
            });
        }
        self.check_time(at)?;
        let failures = run.failures() + usize::from(matches!(outcome, Outcome::Failed(_)));
        let halts = matches!(outcome, Outcome::Failed(_))
            && failures > tier.max_failures
            && run.halted.is_none();
        let halt_reason = match &outcome {
            Outcome::Failed(reason) => format!(
                "{failures} failures exceed max_failures {} (the last: {host}: {reason})",
                tier.max_failures
            ),
            Outcome::Succeeded => String::new(),
        };

        // Apply.
        if let Some(batch) = self.tiers.get_mut(t).and_then(|r| r.batches.get_mut(b)) {
            batch.results.insert(
                host.to_string(),
                HostResult {
                    outcome: outcome.clone(),
                    at,
                },
            );
        }
        self.log(
            at,
            by,
            EventKind::Result {
                tier: tier_name.clone(),
                batch: b + 1,
                host: host.to_string(),
                outcome,
            },
        );
        if halts {
            if let Some(run) = self.tiers.get_mut(t) {
                run.halted = Some(Stop {
                    reason: halt_reason.clone(),
                    by: ENGINE.to_string(),
                    at,
                });
            }
            self.log(
                at,
                ENGINE,
                EventKind::TierHalted {
                    tier: tier_name,
                    reason: halt_reason,
                },
            );
        }
        Ok(true)
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
        self.check_open()?;
        check_actor(by)?;
        let t = self.tier_index(tier)?;
        let count = self.plan.tiers.get(t).map_or(0, |p| p.batches.len());
        if batch == 0 || batch > count {
            return Err(RunError::UnknownBatch {
                tier: tier.to_string(),
                batch,
                count,
            });
        }
        self.check_time(at)?;
        let actions = self.next(at);
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
        if let Some(b) = self
            .tiers
            .get_mut(t)
            .and_then(|r| r.batches.get_mut(batch - 1))
        {
            b.began = Some(at);
        }
        self.log(
            at,
            by,
            EventKind::Began {
                tier: tier.to_string(),
                batch,
            },
        );
        Ok(())
    }

    /// Acknowledges a `notify` action: the tier's contact was told at `at`.
    /// Accepted only when [`Rollout::next`] at `at` asks for this notice.
    pub fn notified(&mut self, tier: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        self.check_open()?;
        check_actor(by)?;
        let t = self.tier_index(tier)?;
        self.check_time(at)?;
        let actions = self.next(at);
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
        if let Some(run) = self.tiers.get_mut(t) {
            run.notified = Some(Signoff {
                by: by.to_string(),
                at,
            });
        }
        self.log(
            at,
            by,
            EventKind::Notified {
                tier: tier.to_string(),
            },
        );
        Ok(())
    }

    /// Approves a tier whose policy asks for approval. Accepted once every
    /// tier it comes after has finished (its soak may still be running, so
    /// an approver can look at the results and approve in advance), also
    /// while the rollout is halted.
    pub fn approve(&mut self, tier: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
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
        if let Some(run) = self.tiers.get_mut(t) {
            run.approved = Some(Signoff {
                by: by.to_string(),
                at,
            });
        }
        self.log(
            at,
            by,
            EventKind::Approved {
                tier: tier.to_string(),
            },
        );
        Ok(())
    }

    /// Halts the whole rollout until [`Rollout::resume`]: `next` reports
    /// only the halt; results of hosts already being patched are still
    /// accepted, and approvals too.
    pub fn halt(&mut self, reason: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
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
        self.halt = Some(Stop {
            reason: reason.to_string(),
            by: by.to_string(),
            at,
        });
        self.log(
            at,
            by,
            EventKind::Halted {
                reason: reason.to_string(),
            },
        );
        Ok(())
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
        self.check_open()?;
        check_actor(by)?;
        match tier {
            None => {
                if self.halt.is_none() {
                    return Err(RunError::NotHalted {
                        halted_tiers: self
                            .tiers
                            .iter()
                            .filter(|t| t.halted.is_some())
                            .map(|t| t.name.clone())
                            .collect(),
                    });
                }
                self.check_time(at)?;
                self.halt = None;
            }
            Some(name) => {
                let t = self.tier_index(name)?;
                if self.tiers.get(t).is_none_or(|r| r.halted.is_none()) {
                    return Err(RunError::TierNotHalted(name.to_string()));
                }
                self.check_time(at)?;
                if let Some(run) = self.tiers.get_mut(t) {
                    run.halted = None;
                    run.resumed = Some(Signoff {
                        by: by.to_string(),
                        at,
                    });
                }
            }
        }
        self.log(
            at,
            by,
            EventKind::Resumed {
                tier: tier.map(str::to_string),
            },
        );
        Ok(())
    }

    /// Aborts the rollout for good: afterwards every operation is refused
    /// and `next` reports the abort.
    pub fn abort(&mut self, reason: &str, by: &str, at: DateTime<Utc>) -> Result<(), RunError> {
        self.check_open()?;
        check_actor(by)?;
        if reason.trim().is_empty() {
            return Err(RunError::EmptyReason("abort"));
        }
        self.check_time(at)?;
        self.abort = Some(Stop {
            reason: reason.to_string(),
            by: by.to_string(),
            at,
        });
        self.log(
            at,
            by,
            EventKind::Aborted {
                reason: reason.to_string(),
            },
        );
        Ok(())
    }

    pub(super) fn log(&mut self, at: DateTime<Utc>, by: &str, event: EventKind) {
        self.revision += 1;
        self.events.push(Event {
            at,
            actor: by.to_string(),
            event,
        });
    }

    pub(super) fn check_open(&self) -> Result<(), RunError> {
        match &self.abort {
            Some(a) => Err(RunError::Aborted {
                by: a.by.clone(),
                at: ts(a.at),
                reason: a.reason.clone(),
            }),
            None => Ok(()),
        }
    }

    pub(super) fn check_time(&self, at: DateTime<Utc>) -> Result<(), RunError> {
        let last = self.last_event_at();
        if at < last {
            return Err(RunError::TimeWentBackwards {
                at: ts(at),
                last: ts(last),
            });
        }
        Ok(())
    }

    pub(super) fn tier_index(&self, name: &str) -> Result<usize, RunError> {
        self.plan
            .tiers
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| self.unknown_tier(name))
    }

    pub(super) fn unknown_tier(&self, name: &str) -> RunError {
        RunError::UnknownTier {
            tier: name.to_string(),
            known: self.plan.tiers.iter().map(|t| t.name.clone()).collect(),
        }
    }

    pub(super) fn tier_name(&self, t: usize) -> String {
        self.plan
            .tiers
            .get(t)
            .map_or_else(String::new, |t| t.name.clone())
    }

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

pub(super) fn check_actor(by: &str) -> Result<(), RunError> {
    if by.trim().is_empty() {
        return Err(RunError::NoActor);
    }
    Ok(())
}
