//! `kms-rotation`: a rule over every customer-managed key in the targeted accounts and
//! regions: automatic rotation must be on.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use aws_sdk_kms::types::{KeyManagerType, KeySpec, KeyState, MultiRegionKeyType, OriginType};
use serde_json::json;

use super::kms_key::{
    enable_rotation, rotation_status, KmsKey, DEFAULT_ROTATION_DAYS, ROTATION_DAYS,
};
use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::{AwsError, Context};
use crate::expand::Instance;
use crate::lang::checks::check_kms_alias;
use crate::lang::diagnostic::Problem;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{self, Attrs, ChangeRequest, Ctx, Error, Finding, Observed, Provider};

pub static KIND: Kind = Kind {
    keyword: "kms-rotation",
    summary: "rotation on for every customer-managed KMS key in the targets",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&KmsRotationProvider),
};

#[derive(Debug, Clone)]
pub struct KmsRotation {
    pub period_days: u32,
    /// Keys left alone, by alias.
    pub exclude_aliases: Vec<String>,
}

impl Spec for KmsRotation {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    if let Some(cmk) = r.child_bool("customer-managed-keys") {
        if !cmk.value {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    cmk.span,
                    "the rule covers customer-managed keys; #false leaves it nothing to do",
                )
                .label("#false")
                .help("remove the declaration instead"),
            );
        }
    }
    let period_days = r
        .child_u32("period-days", ROTATION_DAYS)
        .map_or(DEFAULT_ROTATION_DAYS, |d| d.value);
    let exclude = r
        .child_strs("exclude-aliases", "key aliases")
        .unwrap_or_default();
    for a in &exclude {
        if let Err(e) = check_kms_alias(&a.value) {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    a.span,
                    format!("invalid alias \"{}\"", a.value),
                )
                .label("invalid alias")
                .help(e),
            );
        }
    }
    Box::new(KmsRotation {
        period_days,
        exclude_aliases: exclude.into_iter().map(|a| a.value).collect(),
    })
}

// --- AWS -------------------------------------------------------------------------------

/// A rule, not a resource: it lists the keys of one account and region that need rotation
/// and turns it on. Nothing to tag, create or delete.
pub struct KmsRotationProvider;

const ATTR: &str = "keys-without-rotation";

/// Aliases of the kms-key declarations placed in `account_id`/`region`: those keys follow
/// their own declaration (its rotation setting and period), so the rule leaves them alone
/// rather than report the same drift twice or fight over the period.
fn declared_aliases(cx: &Ctx<'_>, account_id: &str, region: &str) -> Vec<String> {
    cx.baseline
        .declarations
        .iter()
        .filter(|d| std::ptr::eq(d.kind, &super::kms_key::KIND))
        .filter(|d| cx.account_of(d) == account_id && cx.region_of(d) == region)
        .filter_map(|d| {
            spec_of::<KmsKey>(d)?
                .alias
                .as_ref()
                .map(|a| a.value.clone())
        })
        .collect()
}

/// Whether KMS rotates the key automatically: customer-managed, enabled, symmetric,
/// KMS-generated material, and not a multi-Region replica (whose rotation follows its
/// primary). The rule covers only those.
fn rotatable(meta: &aws_sdk_kms::types::KeyMetadata) -> bool {
    meta.key_manager() == Some(&KeyManagerType::Customer)
        && meta.key_state() == Some(&KeyState::Enabled)
        && meta.key_spec() == Some(&KeySpec::SymmetricDefault)
        && meta.origin().is_none_or(|o| *o == OriginType::AwsKms)
        && meta
            .multi_region_configuration()
            .and_then(|c| c.multi_region_key_type())
            != Some(&MultiRegionKeyType::Replica)
}

/// `baseline import`: the rule where an account and region already rotates its keys: at
/// least one rotatable key rotates. The period is the longest any key has; keys that do not
/// rotate are excluded by alias (a key without an alias cannot be: then nothing is declared).
async fn import_site(
    cx: &Ctx<'_>,
    site: &crate::import::Site,
) -> provider::Result<crate::import::Imported> {
    use crate::import::{account_ref, kdl::Node, Found, Imported, Skipped};
    let mut out = Imported::default();
    let kms = cx.aws.kms(&site.account_id, &site.region).await?;
    let aliases = super::kms_key::aliases(&kms, None).await?;
    let keys = super::kms_key::all_keys(&kms).await?;
    let (mut rotating, mut longest) = (0, 0);
    let mut excluded = BTreeSet::new();
    for key in keys {
        let Some(key_id) = key.key_id() else { continue };
        let meta = kms
            .describe_key()
            .key_id(key_id)
            .send()
            .await
            .ctx("kms:DescribeKey")?
            .key_metadata;
        if !meta.as_ref().is_some_and(rotatable) {
            continue;
        }
        match rotation_status(&kms, key_id).await? {
            (true, days) => {
                rotating += 1;
                longest = longest.max(days.unwrap_or(DEFAULT_ROTATION_DAYS as i32));
            }
            (false, _) => {
                let mut names: Vec<&str> = aliases
                    .iter()
                    .filter(|a| a.target_key_id() == Some(key_id))
                    .filter_map(|a| a.alias_name())
                    .filter(|a| check_kms_alias(a).is_ok())
                    .collect();
                names.sort_unstable();
                let Some(alias) = names.first() else {
                    out.skipped.push(Skipped {
                        what: format!(
                            "{} in {} ({})",
                            KIND.keyword,
                            account_ref(cx.org, &site.account_id),
                            site.region
                        ),
                        why: format!(
                            "key {key_id} does not rotate and has no alias to exclude it by"
                        ),
                    });
                    return Ok(out);
                };
                excluded.insert(alias.to_string());
            }
        }
    }
    if rotating == 0 {
        return Ok(out);
    }
    let mut node = Node::new(KIND.keyword).comment("automatic rotation of customer-managed keys");
    let period = u32::try_from(longest).unwrap_or(DEFAULT_ROTATION_DAYS);
    if period != DEFAULT_ROTATION_DAYS && ROTATION_DAYS.contains(&period) {
        node = node.child(Node::new("period-days").arg(period));
    }
    if !excluded.is_empty() {
        node = node.child(Node::new("exclude-aliases").args(excluded));
    }
    out.found.push(Found::new(node));
    Ok(out)
}

/// A key the access role may not read is reported, not fatal: the rest are still checked.
fn denied(e: &AwsError) -> bool {
    e.is("AccessDeniedException")
}

#[async_trait]
impl Provider for KmsRotationProvider {
    fn desired(&self, _cx: &Ctx<'_>, _inst: &Instance) -> Attrs {
        let mut a = Attrs::new();
        a.insert(ATTR.into(), json!([]));
        a
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let Some(spec) = spec_of::<KmsRotation>(cx.decl(inst)) else {
            return Ok(Observed::absent());
        };
        let kms = cx.aws.kms(&inst.account_id, &inst.region).await?;
        let mut skip: BTreeSet<String> = spec.exclude_aliases.iter().cloned().collect();
        skip.extend(declared_aliases(cx, &inst.account_id, &inst.region));
        let aliases = super::kms_key::aliases(&kms, None).await?;
        let mut aliases_of: HashMap<String, Vec<String>> = HashMap::new();
        for a in &aliases {
            if let (Some(key), Some(name)) = (a.target_key_id(), a.alias_name()) {
                aliases_of
                    .entry(key.to_string())
                    .or_default()
                    .push(name.to_string());
            }
        }
        let keys = super::kms_key::all_keys(&kms).await?;
        let mut unrotated = Vec::new();
        let mut findings = Vec::new();
        for key in keys {
            let Some(key_id) = key.key_id() else { continue };
            if aliases_of
                .get(key_id)
                .is_some_and(|names| names.iter().any(|n| skip.contains(n)))
            {
                continue;
            }
            let meta = match kms
                .describe_key()
                .key_id(key_id)
                .send()
                .await
                .ctx("kms:DescribeKey")
            {
                Ok(out) => out.key_metadata,
                Err(e) if denied(&e) => {
                    findings.push(Finding {
                        message: format!("key {key_id} cannot be described by baseline: {e}"),
                    });
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let Some(meta) = meta else { continue };
            if !rotatable(&meta) {
                continue;
            }
            match rotation_status(&kms, key_id).await {
                // Rotating more often than the rule asks is stricter, so compliant. (KMS
                // reports no period for keys rotated before periods existed: yearly.)
                Ok((true, days))
                    if days.unwrap_or(DEFAULT_ROTATION_DAYS as i32) <= spec.period_days as i32 => {}
                Ok(_) => unrotated.push(key_id.to_string()),
                Err(Error::Aws(e)) if denied(&e) => findings.push(Finding {
                    message: format!(
                        "the rotation of key {key_id} cannot be read by baseline: {e}"
                    ),
                }),
                Err(e) => return Err(e),
            }
        }
        unrotated.sort();
        let mut live = Attrs::new();
        live.insert(ATTR.into(), json!(unrotated));
        let mut ids = Attrs::new();
        ids.insert("keys".into(), json!(unrotated));
        let mut observed = Observed::present(live, ids, None);
        observed.findings = findings;
        Ok(observed)
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<KmsRotation>(cx.decl(inst)) else {
            return Ok(());
        };
        let keys: Vec<&str> = change
            .live
            .and_then(|l| l.ids.get("keys"))
            .and_then(|k| k.as_array())
            .map(|a| a.iter().filter_map(|k| k.as_str()).collect())
            .unwrap_or_default();
        let kms = cx.aws.kms(&inst.account_id, &inst.region).await?;
        for key_id in keys {
            enable_rotation(&kms, key_id, spec.period_days).await?;
        }
        Ok(())
    }

    async fn import(
        &self,
        cx: &Ctx<'_>,
        site: &crate::import::Site,
        _lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        Ok(Some(import_site(cx, site).await?))
    }
}
