//! The run lock: one apply at a time per change log. A second apply is refused at once with
//! the holder's pid, host and start time; a lock whose process is gone is reported as stale
//! and broken only when asked (`baseline log unlock`).

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub started: String,
    pub run_id: String,
}

/// A held lock; released (its file removed) when dropped.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another apply holds the change log lock {path}: pid {} on {}, started {} (run {})",
        holder.pid, holder.host, holder.started, holder.run_id
    )]
    Held { path: PathBuf, holder: Holder },
    #[error(
        "the change log lock {path} was left by pid {} on {}, started {}, which is no longer \
         running; check nothing else is applying, then run `baseline log unlock`",
        holder.pid, holder.host, holder.started
    )]
    Stale { path: PathBuf, holder: Holder },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `<log>.lock`
pub fn lock_path(log: &Path) -> PathBuf {
    let mut name = log.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    log.with_file_name(name)
}

pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown-host".into())
}

/// Whether `holder` is a live process (only knowable on this host).
fn alive(holder: &Holder) -> bool {
    if holder.host != hostname() {
        return true;
    }
    #[cfg(unix)]
    {
        // SAFETY: signal 0 only checks that the pid exists.
        let r = unsafe { libc::kill(holder.pid as libc::pid_t, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// The most of a lock file read: a holder is a line of JSON.
const MAX_LOCK_BYTES: u64 = 64 << 10;

/// Read the current holder, if any. Only a small regular file is read: a lock committed as a
/// symlink to `/dev/zero` (or a FIFO) reads as an unknown holder, without hanging.
pub fn holder(log: &Path) -> Option<Holder> {
    let file = super::file::open_regular(
        &lock_path(log),
        OpenOptions::new().read(true),
        MAX_LOCK_BYTES,
    )
    .ok()?;
    let mut text = String::new();
    file.take(MAX_LOCK_BYTES).read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

impl RunLock {
    /// Take the lock, atomically (create-new), or say who holds it.
    pub fn acquire(log: &Path, run_id: &str) -> Result<RunLock, LockError> {
        let path = lock_path(log);
        let me = Holder {
            pid: std::process::id(),
            host: hostname(),
            started: super::now_rfc3339(),
            run_id: run_id.to_string(),
        };
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                let text = serde_json::to_string(&me).expect("holder serialises");
                file.write_all(text.as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|source| LockError::Io {
                        path: path.clone(),
                        source,
                    })?;
                Ok(RunLock { path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // A holder still writing its file reads as unknown: treat it as held.
                let holder = holder(log).unwrap_or(Holder {
                    pid: 0,
                    host: "unknown".into(),
                    started: "unknown".into(),
                    run_id: "unknown".into(),
                });
                if holder.pid != 0 && !alive(&holder) {
                    Err(LockError::Stale { path, holder })
                } else {
                    Err(LockError::Held { path, holder })
                }
            }
            Err(source) => Err(LockError::Io { path, source }),
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Break a lock: only one whose process is gone, unless `force`.
pub fn unlock(log: &Path, force: bool) -> Result<Option<Holder>, String> {
    let path = lock_path(log);
    let Some(holder) = holder(log) else {
        return if path.exists() {
            std::fs::remove_file(&path).map_err(|e| e.to_string())?;
            Ok(None)
        } else {
            Err(format!("{} is not locked", log.display()))
        };
    };
    if alive(&holder) && !force {
        return Err(format!(
            "pid {} on {} (started {}) may still be running; stop it first, or pass --force",
            holder.pid, holder.host, holder.started
        ));
    }
    std::fs::remove_file(&path).map_err(|e| e.to_string())?;
    Ok(Some(holder))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_that_is_not_a_small_regular_file_is_held_by_someone_unknown() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("changes.jsonl");
        std::os::unix::fs::symlink("/dev/zero", lock_path(&log)).unwrap();
        assert!(holder(&log).is_none());
        let err = RunLock::acquire(&log, "run-1").unwrap_err().to_string();
        assert!(err.contains("pid 0 on unknown"), "{err}");
        // Breaking it removes the link, not the device.
        assert!(unlock(&log, true).is_ok());
        assert!(RunLock::acquire(&log, "run-2").is_ok());
    }
}
