//! Debian's version order, as `dpkg --compare-versions` applies it (Debian
//! Policy §5.6.12), and the validity rule of `dpkg --validate-version`.
//!
//! `[EPOCH:]UPSTREAM[-REVISION]`: epochs compare as integers, then the
//! upstream versions, then the revisions (absent = empty), each with dpkg's
//! `verrevcmp`: alternating non-digit and digit runs; in a non-digit run
//! `~` sorts before everything (the end included), letters before all
//! other characters; digit runs compare numerically, as digit strings of
//! any length. Parsing follows dpkg's `parseversion` (dpkg 1.21), warnings
//! included, because `--validate-version` rejects what they warn about.

use std::cmp::Ordering;

use super::rpm::compare_digits;
use super::VersionError;

/// A valid Debian version, borrowing its parts from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DpkgVersion<'a> {
    epoch: u32,
    upstream: &'a str,
    revision: &'a str,
}

/// dpkg's `c_isblank`: what it trims around a version.
fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// C's `isspace`, which `strtol` skips before the epoch's digits.
fn is_c_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The largest epoch dpkg accepts (`INT_MAX`).
const MAX_EPOCH: u64 = i32::MAX as u64;

impl<'a> DpkgVersion<'a> {
    /// Parses `text` as `dpkg --validate-version` does, with its reasons
    /// for rejecting.
    pub fn parse(text: &'a str) -> Result<DpkgVersion<'a>, VersionError> {
        let trimmed = text.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() {
            return Err(VersionError::new("the version is empty"));
        }
        let end = trimmed.bytes().position(is_blank).unwrap_or(trimmed.len());
        let (body, tail) = trimmed.split_at(end);
        if !tail.bytes().all(is_blank) {
            return Err(VersionError::new("a Debian version cannot hold spaces"));
        }
        let (epoch, rest) = match body.split_once(':') {
            Some((epoch, rest)) => (parse_epoch(epoch)?, rest),
            None => (0, body),
        };
        if rest.is_empty() {
            return Err(VersionError::new("nothing follows the epoch's `:`"));
        }
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((_, "")) => {
                return Err(VersionError::new(
                    "the revision after the last `-` is empty",
                ))
            }
            Some((upstream, revision)) => (upstream, revision),
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(VersionError::new("the upstream version is empty"));
        }
        if !upstream.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            return Err(VersionError::new(
                "the upstream version must start with a digit",
            ));
        }
        if let Some(c) = upstream
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && !".-+~:".contains(*c))
        {
            return Err(VersionError::owned(format!(
                "the upstream version may hold letters, digits and `. + ~ - :` only, not `{}`",
                c.escape_debug()
            )));
        }
        if let Some(c) = revision
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && !".+~".contains(*c))
        {
            return Err(VersionError::owned(format!(
                "the revision may hold letters, digits and `. + ~` only, not `{}`",
                c.escape_debug()
            )));
        }
        Ok(DpkgVersion {
            epoch,
            upstream,
            revision,
        })
    }

    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version.
    pub fn upstream(&self) -> &'a str {
        self.upstream
    }

    /// The Debian revision ("" when absent, which compares as "0").
    pub fn revision(&self) -> &'a str {
        self.revision
    }
}

/// The epoch before the first `:`, read as `strtol` reads it: C spaces, a
/// sign, then decimal digits; dpkg wants it within `0..=INT_MAX`.
fn parse_epoch(text: &str) -> Result<u32, VersionError> {
    let unspaced = text.trim_start_matches(|c: char| c.is_ascii() && is_c_space(c as u8));
    let (negative, digits) = match unspaced.as_bytes().first() {
        Some(b'-') => (true, unspaced.get(1..).unwrap_or("")),
        Some(b'+') => (false, unspaced.get(1..).unwrap_or("")),
        _ => (false, unspaced),
    };
    if digits.is_empty() || !digits.bytes().next().is_some_and(|c| c.is_ascii_digit()) {
        return Err(VersionError::new(
            "the epoch before `:` is empty; write an epoch as digits, such as 1:2.30-1",
        ));
    }
    if !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(VersionError::new(
            "the epoch before the first `:` is not a number",
        ));
    }
    let significant = digits.trim_start_matches('0');
    let value = match significant.len() {
        0 => Some(0),
        1..=10 => significant.parse::<u64>().ok(),
        _ => None,
    };
    match value {
        Some(0) => Ok(0),
        Some(_) if negative => Err(VersionError::new("the epoch is negative")),
        Some(v) if v <= MAX_EPOCH => {
            u32::try_from(v).map_err(|_| VersionError::new("the epoch is larger than 2147483647"))
        }
        _ => Err(VersionError::new("the epoch is larger than 2147483647")),
    }
}

impl Ord for DpkgVersion<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream, other.upstream))
            .then_with(|| verrevcmp(self.revision, other.revision))
    }
}

impl PartialOrd for DpkgVersion<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// dpkg's weight of a character in a non-digit run: `~` first, then the
/// end of the part (and digits, which end the run), then letters, then
/// everything else.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp` on an upstream version or a revision.
pub fn verrevcmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let non_digit = |s: &[u8], k: usize| s.get(k).is_some_and(|c| !c.is_ascii_digit());
    while i < a.len() || j < b.len() {
        while non_digit(a, i) || non_digit(b, j) {
            let (x, y) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if x != y {
                return x.cmp(&y);
            }
            i += 1;
            j += 1;
        }
        let digits = |s: &[u8], k: usize| {
            let rest = s.get(k..).unwrap_or(&[]);
            let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            (rest.get(..n).unwrap_or(&[]).to_vec(), n)
        };
        let (run_a, n) = digits(a, i);
        let (run_b, m) = digits(b, j);
        i += n;
        j += m;
        let order = compare_digits(&run_a, &run_b);
        if order != Ordering::Equal {
            return order;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        DpkgVersion::parse(a)
            .unwrap()
            .cmp(&DpkgVersion::parse(b).unwrap())
    }

    #[test]
    fn tilde_sorts_before_everything_even_the_end() {
        assert_eq!(cmp("1.0~rc1", "1.0"), Less);
        assert_eq!(cmp("1.0~rc1", "1.0~rc2"), Less);
        assert_eq!(cmp("1.0~~", "1.0~"), Less);
        assert_eq!(cmp("1.0~", "1.0"), Less);
        assert_eq!(cmp("1.0-1~bpo1", "1.0-1"), Less);
        assert_eq!(cmp("1.0~rc1-1", "1.0-0"), Less);
    }

    #[test]
    fn letters_sort_before_other_characters() {
        assert_eq!(cmp("1.0a", "1.0+"), Less);
        assert_eq!(cmp("1.0a", "1.0."), Less);
        assert_eq!(cmp("1.0+", "1.0."), Less); // by ASCII among non-letters
        assert_eq!(cmp("1.0Z", "1.0a"), Less);
        assert_eq!(cmp("1.0a", "1.0"), Greater); // a letter after the end
        assert_eq!(cmp("1.0a", "1.01"), Less);
        assert_eq!(cmp("1.0-1ubuntu1", "1.0-1"), Greater);
        assert_eq!(cmp("1.0-1ubuntu1", "1.0-1.1"), Less);
    }

    #[test]
    fn epochs_revisions_and_zeros() {
        assert_eq!(cmp("1.0", "1.0-0"), Equal);
        assert_eq!(cmp("1.0", "0:1.0"), Equal);
        assert_eq!(cmp("1.0", "0:1.0-0"), Equal);
        assert_eq!(cmp("1:1.0", "2.0"), Greater);
        assert_eq!(cmp("1.01", "1.1"), Equal);
        assert_eq!(cmp("1.0-00", "1.0"), Equal);
        assert_eq!(cmp("00001:1.0", "1:1.0"), Equal);
        assert_eq!(cmp("1:2.30-1ubuntu1", "1:2.30-1ubuntu1.1"), Less);
        assert_eq!(cmp("3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.15"), Less);
        assert_eq!(cmp("1.2-3-4", "1.2-3"), Greater); // upstream "1.2-3"
        assert_eq!(cmp(" 1.0\t", "1.0"), Equal);
    }

    #[test]
    fn digit_runs_beyond_64_bits_compare_as_numbers() {
        assert_eq!(
            cmp("1.18446744073709551616", "1.18446744073709551615"),
            Greater
        );
        assert_eq!(
            cmp("1.99999999999999999999999", "1.100000000000000000000000"),
            Less
        );
        assert_eq!(cmp("1.0000000000000000000000000002", "1.2"), Equal);
    }

    #[test]
    fn validity_follows_validate_version() {
        for good in [
            "1.0",
            "1:2.30-1ubuntu1",
            "0:1",
            "2147483647:1",
            "1.0-1-2",
            "1:1.0:2",
            " 1.0 ",
            "+1:1.0",
            "-0:1.0",
            "\t\n1:1.0", // strtol skips C spaces before the epoch
            "1.0~rc1+dfsg-0ubuntu0.22.04.1",
        ] {
            assert!(DpkgVersion::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            " ",
            "a1.0",
            "1.0-",
            ":1.0",
            "1:",
            "a:1.0",
            "2147483648:1",
            "-1:1.0",
            "1.0:2",
            "1.0:2-1",
            "1.0 2",
            "1.0_1",
            "1.0-1:2",
            "1.0-1-",
            "-1",
            "1.é",
        ] {
            assert!(DpkgVersion::parse(bad).is_err(), "{bad:?}");
        }
    }
}
