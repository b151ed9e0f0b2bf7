//! The JSON state file as a [`Store`]: one rollout, named `default`,
//! loaded and rewritten whole by every change, atomically and under the
//! file's lock ([`StateFile`]). Its cost grows with the fleet; use it for
//! small rollouts, for inspection, in tests, and as the export format.

use chrono::{DateTime, Utc};

use super::{check_name, Listed, Next, StorageError, Store, DEFAULT_NAME};
use crate::rollout::run::{Applied, Event, Operation, Rollout, Status};
use crate::rollout::StateFile;

impl StateFile {
    fn only(&self, name: &str) -> Result<(), StorageError> {
        check_name(name)?;
        if name != DEFAULT_NAME {
            return Err(StorageError::BadName(format!(
                "{} is a JSON state file, which holds one rollout, named `{DEFAULT_NAME}`; use --name {DEFAULT_NAME}, or a database for named rollouts",
                self.path().display()
            )));
        }
        Ok(())
    }
}

impl Store for StateFile {
    fn describe(&self) -> String {
        format!("{} (JSON)", self.path().display())
    }

    fn create(&mut self, name: &str, rollout: &Rollout) -> Result<(), StorageError> {
        self.only(name)?;
        Ok(StateFile::create(self, rollout)?)
    }

    fn list(&mut self) -> Result<Vec<Listed>, StorageError> {
        if !self.path().exists() {
            return Ok(Vec::new());
        }
        let r = self.load()?;
        Ok(vec![Listed {
            name: DEFAULT_NAME.to_string(),
            revision: r.revision(),
            severity: r.plan().severity.clone(),
            start: r.plan().start,
            hosts: r.plan().tiers.iter().map(|t| t.hosts.len() as u64).sum(),
            aborted: r.aborted().is_some(),
            halted: r.halted().is_some(),
        }])
    }

    fn export(&mut self, name: &str) -> Result<Rollout, StorageError> {
        self.only(name)?;
        Ok(self.load()?)
    }

    fn next(&mut self, name: &str, now: DateTime<Utc>) -> Result<Next, StorageError> {
        self.only(name)?;
        let r = self.load()?;
        Ok(Next {
            revision: r.revision(),
            actions: r.next(now),
        })
    }

    fn status(&mut self, name: &str, now: DateTime<Utc>) -> Result<Status, StorageError> {
        self.only(name)?;
        Ok(self.load()?.status(now))
    }

    fn events(&mut self, name: &str) -> Result<Vec<Event>, StorageError> {
        self.only(name)?;
        Ok(self.load()?.events().to_vec())
    }

    fn perform(
        &mut self,
        name: &str,
        operation: &Operation,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Applied, StorageError> {
        self.only(name)?;
        Ok(self.update(|r| r.perform(operation, by, at))?)
    }
}
