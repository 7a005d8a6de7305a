//! `kms-rotation`: a rule over every customer-managed key in the targeted accounts and
//! regions: automatic rotation must be on.

use super::kms_key::{DEFAULT_ROTATION_DAYS, ROTATION_DAYS};
use super::{no_check, Kind, Naming, Placing};
use crate::lang::checks::check_kms_alias;
use crate::lang::diagnostic::Problem;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;

pub static KIND: Kind = Kind {
    keyword: "kms-rotation",
    summary: "rotation on for every customer-managed KMS key in the targets",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    parse,
    check_all: no_check,
    provider: None,
};

#[derive(Debug, Clone)]
pub struct KmsRotation {
    pub period_days: u32,
    /// Keys left alone, by alias.
    pub exclude_aliases: Vec<String>,
}

impl Spec for KmsRotation {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    if let Some(cmk) = r.child_bool("customer-managed-keys") {
        if !cmk.value {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    cmk.span,
                    "the rule covers customer-managed keys; #false leaves it nothing to do",
                )
                .label("#false")
                .help("remove the declaration instead"),
            );
        }
    }
    let period_days = r
        .child_u32("period-days", ROTATION_DAYS)
        .map_or(DEFAULT_ROTATION_DAYS, |d| d.value);
    let exclude = r
        .child_strs("exclude-aliases", "key aliases")
        .unwrap_or_default();
    for a in &exclude {
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
    Box::new(KmsRotation {
        period_days,
        exclude_aliases: exclude.into_iter().map(|a| a.value).collect(),
    })
}
