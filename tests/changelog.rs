//! The change log as evidence: tampering of each kind is detected at the right line, a
//! crash mid-apply leaves a log that verifies (with the interrupted change flagged), two
//! applies never run together, and no secret reaches the log.

mod support;

use std::process::{Command, Stdio};

use support::*;

/// Several independent changes across accounts, so a log holds many records.
const BASELINE: &str = r#"
settings { default-regions "us-east-1" }
password-policy {
    targets { all-accounts }
    min-length 14
}
security-hub {
    targets { account "prod-app"; account "audit" }
    standard "aws-foundational-security-best-practices"
}
"#;

fn apply(emulator: &Emulator, root: &str, log: &str) -> Run {
    baseline(
        emulator,
        &["apply", root, "--auto-approve", "--change-log", log],
    )
}

/// `baseline apply` as a process of its own, applying one change at a time.
fn one_change_at_a_time(emulator: &Emulator, root: &str, log: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baseline"));
    command
        .args(["apply", root, "--auto-approve", "--change-log", log])
        .args(["--parallelism", "1"])
        .envs(emulator.env());
    command
}

fn verify(emulator: &Emulator, log: &str) -> Run {
    baseline(emulator, &["log", "verify", "--log", log])
}

/// An emulator (started with `flags`) holding the seeded organization, and `text` as a
/// baseline in a folder of its own, where the change log goes too.
struct Setup {
    emulator: Emulator,
    accounts: std::collections::BTreeMap<String, String>,
    dir: tempfile::TempDir,
    root: String,
    log: String,
}

async fn setup(flags: &[&str], text: &str) -> Setup {
    let emulator = Emulator::start_with(flags);
    let accounts = seed_organization(&emulator).await;
    let dir = baseline_dir(text, &[]);
    let root = dir.path().to_str().unwrap().to_string();
    let log = dir
        .path()
        .join("changes.jsonl")
        .to_str()
        .unwrap()
        .to_string();
    Setup {
        emulator,
        accounts,
        dir,
        root,
        log,
    }
}

/// A log of two runs: the first apply, then a repair after drift.
async fn two_run_log() -> (Emulator, tempfile::TempDir, String) {
    let Setup {
        emulator,
        accounts,
        dir,
        root,
        log,
    } = setup(&[], BASELINE).await;
    apply(&emulator, &root, &log).expect(0);
    let config = sdk_config(&emulator, Some(&accounts["prod-data"])).await;
    aws_sdk_iam::Client::new(&config)
        .update_account_password_policy()
        .minimum_password_length(6)
        .send()
        .await
        .unwrap();
    apply(&emulator, &root, &log).expect(0);
    (emulator, dir, log)
}

#[tokio::test(flavor = "multi_thread")]
async fn tampering_of_each_kind_is_found_at_its_line() {
    let (emulator, _dir, log) = two_run_log().await;
    let untouched = verify(&emulator, &log).expect(0);
    assert!(
        untouched.stdout.contains("2 runs (0 failed, 0 incomplete)"),
        "{}",
        untouched.stdout
    );
    let original = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = original.lines().collect();
    assert!(lines.len() > 10, "{original}");

    let check = |name: &str, tampered: String, line: usize| {
        let path = format!("{log}.{name}");
        std::fs::write(&path, tampered).unwrap();
        let run = verify(&emulator, &path).expect(1);
        assert!(
            run.stderr.contains(&format!("{path}:{line}:")),
            "{name}: expected line {line}\n{}",
            run.stderr
        );
    };
    let join = |ls: &[&str]| ls.join("\n") + "\n";

    // Edit a field: the first successful outcome becomes a failure.
    let at = lines
        .iter()
        .position(|l| l.contains("\"status\":\"success\""))
        .unwrap();
    let edited = lines[at].replace("\"success\"", "\"failure\"");
    let mut ls = lines.clone();
    ls[at] = &edited;
    check("edit", join(&ls), at + 1);

    // Delete a line.
    let mut ls = lines.clone();
    ls.remove(4);
    check("delete", join(&ls), 5);

    // Swap two lines.
    let mut ls = lines.clone();
    ls.swap(5, 6);
    check("swap", join(&ls), 6);

    // Truncate the last line.
    let cut = &original[..original.len() - 20];
    check("truncate", cut.to_string(), lines.len());

    // Append a forged line, copied from a real one with its seq moved on.
    let forged = lines[1].replace("\"seq\":1,", &format!("\"seq\":{},", lines.len()));
    check("forge", format!("{original}{forged}\n"), lines.len() + 1);

    // A forger who recomputes the whole chain is caught by the head apply printed.
    let head = untouched
        .stdout
        .rsplit("chain head ")
        .next()
        .unwrap()
        .trim()
        .to_string();
    let shortened = join(&lines[..lines.len() - 2]);
    let path = format!("{log}.shortened");
    std::fs::write(&path, shortened).unwrap();
    verify(&emulator, &path).expect(0);
    let run = baseline(
        &emulator,
        &["log", "verify", "--log", &path, "--head", &head],
    )
    .expect(1);
    assert!(
        run.stderr.contains("not at the expected head"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_apply_leaves_a_verifiable_log_and_a_rerun_converges() {
    let s = setup(&[], BASELINE).await;
    let (emulator, root, log) = (&s.emulator, s.root.as_str(), s.log.as_str());
    // Kill points: right after the first intent, after an outcome, after a later intent
    // (one change at a time, so records alternate intent, outcome).
    for (attempt, kill_after) in [1, 3, 6].into_iter().enumerate() {
        let status = one_change_at_a_time(emulator, root, log)
            .env("BASELINE_TEST_KILL_AFTER_RECORD", kill_after.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), None, "attempt {attempt}: killed by a signal");
        let text = std::fs::read_to_string(log).unwrap();
        assert!(text.ends_with('\n'), "no half-written line");
        let verified = verify(emulator, log).expect(0);
        // The header is record 0 only in the first run; intents are odd records then.
        if attempt == 0 {
            assert!(
                verified.stdout.contains("incomplete: ") && verified.stdout.contains(":2: "),
                "the interrupted change is flagged\n{}",
                verified.stdout
            );
        }
        // The dead run's lock file is left behind, but the kernel lock died with it: the
        // next apply takes it over without `log unlock`.
        assert!(
            std::path::Path::new(&format!("{log}.lock")).exists(),
            "the killed run's lock file names it"
        );
    }
    let after = apply(emulator, root, log).expect(0);
    assert!(
        after
            .stderr
            .contains("ended without releasing the change log lock"),
        "{}",
        after.stderr
    );
    assert!(!std::path::Path::new(&format!("{log}.lock")).exists());
    baseline(emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let verified = verify(emulator, log).expect(0);
    assert!(
        verified.stdout.contains("incomplete"),
        "{}",
        verified.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_apply_records_what_it_started_and_releases_its_lock() {
    let s = setup(&[], BASELINE).await;
    let (emulator, root, log) = (&s.emulator, s.root.as_str(), s.log.as_str());
    let child = one_change_at_a_time(emulator, root, log)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Ctrl-C as soon as the first change has started (its intent is on disk): one change at
    // a time, so several are still to come.
    let started = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("\"type\":\"intent\"") {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no change started"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SAFETY: signalling our own child, which has not been reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("Interrupted: starting no new changes"),
        "{stderr}"
    );
    assert!(
        stdout.contains("Apply interrupted:") && stdout.contains("not started"),
        "{stdout}"
    );
    // Every change that started has its outcome: nothing is incomplete, the chain holds.
    let verified = verify(emulator, log).expect(0);
    assert!(
        verified.stdout.contains(" 0 incomplete)"),
        "{}",
        verified.stdout
    );
    let text = std::fs::read_to_string(log).unwrap();
    assert_eq!(
        text.matches("\"type\":\"intent\"").count(),
        text.matches("\"type\":\"outcome\"").count()
    );
    assert!(!std::path::Path::new(&format!("{log}.lock")).exists());
    // Changes were left undone, and a rerun does them.
    baseline(emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    let rerun = apply(emulator, root, log).expect(0);
    assert!(
        !rerun.stderr.contains("without releasing"),
        "{}",
        rerun.stderr
    );
    baseline(emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    verify(emulator, log).expect(0);
}

/// A backup selection in one account: it names AWS Backup's service role, which apply
/// creates first and AWS refuses to use for a moment (the emulator's consistency window).
const BACKUP: &str = r#"
settings { default-regions "us-east-1" }
backup-vault "central" {
    targets { account "prod-app" }
}
backup-plan "daily" {
    targets { account "prod-app" }
    vault "central"
    rule "daily" schedule="cron(0 5 ? * * *)" delete-after-days=35
    selection "tagged" tag="backup" value="daily"
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_second_interrupt_ends_apply_at_once() {
    // A new role stays unusable for 30 s: the selection's change waits that long.
    let s = setup(&["--consistency-window", "30"], BACKUP).await;
    let (emulator, root, log) = (&s.emulator, s.root.as_str(), s.log.as_str());
    let mut child = one_change_at_a_time(emulator, root, log)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(log)
        .unwrap_or_default()
        .contains("\"address\":\"backup-selection.")
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no selection started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The first interrupt waits for the running change, which waits for the role.
    // SAFETY: signalling our own child, which has not been reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still finishing the running change"
    );
    // The second ends it at once, long before the role is usable.
    let second = std::time::Instant::now();
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        second.elapsed() < std::time::Duration::from_secs(15),
        "not at once: {:?}",
        second.elapsed()
    );
    assert!(
        stderr.contains("Interrupt again to stop at once"),
        "{stderr}"
    );
    // The cut-short change is an intent without an outcome; the lock is gone.
    let verified = verify(emulator, log).expect(0);
    assert!(
        verified.stdout.contains(" 1 incomplete)"),
        "{}",
        verified.stdout
    );
    assert!(!std::path::Path::new(&format!("{log}.lock")).exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn two_applies_started_together_one_runs_one_is_refused() {
    let s = setup(&[], BASELINE).await;
    let (emulator, root, log) = (&s.emulator, s.root.as_str(), s.log.as_str());
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_baseline"))
            .args(["apply", root, "--auto-approve", "--change-log", log])
            .envs(emulator.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let codes = [a.status.code(), b.status.code()];
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(1)),
        "{codes:?}"
    );
    let loser = if a.status.code() == Some(1) { &a } else { &b };
    let message = String::from_utf8_lossy(&loser.stderr);
    assert!(
        message.contains("another apply holds the change log lock") && message.contains("pid "),
        "{message}"
    );
    verify(emulator, log).expect(0);
    baseline(emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_credential_reaches_the_log() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let dir = baseline_dir(BASELINE, &[]);
    let log = dir.path().join("changes.jsonl");
    let access_key = "AKIAZZZZLOGSECRETS01";
    let secret_key = "sEcReT/do-not-log+ThisValue0123456789ABCDEF";
    let out = Command::new(env!("CARGO_BIN_EXE_baseline"))
        .args(["apply", dir.path().to_str().unwrap(), "--auto-approve"])
        .args(["--change-log", log.to_str().unwrap()])
        .envs(emulator.env())
        .env("AWS_ACCESS_KEY_ID", access_key)
        .env("AWS_SECRET_ACCESS_KEY", secret_key)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("\"type\":\"intent\""), "the log has changes");
    for secret in [access_key, secret_key, "sEcReT"] {
        assert!(!text.contains(secret), "{secret} leaked into the log");
    }
    // No session token or key of the assumed roles either: none of their shapes appear.
    assert!(!text.contains("ASIA"), "an assumed-role key id leaked");
    assert!(!text.to_lowercase().contains("sessiontoken"));
}
