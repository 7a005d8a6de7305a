//! backup-vault and backup-plan (with its selections) against the emulator: create,
//! converge, out-of-band drift repaired, an untagged vault and plan adopted, a selection
//! replaced.

mod support;

use aws_sdk_backup::types::{BackupPlanInput, BackupRuleInput, Lifecycle};
use support::*;

const PLAN: &str = "backup-plan.daily[prod-app/us-east-1]";
const SELECTION: &str = "backup-selection.daily/tagged-daily[prod-app/us-east-1]";
/// AWS Backup's default service role, which baseline keeps in each account.
const ROLE: &str = "backup-service-role.daily[prod-app]";
const ROLE_NAME: &str = "AWSBackupDefaultServiceRole";
const BACKUP_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup";
const RESTORE_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores";
const BACKUP_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"backup.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The managed policies attached to the default service role, sorted.
async fn role_policies(iam: &aws_sdk_iam::Client) -> Vec<String> {
    let attached = iam
        .list_attached_role_policies()
        .role_name(ROLE_NAME)
        .send()
        .await
        .unwrap();
    sorted(
        attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn().map(str::to_string))
            .collect(),
    )
}

fn plan_baseline(selection_value: &str) -> String {
    format!(
        r#"
settings {{ default-regions "us-east-1" }}
backup-vault "central" {{
    targets {{ account "prod-app" }}
}}
backup-plan "daily" {{
    targets {{ account "prod-app" }}
    vault "central"
    rule "monthly" schedule="cron(0 3 1 * ? *)" cold-after-days=30 delete-after-days=365
    rule "daily" schedule="cron(0 5 ? * * *)" delete-after-days=35
    selection "tagged-daily" tag="backup" value="{selection_value}"
}}
"#
    )
}

async fn backup_client(emulator: &Emulator, account: &str) -> aws_sdk_backup::Client {
    aws_sdk_backup::Client::new(&sdk_config(emulator, Some(account)).await)
}

/// The id of the live plan named `name`.
async fn plan_id(backup: &aws_sdk_backup::Client, name: &str) -> String {
    let plans = backup.list_backup_plans().send().await.unwrap();
    plans
        .backup_plans_list()
        .iter()
        .find(|p| p.backup_plan_name() == Some(name) && p.deletion_date().is_none())
        .and_then(|p| p.backup_plan_id())
        .expect("plan exists")
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn backup_plan_and_selection_converge_and_repair_drift() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let dir = baseline_dir(&plan_baseline("daily"), &[]);
    let root = dir.path().to_str().unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        sorted(plan.planned()),
        vec![
            "backup-plan.daily[prod-app/us-east-1]",
            SELECTION,
            ROLE,
            "backup-vault.central[prod-app/us-east-1]",
        ],
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("Plan: 4 to create, 0 to adopt"),
        "{}",
        plan.stdout
    );

    // A fresh account has no AWSBackupDefaultServiceRole (only the console makes it) and
    // AWS Backup refuses a selection whose role does not exist, or is too new: apply
    // creates the role, then waits until AWS Backup accepts it.
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let iam = aws_sdk_iam::Client::new(&sdk_config(&emulator, Some(&accounts["prod-app"])).await);
    let role = iam.get_role().role_name(ROLE_NAME).send().await.unwrap();
    let role = role.role().unwrap();
    assert_eq!(role.path(), "/service-role/");
    assert!(
        role.tags()
            .iter()
            .any(|t| t.key() == "managed-by" && t.value() == "baseline"),
        "{role:?}"
    );
    assert_eq!(
        role_policies(&iam).await,
        vec![BACKUP_POLICY, RESTORE_POLICY]
    );

    // What apply made: a tagged plan with both rules into the vault, and the selection.
    let backup = backup_client(&emulator, &accounts["prod-app"]).await;
    let id = plan_id(&backup, "daily").await;
    let got = backup
        .get_backup_plan()
        .backup_plan_id(&id)
        .send()
        .await
        .unwrap();
    let rules = got.backup_plan().unwrap().rules();
    assert_eq!(rules.len(), 2);
    assert!(rules
        .iter()
        .all(|r| r.target_backup_vault_name() == "central"));
    let tags = backup
        .list_tags()
        .resource_arn(got.backup_plan_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .and_then(|t| t.get("managed-by"))
            .map(String::as_str),
        Some("baseline")
    );
    let selections = backup
        .list_backup_selections()
        .backup_plan_id(&id)
        .send()
        .await
        .unwrap();
    let [sel] = selections.backup_selections_list() else {
        panic!("one selection: {selections:?}")
    };
    assert_eq!(
        sel.iam_role_arn(),
        Some(
            format!(
                "arn:aws:iam::{}:role/service-role/AWSBackupDefaultServiceRole",
                accounts["prod-app"]
            )
            .as_str()
        )
    );

    // Out of band: delete the selection. Only the selection is planned, as a create.
    backup
        .delete_backup_selection()
        .backup_plan_id(&id)
        .selection_id(sel.selection_id().unwrap())
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(drift.planned(), vec![SELECTION], "{}", drift.stdout);
    assert!(
        drift.stdout.contains(&format!("+ {SELECTION}  (create)")),
        "{}",
        drift.stdout
    );
    assert!(
        drift.shows_line("tag-value = \"daily\""),
        "{}",
        drift.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Out of band: the daily rule keeps backups 20 days instead of 35.
    let rule = |name: &str, schedule: &str, cold: Option<i64>, delete: i64| {
        BackupRuleInput::builder()
            .rule_name(name)
            .target_backup_vault_name("central")
            .schedule_expression(schedule)
            .lifecycle(
                Lifecycle::builder()
                    .set_move_to_cold_storage_after_days(cold)
                    .delete_after_days(delete)
                    .build(),
            )
            .build()
            .unwrap()
    };
    backup
        .update_backup_plan()
        .backup_plan_id(&id)
        .backup_plan(
            BackupPlanInput::builder()
                .backup_plan_name("daily")
                .rules(rule("daily", "cron(0 5 ? * * *)", None, 20))
                .rules(rule("monthly", "cron(0 3 1 * ? *)", Some(30), 365))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(drift.planned(), vec![PLAN], "{}", drift.stdout);
    assert!(
        drift
            .stdout
            .contains(&format!("~ {PLAN}  (update in place)")),
        "{}",
        drift.stdout
    );
    // The rules show as a diff of the one field that changed, with the rule around it.
    let diff_lines: Vec<String> = drift
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| l.starts_with("- ") || l.starts_with("+ "))
        .collect();
    assert_eq!(
        diff_lines,
        vec![
            "- \"delete-after-days\": 20,",
            "+ \"delete-after-days\": 35,"
        ],
        "{}",
        drift.stdout
    );
    assert!(drift.stdout.contains("rules:"), "{}", drift.stdout);
    assert!(
        drift.stdout.contains("\"name\": \"daily\""),
        "{}",
        drift.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let got = backup
        .get_backup_plan()
        .backup_plan_id(&id)
        .send()
        .await
        .unwrap();
    let daily = got
        .backup_plan()
        .unwrap()
        .rules()
        .iter()
        .find(|r| r.rule_name() == "daily")
        .unwrap();
    assert_eq!(daily.lifecycle().unwrap().delete_after_days(), Some(35));

    // A changed selection cannot be updated in AWS: it is replaced.
    std::fs::write(dir.path().join("baseline.kdl"), plan_baseline("hourly")).unwrap();
    let change = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(change.planned(), vec![SELECTION], "{}", change.stdout);
    assert!(
        change
            .stdout
            .contains(&format!("-/+ {SELECTION}  (replace)")),
        "{}",
        change.stdout
    );
    assert!(
        change.shows_line("tag-value : \"daily\" -> \"hourly\""),
        "{}",
        change.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let selections = backup
        .list_backup_selections()
        .backup_plan_id(&id)
        .send()
        .await
        .unwrap();
    let [sel] = selections.backup_selections_list() else {
        panic!("one selection after the replace: {selections:?}")
    };
    let got = backup
        .get_backup_selection()
        .backup_plan_id(&id)
        .selection_id(sel.selection_id().unwrap())
        .send()
        .await
        .unwrap();
    let tags = got.backup_selection().unwrap().list_of_tags();
    assert_eq!(
        (tags.len(), tags[0].condition_value()),
        (1, "hourly"),
        "{got:?}"
    );
}

const VAULT_BASELINE: &str = r#"
settings { default-regions "us-east-1" }
backup-vault "central" {
    targets { account "prod-app" }
    lock min-retention-days=7 max-retention-days=365
}
backup-vault "strict" {
    targets { account "prod-app" }
    lock min-retention-days=30 max-retention-days=3650 changeable-for-days=3
}
backup-vault "legacy" {
    targets { account "prod-app" }
}
backup-plan "weekly" {
    targets { account "prod-app" }
    rule "weekly" schedule="cron(0 4 ? * SUN *)" delete-after-days=14 vault="legacy"
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn backup_vault_lock_drift_and_adoption_of_vault_and_plan() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let backup = backup_client(&emulator, &accounts["prod-app"]).await;
    // Made by hand before baseline: untagged, with the declared name.
    backup
        .create_backup_vault()
        .backup_vault_name("legacy")
        .send()
        .await
        .unwrap();
    let weekly = backup
        .create_backup_plan()
        .backup_plan(
            BackupPlanInput::builder()
                .backup_plan_name("weekly")
                .rules(
                    BackupRuleInput::builder()
                        .rule_name("weekly")
                        .target_backup_vault_name("legacy")
                        .schedule_expression("cron(0 4 ? * SUN *)")
                        .lifecycle(Lifecycle::builder().delete_after_days(10).build())
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let dir = baseline_dir(VAULT_BASELINE, &[]);
    let root = dir.path().to_str().unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        sorted(plan.planned()),
        vec![
            "backup-plan.weekly[prod-app/us-east-1]",
            "backup-vault.central[prod-app/us-east-1]",
            "backup-vault.legacy[prod-app/us-east-1]",
            "backup-vault.strict[prod-app/us-east-1]",
        ],
        "{}",
        plan.stdout
    );
    // The plan is adopted and its rule brought in line in the same step.
    assert!(
        plan.stdout
            .contains("<= backup-plan.weekly[prod-app/us-east-1]  (adopt)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.shows_line("- \"delete-after-days\": 10,")
            && plan.shows_line("+ \"delete-after-days\": 14,"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("<= backup-vault.legacy[prod-app/us-east-1]  (adopt)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("Plan: 2 to create, 2 to adopt"),
        "{}",
        plan.stdout
    );

    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    for name in ["central", "strict", "legacy"] {
        let arn = backup
            .describe_backup_vault()
            .backup_vault_name(name)
            .send()
            .await
            .unwrap()
            .backup_vault_arn()
            .unwrap()
            .to_string();
        let tags = backup.list_tags().resource_arn(arn).send().await.unwrap();
        assert_eq!(
            tags.tags()
                .and_then(|t| t.get("managed-by"))
                .map(String::as_str),
            Some("baseline"),
            "{name}"
        );
    }
    let tags = backup
        .list_tags()
        .resource_arn(weekly.backup_plan_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .and_then(|t| t.get("managed-by"))
            .map(String::as_str),
        Some("baseline")
    );
    let got = backup
        .get_backup_plan()
        .backup_plan_id(weekly.backup_plan_id().unwrap())
        .send()
        .await
        .unwrap();
    let rule = &got.backup_plan().unwrap().rules()[0];
    assert_eq!(rule.lifecycle().unwrap().delete_after_days(), Some(14));

    let strict = backup
        .describe_backup_vault()
        .backup_vault_name("strict")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (strict.min_retention_days(), strict.max_retention_days()),
        (Some(30), Some(3650))
    );
    assert!(strict.lock_date().is_some(), "compliance mode: {strict:?}");

    // Out of band: central's lock weakened, and a lock put on legacy, which declares none.
    backup
        .put_backup_vault_lock_configuration()
        .backup_vault_name("central")
        .min_retention_days(1)
        .max_retention_days(365)
        .send()
        .await
        .unwrap();
    backup
        .put_backup_vault_lock_configuration()
        .backup_vault_name("legacy")
        .min_retention_days(5)
        .max_retention_days(10)
        .send()
        .await
        .unwrap();
    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        sorted(drift.planned()),
        vec![
            "backup-vault.central[prod-app/us-east-1]",
            "backup-vault.legacy[prod-app/us-east-1]",
        ],
        "{}",
        drift.stdout
    );
    assert!(
        drift.shows_line("lock-min-retention-days : 1 -> 7"),
        "{}",
        drift.stdout
    );
    assert!(
        !drift.stdout.contains("lock-max-retention-days : 365"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.shows_line("lock-mode : \"governance\" -> (none)"),
        "{}",
        drift.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    let central = backup
        .describe_backup_vault()
        .backup_vault_name("central")
        .send()
        .await
        .unwrap();
    assert_eq!(central.min_retention_days(), Some(7));
    let legacy = backup
        .describe_backup_vault()
        .backup_vault_name("legacy")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (legacy.locked(), legacy.min_retention_days()),
        (Some(false), None)
    );
}

/// A console-made default role (untagged, the restore policy missing, another policy of the
/// team's) is adopted and completed without losing what the team added; a selection naming
/// a role that does not exist fails at plan time, not at apply.
#[tokio::test(flavor = "multi_thread")]
async fn backup_service_role_is_adopted_and_a_missing_declared_role_fails_the_plan() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let iam = aws_sdk_iam::Client::new(&sdk_config(&emulator, Some(&accounts["prod-app"])).await);
    iam.create_role()
        .role_name(ROLE_NAME)
        .path("/service-role/")
        .assume_role_policy_document(BACKUP_TRUST)
        .send()
        .await
        .unwrap();
    let team_policy = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    for policy in [BACKUP_POLICY, team_policy] {
        iam.attach_role_policy()
            .role_name(ROLE_NAME)
            .policy_arn(policy)
            .send()
            .await
            .unwrap();
    }
    after_consistency_window().await;

    let dir = baseline_dir(&plan_baseline("daily"), &[]);
    let root = dir.path().to_str().unwrap();
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert!(
        plan.stdout.contains(&format!("{ROLE}  (adopt)")),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("AWSBackupServiceRolePolicyForRestores"),
        "{}",
        plan.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    assert_eq!(
        role_policies(&iam).await,
        sorted(vec![
            BACKUP_POLICY.to_string(),
            RESTORE_POLICY.to_string(),
            team_policy.to_string()
        ])
    );

    // A selection that names its own role, which prod-app does not have.
    let declared = plan_baseline("daily").replace(
        r#"value="daily""#,
        r#"value="daily" role="backup-operator""#,
    );
    let dir = baseline_dir(&declared, &[]);
    let root = dir.path().to_str().unwrap();
    let failed = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(1);
    assert!(
        failed.stderr.contains(SELECTION)
            && failed
                .stderr
                .contains("role/backup-operator, which does not exist"),
        "{}",
        failed.stderr
    );
    // Created moments before the apply: AWS Backup refuses it for a moment, and apply
    // waits that out (the role is new) instead of failing.
    iam.create_role()
        .role_name("backup-operator")
        .assume_role_policy_document(BACKUP_TRUST)
        .send()
        .await
        .unwrap();
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
}
