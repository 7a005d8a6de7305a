//! config-recorder, security-hub and mfa against the emulator: create, converge, drift
//! repaired, untagged resources adopted, MFA findings raised and cleared.

mod support;

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use support::*;

fn assert_contains(run: &Run, text: &str) {
    assert!(
        run.stdout.contains(text),
        "missing {text:?}\n--- stdout\n{}\n--- stderr\n{}",
        run.stdout,
        run.stderr
    );
}

fn planned_set(run: &Run) -> BTreeSet<String> {
    run.planned().into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// --- security-hub ---------------------------------------------------------------------

const HUB: &str = r#"
settings { default-regions "us-east-1" "eu-west-1" }
security-hub {
    targets { account "prod-app" }
    standard "aws-foundational-security-best-practices"
    standard "cis-aws-foundations-benchmark" version="1.4.0"
}
"#;

const FSBP: &str = "aws-foundational-security-best-practices/1.0.0";
const CIS_140: &str = "cis-aws-foundations-benchmark/1.4.0";

/// The standards ARNs subscribed in the hub of `config`'s account and region.
async fn enabled_standards(config: &SdkConfig) -> BTreeSet<String> {
    aws_sdk_securityhub::Client::new(config)
        .get_enabled_standards()
        .send()
        .await
        .expect("get enabled standards")
        .standards_subscriptions()
        .iter()
        .map(|s| s.standards_arn().unwrap_or_default().to_string())
        .collect()
}

async fn hub_tags(config: &SdkConfig) -> std::collections::HashMap<String, String> {
    let sh = aws_sdk_securityhub::Client::new(config);
    let arn = sh
        .describe_hub()
        .send()
        .await
        .expect("describe hub")
        .hub_arn()
        .unwrap()
        .to_string();
    sh.list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .expect("list tags")
        .tags()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn security_hub_converges_and_repairs_a_disabled_standard() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let dir = baseline_dir(HUB, &[]);
    let root = dir.path().to_str().unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        plan.planned(),
        vec!["security-hub.default"],
        "{}",
        plan.stdout
    );
    assert_contains(&plan, "security-hub.default -> 2 instances");
    assert_contains(&plan, &format!(r#"standards = ["{FSBP}","{CIS_140}"]"#));

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    let prod_us = sdk_config_in(&emulator, Some(&accounts["prod-app"]), "us-east-1").await;
    let prod_eu = sdk_config_in(&emulator, Some(&accounts["prod-app"]), "eu-west-1").await;
    // Exactly the declared standards (no defaults), and the hub carries baseline's tag.
    for config in [&prod_us, &prod_eu] {
        let arns = enabled_standards(config).await;
        assert_eq!(arns.len(), 2, "{arns:?}");
        assert!(arns
            .iter()
            .any(|a| a.ends_with("::standards/aws-foundational-security-best-practices/v/1.0.0")));
        assert!(arns
            .iter()
            .any(|a| a.ends_with("::standards/cis-aws-foundations-benchmark/v/1.4.0")));
        assert_eq!(
            hub_tags(config).await.get("managed-by").map(String::as_str),
            Some("baseline")
        );
    }

    // Out of band: disable CIS in prod-app's us-east-1 hub.
    let sh = aws_sdk_securityhub::Client::new(&prod_us);
    let cis = sh
        .get_enabled_standards()
        .send()
        .await
        .unwrap()
        .standards_subscriptions()
        .iter()
        .find(|s| {
            s.standards_arn()
                .is_some_and(|a| a.contains("cis-aws-foundations-benchmark"))
        })
        .and_then(|s| s.standards_subscription_arn())
        .unwrap()
        .to_string();
    sh.batch_disable_standards()
        .standards_subscription_arns(cis)
        .send()
        .await
        .unwrap();

    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        drift.planned(),
        vec!["security-hub.default[prod-app/us-east-1]"],
        "{}",
        drift.stdout
    );
    assert_contains(
        &drift,
        &format!(r#"standards : ["{FSBP}"] -> ["{FSBP}","{CIS_140}"]"#),
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    assert_eq!(enabled_standards(&prod_us).await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn security_hub_adopts_an_untagged_hub() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let dir = baseline_dir(HUB, &[]);
    let root = dir.path().to_str().unwrap();

    // Out of band: the hub is on in prod-app/us-east-1, untagged, with AWS's default
    // standards (FSBP and CIS 1.2.0).
    let prod_us = sdk_config_in(&emulator, Some(&accounts["prod-app"]), "us-east-1").await;
    aws_sdk_securityhub::Client::new(&prod_us)
        .enable_security_hub()
        .send()
        .await
        .unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        planned_set(&plan),
        set(&[
            "security-hub.default[prod-app/us-east-1]",
            "security-hub.default[prod-app/eu-west-1]"
        ]),
        "{}",
        plan.stdout
    );
    assert_contains(&plan, "security-hub.default[prod-app/us-east-1]  (adopt)");
    assert_contains(&plan, "security-hub.default[prod-app/eu-west-1]  (create)");
    assert_contains(
        &plan,
        &format!(
            r#"standards : ["{FSBP}","cis-aws-foundations-benchmark/1.2.0"] -> ["{FSBP}","{CIS_140}"]"#
        ),
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    assert_eq!(
        hub_tags(&prod_us)
            .await
            .get("managed-by")
            .map(String::as_str),
        Some("baseline")
    );
    let arns = enabled_standards(&prod_us).await;
    assert!(!arns.iter().any(|a| a.contains("/v/1.2.0")), "{arns:?}");
}

// --- mfa ------------------------------------------------------------------------------

const MFA: &str = r#"
settings { default-regions "us-east-1" }
mfa {
    targets { all-accounts }
}
"#;

const MFA_USERS_ONLY: &str = r#"
settings { default-regions "us-east-1" }
mfa {
    targets { all-accounts }
    root-mfa #false
    require-for-console-users #true
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn mfa_reports_root_and_console_users_without_mfa() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let dir = baseline_dir(MFA, &[]);
    let root = dir.path().to_str().unwrap();

    // The emulator's root users never have MFA: one finding per account, no action (exit 3:
    // findings only).
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(3);
    assert!(plan.planned().is_empty(), "{}", plan.stdout);
    assert_eq!(
        plan.stdout
            .lines()
            .filter(|l| l.ends_with(": root user has no MFA device"))
            .count(),
        6,
        "{}",
        plan.stdout
    );
    assert_contains(
        &plan,
        "! mfa.default[prod-app]: root user has no MFA device",
    );
    // Nothing to apply: findings are not remediable.
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);

    // The organization takes over its members' root credentials (centralized root access):
    // members have no root user to protect, only the management account's finding is left.
    let management = sdk_config(&emulator, None).await;
    aws_sdk_organizations::Client::new(&management)
        .enable_aws_service_access()
        .service_principal("iam.amazonaws.com")
        .send()
        .await
        .unwrap();
    aws_sdk_iam::Client::new(&management)
        .enable_organizations_root_credentials_management()
        .send()
        .await
        .unwrap();
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(3);
    let root_findings: Vec<&str> = plan
        .stdout
        .lines()
        .filter(|l| l.ends_with(": root user has no MFA device"))
        .collect();
    assert_eq!(
        root_findings,
        vec!["  ! mfa.default[master]: root user has no MFA device"],
        "{}",
        plan.stdout
    );

    let dir = baseline_dir(MFA_USERS_ONLY, &[]);
    let root = dir.path().to_str().unwrap();
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Out of band: a console user without MFA, and a user without console access.
    let config = sdk_config(&emulator, Some(&accounts["prod-app"])).await;
    let iam = aws_sdk_iam::Client::new(&config);
    for user in ["alice", "ci-bot"] {
        iam.create_user().user_name(user).send().await.unwrap();
    }
    iam.create_login_profile()
        .user_name("alice")
        .password("Correct-Horse-Battery-1")
        .send()
        .await
        .unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(3);
    assert!(plan.planned().is_empty(), "{}", plan.stdout);
    assert_contains(
        &plan,
        r#"! mfa.default[prod-app]: console user "alice" has no MFA device"#,
    );
    // Only alice: ci-bot has no console access.
    assert_eq!(
        plan.stdout
            .lines()
            .filter(|l| l.ends_with("has no MFA device"))
            .count(),
        1,
        "{}",
        plan.stdout
    );

    // Alice gets a virtual MFA device: the finding is gone.
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("alice")
        .send()
        .await
        .unwrap();
    let serial = device
        .virtual_mfa_device()
        .map(|d| d.serial_number().to_string())
        .unwrap();
    iam.enable_mfa_device()
        .user_name("alice")
        .serial_number(serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .unwrap();
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
}

// --- config-recorder ------------------------------------------------------------------

fn config_baseline(extra_rule: &str) -> String {
    format!(
        r#"
settings {{ default-regions "us-east-1" "eu-west-1" }}
log-bucket "org-config-logs" {{
    account "log-archive"
    bucket-name "org-config-logs-test"
}}
config-recorder {{
    targets {{ account "prod-app" }}
    global-resources-region "us-east-1"
    delivery bucket="org-config-logs" frequency="Six_Hours" prefix="config"
    rule "iam-password-policy" identifier="IAM_PASSWORD_POLICY" {{
        parameter "MinimumPasswordLength" "14"
        parameter "RequireSymbols" "true"
    }}
    rule "root-account-mfa-enabled" identifier="ROOT_ACCOUNT_MFA_ENABLED"
    {extra_rule}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn config_recorder_converges_repairs_a_stopped_recorder_and_adopts_a_rule() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let prod = &accounts["prod-app"];
    let dir = baseline_dir(&config_baseline(""), &[]);
    let root = dir.path().to_str().unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    let planned = planned_set(&plan);
    for address in [
        "config-recorder.default[prod-app/us-east-1]",
        "config-recorder.default[prod-app/eu-west-1]",
        "config-delivery-channel.default",
        "config-recording.default",
        "config-rule.iam-password-policy",
        "config-rule.root-account-mfa-enabled",
    ] {
        assert!(planned.contains(address), "{address}\n{}", plan.stdout);
    }
    assert_contains(&plan, "config-delivery-channel.default -> 2 instances");
    assert_contains(&plan, r#"bucket    = "org-config-logs-test""#);
    assert_contains(&plan, r#"frequency = "Six_Hours""#);
    assert_contains(
        &plan,
        &format!(
            r#"role-arn                 = "arn:aws:iam::{prod}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig""#
        ),
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // What AWS now has in prod-app: global resources recorded in us-east-1 only, the
    // service-linked role created, recording on, the rules tagged.
    let prod_us = sdk_config_in(&emulator, Some(prod), "us-east-1").await;
    let prod_eu = sdk_config_in(&emulator, Some(prod), "eu-west-1").await;
    for (config, global) in [(&prod_us, true), (&prod_eu, false)] {
        let cfg = aws_sdk_config::Client::new(config);
        let recorders = cfg.describe_configuration_recorders().send().await.unwrap();
        let recorder = &recorders.configuration_recorders()[0];
        assert_eq!(recorder.name(), Some("default"));
        let group = recorder.recording_group().unwrap();
        assert!(group.all_supported());
        assert_eq!(group.include_global_resource_types(), global);
        let channels = cfg.describe_delivery_channels().send().await.unwrap();
        assert_eq!(
            channels.delivery_channels()[0].s3_bucket_name(),
            Some("org-config-logs-test")
        );
        let status = cfg
            .describe_configuration_recorder_status()
            .send()
            .await
            .unwrap();
        assert!(status.configuration_recorders_status()[0].recording());
        let rules = cfg
            .describe_config_rules()
            .config_rule_names("iam-password-policy")
            .send()
            .await
            .unwrap();
        let rule = &rules.config_rules()[0];
        let tags = cfg
            .list_tags_for_resource()
            .resource_arn(rule.config_rule_arn().unwrap())
            .send()
            .await
            .unwrap();
        assert!(tags
            .tags()
            .iter()
            .any(|t| t.key() == Some("managed-by") && t.value() == Some("baseline")));
    }
    aws_sdk_iam::Client::new(&prod_us)
        .get_role()
        .role_name("AWSServiceRoleForConfig")
        .send()
        .await
        .expect("the Config service-linked role exists");

    // Out of band: stop the us-east-1 recorder.
    aws_sdk_config::Client::new(&prod_us)
        .stop_configuration_recorder()
        .configuration_recorder_name("default")
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        drift.planned(),
        vec!["config-recording.default[prod-app/us-east-1]"],
        "{}",
        drift.stdout
    );
    assert_contains(&drift, "recording : false -> true");
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Out of band: an untagged rule in eu-west-1 with the name a new declaration uses.
    aws_sdk_config::Client::new(&prod_eu)
        .put_config_rule()
        .config_rule(
            aws_sdk_config::types::ConfigRule::builder()
                .config_rule_name("cloudtrail-enabled")
                .source(
                    aws_sdk_config::types::Source::builder()
                        .owner(aws_sdk_config::types::Owner::Aws)
                        .source_identifier("CLOUD_TRAIL_ENABLED")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    std::fs::write(
        dir.path().join("baseline.kdl"),
        config_baseline(r#"rule "cloudtrail-enabled" identifier="CLOUD_TRAIL_ENABLED""#),
    )
    .unwrap();
    let adopt = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        planned_set(&adopt),
        set(&[
            "config-rule.cloudtrail-enabled[prod-app/eu-west-1]",
            "config-rule.cloudtrail-enabled[prod-app/us-east-1]"
        ]),
        "{}",
        adopt.stdout
    );
    assert_contains(
        &adopt,
        "config-rule.cloudtrail-enabled[prod-app/eu-west-1]  (adopt)",
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
}

/// Under Security Hub's central configuration, the administrator configures the accounts its
/// configuration policies apply to, and those accounts cannot change themselves: baseline
/// reports them as managed elsewhere (and how they differ), and changes nothing there,
/// while it still configures every self-managed account.
#[tokio::test(flavor = "multi_thread")]
async fn centrally_configured_accounts_are_reported_not_fought() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let baseline_text = r#"
settings { default-regions "us-east-1" }
organization {
    trusted-services "securityhub.amazonaws.com"
    delegated-administrator "securityhub.amazonaws.com" account="audit"
}
security-hub {
    targets { all-accounts }
    standard "aws-foundational-security-best-practices"
}
"#;
    let dir = baseline_dir(baseline_text, &[]);
    let root = dir.path().to_str().unwrap();
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // The administrator (audit) turns on central configuration and applies a policy that
    // enables only CIS 1.4.0 to prod-app.
    let audit =
        aws_sdk_securityhub::Client::new(&sdk_config(&emulator, Some(&accounts["audit"])).await);
    audit
        .update_organization_configuration()
        .auto_enable(false)
        .auto_enable_standards(aws_sdk_securityhub::types::AutoEnableStandards::None)
        .organization_configuration(
            aws_sdk_securityhub::types::OrganizationConfiguration::builder()
                .configuration_type(
                    aws_sdk_securityhub::types::OrganizationConfigurationConfigurationType::Central,
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let cis = "arn:aws:securityhub:us-east-1::standards/cis-aws-foundations-benchmark/v/1.4.0";
    let policy = audit
        .create_configuration_policy()
        .name("cis-only")
        .configuration_policy(aws_sdk_securityhub::types::Policy::SecurityHub(
            aws_sdk_securityhub::types::SecurityHubPolicy::builder()
                .service_enabled(true)
                .enabled_standard_identifiers(cis)
                .security_controls_configuration(
                    aws_sdk_securityhub::types::SecurityControlsConfiguration::builder()
                        .set_disabled_security_control_identifiers(Some(vec![]))
                        .build(),
                )
                .build(),
        ))
        .send()
        .await
        .unwrap();
    audit
        .start_configuration_policy_association()
        .configuration_policy_identifier(policy.id().unwrap())
        .target(aws_sdk_securityhub::types::Target::AccountId(
            accounts["prod-app"].clone(),
        ))
        .send()
        .await
        .unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    assert!(
        plan.stdout
            .contains("Managed elsewhere (reported, not changed):")
            && plan.stdout.contains(
                "= security-hub.default[prod-app/us-east-1]: managed by Security Hub central \
                 configuration (administrator audit"
            )
            && plan
                .stdout
                .contains("differs from the baseline in standards"),
        "{}",
        plan.stdout
    );
    // Nothing to change: an apply would otherwise be refused by Security Hub.
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    let prod_app = sdk_config(&emulator, Some(&accounts["prod-app"])).await;
    assert_eq!(
        enabled_standards(&prod_app).await,
        set(&[cis]),
        "the administrator's configuration stays"
    );
    // A self-managed account is still configured: out of band drift there is repaired.
    let staging = sdk_config(&emulator, Some(&accounts["staging-app"])).await;
    let sh = aws_sdk_securityhub::Client::new(&staging);
    let subs = sh.get_enabled_standards().send().await.unwrap();
    sh.batch_disable_standards()
        .standards_subscription_arns(
            subs.standards_subscriptions()[0]
                .standards_subscription_arn()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        drift.planned(),
        vec!["security-hub.default[staging-app/us-east-1]"],
        "{}",
        drift.stdout
    );
}

/// `all-supported #false` records exactly the declared resource types.
#[tokio::test(flavor = "multi_thread")]
async fn a_recorder_records_only_the_declared_resource_types() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let text = r#"
settings { default-regions "us-east-1" }
log-bucket "config-logs" {
    account "log-archive"
    bucket-name "types-config-logs"
}
config-recorder {
    targets { account "prod-app" }
    all-supported #false
    resource-types "AWS::S3::Bucket" "AWS::IAM::Role"
    delivery bucket="config-logs"
}
"#;
    let dir = baseline_dir(text, &[]);
    let root = dir.path().to_str().unwrap();
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let config =
        aws_sdk_config::Client::new(&sdk_config(&emulator, Some(&accounts["prod-app"])).await);
    let recorders = config
        .describe_configuration_recorders()
        .send()
        .await
        .unwrap();
    let group = recorders.configuration_recorders()[0]
        .recording_group()
        .unwrap();
    assert!(!group.all_supported());
    let mut types: Vec<&str> = group.resource_types().iter().map(|t| t.as_str()).collect();
    types.sort_unstable();
    assert_eq!(types, ["AWS::IAM::Role", "AWS::S3::Bucket"]);
}
