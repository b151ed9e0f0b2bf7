//! The planner: assigns hosts to tiers (the first tier in rollout order
//! wins), cuts each tier into batches (size and `max_unavailable` groups),
//! and finds each batch's slot in its window.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};
use roaring::RoaringBitmap;

use super::{Batch, BlackoutPeriod, GroupLimit, Overlap, Plan, PlanError, TierPlan, WindowSpec};
use crate::exec::engine::store::HostSource;
use crate::exec::engine::IndexedFleet;
use crate::rollout::calendar::{earliest_slot, Availability, HORIZON_DAYS};
use crate::rollout::policy::{Policy, Settings, Warning, MANY_OCCURRENCES};
use crate::value::HostValue;

/// Which hosts each tier's scope selects, by position in the fleet.
/// Planning takes these as input so that any evaluator can supply them.
pub type Selections = Vec<RoaringBitmap>;

impl Plan {
    /// Makes a plan. Each tier's scope is evaluated once, by the indexed
    /// engine, at `start`; hosts are in the fleet's order (ascending ids).
    pub fn new(
        policy: &Policy,
        fleet: &IndexedFleet,
        start: DateTime<Utc>,
        severity: &str,
    ) -> Result<Plan, PlanError> {
        let selections: Selections = policy
            .tiers()
            .iter()
            .map(|t| fleet.select(&t.scope, start).into_bitmap())
            .collect();
        Plan::from_parts(
            policy,
            fleet.live_ids(),
            fleet,
            &selections,
            start,
            severity,
        )
    }

    /// The planner proper. `universe` holds the ids of every host, in fleet
    /// order (ascending ids); `host` finds a host by id; `selections` hold
    /// each tier's selected ids, in file order.
    pub(crate) fn from_parts(
        policy: &Policy,
        universe: &RoaringBitmap,
        host: &dyn HostSource,
        selections: &Selections,
        start: DateTime<Utc>,
        severity: &str,
    ) -> Result<Plan, PlanError> {
        check_severity(policy, severity)?;
        let empty = RoaringBitmap::new();
        let selection = |t: usize| selections.get(t).unwrap_or(&empty);
        let name = |i: u32| host.name(i).unwrap_or("");
        let assignment = assign(policy, &selection);
        let overlaps = overlap_records(policy, &assignment.overlapping, &selection, &name);
        if policy.exclusive() {
            if let Some(first) = overlaps.first() {
                return Err(PlanError::Overlap {
                    count: overlaps.len(),
                    host: first.host.clone(),
                    tiers: first.tiers.clone(),
                });
            }
        }
        let unassigned = (universe - &assignment.taken)
            .iter()
            .map(|h| name(h).to_string())
            .collect();

        let mut plan = Plan {
            severity: severity.to_string(),
            start,
            timezone: policy.timezone().name().to_string(),
            blackouts: policy
                .blackout_periods()
                .iter()
                .map(|(n, f, t)| BlackoutPeriod {
                    name: n.clone(),
                    from: *f,
                    to: *t,
                })
                .collect(),
            tiers: Vec::with_capacity(policy.order().len()),
            unassigned,
            overlaps,
            empty_tiers: Vec::new(),
            warnings: policy.warnings().iter().map(ToString::to_string).collect(),
            business_hours: None,
            rates: None,
            after_hours_s: None,
            cost: None,
        };

        // Timing, in rollout order so predecessors are always known.
        let mut finished: BTreeMap<usize, (DateTime<Utc>, TimeDelta)> = BTreeMap::new();
        for &t in policy.order() {
            let members = assignment.members.get(t).unwrap_or(&empty);
            let tier = plan_tier(
                policy, t, members, host, &finished, start, severity, &mut plan,
            )?;
            finished.insert(t, (tier.finish, tier.soak));
            plan.tiers.push(tier);
        }
        let terms = policy.terms();
        super::pricing::annotate(
            &mut plan,
            terms.business_hours.as_ref(),
            terms.rates.as_ref(),
        );
        Ok(plan)
    }
}

/// One tier's plan: ready after its predecessors' finish and soak, cut into
/// batches, each batch in the earliest slot of its window. Warnings about
/// the tier go into `plan`.
#[expect(
    clippy::too_many_arguments,
    reason = "the planner's state, passed explicitly rather than bundled for one caller"
)]
fn plan_tier(
    policy: &Policy,
    t: usize,
    members: &RoaringBitmap,
    host: &dyn HostSource,
    finished: &BTreeMap<usize, (DateTime<Utc>, TimeDelta)>,
    start: DateTime<Utc>,
    severity: &str,
    plan: &mut Plan,
) -> Result<TierPlan, PlanError> {
    let Some(tier) = policy.tiers().get(t) else {
        return Err(PlanError::OutOfRange {
            tier: format!("#{t}"),
        });
    };
    let settings = policy.settings(t, severity);
    let mut ready = start;
    for (finish, soak) in tier.after.iter().filter_map(|a| finished.get(a)) {
        ready = ready.max(shift(*finish, *soak, &tier.name)?);
    }
    let positions: Vec<u32> = members.iter().collect();
    // Each name is read from the fleet once; batches copy from here,
    // which is still in cache, rather than from the fleet again.
    let names = names_of(&positions, host);
    let batch_size = settings.batch.batch_size(positions.len());
    let groups = tier
        .max_unavailable
        .as_ref()
        .map(|m| (Groups::of(host, &positions, &m.per), m.count));
    let cut = cut_batches(
        positions.len(),
        batch_size,
        groups.as_ref().map(|(g, l)| (g, *l)),
    );
    let (availability, zone) = policy.availability(&settings.window);
    let not_before = ready.max(shift(start, settings.notice, &tier.name)?);
    let batches = slot_batches(
        policy,
        &availability,
        &settings,
        &tier.name,
        &cut,
        &names,
        not_before,
    )?;
    let finish = batches.last().map_or(ready, |b| b.end);
    if positions.is_empty() {
        plan.empty_tiers.push(tier.name.clone());
        plan.warnings.push(
            Warning::EmptyTier {
                tier: tier.name.clone(),
            }
            .to_string(),
        );
    }
    if let Some(warning) = occurrence_warning(&availability, &tier.name, &settings, &batches) {
        plan.warnings.push(warning.to_string());
    }
    Ok(TierPlan {
        name: tier.name.clone(),
        wave: policy.waves().get(t).copied().unwrap_or(0),
        after: tier
            .after
            .iter()
            .filter_map(|a| policy.tiers().get(*a))
            .map(|a| a.name.clone())
            .collect(),
        ready,
        notice: match batches.first() {
            Some(b) => Some(shift(b.start, -settings.notice, &tier.name)?),
            None => None,
        },
        finish,
        approval: settings.approval,
        window: WindowSpec::of(&settings.window, &availability),
        timezone: zone.name().to_string(),
        batch_size,
        batch_setting: settings.batch.to_string(),
        batch_duration: settings.batch_duration,
        max_failures: settings.max_failures.allowed_failures(positions.len()),
        soak: settings.soak,
        notice_period: settings.notice,
        max_unavailable: tier.max_unavailable.as_ref().map(|m| GroupLimit {
            per: m.per.to_string(),
            count: m.count,
        }),
        contact: tier.contact.clone(),
        hosts: names,
        batches,
        after_hours_s: None,
        cost: None,
    })
}

/// Each batch in the earliest slot of its window from `not_before`, one
/// after another.
fn slot_batches(
    policy: &Policy,
    availability: &Availability,
    settings: &Settings,
    tier: &str,
    cut: &[Vec<usize>],
    names: &[String],
    mut not_before: DateTime<Utc>,
) -> Result<Vec<Batch>, PlanError> {
    let horizon = TimeDelta::days(HORIZON_DAYS);
    let mut batches = Vec::with_capacity(cut.len());
    for (b, members) in cut.iter().enumerate() {
        let Some(slot) = earliest_slot(
            availability,
            policy.blackouts(),
            not_before,
            settings.batch_duration,
            horizon,
        ) else {
            return Err(PlanError::NoSlot {
                tier: tier.to_string(),
                batch: b + 1,
                window: settings.window.to_string(),
                after: not_before,
            });
        };
        let end = shift(slot, settings.batch_duration, tier)?;
        batches.push(Batch {
            start: slot,
            end,
            hosts: members
                .iter()
                .filter_map(|k| names.get(*k).cloned())
                .collect(),
            after_hours_s: None,
            cost: None,
        });
        not_before = end;
    }
    Ok(batches)
}

/// A warning when a tier's batches span more than [`MANY_OCCURRENCES`]
/// occurrences of its window.
fn occurrence_warning(
    availability: &Availability,
    tier: &str,
    settings: &Settings,
    batches: &[Batch],
) -> Option<Warning> {
    let (Availability::Window(w), Some(first), Some(last)) =
        (availability, batches.first(), batches.last())
    else {
        return None;
    };
    let spanned = w
        .occurrences(first.start)
        .take_while(|o| o.start <= last.start)
        .take(MANY_OCCURRENCES + 1)
        .count();
    (spanned > MANY_OCCURRENCES).then(|| Warning::ManyOccurrences {
        tier: tier.to_string(),
        window: settings.window.to_string(),
        batches: batches.len(),
        finish: last.end.date_naive(),
    })
}

/// The severity must be `normal` or one the policy defines.
fn check_severity(policy: &Policy, severity: &str) -> Result<(), PlanError> {
    if policy.knows_severity(severity) {
        return Ok(());
    }
    let mut known = vec![crate::rollout::policy::NORMAL.to_string()];
    known.extend(
        policy
            .severities()
            .filter(|s| *s != crate::rollout::policy::NORMAL)
            .map(str::to_string),
    );
    Err(PlanError::UnknownSeverity {
        severity: severity.to_string(),
        known,
    })
}

/// Which tier each host joins: the first in rollout order that selects it.
struct Assignment {
    /// Each tier's hosts, by tier index.
    members: Vec<RoaringBitmap>,
    /// Hosts some tier selects.
    taken: RoaringBitmap,
    /// Hosts more than one tier selects.
    overlapping: RoaringBitmap,
}

fn assign<'s>(policy: &Policy, selection: &dyn Fn(usize) -> &'s RoaringBitmap) -> Assignment {
    let mut taken = RoaringBitmap::new();
    let mut overlapping = RoaringBitmap::new();
    let mut members: Vec<RoaringBitmap> = vec![RoaringBitmap::new(); policy.tiers().len()];
    for &t in policy.order() {
        let sel = selection(t);
        overlapping |= sel & &taken;
        if let Some(m) = members.get_mut(t) {
            *m = sel - &taken;
        }
        taken |= sel;
    }
    Assignment {
        members,
        taken,
        overlapping,
    }
}

/// The names of these hosts, in order. Reading a million names is bound by
/// memory latency (each name is its own allocation), so large lists are
/// read in parallel.
fn names_of(positions: &[u32], host: &dyn HostSource) -> Vec<String> {
    let one = |p: &u32| host.name(*p).map_or_else(String::new, str::to_string);
    #[cfg(feature = "parallel")]
    if positions.len() >= 1 << 16 {
        use rayon::prelude::*;
        return positions.par_iter().with_min_len(4096).map(one).collect();
    }
    positions.iter().map(one).collect()
}

/// `t + d`, or an error naming the tier when that leaves the calendar.
fn shift(t: DateTime<Utc>, d: TimeDelta, tier: &str) -> Result<DateTime<Utc>, PlanError> {
    t.checked_add_signed(d)
        .ok_or_else(|| PlanError::OutOfRange {
            tier: tier.to_string(),
        })
}

/// One record per host that several tiers select, with those tiers in
/// rollout order. Each tier's bitmap is walked once (no per-host lookups),
/// and the list of tier names is built once per distinct set of tiers.
#[expect(
    clippy::indexing_slicing,
    reason = "offsets has hosts.len() + 1 entries and i runs below hosts.len()"
)]
fn overlap_records<'a>(
    policy: &Policy,
    overlapping: &RoaringBitmap,
    selection: &dyn Fn(usize) -> &'a RoaringBitmap,
    name: &(dyn Fn(u32) -> &'a str + Sync),
) -> Vec<Overlap> {
    let hosts: Vec<u32> = overlapping.iter().collect();
    let per_tier: Vec<(u32, RoaringBitmap)> = policy
        .order()
        .iter()
        .map(|&t| (t as u32, selection(t) & overlapping))
        .collect();
    // Calls `visit(position in hosts, tier)` for every pair, tiers in
    // rollout order; both sequences ascend, so the cursor only advances.
    let walk = |visit: &mut dyn FnMut(usize, u32)| {
        for (t, members) in &per_tier {
            let mut cursor = 0usize;
            for h in members.iter() {
                while hosts.get(cursor).is_some_and(|x| *x < h) {
                    cursor += 1;
                }
                visit(cursor, *t);
            }
        }
    };
    // Counting layout: host i's tiers are flat[offsets[i]..offsets[i + 1]].
    let mut offsets = vec![0usize; hosts.len() + 1];
    walk(&mut |i, _| {
        if let Some(o) = offsets.get_mut(i + 1) {
            *o += 1;
        }
    });
    for i in 1..offsets.len() {
        offsets[i] += offsets[i - 1];
    }
    let mut flat = vec![0u32; offsets.last().copied().unwrap_or(0)];
    let mut fill = offsets.clone();
    walk(&mut |i, t| {
        if let Some(slot) = fill.get_mut(i) {
            if let Some(cell) = flat.get_mut(*slot) {
                *cell = t;
            }
            *slot += 1;
        }
    });
    let key_of = |i: usize| flat.get(offsets[i]..offsets[i + 1]).unwrap_or(&[]);
    // The distinct sets of tiers are few: name them once.
    let mut lists: HashMap<&[u32], Vec<String>> = HashMap::new();
    for i in 0..hosts.len() {
        lists.entry(key_of(i)).or_insert_with_key(|key| {
            key.iter()
                .filter_map(|t| policy.tiers().get(*t as usize))
                .map(|t| t.name.clone())
                .collect()
        });
    }
    let record = |i: usize, id: &u32| Overlap {
        host: name(*id).to_string(),
        tiers: lists.get(key_of(i)).cloned().unwrap_or_default(),
    };
    // Like reading names, building half a million records is bound by
    // memory latency and allocation: in parallel when large.
    #[cfg(feature = "parallel")]
    if hosts.len() >= 1 << 16 {
        use rayon::prelude::*;
        return hosts
            .par_iter()
            .enumerate()
            .with_min_len(4096)
            .map(|(i, id)| record(i, id))
            .collect();
    }
    hosts
        .iter()
        .enumerate()
        .map(|(i, id)| record(i, id))
        .collect()
}

/// The `max_unavailable` groups of a tier's hosts, in a flat layout: host
/// `i` belongs to `ids[offsets[i]..offsets[i + 1]]`. A group is a value's
/// text (a float by its decimal form); a host with no value belongs to no
/// group, so no limit applies to it.
pub(crate) struct Groups {
    offsets: Vec<u32>,
    ids: Vec<u32>,
}

impl Groups {
    fn of<'h>(hosts: &'h dyn HostSource, positions: &[u32], per: &crate::syntax::Path) -> Groups {
        let mut interned: HashMap<std::borrow::Cow<'h, str>, u32> = HashMap::new();
        let mut groups = Groups {
            offsets: vec![0],
            ids: Vec::new(),
        };
        for position in positions {
            let start = groups.ids.len();
            {
                hosts.for_each_value(*position, per, &mut |v| {
                    let key = match v {
                        HostValue::Float(f) => std::borrow::Cow::Owned(f.to_string()),
                        other => other.text().unwrap_or_default(),
                    };
                    let next = interned.len() as u32;
                    let id = *interned.entry(key).or_insert(next);
                    if !groups.ids.get(start..).unwrap_or_default().contains(&id) {
                        groups.ids.push(id);
                    }
                });
            }
            groups.offsets.push(groups.ids.len() as u32);
        }
        groups
    }

    fn of_host(&self, i: usize) -> &[u32] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => self.ids.get(a as usize..b as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Cuts `n` hosts (in order) into batches of at most `size`. With groups,
/// no batch holds more than `limit` hosts sharing a key; each host goes
/// first-fit into the earliest batch with room. Returns, per batch, indices
/// into the host list in order.
///
/// Both "first batch with room" searches only move forward (a full batch
/// stays full), so they are pointers: near-linear in hosts + batches.
pub(crate) fn cut_batches(
    n: usize,
    size: usize,
    groups: Option<(&Groups, usize)>,
) -> Vec<Vec<usize>> {
    let size = size.max(1);
    let Some((groups, limit)) = groups else {
        let all: Vec<usize> = (0..n).collect();
        return all.chunks(size).map(<[usize]>::to_vec).collect();
    };
    let limit = limit.max(1);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    // next_open[b]: the first batch >= b that is not full (path-halving
    // union-find over batch indices; `batches.len()` means "a new batch").
    let mut next_open: Vec<usize> = Vec::new();
    // Hosts of each group in each batch, and each group's first batch that
    // may still have room for it.
    let mut counts: HashMap<(u32, usize), usize> = HashMap::new();
    let mut first_room: HashMap<u32, usize> = HashMap::new();
    fn find(next_open: &mut [usize], mut b: usize) -> usize {
        while let Some(&up) = next_open.get(b).filter(|up| **up != b) {
            if let Some(&upper) = next_open.get(up) {
                if let Some(slot) = next_open.get_mut(b) {
                    *slot = upper;
                }
            }
            b = up;
        }
        b
    }
    for host in 0..n {
        let host_groups = groups.of_host(host);
        let floor = host_groups
            .iter()
            .map(|g| first_room.get(g).copied().unwrap_or(0))
            .max()
            .unwrap_or(0);
        let mut b = find(&mut next_open, floor);
        while host_groups
            .iter()
            .any(|g| counts.get(&(*g, b)).copied().unwrap_or(0) >= limit)
        {
            b = find(&mut next_open, b + 1);
        }
        if b == batches.len() {
            batches.push(Vec::with_capacity(size.min(n)));
            next_open.push(b);
        }
        // `b` is at most `batches.len()`, and a new batch was pushed when
        // it was equal: both lists have an entry `b`.
        if let Some(batch) = batches.get_mut(b) {
            batch.push(host);
            if batch.len() >= size {
                if let Some(open) = next_open.get_mut(b) {
                    *open = b + 1;
                }
            }
        }
        for g in host_groups {
            let c = counts.entry((*g, b)).or_insert(0);
            *c += 1;
            if *c >= limit {
                let room = first_room.entry(*g).or_insert(0);
                while counts.get(&(*g, *room)).copied().unwrap_or(0) >= limit {
                    *room += 1;
                }
            }
        }
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::Host;

    #[test]
    fn batches_without_groups_are_chunks() {
        assert_eq!(
            cut_batches(7, 2, None),
            vec![vec![0, 1], vec![2, 3], vec![4, 5], vec![6]]
        );
        assert_eq!(cut_batches(0, 3, None), Vec::<Vec<usize>>::new());
    }

    /// Groups from explicit lists of group names per host.
    fn groups(lists: &[&[&str]]) -> Groups {
        let hosts: Vec<Host> = lists
            .iter()
            .enumerate()
            .map(|(i, keys)| {
                let mut h = Host::named(format!("h{i}"));
                h.roles = keys.iter().map(|k| k.to_string()).collect();
                h
            })
            .collect();
        let list = crate::exec::engine::store::HostList(&hosts);
        let positions: Vec<u32> = (0..hosts.len() as u32).collect();
        Groups::of(&list, &positions, &crate::syntax::Path::Role)
    }

    #[test]
    fn groups_go_first_fit() {
        // a a a b b -, at most 1 per group, 3 per batch.
        let g = groups(&[&["a"], &["a"], &["a"], &["b"], &["b"], &[]]);
        let cut = cut_batches(6, 3, Some((&g, 1)));
        assert_eq!(cut, vec![vec![0, 3, 5], vec![1, 4], vec![2]]);
    }

    #[test]
    fn multi_valued_hosts_count_in_every_group() {
        let g = groups(&[&["a", "b"], &["b"], &["a"]]);
        let cut = cut_batches(3, 10, Some((&g, 1)));
        assert_eq!(cut, vec![vec![0], vec![1, 2]]);
    }

    #[test]
    fn percentages_round_as_the_spec_says() {
        use crate::rollout::policy::{Amount, Percent};
        let pct = |text: &str| match Percent::parse(text) {
            Some(p) => Amount::Percent(p),
            None => panic!("{text} is a percentage"),
        };
        assert_eq!(pct("25").batch_size(7), 2);
        assert_eq!(pct("100").batch_size(7), 7);
        assert_eq!(pct("1").batch_size(3), 1);
        assert_eq!(pct("0").batch_size(3), 1);
        assert_eq!(pct("5").allowed_failures(50), 2);
        assert_eq!(pct("5").allowed_failures(19), 0);
        // Exact near whole numbers, where floating point slack would not be.
        assert_eq!(pct("99.99999999").allowed_failures(3), 2);
        assert_eq!(pct("33.333333334").batch_size(3), 2);
        assert_eq!(pct("33.333333333").batch_size(3), 1);
        assert_eq!(Amount::Count(u64::MAX).allowed_failures(3), 3);
        for bad in [
            "",
            "1.",
            ".5",
            "100.000000001",
            "101",
            "1e2",
            "-1",
            "1.0000000001",
        ] {
            assert_eq!(Percent::parse(bad), None, "{bad}");
        }
        assert_eq!(pct("12.50").to_string(), "12.5%");
        assert_eq!(
            Amount::Count(3).allowed_failures(1),
            1,
            "never more than the tier"
        );
    }
}
