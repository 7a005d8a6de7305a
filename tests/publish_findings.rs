//! Drift published as Security Hub findings: created once, updated (not duplicated) while
//! the drift lasts, resolved after the repair.

mod support;

use aws_sdk_securityhub::types::{AwsSecurityFindingFilters, StringFilter, StringFilterComparison};
use support::*;

const BASELINE: &str = r#"
settings { default-regions "us-east-1" }
security-hub {
    targets { account "management" }
    standard "aws-foundational-security-best-practices"
}
password-policy {
    controls "SOC2:CC6.1"
    targets { all-accounts }
    min-length 14
}
"#;

async fn baseline_findings(
    emulator: &Emulator,
) -> Vec<aws_sdk_securityhub::types::AwsSecurityFinding> {
    let config = sdk_config(emulator, None).await;
    let filter = AwsSecurityFindingFilters::builder()
        .generator_id(
            StringFilter::builder()
                .value("baseline/")
                .comparison(StringFilterComparison::Prefix)
                .build(),
        )
        .build();
    aws_sdk_securityhub::Client::new(&config)
        .get_findings()
        .filters(filter)
        .send()
        .await
        .unwrap()
        .findings()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_findings_are_created_updated_and_resolved() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let mut baseline_text = BASELINE.to_string();
    // The management account is named "master" in the emulator.
    baseline_text = baseline_text.replace("account \"management\"", "account \"master\"");
    let dir = baseline_dir(&baseline_text, &[]);
    let root = dir.path().to_str().unwrap();
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);

    // Drift in two accounts.
    for name in ["prod-app", "audit"] {
        let config = sdk_config(&emulator, Some(&accounts[name])).await;
        aws_sdk_iam::Client::new(&config)
            .update_account_password_policy()
            .minimum_password_length(8)
            .allow_users_to_change_password(true)
            .send()
            .await
            .unwrap();
    }
    let run = baseline(&emulator, &["plan", root, "--publish-findings"]).expect(0);
    assert!(
        run.stderr
            .contains("2 new drift finding(s), 0 updated, 0 resolved"),
        "{}",
        run.stderr
    );
    let findings = baseline_findings(&emulator).await;
    let mut ids: Vec<&str> = findings.iter().filter_map(|f| f.id()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "baseline/password-policy.default[audit]",
            "baseline/password-policy.default[prod-app]"
        ]
    );
    let prod = findings
        .iter()
        .find(|f| f.id() == Some("baseline/password-policy.default[prod-app]"))
        .unwrap();
    assert!(prod.description().unwrap().contains("min-length: 8 -> 14"));
    assert_eq!(
        prod.compliance().unwrap().related_requirements(),
        ["SOC2:CC6.1".to_string()]
    );

    // The same drift again: updated, not duplicated.
    let run = baseline(&emulator, &["plan", root, "--publish-findings"]).expect(0);
    assert!(
        run.stderr
            .contains("0 new drift finding(s), 2 updated, 0 resolved"),
        "{}",
        run.stderr
    );
    assert_eq!(baseline_findings(&emulator).await.len(), 2);

    // Repair prod-app only: its finding is resolved, audit's stays active.
    baseline(
        &emulator,
        &[
            "apply",
            root,
            "--auto-approve",
            "--target",
            "password-policy.default[prod-app]",
        ],
    )
    .expect(0);
    let run = baseline(&emulator, &["plan", root, "--publish-findings"]).expect(0);
    assert!(
        run.stderr
            .contains("0 new drift finding(s), 1 updated, 1 resolved"),
        "{}",
        run.stderr
    );
    let findings = baseline_findings(&emulator).await;
    assert_eq!(findings.len(), 2, "resolved, not deleted");
    let prod = findings
        .iter()
        .find(|f| f.id() == Some("baseline/password-policy.default[prod-app]"))
        .unwrap();
    assert_eq!(prod.record_state().map(|s| s.as_str()), Some("ARCHIVED"));
    assert_eq!(
        prod.compliance()
            .and_then(|c| c.status())
            .map(|s| s.as_str()),
        Some("PASSED")
    );
    let audit = findings
        .iter()
        .find(|f| f.id() == Some("baseline/password-policy.default[audit]"))
        .unwrap();
    assert_eq!(audit.record_state().map(|s| s.as_str()), Some("ACTIVE"));
}
