//! Rollout policy files: TOML read into raw serde types, then validated into
//! a [`Policy`] that cannot be constructed invalid (`docs/policy.md`).
//!
//! Every problem is collected, not just the first, and each names the key
//! path (`tiers[2].after[0]`) and, for expressions, the span inside the
//! expression. This module decides nothing about hosts or dates; that is
//! `plan`'s job.
//!
//! `raw` mirrors the file, `check` validates it into the `model`, `error`
//! reports what is wrong, and `warning` what is legal but risky.

mod check;
mod error;
mod model;
mod raw;
mod terms;
mod warning;

pub use error::{scopes_from_toml, PolicyError, PolicyIssue, ScopesError};
pub use model::{
    Amount, MaxUnavailable, Overrides, Percent, Policy, Rounding, Settings, Tier, WindowChoice,
    NORMAL,
};
pub use terms::{NoticeTerms, Terms};
pub use warning::{Warning, MANY_OCCURRENCES};

use check::validate;
use error::shape_error;
use raw::RawPolicy;

impl Policy {
    /// Parses and validates a policy. `file` names the source in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Policy, PolicyError> {
        let de = toml::Deserializer::parse(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| crate::diagnostic::LineCol::of(text, s.start));
            let message = match at {
                Some(at) => format!(
                    "{} (line {}, column {})",
                    e.message().trim(),
                    at.line,
                    at.column
                ),
                None => e.message().trim().to_string(),
            };
            PolicyError::single(file, "", format!("not valid TOML: {message}"))
        })?;
        let raw: RawPolicy =
            serde_path_to_error::deserialize(de).map_err(|e| shape_error(file, text, e))?;
        validate(file, raw)
    }

    /// Reads and validates a policy file.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Policy, PolicyError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| PolicyError::single(&name, "", format!("cannot read the file: {e}")))?;
        Policy::from_toml(&name, &text)
    }
}
