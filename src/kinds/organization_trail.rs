//! `organization-trail`: a CloudTrail trail that logs every account of the organization,
//! optionally also delivering to a declared CloudWatch Logs log group (which the metric
//! filters of CIS AWS Foundations v3.0 section 4 watch), through an IAM role baseline keeps.

use async_trait::async_trait;
use aws_sdk_cloudtrail::types::Tag;
use serde_json::{json, Value};

use super::kms_key::{alias_of, created_in_this_run, existing_key_arn, key_arn};
use super::log_bucket::bucket_name_of;
use super::organization::trusted_services;
use super::{spec_of, Kind, Naming, Placing};
use crate::aws::{until_consistent, AwsError, Context};
use crate::expand::Instance;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Baseline, Declaration, Placement, Reference, Spec};
use crate::lang::reader::{Cx, NodeReader};
use crate::lang::source::Spanned;
use crate::provider::{
    self, is_managed_tag, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider,
    MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "organization-trail",
    summary: "an organization CloudTrail trail writing to a declared log bucket",
    naming: Naming::Required,
    placing: Placing::Single,
    regional: true,
    nests: false,
    needs_organization: true,
    parts: &[],
    parse,
    check_all: check_in_management_account,
    provider: Some(&OrganizationTrailProvider),
};

#[derive(Debug, Clone)]
pub struct OrganizationTrail {
    pub bucket: Option<Spanned<String>>,
    pub kms_key: Option<Spanned<String>>,
    pub s3_key_prefix: Option<Spanned<String>>,
    /// The declared log-group the trail also delivers to.
    pub cloudwatch_logs: Option<Spanned<String>>,
    pub multi_region: bool,
    pub log_file_validation: bool,
    pub logging: bool,
}

impl Spec for OrganizationTrail {
    fn references(&self) -> Vec<Reference> {
        let bucket = self.bucket.iter().map(|b| Reference::new("log-bucket", b));
        bucket
            .chain(self.kms_key.iter().map(|k| Reference::new("kms-key", k)))
            .chain(
                self.cloudwatch_logs
                    .iter()
                    .map(|g| Reference::new("log-group", g)),
            )
            .collect()
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    let valid = (3..=128).contains(&name.value.len())
        && name.value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !valid {
        r.report(
            Problem::new("baseline::invalid-value", name.span, format!("\"{}\" is not a valid trail name", name.value))
                .label("invalid trail name")
                .help("a trail name has 3 to 128 letters, digits, `.`, `_` or `-`, and starts with a letter or digit"),
        );
    }
    let bucket = r.child_str("bucket", "the name of a declared log-bucket");
    let bucket = r.require(bucket, "bucket", "bucket \"org-trail-logs\"");
    let kms_key = r.child_str("kms-key", "the name of a declared kms-key");
    let s3_key_prefix = r.child_str("s3-key-prefix", "a key prefix");
    let cloudwatch_logs = r.child_str("cloudwatch-logs", "the name of a declared log-group");
    let flag = |r: &mut NodeReader, n| r.child_bool(n).is_none_or(|b| b.value);
    let multi_region = flag(r, "multi-region");
    let log_file_validation = flag(r, "log-file-validation");
    let logging = flag(r, "logging");
    Box::new(OrganizationTrail {
        bucket,
        kms_key,
        s3_key_prefix,
        cloudwatch_logs,
        multi_region,
        log_file_validation,
        logging,
    })
}

/// An organization trail is created by the organization's management account: CloudTrail
/// refuses it elsewhere (NotOrganizationMasterAccountException, CreateTrail).
fn check_in_management_account(_: &Baseline, decls: &[&Declaration], cx: &Cx) {
    for decl in decls {
        if let Placement::Single {
            account: Some(account),
            ..
        } = &decl.placement
        {
            cx.report(
                Problem::new(
                    "baseline::invalid-placement",
                    account.span,
                    "an organization trail lives in the management account",
                )
                .label("not an account of its own")
                .help(
                    "remove `account`: the trail is created by the management account, and its \
                     bucket and key may live in another account (log-archive)",
                ),
            );
        }
    }
}

// --- AWS -------------------------------------------------------------------------------

/// The organization trail, by name, in its home region. Tagged at creation; an untagged
/// trail with the declared name is adopted; never deleted by baseline.
pub struct OrganizationTrailProvider;

/// A declared trail that writes into a log bucket or encrypts with a key, as the bucket and
/// key policies need it.
pub struct TrailUse<'a> {
    /// `arn:PARTITION:cloudtrail:HOME:MANAGEMENT:trail/NAME`: the `aws:SourceArn` CloudTrail
    /// sends, against which bucket and key policies limit what CloudTrail may do.
    pub arn: String,
    pub spec: &'a OrganizationTrail,
}

/// Every declared organization trail `keep` accepts.
pub fn trails<'a>(cx: &Ctx<'a>, keep: impl Fn(&OrganizationTrail) -> bool) -> Vec<TrailUse<'a>> {
    cx.baseline
        .declarations
        .iter()
        .filter(|d| std::ptr::eq(d.kind, &KIND))
        .filter_map(|d| {
            let spec = spec_of::<OrganizationTrail>(d).filter(|t| keep(t))?;
            Some(TrailUse {
                arn: format!(
                    "arn:{}:cloudtrail:{}:{}:trail/{}",
                    cx.aws.partition,
                    cx.region_of(d),
                    cx.org.management_account_id,
                    d.name.value
                ),
                spec,
            })
        })
        .collect()
}

/// CloudTrail creates an organization trail only with trusted access for
/// `cloudtrail.amazonaws.com` enabled in Organizations, which the console turns on by itself
/// and the API does not (CloudTrail user guide, "Prepare for creating a trail for your
/// organization"; CloudTrailAccessNotEnabledException). Checked at plan time: enabled now,
/// or declared in `organization { trusted-services }` (applied before the trail).
async fn require_trusted_access(cx: &Ctx<'_>) -> provider::Result<()> {
    let declared = cx
        .baseline
        .declarations
        .iter()
        .filter_map(spec_of::<super::organization::Organization>)
        .any(|o| {
            o.trusted_services
                .iter()
                .any(|s| s.value == CLOUDTRAIL_PRINCIPAL)
        });
    if declared || trusted_services(cx).await?.contains(CLOUDTRAIL_PRINCIPAL) {
        return Ok(());
    }
    Err(Error::State(format!(
        "trusted access for {CLOUDTRAIL_PRINCIPAL} is not enabled in the organization, and \
         CloudTrail refuses to create an organization trail without it; declare \
         `organization {{ trusted-services \"{CLOUDTRAIL_PRINCIPAL}\" }}`"
    )))
}

const CLOUDTRAIL_PRINCIPAL: &str = "cloudtrail.amazonaws.com";

/// Attributes that UpdateTrail sets (all of them at once).
const SETTINGS: &[&str] = &[
    "bucket",
    "s3-key-prefix",
    "kms-key",
    "multi-region",
    "global-service-events",
    "log-file-validation",
    "organization-trail",
    CLOUDWATCH_LOGS,
];

const CLOUDWATCH_LOGS: &str = "cloudwatch-logs";
const DELIVERY_ROLE_ATTR: &str = "cloudwatch-logs-role";
/// The role CloudTrail assumes to write into the log group, in the management account.
pub const DELIVERY_ROLE: &str = "baseline-cloudtrail-to-cloudwatch-logs";
/// Its inline policy, baseline's alone.
const DELIVERY_POLICY: &str = "cloudwatch-logs-delivery";

fn attrs(cx: &Ctx<'_>, t: &OrganizationTrail) -> Attrs {
    let mut a = Attrs::new();
    a.insert(
        "bucket".into(),
        json!(t.bucket.as_ref().map(|b| bucket_name_of(cx, &b.value))),
    );
    a.insert(
        "s3-key-prefix".into(),
        json!(t.s3_key_prefix.as_ref().map(|p| &p.value)),
    );
    a.insert(
        "kms-key".into(),
        json!(t.kms_key.as_ref().map(|k| alias_of(cx, &k.value))),
    );
    a.insert("multi-region".into(), json!(t.multi_region));
    // Global services (IAM, STS, CloudFront) log only to trails that include them.
    a.insert("global-service-events".into(), json!(true));
    a.insert("log-file-validation".into(), json!(t.log_file_validation));
    a.insert("organization-trail".into(), json!(true));
    a.insert("logging".into(), json!(t.logging));
    // Compared only when declared: a delivery someone else set up on an undeclared trail
    // attribute is theirs, and a declaration that drops it leaves it running.
    if let Some((name, arn)) = delivery_group(cx, t) {
        a.insert(CLOUDWATCH_LOGS.into(), json!(name));
        a.insert(DELIVERY_ROLE_ATTR.into(), delivery_policy(&arn));
    }
    a
}

/// The log group the trail delivers to: (name, ARN).
fn delivery_group(cx: &Ctx<'_>, t: &OrganizationTrail) -> Option<(String, String)> {
    let decl = &t.cloudwatch_logs.as_ref()?.value;
    let (name, account, region) = super::log_group::placed(cx, decl)?;
    let arn = super::log_group::arn(&cx.aws.partition, &region, &account, &name);
    Some((name, arn))
}

/// What the delivery role lets CloudTrail do: create streams in the log group and put
/// events into them (CloudTrail user guide, "Role policy document for CloudTrail to use
/// CloudWatch Logs for monitoring").
fn delivery_policy(group_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "BaselineCloudTrailDelivery",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": format!("{group_arn}:log-stream:*")
        }]
    })
}

/// The delivery role's inline policy as IAM has it (`null` without the role or policy).
async fn live_delivery_policy(iam: &aws_sdk_iam::Client) -> provider::Result<Value> {
    let out = iam
        .get_role_policy()
        .role_name(DELIVERY_ROLE)
        .policy_name(DELIVERY_POLICY)
        .send()
        .await
        .absent_on("iam:GetRolePolicy", &["NoSuchEntity"])?;
    Ok(out
        .and_then(|o| crate::iam::decode_policy(o.policy_document()))
        .unwrap_or(Value::Null))
}

/// Make the delivery role trust CloudTrail and allow writing into `group_arn`; its ARN.
/// Returns whether the role was created now (IAM may not have it everywhere yet).
async fn ensure_delivery_role(
    iam: &aws_sdk_iam::Client,
    group_arn: &str,
) -> provider::Result<(String, bool)> {
    let existing = iam
        .get_role()
        .role_name(DELIVERY_ROLE)
        .send()
        .await
        .absent_on("iam:GetRole", &["NoSuchEntity"])?
        .and_then(|r| r.role);
    let (arn, created) = match existing {
        Some(role) => (role.arn, false),
        None => {
            let trust = json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "BaselineTrustsCloudTrail",
                    "Effect": "Allow",
                    "Principal": {"Service": CLOUDTRAIL_PRINCIPAL},
                    "Action": "sts:AssumeRole"
                }]
            });
            let role = crate::iam::create_role(
                iam,
                DELIVERY_ROLE,
                None,
                "Lets CloudTrail deliver to CloudWatch Logs (managed by baseline)",
                &trust,
            )
            .await?;
            (role.arn, true)
        }
    };
    until_consistent(
        |e| created && e.is("NoSuchEntity"),
        || async {
            iam.put_role_policy()
                .role_name(DELIVERY_ROLE)
                .policy_name(DELIVERY_POLICY)
                .policy_document(delivery_policy(group_arn).to_string())
                .send()
                .await
                .ctx("iam:PutRolePolicy")
        },
    )
    .await?;
    Ok((arn, created))
}

/// The ARN of the trail's declared key, which must exist by the time the trail is written.
async fn declared_key_arn(cx: &Ctx<'_>, t: &OrganizationTrail) -> provider::Result<Option<String>> {
    match &t.kms_key {
        None => Ok(None),
        Some(k) => Ok(Some(existing_key_arn(cx, &k.value).await?)),
    }
}

fn managed_tag() -> provider::Result<Tag> {
    Tag::builder()
        .key(MANAGED_TAG_KEY)
        .value(MANAGED_TAG_VALUE)
        .build()
        .map_err(|e| Error::State(format!("cloudtrail tag: {e}")))
}

/// `baseline import`: the organization trails whose home is `region` (in the management
/// account), each with its bucket and key; other tools' trails and trails of one account
/// are left out, with why.
async fn import_trails(
    cx: &Ctx<'_>,
    region: &str,
    lookups: &crate::import::Lookups,
) -> provider::Result<crate::import::Imported> {
    use crate::import::{kdl::Node, placement, Found, Imported, Skipped};
    let mut out = Imported::default();
    let management = &cx.org.management_account_id;
    let ct = cx.aws.cloudtrail(management, region).await?;
    let described = ct
        .describe_trails()
        .include_shadow_trails(false)
        .send()
        .await
        .ctx("cloudtrail:DescribeTrails")?;
    let mut trails: Vec<_> = described
        .trail_list()
        .iter()
        .filter(|t| t.home_region().is_none_or(|h| h == region))
        .collect();
    trails.sort_by(|a, b| a.name().cmp(&b.name()));
    for trail in trails {
        let name = trail.name().unwrap_or_default();
        let arn = trail.trail_arn().unwrap_or_default();
        let what = format!("{} \"{name}\" ({arn})", KIND.keyword);
        let tags = ct
            .list_tags()
            .resource_id_list(arn)
            .send()
            .await
            .ctx("cloudtrail:ListTags")?;
        let all_tags: Vec<(&str, &str)> = tags
            .resource_tag_list()
            .iter()
            .flat_map(|r| r.tags_list())
            .map(|t| (t.key(), t.value().unwrap_or_default()))
            .collect();
        if let Some(owner) = crate::coexist::owner_of(name, all_tags.iter().copied()) {
            out.skipped.push(Skipped {
                what,
                why: format!("managed by {owner}"),
            });
            continue;
        }
        if trail.is_organization_trail() != Some(true) {
            out.skipped.push(Skipped {
                what,
                why: "a trail of the management account alone; the language declares \
                      organization trails"
                    .to_string(),
            });
            continue;
        }
        let Some(bucket) = trail.s3_bucket_name().filter(|b| !b.is_empty()) else {
            continue;
        };
        let (mut found, bucket_decl) =
            match super::log_bucket::import_bucket(cx, lookups, bucket).await? {
                Ok(b) => b,
                Err(why) => {
                    out.skipped.push(Skipped { what, why });
                    continue;
                }
            };
        let mut node = Node::new(KIND.keyword)
            .arg(name)
            .comment(format!("CloudTrail trail {arn}"))
            .children(
                placement(cx, management, region)
                    .into_iter()
                    .filter(|n| n.name == "region"),
            )
            .child(Node::new("bucket").arg(&bucket_decl));
        if let Some(key) = trail.kms_key_id().filter(|k| !k.is_empty()) {
            match super::kms_key::import_key(cx, management, region, key).await? {
                Ok((key_found, key_name)) => {
                    node = node.child(Node::new("kms-key").arg(key_name));
                    found.push(key_found);
                }
                Err(why) => {
                    out.skipped.push(Skipped { what, why });
                    continue;
                }
            }
        }
        if let Some(prefix) = trail.s3_key_prefix().filter(|p| !p.is_empty()) {
            node = node.child(Node::new("s3-key-prefix").arg(prefix));
        }
        if trail.is_multi_region_trail() != Some(true) {
            node = node.child(Node::new("multi-region").arg(false));
        }
        if trail.log_file_validation_enabled() != Some(true) {
            node = node.child(Node::new("log-file-validation").arg(false));
        }
        let status = ct
            .get_trail_status()
            .name(arn)
            .send()
            .await
            .ctx("cloudtrail:GetTrailStatus")?;
        if status.is_logging() != Some(true) {
            node = node.child(Node::new("logging").arg(false));
        }
        let mut trail_found = Found::new(node);
        if trail.include_global_service_events() != Some(true) {
            trail_found.notes.push(
                "it does not log global service events (IAM, STS, CloudFront): the plan turns \
                 them on, as the language always has them"
                    .to_string(),
            );
        }
        if let Some(group) = trail
            .cloud_watch_logs_log_group_arn()
            .filter(|g| !g.is_empty())
        {
            trail_found.notes.push(format!(
                "it also delivers to CloudWatch Logs ({group}); that delivery is not declared, \
                 so it is left as it is (declare a log-group and `cloudwatch-logs` to manage it)"
            ));
        }
        found.push(trail_found);
        out.found.extend(found);
    }
    Ok(out)
}

#[async_trait]
impl Provider for OrganizationTrailProvider {
    async fn import(
        &self,
        cx: &Ctx<'_>,
        site: &crate::import::Site,
        lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        if site.account_id != cx.org.management_account_id {
            return Ok(None);
        }
        Ok(Some(import_trails(cx, &site.region, lookups).await?))
    }

    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        spec_of::<OrganizationTrail>(cx.decl(inst)).map_or_else(Attrs::new, |t| attrs(cx, t))
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let name = &cx.decl(inst).name.value;
        let Some(spec) = spec_of::<OrganizationTrail>(cx.decl(inst)) else {
            return Ok(Observed::absent());
        };
        let ct = cx.aws.cloudtrail(&inst.account_id, &inst.region).await?;
        let out = ct
            .get_trail()
            .name(name)
            .send()
            .await
            .absent_on("cloudtrail:GetTrail", &["TrailNotFoundException"])?;
        let Some(trail) = out.and_then(|o| o.trail) else {
            require_trusted_access(cx).await?;
            return Ok(Observed::absent());
        };
        let arn = trail.trail_arn().unwrap_or_default().to_string();
        // arn:partition:cloudtrail:REGION:account:trail/name
        let home = trail
            .home_region()
            .or_else(|| arn.split(':').nth(3))
            .unwrap_or_default();
        if home != inst.region {
            return Err(Error::State(format!(
                "trail {name} has its home in {home}, but is declared in {}; \
                 a trail is changed only in its home region",
                inst.region
            )));
        }
        let status = ct
            .get_trail_status()
            .name(&arn)
            .send()
            .await
            .ctx("cloudtrail:GetTrailStatus")?;
        let tags = ct
            .list_tags()
            .resource_id_list(&arn)
            .send()
            .await
            .ctx("cloudtrail:ListTags")?;
        let all_tags: Vec<(&str, &str)> = tags
            .resource_tag_list()
            .iter()
            .flat_map(|r| r.tags_list())
            .map(|t| (t.key(), t.value().unwrap_or_default()))
            .collect();
        let managed = all_tags.iter().any(|(k, v)| is_managed_tag(*k, *v));
        // Control Tower's trail, or one a StackSet made, is theirs: reported, not changed.
        let owner = crate::coexist::owner_of(name, all_tags.iter().copied());
        let kms = match trail.kms_key_id().filter(|k| !k.is_empty()) {
            None => Value::Null,
            Some(id) => match &spec.kms_key {
                Some(k) if key_arn(cx, &k.value).await?.as_deref() == Some(id) => {
                    json!(alias_of(cx, &k.value))
                }
                _ => json!(id),
            },
        };
        let mut live = Attrs::new();
        live.insert(
            "bucket".into(),
            json!(trail.s3_bucket_name().filter(|b| !b.is_empty())),
        );
        live.insert(
            "s3-key-prefix".into(),
            json!(trail.s3_key_prefix().filter(|p| !p.is_empty())),
        );
        live.insert("kms-key".into(), kms);
        live.insert(
            "multi-region".into(),
            json!(trail.is_multi_region_trail().unwrap_or(false)),
        );
        live.insert(
            "global-service-events".into(),
            json!(trail.include_global_service_events().unwrap_or(false)),
        );
        live.insert(
            "log-file-validation".into(),
            json!(trail.log_file_validation_enabled().unwrap_or(false)),
        );
        live.insert(
            "organization-trail".into(),
            json!(trail.is_organization_trail().unwrap_or(false)),
        );
        live.insert(
            "logging".into(),
            json!(status.is_logging().unwrap_or(false)),
        );
        // arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME:*, delivered through baseline's
        // role; through another role it is shown with that role, as a difference.
        let group = trail
            .cloud_watch_logs_log_group_arn()
            .and_then(|a| a.split_once(":log-group:"))
            .map(|(_, rest)| rest.strip_suffix(":*").unwrap_or(rest).to_string());
        let role = trail.cloud_watch_logs_role_arn().filter(|r| !r.is_empty());
        let delivery = match (group, role) {
            (Some(g), Some(r)) if crate::iam::role_name(r) != DELIVERY_ROLE => {
                json!(format!("{g} (through {r})"))
            }
            (g, _) => json!(g),
        };
        live.insert(CLOUDWATCH_LOGS.into(), delivery);
        if spec.cloudwatch_logs.is_some() {
            let iam = cx.aws.iam(&inst.account_id, &inst.region).await?;
            live.insert(DELIVERY_ROLE_ATTR.into(), live_delivery_policy(&iam).await?);
        }
        let mut ids = Attrs::new();
        ids.insert("arn".into(), json!(arn));
        let mut observed = Observed::present(live, ids, Some(managed));
        observed.owner = owner;
        Ok(observed)
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let name = cx.decl(inst).name.value.as_str();
        let Some(spec) = spec_of::<OrganizationTrail>(cx.decl(inst)) else {
            return Ok(());
        };
        let bucket = spec
            .bucket
            .as_ref()
            .map(|b| bucket_name_of(cx, &b.value))
            .ok_or_else(|| Error::State(format!("trail {name} names no bucket")))?;
        let ct = cx.aws.cloudtrail(&inst.account_id, &inst.region).await?;
        let prefix = spec.s3_key_prefix.as_ref().map(|p| p.value.clone());
        // A key this run created may not be found by CloudTrail for a moment; only then are
        // "key not found" and "key policy insufficient" waited out.
        let key_is_new = spec
            .kms_key
            .as_ref()
            .is_some_and(|k| created_in_this_run(cx, &k.value));
        let key_not_yet_visible = |e: &AwsError| {
            key_is_new
                && (e.is("KmsKeyNotFoundException")
                    || e.is("InsufficientEncryptionPolicyException"))
        };
        let delivery = match delivery_group(cx, spec) {
            Some((_, group_arn))
                if change.action == Action::Create
                    || change.changes(CLOUDWATCH_LOGS)
                    || change.changes(DELIVERY_ROLE_ATTR) =>
            {
                let iam = cx.aws.iam(&inst.account_id, &inst.region).await?;
                let (role, _) = ensure_delivery_role(&iam, &group_arn).await?;
                Some((format!("{group_arn}:*"), role))
            }
            _ => None,
        };
        // CloudTrail checks that it may assume the role and write with it: a role, or a
        // policy put on it, that IAM has not spread yet is refused for a moment, as "Access
        // denied." with either exception (as the AWS provider for Terraform also finds). The
        // role's policy was just put (ensure_delivery_role), even on a role that is not new,
        // so that refusal is waited out whenever the delivery is set.
        let delivery_refused = |e: &AwsError| {
            delivery.is_some()
                && (e.is("InvalidCloudWatchLogsRoleArnException")
                    || e.is("InvalidCloudWatchLogsLogGroupArnException"))
                && e.message.contains("Access denied.")
        };
        let (group_arn, role_arn) = delivery.clone().unzip();
        if change.action == Action::Create {
            let key = declared_key_arn(cx, spec).await?;
            let tag = managed_tag()?;
            let call = || async {
                ct.create_trail()
                    .name(name)
                    .s3_bucket_name(&bucket)
                    .set_s3_key_prefix(prefix.clone())
                    .set_kms_key_id(key.clone())
                    .is_organization_trail(true)
                    .is_multi_region_trail(spec.multi_region)
                    .include_global_service_events(true)
                    .enable_log_file_validation(spec.log_file_validation)
                    .set_cloud_watch_logs_log_group_arn(group_arn.clone())
                    .set_cloud_watch_logs_role_arn(role_arn.clone())
                    .tags_list(tag.clone())
                    .send()
                    .await
                    .ctx("cloudtrail:CreateTrail")
            };
            until_consistent(|e| delivery_refused(e) || key_not_yet_visible(e), call).await?;
            if spec.logging {
                ct.start_logging()
                    .name(name)
                    .send()
                    .await
                    .ctx("cloudtrail:StartLogging")?;
            }
            return Ok(());
        }
        let arn = change
            .id("arn")
            .ok_or_else(|| Error::State(format!("trail {name}: no ARN was read")))?;
        if change.action == Action::Adopt {
            ct.add_tags()
                .resource_id(arn)
                .tags_list(managed_tag()?)
                .send()
                .await
                .ctx("cloudtrail:AddTags")?;
        }
        if SETTINGS.iter().any(|s| change.changes(s)) || delivery.is_some() {
            // An empty prefix or key id removes it; send one only to remove what is set.
            let key = declared_key_arn(cx, spec).await?;
            let key = key.or_else(|| change.changes("kms-key").then(String::new));
            let prefix = prefix.or_else(|| change.changes("s3-key-prefix").then(String::new));
            // Absent, they leave the delivery as it is.
            let (group_arn, role_arn) = (group_arn.clone(), role_arn.clone());
            let call = || async {
                ct.update_trail()
                    .name(arn)
                    .s3_bucket_name(&bucket)
                    .set_s3_key_prefix(prefix.clone())
                    .set_kms_key_id(key.clone())
                    .is_organization_trail(true)
                    .is_multi_region_trail(spec.multi_region)
                    .include_global_service_events(true)
                    .enable_log_file_validation(spec.log_file_validation)
                    .set_cloud_watch_logs_log_group_arn(group_arn.clone())
                    .set_cloud_watch_logs_role_arn(role_arn.clone())
                    .send()
                    .await
                    .ctx("cloudtrail:UpdateTrail")
            };
            until_consistent(|e| delivery_refused(e) || key_not_yet_visible(e), call).await?;
        }
        if change.changes("logging") {
            if spec.logging {
                ct.start_logging()
                    .name(arn)
                    .send()
                    .await
                    .ctx("cloudtrail:StartLogging")?;
            } else {
                ct.stop_logging()
                    .name(arn)
                    .send()
                    .await
                    .ctx("cloudtrail:StopLogging")?;
            }
        }
        Ok(())
    }
}
