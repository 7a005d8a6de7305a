//! `password-policy`: the IAM account password policy of every targeted account.

use super::{no_check, Kind, Naming, Placing};
use crate::lang::diagnostic::{did_you_mean, Problem};
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;

pub static KIND: Kind = Kind {
    keyword: "password-policy",
    summary: "the IAM account password policy",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: false,
    nests: false,
    parse,
    check_all: no_check,
};

pub const CHARACTER_CLASSES: &[&str] = &["symbols", "numbers", "uppercase", "lowercase"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    /// Number of previous passwords that cannot be reused; `None` allows reuse.
    pub reuse_prevention: Option<u32>,
    /// Days before a password expires; `None` never expires.
    pub max_age_days: Option<u32>,
    pub allow_users_to_change: bool,
    pub hard_expiry: bool,
}

impl Spec for PasswordPolicy {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let min_length = r.child_u32("min-length", 6..=128);
    let min_length = r
        .require(min_length, "min-length", "min-length 14")
        .map_or(14, |m| m.value);
    let require = r
        .child_strs("require", "character classes")
        .unwrap_or_default();
    for class in &require {
        if !CHARACTER_CLASSES.contains(&class.value.as_str()) {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    class.span,
                    format!("unknown character class \"{}\"", class.value),
                )
                .label("unknown class")
                .help(did_you_mean(&class.value, CHARACTER_CLASSES)),
            );
        }
    }
    let requires = |c: &str| require.iter().any(|r| r.value == c);
    Box::new(PasswordPolicy {
        min_length,
        require_symbols: requires("symbols"),
        require_numbers: requires("numbers"),
        require_uppercase: requires("uppercase"),
        require_lowercase: requires("lowercase"),
        reuse_prevention: r.child_u32("reuse-prevention", 1..=24).map(|v| v.value),
        max_age_days: r.child_u32("max-age-days", 1..=1095).map(|v| v.value),
        allow_users_to_change: r
            .child_bool("allow-users-to-change")
            .is_none_or(|b| b.value),
        hard_expiry: r.child_bool("hard-expiry").is_some_and(|b| b.value),
    })
}
