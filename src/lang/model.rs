//! The typed model a baseline loads into: settings plus one [`Declaration`] per resource node.
//!
//! What is common to every kind (name, controls, dependencies, placement) lives here; what a
//! kind declares about itself lives in its [`Spec`], defined in the kind's own file.

use std::any::Any;
use std::fmt::Debug;

use super::source::{FileId, Sources, Span, Spanned};
use super::targets::Targets;
use crate::kinds::Kind;

/// A loaded, validated baseline.
#[derive(Debug)]
pub struct Baseline {
    pub root: FileId,
    pub sources: Sources,
    pub settings: Settings,
    pub declarations: Vec<Declaration>,
    /// `statement-of-applicability`: controls declared not applicable (with why), or
    /// applicable with how they are met outside what baseline enforces.
    pub applicability: Vec<Applicability>,
    /// `waiver`s: accepted deviations, with who owns them and until when.
    pub waivers: Vec<Waiver>,
}

/// An accepted deviation: drift of the instances its address matches is shown as waived,
/// not applied and not counted as drift, until the end of its expiry day (UTC).
#[derive(Debug, Clone)]
pub struct Waiver {
    pub name: Spanned<String>,
    /// An instance address, `*` matching any run of characters; without `[...]` it covers
    /// every instance of the declarations it names.
    pub address: Spanned<String>,
    pub control: Option<String>,
    pub owner: String,
    pub ticket: Option<String>,
    pub reason: String,
    /// The last day it holds, `YYYY-MM-DD`.
    pub expires: String,
}

impl Waiver {
    /// Whether it covers the instance at `address` (`kind.name[site]`).
    pub fn covers(&self, address: &str) -> bool {
        let pattern = &self.address.value;
        crate::expand::glob_match(pattern, address)
            || (!pattern.contains('[')
                && address.split_once('[').is_some_and(|(declaration, _)| {
                    crate::expand::glob_match(pattern, declaration)
                }))
    }

    /// Whether it may cover instances of the declaration (or part) at `address`
    /// (`kind.name`): what its address says before any `[...]` matches.
    pub fn may_cover_declaration(&self, address: &str) -> bool {
        let pattern = &self.address.value;
        let declaration = pattern.split('[').next().unwrap_or(pattern);
        crate::expand::glob_match(declaration, address)
    }

    /// Whether it has run out on `today` (`YYYY-MM-DD`): ISO dates order as text.
    pub fn expired(&self, today: &str) -> bool {
        today > self.expires.as_str()
    }
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    humantime::format_rfc3339(std::time::SystemTime::now()).to_string()[..10].to_string()
}

/// One entry of the statement of applicability.
#[derive(Debug, Clone)]
pub struct Applicability {
    /// A control tag, e.g. `ISO27001:2022:A.7.1`.
    pub control: Spanned<String>,
    pub applicable: bool,
    pub justification: String,
}

impl Baseline {
    /// The names declared for `kind` (what its orphans are told apart from).
    pub fn names_of(&self, kind: &Kind) -> Vec<&str> {
        self.declarations
            .iter()
            .filter(|d| std::ptr::eq(d.kind, kind))
            .map(|d| d.name.value.as_str())
            .collect()
    }

    /// The declaration of `keyword` called `name`, if any.
    pub fn find(&self, keyword: &str, name: &str) -> Option<&Declaration> {
        self.declarations
            .iter()
            .find(|d| d.kind.keyword() == keyword && d.name.value == name)
    }
}

/// The `settings` node: defaults that apply to the whole baseline.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Role assumed in member accounts.
    pub access_role: String,
    /// Regions used by targets that name none.
    pub default_regions: Vec<Spanned<String>>,
    /// Upper bound on concurrent AWS work during plan and apply.
    pub max_concurrency: u32,
    /// Where the change log is written, relative to the root file.
    pub change_log: Option<Spanned<String>>,
    /// Where apply anchors the change log's head (signed, under S3 Object Lock).
    pub anchor: Option<AnchorSettings>,
    pub span: Option<Span>,
}

/// `change-log-anchor { key; bucket; account; region; retention-days; prefix }`: after each
/// apply that changed something, the chain head is signed with `key` (a KMS asymmetric
/// signing key) and written to `bucket` (with Object Lock) in compliance mode, so a chain
/// rewritten later, every hash recomputed, no longer matches its anchors.
#[derive(Debug, Clone)]
pub struct AnchorSettings {
    /// Key id, key ARN or `alias/...`.
    pub key: String,
    pub bucket: String,
    /// Account name or id holding the key and the bucket; the management account when absent.
    pub account: Option<String>,
    /// Region of the key and the bucket; the first default region when absent.
    pub region: Option<String>,
    pub retention_days: u32,
    /// Key prefix of the anchors in the bucket: one per change log.
    pub prefix: String,
    pub span: Span,
}

impl AnchorSettings {
    /// Seven years: what SOC 2 and ISO 27001 programmes commonly keep change evidence for.
    pub const DEFAULT_RETENTION_DAYS: u32 = 2557;
    pub const DEFAULT_PREFIX: &'static str = "change-log-anchors/";
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            access_role: "OrganizationAccountAccessRole".to_string(),
            default_regions: Vec::new(),
            max_concurrency: 16,
            change_log: None,
            anchor: None,
            span: None,
        }
    }
}

impl Settings {
    pub const FALLBACK_REGION: &'static str = "us-east-1";

    /// The regions a target without `regions` deploys to.
    pub fn regions(&self) -> Vec<String> {
        if self.default_regions.is_empty() {
            vec![Self::FALLBACK_REGION.to_string()]
        } else {
            self.default_regions
                .iter()
                .map(|r| r.value.clone())
                .collect()
        }
    }

    /// The region of single-instance resources that name none.
    pub fn home_region(&self) -> String {
        self.regions().remove(0)
    }
}

/// Where a declaration's instances live.
#[derive(Debug, Clone)]
pub enum Placement {
    /// Organization-wide, managed from the management account (OUs, SCPs, ...).
    Organization,
    /// One instance in one account and region (a key, a bucket, the organization trail).
    /// `None` means the management account, or the settings' first region.
    Single {
        account: Option<Spanned<String>>,
        region: Option<Spanned<String>>,
    },
    /// One instance per targeted account (and region, for regional kinds).
    Targets(Targets),
}

/// One resource node of the baseline, e.g. `service-control-policy "deny-leave-organization"`.
#[derive(Debug)]
pub struct Declaration {
    pub kind: &'static Kind,
    pub name: Spanned<String>,
    /// The whole node.
    pub span: Span,
    /// `controls "SOC2:CC6.1" "ISO27001:2022:A.5.15"`.
    pub controls: Vec<Spanned<String>>,
    /// Whether the kind's default control mapping applies too (`controls ... default=#false`
    /// turns it off, so that the tags are the whole mapping).
    pub default_controls: bool,
    /// `depends-on "kind.name"`: explicit edges, as in Terraform.
    pub depends_on: Vec<Spanned<String>>,
    /// `prevent-destroy`: refuse to delete this resource even when it becomes an orphan.
    pub prevent_destroy: bool,
    /// `observe`: read and report the resource (its drift counts in the controls report),
    /// never change, adopt or tag it: for what another tool owns.
    pub observe: bool,
    pub placement: Placement,
    pub spec: Box<dyn Spec>,
}

impl Declaration {
    /// `kind.name`, the declaration's address without an instance key.
    pub fn address(&self) -> String {
        format!("{}.{}", self.kind.keyword(), self.name.value)
    }

    /// The account and region a single-placed declaration names, as written (`None`: the
    /// management account, the home region); both `None` for other placements.
    pub fn site_as_written(&self) -> (Option<&str>, Option<&str>) {
        match &self.placement {
            Placement::Single { account, region } => (
                account.as_ref().map(|a| a.value.as_str()),
                region.as_ref().map(|r| r.value.as_str()),
            ),
            _ => (None, None),
        }
    }
}

/// A reference from one declaration to another, e.g. `bucket "org-trail-logs"`.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Keyword of the referenced kind, e.g. `log-bucket`.
    pub kind: &'static str,
    pub name: Spanned<String>,
    /// Which of the declaring resource's parts needs the referenced one (index into `parts`).
    pub part: usize,
}

impl Reference {
    pub fn new(kind: &'static str, name: &Spanned<String>) -> Self {
        Reference {
            kind,
            name: name.clone(),
            part: 0,
        }
    }

    pub fn from_part(mut self, part: usize) -> Self {
        self.part = part;
        self
    }
}

/// One AWS resource a declaration manages. Most declarations have exactly one part; a Config
/// recorder has four (recorder, delivery channel, recording status, each rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Resource kind, used in addresses: `config-delivery-channel`.
    pub kind: String,
    /// Resource name, used in addresses: `default`, `daily/tagged`.
    pub name: String,
    /// Indexes of earlier parts of the same declaration this one needs.
    pub after: Vec<usize>,
    /// One instance per account (in the home region), however many regions the declaration
    /// targets: for account-wide resources of a regional kind (an IAM role).
    pub per_account: bool,
}

/// What a kind parsed from its node. Each kind defines its own type.
pub trait Spec: Debug + Send + Sync + Any {
    /// References to other declarations (graph edges and checked for existence).
    fn references(&self) -> Vec<Reference> {
        Vec::new()
    }

    /// Parts beyond the primary one, e.g. a Config recorder's delivery channel.
    fn extra_parts(&self, _name: &str) -> Vec<Part> {
        Vec::new()
    }

    fn as_any(&self) -> &dyn Any;
}
