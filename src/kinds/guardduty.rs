//! `guardduty`: GuardDuty threat detection: a detector in every targeted account and region
//! with the declared protection plans on, and, optionally, the organization's delegated
//! administrator, which then enrolls new accounts by itself (SOC 2 CC7.2, ISO 27001:2022
//! A.8.16; CIS AWS Foundations v3.0 leaves GuardDuty to the AWS Security Hub checks).

use async_trait::async_trait;
use aws_sdk_guardduty::types::{
    AutoEnableMembers, DetectorFeature, DetectorFeatureConfiguration, DetectorStatus, FeatureStatus,
};
use serde_json::{json, Value};

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::diagnostic::{did_you_mean, Problem};
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{
    self, is_managed_tag, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider,
    MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "guardduty",
    summary: "GuardDuty detectors with protection plans, and the organization's administrator",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    needs_organization: true,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&GuardDutyProvider),
};

/// The features (protection plans) a detector can have, as the GuardDuty API names them.
pub const FEATURES: &[&str] = &[
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "EKS_RUNTIME_MONITORING",
    "LAMBDA_NETWORK_LOGS",
    "RUNTIME_MONITORING",
];

/// `auto-enable`: which accounts the administrator enrolls by itself.
const AUTO_ENABLE: &[&str] = &["new", "all", "none"];

#[derive(Debug, Clone)]
pub struct GuardDuty {
    /// Protection plans on, by API name, sorted.
    pub features: Vec<String>,
    /// The delegated administrator, by account name or id.
    pub administrator: Option<Spanned<String>>,
    /// `NEW`, `ALL` or `NONE`.
    pub auto_enable: String,
}

impl Spec for GuardDuty {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let mut features = Vec::new();
    for f in r
        .child_strs("features", "GuardDuty feature names")
        .unwrap_or_default()
    {
        if FEATURES.contains(&f.value.as_str()) {
            features.push(f.value);
        } else {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    f.span,
                    format!("GuardDuty has no feature \"{}\"", f.value),
                )
                .label("unknown feature")
                .help(format!(
                    "{} (features: {})",
                    did_you_mean(&f.value, FEATURES),
                    FEATURES.join(", ")
                )),
            );
        }
    }
    features.sort();
    features.dedup();
    let administrator = r.child_str("administrator", "the delegated administrator's account");
    let auto_enable = r.child_str("auto-enable", "new, all or none");
    if let Some(a) = auto_enable
        .as_ref()
        .filter(|a| !AUTO_ENABLE.contains(&a.value.as_str()))
    {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                a.span,
                format!("auto-enable \"{}\" is not one GuardDuty knows", a.value),
            )
            .label("unknown setting")
            .help("\"new\" enrolls accounts that join later, \"all\" every account, \"none\" none"),
        );
    }
    Box::new(GuardDuty {
        features,
        administrator,
        auto_enable: auto_enable
            .map_or_else(|| "new".to_string(), |a| a.value)
            .to_uppercase(),
    })
}

// --- AWS -------------------------------------------------------------------------------

/// The detector of one account and region (GuardDuty holds at most one), tagged at creation,
/// adopted when untagged, never deleted (turning threat detection off is a person's call).
/// Only the declared features are compared: others stay as they are. In the administrator's
/// own account, the instance also holds the designation and the auto-enable setting.
pub struct GuardDutyProvider;

const ENABLED: &str = "enabled";
const FEATURES_ATTR: &str = "features";
const ADMINISTRATOR: &str = "administrator";
const AUTO_ENABLE_ATTR: &str = "auto-enable";

/// The administrator's account id, when one is declared.
fn administrator_id(cx: &Ctx<'_>, spec: &GuardDuty) -> Option<String> {
    let a = spec.administrator.as_ref()?;
    Some(
        cx.org
            .account(&a.value)
            .map_or_else(|| a.value.clone(), |acc| acc.id.clone()),
    )
}

fn desired(cx: &Ctx<'_>, inst: &Instance, spec: &GuardDuty) -> Attrs {
    let mut a = Attrs::new();
    a.insert(ENABLED.into(), json!(true));
    a.insert(FEATURES_ATTR.into(), json!(spec.features));
    if let Some(admin) = administrator_id(cx, spec).filter(|a| *a == inst.account_id) {
        a.insert(ADMINISTRATOR.into(), json!(admin));
        a.insert(AUTO_ENABLE_ATTR.into(), json!(spec.auto_enable));
    }
    a
}

/// The detector id of an account and region, if it has one.
async fn detector_id(gd: &aws_sdk_guardduty::Client) -> provider::Result<Option<String>> {
    let out = gd
        .list_detectors()
        .send()
        .await
        .ctx("guardduty:ListDetectors")?;
    Ok(out.detector_ids().first().cloned())
}

fn feature_configs(features: &[String]) -> Vec<DetectorFeatureConfiguration> {
    features
        .iter()
        .map(|f| {
            DetectorFeatureConfiguration::builder()
                .name(DetectorFeature::from(f.as_str()))
                .status(FeatureStatus::Enabled)
                .build()
        })
        .collect()
}

/// The administrator GuardDuty has for the organization in `region` (asked of the
/// management account, the only one that may).
async fn designated_admin(cx: &Ctx<'_>, region: &str) -> provider::Result<Option<String>> {
    let gd = cx
        .aws
        .guardduty(&cx.org.management_account_id, region)
        .await?;
    let out = gd
        .list_organization_admin_accounts()
        .send()
        .await
        .ctx("guardduty:ListOrganizationAdminAccounts")?;
    Ok(out
        .admin_accounts()
        .iter()
        .find(|a| a.admin_status() == Some(&aws_sdk_guardduty::types::AdminStatus::Enabled))
        .and_then(|a| a.admin_account_id().map(str::to_string)))
}

#[async_trait]
impl Provider for GuardDutyProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        spec_of::<GuardDuty>(cx.decl(inst)).map_or_else(Attrs::new, |g| desired(cx, inst, g))
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let Some(spec) = spec_of::<GuardDuty>(cx.decl(inst)) else {
            return Ok(Observed::absent());
        };
        let gd = cx.aws.guardduty(&inst.account_id, &inst.region).await?;
        let Some(id) = detector_id(&gd).await? else {
            return Ok(Observed::absent());
        };
        let detector = gd
            .get_detector()
            .detector_id(&id)
            .send()
            .await
            .ctx("guardduty:GetDetector")?;
        let enabled_features: Vec<String> = detector
            .features()
            .iter()
            .filter(|f| f.status() == Some(&FeatureStatus::Enabled))
            .filter_map(|f| f.name().map(|n| n.as_str().to_string()))
            .filter(|n| spec.features.contains(n))
            .collect();
        let mut features = enabled_features;
        features.sort();
        let managed = detector.tags().is_some_and(|t| {
            t.iter()
                .any(|(k, v)| is_managed_tag(k.as_str(), v.as_str()))
        });
        let mut live = Attrs::new();
        live.insert(
            ENABLED.into(),
            json!(detector.status() == Some(&DetectorStatus::Enabled)),
        );
        live.insert(FEATURES_ATTR.into(), json!(features));
        if administrator_id(cx, spec).is_some_and(|a| a == inst.account_id) {
            live.insert(
                ADMINISTRATOR.into(),
                json!(designated_admin(cx, &inst.region).await?),
            );
            let config = gd
                .describe_organization_configuration()
                .detector_id(&id)
                .send()
                .await
                .absent_on(
                    "guardduty:DescribeOrganizationConfiguration",
                    &["BadRequestException"],
                )?;
            live.insert(
                AUTO_ENABLE_ATTR.into(),
                config
                    .and_then(|c| {
                        c.auto_enable_organization_members()
                            .map(|m| json!(m.as_str()))
                    })
                    .unwrap_or(Value::Null),
            );
        }
        let mut ids = Attrs::new();
        ids.insert("detector-id".into(), json!(id));
        // A detector has no name: only its tags can say another tool deployed it.
        let owner = crate::coexist::owner_of(
            "",
            detector
                .tags()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        Ok(Observed::present(live, ids, Some(managed)).owned_by(owner))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<GuardDuty>(cx.decl(inst)) else {
            return Ok(());
        };
        let gd = cx.aws.guardduty(&inst.account_id, &inst.region).await?;
        let detector = if change.action == Action::Create {
            gd.create_detector()
                .enable(true)
                .set_features(Some(feature_configs(&spec.features)))
                .tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
                .send()
                .await
                .ctx("guardduty:CreateDetector")?
                .detector_id
                .ok_or_else(|| Error::State("guardduty:CreateDetector gave no id".into()))?
        } else {
            let id = change
                .id("detector-id")
                .ok_or_else(|| Error::State("no detector id was read".into()))?
                .to_string();
            if change.action == Action::Adopt {
                let arn = format!(
                    "arn:{}:guardduty:{}:{}:detector/{id}",
                    cx.aws.partition, inst.region, inst.account_id
                );
                gd.tag_resource()
                    .resource_arn(arn)
                    .tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
                    .send()
                    .await
                    .ctx("guardduty:TagResource")?;
            }
            if change.changes(ENABLED) || change.changes(FEATURES_ATTR) {
                gd.update_detector()
                    .detector_id(&id)
                    .enable(true)
                    .set_features(Some(feature_configs(&spec.features)))
                    .send()
                    .await
                    .ctx("guardduty:UpdateDetector")?;
            }
            id
        };
        if change.changes(ADMINISTRATOR) {
            // Only the management account designates the administrator.
            let management = cx
                .aws
                .guardduty(&cx.org.management_account_id, &inst.region)
                .await?;
            management
                .enable_organization_admin_account()
                .admin_account_id(&inst.account_id)
                .send()
                .await
                .ctx("guardduty:EnableOrganizationAdminAccount")?;
        }
        if change.changes(ADMINISTRATOR) || change.changes(AUTO_ENABLE_ATTR) {
            gd.update_organization_configuration()
                .detector_id(&detector)
                .auto_enable_organization_members(AutoEnableMembers::from(
                    spec.auto_enable.as_str(),
                ))
                .send()
                .await
                .ctx("guardduty:UpdateOrganizationConfiguration")?;
        }
        Ok(())
    }
}
