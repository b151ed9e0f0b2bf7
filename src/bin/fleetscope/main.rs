//! The `fleetscope` command line: check, evaluate and explain scopes, validate
//! and plan rollout policies, and drive rollouts.
//!
//! This file only reads arguments and files and prints; every decision is
//! made by the library. Exit codes: 0 success, 2 invalid input (with the
//! reason on stderr), 1 an unexpected failure such as an unwritable output.

use std::io::{Read, Write};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use fleetscope::rollout::{Plan, Policy, Warning};
use fleetscope::{reference, Catalog, FleetFormat, IndexedFleet, Scope};

mod client_cmd;
mod progress;
mod rollout_cmd;

#[derive(Parser)]
#[command(
    name = "fleetscope",
    version,
    about = "Select servers with scopes and plan tiered patch rollouts"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Check that a scope expression is valid (exit 0) or show the error (exit 2).
    Check {
        /// Named scopes from this policy file's [scopes] table.
        #[arg(long)]
        policy: Option<String>,
        /// The expression, or `-` to read it from standard input.
        expr: String,
    },
    /// Print the hosts a scope selects, in fleet order.
    Eval {
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Show why one host is or is not selected: every node's value and the host's values.
    Explain {
        /// The host to explain.
        #[arg(long)]
        host: String,
        #[command(flatten)]
        scope: ScopeArgs,
    },
    /// Validate a rollout policy: errors (exit 2) and warnings; with a fleet,
    /// also which hosts overlap, which no tier selects, and empty tiers.
    Validate {
        /// The policy file (TOML).
        policy: String,
        #[arg(long)]
        fleet: Option<String>,
        /// The fleet file's format; detected from the document when not given.
        #[arg(long, value_enum, value_name = "FORMAT")]
        fleet_format: Option<FleetFormatArg>,
        /// The instant `now()` stands for in scopes; defaults to the current time.
        #[arg(long)]
        now: Option<String>,
    },
    /// Plan a rollout: tiers, batches and times, then the coverage report.
    Plan {
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
        /// The severity to plan for (`normal` unless given).
        #[arg(long, default_value = "normal")]
        severity: String,
        /// text, json, ics (a calendar, one event per batch) or svg (a timeline).
        #[arg(long, value_enum, default_value_t = client_cmd::PlanFormat::Text)]
        format: client_cmd::PlanFormat,
        /// A plan saved earlier as JSON: also show, tier by tier, which hosts came and went.
        #[arg(long)]
        previous: Option<String>,
        /// For --format ics: what event ids are made from (default: the policy's
        /// [notice] calendar_id, else the policy file's name).
        #[arg(long)]
        calendar_id: Option<String>,
    },
    /// Write the notice each tier's contact receives before patching.
    Notice(client_cmd::NoticeArgs),
    /// List the next occurrences of every window, marking blackouts.
    Windows(client_cmd::WindowsArgs),
    /// Run a rollout: create its state file, ask what to do next, record results.
    Rollout {
        #[command(subcommand)]
        command: rollout_cmd::RolloutCommand,
    },
}

/// What `eval` and `explain` share: a fleet, an expression, its named
/// scopes, the instant `now()` stands for, and the output format.
#[derive(clap::Args)]
struct ScopeArgs {
    /// Fleet file: JSON array, {"hosts": [...]}, JSON Lines (.jsonl/.ndjson),
    /// or an ansible-inventory, ec2 describe-instances or PuppetDB inventory.
    #[arg(long)]
    fleet: String,
    /// The fleet file's format; detected from the document when not given.
    #[arg(long, value_enum, value_name = "FORMAT")]
    fleet_format: Option<FleetFormatArg>,
    /// Named scopes from this policy file's [scopes] table.
    #[arg(long)]
    policy: Option<String>,
    /// The instant `now()` stands for (RFC 3339); defaults to the current time.
    #[arg(long)]
    now: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The expression, or `-` to read it from standard input.
    expr: String,
}

impl ScopeArgs {
    /// The compiled expression, the fleet and `now`; every input error is a
    /// `Failure` with exit code 2.
    fn load(&self) -> Result<(Scope, IndexedFleet, DateTime<Utc>), Failure> {
        let catalog = load_catalog(self.policy.as_deref())?;
        let source = read_expr(&self.expr)?;
        let scope = compile(&catalog, &source)?;
        let now = parse_now(self.now.as_deref())?;
        Ok((scope, load_fleet(&self.fleet, self.fleet_format)?, now))
    }
}

/// A failure to report: the message for stderr and the exit code.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn invalid(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::stdout().lock();
    match run(cli.command, &mut out).and_then(|()| out.flush().map_err(write_failure)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let message = failure.message.trim_end();
            if !message.is_empty() {
                eprintln!("{message}");
            }
            ExitCode::from(failure.code)
        }
    }
}

fn run(command: Command, out: &mut impl Write) -> Result<(), Failure> {
    match command {
        Command::Check { policy, expr } => {
            let catalog = load_catalog(policy.as_deref())?;
            let source = read_expr(&expr)?;
            compile(&catalog, &source)?;
            Ok(())
        }
        Command::Eval { scope: args } => {
            let (scope, fleet, now) = args.load()?;
            let selected = fleet.select(&scope, now);
            let names = selected.names(&fleet);
            match args.format {
                Format::Text => {
                    // Stdout is line-buffered: one write per name would be
                    // a system call per name.
                    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut *out);
                    for name in names {
                        writeln!(w, "{name}").map_err(write_failure)?;
                    }
                    w.flush().map_err(write_failure)?;
                }
                Format::Json => {
                    let names: Vec<&str> = names.collect();
                    write_json(out, &names, false)?;
                }
            }
            exiting(fleet);
            Ok(())
        }
        Command::Explain { host, scope: args } => {
            let (scope, fleet, now) = args.load()?;
            let Some(found) = fleet.position(&host).and_then(|id| fleet.host(id)) else {
                return Err(Failure::invalid(unknown_host(&fleet, &host)));
            };
            let explanation = reference::explain(&scope, &found, now);
            match args.format {
                Format::Text => {
                    let verdict = if explanation.holds {
                        "selected"
                    } else {
                        "not selected"
                    };
                    let plain = host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
                    let shown = if plain {
                        host.clone()
                    } else {
                        fleetscope::syntax::quote(&host)
                    };
                    writeln!(out, "host {shown} is {verdict}").map_err(write_failure)?;
                    write!(out, "{explanation}").map_err(write_failure)?;
                }
                Format::Json => write_json(out, &explanation, true)?,
            }
            Ok(())
        }
        Command::Validate {
            policy,
            fleet,
            fleet_format,
            now,
        } => validate(&policy, fleet.as_deref(), fleet_format, now.as_deref(), out),
        Command::Plan {
            policy,
            fleet,
            fleet_format,
            start,
            severity,
            format,
            previous,
            calendar_id,
        } => plan(
            &policy,
            (&fleet, fleet_format),
            &start,
            &severity,
            (format, calendar_id.as_deref()),
            previous.as_deref(),
            out,
        ),
        Command::Notice(args) => client_cmd::notice(args, out),
        Command::Windows(args) => client_cmd::windows(args, out),
        Command::Rollout { command } => rollout_cmd::run(command, out),
    }
}

fn validate(
    policy: &str,
    fleet: Option<&str>,
    fleet_format: Option<FleetFormatArg>,
    now: Option<&str>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let policy_path = policy;
    let policy = load_policy(policy_path)?;
    let mut text = format!(
        "{policy_path}: valid — {} tiers in {} waves, {} named scopes, {} windows\n",
        policy.tiers().len(),
        policy.waves().iter().max().map_or(0, |w| w + 1),
        policy.catalog().len(),
        policy.windows().len()
    );
    let order: Vec<&str> = policy
        .order()
        .iter()
        .filter_map(|t| policy.tiers().get(*t))
        .map(|t| t.name.as_str())
        .collect();
    text.push_str(&format!("rollout order: {}\n", order.join(" -> ")));
    let mut warnings = policy.warnings();
    if let Some(fleet_path) = fleet {
        let fleet = load_fleet(fleet_path, fleet_format)?;
        let now = parse_now(now)?;
        let plan = Plan::new(&policy, &fleet, now, fleetscope::rollout::NORMAL)
            .map_err(|e| Failure::invalid(format!("error: {policy_path}: {e}")))?;
        text.push_str(&format!(
            "\ncoverage against {fleet_path} ({} hosts):\n",
            fleet.len()
        ));
        for tier in &plan.tiers {
            text.push_str(&format!("  {:<20} {} hosts\n", tier.name, tier.hosts.len()));
        }
        text.push_str(&format!("  unassigned: {}\n", plan.unassigned.len()));
        for name in plan.unassigned.iter().take(20) {
            text.push_str(&format!("    {name}\n"));
        }
        if plan.unassigned.len() > 20 {
            text.push_str(&format!("    ... {} more\n", plan.unassigned.len() - 20));
        }
        text.push_str(&format!("  overlaps: {}\n", plan.overlaps.len()));
        for o in plan.overlaps.iter().take(20) {
            text.push_str(&format!(
                "    {} selected by {} (patched in {})\n",
                o.host,
                o.tiers.join(", "),
                o.tiers.first().map_or("", String::as_str)
            ));
        }
        if plan.overlaps.len() > 20 {
            text.push_str(&format!("    ... {} more\n", plan.overlaps.len() - 20));
        }
        // The plan's date-dependent warnings (window occurrences) mean
        // nothing for a plan made at an arbitrary `now`; empty tiers do.
        warnings.extend(
            plan.empty_tiers
                .iter()
                .map(|tier| Warning::EmptyTier { tier: tier.clone() }),
        );
    }
    for w in &warnings {
        text.push_str(&format!("warning: {w}\n"));
    }
    write!(out, "{text}").map_err(write_failure)
}

fn plan(
    policy_path: &str,
    (fleet, fleet_format): (&str, Option<FleetFormatArg>),
    start: &str,
    severity: &str,
    (format, calendar_id): (client_cmd::PlanFormat, Option<&str>),
    previous: Option<&str>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let policy = load_policy(policy_path)?;
    let fleet = load_fleet(fleet, fleet_format)?;
    let start = parse_instant("--start", start)?;
    let previous = match previous {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Failure::invalid(format!("error: cannot read previous plan {path}: {e}"))
            })?;
            Some(serde_json::from_str::<Plan>(&text).map_err(|e| {
                Failure::invalid(format!(
                    "error: {path} is not a plan written by `fleetscope plan --format json`: {e}"
                ))
            })?)
        }
    };
    let plan = Plan::new(&policy, &fleet, start, severity)
        .map_err(|e| Failure::invalid(format!("error: {policy_path}: {e}")))?;
    let changes = previous.as_ref().map(|p| plan.changes_since(p));
    match format {
        client_cmd::PlanFormat::Ics | client_cmd::PlanFormat::Svg => {
            let id = client_cmd::calendar_id(&policy, calendar_id, policy_path);
            client_cmd::write_plan(&plan, format, &id, out)?;
        }
        client_cmd::PlanFormat::Text => {
            write!(out, "{plan}").map_err(write_failure)?;
            if let Some(changes) = changes {
                writeln!(out, "\nChanges since the previous plan").map_err(write_failure)?;
                for c in changes {
                    writeln!(out, "  {}: +{} -{}", c.tier, c.came.len(), c.went.len())
                        .map_err(write_failure)?;
                    for h in c.came.iter().take(10) {
                        writeln!(out, "    + {h}").map_err(write_failure)?;
                    }
                    for h in c.went.iter().take(10) {
                        writeln!(out, "    - {h}").map_err(write_failure)?;
                    }
                }
            }
        }
        client_cmd::PlanFormat::Json => {
            // The plan's own field order; `changes` joins only when asked for.
            #[derive(serde::Serialize)]
            struct WithChanges<'a> {
                #[serde(flatten)]
                plan: &'a Plan,
                #[serde(skip_serializing_if = "Option::is_none")]
                changes: Option<Vec<fleetscope::rollout::TierChange>>,
            }
            write_json(
                out,
                &WithChanges {
                    plan: &plan,
                    changes,
                },
                true,
            )?;
        }
    }
    exiting((plan, fleet));
    Ok(())
}

/// Leaves `value` to the process's exit instead of freeing it (this is
/// the binary's `run`, which the process leaves right after; the library
/// never does this): the command is done, and freeing a fleet and a
/// plan of a million hosts piece by piece took 80–150 ms (measured on
/// `plan` of the 1M-host example fleet), a tenth of the command.
fn exiting<T>(value: T) {
    std::mem::forget(value);
}

fn load_policy(path: &str) -> Result<Policy, Failure> {
    Policy::load(path).map_err(|e| Failure::invalid(e.render()))
}

fn parse_instant(flag: &str, text: &str) -> Result<DateTime<Utc>, Failure> {
    DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).map_err(|e| {
        Failure::invalid(format!(
            "error: {flag} `{text}` is not an RFC 3339 timestamp ({e}); write e.g. 2026-11-21T09:00:00Z"
        ))
    })
}

/// Writes `value` as JSON (`pretty` or compact) and a line end, streamed
/// through a buffer: a plan of a million hosts is about 100 MB of JSON,
/// not worth building as one string. A write that fails is a
/// [`write_failure`] like any other output's.
fn write_json(
    out: &mut impl Write,
    value: &impl serde::Serialize,
    pretty: bool,
) -> Result<(), Failure> {
    let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
    let written = if pretty {
        serde_json::to_writer_pretty(&mut w, value)
    } else {
        serde_json::to_writer(&mut w, value)
    };
    written.map_err(|e| {
        if e.is_io() {
            write_failure(e.into())
        } else {
            Failure {
                message: e.to_string(),
                code: 1,
            }
        }
    })?;
    writeln!(w).map_err(write_failure)?;
    w.flush().map_err(write_failure)
}

fn write_failure(e: std::io::Error) -> Failure {
    // A reader that stops early (`| head`) is not a failure of ours.
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Failure {
            message: String::new(),
            code: 0,
        };
    }
    Failure {
        message: format!("cannot write output: {e}"),
        code: 1,
    }
}

fn unknown_host(fleet: &IndexedFleet, name: &str) -> String {
    let mut message = format!("error: no host named `{name}` in the fleet");
    // A prefix match is the most useful hint in a fleet of thousands.
    let near: Vec<&str> = fleet
        .names()
        .map(|(_, n)| n)
        .filter(|n| n.starts_with(name) || name.starts_with(*n))
        .take(5)
        .collect();
    if !near.is_empty() {
        message.push_str(&format!("\n  = help: similar names: {}", near.join(", ")));
    }
    message
}

/// The expression argument, or standard input for `-`.
fn read_expr(arg: &str) -> Result<String, Failure> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut bytes = Vec::new();
    std::io::stdin().read_to_end(&mut bytes).map_err(|e| {
        Failure::invalid(format!(
            "error: cannot read the expression from standard input: {e}"
        ))
    })?;
    String::from_utf8(bytes).map_err(|e| {
        Failure::invalid(format!(
            "error: the expression on standard input is not UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn compile(catalog: &Catalog, source: &str) -> Result<Scope, Failure> {
    catalog
        .compile(source)
        .map_err(|e| Failure::invalid(e.render(source, "expr")))
}

fn parse_now(now: Option<&str>) -> Result<DateTime<Utc>, Failure> {
    match now {
        // The command line is the one place that reads the clock.
        None => Ok(Utc::now()),
        Some(text) => parse_instant("--now", text),
    }
}

/// `--fleet-format`: the library's [`FleetFormat`]s as command-line values.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum FleetFormatArg {
    Fleetscope,
    Ansible,
    Ec2,
    Puppetdb,
}

impl From<FleetFormatArg> for FleetFormat {
    fn from(arg: FleetFormatArg) -> Self {
        match arg {
            FleetFormatArg::Fleetscope => FleetFormat::Fleetscope,
            FleetFormatArg::Ansible => FleetFormat::Ansible,
            FleetFormatArg::Ec2 => FleetFormat::Ec2,
            FleetFormatArg::Puppetdb => FleetFormat::PuppetDb,
        }
    }
}

/// Reads a fleet file straight into an index, in the format given or the
/// one detected, with a progress bar on a terminal for large files (see
/// `progress.rs`).
fn load_fleet(path: &str, format: Option<FleetFormatArg>) -> Result<IndexedFleet, Failure> {
    progress::load(path, format.map(FleetFormat::from))
        .map_err(|e| Failure::invalid(format!("error: {path}: {e}")))
}

fn load_catalog(policy: Option<&str>) -> Result<Catalog, Failure> {
    let Some(path) = policy else {
        return Ok(Catalog::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::invalid(format!("error: cannot read policy file {path}: {e}")))?;
    fleetscope::rollout::scopes_from_toml(&text).map_err(|e| Failure::invalid(e.render(path)))
}
