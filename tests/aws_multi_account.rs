//! Declarations across the whole organization: every account and both regions get their
//! own Security Hub and AWS Config, and what baseline did in one account is invisible from
//! the others.

mod support;

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use support::*;

/// Security Hub everywhere with FSBP, except staging-app, which a second declaration gives
/// CIS 1.4.0 instead: 6 accounts x 2 regions = 12 instances.
const BASELINE: &str = r#"
settings { default-regions "us-east-1" "eu-west-1" }
security-hub {
    targets {
        all-accounts
        exclude-account "staging-app"
    }
    standard "aws-foundational-security-best-practices"
}
security-hub "staging" {
    targets { account "staging-app" }
    standard "cis-aws-foundations-benchmark" version="1.4.0"
}
"#;

/// AWS Config in every account and region, delivering to one bucket in log-archive.
const CONFIG: &str = r#"
log-bucket "org-config-logs" {
    account "log-archive"
    bucket-name "org-config-logs-multi"
}
config-recorder {
    targets { all-accounts }
    global-resources-region "us-east-1"
    delivery bucket="org-config-logs"
}
"#;

const REGIONS: &[&str] = &["us-east-1", "eu-west-1"];
const MANAGEMENT_ACCOUNT: &str = "123456789012";

/// `account`'s SDK configuration in `region`: the management account's own credentials,
/// or OrganizationAccountAccessRole assumed in a member account.
async fn config_in(emulator: &Emulator, account: &str, region: &str) -> SdkConfig {
    let member = (account != MANAGEMENT_ACCOUNT).then_some(account);
    sdk_config_in(emulator, member, region).await
}

/// The hub's standards ARNs and its `managed-by` tag, or `None` when Security Hub is off.
async fn hub(config: &SdkConfig) -> Option<(BTreeSet<String>, Option<String>)> {
    let sh = aws_sdk_securityhub::Client::new(config);
    let hub = match sh.describe_hub().send().await {
        Ok(hub) => hub,
        Err(e) => {
            let code = aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&e);
            assert_eq!(code, Some("InvalidAccessException"), "{e:?}");
            return None;
        }
    };
    let arn = hub.hub_arn().expect("hub arn").to_string();
    let hub_account = arn.split(':').nth(4).unwrap_or_default().to_string();
    let hub_region = arn.split(':').nth(3).unwrap_or_default().to_string();
    let expected_region = config.region().unwrap().to_string();
    assert_eq!(hub_region, expected_region, "{arn}");
    let standards = sh
        .get_enabled_standards()
        .send()
        .await
        .expect("get enabled standards")
        .standards_subscriptions()
        .iter()
        .map(|s| {
            // Subscriptions live in the hub's own account.
            let sub = s.standards_subscription_arn().unwrap_or_default();
            assert!(
                sub.contains(&format!(":{hub_account}:subscription/")),
                "{sub}"
            );
            s.standards_arn().unwrap_or_default().to_string()
        })
        .collect();
    let tag = sh
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("list tags")
        .tags()
        .and_then(|t| t.get("managed-by").cloned());
    Some((standards, tag))
}

#[tokio::test(flavor = "multi_thread")]
async fn hub_and_config_reach_every_account_and_region_with_separate_state() {
    let emulator = Emulator::start();
    let members = seed_organization(&emulator).await;
    let dir = baseline_dir(&format!("{BASELINE}{CONFIG}"), &[]);
    let root = dir.path().to_str().unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    let planned = plan.planned();
    assert!(
        planned.contains(&"security-hub.default".to_string())
            && planned.contains(&"security-hub.staging".to_string()),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("security-hub.default -> 10 instances"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("security-hub.staging -> 2 instances"),
        "{}",
        plan.stdout
    );
    // 12 hubs, the bucket, and 12 x (recorder, delivery channel, recording).
    assert!(
        plan.stdout.contains("Plan: 49 to create"),
        "{}",
        plan.stdout
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);

    // Check every account and region out of band, through its own credentials.
    let mut accounts: Vec<(&str, &str)> = members
        .iter()
        .map(|(name, id)| (name.as_str(), id.as_str()))
        .collect();
    accounts.push(("management", MANAGEMENT_ACCOUNT));
    assert_eq!(accounts.len(), 6);
    for (name, id) in &accounts {
        for region in REGIONS {
            let config = config_in(&emulator, id, region).await;
            let (standards, tag) = hub(&config)
                .await
                .unwrap_or_else(|| panic!("no hub in {name}/{region}"));
            let wanted = if *name == "staging-app" {
                format!(
                    "arn:aws:securityhub:{region}::standards/cis-aws-foundations-benchmark/v/1.4.0"
                )
            } else {
                format!("arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0")
            };
            assert_eq!(
                standards,
                BTreeSet::from([wanted]),
                "standards of {name}/{region}"
            );
            assert_eq!(tag.as_deref(), Some("baseline"), "tag of {name}/{region}");

            // Each account records in its own Config, into the log-archive bucket.
            let cfg = aws_sdk_config::Client::new(&config);
            let recorders = cfg.describe_configuration_recorders().send().await.unwrap();
            let recorder = &recorders.configuration_recorders()[0];
            assert_eq!(
                recorder.role_arn().unwrap_or_default(),
                format!("arn:aws:iam::{id}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"),
                "recorder of {name}/{region}"
            );
            let global = recorder
                .recording_group()
                .is_some_and(|g| g.include_global_resource_types());
            assert_eq!(global, *region == "us-east-1", "{name}/{region}");
            let channels = cfg.describe_delivery_channels().send().await.unwrap();
            assert_eq!(
                channels.delivery_channels()[0].s3_bucket_name(),
                Some("org-config-logs-multi")
            );
            let status = cfg
                .describe_configuration_recorder_status()
                .send()
                .await
                .unwrap();
            assert!(status.configuration_recorders_status()[0].recording());
        }
    }

    // Turning the hub off in one account and region touches nothing else.
    let audit_eu = config_in(&emulator, &members["audit"], "eu-west-1").await;
    aws_sdk_securityhub::Client::new(&audit_eu)
        .disable_security_hub()
        .send()
        .await
        .unwrap();
    assert!(hub(&audit_eu).await.is_none());
    let audit_us = config_in(&emulator, &members["audit"], "us-east-1").await;
    assert!(hub(&audit_us).await.is_some());
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        drift.planned(),
        vec!["security-hub.default[audit/eu-west-1]"],
        "{}",
        drift.stdout
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
}

/// An excluded account gets nothing: with staging-app excluded and no second declaration,
/// its hubs stay off in both regions while the other accounts' are on.
#[tokio::test(flavor = "multi_thread")]
async fn an_excluded_account_has_no_hub() {
    let emulator = Emulator::start();
    let members = seed_organization(&emulator).await;
    let only_default = BASELINE
        .split("security-hub \"staging\"")
        .next()
        .unwrap()
        .to_string();
    let dir = baseline_dir(&only_default, &[]);
    let root = dir.path().to_str().unwrap();

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    for region in REGIONS {
        let staging = config_in(&emulator, &members["staging-app"], region).await;
        assert!(
            hub(&staging).await.is_none(),
            "staging-app/{region} has a hub"
        );
        let prod = config_in(&emulator, &members["prod-app"], region).await;
        assert!(hub(&prod).await.is_some(), "prod-app/{region} has no hub");
    }
}
