//! `security-hub`: Security Hub enabled, with the declared standards subscribed.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::diagnostic::{did_you_mean, Problem};
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{
    self, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider, MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "security-hub",
    summary: "Security Hub enabled with the declared standards",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&SecurityHubProvider),
};

/// Standards Security Hub offers, with their versions; the last version is the default.
pub const STANDARDS: &[(&str, &[&str])] = &[
    ("aws-foundational-security-best-practices", &["1.0.0"]),
    (
        "cis-aws-foundations-benchmark",
        &["1.2.0", "1.4.0", "3.0.0"],
    ),
    ("pci-dss", &["3.2.1", "4.0.1"]),
    ("nist-800-53", &["5.0.0"]),
    ("aws-resource-tagging-standard", &["1.0.0"]),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standard {
    pub id: String,
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct SecurityHub {
    pub standards: Vec<Standard>,
}

impl Spec for SecurityHub {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let mut standards = Vec::new();
    for mut c in r.children("standard") {
        let id = c.arg_str(0, "the standard's name");
        let version = c.prop_str("version");
        let (id_span, version_span) = (
            id.as_ref().map(|i| i.span),
            version.as_ref().map(|v| v.span),
        );
        c.finish();
        let Some(id) = id else { continue };
        let names: Vec<&str> = STANDARDS.iter().map(|(n, _)| *n).collect();
        let Some((_, versions)) = STANDARDS.iter().find(|(n, _)| *n == id.value) else {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    id.span,
                    format!("unknown standard \"{}\"", id.value),
                )
                .label("unknown standard")
                .help(did_you_mean(&id.value, &names)),
            );
            continue;
        };
        let version = version.map_or_else(|| versions[versions.len() - 1].to_string(), |v| v.value);
        if !versions.contains(&version.as_str()) {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    version_span.or(id_span).expect("span"),
                    format!("{} has no version \"{version}\"", id.value),
                )
                .label("unknown version")
                .help(format!("versions: {}", versions.join(", "))),
            );
            continue;
        }
        standards.push(Standard {
            id: id.value,
            version,
        });
    }
    Box::new(SecurityHub { standards })
}

// --- AWS -------------------------------------------------------------------------------

/// Security Hub in one account and region. The hub is the resource (absent while the
/// account is not subscribed); its one attribute is the set of subscribed standards, as
/// sorted `"<id>/<version>"` strings. The hub can be tagged, so an untagged hub is adopted.
pub struct SecurityHubProvider;

/// `"<id>/<version>"` of a standards ARN (`arn:aws:securityhub:r::standards/<id>/v/<ver>`,
/// or CIS 1.2.0's region-less `arn:aws:securityhub:::ruleset/<id>/v/<ver>`); an ARN of
/// another shape stays as it is, so it still shows (and is disabled) as drift.
fn standard_key(standards_arn: &str) -> String {
    [":standards/", ":ruleset/"]
        .iter()
        .find_map(|marker| standards_arn.split_once(marker))
        .and_then(|(_, path)| path.split_once("/v/"))
        .map_or_else(
            || standards_arn.to_string(),
            |(id, version)| format!("{id}/{version}"),
        )
}

fn desired_standards(spec: &SecurityHub) -> Vec<String> {
    let keys: BTreeSet<String> = spec
        .standards
        .iter()
        .map(|s| format!("{}/{}", s.id, s.version))
        .collect();
    keys.into_iter().collect()
}

/// Live ids: the hub ARN and, per subscribed standard, its subscription ARN (what
/// BatchDisableStandards takes).
fn subscriptions_of(live: Option<&provider::Live>) -> BTreeMap<String, String> {
    live.and_then(|l| l.ids.get("subscriptions"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[async_trait]
impl Provider for SecurityHubProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        let mut a = Attrs::new();
        if let Some(spec) = spec_of::<SecurityHub>(cx.decl(inst)) {
            a.insert("standards".into(), json!(desired_standards(spec)));
        }
        a
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let owner = central_configuration_owner(cx, &inst.account_id, &inst.region).await?;
        let mut observed = read_hub(cx, &inst.account_id, &inst.region).await?;
        observed.owner = owner;
        Ok(observed)
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        self.apply_hub(cx, inst, change).await
    }

    /// The hub with its standards, where the account configures it itself.
    async fn import(
        &self,
        cx: &Ctx<'_>,
        site: &crate::import::Site,
        _lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        use crate::import::{account_ref, kdl::Node, Found, Imported, Skipped};
        let mut out = Imported::default();
        let observed = read_hub(cx, &site.account_id, &site.region).await?;
        let Some(live) = observed.live else {
            return Ok(Some(out));
        };
        let what = format!(
            "{} in {} ({})",
            KIND.keyword,
            account_ref(cx.org, &site.account_id),
            site.region
        );
        if let Some(owner) = central_configuration_owner(cx, &site.account_id, &site.region).await?
        {
            out.skipped.push(Skipped {
                what,
                why: format!("managed by {owner}"),
            });
            return Ok(Some(out));
        }
        let mut node = Node::new(KIND.keyword).comment("Security Hub and its standards");
        for key in live.attrs["standards"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let known = key.split_once('/').and_then(|(id, version)| {
                let (_, versions) = STANDARDS.iter().find(|(n, _)| *n == id)?;
                versions
                    .contains(&version)
                    .then_some((id, version, versions))
            });
            let Some((id, version, versions)) = known else {
                // Undeclared, it would be disabled: the hub is left out instead.
                out.skipped.push(Skipped {
                    what,
                    why: format!(
                        "it has the standard {key} enabled, which the language does not know"
                    ),
                });
                return Ok(Some(out));
            };
            let mut standard = Node::new("standard").arg(id);
            if versions.len() > 1 {
                standard = standard.prop("version", version);
            }
            node = node.child(standard);
        }
        out.found.push(Found::new(node));
        Ok(Some(out))
    }
}

/// What Security Hub's organization configuration is in one region: its administrator
/// account, and whether it configures accounts centrally.
struct Organization {
    administrator: Option<String>,
    central: bool,
}

/// The organization configuration of Security Hub in `region`, read once per run: the
/// administrator the management account designated there, and its configuration type.
async fn organization_configuration(cx: &Ctx<'_>, region: &str) -> provider::Result<Organization> {
    const ASKED: &str = "security-hub-organization";
    if let Some(known) = cx.outputs.get(ASKED, region) {
        return Ok(Organization {
            administrator: known
                .values
                .get("administrator")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            central: known.values.get("central") == Some(&json!(true)),
        });
    }
    let administrator = super::organization::security_hub_admin_in(cx, region).await?;
    let mut central = false;
    if let Some(admin) = &administrator {
        let sh = cx.aws.securityhub(admin, region).await?;
        let config = sh
            .describe_organization_configuration()
            .send()
            .await
            .absent_on(
                "securityhub:DescribeOrganizationConfiguration",
                &["InvalidAccessException"],
            )?;
        central = config
            .and_then(|c| c.organization_configuration)
            .and_then(|c| c.configuration_type)
            .is_some_and(|t| t.as_str() == "CENTRAL");
    }
    let mut values = Attrs::new();
    values.insert("administrator".into(), json!(administrator));
    values.insert("central".into(), json!(central));
    cx.outputs.publish(ASKED, region, values, false);
    Ok(Organization {
        administrator,
        central,
    })
}

/// Under central configuration, Security Hub's administrator configures the member accounts
/// its configuration policies apply to, and those accounts cannot change themselves (Security
/// Hub user guide, "Understanding central configuration"): such an instance is reported as
/// managed by the administrator, never changed. `None` for an account that configures itself.
async fn central_configuration_owner(
    cx: &Ctx<'_>,
    account_id: &str,
    region: &str,
) -> provider::Result<Option<String>> {
    let org = organization_configuration(cx, region).await?;
    let Some(admin) = org.administrator.filter(|_| org.central) else {
        return Ok(None);
    };
    if admin == account_id {
        return Ok(None);
    }
    let sh = cx.aws.securityhub(&admin, region).await?;
    let association = sh
        .get_configuration_policy_association()
        .target(aws_sdk_securityhub::types::Target::AccountId(
            account_id.to_string(),
        ))
        .send()
        .await
        .absent_on(
            "securityhub:GetConfigurationPolicyAssociation",
            &["ResourceNotFoundException"],
        )?;
    let policy = association.and_then(|a| a.configuration_policy_id);
    Ok(policy.filter(|p| p != SELF_MANAGED).map(|policy| {
        let name = cx.org.account(&admin).map_or(admin.as_str(), |a| a.name.as_str());
        format!("Security Hub central configuration (administrator {name}, configuration policy {policy})")
    }))
}

/// The configuration policy id of an account that configures Security Hub itself.
const SELF_MANAGED: &str = "SELF_MANAGED_SECURITY_HUB";

/// The hub of `account_id` in `region` and its subscribed standards; absent while the
/// account is not subscribed.
async fn read_hub(cx: &Ctx<'_>, account_id: &str, region: &str) -> provider::Result<Observed> {
    let sh = cx.aws.securityhub(account_id, region).await?;
    // Not subscribed: DescribeHub answers InvalidAccessException.
    let Some(hub) = sh
        .describe_hub()
        .send()
        .await
        .absent_on("securityhub:DescribeHub", &["InvalidAccessException"])?
    else {
        return Ok(Observed::absent());
    };
    let hub_arn = hub.hub_arn().unwrap_or_default().to_string();
    let subscriptions = sh
        .get_enabled_standards()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .ctx("securityhub:GetEnabledStandards")?;
    let mut subs = BTreeMap::new();
    for sub in &subscriptions {
        // A subscription being deleted, or one that failed, does not count as enabled.
        let status = sub.standards_status().map(|s| s.as_str()).unwrap_or("");
        if matches!(status, "DELETING" | "FAILED") {
            continue;
        }
        subs.insert(
            standard_key(sub.standards_arn().unwrap_or_default()),
            sub.standards_subscription_arn()
                .unwrap_or_default()
                .to_string(),
        );
    }
    let managed = is_managed_hub(&sh, &hub_arn).await?;
    let mut attrs = Attrs::new();
    attrs.insert("standards".into(), json!(subs.keys().collect::<Vec<_>>()));
    let mut ids = Attrs::new();
    ids.insert("hub-arn".into(), json!(hub_arn));
    ids.insert("subscriptions".into(), json!(subs));
    Ok(Observed::present(attrs, ids, Some(managed)))
}

/// Whether the hub `hub_arn` carries baseline's tag.
async fn is_managed_hub(sh: &aws_sdk_securityhub::Client, hub_arn: &str) -> provider::Result<bool> {
    let tags = sh
        .list_tags_for_resource()
        .resource_arn(hub_arn)
        .send()
        .await
        .ctx("securityhub:ListTagsForResource")?;
    Ok(tags
        .tags()
        .and_then(|t| t.get(MANAGED_TAG_KEY))
        .is_some_and(|v| v == MANAGED_TAG_VALUE))
}

/// Whether the account's hub, which EnableSecurityHub has just found on, is the one an
/// earlier attempt of the same call enabled. The call takes no idempotency token: when its
/// answer is lost, the SDK's retry is refused with ResourceConflictException. The hub
/// that attempt enabled carries baseline's tag (EnableSecurityHub sets it); a hub someone
/// else enabled meanwhile does not, and stays refused.
async fn enabled_by_lost_answer(sh: &aws_sdk_securityhub::Client) -> provider::Result<bool> {
    let hub = sh
        .describe_hub()
        .send()
        .await
        .ctx("securityhub:DescribeHub")?;
    match hub.hub_arn() {
        Some(arn) => is_managed_hub(sh, arn).await,
        None => Ok(false),
    }
}

impl SecurityHubProvider {
    async fn apply_hub(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<SecurityHub>(cx.decl(inst)) else {
            return Ok(());
        };
        let sh = cx.aws.securityhub(&inst.account_id, &inst.region).await?;
        match change.action {
            Action::Create => {
                // No default standards: exactly the declared ones are enabled below.
                let enabled = sh
                    .enable_security_hub()
                    .enable_default_standards(false)
                    .tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
                    .send()
                    .await
                    .ctx("securityhub:EnableSecurityHub");
                match enabled {
                    Ok(_) => {}
                    Err(e)
                        if e.is("ResourceConflictException")
                            && enabled_by_lost_answer(&sh).await? => {}
                    Err(e) => return Err(e.into()),
                }
            }
            Action::Adopt => {
                let hub_arn = change.id("hub-arn").ok_or_else(|| {
                    Error::State(format!("{}: no hub ARN was read", inst.address))
                })?;
                sh.tag_resource()
                    .resource_arn(hub_arn)
                    .tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
                    .send()
                    .await
                    .ctx("securityhub:TagResource")?;
            }
            _ => {}
        }
        let desired: BTreeSet<String> = desired_standards(spec).into_iter().collect();
        let live = subscriptions_of(change.live);
        let to_disable: Vec<String> = live
            .iter()
            .filter(|(key, _)| !desired.contains(*key))
            .map(|(_, sub)| sub.clone())
            .collect();
        let to_enable: Vec<&String> = desired
            .iter()
            .filter(|key| !live.contains_key(*key))
            .collect();
        if !to_disable.is_empty() {
            sh.batch_disable_standards()
                .set_standards_subscription_arns(Some(to_disable))
                .send()
                .await
                .ctx("securityhub:BatchDisableStandards")?;
        }
        if !to_enable.is_empty() {
            // Standards ARNs come from the region's catalog rather than being built here.
            let catalog: BTreeMap<String, String> = sh
                .describe_standards()
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .ctx("securityhub:DescribeStandards")?
                .iter()
                .filter_map(|s| {
                    let arn = s.standards_arn()?;
                    Some((standard_key(arn), arn.to_string()))
                })
                .collect();
            let mut requests = Vec::new();
            for key in to_enable {
                let arn = catalog.get(key).ok_or_else(|| {
                    Error::State(format!(
                        "Security Hub in {} does not offer the standard {key}",
                        inst.region
                    ))
                })?;
                requests.push(
                    aws_sdk_securityhub::types::StandardsSubscriptionRequest::builder()
                        .standards_arn(arn)
                        .build(),
                );
            }
            sh.batch_enable_standards()
                .set_standards_subscription_requests(Some(requests))
                .send()
                .await
                .ctx("securityhub:BatchEnableStandards")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::standard_key;

    #[test]
    fn standards_arns_map_to_id_and_version() {
        assert_eq!(
            standard_key("arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0"),
            "aws-foundational-security-best-practices/1.0.0"
        );
        assert_eq!(
            standard_key("arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"),
            "cis-aws-foundations-benchmark/1.2.0"
        );
        assert_eq!(standard_key("arn:aws:other"), "arn:aws:other");
    }
}
