//! The database stores' shared logic: rows in, decisions by
//! [`Progress`], rows out. SQLite and PostgreSQL differ only in how they
//! connect, begin a transaction, lock and bulk-load ([`Conn`]); the SQL is
//! written once, with `$1`-style parameters numbered in order of first use
//! (which SQLite reads as well as PostgreSQL does).
//!
//! Every change is one write transaction that first locks the rollout's row
//! (SQLite: `BEGIN IMMEDIATE` takes the database's write lock; PostgreSQL:
//! `SELECT ... FOR UPDATE` on the row). A change always updates that row
//! (its revision and last event instant are part of every change), so
//! changes to one rollout are serialized, and each decides on the state
//! the previous one committed: a tier halts at exactly the first failure
//! beyond `max_failures`, once, however many workers report at the same
//! moment. Reads run in a read transaction and see one committed state.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::schema::{self, SCHEMA_VERSION};
use super::{check_name, redact, Listed, Next, StorageError, Store};
use crate::rollout::plan::{Batch, Overlap, Plan};
use crate::rollout::run::{
    Applied, BatchProgress, BatchRun, Event, EventKind, HostResult, HostRow, Operation, Outcome,
    Progress, Rollout, StateError, Status, TierProgress, TierRun,
};

/// A value in a row or a parameter.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Val {
    Null,
    Int(i64),
    Text(String),
}

/// A backend's failure, its text free of passwords.
#[derive(Debug)]
pub(super) struct DbError(pub(super) String);

impl DbError {
    pub(super) fn new(e: impl std::fmt::Display) -> DbError {
        DbError(redact(&e.to_string()))
    }
}

/// What a transaction is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// A consistent read.
    Read,
    /// A change to an existing rollout.
    Write,
    /// Creating a rollout, and the schema if it is missing.
    Create,
}

/// What differs between backends.
pub(super) trait Conn {
    /// The store as messages name it.
    fn describe(&self) -> String;
    /// Runs a statement; returns the rows changed.
    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError>;
    /// Runs a query.
    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, DbError>;
    /// Begins a transaction.
    fn begin(&mut self, mode: Mode) -> Result<(), DbError>;
    /// Commits it.
    fn commit(&mut self) -> Result<(), DbError>;
    /// Rolls it back (best effort: a lost connection rolls back anyway).
    fn rollback(&mut self);
    /// Whether the schema's tables exist.
    fn has_schema(&mut self) -> Result<bool, DbError>;
    /// The type of an auto-numbered primary key.
    fn id_type(&self) -> &'static str;
    /// Options after the hosts table's definition.
    fn hosts_options(&self) -> &'static str;
    /// The clause locking the rows a query reads until commit (empty where
    /// the transaction already holds the write lock).
    fn for_update(&self) -> &'static str;
    /// Brings the planner's statistics up to date after a rollout was
    /// loaded (PostgreSQL plans a fresh million-row table as if it were
    /// empty, and would scan it for every host otherwise).
    fn after_load(&mut self) -> Result<(), DbError>;
    /// Inserts many rows into `table`.
    fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Val>>,
    ) -> Result<(), DbError>;
}

/// A store on a database.
pub(super) struct SqlStore<C> {
    pub(super) conn: C,
}

/// The rollout's own row.
struct Head {
    id: i64,
    progress: Progress,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn text(s: impl Into<String>) -> Val {
    Val::Text(s.into())
}

fn opt_text(s: Option<String>) -> Val {
    s.map_or(Val::Null, Val::Text)
}

fn int(n: usize) -> Val {
    Val::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn opt_time(t: Option<DateTime<Utc>>) -> Val {
    opt_text(t.map(ts))
}

fn json<T: Serialize>(value: &T) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

fn opt_json<T: Serialize>(value: Option<&T>) -> Result<Val, String> {
    value.map(json).transpose().map(opt_text)
}

/// Reading cells, with the column named in errors.
struct Cells<'a>(&'a [Val]);

impl Cells<'_> {
    fn get(&self, i: usize) -> Result<&Val, String> {
        self.0
            .get(i)
            .ok_or_else(|| format!("column {i} is missing"))
    }

    fn int(&self, i: usize) -> Result<i64, String> {
        match self.get(i)? {
            Val::Int(n) => Ok(*n),
            other => Err(format!("column {i} should be a number, not {other:?}")),
        }
    }

    fn count(&self, i: usize) -> Result<usize, String> {
        usize::try_from(self.int(i)?).map_err(|_| format!("column {i} is negative"))
    }

    fn opt_str(&self, i: usize) -> Result<Option<&str>, String> {
        match self.get(i)? {
            Val::Null => Ok(None),
            Val::Text(s) => Ok(Some(s)),
            other => Err(format!("column {i} should be text, not {other:?}")),
        }
    }

    fn str(&self, i: usize) -> Result<&str, String> {
        self.opt_str(i)?
            .ok_or_else(|| format!("column {i} is empty"))
    }

    fn opt_time(&self, i: usize) -> Result<Option<DateTime<Utc>>, String> {
        self.opt_str(i)?
            .map(|s| {
                DateTime::parse_from_rfc3339(s)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| format!("column {i} holds `{s}`, not an instant: {e}"))
            })
            .transpose()
    }

    fn time(&self, i: usize) -> Result<DateTime<Utc>, String> {
        self.opt_time(i)?
            .ok_or_else(|| format!("column {i} is empty"))
    }

    fn opt_json<T: for<'de> Deserialize<'de>>(&self, i: usize) -> Result<Option<T>, String> {
        self.opt_str(i)?
            .map(|s| serde_json::from_str(s).map_err(|e| format!("column {i}: {e}")))
            .transpose()
    }

    fn json<T: for<'de> Deserialize<'de>>(&self, i: usize) -> Result<T, String> {
        self.opt_json(i)?
            .ok_or_else(|| format!("column {i} is empty"))
    }
}

/// Batch sizes, run-length encoded: `100x9999,57x1`.
fn encode_sizes(sizes: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &s in sizes {
        match runs.last_mut() {
            Some((size, n)) if *size == s => *n += 1,
            _ => runs.push((s, 1)),
        }
    }
    runs.iter()
        .map(|(s, n)| format!("{s}x{n}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_sizes(text: &str) -> Result<Vec<usize>, String> {
    let mut sizes = Vec::new();
    for run in text.split(',').filter(|r| !r.is_empty()) {
        let (s, n) = run
            .split_once('x')
            .and_then(|(s, n)| Some((s.parse::<usize>().ok()?, n.parse::<usize>().ok()?)))
            .ok_or_else(|| format!("batch sizes `{run}` are not SIZExCOUNT"))?;
        sizes.extend(std::iter::repeat_n(s, n));
    }
    Ok(sizes)
}

/// The plan's long lists, kept apart from the outline every command reads.
#[derive(Serialize, Deserialize)]
struct PlanLists {
    unassigned: Vec<String>,
    overlaps: Vec<Overlap>,
    /// Each batch's after-hours time and cost, per tier, when the plan was
    /// priced (absent otherwise, and in rollouts stored before pricing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    batch_terms: Vec<Vec<BatchTerms>>,
}

/// What pricing adds to a batch.
#[derive(Serialize, Deserialize)]
struct BatchTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after_hours_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cost: Option<crate::rollout::Cost>,
}

/// The plan's long lists, with each batch's terms when the plan was priced.
fn plan_lists(plan: &Plan) -> PlanLists {
    let priced = plan
        .tiers
        .iter()
        .flat_map(|t| &t.batches)
        .any(|b| b.after_hours_s.is_some() || b.cost.is_some());
    PlanLists {
        unassigned: plan.unassigned.clone(),
        overlaps: plan.overlaps.clone(),
        batch_terms: if priced {
            plan.tiers
                .iter()
                .map(|t| {
                    t.batches
                        .iter()
                        .map(|b| BatchTerms {
                            after_hours_s: b.after_hours_s,
                            cost: b.cost.clone(),
                        })
                        .collect()
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// One run per tier of `plan`, with the sign-offs of `progress` and no batches yet.
fn empty_runs(plan: &Plan, progress: &Progress) -> Vec<TierRun> {
    plan.tiers
        .iter()
        .zip(&progress.tiers)
        .map(|(t, p)| TierRun {
            name: t.name.clone(),
            notified: p.notified.clone(),
            approved: p.approved.clone(),
            halted: p.halted.clone(),
            resumed: p.resumed.clone(),
            batches: Vec::new(),
        })
        .collect()
}

const TIER_COLUMNS: &str = "idx, name, sizes, hosts, first_start, notified, approved, halted, resumed, results, failures, last_at, done, current_began, current_results, current_last_at, previous_last_at";

impl<C: Conn> SqlStore<C> {
    fn store(&self) -> String {
        self.conn.describe()
    }

    fn unavailable(&self, action: &'static str, e: DbError) -> StorageError {
        StorageError::Unavailable {
            action,
            store: self.store(),
            detail: e.0,
        }
    }

    fn damaged(&self, detail: String) -> StorageError {
        StorageError::State {
            store: self.store(),
            source: StateError::Malformed(detail),
        }
    }

    /// Runs `f` in a transaction: committed when it succeeds, rolled back
    /// when it fails.
    fn transact<T>(
        &mut self,
        mode: Mode,
        action: &'static str,
        f: impl FnOnce(&mut Self) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        self.conn
            .begin(mode)
            .map_err(|e| self.unavailable(action, e))?;
        match f(self) {
            Ok(value) => {
                self.conn
                    .commit()
                    .map_err(|e| self.unavailable(action, e))?;
                Ok(value)
            }
            Err(e) => {
                self.conn.rollback();
                Err(e)
            }
        }
    }

    fn query(
        &mut self,
        action: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<Vec<Vec<Val>>, StorageError> {
        self.conn
            .query(sql, params)
            .map_err(|e| self.unavailable(action, e))
    }

    fn execute(
        &mut self,
        action: &'static str,
        sql: &str,
        params: &[Val],
    ) -> Result<u64, StorageError> {
        self.conn
            .execute(sql, params)
            .map_err(|e| self.unavailable(action, e))
    }

    /// Checks the schema's version; `Ok(false)` when there is no schema.
    fn schema(&mut self, action: &'static str) -> Result<bool, StorageError> {
        if !self
            .conn
            .has_schema()
            .map_err(|e| self.unavailable(action, e))?
        {
            return Ok(false);
        }
        let rows = self.query(action, "SELECT version FROM fleetscope_schema", &[])?;
        let found = rows.first().and_then(|r| match r.first() {
            Some(Val::Int(v)) => Some(*v),
            _ => None,
        });
        schema::check_version(found).map_err(|detail| StorageError::Schema {
            store: self.store(),
            detail,
        })?;
        Ok(true)
    }

    fn names(&mut self, action: &'static str) -> Result<Vec<String>, StorageError> {
        let rows = self.query(
            action,
            "SELECT name FROM fleetscope_rollouts ORDER BY name LIMIT 50",
            &[],
        )?;
        Ok(rows
            .iter()
            .filter_map(|r| match r.first() {
                Some(Val::Text(s)) => Some(s.clone()),
                _ => None,
            })
            .collect())
    }

    /// Loads the rollout's row and tier rows, locking the rollout's row for
    /// a change.
    fn head(&mut self, action: &'static str, name: &str, lock: bool) -> Result<Head, StorageError> {
        check_name(name)?;
        if !self.schema(action)? {
            return Err(StorageError::NoRollout {
                store: self.store(),
                name: name.to_string(),
                known: Vec::new(),
            });
        }
        let sql = format!(
            "SELECT id, revision, events, last_event_at, halt, abort, plan FROM fleetscope_rollouts WHERE name = $1{}",
            if lock { self.conn.for_update() } else { "" }
        );
        let rows = self.query(action, &sql, &[text(name)])?;
        let Some(row) = rows.first() else {
            let known = self.names(action)?;
            return Err(StorageError::NoRollout {
                store: self.store(),
                name: name.to_string(),
                known,
            });
        };
        let c = Cells(row);
        let read = || -> Result<Head, String> {
            Ok(Head {
                id: c.int(0)?,
                progress: Progress {
                    revision: c.count(1)? as u64,
                    events: c.count(2)? as u64,
                    last_event_at: c.time(3)?,
                    halt: c.opt_json(4)?,
                    abort: c.opt_json(5)?,
                    plan: c.json(6)?,
                    tiers: Vec::new(),
                },
            })
        };
        let mut head = read().map_err(|e| self.damaged(format!("rollout `{name}`: {e}")))?;
        let id = head.id;
        let rows = self.query(
            action,
            &format!("SELECT {TIER_COLUMNS} FROM fleetscope_tiers WHERE rollout = $1 ORDER BY idx"),
            &[Val::Int(id)],
        )?;
        let tiers = rows
            .iter()
            .map(|r| tier_from_row(&Cells(r)))
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| self.damaged(format!("rollout `{name}`, a tier row: {e}")))?;
        if tiers.len() != head.progress.plan.tiers.len() {
            return Err(self.damaged(format!(
                "rollout `{name}` has {} tiers in its plan but {} tier rows",
                head.progress.plan.tiers.len(),
                tiers.len()
            )));
        }
        head.progress.tiers = tiers;
        Ok(head)
    }

    fn host_row(&mut self, id: i64, host: &str) -> Result<Option<HostRow>, StorageError> {
        let rows = self.query(
            "read a host of",
            "SELECT h.tier, h.batch, h.outcome, h.at, b.began FROM fleetscope_hosts h \
             JOIN fleetscope_batches b ON b.rollout = h.rollout AND b.tier = h.tier AND b.idx = h.batch \
             WHERE h.rollout = $1 AND h.name = $2",
            &[Val::Int(id), text(host)],
        )?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let c = Cells(row);
        let read = || -> Result<HostRow, String> {
            let outcome: Option<Outcome> = c.opt_json(2)?;
            let at = c.opt_time(3)?;
            Ok(HostRow {
                tier: c.count(0)?,
                batch: c.count(1)?,
                result: match (outcome, at) {
                    (Some(outcome), Some(at)) => Some(HostResult { outcome, at }),
                    _ => None,
                },
                began: c.opt_time(4)?,
            })
        };
        read()
            .map(Some)
            .map_err(|e| self.damaged(format!("host `{host}`: {e}")))
    }

    /// Hosts of a batch, and those without a result, in plan order.
    fn batch_hosts(
        &mut self,
        id: i64,
        tier: usize,
        batch: usize,
    ) -> Result<(Vec<String>, Vec<String>), StorageError> {
        let rows = self.query(
            "read a batch of",
            "SELECT name, outcome FROM fleetscope_hosts WHERE rollout = $1 AND tier = $2 AND batch = $3 ORDER BY pos",
            &[Val::Int(id), int(tier), int(batch)],
        )?;
        let mut hosts = Vec::with_capacity(rows.len());
        let mut pending = Vec::new();
        for row in &rows {
            let c = Cells(row);
            let name = c
                .str(0)
                .map_err(|e| self.damaged(format!("a host row: {e}")))?
                .to_string();
            if matches!(row.get(1), Some(Val::Null) | None) {
                pending.push(name.clone());
            }
            hosts.push(name);
        }
        Ok((hosts, pending))
    }

    fn insert_event(&mut self, id: i64, seq: u64, e: &Event) -> Result<(), StorageError> {
        let kind = json(&e.event).map_err(|d| self.damaged(d))?;
        self.execute(
            "write the log of",
            "INSERT INTO fleetscope_events (rollout, seq, at, actor, event) VALUES ($1, $2, $3, $4, $5)",
            &[
                Val::Int(id),
                Val::Int(i64::try_from(seq).unwrap_or(i64::MAX)),
                text(ts(e.at)),
                text(e.actor.clone()),
                text(kind),
            ],
        )?;
        Ok(())
    }

    /// Writes what one event changes besides the summaries.
    fn write_event(&mut self, id: i64, progress: &Progress, e: &Event) -> Result<(), StorageError> {
        match &e.event {
            EventKind::Result { host, outcome, .. } => {
                let outcome = json(outcome).map_err(|d| self.damaged(d))?;
                self.execute(
                    "record a result in",
                    "UPDATE fleetscope_hosts SET outcome = $1, at = $2 WHERE rollout = $3 AND name = $4",
                    &[text(outcome), text(ts(e.at)), Val::Int(id), text(host.clone())],
                )?;
            }
            EventKind::Began { tier, batch } => {
                let t = progress.index_of(tier).unwrap_or(usize::MAX);
                self.execute(
                    "record a batch's start in",
                    "UPDATE fleetscope_batches SET began = $1 WHERE rollout = $2 AND tier = $3 AND idx = $4",
                    &[text(ts(e.at)), Val::Int(id), int(t), int(batch.saturating_sub(1))],
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    fn write_tier(&mut self, id: i64, t: usize, run: &TierProgress) -> Result<(), StorageError> {
        let cells = (|| -> Result<Vec<Val>, String> {
            let mut cells = tier_state_cells(run)?;
            cells.extend([Val::Int(id), int(t)]);
            Ok(cells)
        })()
        .map_err(|d| self.damaged(d))?;
        self.execute(
            "update a tier of",
            "UPDATE fleetscope_tiers SET notified = $1, approved = $2, halted = $3, resumed = $4, \
             results = $5, failures = $6, last_at = $7, done = $8, current_began = $9, \
             current_results = $10, current_last_at = $11, previous_last_at = $12 \
             WHERE rollout = $13 AND idx = $14",
            &cells,
        )?;
        Ok(())
    }

    fn write_head(&mut self, id: i64, p: &Progress) -> Result<(), StorageError> {
        let halt = opt_json(p.halt.as_ref()).map_err(|d| self.damaged(d))?;
        let abort = opt_json(p.abort.as_ref()).map_err(|d| self.damaged(d))?;
        self.execute(
            "update",
            "UPDATE fleetscope_rollouts SET revision = $1, events = $2, last_event_at = $3, halt = $4, abort = $5 WHERE id = $6",
            &[
                Val::Int(i64::try_from(p.revision).unwrap_or(i64::MAX)),
                Val::Int(i64::try_from(p.events).unwrap_or(i64::MAX)),
                text(ts(p.last_event_at)),
                halt,
                abort,
                Val::Int(id),
            ],
        )?;
        Ok(())
    }

    fn create_schema(&mut self) -> Result<(), StorageError> {
        let id = self.conn.id_type();
        for statement in schema::CREATE {
            let sql = statement
                .replace("{ID}", id)
                .replace("{HOSTS_OPTIONS}", self.conn.hosts_options());
            self.execute("create the tables of", &sql, &[])?;
        }
        self.execute("create the tables of", schema::HOST_INDEX, &[])?;
        self.execute(
            "create the tables of",
            "INSERT INTO fleetscope_schema (version) VALUES ($1)",
            &[Val::Int(SCHEMA_VERSION)],
        )?;
        Ok(())
    }

    /// Stores a new rollout under `name`: its row, then its tiers,
    /// batches, hosts and events.
    fn insert_rollout(&mut self, name: &str, rollout: &Rollout) -> Result<(), StorageError> {
        let progress = rollout.progress();
        let plan = rollout.plan();
        let id = self.insert_rollout_row(name, &progress, plan)?;
        self.insert_tiers(id, plan, &progress)?;
        let runs = rollout.tiers();
        self.insert_batches(id, plan, runs)?;
        self.insert_hosts(id, plan, runs)?;
        self.insert_events(id, rollout)
    }

    /// Inserts the rollout's own row and returns its id.
    fn insert_rollout_row(
        &mut self,
        name: &str,
        progress: &Progress,
        plan: &Plan,
    ) -> Result<i64, StorageError> {
        let lists = plan_lists(plan);
        let encoded = (|| -> Result<(String, String, Val, Val), String> {
            Ok((
                json(&progress.plan)?,
                json(&lists)?,
                opt_json(progress.halt.as_ref())?,
                opt_json(progress.abort.as_ref())?,
            ))
        })()
        .map_err(|d| self.damaged(d))?;
        let (outline, lists, halt, abort) = encoded;
        let hosts: usize = plan.tiers.iter().map(|t| t.hosts.len()).sum();
        let rows = self.query(
            "create a rollout in",
            "INSERT INTO fleetscope_rollouts (name, revision, events, last_event_at, halt, abort, plan, plan_lists, hosts) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[
                text(name),
                Val::Int(i64::try_from(progress.revision).unwrap_or(i64::MAX)),
                Val::Int(i64::try_from(progress.events).unwrap_or(i64::MAX)),
                text(ts(progress.last_event_at)),
                halt,
                abort,
                text(outline),
                text(lists),
                int(hosts),
            ],
        )?;
        let id = match rows.first().and_then(|r| r.first()) {
            Some(Val::Int(id)) => *id,
            _ => return Err(self.damaged("the new rollout got no id".into())),
        };
        Ok(id)
    }

    /// Inserts one row per tier with its summary.
    fn insert_tiers(
        &mut self,
        id: i64,
        plan: &Plan,
        progress: &Progress,
    ) -> Result<(), StorageError> {
        let mut tier_rows = Vec::new();
        for (t, (tier, run)) in plan.tiers.iter().zip(&progress.tiers).enumerate() {
            let row = (|| -> Result<Vec<Val>, String> {
                let mut row = vec![
                    Val::Int(id),
                    int(t),
                    text(tier.name.clone()),
                    text(encode_sizes(&run.sizes)),
                    int(run.hosts),
                    opt_time(run.first_start),
                ];
                row.extend(tier_state_cells(run)?);
                Ok(row)
            })()
            .map_err(|d| self.damaged(d))?;
            tier_rows.push(row);
        }
        let columns: Vec<&str> = std::iter::once("rollout")
            .chain(TIER_COLUMNS.split(", "))
            .collect();
        self.conn
            .insert_many("fleetscope_tiers", &columns, &mut tier_rows.into_iter())
            .map_err(|e| self.unavailable("create a rollout in", e))?;
        Ok(())
    }

    /// Inserts one row per batch with its planned times and start.
    fn insert_batches(
        &mut self,
        id: i64,
        plan: &Plan,
        runs: &[TierRun],
    ) -> Result<(), StorageError> {
        let mut batches = plan
            .tiers
            .iter()
            .zip(runs)
            .enumerate()
            .flat_map(|(t, (tier, run))| {
                tier.batches.iter().zip(&run.batches).enumerate().map(
                    move |(b, (planned, batch))| {
                        vec![
                            Val::Int(id),
                            int(t),
                            int(b),
                            text(ts(planned.start)),
                            text(ts(planned.end)),
                            int(planned.hosts.len()),
                            opt_time(batch.began),
                        ]
                    },
                )
            });
        self.conn
            .insert_many(
                "fleetscope_batches",
                &[
                    "rollout", "tier", "idx", "start_at", "end_at", "size", "began",
                ],
                &mut batches,
            )
            .map_err(|e| self.unavailable("create a rollout in", e))?;
        Ok(())
    }

    /// Inserts one row per host with its batch and result.
    fn insert_hosts(&mut self, id: i64, plan: &Plan, runs: &[TierRun]) -> Result<(), StorageError> {
        // Each host's batch, by name, tier by tier; rows are made as they
        // are inserted.
        let mut failure = None;
        let mut rows = plan
            .tiers
            .iter()
            .zip(runs)
            .enumerate()
            .flat_map(|(t, (tier, run))| {
                let mut batch_of: HashMap<&str, usize> = HashMap::with_capacity(tier.hosts.len());
                for (b, batch) in tier.batches.iter().enumerate() {
                    for h in &batch.hosts {
                        batch_of.insert(h.as_str(), b);
                    }
                }
                tier.hosts.iter().enumerate().map(move |(pos, h)| {
                    let b = batch_of.get(h.as_str()).copied().unwrap_or(0);
                    let result = run.batches.get(b).and_then(|r| r.results.get(h));
                    (t, b, pos, h, result)
                })
            })
            .map(|(t, b, pos, h, result)| {
                let outcome = match result.map(|r| json(&r.outcome)).transpose() {
                    Ok(o) => opt_text(o),
                    Err(e) => {
                        failure = Some(e);
                        Val::Null
                    }
                };
                vec![
                    Val::Int(id),
                    text(h.clone()),
                    int(t),
                    int(b),
                    int(pos),
                    outcome,
                    opt_time(result.map(|r| r.at)),
                ]
            });
        self.conn
            .insert_many(
                "fleetscope_hosts",
                &["rollout", "name", "tier", "batch", "pos", "outcome", "at"],
                &mut rows,
            )
            .map_err(|e| self.unavailable("create a rollout in", e))?;
        if let Some(e) = failure {
            return Err(self.damaged(e));
        }
        Ok(())
    }

    /// Inserts the rollout's events, numbered from 1.
    fn insert_events(&mut self, id: i64, rollout: &Rollout) -> Result<(), StorageError> {
        let mut events = Vec::with_capacity(rollout.events().len());
        for (seq, e) in rollout.events().iter().enumerate() {
            let kind = json(&e.event).map_err(|d| self.damaged(d))?;
            events.push(vec![
                Val::Int(id),
                int(seq + 1),
                text(ts(e.at)),
                text(e.actor.clone()),
                text(kind),
            ]);
        }
        self.conn
            .insert_many(
                "fleetscope_events",
                &["rollout", "seq", "at", "actor", "event"],
                &mut events.into_iter(),
            )
            .map_err(|e| self.unavailable("create a rollout in", e))?;
        Ok(())
    }

    /// Reads the plan's long lists of rollout `id`.
    fn read_plan_lists(&mut self, id: i64) -> Result<PlanLists, StorageError> {
        let lists = self.query(
            "read",
            "SELECT plan_lists FROM fleetscope_rollouts WHERE id = $1",
            &[Val::Int(id)],
        )?;
        let lists: PlanLists = lists
            .first()
            .ok_or_else(|| "the rollout row vanished".to_string())
            .and_then(|r| Cells(r).json(0))
            .map_err(|e| self.damaged(e))?;
        Ok(lists)
    }

    /// Reads the batches of rollout `id` into its plan and runs, with
    /// their terms when the plan was priced.
    fn read_batches(
        &mut self,
        id: i64,
        plan: &mut Plan,
        runs: &mut [TierRun],
        batch_terms: &[Vec<BatchTerms>],
    ) -> Result<(), StorageError> {
        let rows = self.query(
            "read",
            "SELECT tier, idx, start_at, end_at, began FROM fleetscope_batches WHERE rollout = $1 ORDER BY tier, idx",
            &[Val::Int(id)],
        )?;
        for r in &rows {
            let c = Cells(r);
            let read = || -> Result<(usize, Batch, Option<DateTime<Utc>>), String> {
                Ok((
                    c.count(0)?,
                    Batch {
                        start: c.time(2)?,
                        end: c.time(3)?,
                        hosts: Vec::new(),
                        after_hours_s: None,
                        cost: None,
                    },
                    c.opt_time(4)?,
                ))
            };
            let (t, batch, began) =
                read().map_err(|e| self.damaged(format!("a batch row: {e}")))?;
            let (Some(tier), Some(run)) = (plan.tiers.get_mut(t), runs.get_mut(t)) else {
                return Err(
                    self.damaged(format!("a batch row names tier {t}, which the plan lacks"))
                );
            };
            let mut batch = batch;
            if let Some(terms) = batch_terms.get(t).and_then(|bs| bs.get(tier.batches.len())) {
                batch.after_hours_s = terms.after_hours_s;
                batch.cost = terms.cost.clone();
            }
            tier.batches.push(batch);
            run.batches.push(BatchRun {
                began,
                results: BTreeMap::new(),
            });
        }
        Ok(())
    }

    /// Reads the hosts of rollout `id` into its plan's batches, and their
    /// results into its runs.
    fn read_hosts(
        &mut self,
        id: i64,
        plan: &mut Plan,
        runs: &mut [TierRun],
    ) -> Result<(), StorageError> {
        let rows = self.query(
            "read",
            "SELECT name, tier, batch, outcome, at FROM fleetscope_hosts WHERE rollout = $1 ORDER BY tier, pos",
            &[Val::Int(id)],
        )?;
        for r in &rows {
            let c = Cells(r);
            let read = || -> Result<(String, usize, usize, Option<HostResult>), String> {
                let outcome: Option<Outcome> = c.opt_json(3)?;
                let at = c.opt_time(4)?;
                Ok((
                    c.str(0)?.to_string(),
                    c.count(1)?,
                    c.count(2)?,
                    match (outcome, at) {
                        (Some(outcome), Some(at)) => Some(HostResult { outcome, at }),
                        _ => None,
                    },
                ))
            };
            let (host, t, b, result) =
                read().map_err(|e| self.damaged(format!("a host row: {e}")))?;
            let (Some(tier), Some(run)) = (plan.tiers.get_mut(t), runs.get_mut(t)) else {
                return Err(self.damaged(format!(
                    "host `{host}` is in tier {t}, which the plan lacks"
                )));
            };
            let (Some(batch), Some(batch_run)) = (tier.batches.get_mut(b), run.batches.get_mut(b))
            else {
                return Err(self.damaged(format!(
                    "host `{host}` is in batch {b}, which its tier lacks"
                )));
            };
            batch.hosts.push(host.clone());
            if let Some(result) = result {
                batch_run.results.insert(host.clone(), result);
            }
            tier.hosts.push(host);
        }
        Ok(())
    }

    fn read_events(&mut self, id: i64, last_only: bool) -> Result<Vec<Event>, StorageError> {
        let sql = if last_only {
            "SELECT at, actor, event FROM fleetscope_events WHERE rollout = $1 ORDER BY seq DESC LIMIT 1"
        } else {
            "SELECT at, actor, event FROM fleetscope_events WHERE rollout = $1 ORDER BY seq"
        };
        let rows = self.query("read the log of", sql, &[Val::Int(id)])?;
        rows.iter()
            .map(|r| {
                let c = Cells(r);
                Ok(Event {
                    at: c.time(0)?,
                    actor: c.str(1)?.to_string(),
                    event: c.json(2)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()
            .map_err(|e| self.damaged(format!("an event row: {e}")))
    }
}

fn tier_from_row(c: &Cells<'_>) -> Result<TierProgress, String> {
    Ok(TierProgress {
        sizes: decode_sizes(c.str(2)?)?,
        hosts: c.count(3)?,
        first_start: c.opt_time(4)?,
        notified: c.opt_json(5)?,
        approved: c.opt_json(6)?,
        halted: c.opt_json(7)?,
        resumed: c.opt_json(8)?,
        results: c.count(9)?,
        failures: c.count(10)?,
        last_at: c.opt_time(11)?,
        done: c.count(12)?,
        current: BatchProgress {
            began: c.opt_time(13)?,
            results: c.count(14)?,
            last_at: c.opt_time(15)?,
        },
        previous_last_at: c.opt_time(16)?,
    })
}

impl<C: Conn> Store for SqlStore<C> {
    fn describe(&self) -> String {
        self.store()
    }

    fn create(&mut self, name: &str, rollout: &Rollout) -> Result<(), StorageError> {
        check_name(name)?;
        self.transact(Mode::Create, "create a rollout in", |s| {
            if !s.schema("read")? {
                s.create_schema()?;
            }
            let exists = s.query(
                "read",
                "SELECT id FROM fleetscope_rollouts WHERE name = $1",
                &[text(name)],
            )?;
            if !exists.is_empty() {
                return Err(StorageError::Exists {
                    store: s.store(),
                    name: name.to_string(),
                });
            }
            s.insert_rollout(name, rollout)?;
            s.conn
                .after_load()
                .map_err(|e| s.unavailable("create a rollout in", e))
        })
    }

    fn list(&mut self) -> Result<Vec<Listed>, StorageError> {
        self.transact(Mode::Read, "read", |s| {
            if !s.schema("read")? {
                return Ok(Vec::new());
            }
            let rows = s.query(
                "read",
                "SELECT name, revision, plan, hosts, halt, abort FROM fleetscope_rollouts ORDER BY name",
                &[],
            )?;
            rows.iter()
                .map(|r| {
                    let c = Cells(r);
                    let plan: Plan = c.json(2)?;
                    Ok(Listed {
                        name: c.str(0)?.to_string(),
                        revision: c.count(1)? as u64,
                        severity: plan.severity,
                        start: plan.start,
                        hosts: c.count(3)? as u64,
                        halted: c.opt_str(4)?.is_some(),
                        aborted: c.opt_str(5)?.is_some(),
                    })
                })
                .collect::<Result<Vec<_>, String>>()
                .map_err(|e| s.damaged(format!("a rollout row: {e}")))
        })
    }

    /// The whole rollout `name`, rebuilt from its rows.
    fn export(&mut self, name: &str) -> Result<Rollout, StorageError> {
        self.transact(Mode::Read, "read", |s| {
            let head = s.head("read", name, false)?;
            let id = head.id;
            let progress = head.progress;
            let lists = s.read_plan_lists(id)?;
            let mut plan = progress.plan.clone();
            plan.unassigned = lists.unassigned;
            plan.overlaps = lists.overlaps;
            let batch_terms = lists.batch_terms;
            let mut runs = empty_runs(&plan, &progress);
            s.read_batches(id, &mut plan, &mut runs, &batch_terms)?;
            s.read_hosts(id, &mut plan, &mut runs)?;
            let events = s.read_events(id, false)?;
            Rollout::assemble(
                plan,
                runs,
                progress.halt.clone(),
                progress.abort.clone(),
                progress.revision,
                events,
            )
            .map_err(|source| StorageError::State {
                store: s.store(),
                source,
            })
        })
    }

    fn next(&mut self, name: &str, now: DateTime<Utc>) -> Result<Next, StorageError> {
        self.transact(Mode::Read, "read", |s| {
            let head = s.head("read", name, false)?;
            let id = head.id;
            let actions = head
                .progress
                .next_with(now, |t, b| s.batch_hosts(id, t, b))?;
            Ok(Next {
                revision: head.progress.revision,
                actions,
            })
        })
    }

    fn status(&mut self, name: &str, now: DateTime<Utc>) -> Result<Status, StorageError> {
        self.transact(Mode::Read, "read", |s| {
            let head = s.head("read", name, false)?;
            let last = s.read_events(head.id, true)?.pop();
            Ok(head.progress.status(now, last))
        })
    }

    fn events(&mut self, name: &str) -> Result<Vec<Event>, StorageError> {
        self.transact(Mode::Read, "read", |s| {
            let head = s.head("read", name, false)?;
            s.read_events(head.id, false)
        })
    }

    fn perform(
        &mut self,
        name: &str,
        operation: &Operation,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Applied, StorageError> {
        self.transact(Mode::Write, "write", |s| {
            let head = s.head("write", name, true)?;
            let id = head.id;
            let mut progress = head.progress;
            let before = progress.revision;
            let mut touched: BTreeSet<usize> = BTreeSet::new();
            let mut changed = 0;
            let apply = |s: &mut Self,
                         progress: &mut Progress,
                         touched: &mut BTreeSet<usize>,
                         events: Vec<Event>|
             -> Result<(), StorageError> {
                for e in events {
                    let seq = progress.events + 1;
                    progress.apply(&e);
                    if let Some(t) = event_tier(&e).and_then(|t| progress.index_of(t)) {
                        touched.insert(t);
                    }
                    s.write_event(id, progress, &e)?;
                    s.insert_event(id, seq, &e)?;
                }
                Ok(())
            };
            match operation {
                Operation::Record { hosts, outcome } => {
                    for host in hosts {
                        let row = s.host_row(id, host)?;
                        let events = progress.record(host, row, outcome.clone(), by, at)?;
                        changed += usize::from(!events.is_empty());
                        apply(s, &mut progress, &mut touched, events)?;
                    }
                }
                other => {
                    let events = progress.decide(other, by, at)?;
                    apply(s, &mut progress, &mut touched, events)?;
                }
            }
            if progress.revision != before {
                for t in &touched {
                    if let Some(run) = progress.tiers.get(*t) {
                        let run = run.clone();
                        s.write_tier(id, *t, &run)?;
                    }
                }
                s.write_head(id, &progress)?;
            }
            Ok(Applied {
                changed,
                halted_tiers: progress.halted_tiers(),
                revision: progress.revision,
            })
        })
    }
}

fn event_tier(e: &Event) -> Option<&str> {
    match &e.event {
        EventKind::Notified { tier }
        | EventKind::Approved { tier }
        | EventKind::Began { tier, .. }
        | EventKind::Result { tier, .. }
        | EventKind::TierHalted { tier, .. }
        | EventKind::Resumed { tier: Some(tier) } => Some(tier),
        _ => None,
    }
}

/// A tier row's changing columns, in `TIER_COLUMNS` order after
/// `first_start`: what an operation may update.
fn tier_state_cells(run: &TierProgress) -> Result<Vec<Val>, String> {
    Ok(vec![
        opt_json(run.notified.as_ref())?,
        opt_json(run.approved.as_ref())?,
        opt_json(run.halted.as_ref())?,
        opt_json(run.resumed.as_ref())?,
        int(run.results),
        int(run.failures),
        opt_time(run.last_at),
        int(run.done),
        opt_time(run.current.began),
        int(run.current.results),
        opt_time(run.current.last_at),
        opt_time(run.previous_last_at),
    ])
}

/// Implements [`Store`](super::Store) for a database store type by handing
/// every call to its `inner` [`SqlStore`]: the SQL stores differ only in
/// their connection.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
macro_rules! delegate_store {
    ($store:ty) => {
        impl $crate::rollout::Store for $store {
            fn describe(&self) -> String {
                self.inner.describe()
            }
            fn create(
                &mut self,
                name: &str,
                rollout: &$crate::rollout::Rollout,
            ) -> Result<(), $crate::rollout::StorageError> {
                self.inner.create(name, rollout)
            }
            fn list(
                &mut self,
            ) -> Result<Vec<$crate::rollout::Listed>, $crate::rollout::StorageError> {
                self.inner.list()
            }
            fn export(
                &mut self,
                name: &str,
            ) -> Result<$crate::rollout::Rollout, $crate::rollout::StorageError> {
                self.inner.export(name)
            }
            fn next(
                &mut self,
                name: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::rollout::Next, $crate::rollout::StorageError> {
                self.inner.next(name, now)
            }
            fn status(
                &mut self,
                name: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::rollout::Status, $crate::rollout::StorageError> {
                self.inner.status(name, now)
            }
            fn events(
                &mut self,
                name: &str,
            ) -> Result<Vec<$crate::rollout::Event>, $crate::rollout::StorageError> {
                self.inner.events(name)
            }
            fn perform(
                &mut self,
                name: &str,
                operation: &$crate::rollout::Operation,
                by: &str,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::rollout::Applied, $crate::rollout::StorageError> {
                self.inner.perform(name, operation, by, at)
            }
        }
    };
}
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(super) use delegate_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_sizes_round_trip_run_length_encoded() {
        for sizes in [vec![], vec![3], vec![100, 100, 100, 57], vec![2, 1, 2, 2]] {
            let text = encode_sizes(&sizes);
            assert_eq!(decode_sizes(&text).unwrap(), sizes, "{text}");
        }
        assert_eq!(encode_sizes(&[100, 100, 7]), "100x2,7x1");
        assert!(decode_sizes("100y2").is_err());
    }
}
