//! `log-retention`: a rule over every CloudWatch Logs log group of the targeted accounts and
//! regions: a group that keeps its events forever (no retention) gets the declared one.
//! Groups with a retention of their own, and declared `log-group`s, are left alone.

use async_trait::async_trait;
use serde_json::json;

use super::log_group::{read_retention, LogGroup};
use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{self, Attrs, ChangeRequest, Ctx, Observed, Provider};

pub static KIND: Kind = Kind {
    keyword: "log-retention",
    summary: "a retention for every CloudWatch Logs log group in the targets that has none",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&LogRetentionProvider),
};

#[derive(Debug, Clone)]
pub struct LogRetention {
    pub retention_days: u32,
    /// Log groups left alone, by name prefix.
    pub exclude_prefixes: Vec<String>,
}

impl Spec for LogRetention {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let retention = read_retention(r);
    let retention_days = r
        .require(retention, "retention-days", "retention-days 365")
        .unwrap_or(365);
    let exclude_prefixes = r
        .child_strs("exclude-prefixes", "log group name prefixes")
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.value)
        .collect();
    Box::new(LogRetention {
        retention_days,
        exclude_prefixes,
    })
}

// --- AWS -------------------------------------------------------------------------------

/// A rule, not a resource: it lists the log groups of one account and region that keep
/// events forever and gives them the declared retention.
pub struct LogRetentionProvider;

const ATTR: &str = "log-groups-without-retention";

#[async_trait]
impl Provider for LogRetentionProvider {
    fn desired(&self, _cx: &Ctx<'_>, _inst: &Instance) -> Attrs {
        let mut a = Attrs::new();
        a.insert(ATTR.into(), json!([]));
        a
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let Some(spec) = spec_of::<LogRetention>(cx.decl(inst)) else {
            return Ok(Observed::absent());
        };
        // Declared log groups follow their own declaration.
        let declared: Vec<String> = cx
            .baseline
            .declarations
            .iter()
            .filter(|d| std::ptr::eq(d.kind, &super::log_group::KIND))
            .filter(|d| cx.account_of(d) == inst.account_id && cx.region_of(d) == inst.region)
            .filter_map(|d| spec_of::<LogGroup>(d).map(|g| g.name.clone()))
            .collect();
        let logs = cx.aws.logs(&inst.account_id, &inst.region).await?;
        let groups = logs
            .describe_log_groups()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .ctx("logs:DescribeLogGroups")?;
        let mut forever: Vec<String> = groups
            .iter()
            .filter(|g| g.retention_in_days().is_none())
            .filter_map(|g| g.log_group_name())
            .filter(|n| !declared.iter().any(|d| d == n))
            .filter(|n| {
                !spec
                    .exclude_prefixes
                    .iter()
                    .any(|p| n.starts_with(p.as_str()))
            })
            .map(str::to_string)
            .collect();
        forever.sort();
        let mut live = Attrs::new();
        live.insert(ATTR.into(), json!(forever));
        Ok(Observed::present(live, Attrs::new(), None))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<LogRetention>(cx.decl(inst)) else {
            return Ok(());
        };
        let logs = cx.aws.logs(&inst.account_id, &inst.region).await?;
        for name in change.live_strings(ATTR) {
            logs.put_retention_policy()
                .log_group_name(&name)
                .retention_in_days(spec.retention_days as i32)
                .send()
                .await
                .ctx("logs:PutRetentionPolicy")?;
        }
        Ok(())
    }
}
