//! `baseline import` against the emulator, seeded with a messy organization built by hand:
//! SCPs written with other key orders and whitespace, one Control Tower put there, a trail
//! set up in the console and Control Tower's, Config in one region only, Security Hub per
//! region, rotating and unrotated keys, backup in some accounts, different password policies
//! per account. Import, then validate, fmt --check and plan: the plan adopts (tags) what is
//! untagged and changes no attribute (the console's bucket and key policies are kept, with
//! `keep-policy`); apply, and the plan is clean. A second import gives the same files;
//! a folder that holds KDL is refused without --force; nothing is tagged by import.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use aws_sdk_organizations::types::{PolicyType, Tag};
use support::*;

/// Hand-written, minified, keys in an unusual order.
const DENY_LEAVE: &str = r#"{"Statement":[{"Resource":"*","Action":"organizations:LeaveOrganization","Effect":"Deny","Sid":"NoLeaving"}],"Version":"2012-10-17"}"#;

/// Hand-written with tabs, a lone statement object and a one-element list.
const REGION_LOCK: &str = "{\n\t\"Version\" : \"2012-10-17\",\n\t\"Statement\" : {\n\t\t\"Effect\":\"Deny\",\n\t\t\"NotAction\":[\"iam:*\",\"organizations:*\",\"sts:*\"],\n\t\t\"Resource\":[\"*\"],\n\t\t\"Condition\":{\"StringNotEquals\":{\"aws:RequestedRegion\":[\"us-east-1\",\"eu-west-1\"]}}\n\t}\n}";

/// What Control Tower's preventive controls look like: its name, its own document.
const CONTROL_TOWER_SCP: &str = "aws-guardrails-AbCdEf";
const GUARDRAIL: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"GRRESTRICTROOTUSER","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}}}]}"#;

struct Seeded {
    /// SCP name -> id.
    policies: BTreeMap<String, String>,
    /// The bucket of the trail made in the console.
    trail_bucket: String,
}

/// The trail set up in the console, and the one Control Tower made.
const CONSOLE_TRAIL: &str = "management-events";
const CONTROL_TOWER_TRAIL: &str = "aws-controltower-BaselineCloudTrail";

/// A bucket policy as the CloudTrail console writes it, for `trail` writing from `account`
/// (and the organization `org`).
fn console_bucket_policy(bucket: &str, trail: &str, account: &str, org: &str) -> String {
    let service = serde_json::json!({"Service": "cloudtrail.amazonaws.com"});
    let source = serde_json::json!({"aws:SourceArn": format!("arn:aws:cloudtrail:us-east-1:{account}:trail/{trail}")});
    let mut write = source.clone();
    write["s3:x-amz-acl"] = serde_json::json!("bucket-owner-full-control");
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow", "Principal": service,
             "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{bucket}"),
             "Condition": {"StringEquals": source}},
            {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow", "Principal": service,
             "Action": "s3:PutObject",
             "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{account}/*"),
             "Condition": {"StringEquals": write}},
            {"Sid": "AWSCloudTrailOrganizationWrite20150319", "Effect": "Allow",
             "Principal": service, "Action": "s3:PutObject",
             "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/{org}/*"),
             "Condition": {"StringEquals": write}}
        ]
    })
    .to_string()
}

/// A bucket as the console makes it: S3-managed encryption, public access blocked, not
/// versioned, with CloudTrail's policy.
async fn console_bucket(s3: &aws_sdk_s3::Client, bucket: &str, policy: &str) {
    use aws_sdk_s3::types::*;
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("bucket");
    s3.put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(
            ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(ServerSideEncryption::Aes256)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("encryption");
    s3.put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(true)
                .restrict_public_buckets(true)
                .build(),
        )
        .send()
        .await
        .expect("public access block");
    s3.put_bucket_policy()
        .bucket(bucket)
        .policy(policy)
        .send()
        .await
        .expect("bucket policy");
}

/// The organization trail someone set up in the console (encrypted with a key of its own),
/// and Control Tower's trail into its log archive bucket.
async fn seed_trails(emulator: &Emulator, accounts: &BTreeMap<String, String>) -> String {
    let management = sdk_config(emulator, None).await;
    let org = aws_sdk_organizations::Client::new(&management);
    let org_id = org
        .describe_organization()
        .send()
        .await
        .unwrap()
        .organization()
        .and_then(|o| o.id())
        .unwrap()
        .to_string();
    let me = "123456789012";
    // The console turns on CloudTrail's trusted access by itself.
    org.enable_aws_service_access()
        .service_principal("cloudtrail.amazonaws.com")
        .send()
        .await
        .expect("trusted access");

    let kms = aws_sdk_kms::Client::new(&management);
    let key_policy = serde_json::json!({
        "Version": "2012-10-17",
        "Id": "Key policy created by CloudTrail",
        "Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": format!("arn:aws:iam::{me}:root")},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "Allow CloudTrail to encrypt logs", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:GenerateDataKey*", "Resource": "*",
             "Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                 format!("arn:aws:cloudtrail:*:{me}:trail/*")}}},
            {"Sid": "Allow CloudTrail to describe key", "Effect": "Allow",
             "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "kms:DescribeKey", "Resource": "*"}
        ]
    });
    let key = kms
        .create_key()
        .description("The key created by CloudTrail to encrypt log files")
        .policy(key_policy.to_string())
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    eventually(&["NotFoundException"], || {
        kms.create_alias()
            .alias_name("alias/cloudtrail-logs")
            .target_key_id(&key)
            .send()
    })
    .await;
    after_consistency_window().await;

    let bucket = format!("aws-cloudtrail-logs-{me}-3f9a1c2b");
    console_bucket(
        &aws_sdk_s3::Client::new(&management),
        &bucket,
        &console_bucket_policy(&bucket, CONSOLE_TRAIL, me, &org_id),
    )
    .await;
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&management);
    cloudtrail
        .create_trail()
        .name(CONSOLE_TRAIL)
        .s3_bucket_name(&bucket)
        .is_organization_trail(true)
        .is_multi_region_trail(true)
        .include_global_service_events(true)
        .enable_log_file_validation(true)
        .kms_key_id(&key)
        .send()
        .await
        .expect("console trail");
    cloudtrail
        .start_logging()
        .name(CONSOLE_TRAIL)
        .send()
        .await
        .expect("start logging");

    // Control Tower's trail writes into the log archive account's bucket.
    let archive = sdk_config(emulator, Some(&accounts["log-archive"])).await;
    let ct_bucket = format!(
        "aws-controltower-logs-{}-us-east-1",
        accounts["log-archive"]
    );
    console_bucket(
        &aws_sdk_s3::Client::new(&archive),
        &ct_bucket,
        &console_bucket_policy(&ct_bucket, CONTROL_TOWER_TRAIL, me, &org_id),
    )
    .await;
    cloudtrail
        .create_trail()
        .name(CONTROL_TOWER_TRAIL)
        .s3_bucket_name(&ct_bucket)
        .is_organization_trail(true)
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .send()
        .await
        .expect("Control Tower trail");
    bucket
}

async fn ou(org: &aws_sdk_organizations::Client, parent: &str, name: &str) -> String {
    org.create_organizational_unit()
        .parent_id(parent)
        .name(name)
        .send()
        .await
        .expect("create OU")
        .organizational_unit()
        .and_then(|o| o.id())
        .expect("OU id")
        .to_string()
}

async fn policy(
    org: &aws_sdk_organizations::Client,
    name: &str,
    description: &str,
    content: &str,
    targets: &[&str],
) -> String {
    let id = org
        .create_policy()
        .name(name)
        .description(description)
        .content(content)
        .r#type(PolicyType::ServiceControlPolicy)
        .tags(
            Tag::builder()
                .key("team")
                .value("security")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create policy")
        .policy()
        .and_then(|p| p.policy_summary())
        .and_then(|s| s.id())
        .expect("policy id")
        .to_string();
    for target in targets {
        // SCPs were just enabled: AWS answers PENDING_ENABLE for a moment.
        eventually(&["PolicyTypeNotEnabledException"], || {
            org.attach_policy().policy_id(&id).target_id(*target).send()
        })
        .await;
    }
    id
}

/// An organization set up by hand over the years.
async fn seed(emulator: &Emulator) -> Seeded {
    let accounts = seed_organization(emulator).await;
    let config = sdk_config(emulator, None).await;
    let org = aws_sdk_organizations::Client::new(&config);
    let root = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    org.enable_policy_type()
        .root_id(&root)
        .policy_type(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .expect("enable SCPs");
    let security = ou(&org, &root, "Security").await;
    let workloads = ou(&org, &root, "Workloads").await;
    let production = ou(&org, &workloads, "Production").await;
    let staging = ou(&org, &workloads, "Staging").await;
    ou(&org, &root, "Sandbox").await;
    for (account, to) in [
        ("log-archive", &security),
        ("audit", &security),
        ("prod-app", &production),
        ("prod-data", &production),
        ("staging-app", &staging),
    ] {
        org.move_account()
            .account_id(&accounts[account])
            .source_parent_id(&root)
            .destination_parent_id(to)
            .send()
            .await
            .expect("move account");
    }

    let mut policies = BTreeMap::new();
    policies.insert(
        "deny-leave-organization".to_string(),
        policy(&org, "deny-leave-organization", "", DENY_LEAVE, &[&root]).await,
    );
    policies.insert(
        "region lock".to_string(),
        policy(
            &org,
            "region lock",
            "Only our two regions (written by hand in 2019)",
            REGION_LOCK,
            &[&workloads, &accounts["audit"]],
        )
        .await,
    );
    policies.insert(
        CONTROL_TOWER_SCP.to_string(),
        policy(&org, CONTROL_TOWER_SCP, "", GUARDRAIL, &[&security]).await,
    );

    // Password policies: strict where the auditors look, weaker in production, a default
    // from long ago in staging-app, none in prod-data.
    let strict = |iam: aws_sdk_iam::Client| async move {
        iam.update_account_password_policy()
            .minimum_password_length(14)
            .require_symbols(true)
            .require_numbers(true)
            .require_uppercase_characters(true)
            .require_lowercase_characters(true)
            .password_reuse_prevention(24)
            .max_password_age(90)
            .allow_users_to_change_password(true)
            .send()
            .await
            .expect("password policy");
    };
    for account in [None, Some("log-archive"), Some("audit")] {
        let account = account.map(|a| accounts[a].as_str());
        strict(aws_sdk_iam::Client::new(
            &sdk_config(emulator, account).await,
        ))
        .await;
    }
    aws_sdk_iam::Client::new(&sdk_config(emulator, Some(&accounts["prod-app"])).await)
        .update_account_password_policy()
        .minimum_password_length(12)
        .require_symbols(true)
        .require_numbers(true)
        .allow_users_to_change_password(true)
        .send()
        .await
        .expect("password policy");
    aws_sdk_iam::Client::new(&sdk_config(emulator, Some(&accounts["staging-app"])).await)
        .update_account_password_policy()
        .minimum_password_length(8)
        .allow_users_to_change_password(false)
        .hard_expiry(true)
        .max_password_age(30)
        .send()
        .await
        .expect("password policy");

    let trail_bucket = seed_trails(emulator, &accounts).await;
    seed_config(emulator, &accounts).await;
    seed_security_hub(emulator, &accounts).await;
    seed_keys(emulator, &accounts).await;
    seed_backup(emulator, &accounts).await;
    Seeded {
        policies,
        trail_bucket,
    }
}

/// The member accounts, in order.
const MEMBERS: &[&str] = &[
    "log-archive",
    "audit",
    "prod-app",
    "prod-data",
    "staging-app",
];

/// AWS Config, turned on by hand in us-east-1 only (never in eu-west-1), in every member
/// account, delivering to one bucket in log-archive, with one AWS managed rule.
async fn seed_config(emulator: &Emulator, accounts: &BTreeMap<String, String>) {
    let archive = sdk_config(emulator, Some(&accounts["log-archive"])).await;
    let bucket = format!("org-config-logs-{}", accounts["log-archive"]);
    let config = serde_json::json!({"Service": "config.amazonaws.com"});
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "AWSConfigBucketPermissionsCheck", "Effect": "Allow", "Principal": config,
             "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{bucket}")},
            {"Sid": "AWSConfigBucketExistenceCheck", "Effect": "Allow", "Principal": config,
             "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{bucket}")},
            {"Sid": "AWSConfigBucketDelivery", "Effect": "Allow", "Principal": config,
             "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/AWSLogs/*/Config/*"),
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}
        ]
    });
    console_bucket(
        &aws_sdk_s3::Client::new(&archive),
        &bucket,
        &policy.to_string(),
    )
    .await;
    let mut configs = Vec::new();
    for name in MEMBERS {
        let member = sdk_config(emulator, Some(&accounts[*name])).await;
        aws_sdk_iam::Client::new(&member)
            .create_service_linked_role()
            .aws_service_name("config.amazonaws.com")
            .send()
            .await
            .expect("Config's service-linked role");
        configs.push((accounts[*name].clone(), member));
    }
    after_consistency_window().await;
    for (account, member) in configs {
        use aws_sdk_config::types::*;
        let cfg = aws_sdk_config::Client::new(&member);
        cfg.put_configuration_recorder()
            .configuration_recorder(
                ConfigurationRecorder::builder()
                    .name("default")
                    .role_arn(format!("arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"))
                    .recording_group(
                        RecordingGroup::builder()
                            .all_supported(true)
                            .include_global_resource_types(true)
                            .build(),
                    )
                    .build(),
            )
            .send()
            .await
            .expect("recorder");
        cfg.put_delivery_channel()
            .delivery_channel(
                DeliveryChannel::builder()
                    .name("default")
                    .s3_bucket_name(&bucket)
                    .build(),
            )
            .send()
            .await
            .expect("delivery channel");
        cfg.start_configuration_recorder()
            .configuration_recorder_name("default")
            .send()
            .await
            .expect("start recording");
        cfg.put_config_rule()
            .config_rule(
                ConfigRule::builder()
                    .config_rule_name("iam-password-policy")
                    .source(
                        Source::builder()
                            .owner(Owner::Aws)
                            .source_identifier("IAM_PASSWORD_POLICY")
                            .build()
                            .unwrap(),
                    )
                    .input_parameters(r#"{"MinimumPasswordLength":"14"}"#)
                    .build(),
            )
            .send()
            .await
            .expect("config rule");
    }
}

/// Security Hub with its default standards in the workload accounts, in both regions for
/// production and in us-east-1 only for staging.
async fn seed_security_hub(emulator: &Emulator, accounts: &BTreeMap<String, String>) {
    for (name, regions) in [
        ("prod-app", &["us-east-1", "eu-west-1"][..]),
        ("prod-data", &["us-east-1", "eu-west-1"][..]),
        ("staging-app", &["us-east-1"][..]),
    ] {
        for region in regions {
            let config = sdk_config_in(emulator, Some(&accounts[name]), region).await;
            aws_sdk_securityhub::Client::new(&config)
                .enable_security_hub()
                .enable_default_standards(true)
                .send()
                .await
                .expect("Security Hub");
        }
    }
}

/// Keys in audit: one rotating every 180 days, one imported long ago that does not rotate.
async fn seed_keys(emulator: &Emulator, accounts: &BTreeMap<String, String>) {
    let kms = aws_sdk_kms::Client::new(&sdk_config(emulator, Some(&accounts["audit"])).await);
    let mut ids = Vec::new();
    for alias in ["alias/audit-reports", "alias/legacy-import"] {
        let id = kms
            .create_key()
            .send()
            .await
            .unwrap()
            .key_metadata()
            .unwrap()
            .key_id()
            .to_string();
        eventually(&["NotFoundException"], || {
            kms.create_alias()
                .alias_name(alias)
                .target_key_id(&id)
                .send()
        })
        .await;
        ids.push(id);
    }
    kms.enable_key_rotation()
        .key_id(&ids[0])
        .rotation_period_in_days(180)
        .send()
        .await
        .expect("rotation");
}

/// AWS Backup set up by hand in us-east-1: in production a locked vault, a daily plan and a
/// tag selection with the team's own role; staging-app has a vault of the same name without
/// the lock.
async fn seed_backup(emulator: &Emulator, accounts: &BTreeMap<String, String>) {
    use aws_sdk_backup::types::*;
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]
    });
    let mut clients = Vec::new();
    for name in ["prod-app", "prod-data"] {
        let config = sdk_config(emulator, Some(&accounts[name])).await;
        aws_sdk_iam::Client::new(&config)
            .create_role()
            .role_name("backup-operator")
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .expect("backup role");
        clients.push((accounts[name].clone(), aws_sdk_backup::Client::new(&config)));
    }
    after_consistency_window().await;
    for (account, backup) in clients {
        backup
            .create_backup_vault()
            .backup_vault_name("central")
            .send()
            .await
            .expect("vault");
        backup
            .put_backup_vault_lock_configuration()
            .backup_vault_name("central")
            .min_retention_days(7)
            .max_retention_days(365)
            .send()
            .await
            .expect("vault lock");
        let plan = backup
            .create_backup_plan()
            .backup_plan(
                BackupPlanInput::builder()
                    .backup_plan_name("daily")
                    .rules(
                        BackupRuleInput::builder()
                            .rule_name("daily")
                            .target_backup_vault_name("central")
                            .schedule_expression("cron(0 5 ? * * *)")
                            .lifecycle(Lifecycle::builder().delete_after_days(35).build())
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("backup plan");
        backup
            .create_backup_selection()
            .backup_plan_id(plan.backup_plan_id().unwrap())
            .backup_selection(
                BackupSelection::builder()
                    .selection_name("tagged-daily")
                    .iam_role_arn(format!("arn:aws:iam::{account}:role/backup-operator"))
                    .list_of_tags(
                        Condition::builder()
                            .condition_type(ConditionType::Stringequals)
                            .condition_key("backup")
                            .condition_value("daily")
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .expect("backup selection");
    }
    let staging = sdk_config(emulator, Some(&accounts["staging-app"])).await;
    aws_sdk_backup::Client::new(&staging)
        .create_backup_vault()
        .backup_vault_name("central")
        .send()
        .await
        .expect("vault");
}

/// Every file under `dir`, by relative path.
fn files(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    out
}

/// The text of a file's comments, each run of comment lines joined into one line.
fn comments(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        match line.trim_start().strip_prefix("//") {
            Some(c) => {
                out.push_str(c.trim());
                out.push(' ');
            }
            None => out.push('\n'),
        }
    }
    out
}

fn path(dir: &Path) -> &str {
    dir.to_str().expect("utf-8 path")
}

#[tokio::test(flavor = "multi_thread")]
async fn import_then_plan_changes_nothing_but_adoptions() {
    let emulator = Emulator::start();
    let seeded = seed(&emulator).await;
    let work = tempfile::tempdir().unwrap();
    let first = work.path().join("first");

    let import = baseline(
        &emulator,
        &[
            "import",
            "--out",
            path(&first),
            "--regions",
            "us-east-1,eu-west-1",
        ],
    )
    .expect(0);
    let text = std::fs::read_to_string(first.join("baseline.kdl")).unwrap();
    let context = format!("--- baseline.kdl\n{text}\n--- stderr\n{}", import.stderr);

    // The organization's settings, the OU tree, every account where it sits, the SCPs with
    // their attachments.
    for expected in [
        "organization {\n    policy-types \"SERVICE_CONTROL_POLICY\"\n    trusted-services \"cloudtrail.amazonaws.com\"\n}",
        "organizational-unit \"Workloads\" {",
        "    organizational-unit \"Production\"",
        "organizational-unit \"Sandbox\"",
        "account \"prod-app\" ou=\"Workloads/Production\"",
        "// the management account\naccount ",
        "service-control-policy \"deny-leave-organization\" {",
        "    document file=\"policies/deny-leave-organization.json\"",
        "    attach root=#true",
        "service-control-policy \"region lock\" {",
        "    description \"Only our two regions (written by hand in 2019)\"",
        "    document file=\"policies/region-lock.json\"",
        "    attach ou=\"Workloads\"",
        "    attach account=\"audit\"",
        // Where it came from.
        &format!("// SCP {}", seeded.policies["region lock"]),
    ] {
        assert!(text.contains(expected), "missing {expected:?}\n{context}");
    }
    // The hand-written document, as the policy holds it (its order of keys), pretty-printed.
    let region_lock = std::fs::read_to_string(first.join("policies/region-lock.json")).unwrap();
    assert!(
        region_lock.starts_with("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": {\n"),
        "{region_lock}"
    );
    // Control Tower's SCP (and AWS's FullAWSAccess) are not declared; a comment says why.
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with(&format!("service-control-policy \"{CONTROL_TOWER_SCP}\""))),
        "{context}"
    );
    assert!(!text.contains("FullAWSAccess"), "{context}");
    let ct = format!(
        "service-control-policy \"{CONTROL_TOWER_SCP}\" ({}), not imported: managed by AWS Control Tower",
        seeded.policies[CONTROL_TOWER_SCP]
    );
    assert!(comments(&text).contains(&ct), "{context}");
    assert!(
        import.stderr.contains(&format!(
            "{CONTROL_TOWER_SCP}\" ({}): managed by AWS Control Tower",
            seeded.policies[CONTROL_TOWER_SCP]
        )),
        "{context}"
    );
    // Password policies: the strict one where most accounts hold it, the others per account
    // (or OU), none where there is none.
    for expected in [
        "password-policy {",
        "password-policy \"prod-app\" {",
        "password-policy \"workloads-staging\" {",
        "        account \"prod-app\"",
        "    min-length 12",
        "    require \"symbols\" \"numbers\"",
        "    allow-users-to-change #false",
        "    hard-expiry #true",
    ] {
        assert!(text.contains(expected), "missing {expected:?}\n{context}");
    }
    assert!(
        import.stderr.contains("baseline plan"),
        "the next step: {}",
        import.stderr
    );

    // The console's trail with its bucket and key; Control Tower's trail is named, not
    // declared, and neither is its bucket.
    for expected in [
        "kms-key \"cloudtrail-logs\" {\n    alias \"alias/cloudtrail-logs\"\n    description \"The key created by CloudTrail to encrypt log files\"\n    rotation #false\n    keep-policy\n}".to_string(),
        format!("log-bucket \"{0}\" {{\n    bucket-name \"{0}\"\n    versioning #false\n    keep-policy\n}}", seeded.trail_bucket),
        format!("organization-trail \"{CONSOLE_TRAIL}\" {{\n    bucket \"{}\"\n    kms-key \"cloudtrail-logs\"\n}}", seeded.trail_bucket),
    ] {
        assert!(text.contains(&expected), "missing {expected:?}\n{context}");
    }
    for expected in [
        format!("organization-trail \"{CONTROL_TOWER_TRAIL}\" (arn:aws:cloudtrail:us-east-1:123456789012:trail/{CONTROL_TOWER_TRAIL}), not imported: managed by AWS Control Tower"),
        "note: its bucket policy has none of baseline's statements".to_string(),
    ] {
        assert!(comments(&text).contains(&expected), "missing {expected:?}\n{context}");
    }
    assert!(!text.contains("aws-controltower-logs"), "{context}");
    assert!(
        import.stderr.contains(CONTROL_TOWER_TRAIL) && import.stderr.contains("note: log-bucket"),
        "{context}"
    );

    // Config where it is (us-east-1, every member account), into the log archive's bucket;
    // Security Hub per region; key rotation where keys rotate.
    for expected in [
        "config-recorder {\n    targets {\n        ou \"Security\" \"Workloads\"\n        regions \"us-east-1\"\n    }\n    delivery bucket=\"org-config-logs\"\n    rule \"iam-password-policy\" identifier=\"IAM_PASSWORD_POLICY\" {\n        parameter \"MinimumPasswordLength\" \"14\"\n    }\n}",
        "log-bucket \"org-config-logs\" {\n    account \"log-archive\"\n    versioning #false\n    keep-policy\n}",
        "security-hub {\n    targets {\n        ou \"Workloads/Production\"\n    }",
        "security-hub \"workloads-staging-us-east-1\" {\n    targets {\n        ou \"Workloads/Staging\"\n        regions \"us-east-1\"\n    }",
        "    standard \"aws-foundational-security-best-practices\"\n    standard \"cis-aws-foundations-benchmark\" version=\"1.2.0\"\n",
        "kms-rotation {\n    targets {\n        account \"audit\"\n        regions \"us-east-1\"\n    }\n    period-days 180\n    exclude-aliases \"alias/legacy-import\"\n}",
    ] {
        assert!(text.contains(expected), "missing {expected:?}\n{context}");
    }

    // Backup in production; staging-app's vault of the same name differs, and is named.
    for expected in [
        "backup-vault \"central\" {\n    targets {\n        ou \"Workloads/Production\"\n        regions \"us-east-1\"\n    }\n    lock min-retention-days=7 max-retention-days=365\n}",
        "backup-plan \"daily\" {\n    targets {\n        ou \"Workloads/Production\"\n        regions \"us-east-1\"\n    }\n    vault \"central\"\n    rule \"daily\" schedule=\"cron(0 5 ? * * *)\" delete-after-days=35\n    selection \"tagged-daily\" tag=\"backup\" value=\"daily\" role=\"backup-operator\"\n}",
    ] {
        assert!(text.contains(expected), "missing {expected:?}\n{context}");
    }
    assert!(
        comments(&text).contains(
            "backup-vault \"central\" in staging-app (us-east-1), not imported: it differs there"
        ),
        "{context}"
    );

    // It is a valid baseline, formatted as fmt formats it.
    baseline(&emulator, &["validate", path(&first)]).expect(0);
    baseline(&emulator, &["fmt", "--check", path(&first)]).expect(0);

    // Import wrote nothing into AWS: no tag on what it read.
    let org = aws_sdk_organizations::Client::new(&sdk_config(&emulator, None).await);
    for id in seeded.policies.values() {
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

    // The plan changes no attribute: it adopts (tags) what is untagged (OUs, SCPs, the
    // trail, its bucket and key), which the issue leaves to apply.
    let plan = baseline(
        &emulator,
        &[
            "plan",
            path(&first),
            "--format",
            "json",
            "--detailed-exitcode",
        ],
    );
    let doc: serde_json::Value = serde_json::from_str(&plan.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", plan.stdout, plan.stderr));
    let changes = doc["changes"].as_array().unwrap();
    let unexpected: Vec<&serde_json::Value> = changes
        .iter()
        .filter(|c| c["action"] != "adopt" || !c["attributes"].as_array().unwrap().is_empty())
        .collect();
    assert!(
        unexpected.is_empty() && doc["errors"].as_array().unwrap().is_empty(),
        "import then plan should change nothing but adopt:\n{}\n{}",
        serde_json::to_string_pretty(&doc).unwrap(),
        plan.stderr
    );
    let adopted: BTreeSet<&str> = changes
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    let bucket_address = format!("log-bucket.{}[master/us-east-1]", seeded.trail_bucket);
    for expected in [
        "kms-key.cloudtrail-logs[master/us-east-1]",
        bucket_address.as_str(),
        "log-bucket.org-config-logs[log-archive/us-east-1]",
        "organization-trail.management-events[master/us-east-1]",
        "organizational-unit.Sandbox",
        "organizational-unit.Workloads/Production",
        "service-control-policy.deny-leave-organization",
        "service-control-policy.region lock",
        "config-rule.iam-password-policy[prod-app/us-east-1]",
        "security-hub.default[prod-data/eu-west-1]",
        "security-hub.workloads-staging-us-east-1[staging-app/us-east-1]",
        "backup-vault.central[prod-app/us-east-1]",
        "backup-plan.daily[prod-data/us-east-1]",
    ] {
        assert!(
            adopted.contains(expected),
            "{expected} is not adopted\n{}",
            plan.stdout
        );
    }
    assert_eq!(plan.code, 2, "adoptions are changes: {}", plan.stderr);

    // A second import of the same organization writes the same files.
    let second = work.path().join("second");
    baseline(
        &emulator,
        &["import", path(&second), "--regions", "us-east-1,eu-west-1"],
    )
    .expect(0);
    assert_eq!(files(&first), files(&second));

    // A folder that holds KDL is refused, and left as it was; --force overwrites.
    let before = files(&first);
    let refused = baseline(
        &emulator,
        &[
            "import",
            "--out",
            path(&first),
            "--regions",
            "us-east-1,eu-west-1",
        ],
    )
    .expect(1);
    assert!(
        refused.stderr.contains("already holds KDL") && refused.stderr.contains("--force"),
        "{}",
        refused.stderr
    );
    assert_eq!(files(&first), before);
    baseline(
        &emulator,
        &[
            "import",
            "--out",
            path(&first),
            "--force",
            "--regions",
            "us-east-1,eu-west-1",
        ],
    )
    .expect(0);
    assert_eq!(files(&first), before);

    // Apply adopts (tags) and changes nothing else; then the plan is clean.
    baseline(&emulator, &["apply", path(&first), "--auto-approve"]).expect(0);
    let clean = baseline(&emulator, &["plan", path(&first), "--detailed-exitcode"]);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    let third = work.path().join("third");
    baseline(
        &emulator,
        &["import", path(&third), "--regions", "us-east-1,eu-west-1"],
    )
    .expect(0);
    // Adopted (tagged as baseline's), with the policies kept as they were: the same files.
    assert_eq!(files(&third), before);
    // The documents are still the hand-written ones.
    let described = org
        .describe_policy()
        .policy_id(&seeded.policies["region lock"])
        .send()
        .await
        .unwrap();
    assert_eq!(described.policy().unwrap().content(), Some(REGION_LOCK));
}
