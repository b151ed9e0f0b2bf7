//! Where rollout states live: the [`Store`] trait and its three stores.
//!
//! - [`StateFile`](super::StateFile): one rollout in one JSON file, loaded
//!   and rewritten whole by every change (small rollouts, inspection,
//!   tests, and the export format);
//! - `SqliteStore` (feature `sqlite`, on by default): any number of
//!   rollouts in one SQLite database, for one machine;
//! - `PostgresStore` (feature `postgres`): any number of rollouts on a
//!   PostgreSQL server, for workers on many machines.
//!
//! Every store decides with the same code ([`Progress`](super::run) and its
//! events), so every operation means the same in each. The database stores
//! keep per-tier summaries in rows of their own, so that an operation reads
//! and writes a handful of rows whatever the fleet's size: `record` one host
//! row, its tier's row, the rollout's row and one event row; `next` the tier
//! rows and the host rows of the batches it lists.
//!
//! This module owns locations, connections and rows; what a rollout means
//! is [`super::run`]'s.

mod conninfo;
mod json;
#[cfg(feature = "postgres")]
mod postgres;
// Without a database backend only the JSON file is left to use these.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
mod schema;
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::run::{Action, Applied, Event, Operation, Rollout, RunError, StateError, Status};

pub use conninfo::{redact, ConnInfo, ConnInfoError};
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use schema::SCHEMA_VERSION;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The name of the rollout a command means when it names none.
pub const DEFAULT_NAME: &str = "default";

/// A place that holds rollout states.
///
/// Every method is one transaction: it happens whole or not at all, and a
/// refused operation ([`StorageError::Refused`]) changes nothing.
pub trait Store {
    /// The store as messages name it; never shows a password.
    fn describe(&self) -> String;

    /// Stores a new rollout under `name`; refuses a name that exists.
    fn create(&mut self, name: &str, rollout: &Rollout) -> Result<(), StorageError>;

    /// The rollouts held, by name.
    fn list(&mut self) -> Result<Vec<Listed>, StorageError>;

    /// The whole rollout, as the JSON state file holds it.
    fn export(&mut self, name: &str) -> Result<Rollout, StorageError>;

    /// What to do at `now` ([`Rollout::next`]), with the revision it was
    /// computed from.
    fn next(&mut self, name: &str, now: DateTime<Utc>) -> Result<Next, StorageError>;

    /// Progress per tier ([`Rollout::status`]).
    fn status(&mut self, name: &str, now: DateTime<Utc>) -> Result<Status, StorageError>;

    /// The audit log, oldest first.
    fn events(&mut self, name: &str) -> Result<Vec<Event>, StorageError>;

    /// Applies an operation, all or nothing.
    fn perform(
        &mut self,
        name: &str,
        operation: &Operation,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Applied, StorageError>;
}

/// What `next` answered, and from which revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Next {
    /// The revision the answer was computed from.
    pub revision: u64,
    /// The actions.
    pub actions: Vec<Action>,
}

/// One rollout in a store's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// Its name.
    pub name: String,
    /// Its revision.
    pub revision: u64,
    /// The plan's severity.
    pub severity: String,
    /// The plan's start.
    pub start: DateTime<Utc>,
    /// Hosts in the plan's tiers.
    pub hosts: u64,
    /// Whether it was aborted.
    pub aborted: bool,
    /// Whether the whole rollout is halted.
    pub halted: bool,
}

/// Why a store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The operation was refused; nothing changed.
    #[error(transparent)]
    Refused(#[from] RunError),
    /// The store holds no rollout of that name.
    #[error("{store} holds no rollout named `{name}`{}", list_hint(.known))]
    NoRollout {
        /// The store.
        store: String,
        /// The name asked for.
        name: String,
        /// The names it holds.
        known: Vec<String>,
    },
    /// `create` of a name that exists.
    #[error("{store} already holds a rollout named `{name}`; a rollout is never overwritten (pick another --name)")]
    Exists {
        /// The store.
        store: String,
        /// The name.
        name: String,
    },
    /// A rollout name that cannot be used.
    #[error("{0}")]
    BadName(String),
    /// The location given is not a store this build can open.
    #[error("{0}")]
    BadLocation(String),
    /// The store's content is not a state this build can run.
    #[error("{store}: {source}")]
    State {
        /// The store.
        store: String,
        /// What is wrong.
        source: StateError,
    },
    /// The store's schema is one this build does not read.
    #[error("{store}: {detail}")]
    Schema {
        /// The store.
        store: String,
        /// What is wrong.
        detail: String,
    },
    /// The store could not be reached, read or written (a server down, a
    /// disk full, a lock held too long). Nothing was changed by this call.
    #[error("cannot {action} {store}: {detail}")]
    Unavailable {
        /// What was being done.
        action: &'static str,
        /// The store.
        store: String,
        /// The cause, without any password.
        detail: String,
    },
    /// The JSON state file's own error.
    #[error(transparent)]
    File(super::StoreError),
}

impl From<super::StoreError> for StorageError {
    fn from(e: super::StoreError) -> StorageError {
        match e {
            super::StoreError::Run(refused) => StorageError::Refused(refused),
            other => StorageError::File(other),
        }
    }
}

impl StorageError {
    /// True when the store could not be reached or written, as opposed to
    /// an operation that was refused (the CLI's exit code 1 against 2).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StorageError::Unavailable { .. } => true,
            StorageError::File(super::StoreError::Io { source, .. }) => {
                source.kind() != std::io::ErrorKind::NotFound
            }
            StorageError::File(super::StoreError::Locked { .. }) => true,
            _ => false,
        }
    }
}

fn list_hint(known: &[String]) -> String {
    if known.is_empty() {
        "; it holds no rollouts (`rollout start` creates one)".into()
    } else {
        format!("; it holds: {}", known.join(", "))
    }
}

/// Where a store is, as `--state` gives it.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A path ending in `.json`: one rollout in a JSON state file.
    Json(PathBuf),
    /// Any other path: an SQLite database.
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(ConnInfo),
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({self})")
    }
}

impl fmt::Display for Location {
    /// The location as messages show it: a URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Json(p) | Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(c) => write!(f, "{c}"),
        }
    }
}

impl Location {
    /// Reads a `--state` value: a `postgres://` or `postgresql://` URL, a
    /// path ending in `.json`, or any other path (an SQLite database).
    pub fn parse(text: &str) -> Result<Location, StorageError> {
        if text.trim().is_empty() {
            return Err(StorageError::BadLocation(
                "the state location is empty; give a .json file, an SQLite database path or a postgres:// URL".into(),
            ));
        }
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            return ConnInfo::parse(text)
                .map(Location::Postgres)
                .map_err(|e| StorageError::BadLocation(e.to_string()));
        }
        if lower.contains("://") {
            return Err(StorageError::BadLocation(format!(
                "`{}` is a URL of a kind fleetscope cannot store rollouts in; use postgres:// or postgresql://, or a file path",
                redact(text)
            )));
        }
        let path = PathBuf::from(text);
        if lower.ends_with(".json") {
            Ok(Location::Json(path))
        } else {
            Ok(Location::Sqlite(path))
        }
    }

    /// Opens the store. `create` allows making a database that does not
    /// exist yet (for `start` and `import`); otherwise a missing database
    /// is an error and nothing is created.
    pub fn open(&self, create: bool) -> Result<Box<dyn Store>, StorageError> {
        match self {
            Location::Json(path) => Ok(Box::new(super::StateFile::new(path))),
            #[cfg(feature = "sqlite")]
            Location::Sqlite(path) => Ok(Box::new(SqliteStore::open(path, create)?)),
            #[cfg(not(feature = "sqlite"))]
            Location::Sqlite(path) => {
                let _ = create;
                Err(StorageError::BadLocation(format!(
                    "{} would be an SQLite database, but this fleetscope was built without the `sqlite` feature; use a .json file",
                    path.display()
                )))
            }
            #[cfg(feature = "postgres")]
            Location::Postgres(info) => Ok(Box::new(PostgresStore::connect(info)?)),
            #[cfg(not(feature = "postgres"))]
            Location::Postgres(info) => Err(StorageError::BadLocation(format!(
                "{info} is a PostgreSQL server, but this fleetscope was built without the `postgres` feature (cargo install --features postgres)"
            ))),
        }
    }
}

/// Checks a rollout name: 1 to 200 characters, no control characters, not
/// blank.
pub fn check_name(name: &str) -> Result<(), StorageError> {
    if name.trim().is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(StorageError::BadName(format!(
            "`{}` cannot name a rollout: use 1 to 200 characters, not blank, without control characters",
            name.escape_debug()
        )));
    }
    Ok(())
}
