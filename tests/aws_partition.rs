//! Partitions: in AWS China (and GovCloud) every ARN baseline writes names the caller's
//! partition, AWS Organizations answers only at its partition's endpoint region, and drift
//! findings name the partition's Security Hub product. Nothing may assume `aws`.

mod support;

use support::*;

const REGION: &str = "cn-north-1";
/// AWS Organizations' one endpoint region in the aws-cn partition.
const ORGANIZATIONS_REGION: &str = "cn-northwest-1";

const BASELINE: &str = r##"
settings { default-regions "cn-north-1" }
organization { policy-types "SERVICE_CONTROL_POLICY" }
service-control-policy "deny-leave-organization" {
    document #"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#
    attach root=#true
}
kms-key "logs" {
    account "log-archive"
    alias "alias/logs"
}
log-bucket "logs" {
    account "log-archive"
    kms-key "logs"
}
security-hub {
    targets { all-accounts }
    standard "aws-foundational-security-best-practices"
}
password-policy {
    targets { all-accounts }
    min-length 14
}
"##;

/// Run `baseline` with the caller in AWS China.
fn baseline_cn(emulator: &Emulator, args: &[&str]) -> Run {
    baseline_with(emulator, &[("AWS_REGION", REGION)], args)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_arn_and_endpoint_follows_the_callers_partition() {
    let emulator = Emulator::start();
    let org = aws_sdk_organizations::Client::new(
        &sdk_config_in(&emulator, None, ORGANIZATIONS_REGION).await,
    );
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let archive = create_account(&org, "log-archive", None).await;
    let dir = baseline_dir(BASELINE, &[]);
    let root = dir.path().to_str().unwrap();

    baseline_cn(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    // Drift published as findings of the partition's own product (the hub refuses others).
    baseline_cn(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // What was written names aws-cn: the bucket policy's resources, the key policy's
    // principals.
    let config = sdk_config_in(&emulator, None, REGION).await;
    let assumed = aws_sdk_sts::Client::new(&config)
        .assume_role()
        .role_arn(format!(
            "arn:aws-cn:iam::{archive}:role/OrganizationAccountAccessRole"
        ))
        .role_session_name("partition-check")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    let member = config
        .into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(
                aws_credential_types::Credentials::new(
                    c.access_key_id(),
                    c.secret_access_key(),
                    Some(c.session_token().to_string()),
                    None,
                    "tests",
                ),
            ),
        )
        .build();
    let bucket = format!("logs-{archive}");
    let policy = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&member)
            .force_path_style(true)
            .build(),
    )
    .get_bucket_policy()
    .bucket(&bucket)
    .send()
    .await
    .unwrap();
    let policy = policy.policy().unwrap();
    assert!(
        policy.contains(&format!("arn:aws-cn:s3:::{bucket}")) && !policy.contains("arn:aws:"),
        "{policy}"
    );
    let kms = aws_sdk_kms::Client::new(&member);
    let key = eventually(&["NotFoundException"], || {
        kms.describe_key().key_id("alias/logs").send()
    })
    .await;
    let key_policy = kms
        .get_key_policy()
        .key_id(key.key_metadata().unwrap().key_id())
        .policy_name("default")
        .send()
        .await
        .unwrap();
    let key_policy = key_policy.policy().unwrap();
    assert!(
        key_policy.contains(&format!("arn:aws-cn:iam::{archive}:root"))
            && !key_policy.contains("arn:aws:"),
        "{key_policy}"
    );

    // Drift, published to Security Hub as findings of the partition's own product.
    aws_sdk_iam::Client::new(&member)
        .update_account_password_policy()
        .minimum_password_length(8)
        .send()
        .await
        .unwrap();
    baseline_cn(
        &emulator,
        &[
            "plan",
            root,
            "--detailed-exitcode",
            "--publish-findings",
            "--target",
            "password-policy.*",
        ],
    )
    .expect(2);
}
