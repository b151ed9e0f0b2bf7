//! Money for after-hours time and cost (`docs/policy.md`, business hours
//! and cost).
//!
//! Money is exact: an amount is kept as an integer count of cent-seconds
//! (hourly rate in cents × seconds of work), so pricing a batch never
//! rounds. Rounding, half-up to whole cents, happens only when an amount is
//! printed, and a total is the exact sum of its parts rounded once (so a
//! tier's printed total may differ by a cent from the sum of its batches'
//! printed amounts, and is the right one). This module prices time; the
//! planner annotates plans with it, and it decides nothing about when
//! batches run.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::calendar::BusinessHours;

/// Seconds in an hour: rates are per hour, times in seconds.
const HOUR: u128 = 3600;

/// An exact amount of money, in cent-seconds (cents × seconds / hour).
///
/// Displays and serializes as a decimal string with two places, rounded
/// half-up; reading such a string back gives the printed amount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(u128);

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// `cents_per_hour` for `seconds`, exactly.
    pub fn for_time(cents_per_hour: u64, seconds: u64) -> Money {
        Money(u128::from(cents_per_hour).saturating_mul(u128::from(seconds)))
    }

    /// A whole number of cents.
    pub fn from_cents(cents: u64) -> Money {
        Money(u128::from(cents).saturating_mul(HOUR))
    }

    /// The exact value as a fraction of cents: `numerator / 3600` cents.
    pub fn cent_seconds(self) -> u128 {
        self.0
    }

    /// Rounded half-up to whole cents.
    pub fn rounded_cents(self) -> u128 {
        self.0.saturating_add(HOUR / 2) / HOUR
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cents = self.rounded_cents();
        write!(f, "{}.{:02}", cents / 100, cents % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        let text = String::deserialize(d)?;
        parse_cents(&text).map(Money::from_cents).ok_or_else(|| {
            serde::de::Error::custom(format!("`{text}` is not an amount such as \"12.50\""))
        })
    }
}

/// Reads a non-negative decimal with at most two places (`150`, `150.5`,
/// `150.50`) into cents. `None` for anything else, or an amount too large.
pub fn parse_cents(text: &str) -> Option<u64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > 2 {
        return None;
    }
    if text.contains('.') && frac.is_empty() {
        return None;
    }
    let whole: u64 = int.parse().ok()?;
    let mut cents: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    if frac.len() == 1 {
        cents *= 10;
    }
    // Rates beyond a trillion per hour are certainly a mistake, and keeping
    // them bounded keeps every product far inside u128.
    let value = whole.checked_mul(100)?.checked_add(cents)?;
    (value <= 100_000_000_000_000).then_some(value)
}

/// Hourly rates, from the policy's `[cost]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rates {
    /// The currency code (`USD`).
    pub currency: String,
    /// Per hour inside business hours.
    #[serde(with = "cents_text")]
    pub regular: u64,
    /// Per hour outside them.
    #[serde(with = "cents_text")]
    pub after_hours: u64,
}

impl Rates {
    /// The cost of `regular_s` seconds inside and `after_hours_s` outside
    /// business hours.
    pub fn price(&self, regular_s: u64, after_hours_s: u64) -> Cost {
        Cost {
            currency: self.currency.clone(),
            regular_s,
            after_hours_s,
            amount: Money::for_time(self.regular, regular_s)
                + Money::for_time(self.after_hours, after_hours_s),
        }
    }
}

/// Cents as a decimal string with two places.
mod cents_text {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(cents: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}.{:02}", cents / 100, cents % 100))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_cents(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a rate")))
    }
}

/// What some work costs: its time inside and outside business hours and
/// the exact amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    /// The currency code.
    pub currency: String,
    /// Seconds inside business hours.
    pub regular_s: u64,
    /// Seconds outside business hours or on holidays.
    pub after_hours_s: u64,
    /// The amount, exact in memory, printed with two places.
    pub amount: Money,
}

impl Cost {
    /// The exact sum of several costs in one currency; `None` for none.
    pub fn total<'a>(parts: impl IntoIterator<Item = &'a Cost>) -> Option<Cost> {
        let mut parts = parts.into_iter();
        let first = parts.next()?.clone();
        Some(parts.fold(first, |mut sum, c| {
            sum.regular_s = sum.regular_s.saturating_add(c.regular_s);
            sum.after_hours_s = sum.after_hours_s.saturating_add(c.after_hours_s);
            sum.amount = sum.amount + c.amount;
            sum
        }))
    }
}

/// Business hours as a plan records them, so that a plan read back from
/// JSON still says what "after hours" meant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursSpec {
    /// Business days, Monday first (`mon,tue,wed,thu,fri`).
    pub days: String,
    /// Local hours (`08:00-18:00`).
    pub hours: String,
    /// Their zone.
    pub timezone: String,
    /// Local dates that are after hours all day.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<chrono::NaiveDate>,
}

impl HoursSpec {
    /// The spec of these business hours.
    pub fn of(hours: &BusinessHours) -> HoursSpec {
        HoursSpec {
            days: hours.days_text(),
            hours: hours.hours_text(),
            timezone: hours.timezone().name().to_string(),
            holidays: hours.holidays().collect(),
        }
    }
}

/// A length of time in hours, minutes and seconds, never days, since
/// hours are what work is billed in: `112h`, `1h30m`, `45m`, `20s`, `0h`.
pub fn hours_text(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut out = String::new();
    if h > 0 || seconds == 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// The text plan's line for some work's after-hours share and cost:
/// `after hours: 3h of 5h (60%); cost 1234.50 USD`.
pub fn summary_line(
    after_hours_s: Option<u64>,
    total_s: u64,
    cost: Option<&Cost>,
) -> Option<String> {
    let after = after_hours_s?;
    let share = if total_s == 0 {
        0
    } else {
        // Half-up percentage, exact in integers.
        (u128::from(after) * 200 / u128::from(total_s)).div_ceil(2)
    };
    let mut line = format!(
        "after hours: {} of {} ({share}%)",
        hours_text(after),
        hours_text(total_s)
    );
    if let Some(c) = cost {
        line.push_str(&format!("; cost {} {}", c.amount, c.currency));
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_half_up_only_when_printed() {
        // 150.00/h for 20 s is 0.8333...; for 1 s, 0.041666...
        assert_eq!(Money::for_time(15_000, 20).to_string(), "0.83");
        assert_eq!(Money::for_time(15_000, 1).to_string(), "0.04");
        // Exactly half a cent rounds up: 18/h for 1 s is 0.5 cent.
        assert_eq!(Money::for_time(1_800, 1).to_string(), "0.01");
        // Three parts of 0.4 cent each: each prints 0.00, the total 0.01.
        let part = Money::for_time(1_440, 1);
        assert_eq!(part.to_string(), "0.00");
        assert_eq!((part + part + part).to_string(), "0.01");
    }

    #[test]
    fn reads_rates() {
        assert_eq!(parse_cents("150"), Some(15_000));
        assert_eq!(parse_cents("150.5"), Some(15_050));
        assert_eq!(parse_cents("0.05"), Some(5));
        for bad in ["", "1.", ".5", "1.005", "-1", "1e3", "1,5"] {
            assert_eq!(parse_cents(bad), None, "{bad}");
        }
    }

    #[test]
    fn money_round_trips_as_printed() {
        let m = Money::for_time(22_500, 5_400);
        assert_eq!(m.to_string(), "337.50");
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, "\"337.50\"");
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
    }

    #[test]
    fn hours_are_never_days() {
        assert_eq!(hours_text(0), "0h");
        assert_eq!(hours_text(112 * 3600), "112h");
        assert_eq!(hours_text(5400), "1h30m");
        assert_eq!(hours_text(3601), "1h1s");
        assert_eq!(hours_text(45 * 60), "45m");
    }

    #[test]
    fn summary_shares_round_half_up() {
        assert_eq!(
            summary_line(Some(1), 8, None).as_deref(),
            Some("after hours: 1s of 8s (13%)")
        );
        assert_eq!(summary_line(None, 8, None), None);
    }
}
