//! Coexistence against the emulator: SCPs that Control Tower or a CloudFormation StackSet
//! put into the organization are recognised, also when a declaration has the same name:
//! plan and report show them as managed by their tool, and apply neither changes nor tags
//! them.

mod support;

use support::*;

const CONTROL_TOWER_SCP: &str = "aws-guardrails-WyZxVb";
const STACKSET_SCP: &str = "org-guardrails";
const UNDECLARED_SCP: &str = "aws-guardrails-MandatoryX1";
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
        // Not declared: one of Control Tower's mandatory controls.
        (UNDECLARED_SCP, vec![]),
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
    // Control Tower's undeclared policy is listed, not planned.
    assert!(
        plan.stdout.contains(&format!(
            "Other tools' resources (not declared; never touched):\n\n  = \
             service-control-policy.{UNDECLARED_SCP}: AWS Control Tower"
        )),
        "{}",
        plan.stdout
    );
    // A saved plan shows them too.
    let saved = dir.path().join("plan.json");
    let saved = saved.to_str().unwrap();
    baseline(&emulator, &["plan", root, "--out", saved]).expect(0);
    let shown = baseline(&emulator, &["show", saved]).expect(0);
    assert!(
        shown.stdout.contains(&format!(
            "service-control-policy.{UNDECLARED_SCP}: AWS Control Tower"
        )),
        "{}",
        shown.stdout
    );
    let json = baseline(&emulator, &["plan", root, "--format", "json"]).expect(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        json["other_owned"],
        serde_json::json!([{"kind": "service-control-policy", "name": UNDECLARED_SCP,
            "owner": "AWS Control Tower", "account_id": "123456789012", "region": "us-east-1"}])
    );
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

const OTHER_KINDS: &str = r##"
settings { default-regions "us-east-1" }
kms-key "lza-logs" {
    account "prod-app"
    alias "alias/lza-logs"
    observe
}
kms-key "alerts-key" {
    account "audit"
    alias "alias/alerts"
}
alert-topic "aws-controltower-SecurityNotifications" {
    account "audit"
    kms-key "alerts-key"
    subscribe "email" "secops@example.com"
}
"##;

async fn topic_policy(sns: &aws_sdk_sns::Client, topic: &str) -> String {
    sns.get_topic_attributes()
        .topic_arn(topic)
        .send()
        .await
        .unwrap()
        .attributes()
        .unwrap()["Policy"]
        .clone()
}

/// A KMS key Landing Zone Accelerator tagged and an SNS topic with Control Tower's name,
/// both declared by name: reported as theirs, never tagged or changed; the key, which the
/// baseline `observe`s, still counts in the controls report, with its drift.
#[tokio::test(flavor = "multi_thread")]
async fn other_tools_keys_and_topics_are_reported_observed_and_never_touched() {
    let emulator = Emulator::start();
    let ids = seed_organization(&emulator).await;
    let prod = sdk_config(&emulator, Some(&ids["prod-app"])).await;
    let kms = aws_sdk_kms::Client::new(&prod);
    let key = kms
        .create_key()
        .description("LZA log key")
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("Accelerator")
                .tag_value("AWSAccelerator")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let key_id = key.key_metadata().unwrap().key_id().to_string();
    eventually(&["NotFoundException"], || {
        kms.create_alias()
            .alias_name("alias/lza-logs")
            .target_key_id(&key_id)
            .send()
    })
    .await;
    let audit = sdk_config(&emulator, Some(&ids["audit"])).await;
    let sns = aws_sdk_sns::Client::new(&audit);
    let topic = sns
        .create_topic()
        .name("aws-controltower-SecurityNotifications")
        .send()
        .await
        .unwrap()
        .topic_arn()
        .unwrap()
        .to_string();
    let policy_before = topic_policy(&sns, &topic).await;
    after_consistency_window().await;

    let dir = baseline_dir(OTHER_KINDS, &[]);
    let root = dir.path().to_str().unwrap();
    let plan = baseline(&emulator, &["plan", root]).expect(0);
    assert_eq!(
        plan.planned(),
        vec!["kms-key.alerts-key[audit/us-east-1]"],
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "alert-topic.aws-controltower-SecurityNotifications[audit/us-east-1]: managed by AWS \
             Control Tower; differs from the baseline in"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Observed (read and reported, never changed):")
            && plan.stdout.contains(
                "kms-key.lza-logs[prod-app/us-east-1]: managed by Landing Zone Accelerator, \
                 observed; differs from the baseline in"
            ),
        "{}",
        plan.stdout
    );
    let json = baseline(&emulator, &["plan", root, "--format", "json"]).expect(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["observed"][0]["owner"], "Landing Zone Accelerator");
    assert_eq!(
        json["managed_elsewhere"][0]["address"],
        "alert-topic.aws-controltower-SecurityNotifications[audit/us-east-1]"
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);

    // Theirs, untouched: no baseline tag, rotation as they left it, no subscription, the
    // topic's policy as it was.
    let tags = kms
        .list_resource_tags()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    assert!(
        tags.tags().iter().all(|t| t.tag_key() != "managed-by"),
        "{:?}",
        tags.tags()
    );
    let rotation = kms
        .get_key_rotation_status()
        .key_id(&key_id)
        .send()
        .await
        .unwrap();
    assert!(!rotation.key_rotation_enabled());
    let topic_tags = sns
        .list_tags_for_resource()
        .resource_arn(&topic)
        .send()
        .await
        .unwrap();
    assert!(topic_tags.tags().is_empty(), "{:?}", topic_tags.tags());
    let subs = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    assert!(
        subs.subscriptions().is_empty(),
        "{:?}",
        subs.subscriptions()
    );
    let policy_after = topic_policy(&sns, &topic).await;
    assert_eq!(policy_before, policy_after);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // The observed key counts for its controls, drifted; the topic is only noted.
    let report = baseline(
        &emulator,
        &["report", root, "--framework", "soc2", "--format", "json"],
    )
    .expect(0);
    let report: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    let cc67 = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "CC6.7")
        .unwrap();
    let key = cc67["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["resource"] == "kms-key.lza-logs")
        .unwrap();
    assert_eq!(key["status"], "drifted", "{key}");
    assert!(
        key["details"][0]
            .as_str()
            .unwrap()
            .starts_with("kms-key.lza-logs[prod-app/us-east-1] (observed; differs in "),
        "{key}"
    );
    let cc72 = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "CC7.2")
        .unwrap();
    assert!(
        cc72.to_string().contains(
            "alert-topic.aws-controltower-SecurityNotifications[audit/us-east-1]: managed by AWS Control Tower"
        ),
        "{cc72}"
    );
}

const CONTROL_TOWER_TRAIL: &str = "aws-controltower-BaselineCloudTrail";

const TRAIL_BASELINE: &str = r##"
settings { default-regions "us-east-1" }
log-bucket "org-trail-logs" {}
organization-trail "aws-controltower-BaselineCloudTrail" {
    bucket "org-trail-logs"
}
"##;

/// Control Tower's organization trail, declared by its name with another bucket: reported as
/// Control Tower's in plan and report, never updated, tagged or stopped by apply.
#[tokio::test(flavor = "multi_thread")]
async fn control_towers_trail_is_reported_and_never_touched() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let config = sdk_config(&emulator, None).await;
    aws_sdk_organizations::Client::new(&config)
        .enable_aws_service_access()
        .service_principal("cloudtrail.amazonaws.com")
        .send()
        .await
        .unwrap();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let bucket = "aws-controltower-logs-123456789012-us-east-1";
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    let service = serde_json::json!({"Service": "cloudtrail.amazonaws.com"});
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": service, "Action": "s3:GetBucketAcl",
             "Resource": format!("arn:aws:s3:::{bucket}")},
            {"Effect": "Allow", "Principal": service, "Action": "s3:PutObject",
             "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/*")}
        ]
    });
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&config);
    cloudtrail
        .create_trail()
        .name(CONTROL_TOWER_TRAIL)
        .s3_bucket_name(bucket)
        .is_organization_trail(true)
        .is_multi_region_trail(true)
        .send()
        .await
        .unwrap();
    cloudtrail
        .start_logging()
        .name(CONTROL_TOWER_TRAIL)
        .send()
        .await
        .unwrap();

    let dir = baseline_dir(TRAIL_BASELINE, &[]);
    let root = dir.path().to_str().unwrap();
    let plan = baseline(&emulator, &["plan", root]).expect(0);
    assert!(
        !plan
            .planned()
            .iter()
            .any(|a| a.starts_with("organization-trail")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "organization-trail.{CONTROL_TOWER_TRAIL}[master/us-east-1]: managed by AWS Control \
             Tower; differs from the baseline in bucket"
        )),
        "{}",
        plan.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);

    let trail = cloudtrail
        .get_trail()
        .name(CONTROL_TOWER_TRAIL)
        .send()
        .await
        .unwrap();
    assert_eq!(trail.trail().unwrap().s3_bucket_name(), Some(bucket));
    let arn = trail.trail().unwrap().trail_arn().unwrap().to_string();
    let status = cloudtrail
        .get_trail_status()
        .name(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(status.is_logging(), Some(true));
    let tags = cloudtrail
        .list_tags()
        .resource_id_list(&arn)
        .send()
        .await
        .unwrap();
    assert!(
        tags.resource_tag_list()
            .iter()
            .flat_map(|r| r.tags_list())
            .all(|t| t.key() != "managed-by"),
        "{:?}",
        tags.resource_tag_list()
    );
    let report = baseline(
        &emulator,
        &["report", root, "--framework", "soc2", "--format", "json"],
    )
    .expect(0);
    assert!(
        report.stdout.contains(&format!(
            "organization-trail.{CONTROL_TOWER_TRAIL}[master/us-east-1]: managed by AWS Control Tower"
        )),
        "{}",
        report.stdout
    );
}
