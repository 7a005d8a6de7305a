//! `log-bucket`: an S3 bucket that receives logs (CloudTrail, Config), encrypted and private.

use async_trait::async_trait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
    VersioningConfiguration,
};
use serde_json::{json, Map, Value};

use super::config_recorder::deliveries_into;
use super::kms_key::{alias_of, config_source_condition, key_arn};
use super::organization_trail::trails;
use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::checks::check_bucket_name;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Declaration, Reference, Spec};
use crate::lang::policy::{canonical_statement, is_baseline_sid, merge_owned, owned_statements};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{
    self, is_managed_tag, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider,
    MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "log-bucket",
    summary: "an encrypted, versioned, private S3 bucket for logs",
    naming: Naming::Required,
    placing: Placing::Single,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&LogBucketProvider),
};

#[derive(Debug, Clone)]
pub struct LogBucket {
    /// The S3 bucket name as declared. Without one, the name is the declaration's name with
    /// the owning account's id appended: bucket names are global, and a plain name such as
    /// `org-trail-logs` is almost certainly another AWS customer's already.
    pub bucket_name: Option<Spanned<String>>,
    /// Declared `kms-key` encrypting the bucket; S3-managed keys when absent.
    pub kms_key: Option<Spanned<String>>,
    pub versioning: bool,
    pub block_public_access: bool,
    /// `keep-policy`: the policy of a bucket that exists is left as it is (none of baseline's
    /// statements added): for an imported bucket whose own statements already let its
    /// trail and Config write. A bucket baseline creates still gets them.
    pub keep_policy: bool,
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

/// The default bucket name of the declaration `name` in `account_id`.
fn default_bucket_name(name: &str, account_id: &str) -> String {
    format!("{name}-{account_id}")
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    let bucket_name = r.child_str("bucket-name", "the S3 bucket name");
    // Checked as it will be: declared, or the default with an account id appended.
    let (checked, span) = match &bucket_name {
        Some(b) => (b.value.clone(), b.span),
        None => (default_bucket_name(&name.value, "123456789012"), name.span),
    };
    if let Err(e) = check_bucket_name(&checked) {
        let (message, help) = match &bucket_name {
            Some(b) => (format!("\"{}\" is not a valid bucket name", b.value), e),
            None => (
                format!(
                    "\"{}\" does not make a valid bucket name with the account id appended",
                    name.value
                ),
                format!("{e}; set `bucket-name`, or shorten the name (at most 50 characters)"),
            ),
        };
        r.report(
            Problem::new("baseline::invalid-value", span, message)
                .label("invalid bucket name")
                .help(help),
        );
    }
    let kms_key = r.child_str("kms-key", "the name of a declared kms-key");
    let versioning = r.child_bool("versioning").is_none_or(|b| b.value);
    let block_public_access = r.child_bool("block-public-access").is_none_or(|b| b.value);
    let keep_policy = r.child_bool("keep-policy").is_some_and(|b| b.value);
    Box::new(LogBucket {
        bucket_name,
        kms_key,
        versioning,
        block_public_access,
        keep_policy,
    })
}

// --- AWS -------------------------------------------------------------------------------

/// An S3 bucket for logs. Tagged at creation; an untagged bucket with the declared name is
/// adopted (tags merged); never deleted by baseline (it holds the audit trail).
pub struct LogBucketProvider;

/// The S3 bucket name of the declared log-bucket `name` (for the trail and Config): as
/// declared, else the declaration's name with its account's id appended.
pub fn bucket_name_of(cx: &Ctx<'_>, name: &str) -> String {
    let Some(decl) = cx.baseline.find(KIND.keyword, name) else {
        return name.to_string();
    };
    match spec_of::<LogBucket>(decl).and_then(|b| b.bucket_name.as_ref()) {
        Some(declared) => declared.value.clone(),
        None => default_bucket_name(name, &cx.account_of(decl)),
    }
}

/// The statements baseline owns in the policy of the declared log bucket `name` (S3 name
/// `bucket`): CloudTrail may check the bucket ACL and write its logs for the declared trails
/// that point here (`aws:SourceArn`), Config may check the bucket and deliver for the
/// organization's accounts (`aws:SourceOrgID`), each object written with the bucket owner in
/// full control; and nobody may use the bucket over plain HTTP. Following the CloudTrail
/// user guide ("Amazon S3 bucket policy for CloudTrail", organization trails) and the Config
/// developer guide ("Permissions for the Amazon S3 bucket").
pub fn bucket_statements(cx: &Ctx<'_>, name: &str, bucket: &str) -> Map<String, Value> {
    let arn = format!("arn:{}:s3:::{bucket}", cx.aws.partition);
    let under = |prefix: Option<&str>, rest: &str| match prefix {
        Some(p) => format!("{arn}/{p}/{rest}"),
        None => format!("{arn}/{rest}"),
    };
    let owner_control = "bucket-owner-full-control";
    let mut statements = Map::new();
    let trails = trails(cx, |t| t.bucket.as_ref().is_some_and(|b| b.value == name));
    if !trails.is_empty() {
        let arns: Vec<&str> = trails.iter().map(|t| t.arn.as_str()).collect();
        let cloudtrail = json!({"Service": "cloudtrail.amazonaws.com"});
        // An organization trail writes the management account's logs under its id and
        // the member accounts' under the organization's id.
        let mut logs = Vec::new();
        for t in &trails {
            let prefix = t.spec.s3_key_prefix.as_ref().map(|p| p.value.as_str());
            logs.push(under(
                prefix,
                &format!("AWSLogs/{}/*", cx.org.management_account_id),
            ));
            if let Some(org) = &cx.org.organization_id {
                logs.push(under(prefix, &format!("AWSLogs/{org}/*")));
            }
        }
        statements.insert(
            "BaselineCloudTrailAclCheck".into(),
            json!({
                "Effect": "Allow",
                "Principal": cloudtrail,
                "Action": "s3:GetBucketAcl",
                "Resource": arn,
                "Condition": {"StringEquals": {"aws:SourceArn": arns}}
            }),
        );
        statements.insert(
            "BaselineCloudTrailWrite".into(),
            json!({
                "Effect": "Allow",
                "Principal": cloudtrail,
                "Action": "s3:PutObject",
                "Resource": logs,
                "Condition": {"StringEquals": {
                    "s3:x-amz-acl": owner_control,
                    "aws:SourceArn": arns
                }}
            }),
        );
    }
    let deliveries = deliveries_into(cx, name);
    if !deliveries.is_empty() {
        let config = json!({"Service": "config.amazonaws.com"});
        let source = config_source_condition(cx);
        let mut write_condition = source.clone();
        write_condition["s3:x-amz-acl"] = json!(owner_control);
        let logs: Vec<String> = deliveries
            .iter()
            .map(|prefix| under(prefix.as_deref(), "AWSLogs/*/Config/*"))
            .collect();
        statements.insert(
            "BaselineConfigAclCheck".into(),
            json!({
                "Effect": "Allow",
                "Principal": config,
                "Action": "s3:GetBucketAcl",
                "Resource": arn,
                "Condition": {"StringEquals": source}
            }),
        );
        statements.insert(
            "BaselineConfigExistenceCheck".into(),
            json!({
                "Effect": "Allow",
                "Principal": config,
                "Action": "s3:ListBucket",
                "Resource": arn,
                "Condition": {"StringEquals": source}
            }),
        );
        statements.insert(
            "BaselineConfigWrite".into(),
            json!({
                "Effect": "Allow",
                "Principal": config,
                "Action": "s3:PutObject",
                "Resource": logs,
                "Condition": {"StringEquals": write_condition}
            }),
        );
    }
    statements.insert(
        "BaselineDenyInsecureTransport".into(),
        json!({
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, format!("{arn}/*")],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }),
    );
    statements
        .into_iter()
        .map(|(sid, st)| (sid, canonical_statement(&st)))
        .collect()
}

fn spec_and_decl<'a>(cx: &Ctx<'a>, inst: &Instance) -> (&'a Declaration, Option<&'a LogBucket>) {
    let decl = cx.decl(inst);
    (decl, spec_of::<LogBucket>(decl))
}

fn attrs(cx: &Ctx<'_>, name: &str, b: &LogBucket) -> Attrs {
    let mut a = Attrs::new();
    let encryption = b
        .kms_key
        .as_ref()
        .map_or_else(|| "AES256".to_string(), |k| alias_of(cx, &k.value));
    a.insert("encryption".into(), json!(encryption));
    a.insert("versioning".into(), json!(b.versioning));
    a.insert("block-public-access".into(), json!(b.block_public_access));
    if !b.keep_policy {
        a.insert(
            "policy".into(),
            Value::Object(bucket_statements(cx, name, &bucket_name_of(cx, name))),
        );
    }
    a
}

/// The region of `bucket`, or `None` when no bucket has the name. A name that another
/// account owns is an error here, at plan time: bucket names are global, and HeadBucket
/// answers 403 to anyone but the owner (and those its policy lets in).
async fn bucket_region(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    account_id: &str,
) -> provider::Result<Option<String>> {
    let head = match s3
        .head_bucket()
        .bucket(bucket)
        .send()
        .await
        .ctx("s3:HeadBucket")
    {
        Ok(head) => head,
        Err(e) if e.is("NotFound") || e.is("NoSuchBucket") || e.status == Some(404) => {
            return Ok(None)
        }
        Err(e) if e.status == Some(403) => {
            return Err(Error::State(format!(
                "the bucket name {bucket} is taken by another AWS account (bucket names are \
                 global, and account {account_id} may not read it); choose another with \
                 `bucket-name`, or leave it out to get one with the account id appended"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(region) = head.bucket_region() {
        return Ok(Some(region.to_string()));
    }
    let location = s3
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .ctx("s3:GetBucketLocation")?;
    Ok(Some(location_region(location.location_constraint())))
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
    bucket: &str,
    s3: &aws_sdk_s3::Client,
) -> provider::Result<Value> {
    let out = s3
        .get_bucket_encryption()
        .bucket(bucket)
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

/// `baseline import`: the declarations of the bucket `bucket`, which something else import
/// found writes into: the bucket's own, and its KMS key's when it has one; and the name of
/// the bucket's declaration. `Err` says why the language cannot declare it.
pub async fn import_bucket(
    cx: &Ctx<'_>,
    lookups: &crate::import::Lookups,
    bucket: &str,
) -> provider::Result<Result<(Vec<crate::import::Found>, String), String>> {
    use crate::import::{kdl::Node, placement, Found};
    if let Err(e) = check_bucket_name(bucket) {
        return Ok(Err(format!(
            "its bucket name {bucket} is not one the language accepts ({e})"
        )));
    }
    let Some(account_id) = lookups.bucket_owner(cx, bucket).await? else {
        return Ok(Err(format!(
            "its bucket {bucket} belongs to no account of the organization"
        )));
    };
    let s3 = cx
        .aws
        .s3(&account_id, &cx.baseline.settings.home_region())
        .await?;
    let Some(region) = bucket_region(&s3, bucket, &account_id).await? else {
        return Ok(Err(format!("its bucket {bucket} does not exist")));
    };
    let s3 = cx.aws.s3(&account_id, &region).await?;
    // A bucket named as the language names it by default (NAME-ACCOUNTID) is declared NAME.
    let name = bucket
        .strip_suffix(&format!("-{account_id}"))
        .filter(|n| !n.is_empty())
        .map_or_else(|| bucket.to_string(), str::to_string);
    let mut node = Node::new(KIND.keyword)
        .arg(&name)
        .comment(format!("S3 bucket {bucket}"))
        .children(placement(cx, &account_id, &region));
    if name == bucket {
        node = node.child(Node::new("bucket-name").arg(bucket));
    }
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let encryption = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .absent_on(
            "s3:GetBucketEncryption",
            &["ServerSideEncryptionConfigurationNotFoundError"],
        )?;
    let default = encryption
        .as_ref()
        .and_then(|o| o.server_side_encryption_configuration())
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default());
    match default {
        None => notes.push(
            "the bucket has no default encryption: apply sets S3-managed keys (SSE-S3)".to_string(),
        ),
        Some(d) if d.sse_algorithm() == &ServerSideEncryption::Aes256 => {}
        Some(d) => {
            let Some(key) = d.kms_master_key_id() else {
                return Ok(Err(format!(
                    "its bucket {bucket} is encrypted with the AWS managed key aws/s3, which \
                     the language cannot name (it declares SSE-S3 or a customer-managed key)"
                )));
            };
            match super::kms_key::import_key(cx, &account_id, &region, key).await? {
                Ok((found, key_name)) => {
                    node = node.child(Node::new("kms-key").arg(key_name));
                    out.push(found);
                }
                Err(why) => return Ok(Err(format!("its bucket {bucket}: {why}"))),
            }
        }
    }
    if !versioning_enabled(&s3, bucket).await? {
        node = node.child(Node::new("versioning").arg(false));
    }
    if !all_public_access_blocked(&s3, bucket).await? {
        node = node.child(Node::new("block-public-access").arg(false));
    }
    let ours = baseline_statements(&s3, bucket).await?;
    // A policy written by hand or by the console already lets its trail write: kept as it
    // is, so that the import plans clean; the note says what removing `keep-policy` adds.
    if ours.is_empty() {
        node = node.child(Node::new("keep-policy"));
        notes.push(
            "its bucket policy has none of baseline's statements and is kept as it is \
             (keep-policy); without keep-policy the plan adds them (CloudTrail and Config may \
             write for the declared trail and the organization's accounts only, no plain HTTP) \
             and keeps the statements it has"
                .to_string(),
        );
    }
    let mut found = Found::new(node);
    found.notes = notes;
    out.push(found);
    Ok(Ok((out, name)))
}

async fn versioning_enabled(s3: &aws_sdk_s3::Client, bucket: &str) -> provider::Result<bool> {
    let versioning = s3
        .get_bucket_versioning()
        .bucket(bucket)
        .send()
        .await
        .ctx("s3:GetBucketVersioning")?;
    Ok(versioning.status() == Some(&BucketVersioningStatus::Enabled))
}

/// Whether the bucket's Block Public Access has all four settings on.
async fn all_public_access_blocked(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> provider::Result<bool> {
    let block = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .absent_on(
            "s3:GetPublicAccessBlock",
            &["NoSuchPublicAccessBlockConfiguration"],
        )?;
    Ok(block
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
        }))
}

/// baseline's own statements in the bucket's policy: only those are compared, what others
/// put into the policy is theirs. (A document that is not JSON holds none of ours.)
async fn baseline_statements(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> provider::Result<Map<String, Value>> {
    let policy = s3
        .get_bucket_policy()
        .bucket(bucket)
        .send()
        .await
        .absent_on("s3:GetBucketPolicy", &["NoSuchBucketPolicy"])?;
    Ok(policy
        .as_ref()
        .and_then(|p| p.policy())
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .map(|doc| owned_statements(&doc, is_baseline_sid))
        .unwrap_or_default())
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
            (decl, Some(b)) => attrs(cx, &decl.name.value, b),
            _ => Attrs::new(),
        }
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let (decl, Some(b)) = spec_and_decl(cx, inst) else {
            return Ok(Observed::absent());
        };
        let bucket = bucket_name_of(cx, &decl.name.value);
        let bucket = bucket.as_str();
        let s3 = cx.aws.s3(&inst.account_id, &inst.region).await?;
        let Some(region) = bucket_region(&s3, bucket, &inst.account_id).await? else {
            return Ok(Observed::absent());
        };
        if region != inst.region {
            return Err(Error::State(format!(
                "bucket {bucket} exists in {region}, but is declared in {}",
                inst.region
            )));
        }
        let encryption = live_encryption(cx, b, bucket, &s3).await?;
        let versioning = versioning_enabled(&s3, bucket).await?;
        let all_blocked = all_public_access_blocked(&s3, bucket).await?;
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
        live.insert("versioning".into(), json!(versioning));
        live.insert("block-public-access".into(), json!(all_blocked));
        if !b.keep_policy {
            let policy = baseline_statements(&s3, bucket).await?;
            live.insert("policy".into(), Value::Object(policy));
        }
        let owner = crate::coexist::owner_of(
            bucket,
            tags.iter()
                .flat_map(|t| t.tag_set())
                .map(|t| (t.key(), t.value())),
        );
        Ok(Observed::present(live, Attrs::new(), Some(managed)).owned_by(owner))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let (decl, Some(b)) = spec_and_decl(cx, inst) else {
            return Ok(());
        };
        let bucket = bucket_name_of(cx, &decl.name.value);
        let bucket = bucket.as_str();
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
            match req.send().await.ctx("s3:CreateBucket") {
                // Created since the plan read it absent (by an earlier, interrupted run).
                Err(e) if e.is("BucketAlreadyOwnedByYou") => {}
                Err(e) if e.is("BucketAlreadyExists") => {
                    return Err(Error::State(format!(
                        "the bucket name {bucket} belongs to another AWS account (bucket \
                         names are global); choose another with `bucket-name`: {e}"
                    )))
                }
                other => {
                    other?;
                }
            }
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
            // Merged into the policy as it is now, so that a statement another producer
            // added since the plan is kept too.
            let live = s3
                .get_bucket_policy()
                .bucket(bucket)
                .send()
                .await
                .absent_on("s3:GetBucketPolicy", &["NoSuchBucketPolicy"])?
                .and_then(|p| p.policy)
                .and_then(|text| serde_json::from_str::<Value>(&text).ok());
            let wanted = bucket_statements(cx, &decl.name.value, bucket);
            let policy = merge_owned(live.as_ref(), is_baseline_sid, &wanted);
            s3.put_bucket_policy()
                .bucket(bucket)
                .policy(policy.to_string())
                .send()
                .await
                .ctx("s3:PutBucketPolicy")?;
        }
        Ok(())
    }
}
