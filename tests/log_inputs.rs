//! The change log and saved plans as untrusted input (issue 11), without the emulator: every
//! change of a log's bytes fails `log verify` at the file's line and column, an empty log or
//! one of an unknown format is refused, non-ASCII record data is shown without a panic, and
//! logs and saved plans that are not regular files (or are too large) are refused at once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use baseline::changelog::{record_hash, Body, ChangeInfo, Provenance, Record, Result_, RunContext};
use serde_json::json;

/// A `baseline` process that is killed, and fails the test, when it hangs.
fn baseline(args: &[&str]) -> Out {
    baseline_in(Path::new("."), args)
}

#[derive(Debug)]
struct Out {
    /// `None`: killed (the timeout) or crashed on a signal.
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Out {
    fn expect(self, code: i32) -> Out {
        assert_eq!(self.code, Some(code), "{self:#?}");
        assert!(!self.stderr.contains("panicked"), "{self:#?}");
        self
    }
}

/// One record as apply writes it: compact JSON, `hash` last.
fn line(seq: u64, prev: Option<&str>, body: Body) -> (String, String) {
    let record = Record {
        seq,
        time: format!("2026-11-23T10:00:0{seq}.000Z"),
        body,
        prev: prev.map(str::to_string),
        hash: None,
    };
    let mut value = serde_json::to_value(&record).unwrap();
    let hash = record_hash(&value);
    value
        .as_object_mut()
        .unwrap()
        .insert("hash".into(), hash.clone().into());
    (serde_json::to_string(&value).unwrap(), hash)
}

/// A log of these records, chained.
fn log_of(bodies: Vec<Body>) -> String {
    let mut text = String::new();
    let mut prev: Option<String> = None;
    for (seq, body) in bodies.into_iter().enumerate() {
        let (l, hash) = line(seq as u64, prev.as_deref(), body);
        text.push_str(&l);
        text.push('\n');
        prev = Some(hash);
    }
    text
}

fn header(log_format: u32) -> Body {
    Body::Header {
        log_format,
        organization_id: Some("o-example".into()),
        management_account_id: "111111111111".into(),
        organization_root: Some("r-root".into()),
    }
}

/// A commit id whose 12th byte falls inside a character.
const COMMIT: &str = "xéééééééééé";

fn intent() -> Body {
    Body::Intent {
        run: Box::new(RunContext {
            run_id: "run-1".into(),
            tool_version: "0.1.0".into(),
            caller: "arn:aws:iam::111111111111:user/alice".into(),
            baseline_digest: "0".repeat(64),
            plan_digest: "1".repeat(64),
            provenance: Provenance {
                commit: Some(COMMIT.into()),
                branch: Some("main".into()),
                dirty: None,
                ci_run_url: None,
                source: Some("git".into()),
            },
        }),
        change: Box::new(ChangeInfo {
            address: "password-policy.default[prod-app]".into(),
            account_id: "222222222222".into(),
            region: "us-east-1".into(),
            identity: "arn:aws:sts::222222222222:assumed-role/OrganizationAccountAccessRole/b"
                .into(),
            action: "update".into(),
            before: json!({"min-length": 8}),
            after: json!({"min-length": 14}),
        }),
    }
}

fn outcome() -> Body {
    Body::Outcome {
        run_id: "run-1".into(),
        intent: 1,
        address: "password-policy.default[prod-app]".into(),
        result: Result_::Success,
        request_ids: vec!["req-1".into()],
    }
}

fn good_log() -> String {
    log_of(vec![header(1), intent(), outcome()])
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn verify(path: &str) -> Out {
    baseline(&["log", "verify", "--log", path])
}

#[test]
fn a_good_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "changes.jsonl", &good_log());
    let ok = verify(&log).expect(0);
    assert!(ok.stdout.contains("3 records, 1 changes"), "{ok:#?}");
}

#[test]
fn a_non_ascii_commit_is_shown_and_exported_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "changes.jsonl", &good_log());
    verify(&log).expect(0);
    let twelve: String = COMMIT.chars().take(12).collect();
    let shown = baseline(&["log", "show", "--log", &log]).expect(0);
    assert!(
        shown.stdout.contains(&format!("{twelve} (main)")),
        "{shown:#?}"
    );
    let md = baseline(&["log", "export", "--log", &log, "--format", "markdown"]).expect(0);
    assert!(md.stdout.contains(&twelve), "{md:#?}");
    for format in ["csv", "json"] {
        baseline(&["log", "export", "--log", &log, "--format", format]).expect(0);
    }
}

#[test]
fn an_empty_log_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(dir.path(), "changes.jsonl", "");
    let run = verify(&log).expect(1);
    assert!(run.stderr.contains("is empty"), "{run:#?}");
    let run = baseline(&["log", "verify", "--log", &log, "--head", "x"]).expect(1);
    assert!(run.stderr.contains("is empty"), "{run:#?}");
    assert!(!run.stderr.contains("ends at ,"), "{run:#?}");
}

#[test]
fn a_log_of_an_unknown_format_does_not_verify() {
    let dir = tempfile::tempdir().unwrap();
    let log = write(
        dir.path(),
        "changes.jsonl",
        &log_of(vec![header(2), intent(), outcome()]),
    );
    let run = verify(&log).expect(1);
    assert!(run.stderr.contains(&format!("{log}:1")), "{run:#?}");
    assert!(run.stderr.contains("log format 2"), "{run:#?}");
}

/// Edits that parse to the same record: each must fail at its line.
#[test]
fn any_change_of_a_records_bytes_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_log();
    let lines: Vec<&str> = good.lines().collect();
    let intent = lines[1];
    let edits = [
        ("space", intent.replacen("\"seq\":1", "\"seq\": 1", 1)),
        ("escape", intent.replacen("\"run-1\"", "\"run-\\u0031\"", 1)),
        (
            "duplicate",
            intent.replacen("\"seq\":1,", "\"seq\":1,\"seq\":1,", 1),
        ),
        ("hash-moved", {
            let (body, hash) = intent.rsplit_once(",\"hash\":").unwrap();
            format!("{{\"hash\":{},{}}}", hash.trim_end_matches('}'), &body[1..])
        }),
    ];
    for (name, edited) in edits {
        assert_ne!(edited, intent, "{name}");
        let text = format!("{}\n{edited}\n{}\n", lines[0], lines[2]);
        let log = write(dir.path(), name, &text);
        let run = verify(&log).expect(1);
        assert!(
            run.stderr.contains(&format!("{log}:2:")),
            "{name}: {run:#?}"
        );
    }
    // CRLF line ends throughout.
    let log = write(dir.path(), "crlf", &good.replace('\n', "\r\n"));
    let run = verify(&log).expect(1);
    assert!(run.stderr.contains(&format!("{log}:1:")), "crlf: {run:#?}");
    assert!(run.stderr.contains("CR LF"), "crlf: {run:#?}");
}

#[test]
fn a_duplicate_key_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_log();
    let lines: Vec<&str> = good.lines().collect();
    let edited = lines[2].replacen("\"intent\":1,", "\"intent\":1,\"intent\":1,", 1);
    let log = write(
        dir.path(),
        "dup",
        &format!("{}\n{}\n{edited}\n", lines[0], lines[1]),
    );
    let run = verify(&log).expect(1);
    assert!(run.stderr.contains(&format!("{log}:3:")), "{run:#?}");
    assert!(run.stderr.contains("duplicate key `intent`"), "{run:#?}");
}

#[test]
fn verify_positions_are_the_files_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_log();
    let lines: Vec<&str> = good.lines().collect();
    // A broken value 10 characters into line 3 (after a non-ASCII character: columns count
    // characters, not bytes).
    let broken = "{\"é\":1,\"x\":tru}".to_string();
    let log = write(
        dir.path(),
        "broken",
        &format!("{}\n{}\n{broken}\n", lines[0], lines[1]),
    );
    let run = verify(&log).expect(1);
    assert!(!run.stderr.contains("line 1 column"), "{run:#?}");
    let at = format!("{log}:3:");
    let rest = run.stderr.split(&at).nth(1).expect(&at);
    let column: usize = rest.split(':').next().unwrap().parse().expect("a column");
    assert!((13..=16).contains(&column), "{run:#?}");
}

fn fifo(dir: &Path) -> String {
    let path = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    path.to_str().unwrap().to_string()
}

#[test]
fn a_fifo_is_refused_at_once_as_a_log_or_a_saved_plan() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = fifo(dir.path());
    for args in [
        vec!["log", "verify", "--log", &fifo],
        vec!["log", "show", "--log", &fifo],
        vec!["log", "export", "--log", &fifo],
        vec!["show", &fifo],
    ] {
        let run = baseline(&args).expect(1);
        assert!(run.stderr.contains("FIFO"), "{args:?}: {run:#?}");
    }
}

#[test]
fn devices_are_refused_at_once_as_a_log_or_a_saved_plan() {
    for device in ["/dev/zero", "/dev/urandom"] {
        for args in [
            vec!["log", "verify", "--log", device],
            vec!["log", "show", "--log", device],
            vec!["log", "export", "--log", device, "--format", "json"],
            vec!["show", device],
        ] {
            let run = baseline(&args).expect(1);
            assert!(
                run.stderr.contains("not a regular file"),
                "{args:?}: {run:#?}"
            );
        }
    }
}

/// A sparse file of `len` bytes (no disk used).
fn sparse(dir: &Path, name: &str, len: u64) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().set_len(len).unwrap();
    path
}

#[test]
fn files_over_the_limits_are_refused_without_reading_them() {
    let dir = tempfile::tempdir().unwrap();
    let log = sparse(dir.path(), "huge.jsonl", (4 << 30) + 1);
    let run = verify(log.to_str().unwrap()).expect(1);
    assert!(run.stderr.contains("larger than 4 GiB"), "{run:#?}");
    let plan = sparse(dir.path(), "huge.plan.json", (256 << 20) + 1);
    let run = baseline(&["show", plan.to_str().unwrap()]).expect(1);
    assert!(run.stderr.contains("larger than 256 MiB"), "{run:#?}");
}

#[test]
fn a_record_line_over_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_log();
    let first = good.lines().next().unwrap();
    let text = format!("{first}\n{}\n", "x".repeat((16 << 20) + 1));
    let log = write(dir.path(), "long.jsonl", &text);
    let run = verify(&log).expect(1);
    assert!(run.stderr.contains(&format!("{log}:2")), "{run:#?}");
    assert!(run.stderr.contains("longer than 16 MiB"), "{run:#?}");
}

/// A saved plan as `plan --out` writes it, with one change.
fn saved_plan(kind: &str, digest: &str) -> String {
    let plan = json!({
        "saved_plan_format": "1",
        "created": "2026-11-23T10:00:00.000Z",
        "tool_version": "0.1.0",
        "root": "baseline.kdl",
        "baseline_digest": digest,
        "scope": {"targets": [], "accounts": [], "regions": []},
        "items": [{
            "address": {"kind": kind, "name": "default", "account": "prod-app", "region": null},
            "account_id": "222222222222",
            "region": "us-east-1",
            "action": "update",
            "diffs": [{"name": "min-length", "before": 8, "after": 14}],
            "desired": {"min-length": 14},
            "live": {"attrs": {"min-length": 8}, "managed": null},
            "findings": []
        }],
        "orphans": [],
        "fingerprints": {format!("{kind}.default[prod-app]"): "a".repeat(64)}
    });
    serde_json::to_string_pretty(&plan).unwrap() + "\n"
}

#[test]
fn a_saved_plan_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write(
        dir.path(),
        "p.json",
        &saved_plan("password-policy", &"0".repeat(64)),
    );
    let run = baseline(&["show", &plan]).expect(0);
    assert!(run.stdout.contains("min-length : 8 -> 14"), "{run:#?}");
    for format in ["json", "markdown"] {
        baseline(&["show", &plan, "--format", format]).expect(0);
    }
}

#[test]
fn a_saved_plan_with_an_unknown_kind_is_refused_naming_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let plan = write(
        dir.path(),
        "p.json",
        &saved_plan("no-such-kind", &"0".repeat(64)),
    );
    let run = baseline(&["show", &plan]).expect(1);
    assert!(
        run.stderr.contains("no-such-kind.default[prod-app]"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("unknown kind"), "{run:#?}");
}

#[test]
fn a_saved_plan_without_a_baseline_digest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for digest in ["", "abc", "é"] {
        let plan = write(dir.path(), "p.json", &saved_plan("password-policy", digest));
        let run = baseline(&["show", &plan]).expect(1);
        assert!(
            run.stderr.contains("baseline_digest"),
            "{digest:?}: {run:#?}"
        );
    }
}

/// [`baseline`] in `dir`.
fn baseline_in(dir: &Path, args: &[&str]) -> Out {
    let out = Command::cargo_bin("baseline")
        .unwrap()
        .args(args)
        .current_dir(dir)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn log_commands_find_the_log_as_apply_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Next to the root file, from anywhere.
    std::fs::create_dir_all(d.join("org")).unwrap();
    std::fs::write(d.join("org/baseline.kdl"), "organizational-unit \"a\"\n").unwrap();
    write(&d.join("org"), "baseline-changes.jsonl", &good_log());
    let ok = baseline_in(d, &["log", "verify", "org"]).expect(0);
    assert!(ok.stdout.contains("org/baseline-changes.jsonl"), "{ok:#?}");
    baseline_in(d, &["log", "show", "org/baseline.kdl"]).expect(0);
    // In the baseline's folder, without a path.
    baseline_in(&d.join("org"), &["log", "verify"]).expect(0);

    // Where settings put it, relative to the root file.
    std::fs::create_dir_all(d.join("other/evidence")).unwrap();
    std::fs::write(
        d.join("other/baseline.kdl"),
        "settings { change-log \"evidence/changes.jsonl\" }\norganizational-unit \"a\"\n",
    )
    .unwrap();
    write(&d.join("other/evidence"), "changes.jsonl", &good_log());
    let ok = baseline_in(d, &["log", "export", "other", "--format", "csv"]).expect(0);
    assert!(ok.stdout.lines().count() > 1, "{ok:#?}");
    baseline_in(&d.join("other"), &["log", "verify"]).expect(0);

    // --log names the file itself; a baseline that does not load says to use it.
    std::fs::write(d.join("broken.kdl"), "settings {\n").unwrap();
    let refused = baseline_in(d, &["log", "verify", "broken.kdl"]).expect(1);
    assert!(refused.stderr.contains("--log FILE"), "{refused:#?}");
    baseline_in(d, &["log", "verify", "--log", "org/baseline-changes.jsonl"]).expect(0);
}
