//! Coexistence against the emulator: SCPs that Control Tower or a CloudFormation StackSet
//! put into the organization are recognised, also when a declaration has the same name:
//! plan and report show them as managed by their tool, and apply neither changes nor tags
//! them.

mod support;

use support::*;

const CONTROL_TOWER_SCP: &str = "aws-guardrails-WyZxVb";
const STACKSET_SCP: &str = "org-guardrails";
const THEIRS: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Theirs","Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;

const BASELINE: &str = r##"
settings { default-regions "us-east-1" }
organization {
    policy-types "SERVICE_CONTROL_POLICY"
}
service-control-policy "aws-guardrails-WyZxVb" {
    document #"{"Version":"2012-10-17","Statement":[{"Sid":"Ours","Effect":"Deny","Action":"iam:*","Resource":"*"}]}"#
    attach root=#true
}
service-control-policy "org-guardrails" {
    document #"{"Version":"2012-10-17","Statement":[{"Sid":"Ours","Effect":"Deny","Action":"ec2:*","Resource":"*"}]}"#
    attach root=#true
}
"##;

#[tokio::test(flavor = "multi_thread")]
async fn other_tools_policies_are_reported_and_never_touched() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let org = aws_sdk_organizations::Client::new(&sdk_config(&emulator, None).await);
    let mut ids = Vec::new();
    for (name, tags) in [
        (CONTROL_TOWER_SCP, vec![]),
        (
            STACKSET_SCP,
            vec![("aws:cloudformation:stack-name", "StackSet-org-scps-4f1c")],
        ),
    ] {
        let mut create = org
            .create_policy()
            .name(name)
            .description("not baseline's")
            .content(THEIRS)
            .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy);
        for (k, v) in tags {
            create = create.tags(
                aws_sdk_organizations::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .unwrap(),
            );
        }
        let created = create.send().await.unwrap();
        ids.push(
            created
                .policy()
                .unwrap()
                .policy_summary()
                .unwrap()
                .id()
                .unwrap()
                .to_string(),
        );
    }

    let dir = baseline_dir(BASELINE, &[]);
    let root = dir.path().to_str().unwrap();
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        plan.planned(),
        vec!["organization.default"],
        "{}",
        plan.stdout
    );
    for (name, tool) in [
        (CONTROL_TOWER_SCP, "AWS Control Tower"),
        (STACKSET_SCP, "CloudFormation StackSets"),
    ] {
        assert!(
            plan.stdout.contains(&format!(
                "service-control-policy.{name}: managed by {tool}; differs from the baseline in"
            )),
            "{name}\n{}",
            plan.stdout
        );
    }
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);

    // Untouched: the same content, no attachment, no baseline tag.
    for id in &ids {
        let policy = org.describe_policy().policy_id(id).send().await.unwrap();
        assert_eq!(policy.policy().unwrap().content(), Some(THEIRS));
        let targets = org
            .list_targets_for_policy()
            .policy_id(id)
            .send()
            .await
            .unwrap();
        assert!(targets.targets().is_empty(), "{:?}", targets.targets());
        let tags = org
            .list_tags_for_resource()
            .resource_id(id)
            .send()
            .await
            .unwrap();
        assert!(
            tags.tags().iter().all(|t| t.key() != "managed-by"),
            "{:?}",
            tags.tags()
        );
    }
    // After the organization's change, only their policies are left: reported, not drift.
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // The controls report names the tool for the resources that serve a control.
    let report = baseline(
        &emulator,
        &["report", root, "--framework", "soc2", "--format", "json"],
    )
    .expect(0);
    assert!(
        report
            .stdout
            .contains("service-control-policy.aws-guardrails-WyZxVb: managed by AWS Control Tower"),
        "{}",
        report.stdout
    );
}
