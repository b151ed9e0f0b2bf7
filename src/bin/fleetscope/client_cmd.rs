//! Commands and formats that tell the client (`docs/outputs.md`): `notice`,
//! `windows`, and `plan --format ics|svg`. Each only reads arguments and
//! files and picks a renderer from `fleetscope::output`.

use std::io::Write;

use clap::ValueEnum;

use fleetscope::output::{ics, notice, svg, windows};
use fleetscope::rollout::{Plan, Policy};

use super::{load_fleet, load_policy, parse_instant, write_failure, Failure, FleetFormatArg};

/// `plan --format`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// A readable table.
    Text,
    /// The plan as JSON.
    Json,
    /// An iCalendar file, one event per batch.
    Ics,
    /// A timeline picture.
    Svg,
}

/// `notice --format`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NoticeFormat {
    Text,
    Markdown,
    Json,
}

/// `windows --format`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct NoticeArgs {
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
    /// Only this tier's notice.
    #[arg(long)]
    tier: Option<String>,
    #[arg(long, value_enum, default_value_t = NoticeFormat::Text)]
    format: NoticeFormat,
}

#[derive(clap::Args)]
pub struct WindowsArgs {
    /// The policy file (TOML).
    policy: String,
    /// List occurrences ending after this instant (RFC 3339); defaults to now.
    #[arg(long)]
    from: Option<String>,
    /// How many occurrences of each window (1 to 10000).
    #[arg(long, default_value_t = 5)]
    count: usize,
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    format: ListFormat,
}

/// The id calendar events are made from: `[notice] calendar_id`, else the
/// given flag, else the policy file's name without directory or extension.
pub fn calendar_id(policy: &Policy, flag: Option<&str>, policy_path: &str) -> String {
    if let Some(id) = flag {
        return id.to_string();
    }
    if let Some(id) = &policy.terms().notice.calendar_id {
        return id.clone();
    }
    std::path::Path::new(policy_path).file_stem().map_or_else(
        || policy_path.to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// Writes a plan as ICS or SVG.
pub fn write_plan(
    plan: &Plan,
    format: PlanFormat,
    calendar_id: &str,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let text = match format {
        PlanFormat::Ics => ics::calendar(plan, calendar_id),
        PlanFormat::Svg => svg::timeline(plan),
        PlanFormat::Text | PlanFormat::Json => return Ok(()),
    };
    out.write_all(text.as_bytes()).map_err(write_failure)
}

pub fn notice(args: NoticeArgs, out: &mut impl Write) -> Result<(), Failure> {
    let policy = load_policy(&args.policy)?;
    let indexed = load_fleet(&args.fleet, args.fleet_format)?;
    let start = parse_instant("--start", &args.start)?;
    let plan = Plan::new(&policy, &indexed, start, &args.severity)
        .map_err(|e| Failure::invalid(format!("error: {}: {e}", args.policy)))?;
    let (notices, none) = notice::notices(
        &plan,
        &policy.terms().notice,
        &|name| indexed.position(name).and_then(|id| indexed.host(id)),
        args.tier.as_deref(),
    )
    .map_err(|e| Failure::invalid(format!("error: {e}")))?;
    let text = match args.format {
        NoticeFormat::Json => {
            #[derive(serde::Serialize)]
            struct All<'a> {
                notices: &'a [notice::Notice],
                #[serde(skip_serializing_if = "<[_]>::is_empty")]
                without_notice: &'a [notice::NoNotice],
            }
            let json = serde_json::to_string_pretty(&All {
                notices: &notices,
                without_notice: &none,
            })
            .map_err(|e| Failure {
                message: e.to_string(),
                code: 1,
            })?;
            format!("{json}\n")
        }
        NoticeFormat::Text | NoticeFormat::Markdown => {
            let style = if args.format == NoticeFormat::Markdown {
                notice::Style::Markdown
            } else {
                notice::Style::Text
            };
            let mut parts: Vec<String> = notices.iter().map(|n| notice::render(n, style)).collect();
            parts.extend(none.iter().map(|n| n.reason.clone() + "\n"));
            if parts.is_empty() {
                parts.push("No tier has batches in this plan, so nobody needs a notice.\n".into());
            }
            let separator = if style == notice::Style::Markdown {
                "\n---\n\n"
            } else {
                "\n\n"
            };
            parts.join(separator)
        }
    };
    out.write_all(text.as_bytes()).map_err(write_failure)
}

pub fn windows(args: WindowsArgs, out: &mut impl Write) -> Result<(), Failure> {
    if args.count == 0 || args.count > 10_000 {
        return Err(Failure::invalid(format!(
            "error: --count {} is out of range; list 1 to 10000 occurrences",
            args.count
        )));
    }
    let policy = load_policy(&args.policy)?;
    let from = super::parse_now(args.from.as_deref())?;
    let listings = windows::upcoming(&policy, from, args.count);
    let text = match args.format {
        ListFormat::Text => windows::to_text(&listings),
        ListFormat::Json => windows::to_json(&listings) + "\n",
    };
    out.write_all(text.as_bytes()).map_err(write_failure)
}
