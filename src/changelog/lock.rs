//! The run lock: one apply at a time per change log. The kernel holds it (an advisory
//! `flock` on `<log>.lock`), so it dies with its process however that ends, SIGKILL
//! included; the file's content only says who holds it (pid, host, start, run), for the
//! message a second apply gets. A file left by a process that died is taken over, with a
//! notice naming that process.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub started: String,
    pub run_id: String,
}

/// A held lock; released (its file removed, then the kernel lock dropped) when dropped.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    _file: File,
    /// Who held the lock file last without releasing it: a run that was killed.
    pub previous: Option<Holder>,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another apply holds the change log lock {path}: pid {} on {}, started {} (run {})",
        holder.pid, holder.host, holder.started, holder.run_id
    )]
    Held { path: PathBuf, holder: Holder },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
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

/// The most of a lock file read: a holder is a line of JSON.
const MAX_LOCK_BYTES: u64 = 64 << 10;

/// Open the lock file (created if missing). Only a small regular file: a lock committed as a
/// symlink to `/dev/zero` (or a FIFO) is refused without hanging.
fn open(path: &Path) -> Result<File, LockError> {
    super::file::open_regular(
        path,
        OpenOptions::new().read(true).write(true).create(true),
        MAX_LOCK_BYTES,
    )
    .map_err(|message| LockError::Io {
        path: path.to_path_buf(),
        message,
    })
}

/// Take the kernel lock on `file` without waiting: `false` when another process holds it.
fn try_flock(file: &File) -> std::io::Result<bool> {
    // SAFETY: flock on a descriptor this function borrows.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}

/// Whether `file` is still the one at `path`: a releasing holder removes the file, and a
/// lock taken on a removed file guards nothing.
fn still_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(MAX_LOCK_BYTES).read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Who holds (or last held) the lock of `log`, if its file says.
pub fn holder(log: &Path) -> Option<Holder> {
    let path = lock_path(log);
    let mut file =
        super::file::open_regular(&path, OpenOptions::new().read(true), MAX_LOCK_BYTES).ok()?;
    read_holder(&mut file)
}

fn unknown_holder() -> Holder {
    Holder {
        pid: 0,
        host: "unknown".into(),
        started: "unknown".into(),
        run_id: "unknown".into(),
    }
}

impl RunLock {
    /// Take the lock, or say who holds it.
    pub fn acquire(log: &Path, run_id: &str) -> Result<RunLock, LockError> {
        let path = lock_path(log);
        let io = |e: std::io::Error| LockError::Io {
            path: path.clone(),
            message: e.to_string(),
        };
        loop {
            let mut file = open(&path)?;
            if !try_flock(&file).map_err(io)? {
                // A holder still writing its file reads as unknown.
                let holder = read_holder(&mut file).unwrap_or_else(unknown_holder);
                return Err(LockError::Held { path, holder });
            }
            if !still_at(&file, &path) {
                continue;
            }
            let previous = read_holder(&mut file);
            let me = Holder {
                pid: std::process::id(),
                host: hostname(),
                started: super::now_rfc3339(),
                run_id: run_id.to_string(),
            };
            let text = serde_json::to_string(&me).expect("holder serialises");
            file.set_len(0)
                .and_then(|()| file.rewind())
                .and_then(|()| file.write_all(text.as_bytes()))
                .and_then(|()| file.sync_all())
                .map_err(io)?;
            interrupted_removes(Some(path.clone()));
            return Ok(RunLock {
                path,
                _file: file,
                previous,
            });
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        interrupted_removes(None);
        // Removed while still locked, so that no one takes a lock on a file about to vanish
        // (acquire also checks that its file is still the one at the path).
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The lock file of this process, removed by [`remove_on_exit`] when an interrupt ends the
/// process at once (the kernel lock goes with the process; the file would say it is held).
static HELD: std::sync::Mutex<Option<PathBuf>> = std::sync::Mutex::new(None);

fn interrupted_removes(path: Option<PathBuf>) {
    *HELD.lock().unwrap_or_else(|e| e.into_inner()) = path;
}

/// Remove this process's lock file, if it holds one: called just before exiting at once.
pub fn remove_on_exit() {
    if let Some(path) = HELD.lock().unwrap_or_else(|e| e.into_inner()).take() {
        let _ = std::fs::remove_file(path);
    }
}

/// Remove a lock file that no running process holds (a killed apply leaves one; the next
/// apply takes it over anyway). A lock a process holds is removed only with `force`, which
/// lets a second apply run beside it.
pub fn unlock(log: &Path, force: bool) -> Result<Option<Holder>, String> {
    let path = lock_path(log);
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(format!("{} is not locked", log.display()));
    }
    let holder = holder(log);
    let held = match open(&path) {
        Ok(file) => !try_flock(&file).map_err(|e| e.to_string())?,
        // Not a regular file: nothing can hold it, and it is in the way.
        Err(_) => false,
    };
    if held && !force {
        let h = holder.unwrap_or_else(unknown_holder);
        return Err(format!(
            "pid {} on {} (started {}, run {}) holds the lock and is running; stop it first, \
             or pass --force",
            h.pid, h.host, h.started, h.run_id
        ));
    }
    std::fs::remove_file(&path).map_err(|e| e.to_string())?;
    Ok(holder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_that_is_not_a_small_regular_file_is_refused_and_can_be_removed() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("changes.jsonl");
        std::os::unix::fs::symlink("/dev/zero", lock_path(&log)).unwrap();
        assert!(holder(&log).is_none());
        let err = RunLock::acquire(&log, "run-1").unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        // Breaking it removes the link, not the device.
        assert!(unlock(&log, false).is_ok());
        assert!(RunLock::acquire(&log, "run-2").is_ok());
    }

    #[test]
    fn the_kernel_holds_the_lock_and_its_file_only_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("changes.jsonl");
        let first = RunLock::acquire(&log, "run-1").unwrap();
        assert!(first.previous.is_none());
        let err = RunLock::acquire(&log, "run-2").unwrap_err().to_string();
        assert!(err.contains("run run-1"), "{err}");
        assert!(unlock(&log, false).unwrap_err().contains("is running"));
        drop(first);
        assert!(!lock_path(&log).exists(), "released: the file is removed");

        // A file whose holder died (nothing holds its kernel lock) is taken over, naming it.
        let dead = Holder {
            pid: 999_999,
            host: hostname(),
            started: "2026-01-01T00:00:00Z".into(),
            run_id: "run-dead".into(),
        };
        std::fs::write(lock_path(&log), serde_json::to_string(&dead).unwrap()).unwrap();
        let taken = RunLock::acquire(&log, "run-3").unwrap();
        assert_eq!(
            taken.previous.as_ref().map(|h| h.run_id.as_str()),
            Some("run-dead")
        );
        assert_eq!(holder(&log).map(|h| h.run_id), Some("run-3".to_string()));
    }
}
