//! The database schema: a contract like the state file's format.
//!
//! `fleetscope_schema` holds one row with the schema version. A database
//! written by a newer fleetscope is refused; one with an older version is
//! refused too until a migration for it exists (version 1 is the first).
//! Changing any table below means bumping [`SCHEMA_VERSION`] and writing a
//! migration from the previous version.
//!
//! Tables (every one keyed by the rollout's id first):
//! - `fleetscope_rollouts`: one row per rollout: name, revision, event
//!   count, last event instant, halt, abort, the plan without host lists
//!   (`plan`), and the plan's long lists (`plan_lists`, read only on export);
//! - `fleetscope_tiers`: one row per tier with its summary counters;
//! - `fleetscope_batches`: one row per batch: planned times, size, began;
//! - `fleetscope_hosts`: one row per host: tier, batch, position in the
//!   tier, outcome and when (indexed by batch for `next`);
//! - `fleetscope_events`: the audit log, append only.
//!
//! Instants are RFC 3339 text in UTC; halts, sign-offs, outcomes and events
//! are JSON text, as in the state file.

/// The schema version this build writes, and the newest it reads.
pub const SCHEMA_VERSION: i64 = 1;

/// The statements creating the schema; `{ID}` is the backend's
/// auto-numbered primary key type, `{HOSTS_OPTIONS}` its options for the
/// hosts table (SQLite: `WITHOUT ROWID`, so the rows live in the primary
/// key's tree and a host costs one tree entry less).
pub(super) const CREATE: &[&str] = &[
    "CREATE TABLE fleetscope_schema (version BIGINT NOT NULL)",
    "CREATE TABLE fleetscope_rollouts (
        id {ID},
        name TEXT NOT NULL UNIQUE,
        revision BIGINT NOT NULL,
        events BIGINT NOT NULL,
        last_event_at TEXT NOT NULL,
        halt TEXT,
        abort TEXT,
        plan TEXT NOT NULL,
        plan_lists TEXT NOT NULL,
        hosts BIGINT NOT NULL
    )",
    "CREATE TABLE fleetscope_tiers (
        rollout BIGINT NOT NULL,
        idx BIGINT NOT NULL,
        name TEXT NOT NULL,
        sizes TEXT NOT NULL,
        hosts BIGINT NOT NULL,
        first_start TEXT,
        notified TEXT,
        approved TEXT,
        halted TEXT,
        resumed TEXT,
        results BIGINT NOT NULL,
        failures BIGINT NOT NULL,
        last_at TEXT,
        done BIGINT NOT NULL,
        current_began TEXT,
        current_results BIGINT NOT NULL,
        current_last_at TEXT,
        previous_last_at TEXT,
        PRIMARY KEY (rollout, idx)
    )",
    "CREATE TABLE fleetscope_batches (
        rollout BIGINT NOT NULL,
        tier BIGINT NOT NULL,
        idx BIGINT NOT NULL,
        start_at TEXT NOT NULL,
        end_at TEXT NOT NULL,
        size BIGINT NOT NULL,
        began TEXT,
        PRIMARY KEY (rollout, tier, idx)
    )",
    "CREATE TABLE fleetscope_hosts (
        rollout BIGINT NOT NULL,
        name TEXT NOT NULL,
        tier BIGINT NOT NULL,
        batch BIGINT NOT NULL,
        pos BIGINT NOT NULL,
        outcome TEXT,
        at TEXT,
        PRIMARY KEY (rollout, name)
    ){HOSTS_OPTIONS}",
    "CREATE TABLE fleetscope_events (
        rollout BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        event TEXT NOT NULL,
        PRIMARY KEY (rollout, seq)
    )",
];

/// Created after a rollout's hosts are loaded where the backend allows
/// (faster than maintaining it row by row), else with the tables.
pub(super) const HOST_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS fleetscope_hosts_batch ON fleetscope_hosts (rollout, tier, batch, pos)";

/// What a schema version found in a database means for this build.
pub(super) fn check_version(found: Option<i64>) -> Result<(), String> {
    match found {
        Some(SCHEMA_VERSION) => Ok(()),
        Some(v) if v > SCHEMA_VERSION => Err(format!(
            "the rollout tables have schema version {v}, written by a newer fleetscope; this one reads version {SCHEMA_VERSION}; upgrade fleetscope"
        )),
        Some(v) => Err(format!(
            "the rollout tables have schema version {v}, which no fleetscope release wrote; this one reads version {SCHEMA_VERSION}"
        )),
        None => Err("the table fleetscope_schema has no version row; the rollout tables are damaged".into()),
    }
}
