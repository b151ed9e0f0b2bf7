//! The PostgreSQL store: for patch workers on many machines.
//!
//! Every change is one transaction that locks the rollout's row with
//! `SELECT ... FOR UPDATE` before it reads anything it decides on, so
//! concurrent changes to one rollout are serialized by the server and each
//! decides on the state the one before it committed. Reads run in a
//! `REPEATABLE READ, READ ONLY` transaction and see one committed state.
//! Creating the tables takes a transaction-scoped advisory lock, so two
//! `start`s on an empty database do not race. Hosts are loaded with `COPY`.
//!
//! The connection follows libpq conventions ([`ConnInfo`]); this build
//! connects without TLS. No error, log line or message shows the password.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

use super::sql::{Conn, DbError, Mode, SqlStore, Val};
use super::{ConnInfo, StorageError};

/// How long to wait for the server when the URL does not say.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The advisory lock key taken while creating the tables ("flsc").
const SCHEMA_LOCK: i64 = 0x666c_7363;

/// Rollouts on a PostgreSQL server.
pub struct PostgresStore {
    inner: SqlStore<Postgres>,
}

struct Postgres {
    client: Client,
    info: ConnInfo,
    statements: HashMap<String, Statement>,
}

impl PostgresStore {
    /// Connects to the server.
    pub fn connect(info: &ConnInfo) -> Result<PostgresStore, StorageError> {
        let mut config = postgres::Config::new();
        if info.host.starts_with('/') {
            config.host_path(&info.host);
        } else {
            config.host(&info.host);
        }
        config
            .port(info.port)
            .user(&info.user)
            .dbname(&info.dbname)
            .application_name(info.application_name.as_deref().unwrap_or("fleetscope"))
            .connect_timeout(
                info.connect_timeout
                    .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs),
            );
        if let Some(password) = info.password() {
            config.password(password);
        }
        let client = config
            .connect(NoTls)
            .map_err(|e| StorageError::Unavailable {
                action: "connect to",
                store: format!("{info} (PostgreSQL)"),
                detail: format!(
                    "{} (password from {})",
                    DbError::new(error_text(&e)).0,
                    info.password_source()
                ),
            })?;
        Ok(PostgresStore {
            inner: SqlStore {
                conn: Postgres {
                    client,
                    info: info.clone(),
                    statements: HashMap::new(),
                },
            },
        })
    }
}

/// The error with its causes: the crate's top line alone often says only
/// "error connecting to server".
fn error_text(e: &postgres::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn db(e: postgres::Error) -> DbError {
    DbError::new(error_text(&e))
}

impl Postgres {
    fn statement(&mut self, sql: &str) -> Result<Statement, DbError> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(sql).map_err(db)?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

fn params(values: &[Val]) -> Vec<Box<dyn ToSql + Sync>> {
    values
        .iter()
        .map(|v| -> Box<dyn ToSql + Sync> {
            match v {
                // Every nullable column is text.
                Val::Null => Box::new(Option::<String>::None),
                Val::Int(n) => Box::new(*n),
                Val::Text(s) => Box::new(s.clone()),
            }
        })
        .collect()
}

fn copy_field(out: &mut String, v: &Val) {
    match v {
        Val::Null => out.push_str("\\N"),
        Val::Int(n) => out.push_str(&n.to_string()),
        Val::Text(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

impl Conn for Postgres {
    fn describe(&self) -> String {
        format!("{} (PostgreSQL)", self.info)
    }

    fn execute(&mut self, sql: &str, values: &[Val]) -> Result<u64, DbError> {
        let statement = self.statement(sql)?;
        let boxed = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        self.client.execute(&statement, &refs).map_err(db)
    }

    fn query(&mut self, sql: &str, values: &[Val]) -> Result<Vec<Vec<Val>>, DbError> {
        let statement = self.statement(sql)?;
        let boxed = params(values);
        let refs: Vec<&(dyn ToSql + Sync)> = boxed.iter().map(|b| b.as_ref()).collect();
        let rows = self.client.query(&statement, &refs).map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut cells = Vec::with_capacity(row.len());
            for (i, column) in row.columns().iter().enumerate() {
                let cell = match *column.type_() {
                    Type::INT8 => row
                        .try_get::<_, Option<i64>>(i)
                        .map_err(db)?
                        .map_or(Val::Null, Val::Int),
                    Type::INT4 => row
                        .try_get::<_, Option<i32>>(i)
                        .map_err(db)?
                        .map_or(Val::Null, |n| Val::Int(i64::from(n))),
                    _ => row
                        .try_get::<_, Option<String>>(i)
                        .map_err(db)?
                        .map_or(Val::Null, Val::Text),
                };
                cells.push(cell);
            }
            out.push(cells);
        }
        Ok(out)
    }

    fn begin(&mut self, mode: Mode) -> Result<(), DbError> {
        match mode {
            Mode::Read => self
                .client
                .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .map_err(db),
            Mode::Write => self.client.batch_execute("BEGIN").map_err(db),
            Mode::Create => {
                self.client.batch_execute("BEGIN").map_err(db)?;
                self.execute(
                    "SELECT pg_advisory_xact_lock($1)::text",
                    &[Val::Int(SCHEMA_LOCK)],
                )
                .map(|_| ())
            }
        }
    }

    fn commit(&mut self) -> Result<(), DbError> {
        self.client.batch_execute("COMMIT").map_err(db)
    }

    fn rollback(&mut self) {
        // A lost connection rolls the transaction back on the server.
        let _ = self.client.batch_execute("ROLLBACK");
    }

    fn has_schema(&mut self) -> Result<bool, DbError> {
        let rows = self.query("SELECT to_regclass('fleetscope_schema')::text", &[])?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .is_some_and(|v| *v != Val::Null))
    }

    fn id_type(&self) -> &'static str {
        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    }

    fn after_load(&mut self) -> Result<(), DbError> {
        self.client
            .batch_execute("ANALYZE fleetscope_hosts, fleetscope_batches, fleetscope_tiers, fleetscope_rollouts")
            .map_err(db)
    }

    fn hosts_options(&self) -> &'static str {
        ""
    }

    fn for_update(&self) -> &'static str {
        " FOR UPDATE"
    }

    fn insert_many(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &mut dyn Iterator<Item = Vec<Val>>,
    ) -> Result<(), DbError> {
        let sql = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
        let mut writer = self.client.copy_in(&sql).map_err(db)?;
        let mut buffer = String::with_capacity(1 << 16);
        for row in rows {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    buffer.push('\t');
                }
                copy_field(&mut buffer, v);
            }
            buffer.push('\n');
            if buffer.len() >= 1 << 16 {
                writer.write_all(buffer.as_bytes()).map_err(DbError::new)?;
                buffer.clear();
            }
        }
        writer.write_all(buffer.as_bytes()).map_err(DbError::new)?;
        writer.finish().map_err(db)?;
        Ok(())
    }
}

super::sql::delegate_store!(PostgresStore);
