//! `organization-trail`: a CloudTrail trail that logs every account of the organization.

use async_trait::async_trait;
use aws_sdk_cloudtrail::types::Tag;
use serde_json::{json, Value};

use super::kms_key::{alias_of, key_arn};
use super::log_bucket::bucket_name_of;
use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Reference, Spec};
use crate::lang::reader::NodeReader;
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
    parse,
    check_all: no_check,
    provider: Some(&OrganizationTrailProvider),
};

#[derive(Debug, Clone)]
pub struct OrganizationTrail {
    pub bucket: Option<Spanned<String>>,
    pub kms_key: Option<Spanned<String>>,
    pub s3_key_prefix: Option<Spanned<String>>,
    pub multi_region: bool,
    pub log_file_validation: bool,
    pub logging: bool,
}

impl Spec for OrganizationTrail {
    fn references(&self) -> Vec<Reference> {
        let bucket = self.bucket.iter().map(|b| Reference::new("log-bucket", b));
        bucket
            .chain(self.kms_key.iter().map(|k| Reference::new("kms-key", k)))
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
    let flag = |r: &mut NodeReader, n| r.child_bool(n).is_none_or(|b| b.value);
    let multi_region = flag(r, "multi-region");
    let log_file_validation = flag(r, "log-file-validation");
    let logging = flag(r, "logging");
    Box::new(OrganizationTrail {
        bucket,
        kms_key,
        s3_key_prefix,
        multi_region,
        log_file_validation,
        logging,
    })
}

// --- AWS -------------------------------------------------------------------------------

/// The organization trail, by name, in its home region. Tagged at creation; an untagged
/// trail with the declared name is adopted; never deleted by baseline.
pub struct OrganizationTrailProvider;

/// Attributes that UpdateTrail sets (all of them at once).
const SETTINGS: &[&str] = &[
    "bucket",
    "s3-key-prefix",
    "kms-key",
    "multi-region",
    "global-service-events",
    "log-file-validation",
    "organization-trail",
];

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
    a
}

/// The ARN of the trail's declared key, which must exist by the time the trail is written.
async fn declared_key_arn(cx: &Ctx<'_>, t: &OrganizationTrail) -> provider::Result<Option<String>> {
    let Some(k) = &t.kms_key else {
        return Ok(None);
    };
    match key_arn(cx, &k.value).await? {
        Some(arn) => Ok(Some(arn)),
        None => Err(Error::State(format!(
            "kms-key \"{}\" ({}) does not exist yet",
            k.value,
            alias_of(cx, &k.value)
        ))),
    }
}

fn managed_tag() -> provider::Result<Tag> {
    Tag::builder()
        .key(MANAGED_TAG_KEY)
        .value(MANAGED_TAG_VALUE)
        .build()
        .map_err(|e| Error::State(format!("cloudtrail tag: {e}")))
}

#[async_trait]
impl Provider for OrganizationTrailProvider {
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
        let managed = tags.resource_tag_list().iter().any(|r| {
            r.tags_list()
                .iter()
                .any(|t| is_managed_tag(t.key(), t.value()))
        });
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
        let mut ids = Attrs::new();
        ids.insert("arn".into(), json!(arn));
        Ok(Observed::present(live, ids, Some(managed)))
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
        if change.action == Action::Create {
            ct.create_trail()
                .name(name)
                .s3_bucket_name(&bucket)
                .set_s3_key_prefix(prefix)
                .set_kms_key_id(declared_key_arn(cx, spec).await?)
                .is_organization_trail(true)
                .is_multi_region_trail(spec.multi_region)
                .include_global_service_events(true)
                .enable_log_file_validation(spec.log_file_validation)
                .tags_list(managed_tag()?)
                .send()
                .await
                .ctx("cloudtrail:CreateTrail")?;
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
        if SETTINGS.iter().any(|s| change.changes(s)) {
            // An empty prefix or key id removes it; send one only to remove what is set.
            let key = declared_key_arn(cx, spec).await?;
            let key = key.or_else(|| change.changes("kms-key").then(String::new));
            let prefix = prefix.or_else(|| change.changes("s3-key-prefix").then(String::new));
            ct.update_trail()
                .name(arn)
                .s3_bucket_name(&bucket)
                .set_s3_key_prefix(prefix)
                .set_kms_key_id(key)
                .is_organization_trail(true)
                .is_multi_region_trail(spec.multi_region)
                .include_global_service_events(true)
                .enable_log_file_validation(spec.log_file_validation)
                .send()
                .await
                .ctx("cloudtrail:UpdateTrail")?;
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
