//! organization, organizational-unit, account and service-control-policy against the
//! emulator: build the sample tree, converge, repair drift made out of band, adopt untagged
//! resources that carry the declared names, and delete a managed SCP no longer declared.

mod support;

use aws_sdk_organizations::types::{PolicyType, Tag};
use aws_sdk_organizations::Client;
use support::*;

const BASELINE: &str = r####"
settings { default-regions "us-east-1" }

organization {
    feature-set "ALL"
    policy-types "SERVICE_CONTROL_POLICY"
    trusted-services "cloudtrail.amazonaws.com" "config.amazonaws.com"
    delegated-administrator "securityhub.amazonaws.com" account="audit"
}

organizational-unit "Security"
organizational-unit "Workloads" {
    organizational-unit "Production"
    organizational-unit "Staging"
}

account "log-archive" ou="Security"
account "audit" ou="Security"
account "prod-app" ou="Workloads/Production"
account "prod-data" ou="Workloads/Production"
account "staging-app" ou="Workloads/Staging"

service-control-policy "deny-leave-organization" {
    description "Member accounts cannot leave the organization"
    document file="policies/deny-leave-organization.json"
    attach ou="Workloads"
    attach account="log-archive"
}

service-control-policy "deny-root-user" {
    description "The root user of a workload account does nothing"
    document #"""
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Sid": "DenyRootUser",
              "Effect": "Deny",
              "Action": "*",
              "Resource": "*",
              "Condition": { "StringLike": { "aws:PrincipalArn": "arn:aws:iam::*:root" } }
            }
          ]
        }
        """#
    attach ou="Workloads/Production"
    attach root=#true
}
"####;

const DENY_LEAVE: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "DenyLeaveOrganization",
      "Effect": "Deny",
      "Action": ["organizations:LeaveOrganization"],
      "Resource": "*"
    }
  ]
}"#;

/// Every instance of BASELINE, in plan order (declaration order; nested OUs first).
const EVERYTHING: &[&str] = &[
    "organization.default",
    "organizational-unit.Security",
    "organizational-unit.Workloads/Production",
    "organizational-unit.Workloads/Staging",
    "organizational-unit.Workloads",
    "account.log-archive",
    "account.audit",
    "account.prod-app",
    "account.prod-data",
    "account.staging-app",
    "service-control-policy.deny-leave-organization",
    "service-control-policy.deny-root-user",
];

async fn management(emulator: &Emulator) -> Client {
    Client::new(&sdk_config(emulator, None).await)
}

async fn root_id(org: &Client) -> String {
    org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string()
}

async fn child_ou(org: &Client, parent: &str, name: &str) -> Option<String> {
    org.list_organizational_units_for_parent()
        .parent_id(parent)
        .send()
        .await
        .unwrap()
        .organizational_units()
        .iter()
        .find(|ou| ou.name() == Some(name))
        .map(|ou| ou.id().unwrap().to_string())
}

/// Ids of the SCPs called `name`.
async fn policies_named(org: &Client, name: &str) -> Vec<String> {
    org.list_policies()
        .filter(PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap()
        .policies()
        .iter()
        .filter(|p| p.name() == Some(name))
        .map(|p| p.id().unwrap().to_string())
        .collect()
}

async fn tags(org: &Client, id: &str) -> Vec<(String, String)> {
    org.list_tags_for_resource()
        .resource_id(id)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

fn managed_by_baseline() -> (String, String) {
    ("managed-by".to_string(), "baseline".to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn organization_tree_converges_and_repairs_drift() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let dir = baseline_dir(
        BASELINE,
        &[("policies/deny-leave-organization.json", DENY_LEAVE)],
    );
    let root = dir.path().to_str().unwrap();

    // The seed created the organization, so it is updated (policy types, trusted access,
    // delegated administrator), not created; the OUs and SCPs are created and the accounts,
    // all in the root, are moved.
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(plan.planned(), EVERYTHING, "{}", plan.stdout);
    for line in [
        "~ organization.default  (update in place)",
        r#"policy-types             : [] -> ["SERVICE_CONTROL_POLICY"]"#,
        r#"trusted-services         : [] -> ["cloudtrail.amazonaws.com","config.amazonaws.com"]"#,
        r#"delegated-administrators : [] -> ["securityhub.amazonaws.com=audit"]"#,
        // Security Hub's administrator is designated by Security Hub itself, per region.
        r#"security-hub-administrator : [] -> ["us-east-1=audit"]"#,
        "+ organizational-unit.Workloads/Production  (create)",
        r#"parent = "Workloads""#,
        "~ account.prod-app  (update in place)",
        r#"ou : "/" -> "Workloads/Production""#,
        "+ service-control-policy.deny-root-user  (create)",
        r#"targets     = ["ou:Workloads/Production","root"]"#,
        r#"targets     = ["account:log-archive","ou:Workloads"]"#,
        "Plan: 6 to create, 0 to adopt, 6 to update",
    ] {
        assert!(
            plan.shows_line(line) || plan.stdout.contains(line),
            "missing {line:?}\n{}",
            plan.stdout
        );
    }
    assert!(!plan.stdout.contains("feature-set"), "{}", plan.stdout);

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let hub = aws_sdk_securityhub::Client::new(&sdk_config(&emulator, None).await);
    let admins = hub.list_organization_admin_accounts().send().await.unwrap();
    assert_eq!(
        admins
            .admin_accounts()
            .iter()
            .map(|a| (
                a.account_id().unwrap_or_default(),
                a.status().map(|s| s.as_str())
            ))
            .collect::<Vec<_>>(),
        vec![(accounts["audit"].as_str(), Some("ENABLED"))]
    );

    // What apply built, seen through the SDK.
    let org = management(&emulator).await;
    let root_id = root_id(&org).await;
    let workloads = child_ou(&org, &root_id, "Workloads").await.unwrap();
    let production = child_ou(&org, &workloads, "Production").await.unwrap();
    assert_eq!(tags(&org, &production).await, vec![managed_by_baseline()]);
    let parents = org
        .list_parents()
        .child_id(&accounts["prod-app"])
        .send()
        .await
        .unwrap();
    assert_eq!(parents.parents()[0].id(), Some(production.as_str()));
    let deny_root = policies_named(&org, "deny-root-user").await;
    assert_eq!(deny_root.len(), 1);
    assert_eq!(tags(&org, &deny_root[0]).await, vec![managed_by_baseline()]);

    // Drift 1: the root loses deny-root-user.
    org.detach_policy()
        .policy_id(&deny_root[0])
        .target_id(&root_id)
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        drift.planned(),
        vec!["service-control-policy.deny-root-user"],
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains(
            r#"targets : ["ou:Workloads/Production"] -> ["ou:Workloads/Production","root"]"#
        ),
        "{}",
        drift.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Drift 2: prod-app is moved out of its OU, to the root.
    org.move_account()
        .account_id(&accounts["prod-app"])
        .source_parent_id(&production)
        .destination_parent_id(&root_id)
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        drift.planned(),
        vec!["account.prod-app"],
        "{}",
        drift.stdout
    );
    assert!(
        drift
            .stdout
            .contains(r#"ou : "/" -> "Workloads/Production""#),
        "{}",
        drift.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Drift 3: trusted access for Config is turned off.
    org.disable_aws_service_access()
        .service_principal("config.amazonaws.com")
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        drift.planned(),
        vec!["organization.default"],
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains(
            r#"trusted-services : ["cloudtrail.amazonaws.com"] -> ["cloudtrail.amazonaws.com","config.amazonaws.com"]"#
        ),
        "{}",
        drift.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn untagged_ou_and_scp_are_adopted_and_undeclared_scp_deleted() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let org = management(&emulator).await;
    let root_id = root_id(&org).await;

    // Out of band, untagged: the Security OU, and deny-root-user with the declared document
    // written differently (key order, whitespace, one-element lists), another description,
    // and no attachments.
    let security = org
        .create_organizational_unit()
        .parent_id(&root_id)
        .name("Security")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    let adopted = org
        .create_policy()
        .name("deny-root-user")
        .description("made by hand")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(
            r#"{"Statement":[{"Resource":["*"],"Condition":{"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:root"]}},"Action":["*"],"Effect":"Deny","Sid":"DenyRootUser"}],
               "Version":"2012-10-17"}"#,
        )
        .send()
        .await
        .unwrap()
        .policy()
        .unwrap()
        .policy_summary()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    // Not baseline's (another team's tag): never adopted as an orphan nor deleted.
    org.create_policy()
        .name("team-guardrail")
        .description("someone else's")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(DENY_LEAVE)
        .tags(
            Tag::builder()
                .key("managed-by")
                .value("team")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let dir = baseline_dir(
        BASELINE,
        &[("policies/deny-leave-organization.json", DENY_LEAVE)],
    );
    let root = dir.path().to_str().unwrap();
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(plan.planned(), EVERYTHING, "{}", plan.stdout);
    assert!(
        plan.stdout
            .contains("<= organizational-unit.Security  (adopt)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 4 to create, 2 to adopt, 6 to update"),
        "{}",
        plan.stdout
    );
    // The adopted SCP differs in description and targets only: the documents are equal.
    let scp = plan
        .stdout
        .split("<= service-control-policy.deny-root-user  (adopt)")
        .nth(1)
        .expect("deny-root-user is adopted")
        .split("\n\n")
        .next()
        .unwrap();
    assert!(
        scp.contains(
            r#"description : "made by hand" -> "The root user of a workload account does nothing""#
        ),
        "{scp}"
    );
    assert!(
        scp.contains(r#"targets     : [] -> ["ou:Workloads/Production","root"]"#),
        "{scp}"
    );
    assert!(!scp.contains("document"), "{scp}");

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    // Adopted in place: the same OU and policy, now tagged; nothing created twice.
    assert_eq!(
        child_ou(&org, &root_id, "Security").await,
        Some(security.clone())
    );
    assert_eq!(tags(&org, &security).await, vec![managed_by_baseline()]);
    assert_eq!(
        policies_named(&org, "deny-root-user").await,
        vec![adopted.clone()]
    );
    assert_eq!(tags(&org, &adopted).await, vec![managed_by_baseline()]);

    // deny-leave-organization is no longer declared: baseline made it, so it is deleted
    // (detached from Workloads and log-archive first); team-guardrail is not baseline's and stays.
    let without = BASELINE.replace(
        r#"service-control-policy "deny-leave-organization" {"#,
        r#"/-service-control-policy "deny-leave-organization" {"#,
    );
    let dir = baseline_dir(
        &without,
        &[("policies/deny-leave-organization.json", DENY_LEAVE)],
    );
    let root = dir.path().to_str().unwrap();
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        plan.planned(),
        vec!["service-control-policy.deny-leave-organization"],
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "- service-control-policy.deny-leave-organization  (delete: managed by baseline, no longer declared)"
        ),
        "{}",
        plan.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    assert!(policies_named(&org, "deny-leave-organization")
        .await
        .is_empty());
    assert_eq!(policies_named(&org, "team-guardrail").await.len(), 1);
}

/// SCPs attached outside the baseline count against AWS's limit of 10 per target: the plan
/// fails for the SCP that would not fit, naming them, instead of the apply failing on
/// ConstraintViolationException. The shipped SCPs exempt the configured access role.
#[tokio::test(flavor = "multi_thread")]
async fn scps_attached_outside_the_baseline_count_and_documents_name_the_access_role() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let org = aws_sdk_organizations::Client::new(&sdk_config(&emulator, None).await);
    let root_id = org.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_string();
    org.enable_policy_type()
        .root_id(&root_id)
        .policy_type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    // Nine SCPs written by hand years ago, on the root next to FullAWSAccess: the root is
    // full.
    let mut legacy = Vec::new();
    for i in 1..=9 {
        let id = org
            .create_policy()
            .name(format!("legacy-{i}"))
            .description("by hand")
            .r#type(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
            .content(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ec2:DeleteVpc","Resource":"*"}]}"#)
            .send()
            .await
            .unwrap()
            .policy()
            .and_then(|p| p.policy_summary())
            .and_then(|s| s.id())
            .unwrap()
            .to_string();
        eventually(&["PolicyTypeNotEnabledException"], || {
            org.attach_policy()
                .policy_id(&id)
                .target_id(&root_id)
                .send()
        })
        .await;
        legacy.push(id);
    }

    let policies = baselines_dir_policy("protect-security-services.json");
    let baseline_text = r#"
settings { access-role "AcmeAdmin" }
organization { policy-types "SERVICE_CONTROL_POLICY" }
service-control-policy "protect-security-services" {
    document file="policies/protect-security-services.json"
    attach root=#true
}
"#;
    let dir = baseline_dir(
        baseline_text,
        &[("policies/protect-security-services.json", &policies)],
    );
    let root = dir.path().to_str().unwrap();
    let failed = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(1);
    assert!(
        failed
            .stderr
            .contains("service-control-policy.protect-security-services")
            && failed.stderr.contains("would have 11 SCPs")
            && failed.stderr.contains("FullAWSAccess, legacy-1"),
        "{}",
        failed.stderr
    );

    // Room is made by hand: the plan passes, and the document exempts the configured role.
    org.detach_policy()
        .policy_id(&legacy[0])
        .target_id(&root_id)
        .send()
        .await
        .unwrap();
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let listed = org
        .list_policies()
        .filter(aws_sdk_organizations::types::PolicyType::ServiceControlPolicy)
        .send()
        .await
        .unwrap();
    let id = listed
        .policies()
        .iter()
        .find(|p| p.name() == Some("protect-security-services"))
        .and_then(|p| p.id())
        .unwrap();
    let described = org.describe_policy().policy_id(id).send().await.unwrap();
    let content = described.policy().and_then(|p| p.content()).unwrap();
    assert!(
        content.contains("arn:*:iam::*:role/AcmeAdmin") && !content.contains("${baseline:"),
        "{content}"
    );
}

/// A policy file of the shipped baselines.
fn baselines_dir_policy(name: &str) -> String {
    std::fs::read_to_string(repo_root().join("baselines/policies").join(name)).unwrap()
}
