//! Resource kinds. Each kind lives in one file: its KDL schema (what its parser reads), its
//! typed spec, and its references. Adding a kind means one new file and one line in [`KINDS`].

use crate::lang::model::{Baseline, Declaration, Spec};
use crate::lang::reader::{Cx, NodeReader};
use crate::lang::source::Spanned;
use crate::provider::Provider;

pub mod access_analyzer;
pub mod account;
pub mod account_public_access_block;
pub mod alert_topic;
pub mod backup_plan;
pub mod backup_vault;
pub mod config_recorder;
pub mod credential_hygiene;
pub mod ebs_encryption;
pub mod guardduty;
pub mod kms_key;
pub mod kms_rotation;
pub mod log_bucket;
pub mod log_group;
pub mod log_retention;
pub mod mfa;
pub mod organization;
pub mod organization_trail;
pub mod organizational_unit;
pub mod password_policy;
pub mod security_alarms;
pub mod security_hub;
pub mod service_control_policy;
pub mod support_role;

/// Every resource kind the language knows, in the order `baseline graph` lists them.
pub static KINDS: &[&Kind] = &[
    &organization::KIND,
    &organizational_unit::KIND,
    &account::KIND,
    &service_control_policy::KIND,
    &kms_key::KIND,
    &log_bucket::KIND,
    &log_group::KIND,
    &alert_topic::KIND,
    &organization_trail::KIND,
    &config_recorder::KIND,
    &security_hub::KIND,
    &security_alarms::KIND,
    &guardduty::KIND,
    &access_analyzer::KIND,
    &backup_vault::KIND,
    &backup_plan::KIND,
    &kms_rotation::KIND,
    &log_retention::KIND,
    &password_policy::KIND,
    &mfa::KIND,
    &credential_hygiene::KIND,
    &support_role::KIND,
    &account_public_access_block::KIND,
    &ebs_encryption::KIND,
];

/// Whether `name` is the kind of a resource baseline manages: a declared kind, or a part of
/// one (as addresses in plans name them).
pub fn is_resource_kind(name: &str) -> bool {
    KINDS
        .iter()
        .any(|k| k.keyword == name || k.parts.contains(&name))
}

/// The kind whose node is called `keyword`.
pub fn by_keyword(keyword: &str) -> Option<&'static Kind> {
    KINDS.iter().copied().find(|k| k.keyword() == keyword)
}

/// How a declaration of a kind is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placing {
    /// Organization-wide, from the management account; no `targets`, `account` or `region`.
    Organization,
    /// One instance: `account "log-archive"` and `region "us-east-1"`, both optional.
    Single,
    /// One instance per targeted account (and region when regional): `targets { ... }`.
    Targets,
}

/// Whether the node takes a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `kind "name" { ... }`
    Required,
    /// `kind { ... }` (named `default`) or `kind "name" { ... }`; at most one per account and
    /// region, because AWS holds one (a password policy, a Config recorder).
    Singleton,
}

/// A resource kind: what the loader needs to know about it, and its AWS provider.
pub struct Kind {
    /// The KDL node name, e.g. `service-control-policy`.
    pub keyword: &'static str,
    /// One line for `--help` and the docs.
    pub summary: &'static str,
    pub naming: Naming,
    pub placing: Placing,
    /// Whether instances are per region (else per account, or organization-wide).
    pub regional: bool,
    /// For a tree-shaped kind (organizational units): children with the same keyword are
    /// declarations of their own, named by path.
    pub nests: bool,
    /// Whether applying it needs the organization's settings first (trusted access, a
    /// delegated administrator) although it is not placed organization-wide: the
    /// organization trail, IAM Access Analyzer, GuardDuty.
    pub needs_organization: bool,
    /// The kinds of the resources a declaration manages besides its own (a recorder's
    /// delivery channel, a plan's selections), as addresses name them.
    pub parts: &'static [&'static str],
    /// Read the node's kind-specific content. Common children (`controls`, `depends-on`,
    /// `prevent-destroy`, `targets`, `account`, `region`) have already been read.
    pub parse: fn(&mut NodeReader, &Spanned<String>) -> Box<dyn Spec>,
    /// Checks across every declaration of this kind (quotas, for instance).
    pub check_all: fn(&Baseline, &[&Declaration], &Cx),
    /// How instances are read from and changed in AWS.
    pub provider: Option<&'static dyn Provider>,
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kind")
            .field("keyword", &self.keyword)
            .finish()
    }
}

impl Kind {
    pub fn keyword(&self) -> &'static str {
        self.keyword
    }
}

/// Report `reference` (from `decl`, to a declaration of `kind`) when the two are placed in
/// different regions or, with `same_account`, different accounts: AWS uses a KMS key, a log
/// group or a topic only where it lives. Sites are compared as written, the home region
/// standing for an unnamed one.
pub fn check_beside(
    baseline: &Baseline,
    decl: &Declaration,
    reference: &Spanned<String>,
    kind: &str,
    same_account: bool,
    cx: &Cx,
    help: &str,
) {
    let Some(target) = baseline.find(kind, &reference.value) else {
        return;
    };
    let home = baseline.settings.home_region();
    fn site<'d>(d: &'d Declaration, home: &str) -> (Option<&'d str>, String) {
        let (account, region) = d.site_as_written();
        (account, region.unwrap_or(home).to_string())
    }
    let (here, there) = (site(decl, &home), site(target, &home));
    if here.1 != there.1 || (same_account && here.0 != there.0) {
        cx.report(
            crate::lang::diagnostic::Problem::new(
                "baseline::invalid-placement",
                reference.span,
                format!(
                    "{kind} \"{}\" is placed elsewhere than this {}",
                    reference.value,
                    decl.kind.keyword()
                ),
            )
            .label(if same_account {
                "not the same account and region"
            } else {
                "not the same region"
            })
            .help(help.to_string()),
        );
    }
}

/// [`check_beside`] for each declaration's KMS key (`key_of` finds it in the spec): a key
/// encrypts only in its own region, so `what` must be declared with the key beside it.
pub fn check_keys_beside(
    baseline: &Baseline,
    decls: &[&Declaration],
    cx: &Cx,
    key_of: impl Fn(&Declaration) -> Option<&Spanned<String>>,
    what: &str,
) {
    for decl in decls {
        if let Some(key) = key_of(decl) {
            check_beside(
                baseline,
                decl,
                key,
                "kms-key",
                false,
                cx,
                &format!("{what} is encrypted with a key of its own region: declare the key there"),
            );
        }
    }
}

/// A `check_all` for kinds with nothing to check across declarations.
pub fn no_check(_: &Baseline, _: &[&Declaration], _: &Cx) {}

/// The spec of a declaration as its concrete type (the kind's own code knows which).
pub fn spec_of<T: 'static>(decl: &Declaration) -> Option<&T> {
    decl.spec.as_any().downcast_ref::<T>()
}

/// Implements the boilerplate `as_any` of a spec type.
#[macro_export]
macro_rules! spec_any {
    () => {
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    };
}
