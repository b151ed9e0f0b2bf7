//! `fleetscope rollout ...`: create a rollout from a plan in a store (a
//! JSON file, an SQLite database or a PostgreSQL server) and drive it. Every decision is the library's (`fleetscope::rollout`);
//! this file reads arguments, the clock (the one place that may) and
//! files, and prints.

use std::io::Write;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};

use fleetscope::rollout::{
    redact, Action, Location, Operation, Outcome, Plan, Rollout, StateFile, StorageError, Store,
    DEFAULT_NAME,
};

use super::{
    load_fleet, load_policy, parse_instant, write_failure, write_json, Failure, FleetFormatArg,
    Format,
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
        #[command(flatten)]
        target: Target,
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
        #[command(flatten)]
        target: Target,
        /// The instant to report for; defaults to the current time.
        #[arg(long)]
        now: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The audit log: every change, when, and by whom.
    Log {
        #[command(flatten)]
        target: Target,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// The rollouts a store holds.
    List {
        /// The store: a .json file, an SQLite database, or a postgres:// URL
        /// (default: $FLEETSCOPE_STATE).
        #[arg(long)]
        state: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a rollout as a JSON state (the state file's format).
    Export {
        #[command(flatten)]
        target: Target,
    },
    /// Load a JSON state into a store as a new rollout.
    Import {
        /// The JSON state file.
        file: String,
        #[command(flatten)]
        target: Target,
    },
}

/// Which rollout: the store and the rollout's name in it.
#[derive(Args)]
pub(crate) struct Target {
    /// The store: a path ending in .json (a JSON state file), any other
    /// path (an SQLite database), or a postgres:// URL. Default:
    /// $FLEETSCOPE_STATE.
    #[arg(long)]
    state: Option<String>,
    /// The rollout's name in the store.
    #[arg(long, default_value = DEFAULT_NAME)]
    name: String,
}

impl Target {
    fn location(&self) -> Result<Location, Failure> {
        location(self.state.as_deref())
    }

    /// Opens the store; `create` allows a new database (start, import).
    fn open(&self, create: bool) -> Result<Box<dyn Store>, Failure> {
        let location = self.location()?;
        match &location {
            Location::Json(path) => Ok(Box::new(json_file(path)?)),
            _ => location.open(create).map_err(storage_failure),
        }
    }
}

/// The `--state` value, else `FLEETSCOPE_STATE`.
fn location(state: Option<&str>) -> Result<Location, Failure> {
    let text = match state {
        Some(s) => s.to_string(),
        None => std::env::var(STATE_ENV).map_err(|_| {
            Failure::invalid(format!(
                "error: no store given: pass --state (a .json file, an SQLite database path or a postgres:// URL) or set {STATE_ENV}"
            ))
        })?,
    };
    Location::parse(&text).map_err(storage_failure)
}

/// The state file, with the debug builds' test hook.
fn json_file(path: &std::path::Path) -> Result<StateFile, Failure> {
    #[cfg(debug_assertions)]
    let pause = match std::env::var(PAUSE_ENV) {
        Ok(ms) => Some(std::time::Duration::from_millis(ms.parse().map_err(
            |_| Failure::invalid(format!("error: {PAUSE_ENV} must be milliseconds")),
        )?)),
        Err(_) => None,
    };
    #[cfg(not(debug_assertions))]
    let pause = None;
    Ok(StateFile::new(path).pause_before_rename(pause))
}

/// Where the store is when `--state` is absent.
const STATE_ENV: &str = "FLEETSCOPE_STATE";

/// Arguments every changing command takes.
#[derive(Args)]
pub(crate) struct Common {
    #[command(flatten)]
    target: Target,
    /// Who makes the change (recorded in the log); defaults to $USER.
    #[arg(long)]
    by: Option<String>,
    /// When (RFC 3339); defaults to the current time.
    #[arg(long)]
    at: Option<String>,
}

impl Common {
    fn by(&self) -> String {
        self.by
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "fleetscope-cli".into())
    }

    fn at(&self) -> Result<DateTime<Utc>, Failure> {
        instant_or_now("--at", self.at.as_deref())
    }

    /// Applies one change in one transaction and says what happened.
    fn change(
        &self,
        out: &mut impl Write,
        operation: Operation,
        say: impl FnOnce(&fleetscope::rollout::Applied, &str) -> String,
    ) -> Result<(), Failure> {
        let by = self.by();
        let at = self.at()?;
        let mut store = self.target.open(false)?;
        let applied = store
            .perform(&self.target.name, &operation, &by, at)
            .map_err(storage_failure)?;
        writeln!(out, "{}", say(&applied, &by)).map_err(write_failure)
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
        } => start_rollout(policy, fleet, fleet_format, start, severity, common, out),
        RolloutCommand::Next {
            target,
            now,
            format,
        } => next(target, now, format, out),
        RolloutCommand::Record {
            hosts,
            ok,
            failed,
            common,
        } => record(hosts, ok, failed, common, out),
        RolloutCommand::Begin {
            tier,
            batch,
            common,
        } => {
            let message = format!("batch {batch} of tier `{tier}` began");
            common.change(out, Operation::Begin { tier, batch }, |_, _| message)
        }
        RolloutCommand::Notified { tier, common } => {
            let message = format!("notice for tier `{tier}` recorded");
            common.change(out, Operation::Notified { tier }, |_, _| message)
        }
        RolloutCommand::Approve { tier, common } => {
            let message = format!("tier `{tier}` approved by ");
            common.change(out, Operation::Approve { tier }, |_, by| {
                format!("{message}{by}")
            })
        }
        RolloutCommand::Halt { reason, common } => {
            common.change(out, Operation::Halt { reason }, |_, _| {
                "the rollout is halted".to_string()
            })
        }
        RolloutCommand::Resume { tier, common } => {
            let message = match &tier {
                Some(t) => format!("tier `{t}` resumed"),
                None => "the rollout resumed".to_string(),
            };
            common.change(out, Operation::Resume { tier }, |_, _| message)
        }
        RolloutCommand::Abort { reason, common } => {
            common.change(out, Operation::Abort { reason }, |_, _| {
                "the rollout is aborted".to_string()
            })
        }
        RolloutCommand::Status {
            target,
            now,
            format,
        } => status(target, now, format, out),
        RolloutCommand::Log { target, format } => log(target, format, out),
        RolloutCommand::List { state, format } => list(state, format, out),
        RolloutCommand::Export { target } => {
            let rollout = target
                .open(false)?
                .export(&target.name)
                .map_err(storage_failure)?;
            let json = rollout.to_json().map_err(|e| Failure {
                message: format!("error: {e}"),
                code: 1,
            })?;
            writeln!(out, "{json}").map_err(write_failure)
        }
        RolloutCommand::Import { file, target } => import(file, target, out),
    }
}

/// Plans a rollout and creates it in the store.
fn start_rollout(
    policy: String,
    fleet: String,
    fleet_format: Option<FleetFormatArg>,
    start: String,
    severity: String,
    common: Common,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let policy_path = policy;
    let policy = load_policy(&policy_path)?;
    let fleet = load_fleet(&fleet, fleet_format)?;
    let start = parse_instant("--start", &start)?;
    let plan = Plan::new(&policy, &fleet, start, &severity)
        .map_err(|e| Failure::invalid(format!("error: {policy_path}: {e}")))?;
    let rollout = Rollout::new(plan, &common.by(), common.at()?)
        .map_err(|e| Failure::invalid(format!("error: {e}")))?;
    let mut store = common.target.open(true)?;
    store
        .create(&common.target.name, &rollout)
        .map_err(storage_failure)?;
    let hosts: usize = rollout.plan().tiers.iter().map(|t| t.hosts.len()).sum();
    writeln!(
        out,
        "created {}{} — {} tiers, {hosts} hosts, severity `{}`, starting {}",
        named(&common.target),
        store.describe(),
        rollout.plan().tiers.len(),
        rollout.plan().severity,
        rfc(rollout.plan().start)
    )
    .map_err(write_failure)
}

/// Prints what to do now.
fn next(
    target: Target,
    now: Option<String>,
    format: Format,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let now = instant_or_now("--now", now.as_deref())?;
    let next = target
        .open(false)?
        .next(&target.name, now)
        .map_err(storage_failure)?;
    let actions = next.actions;
    match format {
        Format::Json => {
            #[derive(serde::Serialize)]
            struct Next<'a> {
                now: DateTime<Utc>,
                revision: u64,
                actions: &'a [Action],
            }
            write_json(
                out,
                &Next {
                    now,
                    revision: next.revision,
                    actions: &actions,
                },
                true,
            )
        }
        Format::Text => {
            for action in &actions {
                writeln!(out, "{}", action_text(action)).map_err(write_failure)?;
            }
            Ok(())
        }
    }
}

/// Records the hosts' results.
fn record(
    hosts: Vec<String>,
    ok: bool,
    failed: Option<String>,
    common: Common,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let outcome = match (ok, failed) {
        (_, Some(reason)) => Outcome::Failed(reason),
        _ => Outcome::Succeeded,
    };
    let count = hosts.len();
    let shown = outcome.to_string();
    common.change(out, Operation::Record { hosts, outcome }, |applied, _| {
        let mut message = format!(
            "recorded {shown} for {} host(s){}",
            applied.changed,
            if applied.changed < count {
                format!("; {} already had this result", count - applied.changed)
            } else {
                String::new()
            }
        );
        if !applied.halted_tiers.is_empty() {
            message.push_str(&format!(
                "\nhalted tiers: {}",
                applied.halted_tiers.join(", ")
            ));
        }
        message
    })
}

/// Prints progress per tier.
fn status(
    target: Target,
    now: Option<String>,
    format: Format,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let now = instant_or_now("--now", now.as_deref())?;
    let status = target
        .open(false)?
        .status(&target.name, now)
        .map_err(storage_failure)?;
    match format {
        Format::Text => write!(out, "{status}").map_err(write_failure),
        Format::Json => write_json(out, &status, true),
    }
}

/// Prints the audit log.
fn log(target: Target, format: Format, out: &mut impl Write) -> Result<(), Failure> {
    let events = target
        .open(false)?
        .events(&target.name)
        .map_err(storage_failure)?;
    match format {
        Format::Text => {
            for e in &events {
                writeln!(out, "{}  {:<16} {}", rfc(e.at), e.actor, e.event)
                    .map_err(write_failure)?;
            }
            Ok(())
        }
        Format::Json => write_json(out, &events, true),
    }
}

/// Lists the rollouts a store holds.
fn list(state: Option<String>, format: Format, out: &mut impl Write) -> Result<(), Failure> {
    let location = location(state.as_deref())?;
    let listed = match &location {
        // Listing never creates a database.
        Location::Sqlite(p) if !p.exists() => Vec::new(),
        _ => location
            .open(false)
            .and_then(|mut s| s.list())
            .map_err(storage_failure)?,
    };
    match format {
        Format::Json => write_json(out, &listed, true),
        Format::Text => {
            if listed.is_empty() {
                writeln!(out, "{location} holds no rollouts").map_err(write_failure)?;
            }
            for r in &listed {
                writeln!(
                    out,
                    "{:<24} revision {:<8} {:>9} hosts  severity `{}`, starting {}{}",
                    r.name,
                    r.revision,
                    r.hosts,
                    r.severity,
                    rfc(r.start),
                    if r.aborted {
                        "  ABORTED"
                    } else if r.halted {
                        "  HALTED"
                    } else {
                        ""
                    }
                )
                .map_err(write_failure)?;
            }
            Ok(())
        }
    }
}

/// Loads a JSON state into a store.
fn import(file: String, target: Target, out: &mut impl Write) -> Result<(), Failure> {
    let rollout = StateFile::new(&file)
        .load()
        .map_err(|e| storage_failure(e.into()))?;
    let mut store = target.open(true)?;
    store
        .create(&target.name, &rollout)
        .map_err(storage_failure)?;
    writeln!(
        out,
        "imported {file} as {}{} (revision {}, {} events)",
        named(&target),
        store.describe(),
        rollout.revision(),
        rollout.events().len()
    )
    .map_err(write_failure)
}

/// `rollout `NAME` in ` for a named rollout, nothing for the default.
fn named(target: &Target) -> String {
    if target.name == DEFAULT_NAME {
        String::new()
    } else {
        format!("rollout `{}` in ", target.name)
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

/// Exit 1 when the store could not be reached or written, 2 when the
/// operation was refused or the input is wrong. The message never shows a
/// password.
fn storage_failure(e: StorageError) -> Failure {
    Failure {
        message: redact(&format!("error: {e}")),
        code: if e.is_unavailable() { 1 } else { 2 },
    }
}
