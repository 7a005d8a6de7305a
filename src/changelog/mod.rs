//! The change log: append-only JSON Lines evidence of every change apply makes.
//!
//! Each change writes an intent record (flushed to disk before the first AWS call) and an
//! outcome record after it. Every record carries its own SHA-256 (`hash`, over the record
//! without that field) and the hash of the record before it (`prev`); the first line is a
//! header naming the organization. `baseline log verify` recomputes the chain, so a changed,
//! removed, inserted or reordered line is found and named. An intent without an outcome is a
//! run that died mid-change: reported as incomplete, never as success nor as corruption.
//!
//! A forger who recomputes every hash after an edit can only be caught against a chain head
//! recorded elsewhere: apply prints the head after each run, and `log verify --head` checks it.

pub mod anchor;
pub mod export;
pub mod file;
pub mod lock;
pub mod verify;

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Version of the record format.
pub const LOG_FORMAT: u32 = 1;

/// The file name used next to the baseline's root file when none is configured.
pub const DEFAULT_FILE_NAME: &str = "baseline-changes.jsonl";

/// Where the version-control and CI context of a run came from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Uncommitted changes in the working tree when the run started (plain git checkouts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci_run_url: Option<String>,
    /// `github-actions`, `gitlab-ci`, `git`, or absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What every intent of one run shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunContext {
    pub run_id: String,
    pub tool_version: String,
    /// ARN of the base credentials (STS GetCallerIdentity).
    pub caller: String,
    pub baseline_digest: String,
    pub plan_digest: String,
    pub provenance: Provenance,
}

/// One change about to be made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeInfo {
    pub address: String,
    pub account_id: String,
    pub region: String,
    /// The identity the calls are made as in that account (the assumed role's ARN).
    pub identity: String,
    pub action: String,
    /// Attribute -> value before (live) and after (the baseline).
    pub before: Value,
    pub after: Value,
}

/// The result of a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Result_ {
    Success,
    Failure {
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        message: String,
    },
}

/// What a record says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Body {
    Header {
        log_format: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        organization_id: Option<String>,
        management_account_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        organization_root: Option<String>,
    },
    Intent {
        run: Box<RunContext>,
        change: Box<ChangeInfo>,
    },
    Outcome {
        run_id: String,
        /// `seq` of the intent this closes.
        intent: u64,
        address: String,
        result: Result_,
        /// Request ids of every AWS call the change made, in order.
        request_ids: Vec<String>,
    },
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    /// UTC, RFC 3339.
    pub time: String,
    #[serde(flatten)]
    pub body: Body,
    /// `hash` of the record before (absent on the header).
    pub prev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// SHA-256, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The hash of a record: over its compact JSON without the `hash` field.
pub fn record_hash(record_without_hash: &Value) -> String {
    sha256_hex(
        serde_json::to_string(record_without_hash)
            .expect("JSON value serialises")
            .as_bytes(),
    )
}

pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

/// Errors of the change log (I/O, or a log that cannot be appended to safely).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Unusable { path: PathBuf, message: String },
}

/// An open change log, positioned to append.
pub struct ChangeLog {
    path: PathBuf,
    file: File,
    /// The crash tests' kill point (see [`kill_point_for_tests`]), read once.
    kill_after: Option<u64>,
    next_seq: u64,
    last_hash: String,
}

impl ChangeLog {
    /// Open (or create, with its header) the log at `path`. A log whose last line is
    /// incomplete or whose records do not chain is refused: appending would bury the damage.
    /// So is anything but a regular file within [`file::MAX_LOG_BYTES`].
    pub fn open(path: &Path, org: &crate::org::OrgStructure) -> Result<ChangeLog, LogError> {
        let io = |source| LogError::Io {
            path: path.to_path_buf(),
            source,
        };
        let unusable = |message: String| LogError::Unusable {
            path: path.to_path_buf(),
            message,
        };
        let file = file::open_regular(
            path,
            OpenOptions::new().create(true).read(true).append(true),
            file::MAX_LOG_BYTES,
        )
        .map_err(unusable)?;
        // A new log is empty until its header is written (also after a crash in between).
        let empty = file.metadata().map_err(io)?.len() == 0;
        let report = if empty {
            verify::Report::default()
        } else {
            verify::verify_reader(BufReader::new(&file)).map_err(io)?
        };
        if let Some(problem) = report.problem {
            return Err(unusable(format!(
                "{}{}; nothing is appended to a damaged log (see `baseline log verify`)",
                problem.position(),
                problem.message
            )));
        }
        let mut log = ChangeLog {
            path: path.to_path_buf(),
            file,
            next_seq: report.records as u64,
            last_hash: report.head.unwrap_or_default(),
            kill_after: kill_point_for_tests(),
        };
        if empty {
            log.append(Body::Header {
                log_format: LOG_FORMAT,
                organization_id: org.organization_id.clone(),
                management_account_id: org.management_account_id.clone(),
                organization_root: org.root_id.clone(),
            })?;
        }
        Ok(log)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `seq` of the last record (the head).
    pub fn head_seq(&self) -> u64 {
        self.next_seq.saturating_sub(1)
    }

    /// The hash of the last record: the chain head to keep elsewhere.
    pub fn head(&self) -> &str {
        &self.last_hash
    }

    /// Append one record and flush it to disk (data and size) before returning its `seq`.
    pub fn append(&mut self, body: Body) -> Result<u64, LogError> {
        let seq = self.next_seq;
        let record = Record {
            seq,
            time: now_rfc3339(),
            body,
            prev: (seq > 0).then(|| self.last_hash.clone()),
            hash: None,
        };
        let (mut line, hash) = encode(&record);
        line.push('\n');
        let io = |source| LogError::Io {
            path: self.path.clone(),
            source,
        };
        // One write of the whole line: a crash leaves the line entirely or not at all.
        self.file.seek(SeekFrom::End(0)).map_err(io)?;
        self.file.write_all(line.as_bytes()).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.next_seq += 1;
        self.last_hash = hash;
        if self.kill_after == Some(seq) {
            #[cfg(unix)]
            // SAFETY: sending a signal to our own process.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
        }
        Ok(seq)
    }
}

/// A record's line (without its `\n`) and hash, as apply writes them: the compact JSON of
/// the scrubbed record with `hash` added last. `log verify` accepts exactly these bytes.
pub fn encode(record: &Record) -> (String, String) {
    let mut value = scrub(serde_json::to_value(record).expect("record serialises"));
    let object = value.as_object_mut().expect("record is an object");
    object.shift_remove("hash");
    let hash = record_hash(&value);
    value
        .as_object_mut()
        .expect("record is an object")
        .insert("hash".into(), Value::String(hash.clone()));
    (
        serde_json::to_string(&value).expect("record serialises"),
        hash,
    )
}

/// Test hook for the crash tests: `BASELINE_TEST_KILL_AFTER_RECORD=N` makes the process
/// SIGKILL itself right after record N reached the disk, so that tests can crash apply at
/// exact points. Unset in normal use.
fn kill_point_for_tests() -> Option<u64> {
    std::env::var("BASELINE_TEST_KILL_AFTER_RECORD")
        .ok()
        .and_then(|v| v.parse().ok())
}

/// Replace anything that looks like a secret with `[redacted]`: values under keys that name
/// secrets, AWS access key ids, and long base64 runs (secret keys, session tokens).
pub fn scrub(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    // Request ids are AWS's, for support cases; moto's look like base64.
                    if k == "request_ids" {
                        (k, v)
                    } else if is_secret_key(&k) && !v.is_null() {
                        (k, Value::String(REDACTED.into()))
                    } else {
                        (k, scrub(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(scrub).collect()),
        Value::String(s) if looks_like_secret(&s) => Value::String(REDACTED.into()),
        other => other,
    }
}

pub const REDACTED: &str = "[redacted]";

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['-', '_'], "");
    [
        "secret",
        "password",
        "sessiontoken",
        "accesskey",
        "privatekey",
        "credential",
    ]
    .iter()
    .any(|s| k.contains(s))
        && !k.starts_with("passwordpolicy")
}

fn looks_like_secret(s: &str) -> bool {
    let access_key_id = regex_lite_access_key(s);
    let long_base64 = s
        .split(|c: char| !(c.is_ascii_alphanumeric() || "+/=".contains(c)))
        .any(|run| {
            run.len() >= 40
                && run.chars().any(|c| c.is_ascii_digit())
                && run.chars().any(|c| c.is_ascii_uppercase())
                && run.chars().any(|c| c.is_ascii_lowercase())
        });
    access_key_id || long_base64
}

/// `AKIA` / `ASIA` followed by 16 upper-case letters or digits, anywhere in `s`.
fn regex_lite_access_key(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(20).any(|w| {
        (w.starts_with(b"AKIA") || w.starts_with(b"ASIA"))
            && w[4..]
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    })
}

/// The digest of a resolved baseline: every file it was loaded from, by path and content.
pub fn baseline_digest(sources: &crate::lang::source::Sources) -> String {
    let mut files: Vec<(String, &str)> = sources
        .iter()
        .map(|(_, f)| (f.display.clone(), f.text.as_str()))
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for (path, text) in files {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// Where the run's baseline came from: GitHub Actions, GitLab CI, or a plain git checkout.
pub fn provenance(baseline_dir: &Path) -> Provenance {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if env("GITHUB_ACTIONS").is_some() {
        let url = match (
            env("GITHUB_SERVER_URL"),
            env("GITHUB_REPOSITORY"),
            env("GITHUB_RUN_ID"),
        ) {
            (Some(s), Some(r), Some(id)) => Some(format!("{s}/{r}/actions/runs/{id}")),
            _ => None,
        };
        return Provenance {
            commit: env("GITHUB_SHA"),
            branch: env("GITHUB_HEAD_REF").or_else(|| env("GITHUB_REF_NAME")),
            dirty: None,
            ci_run_url: url,
            source: Some("github-actions".into()),
        };
    }
    if env("GITLAB_CI").is_some() {
        return Provenance {
            commit: env("CI_COMMIT_SHA"),
            branch: env("CI_COMMIT_REF_NAME"),
            dirty: None,
            ci_run_url: env("CI_JOB_URL").or_else(|| env("CI_PIPELINE_URL")),
            source: Some("gitlab-ci".into()),
        };
    }
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(baseline_dir)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(commit) => Provenance {
            commit: Some(commit),
            branch: git(&["rev-parse", "--abbrev-ref", "HEAD"]),
            dirty: git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
            ci_run_url: None,
            source: Some("git".into()),
        },
        None => Provenance::default(),
    }
}

/// A run id: time and process, unique enough for one log and readable.
pub fn new_run_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "run-{}",
        &sha256_hex(format!("{nanos}-{}", std::process::id()).as_bytes())[..16]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scrub_redacts_secrets_and_keeps_ordinary_values() {
        let v = json!({
            "AccessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "nested": {"SecretAccessKey": "x", "note": "key ASIAIOSFODNN7EXAMPLE leaked"},
            "token": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "min-length": 14,
            "document": {"Statement": [{"Action": "s3:GetObject", "Resource": "arn:aws:s3:::org-trail-logs/AWSLogs/*"}]},
            "role": "arn:aws:sts::123456789012:assumed-role/OrganizationAccountAccessRole/baseline-alice"
        });
        let s = scrub(v);
        assert_eq!(s["AccessKeyId"], REDACTED);
        assert_eq!(s["nested"]["SecretAccessKey"], REDACTED);
        assert_eq!(s["nested"]["note"], REDACTED);
        assert_eq!(s["token"], REDACTED);
        assert_eq!(s["min-length"], 14);
        assert_eq!(s["document"]["Statement"][0]["Action"], "s3:GetObject");
        assert_eq!(
            s["role"],
            "arn:aws:sts::123456789012:assumed-role/OrganizationAccountAccessRole/baseline-alice"
        );
    }

    fn org() -> crate::org::OrgStructure {
        crate::org::OrgStructure {
            management_account_id: "111111111111".into(),
            ous: vec![],
            accounts: vec![],
            organization_id: Some("o-example".into()),
            root_id: None,
            ou_ids: Default::default(),
        }
    }

    #[test]
    fn a_new_log_gets_its_header_and_an_old_one_is_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("changes.jsonl");
        let first = ChangeLog::open(&path, &org()).unwrap().head().to_string();
        let mut log = ChangeLog::open(&path, &org()).unwrap();
        assert_eq!(log.head(), first);
        log.append(Body::Outcome {
            run_id: "run-1".into(),
            intent: 0,
            address: "x".into(),
            result: Result_::Success,
            request_ids: vec![],
        })
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let report = verify::verify_text(&text);
        // An outcome for no intent is a problem of the log, found at its line.
        assert_eq!(report.problem.map(|p| p.line), Some(Some(2)));
        // An empty file (apply died before its header) is a new log.
        let empty = dir.path().join("empty.jsonl");
        std::fs::write(&empty, "").unwrap();
        ChangeLog::open(&empty, &org()).unwrap();
        let report = verify::verify_text(&std::fs::read_to_string(&empty).unwrap());
        assert_eq!((report.records, report.problem), (1, None));
    }

    #[test]
    fn apply_appends_only_to_a_regular_file_that_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = ChangeLog::open(&fifo, &org()).err().unwrap().to_string();
        assert!(
            err.ends_with("fifo: is a FIFO, not a regular file"),
            "{err}"
        );
        let err = ChangeLog::open(Path::new("/dev/zero"), &org())
            .err()
            .unwrap()
            .to_string();
        assert_eq!(err, "/dev/zero: is a device, not a regular file");
        let crlf = dir.path().join("crlf.jsonl");
        ChangeLog::open(&crlf, &org()).unwrap();
        let text = std::fs::read_to_string(&crlf).unwrap();
        std::fs::write(&crlf, text.replace('\n', "\r\n")).unwrap();
        let err = ChangeLog::open(&crlf, &org()).err().unwrap().to_string();
        assert!(err.contains(": line 1, column "), "{err}");
        assert!(err.contains("CR LF"), "{err}");
    }
}
