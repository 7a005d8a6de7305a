//! `log-bucket`: an S3 bucket that receives logs (CloudTrail, Config), encrypted and private.

use super::{no_check, Kind, Naming, Placing};
use crate::lang::checks::check_bucket_name;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Reference, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;

pub static KIND: Kind = Kind {
    keyword: "log-bucket",
    summary: "an encrypted, versioned, private S3 bucket for logs",
    naming: Naming::Required,
    placing: Placing::Single,
    regional: true,
    nests: false,
    parse,
    check_all: no_check,
    provider: None,
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
