//! `backup-vault`: an AWS Backup vault, optionally with a vault lock.

use super::{no_check, Kind, Naming, Placing};
use crate::lang::diagnostic::Problem;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::{Span, Spanned};

pub static KIND: Kind = Kind {
    keyword: "backup-vault",
    summary: "an AWS Backup vault with an optional vault lock",
    naming: Naming::Required,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    parse,
    check_all: no_check,
    provider: None,
};

/// Retention bounds AWS Backup accepts for a vault lock, in days.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=36500;

#[derive(Debug, Clone)]
pub struct VaultLock {
    pub min_retention_days: u32,
    pub max_retention_days: u32,
    /// Compliance mode: the lock becomes immutable after this many days (at least 3).
    pub changeable_for_days: Option<u32>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct BackupVault {
    pub lock: Option<VaultLock>,
}

impl Spec for BackupVault {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    let valid = (2..=50).contains(&name.value.len())
        && name
            .value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                name.span,
                format!("\"{}\" is not a valid vault name", name.value),
            )
            .label("invalid vault name")
            .help("a vault name has 2 to 50 letters, digits, `-` or `_`"),
        );
    }
    let lock = r.child("lock").map(|mut c| {
        let min = c.prop_u32("min-retention-days", RETENTION_DAYS);
        let max = c.prop_u32("max-retention-days", RETENTION_DAYS);
        let changeable = c.prop_u32("changeable-for-days", 3..=36500);
        let span = c.name_span();
        if let (Some(lo), Some(hi)) = (&min, &max) {
            if lo.value > hi.value {
                c.report(
                    Problem::new(
                        "baseline::invalid-value",
                        hi.span,
                        "the maximum retention is below the minimum",
                    )
                    .label(format!("{} < {}", hi.value, lo.value))
                    .also(lo.span, "minimum"),
                );
            }
        }
        c.finish();
        VaultLock {
            min_retention_days: min.map_or(1, |m| m.value),
            max_retention_days: max.map_or(*RETENTION_DAYS.end(), |m| m.value),
            changeable_for_days: changeable.map(|c| c.value),
            span,
        }
    });
    Box::new(BackupVault { lock })
}
