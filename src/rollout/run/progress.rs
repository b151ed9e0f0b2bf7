//! The small state every decision is made from: [`Progress`].
//!
//! A rollout of a million hosts is a few tiers, a few thousand batches and
//! a million host rows. Deciding what to do next, and whether an operation
//! is allowed, needs only per-tier and per-batch summaries (how many
//! results and failures, when the last one came, which batch is current
//! and whether it began) plus, for a result, the one host's row. This
//! module holds those summaries, builds them from a whole [`Rollout`], and
//! applies an [`Event`] to them, so that a database store can load a few
//! rows, decide with exactly the code the in-memory rollout uses, and
//! write back only what the events change.
//!
//! It must not know how anything is stored.

use chrono::{DateTime, Utc};

use super::{Event, EventKind, HostResult, Outcome, Rollout, RunError, Signoff, Stop, TierRun};
use crate::rollout::plan::{Plan, TierPlan};

/// The summaries of one rollout: the plan without its host lists, and per
/// tier the counters that decisions read.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The plan with every host list left out (`hosts`, `batches`,
    /// `unassigned` and `overlaps` are empty): use [`TierProgress`] for
    /// sizes.
    pub(crate) plan: Plan,
    pub(crate) tiers: Vec<TierProgress>,
    pub(crate) halt: Option<Stop>,
    pub(crate) abort: Option<Stop>,
    pub(crate) revision: u64,
    /// Events in the log.
    pub(crate) events: u64,
    pub(crate) last_event_at: DateTime<Utc>,
}

/// One tier's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct TierProgress {
    pub(crate) notified: Option<Signoff>,
    pub(crate) approved: Option<Signoff>,
    pub(crate) halted: Option<Stop>,
    pub(crate) resumed: Option<Signoff>,
    /// Hosts per batch, in order.
    pub(crate) sizes: Vec<usize>,
    /// Hosts in the tier.
    pub(crate) hosts: usize,
    /// When the first batch is planned to start.
    pub(crate) first_start: Option<DateTime<Utc>>,
    /// Results recorded in the tier.
    pub(crate) results: usize,
    /// Failures among them.
    pub(crate) failures: usize,
    /// The latest result's instant.
    pub(crate) last_at: Option<DateTime<Utc>>,
    /// Batches with every result. Batches complete in order (a batch
    /// begins only once the one before it has every result), so these are
    /// the first `done`, and batch `done` (0-based) is the current one.
    pub(crate) done: usize,
    /// The current batch.
    pub(crate) current: BatchProgress,
    /// The latest result of the batch before the current one.
    pub(crate) previous_last_at: Option<DateTime<Utc>>,
}

/// One batch's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchProgress {
    pub(crate) began: Option<DateTime<Utc>>,
    pub(crate) results: usize,
    pub(crate) last_at: Option<DateTime<Utc>>,
}

/// What a decision about one host's result needs to know of that host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRow {
    /// Its tier, 0-based.
    pub(crate) tier: usize,
    /// Its batch, 0-based.
    pub(crate) batch: usize,
    /// Its result, if it has one.
    pub(crate) result: Option<HostResult>,
    /// When its batch began.
    pub(crate) began: Option<DateTime<Utc>>,
}

impl TierProgress {
    /// The current batch (0-based), unless every batch has every result.
    pub(crate) fn current_index(&self) -> Option<usize> {
        (self.done < self.sizes.len()).then_some(self.done)
    }

    /// Size of the current batch.
    pub(crate) fn current_size(&self) -> usize {
        self.sizes.get(self.done).copied().unwrap_or(0)
    }

    /// Whether any batch began.
    pub(crate) fn began_any(&self) -> bool {
        self.done > 0 || self.current.began.is_some()
    }
}

/// The plan without its host lists: what every decision reads of it.
fn outline(plan: &Plan) -> Plan {
    Plan {
        severity: plan.severity.clone(),
        start: plan.start,
        timezone: plan.timezone.clone(),
        blackouts: plan.blackouts.clone(),
        tiers: plan.tiers.iter().map(tier_outline).collect(),
        unassigned: Vec::new(),
        overlaps: Vec::new(),
        empty_tiers: plan.empty_tiers.clone(),
        warnings: plan.warnings.clone(),
        business_hours: plan.business_hours.clone(),
        rates: plan.rates.clone(),
        after_hours_s: plan.after_hours_s,
        cost: plan.cost.clone(),
    }
}

/// A tier of the plan without its hosts and batches.
fn tier_outline(t: &TierPlan) -> TierPlan {
    TierPlan {
        name: t.name.clone(),
        wave: t.wave,
        after: t.after.clone(),
        ready: t.ready,
        notice: t.notice,
        finish: t.finish,
        approval: t.approval,
        window: t.window.clone(),
        timezone: t.timezone.clone(),
        batch_size: t.batch_size,
        batch_setting: t.batch_setting.clone(),
        batch_duration: t.batch_duration,
        max_failures: t.max_failures,
        soak: t.soak,
        notice_period: t.notice_period,
        max_unavailable: t.max_unavailable.clone(),
        contact: t.contact.clone(),
        hosts: Vec::new(),
        batches: Vec::new(),
        after_hours_s: t.after_hours_s,
        cost: t.cost.clone(),
    }
}

impl Rollout {
    /// The summaries of this rollout. Costs one pass over its results.
    pub(crate) fn progress(&self) -> Progress {
        let tiers = self
            .plan
            .tiers
            .iter()
            .zip(&self.tiers)
            .map(|(tier, run)| {
                let sizes: Vec<usize> = tier.batches.iter().map(|b| b.hosts.len()).collect();
                let last_of = |b: usize| {
                    run.batches
                        .get(b)
                        .and_then(|b| b.results.values().map(|r| r.at).max())
                };
                let done = tier
                    .batches
                    .iter()
                    .zip(&run.batches)
                    .position(|(p, b)| b.results.len() < p.hosts.len())
                    .unwrap_or(sizes.len());
                let current = run
                    .batches
                    .get(done)
                    .map(|b| BatchProgress {
                        began: b.began,
                        results: b.results.len(),
                        last_at: last_of(done),
                    })
                    .unwrap_or_default();
                TierProgress {
                    notified: run.notified.clone(),
                    approved: run.approved.clone(),
                    halted: run.halted.clone(),
                    resumed: run.resumed.clone(),
                    hosts: tier.hosts.len(),
                    sizes,
                    first_start: tier.batches.first().map(|b| b.start),
                    results: run.batches.iter().map(|b| b.results.len()).sum(),
                    failures: run.failures(),
                    last_at: run
                        .batches
                        .iter()
                        .flat_map(|b| b.results.values().map(|r| r.at))
                        .max(),
                    done,
                    current,
                    previous_last_at: done.checked_sub(1).and_then(last_of),
                }
            })
            .collect();
        Progress {
            plan: outline(&self.plan),
            tiers,
            halt: self.halt.clone(),
            abort: self.abort.clone(),
            revision: self.revision,
            events: self.events.len() as u64,
            last_event_at: self.last_event_at(),
        }
    }

    /// What decisions need to know of one host.
    pub(crate) fn host_row(&self, host: &str) -> Option<HostRow> {
        let (t, b) = self.locate(host)?;
        let batch = self.tiers.get(t)?.batches.get(b)?;
        Some(HostRow {
            tier: t,
            batch: b,
            result: batch.results.get(host).cloned(),
            began: batch.began,
        })
    }

    /// Applies, in order, the events a decision produced.
    pub(crate) fn apply_all(&mut self, events: Vec<Event>) {
        events.into_iter().for_each(|e| self.apply(e));
    }

    /// Applies the events of a decision that was accepted; changes nothing
    /// when it was refused.
    pub(crate) fn decide(&mut self, decided: Result<Vec<Event>, RunError>) -> Result<(), RunError> {
        self.apply_all(decided?);
        Ok(())
    }

    /// Applies an event that a decision produced, and logs it.
    pub(crate) fn apply(&mut self, event: Event) {
        let at = event.at;
        let by = event.actor.clone();
        fn tier<'a>(r: &'a mut Rollout, name: &str) -> Option<&'a mut TierRun> {
            let t = r.plan.tiers.iter().position(|t| t.name == name)?;
            r.tiers.get_mut(t)
        }
        match &event.event {
            EventKind::Created { .. } => {}
            EventKind::Notified { tier: name } => {
                if let Some(run) = tier(self, name) {
                    run.notified = Some(Signoff { by, at });
                }
            }
            EventKind::Approved { tier: name } => {
                if let Some(run) = tier(self, name) {
                    run.approved = Some(Signoff { by, at });
                }
            }
            EventKind::Began { tier: name, batch } => {
                if let Some(b) =
                    tier(self, name).and_then(|r| r.batches.get_mut(batch.checked_sub(1)?))
                {
                    b.began = Some(at);
                }
            }
            EventKind::Result {
                tier: name,
                batch,
                host,
                outcome,
            } => {
                if let Some(b) =
                    tier(self, name).and_then(|r| r.batches.get_mut(batch.checked_sub(1)?))
                {
                    b.results.insert(
                        host.clone(),
                        HostResult {
                            outcome: outcome.clone(),
                            at,
                        },
                    );
                }
            }
            EventKind::TierHalted { tier: name, reason } => {
                if let Some(run) = tier(self, name) {
                    run.halted = Some(Stop {
                        reason: reason.clone(),
                        by,
                        at,
                    });
                }
            }
            EventKind::Halted { reason } => {
                self.halt = Some(Stop {
                    reason: reason.clone(),
                    by,
                    at,
                });
            }
            EventKind::Resumed { tier: Some(name) } => {
                if let Some(run) = tier(self, name) {
                    run.halted = None;
                    run.resumed = Some(Signoff { by, at });
                }
            }
            EventKind::Resumed { tier: None } => self.halt = None,
            EventKind::Aborted { reason } => {
                self.abort = Some(Stop {
                    reason: reason.clone(),
                    by,
                    at,
                });
            }
        }
        self.revision += 1;
        self.events.push(event);
    }
}

impl Progress {
    /// The tier's index by name.
    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.plan.tiers.iter().position(|t| t.name == name)
    }

    /// Applies an event to the summaries, as a store applies it to its rows.
    pub(crate) fn apply(&mut self, event: &Event) {
        let at = event.at;
        let by = || event.actor.clone();
        let index = match &event.event {
            EventKind::Notified { tier }
            | EventKind::Approved { tier }
            | EventKind::Began { tier, .. }
            | EventKind::Result { tier, .. }
            | EventKind::TierHalted { tier, .. }
            | EventKind::Resumed { tier: Some(tier) } => self.index_of(tier),
            _ => None,
        };
        let run = index.and_then(|t| self.tiers.get_mut(t));
        match (&event.event, run) {
            (EventKind::Notified { .. }, Some(run)) => {
                run.notified = Some(Signoff { by: by(), at });
            }
            (EventKind::Approved { .. }, Some(run)) => {
                run.approved = Some(Signoff { by: by(), at });
            }
            (EventKind::Began { batch, .. }, Some(run))
                if batch.checked_sub(1) == Some(run.done) =>
            {
                run.current.began = Some(at);
            }
            (EventKind::Result { batch, outcome, .. }, Some(run)) => {
                run.results += 1;
                if matches!(outcome, Outcome::Failed(_)) {
                    run.failures += 1;
                }
                run.last_at = run.last_at.max(Some(at));
                if batch.checked_sub(1) == Some(run.done) {
                    run.current.results += 1;
                    run.current.last_at = run.current.last_at.max(Some(at));
                    if run.current.results >= run.current_size() {
                        run.done += 1;
                        run.previous_last_at = run.current.last_at;
                        run.current = BatchProgress::default();
                    }
                }
            }
            (EventKind::TierHalted { reason, .. }, Some(run)) => {
                run.halted = Some(Stop {
                    reason: reason.clone(),
                    by: by(),
                    at,
                });
            }
            (EventKind::Resumed { tier: Some(_) }, Some(run)) => {
                run.halted = None;
                run.resumed = Some(Signoff { by: by(), at });
            }
            (EventKind::Halted { reason }, _) => {
                self.halt = Some(Stop {
                    reason: reason.clone(),
                    by: by(),
                    at,
                });
            }
            (EventKind::Resumed { tier: None }, _) => self.halt = None,
            (EventKind::Aborted { reason }, _) => {
                self.abort = Some(Stop {
                    reason: reason.clone(),
                    by: by(),
                    at,
                });
            }
            _ => {}
        }
        self.revision += 1;
        self.events += 1;
        self.last_event_at = self.last_event_at.max(at);
    }
}

impl Rollout {
    /// A rollout put together from a store's rows, checked like one read
    /// from JSON.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn assemble(
        plan: Plan,
        tiers: Vec<TierRun>,
        halt: Option<Stop>,
        abort: Option<Stop>,
        revision: u64,
        events: Vec<Event>,
    ) -> Result<Rollout, super::StateError> {
        let rollout = Rollout {
            format: super::FORMAT.to_string(),
            version: super::VERSION,
            revision,
            plan,
            tiers,
            halt,
            abort,
            events,
        };
        rollout.check().map_err(super::StateError::Inconsistent)?;
        Ok(rollout)
    }
}
