//! Why a policy was refused: every problem, each with its key path and,
//! inside an expression, its span.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::scope::{Catalog, CatalogError};
use crate::ScopeError;

/// One problem in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyIssue {
    /// Where in the file: a key path such as `tiers[2].after[0]`, or empty
    /// for the file as a whole.
    pub key: String,
    /// What is wrong, as a sentence.
    pub message: String,
    /// How to fix it, where known.
    pub help: Option<String>,
    /// For errors inside an expression: the expression and the error (with
    /// its span), so it can be shown with a caret.
    pub expression: Option<(String, ScopeError)>,
}

impl fmt::Display for PolicyIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{}: {}", self.key, self.message)?;
        }
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// A policy that could not be read or is invalid; lists every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {}", issues_text(.issues))]
pub struct PolicyError {
    /// The file the policy came from (as given to [`Policy::from_toml`](super::Policy::from_toml)).
    pub file: String,
    /// Every problem, in the order of the file's sections.
    pub issues: Vec<PolicyIssue>,
}

fn issues_text(issues: &[PolicyIssue]) -> String {
    let texts: Vec<String> = issues.iter().map(ToString::to_string).collect();
    if texts.len() == 1 {
        texts.concat()
    } else {
        format!("{} problems:\n  {}", texts.len(), texts.join("\n  "))
    }
}

impl PolicyError {
    pub(super) fn single(
        file: &str,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> PolicyError {
        PolicyError {
            file: file.to_string(),
            issues: vec![PolicyIssue {
                key: key.into(),
                message: message.into(),
                help: None,
                expression: None,
            }],
        }
    }

    /// Every problem, each on its own lines; expression errors under their
    /// source line with a caret.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for issue in &self.issues {
            match &issue.expression {
                Some((source, error)) => {
                    out.push_str(&error.render(source, &format!("{} {}", self.file, issue.key)));
                }
                None => {
                    let key = if issue.key.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", issue.key)
                    };
                    out.push_str(&format!("error: {}{key}: {}\n", self.file, issue.message));
                    if let Some(help) = &issue.help {
                        out.push_str(&format!("  = help: {help}\n"));
                    }
                }
            }
        }
        out
    }
}

/// Collects issues while validating.
#[derive(Default)]
pub(super) struct Issues(pub(super) Vec<PolicyIssue>);

impl Issues {
    pub(super) fn push(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(PolicyIssue {
            key: key.into(),
            message: message.into(),
            help: None,
            expression: None,
        });
    }

    pub(super) fn push_help(
        &mut self,
        key: impl Into<String>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.0.push(PolicyIssue {
            key: key.into(),
            message: message.into(),
            help: Some(help.into()),
            expression: None,
        });
    }

    pub(super) fn push_scope(&mut self, key: impl Into<String>, source: &str, error: ScopeError) {
        self.0.push(PolicyIssue {
            key: key.into(),
            message: error.to_string(),
            help: error.help().map(str::to_string),
            expression: Some((source.to_string(), error)),
        });
    }
}

/// A TOML or shape error, with the key path when serde knows it.
pub(super) fn shape_error(
    file: &str,
    text: &str,
    e: serde_path_to_error::Error<toml::de::Error>,
) -> PolicyError {
    let key = e.path().to_string();
    let inner = e.into_inner();
    let at = inner
        .span()
        .map(|s| crate::diagnostic::LineCol::of(text, s.start));
    let mut message = inner.message().trim().to_string();
    if let Some(at) = at {
        message = format!("{message} (line {}, column {})", at.line, at.column);
    }
    let key = if key == "." { String::new() } else { key };
    let mut err = PolicyError::single(file, key, message);
    if let Some(issue) = err.issues.first_mut() {
        if issue.message.starts_with("unknown field") {
            issue.help = Some("see docs/policy.md for every key a policy may hold".into());
        }
    }
    err
}

/// Reads only the `[scopes]` table of a policy file as a catalog, ignoring
/// the rest, for evaluating expressions with a policy's named scopes.
pub fn scopes_from_toml(text: &str) -> Result<Catalog, ScopesError> {
    #[derive(Deserialize)]
    struct OnlyScopes {
        #[serde(default)]
        scopes: BTreeMap<String, String>,
    }
    let table: OnlyScopes = toml::from_str(text).map_err(|e| ScopesError::Toml(e.to_string()))?;
    Catalog::new(table.scopes).map_err(|e| ScopesError::Catalog(Box::new(e)))
}

/// Why a policy's `[scopes]` table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopesError {
    /// The file is not TOML, or `scopes` is not a table of strings.
    #[error("{0}")]
    Toml(String),
    /// A scope is invalid.
    #[error("{0}")]
    Catalog(Box<CatalogError>),
}

impl ScopesError {
    /// The error for a terminal; `file` names the policy file.
    pub fn render(&self, file: &str) -> String {
        match self {
            ScopesError::Toml(text) => format!("error: {file}: {text}"),
            ScopesError::Catalog(e) => e.render(&format!("{file} [scopes]")),
        }
    }
}
