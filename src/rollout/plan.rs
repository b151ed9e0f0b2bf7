//! Plans: from a validated policy, a fleet, a start instant and a severity,
//! which host is patched in which batch, when (ROLLOUT.md rules 2 to 5, 7, 9
//! and 10).
//!
//! The plan freezes the hosts it resolved: running it never evaluates a
//! scope again. The same inputs give the same plan, byte for byte: host order
//! is fleet order, tier order is rollout order, and no hash map is iterated.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use roaring::RoaringBitmap;
use serde::{Deserialize, Serialize};

use super::calendar::{self, earliest_slot, Availability, Blackouts, Window};
use super::policy::{Policy, WindowChoice};
use crate::exec::engine::store::HostSource;
use crate::exec::engine::IndexedFleet;
use crate::fleet::Host;
use crate::value::HostValue;

/// How far ahead a batch is searched for before the plan gives up.
pub const HORIZON_DAYS: i64 = 20 * 366;

/// A tier whose batches span more than this many window occurrences gets a
/// warning: it would take months.
pub const MANY_OCCURRENCES: usize = 8;

/// A dated rollout plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The severity the plan was made for.
    pub severity: String,
    /// The instant the plan starts at.
    pub start: DateTime<Utc>,
    /// The policy's time zone (blackout dates are local to it).
    pub timezone: String,
    /// The blackouts the plan honours.
    pub blackouts: Vec<BlackoutPeriod>,
    /// The tiers, in rollout order.
    pub tiers: Vec<TierPlan>,
    /// Hosts no tier selects: they would never be patched.
    pub unassigned: Vec<String>,
    /// Hosts several tiers select, with those tiers in rollout order; each
    /// is patched in the first.
    pub overlaps: Vec<Overlap>,
    /// Tiers that select no host (or only hosts an earlier tier took).
    pub empty_tiers: Vec<String>,
    /// Things that are allowed but probably wrong.
    pub warnings: Vec<String>,
}

/// A blackout as the policy wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlackoutPeriod {
    /// Its name.
    pub name: String,
    /// First local date of the blackout.
    pub from: chrono::NaiveDate,
    /// First local date after it.
    pub to: chrono::NaiveDate,
}

/// One tier of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierPlan {
    /// The tier's name.
    pub name: String,
    /// Tiers of one wave have no path between them and may run together.
    pub wave: usize,
    /// The tiers it comes after.
    pub after: Vec<String>,
    /// When its predecessors have finished and soaked (or the plan starts).
    pub ready: DateTime<Utc>,
    /// When its contact is told; `None` for an empty tier.
    pub notice: Option<DateTime<Utc>>,
    /// When its last batch ends (its ready time when it has no batches).
    pub finish: DateTime<Utc>,
    /// Whether it waits for a person's approval at its ready time.
    pub approval: bool,
    /// Where its batches may run, with what that window is.
    pub window: WindowSpec,
    /// The zone its times are shown in.
    pub timezone: String,
    /// Hosts per batch, resolved from the policy's count or percentage.
    pub batch_size: usize,
    /// The policy's batch setting as written (`25%`, `10`).
    pub batch_setting: String,
    /// Time each batch is given.
    #[serde(with = "duration_text")]
    pub batch_duration: TimeDelta,
    /// Failures tolerated before the tier halts, resolved to a count.
    pub max_failures: usize,
    /// Wait after it finishes before its dependents may start.
    #[serde(with = "duration_text")]
    pub soak: TimeDelta,
    /// How long before the first batch its contact is told.
    #[serde(with = "duration_text")]
    pub notice_period: TimeDelta,
    /// The per-group limit, when the tier has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<GroupLimit>,
    /// Who is told.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contact: BTreeMap<String, String>,
    /// Its hosts, in fleet order.
    pub hosts: Vec<String>,
    /// Its batches, in the order they run.
    pub batches: Vec<Batch>,
}

/// A `max_unavailable` limit as planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLimit {
    /// The path, as written in the language.
    pub per: String,
    /// Hosts of one group per batch.
    pub count: usize,
}

/// Where a tier's batches may run, self-contained so that a running rollout
/// can reschedule without the policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpec {
    /// The window's name, or `any`.
    pub name: String,
    /// Its recurrence (absent for `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<String>,
    /// Its duration (absent for `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Its time zone (absent for `any`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

impl WindowSpec {
    fn of(name: &WindowChoice, availability: &Availability) -> WindowSpec {
        match availability {
            Availability::Window(w) => WindowSpec {
                name: name.to_string(),
                every: Some(w.recurrence.to_string()),
                duration: Some(calendar::format_duration(w.duration)),
                timezone: Some(w.timezone.name().to_string()),
            },
            Availability::Any => WindowSpec {
                name: "any".into(),
                every: None,
                duration: None,
                timezone: None,
            },
        }
    }

    /// The availability this spec describes; `None` if it does not parse
    /// (a hand-edited plan).
    pub fn availability(&self) -> Option<Availability> {
        match (&self.every, &self.duration, &self.timezone) {
            (None, None, None) => Some(Availability::Any),
            (Some(every), Some(duration), Some(zone)) => Some(Availability::Window(Window {
                recurrence: every.parse().ok()?,
                duration: calendar::parse_duration(duration).ok()?,
                timezone: zone.parse().ok()?,
            })),
            _ => None,
        }
    }
}

/// A batch: hosts patched together in `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    /// When it starts.
    pub start: DateTime<Utc>,
    /// When its time is up.
    pub end: DateTime<Utc>,
    /// Its hosts, in fleet order.
    pub hosts: Vec<String>,
}

/// A host that several tiers select.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlap {
    /// The host.
    pub host: String,
    /// Every tier that selects it, in rollout order; it joins the first.
    pub tiers: Vec<String>,
}

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The caller asked for a severity the policy does not define.
    #[error("unknown severity `{severity}`; known: {}", .known.join(", "))]
    UnknownSeverity {
        /// The severity asked for.
        severity: String,
        /// `normal` and every `[severity.NAME]`.
        known: Vec<String>,
    },
    /// The policy is `exclusive` and tiers overlap.
    #[error("the policy is exclusive, but {count} host(s) are selected by several tiers, first `{host}` by {}", .tiers.join(", "))]
    Overlap {
        /// How many hosts overlap.
        count: usize,
        /// The first such host, in fleet order.
        host: String,
        /// The tiers selecting it.
        tiers: Vec<String>,
    },
    /// No slot for a batch within the search horizon.
    #[error("tier `{tier}`: batch {batch} finds no slot in window `{window}` outside blackouts within {} years after {after}", HORIZON_DAYS / 366)]
    NoSlot {
        /// The tier.
        tier: String,
        /// 1-based batch number.
        batch: usize,
        /// The window.
        window: String,
        /// The instant searched from.
        after: DateTime<Utc>,
    },
    /// A time would fall outside the calendar (a start near the end of time).
    #[error("tier `{tier}`: its times fall outside the calendar; start the plan earlier")]
    OutOfRange {
        /// The tier.
        tier: String,
    },
    /// The fleet has more hosts than a plan can address.
    #[error("the fleet has {0} hosts; plans support up to 4,294,967,295")]
    TooLarge(usize),
}

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
        Plan::from_parts(policy, &fleet.live, fleet, &selections, start, severity)
    }

    /// Makes a plan from precomputed selections (one bitmap of host
    /// positions per tier, in file order) over the hosts of a plain list.
    pub fn from_selections(
        policy: &Policy,
        hosts: &[Host],
        selections: &Selections,
        start: DateTime<Utc>,
        severity: &str,
    ) -> Result<Plan, PlanError> {
        let Ok(count) = u32::try_from(hosts.len()) else {
            return Err(PlanError::TooLarge(hosts.len()));
        };
        let mut universe = RoaringBitmap::new();
        universe.insert_range(0..count);
        let list = crate::exec::engine::store::HostList(hosts);
        Plan::from_parts(policy, &universe, &list, selections, start, severity)
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
        if !policy.knows_severity(severity) {
            let mut known = vec![super::policy::NORMAL.to_string()];
            known.extend(
                policy
                    .severities()
                    .filter(|s| *s != super::policy::NORMAL)
                    .map(str::to_string),
            );
            return Err(PlanError::UnknownSeverity {
                severity: severity.to_string(),
                known,
            });
        }
        let empty = RoaringBitmap::new();
        let selection = |t: usize| selections.get(t).unwrap_or(&empty);
        let name = |i: u32| host.name(i).unwrap_or("");

        // Assignment: the first tier in rollout order wins.
        let mut taken = RoaringBitmap::new();
        let mut overlapping = RoaringBitmap::new();
        let mut members: Vec<RoaringBitmap> = vec![RoaringBitmap::new(); policy.tiers().len()];
        for &t in policy.order() {
            let sel = selection(t);
            overlapping |= sel & &taken;
            members[t] = sel - &taken;
            taken |= sel;
        }
        let overlaps = overlap_records(policy, &overlapping, &selection, &name);
        if policy.exclusive() {
            if let Some(first) = overlaps.first() {
                return Err(PlanError::Overlap {
                    count: overlaps.len(),
                    host: first.host.clone(),
                    tiers: first.tiers.clone(),
                });
            }
        }
        let unassigned = (universe - &taken)
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
            warnings: policy.warnings(),
        };

        // Timing, in rollout order so predecessors are always known.
        let mut finished: BTreeMap<usize, (DateTime<Utc>, TimeDelta)> = BTreeMap::new();
        let horizon = TimeDelta::days(HORIZON_DAYS);
        for &t in policy.order() {
            let tier = &policy.tiers()[t];
            let settings = policy.settings(t, severity);
            let mut ready = start;
            for (finish, soak) in tier.after.iter().filter_map(|a| finished.get(a)) {
                ready = ready.max(shift(*finish, *soak, &tier.name)?);
            }
            let positions: Vec<u32> = members[t].iter().collect();
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
            let mut batches = Vec::with_capacity(cut.len());
            let mut not_before = ready.max(shift(start, settings.notice, &tier.name)?);
            for (b, members) in cut.iter().enumerate() {
                let Some(slot) = earliest_slot(
                    &availability,
                    policy.blackouts(),
                    not_before,
                    settings.batch_duration,
                    horizon,
                ) else {
                    return Err(PlanError::NoSlot {
                        tier: tier.name.clone(),
                        batch: b + 1,
                        window: settings.window.to_string(),
                        after: not_before,
                    });
                };
                let end = shift(slot, settings.batch_duration, &tier.name)?;
                batches.push(Batch {
                    start: slot,
                    end,
                    hosts: members
                        .iter()
                        .filter_map(|k| names.get(*k).cloned())
                        .collect(),
                });
                not_before = end;
            }
            let finish = batches.last().map_or(ready, |b| b.end);
            finished.insert(t, (finish, settings.soak));
            if positions.is_empty() {
                plan.empty_tiers.push(tier.name.clone());
                plan.warnings
                    .push(format!("tier `{}` has no hosts", tier.name));
            }
            if let (Availability::Window(w), Some(first), Some(last)) =
                (&availability, batches.first(), batches.last())
            {
                let spanned = w
                    .occurrences(first.start)
                    .take_while(|o| o.start <= last.start)
                    .take(MANY_OCCURRENCES + 1)
                    .count();
                if spanned > MANY_OCCURRENCES {
                    plan.warnings.push(format!(
                        "tier `{}` needs more than {MANY_OCCURRENCES} occurrences of window `{}` ({} batches, finishing {}); it would take months",
                        tier.name,
                        settings.window,
                        batches.len(),
                        finish.format("%Y-%m-%d")
                    ));
                }
            }
            plan.tiers.push(TierPlan {
                name: tier.name.clone(),
                wave: policy.waves().get(t).copied().unwrap_or(0),
                after: tier
                    .after
                    .iter()
                    .map(|a| policy.tiers()[*a].name.clone())
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
            });
        }
        Ok(plan)
    }

    /// The plan as JSON (pretty, stable key order).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The blackouts as UTC intervals, rebuilt from the plan.
    pub fn blackout_intervals(&self) -> Blackouts {
        let zone: Tz = self.timezone.parse().unwrap_or(Tz::UTC);
        let periods: Vec<_> = self
            .blackouts
            .iter()
            .map(|b| (b.name.clone(), b.from, b.to))
            .collect();
        Blackouts::new(zone, &periods).unwrap_or_else(|_| Blackouts::none())
    }

    /// Tier by tier, the hosts that this plan has and `previous` had not
    /// (came) and the other way round (went). Tiers in this plan's order,
    /// then tiers only the previous plan had.
    pub fn changes_since(&self, previous: &Plan) -> Vec<TierChange> {
        let old: BTreeMap<&str, &TierPlan> = previous
            .tiers
            .iter()
            .map(|t| (t.name.as_str(), t))
            .collect();
        let mut out = Vec::new();
        for tier in &self.tiers {
            let before: std::collections::BTreeSet<&str> = old
                .get(tier.name.as_str())
                .map_or_else(Default::default, |t| {
                    t.hosts.iter().map(String::as_str).collect()
                });
            let now: std::collections::BTreeSet<&str> =
                tier.hosts.iter().map(String::as_str).collect();
            out.push(TierChange {
                tier: tier.name.clone(),
                came: tier
                    .hosts
                    .iter()
                    .filter(|h| !before.contains(h.as_str()))
                    .cloned()
                    .collect(),
                went: old.get(tier.name.as_str()).map_or(Vec::new(), |t| {
                    t.hosts
                        .iter()
                        .filter(|h| !now.contains(h.as_str()))
                        .cloned()
                        .collect()
                }),
            });
        }
        for t in &previous.tiers {
            if !self.tiers.iter().any(|n| n.name == t.name) {
                out.push(TierChange {
                    tier: t.name.clone(),
                    came: Vec::new(),
                    went: t.hosts.clone(),
                });
            }
        }
        out
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

/// Hosts that joined and left one tier between two plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierChange {
    /// The tier.
    pub tier: String,
    /// Hosts in the new plan's tier but not the old one's.
    pub came: Vec<String>,
    /// Hosts in the old plan's tier but not the new one's.
    pub went: Vec<String>,
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
                    if !groups.ids[start..].contains(&id) {
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
        while b < next_open.len() && next_open[b] != b {
            let up = next_open[b];
            if up < next_open.len() {
                next_open[b] = next_open[up];
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
        batches[b].push(host);
        if batches[b].len() >= size {
            next_open[b] = b + 1;
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

/// Serializes a duration as text such as `24h` or `1h30m`.
mod duration_text {
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &TimeDelta, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::calendar::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TimeDelta, D::Error> {
        let text = String::deserialize(d)?;
        super::calendar::parse_duration(&text).map_err(serde::de::Error::custom)
    }
}

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
            }
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

#[cfg(test)]
mod tests {
    use super::*;

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
        use super::super::policy::{Amount, Percent};
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
