//! `log-bucket`: an S3 bucket that receives logs (CloudTrail, Config), encrypted and private.

use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
    VersioningConfiguration,
};
use serde_json::{json, Value};

use super::kms_key::{alias_of, key_arn};
use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::partition;
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::checks::check_bucket_name;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Declaration, Reference, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{
    self, is_managed_tag, sort_keys, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider,
    MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "log-bucket",
    summary: "an encrypted, versioned, private S3 bucket for logs",
    naming: Naming::Required,
    placing: Placing::Single,
    regional: true,
    nests: false,
    parse,
    check_all: no_check,
    provider: Some(&LogBucketProvider),
};

#[derive(Debug, Clone)]
pub struct LogBucket {
    /// The S3 bucket name (globally unique); defaults to the declaration's name.
    pub bucket_name: Spanned<String>,
    /// Declared `kms-key` encrypting the bucket; S3-managed keys when absent.
    pub kms_key: Option<Spanned<String>>,
    pub versioning: bool,
    pub block_public_access: bool,
}

impl Spec for LogBucket {
    fn references(&self) -> Vec<Reference> {
        self.kms_key
            .iter()
            .map(|k| Reference::new("kms-key", k))
            .collect()
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    let bucket_name = r
        .child_str("bucket-name", "the S3 bucket name")
        .unwrap_or_else(|| name.clone());
    if let Err(e) = check_bucket_name(&bucket_name.value) {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                bucket_name.span,
                format!("\"{}\" is not a valid bucket name", bucket_name.value),
            )
            .label("invalid bucket name")
            .help(format!(
                "{e}; set `bucket-name` if the declaration's name cannot be one"
            )),
        );
    }
    let kms_key = r.child_str("kms-key", "the name of a declared kms-key");
    let versioning = r.child_bool("versioning").is_none_or(|b| b.value);
    let block_public_access = r.child_bool("block-public-access").is_none_or(|b| b.value);
    Box::new(LogBucket {
        bucket_name,
        kms_key,
        versioning,
        block_public_access,
    })
}

// --- AWS -------------------------------------------------------------------------------

/// An S3 bucket for logs. Tagged at creation; an untagged bucket with the declared name is
/// adopted (tags merged); never deleted by baseline (it holds the audit trail).
pub struct LogBucketProvider;

/// The S3 bucket name of the declared log-bucket `name` (for the trail and Config).
pub fn bucket_name_of(cx: &Ctx<'_>, name: &str) -> String {
    cx.baseline
        .find(KIND.keyword, name)
        .and_then(spec_of::<LogBucket>)
        .map_or_else(|| name.to_string(), |b| b.bucket_name.value.clone())
}

/// The bucket policy baseline writes: CloudTrail and Config may check the bucket ACL and
/// write under `AWSLogs/` (with or without a key prefix before it) granting the bucket
/// owner full control; Config may also check that the bucket exists; and nobody may use
/// the bucket over plain HTTP.
pub fn bucket_policy(bucket: &str, region: &str) -> Value {
    let arn = format!("arn:{}:s3:::{bucket}", partition(region));
    let logs = json!([format!("{arn}/AWSLogs/*"), format!("{arn}/*/AWSLogs/*")]);
    let owner_control = json!({"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}});
    let service = |s: &str| json!({"Service": s});
    canonical_policy(json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": service("cloudtrail.amazonaws.com"),
                "Action": "s3:GetBucketAcl",
                "Resource": arn
            },
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": service("cloudtrail.amazonaws.com"),
                "Action": "s3:PutObject",
                "Resource": logs,
                "Condition": owner_control
            },
            {
                "Sid": "ConfigAclCheck",
                "Effect": "Allow",
                "Principal": service("config.amazonaws.com"),
                "Action": "s3:GetBucketAcl",
                "Resource": arn
            },
            {
                "Sid": "ConfigExistenceCheck",
                "Effect": "Allow",
                "Principal": service("config.amazonaws.com"),
                "Action": "s3:ListBucket",
                "Resource": arn
            },
            {
                "Sid": "ConfigWrite",
                "Effect": "Allow",
                "Principal": service("config.amazonaws.com"),
                "Action": "s3:PutObject",
                "Resource": logs,
                "Condition": owner_control
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [arn, format!("{arn}/*")],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}
            }
        ]
    }))
}

/// A policy document in a form where equal meaning is equal JSON: lists are sorted and
/// deduplicated (a list of one becomes its value), scalar condition values become
/// strings, and statements are sorted.
pub fn canonical_policy(doc: Value) -> Value {
    fn string_list(v: &Value) -> Value {
        let mut items: Vec<String> = match v {
            Value::Array(a) => a.iter().map(scalar).collect(),
            other => vec![scalar(other)],
        };
        items.sort();
        items.dedup();
        // One value reads better bare, and bare is as canonical as a list of one.
        match items.as_slice() {
            [one] => json!(one),
            _ => json!(items),
        }
    }
    fn scalar(v: &Value) -> String {
        match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
    fn statement(s: &Value) -> Value {
        let Value::Object(map) = s else {
            return s.clone();
        };
        let mut out = serde_json::Map::new();
        for (k, v) in map {
            let v = match k.as_str() {
                "Action" | "NotAction" | "Resource" | "NotResource" => string_list(v),
                "Principal" | "NotPrincipal" => match v {
                    Value::Object(p) => {
                        Value::Object(p.iter().map(|(k, v)| (k.clone(), string_list(v))).collect())
                    }
                    other => other.clone(),
                },
                "Condition" => match v {
                    Value::Object(ops) => Value::Object(
                        ops.iter()
                            .map(|(op, keys)| {
                                let keys = match keys {
                                    Value::Object(m) => Value::Object(
                                        m.iter()
                                            .map(|(k, v)| (k.clone(), string_list(v)))
                                            .collect(),
                                    ),
                                    other => other.clone(),
                                };
                                (op.clone(), keys)
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                },
                _ => v.clone(),
            };
            out.insert(k.clone(), v);
        }
        Value::Object(out)
    }
    let Value::Object(mut map) = doc else {
        return doc;
    };
    if let Some(s) = map.get("Statement") {
        let mut statements: Vec<Value> = match s {
            Value::Array(a) => a.iter().map(statement).collect(),
            one => vec![statement(one)],
        };
        // Sorted by their text with keys sorted, so that key order (which AWS may change
        // when it stores a policy) cannot reorder them.
        statements.sort_by_cached_key(|s| sort_keys(s).to_string());
        map.insert("Statement".into(), Value::Array(statements));
    }
    Value::Object(map)
}

fn spec_and_decl<'a>(cx: &Ctx<'a>, inst: &Instance) -> (&'a Declaration, Option<&'a LogBucket>) {
    let decl = cx.decl(inst);
    (decl, spec_of::<LogBucket>(decl))
}

fn attrs(cx: &Ctx<'_>, b: &LogBucket, region: &str) -> Attrs {
    let mut a = Attrs::new();
    let encryption = b
        .kms_key
        .as_ref()
        .map_or_else(|| "AES256".to_string(), |k| alias_of(cx, &k.value));
    a.insert("encryption".into(), json!(encryption));
    a.insert("versioning".into(), json!(b.versioning));
    a.insert("block-public-access".into(), json!(b.block_public_access));
    a.insert("policy".into(), bucket_policy(&b.bucket_name.value, region));
    a
}

/// The bucket's region from GetBucketLocation (empty is us-east-1, `EU` is eu-west-1).
fn location_region(c: Option<&BucketLocationConstraint>) -> String {
    match c.map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(r) => r.to_string(),
    }
}

/// How the live default encryption shows: the declared key's alias when the bucket uses
/// that very key (by ARN, id or alias), else what S3 says.
async fn live_encryption(
    cx: &Ctx<'_>,
    b: &LogBucket,
    s3: &aws_sdk_s3::Client,
) -> provider::Result<Value> {
    let out = s3
        .get_bucket_encryption()
        .bucket(&b.bucket_name.value)
        .send()
        .await
        .absent_on(
            "s3:GetBucketEncryption",
            &["ServerSideEncryptionConfigurationNotFoundError"],
        )?;
    let Some(default) = out
        .as_ref()
        .and_then(|o| o.server_side_encryption_configuration())
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
    else {
        return Ok(Value::Null);
    };
    let algorithm = default.sse_algorithm().as_str();
    if algorithm == ServerSideEncryption::Aes256.as_str() {
        return Ok(json!(algorithm));
    }
    let Some(key) = default.kms_master_key_id() else {
        // aws:kms without a key id is the AWS-managed S3 key.
        return Ok(json!("alias/aws/s3"));
    };
    if let Some(name) = &b.kms_key {
        let alias = alias_of(cx, &name.value);
        let same = key == alias
            || key.ends_with(&format!(":{alias}"))
            || match key_arn(cx, &name.value).await? {
                Some(arn) => key == arn || arn.ends_with(&format!(":key/{key}")),
                None => false,
            };
        if same {
            return Ok(json!(alias));
        }
    }
    Ok(json!(key))
}

fn tag(key: &str, value: &str) -> provider::Result<Tag> {
    Tag::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| Error::State(format!("s3 tag: {e}")))
}

#[async_trait]
impl Provider for LogBucketProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        match spec_and_decl(cx, inst) {
            (_, Some(b)) => attrs(cx, b, &inst.region),
            _ => Attrs::new(),
        }
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let (_, Some(b)) = spec_and_decl(cx, inst) else {
            return Ok(Observed::absent());
        };
        let bucket = b.bucket_name.value.as_str();
        let s3 = cx.aws.s3(&inst.account_id, &inst.region).await?;
        let location = s3
            .get_bucket_location()
            .bucket(bucket)
            .send()
            .await
            .absent_on("s3:GetBucketLocation", &["NoSuchBucket", "NotFound"])
            .map_err(|e| {
                if e.is("AccessDenied") {
                    // Bucket names are global: another account may own this one.
                    Error::State(format!(
                        "bucket {bucket} exists but account {} may not read it; \
                         another account may own the name: {e}",
                        inst.account_id
                    ))
                } else {
                    e.into()
                }
            })?;
        let Some(location) = location else {
            return Ok(Observed::absent());
        };
        let region = location_region(location.location_constraint());
        if region != inst.region {
            return Err(Error::State(format!(
                "bucket {bucket} exists in {region}, but is declared in {}",
                inst.region
            )));
        }
        let encryption = live_encryption(cx, b, &s3).await?;
        let versioning = s3
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
            .ctx("s3:GetBucketVersioning")?;
        let block = s3
            .get_public_access_block()
            .bucket(bucket)
            .send()
            .await
            .absent_on(
                "s3:GetPublicAccessBlock",
                &["NoSuchPublicAccessBlockConfiguration"],
            )?;
        let all_blocked = block
            .as_ref()
            .and_then(|o| o.public_access_block_configuration())
            .is_some_and(|c| {
                [
                    c.block_public_acls(),
                    c.ignore_public_acls(),
                    c.block_public_policy(),
                    c.restrict_public_buckets(),
                ]
                .iter()
                .all(|f| *f == Some(true))
            });
        let policy = s3
            .get_bucket_policy()
            .bucket(bucket)
            .send()
            .await
            .absent_on("s3:GetBucketPolicy", &["NoSuchBucketPolicy"])?;
        let policy = match policy.as_ref().and_then(|p| p.policy()) {
            // An unparseable document cannot equal ours: show it as text.
            Some(text) => serde_json::from_str(text).map_or_else(|_| json!(text), canonical_policy),
            None => Value::Null,
        };
        let tags = s3
            .get_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .absent_on("s3:GetBucketTagging", &["NoSuchTagSet"])?;
        let managed = tags.as_ref().is_some_and(|t| {
            t.tag_set()
                .iter()
                .any(|t| is_managed_tag(t.key(), t.value()))
        });
        let mut live = Attrs::new();
        live.insert("encryption".into(), encryption);
        live.insert(
            "versioning".into(),
            json!(versioning.status() == Some(&BucketVersioningStatus::Enabled)),
        );
        live.insert("block-public-access".into(), json!(all_blocked));
        live.insert("policy".into(), policy);
        Ok(Observed::present(live, Attrs::new(), Some(managed)))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let (_, Some(b)) = spec_and_decl(cx, inst) else {
            return Ok(());
        };
        let bucket = b.bucket_name.value.as_str();
        let s3 = cx.aws.s3(&inst.account_id, &inst.region).await?;
        let create = change.action == Action::Create;
        if create {
            let mut req = s3.create_bucket().bucket(bucket);
            // us-east-1 takes no location constraint (AWS rejects one).
            if inst.region != "us-east-1" {
                req = req.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(inst.region.as_str()))
                        .build(),
                );
            }
            req.send().await.ctx("s3:CreateBucket")?;
        }
        if create || change.action == Action::Adopt {
            // Keep whatever tags an adopted bucket already has.
            let mut tags: Vec<Tag> = if create {
                Vec::new()
            } else {
                s3.get_bucket_tagging()
                    .bucket(bucket)
                    .send()
                    .await
                    .absent_on("s3:GetBucketTagging", &["NoSuchTagSet"])?
                    .map(|o| o.tag_set().to_vec())
                    .unwrap_or_default()
            };
            tags.retain(|t| t.key() != MANAGED_TAG_KEY);
            tags.push(tag(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)?);
            s3.put_bucket_tagging()
                .bucket(bucket)
                .tagging(
                    Tagging::builder()
                        .set_tag_set(Some(tags))
                        .build()
                        .map_err(|e| Error::State(format!("s3 tagging: {e}")))?,
                )
                .send()
                .await
                .ctx("s3:PutBucketTagging")?;
        }
        if create || change.changes("block-public-access") {
            let on = b.block_public_access;
            s3.put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(
                    PublicAccessBlockConfiguration::builder()
                        .block_public_acls(on)
                        .ignore_public_acls(on)
                        .block_public_policy(on)
                        .restrict_public_buckets(on)
                        .build(),
                )
                .send()
                .await
                .ctx("s3:PutPublicAccessBlock")?;
        }
        if create || change.changes("encryption") {
            let default = match &b.kms_key {
                Some(k) => {
                    let arn = key_arn(cx, &k.value).await?.ok_or_else(|| {
                        Error::State(format!(
                            "kms-key \"{}\" ({}) does not exist yet",
                            k.value,
                            alias_of(cx, &k.value)
                        ))
                    })?;
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::AwsKms)
                        .kms_master_key_id(arn)
                }
                None => ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::Aes256),
            };
            let rule = ServerSideEncryptionRule::builder()
                .apply_server_side_encryption_by_default(
                    default
                        .build()
                        .map_err(|e| Error::State(format!("s3 encryption: {e}")))?,
                )
                // S3 Bucket Keys cut KMS requests (and cost) for high-volume log writes.
                .bucket_key_enabled(b.kms_key.is_some())
                .build();
            s3.put_bucket_encryption()
                .bucket(bucket)
                .server_side_encryption_configuration(
                    ServerSideEncryptionConfiguration::builder()
                        .rules(rule)
                        .build()
                        .map_err(|e| Error::State(format!("s3 encryption: {e}")))?,
                )
                .send()
                .await
                .ctx("s3:PutBucketEncryption")?;
        }
        if create || change.changes("versioning") {
            let status = if b.versioning {
                BucketVersioningStatus::Enabled
            } else {
                BucketVersioningStatus::Suspended
            };
            s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(VersioningConfiguration::builder().status(status).build())
                .send()
                .await
                .ctx("s3:PutBucketVersioning")?;
        }
        if create || change.changes("policy") {
            s3.put_bucket_policy()
                .bucket(bucket)
                .policy(bucket_policy(bucket, &inst.region).to_string())
                .send()
                .await
                .ctx("s3:PutBucketPolicy")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::canonical_policy;
    use serde_json::json;

    #[test]
    fn statement_order_does_not_depend_on_key_order() {
        let a = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::b"},
            {"Sid": "B", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}
        ]});
        // As a store might return it: keys reordered, statements swapped.
        let b = json!({"Statement": [
            {"Action": ["s3:*"], "Effect": "Deny", "Resource": "arn:aws:s3:::b/*", "Sid": "B"},
            {"Sid": "A", "Effect": "Allow", "Resource": "arn:aws:s3:::b", "Action": "s3:GetBucketAcl"}
        ], "Version": "2012-10-17"});
        assert_eq!(canonical_policy(a), canonical_policy(b));
    }
}
