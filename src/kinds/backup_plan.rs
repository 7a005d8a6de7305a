//! `backup-plan`: an AWS Backup plan (rules into a declared vault) and its resource selections.

use async_trait::async_trait;
use aws_sdk_backup::types::{
    BackupPlanInput, BackupRuleInput, BackupSelection, Condition, ConditionType, Lifecycle,
};
use serde_json::{json, Value};

use super::backup_vault::{has_managed_tag, tag_managed, BackupVault};
use super::{spec_of, Kind, Naming, Placing};
use crate::aws::{AwsError, Context};
use crate::expand::Instance;
use crate::iam::{with_new_role, BACKUP_SERVICE_ROLE};
use crate::lang::checks::{check_schedule, Schedule};
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Baseline, Declaration, Part, Reference, Spec};
use crate::lang::reader::{Cx, NodeReader};
use crate::lang::source::Spanned;
use crate::provider::{
    self, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider, MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "backup-plan",
    summary: "an AWS Backup plan: rules into a declared vault, and tag-based selections",
    naming: Naming::Required,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &[SELECTION_KIND, ROLE_KIND],
    parse,
    check_all: check_retention_within_lock,
    provider: Some(&BackupPlanProvider),
};

#[derive(Debug, Clone)]
pub struct BackupRule {
    pub name: Spanned<String>,
    pub schedule: String,
    pub delete_after_days: Option<Spanned<u32>>,
    pub cold_after_days: Option<u32>,
    /// The vault the rule writes to: its own `vault=` or the plan's `vault`.
    pub vault: Spanned<String>,
}

#[derive(Debug, Clone)]
pub struct Selection {
    pub name: Spanned<String>,
    pub tag_key: String,
    pub tag_value: String,
    /// Role name or ARN AWS Backup assumes; its default service role when absent.
    pub role: Option<String>,
}

#[derive(Debug, Clone)]
pub struct BackupPlan {
    pub vault: Option<Spanned<String>>,
    pub rules: Vec<BackupRule>,
    pub selections: Vec<Selection>,
}

impl BackupPlan {
    /// Whether a selection names no role of its own, so that baseline keeps AWS Backup's
    /// default service role in each account.
    pub fn uses_service_role(&self) -> bool {
        self.selections.iter().any(|s| s.role.is_none())
    }

    /// The part index of the first selection (after the plan, and the role when there is one).
    fn first_selection_part(&self) -> usize {
        1 + usize::from(self.uses_service_role())
    }
}

impl Spec for BackupPlan {
    fn references(&self) -> Vec<Reference> {
        let mut refs: Vec<Reference> = Vec::new();
        for v in self.vault.iter().chain(self.rules.iter().map(|r| &r.vault)) {
            if !refs.iter().any(|r| r.name.value == v.value) {
                refs.push(Reference::new("backup-vault", v));
            }
        }
        refs
    }

    /// After the plan itself: AWS Backup's service role, once per account, when a selection
    /// relies on it; then one part per selection.
    fn extra_parts(&self, name: &str) -> Vec<Part> {
        let has_role = self.uses_service_role();
        let role = has_role.then(|| Part {
            kind: ROLE_KIND.into(),
            name: name.to_string(),
            after: vec![],
            per_account: true,
        });
        let selections = self.selections.iter().map(|s| Part {
            kind: SELECTION_KIND.into(),
            name: format!("{name}/{}", s.name.value),
            // A selection needs its plan, and the service role it names.
            after: if s.role.is_none() && has_role {
                vec![0, 1]
            } else {
                vec![0]
            },
            per_account: false,
        });
        role.into_iter().chain(selections).collect()
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let vault = r.child_str("vault", "the name of a declared backup-vault");
    let rule_nodes = r.children("rule");
    if rule_nodes.is_empty() {
        r.require(
            None::<()>,
            "rule",
            "rule \"daily\" schedule=\"cron(0 5 ? * * *)\" delete-after-days=35",
        );
    }
    let rules = rule_nodes
        .into_iter()
        .filter_map(|c| parse_rule(c, vault.as_ref()))
        .collect();
    let selections = r
        .children("selection")
        .into_iter()
        .filter_map(parse_selection)
        .collect();
    Box::new(BackupPlan {
        vault,
        rules,
        selections,
    })
}

fn parse_rule(mut c: NodeReader, plan_vault: Option<&Spanned<String>>) -> Option<BackupRule> {
    let name = c.arg_str(0, "the rule's name");
    let schedule = c.required_prop_str("schedule");
    if let Some(s) = &schedule {
        match check_schedule(&s.value) {
            Ok(Schedule::Cron) => {}
            Ok(Schedule::Rate) => c.report(
                Problem::new(
                    "baseline::invalid-schedule",
                    s.span,
                    "AWS Backup schedules are cron expressions",
                )
                .label("rate() is not accepted here")
                .help("for daily at 05:00 UTC write cron(0 5 ? * * *)"),
            ),
            Err(e) => c.report(
                Problem::new(
                    "baseline::invalid-schedule",
                    s.span,
                    format!("invalid schedule: {e}"),
                )
                .label("invalid schedule")
                .help(
                    "AWS Backup takes cron expressions; cron(0 5 ? * * *) runs daily at 05:00 UTC",
                ),
            ),
        }
    }
    let delete_after_days = c.prop_u32("delete-after-days", 1..=36500);
    let cold_after_days = c.prop_u32("cold-after-days", 1..=36500);
    if let (Some(cold), Some(delete)) = (&cold_after_days, &delete_after_days) {
        if delete.value < cold.value + 90 {
            c.report(
                Problem::new(
                    "baseline::invalid-value",
                    delete.span,
                    "backups must stay in cold storage at least 90 days",
                )
                .label(format!("delete after {} days", delete.value))
                .also(cold.span, "moved to cold storage here")
                .help(format!("delete after at least {} days", cold.value + 90)),
            );
        }
    }
    let vault = c.prop_str("vault").or_else(|| plan_vault.cloned());
    if vault.is_none() {
        c.report(
            Problem::new(
                "baseline::missing-value",
                c.name_span(),
                "this rule names no vault",
            )
            .label("no vault")
            .help("add `vault \"name\"` to the plan or `vault=\"name\"` to the rule"),
        );
    }
    c.finish();
    Some(BackupRule {
        name: name?,
        schedule: schedule?.value,
        delete_after_days,
        cold_after_days: cold_after_days.map(|c| c.value),
        vault: vault?,
    })
}

fn parse_selection(mut c: NodeReader) -> Option<Selection> {
    let name = c.arg_str(0, "the selection's name");
    let tag_key = c.required_prop_str("tag");
    let tag_value = c.required_prop_str("value");
    let role = c.prop_str("role").map(|r| r.value);
    c.finish();
    Some(Selection {
        name: name?,
        tag_key: tag_key?.value,
        tag_value: tag_value?.value,
        role,
    })
}

/// A rule whose retention falls outside its vault's lock would fail at backup time, and so
/// would a rule without an expiry into a vault whose lock has a maximum retention: AWS Backup
/// refuses recovery points that outlive the lock's maximum, and one that never expires does
/// (AWS Backup developer guide, "AWS Backup Vault Lock"). Either way every job fails,
/// silently, long after apply said it succeeded.
fn check_retention_within_lock(baseline: &Baseline, decls: &[&Declaration], cx: &Cx) {
    for decl in decls {
        let Some(plan) = spec_of::<BackupPlan>(decl) else {
            continue;
        };
        for rule in &plan.rules {
            let Some(lock) = baseline
                .find("backup-vault", &rule.vault.value)
                .and_then(spec_of::<BackupVault>)
                .and_then(|v| v.lock.as_ref())
            else {
                continue;
            };
            let Some(days) = &rule.delete_after_days else {
                if let Some(max) = lock.max_retention_days {
                    cx.report(
                        Problem::new(
                            "baseline::retention-outside-lock",
                            rule.name.span,
                            format!(
                                "rule \"{}\" keeps backups forever, but vault \"{}\" is locked with a \
                                 maximum retention of {max} days",
                                rule.name.value, rule.vault.value
                            ),
                        )
                        .label("no delete-after-days")
                        .also(lock.span, "vault lock")
                        .help(format!(
                            "AWS Backup would fail every job of this rule; add delete-after-days={max} \
                             (or less)"
                        )),
                    );
                }
                continue;
            };
            let max = lock.max_retention_days.unwrap_or(u32::MAX);
            if !(lock.min_retention_days..=max).contains(&days.value) {
                let range = match lock.max_retention_days {
                    Some(max) => format!("{} to {max} days", lock.min_retention_days),
                    None => format!("at least {} days", lock.min_retention_days),
                };
                cx.report(
                    Problem::new(
                        "baseline::retention-outside-lock",
                        days.span,
                        format!(
                            "retention of {} days is outside the lock of vault \"{}\" ({range})",
                            days.value, rule.vault.value
                        ),
                    )
                    .label("AWS Backup would refuse these backups")
                    .also(lock.span, "vault lock")
                    .help("choose a retention within the vault lock's range"),
                );
            }
        }
    }
}

// --- AWS -------------------------------------------------------------------------------

/// AWS Backup plans and their selections. A plan is found by name (plans are keyed by id),
/// tagged at creation and adopted by tagging; its rules are compared as a list sorted by
/// rule name. Selections cannot be tagged or updated in AWS: a changed selection is
/// replaced (deleted and created again).
pub struct BackupPlanProvider;

const SELECTION_KIND: &str = "backup-selection";
const ROLE_KIND: &str = "backup-service-role";

/// One rule as compared: what the declaration says and what GetBackupPlan returns.
fn rule_json(
    name: &str,
    schedule: Option<&str>,
    vault: &str,
    delete_after_days: Option<i64>,
    cold_after_days: Option<i64>,
) -> Value {
    json!({
        "name": name,
        "schedule": schedule,
        "vault": vault,
        "delete-after-days": delete_after_days,
        "cold-after-days": cold_after_days,
    })
}

fn rules_attrs(mut rules: Vec<Value>) -> Attrs {
    rules.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let mut a = Attrs::new();
    a.insert("rules".into(), Value::Array(rules));
    a
}

fn selection_attrs(tag_key: Option<&str>, tag_value: Option<&str>, role_arn: &str) -> Attrs {
    let mut a = Attrs::new();
    a.insert("tag-key".into(), json!(tag_key));
    a.insert("tag-value".into(), json!(tag_value));
    a.insert("role-arn".into(), json!(role_arn));
    a
}

/// The selection an instance stands for: parts after the plan are its selections, in order.
fn selection_of<'p>(plan: &'p BackupPlan, inst: &Instance) -> Option<&'p Selection> {
    plan.selections
        .get(inst.part.checked_sub(plan.first_selection_part())?)
}

/// The role AWS Backup assumes for a selection: an ARN as written, a role name in the
/// selection's account, or AWS Backup's default service role (which baseline keeps).
fn role_arn(cx: &Ctx<'_>, sel: &Selection, inst: &Instance) -> String {
    let p = &cx.aws.partition;
    match &sel.role {
        Some(r) if r.starts_with("arn:") => r.clone(),
        Some(name) => format!("arn:{p}:iam::{}:role/{name}", inst.account_id),
        None => BACKUP_SERVICE_ROLE.arn(p, &inst.account_id),
    }
}

/// AWS Backup refusing a selection's role: it does not exist, or IAM has not caught up.
fn role_refused(e: &AwsError) -> bool {
    e.is("InvalidParameterValueException")
        && (e.message.contains("cannot be assumed") || e.message.contains("Unable to assume role"))
}

fn build_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::State(format!("cannot build the {what} request: {e}"))
}

/// The plan document AWS takes, from the declaration.
fn plan_input(name: &str, plan: &BackupPlan) -> provider::Result<BackupPlanInput> {
    let mut input = BackupPlanInput::builder().backup_plan_name(name);
    for r in &plan.rules {
        let lifecycle = (r.delete_after_days.is_some() || r.cold_after_days.is_some()).then(|| {
            Lifecycle::builder()
                .set_delete_after_days(r.delete_after_days.as_ref().map(|d| d.value.into()))
                .set_move_to_cold_storage_after_days(r.cold_after_days.map(i64::from))
                .build()
        });
        let rule = BackupRuleInput::builder()
            .rule_name(&r.name.value)
            .target_backup_vault_name(&r.vault.value)
            .schedule_expression(&r.schedule)
            .set_lifecycle(lifecycle)
            .build()
            .map_err(|e| build_error("backup rule", e))?;
        input = input.rules(rule);
    }
    input.build().map_err(|e| build_error("backup plan", e))
}

/// The live (not deleted) plan named `name`: (id, ARN).
async fn find_plan(
    backup: &aws_sdk_backup::Client,
    name: &str,
) -> provider::Result<Option<(String, String)>> {
    let mut pages = backup.list_backup_plans().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("backup:ListBackupPlans")?;
        let found = page
            .backup_plans_list()
            .iter()
            .find(|p| p.backup_plan_name() == Some(name) && p.deletion_date().is_none());
        if let Some(p) = found {
            return Ok(Some((
                p.backup_plan_id().unwrap_or_default().to_string(),
                p.backup_plan_arn().unwrap_or_default().to_string(),
            )));
        }
    }
    Ok(None)
}

/// The id of the selection named `name` in plan `plan_id`; `None` when absent (or when the
/// plan went away meanwhile).
async fn find_selection(
    backup: &aws_sdk_backup::Client,
    plan_id: &str,
    name: &str,
) -> provider::Result<Option<String>> {
    let mut pages = backup
        .list_backup_selections()
        .backup_plan_id(plan_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Some(page) = page.absent_on(
            "backup:ListBackupSelections",
            &["ResourceNotFoundException"],
        )?
        else {
            return Ok(None);
        };
        let found = page
            .backup_selections_list()
            .iter()
            .find(|s| s.selection_name() == Some(name));
        if let Some(s) = found {
            return Ok(s.selection_id().map(str::to_string));
        }
    }
    Ok(None)
}

impl BackupPlanProvider {
    async fn read_plan(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let backup = cx.aws.backup(&inst.account_id, &inst.region).await?;
        let Some((id, arn)) = find_plan(&backup, &inst.address.name).await? else {
            return Ok(Observed::absent());
        };
        let Some(out) = backup
            .get_backup_plan()
            .backup_plan_id(&id)
            .send()
            .await
            .absent_on("backup:GetBackupPlan", &["ResourceNotFoundException"])?
        else {
            return Ok(Observed::absent());
        };
        let rules = out
            .backup_plan()
            .map(|p| p.rules())
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let lifecycle = r.lifecycle();
                rule_json(
                    r.rule_name(),
                    r.schedule_expression(),
                    r.target_backup_vault_name(),
                    lifecycle.and_then(|l| l.delete_after_days()),
                    lifecycle.and_then(|l| l.move_to_cold_storage_after_days()),
                )
            })
            .collect();
        let managed = has_managed_tag(&backup, &arn).await?;
        let mut ids = Attrs::new();
        ids.insert("backup-plan-id".into(), json!(id));
        ids.insert("backup-plan-arn".into(), json!(arn));
        Ok(Observed::present(rules_attrs(rules), ids, Some(managed)))
    }

    async fn read_selection(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let backup = cx.aws.backup(&inst.account_id, &inst.region).await?;
        let plan_name = &cx.decl(inst).name.value;
        let Some(sel) = spec_of::<BackupPlan>(cx.decl(inst)).and_then(|p| selection_of(p, inst))
        else {
            return Ok(Observed::absent());
        };
        // A declared role must exist: AWS Backup refuses a selection naming one that does
        // not, and finding out at plan time beats a failed apply. (The default service role
        // is baseline's own part.)
        if sel.role.is_some() {
            let arn = role_arn(cx, sel, inst);
            if crate::iam::role_account(&arn) == Some(inst.account_id.as_str())
                && crate::iam::role_created(cx, &inst.account_id, &arn)
                    .await?
                    .is_none()
            {
                return Err(Error::State(format!(
                    "selection \"{}\" names the role {arn}, which does not exist in account {}; \
                     create it (trusting backup.amazonaws.com), or leave `role` out to have \
                     baseline keep AWS Backup's default service role",
                    sel.name.value, inst.account_id
                )));
            }
        }
        let Some((plan_id, _)) = find_plan(&backup, plan_name).await? else {
            return Ok(Observed::absent());
        };
        let Some(selection_id) = find_selection(&backup, &plan_id, &sel.name.value).await? else {
            return Ok(Observed::absent());
        };
        let Some(out) = backup
            .get_backup_selection()
            .backup_plan_id(&plan_id)
            .selection_id(&selection_id)
            .send()
            .await
            .absent_on("backup:GetBackupSelection", &["ResourceNotFoundException"])?
        else {
            return Ok(Observed::absent());
        };
        let Some(live) = out.backup_selection() else {
            return Ok(Observed::absent());
        };
        // baseline's selections are exactly one tag equality; any other shape has no
        // declared tag (and is replaced by the declared one).
        let (tag_key, tag_value) = match live.list_of_tags() {
            [c] if c.condition_type() == &ConditionType::Stringequals => {
                (Some(c.condition_key()), Some(c.condition_value()))
            }
            _ => (None, None),
        };
        let mut ids = Attrs::new();
        ids.insert("backup-plan-id".into(), json!(plan_id));
        ids.insert("selection-id".into(), json!(selection_id));
        Ok(Observed::present(
            selection_attrs(tag_key, tag_value, live.iam_role_arn()),
            ids,
            None,
        ))
    }

    async fn apply_plan(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        plan: &BackupPlan,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let backup = cx.aws.backup(&inst.account_id, &inst.region).await?;
        let input = plan_input(&inst.address.name, plan)?;
        match change.action {
            Action::Create => {
                backup
                    .create_backup_plan()
                    .backup_plan(input)
                    .backup_plan_tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
                    .send()
                    .await
                    .ctx("backup:CreateBackupPlan")?;
                return Ok(());
            }
            Action::Adopt => {
                tag_managed(
                    &backup,
                    change.id("backup-plan-arn"),
                    &inst.address.to_string(),
                )
                .await?;
                if !change.changes("rules") {
                    return Ok(());
                }
            }
            Action::Update | Action::Replace => {}
            Action::Delete => {
                return Err(Error::State(format!(
                    "{}: backup plans are not deleted by baseline",
                    inst.address
                )))
            }
        }
        let id = change
            .id("backup-plan-id")
            .ok_or_else(|| Error::State(format!("{}: no backup plan id was read", inst.address)))?;
        backup
            .update_backup_plan()
            .backup_plan_id(id)
            .backup_plan(input)
            .send()
            .await
            .ctx("backup:UpdateBackupPlan")?;
        Ok(())
    }

    async fn apply_selection(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        plan: &BackupPlan,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(sel) = selection_of(plan, inst) else {
            return Ok(());
        };
        let backup = cx.aws.backup(&inst.account_id, &inst.region).await?;
        let plan_name = &cx.decl(inst).name.value;
        match change.action {
            Action::Create => {}
            // AWS cannot update a selection in place: delete it, then create it again.
            Action::Update | Action::Replace => {
                if let (Some(plan_id), Some(selection_id)) =
                    (change.id("backup-plan-id"), change.id("selection-id"))
                {
                    backup
                        .delete_backup_selection()
                        .backup_plan_id(plan_id)
                        .selection_id(selection_id)
                        .send()
                        .await
                        .ctx("backup:DeleteBackupSelection")?;
                }
            }
            Action::Adopt | Action::Delete => {
                return Err(Error::State(format!(
                    "{}: backup selections cannot be tagged, so they are neither adopted nor \
                     deleted",
                    inst.address
                )))
            }
        }
        // The plan may have been created earlier in this apply: look its id up now.
        let (plan_id, _) = find_plan(&backup, plan_name).await?.ok_or_else(|| {
            Error::State(format!(
                "{}: backup plan \"{plan_name}\" does not exist in account {} ({})",
                inst.address, inst.account_id, inst.region
            ))
        })?;
        let condition = Condition::builder()
            .condition_type(ConditionType::Stringequals)
            .condition_key(&sel.tag_key)
            .condition_value(&sel.tag_value)
            .build()
            .map_err(|e| build_error("selection condition", e))?;
        let selection = BackupSelection::builder()
            .selection_name(&sel.name.value)
            .iam_role_arn(role_arn(cx, sel, inst))
            .list_of_tags(condition)
            .build()
            .map_err(|e| build_error("backup selection", e))?;
        // AWS Backup refuses a role IAM created moments ago (this run's service role, say).
        let role = role_arn(cx, sel, inst);
        with_new_role(cx, &inst.account_id, &role, role_refused, || async {
            backup
                .create_backup_selection()
                .backup_plan_id(&plan_id)
                .backup_selection(selection.clone())
                .send()
                .await
                .ctx("backup:CreateBackupSelection")
        })
        .await?;
        Ok(())
    }
}

/// `baseline import`: the plans of one account and region, with the selections the
/// language can say (one tag equality each). A plan the language cannot declare as it is
/// (a schedule it refuses, a vault it cannot name, a rule its vault's lock refuses) is
/// named, not declared.
async fn import_site(
    cx: &Ctx<'_>,
    site: &crate::import::Site,
) -> provider::Result<crate::import::Imported> {
    use crate::import::{account_ref, kdl::Node, Found, Imported, Skipped};
    let mut out = Imported::default();
    let backup = cx.aws.backup(&site.account_id, &site.region).await?;
    let mut plans = Vec::new();
    let mut pages = backup.list_backup_plans().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("backup:ListBackupPlans")?;
        plans.extend(
            page.backup_plans_list()
                .iter()
                .filter(|p| p.deletion_date().is_none())
                .cloned(),
        );
    }
    plans.sort_by(|a, b| a.backup_plan_name().cmp(&b.backup_plan_name()));
    let at = format!(
        "in {} ({})",
        account_ref(cx.org, &site.account_id),
        site.region
    );
    'plans: for summary in plans {
        let (Some(name), Some(id)) = (summary.backup_plan_name(), summary.backup_plan_id()) else {
            continue;
        };
        let what = format!("{} \"{name}\" {at}", KIND.keyword);
        let arn = summary.backup_plan_arn().unwrap_or_default();
        if let Some(owner) = super::backup_vault::other_owner(&backup, name, arn).await? {
            out.skipped.push(Skipped {
                what,
                why: format!("managed by {owner}"),
            });
            continue;
        }
        let Some(plan) = backup
            .get_backup_plan()
            .backup_plan_id(id)
            .send()
            .await
            .absent_on("backup:GetBackupPlan", &["ResourceNotFoundException"])?
        else {
            continue;
        };
        let rules = plan.backup_plan().map(|p| p.rules()).unwrap_or_default();
        let vaults: std::collections::BTreeSet<&str> =
            rules.iter().map(|r| r.target_backup_vault_name()).collect();
        let mut node = Node::new(KIND.keyword).arg(name).comment("AWS Backup plan");
        let shared_vault = (vaults.len() == 1)
            .then(|| vaults.iter().next().copied())
            .flatten();
        if let Some(v) = shared_vault {
            node = node.child(Node::new("vault").arg(v));
        }
        let mut notes = Vec::new();
        let mut rules: Vec<_> = rules.iter().collect();
        rules.sort_by(|a, b| a.rule_name().cmp(b.rule_name()));
        for r in rules {
            let skip = |out: &mut Imported, why: String| {
                out.skipped.push(Skipped {
                    what: what.clone(),
                    why: format!("its rule \"{}\" {why}", r.rule_name()),
                })
            };
            let schedule = r.schedule_expression().unwrap_or_default();
            if !matches!(check_schedule(schedule), Ok(Schedule::Cron)) {
                skip(
                    &mut out,
                    format!("has a schedule the language refuses ({schedule:?})"),
                );
                continue 'plans;
            }
            let vault = r.target_backup_vault_name();
            if !super::backup_vault::valid_vault_name(vault) {
                skip(
                    &mut out,
                    format!("writes into vault {vault}, which the language cannot name"),
                );
                continue 'plans;
            }
            let lifecycle = r.lifecycle();
            let delete = lifecycle.and_then(|l| l.delete_after_days());
            let cold = lifecycle.and_then(|l| l.move_to_cold_storage_after_days());
            let lock = match super::backup_vault::live_lock(&backup, vault).await {
                Ok(lock) => lock,
                Err(_) => {
                    skip(
                        &mut out,
                        format!("writes into vault {vault}, which cannot be read"),
                    );
                    continue 'plans;
                }
            };
            if let Some(lock) = lock {
                let within = match delete {
                    Some(d) => lock.min.is_none_or(|m| d >= m) && lock.max.is_none_or(|m| d <= m),
                    None => lock.max.is_none(),
                };
                if !within {
                    skip(
                        &mut out,
                        format!(
                            "keeps backups outside the lock of vault {vault}, which AWS Backup \
                             refuses at backup time and the language refuses outright"
                        ),
                    );
                    continue 'plans;
                }
            }
            let mut rule = Node::new("rule")
                .arg(r.rule_name())
                .prop("schedule", schedule);
            if let Some(d) = delete {
                rule = rule.prop("delete-after-days", d);
            }
            if let Some(c) = cold {
                rule = rule.prop("cold-after-days", c);
            }
            if shared_vault.is_none() {
                rule = rule.prop("vault", vault);
            }
            node = node.child(rule);
            if !r.copy_actions().is_empty() {
                notes.push(format!(
                    "rule \"{}\" also copies to other vaults, which the language does not \
                     declare: left as it is, unless baseline ever rewrites the plan's rules",
                    r.rule_name()
                ));
            }
        }
        // Selections: one tag equality each, as the language says them.
        let mut selections = Vec::new();
        let mut pages = backup
            .list_backup_selections()
            .backup_plan_id(id)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.ctx("backup:ListBackupSelections")?;
            selections.extend(page.backup_selections_list().iter().cloned());
        }
        selections.sort_by(|a, b| a.selection_name().cmp(&b.selection_name()));
        let default_role = BACKUP_SERVICE_ROLE.arn(&cx.aws.partition, &site.account_id);
        let role_prefix = format!("arn:{}:iam::{}:role/", cx.aws.partition, site.account_id);
        for sel in selections {
            let (Some(sel_name), Some(sel_id)) = (sel.selection_name(), sel.selection_id()) else {
                continue;
            };
            let Some(live) = backup
                .get_backup_selection()
                .backup_plan_id(id)
                .selection_id(sel_id)
                .send()
                .await
                .absent_on("backup:GetBackupSelection", &["ResourceNotFoundException"])?
                .and_then(|o| o.backup_selection)
            else {
                continue;
            };
            let by_tag = match live.list_of_tags() {
                [c] if c.condition_type() == &ConditionType::Stringequals
                    && live.resources().is_empty()
                    && live.not_resources().is_empty() =>
                {
                    Some((c.condition_key(), c.condition_value()))
                }
                _ => None,
            };
            let Some((key, value)) = by_tag else {
                out.skipped.push(Skipped {
                    what: format!("backup-selection \"{name}/{sel_name}\" {at}"),
                    why: "it selects otherwise than by one tag's value".to_string(),
                });
                continue;
            };
            let mut s = Node::new("selection")
                .arg(sel_name)
                .prop("tag", key)
                .prop("value", value);
            let role = live.iam_role_arn();
            if role != default_role {
                s = s.prop("role", role.strip_prefix(&role_prefix).unwrap_or(role));
            }
            node = node.child(s);
        }
        let mut found = Found::new(node);
        found.notes = notes;
        out.found.push(found);
    }
    Ok(out)
}

#[async_trait]
impl Provider for BackupPlanProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        let Some(plan) = spec_of::<BackupPlan>(cx.decl(inst)) else {
            return Attrs::new();
        };
        if inst.address.kind == SELECTION_KIND {
            return selection_of(plan, inst).map_or_else(Attrs::new, |s| {
                selection_attrs(Some(&s.tag_key), Some(&s.tag_value), &role_arn(cx, s, inst))
            });
        }
        if inst.address.kind == ROLE_KIND {
            return BACKUP_SERVICE_ROLE.desired();
        }
        rules_attrs(
            plan.rules
                .iter()
                .map(|r| {
                    rule_json(
                        &r.name.value,
                        Some(&r.schedule),
                        &r.vault.value,
                        r.delete_after_days.as_ref().map(|d| d.value.into()),
                        r.cold_after_days.map(i64::from),
                    )
                })
                .collect(),
        )
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        match inst.address.kind.as_str() {
            SELECTION_KIND => self.read_selection(cx, inst).await,
            ROLE_KIND => BACKUP_SERVICE_ROLE.read(cx, &inst.account_id).await,
            _ => self.read_plan(cx, inst).await,
        }
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(plan) = spec_of::<BackupPlan>(cx.decl(inst)) else {
            return Ok(());
        };
        match inst.address.kind.as_str() {
            SELECTION_KIND => self.apply_selection(cx, inst, plan, change).await,
            ROLE_KIND => {
                BACKUP_SERVICE_ROLE
                    .apply(cx, &inst.account_id, change)
                    .await
            }
            _ => self.apply_plan(cx, inst, plan, change).await,
        }
    }

    async fn import(
        &self,
        cx: &Ctx<'_>,
        site: &crate::import::Site,
        _lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        Ok(Some(import_site(cx, site).await?))
    }

    /// A selection's every attribute (the plan has only `rules`, updated in place).
    fn replace_on(&self) -> &'static [&'static str] {
        &["tag-key", "tag-value", "role-arn"]
    }
}
