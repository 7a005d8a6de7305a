//! `organization`: the organization's own settings (feature set, enabled policy types,
//! trusted service access, delegated administrators).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_organizations::types::{OrganizationFeatureSet, PolicyType, PolicyTypeStatus, Tag};
use serde_json::json;

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::{Backoff, Context, CONSISTENCY_BUDGET};
use crate::expand::Instance;
use crate::lang::diagnostic::{did_you_mean, Problem};
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::lang::targets::check_account_ref;
use crate::provider::{
    self, is_managed_tag, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider,
    MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "organization",
    summary:
        "organization settings: policy types, trusted service access, delegated administrators",
    naming: Naming::Singleton,
    placing: Placing::Organization,
    regional: false,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&OrganizationProvider),
};

pub const POLICY_TYPES: &[&str] = &[
    "SERVICE_CONTROL_POLICY",
    "RESOURCE_CONTROL_POLICY",
    "TAG_POLICY",
    "BACKUP_POLICY",
    "AISERVICES_OPT_OUT_POLICY",
    "CHATBOT_POLICY",
    "DECLARATIVE_POLICY_EC2",
];

#[derive(Debug, Clone)]
pub struct DelegatedAdministrator {
    /// Service principal, e.g. `securityhub.amazonaws.com`.
    pub service: Spanned<String>,
    /// Account name or id.
    pub account: Spanned<String>,
}

#[derive(Debug, Clone)]
pub struct Organization {
    /// Policy types enabled on the root.
    pub policy_types: Vec<Spanned<String>>,
    /// Services granted trusted access (`EnableAWSServiceAccess`).
    pub trusted_services: Vec<Spanned<String>>,
    pub delegated_administrators: Vec<DelegatedAdministrator>,
}

impl Spec for Organization {
    crate::spec_any!();
}

fn service_principal(r: &NodeReader, s: &Spanned<String>) {
    let ok = s.value.ends_with(".amazonaws.com")
        && s.value.len() > ".amazonaws.com".len()
        && s.value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !ok {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                s.span,
                format!("\"{}\" is not a service principal", s.value),
            )
            .label("expected name.amazonaws.com")
            .help("write the service principal, e.g. \"cloudtrail.amazonaws.com\""),
        );
    }
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    if let Some(fs) = r.child_str("feature-set", "the feature set") {
        if fs.value != "ALL" {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    fs.span,
                    "only the `ALL` feature set is supported",
                )
                .label("not ALL")
                .help("service control policies and trusted access need all features enabled"),
            );
        }
    }
    let policy_types = r
        .child_strs("policy-types", "policy types")
        .unwrap_or_default();
    for t in &policy_types {
        if !POLICY_TYPES.contains(&t.value.as_str()) {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    t.span,
                    format!("unknown policy type \"{}\"", t.value),
                )
                .label("unknown policy type")
                .help(did_you_mean(&t.value, POLICY_TYPES)),
            );
        }
    }
    let trusted_services = r
        .child_strs("trusted-services", "service principals")
        .unwrap_or_default();
    for s in &trusted_services {
        service_principal(r, s);
    }
    let delegated_administrators = r
        .children("delegated-administrator")
        .into_iter()
        .filter_map(|mut c| {
            let service = c.arg_str(0, "the service principal");
            let account = c.required_prop_str("account");
            if let Some(s) = &service {
                service_principal(&c, s);
            }
            if let Some(a) = &account {
                check_account_ref(&c, a);
            }
            c.finish();
            Some(DelegatedAdministrator {
                service: service?,
                account: account?,
            })
        })
        .collect();
    Box::new(Organization {
        policy_types,
        trusted_services,
        delegated_administrators,
    })
}

// --- AWS -------------------------------------------------------------------------------

/// The organization's settings. The organization itself cannot be tagged, so it is never
/// adopted (`managed` is `None`) and never deleted. Only what the baseline declares is
/// compared and changed: a policy type or trusted service enabled outside the baseline is
/// left alone (turning off another team's integration is not baseline's call), so live
/// lists are the declared items that are on.
pub struct OrganizationProvider;

/// The Organizations client of the management account, in the service's endpoint region.
pub(crate) async fn org_client(cx: &Ctx<'_>) -> provider::Result<aws_sdk_organizations::Client> {
    Ok(cx
        .aws
        .organizations(&cx.org.management_account_id, cx.aws.organizations_region())
        .await?)
}

/// `managed-by=baseline`, for the Organizations resources that take tags.
pub(crate) fn managed_tag() -> provider::Result<Tag> {
    Tag::builder()
        .key(MANAGED_TAG_KEY)
        .value(MANAGED_TAG_VALUE)
        .build()
        .map_err(|e| Error::State(format!("cannot build the ownership tag: {e}")))
}

/// Whether an OU, account, root or policy carries baseline's ownership tag.
pub(crate) async fn is_managed(
    client: &aws_sdk_organizations::Client,
    resource_id: &str,
) -> provider::Result<bool> {
    Ok(tags_of(client, resource_id)
        .await?
        .iter()
        .any(|(k, v)| is_managed_tag(k.as_str(), v.as_str())))
}

/// The tags of an OU, account, root or policy, as (key, value).
pub(crate) async fn tags_of(
    client: &aws_sdk_organizations::Client,
    resource_id: &str,
) -> provider::Result<Vec<(String, String)>> {
    let mut tags = Vec::new();
    let mut pages = client
        .list_tags_for_resource()
        .resource_id(resource_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("organizations:ListTagsForResource")?;
        tags.extend(
            page.tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string())),
        );
    }
    Ok(tags)
}

/// Put baseline's ownership tag on an adopted resource.
pub(crate) async fn tag_managed(
    client: &aws_sdk_organizations::Client,
    resource_id: &str,
) -> provider::Result<()> {
    client
        .tag_resource()
        .resource_id(resource_id)
        .tags(managed_tag()?)
        .send()
        .await
        .ctx("organizations:TagResource")?;
    Ok(())
}

/// The service principals with trusted access in the organization.
pub(crate) async fn trusted_services(cx: &Ctx<'_>) -> provider::Result<BTreeSet<String>> {
    let client = org_client(cx).await?;
    let mut trusted = BTreeSet::new();
    let mut pages = client
        .list_aws_service_access_for_organization()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("organizations:ListAWSServiceAccessForOrganization")?;
        trusted.extend(
            page.enabled_service_principals()
                .iter()
                .filter_map(|s| s.service_principal())
                .map(str::to_string),
        );
    }
    Ok(trusted)
}

/// The status of `policy_type` on the organization's root (`None`: not enabled at all).
async fn policy_type_status(
    client: &aws_sdk_organizations::Client,
    policy_type: &str,
) -> provider::Result<Option<PolicyTypeStatus>> {
    let roots = client
        .list_roots()
        .send()
        .await
        .ctx("organizations:ListRoots")?;
    Ok(roots
        .roots()
        .first()
        .map(|r| r.policy_types())
        .unwrap_or_default()
        .iter()
        .find(|t| t.r#type().map(|t| t.as_str()) == Some(policy_type))
        .and_then(|t| t.status().cloned()))
}

/// Wait until `policy_type` is ENABLED on the root. EnablePolicyType answers while the type
/// is still PENDING_ENABLE, and until it is ENABLED, AttachPolicy of that type fails with
/// PolicyTypeNotEnabledException (Organizations API reference, EnablePolicyType).
pub(crate) async fn wait_policy_type_enabled(
    client: &aws_sdk_organizations::Client,
    policy_type: &str,
) -> provider::Result<()> {
    let mut backoff = Backoff::default();
    loop {
        match policy_type_status(client, policy_type).await? {
            Some(PolicyTypeStatus::Enabled) => return Ok(()),
            Some(PolicyTypeStatus::PendingEnable) if backoff.wait().await => {}
            Some(PolicyTypeStatus::PendingEnable) => {
                return Err(Error::State(format!(
                    "{policy_type} is still PENDING_ENABLE on the organization's root after {}s; \
                     plan again later",
                    CONSISTENCY_BUDGET.as_secs()
                )))
            }
            other => {
                return Err(Error::State(format!(
                    "{policy_type} is not enabled on the organization's root ({}); declare it in \
                     `organization {{ policy-types ... }}`",
                    other.as_ref().map_or("off", |s| s.as_str())
                )))
            }
        }
    }
}

/// `service=account`, one delegated administrator as plans show it.
fn delegation(service: &str, account: &str) -> String {
    format!("{service}={account}")
}

fn sorted<'a>(items: impl IntoIterator<Item = &'a Spanned<String>>) -> Vec<String> {
    items
        .into_iter()
        .map(|s| s.value.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn attrs(
    policy_types: Vec<String>,
    trusted_services: Vec<String>,
    delegated: Vec<String>,
    feature_set: &str,
) -> Attrs {
    let mut a = Attrs::new();
    a.insert("feature-set".into(), json!(feature_set));
    a.insert("policy-types".into(), json!(policy_types));
    a.insert("trusted-services".into(), json!(trusted_services));
    a.insert("delegated-administrators".into(), json!(delegated));
    a
}

/// Every delegated administrator: (service principal, account id).
async fn delegated_administrators(
    client: &aws_sdk_organizations::Client,
) -> provider::Result<BTreeSet<(String, String)>> {
    let mut accounts = Vec::new();
    let mut pages = client
        .list_delegated_administrators()
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("organizations:ListDelegatedAdministrators")?;
        accounts.extend(
            page.delegated_administrators()
                .iter()
                .filter_map(|a| a.id().map(str::to_string)),
        );
    }
    let mut out = BTreeSet::new();
    for account in accounts {
        let mut pages = client
            .list_delegated_services_for_account()
            .account_id(&account)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.ctx("organizations:ListDelegatedServicesForAccount")?;
            for s in page.delegated_services() {
                if let Some(service) = s.service_principal() {
                    out.insert((service.to_string(), account.clone()));
                }
            }
        }
    }
    Ok(out)
}

/// The account id a declared reference (name or id) names.
fn account_id(cx: &Ctx<'_>, reference: &str) -> provider::Result<String> {
    cx.org
        .account(reference)
        .map(|a| a.id.clone())
        .ok_or_else(|| {
            Error::State(format!(
                "the organization has no account \"{reference}\" to make a delegated administrator"
            ))
        })
}

#[async_trait]
impl Provider for OrganizationProvider {
    async fn import(
        &self,
        cx: &Ctx<'_>,
        _site: &crate::import::Site,
        _lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        import_settings(cx).await
    }

    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        let Some(o) = spec_of::<Organization>(cx.decl(inst)) else {
            return Attrs::new();
        };
        let delegated = o
            .delegated_administrators
            .iter()
            .map(|d| delegation(&d.service.value, &d.account.value))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // Only the ALL feature set is accepted by the language (SCPs need it).
        let mut a = attrs(
            sorted(&o.policy_types),
            sorted(&o.trusted_services),
            delegated,
            OrganizationFeatureSet::All.as_str(),
        );
        if let Some(admin) = security_hub_administrator(o) {
            let per_region: Vec<String> = cx
                .baseline
                .settings
                .regions()
                .iter()
                .map(|r| format!("{r}={admin}"))
                .collect();
            a.insert(SECURITY_HUB_ADMINS.into(), json!(per_region));
        }
        a
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let Some(o) = spec_of::<Organization>(cx.decl(inst)) else {
            return Ok(Observed::absent());
        };
        let client = org_client(cx).await?;
        let described = client.describe_organization().send().await.absent_on(
            "organizations:DescribeOrganization",
            &["AWSOrganizationsNotInUseException"],
        )?;
        let Some(described) = described else {
            return Ok(Observed::absent());
        };
        let feature_set = described
            .organization()
            .and_then(|org| org.feature_set())
            .map(|f| f.as_str().to_string())
            .unwrap_or_default();

        let roots = client
            .list_roots()
            .send()
            .await
            .ctx("organizations:ListRoots")?;
        let root = roots.roots().first();
        let declared_types = sorted(&o.policy_types);
        // Only ENABLED counts: while a type is PENDING_ENABLE, policies of that type cannot
        // be attached yet (apply waits for it instead of enabling it again).
        let policy_types: Vec<String> = root
            .map(|r| r.policy_types())
            .unwrap_or_default()
            .iter()
            .filter(|t| t.status() == Some(&PolicyTypeStatus::Enabled))
            .filter_map(|t| t.r#type().map(|t| t.as_str().to_string()))
            .filter(|t| declared_types.contains(t))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();

        let declared_services = sorted(&o.trusted_services);
        let trusted: BTreeSet<String> = trusted_services(cx)
            .await?
            .into_iter()
            .filter(|s| declared_services.contains(s))
            .collect();

        // Delegated administrators of the declared services only; an account is shown by
        // the reference the baseline uses for it, else by its name.
        let declared_admins: BTreeSet<&str> = o
            .delegated_administrators
            .iter()
            .map(|d| d.service.value.as_str())
            .collect();
        let label = |id: &str| -> String {
            o.delegated_administrators
                .iter()
                .find(|d| cx.org.account(&d.account.value).is_some_and(|a| a.id == id))
                .map(|d| d.account.value.clone())
                .or_else(|| cx.org.account(id).map(|a| a.name.clone()))
                .unwrap_or_else(|| id.to_string())
        };
        let mut delegated = BTreeSet::new();
        let mut delegated_ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (service, id) in delegated_administrators(&client).await? {
            if declared_admins.contains(service.as_str()) {
                delegated.insert(delegation(&service, &label(&id)));
                delegated_ids.entry(service).or_default().push(id);
            }
        }

        let mut ids = Attrs::new();
        if let Some(root_id) = root.and_then(|r| r.id()) {
            ids.insert("root-id".into(), json!(root_id));
        }
        ids.insert("delegated-administrators".into(), json!(delegated_ids));
        let mut live = attrs(
            policy_types,
            trusted.into_iter().collect(),
            delegated.into_iter().collect(),
            &feature_set,
        );
        if security_hub_administrator(o).is_some() {
            let mut shown = Vec::new();
            let mut by_region = BTreeMap::new();
            for region in cx.baseline.settings.regions() {
                if let Some(id) = security_hub_admin_in(cx, &region).await? {
                    shown.push(format!("{region}={}", label(&id)));
                    by_region.insert(region, id);
                }
            }
            live.insert(SECURITY_HUB_ADMINS.into(), json!(shown));
            ids.insert(SECURITY_HUB_ADMINS.into(), json!(by_region));
        }
        Ok(Observed::present(live, ids, None))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(o) = spec_of::<Organization>(cx.decl(inst)) else {
            return Ok(());
        };
        let client = org_client(cx).await?;
        if change.action == Action::Create {
            client
                .create_organization()
                .feature_set(OrganizationFeatureSet::All)
                .send()
                .await
                .ctx("organizations:CreateOrganization")?;
        } else if change.changes("feature-set") {
            // EnableAllFeatures starts a handshake every member account must accept, and
            // until then policy types cannot be enabled: a person's decision, not a call.
            return Err(Error::State(
                "the organization does not have all features enabled; start \
                 EnableAllFeatures (every member account must accept it) and plan again"
                    .into(),
            ));
        }

        let enabled = change.live_strings("policy-types");
        let missing: Vec<String> = sorted(&o.policy_types)
            .into_iter()
            .filter(|t| !enabled.contains(t))
            .collect();
        if !missing.is_empty() {
            let root_id = match change.id("root-id") {
                Some(id) => id.to_string(),
                None => super::organizational_unit::root_id(cx)
                    .await?
                    .ok_or_else(|| {
                        Error::State(
                            "the organization has no root to enable policy types on".into(),
                        )
                    })?,
            };
            for t in missing {
                // A type already on its way (PENDING_ENABLE) is only waited for.
                if policy_type_status(&client, &t).await? != Some(PolicyTypeStatus::PendingEnable) {
                    client
                        .enable_policy_type()
                        .root_id(&root_id)
                        .policy_type(PolicyType::from(t.as_str()))
                        .send()
                        .await
                        .absent_on(
                            "organizations:EnablePolicyType",
                            &["PolicyTypeAlreadyEnabledException"],
                        )?;
                }
                // Dependents (SCP attachments) need it ENABLED, not PENDING_ENABLE.
                wait_policy_type_enabled(&client, &t).await?;
            }
        }

        let trusted = change.live_strings("trusted-services");
        for service in sorted(&o.trusted_services) {
            if !trusted.contains(&service) {
                client
                    .enable_aws_service_access()
                    .service_principal(&service)
                    .send()
                    .await
                    .ctx("organizations:EnableAWSServiceAccess")?;
            }
        }

        // Per declared service: the declared administrators, by id.
        let mut wanted: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        for d in &o.delegated_administrators {
            wanted
                .entry(d.service.value.as_str())
                .or_default()
                .insert(account_id(cx, &d.account.value)?);
        }
        let live_ids: BTreeMap<String, Vec<String>> = change
            .live
            .and_then(|l| l.ids.get("delegated-administrators"))
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        for (service, accounts) in &wanted {
            let current = live_ids.get(*service).cloned().unwrap_or_default();
            // Most services take one delegated administrator: the declared one replaces
            // another first. Services nobody declared are left alone.
            for stale in current.iter().filter(|id| !accounts.contains(*id)) {
                client
                    .deregister_delegated_administrator()
                    .account_id(stale)
                    .service_principal(*service)
                    .send()
                    .await
                    .ctx("organizations:DeregisterDelegatedAdministrator")?;
            }
            for id in accounts.iter().filter(|id| !current.contains(id)) {
                client
                    .register_delegated_administrator()
                    .account_id(id)
                    .service_principal(*service)
                    .send()
                    .await
                    .absent_on(
                        "organizations:RegisterDelegatedAdministrator",
                        &["AccountAlreadyRegisteredException"],
                    )?;
            }
        }
        if change.changes(SECURITY_HUB_ADMINS) {
            if let Some(admin) = security_hub_administrator(o) {
                let admin = account_id(cx, admin)?;
                let live: BTreeMap<String, String> = change
                    .live
                    .and_then(|l| l.ids.get(SECURITY_HUB_ADMINS))
                    .and_then(|v| serde_json::from_value(v.clone()).ok())
                    .unwrap_or_default();
                for region in cx.baseline.settings.regions() {
                    let current = live.get(&region);
                    if current == Some(&admin) {
                        continue;
                    }
                    let sh = cx
                        .aws
                        .securityhub(&cx.org.management_account_id, &region)
                        .await?;
                    // One administrator per organization: another one steps down first.
                    if let Some(other) = current {
                        sh.disable_organization_admin_account()
                            .admin_account_id(other)
                            .send()
                            .await
                            .ctx("securityhub:DisableOrganizationAdminAccount")?;
                    }
                    sh.enable_organization_admin_account()
                        .admin_account_id(&admin)
                        .send()
                        .await
                        .ctx("securityhub:EnableOrganizationAdminAccount")?;
                }
            }
        }
        Ok(())
    }
}

/// Security Hub's administrator, designated region by region: Organizations' delegated
/// administrator for securityhub.amazonaws.com is not enough, Security Hub's own
/// `baseline import`: the organization's settings as they are: the policy types enabled on
/// its root, the services with trusted access, the delegated administrators. `None` outside
/// an organization.
async fn import_settings(cx: &Ctx<'_>) -> provider::Result<Option<crate::import::Imported>> {
    use crate::import::{account_ref, kdl::Node, Found, Imported, Skipped};
    let client = org_client(cx).await?;
    let Some(described) = client.describe_organization().send().await.absent_on(
        "organizations:DescribeOrganization",
        &["AWSOrganizationsNotInUseException"],
    )?
    else {
        return Ok(None);
    };
    let mut out = Imported::default();
    let feature_set = described
        .organization()
        .and_then(|o| o.feature_set())
        .map(|f| f.as_str().to_string())
        .unwrap_or_default();
    if feature_set != OrganizationFeatureSet::All.as_str() {
        out.skipped.push(Skipped {
            what: KIND.keyword.to_string(),
            why: format!(
                "its feature set is {feature_set}; the language declares ALL, and enabling all \
                 features is a decision (and a handshake with every account) for a person"
            ),
        });
        return Ok(Some(out));
    }
    let mut node = Node::new(KIND.keyword).comment("the organization's settings");
    let roots = client
        .list_roots()
        .send()
        .await
        .ctx("organizations:ListRoots")?;
    let types: BTreeSet<&str> = roots
        .roots()
        .first()
        .map(|r| r.policy_types())
        .unwrap_or_default()
        .iter()
        .filter(|t| t.status() == Some(&PolicyTypeStatus::Enabled))
        .filter_map(|t| t.r#type().map(|t| t.as_str()))
        .filter(|t| POLICY_TYPES.contains(t))
        .collect();
    if !types.is_empty() {
        node = node.child(Node::new("policy-types").args(types));
    }
    let trusted = trusted_services(cx).await?;
    if !trusted.is_empty() {
        node = node.child(Node::new("trusted-services").args(&trusted));
    }
    let mut notes = Vec::new();
    for (service, account) in delegated_administrators(&client).await? {
        if service == SECURITY_HUB_PRINCIPAL {
            // Declared, Security Hub's administrator is designated in every region too.
            let mut elsewhere = Vec::new();
            for region in cx.baseline.settings.regions() {
                if security_hub_admin_in(cx, &region).await?.as_deref() != Some(account.as_str()) {
                    elsewhere.push(region);
                }
            }
            if !elsewhere.is_empty() {
                notes.push(format!(
                    "{} is Security Hub's delegated administrator in Organizations, but Security \
                     Hub does not designate it in {}: declaring it would, so it is left out",
                    account_ref(cx.org, &account),
                    elsewhere.join(", ")
                ));
                continue;
            }
        }
        node = node.child(
            Node::new("delegated-administrator")
                .arg(service)
                .prop("account", account_ref(cx.org, &account)),
        );
    }
    if node.children.is_empty() {
        return Ok(Some(out));
    }
    let mut found = Found::new(node);
    found.notes = notes;
    out.found.push(found);
    Ok(Some(out))
}

/// EnableOrganizationAdminAccount must name it in every region (Security Hub user guide,
/// "Designating a delegated Security Hub administrator").
const SECURITY_HUB_ADMINS: &str = "security-hub-administrator";
const SECURITY_HUB_PRINCIPAL: &str = "securityhub.amazonaws.com";

/// The account the baseline names as Security Hub's delegated administrator.
fn security_hub_administrator(o: &Organization) -> Option<&str> {
    o.delegated_administrators
        .iter()
        .find(|d| d.service.value == SECURITY_HUB_PRINCIPAL)
        .map(|d| d.account.value.as_str())
}

/// The Security Hub administrator designated in `region`, if any (none outside an
/// organization, or where the management account cannot ask).
pub(crate) async fn security_hub_admin_in(
    cx: &Ctx<'_>,
    region: &str,
) -> provider::Result<Option<String>> {
    let sh = cx
        .aws
        .securityhub(&cx.org.management_account_id, region)
        .await?;
    let admins = sh
        .list_organization_admin_accounts()
        .send()
        .await
        .absent_on(
            "securityhub:ListOrganizationAdminAccounts",
            &[
                "InvalidAccessException",
                "AccessDeniedException",
                "InvalidInputException",
            ],
        )?;
    Ok(admins.and_then(|a| {
        a.admin_accounts()
            .iter()
            .find(|a| a.status().is_some_and(|s| s.as_str() == "ENABLED"))
            .and_then(|a| a.account_id().map(str::to_string))
    }))
}
