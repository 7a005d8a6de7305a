//! The logging stack against the emulator: kms-key, log-bucket and organization-trail
//! (created, converged, drift repaired, adopted), and the kms-rotation rule.

mod support;

use support::*;

const STACK: &str = r#"
settings { default-regions "us-east-1" }
// CloudTrail creates an organization trail only with trusted access.
organization { trusted-services "cloudtrail.amazonaws.com" }
kms-key "org-logs" {
    account "log-archive"
    alias "alias/org-logs"
    description "Encrypts the organization's logs"
    rotation period-days=365
}
log-bucket "org-trail-logs" {
    account "log-archive"
    bucket-name "acme-org-trail-logs"
    kms-key "org-logs"
}
organization-trail "org-trail" {
    bucket "org-trail-logs"
    kms-key "org-logs"
    s3-key-prefix "trail"
}
"#;

const KEY: &str = "kms-key.org-logs[log-archive/us-east-1]";
const ORGANIZATION: &str = "organization.default";
const BUCKET: &str = "log-bucket.org-trail-logs[log-archive/us-east-1]";
// The trail lives in the management account, which moto names "master".
const TRAIL: &str = "organization-trail.org-trail[master/us-east-1]";

/// The org-logs key's ARN, as the log-archive account sees it (once KMS resolves the alias
/// an apply has just created).
async fn org_logs_arn(kms: &aws_sdk_kms::Client) -> String {
    eventually(&["NotFoundException"], || {
        kms.describe_key().key_id("alias/org-logs").send()
    })
    .await
    .key_metadata()
    .unwrap()
    .arn()
    .unwrap()
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn logging_stack_converges_and_repairs_drift() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let dir = baseline_dir(STACK, &[]);
    let root = dir.path().to_str().unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        sorted(plan.planned()),
        vec![KEY, BUCKET, TRAIL, ORGANIZATION],
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 3 to create, 0 to adopt, 1 to update"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.shows_line("encryption = \"alias/org-logs\""),
        "{}",
        plan.stdout
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // What AWS holds: the trail (management account) writes to the log-archive bucket,
    // both encrypted with the log-archive key, everything tagged.
    let archive = sdk_config(&emulator, Some(&accounts["log-archive"])).await;
    let management = sdk_config(&emulator, None).await;
    let kms = aws_sdk_kms::Client::new(&archive);
    let s3 = aws_sdk_s3::Client::new(&archive);
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&management);
    let key_arn = org_logs_arn(&kms).await;
    let trail = cloudtrail
        .get_trail()
        .name("org-trail")
        .send()
        .await
        .unwrap()
        .trail
        .unwrap();
    assert_eq!(trail.is_organization_trail(), Some(true));
    assert_eq!(trail.kms_key_id(), Some(key_arn.as_str()));
    assert_eq!(trail.s3_bucket_name(), Some("acme-org-trail-logs"));
    let encryption = s3
        .get_bucket_encryption()
        .bucket("acme-org-trail-logs")
        .send()
        .await
        .unwrap();
    let rule = &encryption
        .server_side_encryption_configuration()
        .unwrap()
        .rules()[0];
    let default = rule.apply_server_side_encryption_by_default().unwrap();
    assert_eq!(default.kms_master_key_id(), Some(key_arn.as_str()));
    assert_eq!(rule.bucket_key_enabled(), Some(true));
    let tags = s3
        .get_bucket_tagging()
        .bucket("acme-org-trail-logs")
        .send()
        .await
        .unwrap();
    assert!(tags
        .tag_set()
        .iter()
        .any(|t| t.key() == "managed-by" && t.value() == "baseline"));

    // Out of band: stop the trail's logging.
    cloudtrail
        .stop_logging()
        .name("org-trail")
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(drift.planned(), vec![TRAIL], "{}", drift.stdout);
    assert!(
        drift.shows_line("logging : false -> true"),
        "{}",
        drift.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Out of band: turn the key's rotation off. The key is declared, so only its own
    // declaration reports it (no kms-rotation rule in this baseline).
    kms.disable_key_rotation()
        .key_id(&key_arn)
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(drift.planned(), vec![KEY], "{}", drift.stdout);
    assert!(
        drift.shows_line("rotation : false -> true"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.shows_line("rotation-period-days : (none) -> 365"),
        "{}",
        drift.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let status = kms
        .get_key_rotation_status()
        .key_id(&key_arn)
        .send()
        .await
        .unwrap();
    assert!(status.key_rotation_enabled());
    assert_eq!(status.rotation_period_in_days(), Some(365));

    // Out of band: suspend versioning, and replace the bucket policy with one statement of
    // another team's; and replace the key policy with the owner's full control and another
    // team's statement (CloudTrail loses its statements).
    s3.put_bucket_versioning()
        .bucket("acme-org-trail-logs")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let audit_read = serde_json::json!({
        "Sid": "AuditTeamReads", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", accounts["audit"])},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-org-trail-logs/*"
    });
    s3.put_bucket_policy()
        .bucket("acme-org-trail-logs")
        .policy(serde_json::json!({"Version": "2012-10-17", "Statement": [audit_read]}).to_string())
        .send()
        .await
        .unwrap();
    let audit_decrypt = serde_json::json!({
        "Sid": "AuditTeamDecrypts", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", accounts["audit"])},
        "Action": "kms:Decrypt", "Resource": "*"
    });
    let owner = serde_json::json!({
        "Sid": "Enable IAM User Permissions", "Effect": "Allow",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", accounts["log-archive"])},
        "Action": "kms:*", "Resource": "*"
    });
    kms.put_key_policy()
        .key_id(&key_arn)
        .policy_name("default")
        .policy(
            serde_json::json!({"Version": "2012-10-17", "Statement": [owner, audit_decrypt]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(drift.planned(), vec![KEY, BUCKET], "{}", drift.stdout);
    assert!(
        drift.shows_line("versioning : false -> true"),
        "{}",
        drift.stdout
    );
    // Only baseline's own statements are drift: the other team's are not shown.
    assert!(drift.stdout.contains("      policy:"), "{}", drift.stdout);
    assert!(
        drift.stdout.contains("\"BaselineCloudTrailWrite\": {")
            && drift
                .stdout
                .contains("\"BaselineCloudTrailEncryptLogs\": {"),
        "{}",
        drift.stdout
    );
    assert!(!drift.stdout.contains("AuditTeam"), "{}", drift.stdout);
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    // The other team's statements are still there, next to baseline's.
    let bucket_policy: serde_json::Value = serde_json::from_str(
        s3.get_bucket_policy()
            .bucket("acme-org-trail-logs")
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    )
    .unwrap();
    let key_policy: serde_json::Value = serde_json::from_str(
        kms.get_key_policy()
            .key_id(&key_arn)
            .policy_name("default")
            .send()
            .await
            .unwrap()
            .policy()
            .unwrap(),
    )
    .unwrap();
    for (policy, theirs, ours) in [
        (&bucket_policy, "AuditTeamReads", "BaselineCloudTrailWrite"),
        (
            &key_policy,
            "AuditTeamDecrypts",
            "BaselineCloudTrailEncryptLogs",
        ),
        (
            &key_policy,
            "Enable IAM User Permissions",
            "BaselineCloudTrailDescribeKey",
        ),
    ] {
        let sids: Vec<&str> = policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["Sid"].as_str())
            .collect();
        assert!(sids.contains(&theirs) && sids.contains(&ours), "{sids:?}");
    }

    // Out of band: schedule the key's deletion. baseline cannot use or recreate a key
    // whose alias still points at it, so the plan fails and says why.
    kms.schedule_key_deletion()
        .key_id(&key_arn)
        .pending_window_in_days(7)
        .send()
        .await
        .unwrap();
    let failed = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(1);
    assert!(
        failed.stderr.contains(KEY) && failed.stderr.contains("pending deletion"),
        "{}",
        failed.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn untagged_key_bucket_and_trail_are_adopted() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let archive = sdk_config(&emulator, Some(&accounts["log-archive"])).await;
    let management = sdk_config(&emulator, None).await;
    let kms = aws_sdk_kms::Client::new(&archive);
    let s3 = aws_sdk_s3::Client::new(&archive);
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&management);

    // Out of band, untagged, with the declared natural keys: a key without rotation, a
    // bucket with a tag of its own and no hardening, a single-region trail that is not an
    // organization trail and does not log. Adopting the trail sets its key prefix, which
    // CloudTrail accepts only once the bucket's policy is baseline's (ordering).
    let key_id = kms
        .create_key()
        .description("made by hand")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .key_id()
        .to_string();
    eventually(&["NotFoundException"], || {
        kms.create_alias()
            .alias_name("alias/org-logs")
            .target_key_id(&key_id)
            .send()
    })
    .await;
    s3.create_bucket()
        .bucket("acme-org-trail-logs")
        .send()
        .await
        .unwrap();
    s3.put_bucket_tagging()
        .bucket("acme-org-trail-logs")
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(
                    aws_sdk_s3::types::Tag::builder()
                        .key("team")
                        .value("security")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // CloudTrail refuses a bucket whose policy does not let it write: a hand-written one,
    // for logs at the top of the bucket only.
    let service = serde_json::json!({"Service": "cloudtrail.amazonaws.com"});
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": service, "Action": "s3:GetBucketAcl",
             "Resource": "arn:aws:s3:::acme-org-trail-logs"},
            {"Effect": "Allow", "Principal": service, "Action": "s3:PutObject",
             "Resource": "arn:aws:s3:::acme-org-trail-logs/AWSLogs/*"}
        ]
    });
    s3.put_bucket_policy()
        .bucket("acme-org-trail-logs")
        .policy(policy.to_string())
        .send()
        .await
        .unwrap();
    cloudtrail
        .create_trail()
        .name("org-trail")
        .s3_bucket_name("acme-org-trail-logs")
        .send()
        .await
        .unwrap();

    let dir = baseline_dir(STACK, &[]);
    let root = dir.path().to_str().unwrap();
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        sorted(plan.planned()),
        vec![KEY, BUCKET, TRAIL, ORGANIZATION],
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 3 to adopt, 1 to update"),
        "{}",
        plan.stdout
    );
    for address in [KEY, BUCKET, TRAIL] {
        assert!(
            plan.stdout.contains(&format!("{address}  (adopt)")),
            "{}",
            plan.stdout
        );
    }
    assert!(
        plan.shows_line("description : \"made by hand\" -> \"Encrypts the organization's logs\""),
        "{}",
        plan.stdout
    );
    assert!(
        plan.shows_line("organization-trail : false -> true"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.shows_line("kms-key : (none) -> \"alias/org-logs\""),
        "{}",
        plan.stdout
    );
    // The hand-made key's policy (KMS's default) lets CloudTrail do nothing: baseline's
    // statements are drift of the adopted key, and are added next to the default one.
    let key_block: String = plan
        .stdout
        .split(&format!("{KEY}  (adopt)"))
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap_or_default()
        .to_string();
    assert!(
        key_block.contains("policy:") && key_block.contains("BaselineCloudTrailEncryptLogs"),
        "{}",
        plan.stdout
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Adoption kept the bucket's own tag and added baseline's; the key is the same key.
    let tags = s3
        .get_bucket_tagging()
        .bucket("acme-org-trail-logs")
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(String, String)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            ("managed-by".to_string(), "baseline".to_string()),
            ("team".to_string(), "security".to_string())
        ]
    );
    assert!(org_logs_arn(&kms).await.ends_with(&key_id));
    let trail = cloudtrail
        .get_trail()
        .name("org-trail")
        .send()
        .await
        .unwrap()
        .trail
        .unwrap();
    assert_eq!(trail.is_organization_trail(), Some(true));
    assert_eq!(trail.is_multi_region_trail(), Some(true));
    assert_eq!(trail.s3_key_prefix(), Some("trail"));
}

const ROTATION: &str = r#"
settings { default-regions "us-east-1" }
kms-rotation {
    targets { all-accounts }
    period-days 180
    exclude-aliases "alias/legacy-import"
}
kms-key "app-data" {
    account "prod-app"
    alias "alias/app-data"
    rotation #false
}
"#;

const RULE_PROD_APP: &str = "kms-rotation.default[prod-app/us-east-1]";

#[tokio::test(flavor = "multi_thread")]
async fn kms_rotation_rule_turns_rotation_on_where_it_is_off() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let dir = baseline_dir(ROTATION, &[]);
    let root = dir.path().to_str().unwrap();

    // With no keys anywhere the rule holds; only the declared key is to create.
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        plan.planned(),
        vec!["kms-key.app-data[prod-app/us-east-1]"],
        "{}",
        plan.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    // The declared key keeps its rotation off: the rule leaves it to its declaration.
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Out of band in prod-app: a key without rotation, a key rotating every 365 days (less
    // often than the rule's 180), a key rotating every 90 days (more often: stricter, so
    // compliant), and keys the rule must ignore (asymmetric, disabled, excluded by alias,
    // AWS managed). KMS may not find a key for a moment after creating it.
    let not_yet = &["NotFoundException"];
    let app = aws_sdk_kms::Client::new(&sdk_config(&emulator, Some(&accounts["prod-app"])).await);
    let create = |spec: Option<aws_sdk_kms::types::KeySpec>| {
        let app = app.clone();
        async move {
            let mut req = app.create_key();
            if let Some(spec) = spec {
                req = req
                    .key_spec(spec)
                    .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify);
            }
            req.send()
                .await
                .unwrap()
                .key_metadata()
                .unwrap()
                .key_id()
                .to_string()
        }
    };
    let unrotated = create(None).await;
    let long_period = create(None).await;
    let short_period = create(None).await;
    for (key, days) in [(&long_period, 365), (&short_period, 90)] {
        eventually(not_yet, || {
            app.enable_key_rotation()
                .key_id(key)
                .rotation_period_in_days(days)
                .send()
        })
        .await;
    }
    let _asymmetric = create(Some(aws_sdk_kms::types::KeySpec::Rsa2048)).await;
    let disabled = create(None).await;
    eventually(not_yet, || app.disable_key().key_id(&disabled).send()).await;
    let legacy = create(None).await;
    eventually(not_yet, || {
        app.create_alias()
            .alias_name("alias/legacy-import")
            .target_key_id(&legacy)
            .send()
    })
    .await;
    // Describing the reserved alias makes KMS create the AWS-managed S3 key (rotated
    // yearly by AWS, not at the rule's 180 days: the rule must not touch it).
    app.describe_key()
        .key_id("alias/aws/s3")
        .send()
        .await
        .unwrap();

    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(drift.planned(), vec![RULE_PROD_APP], "{}", drift.stdout);
    let mut expected = vec![unrotated.clone(), long_period.clone()];
    expected.sort();
    assert!(
        drift.shows_line(&format!(
            "keys-without-rotation : {} -> []",
            serde_json::to_string(&expected).unwrap()
        )),
        "{}",
        drift.stdout
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    for (key, days) in [(&unrotated, 180), (&long_period, 180), (&short_period, 90)] {
        let status = app
            .get_key_rotation_status()
            .key_id(key)
            .send()
            .await
            .unwrap();
        assert!(status.key_rotation_enabled());
        assert_eq!(status.rotation_period_in_days(), Some(days), "{key}");
    }
    for key in [&disabled, &legacy] {
        let status = app
            .get_key_rotation_status()
            .key_id(key)
            .send()
            .await
            .unwrap();
        assert!(!status.key_rotation_enabled(), "{key} was left alone");
    }

    // Out of band: rotation off again on one key.
    app.disable_key_rotation()
        .key_id(&unrotated)
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(drift.planned(), vec![RULE_PROD_APP], "{}", drift.stdout);
    assert!(
        drift.shows_line(&format!("keys-without-rotation : [\"{unrotated}\"] -> []")),
        "{}",
        drift.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
}

/// Bucket names are global: a default name carries the owning account's id, and a declared
/// name that another account owns fails the plan (HeadBucket answers 403) instead of the
/// apply (CreateBucket: BucketAlreadyExists).
#[tokio::test(flavor = "multi_thread")]
async fn bucket_names_carry_the_account_id_and_a_taken_name_fails_the_plan() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    // Someone else (prod-app, as far as log-archive can tell) owns the plain name.
    let other = aws_sdk_s3::Client::new(&sdk_config(&emulator, Some(&accounts["prod-app"])).await);
    other
        .create_bucket()
        .bucket("org-trail-logs")
        .send()
        .await
        .unwrap();

    let dir = baseline_dir(
        "settings { default-regions \"us-east-1\" }\nlog-bucket \"org-trail-logs\" { account \"log-archive\" }\n",
        &[],
    );
    let root = dir.path().to_str().unwrap();
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let archive =
        aws_sdk_s3::Client::new(&sdk_config(&emulator, Some(&accounts["log-archive"])).await);
    archive
        .head_bucket()
        .bucket(format!("org-trail-logs-{}", accounts["log-archive"]))
        .send()
        .await
        .expect("the bucket has the account id in its name");

    let dir = baseline_dir(
        "settings { default-regions \"us-east-1\" }\nlog-bucket \"trail\" {\n    account \"log-archive\"\n    bucket-name \"org-trail-logs\"\n}\n",
        &[],
    );
    let root = dir.path().to_str().unwrap();
    let failed = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(1);
    assert!(
        failed
            .stderr
            .contains("log-bucket.trail[log-archive/us-east-1]")
            && failed
                .stderr
                .contains("the bucket name org-trail-logs is taken by another AWS account"),
        "{}",
        failed.stderr
    );
}
