//! Saved plans against the emulator: `plan --out` then `apply FILE` converges; a plan is
//! refused when an affected instance changed in AWS or the baseline files changed since;
//! drift elsewhere does not make it stale; the file holds no credential.

mod support;

use support::*;

const BASELINE: &str = r#"
settings { default-regions "us-east-1" }
password-policy {
    targets { all-accounts }
    min-length 14
}
security-hub {
    targets { account "audit" }
    standard "aws-foundational-security-best-practices"
    standard "cis-aws-foundations-benchmark" version="1.4.0"
}
"#;

struct Fixture {
    emulator: Emulator,
    accounts: std::collections::BTreeMap<String, String>,
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A converged organization, then prod-app's password policy weakened out of band.
    async fn drifted() -> Fixture {
        let emulator = Emulator::start();
        let accounts = seed_organization(&emulator).await;
        let dir = baseline_dir(BASELINE, &[]);
        let f = Fixture {
            emulator,
            accounts,
            dir,
        };
        f.run(&["apply", f.root(), "--auto-approve"]).expect(0);
        f.weaken("prod-app", 8).await;
        f
    }

    fn root(&self) -> &str {
        self.dir.path().to_str().unwrap()
    }

    fn plan_file(&self) -> String {
        self.dir
            .path()
            .join("drift.plan.json")
            .to_str()
            .unwrap()
            .to_string()
    }

    fn run(&self, args: &[&str]) -> Run {
        baseline(&self.emulator, args)
    }

    async fn weaken(&self, account: &str, min_length: i32) {
        let config = sdk_config(&self.emulator, Some(&self.accounts[account])).await;
        aws_sdk_iam::Client::new(&config)
            .update_account_password_policy()
            .minimum_password_length(min_length)
            .allow_users_to_change_password(true)
            .send()
            .await
            .unwrap();
    }

    fn save_plan(&self) -> String {
        let file = self.plan_file();
        let run = self.run(&["plan", self.root(), "--out", &file, "--detailed-exitcode"]);
        let run = run.expect(2);
        assert_eq!(
            run.planned(),
            ["password-policy.default[prod-app]"],
            "{}",
            run.stdout
        );
        file
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_shown_and_applied_exactly() {
    let f = Fixture::drifted().await;
    let file = f.save_plan();
    let text = std::fs::read_to_string(&file).unwrap();
    for secret in ["testing", "SecretAccessKey", "SessionToken"] {
        assert!(!text.contains(secret), "{secret} in the saved plan");
    }
    let shown = f.run(&["show", &file]).expect(0);
    assert!(
        shown.stdout.contains("min-length : 8 -> 14"),
        "{}",
        shown.stdout
    );
    let md = f.run(&["show", &file, "--format", "markdown"]).expect(0);
    assert!(
        md.stdout.starts_with("### baseline plan: 0 to create"),
        "{}",
        md.stdout
    );
    f.run(&["show", &file, "--format", "json"]).expect(0);

    let applied = f.run(&["apply", &file]).expect(0);
    assert!(
        applied.stdout.contains("1 succeeded, 0 failed, 0 skipped"),
        "{}",
        applied.stdout
    );
    f.run(&["plan", f.root(), "--detailed-exitcode"]).expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_after_its_instance_changed_in_aws() {
    let f = Fixture::drifted().await;
    let file = f.save_plan();
    f.weaken("prod-app", 10).await;
    let refused = f.run(&["apply", &file]).expect(1);
    assert!(refused.stderr.contains("is stale"), "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("password-policy.default[prod-app] changed in AWS since the plan"),
        "{}",
        refused.stderr
    );
    // Nothing was applied: the newer drift is still there.
    let plan = f.run(&["plan", f.root()]).expect(0);
    assert!(
        plan.stdout.contains("min-length : 10 -> 14"),
        "{}",
        plan.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_after_the_baseline_changed() {
    let f = Fixture::drifted().await;
    let file = f.save_plan();
    let root = f.dir.path().join("baseline.kdl");
    let text = std::fs::read_to_string(&root).unwrap();
    std::fs::write(&root, text.replace("min-length 14", "min-length 16")).unwrap();
    let refused = f.run(&["apply", &file]).expect(1);
    assert!(
        refused.stderr.contains("stale: the baseline files changed"),
        "{}",
        refused.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_elsewhere_does_not_make_a_saved_plan_stale() {
    let f = Fixture::drifted().await;
    let file = f.save_plan();
    // Out of band, on an instance the plan does not touch: audit's hub loses a standard.
    let config = sdk_config(&f.emulator, Some(&f.accounts["audit"])).await;
    let hub = aws_sdk_securityhub::Client::new(&config);
    let enabled = hub.get_enabled_standards().send().await.unwrap();
    let subscription = enabled.standards_subscriptions()[0]
        .standards_subscription_arn()
        .unwrap()
        .to_string();
    hub.batch_disable_standards()
        .standards_subscription_arns(subscription)
        .send()
        .await
        .unwrap();
    f.run(&["apply", &file]).expect(0);
    // The saved plan did exactly its change; the other drift is still there.
    let plan = f.run(&["plan", f.root(), "--detailed-exitcode"]).expect(2);
    assert_eq!(
        plan.planned(),
        ["security-hub.default[audit/us-east-1]"],
        "{}",
        plan.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn target_accounts_and_regions_narrow_plan_and_apply() {
    let f = Fixture::drifted().await;
    f.weaken("staging-app", 9).await;
    let all = f.run(&["plan", f.root(), "--detailed-exitcode"]).expect(2);
    assert_eq!(all.planned().len(), 2, "{}", all.stdout);
    let one = f
        .run(&[
            "plan",
            f.root(),
            "--detailed-exitcode",
            "--accounts",
            "prod-app",
        ])
        .expect(2);
    assert_eq!(
        one.planned(),
        ["password-policy.default[prod-app]"],
        "{}",
        one.stdout
    );
    f.run(&[
        "plan",
        f.root(),
        "--detailed-exitcode",
        "--target",
        "security-hub.*",
    ])
    .expect(0);
    let none = f
        .run(&["plan", f.root(), "--regions", "ap-south-1"])
        .expect(1);
    assert!(
        none.stderr.contains("select no instance"),
        "{}",
        none.stderr
    );
    // Apply only staging-app's policy; prod-app's drift stays.
    f.run(&[
        "apply",
        f.root(),
        "--auto-approve",
        "--target",
        "password-policy.default[staging-app]",
    ])
    .expect(0);
    let left = f.run(&["plan", f.root(), "--detailed-exitcode"]).expect(2);
    assert_eq!(
        left.planned(),
        ["password-policy.default[prod-app]"],
        "{}",
        left.stdout
    );
}
