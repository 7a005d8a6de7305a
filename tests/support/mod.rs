//! Shared by the integration tests: the emulator's Python venv and a moto server per test.
//!
//! Each `Emulator` is a separate moto server on a free loopback port, so tests run in
//! parallel without sharing state. The server exits when its stdin pipe closes, so even a
//! test process killed mid-run leaves nothing behind.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The emulator venv, created on first use by `tests/emulator/ensure-venv.sh` (pinned
/// requirements; a no-op when already up to date, safe under concurrent callers).
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let out = Command::new(repo_root().join("tests/emulator/ensure-venv.sh"))
            .stderr(Stdio::inherit())
            .output()
            .expect("run tests/emulator/ensure-venv.sh");
        assert!(out.status.success(), "ensure-venv.sh failed");
        let stdout = String::from_utf8(out.stdout).expect("utf-8 venv path");
        PathBuf::from(stdout.lines().last().expect("venv path").trim())
    })
}

/// A running moto server (with baseline's extension) on 127.0.0.1.
pub struct Emulator {
    pub endpoint: String,
    child: Child,
    _stdin: ChildStdin,
}

impl Emulator {
    pub fn start() -> Emulator {
        let mut child = Command::new(venv().join("bin/python"))
            .arg(repo_root().join("tests/emulator/server.py"))
            .args(["--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the emulator");
        let stdin = child.stdin.take().expect("stdin pipe");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout pipe"))
            .read_line(&mut line)
            .expect("read the emulator's READY line");
        let endpoint = line
            .trim()
            .strip_prefix("BASELINE_EMULATOR_READY ")
            .unwrap_or_else(|| panic!("emulator did not start: {line:?}"))
            .to_string();
        Emulator {
            endpoint,
            child,
            _stdin: stdin,
        }
    }

    /// Environment for a `baseline` process (or the aws CLI) that should reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
