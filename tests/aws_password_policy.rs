//! password-policy against the emulator: create in every account, converge, drift repaired.

mod support;

use support::*;

const BASELINE: &str = r#"
settings { default-regions "us-east-1" }
password-policy {
    targets { all-accounts }
    min-length 14
    require "symbols" "numbers" "uppercase" "lowercase"
    reuse-prevention 24
    max-age-days 90
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn password_policy_converges_and_repairs_drift() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let dir = baseline_dir(BASELINE, &[]);
    let root = dir.path().to_str().unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    // Progress goes to stderr on a terminal only; here stderr is a pipe.
    assert!(!plan.stderr.contains("Reading AWS"), "{}", plan.stderr);
    // Six identical creates roll up into one entry that names every account.
    assert_eq!(
        plan.planned(),
        vec!["password-policy.default"],
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("password-policy.default -> 6 instances"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("prod-app, prod-data"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 6 to create, 0 to adopt, 0 to update"),
        "{}",
        plan.stdout
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Out of band: weaken prod-app's policy.
    let config = sdk_config(&emulator, Some(&accounts["prod-app"])).await;
    aws_sdk_iam::Client::new(&config)
        .update_account_password_policy()
        .minimum_password_length(8)
        .require_symbols(true)
        .require_numbers(true)
        .require_uppercase_characters(true)
        .require_lowercase_characters(true)
        .password_reuse_prevention(24)
        .max_password_age(90)
        .allow_users_to_change_password(true)
        .send()
        .await
        .unwrap();

    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        drift.planned(),
        vec!["password-policy.default[prod-app]"],
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains("min-length : 8 -> 14"),
        "{}",
        drift.stdout
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
}
