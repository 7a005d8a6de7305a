//! Anchors of the change log: its chain head, signed with a KMS asymmetric key and written
//! to S3 under Object Lock in compliance mode, as CloudTrail does with its signed digest
//! files.
//!
//! Without anchors, a forger who rewrites the whole log and recomputes every hash is caught
//! only against a head someone kept. An anchor is such a head kept where the forger cannot
//! reach: nobody, the root user included, can delete or shorten a compliance-mode object
//! version before its retention ends, and only holders of `kms:Sign` on the key can make a
//! signature that `kms:Verify` accepts. `log verify --anchors` checks every version of every
//! anchor under the prefix (a newer version or a delete marker cannot hide an older one)
//! against the log: each must name a record of the log by its `seq` and hash.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;
use std::time::{Duration, SystemTime};

use aws_sdk_kms::types::{KeyState, KeyUsageType, MessageType, SigningAlgorithmSpec};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockEnabled, ObjectLockMode};
use aws_smithy_types::date_time::Format;
use aws_smithy_types::{Blob, DateTime};
use serde::{Deserialize, Serialize};

use crate::aws::{Aws, AwsError, Context as _};
use crate::lang::model::{AnchorSettings, Settings};
use crate::org::OrgStructure;

use super::{verify, Body};

/// Version of the anchor format.
pub const ANCHOR_FORMAT: u32 = 1;

/// Signing algorithms baseline uses, in order of preference, among those the key offers.
const ALGORITHMS: [SigningAlgorithmSpec; 6] = [
    SigningAlgorithmSpec::EcdsaSha256,
    SigningAlgorithmSpec::EcdsaSha384,
    SigningAlgorithmSpec::EcdsaSha512,
    SigningAlgorithmSpec::RsassaPssSha256,
    SigningAlgorithmSpec::RsassaPssSha384,
    SigningAlgorithmSpec::RsassaPssSha512,
];

/// What an anchor object holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    pub anchor_format: u32,
    /// The organization of the log's header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    pub management_account_id: String,
    /// `seq` of the last record the anchor covers (every record before it is covered by the
    /// chain), and that record's hash.
    pub seq: u64,
    pub head: String,
    /// The apply that wrote the records up to `seq`.
    pub run_id: String,
    /// UTC, RFC 3339.
    pub time: String,
    pub key_arn: String,
    pub signing_algorithm: String,
    /// Base64 of the signature over [`Anchor::message`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Anchor {
    /// The bytes signed: the anchor without its signature, as serde_json writes it (fields
    /// in declaration order).
    pub fn message(&self) -> Vec<u8> {
        let unsigned = Anchor {
            signature: None,
            ..self.clone()
        };
        serde_json::to_vec(&unsigned).expect("an anchor serialises")
    }
}

/// Where anchors are written: the settings with the account and region resolved.
#[derive(Debug, Clone)]
pub struct Target {
    pub settings: AnchorSettings,
    pub account_id: String,
    pub region: String,
}

impl Target {
    /// The account named in the settings (by name or id), else the management account; the
    /// region named, else the baseline's first default region.
    pub fn resolve(
        settings: &AnchorSettings,
        org: Option<&OrgStructure>,
        management_account_id: &str,
        default_region: &str,
    ) -> Result<Target, String> {
        let account_id = match &settings.account {
            None => management_account_id.to_string(),
            Some(a) if crate::lang::checks::is_account_id(a) => a.clone(),
            Some(a) => match org.and_then(|o| o.account(a)) {
                Some(found) => found.id.clone(),
                None => {
                    return Err(format!(
                    "the change-log-anchor account \"{a}\" is not an account of the organization"
                ))
                }
            },
        };
        Ok(Target {
            settings: settings.clone(),
            account_id,
            region: settings
                .region
                .clone()
                .unwrap_or_else(|| default_region.to_string()),
        })
    }

    fn place(&self) -> String {
        format!(
            "s3://{}/{} (account {}, {})",
            self.settings.bucket, self.settings.prefix, self.account_id, self.region
        )
    }
}

/// The signing key as KMS describes it.
#[derive(Debug, Clone)]
pub struct SigningKey {
    pub arn: String,
    pub algorithm: SigningAlgorithmSpec,
}

/// Check, before apply changes anything, that the key can sign and the bucket keeps its
/// objects under Object Lock: an anchor that cannot be written after the changes would leave
/// them unanchored.
pub async fn prepare(aws: &Aws, target: &Target) -> Result<SigningKey, String> {
    let key = signing_key(aws, target).await?;
    let s3 = aws
        .s3(&target.account_id, &target.region)
        .await
        .map_err(|e| e.to_string())?;
    let lock = s3
        .get_object_lock_configuration()
        .bucket(&target.settings.bucket)
        .send()
        .await
        .absent_on(
            "s3:GetObjectLockConfiguration",
            &["ObjectLockConfigurationNotFoundError"],
        )
        .map_err(|e| e.to_string())?;
    let enabled = lock
        .as_ref()
        .and_then(|l| l.object_lock_configuration())
        .and_then(|c| c.object_lock_enabled())
        == Some(&ObjectLockEnabled::Enabled);
    if !enabled {
        return Err(format!(
            "the bucket {} has no Object Lock: anchors must be kept where they cannot be \
             deleted or changed (create the bucket with Object Lock enabled)",
            target.settings.bucket
        ));
    }
    Ok(key)
}

async fn signing_key(aws: &Aws, target: &Target) -> Result<SigningKey, String> {
    let kms = aws
        .kms(&target.account_id, &target.region)
        .await
        .map_err(|e| e.to_string())?;
    let described = kms
        .describe_key()
        .key_id(&target.settings.key)
        .send()
        .await
        .ctx("kms:DescribeKey")
        .map_err(|e| e.to_string())?;
    let meta = described
        .key_metadata()
        .ok_or("kms:DescribeKey answered without the key's metadata")?;
    let name = &target.settings.key;
    if meta.key_usage() != Some(&KeyUsageType::SignVerify) {
        return Err(format!(
            "the key {name} is not a signing key (its usage is {}): anchors need an asymmetric \
             KMS key with usage SIGN_VERIFY, e.g. key spec ECC_NIST_P256",
            meta.key_usage().map_or("unknown", |u| u.as_str())
        ));
    }
    if meta.key_state() != Some(&KeyState::Enabled) {
        return Err(format!(
            "the key {name} is {}, not Enabled",
            meta.key_state()
                .map_or("in an unknown state", |s| s.as_str())
        ));
    }
    let offered = meta.signing_algorithms();
    let algorithm = ALGORITHMS
        .into_iter()
        .find(|a| offered.contains(a))
        .ok_or_else(|| {
            format!("the key {name} offers none of the signing algorithms baseline uses (ECDSA, RSASSA-PSS)")
        })?;
    Ok(SigningKey {
        arn: meta.arn().unwrap_or(name).to_string(),
        algorithm,
    })
}

/// Where an anchor was written.
#[derive(Debug, Clone)]
pub struct Written {
    pub uri: String,
    pub version_id: String,
    pub retain_until: String,
}

/// Sign the head (`seq`, `head`) of the log and write the anchor under compliance-mode
/// retention.
pub async fn write(
    aws: &Aws,
    target: &Target,
    key: &SigningKey,
    org: &OrgStructure,
    seq: u64,
    head: &str,
    run_id: &str,
) -> Result<Written, AwsError> {
    let mut anchor = Anchor {
        anchor_format: ANCHOR_FORMAT,
        organization_id: org.organization_id.clone(),
        management_account_id: org.management_account_id.clone(),
        seq,
        head: head.to_string(),
        run_id: run_id.to_string(),
        time: super::now_rfc3339(),
        key_arn: key.arn.clone(),
        signing_algorithm: key.algorithm.as_str().to_string(),
        signature: None,
    };
    let kms = aws.kms(&target.account_id, &target.region).await?;
    let signed = kms
        .sign()
        .key_id(&key.arn)
        .message(Blob::new(anchor.message()))
        .message_type(MessageType::Raw)
        .signing_algorithm(key.algorithm.clone())
        .send()
        .await
        .ctx("kms:Sign")?;
    let signature = signed.signature().map(|s| s.as_ref()).unwrap_or_default();
    anchor.signature = Some(aws_smithy_types::base64::encode(signature));
    let body = serde_json::to_vec_pretty(&anchor).expect("an anchor serialises");
    let retain_until =
        SystemTime::now() + Duration::from_secs(u64::from(target.settings.retention_days) * 86_400);
    let retain_until = DateTime::from(retain_until);
    let object_key = format!("{}{seq:012}-{run_id}.json", target.settings.prefix);
    let s3 = aws.s3(&target.account_id, &target.region).await?;
    let put = s3
        .put_object()
        .bucket(&target.settings.bucket)
        .key(&object_key)
        .content_type("application/json")
        .body(ByteStream::from(body))
        // S3 refuses Object Lock parameters without an integrity checksum.
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .object_lock_mode(ObjectLockMode::Compliance)
        .object_lock_retain_until_date(retain_until)
        .send()
        .await
        .ctx("s3:PutObject")?;
    Ok(Written {
        uri: format!("s3://{}/{object_key}", target.settings.bucket),
        version_id: put.version_id().unwrap_or("null").to_string(),
        retain_until: rfc3339(&retain_until),
    })
}

fn rfc3339(t: &DateTime) -> String {
    t.fmt(Format::DateTime).unwrap_or_else(|_| t.to_string())
}

/// One version of one anchor object, as `log verify --anchors` found it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedAnchor {
    pub uri: String,
    pub version_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor: Option<Anchor>,
    /// `COMPLIANCE` or `GOVERNANCE`, and until when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_until: Option<String>,
    /// What makes this anchor fail (empty: it verifies).
    pub problems: Vec<String>,
    /// What is worth knowing but does not fail it (a delete marker hides it, say).
    pub notes: Vec<String>,
}

/// Every anchor under the prefix, checked against the log.
#[derive(Debug, Clone, Serialize)]
pub struct AnchorsReport {
    pub location: String,
    pub key_arn: String,
    pub anchors: Vec<CheckedAnchor>,
    /// Records after the last anchor that verifies (changes not yet anchored).
    pub unanchored_records: u64,
    /// Problems with the whole set (no anchor at all, say).
    pub problems: Vec<String>,
}

impl AnchorsReport {
    pub fn verified(&self) -> bool {
        self.problems.is_empty() && self.anchors.iter().all(|a| a.problems.is_empty())
    }
}

/// The log's records as anchors name them: `seq` -> hash, and its header.
#[derive(Debug, Default)]
pub struct LogHeads {
    pub hashes: BTreeMap<u64, String>,
    pub organization_id: Option<String>,
    pub management_account_id: Option<String>,
    pub records: u64,
}

/// Read the log's record hashes (the log must verify first: `verify` says why not).
pub fn log_heads<R: BufRead>(reader: R) -> std::io::Result<(verify::Report, LogHeads)> {
    let mut heads = LogHeads::default();
    let report = verify::verify_reader_with(reader, |record, hash| {
        if let Body::Header {
            organization_id,
            management_account_id,
            ..
        } = &record.body
        {
            heads.organization_id = organization_id.clone();
            heads.management_account_id = Some(management_account_id.clone());
        }
        heads.hashes.insert(record.seq, hash.to_string());
    })?;
    heads.records = report.records as u64;
    Ok((report, heads))
}

/// Connect to AWS as plan does and check the log at `log` against its anchors.
pub async fn check_log(
    settings: &Settings,
    anchor: &AnchorSettings,
    log: &Path,
) -> Result<AnchorsReport, String> {
    let aws = Aws::connect(&settings.access_role)
        .await
        .map_err(|e| format!("cannot reach AWS: {e}"))?;
    // The organization is read only to find an account given by name.
    let org = match &anchor.account {
        Some(a) if !crate::lang::checks::is_account_id(a) => Some(
            crate::discover::organization(&aws)
                .await
                .map_err(|e| format!("cannot read the organization: {e}"))?,
        ),
        _ => None,
    };
    check_log_with(&aws, org.as_ref(), settings, anchor, log).await
}

/// Check the log at `log` against its anchors, with a connection and organization at hand.
pub async fn check_log_with(
    aws: &Aws,
    org: Option<&OrgStructure>,
    settings: &Settings,
    anchor: &AnchorSettings,
    log: &Path,
) -> Result<AnchorsReport, String> {
    let target = Target::resolve(
        anchor,
        org,
        aws.management_account(),
        &settings.regions()[0],
    )?;
    let reader = super::file::open_log(log)?;
    let (_, heads) = log_heads(reader).map_err(|e| format!("{}: {e}", log.display()))?;
    check(aws, &target, &heads).await
}

/// Check every version of every anchor under the target's prefix against `heads`.
pub async fn check(aws: &Aws, target: &Target, heads: &LogHeads) -> Result<AnchorsReport, String> {
    let key = signing_key(aws, target).await?;
    let s3 = aws
        .s3(&target.account_id, &target.region)
        .await
        .map_err(|e| e.to_string())?;
    let kms = aws
        .kms(&target.account_id, &target.region)
        .await
        .map_err(|e| e.to_string())?;
    let bucket = &target.settings.bucket;
    let (versions, deleted) = list_versions(&s3, bucket, &target.settings.prefix)
        .await
        .map_err(|e| e.to_string())?;
    let now = DateTime::from(SystemTime::now());
    let mut anchors = Vec::new();
    for (object_key, version_id) in versions {
        let mut checked = CheckedAnchor {
            uri: format!("s3://{bucket}/{object_key}"),
            version_id: version_id.clone(),
            anchor: None,
            retention_mode: None,
            retain_until: None,
            problems: Vec::new(),
            notes: Vec::new(),
        };
        if deleted.contains(&object_key) {
            checked
                .notes
                .push("a delete marker hides this object; its versions are kept".into());
        }
        let retention = s3
            .get_object_retention()
            .bucket(bucket)
            .key(&object_key)
            .version_id(&version_id)
            .send()
            .await
            .absent_on("s3:GetObjectRetention", &["NoSuchObjectLockConfiguration"])
            .map_err(|e| e.to_string())?;
        let retention = retention.as_ref().and_then(|r| r.retention());
        checked.retention_mode = retention
            .and_then(|r| r.mode())
            .map(|m| m.as_str().to_string());
        let until = retention.and_then(|r| r.retain_until_date());
        checked.retain_until = until.map(rfc3339);
        match (checked.retention_mode.as_deref(), until) {
            (Some("COMPLIANCE"), Some(u)) if u.secs() < now.secs() => checked
                .notes
                .push("its retention has ended: it can now be deleted".into()),
            (Some("COMPLIANCE"), Some(_)) => {}
            (None, _) => checked.problems.push(
                "it has no Object Lock retention: anyone with s3:DeleteObjectVersion could \
                 have replaced it"
                    .into(),
            ),
            (Some(mode), _) => checked.problems.push(format!(
                "its retention is in {mode} mode, not COMPLIANCE: it can be changed by whoever \
                 may bypass governance retention"
            )),
        }
        let object = s3
            .get_object()
            .bucket(bucket)
            .key(&object_key)
            .version_id(&version_id)
            .send()
            .await
            .ctx("s3:GetObject")
            .map_err(|e| e.to_string())?;
        let bytes = object
            .body
            .collect()
            .await
            .map_err(|e| format!("s3:GetObject: reading {}: {e}", checked.uri))?
            .into_bytes();
        match serde_json::from_slice::<Anchor>(&bytes) {
            Ok(anchor) => {
                check_signature(&kms, &key, &anchor, &mut checked.problems).await?;
                check_against_log(&anchor, heads, &mut checked.problems);
                checked.anchor = Some(anchor);
            }
            Err(e) => checked
                .problems
                .push(format!("not a change-log anchor: {e}")),
        }
        anchors.push(checked);
    }
    let last_anchored = anchors
        .iter()
        .filter(|a| a.problems.is_empty())
        .filter_map(|a| a.anchor.as_ref().map(|a| a.seq + 1))
        .max()
        .unwrap_or(0);
    let mut problems = Vec::new();
    if anchors.is_empty() {
        problems.push(format!(
            "no anchor under {}: apply writes one after each run that changed something",
            target.place()
        ));
    }
    Ok(AnchorsReport {
        location: target.place(),
        key_arn: key.arn,
        anchors,
        unanchored_records: heads.records.saturating_sub(last_anchored),
        problems,
    })
}

/// Every object version under `prefix` (key, version id), oldest key first, and the keys
/// whose latest version is a delete marker.
async fn list_versions(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<(Vec<(String, String)>, Vec<String>), AwsError> {
    let (mut versions, mut deleted) = (Vec::new(), Vec::new());
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(bucket)
            .prefix(prefix)
            .set_key_marker(key_marker.take())
            .set_version_id_marker(version_marker.take())
            .send()
            .await
            .ctx("s3:ListObjectVersions")?;
        for v in page.versions() {
            if let (Some(k), Some(id)) = (v.key(), v.version_id()) {
                versions.push((k.to_string(), id.to_string()));
            }
        }
        for m in page.delete_markers() {
            if m.is_latest() == Some(true) {
                deleted.extend(m.key().map(str::to_string));
            }
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_string);
        version_marker = page.next_version_id_marker().map(str::to_string);
        if key_marker.is_none() && version_marker.is_none() {
            break;
        }
    }
    Ok((versions, deleted))
}

/// The anchor must be signed by the configured key, and KMS must accept the signature.
async fn check_signature(
    kms: &aws_sdk_kms::Client,
    key: &SigningKey,
    anchor: &Anchor,
    problems: &mut Vec<String>,
) -> Result<(), String> {
    if anchor.key_arn != key.arn {
        problems.push(format!(
            "it says it is signed with {}, not with the anchor key {}",
            anchor.key_arn, key.arn
        ));
        return Ok(());
    }
    let Some(signature) = anchor
        .signature
        .as_deref()
        .and_then(|s| aws_smithy_types::base64::decode(s).ok())
    else {
        problems.push("it has no signature (or one that is not base64)".into());
        return Ok(());
    };
    let verified = kms
        .verify()
        .key_id(&key.arn)
        .message(Blob::new(anchor.message()))
        .message_type(MessageType::Raw)
        .signature(Blob::new(signature))
        .signing_algorithm(SigningAlgorithmSpec::from(
            anchor.signing_algorithm.as_str(),
        ))
        .send()
        .await
        .ctx("kms:Verify");
    match verified {
        Ok(v) if v.signature_valid() => {}
        Ok(_) => problems.push(format!("its signature does not verify with {}", key.arn)),
        // What KMS answers for a signature that does not match the message and key.
        Err(e) if e.is("KMSInvalidSignatureException") => problems.push(format!(
            "its signature does not verify with {} (made with another key, or the anchor \
             was altered)",
            key.arn
        )),
        Err(e) if e.is("InvalidKeyUsageException") || e.is("ValidationException") => {
            problems.push(format!("its signature cannot be checked: {e}"))
        }
        Err(e) => return Err(e.to_string()),
    }
    Ok(())
}

/// The anchor must name a record of the log, by `seq` and hash, and the log's organization.
fn check_against_log(anchor: &Anchor, heads: &LogHeads, problems: &mut Vec<String>) {
    if heads.management_account_id.as_deref() != Some(anchor.management_account_id.as_str())
        || heads.organization_id != anchor.organization_id
    {
        problems.push(format!(
            "it anchors a log of management account {} (organization {}), not this one",
            anchor.management_account_id,
            anchor.organization_id.as_deref().unwrap_or("none")
        ));
        return;
    }
    match heads.hashes.get(&anchor.seq) {
        Some(hash) if *hash == anchor.head => {}
        Some(hash) => problems.push(format!(
            "record {} of the log has the hash {hash}, but the anchor signed {}: the chain \
             was rewritten",
            anchor.seq, anchor.head
        )),
        None => problems.push(format!(
            "the log has {} records, but the anchor signed record {} (hash {}): records were \
             removed",
            heads.records, anchor.seq, anchor.head
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anchor() -> Anchor {
        Anchor {
            anchor_format: ANCHOR_FORMAT,
            organization_id: Some("o-example".into()),
            management_account_id: "111111111111".into(),
            seq: 4,
            head: "ab".repeat(32),
            run_id: "run-1".into(),
            time: "2026-11-29T12:00:00Z".into(),
            key_arn: "arn:aws:kms:us-east-1:111111111111:key/k".into(),
            signing_algorithm: "ECDSA_SHA_256".into(),
            signature: Some("c2ln".into()),
        }
    }

    #[test]
    fn the_signed_message_leaves_out_the_signature_only() {
        let a = anchor();
        let message = String::from_utf8(a.message()).unwrap();
        assert!(!message.contains("signature"), "{message}");
        assert!(message.contains(&a.head) && message.contains("\"seq\":4"));
        let other = Anchor {
            signature: Some("other".into()),
            ..a.clone()
        };
        assert_eq!(a.message(), other.message());
        let moved = Anchor { seq: 5, ..a };
        assert_ne!(moved.message(), other.message());
    }

    fn heads(hashes: &[(u64, &str)]) -> LogHeads {
        LogHeads {
            hashes: hashes.iter().map(|(s, h)| (*s, h.to_string())).collect(),
            organization_id: Some("o-example".into()),
            management_account_id: Some("111111111111".into()),
            records: hashes.len() as u64,
        }
    }

    #[test]
    fn an_anchor_must_name_a_record_of_the_log_by_seq_and_hash() {
        let a = anchor();
        let good = "ab".repeat(32);
        let mut problems = Vec::new();
        let log: Vec<(u64, &str)> = (0..5).map(|s| (s, good.as_str())).collect();
        check_against_log(&a, &heads(&log), &mut problems);
        assert!(problems.is_empty(), "{problems:?}");

        let rewritten: Vec<(u64, &str)> = (0..5).map(|s| (s, "cd")).collect();
        check_against_log(&a, &heads(&rewritten), &mut problems);
        assert!(
            problems[0].contains("the chain was rewritten"),
            "{problems:?}"
        );

        problems.clear();
        check_against_log(&a, &heads(&log[..3]), &mut problems);
        assert!(problems[0].contains("records were removed"), "{problems:?}");

        problems.clear();
        let mut elsewhere = heads(&log);
        elsewhere.management_account_id = Some("222222222222".into());
        check_against_log(&a, &elsewhere, &mut problems);
        assert!(problems[0].contains("not this one"), "{problems:?}");
    }
}
