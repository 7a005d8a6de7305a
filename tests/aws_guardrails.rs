//! The account guard rails against the emulator: account-level S3 Block Public Access, EBS
//! encryption by default with a declared key, GuardDuty with its delegated administrator,
//! an organization IAM Access Analyzer with its findings, and the credential report's
//! findings. Each is created, converged, then drifted out of band (Block Public Access off,
//! default encryption off, a detector disabled, the analyzer deleted); the plan holds
//! exactly that drift, and apply repairs it.

mod support;

use support::*;

const GUARD_RAILS: &str = r#"
settings { default-regions "us-east-1" }
organization {
    trusted-services "access-analyzer.amazonaws.com"
    delegated-administrator "access-analyzer.amazonaws.com" account="audit"
}
kms-key "ebs" {
    account "prod-app"
    alias "alias/ebs-default"
}
account-public-access-block {
    targets { account "prod-app" "prod-data" }
}
ebs-encryption {
    targets { account "prod-app" }
    kms-key "ebs"
}
guardduty {
    targets { account "audit" "prod-app" }
    features "S3_DATA_EVENTS" "EBS_MALWARE_PROTECTION"
    administrator "audit"
    auto-enable "all"
}
access-analyzer "organization" {
    account "audit"
    type "organization"
    include-findings
}
credential-hygiene {
    targets { account "prod-app" }
}
"#;

const BLOCK: &str = "account-public-access-block.default[prod-app]";
const EBS: &str = "ebs-encryption.default[prod-app/us-east-1]";
const DETECTOR: &str = "guardduty.default[prod-app/us-east-1]";
const ADMIN_DETECTOR: &str = "guardduty.default[audit/us-east-1]";
const ANALYZER: &str = "access-analyzer.organization[audit/us-east-1]";

/// S3 Control at the emulator as given (the SDK would put the account id in front of the
/// host, which only AWS's own hosts serve).
#[derive(Debug)]
struct AtEmulator(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for AtEmulator {
    fn resolve_endpoint<'a>(
        &'a self,
        _: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn guard_rails_converge_and_exactly_the_drift_is_repaired() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let (prod_app, audit) = (&accounts["prod-app"], &accounts["audit"]);

    // What the findings come from: a user who signs in without MFA, and a role that an
    // account outside the organization may assume.
    let app = sdk_config(&emulator, Some(prod_app)).await;
    let iam = aws_sdk_iam::Client::new(&app);
    iam.create_user().user_name("alice").send().await.unwrap();
    iam.create_login_profile()
        .user_name("alice")
        .password("Correct-Horse-Battery-9")
        .send()
        .await
        .unwrap();
    let external = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"}}]});
    iam.create_role()
        .role_name("vendor-access")
        .assume_role_policy_document(external.to_string())
        .send()
        .await
        .unwrap();

    let dir = baseline_dir(GUARD_RAILS, &[]);
    let root = dir.path().to_str().unwrap();
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    // The two accounts' Block Public Access change alike: shown once, for both.
    for address in [
        "account-public-access-block.default",
        EBS,
        DETECTOR,
        ADMIN_DETECTOR,
        ANALYZER,
    ] {
        assert!(
            plan.planned().iter().any(|p| p == address),
            "{address}\n{}",
            plan.stdout
        );
    }
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    // Converged: only findings are left, which no API call remedies.
    let converged = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(3);
    assert!(converged.planned().is_empty(), "{}", converged.stdout);
    for finding in [
        "user alice signs in to the console without MFA (CIS 1.10)",
        &format!("arn:aws:iam::{prod_app}:role/vendor-access"),
        "shared outside the zone of trust with AWS arn:aws:iam::999999999999:root",
    ] {
        assert!(
            converged.stdout.contains(finding),
            "{finding}\n{}",
            converged.stdout
        );
    }

    // Seen by independent clients.
    let s3control = aws_sdk_s3control::Client::from_conf(
        aws_sdk_s3control::config::Builder::from(&app)
            .endpoint_resolver(AtEmulator(emulator.endpoint.clone()))
            .build(),
    );
    let block = s3control
        .get_public_access_block()
        .account_id(prod_app)
        .send()
        .await
        .unwrap()
        .public_access_block_configuration
        .unwrap();
    assert_eq!(block.block_public_policy(), Some(true));
    assert_eq!(block.restrict_public_buckets(), Some(true));
    let ec2 = aws_sdk_ec2::Client::new(&app);
    let ebs_key = ec2
        .get_ebs_default_kms_key_id()
        .send()
        .await
        .unwrap()
        .kms_key_id
        .unwrap();
    let kms = aws_sdk_kms::Client::new(&app);
    // (KMS resolves an alias it has just created after a moment.)
    let key_arn = eventually(&["NotFoundException"], || {
        kms.describe_key().key_id("alias/ebs-default").send()
    })
    .await
    .key_metadata
    .unwrap()
    .arn
    .unwrap();
    assert_eq!(ebs_key, key_arn);
    let management_gd = aws_sdk_guardduty::Client::new(&sdk_config(&emulator, None).await);
    let admins = management_gd
        .list_organization_admin_accounts()
        .send()
        .await
        .unwrap();
    assert_eq!(
        admins.admin_accounts()[0].admin_account_id(),
        Some(audit.as_str())
    );
    let audit_gd = aws_sdk_guardduty::Client::new(&sdk_config(&emulator, Some(audit)).await);
    let audit_detector = audit_gd
        .list_detectors()
        .send()
        .await
        .unwrap()
        .detector_ids()[0]
        .clone();
    let org_config = audit_gd
        .describe_organization_configuration()
        .detector_id(&audit_detector)
        .send()
        .await
        .unwrap();
    assert_eq!(
        org_config
            .auto_enable_organization_members()
            .map(|m| m.as_str()),
        Some("ALL")
    );

    // Drift, out of band.
    s3control
        .put_public_access_block()
        .account_id(prod_app)
        .public_access_block_configuration(
            aws_sdk_s3control::types::PublicAccessBlockConfiguration::builder()
                .block_public_acls(true)
                .ignore_public_acls(true)
                .block_public_policy(false)
                .restrict_public_buckets(false)
                .build(),
        )
        .send()
        .await
        .unwrap();
    ec2.disable_ebs_encryption_by_default()
        .send()
        .await
        .unwrap();
    let gd = aws_sdk_guardduty::Client::new(&app);
    let detector = gd.list_detectors().send().await.unwrap().detector_ids()[0].clone();
    gd.update_detector()
        .detector_id(&detector)
        .enable(false)
        .send()
        .await
        .unwrap();
    let aa = aws_sdk_accessanalyzer::Client::new(&sdk_config(&emulator, Some(audit)).await);
    aa.delete_analyzer()
        .analyzer_name("organization")
        .send()
        .await
        .unwrap();

    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        sorted(drift.planned()),
        sorted(vec![
            ANALYZER.to_string(),
            BLOCK.to_string(),
            EBS.to_string(),
            DETECTOR.to_string()
        ]),
        "{}",
        drift.stdout
    );
    for changed in [
        "block-public-policy",
        "restrict-public-buckets",
        "encrypted-by-default",
    ] {
        assert!(drift.shows_changed(changed), "{changed}\n{}", drift.stdout);
    }
    for unchanged in ["block-public-acls", "kms-key", "features"] {
        assert!(
            !drift.shows_changed(unchanged),
            "{unchanged}\n{}",
            drift.stdout
        );
    }
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    let repaired = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(3);
    assert!(repaired.planned().is_empty(), "{}", repaired.stdout);
    let status = gd
        .get_detector()
        .detector_id(&detector)
        .send()
        .await
        .unwrap()
        .status;
    assert_eq!(
        status,
        Some(aws_sdk_guardduty::types::DetectorStatus::Enabled)
    );
}

#[test]
fn validate_names_an_unknown_guardduty_feature_and_zone_of_trust() {
    let dir = baseline_dir(
        "guardduty {\n    targets { all-accounts }\n    features \"S3_DATA_EVENTS\" \"S3_PROTECTION\"\n}\naccess-analyzer \"org\" {\n    type \"everyone\"\n}\n",
        &[],
    );
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("baseline.kdl:3:31"), "{stderr}");
    assert!(
        stderr.contains("GuardDuty has no feature \"S3_PROTECTION\""),
        "{stderr}"
    );
    assert!(stderr.contains("baseline.kdl:6:10"), "{stderr}");
    assert!(
        stderr.contains("\"everyone\" is not a zone of trust"),
        "{stderr}"
    );
}
