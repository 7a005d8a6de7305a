//! Benchmark: a no-op `baseline plan` against the emulator, on one account and on
//! 10 accounts x 2 regions (the brief's reference: Terraform takes 7.0 s and 69 s wall).
//!
//! Run with `cargo bench --bench plan`. For each scenario it seeds a fresh emulator, applies
//! the baseline once, then times several no-op plans of the release binary as a separate
//! process: wall time, CPU time (user + system, from wait4), peak resident memory, and
//! the API calls the plan made (its `--verbose` count). Prints figures; asserts only that
//! each plan found no changes.

#[path = "common/measure.rs"]
mod measure;
#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::Instant;

use measure::Sample;
use support::Emulator;

/// Run `baseline` and wait for it (measure::wait): the sample and its stderr.
fn measured(emulator: &Emulator, args: &[&str]) -> (Sample, String) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_baseline"))
        .args(args)
        .envs(emulator.env())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run baseline");
    let (sample, _, stderr) = measure::wait(child, started);
    (sample, stderr)
}

fn scenario(name: &str, members: usize, baseline: &str, runs: usize) {
    let emulator = Emulator::start();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let config = support::sdk_config(&emulator, None).await;
        let org = aws_sdk_organizations::Client::new(&config);
        org.create_organization()
            .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
            .send()
            .await
            .expect("create organization");
        for i in 1..=members {
            org.create_account()
                .account_name(format!("member-{i:02}"))
                .email(format!("member-{i:02}@example.com"))
                .send()
                .await
                .expect("create account");
        }
    });
    let root = support::repo_root()
        .join("benches/baselines")
        .join(baseline);
    let root = root.to_str().expect("utf-8 path");
    let evidence = tempfile::tempdir().expect("temp dir");
    let log = evidence.path().join("changes.jsonl");
    let log = log.to_str().expect("utf-8 path");
    let (apply, stderr) = measured(
        &emulator,
        &["apply", root, "--auto-approve", "-v", "--change-log", log],
    );
    assert_eq!(apply.code, 0, "apply failed:\n{stderr}");
    let mut samples = Vec::new();
    for _ in 0..runs {
        let (s, stderr) = measured(&emulator, &["plan", root, "--detailed-exitcode", "-v"]);
        assert!(
            s.code == 0,
            "the plan after apply must find no changes (exit {}):\n{stderr}",
            s.code
        );
        samples.push(s);
    }
    samples.sort_by_key(|s| s.wall);
    let median = &samples[samples.len() / 2];
    let best = &samples[0];
    println!(
        "{name}: apply {:.2?} ({} calls); no-op plan over {runs} runs: median wall {:.3?} (best {:.3?}), \
         CPU {:.3?}, peak RSS {:.1} MiB, {} API calls",
        apply.wall,
        apply.calls,
        median.wall,
        best.wall,
        median.cpu,
        samples.iter().map(|s| s.max_rss_kib).max().unwrap_or(0) as f64 / 1024.0,
        median.calls,
    );
}

fn main() {
    println!("(Terraform 1.11.4 reference on the same emulator: 7.0 s wall / 9.2 s CPU and 69 s wall / 126 s CPU)");
    scenario("one account, one region", 0, "one-account.kdl", 7);
    scenario("10 accounts x 2 regions", 9, "ten-accounts.kdl", 5);
}
