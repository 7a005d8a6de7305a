//! `mfa`: MFA requirements. AWS offers no API to turn MFA on for a person, so these are
//! findings: reported, counted as drift, never "remediated".

use async_trait::async_trait;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::json;

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{self, Attrs, ChangeRequest, Ctx, Finding, Observed, Provider};

pub static KIND: Kind = Kind {
    keyword: "mfa",
    summary: "MFA on the root user and on every console user (reported as findings)",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: false,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&MfaProvider),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mfa {
    pub root_mfa: bool,
    pub require_for_console_users: bool,
}

impl Spec for Mfa {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    Box::new(Mfa {
        root_mfa: r.child_bool("root-mfa").is_none_or(|b| b.value),
        require_for_console_users: r
            .child_bool("require-for-console-users")
            .is_none_or(|b| b.value),
    })
}

// --- AWS -------------------------------------------------------------------------------

/// MFA checks of one account. Nothing to create or change: the instance is always present
/// with no attributes and cannot be tagged, so the plan never holds an action for it, only
/// the findings its read reports.
pub struct MfaProvider;

/// Users whose MFA devices are checked at a time.
const USER_PARALLELISM: usize = 8;

/// Whether the organization manages its member accounts' root credentials centrally
/// (`iam:ListOrganizationsFeatures` of the management account lists
/// RootCredentialsManagement). Asked once per run; an organization without the feature, or
/// without trusted access for IAM, answers no.
async fn root_credentials_managed_centrally(cx: &Ctx<'_>) -> provider::Result<bool> {
    const ASKED: (&str, &str) = ("organization-features", "iam");
    if let Some(known) = cx.outputs.get(ASKED.0, ASKED.1) {
        return Ok(known.values.get(ROOT_CREDENTIALS) == Some(&json!(true)));
    }
    let iam = cx
        .aws
        .iam(
            &cx.org.management_account_id,
            &cx.baseline.settings.home_region(),
        )
        .await?;
    let features = iam.list_organizations_features().send().await.absent_on(
        "iam:ListOrganizationsFeatures",
        &[
            "ServiceAccessNotEnabledException",
            "OrganizationNotFoundException",
            "AccountNotManagementOrDelegatedAdministratorException",
        ],
    )?;
    let on = features.is_some_and(|f| {
        f.enabled_features()
            .contains(&aws_sdk_iam::types::FeatureType::RootCredentialsManagement)
    });
    let mut values = Attrs::new();
    values.insert(ROOT_CREDENTIALS.into(), json!(on));
    cx.outputs.publish(ASKED.0, ASKED.1, values, false);
    Ok(on)
}

const ROOT_CREDENTIALS: &str = "root-credentials-management";

#[async_trait]
impl Provider for MfaProvider {
    fn desired(&self, _cx: &Ctx<'_>, _inst: &Instance) -> Attrs {
        Attrs::new()
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let mut observed = Observed::present(Attrs::new(), Attrs::new(), None);
        let Some(spec) = spec_of::<Mfa>(cx.decl(inst)) else {
            return Ok(observed);
        };
        let iam = cx.aws.iam(&inst.account_id, &inst.region).await?;
        // A member account whose root credentials the organization manages centrally has
        // no root password or keys to protect (IAM user guide, "Centrally manage root
        // access for member accounts"): there is no MFA to ask of it.
        let root_managed_centrally = inst.account_id != cx.org.management_account_id
            && root_credentials_managed_centrally(cx).await?;
        if spec.root_mfa && !root_managed_centrally {
            let summary = iam
                .get_account_summary()
                .send()
                .await
                .ctx("iam:GetAccountSummary")?;
            let enabled = summary
                .summary_map()
                .and_then(|m| m.get(&aws_sdk_iam::types::SummaryKeyType::AccountMfaEnabled))
                .copied()
                .unwrap_or_default();
            if enabled == 0 {
                observed.findings.push(Finding {
                    message: "root user has no MFA device".into(),
                });
            }
        }
        if spec.require_for_console_users {
            let users = iam
                .list_users()
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx("iam:ListUsers")?;
            let names: Vec<String> = users.iter().map(|u| u.user_name().to_string()).collect();
            let iam = &iam;
            // One finding per console user (a login profile) without an MFA device.
            let without_mfa: Vec<Option<String>> = stream::iter(names)
                .map(|name| async move {
                    let profile = iam
                        .get_login_profile()
                        .user_name(&name)
                        .send()
                        .await
                        .absent_on("iam:GetLoginProfile", &["NoSuchEntity"])?;
                    if profile.is_none() {
                        return Ok::<_, provider::Error>(None);
                    }
                    let devices = iam
                        .list_mfa_devices()
                        .user_name(&name)
                        .send()
                        .await
                        .ctx("iam:ListMFADevices")?;
                    Ok(devices.mfa_devices().is_empty().then_some(name))
                })
                .buffered(USER_PARALLELISM)
                .try_collect()
                .await?;
            observed
                .findings
                .extend(without_mfa.into_iter().flatten().map(|name| Finding {
                    message: format!("console user \"{name}\" has no MFA device"),
                }));
        }
        Ok(observed)
    }

    /// Never called: the plan holds no action for MFA (findings only).
    async fn apply(
        &self,
        _cx: &Ctx<'_>,
        _inst: &Instance,
        _change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        Ok(())
    }
}
