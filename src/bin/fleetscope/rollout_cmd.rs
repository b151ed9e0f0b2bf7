//! `fleetscope rollout ...`: create a rollout state file from a plan and
//! drive it. Every decision is the library's (`fleetscope::rollout`);
//! this file reads arguments, the clock (the one place that may) and
//! files, and prints.

use std::io::Write;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use fleetscope::rollout::{Action, Outcome, Plan, Rollout, StateFile, StoreError};

use super::{
    load_fleet, load_policy, parse_instant, write_failure, Failure, FleetFormatArg, Format,
};

/// The hidden test hook: milliseconds to sleep between flushing the
/// temporary state file and renaming it over the state. Only debug builds
/// (what `cargo test` runs) read it; a release build never does.
#[cfg(debug_assertions)]
const PAUSE_ENV: &str = "FLEETSCOPE_TEST_PAUSE_BEFORE_RENAME_MS";

#[derive(Subcommand)]
pub(crate) enum RolloutCommand {
    /// Plan a rollout and write its state file (refuses to overwrite one).
    Start {
        /// The policy file (TOML).
        policy: String,
        #[arg(long)]
        fleet: String,
        /// The fleet file's format; detected from the document when not given.
        #[arg(long, value_enum, value_name = "FORMAT")]
        fleet_format: Option<FleetFormatArg>,
        /// When the rollout may start (RFC 3339).
        #[arg(long)]
        start: String,
        /// The severity to plan for.
        #[arg(long, default_value = "normal")]
        severity: String,
        #[command(flatten)]
        common: Common,
    },
    /// What to do now: notify, start a batch, wait, await approval, halted, done.
    /// Only reads the state.
    Next {
        #[arg(long)]
        state: String,
        /// The instant to answer for (RFC 3339); defaults to the current time.
        #[arg(long)]
        now: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Record hosts' results (all or nothing when several hosts are given).
    Record {
        /// The host; repeat for several hosts with the same outcome.
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
        /// The hosts were patched.
        #[arg(long, conflicts_with = "failed", required_unless_present = "failed")]
        ok: bool,
        /// The hosts failed, for this reason.
        #[arg(long, value_name = "REASON")]
        failed: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Acknowledge a `start` action: the batch has begun.
    Begin {
        #[arg(long)]
        tier: String,
        /// The batch number, from 1, as `next` gives it.
        #[arg(long)]
        batch: usize,
        #[command(flatten)]
        common: Common,
    },
    /// Acknowledge a `notify` action: the tier's contact was told.
    Notified {
        #[arg(long)]
        tier: String,
        #[command(flatten)]
        common: Common,
    },
    /// Approve a tier that needs approval.
    Approve {
        #[arg(long)]
        tier: String,
        #[command(flatten)]
        common: Common,
    },
    /// Halt the whole rollout until `resume`.
    Halt {
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: Common,
    },
    /// Lift the rollout's halt, or with --tier a tier's halt on failures.
    Resume {
        #[arg(long)]
        tier: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Abort the rollout for good.
    Abort {
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: Common,
    },
    /// Progress per tier.
    Status {
        #[arg(long)]
        state: String,
        /// The instant to report for; defaults to the current time.
        #[arg(long)]
        now: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The audit log: every change, when, and by whom.
    Log {
        #[arg(long)]
        state: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// Arguments every changing command takes.
#[derive(Args)]
pub(crate) struct Common {
    /// The state file.
    #[arg(long)]
    state: String,
    /// Who makes the change (recorded in the log); defaults to $USER.
    #[arg(long)]
    by: Option<String>,
    /// When (RFC 3339); defaults to the current time.
    #[arg(long)]
    at: Option<String>,
}

impl Common {
    fn file(&self) -> Result<StateFile, Failure> {
        #[cfg(debug_assertions)]
        let pause = match std::env::var(PAUSE_ENV) {
            Ok(ms) => Some(std::time::Duration::from_millis(ms.parse().map_err(
                |_| Failure::invalid(format!("error: {PAUSE_ENV} must be milliseconds")),
            )?)),
            Err(_) => None,
        };
        #[cfg(not(debug_assertions))]
        let pause = None;
        Ok(StateFile::new(&self.state).pause_before_rename(pause))
    }

    fn by(&self) -> String {
        self.by
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "fleetscope-cli".into())
    }

    fn at(&self) -> Result<DateTime<Utc>, Failure> {
        instant_or_now("--at", self.at.as_deref())
    }

    /// Applies one change under the lock and says what happened.
    fn change(
        &self,
        out: &mut impl Write,
        change: impl FnOnce(
            &mut Rollout,
            &str,
            DateTime<Utc>,
        ) -> Result<String, fleetscope::rollout::RunError>,
    ) -> Result<(), Failure> {
        let by = self.by();
        let at = self.at()?;
        let file = self.file()?;
        let message = file.update(|r| change(r, &by, at)).map_err(store_failure)?;
        writeln!(out, "{message}").map_err(write_failure)
    }
}

pub(crate) fn run(command: RolloutCommand, out: &mut impl Write) -> Result<(), Failure> {
    match command {
        RolloutCommand::Start {
            policy,
            fleet,
            fleet_format,
            start,
            severity,
            common,
        } => {
            let policy_path = policy;
            let policy = load_policy(&policy_path)?;
            let fleet = load_fleet(&fleet, fleet_format)?;
            let start = parse_instant("--start", &start)?;
            let plan = Plan::new(&policy, &fleet, start, &severity)
                .map_err(|e| Failure::invalid(format!("error: {policy_path}: {e}")))?;
            let rollout = Rollout::new(plan, &common.by(), common.at()?)
                .map_err(|e| Failure::invalid(format!("error: {e}")))?;
            common.file()?.create(&rollout).map_err(store_failure)?;
            let hosts: usize = rollout.plan().tiers.iter().map(|t| t.hosts.len()).sum();
            writeln!(
                out,
                "created {} — {} tiers, {hosts} hosts, severity `{}`, starting {}",
                common.state,
                rollout.plan().tiers.len(),
                rollout.plan().severity,
                rfc(rollout.plan().start)
            )
            .map_err(write_failure)
        }
        RolloutCommand::Next { state, now, format } => {
            let rollout = StateFile::new(&state).load().map_err(store_failure)?;
            let now = instant_or_now("--now", now.as_deref())?;
            let actions = rollout.next(now);
            match format {
                Format::Json => {
                    #[derive(serde::Serialize)]
                    struct Next<'a> {
                        now: DateTime<Utc>,
                        revision: u64,
                        actions: &'a [Action],
                    }
                    let json = serde_json::to_string_pretty(&Next {
                        now,
                        revision: rollout.revision(),
                        actions: &actions,
                    })
                    .map_err(json_failure)?;
                    writeln!(out, "{json}").map_err(write_failure)
                }
                Format::Text => {
                    for action in &actions {
                        writeln!(out, "{}", action_text(action)).map_err(write_failure)?;
                    }
                    Ok(())
                }
            }
        }
        RolloutCommand::Record {
            hosts,
            ok,
            failed,
            common,
        } => {
            let outcome = match (ok, failed) {
                (_, Some(reason)) => Outcome::Failed(reason),
                _ => Outcome::Succeeded,
            };
            common.change(out, |r, by, at| {
                let mut changed = 0;
                for host in &hosts {
                    changed += usize::from(r.record(host, outcome.clone(), by, at)?);
                }
                let mut message = format!(
                    "recorded {outcome} for {changed} host(s){}",
                    if changed < hosts.len() {
                        format!("; {} already had this result", hosts.len() - changed)
                    } else {
                        String::new()
                    }
                );
                let halted: Vec<&str> = r
                    .tiers()
                    .iter()
                    .filter(|t| t.halted.is_some())
                    .map(|t| t.name.as_str())
                    .collect();
                if !halted.is_empty() {
                    message.push_str(&format!("\nhalted tiers: {}", halted.join(", ")));
                }
                Ok(message)
            })
        }
        RolloutCommand::Begin {
            tier,
            batch,
            common,
        } => common.change(out, |r, by, at| {
            r.begin(&tier, batch, by, at)?;
            Ok(format!("batch {batch} of tier `{tier}` began"))
        }),
        RolloutCommand::Notified { tier, common } => common.change(out, |r, by, at| {
            r.notified(&tier, by, at)?;
            Ok(format!("notice for tier `{tier}` recorded"))
        }),
        RolloutCommand::Approve { tier, common } => common.change(out, |r, by, at| {
            r.approve(&tier, by, at)?;
            Ok(format!("tier `{tier}` approved by {by}"))
        }),
        RolloutCommand::Halt { reason, common } => common.change(out, |r, by, at| {
            r.halt(&reason, by, at)?;
            Ok("the rollout is halted".to_string())
        }),
        RolloutCommand::Resume { tier, common } => common.change(out, |r, by, at| {
            r.resume(tier.as_deref(), by, at)?;
            Ok(match &tier {
                Some(t) => format!("tier `{t}` resumed"),
                None => "the rollout resumed".to_string(),
            })
        }),
        RolloutCommand::Abort { reason, common } => common.change(out, |r, by, at| {
            r.abort(&reason, by, at)?;
            Ok("the rollout is aborted".to_string())
        }),
        RolloutCommand::Status { state, now, format } => {
            let rollout = StateFile::new(&state).load().map_err(store_failure)?;
            let status = rollout.status(instant_or_now("--now", now.as_deref())?);
            match format {
                Format::Text => write!(out, "{status}").map_err(write_failure),
                Format::Json => {
                    let json = serde_json::to_string_pretty(&status).map_err(json_failure)?;
                    writeln!(out, "{json}").map_err(write_failure)
                }
            }
        }
        RolloutCommand::Log { state, format } => {
            let rollout = StateFile::new(&state).load().map_err(store_failure)?;
            match format {
                Format::Text => {
                    for e in rollout.events() {
                        writeln!(out, "{}  {:<16} {}", rfc(e.at), e.actor, e.event)
                            .map_err(write_failure)?;
                    }
                    Ok(())
                }
                Format::Json => {
                    let json =
                        serde_json::to_string_pretty(rollout.events()).map_err(json_failure)?;
                    writeln!(out, "{json}").map_err(write_failure)
                }
            }
        }
    }
}

fn action_text(action: &Action) -> String {
    match action {
        Action::Notify {
            tier,
            until,
            reason,
            ..
        } => format!(
            "notify   {tier}: {reason} (then `rollout notified --tier {tier}`; first batch {})",
            rfc(*until)
        ),
        Action::Start {
            tier,
            batch,
            hosts,
            pending,
            began,
            until,
            ..
        } => {
            let ack = if began.is_none() {
                format!(" (then `rollout begin --tier {tier} --batch {batch}`)")
            } else {
                String::new()
            };
            format!(
                "start    {tier} batch {batch}: {} hosts, {} without a result, time up at {}{ack}\n         {}",
                hosts.len(),
                pending.len(),
                rfc(*until),
                sample(pending)
            )
        }
        Action::Wait {
            tier,
            until,
            reason,
            ..
        } => format!(
            "wait     {}until {}: {reason}",
            tier.as_ref().map_or(String::new(), |t| format!("{t}: ")),
            rfc(*until)
        ),
        Action::AwaitApproval { tier, reason } => format!("approve  {tier}: {reason}"),
        Action::Halted {
            tier,
            reason,
            aborted,
            ..
        } => format!(
            "{}  {}{reason}",
            if *aborted { "aborted" } else { "halted " },
            tier.as_ref().map_or(String::new(), |t| format!("{t}: "))
        ),
        Action::Done { reason } => format!("done     {reason}"),
    }
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Up to 20 names; `--format json` has them all.
fn sample(names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(20).map(String::as_str).collect();
    if names.len() > shown.len() {
        format!("{} ... {} more", shown.join(" "), names.len() - shown.len())
    } else {
        shown.join(" ")
    }
}

fn instant_or_now(flag: &str, text: Option<&str>) -> Result<DateTime<Utc>, Failure> {
    match text {
        // The command line is the one place that reads the clock.
        None => Ok(Utc::now()),
        Some(text) => parse_instant(flag, text),
    }
}

fn store_failure(e: StoreError) -> Failure {
    let code = match &e {
        StoreError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => 2,
        StoreError::Io { .. } | StoreError::Locked { .. } => 1,
        _ => 2,
    };
    Failure {
        message: format!("error: {e}"),
        code,
    }
}

fn json_failure(e: serde_json::Error) -> Failure {
    Failure {
        message: e.to_string(),
        code: 1,
    }
}
