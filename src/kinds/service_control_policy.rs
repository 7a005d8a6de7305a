//! `service-control-policy`: an SCP, its document and where it is attached.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_organizations::types::{Policy, PolicySummary, PolicyType, TargetType};
use serde_json::{json, Value};

use super::organization::wait_policy_type_enabled;
use super::organization::{is_managed, managed_tag, org_client, tag_managed, tags_of};
use super::organizational_unit::{ou_id, ou_path, root_id};
use super::{spec_of, Kind, Naming, Placing};
use crate::aws::{until_consistent, Context};
use crate::expand::Instance;
use crate::lang::checks::SCP_MAX_CHARS;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Baseline, Declaration, Reference, Spec};
use crate::lang::policy::{parse_document, resolve_variables, PolicyDocument, PolicyRules};
use crate::lang::reader::{Cx, NodeReader};
use crate::lang::source::{Span, Spanned};
use crate::lang::targets::check_account_ref;
use crate::provider::{
    self, sort_keys, Action, Attrs, ChangeRequest, Ctx, Error, Live, Observed, Provider,
};

pub static KIND: Kind = Kind {
    keyword: "service-control-policy",
    summary: "a service control policy and its attachments (root, OUs, accounts)",
    naming: Naming::Required,
    placing: Placing::Organization,
    regional: false,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: check_attachment_quota,
    provider: Some(&ServiceControlPolicyProvider),
};

/// AWS allows 10 SCPs per root, OU or account (5 until 15 May 2026; Organizations user guide,
/// "Quotas for AWS Organizations"), and `FullAWSAccess` (attached by default, and never
/// detached by baseline) is one of them.
pub const MAX_SCPS_PER_TARGET: usize = 10;
pub const RESERVED_BY_FULL_AWS_ACCESS: usize = 1;

/// Where an SCP is attached.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AttachTarget {
    Root,
    /// OU path.
    Ou(String),
    /// Account name or id.
    Account(String),
}

impl std::fmt::Display for AttachTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttachTarget::Root => write!(f, "the root"),
            AttachTarget::Ou(p) => write!(f, "OU \"{p}\""),
            AttachTarget::Account(a) => write!(f, "account \"{a}\""),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServiceControlPolicy {
    pub description: Option<Spanned<String>>,
    pub document: Option<PolicyDocument>,
    pub attachments: Vec<Spanned<AttachTarget>>,
}

impl Spec for ServiceControlPolicy {
    fn references(&self) -> Vec<Reference> {
        self.attachments
            .iter()
            .filter_map(|a| match &a.value {
                AttachTarget::Ou(path) => Some(Reference::new(
                    "organizational-unit",
                    &Spanned::new(path.clone(), a.span),
                )),
                _ => None,
            })
            .collect()
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let description = r.child_str("description", "a description");
    if let Some(d) = description
        .as_ref()
        .filter(|d| d.value.chars().count() > 512)
    {
        r.report(
            Problem::new(
                "baseline::out-of-range",
                d.span,
                "an SCP description has at most 512 characters",
            )
            .label(format!("{} characters", d.value.chars().count())),
        );
    }
    let rules = PolicyRules {
        allow_principal: false,
        max_chars: SCP_MAX_CHARS,
        what: "SCP",
    };
    let document = match r.child("document") {
        Some(d) => parse_document(d, rules),
        None => r.require(None, "document", "document file=\"policies/name.json\""),
    };
    let attachments = r
        .children("attach")
        .into_iter()
        .filter_map(parse_attach)
        .collect();
    Box::new(ServiceControlPolicy {
        description,
        document,
        attachments,
    })
}

fn parse_attach(mut c: NodeReader) -> Option<Spanned<AttachTarget>> {
    let root = c
        .prop_bool("root")
        .filter(|b| b.value)
        .map(|b| (AttachTarget::Root, b.span));
    let ou = c
        .prop_str("ou")
        .map(|o| (AttachTarget::Ou(o.value), o.span));
    let account = c.prop_str("account");
    if let Some(a) = &account {
        check_account_ref(&c, a);
    }
    let account = account.map(|a| (AttachTarget::Account(a.value), a.span));
    let given: Vec<_> = [root, ou, account].into_iter().flatten().collect();
    let attached = match given.as_slice() {
        [(target, span)] => Some(Spanned::new(target.clone(), *span)),
        // An unknown property is reported by `finish`; "no target" would only repeat it.
        [] if c.node.entries().iter().any(|e| e.name().is_some()) => None,
        [] => {
            c.report(
                Problem::new(
                    "baseline::missing-value",
                    c.name_span(),
                    "`attach` names no target",
                )
                .label("nothing to attach to")
                .help(
                    "write `attach root=#true`, `attach ou=\"Path\"` or `attach account=\"name\"`",
                ),
            );
            None
        }
        [_, (_, second), ..] => {
            c.report(
                Problem::new(
                    "baseline::conflicting-targets",
                    *second,
                    "`attach` takes one target",
                )
                .label("second target")
                .help("write one `attach` per target"),
            );
            None
        }
    };
    c.finish();
    attached
}

/// More SCPs on one target than AWS allows.
fn check_attachment_quota(_baseline: &Baseline, decls: &[&Declaration], cx: &Cx) {
    let mut per_target: BTreeMap<AttachTarget, Vec<(Span, String)>> = BTreeMap::new();
    for decl in decls {
        let Some(scp) = spec_of::<ServiceControlPolicy>(decl) else {
            continue;
        };
        for a in &scp.attachments {
            per_target
                .entry(a.value.clone())
                .or_default()
                .push((a.span, decl.name.value.clone()));
        }
    }
    let limit = MAX_SCPS_PER_TARGET - RESERVED_BY_FULL_AWS_ACCESS;
    for (target, attached) in per_target {
        if attached.len() > limit {
            let names: Vec<_> = attached.iter().map(|(_, n)| n.as_str()).collect();
            let mut p = Problem::new(
                "baseline::too-many-scps",
                attached[limit].0,
                format!(
                    "{target} would have {} SCPs: these {} and FullAWSAccess; AWS allows {MAX_SCPS_PER_TARGET} per target",
                    attached.len() + RESERVED_BY_FULL_AWS_ACCESS,
                    attached.len()
                ),
            )
            .label("one attachment too many")
            .help(format!("merge some of these policies: {}", names.join(", ")));
            for (span, _) in attached.iter().take(limit) {
                p = p.also(*span, "attached here");
            }
            cx.report(p);
        }
    }
}

// --- AWS -------------------------------------------------------------------------------

/// An SCP, found by name among the organization's SCPs. Compared: its description (when
/// declared), its document (semantically) and its targets. Created with baseline's tag,
/// adopted (tagged, then fixed) when it exists untagged; a tagged SCP no longer declared is
/// an orphan, deleted after detaching it everywhere. `FullAWSAccess` and other policies
/// baseline does not declare are never touched.
pub struct ServiceControlPolicyProvider;

/// A target as plans show it: `root`, `ou:Path` or `account:name` (as declared).
fn target_key(t: &AttachTarget) -> String {
    match t {
        AttachTarget::Root => "root".to_string(),
        AttachTarget::Ou(path) => format!("ou:{path}"),
        AttachTarget::Account(a) => format!("account:{a}"),
    }
}

/// A policy document in a form where equal policies are equal values: object keys sorted,
/// a lone statement object as a one-element list, and a one-element list of actions,
/// resources or condition values as the plain string (IAM reads both the same way).
/// Applied to the declared and the live document alike.
pub fn canonical_document(doc: &Value) -> Value {
    // A list of actions, resources or condition values is a set to IAM: sort it, and
    // write a one-element list as its element.
    fn unwrap_single(v: &mut Value) {
        if let Value::Array(a) = v {
            if a.iter().all(Value::is_string) {
                a.sort_by(|x, y| x.as_str().cmp(&y.as_str()));
                a.dedup();
            }
            if a.len() == 1 {
                *v = a.remove(0);
            }
        }
    }
    let mut doc = sort_keys(doc);
    let Some(statements) = doc.as_object_mut().and_then(|d| d.get_mut("Statement")) else {
        return doc;
    };
    if statements.is_object() {
        *statements = Value::Array(vec![statements.take()]);
    }
    for statement in statements
        .as_array_mut()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
    {
        for key in ["Action", "NotAction", "Resource", "NotResource"] {
            if let Some(v) = statement.get_mut(key) {
                unwrap_single(v);
            }
        }
        if let Some(conditions) = statement
            .get_mut("Condition")
            .and_then(Value::as_object_mut)
        {
            for operator in conditions.values_mut().filter_map(Value::as_object_mut) {
                operator.values_mut().for_each(unwrap_single);
            }
        }
    }
    doc
}

fn scp_type() -> PolicyType {
    PolicyType::ServiceControlPolicy
}

/// Every SCP of the organization, AWS-managed ones included; none without an organization.
async fn all_policies(
    client: &aws_sdk_organizations::Client,
) -> provider::Result<Vec<PolicySummary>> {
    let mut out = Vec::new();
    let mut pages = client
        .list_policies()
        .filter(scp_type())
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Some(page) = page.absent_on(
            "organizations:ListPolicies",
            &["AWSOrganizationsNotInUseException"],
        )?
        else {
            return Ok(Vec::new());
        };
        out.extend(page.policies().iter().cloned());
    }
    Ok(out)
}

/// Every target of a policy: (type, id).
async fn targets_of(
    client: &aws_sdk_organizations::Client,
    policy_id: &str,
) -> provider::Result<Vec<(Option<TargetType>, String)>> {
    let mut out = Vec::new();
    let mut pages = client
        .list_targets_for_policy()
        .policy_id(policy_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("organizations:ListTargetsForPolicy")?;
        out.extend(page.targets().iter().map(|t| {
            (
                t.r#type().cloned(),
                t.target_id().unwrap_or_default().to_string(),
            )
        }));
    }
    Ok(out)
}

/// The customer-managed policies no declaration names, with their names and ids.
async fn undeclared_policies(
    client: &aws_sdk_organizations::Client,
    declared: &[&str],
) -> provider::Result<Vec<(PolicySummary, String, String)>> {
    Ok(all_policies(client)
        .await?
        .into_iter()
        .filter(|s| !s.aws_managed())
        .filter_map(|s| {
            let (name, id) = (s.name()?.to_string(), s.id()?.to_string());
            (!declared.contains(&name.as_str())).then_some((s, name, id))
        })
        .collect())
}

/// The policy `id`: its summary and document.
async fn describe_policy(
    client: &aws_sdk_organizations::Client,
    id: &str,
) -> provider::Result<Option<Policy>> {
    Ok(client
        .describe_policy()
        .policy_id(id)
        .send()
        .await
        .ctx("organizations:DescribePolicy")?
        .policy)
}

/// An SCP's live state, and its document as AWS holds it. Accounts are shown by the
/// reference the baseline uses for them (`account_refs`), else by name; OUs by path.
async fn live_policy(
    cx: &Ctx<'_>,
    client: &aws_sdk_organizations::Client,
    summary: &PolicySummary,
    account_refs: &[&str],
) -> provider::Result<(Live, String)> {
    let name = summary.name().unwrap_or_default();
    let id = summary
        .id()
        .ok_or_else(|| Error::State(format!("SCP \"{name}\" has no id")))?;
    let described = describe_policy(client, id).await?;
    let policy = described.as_ref();
    let content = policy.and_then(|p| p.content()).unwrap_or_default();
    let description = policy
        .and_then(|p| p.policy_summary())
        .and_then(|s| s.description())
        .unwrap_or_default();
    let document = serde_json::from_str::<Value>(content).map_or_else(
        |_| Value::String(content.to_string()),
        |d| canonical_document(&d),
    );

    let mut targets = BTreeMap::new();
    for (kind, target_id) in targets_of(client, id).await? {
        let key = match kind {
            Some(TargetType::Root) => "root".to_string(),
            Some(TargetType::OrganizationalUnit) => {
                let path = ou_path(cx, &target_id).await?;
                format!("ou:{}", path.as_deref().unwrap_or(&target_id))
            }
            _ => {
                let label = account_refs
                    .iter()
                    .find(|r| cx.org.account(r).is_some_and(|a| a.id == target_id))
                    .map(|r| r.to_string())
                    .or_else(|| cx.org.account(&target_id).map(|a| a.name.clone()))
                    .unwrap_or_else(|| target_id.clone());
                format!("account:{label}")
            }
        };
        targets.insert(key, json!(target_id));
    }

    let mut attrs = Attrs::new();
    attrs.insert("description".into(), json!(description));
    attrs.insert("document".into(), document);
    attrs.insert(
        "targets".into(),
        json!(targets.keys().cloned().collect::<Vec<_>>()),
    );
    let mut ids = Attrs::new();
    ids.insert("policy-id".into(), json!(id));
    ids.insert(
        "targets".into(),
        Value::Object(targets.into_iter().collect()),
    );
    let tags = tags_of(client, id).await?;
    let managed = tags
        .iter()
        .any(|(k, v)| crate::provider::is_managed_tag(k.as_str(), v.as_str()));
    ids.insert(
        "tags".into(),
        Value::Object(
            tags.into_iter()
                .map(|(k, v)| (k, Value::String(v)))
                .collect(),
        ),
    );
    Ok((
        Live {
            attrs,
            ids,
            managed: Some(managed),
        },
        content.to_string(),
    ))
}

/// The id of the SCP `name` if it is what an earlier attempt of this CreatePolicy made:
/// baseline's tag and the very document sent. CreatePolicy takes no idempotency token, so
/// when its answer is lost the SDK's retry is refused with DuplicatePolicyException. A
/// policy of that name that is not so stays refused.
async fn made_by_lost_answer(
    client: &aws_sdk_organizations::Client,
    name: &str,
    content: &str,
) -> provider::Result<Option<String>> {
    let policies = all_policies(client).await?;
    let Some(id) = policies
        .iter()
        .find(|p| p.name() == Some(name) && !p.aws_managed())
        .and_then(|p| p.id())
    else {
        return Ok(None);
    };
    if !is_managed(client, id).await? {
        return Ok(None);
    }
    let described = describe_policy(client, id).await?;
    let live = described.as_ref().and_then(|p| p.content());
    let parse = |text: &str| serde_json::from_str::<Value>(text).ok();
    let same = live
        .and_then(parse)
        .is_some_and(|l| Some(l) == parse(content));
    Ok(same.then(|| id.to_string()))
}

/// The AWS id of a declared target, looked up live (an OU may be new in this apply).
async fn target_id(cx: &Ctx<'_>, target: &AttachTarget) -> provider::Result<String> {
    let found = match target {
        AttachTarget::Root => root_id(cx).await?,
        AttachTarget::Ou(path) => ou_id(cx, path).await?,
        AttachTarget::Account(a) => cx.org.account(a).map(|a| a.id.clone()),
    };
    found.ok_or_else(|| Error::State(format!("cannot attach to {target}: it does not exist")))
}

/// Before the plan promises an attachment, count what the target already has: SCPs attached
/// outside the baseline (by hand, by another tool) count against AWS's limit of
/// [`MAX_SCPS_PER_TARGET`] too, and AttachPolicy would fail on ConstraintViolationException
/// (POLICY_NUMBER_LIMIT_EXCEEDED) half-way through an apply. Only targets this SCP is not
/// attached to yet are looked at; a target that does not exist yet has only what the
/// baseline gives it.
async fn check_room_on_new_targets(
    cx: &Ctx<'_>,
    client: &aws_sdk_organizations::Client,
    decl: &Declaration,
    live: Option<&Live>,
) -> provider::Result<()> {
    let Some(scp) = spec_of::<ServiceControlPolicy>(decl) else {
        return Ok(());
    };
    let attached_now: BTreeSet<String> = live
        .and_then(|l| l.attrs.get("targets"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for target in scp.attachments.iter().map(|a| &a.value) {
        if attached_now.contains(&target_key(target)) {
            continue;
        }
        let Ok(id) = target_id(cx, target).await else {
            continue;
        };
        let mut on_target: BTreeSet<String> = BTreeSet::new();
        let mut pages = client
            .list_policies_for_target()
            .target_id(&id)
            .filter(scp_type())
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.ctx("organizations:ListPoliciesForTarget")?;
            on_target.extend(
                page.policies()
                    .iter()
                    .filter_map(|p| p.name().map(str::to_string)),
            );
        }
        let declared: BTreeSet<String> = cx
            .baseline
            .declarations
            .iter()
            .filter(|d| std::ptr::eq(d.kind, &KIND))
            .filter(|d| {
                spec_of::<ServiceControlPolicy>(d)
                    .is_some_and(|s| s.attachments.iter().any(|a| &a.value == target))
            })
            .map(|d| d.name.value.clone())
            .collect();
        let outside: Vec<&String> = on_target.difference(&declared).collect();
        let total = on_target.union(&declared).count();
        if total > MAX_SCPS_PER_TARGET {
            let outside: Vec<&str> = outside.iter().map(|s| s.as_str()).collect();
            return Err(Error::State(format!(
                "{target} would have {total} SCPs, and AWS allows {MAX_SCPS_PER_TARGET} per target: \
                 besides the {} the baseline attaches, it already has {} attached outside the \
                 baseline ({}); detach one of those or merge policies",
                declared.len(),
                outside.len(),
                outside.join(", ")
            )));
        }
    }
    Ok(())
}

/// The document as AWS gets it: baseline's variables (the access role) resolved.
fn document(cx: &Ctx<'_>, doc: &PolicyDocument) -> Value {
    resolve_variables(&doc.json, &cx.baseline.settings.access_role)
}

async fn detach(
    client: &aws_sdk_organizations::Client,
    policy_id: &str,
    target_id: &str,
) -> provider::Result<()> {
    client
        .detach_policy()
        .policy_id(policy_id)
        .target_id(target_id)
        .send()
        .await
        .absent_on(
            "organizations:DetachPolicy",
            &["PolicyNotAttachedException"],
        )?;
    Ok(())
}

#[async_trait]
impl Provider for ServiceControlPolicyProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        let mut a = Attrs::new();
        let Some(scp) = spec_of::<ServiceControlPolicy>(cx.decl(inst)) else {
            return a;
        };
        // An undeclared description is not compared (AWS requires one; "" is sent).
        if let Some(d) = &scp.description {
            a.insert("description".into(), json!(d.value));
        }
        if let Some(doc) = &scp.document {
            a.insert("document".into(), canonical_document(&document(cx, doc)));
        }
        let targets: BTreeSet<String> = scp
            .attachments
            .iter()
            .map(|t| target_key(&t.value))
            .collect();
        a.insert("targets".into(), json!(targets));
        a
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let decl = cx.decl(inst);
        let name = &decl.name.value;
        let client = org_client(cx).await?;
        let found = all_policies(&client)
            .await?
            .into_iter()
            .find(|p| p.name() == Some(name.as_str()));
        let Some(summary) = found else {
            check_room_on_new_targets(cx, &client, decl, None).await?;
            return Ok(Observed::absent());
        };
        if summary.aws_managed() {
            return Err(Error::State(format!(
                "\"{name}\" is an AWS-managed SCP; declare your own policy under another name"
            )));
        }
        let account_refs: Vec<&str> = spec_of::<ServiceControlPolicy>(decl)
            .map(|s| {
                s.attachments
                    .iter()
                    .filter_map(|t| match &t.value {
                        AttachTarget::Account(a) => Some(a.as_str()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (live, _) = live_policy(cx, &client, &summary, &account_refs).await?;
        // A policy Control Tower, a StackSet or another tool put there is theirs, whatever
        // a declaration of the same name says: reported, never changed.
        let tags = live.ids.get("tags").and_then(Value::as_object);
        let owner = crate::coexist::owner_of(
            name,
            tags.into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())),
        );
        if owner.is_none() {
            check_room_on_new_targets(cx, &client, decl, Some(&live)).await?;
        }
        Ok(Observed {
            live: Some(live),
            owner,
            ..Observed::default()
        })
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let decl = cx.decl(inst);
        let name = &decl.name.value;
        let Some(scp) = spec_of::<ServiceControlPolicy>(decl) else {
            return Ok(());
        };
        let content = scp
            .document
            .as_ref()
            .map(|d| document(cx, d).to_string())
            .ok_or_else(|| Error::State(format!("SCP \"{name}\" has no document")))?;
        let description = scp.description.as_ref().map(|d| d.value.clone());
        let client = org_client(cx).await?;

        let policy_id = if change.action == Action::Create {
            let created = client
                .create_policy()
                .name(name)
                .description(description.clone().unwrap_or_default())
                .content(&content)
                .r#type(scp_type())
                .tags(managed_tag()?)
                .send()
                .await
                .ctx("organizations:CreatePolicy");
            match created {
                Ok(created) => created
                    .policy()
                    .and_then(|p| p.policy_summary())
                    .and_then(|s| s.id())
                    .ok_or_else(|| {
                        Error::State(format!("CreatePolicy returned no id for \"{name}\""))
                    })?
                    .to_string(),
                Err(e) if e.is("DuplicatePolicyException") => {
                    match made_by_lost_answer(&client, name, &content).await? {
                        Some(id) => id,
                        None => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            let id = change
                .id("policy-id")
                .ok_or_else(|| {
                    Error::State(format!("SCP \"{name}\": no id was recorded at plan time"))
                })?
                .to_string();
            if change.action == Action::Adopt {
                tag_managed(&client, &id).await?;
            }
            if change.changes("document") || change.changes("description") {
                client
                    .update_policy()
                    .policy_id(&id)
                    .set_description(description)
                    .content(&content)
                    .send()
                    .await
                    .ctx("organizations:UpdatePolicy")?;
            }
            id
        };

        let live_targets = change.live_strings("targets");
        let live_ids = change
            .live
            .and_then(|l| l.ids.get("targets"))
            .and_then(Value::as_object);
        let wanted: BTreeMap<String, &AttachTarget> = scp
            .attachments
            .iter()
            .map(|t| (target_key(&t.value), &t.value))
            .collect();
        // Detach first: AWS allows five SCPs per target, so a swap needs the slot.
        for key in live_targets.iter().filter(|k| !wanted.contains_key(*k)) {
            let id = live_ids
                .and_then(|ids| ids.get(key))
                .and_then(Value::as_str)
                .ok_or_else(|| Error::State(format!("SCP \"{name}\": no id recorded for {key}")))?;
            detach(&client, &policy_id, id).await?;
        }
        for (key, target) in &wanted {
            if live_targets.contains(key) {
                continue;
            }
            let id = target_id(cx, target).await?;
            let attach = || async {
                client
                    .attach_policy()
                    .policy_id(&policy_id)
                    .target_id(&id)
                    .send()
                    .await
                    .absent_on(
                        "organizations:AttachPolicy",
                        &["DuplicatePolicyAttachmentException"],
                    )
            };
            match attach().await {
                // SCPs were just enabled (PENDING_ENABLE, by this run or another): wait for
                // ENABLED, which fails at once if nobody enabled them, then attach.
                Err(e) if e.is("PolicyTypeNotEnabledException") => {
                    wait_policy_type_enabled(&client, scp_type().as_str()).await?;
                    until_consistent(|e| e.is("PolicyTypeNotEnabledException"), attach).await?;
                }
                other => {
                    other?;
                }
            }
        }
        Ok(())
    }

    /// Every SCP but AWS's own (FullAWSAccess) and those another tool owns, its document
    /// in `policies/NAME.json` as the policy holds it (pretty-printed), with its targets.
    async fn import(
        &self,
        cx: &Ctx<'_>,
        _site: &crate::import::Site,
        _lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        use crate::import::{kdl::Node, Found, Imported, Skipped};
        let client = org_client(cx).await?;
        let mut out = Imported::default();
        let mut policies = all_policies(&client).await?;
        policies.sort_by(|a, b| a.name().cmp(&b.name()));
        let mut files = BTreeSet::new();
        for summary in policies {
            // FullAWSAccess: attached by AWS everywhere, never detached by baseline.
            if summary.aws_managed() {
                continue;
            }
            let (Some(name), Some(id)) = (summary.name(), summary.id()) else {
                continue;
            };
            let (live, content) = live_policy(cx, &client, &summary, &[]).await?;
            let tags = live.ids.get("tags").and_then(Value::as_object);
            let owner = crate::coexist::owner_of(
                name,
                tags.into_iter()
                    .flatten()
                    .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default())),
            );
            let what = format!("{} \"{name}\" ({id})", KIND.keyword);
            if let Some(owner) = owner {
                out.skipped.push(Skipped {
                    what,
                    why: format!("managed by {owner}"),
                });
                continue;
            }
            let document = match serde_json::from_str::<Value>(&content) {
                Ok(d) => d,
                Err(e) => {
                    out.skipped.push(Skipped {
                        what,
                        why: format!("its document is not JSON ({e})"),
                    });
                    continue;
                }
            };
            let shape = crate::lang::checks::check_policy_shape(&document, false);
            if !shape.is_empty() {
                out.skipped.push(Skipped {
                    what,
                    why: format!(
                        "its document is not one the language accepts: {}",
                        shape.join("; ")
                    ),
                });
                continue;
            }
            let file = policy_file(name, id, &mut files);
            let mut node = Node::new(KIND.keyword)
                .arg(name)
                .comment(format!("SCP {id}"));
            if let Some(d) = policy_description(&live) {
                node = node.child(Node::new("description").arg(d));
            }
            node = node.child(Node::new("document").prop("file", &file));
            let target_ids = live.ids.get("targets").and_then(Value::as_object);
            // The root, then OUs, then accounts.
            let mut keys: Vec<&str> = live.attrs["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            keys.sort_by_key(|k| (!k.starts_with("root"), !k.starts_with("ou:"), *k));
            for key in keys {
                let attach = Node::new("attach");
                node = node.child(if key == "root" {
                    attach.prop("root", true)
                } else if let Some(path) = key.strip_prefix("ou:") {
                    attach.prop("ou", path)
                } else {
                    let id = target_ids
                        .and_then(|t| t.get(key))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    attach.prop("account", crate::import::account_ref(cx.org, id))
                });
            }
            let pretty = serde_json::to_string_pretty(&document).unwrap_or(content) + "\n";
            let mut found = Found::new(node);
            found.files.push((file, pretty));
            out.found.push(found);
        }
        Ok(Some(out))
    }

    async fn undeclared(
        &self,
        cx: &Ctx<'_>,
        account_id: &str,
        _region: &str,
        declared: &[&str],
    ) -> provider::Result<provider::Undeclared> {
        let client = cx
            .aws
            .organizations(account_id, cx.aws.organizations_region())
            .await?;
        let mut found = provider::Undeclared::default();
        for (summary, name, id) in undeclared_policies(&client, declared).await? {
            // Control Tower's preventive controls (its mandatory ones among them) and the
            // policies of StackSets, Landing Zone Accelerator or Terraform are listed, so
            // nobody declares a policy that fights them unawares. Control Tower's are known
            // by name, with no call for their tags.
            if let Some(owner) = crate::coexist::owner_of(&name, []) {
                found.others.push((name, owner));
                continue;
            }
            let tags = super::organization::tags_of(&client, &id).await?;
            let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            if let Some(owner) = crate::coexist::owner_of(&name, pairs) {
                found.others.push((name, owner));
            } else if tags
                .iter()
                .any(|(k, v)| provider::is_managed_tag(k.as_str(), v.as_str()))
            {
                let live = live_policy(cx, &client, &summary, &[]).await?.0;
                found.orphans.push((name, live));
            }
        }
        Ok(found)
    }

    async fn delete(
        &self,
        cx: &Ctx<'_>,
        account_id: &str,
        _region: &str,
        name: &str,
        live: &Live,
    ) -> provider::Result<()> {
        let id = live
            .ids
            .get("policy-id")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::State(format!("SCP \"{name}\": no id was recorded")))?;
        let client = cx
            .aws
            .organizations(account_id, cx.aws.organizations_region())
            .await?;
        // DeletePolicy refuses an attached policy: detach from every current target first.
        for (_, target) in targets_of(&client, id).await? {
            detach(&client, id, &target).await?;
        }
        client
            .delete_policy()
            .policy_id(id)
            .send()
            .await
            .absent_on("organizations:DeletePolicy", &["PolicyNotFoundException"])?;
        Ok(())
    }
}

/// The description an imported SCP declares: none when AWS holds none (an undeclared
/// description is not compared).
fn policy_description(live: &Live) -> Option<&str> {
    live.attrs
        .get("description")
        .and_then(Value::as_str)
        .filter(|d| !d.is_empty())
}

/// `policies/NAME.json` for the SCP `name`, with what a file name should not hold replaced;
/// the policy id is appended when two names come out the same.
fn policy_file(name: &str, id: &str, taken: &mut BTreeSet<String>) -> String {
    let stem: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut file = format!("policies/{stem}.json");
    if !taken.insert(file.to_lowercase()) {
        file = format!("policies/{stem}-{id}.json");
        taken.insert(file.to_lowercase());
    }
    file
}

#[cfg(test)]
mod tests {
    use super::canonical_document;
    use serde_json::json;

    #[test]
    fn equivalent_documents_are_equal_once_canonical() {
        let declared = json!({
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Deny",
                "Action": "s3:DeleteBucket",
                "Resource": ["*"],
                "Condition": {"StringNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/x"]}}
            }
        });
        let live = json!({
            "Statement": [{
                "Condition": {"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}},
                "Resource": "*",
                "Action": ["s3:DeleteBucket"],
                "Effect": "Deny"
            }],
            "Version": "2012-10-17"
        });
        assert_eq!(canonical_document(&declared), canonical_document(&live));
        // Canonical keys are sorted, so the JSON text is stable too.
        assert_eq!(
            canonical_document(&live).to_string(),
            canonical_document(&declared).to_string()
        );
    }

    #[test]
    fn different_documents_stay_different() {
        let one = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": ["s3:DeleteBucket", "s3:PutObject"], "Resource": "*"}]});
        let other = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]});
        assert_ne!(canonical_document(&one), canonical_document(&other));
        // Two actions stay a list, sorted: their order means nothing to IAM.
        assert_eq!(
            canonical_document(&one)["Statement"][0]["Action"],
            json!(["s3:DeleteBucket", "s3:PutObject"])
        );
        let reordered = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": ["s3:PutObject", "s3:DeleteBucket"], "Resource": "*"}]});
        assert_eq!(canonical_document(&one), canonical_document(&reordered));
    }
}
