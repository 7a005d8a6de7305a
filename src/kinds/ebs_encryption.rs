//! `ebs-encryption`: EBS encryption by default in each targeted account and region, with
//! AWS's key for EBS or a declared KMS key (CIS AWS Foundations v3.0, 2.2.1).

use async_trait::async_trait;
use serde_json::{json, Value};

use super::kms_key::{alias_of, existing_key_arn, key_arn};
use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::model::{Reference, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{self, Attrs, ChangeRequest, Ctx, Observed, Provider};

pub static KIND: Kind = Kind {
    keyword: "ebs-encryption",
    summary: "EBS encryption by default, optionally with a declared KMS key (CIS 2.2.1)",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&EbsEncryptionProvider),
};

/// The key EBS uses unless told otherwise.
const AWS_KEY: &str = "alias/aws/ebs";

#[derive(Debug, Clone)]
pub struct EbsEncryption {
    pub kms_key: Option<Spanned<String>>,
}

impl Spec for EbsEncryption {
    fn references(&self) -> Vec<Reference> {
        self.kms_key
            .iter()
            .map(|k| Reference::new("kms-key", k))
            .collect()
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let kms_key = r.child_str("kms-key", "the name of a declared kms-key");
    Box::new(EbsEncryption { kms_key })
}

// --- AWS -------------------------------------------------------------------------------

/// An account and region's defaults: nothing to tag, create or delete.
pub struct EbsEncryptionProvider;

fn wanted_key(cx: &Ctx<'_>, spec: &EbsEncryption) -> String {
    spec.kms_key
        .as_ref()
        .map_or_else(|| AWS_KEY.to_string(), |k| alias_of(cx, &k.value))
}

#[async_trait]
impl Provider for EbsEncryptionProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        let mut a = Attrs::new();
        if let Some(spec) = spec_of::<EbsEncryption>(cx.decl(inst)) {
            a.insert("encrypted-by-default".into(), json!(true));
            a.insert("kms-key".into(), json!(wanted_key(cx, spec)));
        }
        a
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let Some(spec) = spec_of::<EbsEncryption>(cx.decl(inst)) else {
            return Ok(Observed::absent());
        };
        let ec2 = cx.aws.ec2(&inst.account_id, &inst.region).await?;
        let on = ec2
            .get_ebs_encryption_by_default()
            .send()
            .await
            .ctx("ec2:GetEbsEncryptionByDefault")?
            .ebs_encryption_by_default()
            .unwrap_or(false);
        let key = ec2
            .get_ebs_default_kms_key_id()
            .send()
            .await
            .ctx("ec2:GetEbsDefaultKmsKeyId")?
            .kms_key_id()
            .map(str::to_string);
        // EBS answers with its own key's alias (bare, or as an alias ARN) or a key's ARN.
        let key = match key {
            None => json!(AWS_KEY),
            Some(arn) if arn == AWS_KEY || arn.ends_with(&format!(":{AWS_KEY}")) => json!(AWS_KEY),
            Some(arn) => match &spec.kms_key {
                Some(k) if key_arn(cx, &k.value).await?.as_deref() == Some(arn.as_str()) => {
                    json!(alias_of(cx, &k.value))
                }
                _ => Value::String(arn),
            },
        };
        let mut live = Attrs::new();
        live.insert("encrypted-by-default".into(), json!(on));
        live.insert("kms-key".into(), key);
        Ok(Observed::present(live, Attrs::new(), None))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<EbsEncryption>(cx.decl(inst)) else {
            return Ok(());
        };
        let ec2 = cx.aws.ec2(&inst.account_id, &inst.region).await?;
        if change.changes("kms-key") {
            match &spec.kms_key {
                Some(k) => {
                    let arn = existing_key_arn(cx, &k.value).await?;
                    ec2.modify_ebs_default_kms_key_id()
                        .kms_key_id(arn)
                        .send()
                        .await
                        .ctx("ec2:ModifyEbsDefaultKmsKeyId")?;
                }
                None => {
                    ec2.reset_ebs_default_kms_key_id()
                        .send()
                        .await
                        .ctx("ec2:ResetEbsDefaultKmsKeyId")?;
                }
            }
        }
        if change.changes("encrypted-by-default") {
            ec2.enable_ebs_encryption_by_default()
                .send()
                .await
                .ctx("ec2:EnableEbsEncryptionByDefault")?;
        }
        Ok(())
    }
}
