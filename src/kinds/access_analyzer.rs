//! `access-analyzer`: an IAM Access Analyzer analyzer, for the organization (in its delegated
//! administrator account, typically audit) or for one account; its active findings can be
//! reported as findings of the plan (CIS AWS Foundations v3.0, 1.20; SOC 2 CC6.1,
//! ISO 27001:2022 A.5.15).

use async_trait::async_trait;
use aws_sdk_accessanalyzer::types::{AnalyzerStatus, Criterion, Type};
use serde_json::json;

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::diagnostic::Problem;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{
    self, is_managed_tag, Action, Attrs, ChangeRequest, Ctx, Finding, Observed, Provider,
    MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "access-analyzer",
    summary: "an IAM Access Analyzer for the organization or an account (CIS 1.20)",
    naming: Naming::Required,
    placing: Placing::Single,
    regional: true,
    nests: false,
    needs_organization: true,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&AccessAnalyzerProvider),
};

/// The zones of trust, as the declaration and the API name them.
const TYPES: &[(&str, &str)] = &[("organization", "ORGANIZATION"), ("account", "ACCOUNT")];

#[derive(Debug, Clone)]
pub struct AccessAnalyzer {
    /// `ORGANIZATION` or `ACCOUNT`.
    pub zone: String,
    pub include_findings: bool,
}

impl Spec for AccessAnalyzer {
    crate::spec_any!();
}

/// Analyzer names: 1-255 of `[A-Za-z][A-Za-z0-9_.-]*`.
fn is_analyzer_name(name: &str) -> bool {
    (1..=255).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    if !is_analyzer_name(&name.value) {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                name.span,
                format!("\"{}\" is not an analyzer name", name.value),
            )
            .label("not an analyzer name")
            .help("an analyzer name starts with a letter and has letters, digits, _ . and -"),
        );
    }
    let zone = r.child_str("type", "organization or account");
    let zone = match zone {
        None => "ORGANIZATION".to_string(),
        Some(z) => match TYPES.iter().find(|(k, _)| *k == z.value) {
            Some((_, api)) => api.to_string(),
            None => {
                r.report(
                    Problem::new(
                        "baseline::invalid-value",
                        z.span,
                        format!("\"{}\" is not a zone of trust", z.value),
                    )
                    .label("unknown type")
                    .help("type is \"organization\" or \"account\""),
                );
                "ORGANIZATION".to_string()
            }
        },
    };
    let include_findings = r.child_bool("include-findings").is_some_and(|b| b.value);
    Box::new(AccessAnalyzer {
        zone,
        include_findings,
    })
}

// --- AWS -------------------------------------------------------------------------------

/// The analyzer, by name. Tagged at creation; an untagged one of that name is adopted;
/// another zone of trust means replacing it (AWS cannot change an analyzer's type). Never
/// deleted when its declaration goes.
pub struct AccessAnalyzerProvider;

/// The findings an analyzer reports as active, as plan findings.
async fn active_findings(
    aa: &aws_sdk_accessanalyzer::Client,
    analyzer_arn: &str,
) -> provider::Result<Vec<Finding>> {
    let findings = aa
        .list_findings()
        .analyzer_arn(analyzer_arn)
        .filter("status", Criterion::builder().eq("ACTIVE").build())
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .ctx("access-analyzer:ListFindings")?;
    Ok(findings
        .iter()
        .map(|f| {
            let principal = f
                .principal()
                .map(|p| {
                    let mut who: Vec<String> = p.iter().map(|(k, v)| format!("{k} {v}")).collect();
                    who.sort();
                    who.join(", ")
                })
                .unwrap_or_else(|| "anyone".to_string());
            let public = if f.is_public() == Some(true) {
                " (public)"
            } else {
                ""
            };
            Finding {
                message: format!(
                    "{} {} in account {} is shared outside the zone of trust with {principal}{public} (finding {})",
                    f.resource_type().as_str(),
                    f.resource().unwrap_or("?"),
                    f.resource_owner_account(),
                    f.id()
                ),
            }
        })
        .collect())
}

#[async_trait]
impl Provider for AccessAnalyzerProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        let mut a = Attrs::new();
        if let Some(spec) = spec_of::<AccessAnalyzer>(cx.decl(inst)) {
            a.insert("type".into(), json!(spec.zone));
        }
        a
    }

    fn replace_on(&self) -> &'static [&'static str] {
        &["type"]
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let decl = cx.decl(inst);
        let Some(spec) = spec_of::<AccessAnalyzer>(decl) else {
            return Ok(Observed::absent());
        };
        let aa = cx
            .aws
            .access_analyzer(&inst.account_id, &inst.region)
            .await?;
        let Some(analyzer) = aa
            .get_analyzer()
            .analyzer_name(&decl.name.value)
            .send()
            .await
            .absent_on(
                "access-analyzer:GetAnalyzer",
                &["ResourceNotFoundException"],
            )?
            .and_then(|o| o.analyzer)
        else {
            return Ok(Observed::absent());
        };
        let managed = analyzer.tags().is_some_and(|t| {
            t.iter()
                .any(|(k, v)| is_managed_tag(k.as_str(), v.as_str()))
        });
        let mut live = Attrs::new();
        live.insert("type".into(), json!(analyzer.r#type().as_str()));
        let mut ids = Attrs::new();
        ids.insert("arn".into(), json!(analyzer.arn()));
        let owner = crate::coexist::owner_of(
            &decl.name.value,
            analyzer
                .tags()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let mut observed = Observed::present(live, ids, Some(managed)).owned_by(owner);
        if spec.include_findings && *analyzer.status() == AnalyzerStatus::Active {
            observed.findings = active_findings(&aa, analyzer.arn()).await?;
        }
        Ok(observed)
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let decl = cx.decl(inst);
        let Some(spec) = spec_of::<AccessAnalyzer>(decl) else {
            return Ok(());
        };
        let name = decl.name.value.as_str();
        let aa = cx
            .aws
            .access_analyzer(&inst.account_id, &inst.region)
            .await?;
        if change.action == Action::Replace {
            aa.delete_analyzer()
                .analyzer_name(name)
                .send()
                .await
                .ctx("access-analyzer:DeleteAnalyzer")?;
        }
        match change.action {
            Action::Create | Action::Replace => {
                aa.create_analyzer()
                    .analyzer_name(name)
                    .r#type(Type::from(spec.zone.as_str()))
                    .tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
                    .send()
                    .await
                    .ctx("access-analyzer:CreateAnalyzer")?;
            }
            Action::Adopt => {
                if let Some(arn) = change.id("arn") {
                    aa.tag_resource()
                        .resource_arn(arn)
                        .tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
                        .send()
                        .await
                        .ctx("access-analyzer:TagResource")?;
                }
            }
            Action::Update | Action::Delete => {}
        }
        Ok(())
    }
}
