//! Creates whose answer is lost. Many AWS creates take no idempotency token: when the
//! connection drops after AWS made the change, the SDK's retry is refused ("already
//! exists": IAM's CreateRole, Security Hub's EnableSecurityHub, CloudWatch Logs'
//! CreateLogGroup, Organizations' CreatePolicy, KMS's CreateAlias) though the change is the call's own, or
//! makes a second one (KMS's CreateKey). The emulator loses the first attempt's answer of
//! every create apply makes, on purpose (lose_answers, tests/emulator/faults.py): apply
//! must still finish in one run without making anything twice, and a role of the same
//! name that baseline did not make must still be refused.

mod support;

use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn an_apply_whose_create_answers_are_lost_finishes_in_one_run() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    const MANY: u64 = 1000;
    // Those that failed or made something twice before they were handled, then the
    // creates whose retry AWS already answers as the first attempt (a token, or a create
    // that is a put).
    const HANDLED: &[&str] = &[
        "iam:CreateRole",
        "securityhub:EnableSecurityHub",
        "logs:CreateLogGroup",
        "organizations:CreatePolicy",
        "kms:CreateKey",
        "kms:CreateAlias",
    ];
    const OTHERS: &[&str] = &[
        "cloudtrail:CreateTrail",
        "cloudtrail:StartLogging",
        "organizations:CreateOrganizationalUnit",
        "organizations:AttachPolicy",
        "organizations:EnablePolicyType",
        "organizations:EnableAWSServiceAccess",
        "organizations:RegisterDelegatedAdministrator",
        "s3:CreateBucket",
        "sns:CreateTopic",
        "sns:Subscribe",
        "securityhub:BatchEnableStandards",
        "securityhub:EnableOrganizationAdminAccount",
        "guardduty:EnableOrganizationAdminAccount",
        "guardduty:CreateDetector",
        "backup:CreateBackupVault",
        "backup:CreateBackupPlan",
        "backup:CreateBackupSelection",
        "access-analyzer:CreateAnalyzer",
        "iam:CreateServiceLinkedRole",
        "config:PutConfigRule",
    ];
    let lose: serde_json::Map<String, serde_json::Value> = HANDLED
        .iter()
        .chain(OTHERS)
        .map(|op| (op.to_string(), json!(MANY)))
        .collect();
    emulator.faults(Some(json!({ "lose_answers": lose })));

    let root = repo_root().join("examples/sample-org");
    let root = root.to_str().unwrap();
    let evidence = tempfile::tempdir().unwrap();
    let log = evidence.path().join("changes.jsonl");
    let log = log.to_str().unwrap();
    let apply = baseline(
        &emulator,
        &["apply", root, "--auto-approve", "--change-log", log],
    );
    let left = emulator.faults(Some(json!({"lose_answers": {}})))["config"]["lose_answers"].clone();
    let lost = |operation: &str| MANY - left[operation].as_u64().unwrap_or(0);
    apply.expect(0);
    // The delivery role of the trail, the support roles and the services' roles: each
    // site that creates a role lost an answer; so did each other handled create.
    assert!(lost("iam:CreateRole") >= 3, "{left}");
    for operation in HANDLED {
        assert!(lost(operation) >= 1, "{operation}: {left}");
    }

    // Nothing was left half-made nor made twice (a second key would want its rotation
    // turned on): the plan finds only the root users' missing MFA devices (which the
    // emulator cannot give them), and the log verifies.
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(3);
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);
    baseline(&emulator, &["log", "verify", "--log", log]).expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_of_that_name_that_baseline_did_not_make_stays_refused() {
    let emulator = Emulator::start();
    let config = sdk_config(&emulator, None).await;
    let iam = aws_sdk_iam::Client::new(&config);
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": "config.amazonaws.com"},
            "Action": "sts:AssumeRole"
        }]
    });
    let create = |name: &'static str| {
        let (iam, trust) = (iam.clone(), trust.clone());
        async move { baseline::iam::create_role(&iam, name, None, "test", &trust).await }
    };

    // Another tool's role, with the very trust policy baseline would write.
    iam.create_role()
        .role_name("theirs")
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
    let refused = create("theirs").await.unwrap_err().to_string();
    assert!(refused.contains("EntityAlreadyExists"), "{refused}");

    // baseline's tag, but not the trust policy this call sends: not this call's role.
    let mut other = trust.clone();
    other["Statement"][0]["Principal"]["Service"] = "backup.amazonaws.com".into();
    baseline::iam::create_role(&iam, "earlier", None, "test", &other)
        .await
        .unwrap();
    let refused = create("earlier").await.unwrap_err().to_string();
    assert!(refused.contains("EntityAlreadyExists"), "{refused}");

    // The answer to this call's first attempt is lost; the retry is refused, and the role
    // IAM has is the one the call made.
    emulator.faults(Some(json!({"lose_answers": {"iam:CreateRole": 1}})));
    let made = create("ours").await.unwrap();
    let counters = &emulator.faults(None)["counters"];
    assert_eq!(counters["dropped_after"], 1, "{counters}");
    assert_eq!(made.role_name(), "ours");
    let listed = iam.list_roles().send().await.unwrap();
    let ours = listed
        .roles()
        .iter()
        .filter(|r| r.role_name() == "ours")
        .count();
    assert_eq!(ours, 1);
}
