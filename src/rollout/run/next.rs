//! Deciding what to do: [`Rollout::next`], a pure function of the state
//! and an instant, and the derived per-tier facts it is computed from.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::progress::{Progress, TierProgress};
use super::state::plan_blackouts;
use super::{plus, ts, Rollout};
use crate::rollout::calendar::{self, earliest_slot, Availability, Blackouts, HORIZON_DAYS};
use crate::rollout::plan::TierPlan;

/// What a patch tool should do now. Batches are numbered from 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Tell the tier's contact that the tier starts at `until`, then
    /// acknowledge with [`Rollout::notified`].
    Notify {
        /// The tier.
        tier: String,
        /// When its first batch is expected to start.
        until: DateTime<Utc>,
        /// What to tell.
        reason: String,
        /// The contact, as the policy gives it.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        contact: BTreeMap<String, String>,
    },
    /// Patch these hosts. When `began` is absent, acknowledge with
    /// [`Rollout::begin`] first; the action stays until every host of the
    /// batch has a result.
    Start {
        /// The tier.
        tier: String,
        /// The batch, 1-based.
        batch: usize,
        /// Every host of the batch.
        hosts: Vec<String>,
        /// The hosts of the batch that have no result yet.
        pending: Vec<String>,
        /// When the batch began, once acknowledged.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        began: Option<DateTime<Utc>>,
        /// When the batch's time (`batch_duration`) is up.
        until: DateTime<Utc>,
        /// Why now.
        reason: String,
    },
    /// Nothing to do for this tier (or the rollout) before `until`.
    Wait {
        /// The tier, when one is waiting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tier: Option<String>,
        /// The batch waited for, when the wait is for a batch's slot.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        batch: Option<usize>,
        /// When to ask again.
        until: DateTime<Utc>,
        /// What is being waited for.
        reason: String,
    },
    /// A person must approve the tier ([`Rollout::approve`]).
    AwaitApproval {
        /// The tier.
        tier: String,
        /// Why.
        reason: String,
    },
    /// The tier (or, without a tier, the whole rollout) is halted or
    /// aborted; only a person can go on.
    Halted {
        /// The tier, for a tier's halt.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tier: Option<String>,
        /// Why, by whom and since when.
        reason: String,
        /// True when the rollout was aborted: nothing can resume it.
        aborted: bool,
        /// Hosts of a batch that had begun and still have no result: their
        /// results are still accepted.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pending: Vec<String>,
    },
    /// Every tier has finished.
    Done {
        /// A summary.
        reason: String,
    },
}

/// Derived facts about one tier, computed in rollout order.
#[derive(Debug, Clone, Default)]
pub(super) struct View {
    /// Every predecessor has finished.
    pub(super) preds_finished: bool,
    /// A halted tier this one comes after, directly or not.
    pub(super) blocked_by: Option<String>,
    /// When it is ready, and why then (set once its predecessors finished).
    pub(super) ready: Option<(DateTime<Utc>, String)>,
    /// When it finished.
    pub(super) finished: Option<DateTime<Utc>>,
    /// The first batch without every result.
    pub(super) current: Option<usize>,
}

/// The calendar a tier is scheduled with.
struct TierCalendar {
    availability: Availability,
    blackouts: Blackouts,
}

/// The hosts of one batch (0-based tier and batch): every host, and those
/// without a result.
pub(crate) type BatchHosts = (Vec<String>, Vec<String>);

impl Rollout {
    /// What to do at `now`: one action per tier that has something to do or
    /// wait for, in rollout order; a single `halted` action while the whole
    /// rollout is halted or aborted; a single `done` when every tier has
    /// finished.
    ///
    /// A pure function of the state and `now`: asking twice gives the same
    /// answer. It costs one slot search per tier that is waiting for a
    /// batch or a notice.
    pub fn next(&self, now: DateTime<Utc>) -> Vec<Action> {
        let hosts = |t: usize, b: usize| -> Result<BatchHosts, std::convert::Infallible> {
            Ok((self.batch_hosts(t, b), self.pending_of(t, Some(b))))
        };
        match self.progress().next_with(now, hosts) {
            Ok(actions) => actions,
            Err(never) => match never {},
        }
    }

    /// Hosts of batch `b` of tier `i`.
    fn batch_hosts(&self, i: usize, b: usize) -> Vec<String> {
        self.plan
            .tiers
            .get(i)
            .and_then(|t| t.batches.get(b))
            .map_or_else(Vec::new, |b| b.hosts.clone())
    }

    /// Hosts of batch `b` of tier `i` without a result.
    pub(super) fn pending_of(&self, i: usize, b: Option<usize>) -> Vec<String> {
        let (Some(tier), Some(run), Some(b)) = (self.plan.tiers.get(i), self.tiers.get(i), b)
        else {
            return Vec::new();
        };
        let (Some(planned), Some(batch)) = (tier.batches.get(b), run.batches.get(b)) else {
            return Vec::new();
        };
        planned
            .hosts
            .iter()
            .filter(|h| !batch.results.contains_key(*h))
            .cloned()
            .collect()
    }
}

impl Progress {
    /// [`Rollout::next`] from the summaries. `hosts(tier, batch)` gives the
    /// hosts of a batch that an action lists (the current batch of a tier,
    /// 0-based); it is asked only for those, so a store reads host rows of
    /// at most one batch per tier.
    pub(crate) fn next_with<E>(
        &self,
        now: DateTime<Utc>,
        mut hosts: impl FnMut(usize, usize) -> Result<BatchHosts, E>,
    ) -> Result<Vec<Action>, E> {
        if let Some(a) = &self.abort {
            return Ok(vec![Action::Halted {
                tier: None,
                reason: format!("aborted by {} at {}: {}", a.by, ts(a.at), a.reason),
                aborted: true,
                pending: Vec::new(),
            }]);
        }
        if let Some(h) = &self.halt {
            let mut pending = Vec::new();
            for (t, run) in self.tiers.iter().enumerate() {
                if let (Some(b), Some(_)) = (run.current_index(), run.current.began) {
                    pending.extend(hosts(t, b)?.1);
                }
            }
            return Ok(vec![Action::Halted {
                tier: None,
                reason: format!(
                    "the rollout was halted by {} at {}: {}",
                    h.by,
                    ts(h.at),
                    h.reason
                ),
                aborted: false,
                pending,
            }]);
        }
        let views = self.views();
        let blackouts = self.blackouts();
        let mut actions = Vec::new();
        for (i, view) in views.iter().enumerate() {
            if let Some(action) = self.tier_action(i, view, &blackouts, now, &mut hosts)? {
                actions.push(action);
            }
        }
        if actions.is_empty() {
            let finished = views.iter().filter(|v| v.finished.is_some()).count();
            let hosts: usize = self.tiers.iter().map(|t| t.hosts).sum();
            let failed: usize = self.tiers.iter().map(|t| t.failures).sum();
            actions.push(Action::Done {
                reason: format!(
                    "{finished} of {} tiers finished; {} of {hosts} hosts succeeded, {failed} failed",
                    views.len(),
                    hosts - failed.min(hosts)
                ),
            });
        }
        Ok(actions)
    }

    /// What `next` offers at `at`, without listing any host: what the
    /// checks of `begin` and `notified` compare with.
    pub(crate) fn next_without_hosts(&self, at: DateTime<Utc>) -> Vec<Action> {
        let none = |_: usize, _: usize| -> Result<BatchHosts, std::convert::Infallible> {
            Ok((Vec::new(), Vec::new()))
        };
        match self.next_with(at, none) {
            Ok(actions) => actions,
            Err(never) => match never {},
        }
    }

    /// What tier `i` should do at `now`, if anything.
    fn tier_action<E>(
        &self,
        i: usize,
        view: &View,
        blackouts: &Blackouts,
        now: DateTime<Utc>,
        hosts: &mut impl FnMut(usize, usize) -> Result<BatchHosts, E>,
    ) -> Result<Option<Action>, E> {
        let (Some(tier), Some(run)) = (self.plan.tiers.get(i), self.tiers.get(i)) else {
            return Ok(None);
        };
        if let Some(decided) = settled(i, tier, run, view, now, hosts)? {
            return Ok(decided);
        }
        if let Some(notify) = planned_notice(tier, run, view, now) {
            return Ok(Some(notify));
        }
        if !view.preds_finished {
            // The tier in the way reports its own state.
            return Ok(None);
        }
        let name = tier.name.clone();
        let Some((ready, why)) = view.ready.clone() else {
            return Ok(None);
        };
        if now < ready {
            return Ok(Some(Action::Wait {
                tier: Some(name),
                batch: None,
                until: ready,
                reason: why,
            }));
        }
        if tier.approval && run.approved.is_none() {
            return Ok(Some(Action::AwaitApproval {
                reason: format!(
                    "tier `{name}` needs a person's approval; it is ready since {}",
                    ts(ready)
                ),
                tier: name,
            }));
        }
        let base = run.approved.as_ref().map_or(ready, |a| a.at.max(ready));
        let Some(availability) = tier.window.availability() else {
            return Ok(None);
        };
        let calendar = TierCalendar {
            availability,
            blackouts: blackouts.clone(),
        };
        let Some(notified) = &run.notified else {
            return Ok(Some(notice_due(tier, run, &calendar, base, now)));
        };
        let Some(b) = view.current else {
            return Ok(None);
        };
        if let Some(began) = run.current.began {
            return running_batch(i, b, began, tier, run, hosts).map(Some);
        }
        // Not before the notice period has passed, nor before the batch
        // before it has every result.
        let after_notice = plus(notified.at, tier.notice_period);
        let not_before = run
            .previous_last_at
            .map_or(base, |d| d.max(base))
            .max(after_notice);
        next_batch(
            i,
            b,
            tier,
            run,
            &calendar,
            not_before,
            after_notice,
            now,
            hosts,
        )
        .map(Some)
    }

    /// Facts about each tier, in rollout order (predecessors come first).
    pub(super) fn views(&self) -> Vec<View> {
        let index: BTreeMap<&str, usize> = self
            .plan
            .tiers
            .iter()
            .enumerate()
            .map(|(i, t)| (t.name.as_str(), i))
            .collect();
        let mut views: Vec<View> = Vec::with_capacity(self.plan.tiers.len());
        for (tier, run) in self.plan.tiers.iter().zip(&self.tiers) {
            let preds: Vec<(&str, Option<&View>)> = tier
                .after
                .iter()
                .map(|a| {
                    (
                        a.as_str(),
                        index.get(a.as_str()).and_then(|p| views.get(*p)),
                    )
                })
                .collect();
            let mut view = View {
                preds_finished: preds
                    .iter()
                    .all(|(_, v)| v.is_some_and(|v| v.finished.is_some())),
                ..View::default()
            };
            view.blocked_by = preds.iter().find_map(|(name, v)| {
                let v = v.as_ref()?;
                let halted = index
                    .get(name)
                    .and_then(|p| self.tiers.get(*p))
                    .is_some_and(|r| r.halted.is_some());
                if halted {
                    Some((*name).to_string())
                } else {
                    v.blocked_by.clone()
                }
            });
            if view.preds_finished {
                let mut ready = (
                    self.plan.start,
                    format!("the rollout starts at {}", ts(self.plan.start)),
                );
                for (name, v) in &preds {
                    let Some(p) = index.get(name).and_then(|p| self.plan.tiers.get(*p)) else {
                        continue;
                    };
                    if let Some(finished) = v.and_then(|v| v.finished) {
                        let soaked = plus(finished, p.soak);
                        if soaked > ready.0 {
                            ready = (
                                soaked,
                                format!(
                                    "the soak of tier `{name}` ({}) runs until {}",
                                    calendar::format_duration(p.soak),
                                    ts(soaked)
                                ),
                            );
                        }
                    }
                }
                view.ready = Some(ready);
            }
            view.current = run.current_index();
            view.finished = if run.halted.is_some() {
                None
            } else if run.hosts == 0 {
                match (&view.ready, tier.approval, &run.approved) {
                    (Some((ready, _)), false, _) => Some(*ready),
                    (Some((ready, _)), true, Some(a)) => Some(a.at.max(*ready)),
                    _ => None,
                }
            } else if view.current.is_none() {
                run.last_at.max(run.resumed.as_ref().map(|r| r.at))
            } else {
                None
            };
            views.push(view);
        }
        views
    }

    pub(super) fn blackouts(&self) -> Blackouts {
        // Checked when the rollout was created or loaded.
        plan_blackouts(&self.plan).unwrap_or_default()
    }
}

impl TierCalendar {
    fn slot(&self, from: DateTime<Utc>, length: TimeDelta) -> Option<DateTime<Utc>> {
        earliest_slot(
            &self.availability,
            &self.blackouts,
            from,
            length,
            TimeDelta::days(HORIZON_DAYS),
        )
    }

    /// Why a batch asked for at `from` fits only at `slot`.
    fn why_later(
        &self,
        window: &str,
        from: DateTime<Utc>,
        slot: DateTime<Utc>,
        length: TimeDelta,
    ) -> String {
        if let Some(name) = self.blackouts.overlapping(from, plus(from, length)) {
            return format!(
                "blackout `{name}`; the next slot that fits is at {}",
                ts(slot)
            );
        }
        let unblocked = earliest_slot(
            &self.availability,
            &Blackouts::none(),
            from,
            length,
            TimeDelta::days(HORIZON_DAYS),
        );
        if let Some(open) = unblocked.filter(|s| *s < slot) {
            if let Some(name) = self.blackouts.overlapping(open, plus(open, length)) {
                return format!(
                    "window `{window}` opens at {} but blackout `{name}` covers it; the next slot that fits is at {}",
                    ts(open),
                    ts(slot)
                );
            }
        }
        format!(
            "the next slot in window `{window}` that holds a {} batch opens at {}",
            calendar::format_duration(length),
            ts(slot)
        )
    }
}

/// The early exits of a tier: `Some` with the decision when the tier has
/// finished, is halted, or is blocked by a halted tier; `None` otherwise.
fn settled<E>(
    i: usize,
    tier: &TierPlan,
    run: &TierProgress,
    view: &View,
    now: DateTime<Utc>,
    hosts: &mut impl FnMut(usize, usize) -> Result<BatchHosts, E>,
) -> Result<Option<Option<Action>>, E> {
    let name = tier.name.clone();
    if let Some(finished) = view.finished {
        // An empty tier finishes when it is ready, which may be later.
        return Ok(Some((finished > now).then(|| Action::Wait {
            tier: Some(name.clone()),
            batch: None,
            until: finished,
            reason: format!("tier `{name}` has no hosts; it finishes when it is ready"),
        })));
    }
    if let Some(h) = &run.halted {
        let pending = match (view.current, run.current.began) {
            (Some(b), Some(_)) => hosts(i, b)?.1,
            _ => Vec::new(),
        };
        return Ok(Some(Some(Action::Halted {
            tier: Some(name),
            reason: format!("halted at {}: {}", ts(h.at), h.reason),
            aborted: false,
            pending,
        })));
    }
    if view.blocked_by.is_some() {
        // The halted tier in the way reports its own state.
        return Ok(Some(None));
    }
    Ok(None)
}

/// The notice of a tier that is not ready yet, once its planned instant
/// has come.
fn planned_notice(
    tier: &TierPlan,
    run: &TierProgress,
    view: &View,
    now: DateTime<Utc>,
) -> Option<Action> {
    if !view.preds_finished || view.ready.as_ref().is_some_and(|(r, _)| now < *r) {
        // Not ready yet, but the notice runs on the plan's schedule
        // (rule 9: the plan is what runs): it goes out at the planned
        // instant even while earlier tiers are still at work, so the
        // tier is not a whole notice period late. Its first batch still
        // waits for the notice period after the notice went out.
        if run.notified.is_none() && tier.notice_period > TimeDelta::zero() {
            if let (Some(due), Some(first)) = (tier.notice, run.first_start) {
                if now >= due {
                    let name = tier.name.clone();
                    let contact = contact_text(&tier.contact);
                    return Some(Action::Notify {
                        reason: format!(
                            "tell {contact} that tier `{name}` ({} hosts) is planned to start at {}",
                            run.hosts,
                            ts(first)
                        ),
                        tier: name,
                        until: first,
                        contact: tier.contact.clone(),
                    });
                }
            }
        }
    }
    None
}

/// A ready tier that has not been notified: notify now, or wait until the
/// notice is due before its first slot.
fn notice_due(
    tier: &TierPlan,
    run: &TierProgress,
    calendar: &TierCalendar,
    base: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Action {
    let name = tier.name.clone();
    let contact = contact_text(&tier.contact);
    let from = base.max(plus(now, tier.notice_period));
    let Some(first) = calendar.slot(from, tier.batch_duration) else {
        return no_slot(&name, &tier.window.name, from);
    };
    let due = plus(first, -tier.notice_period);
    if now >= due {
        return Action::Notify {
            reason: format!(
                "tell {contact} that tier `{name}` ({} hosts) starts at {}",
                run.hosts,
                ts(first)
            ),
            tier: name,
            until: first,
            contact: tier.contact.clone(),
        };
    }
    Action::Wait {
        reason: format!(
            "the notice to {contact} for tier `{name}` is due at {}, {} before its first batch at {}",
            ts(due),
            calendar::format_duration(tier.notice_period),
            ts(first)
        ),
        tier: Some(name),
        batch: None,
        until: due,
    }
}

/// The batch `b` (0-based) that began at `began` and still waits for results.
fn running_batch<E>(
    i: usize,
    b: usize,
    began: DateTime<Utc>,
    tier: &TierPlan,
    run: &TierProgress,
    hosts: &mut impl FnMut(usize, usize) -> Result<BatchHosts, E>,
) -> Result<Action, E> {
    let name = tier.name.clone();
    let (batch_hosts, pending) = hosts(i, b)?;
    Ok(Action::Start {
        reason: format!(
            "batch {} of tier `{name}` began at {}; {} of {} results are in",
            b + 1,
            ts(began),
            run.current.results,
            run.current_size()
        ),
        tier: name,
        batch: b + 1,
        hosts: batch_hosts,
        pending,
        began: Some(began),
        until: plus(began, tier.batch_duration),
    })
}

/// The next batch `b` (0-based), not before `not_before`: start it if it
/// fits now, or wait for its slot.
#[expect(
    clippy::too_many_arguments,
    reason = "the tier's state as `tier_action` derived it, passed explicitly rather than bundled for one caller"
)]
fn next_batch<E>(
    i: usize,
    b: usize,
    tier: &TierPlan,
    run: &TierProgress,
    calendar: &TierCalendar,
    not_before: DateTime<Utc>,
    after_notice: DateTime<Utc>,
    now: DateTime<Utc>,
    hosts: &mut impl FnMut(usize, usize) -> Result<BatchHosts, E>,
) -> Result<Action, E> {
    let name = tier.name.clone();
    let from = not_before.max(now);
    let Some(slot) = calendar.slot(from, tier.batch_duration) else {
        return Ok(no_slot(&name, &tier.window.name, from));
    };
    if slot == now {
        let (batch_hosts, pending) = hosts(i, b)?;
        return Ok(Action::Start {
            reason: format!(
                "batch {} of tier `{name}` fits now ({} hosts, {})",
                b + 1,
                run.current_size(),
                calendar::format_duration(tier.batch_duration)
            ),
            tier: name,
            batch: b + 1,
            hosts: batch_hosts,
            pending,
            began: None,
            until: plus(now, tier.batch_duration),
        });
    }
    Ok(Action::Wait {
        reason: wait_reason(b, tier, calendar, from, slot, after_notice, now),
        tier: Some(name),
        batch: Some(b + 1),
        until: slot,
    })
}

/// Why batch `b` (0-based) waits from `from` until `slot`.
fn wait_reason(
    b: usize,
    tier: &TierPlan,
    calendar: &TierCalendar,
    from: DateTime<Utc>,
    slot: DateTime<Utc>,
    after_notice: DateTime<Utc>,
    now: DateTime<Utc>,
) -> String {
    let name = &tier.name;
    if from > now && from == slot {
        if from == after_notice {
            format!(
                "the notice period ({}) of tier `{name}` runs until {}",
                calendar::format_duration(tier.notice_period),
                ts(from)
            )
        } else {
            format!("batch {} of tier `{name}` may start at {}", b + 1, ts(from))
        }
    } else {
        calendar.why_later(&tier.window.name, from, slot, tier.batch_duration)
    }
}

fn no_slot(tier: &str, window: &str, from: DateTime<Utc>) -> Action {
    Action::Halted {
        tier: Some(tier.to_string()),
        reason: format!(
            "tier `{tier}` finds no slot in window `{window}` outside blackouts within {} years after {}; a person must look",
            HORIZON_DAYS / 366,
            ts(from)
        ),
        aborted: false,
        pending: Vec::new(),
    }
}

/// What the actions say for one tier, for an error message.
pub(super) fn describe_for(actions: &[Action], tier: &str) -> String {
    let found = actions.iter().find(|a| match a {
        Action::Notify { tier: t, .. }
        | Action::Start { tier: t, .. }
        | Action::AwaitApproval { tier: t, .. } => t == tier,
        Action::Wait { tier: t, .. } | Action::Halted { tier: t, .. } => {
            t.as_deref() == Some(tier) || t.is_none()
        }
        Action::Done { .. } => true,
    });
    match found {
        Some(Action::Notify { until, .. }) => format!(
            "its contact must be notified first (first batch at {})",
            ts(*until)
        ),
        Some(Action::Start {
            batch,
            began: Some(b),
            ..
        }) => format!("batch {batch} began at {} and is still running", ts(*b)),
        Some(Action::Start { batch, .. }) => format!("batch {batch} is the one to start now"),
        Some(Action::Wait { until, reason, .. }) => {
            format!("`next` says wait until {}: {reason}", ts(*until))
        }
        Some(Action::AwaitApproval { .. }) => "it waits for approval".into(),
        Some(Action::Halted { reason, .. }) => format!("halted: {reason}"),
        Some(Action::Done { .. }) => "the rollout is done".into(),
        None => "it waits for the tiers it comes after, or has finished".into(),
    }
}

fn contact_text(contact: &BTreeMap<String, String>) -> String {
    match contact.get("name") {
        Some(name) => format!("`{name}`"),
        None => "the tier's contact".into(),
    }
}
