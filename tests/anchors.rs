//! The anchored change log against the emulator: apply signs the chain head with a KMS
//! asymmetric key and writes it to an Object Lock bucket in compliance mode; `log verify
//! --anchors` catches a chain rewritten with every hash recomputed (which `log verify` alone
//! cannot), records removed, and an anchor signed with another key; an anchor can be neither
//! deleted nor have its retention shortened; the evidence pack carries the anchors' check.
//! Apply refuses, changing nothing, when the key cannot sign or the bucket has no Object Lock.

mod support;

use aws_sdk_kms::types::{KeySpec, KeyUsageType, MessageType, SigningAlgorithmSpec};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::{Blob, DateTime};
use baseline::changelog::{encode, Record};
use support::*;

const BUCKET: &str = "acme-change-log-anchors";
const ALIAS: &str = "alias/baseline-change-log-anchor";

fn baseline_text(min_length: u32, anchor: &str) -> String {
    format!(
        r#"
settings {{
    default-regions "us-east-1"
    change-log-anchor {{
{anchor}
    }}
}}
password-policy {{
    targets {{ account "prod-app" "staging-app" }}
    min-length {min_length}
}}
"#
    )
}

const ANCHOR: &str = r#"        key "alias/baseline-change-log-anchor"
        bucket "acme-change-log-anchors"
        account "log-archive"
        retention-days 30"#;

fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// In the log archive account: the signing key (ECC, SIGN_VERIFY) with its alias, and a
/// bucket with Object Lock. Returns the S3 and KMS clients there, and the key's ARN.
async fn seed_anchor_place(
    emulator: &Emulator,
    account: &str,
) -> (aws_sdk_s3::Client, aws_sdk_kms::Client, String) {
    let config = sdk_config(emulator, Some(account)).await;
    let kms = aws_sdk_kms::Client::new(&config);
    let key = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .description("change log anchors")
        .send()
        .await
        .expect("create signing key");
    let arn = key.key_metadata().unwrap().arn().unwrap().to_string();
    // A new key is not visible at once (AWS is eventually consistent; so is the emulator).
    eventually(&["NotFoundException"], || {
        kms.create_alias()
            .alias_name(ALIAS)
            .target_key_id(&arn)
            .send()
    })
    .await;
    let s3 = s3_client(&config);
    s3.create_bucket()
        .bucket(BUCKET)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("create bucket with Object Lock");
    after_consistency_window().await;
    (s3, kms, arn)
}

/// The log with one record's content changed and every hash after it recomputed: a chain
/// that verifies on its own.
fn rewrite_chain(text: &str, at: usize, edit: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut prev: Option<String> = None;
    for (i, line) in text.lines().enumerate() {
        let line = if i == at {
            edit(line)
        } else {
            line.to_string()
        };
        let mut record: Record = serde_json::from_str(&line).unwrap();
        record.hash = None;
        record.prev = prev.clone();
        let (line, hash) = encode(&record);
        out.push_str(&line);
        out.push('\n');
        prev = Some(hash);
    }
    out
}

fn anchor_keys(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("Anchor: s3://acme-change-log-anchors/"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn anchors_catch_a_rewritten_chain_removed_records_and_a_foreign_signature() {
    let emulator = Emulator::start();
    let ids = seed_organization(&emulator).await;
    let (s3, kms, key_arn) = seed_anchor_place(&emulator, &ids["log-archive"]).await;
    let dir = baseline_dir(&baseline_text(14, ANCHOR), &[]);
    let root = dir.path().to_str().unwrap();
    let log_path = dir.path().join("baseline-changes.jsonl");

    // Two applies, two anchors, each naming the head its run left.
    let first = baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    std::fs::write(dir.path().join("baseline.kdl"), baseline_text(16, ANCHOR)).unwrap();
    let second = baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    let keys = [anchor_keys(&first), anchor_keys(&second)].concat();
    assert_eq!(keys.len(), 2, "{}\n{}", first.stdout, second.stdout);
    assert!(second.stdout.contains(&key_arn), "{}", second.stdout);
    let head = second.stdout.rsplit("chain head ").next().unwrap();
    let head = &head[..64];

    let verify = |extra: &[&str]| {
        let mut args = vec!["log", "verify", root, "--anchors"];
        args.extend(extra);
        baseline(&emulator, &args)
    };
    let ok = verify(&[]).expect(0);
    assert_eq!(ok.stdout.matches("anchor ok: ").count(), 2, "{}", ok.stdout);
    assert!(
        ok.stdout.contains(&format!("head {head}")) && ok.stdout.contains("COMPLIANCE until"),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout
            .contains("2 anchors verify with arn:aws:kms:us-east-1:"),
        "{}",
        ok.stdout
    );
    assert!(
        ok.stdout.contains("(0 records after the last)"),
        "{}",
        ok.stdout
    );

    // What S3 keeps: the anchor object is locked in compliance mode, with the head inside.
    let stored = s3
        .get_object()
        .bucket(BUCKET)
        .key(&keys[1])
        .send()
        .await
        .unwrap();
    assert_eq!(
        stored.object_lock_mode().map(|m| m.as_str()),
        Some("COMPLIANCE")
    );
    let version = stored.version_id().unwrap().to_string();
    let body: serde_json::Value =
        serde_json::from_slice(&stored.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(body["head"], head);
    assert_eq!(body["key_arn"], key_arn.as_str());

    // An anchor cannot be removed, nor its retention shortened, while its retention holds.
    let delete = s3
        .delete_object()
        .bucket(BUCKET)
        .key(&keys[1])
        .version_id(&version)
        .send()
        .await;
    let err = delete.expect_err("a locked version cannot be deleted");
    assert_eq!(
        aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&err),
        Some("AccessDenied")
    );
    let shorten = s3
        .put_object_retention()
        .bucket(BUCKET)
        .key(&keys[1])
        .version_id(&version)
        .retention(
            aws_sdk_s3::types::ObjectLockRetention::builder()
                .mode(aws_sdk_s3::types::ObjectLockRetentionMode::Compliance)
                .retain_until_date(DateTime::from_secs(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs() as i64
                        + 60,
                ))
                .build(),
        )
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
        .send()
        .await;
    let err = shorten.expect_err("compliance retention cannot be shortened");
    assert_eq!(
        aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&err),
        Some("AccessDenied")
    );
    // A delete without a version only hides it behind a delete marker: it still counts.
    s3.delete_object()
        .bucket(BUCKET)
        .key(&keys[1])
        .send()
        .await
        .unwrap();
    let hidden = verify(&[]).expect(0);
    assert!(
        hidden.stdout.contains("a delete marker hides"),
        "{}",
        hidden.stdout
    );

    // A forger rewrites the chain, every hash recomputed: plain verify cannot tell...
    let original = std::fs::read_to_string(&log_path).unwrap();
    let intent = original
        .lines()
        .position(|l| l.contains("\"type\":\"intent\""))
        .unwrap();
    let forged = rewrite_chain(&original, intent, |l| l.replace(":14", ":8"));
    assert_ne!(forged, original);
    std::fs::write(&log_path, &forged).unwrap();
    baseline(&emulator, &["log", "verify", root]).expect(0);
    // ... the anchors can.
    let caught = verify(&[]).expect(1);
    assert!(
        caught.stderr.contains("the chain was rewritten"),
        "{}",
        caught.stderr
    );

    // Records removed after the last anchor's head: caught too.
    let lines: Vec<&str> = original.lines().collect();
    std::fs::write(&log_path, lines[..lines.len() - 2].join("\n") + "\n").unwrap();
    baseline(&emulator, &["log", "verify", root]).expect(0);
    let removed = verify(&[]).expect(1);
    assert!(
        removed.stderr.contains("records were removed"),
        "{}",
        removed.stderr
    );
    std::fs::write(&log_path, &original).unwrap();
    verify(&[]).expect(0);

    // An anchor signed with another key is refused, whichever key it claims.
    let other = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    let other_arn = other.key_metadata().unwrap().arn().unwrap().to_string();
    for (claimed, why) in [
        (other_arn.as_str(), "not with the anchor key"),
        (key_arn.as_str(), "signature does not verify"),
    ] {
        let mut fake = body.clone();
        fake["key_arn"] = claimed.into();
        fake["seq"] = 0.into();
        fake["head"] = serde_json::from_str::<Record>(lines[0])
            .unwrap()
            .hash
            .unwrap()
            .into();
        fake.as_object_mut().unwrap().remove("signature");
        let message = serde_json::to_vec(&fake).unwrap();
        let signed = eventually(&["NotFoundException", "KMSInvalidStateException"], || {
            kms.sign()
                .key_id(&other_arn)
                .message(Blob::new(message.clone()))
                .message_type(MessageType::Raw)
                .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
                .send()
        })
        .await;
        fake["signature"] =
            aws_smithy_types::base64::encode(signed.signature().unwrap().as_ref()).into();
        // Over a real anchor's object: a new version, which hides nothing.
        let key = keys[0].as_str();
        let put = s3
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(ByteStream::from(serde_json::to_vec(&fake).unwrap()))
            .send()
            .await
            .unwrap();
        let refused = verify(&[]).expect(1);
        assert!(refused.stderr.contains(why), "{why}: {}", refused.stderr);
        // The real anchor under the same key still verifies, by its version.
        assert_eq!(
            refused.stdout.matches("anchor ok: ").count(),
            2,
            "{}",
            refused.stdout
        );
        // Written without retention, which is a problem of its own.
        assert!(
            refused.stderr.contains("no Object Lock retention"),
            "{}",
            refused.stderr
        );
        s3.delete_object()
            .bucket(BUCKET)
            .key(key)
            .version_id(put.version_id().unwrap())
            .send()
            .await
            .expect("a version without retention can be deleted");
    }
    verify(&[]).expect(0);

    // The evidence pack carries the anchors' check.
    let out = tempfile::tempdir().unwrap();
    let pack = out.path().join("pack");
    let evidence = |out: &std::path::Path| {
        let period = ["--since", "2000-01-01", "--until", "2999-01-01"];
        let mut args = vec!["evidence", root, "--out", out.to_str().unwrap()];
        args.extend(period);
        baseline(&emulator, &args)
    };
    evidence(&pack).expect(0);
    let anchors: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pack.join("change-log-anchors.json")).unwrap())
            .unwrap();
    assert_eq!(anchors["verified"], true);
    assert_eq!(anchors["report"]["anchors"].as_array().unwrap().len(), 2);
    let manifest = std::fs::read_to_string(pack.join("manifest.json")).unwrap();
    assert!(manifest.contains("change-log-anchors.json"), "{manifest}");

    std::fs::write(&log_path, &forged).unwrap();
    let tampered = out.path().join("tampered");
    let run = evidence(&tampered).expect(1);
    assert!(
        run.stderr.contains("anchors do not verify"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_changes_nothing_when_the_anchor_cannot_be_written() {
    let emulator = Emulator::start();
    let ids = seed_organization(&emulator).await;
    let config = sdk_config(&emulator, Some(&ids["log-archive"])).await;
    // An encryption key under the alias, and a bucket without Object Lock.
    let kms = aws_sdk_kms::Client::new(&config);
    let key = kms.create_key().send().await.unwrap();
    eventually(&["NotFoundException"], || {
        kms.create_alias()
            .alias_name(ALIAS)
            .target_key_id(key.key_metadata().unwrap().key_id())
            .send()
    })
    .await;
    let s3 = s3_client(&config);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    after_consistency_window().await;

    let dir = baseline_dir(&baseline_text(14, ANCHOR), &[]);
    let root = dir.path().to_str().unwrap();
    let run = baseline(&emulator, &["apply", root, "--auto-approve"]).expect(1);
    assert!(
        run.stderr.contains(
            "nothing was changed: the change log cannot be anchored: the key \
             alias/baseline-change-log-anchor is not a signing key (its usage is ENCRYPT_DECRYPT)"
        ),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("baseline-changes.jsonl").exists());

    // A signing key now, but still no Object Lock on the bucket.
    let signing = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .send()
        .await
        .unwrap();
    eventually(&["NotFoundException"], || {
        kms.update_alias()
            .alias_name(ALIAS)
            .target_key_id(signing.key_metadata().unwrap().key_id())
            .send()
    })
    .await;
    after_consistency_window().await;
    let run = baseline(&emulator, &["apply", root, "--auto-approve"]).expect(1);
    assert!(
        run.stderr
            .contains("the bucket acme-change-log-anchors has no Object Lock"),
        "{}",
        run.stderr
    );
    // Nothing was changed: the plan still wants both policies.
    let plan = baseline(&emulator, &["plan", root]).expect(0);
    assert!(
        plan.stdout
            .contains("Plan: 2 to create, 0 to adopt, 0 to update"),
        "{}",
        plan.stdout
    );

    // Asking for anchors a baseline does not write is an error, not a silent pass.
    let none = baseline_dir(
        "password-policy { targets { account \"prod-app\" }\n min-length 14 }\n",
        &[],
    );
    let run = baseline(
        &emulator,
        &["log", "verify", none.path().to_str().unwrap(), "--anchors"],
    )
    .expect(1);
    assert!(
        run.stderr.contains("has no `change-log-anchor`"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_names_bad_anchor_settings() {
    let dir = baseline_dir(
        &baseline_text(
            14,
            r#"        key "alias/aws/s3"
        bucket "Not_A_Bucket"
        region "us-east-9"
        retention-days 0"#,
        ),
        &[],
    );
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    for expected in [
        "\"alias/aws/s3\" is not a valid KMS key",
        "\"Not_A_Bucket\" is not a valid bucket name",
        "unknown region \"us-east-9\"",
        "baseline.kdl:5:",
    ] {
        assert!(stderr.contains(expected), "{expected}: {stderr}");
    }
    let dir = baseline_dir(&baseline_text(14, "        account \"log-archive\""), &[]);
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("`change-log-anchor` needs a `key`")
            && stderr.contains("`change-log-anchor` needs a `bucket`"),
        "{stderr}"
    );
}
