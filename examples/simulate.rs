//! A simulated patch tool driving the bundled example policy
//! (`examples/policy.toml` over `examples/fleet.json`) from start to done.
//!
//! ```sh
//! cargo run --example simulate                    # seed 7, 0.5% of hosts fail
//! cargo run --example simulate -- --seed 42 --failure-rate 0.02 --state /tmp/rollout.json
//! ```
//!
//! It is the loop `docs/running.md` describes: read the state, ask
//! `next(now)`, act on every action, report back through
//! `StateFile::update` (one locked, atomic write per step), and sleep until
//! the earliest `wait` when there is nothing else to do. The clock is
//! simulated: `now` jumps to the next instant something can happen. Hosts
//! fail at random (a seeded generator, so a seed always gives the same
//! run); a tier that halts on failures is resumed by a simulated operator
//! an hour later, so the run always ends.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::error::Error;
use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use fleetscope::rollout::{Action, Outcome, Plan, Policy, Rollout, StateFile};
use fleetscope::{Fleet, IndexedFleet};

/// SplitMix64: tiny, seeded, and the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Options {
    seed: u64,
    failure_rate: f64,
    state: PathBuf,
}

fn options() -> Result<Options, Box<dyn Error>> {
    let mut o = Options {
        seed: 7,
        failure_rate: 0.005,
        state: std::env::temp_dir()
            .join(format!("fleetscope-simulate-{}.json", std::process::id())),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--seed" => o.seed = value.parse()?,
            "--failure-rate" => o.failure_rate = value.parse()?,
            "--state" => o.state = value.into(),
            _ => return Err(format!("unknown option {flag}").into()),
        }
    }
    Ok(o)
}

fn main() -> Result<(), Box<dyn Error>> {
    let o = options()?;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let policy = Policy::load(dir.join("policy.toml"))?;
    let fleet = IndexedFleet::new(Fleet::load(dir.join("fleet.json"))?);
    let start: DateTime<Utc> = "2026-11-23T08:00:00Z".parse()?;
    let plan = Plan::new(&policy, &fleet, start, "normal")?;

    // A fresh state file; a real tool would keep it and resume from it.
    let file = StateFile::new(&o.state);
    let _ = std::fs::remove_file(file.path());
    file.create(&Rollout::new(plan, "simulate", start)?)?;
    println!("state file: {}", file.path().display());

    let mut rng = Rng(o.seed);
    let mut now = start;
    let mut steps = 0usize;
    loop {
        steps += 1;
        let rollout = file.load()?;
        let actions = rollout.next(now);
        if let Some(Action::Done { reason }) = actions.first() {
            println!("{}  done: {reason}", now.format("%Y-%m-%d %H:%M"));
            print!("{}", rollout.status(now));
            println!(
                "{steps} steps, {} events in the log",
                rollout.events().len()
            );
            return Ok(());
        }
        let duration = |tier: &str| {
            rollout
                .plan()
                .tiers
                .iter()
                .find(|t| t.name == tier)
                .map_or(TimeDelta::hours(1), |t| t.batch_duration)
        };

        // Acknowledge what can be acknowledged now, and collect the hosts
        // to patch: those of begun batches and of batches beginning now.
        let mut patch: Vec<(String, TimeDelta)> = Vec::new();
        let mut halted_tiers = Vec::new();
        let mut acted = false;
        let mut wake: Option<DateTime<Utc>> = None;
        let mut acknowledge = Vec::new();
        for action in &actions {
            match action {
                Action::AwaitApproval { tier, .. } => {
                    println!("{}  approve {tier}", now.format("%Y-%m-%d %H:%M"));
                    acknowledge.push(action.clone());
                }
                Action::Notify { tier, until, .. } => {
                    println!(
                        "{}  notify  {tier} (first batch {})",
                        now.format("%Y-%m-%d %H:%M"),
                        until.format("%Y-%m-%d %H:%M")
                    );
                    acknowledge.push(action.clone());
                }
                Action::Start {
                    tier,
                    batch,
                    pending,
                    began,
                    ..
                } => {
                    if began.is_none() {
                        println!(
                            "{}  start   {tier} batch {batch} ({} hosts)",
                            now.format("%Y-%m-%d %H:%M"),
                            pending.len()
                        );
                        acknowledge.push(action.clone());
                    }
                    patch.extend(pending.iter().map(|h| (h.clone(), duration(tier))));
                }
                Action::Halted {
                    tier,
                    aborted,
                    pending,
                    reason,
                } => {
                    if *aborted {
                        return Err(format!("aborted: {reason}").into());
                    }
                    // The hosts already being patched still report back.
                    let d = tier.as_deref().map_or(TimeDelta::hours(1), duration);
                    patch.extend(pending.iter().map(|h| (h.clone(), d)));
                    halted_tiers.push((tier.clone(), reason.clone()));
                }
                Action::Wait { until, .. } => {
                    wake = Some(wake.map_or(*until, |w| w.min(*until)));
                }
                Action::Done { .. } => {}
            }
        }
        if !acknowledge.is_empty() {
            acted = true;
            file.update(|r| {
                for action in &acknowledge {
                    match action {
                        Action::AwaitApproval { tier, .. } => {
                            r.approve(tier, "sim-approver", now)?
                        }
                        Action::Notify { tier, .. } => r.notified(tier, "sim-notifier", now)?,
                        Action::Start { tier, batch, .. } => {
                            r.begin(tier, *batch, "sim-patcher", now)?
                        }
                        _ => {}
                    }
                }
                Ok(())
            })?;
        }

        if !patch.is_empty() {
            // Each host takes a random part of its batch's time; results are
            // reported in the order they come in.
            let mut results: Vec<(DateTime<Utc>, String, Outcome)> = patch
                .into_iter()
                .map(|(host, d)| {
                    let minutes = (d.num_minutes().max(2) as f64 * 0.9 * rng.unit()) as i64 + 1;
                    let outcome = if rng.unit() < o.failure_rate {
                        Outcome::Failed("package manager exited with status 100".into())
                    } else {
                        Outcome::Succeeded
                    };
                    (now + TimeDelta::minutes(minutes), host, outcome)
                })
                .collect();
            results.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            let failed = results
                .iter()
                .filter(|r| matches!(r.2, Outcome::Failed(_)))
                .count();
            let halted = file.update(|r| {
                for (at, host, outcome) in &results {
                    r.record(host, outcome.clone(), "sim-patcher", *at)?;
                }
                Ok(r.tiers()
                    .iter()
                    .filter(|t| t.halted.is_some())
                    .map(|t| t.name.clone())
                    .collect::<Vec<_>>())
            })?;
            if let Some(last) = results.last() {
                now = now.max(last.0);
            }
            println!(
                "{}  {} results, {failed} failed{}",
                now.format("%Y-%m-%d %H:%M"),
                results.len(),
                if halted.is_empty() {
                    String::new()
                } else {
                    format!("; halted: {}", halted.join(", "))
                }
            );
            continue;
        }
        if !halted_tiers.is_empty() {
            // The operator looks into it and decides to go on.
            now += TimeDelta::hours(1);
            for (tier, reason) in &halted_tiers {
                println!(
                    "{}  resume  {} after review ({reason})",
                    now.format("%Y-%m-%d %H:%M"),
                    tier.as_deref().unwrap_or("the rollout")
                );
                file.update(|r| r.resume(tier.as_deref(), "sim-operator", now))?;
            }
            continue;
        }
        if acted {
            continue;
        }
        match wake {
            Some(until) if until > now => now = until,
            _ => return Err(format!("stuck at {now}: {actions:?}").into()),
        }
    }
}
