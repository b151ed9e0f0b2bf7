//! The SQLite store: the embedded default, for one machine.
//!
//! The database runs in WAL mode, so readers never wait for the writer and
//! a crash at any instant leaves every committed transaction and nothing
//! of an uncommitted one; `synchronous = FULL` makes each commit durable
//! before the command reports success. Writers take the database's write
//! lock when their transaction begins (`BEGIN IMMEDIATE`) and wait up to
//! the busy timeout for each other, so several processes on one machine
//! may drive the same rollout. Like any SQLite database, keep it on a local
//! disk, not a network file system.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OpenFlags};

use super::sql::{Conn, DbError, Mode, SqlStore, Val};
use super::{StorageError, Store};

/// How long a writer waits for another writer by default.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Rollouts in an SQLite database file.
pub struct SqliteStore {
    inner: SqlStore<Sqlite>,
}

struct Sqlite {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens the database at `path`; with `create`, makes it if it does not
    /// exist (otherwise a missing file is an error and nothing is made).
    pub fn open(path: &Path, create: bool) -> Result<SqliteStore, StorageError> {
        let store = format!("{} (SQLite)", path.display());
        if !create && !path.exists() {
            return Err(StorageError::BadLocation(format!(
                "{} does not exist: `rollout start` creates an SQLite database there (a path ending in .json is a JSON state file, a postgres:// URL a server)",
                path.display()
            )));
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let unavailable = |e: rusqlite::Error| StorageError::Unavailable {
            action: "open",
            store: store.clone(),
            detail: e.to_string(),
        };
        let conn = Connection::open_with_flags(path, flags).map_err(unavailable)?;
        conn.busy_timeout(DEFAULT_BUSY_TIMEOUT)
            .map_err(unavailable)?;
        // WAL survives in the file; setting it again is a no-op. A file
        // that is not a database fails here, with SQLite's own words.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| StorageError::BadLocation(format!("{store}: {e}")))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "foreign_keys", "OFF")
            .map_err(unavailable)?;
        // 64 MiB of page cache: loading a million hosts touches index
        // pages all over; a command reading a few rows is not slowed.
        conn.pragma_update(None, "cache_size", -65536)
            .map_err(unavailable)?;
        Ok(SqliteStore {
            inner: SqlStore {
                conn: Sqlite {
                    conn,
                    path: path.to_path_buf(),
                },
            },
        })
    }

    /// How long to wait for another writer before giving up.
    pub fn busy_timeout(self, timeout: Duration) -> Result<SqliteStore, StorageError> {
        let store = self.describe();
        self.inner
            .conn
            .conn
            .busy_timeout(timeout)
            .map_err(|e| StorageError::Unavailable {
                action: "configure",
                store,
                detail: e.to_string(),
            })?;
        Ok(self)
    }
}

fn to_sql(v: &Val) -> Value {
    match v {
        Val::Null => Value::Null,
        Val::Int(n) => Value::Integer(*n),
        Val::Text(s) => Value::Text(s.clone()),
    }
}

fn from_sql(v: ValueRef<'_>) -> Val {
    match v {
        ValueRef::Null => Val::Null,
        ValueRef::Integer(n) => Val::Int(n),
        ValueRef::Real(f) => Val::Text(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
    }
}

impl Conn for Sqlite {
    fn describe(&self) -> String {
        format!("{} (SQLite)", self.path.display())
    }

    fn execute(&mut self, sql: &str, params: &[Val]) -> Result<u64, DbError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(DbError::new)?;
        let values: Vec<Value> = params.iter().map(to_sql).collect();
        let n = statement
            .execute(rusqlite::params_from_iter(values))
            .map_err(DbError::new)?;
        Ok(n as u64)
    }

    fn query(&mut self, sql: &str, params: &[Val]) -> Result<Vec<Vec<Val>>, DbError> {
        let mut statement = self.conn.prepare_cached(sql).map_err(DbError::new)?;
        let width = statement.column_count();
        let values: Vec<Value> = params.iter().map(to_sql).collect();
        let mut rows = statement
            .query(rusqlite::params_from_iter(values))
            .map_err(DbError::new)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(DbError::new)? {
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                cells.push(from_sql(row.get_ref(i).map_err(DbError::new)?));
            }
            out.push(cells);
        }
        Ok(out)
    }

    fn begin(&mut self, mode: Mode) -> Result<(), DbError> {
        let sql = match mode {
            Mode::Read => "BEGIN DEFERRED",
            Mode::Write | Mode::Create => "BEGIN IMMEDIATE",
        };
        self.conn.execute_batch(sql).map_err(DbError::new)
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.conn.execute_batch("COMMIT").map_err(DbError::new)
    }

    fn rollback(&mut self) {
        // A failed rollback means there was no transaction left to undo.
        let _ = self.conn.execute_batch("ROLLBACK");
    }

    fn has_schema(&mut self) -> Result<bool, DbError> {
        let rows = self.query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'fleetscope_schema'",
            &[],
        )?;
        Ok(!rows.is_empty())
    }

    fn id_type(&self) -> &'static str {
        "INTEGER PRIMARY KEY"
    }

    fn after_load(&mut self) -> Result<(), DbError> {
        // SQLite uses the primary key and the index without statistics.
        Ok(())
    }

    fn hosts_options(&self) -> &'static str {
        " WITHOUT ROWID"
    }

    fn for_update(&self) -> &'static str {
        // BEGIN IMMEDIATE already holds the database's write lock.
        ""
    }

    fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Val>>,
    ) -> Result<(), DbError> {
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            columns.join(", "),
            marks.join(", ")
        );
        let mut statement = self.conn.prepare_cached(&sql).map_err(DbError::new)?;
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                let bound = match v {
                    Val::Null => statement.raw_bind_parameter(i + 1, rusqlite::types::Null),
                    Val::Int(n) => statement.raw_bind_parameter(i + 1, *n),
                    Val::Text(s) => statement.raw_bind_parameter(i + 1, s.as_str()),
                };
                bound.map_err(DbError::new)?;
            }
            statement.raw_execute().map_err(DbError::new)?;
        }
        Ok(())
    }
}

super::sql::delegate_store!(SqliteStore);
