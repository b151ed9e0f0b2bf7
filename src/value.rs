//! How a host's values compare with literals (`docs/language.md`, "Literals and
//! comparison"). The reference interpreter and the indexed engine both call
//! these functions, so the two can only differ in which values they visit,
//! never in what a comparison means.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::fleet::Host;
use crate::syntax::{Instant, InstantBase, Literal, Number, Path};
use crate::versions::{PackageVersion, VersionScheme};

/// One of a host's values at a path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HostValue<'a> {
    /// A string (names, roles, tags, string facts).
    Text(&'a str),
    /// An integer fact.
    Int(i128),
    /// A fact with a fraction or exponent.
    Float(f64),
    /// A boolean fact.
    Bool(bool),
}

impl<'a> HostValue<'a> {
    /// The value of a JSON scalar; `None` for null, arrays and objects.
    pub fn from_json(value: &'a serde_json::Value) -> Option<HostValue<'a>> {
        match value {
            serde_json::Value::String(s) => Some(HostValue::Text(s)),
            serde_json::Value::Bool(b) => Some(HostValue::Bool(*b)),
            serde_json::Value::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => HostValue::Int(i128::from(i)),
                (None, Some(u)) => HostValue::Int(i128::from(u)),
                _ => HostValue::Float(n.as_f64()?),
            }),
            _ => None,
        }
    }

    /// The value's text: a string is itself, an integer its decimal digits, a
    /// boolean `true` or `false`. A float has no text (its spelling is not
    /// preserved by JSON: `22.10` reads back as `22.1`).
    pub fn text(&self) -> Option<Cow<'a, str>> {
        match *self {
            HostValue::Text(s) => Some(Cow::Borrowed(s)),
            HostValue::Int(i) => Some(Cow::Owned(i.to_string())),
            HostValue::Bool(b) => Some(Cow::Borrowed(if b { "true" } else { "false" })),
            HostValue::Float(_) => None,
        }
    }

    /// The value as a number: numbers, and strings that are wholly a number
    /// literal (`-?[0-9]+(\.[0-9]+)?`).
    pub fn number(&self) -> Option<Number> {
        match *self {
            HostValue::Int(i) => Some(Number::Int(i)),
            HostValue::Float(f) => Some(Number::Float(f)),
            HostValue::Text(s) => number_from_text(s),
            HostValue::Bool(_) => None,
        }
    }

    /// The value as a boolean: booleans and the strings `true` / `false`.
    pub fn boolean(&self) -> Option<bool> {
        match *self {
            HostValue::Bool(b) => Some(b),
            HostValue::Text("true") => Some(true),
            HostValue::Text("false") => Some(false),
            _ => None,
        }
    }

    /// The text a package version literal of `scheme` reads: a string, or
    /// under `dpkg` and `rpm` an integer's decimal digits. Booleans and
    /// floats are no versions, and under `semver` neither is a bare number.
    pub fn package_text(&self, scheme: VersionScheme) -> Option<Cow<'a, str>> {
        match (*self, scheme) {
            (HostValue::Text(s), _) => Some(Cow::Borrowed(s)),
            (HostValue::Int(i), VersionScheme::Dpkg | VersionScheme::Rpm) => {
                Some(Cow::Owned(i.to_string()))
            }
            _ => None,
        }
    }

    /// The value as an instant: an RFC 3339 timestamp or a `YYYY-MM-DD` date
    /// (midnight UTC), given as a string.
    pub fn instant(&self) -> Option<DateTime<Utc>> {
        match *self {
            HostValue::Text(s) => instant_from_text(s),
            _ => None,
        }
    }
}

/// Calls `visit` with each of `host`'s values at `path`, in order.
pub fn for_each_value<'a>(host: &'a Host, path: &Path, mut visit: impl FnMut(HostValue<'a>)) {
    match path {
        Path::Name => visit(HostValue::Text(&host.name)),
        Path::Role => host.roles.iter().for_each(|r| visit(HostValue::Text(r))),
        Path::Tag(key) => {
            if let Some(v) = host.tags.get(key) {
                visit(HostValue::Text(v));
            }
        }
        Path::Fact(keys) => {
            if let Some(value) = fact(&host.facts, keys) {
                match value {
                    serde_json::Value::Array(items) => items
                        .iter()
                        .filter_map(HostValue::from_json)
                        .for_each(&mut visit),
                    other => {
                        if let Some(v) = HostValue::from_json(other) {
                            visit(v);
                        }
                    }
                }
            }
        }
    }
}

/// The JSON value at `keys` inside `facts`, following objects only.
pub fn fact<'a>(
    facts: &'a serde_json::Map<String, serde_json::Value>,
    keys: &[String],
) -> Option<&'a serde_json::Value> {
    let (first, rest) = keys.split_first()?;
    let mut value = facts.get(first)?;
    for key in rest {
        value = value.as_object()?.get(key)?;
    }
    Some(value)
}

/// `text` as a number if it is wholly a number literal of the language.
pub fn number_from_text(text: &str) -> Option<Number> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || !frac.is_none_or(all_digits) {
        return None;
    }
    match frac {
        None => match text.parse::<i128>() {
            Ok(i) => Some(Number::Int(i)),
            // Too long for an exact integer: compare as a float.
            Err(_) => text.parse::<f64>().ok().map(Number::Float),
        },
        Some(_) => text.parse::<f64>().ok().map(Number::Float),
    }
}

/// `text` as an instant: RFC 3339, or `YYYY-MM-DD` meaning midnight UTC.
pub fn instant_from_text(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let date_shape = b.len() == 10
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if date_shape {
        let day = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
        return Some(day.and_hms_opt(0, 0, 0)?.and_utc());
    }
    // chrono's RFC 3339 reader also takes a space for the `T`; the shape
    // check keeps words like "tomorrow" from costing a parse attempt.
    if b.len() < 20 || !b.get(..4).is_some_and(|y| y.iter().all(u8::is_ascii_digit)) {
        return None;
    }
    DateTime::parse_from_rfc3339(text).ok().map(|d| d.to_utc())
}

/// Compares two numbers: integers exactly, anything else as 64-bit floats.
pub fn compare_numbers(a: Number, b: Number) -> Option<Ordering> {
    match (a, b) {
        (Number::Int(x), Number::Int(y)) => Some(x.cmp(&y)),
        (x, y) => as_f64(x).partial_cmp(&as_f64(y)),
    }
}

fn as_f64(n: Number) -> f64 {
    match n {
        Number::Int(i) => i as f64,
        Number::Float(f) => f,
    }
}

/// Natural version order: runs of ASCII digits compare numerically (leading
/// zeros ignored), other runs by code point, a digit run sorts before an
/// other run, and a text that is a prefix of the other in runs is smaller.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let mut x = Runs(a);
    let mut y = Runs(b);
    loop {
        match (x.next(), y.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let order = match (is_digit_run(p), is_digit_run(q)) {
                    (true, true) => {
                        let p = p.trim_start_matches('0');
                        let q = q.trim_start_matches('0');
                        p.len().cmp(&q.len()).then_with(|| p.cmp(q))
                    }
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => p.cmp(q),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

fn is_digit_run(run: &str) -> bool {
    run.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// Maximal runs of ASCII digits and of other characters.
struct Runs<'a>(&'a str);

impl<'a> Iterator for Runs<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        let first = *self.0.as_bytes().first()?;
        let digit = first.is_ascii_digit();
        let end = self
            .0
            .bytes()
            .position(|b| b.is_ascii_digit() != digit)
            .unwrap_or(self.0.len());
        // Digits are ASCII, so `end` always falls on a character boundary.
        let (run, rest) = self.0.split_at(end);
        self.0 = rest;
        Some(run)
    }
}

/// The instant a literal stands for when evaluated at `now`. Offsets that
/// would leave chrono's range saturate at its ends.
pub fn resolve_instant(instant: &Instant, now: DateTime<Utc>) -> DateTime<Utc> {
    let base = match instant.base {
        InstantBase::Now => now,
        InstantBase::At(at) => at.to_utc(),
    };
    let offset = TimeDelta::try_seconds(instant.offset_seconds);
    match offset.and_then(|d| base.checked_add_signed(d)) {
        Some(t) => t,
        None if instant.offset_seconds < 0 => DateTime::<Utc>::MIN_UTC,
        None => DateTime::<Utc>::MAX_UTC,
    }
}

/// A literal made ready for comparing: instants resolved against `now`.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand<'l> {
    /// Compare the value's text.
    Text(&'l str),
    /// Compare as numbers.
    Number(Number),
    /// Compare as booleans (equality only).
    Bool(bool),
    /// Compare texts in natural version order.
    Version(&'l str),
    /// Compare as instants.
    Instant(DateTime<Utc>),
    /// Compare in a package manager's version order. The literal was
    /// checked when parsed, so `version` is always `Some`; `None` would
    /// make every comparison fail rather than panic.
    Package {
        /// Whose order.
        scheme: VersionScheme,
        /// The literal, parsed once.
        version: Option<PackageVersion<'l>>,
    },
}

impl<'l> Operand<'l> {
    /// The operand for `literal` at `now`.
    pub fn new(literal: &'l Literal, now: DateTime<Utc>) -> Operand<'l> {
        match literal {
            Literal::Str(s) => Operand::Text(s),
            Literal::Number(n) => Operand::Number(*n),
            Literal::Bool(b) => Operand::Bool(*b),
            Literal::Version(v) => Operand::Version(v),
            Literal::Instant(i) => Operand::Instant(resolve_instant(i, now)),
            Literal::Package { scheme, text } => Operand::Package {
                scheme: *scheme,
                version: scheme.parse(text).ok(),
            },
        }
    }

    /// How `value` compares with this operand, or `None` when the value
    /// cannot be read as the operand's kind (it then satisfies no predicate).
    pub fn compare(&self, value: &HostValue<'_>) -> Option<Ordering> {
        match self {
            Operand::Text(t) => Some(value.text()?.as_ref().cmp(*t)),
            Operand::Number(n) => compare_numbers(value.number()?, *n),
            Operand::Bool(b) => Some(value.boolean()?.cmp(b)),
            Operand::Version(v) => Some(compare_versions(value.text()?.as_ref(), v)),
            Operand::Instant(t) => Some(value.instant()?.cmp(t)),
            Operand::Package { scheme, version } => {
                let text = value.package_text(*scheme)?;
                scheme.parse(&text).ok()?.compare(version.as_ref()?)
            }
        }
    }
}

/// A compiled `like` pattern: `*` any run (also empty), `?` one character,
/// `\` escapes the next character; the whole text must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    tokens: Vec<GlobToken>,
}

/// How a glob made of one literal and `*`s tests a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobShape {
    /// `lit`: the text is the literal.
    Exact,
    /// `lit*`: the text starts with the literal.
    Prefix,
    /// `*lit`: the text ends with the literal.
    Suffix,
    /// `*lit*`: the text contains the literal.
    Contains,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobToken {
    Char(char),
    One,
    Any,
}

impl Glob {
    /// Compiles a glob. The only invalid glob ends in a lone backslash.
    pub fn new(pattern: &str) -> Result<Glob, String> {
        let mut tokens = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => {
                    if tokens.last() == Some(&GlobToken::Any) {
                        continue;
                    }
                    GlobToken::Any
                }
                '?' => GlobToken::One,
                '\\' => match chars.next() {
                    Some(e) => GlobToken::Char(e),
                    None => return Err(
                        "the pattern ends with a lone `\\`; escape a literal backslash as `\\\\`"
                            .into(),
                    ),
                },
                c => GlobToken::Char(c),
            });
        }
        Ok(Glob { tokens })
    }

    /// The literal text before the first wildcard, for index lookups.
    pub fn literal_prefix(&self) -> String {
        self.tokens
            .iter()
            .map_while(|t| match t {
                GlobToken::Char(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// The literal text after the last wildcard, for index lookups.
    pub fn literal_suffix(&self) -> String {
        let mut rev: Vec<char> = self
            .tokens
            .iter()
            .rev()
            .map_while(|t| match t {
                GlobToken::Char(c) => Some(*c),
                _ => None,
            })
            .collect();
        rev.reverse();
        rev.into_iter().collect()
    }

    /// The shape of the glob when it is a plain literal test: `lit*`,
    /// `*lit`, `*lit*` or `lit`, with the literal; `None` for any other.
    pub fn literal_shape(&self) -> Option<(GlobShape, String)> {
        let any = |t: Option<&GlobToken>| t == Some(&GlobToken::Any);
        let (starts, ends) = (any(self.tokens.first()), any(self.tokens.last()));
        let inner = self
            .tokens
            .get(usize::from(starts)..self.tokens.len().saturating_sub(usize::from(ends)))
            .unwrap_or_default();
        let literal: Option<String> = inner
            .iter()
            .map(|t| match t {
                GlobToken::Char(c) => Some(*c),
                _ => None,
            })
            .collect();
        let shape = match (starts, ends) {
            (false, false) => GlobShape::Exact,
            (false, true) => GlobShape::Prefix,
            (true, false) => GlobShape::Suffix,
            (true, true) => GlobShape::Contains,
        };
        // A lone `*` has no literal and matches every text: `Contains("")`.
        literal.map(|l| (shape, l))
    }

    /// Whether the glob matches all of `text`. Worst case O(len × pattern):
    /// on a mismatch only the most recent `*` is retried.
    pub fn is_match(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let (mut t, mut p) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(GlobToken::Any) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(GlobToken::One) => {
                    t += 1;
                    p += 1;
                }
                Some(GlobToken::Char(c)) if Some(c) == text.get(t) => {
                    t += 1;
                    p += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens
            .get(p..)
            .unwrap_or_default()
            .iter()
            .all(|t| *t == GlobToken::Any)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_natural_order() {
        use Ordering::*;
        assert_eq!(compare_versions("22.04", "22.10"), Less);
        assert_eq!(compare_versions("5.15.0-91", "5.15.0-100"), Less);
        assert_eq!(compare_versions("1.2", "1.2.1"), Less);
        assert_eq!(compare_versions("1.02", "1.2"), Equal);
        assert_eq!(compare_versions("1a", "1.0"), Greater); // "a" > "."
        assert_eq!(compare_versions("1.0", "1.a"), Less); // digit run before other run
        assert_eq!(compare_versions("", ""), Equal);
        assert_eq!(compare_versions("10", "9"), Greater);
        assert_eq!(compare_versions("0000000000000000000000001", "2"), Less);
    }

    #[test]
    fn numbers_from_text_follow_the_literal_grammar() {
        assert_eq!(number_from_text("8"), Some(Number::Int(8)));
        assert_eq!(number_from_text("-3"), Some(Number::Int(-3)));
        assert_eq!(number_from_text("2.5"), Some(Number::Float(2.5)));
        assert_eq!(number_from_text("08"), Some(Number::Int(8)));
        for bad in [
            "", "-", "1.", ".5", "1e5", "+1", " 1", "1.2.3", "0x10", "NaN", "inf",
        ] {
            assert_eq!(number_from_text(bad), None, "{bad}");
        }
        assert!(matches!(
            number_from_text(&"9".repeat(50)),
            Some(Number::Float(_))
        ));
    }

    #[test]
    fn numbers_compare_exactly_when_both_are_integers() {
        let big = Number::Int(9_007_199_254_740_993);
        let near = Number::Int(9_007_199_254_740_992);
        assert_eq!(compare_numbers(big, near), Some(Ordering::Greater));
        assert_eq!(
            compare_numbers(Number::Int(2), Number::Float(2.0)),
            Some(Ordering::Equal)
        );
    }

    #[test]
    fn instants_from_text() {
        let midnight = instant_from_text("2026-11-01").expect("date");
        assert_eq!(midnight.to_rfc3339(), "2026-11-01T00:00:00+00:00");
        let t = instant_from_text("2026-11-01T02:00:00+01:00").expect("rfc3339");
        assert_eq!(t.to_rfc3339(), "2026-11-01T01:00:00+00:00");
        for bad in [
            "2026-13-01",
            "2026-11-1",
            "yesterday",
            "1700000000",
            "2026-11-01T25:00:00Z",
        ] {
            assert_eq!(instant_from_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn values_give_text_only_where_the_spec_defines_it() {
        assert_eq!(HostValue::Int(8).text().as_deref(), Some("8"));
        assert_eq!(HostValue::Bool(true).text().as_deref(), Some("true"));
        assert_eq!(HostValue::Float(2.5).text(), None);
        assert_eq!(HostValue::Text("true").boolean(), Some(true));
        assert_eq!(HostValue::Text("True").boolean(), None);
    }

    #[test]
    fn glob_literal_shapes_and_suffixes() {
        let g = |p: &str| Glob::new(p).expect("valid glob");
        let shape = |p: &str| g(p).literal_shape();
        assert_eq!(shape("web-*"), Some((GlobShape::Prefix, "web-".into())));
        assert_eq!(shape("*.com"), Some((GlobShape::Suffix, ".com".into())));
        assert_eq!(shape("**prod*"), Some((GlobShape::Contains, "prod".into())));
        assert_eq!(shape("*"), Some((GlobShape::Contains, String::new())));
        assert_eq!(shape("web"), Some((GlobShape::Exact, "web".into())));
        assert_eq!(shape(""), Some((GlobShape::Exact, String::new())));
        assert_eq!(shape("\\*x"), Some((GlobShape::Exact, "*x".into())));
        assert_eq!(shape("a*b"), None);
        assert_eq!(shape("?x*"), None);
        assert_eq!(g("a*b?cd").literal_suffix(), "cd");
        assert_eq!(g("a*").literal_suffix(), "");
        assert_eq!(g("abc").literal_suffix(), "abc");
    }

    #[test]
    fn globs_match_whole_texts() {
        let g = |p: &str| Glob::new(p).expect("valid glob");
        assert!(g("db-*").is_match("db-01"));
        assert!(g("db-*").is_match("db-"));
        assert!(!g("db-*").is_match("xdb-01"));
        assert!(g("web-??").is_match("web-01"));
        assert!(!g("web-??").is_match("web-1"));
        assert!(g("*").is_match(""));
        assert!(g("a*b*c").is_match("aXbYbZc"));
        assert!(!g("a*b*c").is_match("aXbYbZ"));
        assert!(g(r"\*").is_match("*"));
        assert!(!g(r"\*").is_match("x"));
        assert!(g("é?").is_match("éü"));
        assert!(Glob::new("abc\\").is_err());
        assert_eq!(g("db-*").literal_prefix(), "db-");
    }

    #[test]
    fn glob_matching_is_not_exponential() {
        let pattern = format!("{}b", "*a".repeat(50));
        let text = "a".repeat(5_000);
        assert!(!Glob::new(&pattern).expect("valid").is_match(&text));
    }
}
