//! Keeping a rollout state in a file so that a crash never breaks it and two
//! writers never lose each other's update.
//!
//! Writes are atomic: the new state goes to `STATE.tmp` in the same
//! directory, is flushed to disk (`fsync`), and is renamed over the state;
//! then the directory is flushed so that the rename itself is durable. A
//! crash or a kill at any instant leaves the old state or the new one,
//! never a mix; a leftover `STATE.tmp` is harmless and overwritten by the
//! next write.
//!
//! Read-modify-write is serialized by an exclusive operating-system lock
//! (`flock` on Unix, `LockFileEx` on Windows) on `STATE.lock`, a file that
//! is created once and never removed. The system releases the lock when
//! its holder dies, so a killed writer leaves no stale lock. Readers do not
//! lock: the rename makes every read see one whole state. Locks on network
//! file systems are only as good as the file system's; keep state files on
//! a local disk.
//!
//! This module owns files and locks; it knows nothing of what a rollout
//! means beyond loading and saving one.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::run::{RunError, StateError};
use super::Rollout;

/// How long a writer waits for another writer's lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// A rollout state file.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
    lock_timeout: Duration,
    pause_before_rename: Option<Duration>,
}

/// Why a state file could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O operation failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// The file is not a rollout state this build can run.
    #[error("{}: {source}", .path.display())]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: StateError,
    },
    /// `create` found a state already there.
    #[error("{} already exists; a rollout is never overwritten (remove the file to start over)", .0.display())]
    Exists(PathBuf),
    /// Another writer held the lock for too long.
    #[error("another process has been updating {} for more than {} s (lock file {}{}); try again", .path.display(), .waited.as_secs(), .lock.display(), .holder.as_ref().map_or(String::new(), |h| format!(", held by {h}")))]
    Locked {
        /// The state file.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// How long this writer waited.
        waited: Duration,
        /// What the holder wrote into the lock file.
        holder: Option<String>,
    },
    /// The operation was refused; nothing was written.
    #[error(transparent)]
    Run(#[from] RunError),
}

impl StateFile {
    /// The state kept at `path`.
    pub fn new(path: impl Into<PathBuf>) -> StateFile {
        StateFile {
            path: path.into(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            pause_before_rename: None,
        }
    }

    /// How long to wait for another writer before giving up.
    pub fn lock_timeout(mut self, timeout: Duration) -> StateFile {
        self.lock_timeout = timeout;
        self
    }

    /// Test hook: sleep after the temporary file is flushed and before it
    /// is renamed, so that a test can kill a writer at exactly that point.
    #[doc(hidden)]
    pub fn pause_before_rename(mut self, pause: Option<Duration>) -> StateFile {
        self.pause_before_rename = pause;
        self
    }

    /// The state file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The lock file's path: the state's with `.lock` appended.
    pub fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    fn temp_path(&self) -> PathBuf {
        with_suffix(&self.path, ".tmp")
    }

    /// Reads the state, without locking.
    pub fn load(&self) -> Result<Rollout, StoreError> {
        let mut text = String::new();
        File::open(&self.path)
            .and_then(|mut f| f.read_to_string(&mut text))
            .map_err(|source| self.io("read", source))?;
        Rollout::from_json(&text).map_err(|source| StoreError::State {
            path: self.path.clone(),
            source,
        })
    }

    /// Writes a new state; refuses to replace an existing one.
    pub fn create(&self, rollout: &Rollout) -> Result<(), StoreError> {
        let _lock = self.lock()?;
        if self.path.exists() {
            return Err(StoreError::Exists(self.path.clone()));
        }
        self.write(rollout)
    }

    /// Locks, reads, applies `change`, and writes the result if the
    /// revision moved. When `change` fails nothing is written, so a
    /// sequence of operations inside one `change` is all or nothing.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut Rollout) -> Result<T, RunError>,
    ) -> Result<T, StoreError> {
        let _lock = self.lock()?;
        let mut rollout = self.load()?;
        let before = rollout.revision();
        let value = change(&mut rollout)?;
        if rollout.revision() != before {
            self.write(&rollout)?;
        }
        Ok(value)
    }

    /// Replaces the file atomically. Callers hold the lock.
    fn write(&self, rollout: &Rollout) -> Result<(), StoreError> {
        let temp = self.temp_path();
        // A state that cannot be serialized is never written: writing an
        // empty or partial file would lose the rollout.
        let mut text = rollout.to_json().map_err(|source| StoreError::State {
            path: self.path.clone(),
            source,
        })?;
        text.push('\n');
        let io = |action, source| StoreError::Io {
            action,
            path: temp.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)
            .map_err(|e| io("create", e))?;
        file.write_all(text.as_bytes())
            .map_err(|e| io("write", e))?;
        file.sync_all().map_err(|e| io("flush", e))?;
        drop(file);
        if let Some(pause) = self.pause_before_rename {
            std::thread::sleep(pause);
        }
        std::fs::rename(&temp, &self.path).map_err(|source| self.io("replace", source))?;
        self.sync_directory()
    }

    #[cfg(unix)]
    fn sync_directory(&self) -> Result<(), StoreError> {
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| StoreError::Io {
                action: "flush the directory of",
                path: self.path.clone(),
                source,
            })
    }

    #[cfg(not(unix))]
    fn sync_directory(&self) -> Result<(), StoreError> {
        // Windows has no directory handle to flush; its rename is durable
        // once the call returns on NTFS.
        Ok(())
    }

    /// Takes the exclusive lock, waiting up to the timeout.
    fn lock(&self) -> Result<File, StoreError> {
        let path = self.lock_path();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| StoreError::Io {
                action: "open the lock file",
                path: path.clone(),
                source,
            })?;
        let started = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    if started.elapsed() >= self.lock_timeout {
                        let mut holder = String::new();
                        let _ = file.read_to_string(&mut holder);
                        let holder = holder.trim();
                        return Err(StoreError::Locked {
                            path: self.path.clone(),
                            lock: path,
                            waited: started.elapsed(),
                            holder: (!holder.is_empty()).then(|| holder.to_string()),
                        });
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(TryLockError::Error(source)) => {
                    return Err(StoreError::Io {
                        action: "lock",
                        path,
                        source,
                    })
                }
            }
        }
        // Who holds it, for the message another writer shows; the lock is
        // what counts, so failing to write this is not an error.
        let _ = file
            .set_len(0)
            .and_then(|()| writeln!(file, "pid {}", std::process::id()));
        Ok(file)
    }

    fn io(&self, action: &'static str, source: std::io::Error) -> StoreError {
        StoreError::Io {
            action,
            path: self.path.clone(),
            source,
        }
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
