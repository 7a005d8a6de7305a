//! Drift as AWS Security Hub findings (`plan --publish-findings`): one finding per drifted
//! instance, in the management account's hub in the home region, with a stable id so that a
//! later run updates it instead of adding a duplicate, and marks it resolved (compliance
//! PASSED, record ARCHIVED) once the drift is gone.

use std::collections::{BTreeMap, HashSet};

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, Compliance, ComplianceStatus, RecordState,
    Resource, Severity, SeverityLabel, StringFilter, StringFilterComparison,
};

use crate::aws::{AwsError, Context};
use crate::plan::Plan;
use crate::provider::Ctx;
use crate::render::short;

/// Every finding baseline publishes has a generator id with this prefix.
pub const GENERATOR_PREFIX: &str = "baseline/";
const SCHEMA_VERSION: &str = "2018-10-08";
const FINDING_TYPE: &str = "Software and Configuration Checks/Industry and Regulatory Standards";
/// Security Hub takes at most 100 findings per BatchImportFindings call.
const IMPORT_BATCH: usize = 100;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Published {
    pub new: usize,
    pub updated: usize,
    pub resolved: usize,
}

/// The finding id of an address: stable across runs.
pub fn finding_id(address: &str) -> String {
    format!("{GENERATOR_PREFIX}{address}")
}

/// Publish the plan's drift, and resolve what earlier runs published that no longer drifts.
pub async fn publish(cx: &Ctx<'_>, plan: &Plan) -> Result<Published, AwsError> {
    let account = cx.org.management_account_id.as_str();
    let region = cx.baseline.settings.home_region();
    let hub = cx.aws.securityhub(account, &region).await?;
    let partition = cx.aws.partition.as_str();
    let product_arn =
        format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default");
    let now = crate::changelog::now_rfc3339();

    // What earlier runs published and is still active, by id.
    let filters = AwsSecurityFindingFilters::builder()
        .generator_id(
            StringFilter::builder()
                .value(GENERATOR_PREFIX)
                .comparison(StringFilterComparison::Prefix)
                .build(),
        )
        .product_arn(
            StringFilter::builder()
                .value(&product_arn)
                .comparison(StringFilterComparison::Equals)
                .build(),
        )
        .record_state(
            StringFilter::builder()
                .value("ACTIVE")
                .comparison(StringFilterComparison::Equals)
                .build(),
        )
        .build();
    let mut active: BTreeMap<String, AwsSecurityFinding> = BTreeMap::new();
    let mut pages = hub
        .get_findings()
        .filters(filters)
        .max_results(100)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for f in page.ctx("securityhub:GetFindings")?.findings() {
            active.insert(f.id().unwrap_or_default().to_string(), f.clone());
        }
    }

    let mut result = Published::default();
    let mut batch = Vec::new();
    let mut current = HashSet::new();
    for item in &plan.items {
        if item.action.is_none() && item.findings.is_empty() {
            continue;
        }
        let address = item.address.to_string();
        let id = finding_id(&address);
        current.insert(id.clone());
        let previous = active.get(&id);
        if previous.is_some() {
            result.updated += 1;
        } else {
            result.new += 1;
        }
        let mut lines: Vec<String> = item
            .diffs
            .iter()
            .map(|d| format!("{}: {} -> {}", d.name, short(&d.before), short(&d.after)))
            .collect();
        lines.extend(item.findings.iter().map(|f| f.message.clone()));
        let mut description = match item.action {
            Some(a) => format!("baseline would {} it. {}", a.verb(), lines.join("; ")),
            None => lines.join("; "),
        };
        truncate(&mut description, 1024);
        let controls: Vec<String> = cx
            .baseline
            .find(&item.address.kind, &item.address.name)
            .map(|d| d.controls.iter().map(|c| c.value.clone()).collect())
            .unwrap_or_default();
        let mut title = format!("Drift from the baseline: {address}");
        truncate(&mut title, 256);
        batch.push(
            AwsSecurityFinding::builder()
                .schema_version(SCHEMA_VERSION)
                .id(&id)
                .product_arn(&product_arn)
                .generator_id(format!("{GENERATOR_PREFIX}{}", item.address.kind))
                .aws_account_id(account)
                .types(FINDING_TYPE)
                .created_at(previous.and_then(|p| p.created_at()).unwrap_or(&now))
                .updated_at(&now)
                .severity(Severity::builder().label(SeverityLabel::Medium).build())
                .title(title)
                .description(description)
                .resources(
                    Resource::builder()
                        .r#type("Other")
                        .id(&address)
                        .region(&item.region)
                        .partition(aws_sdk_securityhub::types::Partition::from(
                            cx.aws.partition.as_str(),
                        ))
                        .build(),
                )
                .compliance(
                    Compliance::builder()
                        .status(ComplianceStatus::Failed)
                        .set_related_requirements((!controls.is_empty()).then_some(controls))
                        .build(),
                )
                .record_state(RecordState::Active)
                .build(),
        );
    }
    // Earlier drift that is gone: resolved, not deleted, so the history stays.
    for (id, finding) in &active {
        if current.contains(id) {
            continue;
        }
        result.resolved += 1;
        let mut resolved = finding.clone();
        resolved.updated_at = Some(now.clone());
        resolved.record_state = Some(RecordState::Archived);
        resolved.compliance = Some(
            Compliance::builder()
                .status(ComplianceStatus::Passed)
                .set_related_requirements(
                    finding
                        .compliance()
                        .map(|c| c.related_requirements().to_vec()),
                )
                .build(),
        );
        batch.push(resolved);
    }
    for chunk in batch.chunks(IMPORT_BATCH) {
        let out = hub
            .batch_import_findings()
            .set_findings(Some(chunk.to_vec()))
            .send()
            .await
            .ctx("securityhub:BatchImportFindings")?;
        if let Some(failed) = out.failed_findings().first() {
            return Err(AwsError {
                operation: "securityhub:BatchImportFindings".into(),
                code: failed.error_code().map(str::to_string),
                message: format!(
                    "{} finding(s) refused, first {}: {}",
                    out.failed_count().unwrap_or(0),
                    failed.id().unwrap_or_default(),
                    failed.error_message().unwrap_or_default()
                ),
                request_id: None,
                status: None,
            });
        }
    }
    Ok(result)
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let cut = s
            .char_indices()
            .map(|(i, _)| i)
            .take_while(|&i| i <= max - 3)
            .last()
            .unwrap_or(0);
        s.truncate(cut);
        s.push_str("...");
    }
}
