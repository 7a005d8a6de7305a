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
        Emulator::start_with(&[])
    }

    /// A server with extra `server.py` flags (`--max-session-seconds 2`, say).
    pub fn start_with(flags: &[&str]) -> Emulator {
        let mut command = Command::new(venv().join("bin/python"));
        command
            .arg(repo_root().join("tests/emulator/server.py"))
            .args(flags)
            .stderr(Stdio::null());
        Emulator::spawn(command)
    }

    /// Start `command` (python with server.py, or router.py, and their flags) on a free
    /// port, and wait for the endpoint it prints on its READY line.
    pub fn spawn(mut command: Command) -> Emulator {
        let mut child = command
            .args(["--port", "0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
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

    /// The emulator's process id (the router's, when it is one).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// GET, or with a body POST, the emulator's /_baseline/faults (never faulted itself).
    pub fn faults(&self, update: Option<serde_json::Value>) -> serde_json::Value {
        let (method, body) = match &update {
            Some(v) => ("POST", Some(v.to_string())),
            None => ("GET", None),
        };
        let (status, json) = self
            .http(method, "/_baseline/faults", body.as_deref())
            .expect("an HTTP answer from /_baseline/faults");
        assert_eq!(status, 200, "{method} /_baseline/faults: {json}");
        serde_json::from_str(&json).expect("faults JSON")
    }

    /// A minimal HTTP/1.1 exchange with one of the emulator's control endpoints
    /// (`/_baseline/faults`, the router's `/_router`): (status, body), `None` when there is
    /// no HTTP answer.
    pub fn http(&self, method: &str, path: &str, body: Option<&str>) -> Option<(u16, String)> {
        use std::io::{Read, Write};
        let addr = self.endpoint.strip_prefix("http://")?;
        let mut stream = std::net::TcpStream::connect(addr).ok()?;
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(60)))
            .ok()?;
        let body = body.unwrap_or("");
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .ok()?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).ok()?;
        let text = String::from_utf8_lossy(&raw);
        let (head, rest) = text.split_once("\r\n\r\n")?;
        let status = head.split_whitespace().nth(1)?.parse().ok()?;
        let chunked = head.lines().any(|l| {
            l.to_ascii_lowercase()
                .starts_with("transfer-encoding: chunked")
        });
        let body = if chunked {
            let mut out = String::new();
            let mut rest = rest;
            while let Some((size, tail)) = rest.split_once("\r\n") {
                let size = usize::from_str_radix(size.trim(), 16).ok()?;
                if size == 0 {
                    break;
                }
                out.push_str(tail.get(..size)?);
                rest = tail.get(size + 2..)?;
            }
            out
        } else {
            rest.to_string()
        };
        Some((status, body))
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

/// Names of the sample organization's member accounts (examples/sample-org).
pub const SAMPLE_ACCOUNTS: &[&str] = &[
    "log-archive",
    "audit",
    "prod-app",
    "prod-data",
    "staging-app",
];

/// SDK configuration for the emulator: the management account's credentials, or, with
/// `account`, the credentials of `OrganizationAccountAccessRole` assumed in it.
pub async fn sdk_config(emulator: &Emulator, account: Option<&str>) -> aws_config::SdkConfig {
    let base = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&emulator.endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .load()
        .await;
    let Some(account) = account else { return base };
    let assumed = aws_sdk_sts::Client::new(&base)
        .assume_role()
        .role_arn(format!(
            "arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("tests-out-of-band")
        .send()
        .await
        .expect("assume role");
    let c = assumed.credentials().expect("credentials");
    base.into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    c.access_key_id(),
                    c.secret_access_key(),
                    Some(c.session_token().to_string()),
                    None,
                    "tests",
                ),
            ),
        )
        .build()
}

/// [`sdk_config`] in another region.
pub async fn sdk_config_in(
    emulator: &Emulator,
    account: Option<&str>,
    region: &str,
) -> aws_config::SdkConfig {
    sdk_config(emulator, account)
        .await
        .into_builder()
        .region(aws_config::Region::new(region.to_string()))
        .build()
}

/// The emulator's eventual-consistency window (server.py's default): how long a new role,
/// key or alias stays unusable by the services that refer to it.
pub const CONSISTENCY_WINDOW: std::time::Duration = std::time::Duration::from_millis(500);

/// Wait until what the test created out of band is visible to every service (a role that
/// only a service uses, which no call of the test can probe).
pub async fn after_consistency_window() {
    tokio::time::sleep(CONSISTENCY_WINDOW + std::time::Duration::from_millis(200)).await;
}

/// Retry an out-of-band SDK call for a while when it fails with one of `codes`: right after
/// a change, AWS (and the strict emulator) may not see what was just created yet, and test
/// seeding must wait for it like any client of AWS. Panics on any other error.
pub async fn eventually<T, E, F, Fut>(codes: &[&str], mut call: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::fmt::Debug,
{
    let started = std::time::Instant::now();
    loop {
        match call().await {
            Ok(v) => return v,
            Err(e)
                if codes.contains(&e.code().unwrap_or_default())
                    && started.elapsed() < std::time::Duration::from_secs(30) =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Create the organization (all features) and the sample member accounts, all in the root:
/// the baseline then creates the OUs and moves the accounts. Returns name -> account id.
pub async fn seed_organization(emulator: &Emulator) -> std::collections::BTreeMap<String, String> {
    let config = sdk_config(emulator, None).await;
    let org = aws_sdk_organizations::Client::new(&config);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization");
    let mut ids = std::collections::BTreeMap::new();
    for name in SAMPLE_ACCOUNTS {
        ids.insert(name.to_string(), create_account(&org, name, None).await);
    }
    ids
}

/// Create a member account named `name`, with its access role named `role` (AWS's default,
/// OrganizationAccountAccessRole, when `None`). Returns its id.
pub async fn create_account(
    org: &aws_sdk_organizations::Client,
    name: &str,
    role: Option<&str>,
) -> String {
    org.create_account()
        .account_name(name)
        .email(format!("{name}@example.com"))
        .set_role_name(role.map(str::to_string))
        .send()
        .await
        .expect("create account")
        .create_account_status()
        .and_then(|s| s.account_id())
        .expect("account id")
        .to_string()
}

/// `baseline validate` of a folder, without colour: the exit code and stderr.
pub fn validate(dir: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_baseline"))
        .args(["validate", dir.to_str().expect("utf-8 path")])
        .env("NO_COLOR", "1")
        .output()
        .expect("run baseline validate");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Write a baseline (root file `baseline.kdl`, plus extra files) into a temporary directory.
pub fn baseline_dir(root: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("baseline.kdl"), root).expect("write baseline.kdl");
    for (name, text) in extra {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).expect("write file");
    }
    dir
}

/// Output of one `baseline` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Run `baseline` against the emulator, with no colour and no TTY.
pub fn baseline(emulator: &Emulator, args: &[&str]) -> Run {
    baseline_with(emulator, &[], args)
}

/// [`baseline`] with extra environment variables (`AWS_REGION` in another partition, say).
pub fn baseline_with(emulator: &Emulator, env: &[(&str, &str)], args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_baseline"))
        .args(args)
        .envs(emulator.env())
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .output()
        .expect("run baseline");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    /// stdout as JSON; panics with both streams when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON: {e}\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Panic with both streams unless the exit code is `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Whether a line of stdout reads `line` once runs of spaces are collapsed (the plan
    /// pads attribute names to a common width).
    pub fn shows_line(&self, line: &str) -> bool {
        let want: Vec<&str> = line.split_whitespace().collect();
        self.stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == want)
    }

    /// Whether a human plan shows attribute `name` among the changes (`      name : a -> b`,
    /// or `      name:` before a document's diff).
    pub fn shows_changed(&self, name: &str) -> bool {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("      "))
            .any(|l| {
                l.split_whitespace()
                    .next()
                    .is_some_and(|w| w.trim_end_matches(':') == name)
            })
    }

    /// Addresses listed as changes in a human plan (`  + kind.name[site]  (create)`).
    pub fn planned(&self) -> Vec<String> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("  ") && l.trim_end().ends_with(')') && l.contains("  ("))
            .map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_string())
            .collect()
    }
}

/// Run the AWS CLI (awscli from PyPI, in the emulator venv) against the emulator: an
/// independent client to confirm what baseline applied. With `account`, it first assumes
/// the access role there (through the CLI too). Returns the parsed JSON output.
pub fn aws_cli(emulator: &Emulator, account: Option<&str>, args: &[&str]) -> serde_json::Value {
    let run = |extra_env: &[(&str, String)], args: &[&str]| {
        let out = Command::new(venv().join("bin/aws"))
            .args(args)
            .args(["--output", "json"])
            .envs(emulator.env())
            .envs(extra_env.iter().map(|(k, v)| (*k, v.clone())))
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run aws");
        assert!(
            out.status.success(),
            "aws {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.trim().is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&text).expect("aws CLI JSON output")
        }
    };
    let mut env = Vec::new();
    if let Some(account) = account {
        let role = format!("arn:aws:iam::{account}:role/OrganizationAccountAccessRole");
        let assumed = run(
            &[],
            &[
                "sts",
                "assume-role",
                "--role-arn",
                &role,
                "--role-session-name",
                "cli-check",
            ],
        );
        let c = &assumed["Credentials"];
        let field = |k: &str| c[k].as_str().expect("credential field").to_string();
        env.push(("AWS_ACCESS_KEY_ID", field("AccessKeyId")));
        env.push(("AWS_SECRET_ACCESS_KEY", field("SecretAccessKey")));
        env.push(("AWS_SESSION_TOKEN", field("SessionToken")));
    }
    run(&env, args)
}
