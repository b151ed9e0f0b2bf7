//! Package version orders: Debian (`dpkg`), RPM (`rpm`) and SemVer
//! (`semver`), each agreeing exactly with the tool it is named after.
//!
//! This module owns what a valid version of each scheme is and how two
//! versions of a scheme compare. It knows nothing about hosts, literals or
//! evaluation; the crate's `value` module decides which host values are read as
//! versions. Nothing here allocates per comparison beyond small digit
//! buffers, and digit runs are compared as strings, so there is no
//! overflow at any length.
//!
//! ```
//! use std::cmp::Ordering;
//! use fleetscope::versions::VersionScheme;
//!
//! assert_eq!(VersionScheme::Dpkg.compare("1.0~rc1", "1.0"), Some(Ordering::Less));
//! assert_eq!(VersionScheme::Rpm.compare("1:1.0", "2.0"), Some(Ordering::Greater));
//! assert_eq!(VersionScheme::Semver.compare("1.2.3+a", "1.2.3+b"), Some(Ordering::Equal));
//! assert_eq!(VersionScheme::Semver.compare("1.2", "1.2.0"), None); // not SemVer
//! ```

mod dpkg;
mod rpm;
mod semver;

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

pub use dpkg::{verrevcmp, DpkgVersion};
pub use rpm::{rpmvercmp, RpmVersion};
pub use semver::SemVer;

/// Why a text is not a valid version of a scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct VersionError {
    reason: Cow<'static, str>,
}

impl VersionError {
    fn new(reason: &'static str) -> Self {
        VersionError {
            reason: Cow::Borrowed(reason),
        }
    }

    fn owned(reason: String) -> Self {
        VersionError {
            reason: Cow::Owned(reason),
        }
    }

    /// What is wrong, as a sentence fragment.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A package manager's version order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VersionScheme {
    /// Debian: `dpkg --compare-versions`.
    Dpkg,
    /// RPM: rpm 4.18's `rpm.vercmp`.
    Rpm,
    /// SemVer 2.0.0 as node-semver 7's strict `compare`.
    Semver,
}

impl VersionScheme {
    /// Every scheme, in a fixed order.
    pub const ALL: [VersionScheme; 3] = [
        VersionScheme::Dpkg,
        VersionScheme::Rpm,
        VersionScheme::Semver,
    ];

    /// The literal's name in the language: `dpkg`, `rpm`, `semver`.
    pub fn name(self) -> &'static str {
        match self {
            VersionScheme::Dpkg => "dpkg",
            VersionScheme::Rpm => "rpm",
            VersionScheme::Semver => "semver",
        }
    }

    /// The scheme named `name` (case-insensitive), as the grammar reads it.
    pub fn from_name(name: &str) -> Option<VersionScheme> {
        VersionScheme::ALL
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// What the scheme calls itself in messages.
    pub fn title(self) -> &'static str {
        match self {
            VersionScheme::Dpkg => "Debian version",
            VersionScheme::Rpm => "RPM version",
            VersionScheme::Semver => "SemVer version",
        }
    }

    /// One sentence saying what the scheme accepts, for help lines.
    pub fn accepts(self) -> &'static str {
        match self {
            VersionScheme::Dpkg => {
                "dpkg(\"...\") takes a Debian version [EPOCH:]UPSTREAM[-REVISION], such as 1:2.30-1ubuntu1: the upstream part starts with a digit and holds letters, digits and `. + ~ - :`, the revision letters, digits and `. + ~` (what `dpkg --validate-version` accepts)"
            }
            VersionScheme::Rpm => {
                "rpm(\"...\") takes an RPM version [EPOCH:]VERSION[-RELEASE], such as 2:1.0-3.el9; any non-empty text without NUL characters is one"
            }
            VersionScheme::Semver => {
                "semver(\"...\") takes a SemVer 2.0.0 version MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], such as 1.2.3-rc.1 or v1.2.3: no leading zeros, numbers at most 2^53-1, at most 256 characters (what strict node-semver accepts)"
            }
        }
    }

    /// Parses `text` as a version of this scheme.
    pub fn parse(self, text: &str) -> Result<PackageVersion<'_>, VersionError> {
        Ok(match self {
            VersionScheme::Dpkg => PackageVersion::Dpkg(DpkgVersion::parse(text)?),
            VersionScheme::Rpm => PackageVersion::Rpm(RpmVersion::parse(text)?),
            VersionScheme::Semver => PackageVersion::Semver(SemVer::parse(text)?),
        })
    }

    /// Whether `text` is a valid version of this scheme.
    pub fn is_valid(self, text: &str) -> bool {
        self.parse(text).is_ok()
    }

    /// How `a` compares with `b` in this scheme's order; `None` when either
    /// is not a valid version of it.
    pub fn compare(self, a: &str, b: &str) -> Option<Ordering> {
        self.parse(a).ok()?.compare(&self.parse(b).ok()?)
    }
}

impl fmt::Display for VersionScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed version of some scheme, borrowing from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageVersion<'a> {
    /// A Debian version.
    Dpkg(DpkgVersion<'a>),
    /// An RPM version.
    Rpm(RpmVersion<'a>),
    /// A SemVer version.
    Semver(SemVer<'a>),
}

impl PackageVersion<'_> {
    /// The scheme the version was parsed with.
    pub fn scheme(&self) -> VersionScheme {
        match self {
            PackageVersion::Dpkg(_) => VersionScheme::Dpkg,
            PackageVersion::Rpm(_) => VersionScheme::Rpm,
            PackageVersion::Semver(_) => VersionScheme::Semver,
        }
    }

    /// The order of two versions of the same scheme; `None` across schemes.
    pub fn compare(&self, other: &PackageVersion<'_>) -> Option<Ordering> {
        match (self, other) {
            (PackageVersion::Dpkg(a), PackageVersion::Dpkg(b)) => Some(a.cmp(b)),
            (PackageVersion::Rpm(a), PackageVersion::Rpm(b)) => Some(a.cmp(b)),
            (PackageVersion::Semver(a), PackageVersion::Semver(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in VersionScheme::ALL {
            assert_eq!(VersionScheme::from_name(s.name()), Some(s));
            assert_eq!(VersionScheme::from_name(&s.name().to_uppercase()), Some(s));
        }
        assert_eq!(VersionScheme::from_name("version"), None);
    }

    #[test]
    fn schemes_differ_where_the_tools_do() {
        use Ordering::*;
        // A version without a release: before any release in RPM, equal to
        // revision 0 in Debian.
        assert_eq!(VersionScheme::Rpm.compare("1.0", "1.0-0"), Some(Less));
        assert_eq!(VersionScheme::Dpkg.compare("1.0", "1.0-0"), Some(Equal));
        // Letters against digits.
        assert_eq!(VersionScheme::Rpm.compare("1.0a", "1.0.1"), Some(Less));
        assert_eq!(VersionScheme::Dpkg.compare("1.0a", "1.0.1"), Some(Less));
        assert_eq!(VersionScheme::Rpm.compare("1.0", "1_0"), Some(Equal));
        assert_eq!(VersionScheme::Dpkg.compare("1.0", "1_0"), None);
        // Cross-scheme comparison is not a thing.
        let d = VersionScheme::Dpkg.parse("1.0").unwrap();
        let r = VersionScheme::Rpm.parse("1.0").unwrap();
        assert_eq!(d.compare(&r), None);
    }
}
