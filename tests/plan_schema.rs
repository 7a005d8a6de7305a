//! `baseline plan --format json` against its published schema (docs/plan-format.schema.json):
//! real plans from the emulator (creates across accounts with findings, no change, every
//! other action, read errors) validate with Python's jsonschema (draft 2020-12), and mutated
//! plans do not, so the schema is shown to be able to fail.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use aws_sdk_organizations::types::PolicyType;
use serde_json::{json, Value};
use support::*;

/// Validates argv[1] against argv[2]: exit 0 when valid, 2 with one line per error when not.
/// Anything else (an invalid schema, a Python error) exits 1.
const VALIDATE: &str = r#"
import json, sys, jsonschema
plan = json.load(open(sys.argv[1]))
schema = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
errors = sorted(validator.iter_errors(plan), key=lambda e: [str(p) for p in e.absolute_path])
for e in errors[:20]:
    path = "/".join(str(p) for p in e.absolute_path) or "(root)"
    print(path + ": " + e.message[:300])
sys.exit(2 if errors else 0)
"#;

/// Validate `plan` against the schema: `Err` lists the errors, one per line.
fn validate(plan: &Value) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plan.json");
    std::fs::write(&file, serde_json::to_string_pretty(plan).unwrap()).unwrap();
    let out = Command::new(venv().join("bin/python"))
        .args(["-c", VALIDATE])
        .arg(&file)
        .arg(repo_root().join("docs/plan-format.schema.json"))
        .output()
        .expect("run the venv's python");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    match out.status.code() {
        Some(0) => Ok(()),
        Some(2) => Err(stdout),
        code => panic!(
            "the validator failed (exit {code:?}):\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Assert that `plan` matches the schema, and what the schema cannot say: the summary
/// counts what `changes` and `findings` list, and no instance is listed twice.
fn assert_valid(plan: &Value, what: &str) {
    if let Err(errors) = validate(plan) {
        panic!("{what}: the plan does not match docs/plan-format.schema.json:\n{errors}");
    }
    let changes = plan["changes"].as_array().unwrap();
    let mut counted: BTreeMap<&str, u64> = BTreeMap::new();
    for c in changes {
        *counted.entry(c["action"].as_str().unwrap()).or_default() += 1;
    }
    for action in ["create", "adopt", "update", "replace", "delete"] {
        assert_eq!(
            plan["summary"][action].as_u64(),
            Some(counted.get(action).copied().unwrap_or(0)),
            "{what}: summary.{action} against changes[]"
        );
    }
    assert_eq!(
        plan["summary"]["findings"].as_u64(),
        Some(plan["findings"].as_array().unwrap().len() as u64),
        "{what}: summary.findings against findings[]"
    );
    let addresses: BTreeSet<&str> = changes
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert_eq!(addresses.len(), changes.len(), "{what}: an address repeats");
}

/// Assert that `plan` does not match the schema, with an error at `path` that mentions
/// `mentions`.
fn assert_invalid(plan: &Value, path: &str, mentions: &str) {
    let errors = validate(plan).expect_err("the mutated plan should not validate");
    assert!(
        errors
            .lines()
            .any(|l| l.starts_with(&format!("{path}: ")) && l.contains(mentions)),
        "no error at {path} mentioning {mentions:?}:\n{errors}"
    );
}

/// `baseline plan --format json` of `root`, which must exit with `code`.
fn plan_json(emulator: &Emulator, root: &str, code: i32) -> Value {
    baseline(emulator, &["plan", root, "--format", "json"])
        .expect(code)
        .json()
}

fn actions(plan: &Value) -> BTreeSet<String> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap().to_string())
        .collect()
}

fn addresses(plan: &Value, field: &str) -> Vec<String> {
    plan[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sample_organization_plans_match_the_schema() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let root = repo_root().join("examples/sample-org");
    let root = root.to_str().unwrap();

    // Creates across six accounts and two regions, organization-wide updates, and a
    // root-MFA finding per account.
    let first = plan_json(&emulator, root, 0);
    assert_valid(&first, "first plan of the sample organization");
    assert!(actions(&first).contains("create"), "{first:#}");
    let create_accounts: BTreeSet<&str> = first["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "create")
        .filter_map(|c| c["account_id"].as_str())
        .collect();
    assert_eq!(create_accounts.len(), 6, "{create_accounts:?}");
    let changed = addresses(&first, "changes");
    for address in [
        "organizational-unit.Workloads/Production",
        "backup-selection.daily/tagged-daily[prod-app/us-east-1]",
        "password-policy.default[prod-app]",
        "service-control-policy.deny-root-user",
    ] {
        assert!(
            changed.iter().any(|a| a == address),
            "{address} not in {changed:?}"
        );
    }
    let found = addresses(&first, "findings");
    assert_eq!(found.len(), 6, "{found:?}");
    assert!(found.iter().all(|a| a.starts_with("mfa.")), "{found:?}");
    assert_eq!(first["drift"], true);

    // The schema can fail: an unknown action, a missing summary, a malformed account id
    // and an unexpected field are each rejected.
    let mut bad = first.clone();
    bad["changes"][0]["action"] = json!("explode");
    assert_invalid(&bad, "changes/0/action", "'explode' is not one of");
    let mut bad = first.clone();
    bad.as_object_mut().unwrap().remove("summary");
    assert_invalid(&bad, "(root)", "'summary' is a required property");
    let mut bad = first.clone();
    bad["findings"][0]["account_id"] = json!("12345");
    assert_invalid(&bad, "findings/0/account_id", "does not match");
    let mut bad = first.clone();
    bad["summary"]["unexpected"] = json!(0);
    assert_invalid(&bad, "summary", "'unexpected' was unexpected");

    let evidence = tempfile::tempdir().unwrap();
    let log = evidence.path().join("log.jsonl");
    baseline(
        &emulator,
        &[
            "apply",
            root,
            "--auto-approve",
            "--change-log",
            log.to_str().unwrap(),
        ],
    )
    .expect(0);

    // No change left; the findings remain (no API fixes root MFA), so it is still drift.
    let again = plan_json(&emulator, root, 0);
    assert_valid(&again, "plan after apply");
    assert_eq!(again["changes"], json!([]), "{again:#}");
    assert_eq!(again["findings"].as_array().unwrap().len(), 6, "{again:#}");
    assert_eq!(again["drift"], true);
}

/// Password policies everywhere, two SCPs (one of them made by hand before the first plan),
/// and a backup vault and plan in prod-app whose selection `value` is a parameter.
fn drift_baseline(retired_declared: bool, selection_value: &str, prevent_destroy: bool) -> String {
    let retired = if retired_declared { "" } else { "/-" };
    let prevent = if prevent_destroy {
        "prevent-destroy"
    } else {
        ""
    };
    format!(
        r####"
settings {{ default-regions "us-east-1" }}

organization {{
    feature-set "ALL"
    policy-types "SERVICE_CONTROL_POLICY"
}}

password-policy {{
    targets {{ all-accounts }}
    min-length 14
    require "symbols" "numbers" "uppercase" "lowercase"
    reuse-prevention 24
    max-age-days 90
}}

service-control-policy "hand-made" {{
    description "Adopted from the console"
    document #"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}}]}}"#
}}

{retired}service-control-policy "retired" {{
    description "Declared, then dropped"
    document #"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Deny", "Action": "account:CloseAccount", "Resource": "*"}}]}}"#
}}

backup-vault "central" {{
    targets {{ account "prod-app" }}
}}

backup-plan "daily" {{
    targets {{ account "prod-app" }}
    vault "central"
    rule "daily" schedule="cron(0 5 ? * * *)" delete-after-days=35
    selection "tagged-daily" tag="backup" value="{selection_value}"
    {prevent}
}}
"####
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn every_action_and_read_errors_match_the_schema() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;

    // Out of band, before baseline: an untagged SCP with a declared name (adopted).
    let org = aws_sdk_organizations::Client::new(&sdk_config(&emulator, None).await);
    org.create_policy()
        .name("hand-made")
        .description("made in the console")
        .r#type(PolicyType::ServiceControlPolicy)
        .content(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();

    let dir = baseline_dir(&drift_baseline(true, "daily", false), &[]);
    let root = dir.path().to_str().unwrap();
    let first = plan_json(&emulator, root, 0);
    assert_valid(&first, "first plan");
    let first_actions = actions(&first);
    assert!(
        first_actions.contains("create") && first_actions.contains("adopt"),
        "{first:#}"
    );
    assert!(
        addresses(&first, "changes").contains(&"service-control-policy.hand-made".to_string()),
        "{first:#}"
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    // Nothing differs and there is no finding: no drift at all.
    let converged = plan_json(&emulator, root, 0);
    assert_valid(&converged, "converged plan");
    assert_eq!(
        converged,
        json!({
            "format_version": "1",
            "drift": false,
            "summary": converged["summary"],
            "changes": [],
            "findings": [],
            "errors": [],
            "unreachable": [],
            "skipped": [],
            "managed_elsewhere": [],
            "waived": [],
            "expired_waivers": [],
        })
    );

    // Out of band: prod-app's password policy weakened (update). In the baseline: the
    // selection's tag value changed (replace) and `retired` no longer declared (delete).
    let config = sdk_config(&emulator, Some(&accounts["prod-app"])).await;
    aws_sdk_iam::Client::new(&config)
        .update_account_password_policy()
        .minimum_password_length(8)
        .require_symbols(true)
        .require_numbers(true)
        .require_uppercase_characters(true)
        .require_lowercase_characters(true)
        .password_reuse_prevention(24)
        .max_password_age(90)
        .allow_users_to_change_password(true)
        .send()
        .await
        .unwrap();
    let dir = baseline_dir(&drift_baseline(false, "weekly", false), &[]);
    let root = dir.path().to_str().unwrap();
    let drifted = plan_json(&emulator, root, 0);
    assert_valid(&drifted, "drifted plan");
    assert_eq!(
        actions(&drifted),
        BTreeSet::from(["update", "replace", "delete"].map(String::from)),
        "{drifted:#}"
    );
    let update = drifted["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "update")
        .unwrap();
    assert_eq!(update["address"], "password-policy.default[prod-app]");
    assert_eq!(update["account_id"], accounts["prod-app"].as_str());
    assert_eq!(
        update["attributes"],
        json!([{"name": "min-length", "before": 8, "after": 14}])
    );

    // A replacement refused by `prevent-destroy` is an error: exit 1, still a valid plan.
    let dir = baseline_dir(&drift_baseline(false, "weekly", true), &[]);
    let root = dir.path().to_str().unwrap();
    let refused = plan_json(&emulator, root, 1);
    assert_valid(&refused, "plan with an error");
    assert_eq!(
        addresses(&refused, "errors"),
        vec!["backup-selection.daily/tagged-daily[prod-app/us-east-1]"],
        "{refused:#}"
    );
}
