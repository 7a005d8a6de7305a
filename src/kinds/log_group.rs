//! `log-group`: a CloudWatch Logs log group with a retention and, optionally, a declared KMS
//! key (SOC 2 CC7.2; the trail delivers to one for CIS AWS Foundations v3.0 section 4).
//! The organization trail delivers into one, and `security-alarms` watches it.

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::kms_key::{alias_of, created_in_this_run, existing_key_arn, key_arn};
use super::{check_keys_beside, spec_of, Kind, Naming, Placing};
use crate::aws::{until_consistent, AwsError, Context};
use crate::expand::Instance;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Baseline, Declaration, Reference, Spec};
use crate::lang::reader::{Cx, NodeReader};
use crate::lang::source::Spanned;
use crate::provider::{
    self, is_managed_tag, Action, Attrs, ChangeRequest, Ctx, Observed, Provider, MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "log-group",
    summary: "a CloudWatch Logs log group with retention and a declared KMS key",
    naming: Naming::Required,
    placing: Placing::Single,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: check_key_beside,
    provider: Some(&LogGroupProvider),
};

/// The retentions CloudWatch Logs offers, in days (PutRetentionPolicy, `retentionInDays`);
/// any other number is refused.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

#[derive(Debug, Clone)]
pub struct LogGroup {
    /// The log group's name in CloudWatch Logs (the declaration's name unless `name` says).
    pub name: String,
    pub retention_days: u32,
    pub kms_key: Option<Spanned<String>>,
}

impl Spec for LogGroup {
    fn references(&self) -> Vec<Reference> {
        self.kms_key
            .iter()
            .map(|k| Reference::new("kms-key", k))
            .collect()
    }
    crate::spec_any!();
}

/// Log group names: 1-512 of `[A-Za-z0-9._/#-]` (CreateLogGroup).
fn is_log_group_name(name: &str) -> bool {
    (1..=512).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
}

/// `retention-days N`, checked against what CloudWatch Logs offers; `None` when absent or
/// refused (refusals are reported).
pub fn read_retention(r: &mut NodeReader) -> Option<u32> {
    let days = r.child_u32("retention-days", 1..=u32::MAX)?;
    if RETENTION_DAYS.contains(&days.value) {
        return Some(days.value);
    }
    let nearest = RETENTION_DAYS
        .iter()
        .min_by_key(|d| d.abs_diff(days.value))
        .copied()
        .unwrap_or(365);
    r.report(
        Problem::new(
            "baseline::invalid-value",
            days.span,
            format!(
                "CloudWatch Logs does not offer a retention of {} days",
                days.value
            ),
        )
        .label(format!("nearest offered: {nearest}"))
        .help(format!(
            "CloudWatch Logs keeps events for one of {} days",
            RETENTION_DAYS
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    );
    None
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    let group_name = r.child_str("name", "the log group's name");
    let checked = group_name.as_ref().unwrap_or(name);
    if !is_log_group_name(&checked.value) {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                checked.span,
                format!("\"{}\" is not a log group name", checked.value),
            )
            .label("not a log group name")
            .help("a log group name has 1 to 512 letters, digits and . _ - / #"),
        );
    }
    let retention = read_retention(r);
    let retention_days = r
        .require(retention, "retention-days", "retention-days 365")
        .unwrap_or(365);
    let kms_key = r.child_str("kms-key", "the name of a declared kms-key");
    Box::new(LogGroup {
        name: group_name.map_or_else(|| name.value.clone(), |n| n.value),
        retention_days,
        kms_key,
    })
}

/// A KMS key encrypts only in its own region.
fn check_key_beside(baseline: &Baseline, decls: &[&Declaration], cx: &Cx) {
    fn key_of(d: &Declaration) -> Option<&Spanned<String>> {
        spec_of::<LogGroup>(d).and_then(|s| s.kms_key.as_ref())
    }
    check_keys_beside(baseline, decls, cx, key_of, "a log group");
}

// --- AWS -------------------------------------------------------------------------------

/// The log group, by name. Tagged at creation; an untagged group with the declared name is
/// adopted; never deleted by baseline (it holds the audit trail's events).
pub struct LogGroupProvider;

/// The declared log-group `decl_name`, as (its log group name, account id, region).
pub fn placed(cx: &Ctx<'_>, decl_name: &str) -> Option<(String, String, String)> {
    let decl = cx.baseline.find(KIND.keyword, decl_name)?;
    let spec = spec_of::<LogGroup>(decl)?;
    Some((spec.name.clone(), cx.account_of(decl), cx.region_of(decl)))
}

/// `arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME`: the ARN tags and KMS encryption
/// contexts name (CloudTrail wants it with `:*` appended).
pub fn arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:logs:{region}:{account}:log-group:{name}")
}

/// The ARN of the declared log-group `decl_name`.
pub fn arn_of(cx: &Ctx<'_>, decl_name: &str) -> Option<String> {
    let (name, account, region) = placed(cx, decl_name)?;
    Some(arn(&cx.aws.partition, &region, &account, &name))
}

/// The tags of the log group `arn`.
async fn tags_of(
    logs: &aws_sdk_cloudwatchlogs::Client,
    arn: &str,
) -> provider::Result<HashMap<String, String>> {
    let out = logs
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .ctx("logs:ListTagsForResource")?;
    Ok(out.tags.unwrap_or_default())
}

fn is_managed(tags: &HashMap<String, String>) -> bool {
    tags.iter()
        .any(|(k, v)| is_managed_tag(k.as_str(), v.as_str()))
}

/// The log group called `name`, as DescribeLogGroups has it.
pub async fn describe(
    logs: &aws_sdk_cloudwatchlogs::Client,
    name: &str,
) -> Result<Option<aws_sdk_cloudwatchlogs::types::LogGroup>, AwsError> {
    let groups = logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .ctx("logs:DescribeLogGroups")?;
    Ok(groups
        .into_iter()
        .find(|g| g.log_group_name() == Some(name)))
}

/// The statement the key policy of the declared kms-key `key` needs for the log groups
/// encrypted with it: CloudWatch Logs (the regional service principal) uses the key only
/// for those groups, named in the encryption context (CloudWatch Logs user guide, "Encrypt
/// log data in CloudWatch Logs using AWS KMS").
pub fn key_statements(cx: &Ctx<'_>, key: &str) -> serde_json::Map<String, Value> {
    let mut by_region: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for d in cx
        .baseline
        .declarations
        .iter()
        .filter(|d| std::ptr::eq(d.kind, &KIND))
    {
        let Some(g) =
            spec_of::<LogGroup>(d).filter(|g| g.kms_key.as_ref().is_some_and(|k| k.value == key))
        else {
            continue;
        };
        let region = cx.region_of(d);
        let arn = arn(&cx.aws.partition, &region, &cx.account_of(d), &g.name);
        by_region.entry(region).or_default().push(arn);
    }
    let mut s = serde_json::Map::new();
    // A key lives in one region, as must the groups it encrypts; one statement per region
    // keeps a misplaced declaration visible in the policy rather than silently dropped.
    for (region, arns) in by_region {
        s.insert(
            format!("BaselineLogsEncrypt{}", region.replace('-', "")),
            json!({
                "Effect": "Allow",
                "Principal": {"Service": format!("logs.{region}.amazonaws.com")},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*",
                           "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arns}}
            }),
        );
    }
    s
}

fn attrs(cx: &Ctx<'_>, g: &LogGroup) -> Attrs {
    let mut a = Attrs::new();
    a.insert("retention-days".into(), json!(g.retention_days));
    a.insert(
        "kms-key".into(),
        json!(g.kms_key.as_ref().map(|k| alias_of(cx, &k.value))),
    );
    a
}

/// A key this run created may not be usable by CloudWatch Logs for a moment: only then is
/// its refusal waited out. CloudWatch Logs answers a key it cannot use (missing, or a key
/// policy without the logs service principal) with `InvalidParameterException` or
/// `AccessDeniedException`, depending on the operation.
fn key_not_yet_usable(key_is_new: bool) -> impl Fn(&AwsError) -> bool {
    move |e: &AwsError| {
        key_is_new && (e.is("InvalidParameterException") || e.is("AccessDeniedException"))
    }
}

#[async_trait]
impl Provider for LogGroupProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        spec_of::<LogGroup>(cx.decl(inst)).map_or_else(Attrs::new, |g| attrs(cx, g))
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let Some(spec) = spec_of::<LogGroup>(cx.decl(inst)) else {
            return Ok(Observed::absent());
        };
        let logs = cx.aws.logs(&inst.account_id, &inst.region).await?;
        let Some(group) = describe(&logs, &spec.name).await? else {
            return Ok(Observed::absent());
        };
        let arn = arn(
            &cx.aws.partition,
            &inst.region,
            &inst.account_id,
            &spec.name,
        );
        let tags = tags_of(&logs, &arn).await?;
        let managed = is_managed(&tags);
        let kms = match group.kms_key_id().filter(|k| !k.is_empty()) {
            None => Value::Null,
            Some(id) => match &spec.kms_key {
                Some(k) if key_arn(cx, &k.value).await?.as_deref() == Some(id) => {
                    json!(alias_of(cx, &k.value))
                }
                _ => json!(id),
            },
        };
        let mut live = Attrs::new();
        live.insert("retention-days".into(), json!(group.retention_in_days()));
        live.insert("kms-key".into(), kms);
        let mut ids = Attrs::new();
        ids.insert("arn".into(), json!(arn));
        let owner = crate::coexist::owner_of(
            group.log_group_name().unwrap_or_default(),
            tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        Ok(Observed::present(live, ids, Some(managed)).owned_by(owner))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<LogGroup>(cx.decl(inst)) else {
            return Ok(());
        };
        let logs = cx.aws.logs(&inst.account_id, &inst.region).await?;
        let name = spec.name.as_str();
        let key = match &spec.kms_key {
            None => None,
            Some(k) => Some(existing_key_arn(cx, &k.value).await?),
        };
        let key_is_new = spec
            .kms_key
            .as_ref()
            .is_some_and(|k| created_in_this_run(cx, &k.value));
        let group_arn = arn(&cx.aws.partition, &inst.region, &inst.account_id, name);
        match change.action {
            Action::Create => {
                let created = until_consistent(key_not_yet_usable(key_is_new), || async {
                    logs.create_log_group()
                        .log_group_name(name)
                        .set_kms_key_id(key.clone())
                        .tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
                        .send()
                        .await
                        .ctx("logs:CreateLogGroup")
                })
                .await;
                match created {
                    Ok(_) => {}
                    // No idempotency token: when the answer is lost, the SDK's retry finds
                    // the group made. Only a group with baseline's tag (set by the call)
                    // is taken as the call's own; another's stays refused.
                    Err(e)
                        if e.is("ResourceAlreadyExistsException")
                            && is_managed(&tags_of(&logs, &group_arn).await?) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            _ => {
                if change.action == Action::Adopt {
                    logs.tag_resource()
                        .resource_arn(&group_arn)
                        .tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
                        .send()
                        .await
                        .ctx("logs:TagResource")?;
                }
                if change.changes("kms-key") {
                    match &key {
                        Some(key) => {
                            until_consistent(key_not_yet_usable(key_is_new), || async {
                                logs.associate_kms_key()
                                    .log_group_name(name)
                                    .kms_key_id(key)
                                    .send()
                                    .await
                                    .ctx("logs:AssociateKmsKey")
                            })
                            .await?;
                        }
                        None => {
                            logs.disassociate_kms_key()
                                .log_group_name(name)
                                .send()
                                .await
                                .ctx("logs:DisassociateKmsKey")?;
                        }
                    }
                }
            }
        }
        if change.action == Action::Create || change.changes("retention-days") {
            logs.put_retention_policy()
                .log_group_name(name)
                .retention_in_days(spec.retention_days as i32)
                .send()
                .await
                .ctx("logs:PutRetentionPolicy")?;
        }
        let mut values = Attrs::new();
        values.insert("arn".into(), json!(group_arn));
        cx.outputs.publish(
            KIND.keyword,
            &cx.decl(inst).name.value,
            values,
            change.action == Action::Create,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_names() {
        assert!(is_log_group_name("/baseline/cloudtrail"));
        assert!(is_log_group_name("aws-cloudtrail-logs_1#a.b"));
        assert!(!is_log_group_name(""));
        assert!(!is_log_group_name("has space"));
        assert!(!is_log_group_name(&"a".repeat(513)));
    }
}
