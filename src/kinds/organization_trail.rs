//! `organization-trail`: a CloudTrail trail that logs every account of the organization.

use super::{no_check, Kind, Naming, Placing};
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Reference, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;

pub static KIND: Kind = Kind {
    keyword: "organization-trail",
    summary: "an organization CloudTrail trail writing to a declared log bucket",
    naming: Naming::Required,
    placing: Placing::Single,
    regional: true,
    nests: false,
    parse,
    check_all: no_check,
    provider: None,
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
