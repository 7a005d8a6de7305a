//! `organization`: the organization's own settings (feature set, enabled policy types,
//! trusted service access, delegated administrators).

use super::{no_check, Kind, Naming, Placing};
use crate::lang::diagnostic::{did_you_mean, Problem};
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::lang::targets::check_account_ref;

pub static KIND: Kind = Kind {
    keyword: "organization",
    summary:
        "organization settings: policy types, trusted service access, delegated administrators",
    naming: Naming::Singleton,
    placing: Placing::Organization,
    regional: false,
    nests: false,
    parse,
    check_all: no_check,
    provider: None,
};

pub const POLICY_TYPES: &[&str] = &[
    "SERVICE_CONTROL_POLICY",
    "RESOURCE_CONTROL_POLICY",
    "TAG_POLICY",
    "BACKUP_POLICY",
    "AISERVICES_OPT_OUT_POLICY",
    "CHATBOT_POLICY",
    "DECLARATIVE_POLICY_EC2",
];

#[derive(Debug, Clone)]
pub struct DelegatedAdministrator {
    /// Service principal, e.g. `securityhub.amazonaws.com`.
    pub service: Spanned<String>,
    /// Account name or id.
    pub account: Spanned<String>,
}

#[derive(Debug, Clone)]
pub struct Organization {
    /// Policy types enabled on the root.
    pub policy_types: Vec<Spanned<String>>,
    /// Services granted trusted access (`EnableAWSServiceAccess`).
    pub trusted_services: Vec<Spanned<String>>,
    pub delegated_administrators: Vec<DelegatedAdministrator>,
}

impl Spec for Organization {
    crate::spec_any!();
}

fn service_principal(r: &NodeReader, s: &Spanned<String>) {
    let ok = s.value.ends_with(".amazonaws.com")
        && s.value.len() > ".amazonaws.com".len()
        && s.value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    if !ok {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                s.span,
                format!("\"{}\" is not a service principal", s.value),
            )
            .label("expected name.amazonaws.com")
            .help("write the service principal, e.g. \"cloudtrail.amazonaws.com\""),
        );
    }
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    if let Some(fs) = r.child_str("feature-set", "the feature set") {
        if fs.value != "ALL" {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    fs.span,
                    "only the `ALL` feature set is supported",
                )
                .label("not ALL")
                .help("service control policies and trusted access need all features enabled"),
            );
        }
    }
    let policy_types = r
        .child_strs("policy-types", "policy types")
        .unwrap_or_default();
    for t in &policy_types {
        if !POLICY_TYPES.contains(&t.value.as_str()) {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    t.span,
                    format!("unknown policy type \"{}\"", t.value),
                )
                .label("unknown policy type")
                .help(did_you_mean(&t.value, POLICY_TYPES)),
            );
        }
    }
    let trusted_services = r
        .child_strs("trusted-services", "service principals")
        .unwrap_or_default();
    for s in &trusted_services {
        service_principal(r, s);
    }
    let delegated_administrators = r
        .children("delegated-administrator")
        .into_iter()
        .filter_map(|mut c| {
            let service = c.arg_str(0, "the service principal");
            let account = c.required_prop_str("account");
            if let Some(s) = &service {
                service_principal(&c, s);
            }
            if let Some(a) = &account {
                check_account_ref(&c, a);
            }
            c.finish();
            Some(DelegatedAdministrator {
                service: service?,
                account: account?,
            })
        })
        .collect();
    Box::new(Organization {
        policy_types,
        trusted_services,
        delegated_administrators,
    })
}
