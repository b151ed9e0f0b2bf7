//! SemVer 2.0.0 precedence, as node-semver 7's strict `compare` applies it,
//! and its strict validity rule (`semver.valid`).
//!
//! `[v]MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, after trimming JavaScript
//! whitespace: numbers without leading zeros, each at most 2^53−1, the
//! whole text at most 256 UTF-16 units before trimming. Precedence: the
//! three numbers, then a version with a pre-release before the one
//! without; pre-release identifiers one by one, numeric ones numerically
//! and before alphanumeric ones, alphanumeric ones by ASCII; a shorter
//! list of otherwise equal identifiers first. Build metadata is ignored.
//!
//! One quirk is kept on purpose, because the order must be node-semver's:
//! node compares two different numeric pre-release identifiers as
//! JavaScript numbers, so beyond 2^53 two different identifiers can be
//! "equal" (`1.0.0-9007199254740993 = 1.0.0-9007199254740992`), and then
//! the comparison stops there, as node's does.

use std::cmp::Ordering;

use super::VersionError;

/// node-semver's `MAX_LENGTH`.
const MAX_LENGTH: usize = 256;
/// `Number.MAX_SAFE_INTEGER`, the largest major, minor or patch.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A valid SemVer version, borrowing its pre-release from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemVer<'a> {
    major: u64,
    minor: u64,
    patch: u64,
    /// The pre-release identifiers joined by `.`, "" when there are none.
    pre: &'a str,
}

/// What JavaScript's `String.prototype.trim` removes.
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

impl<'a> SemVer<'a> {
    /// Parses `text` as strict node-semver does, with a reason on failure.
    pub fn parse(text: &'a str) -> Result<SemVer<'a>, VersionError> {
        if text.encode_utf16().count() > MAX_LENGTH {
            return Err(VersionError::new(
                "a SemVer version is at most 256 characters long",
            ));
        }
        let text = text.trim_matches(is_js_whitespace);
        let text = text.strip_prefix('v').unwrap_or(text);
        let (rest, build) = match text.split_once('+') {
            Some((rest, build)) => (rest, Some(build)),
            None => (text, None),
        };
        let (main, pre) = match rest.split_once('-') {
            Some((main, pre)) => (main, Some(pre)),
            None => (rest, None),
        };
        let mut numbers = main.split('.');
        let (Some(major), Some(minor), Some(patch), None) = (
            numbers.next(),
            numbers.next(),
            numbers.next(),
            numbers.next(),
        ) else {
            return Err(VersionError::new(
                "a SemVer version has three numbers, MAJOR.MINOR.PATCH",
            ));
        };
        let major = number(major, "major")?;
        let minor = number(minor, "minor")?;
        let patch = number(patch, "patch")?;
        if let Some(pre) = pre {
            for id in pre.split('.') {
                pre_release_identifier(id)?;
            }
        }
        if let Some(build) = build {
            for id in build.split('.') {
                if id.is_empty() || !id.bytes().all(is_identifier_byte) {
                    return Err(VersionError::new(
                        "build metadata after `+` is dot-separated non-empty identifiers of ASCII letters, digits and `-`",
                    ));
                }
            }
        }
        Ok(SemVer {
            major,
            minor,
            patch,
            pre: pre.unwrap_or(""),
        })
    }

    /// MAJOR, MINOR and PATCH.
    pub fn numbers(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }

    /// The pre-release identifiers, joined by `.` ("" when none).
    pub fn pre_release(&self) -> &'a str {
        self.pre
    }
}

fn is_identifier_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-'
}

fn number(text: &str, what: &str) -> Result<u64, VersionError> {
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit()) {
        return Err(VersionError::owned(format!(
            "the {what} version must be a number"
        )));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(VersionError::owned(format!(
            "the {what} version has a leading zero"
        )));
    }
    match text.parse::<u64>() {
        Ok(n) if n <= MAX_SAFE_INTEGER => Ok(n),
        _ => Err(VersionError::owned(format!(
            "the {what} version is larger than 2^53-1 (9007199254740991)"
        ))),
    }
}

fn pre_release_identifier(id: &str) -> Result<(), VersionError> {
    if id.is_empty() || !id.bytes().all(is_identifier_byte) {
        return Err(VersionError::new(
            "a pre-release after `-` is dot-separated non-empty identifiers of ASCII letters, digits and `-`",
        ));
    }
    if is_numeric(id) && id.len() > 1 && id.starts_with('0') {
        return Err(VersionError::new(
            "a numeric pre-release identifier has a leading zero",
        ));
    }
    Ok(())
}

fn is_numeric(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|c| c.is_ascii_digit())
}

impl Ord for SemVer<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| compare_pre(self.pre, other.pre))
    }
}

impl PartialOrd for SemVer<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// node-semver's `comparePre`: no pre-release is newer than any; the first
/// differing identifier decides.
fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (false, true) => return Ordering::Less,
        (true, false) => return Ordering::Greater,
        (false, false) => {}
    }
    let mut xs = a.split('.');
    let mut ys = b.split('.');
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (Some(_), None) => return Ordering::Greater,
            (None, Some(_)) => return Ordering::Less,
            (Some(x), Some(y)) if x == y => continue,
            (Some(x), Some(y)) => return compare_identifiers(x, y),
        }
    }
}

/// node-semver's `compareIdentifiers` on two different identifiers:
/// numeric ones as JavaScript numbers (exact below 2^53), numeric before
/// alphanumeric, alphanumeric ones by code unit (ASCII here).
fn compare_identifiers(x: &str, y: &str) -> Ordering {
    match (is_numeric(x), is_numeric(y)) {
        (true, true) => {
            // Rust's and JavaScript's decimal-to-double conversions both
            // round correctly, so they agree on every digit string.
            let (p, q) = (js_number(x), js_number(y));
            p.partial_cmp(&q).unwrap_or(Ordering::Equal)
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => x.cmp(y),
    }
}

fn js_number(digits: &str) -> f64 {
    digits.parse::<f64>().unwrap_or(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        SemVer::parse(a).unwrap().cmp(&SemVer::parse(b).unwrap())
    }

    #[test]
    fn precedence_follows_the_spec_example() {
        // semver.org §11.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "2.0.0",
            "2.1.0",
            "2.1.1",
        ];
        for pair in chain.windows(2) {
            if let [a, b] = pair {
                assert_eq!(cmp(a, b), Less, "{a} < {b}");
                assert_eq!(cmp(b, a), Greater, "{b} > {a}");
            }
        }
    }

    #[test]
    fn build_metadata_and_leading_v_are_ignored() {
        assert_eq!(cmp("1.0.0+a", "1.0.0+b"), Equal);
        assert_eq!(cmp("1.2.3+build", "1.2.3"), Equal);
        assert_eq!(cmp("v1.2.3", "1.2.3"), Equal);
        assert_eq!(cmp("1.2.3-rc.1", "1.2.3"), Less);
        assert_eq!(cmp(" 1.2.3\u{feff}", "1.2.3"), Equal);
    }

    #[test]
    fn pre_release_identifiers() {
        assert_eq!(cmp("1.0.0-2", "1.0.0-10"), Less);
        assert_eq!(cmp("1.0.0-10", "1.0.0-a"), Less); // numeric first
        assert_eq!(cmp("1.0.0-B", "1.0.0-a"), Less); // ASCII
        assert_eq!(cmp("1.0.0-01a", "1.0.0-1a"), Less); // alphanumeric: text
        assert_eq!(cmp("1.0.0-a.b", "1.0.0-a"), Greater);
        assert_eq!(cmp("1.0.0--", "1.0.0-0"), Greater);
        // node's doubles: equal beyond 2^53, and the comparison stops.
        assert_eq!(
            cmp("1.0.0-9007199254740993.a", "1.0.0-9007199254740992.b"),
            Equal
        );
        assert_eq!(
            cmp("1.0.0-9007199254740993", "1.0.0-9007199254740994"),
            Less
        );
        assert_eq!(
            cmp("1.0.0-18446744073709551616", "1.0.0-18446744073709551615"),
            Equal
        );
    }

    #[test]
    fn strict_validity() {
        let max = "9007199254740991.9007199254740991.9007199254740991";
        for good in [
            "1.2.3",
            "v1.2.3",
            "0.0.0",
            "1.2.3-0",
            "1.2.3-0a",
            "1.2.3-01a",
            "1.2.3--",
            "1.2.3+01",
            "1.2.3-rc.1+build.5",
            "  1.2.3  ",
            max,
        ] {
            assert!(SemVer::parse(good).is_ok(), "{good:?}");
        }
        let long = format!("1.2.3-{}", "a".repeat(250));
        assert_eq!(long.len(), 256);
        assert!(SemVer::parse(&long).is_ok());
        for bad in [
            "",
            "1.2",
            "1.2.3.4",
            "01.2.3",
            "1.02.3",
            "=1.2.3",
            "V1.2.3",
            "vv1.2.3",
            "v 1.2.3",
            "1.2.3-",
            "1.2.3-01",
            "1.2.3-a..b",
            "1.2.3+",
            "1.2.3+a+b",
            "1.2.3-é",
            "9007199254740992.0.0",
            "0.0.99999999999999999999",
            "1.2.3\u{85}",
            "1.2.3 x",
        ] {
            assert!(SemVer::parse(bad).is_err(), "{bad:?}");
        }
        assert!(SemVer::parse(&format!("{long}a")).is_err());
        // The limit counts the text before trimming.
        assert!(SemVer::parse(&format!("{long} ")).is_err());
    }
}
