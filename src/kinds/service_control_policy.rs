//! `service-control-policy`: an SCP, its document and where it is attached.

use std::collections::BTreeMap;

use super::{spec_of, Kind, Naming, Placing};
use crate::lang::checks::SCP_MAX_CHARS;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Baseline, Declaration, Reference, Spec};
use crate::lang::policy::{parse_document, PolicyDocument, PolicyRules};
use crate::lang::reader::{Cx, NodeReader};
use crate::lang::source::{Span, Spanned};
use crate::lang::targets::check_account_ref;

pub static KIND: Kind = Kind {
    keyword: "service-control-policy",
    summary: "a service control policy and its attachments (root, OUs, accounts)",
    naming: Naming::Required,
    placing: Placing::Organization,
    regional: false,
    nests: false,
    parse,
    check_all: check_attachment_quota,
    provider: None,
};

/// AWS allows 5 SCPs per root, OU or account, and `FullAWSAccess` (attached by default, and
/// never detached by baseline) is one of them.
pub const MAX_SCPS_PER_TARGET: usize = 5;
pub const RESERVED_BY_FULL_AWS_ACCESS: usize = 1;

/// Where an SCP is attached.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AttachTarget {
    Root,
    /// OU path.
    Ou(String),
    /// Account name or id.
    Account(String),
}

impl std::fmt::Display for AttachTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttachTarget::Root => write!(f, "the root"),
            AttachTarget::Ou(p) => write!(f, "OU \"{p}\""),
            AttachTarget::Account(a) => write!(f, "account \"{a}\""),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServiceControlPolicy {
    pub description: Option<Spanned<String>>,
    pub document: Option<PolicyDocument>,
    pub attachments: Vec<Spanned<AttachTarget>>,
}

impl Spec for ServiceControlPolicy {
    fn references(&self) -> Vec<Reference> {
        self.attachments
            .iter()
            .filter_map(|a| match &a.value {
                AttachTarget::Ou(path) => Some(Reference::new(
                    "organizational-unit",
                    &Spanned::new(path.clone(), a.span),
                )),
                _ => None,
            })
            .collect()
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let description = r.child_str("description", "a description");
    if let Some(d) = description
        .as_ref()
        .filter(|d| d.value.chars().count() > 512)
    {
        r.report(
            Problem::new(
                "baseline::out-of-range",
                d.span,
                "an SCP description has at most 512 characters",
            )
            .label(format!("{} characters", d.value.chars().count())),
        );
    }
    let rules = PolicyRules {
        allow_principal: false,
        max_chars: SCP_MAX_CHARS,
        what: "SCP",
    };
    let document = match r.child("document") {
        Some(d) => parse_document(d, rules),
        None => r.require(None, "document", "document file=\"policies/name.json\""),
    };
    let attachments = r
        .children("attach")
        .into_iter()
        .filter_map(parse_attach)
        .collect();
    Box::new(ServiceControlPolicy {
        description,
        document,
        attachments,
    })
}

fn parse_attach(mut c: NodeReader) -> Option<Spanned<AttachTarget>> {
    let root = c
        .prop_bool("root")
        .filter(|b| b.value)
        .map(|b| (AttachTarget::Root, b.span));
    let ou = c
        .prop_str("ou")
        .map(|o| (AttachTarget::Ou(o.value), o.span));
    let account = c.prop_str("account");
    if let Some(a) = &account {
        check_account_ref(&c, a);
    }
    let account = account.map(|a| (AttachTarget::Account(a.value), a.span));
    let given: Vec<_> = [root, ou, account].into_iter().flatten().collect();
    let attached = match given.as_slice() {
        [(target, span)] => Some(Spanned::new(target.clone(), *span)),
        // An unknown property is reported by `finish`; "no target" would only repeat it.
        [] if c.node.entries().iter().any(|e| e.name().is_some()) => None,
        [] => {
            c.report(
                Problem::new(
                    "baseline::missing-value",
                    c.name_span(),
                    "`attach` names no target",
                )
                .label("nothing to attach to")
                .help(
                    "write `attach root=#true`, `attach ou=\"Path\"` or `attach account=\"name\"`",
                ),
            );
            None
        }
        [_, (_, second), ..] => {
            c.report(
                Problem::new(
                    "baseline::conflicting-targets",
                    *second,
                    "`attach` takes one target",
                )
                .label("second target")
                .help("write one `attach` per target"),
            );
            None
        }
    };
    c.finish();
    attached
}

/// More SCPs on one target than AWS allows.
fn check_attachment_quota(_baseline: &Baseline, decls: &[&Declaration], cx: &Cx) {
    let mut per_target: BTreeMap<AttachTarget, Vec<(Span, String)>> = BTreeMap::new();
    for decl in decls {
        let Some(scp) = spec_of::<ServiceControlPolicy>(decl) else {
            continue;
        };
        for a in &scp.attachments {
            per_target
                .entry(a.value.clone())
                .or_default()
                .push((a.span, decl.name.value.clone()));
        }
    }
    let limit = MAX_SCPS_PER_TARGET - RESERVED_BY_FULL_AWS_ACCESS;
    for (target, attached) in per_target {
        if attached.len() > limit {
            let names: Vec<_> = attached.iter().map(|(_, n)| n.as_str()).collect();
            let mut p = Problem::new(
                "baseline::too-many-scps",
                attached[limit].0,
                format!(
                    "{target} would have {} SCPs: these {} and FullAWSAccess; AWS allows {MAX_SCPS_PER_TARGET} per target",
                    attached.len() + RESERVED_BY_FULL_AWS_ACCESS,
                    attached.len()
                ),
            )
            .label("one attachment too many")
            .help(format!("merge some of these policies: {}", names.join(", ")));
            for (span, _) in attached.iter().take(limit) {
                p = p.also(*span, "attached here");
            }
            cx.report(p);
        }
    }
}
