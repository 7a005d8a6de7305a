//! `--shard K/N` against the emulator: N shard plans together are the unsharded plan (each
//! change in exactly one shard, the organization's in the first), and `show` of the N saved
//! shard plans renders exactly the unsharded plan; each shard applies its share with its own
//! change log, the logs verify together and merge by time, and afterwards nothing is left
//! to change.

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
    run.json()["changes"]
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

    // The saved shard plans, merged by `show`, are the unsharded plan: the same document.
    let whole_doc = baseline(&emulator, &["plan", root, "--format", "json"])
        .expect(0)
        .json();
    let mut plans = Vec::new();
    for k in 1..=n {
        let out = dir.path().join(format!("plan-{k}.json"));
        let out = out.to_str().unwrap().to_string();
        let shard = format!("{k}/{n}");
        baseline(&emulator, &["plan", root, "--shard", &shard, "--out", &out]).expect(0);
        plans.push(out);
    }
    let shown = |files: &[&String], format: &str| {
        let mut args = vec!["show"];
        args.extend(files.iter().map(|f| f.as_str()));
        args.extend(["--format", format]);
        baseline(&emulator, &args)
    };
    // Given in any order.
    let all: Vec<&String> = plans.iter().rev().collect();
    let merged = shown(&all, "json").expect(0);
    assert_eq!(
        merged.json(),
        whole_doc,
        "merged shard plans differ from the plan"
    );
    assert!(merged.stderr.is_empty(), "{}", merged.stderr);
    let human = shown(&all, "human").expect(0);
    assert!(
        human.stdout.contains(&format!("{} to create", whole.len()))
            || human.stdout.contains("to create"),
        "{}",
        human.stdout
    );
    // A missing shard is named; a shard given twice, or an unsharded plan among shards, is
    // refused.
    let partial = shown(&[&plans[0], &plans[2]], "json").expect(0);
    assert!(
        partial
            .stderr
            .contains("warning: the merged plan lacks shard 2 of 3"),
        "{}",
        partial.stderr
    );
    let twice = shown(&[&plans[0], &plans[0]], "json").expect(1);
    assert!(
        twice.stderr.contains("are both shard 1/3"),
        "{}",
        twice.stderr
    );
    let unsharded = dir.path().join("plan-all.json");
    let unsharded = unsharded.to_str().unwrap().to_string();
    baseline(&emulator, &["plan", root, "--out", &unsharded]).expect(0);
    let mixed = shown(&[&plans[0], &unsharded], "json").expect(1);
    assert!(
        mixed.stderr.contains("is shard 1/3 and") && mixed.stderr.contains("is unsharded"),
        "{}",
        mixed.stderr
    );
    // The controls report of the merged plans is the report of the unsharded plan.
    let report = |files: &[&String]| {
        let mut args = vec!["report", "--framework", "soc2", "--format", "json"];
        for f in files {
            args.extend(["--plan", f.as_str()]);
        }
        let mut doc = baseline(&emulator, &args).expect(0).json();
        // Where and when it was made differ; the controls and their status must not.
        let fields = doc.as_object_mut().unwrap();
        fields.remove("source");
        fields.remove("generated");
        doc
    };
    assert!(
        report(&all) == report(&[&unsharded]),
        "the merged report differs"
    );

    // Each shard applies its share, with its own change log.
    let mut logs = Vec::new();
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
            logs.push(log.to_string());
        }
    }
    assert!(
        logs.len() >= 2,
        "at least two shards changed something: {logs:?}"
    );
    let with_logs = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        for log in &logs {
            all.extend(["--log", log.as_str()]);
        }
        baseline(&emulator, &all)
    };
    // The logs verify together: one verdict per log.
    let verified = with_logs(&["log", "verify"]).expect(0);
    assert_eq!(
        verified
            .stdout
            .lines()
            .filter(|l| l.starts_with("ok: "))
            .count(),
        logs.len(),
        "{}",
        verified.stdout
    );
    // Merged by time, each change naming its log; every change of the run is there once.
    let exported = with_logs(&["log", "export", "--format", "json"])
        .expect(0)
        .json();
    let entries = exported.as_array().unwrap();
    let times: Vec<&str> = entries
        .iter()
        .map(|e| e["time"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    let addresses: BTreeSet<String> = entries
        .iter()
        .map(|e| e["address"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(addresses, whole.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(entries.len(), whole.len());
    for e in entries {
        assert!(logs.iter().any(|l| e["log"] == *l), "{e}");
    }
    let markdown = with_logs(&["log", "export", "--format", "markdown"]).expect(0);
    for log in &logs {
        assert!(
            markdown
                .stdout
                .contains(&format!("Integrity of {log}: the hash chain verifies")),
            "{}",
            markdown.stdout
        );
    }
    // A log of another organization does not merge; --head names one log's head.
    let refused = with_logs(&["log", "verify", "--head", "abc"]).expect(1);
    assert!(refused
        .stderr
        .contains("--head is the head of one change log"));
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    let refused = baseline(&emulator, &["plan", root, "--shard", "4/3"]).expect(1);
    assert!(
        refused.stderr.contains("--shard takes K/N"),
        "{}",
        refused.stderr
    );
}
