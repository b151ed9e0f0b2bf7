//! RPM's version order, as rpm 4.18's `rpm.vercmp` applies it.
//!
//! `[EPOCH:]VERSION[-RELEASE]` is split the way rpm's `parseEVR` splits it
//! (the epoch is the leading digits when a `:` follows them; the release
//! starts after the last `-` behind the epoch), the epochs are compared
//! (absent = 0), then the versions, then the releases, each with
//! `rpmvercmp`. A version without a release sorts before the same version
//! with any release. Digit runs are compared as digit strings, never parsed
//! into integers, so runs of any length order correctly.

use std::cmp::Ordering;

use super::VersionError;

/// A parsed RPM version, borrowing its parts from the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RpmVersion<'a> {
    /// The epoch digits, `None` when the text has none (compares as `0`).
    epoch: Option<&'a str>,
    /// The version, between the epoch and the release.
    version: &'a str,
    /// The release after the last `-`, `None` when there is no `-`.
    release: Option<&'a str>,
}

impl<'a> RpmVersion<'a> {
    /// Splits `text` into epoch, version and release. Every non-empty
    /// string is an RPM version, except one holding a NUL character: rpm
    /// reads C strings, so it would see only the part before the NUL.
    pub fn parse(text: &'a str) -> Result<RpmVersion<'a>, VersionError> {
        if text.is_empty() {
            return Err(VersionError::new("an RPM version cannot be empty"));
        }
        if text.contains('\0') {
            return Err(VersionError::new(
                "an RPM version cannot hold a NUL character",
            ));
        }
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        // ASCII digits: `digits` is a character boundary.
        let (lead, after_digits) = text.split_at(digits);
        let (epoch, rest) = match after_digits.strip_prefix(':') {
            Some(rest) => (Some(if lead.is_empty() { "0" } else { lead }), rest),
            None => (None, text),
        };
        // rpm searches the last `-` from the end of the epoch digits on,
        // also when no `:` follows them; a `-` in the epoch is impossible.
        let (version, release) = match rest.rfind('-') {
            Some(dash) => (rest.get(..dash).unwrap_or(""), rest.get(dash + 1..)),
            None => (rest, None),
        };
        Ok(RpmVersion {
            epoch,
            version,
            release,
        })
    }

    /// The epoch as written (`None` when absent).
    pub fn epoch(&self) -> Option<&'a str> {
        self.epoch
    }

    /// The version part.
    pub fn version(&self) -> &'a str {
        self.version
    }

    /// The release part, when there is a `-`.
    pub fn release(&self) -> Option<&'a str> {
        self.release
    }
}

impl Ord for RpmVersion<'_> {
    /// `rpmverCmp`: epochs, versions, then releases; a missing release
    /// sorts before any release.
    fn cmp(&self, other: &Self) -> Ordering {
        rpmvercmp(self.epoch.unwrap_or("0"), other.epoch.unwrap_or("0"))
            .then_with(|| rpmvercmp(self.version, other.version))
            .then_with(|| match (self.release, other.release) {
                (Some(a), Some(b)) => rpmvercmp(a, b),
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (None, None) => Ordering::Equal,
            })
    }
}

impl PartialOrd for RpmVersion<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// rpm's `rpmvercmp` on one part: alphanumeric segments, separators (any
/// other byte, non-ASCII included) skipped; `~` sorts before everything,
/// the end included; `^` sorts after the end but before anything else; a
/// digit segment is newer than a letter segment.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let at = |s: &[u8], k: usize| s.get(k).copied();
    let is_sep =
        |c: Option<u8>| c.is_some_and(|c| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^');
    while at(a, i).is_some() || at(b, j).is_some() {
        while is_sep(at(a, i)) {
            i += 1;
        }
        while is_sep(at(b, j)) {
            j += 1;
        }
        let (x, y) = (at(a, i), at(b, j));
        if x == Some(b'~') || y == Some(b'~') {
            if x != Some(b'~') {
                return Ordering::Greater;
            }
            if y != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if x == Some(b'^') || y == Some(b'^') {
            if x.is_none() {
                return Ordering::Less;
            }
            if y.is_none() {
                return Ordering::Greater;
            }
            if x != Some(b'^') {
                return Ordering::Greater;
            }
            if y != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(first), Some(_)) = (x, y) else {
            break;
        };
        let numeric = first.is_ascii_digit();
        let in_segment = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let seg_a = segment(a, i, in_segment);
        let seg_b = segment(b, j, in_segment);
        i += seg_a.len();
        j += seg_b.len();
        // A digit segment against a letter segment: the digits are newer.
        if seg_b.is_empty() {
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let order = if numeric {
            compare_digits(seg_a, seg_b)
        } else {
            seg_a.cmp(seg_b)
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    match (at(a, i).is_none(), at(b, j).is_none()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, _) => Ordering::Greater,
    }
}

/// The bytes of `s` from `start` on while `in_segment` holds.
fn segment(s: &[u8], start: usize, in_segment: impl Fn(&u8) -> bool) -> &[u8] {
    let rest = s.get(start..).unwrap_or(&[]);
    let len = rest.iter().take_while(|c| in_segment(c)).count();
    rest.get(..len).unwrap_or(&[])
}

/// Two runs of ASCII digits by numeric value, without parsing: leading
/// zeros dropped, the longer run is larger, equal lengths compare bytewise.
pub(crate) fn compare_digits(a: &[u8], b: &[u8]) -> Ordering {
    let trim = |s: &[u8]| {
        let zeros = s.iter().take_while(|c| **c == b'0').count();
        s.get(zeros..).unwrap_or(&[]).to_vec()
    };
    let (a, b) = (trim(a), trim(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        RpmVersion::parse(a)
            .unwrap()
            .cmp(&RpmVersion::parse(b).unwrap())
    }

    #[test]
    fn parts_split_like_parse_evr() {
        let v = RpmVersion::parse("2:1.0-3.el9").unwrap();
        assert_eq!(
            (v.epoch(), v.version(), v.release()),
            (Some("2"), "1.0", Some("3.el9"))
        );
        let v = RpmVersion::parse("1.0-2-3").unwrap();
        assert_eq!((v.version(), v.release()), ("1.0-2", Some("3")));
        let v = RpmVersion::parse(":1.0").unwrap();
        assert_eq!(v.epoch(), Some("0"));
        // Digits without a colon are no epoch; the release split still
        // looks only behind them.
        let v = RpmVersion::parse("1-2:3").unwrap();
        assert_eq!(
            (v.epoch(), v.version(), v.release()),
            (None, "1", Some("2:3"))
        );
        let v = RpmVersion::parse("-1").unwrap();
        assert_eq!((v.version(), v.release()), ("", Some("1")));
        assert!(RpmVersion::parse("").is_err());
        assert!(RpmVersion::parse("1\u{0}2").is_err());
    }

    #[test]
    fn tilde_sorts_before_everything_caret_after_the_end() {
        assert_eq!(cmp("1.0~rc1", "1.0"), Less);
        assert_eq!(cmp("1.0~rc1", "1.0~rc2"), Less);
        assert_eq!(cmp("1.0~", "1.0"), Less);
        assert_eq!(cmp("1.0~~", "1.0~"), Less);
        assert_eq!(cmp("1.0^", "1.0"), Greater);
        assert_eq!(cmp("1.0^git1", "1.0.1"), Less);
        assert_eq!(cmp("1.0^git1", "1.0"), Greater);
        assert_eq!(cmp("1.0^", "1.0~"), Greater);
        assert_eq!(cmp("1.0.^", "1.0"), Greater);
    }

    #[test]
    fn releases_and_epochs() {
        assert_eq!(cmp("1.0", "1.0-"), Less);
        assert_eq!(cmp("1.0", "1.0-~rc1"), Less);
        assert_eq!(cmp("1.0-", "1.0-0"), Less);
        assert_eq!(cmp("1:1.0", "2.0"), Greater);
        assert_eq!(cmp("0:1.0", "1.0"), Equal);
        assert_eq!(cmp(":1.0", "0:1.0"), Equal);
        assert_eq!(cmp("00:1", "0:1"), Equal);
        assert_eq!(cmp("1.0-1.el9", "1.0-1.el10"), Less);
        assert_eq!(
            cmp("99999999999999999999999:1", "99999999999999999999998:2"),
            Greater
        );
    }

    #[test]
    fn segments_letters_digits_and_separators() {
        assert_eq!(cmp("2.0", "2_0"), Equal);
        assert_eq!(cmp("a+", "a_"), Equal);
        assert_eq!(cmp("1.0", "1.0.0"), Less);
        assert_eq!(cmp("1.a", "1.1"), Less); // letters older than digits
        assert_eq!(cmp("1a", "1.1"), Less);
        assert_eq!(cmp("1.01", "1.1"), Equal);
        assert_eq!(cmp("1.0a", "1.0"), Greater);
        assert_eq!(cmp("A", "a"), Less);
        assert_eq!(cmp("é", "a"), Less); // non-ASCII bytes are separators
        assert_eq!(cmp("1.", "1"), Equal); // trailing separators do not count
        assert_eq!(
            cmp("1.18446744073709551616", "1.18446744073709551615"),
            Greater
        );
        assert_eq!(cmp("1.000000000000000000000000002", "1.2"), Equal);
    }
}
