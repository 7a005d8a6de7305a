//! Assumed-role sessions expire (a chained role lasts an hour at most, and the emulator can
//! make it seconds): an apply that outlives its first credentials in every member account
//! still completes, because the sessions are renewed before they expire, and its change log
//! verifies.

mod support;

use std::time::{Duration, SystemTime};

use support::*;

/// Config everywhere: each account's recorder waits for its new service-linked role to be
/// usable, so the apply lasts several sessions.
const BASELINE: &str = r#"
settings { default-regions "us-east-1" }
log-bucket "config-logs" {
    account "log-archive"
    bucket-name "sessions-config-logs"
}
config-recorder {
    targets { all-accounts }
    delivery bucket="config-logs"
}
password-policy {
    targets { all-accounts }
    min-length 14
}
"#;

/// How long the emulator's sessions last.
const SESSION: Duration = Duration::from_secs(2);

/// The times of the first and last records of a change log.
fn first_and_last(log: &str) -> (SystemTime, SystemTime) {
    let times: Vec<SystemTime> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|r| r["time"].as_str().map(str::to_string))
        .map(|t| humantime::parse_rfc3339(&t).expect("RFC 3339 time"))
        .collect();
    (times[0], *times.last().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_outlives_its_first_credentials_and_its_log_verifies() {
    let emulator = Emulator::start_with(&[
        "--max-session-seconds",
        &SESSION.as_secs().to_string(),
        "--consistency-window",
        "1.5",
    ]);
    seed_organization(&emulator).await;
    let dir = baseline_dir(BASELINE, &[]);
    let root = dir.path().to_str().unwrap();

    let apply = baseline(
        &emulator,
        &["apply", root, "--auto-approve", "--parallelism", "2"],
    )
    .expect(0);
    assert!(!apply.stdout.contains("ExpiredToken"), "{}", apply.stdout);
    let log = std::fs::read_to_string(dir.path().join("baseline-changes.jsonl")).unwrap();
    let (first, last) = first_and_last(&log);
    let lasted = last.duration_since(first).unwrap();
    // Every member account's first session expired long before the apply ended.
    assert!(
        lasted > SESSION * 2,
        "the apply lasted {lasted:?}, not longer than two sessions"
    );
    let verify = baseline(
        &emulator,
        &[
            "log",
            "verify",
            "--log",
            dir.path().join("baseline-changes.jsonl").to_str().unwrap(),
        ],
    )
    .expect(0);
    assert!(verify.stdout.starts_with("ok: "), "{}", verify.stdout);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
}
