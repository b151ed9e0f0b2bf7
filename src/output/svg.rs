//! A plan as a timeline picture (`docs/outputs.md`, `fleetscope plan
//! --format svg`).
//!
//! One row per tier in rollout order on a shared, linear time axis
//! labelled in the policy's zone; each batch a bar carrying `data-tier`,
//! `data-batch`, `data-start` and `data-end` (RFC 3339, UTC) so that tests
//! and scripts can check the picture against the plan; the tier's window
//! occurrences shaded behind it; waits (notice, approval, soak) drawn
//! between; blackouts hatched across every row. Bars are at least a few
//! pixels wide so that a one-hour batch in a plan of months stays visible,
//! and each has a tooltip with its exact times. Self-contained SVG: no
//! scripts, no external fonts or styles. Same plan, same bytes.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Months, NaiveDate, SecondsFormat, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::rollout::calendar::Availability;
use crate::rollout::hours_text;
use crate::rollout::{Plan, TierPlan};

const WIDTH: f64 = 1600.0;
const LABEL: f64 = 320.0;
const RIGHT: f64 = 110.0;
const TOP: f64 = 100.0;
const ROW: f64 = 64.0;
const BAR: f64 = 22.0;
/// The narrowest a batch bar is drawn.
const MIN_BAR: f64 = 3.0;
/// More window occurrences than this in a row are not shaded one by one.
const MAX_SHADES: usize = 3000;

const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
];

/// Escapes text for an SVG text node or attribute.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The time axis: instants to x positions.
struct Axis {
    t0: DateTime<Utc>,
    span: f64,
    left: f64,
    width: f64,
}

impl Axis {
    fn x(&self, t: DateTime<Utc>) -> f64 {
        let s = (t - self.t0).num_seconds() as f64;
        self.left + (s / self.span).clamp(-0.01, 1.01) * self.width
    }
}

/// Local midnight of `date` in `zone` (the first instant of the day).
fn midnight(zone: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    let naive = date.and_hms_opt(0, 0, 0)?;
    let local = zone.from_local_datetime(&naive);
    local
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(naive + TimeDelta::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
}

/// Ticks and their labels: a step that gives at most about 16 labels,
/// aligned to local days (or months) in `zone`.
fn ticks(zone: Tz, t0: DateTime<Utc>, t1: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
    let span_days = (t1 - t0).num_seconds() as f64 / 86_400.0;
    let mut out = Vec::new();
    if span_days > 100.0 {
        // Months.
        let step = if span_days > 600.0 { 3 } else { 1 };
        let local = t0.with_timezone(&zone).date_naive();
        let mut d = NaiveDate::from_ymd_opt(local.year(), local.month(), 1);
        while let Some(date) = d {
            match midnight(zone, date) {
                Some(t) if t > t1 => break,
                Some(t) => {
                    if t >= t0 {
                        out.push((t, date.format("%b %Y").to_string()));
                    }
                }
                None => break,
            }
            d = date.checked_add_months(Months::new(step));
        }
        return out;
    }
    if span_days > 2.0 {
        let step = [1u64, 2, 7, 14]
            .into_iter()
            .find(|s| span_days / *s as f64 <= 16.0)
            .unwrap_or(14);
        let mut date = t0.with_timezone(&zone).date_naive();
        if step == 7 || step == 14 {
            // Weeks start on Monday.
            while date.weekday() != chrono::Weekday::Mon {
                date = date.pred_opt().unwrap_or(date);
            }
        }
        loop {
            match midnight(zone, date) {
                Some(t) if t > t1 => break,
                Some(t) => {
                    if t >= t0 {
                        out.push((t, date.format("%a %d %b").to_string()));
                    }
                }
                None => break,
            }
            match date.checked_add_days(chrono::Days::new(step)) {
                Some(next) => date = next,
                None => break,
            }
        }
        return out;
    }
    // Hours.
    let hours = (span_days * 24.0).max(1.0);
    let step = [1i64, 2, 3, 6, 12]
        .into_iter()
        .find(|s| hours / *s as f64 <= 14.0)
        .unwrap_or(12);
    let mut t = t0
        .with_timezone(&zone)
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|n| midnight(zone, n.date()))
        .unwrap_or(t0);
    while t <= t1 {
        if t >= t0 {
            // The date at midnight and at the first tick, the hour elsewhere.
            let local = t.with_timezone(&zone);
            let format = if out.is_empty() || local.time() == chrono::NaiveTime::MIN {
                "%a %d %b"
            } else {
                "%H:%M"
            };
            out.push((t, local.format(format).to_string()));
        }
        t += TimeDelta::hours(step);
    }
    out
}

/// Mondays (local midnight) between `t0` and `t1`: the minor grid of a
/// plan long enough to be labelled by month.
fn mondays(zone: Tz, t0: DateTime<Utc>, t1: DateTime<Utc>) -> Vec<(DateTime<Utc>, String)> {
    let mut out = Vec::new();
    let mut date = t0.with_timezone(&zone).date_naive();
    while date.weekday() != chrono::Weekday::Mon {
        match date.succ_opt() {
            Some(d) => date = d,
            None => return out,
        }
    }
    while let Some(t) = midnight(zone, date) {
        if t > t1 {
            break;
        }
        if t >= t0 {
            out.push((t, date.format("%d").to_string()));
        }
        match date.checked_add_days(chrono::Days::new(7)) {
            Some(d) => date = d,
            None => break,
        }
    }
    out
}

/// Where everything goes: zone, time range, axis and picture size.
struct Layout {
    zone: Tz,
    t0: DateTime<Utc>,
    t1: DateTime<Utc>,
    last: DateTime<Utc>,
    raw_span: i64,
    axis: Axis,
    bottom: f64,
    height: f64,
}

/// Computes the zone, time range, axis scale and picture size of a plan.
fn layout(plan: &Plan) -> Layout {
    let zone: Tz = plan.timezone.parse().unwrap_or(Tz::UTC);
    let t0 = plan.start;
    let last = plan
        .tiers
        .iter()
        .map(|t| t.finish.checked_add_signed(t.soak).unwrap_or(t.finish))
        .chain(
            plan.tiers
                .iter()
                .flat_map(|t| t.batches.last().map(|b| b.end)),
        )
        .max()
        .unwrap_or(t0);
    let raw_span = (last - t0).num_seconds().max(3600);
    // A little room after the last bar for its label.
    let t1 = t0 + TimeDelta::seconds(raw_span + raw_span / 50);
    let axis = Axis {
        t0,
        span: (t1 - t0).num_seconds() as f64,
        left: LABEL,
        width: WIDTH - LABEL - RIGHT,
    };
    let rows = plan.tiers.len().max(1) as f64;
    let bottom = TOP + rows * ROW;
    let height = bottom + 70.0;
    Layout {
        zone,
        t0,
        t1,
        last,
        raw_span,
        axis,
        bottom,
        height,
    }
}

/// Writes the SVG root element, pattern definitions, background and title lines.
fn header(s: &mut String, plan: &Plan, l: &Layout) {
    let height = l.height;
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="13">"#
    );
    s.push_str(concat!(
        "<defs>\n",
        "<pattern id=\"hatch\" width=\"8\" height=\"8\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">",
        "<rect width=\"8\" height=\"8\" fill=\"#f3f3f3\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"8\" stroke=\"#9a9a9a\" stroke-width=\"3\"/></pattern>\n",
        "<pattern id=\"wait\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">",
        "<circle cx=\"3\" cy=\"3\" r=\"1\" fill=\"#888\"/></pattern>\n",
        "</defs>\n",
    ));
    let _ = writeln!(
        s,
        r##"<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>"##
    );
    let planned: usize = plan.tiers.iter().map(|t| t.hosts.len()).sum();
    let batches: usize = plan.tiers.iter().map(|t| t.batches.len()).sum();
    let _ = writeln!(
        s,
        r#"<text x="16" y="28" font-size="18" font-weight="bold">Rollout plan ({}) — {} tiers, {} batches, {} hosts</text>"#,
        esc(&plan.severity),
        plan.tiers.len(),
        batches,
        planned
    );
    let _ = writeln!(
        s,
        r##"<text x="16" y="50" fill="#444">{} to {} · times in {}</text>"##,
        l.t0.with_timezone(&l.zone).format("%a %Y-%m-%d %H:%M %Z"),
        l.last.with_timezone(&l.zone).format("%a %Y-%m-%d %H:%M %Z"),
        esc(&plan.timezone)
    );
}

/// Writes the axis and grid: weeks (Mondays) under months on long plans.
fn grid(s: &mut String, l: &Layout) {
    let (zone, t0, t1, bottom) = (l.zone, l.t0, l.t1, l.bottom);
    // (Beyond about eight months, weekly labels would collide: months only.)
    if (100..=250).contains(&(t1 - t0).num_days()) {
        for (t, label) in mondays(zone, t0, t1) {
            let x = l.axis.x(t);
            let _ = writeln!(
                s,
                r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{bottom:.1}" stroke="#f0f0f0"/><text x="{x:.1}" y="{}" text-anchor="middle" fill="#777" font-size="10">{label}</text>"##,
                TOP - 4.0,
                TOP - 8.0,
            );
        }
    }
    for (t, label) in ticks(zone, t0, t1) {
        let x = l.axis.x(t);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{}" x2="{x:.1}" y2="{bottom:.1}" stroke="#e2e2e2"/><text x="{x:.1}" y="{}" text-anchor="middle" fill="#333" font-size="12">{}</text>"##,
            TOP - 22.0,
            TOP - 26.0,
            esc(&label)
        );
    }
}

/// Writes a tier row's stripe, name and summary line.
fn row_labels(s: &mut String, r: usize, y: f64, tier: &TierPlan) {
    if r % 2 == 1 {
        let _ = writeln!(
            s,
            r##"<rect x="0" y="{y:.1}" width="{WIDTH}" height="{ROW}" fill="#fafafa"/>"##
        );
    }
    let _ = writeln!(s, r#"<g class="tier" data-tier="{}">"#, esc(&tier.name));
    let _ = writeln!(
        s,
        r#"<text x="16" y="{:.1}" font-weight="bold" font-size="14">{}</text>"#,
        y + 24.0,
        esc(&tier.name)
    );
    let mut sub = format!(
        "{} hosts · {} batch{} · {}",
        tier.hosts.len(),
        tier.batches.len(),
        if tier.batches.len() == 1 { "" } else { "es" },
        tier.window.name
    );
    if let Some(a) = tier.after_hours_s {
        let _ = write!(sub, " · {} after hours", hours_text(a));
    }
    let _ = writeln!(
        s,
        r##"<text x="16" y="{:.1}" fill="#555" font-size="12">{}</text>"##,
        y + 42.0,
        esc(&sub)
    );
}

/// Shades a tier's window occurrences behind its bars.
fn window_shades(s: &mut String, tier: &TierPlan, y: f64, color: &str, l: &Layout) {
    if let Some(Availability::Window(w)) = tier.window.availability() {
        let shades: Vec<_> = w
            .occurrences(l.t0)
            .take_while(|o| o.start < l.t1)
            .take(MAX_SHADES)
            .collect();
        for o in shades {
            let x = l.axis.x(o.start);
            let width = (l.axis.x(o.end) - x).max(1.0);
            let _ = writeln!(
                s,
                r##"<rect class="window" x="{x:.2}" y="{:.1}" width="{width:.2}" height="{:.1}" fill="{color}" fill-opacity="0.12"/>"##,
                y + 6.0,
                ROW - 12.0
            );
        }
    }
}

/// Draws the wait from ready to the first batch and the soak after the tier finishes.
fn waits(s: &mut String, tier: &TierPlan, bar_y: f64, color: &str, axis: &Axis) {
    // Waiting from ready to the first batch (notice, approval, window).
    if let Some(first) = tier.batches.first() {
        let (a, b) = (axis.x(tier.ready), axis.x(first.start));
        if b - a > 1.0 {
            let _ = writeln!(
                s,
                r##"<rect class="wait" x="{a:.2}" y="{:.1}" width="{:.2}" height="6" fill="url(#wait)"><title>{} ready {}; first batch {}</title></rect>"##,
                bar_y + BAR / 2.0 - 3.0,
                b - a,
                esc(&tier.name),
                rfc3339(tier.ready),
                rfc3339(first.start)
            );
        }
    }
    // Soak after the tier finishes.
    if tier.soak > TimeDelta::zero() && !tier.batches.is_empty() {
        let a = axis.x(tier.finish);
        let b = axis.x(tier
            .finish
            .checked_add_signed(tier.soak)
            .unwrap_or(tier.finish));
        let _ = writeln!(
            s,
            r##"<rect class="soak" x="{a:.2}" y="{:.1}" width="{:.2}" height="4" fill="{color}" fill-opacity="0.45"><title>{}: soak {} until {}</title></rect>"##,
            bar_y + BAR + 3.0,
            (b - a).max(1.0),
            esc(&tier.name),
            hours_text(u64::try_from(tier.soak.num_seconds()).unwrap_or(0)),
            rfc3339(
                tier.finish
                    .checked_add_signed(tier.soak)
                    .unwrap_or(tier.finish)
            )
        );
    }
}

/// Draws one bar per batch, each with a tooltip giving its times, hosts and cost.
fn batch_bars(s: &mut String, tier: &TierPlan, tz: Tz, bar_y: f64, color: &str, axis: &Axis) {
    for (i, b) in tier.batches.iter().enumerate() {
        let x = axis.x(b.start);
        let width = (axis.x(b.end) - x).max(MIN_BAR);
        let mut tip = format!(
            "{} batch {}: {} → {}, {} hosts",
            tier.name,
            i + 1,
            b.start.with_timezone(&tz).format("%a %Y-%m-%d %H:%M %Z"),
            b.end.with_timezone(&tz).format("%H:%M %Z"),
            b.hosts.len()
        );
        if let Some(a) = b.after_hours_s {
            let _ = write!(tip, ", {} after hours", hours_text(a));
        }
        if let Some(c) = &b.cost {
            let _ = write!(tip, ", {} {}", c.amount, c.currency);
        }
        let _ = writeln!(
            s,
            r##"<rect class="batch" data-tier="{}" data-batch="{}" data-start="{}" data-end="{}" x="{x:.2}" y="{bar_y:.1}" width="{width:.2}" height="{BAR}" fill="{color}" stroke="#ffffff" stroke-width="0.5"><title>{}</title></rect>"##,
            esc(&tier.name),
            i + 1,
            rfc3339(b.start),
            rfc3339(b.end),
            esc(&tip)
        );
    }
}

/// Draws the approval and notice markers of a tier.
fn markers(s: &mut String, tier: &TierPlan, bar_y: f64, axis: &Axis) {
    if tier.approval {
        let x = axis.x(tier.ready);
        let _ = writeln!(
            s,
            r##"<path class="approval" d="M{x:.1} {:.1} l6 6 l-6 6 l-6 -6 z" fill="#ffbf00" stroke="#7a5c00"><title>{}: waits for approval at {}</title></path>"##,
            bar_y + BAR / 2.0 - 6.0,
            esc(&tier.name),
            rfc3339(tier.ready)
        );
    }
    if let Some(n) = tier.notice {
        let x = axis.x(n);
        let _ = writeln!(
            s,
            r##"<path class="notice" d="M{x:.1} {:.1} l5 -8 l-10 0 z" fill="#555"><title>{}: notice to {} at {}</title></path>"##,
            bar_y - 1.0,
            esc(&tier.name),
            esc(tier
                .contact
                .get("name")
                .map_or("(no contact)", String::as_str)),
            rfc3339(n)
        );
    }
}

/// Labels the end of a tier's last batch, or says the tier has no hosts.
fn end_label(s: &mut String, tier: &TierPlan, tz: Tz, bar_y: f64, l: &Layout) {
    if let Some(lastb) = tier.batches.last() {
        let x = l.axis.x(lastb.end) + MIN_BAR + 4.0;
        let _ = writeln!(
            s,
            r##"<text x="{x:.1}" y="{:.1}" fill="#333" font-size="11">{}</text>"##,
            bar_y + BAR / 2.0 + 4.0,
            lastb
                .end
                .with_timezone(&tz)
                .format(if l.raw_span > 2 * 86_400 {
                    "%d %b"
                } else {
                    "%H:%M"
                })
        );
    } else {
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#888" font-size="12" font-style="italic">no hosts</text>"##,
            LABEL + 8.0,
            bar_y + BAR / 2.0 + 4.0
        );
    }
}

/// Writes the row of tier `r`: labels, window shading, waits, batch bars and markers.
fn tier_row(s: &mut String, r: usize, tier: &TierPlan, l: &Layout) {
    let y = TOP + r as f64 * ROW;
    let bar_y = y + (ROW - BAR) / 2.0;
    let color = COLORS.get(r % COLORS.len()).copied().unwrap_or("#1f77b4");
    row_labels(s, r, y, tier);
    // Window occurrences behind the bars.
    window_shades(s, tier, y, color, l);
    waits(s, tier, bar_y, color, &l.axis);
    let tz: Tz = tier.timezone.parse().unwrap_or(l.zone);
    batch_bars(s, tier, tz, bar_y, color, &l.axis);
    // Markers last, so that bars do not hide them.
    markers(s, tier, bar_y, &l.axis);
    end_label(s, tier, tz, bar_y, l);
    s.push_str("</g>\n");
}

/// Hatches the blackouts across every row.
fn blackouts(s: &mut String, plan: &Plan, l: &Layout) {
    let (zone, t0, t1, bottom) = (l.zone, l.t0, l.t1, l.bottom);
    for b in &plan.blackouts {
        let (Some(from), Some(to)) = (midnight(zone, b.from), midnight(zone, b.to)) else {
            continue;
        };
        if to <= t0 || from >= t1 {
            continue;
        }
        let a = l.axis.x(from.max(t0));
        let w = (l.axis.x(to.min(t1)) - a).max(1.0);
        let _ = writeln!(
            s,
            r##"<g class="blackout"><rect x="{a:.2}" y="{TOP}" width="{w:.2}" height="{:.1}" fill="url(#hatch)" fill-opacity="0.55"><title>blackout {}: {} to {} (exclusive)</title></rect><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="11" fill="#444">{}</text></g>"##,
            bottom - TOP,
            esc(&b.name),
            b.from,
            b.to,
            a + w / 2.0,
            bottom + 14.0,
            esc(&format!("blackout: {}", b.name))
        );
    }
}

/// Writes the legend under the rows.
fn legend(s: &mut String, bottom: f64) {
    let ly = bottom + 44.0;
    let _ = writeln!(
        s,
        r##"<g class="legend" font-size="12" fill="#333"><rect x="16" y="{:.1}" width="14" height="12" fill="#1f77b4"/><text x="36" y="{ly:.1}">batch (hover for its times)</text><rect x="230" y="{:.1}" width="14" height="12" fill="#1f77b4" fill-opacity="0.12"/><text x="250" y="{ly:.1}">window occurrence</text><rect x="400" y="{:.1}" width="24" height="6" fill="url(#wait)"/><text x="430" y="{ly:.1}">waiting to start</text><rect x="560" y="{:.1}" width="24" height="4" fill="#1f77b4" fill-opacity="0.45"/><text x="590" y="{ly:.1}">soak</text><path d="M664 {:.1} l6 6 l-6 6 l-6 -6 z" fill="#ffbf00" stroke="#7a5c00"/><text x="676" y="{ly:.1}">approval</text><path d="M760 {:.1} l5 -8 l-10 0 z" fill="#555"/><text x="772" y="{ly:.1}">notice</text><rect x="850" y="{:.1}" width="24" height="12" fill="url(#hatch)"/><text x="880" y="{ly:.1}">blackout</text></g>"##,
        ly - 10.0,
        ly - 10.0,
        ly - 6.0,
        ly - 5.0,
        ly - 10.0,
        ly + 2.0,
        ly - 10.0
    );
}

/// The plan as an SVG document.
pub fn timeline(plan: &Plan) -> String {
    let l = layout(plan);
    let mut s = String::new();
    header(&mut s, plan, &l);
    grid(&mut s, &l);
    for (r, tier) in plan.tiers.iter().enumerate() {
        tier_row(&mut s, r, tier, &l);
    }
    blackouts(&mut s, plan, &l);
    legend(&mut s, l.bottom);
    s.push_str("</svg>\n");
    s
}
