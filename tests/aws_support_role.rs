//! support-role against the emulator (CIS 1.17): created with AWSSupportAccess and the
//! declared trust, converged; drift (the policy detached, baseline's trust statement
//! changed) found exactly and repaired, while another producer's trust statement is kept; a
//! principal IAM cannot resolve refused as AWS refuses it.

mod support;

use support::*;

const ROLE: &str = "baseline-support";
const POLICY: &str = "arn:aws:iam::aws:policy/AWSSupportAccess";
const ADDRESS: &str = "support-role.default[prod-app]";

fn support_baseline(trusted: &str) -> String {
    format!(
        r#"
settings {{ default-regions "us-east-1" }}
support-role {{
    targets {{ account "prod-app" }}
    trusted "{trusted}"
}}
"#
    )
}

/// The role's trust policy, as IAM returns it (URL-encoded JSON), parsed.
async fn trust(iam: &aws_sdk_iam::Client) -> serde_json::Value {
    let role = iam.get_role().role_name(ROLE).send().await.unwrap();
    let text = role.role().unwrap().assume_role_policy_document().unwrap();
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .unwrap();
    serde_json::from_str(&decoded).unwrap()
}

async fn attached(iam: &aws_sdk_iam::Client) -> Vec<String> {
    let out = iam
        .list_attached_role_policies()
        .role_name(ROLE)
        .send()
        .await
        .unwrap();
    out.attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn support_role_converges_keeps_others_trust_and_repairs_drift() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let audit = &accounts["audit"];
    let dir = baseline_dir(&support_baseline(audit), &[]);
    let root = dir.path().to_str().unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(plan.planned(), vec![ADDRESS], "{}", plan.stdout);
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Seen by an independent client: the managed policy, the audit account trusted.
    let iam = aws_sdk_iam::Client::new(&sdk_config(&emulator, Some(&accounts["prod-app"])).await);
    assert_eq!(attached(&iam).await, [POLICY]);
    let doc = trust(&iam).await;
    let statement = &doc["Statement"][0];
    assert_eq!(statement["Sid"], "BaselineSupportTrust");
    assert_eq!(
        principals(statement),
        [format!("arn:aws:iam::{audit}:root")]
    );

    // Drift: the policy detached. Exactly that is planned, and repaired.
    iam.detach_role_policy()
        .role_name(ROLE)
        .policy_arn(POLICY)
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(drift.planned(), vec![ADDRESS], "{}", drift.stdout);
    assert!(
        drift.stdout.contains("managed-policies"),
        "{}",
        drift.stdout
    );
    assert!(!drift.stdout.contains("trusted"), "{}", drift.stdout);
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    assert_eq!(attached(&iam).await, [POLICY]);

    // Another producer adds its own statement: not baseline's, no drift.
    let mut with_other = trust(&iam).await;
    let break_glass = serde_json::json!({
        "Sid": "BreakGlass", "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": format!("arn:aws:iam::{}:root", accounts["log-archive"])}
    });
    with_other["Statement"]
        .as_array_mut()
        .unwrap()
        .push(break_glass.clone());
    iam.update_assume_role_policy()
        .role_name(ROLE)
        .policy_document(with_other.to_string())
        .send()
        .await
        .unwrap();
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // The declaration now trusts prod-data too (and names audit by its account name): the
    // trust is updated, BreakGlass kept.
    let both = format!("audit\" \"{}", accounts["prod-data"]);
    std::fs::write(dir.path().join("baseline.kdl"), support_baseline(&both)).unwrap();
    let change = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(change.planned(), vec![ADDRESS], "{}", change.stdout);
    assert!(change.stdout.contains("trusted"), "{}", change.stdout);
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let doc = trust(&iam).await;
    let mut sids: Vec<&str> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .collect();
    sids.sort_unstable();
    assert_eq!(sids, ["BaselineSupportTrust", "BreakGlass"], "{doc}");
}

/// The AWS principals of a statement, whether IAM wrote one string or a list.
fn principals(statement: &serde_json::Value) -> Vec<String> {
    match &statement["Principal"]["AWS"] {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_principal_iam_cannot_resolve_is_refused_in_one_line() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let missing = format!("arn:aws:iam::{}:role/nobody", accounts["audit"]);
    let dir = baseline_dir(&support_baseline(&missing), &[]);
    let root = dir.path().to_str().unwrap();
    let run = baseline(&emulator, &["apply", root, "--auto-approve"]).expect(1);
    assert!(
        run.stdout.contains(&format!(
            "{ADDRESS}: failed: iam:CreateRole: MalformedPolicyDocument: Invalid principal in policy"
        )),
        "{}",
        run.stdout
    );
}

#[test]
fn validate_names_a_bad_principal_and_role_name() {
    let dir = baseline_dir(
        "support-role {\n    targets { all-accounts }\n    role-name \"has space\"\n    trusted \"arn:aws:iam::111122223333:group/ops\"\n}\n",
        &[],
    );
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("baseline.kdl:3:15"), "{stderr}");
    assert!(
        stderr.contains("\"has space\" is not an IAM role name"),
        "{stderr}"
    );
    assert!(stderr.contains("baseline.kdl:4:13"), "{stderr}");
    assert!(
        stderr.contains("is not an account id, an account name"),
        "{stderr}"
    );
}
