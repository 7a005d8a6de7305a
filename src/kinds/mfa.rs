//! `mfa`: MFA requirements. AWS offers no API to turn MFA on for a person, so these are
//! findings: reported, counted as drift, never "remediated".

use super::{no_check, Kind, Naming, Placing};
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;

pub static KIND: Kind = Kind {
    keyword: "mfa",
    summary: "MFA on the root user and on every console user (reported as findings)",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: false,
    nests: false,
    parse,
    check_all: no_check,
    provider: None,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mfa {
    pub root_mfa: bool,
    pub require_for_console_users: bool,
}

impl Spec for Mfa {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    Box::new(Mfa {
        root_mfa: r.child_bool("root-mfa").is_none_or(|b| b.value),
        require_for_console_users: r
            .child_bool("require-for-console-users")
            .is_none_or(|b| b.value),
    })
}
