//! `--shard K/N` against the emulator: N shard plans together are the unsharded plan (each
//! change in exactly one shard, the organization's in the first), each shard applies its
//! share with its own change log, which verifies, and afterwards nothing is left to change.

mod support;

use std::collections::BTreeSet;

use support::*;

const BASELINE: &str = r##"
settings { default-regions "us-east-1" }
organization { policy-types "SERVICE_CONTROL_POLICY" }
service-control-policy "deny-leave-organization" {
    document #"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#
    attach root=#true
}
password-policy {
    targets { all-accounts }
    min-length 14
}
"##;

fn changes(run: &Run) -> Vec<String> {
    let doc: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    doc["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn shard_plans_together_are_the_plan_and_each_shard_applies_its_share() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let dir = baseline_dir(BASELINE, &[]);
    let root = dir.path().to_str().unwrap();
    let whole = changes(&baseline(&emulator, &["plan", root, "--format", "json"]).expect(0));
    assert!(whole.len() >= 7, "{whole:?}");

    let n = 3;
    let mut seen = BTreeSet::new();
    for k in 1..=n {
        let shard = format!("{k}/{n}");
        let part = changes(
            &baseline(
                &emulator,
                &["plan", root, "--format", "json", "--shard", &shard],
            )
            .expect(0),
        );
        for address in part {
            assert!(seen.insert(address.clone()), "{address} in two shards");
            if k > 1 {
                assert!(
                    !address.starts_with("organization.")
                        && !address.starts_with("service-control-policy."),
                    "{address} is organization-wide, so shard 1's, not {shard}'s"
                );
            }
        }
    }
    assert_eq!(seen, whole.iter().cloned().collect::<BTreeSet<_>>());

    // Each shard applies its share, with its own change log.
    for k in 1..=n {
        let shard = format!("{k}/{n}");
        let log = dir.path().join(format!("changes-{k}.jsonl"));
        let log = log.to_str().unwrap();
        baseline(
            &emulator,
            &[
                "apply",
                root,
                "--auto-approve",
                "--shard",
                &shard,
                "--change-log",
                log,
            ],
        )
        .expect(0);
        if std::path::Path::new(log).exists() {
            baseline(&emulator, &["log", "verify", "--log", log]).expect(0);
        }
    }
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    let refused = baseline(&emulator, &["plan", root, "--shard", "4/3"]).expect(1);
    assert!(
        refused.stderr.contains("--shard takes K/N"),
        "{}",
        refused.stderr
    );
}
