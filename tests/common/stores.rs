//! The stores every rollout test runs against: the JSON state file,
//! SQLite, and PostgreSQL when `FLEETSCOPE_TEST_POSTGRES_URL` names a
//! server (`.ci/postgres.sh` starts a throwaway one); without it the
//! PostgreSQL variants print that they were skipped, and why.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Once;

use fleetscope::rollout::{Location, Store};

/// The variable naming the PostgreSQL server for tests.
pub const POSTGRES_ENV: &str = "FLEETSCOPE_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Json,
    Sqlite,
    Postgres,
}

/// The PostgreSQL URL for tests, or `None` (saying so once) when unset.
pub fn postgres_url() -> Option<String> {
    static SAID: Once = Once::new();
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            SAID.call_once(|| {
                // Straight to the process's stderr: the test harness
                // captures eprintln! of passing tests, and this must show.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: the PostgreSQL variants of these tests, because {POSTGRES_ENV} is not set \
                     (export {POSTGRES_ENV}=$(.ci/postgres.sh start) and pass --features postgres)"
                );
            });
            None
        }
    }
}

/// Every store the tests can reach here.
pub fn kinds() -> Vec<Kind> {
    let mut kinds = vec![Kind::Json, Kind::Sqlite];
    if postgres_url().is_some() {
        kinds.push(Kind::Postgres);
    }
    kinds
}

/// Database stores only (those that hold named rollouts and many workers).
pub fn databases() -> Vec<Kind> {
    kinds().into_iter().filter(|k| *k != Kind::Json).collect()
}

/// A fresh place for one rollout of one test.
pub struct TestStore {
    pub kind: Kind,
    /// The `--state` argument.
    pub state: String,
    /// The `--name` argument.
    pub name: String,
    pub dir: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestStore {
    pub fn new(kind: Kind, tag: &str) -> TestStore {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let unique = format!("{tag}-{}-{n}", std::process::id());
        let dir = std::env::temp_dir().join(format!("fleetscope-store-{unique}"));
        std::fs::create_dir_all(&dir).unwrap();
        let (state, name) = match kind {
            Kind::Json => (
                dir.join("state.json").display().to_string(),
                "default".to_string(),
            ),
            Kind::Sqlite => (dir.join("state.db").display().to_string(), unique),
            Kind::Postgres => (postgres_url().expect("checked by kinds()"), unique),
        };
        TestStore {
            kind,
            state,
            name,
            dir,
        }
    }

    pub fn open(&self, create: bool) -> Box<dyn Store> {
        Location::parse(&self.state)
            .unwrap()
            .open(create)
            .unwrap_or_else(|e| panic!("cannot open {:?}: {e}", self.kind))
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
