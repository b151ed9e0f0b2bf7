//! Annotating a plan with after-hours time and cost, from the policy's
//! business hours and rates.

use super::Plan;
use crate::rollout::calendar::BusinessHours;
use crate::rollout::cost::{Cost, HoursSpec, Rates};

/// Fills in a plan's after-hours time and cost: every batch, then every
/// tier and the whole plan as the exact sum of their parts. Does nothing
/// without business hours, so a plan without them is unchanged.
pub(super) fn annotate(plan: &mut Plan, hours: Option<&BusinessHours>, rates: Option<&Rates>) {
    let Some(hours) = hours else {
        return;
    };
    plan.business_hours = Some(HoursSpec::of(hours));
    plan.rates = rates.cloned();
    for tier in &mut plan.tiers {
        for batch in &mut tier.batches {
            let after = hours.after_hours_seconds(batch.start, batch.end);
            let length = u64::try_from((batch.end - batch.start).num_seconds()).unwrap_or(0);
            batch.after_hours_s = Some(after);
            batch.cost = rates.map(|r| r.price(length.saturating_sub(after), after));
        }
        tier.after_hours_s = Some(
            tier.batches
                .iter()
                .filter_map(|b| b.after_hours_s)
                .fold(0u64, u64::saturating_add),
        );
        tier.cost = rates.map(|r| {
            Cost::total(tier.batches.iter().filter_map(|b| b.cost.as_ref()))
                .unwrap_or_else(|| r.price(0, 0))
        });
    }
    plan.after_hours_s = Some(
        plan.tiers
            .iter()
            .filter_map(|t| t.after_hours_s)
            .fold(0u64, u64::saturating_add),
    );
    plan.cost = rates.map(|r| {
        Cost::total(plan.tiers.iter().filter_map(|t| t.cost.as_ref()))
            .unwrap_or_else(|| r.price(0, 0))
    });
}
