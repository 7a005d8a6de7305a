//! `kms-key`: a customer-managed KMS key, found by its alias, with rotation.

use async_trait::async_trait;
use aws_sdk_kms::types::{KeyManagerType, KeyMetadata, KeySpec, KeyState, KeyUsageType, Tag};
use serde_json::json;

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::{partition, Context};
use crate::expand::Instance;
use crate::lang::checks::check_kms_alias;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Declaration, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{
    self, is_managed_tag, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider,
    MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "kms-key",
    summary: "a customer-managed KMS key (by alias) with automatic rotation",
    naming: Naming::Required,
    placing: Placing::Single,
    regional: true,
    nests: false,
    parse,
    check_all: no_check,
    provider: Some(&KmsKeyProvider),
};

/// KMS accepts a rotation period of 90 to 2560 days.
pub const ROTATION_DAYS: std::ops::RangeInclusive<u32> = 90..=2560;
pub const DEFAULT_ROTATION_DAYS: u32 = 365;

#[derive(Debug, Clone)]
pub struct KmsKey {
    /// `alias/...`: the key's natural key.
    pub alias: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub rotation: bool,
    pub rotation_period_days: u32,
}

impl Spec for KmsKey {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let alias = r.child_str("alias", "the key's alias");
    let alias = r.require(alias, "alias", "alias \"alias/org-logs\"");
    if let Some(a) = &alias {
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
    let description = r.child_str("description", "a description");
    let (mut rotation, mut rotation_period_days) = (true, DEFAULT_ROTATION_DAYS);
    if let Some(mut c) = r.child("rotation") {
        if let Some(on) = c.arg_bool_or_flag() {
            rotation = on.value;
        }
        if let Some(days) = c.prop_u32("period-days", ROTATION_DAYS) {
            rotation_period_days = days.value;
        }
        c.finish();
    }
    Box::new(KmsKey {
        alias,
        description,
        rotation,
        rotation_period_days,
    })
}

// --- AWS -------------------------------------------------------------------------------

/// A symmetric customer-managed key found by its alias. Keys are tagged at creation and
/// adopted by tagging; they are never deleted by baseline (protective resource).
pub struct KmsKeyProvider;

/// The `kms-key` declaration called `name`.
fn key_decl<'a>(cx: &Ctx<'a>, name: &str) -> Option<&'a Declaration> {
    cx.baseline
        .declarations
        .iter()
        .find(|d| std::ptr::eq(d.kind, &KIND) && d.name.value == name)
}

/// The alias of the declared kms-key `name`, as the bucket and the trail show it.
pub fn alias_of(cx: &Ctx<'_>, name: &str) -> String {
    key_decl(cx, name)
        .and_then(spec_of::<KmsKey>)
        .and_then(|k| k.alias.as_ref())
        .map_or_else(|| name.to_string(), |a| a.value.clone())
}

/// The live ARN of the declared kms-key `key_decl_name` (in its own account and region),
/// or `None` while it does not exist (or is pending deletion, which makes it unusable).
pub async fn key_arn(cx: &Ctx<'_>, key_decl_name: &str) -> provider::Result<Option<String>> {
    let Some(decl) = key_decl(cx, key_decl_name) else {
        return Err(Error::State(format!(
            "no kms-key named \"{key_decl_name}\" is declared"
        )));
    };
    let alias = alias_of(cx, key_decl_name);
    let kms = cx
        .aws
        .kms(&cx.account_of(decl), &cx.region_of(decl))
        .await?;
    let Some(meta) = describe(&kms, &alias).await? else {
        return Ok(None);
    };
    if matches!(
        meta.key_state(),
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    ) {
        return Ok(None);
    }
    Ok(meta.arn().map(str::to_string))
}

/// DescribeKey, `None` when the alias or key does not exist.
async fn describe(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
) -> provider::Result<Option<KeyMetadata>> {
    let out = kms
        .describe_key()
        .key_id(key_id)
        .send()
        .await
        .absent_on("kms:DescribeKey", &["NotFoundException"])?;
    Ok(out.and_then(|o| o.key_metadata))
}

/// Rotation as the attributes show it: (on, period in days when on).
pub(crate) async fn rotation_status(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
) -> provider::Result<(bool, Option<i32>)> {
    let out = kms
        .get_key_rotation_status()
        .key_id(key_id)
        .send()
        .await
        .ctx("kms:GetKeyRotationStatus")?;
    let on = out.key_rotation_enabled();
    Ok((on, out.rotation_period_in_days().filter(|_| on)))
}

fn attrs(k: &KmsKey) -> Attrs {
    let mut a = Attrs::new();
    if let Some(d) = &k.description {
        a.insert("description".into(), json!(d.value));
    }
    a.insert("enabled".into(), json!(true));
    a.insert("rotation".into(), json!(k.rotation));
    // KMS reports no period while rotation is off.
    a.insert(
        "rotation-period-days".into(),
        json!(k.rotation.then_some(k.rotation_period_days)),
    );
    a
}

/// The key policy: the owning account keeps full control through IAM; CloudTrail (trails
/// of the management account) and Config may encrypt with the key and describe it.
fn key_policy(cx: &Ctx<'_>, account_id: &str, region: &str) -> String {
    let p = partition(region);
    let management = &cx.org.management_account_id;
    json!({
        "Version": "2012-10-17",
        "Id": "baseline-log-key",
        "Statement": [
            {
                "Sid": "AccountAdministersKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": format!("arn:{p}:iam::{account_id}:root")},
                "Action": "kms:*",
                "Resource": "*"
            },
            {
                "Sid": "CloudTrailEncryptsLogs",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {"StringLike": {
                    "kms:EncryptionContext:aws:cloudtrail:arn":
                        format!("arn:{p}:cloudtrail:*:{management}:trail/*")
                }}
            },
            {
                "Sid": "CloudTrailDescribesKey",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "kms:DescribeKey",
                "Resource": "*"
            },
            {
                "Sid": "ConfigEncryptsDeliveries",
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                "Resource": "*"
            }
        ]
    })
    .to_string()
}

#[async_trait]
impl Provider for KmsKeyProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        spec_of::<KmsKey>(cx.decl(inst)).map_or_else(Attrs::new, attrs)
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let Some(spec) = spec_of::<KmsKey>(cx.decl(inst)) else {
            return Ok(Observed::absent());
        };
        let Some(alias) = &spec.alias else {
            return Ok(Observed::absent());
        };
        let kms = cx.aws.kms(&inst.account_id, &inst.region).await?;
        let Some(meta) = describe(&kms, &alias.value).await? else {
            return Ok(Observed::absent());
        };
        let key_id = meta.key_id().to_string();
        if matches!(
            meta.key_state(),
            Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
        ) {
            return Err(Error::State(format!(
                "{} points at key {key_id}, which is pending deletion: cancel the \
                 deletion (kms:CancelKeyDeletion, then kms:EnableKey) to keep it, or \
                 delete the alias (kms:DeleteAlias) to have baseline create a new key",
                alias.value
            )));
        }
        if meta.key_manager() != Some(&KeyManagerType::Customer) {
            return Err(Error::State(format!(
                "{} points at an AWS-managed key; baseline manages customer-managed keys",
                alias.value
            )));
        }
        if meta.key_spec() != Some(&KeySpec::SymmetricDefault) {
            return Err(Error::State(format!(
                "{} points at key {key_id} of spec {}; log encryption and automatic \
                 rotation need a symmetric (SYMMETRIC_DEFAULT) key",
                alias.value,
                meta.key_spec().map_or("unknown", |s| s.as_str())
            )));
        }
        let (rotation, period) = rotation_status(&kms, &key_id).await?;
        let tags = kms
            .list_resource_tags()
            .key_id(&key_id)
            .send()
            .await
            .ctx("kms:ListResourceTags")?;
        let managed = tags
            .tags()
            .iter()
            .any(|t| is_managed_tag(t.tag_key(), t.tag_value()));
        let mut live = Attrs::new();
        live.insert(
            "description".into(),
            json!(meta.description().unwrap_or_default()),
        );
        live.insert(
            "enabled".into(),
            json!(meta.key_state() == Some(&KeyState::Enabled)),
        );
        live.insert("rotation".into(), json!(rotation));
        live.insert("rotation-period-days".into(), json!(period));
        let mut ids = Attrs::new();
        ids.insert("key-id".into(), json!(key_id));
        ids.insert("arn".into(), json!(meta.arn().unwrap_or_default()));
        Ok(Observed::present(live, ids, Some(managed)))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<KmsKey>(cx.decl(inst)) else {
            return Ok(());
        };
        let Some(alias) = &spec.alias else {
            return Ok(());
        };
        let kms = cx.aws.kms(&inst.account_id, &inst.region).await?;
        let managed_tag = Tag::builder()
            .tag_key(MANAGED_TAG_KEY)
            .tag_value(MANAGED_TAG_VALUE)
            .build()
            .map_err(|e| Error::State(format!("kms tag: {e}")))?;
        if change.action == Action::Create {
            let created = kms
                .create_key()
                .key_spec(KeySpec::SymmetricDefault)
                .key_usage(KeyUsageType::EncryptDecrypt)
                .set_description(spec.description.as_ref().map(|d| d.value.clone()))
                .policy(key_policy(cx, &inst.account_id, &inst.region))
                .tags(managed_tag)
                .send()
                .await
                .ctx("kms:CreateKey")?;
            let key_id = created
                .key_metadata()
                .map(|m| m.key_id().to_string())
                .ok_or_else(|| Error::State("kms:CreateKey returned no key".into()))?;
            kms.create_alias()
                .alias_name(&alias.value)
                .target_key_id(&key_id)
                .send()
                .await
                .ctx("kms:CreateAlias")?;
            if spec.rotation {
                enable_rotation(&kms, &key_id, spec.rotation_period_days).await?;
            }
            return Ok(());
        }
        let key_id = change
            .id("key-id")
            .ok_or_else(|| Error::State(format!("{}: no key id was read", alias.value)))?;
        if change.action == Action::Adopt {
            kms.tag_resource()
                .key_id(key_id)
                .tags(managed_tag)
                .send()
                .await
                .ctx("kms:TagResource")?;
        }
        if change.changes("enabled") {
            kms.enable_key()
                .key_id(key_id)
                .send()
                .await
                .ctx("kms:EnableKey")?;
        }
        if change.changes("description") {
            kms.update_key_description()
                .key_id(key_id)
                .description(spec.description.as_ref().map_or("", |d| d.value.as_str()))
                .send()
                .await
                .ctx("kms:UpdateKeyDescription")?;
        }
        if change.changes("rotation") || change.changes("rotation-period-days") {
            if spec.rotation {
                enable_rotation(&kms, key_id, spec.rotation_period_days).await?;
            } else {
                kms.disable_key_rotation()
                    .key_id(key_id)
                    .send()
                    .await
                    .ctx("kms:DisableKeyRotation")?;
            }
        }
        Ok(())
    }
}

/// EnableKeyRotation also sets the period of a key whose rotation is already on.
pub(crate) async fn enable_rotation(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    days: u32,
) -> provider::Result<()> {
    kms.enable_key_rotation()
        .key_id(key_id)
        .rotation_period_in_days(days as i32)
        .send()
        .await
        .ctx("kms:EnableKeyRotation")?;
    Ok(())
}
