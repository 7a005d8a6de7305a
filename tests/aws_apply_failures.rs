//! A failing change during apply: the service's error (code, message, request id) is
//! reported, what depends on the failed instance is skipped, everything else still runs,
//! the summary counts each, the exit code is 1, and a later apply converges once fixed.

mod support;

use support::*;

const BASELINE: &str = r#"
settings { default-regions "us-east-1" }
log-bucket "config-logs" {
    account "log-archive"
    bucket-name "failure-test-config-logs"
}
config-recorder {
    targets { account "prod-app"; account "audit" }
    role "ROLE"
    delivery bucket="config-logs"
}
password-policy {
    targets { all-accounts }
    min-length 14
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_skips_its_dependents_and_the_rest_goes_on() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    // The recorder's role exists in audit but not in prod-app: only prod-app's recorder fails.
    let audit = sdk_config(&emulator, Some(&accounts["audit"])).await;
    aws_sdk_iam::Client::new(&audit)
        .create_role()
        .role_name("config-recorder-role")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    // AWS Config cannot assume a role for a moment after it is created.
    after_consistency_window().await;
    let dir = baseline_dir(&BASELINE.replace("ROLE", "config-recorder-role"), &[]);
    let root = dir.path().to_str().unwrap();

    let run = baseline(&emulator, &["apply", root, "--auto-approve"]).expect(1);
    let out = &run.stdout;
    let line = |prefix: &str| {
        out.lines()
            .find(|l| l.starts_with(prefix) && !l.ends_with("..."))
            .unwrap_or_else(|| panic!("no line for {prefix}\n{out}"))
            .to_string()
    };
    let failed = line("config-recorder.default[prod-app/us-east-1]:");
    assert!(
        failed.contains("failed: config:PutConfigurationRecorder: InvalidRoleException:")
            && failed.contains("request id "),
        "{failed}"
    );
    for dependent in [
        "config-delivery-channel.default[prod-app/us-east-1]:",
        "config-recording.default[prod-app/us-east-1]:",
    ] {
        assert!(
            line(dependent)
                .ends_with("skipped because config-recorder.default[prod-app/us-east-1] failed"),
            "{out}"
        );
    }
    // Independent work and the other account's recorder went on.
    assert!(
        line("config-recording.default[audit/us-east-1]:").contains("done"),
        "{out}"
    );
    assert!(
        line("password-policy.default[prod-app]:").contains("done"),
        "{out}"
    );
    // 1 bucket + 6 password policies + audit's 3 config parts succeeded.
    assert!(out.contains("10 succeeded, 1 failed, 2 skipped"), "{out}");

    // Only prod-app's recorder chain is left to do.
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    let mut planned = plan.planned();
    planned.sort();
    assert_eq!(
        planned,
        [
            "config-delivery-channel.default[prod-app/us-east-1]",
            "config-recorder.default[prod-app/us-east-1]",
            "config-recording.default[prod-app/us-east-1]",
        ],
        "{}",
        plan.stdout
    );

    // Fix the cause (the role now exists in prod-app too): apply converges.
    let prod = sdk_config(&emulator, Some(&accounts["prod-app"])).await;
    aws_sdk_iam::Client::new(&prod)
        .create_role()
        .role_name("config-recorder-role")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"config.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
}

#[test]
fn apply_without_a_terminal_needs_auto_approve_and_changes_nothing() {
    let emulator = Emulator::start();
    let dir = baseline_dir(
        "password-policy {\n    targets { all-accounts }\n    min-length 14\n}\n",
        &[],
    );
    let run = baseline(&emulator, &["apply", dir.path().to_str().unwrap()]).expect(1);
    assert!(run.stderr.contains("pass --auto-approve"), "{}", run.stderr);
    // Nothing was applied: the plan still wants the create.
    baseline(
        &emulator,
        &["plan", dir.path().to_str().unwrap(), "--detailed-exitcode"],
    )
    .expect(2);
}
