//! `kms-key`: a customer-managed KMS key, found by its alias, with rotation.

use super::{no_check, Kind, Naming, Placing};
use crate::lang::checks::check_kms_alias;
use crate::lang::diagnostic::Problem;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;

pub static KIND: Kind = Kind {
    keyword: "kms-key",
    summary: "a customer-managed KMS key (by alias) with automatic rotation",
    naming: Naming::Required,
    placing: Placing::Single,
    regional: true,
    nests: false,
    parse,
    check_all: no_check,
    provider: None,
};

/// KMS accepts a rotation period of 90 to 2560 days.
pub const ROTATION_DAYS: std::ops::RangeInclusive<u32> = 90..=2560;
pub const DEFAULT_ROTATION_DAYS: u32 = 365;

#[derive(Debug, Clone)]
pub struct KmsKey {
    /// `alias/...`: the key's natural key.
    pub alias: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    pub rotation: bool,
    pub rotation_period_days: u32,
}

impl Spec for KmsKey {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let alias = r.child_str("alias", "the key's alias");
    let alias = r.require(alias, "alias", "alias \"alias/org-logs\"");
    if let Some(a) = &alias {
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
    let description = r.child_str("description", "a description");
    let (mut rotation, mut rotation_period_days) = (true, DEFAULT_ROTATION_DAYS);
    if let Some(mut c) = r.child("rotation") {
        if let Some(on) = c.arg_bool_or_flag() {
            rotation = on.value;
        }
        if let Some(days) = c.prop_u32("period-days", ROTATION_DAYS) {
            rotation_period_days = days.value;
        }
        c.finish();
    }
    Box::new(KmsKey {
        alias,
        description,
        rotation,
        rotation_period_days,
    })
}
