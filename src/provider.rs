//! The provider boundary: what every resource kind implements to be planned and applied.
//!
//! A provider turns a declaration into desired attributes (pure), reads the live attributes
//! of one instance from AWS, and applies one planned change. The planner compares the two
//! attribute maps generically, so providers never decide what drifted; they only say how
//! AWS represents a resource and how to change it. Providers live in their kind's file.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::aws::{Aws, AwsError};
use crate::expand::Instance;
use crate::lang::model::{Baseline, Declaration};
use crate::org::OrgStructure;

/// Attribute name -> value. Values are JSON so that policy documents compare semantically
/// (object key order never matters) and plans serialise as they are.
pub type Attrs = serde_json::Map<String, Value>;

/// The tag baseline puts on what it manages, where AWS allows tags.
pub const MANAGED_TAG_KEY: &str = "managed-by";
pub const MANAGED_TAG_VALUE: &str = "baseline";

/// `v` with the keys of every object sorted: the canonical form in which JSON documents are
/// shown and compared as text.
pub fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: std::collections::BTreeMap<&String, Value> =
                m.iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// Whether one tag (key, value) is baseline's ownership tag. Each SDK has its own tag
/// type, with the key and value optional in some and not in others.
pub fn is_managed_tag<'a>(
    key: impl Into<Option<&'a str>>,
    value: impl Into<Option<&'a str>>,
) -> bool {
    key.into() == Some(MANAGED_TAG_KEY) && value.into() == Some(MANAGED_TAG_VALUE)
}

/// A resource as AWS has it now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Live {
    /// Compared with the desired attributes, key by key (keys not desired are ignored).
    pub attrs: Attrs,
    /// Identifiers that apply needs (ids, ARNs); never compared.
    #[serde(default, skip_serializing_if = "Attrs::is_empty")]
    pub ids: Attrs,
    /// Whether it carries baseline's ownership tag; `None` for resources AWS cannot tag
    /// (account singletons such as the password policy).
    pub managed: Option<bool>,
}

/// A requirement that no API call can remediate (root user without MFA), reported as drift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub message: String,
}

/// What a provider read for one instance.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub live: Option<Live>,
    pub findings: Vec<Finding>,
    /// Who else configures this instance (Security Hub's central configuration, say): the
    /// plan reports it and changes nothing, rather than fight the other owner.
    pub owner: Option<String>,
}

/// What one scan of a site found that no declaration names.
#[derive(Debug, Clone, Default)]
pub struct Undeclared {
    /// Baseline's, no longer declared: (name, live state), deleted by apply.
    pub orphans: Vec<(String, Live)>,
    /// Another tool's: (name, owner), listed and never touched.
    pub others: Vec<(String, String)>,
}

impl Observed {
    pub fn absent() -> Observed {
        Observed::default()
    }

    pub fn present(attrs: Attrs, ids: Attrs, managed: Option<bool>) -> Observed {
        Observed {
            live: Some(Live {
                attrs,
                ids,
                managed,
            }),
            findings: Vec::new(),
            owner: None,
        }
    }

    /// The tool that owns the resource instead of baseline, if another does
    /// ([`crate::coexist::owner_of`]).
    pub fn owned_by(mut self, owner: Option<String>) -> Observed {
        self.owner = owner;
        self
    }
}

/// What apply does to one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    /// Take over an existing, untagged resource with the declared natural key (tag it and
    /// bring its attributes in line).
    Adopt,
    Update,
    /// Delete and create again: an attribute AWS cannot change in place.
    Replace,
    /// A managed resource that is no longer declared.
    Delete,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Adopt => "adopt",
            Action::Update => "update in place",
            Action::Replace => "replace",
            Action::Delete => "delete",
        }
    }
}

/// One attribute that differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrDiff {
    pub name: String,
    /// `null` when the resource does not exist yet or has no value.
    pub before: Value,
    /// `null` when the resource is deleted.
    pub after: Value,
}

/// Everything a provider's apply gets: the desired attributes, what was read, and the diff.
#[derive(Debug, Clone)]
pub struct ChangeRequest<'a> {
    pub action: Action,
    pub desired: &'a Attrs,
    pub live: Option<&'a Live>,
    pub diffs: &'a [AttrDiff],
}

impl ChangeRequest<'_> {
    /// Whether attribute `name` changes.
    pub fn changes(&self, name: &str) -> bool {
        self.diffs.iter().any(|d| d.name == name)
    }

    /// The strings of a list attribute as AWS had it at plan time (empty when absent).
    pub fn live_strings(&self, name: &str) -> std::collections::BTreeSet<String> {
        self.live
            .and_then(|l| l.attrs.get(name))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A live identifier recorded at plan time.
    pub fn id(&self, name: &str) -> Option<&str> {
        self.live?.ids.get(name)?.as_str()
    }
}

/// What providers may use: the AWS session, the baseline, the organization's structure and
/// what other providers learned in this run.
pub struct Ctx<'a> {
    pub aws: &'a Aws,
    pub baseline: &'a Baseline,
    pub org: &'a OrgStructure,
    pub outputs: &'a Outputs,
}

/// Identifiers that a provider learned about a declared resource, by reading or creating
/// it, and that its dependents need (a KMS key's ARN, say). Dependents take them from here
/// instead of resolving the resource's name again, which AWS may not do yet for a moment
/// after the resource was created.
#[derive(Debug, Default)]
pub struct Outputs(std::sync::Mutex<std::collections::HashMap<(String, String), Output>>);

/// What is known of one declared resource, by (kind, declaration name).
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub values: Attrs,
    /// Whether this run created it: AWS may not know it everywhere yet.
    pub created: bool,
}

impl Outputs {
    /// Record `values` of the declaration `name` of `kind`; `created` when this run made it.
    pub fn publish(&self, kind: &str, name: &str, values: Attrs, created: bool) {
        let mut all = self.0.lock().expect("outputs lock");
        let entry = all.entry((kind.to_string(), name.to_string())).or_default();
        entry.values.extend(values);
        entry.created |= created;
    }

    /// What was recorded of the declaration `name` of `kind`.
    pub fn get(&self, kind: &str, name: &str) -> Option<Output> {
        self.0
            .lock()
            .expect("outputs lock")
            .get(&(kind.to_string(), name.to_string()))
            .cloned()
    }
}

impl<'a> Ctx<'a> {
    pub fn decl(&self, inst: &Instance) -> &'a Declaration {
        &self.baseline.declarations[inst.decl]
    }

    /// The account id of a declaration placed with `account "name"`, or the management
    /// account when it names none.
    pub fn account_of(&self, decl: &Declaration) -> String {
        use crate::lang::model::Placement;
        match &decl.placement {
            Placement::Single {
                account: Some(a), ..
            } => self
                .org
                .account(&a.value)
                .map_or_else(|| a.value.clone(), |acc| acc.id.clone()),
            _ => self.org.management_account_id.clone(),
        }
    }

    /// The region of a declaration placed with `region`, else the home region.
    pub fn region_of(&self, decl: &Declaration) -> String {
        use crate::lang::model::Placement;
        match &decl.placement {
            Placement::Single {
                region: Some(r), ..
            } => r.value.clone(),
            _ => self.baseline.settings.home_region(),
        }
    }
}

/// Errors of a provider: a failed AWS call, or a state baseline cannot work with.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Aws(#[from] AwsError),
    #[error("{0}")]
    State(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// A resource kind's link to AWS. One implementation per kind, in the kind's file; a kind
/// with several parts (recorder, delivery channel, recording) dispatches on
/// `inst.address.kind`.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The desired attributes of an instance: a pure function of the declaration.
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs;

    /// Read the instance's live state. Absent is `Observed::absent()`, not an error.
    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> Result<Observed>;

    /// Make AWS match: create, adopt, update or replace as planned.
    async fn apply(&self, cx: &Ctx<'_>, inst: &Instance, change: &ChangeRequest<'_>) -> Result<()>;

    /// Attributes AWS cannot change in place: a difference in one of them means replace.
    fn replace_on(&self) -> &'static [&'static str] {
        &[]
    }

    /// Resources of this kind in `account_id`/`region` that no declaration names
    /// (`declared` lists the names that are declared), found in one scan of the site:
    /// the orphans (baseline's ownership tag, no longer declared) and other tools'
    /// resources. Only kinds whose removal is safe look for orphans: protective resources
    /// (trails, keys, recorders, vaults) are retained when their declaration goes, so the
    /// default finds nothing, with no call.
    async fn undeclared(
        &self,
        _cx: &Ctx<'_>,
        _account_id: &str,
        _region: &str,
        _declared: &[&str],
    ) -> Result<Undeclared> {
        Ok(Undeclared::default())
    }

    /// `baseline import`: what of this kind exists at `site`, written as declarations that
    /// plan finds matching what is live (the same attributes [`Provider::read`] shows), and
    /// what is left out on purpose (another tool's resources). Kinds placed
    /// organization-wide are asked once, in the management account and home region; the
    /// others in every account (and region, when regional). `lookups` answer what several
    /// kinds ask (which account owns a bucket). `None`: the kind is not imported.
    async fn import(
        &self,
        _cx: &Ctx<'_>,
        _site: &crate::import::Site,
        _lookups: &crate::import::Lookups,
    ) -> Result<Option<crate::import::Imported>> {
        Ok(None)
    }

    /// Delete an orphan that [`Provider::orphans`] found.
    async fn delete(
        &self,
        _cx: &Ctx<'_>,
        _account_id: &str,
        _region: &str,
        name: &str,
        _live: &Live,
    ) -> Result<()> {
        Err(Error::State(format!(
            "{name}: this kind is never deleted by baseline"
        )))
    }
}
