//! `kms-key`: a customer-managed KMS key, found by its alias, with rotation.

use async_trait::async_trait;
use aws_sdk_kms::types::{
    AliasListEntry, KeyListEntry, KeyManagerType, KeyMetadata, KeySpec, KeyState, KeyUsageType, Tag,
};
use serde_json::{json, Map, Value};

use super::config_recorder::deliveries_into;
use super::log_bucket;
use super::organization_trail::trails;
use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::{until_consistent, AwsError, Context};
use crate::expand::Instance;
use crate::lang::checks::check_kms_alias;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Declaration, Spec};
use crate::lang::policy::{canonical_statement, is_baseline_sid, merge_owned, owned_statements};
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
    needs_organization: false,
    parts: &[],
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
    /// `keep-policy`: the policy of a key that exists is left as it is (none of baseline's
    /// statements added); a key baseline creates still gets them.
    pub keep_policy: bool,
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
    let keep_policy = r.child_bool("keep-policy").is_some_and(|b| b.value);
    Box::new(KmsKey {
        alias,
        description,
        rotation,
        rotation_period_days,
        keep_policy,
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
/// The ARN the key's own provider read or created in this run comes first: right after a
/// key or alias is created, AWS may not resolve the alias for a moment.
pub async fn key_arn(cx: &Ctx<'_>, key_decl_name: &str) -> provider::Result<Option<String>> {
    if let Some(arn) = published_arn(cx, key_decl_name) {
        return Ok(Some(arn));
    }
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

/// The live ARN of the declared kms-key `key_decl_name`, which must exist by now (a
/// resource that is encrypted with it is being written).
pub async fn existing_key_arn(cx: &Ctx<'_>, key_decl_name: &str) -> provider::Result<String> {
    key_arn(cx, key_decl_name).await?.ok_or_else(|| {
        Error::State(format!(
            "kms-key \"{key_decl_name}\" ({}) does not exist yet",
            alias_of(cx, key_decl_name)
        ))
    })
}

/// The ARN of the declared kms-key `name` as its provider published it in this run.
fn published_arn(cx: &Ctx<'_>, name: &str) -> Option<String> {
    let out = cx.outputs.get(KIND.keyword, name)?;
    out.values.get("arn")?.as_str().map(str::to_string)
}

/// Whether this run created the declared kms-key `name` (so AWS may not know it everywhere
/// yet: services that look the key up may answer "not found" for a moment).
pub fn created_in_this_run(cx: &Ctx<'_>, name: &str) -> bool {
    cx.outputs
        .get(KIND.keyword, name)
        .is_some_and(|o| o.created)
}

fn publish_arn(cx: &Ctx<'_>, inst: &Instance, arn: &str, created: bool) {
    let mut values = Attrs::new();
    values.insert("arn".into(), json!(arn));
    cx.outputs
        .publish(KIND.keyword, &cx.decl(inst).name.value, values, created);
}

/// DescribeKey, `None` when the alias or key does not exist. An alias KMS does not resolve
/// may just have been created (KMS is eventually consistent): when ListAliases lists it, its
/// key is described until KMS finds it.
async fn describe(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
) -> provider::Result<Option<KeyMetadata>> {
    let describe = |id: String| async move {
        kms.describe_key()
            .key_id(id)
            .send()
            .await
            .ctx("kms:DescribeKey")
            .map(|o| o.key_metadata)
    };
    match describe(key_id.to_string()).await {
        Ok(meta) => return Ok(meta),
        Err(e) if !e.is("NotFoundException") => return Err(e.into()),
        Err(_) if !key_id.starts_with("alias/") => return Ok(None),
        Err(_) => {}
    }
    let listed = aliases(kms, None)
        .await?
        .into_iter()
        .find(|a| a.alias_name() == Some(key_id))
        .and_then(|a| a.target_key_id);
    match listed {
        Some(target) => Ok(until_consistent(
            |e| e.is("NotFoundException"),
            || describe(target.clone()),
        )
        .await?),
        None => Ok(None),
    }
}

/// `baseline import`: the declaration of the key `key` (an ARN, or an id or alias in
/// `account_id` / `region`), which something else import found uses, with its name; `Err`
/// says why the language cannot declare it.
pub async fn import_key(
    cx: &Ctx<'_>,
    account_id: &str,
    region: &str,
    key: &str,
) -> provider::Result<Result<(crate::import::Found, String), String>> {
    use crate::import::{account_ref, kdl::Node, placement, Found};
    let (account_id, region) = crate::import::arn_site(key)
        .filter(|_| key.starts_with("arn:"))
        .unwrap_or_else(|| (account_id.to_string(), region.to_string()));
    if cx.org.account(&account_id).is_none() {
        return Ok(Err(format!(
            "its KMS key {key} belongs to account {account_id}, outside the organization"
        )));
    }
    let kms = cx.aws.kms(&account_id, &region).await?;
    let Some(meta) = describe(&kms, key).await? else {
        return Ok(Err(format!("its KMS key {key} does not exist")));
    };
    let key_id = meta.key_id().to_string();
    if meta.key_manager() != Some(&KeyManagerType::Customer) {
        return Ok(Err(format!(
            "it uses the AWS managed key {key}, and the language declares customer-managed keys"
        )));
    }
    if meta.key_spec() != Some(&KeySpec::SymmetricDefault) {
        return Ok(Err(format!("its KMS key {key_id} is not symmetric")));
    }
    if matches!(
        meta.key_state(),
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    ) {
        return Ok(Err(format!("its KMS key {key_id} is pending deletion")));
    }
    let mut aliases: Vec<String> = aliases(&kms, Some(key_id.as_str()))
        .await?
        .into_iter()
        .filter_map(|a| a.alias_name)
        .filter(|a| check_kms_alias(a).is_ok())
        .collect();
    aliases.sort();
    let Some(alias) = aliases.first() else {
        return Ok(Err(format!(
            "its KMS key {key_id} (account {}) has no alias, and baseline finds keys by alias",
            account_ref(cx.org, &account_id)
        )));
    };
    let name = alias.trim_start_matches("alias/").replace('/', "-");
    let mut node = Node::new(KIND.keyword)
        .arg(&name)
        .comment(format!("KMS key {}", meta.arn().unwrap_or(&key_id)))
        .children(placement(cx, &account_id, &region))
        .child(Node::new("alias").arg(alias));
    if let Some(d) = meta.description().filter(|d| !d.is_empty()) {
        node = node.child(Node::new("description").arg(d));
    }
    let (rotation, period) = rotation_status(&kms, &key_id).await?;
    let period = period.and_then(|p| u32::try_from(p).ok());
    if !rotation {
        node = node.child(Node::new("rotation").arg(false));
    } else if let Some(p) = period.filter(|p| *p != DEFAULT_ROTATION_DAYS) {
        node = node.child(Node::new("rotation").prop("period-days", p));
    }
    // A policy that already lets its trail use the key is kept as it is, so that the
    // import plans clean; the note says what removing `keep-policy` adds.
    let policy = live_policy(&kms, &key_id).await?;
    let keep_policy = policy
        .as_ref()
        .is_none_or(|p| owned_statements(p, is_baseline_sid).is_empty());
    if keep_policy {
        node = node.child(Node::new("keep-policy"));
    }
    let mut found = Found::new(node);
    if meta.key_state() != Some(&KeyState::Enabled) {
        found
            .notes
            .push("the key is disabled: apply enables it".to_string());
    }
    if keep_policy {
        found.notes.push(
            "its key policy has none of baseline's statements and is kept as it is \
             (keep-policy); without keep-policy the plan adds them (the services of the \
             declared trail, bucket or log group may use the key, each limited to baseline's \
             resources) and keeps the statements it has"
                .to_string(),
        );
    }
    Ok(Ok((found, name)))
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

/// The policy a new key starts with: AWS's default key policy, which lets the owning
/// account control the key through IAM. It is not baseline's to manage afterwards (only the
/// `Baseline*` statements are), and it keeps KMS's lockout check satisfied.
fn default_policy(cx: &Ctx<'_>, account_id: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:{}:iam::{account_id}:root", cx.aws.partition)},
            "Action": "kms:*",
            "Resource": "*"
        }]
    })
}

/// The statements baseline owns in the key policy of the declared key `name`: what the
/// services the baseline points at this key need, and no more. Each is limited to the
/// baseline's own resources (`aws:SourceArn`, `aws:SourceAccount`) so that no other trail or
/// organization can have the service use the key (the confused-deputy problem). Following
/// the CloudTrail user guide ("Configure AWS KMS key policies for CloudTrail") and the
/// Config developer guide ("Permissions for the KMS key").
pub fn key_statements(cx: &Ctx<'_>, name: &str) -> Map<String, Value> {
    let p = &cx.aws.partition;
    let management = &cx.org.management_account_id;
    let mut statements = Map::new();
    let trails = trails(cx, |t| t.kms_key.as_ref().is_some_and(|k| k.value == name));
    if !trails.is_empty() {
        let arns: Vec<&str> = trails.iter().map(|t| t.arn.as_str()).collect();
        let cloudtrail = json!({"Service": "cloudtrail.amazonaws.com"});
        statements.insert(
            "BaselineCloudTrailEncryptLogs".into(),
            json!({
                "Effect": "Allow",
                "Principal": cloudtrail,
                "Action": "kms:GenerateDataKey*",
                "Resource": "*",
                "Condition": {
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn":
                            format!("arn:{p}:cloudtrail:*:{management}:trail/*")
                    },
                    "StringEquals": {"aws:SourceArn": arns}
                }
            }),
        );
        statements.insert(
            "BaselineCloudTrailDescribeKey".into(),
            json!({
                "Effect": "Allow",
                "Principal": cloudtrail,
                "Action": "kms:DescribeKey",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceArn": arns}}
            }),
        );
        // A trail writing into a bucket whose S3 Bucket Key is this very key: S3 asks KMS
        // on CloudTrail's behalf with the bucket as encryption context, and CloudTrail
        // needs kms:Decrypt to create or update the trail at all.
        let into_own_bucket: Vec<&str> = trails
            .iter()
            .filter(|t| {
                t.spec
                    .bucket
                    .as_ref()
                    .and_then(|b| cx.baseline.find(log_bucket::KIND.keyword, &b.value))
                    .and_then(spec_of::<log_bucket::LogBucket>)
                    .and_then(|b| b.kms_key.as_ref())
                    .is_some_and(|k| k.value == name)
            })
            .map(|t| t.arn.as_str())
            .collect();
        if !into_own_bucket.is_empty() {
            statements.insert(
                "BaselineCloudTrailBucketKey".into(),
                json!({
                    "Effect": "Allow",
                    "Principal": cloudtrail,
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceArn": into_own_bucket}}
                }),
            );
        }
    }
    let config_delivers_here = cx
        .baseline
        .declarations
        .iter()
        .filter(|d| std::ptr::eq(d.kind, &log_bucket::KIND))
        .filter(|d| {
            spec_of::<log_bucket::LogBucket>(d)
                .and_then(|b| b.kms_key.as_ref())
                .is_some_and(|k| k.value == name)
        })
        .any(|d| !deliveries_into(cx, &d.name.value).is_empty());
    if config_delivers_here {
        statements.insert(
            "BaselineConfigEncryptDeliveries".into(),
            json!({
                "Effect": "Allow",
                "Principal": {"Service": "config.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
                "Condition": {"StringEquals": config_source_condition(cx)}
            }),
        );
    }
    statements.extend(super::log_group::key_statements(cx, name));
    statements.extend(super::alert_topic::key_statements(cx, name));
    statements
        .into_iter()
        .map(|(sid, st)| (sid, canonical_statement(&st)))
        .collect()
}

/// The condition that limits AWS Config's service principal to the organization's own
/// accounts. In an organization: `aws:SourceOrgID`, which IAM adds to every call a service
/// principal makes on behalf of a resource of a member account ("AWS global condition
/// context keys"). It stays one line however many accounts there are, and needs no
/// change when an account joins. A list of every account in `aws:SourceAccount` took 15
/// bytes an account in each of three bucket statements: at about 440 accounts it passed
/// S3's 20 KB bucket-policy limit. (The Config guide's note that its principal "won't work
/// with organization ID ... based conditions" is about `aws:PrincipalOrgID`: Config's
/// principal is in no organization.) Without an organization: the one account.
pub fn config_source_condition(cx: &Ctx<'_>) -> Value {
    match &cx.org.organization_id {
        Some(org) => json!({"aws:SourceOrgID": org}),
        None => json!({"aws:SourceAccount": cx.org.management_account_id}),
    }
}

/// The key policy as AWS has it, parsed (`None` when it is not JSON, which no key policy
/// AWS accepted can be).
async fn live_policy(kms: &aws_sdk_kms::Client, key_id: &str) -> provider::Result<Option<Value>> {
    let out = kms
        .get_key_policy()
        .key_id(key_id)
        .policy_name("default")
        .send()
        .await
        .ctx("kms:GetKeyPolicy")?;
    Ok(out.policy().and_then(|p| serde_json::from_str(p).ok()))
}

#[async_trait]
impl Provider for KmsKeyProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        let Some(spec) = spec_of::<KmsKey>(cx.decl(inst)) else {
            return Attrs::new();
        };
        let mut a = attrs(spec);
        if !spec.keep_policy {
            a.insert(
                "policy".into(),
                Value::Object(key_statements(cx, &cx.decl(inst).name.value)),
            );
        }
        a
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
        let tags = key_tags(&kms, &key_id).await?;
        let managed = tags
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
        // Only baseline's own statements are compared: what others put into the policy is
        // theirs.
        if !spec.keep_policy {
            let policy = live_policy(&kms, &key_id).await?;
            live.insert(
                "policy".into(),
                Value::Object(
                    policy
                        .as_ref()
                        .map(|p| owned_statements(p, is_baseline_sid))
                        .unwrap_or_default(),
                ),
            );
        }
        let arn = meta.arn().unwrap_or_default().to_string();
        publish_arn(cx, inst, &arn, false);
        let mut ids = Attrs::new();
        ids.insert("key-id".into(), json!(key_id));
        ids.insert("arn".into(), json!(arn));
        // A key another tool deployed (by its alias or tags) is theirs.
        let owner = crate::coexist::owner_of(
            alias.value.trim_start_matches("alias/"),
            tags.iter().map(|t| (t.tag_key(), t.tag_value())),
        );
        Ok(Observed::present(live, ids, Some(managed)).owned_by(owner))
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
        let wanted = key_statements(cx, &cx.decl(inst).name.value);
        if change.action == Action::Create {
            let policy = merge_owned(
                Some(&default_policy(cx, &inst.account_id)),
                is_baseline_sid,
                &wanted,
            );
            let request = kms
                .create_key()
                .key_spec(KeySpec::SymmetricDefault)
                .key_usage(KeyUsageType::EncryptDecrypt)
                .set_description(spec.description.as_ref().map(|d| d.value.clone()))
                .policy(policy.to_string())
                .tags(managed_tag);
            let made = create_key_once(&kms, request, &inst.account_id, &alias.value).await?;
            let key_id = made.key_id().unwrap_or_default().to_string();
            // Dependents get the ARN from here: the alias may not resolve for a moment.
            if let Some(arn) = made.key_arn() {
                publish_arn(cx, inst, arn, true);
            }
            // KMS may not find a key it has just created for a moment (NotFoundException
            // on the key id); any other error is real.
            let aliased = until_consistent(
                |e| e.is("NotFoundException"),
                || async {
                    kms.create_alias()
                        .alias_name(&alias.value)
                        .target_key_id(&key_id)
                        .send()
                        .await
                        .ctx("kms:CreateAlias")
                },
            )
            .await;
            match aliased {
                Ok(_) => {}
                // No idempotency token: after a lost answer, the SDK's retry finds the
                // alias made. It is this call's if it names this new key.
                Err(e)
                    if e.is("AlreadyExistsException")
                        && alias_names_key(&kms, &alias.value, &key_id).await? => {}
                Err(e) => return Err(e.into()),
            }
            if spec.rotation {
                until_consistent(
                    |e| e.is("NotFoundException"),
                    || enable_rotation(&kms, &key_id, spec.rotation_period_days),
                )
                .await?;
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
        if change.changes("policy") {
            // Merged into the policy as it is now, so that a statement another producer
            // added since the plan is kept too.
            let live = live_policy(&kms, key_id).await?;
            let policy = merge_owned(live.as_ref(), is_baseline_sid, &wanted);
            kms.put_key_policy()
                .key_id(key_id)
                .policy_name("default")
                .policy(policy.to_string())
                .send()
                .await
                .ctx("kms:PutKeyPolicy")?;
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

/// The tag that names one CreateKey call, so that the key it made can be found when its
/// answer is lost.
const CREATION_TAG_KEY: &str = "baseline:creation-token";

/// CreateKey, making at most one key per call. CreateKey takes no idempotency token: the
/// SDK's retry after a lost answer (a dropped connection, a timeout or a 5xx after KMS made
/// the key) would make a second key. So the SDK does not retry this call. Each attempt
/// carries a token of this call as a tag, and before a retry that may follow a made key,
/// the account's keys are searched for that token. A throttled attempt made nothing and
/// is simply retried. Returns the key's id and ARN.
async fn create_key_once(
    kms: &aws_sdk_kms::Client,
    request: aws_sdk_kms::operation::create_key::builders::CreateKeyFluentBuilder,
    account_id: &str,
    alias: &str,
) -> provider::Result<KeyListEntry> {
    use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
    let token = crate::changelog::sha256_hex(
        format!(
            "{account_id} {alias} {:?} {}",
            std::time::SystemTime::now(),
            std::process::id()
        )
        .as_bytes(),
    )[..32]
        .to_string();
    let tag = Tag::builder()
        .tag_key(CREATION_TAG_KEY)
        .tag_value(&token)
        .build()
        .map_err(|e| Error::State(format!("kms tag: {e}")))?;
    let request = request.tags(tag);
    let mut backoff = crate::aws::Backoff::default();
    loop {
        let sent = request
            .clone()
            .customize()
            .config_override(
                aws_sdk_kms::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await;
        let e = match sent {
            Ok(out) => {
                let meta = out
                    .key_metadata
                    .ok_or_else(|| Error::State("kms:CreateKey returned no key".into()))?;
                return Ok(KeyListEntry::builder()
                    .key_id(meta.key_id)
                    .set_key_arn(meta.arn)
                    .build());
            }
            Err(e) => e,
        };
        let maybe_made = matches!(
            e,
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_)
        ) || e
            .raw_response()
            .is_some_and(|r| r.status().is_server_error());
        let throttled = matches!(&e, SdkError::ServiceError(s)
            if s.err().code().is_some_and(crate::aws::is_throttling_code));
        let error = AwsError::from_sdk("kms:CreateKey", e);
        if !maybe_made && !throttled {
            return Err(error.into());
        }
        if maybe_made {
            if let Some(made) = key_with_token(kms, &token).await? {
                return Ok(made);
            }
        }
        if !backoff.wait().await {
            return Err(error.into());
        }
    }
}

/// Every key of the client's account and region.
pub(crate) async fn all_keys(kms: &aws_sdk_kms::Client) -> provider::Result<Vec<KeyListEntry>> {
    Ok(kms
        .list_keys()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .ctx("kms:ListKeys")?)
}

/// The aliases of the client's account and region, or only those of the key `key_id`.
pub(crate) async fn aliases(
    kms: &aws_sdk_kms::Client,
    key_id: Option<&str>,
) -> provider::Result<Vec<AliasListEntry>> {
    Ok(kms
        .list_aliases()
        .set_key_id(key_id.map(str::to_string))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .ctx("kms:ListAliases")?)
}

/// The key of this account and region whose creation token is `token`.
async fn key_with_token(
    kms: &aws_sdk_kms::Client,
    token: &str,
) -> provider::Result<Option<KeyListEntry>> {
    for key in all_keys(kms).await? {
        let Some(id) = key.key_id() else { continue };
        // A key KMS lists may not be found for a moment after it was made, which is when
        // this search runs: that is waited out.
        let tags = until_consistent(|e| e.is("NotFoundException"), || key_tags(kms, id)).await;
        let tags = match tags {
            Err(e) if e.is("AccessDeniedException") => continue,
            other => other?,
        };
        if tags
            .iter()
            .any(|t| t.tag_key() == CREATION_TAG_KEY && t.tag_value() == token)
        {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// The tags of the key `key_id`.
async fn key_tags(kms: &aws_sdk_kms::Client, key_id: &str) -> Result<Vec<Tag>, AwsError> {
    Ok(kms
        .list_resource_tags()
        .key_id(key_id)
        .send()
        .await
        .ctx("kms:ListResourceTags")?
        .tags
        .unwrap_or_default())
}

/// Whether the alias `alias` names the key `key_id`.
async fn alias_names_key(
    kms: &aws_sdk_kms::Client,
    alias: &str,
    key_id: &str,
) -> provider::Result<bool> {
    let aliases: Vec<_> = aliases(kms, Some(key_id)).await?;
    Ok(aliases.iter().any(|a| a.alias_name() == Some(alias)))
}

/// EnableKeyRotation also sets the period of a key whose rotation is already on.
pub(crate) async fn enable_rotation(
    kms: &aws_sdk_kms::Client,
    key_id: &str,
    days: u32,
) -> Result<(), AwsError> {
    kms.enable_key_rotation()
        .key_id(key_id)
        .rotation_period_in_days(days as i32)
        .send()
        .await
        .ctx("kms:EnableKeyRotation")?;
    Ok(())
}
