//! `backup-plan`: an AWS Backup plan (rules into a declared vault) and its resource selections.

use super::{backup_vault::BackupVault, spec_of, Kind, Naming, Placing};
use crate::lang::checks::{check_schedule, Schedule};
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Baseline, Declaration, Part, Reference, Spec};
use crate::lang::reader::{Cx, NodeReader};
use crate::lang::source::Spanned;

pub static KIND: Kind = Kind {
    keyword: "backup-plan",
    summary: "an AWS Backup plan: rules into a declared vault, and tag-based selections",
    naming: Naming::Required,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    parse,
    check_all: check_retention_within_lock,
    provider: None,
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

    fn extra_parts(&self, name: &str) -> Vec<Part> {
        self.selections
            .iter()
            .map(|s| Part {
                kind: "backup-selection".into(),
                name: format!("{name}/{}", s.name.value),
                after: vec![0],
            })
            .collect()
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

/// A rule whose retention falls outside its vault's lock would fail at backup time.
fn check_retention_within_lock(baseline: &Baseline, decls: &[&Declaration], cx: &Cx) {
    for decl in decls {
        let Some(plan) = spec_of::<BackupPlan>(decl) else {
            continue;
        };
        for rule in &plan.rules {
            let lock = baseline
                .find("backup-vault", &rule.vault.value)
                .and_then(spec_of::<BackupVault>)
                .and_then(|v| v.lock.as_ref());
            let (Some(lock), Some(days)) = (lock, &rule.delete_after_days) else {
                continue;
            };
            if !(lock.min_retention_days..=lock.max_retention_days).contains(&days.value) {
                cx.report(
                    Problem::new(
                        "baseline::retention-outside-lock",
                        days.span,
                        format!(
                            "retention of {} days is outside the lock of vault \"{}\" ({} to {} days)",
                            days.value, rule.vault.value, lock.min_retention_days, lock.max_retention_days
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
