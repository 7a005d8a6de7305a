//! `baseline import` against the emulator, seeded with a messy organization built by hand:
//! SCPs written with other key orders and whitespace, one Control Tower put there, different
//! password policies per account. Import, then validate, fmt --check and plan: the plan
//! changes nothing but the adoption of what is untagged; a second import gives the same
//! files; a folder that holds KDL is refused without --force.

mod support;

use std::collections::BTreeMap;
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
    accounts: BTreeMap<String, String>,
    /// SCP name -> id.
    policies: BTreeMap<String, String>,
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

    Seeded { accounts, policies }
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

fn path(dir: &Path) -> &str {
    dir.to_str().expect("utf-8 path")
}

#[tokio::test(flavor = "multi_thread")]
async fn import_then_plan_changes_nothing_but_adoptions() {
    let emulator = Emulator::start();
    let seeded = seed(&emulator).await;
    let work = tempfile::tempdir().unwrap();
    let first = work.path().join("first");

    let import = baseline(&emulator, &["import", "--out", path(&first)]).expect(0);
    let text = std::fs::read_to_string(first.join("baseline.kdl")).unwrap();
    let context = format!("--- baseline.kdl\n{text}\n--- stderr\n{}", import.stderr);

    // The OU tree, every account where it sits, the SCPs with their attachments.
    for expected in [
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
        "// service-control-policy \"{CONTROL_TOWER_SCP}\" ({}): managed by AWS Control Tower, not imported",
        seeded.policies[CONTROL_TOWER_SCP]
    );
    assert!(text.contains(&ct), "{context}");
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

    // The plan changes no attribute: it only adopts what is untagged (OUs and SCPs).
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
    let not_adoption: Vec<&serde_json::Value> = changes
        .iter()
        .filter(|c| c["action"] != "adopt" || !c["attributes"].as_array().unwrap().is_empty())
        .collect();
    assert!(
        not_adoption.is_empty() && doc["errors"].as_array().unwrap().is_empty(),
        "import then plan should change nothing but adopt:\n{}\n{}",
        serde_json::to_string_pretty(&doc).unwrap(),
        plan.stderr
    );
    let mut adopted: Vec<&str> = changes
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    adopted.sort();
    assert_eq!(
        adopted,
        vec![
            "organizational-unit.Sandbox",
            "organizational-unit.Security",
            "organizational-unit.Workloads",
            "organizational-unit.Workloads/Production",
            "organizational-unit.Workloads/Staging",
            "service-control-policy.deny-leave-organization",
            "service-control-policy.region lock",
        ],
        "{}",
        plan.stdout
    );
    assert_eq!(plan.code, 2, "adoptions are changes: {}", plan.stderr);

    // A second import of the same organization writes the same files.
    let second = work.path().join("second");
    baseline(&emulator, &["import", path(&second)]).expect(0);
    assert_eq!(files(&first), files(&second));

    // A folder that holds KDL is refused, and left as it was; --force overwrites.
    let before = files(&first);
    let refused = baseline(&emulator, &["import", "--out", path(&first)]).expect(1);
    assert!(
        refused.stderr.contains("already holds KDL") && refused.stderr.contains("--force"),
        "{}",
        refused.stderr
    );
    assert_eq!(files(&first), before);
    baseline(&emulator, &["import", "--out", path(&first), "--force"]).expect(0);
    assert_eq!(files(&first), before);

    // Apply adopts (tags) and changes nothing else; then the plan is clean.
    baseline(&emulator, &["apply", path(&first), "--auto-approve"]).expect(0);
    let clean = baseline(&emulator, &["plan", path(&first), "--detailed-exitcode"]);
    assert_eq!(clean.code, 0, "{}\n{}", clean.stdout, clean.stderr);
    // The documents are still the hand-written ones.
    let described = org
        .describe_policy()
        .policy_id(&seeded.policies["region lock"])
        .send()
        .await
        .unwrap();
    assert_eq!(described.policy().unwrap().content(), Some(REGION_LOCK));
    let _ = &seeded.accounts;
}
