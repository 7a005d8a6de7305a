//! Saved plans (`plan --out FILE`, `show FILE`, `apply FILE`): everything apply needs, the
//! digest of the baseline files, and a fingerprint of the live state of every instance the
//! plan changes. Applying refuses a plan whose baseline changed or whose affected instances
//! changed in AWS since (a stale plan); drift elsewhere does not make it stale.
//!
//! A saved plan holds attribute values and identifiers as AWS reported them, never
//! credentials.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::expand::Address;
use crate::kinds::by_keyword;
use crate::plan::{Orphan, Plan, Planned, Scope};
use crate::provider::Live;

/// Version of the saved-plan file format.
pub const SAVED_PLAN_FORMAT: &str = "1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedOrphan {
    pub address: Address,
    pub kind: String,
    pub account_id: String,
    pub region: String,
    pub live: Live,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedScope {
    pub targets: Vec<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedPlan {
    pub saved_plan_format: String,
    pub created: String,
    pub tool_version: String,
    /// The baseline's root file (relative to the working directory when it lies below it, so
    /// that a CI job with another checkout path can apply the plan) and the digest of every
    /// file it loaded.
    pub root: PathBuf,
    pub baseline_digest: String,
    pub scope: SavedScope,
    pub items: Vec<Planned>,
    pub orphans: Vec<SavedOrphan>,
    /// Address -> fingerprint of the live state the change was computed from.
    pub fingerprints: BTreeMap<String, String>,
}

/// `path` relative to the working directory when it lies below it, else as it is.
fn portable(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.canonicalize().ok())
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
}

/// The fingerprint of an instance's live state (`absent` when it does not exist).
pub fn fingerprint(live: Option<&Live>) -> String {
    match live {
        None => "absent".to_string(),
        Some(live) => crate::changelog::sha256_hex(
            serde_json::to_string(live)
                .expect("live state serialises")
                .as_bytes(),
        ),
    }
}

impl SavedPlan {
    pub fn new(plan: &Plan, root: &Path, baseline_digest: String, scope: &Scope) -> SavedPlan {
        let mut fingerprints = BTreeMap::new();
        for item in plan.items.iter().filter(|i| i.action.is_some()) {
            fingerprints.insert(item.address.to_string(), fingerprint(item.live.as_ref()));
        }
        for o in &plan.orphans {
            fingerprints.insert(o.address.to_string(), fingerprint(Some(&o.live)));
        }
        SavedPlan {
            saved_plan_format: SAVED_PLAN_FORMAT.to_string(),
            created: crate::changelog::now_rfc3339(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            root: portable(root),
            baseline_digest,
            scope: SavedScope {
                targets: scope.targets.clone(),
                accounts: scope.accounts.clone(),
                regions: scope.regions.clone(),
            },
            items: plan.items.clone(),
            orphans: plan
                .orphans
                .iter()
                .map(|o| SavedOrphan {
                    address: o.address.clone(),
                    kind: o.kind.keyword.to_string(),
                    account_id: o.account_id.clone(),
                    region: o.region.clone(),
                    live: o.live.clone(),
                })
                .collect(),
            fingerprints,
        }
    }

    pub fn scope(&self) -> Scope {
        Scope {
            targets: self.scope.targets.clone(),
            accounts: self.scope.accounts.clone(),
            regions: self.scope.regions.clone(),
        }
    }

    /// The plan as it was computed (for `show` and for apply).
    pub fn plan(&self) -> Result<Plan, String> {
        let orphans = self
            .orphans
            .iter()
            .map(|o| {
                Ok(Orphan {
                    address: o.address.clone(),
                    kind: by_keyword(&o.kind)
                        .ok_or_else(|| format!("unknown kind `{}` in the saved plan", o.kind))?,
                    account_id: o.account_id.clone(),
                    region: o.region.clone(),
                    live: o.live.clone(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Plan {
            items: self.items.clone(),
            orphans,
            failures: Vec::new(),
            unreachable: Vec::new(),
            skipped: Vec::new(),
        })
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("saved plan serialises");
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Read a saved plan; `Ok(None)` when `path` is not one (a baseline file, say).
    pub fn read(path: &Path) -> Result<Option<SavedPlan>, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !text.trim_start().starts_with('{') || !text.contains("\"saved_plan_format\"") {
            return Ok(None);
        }
        let saved: SavedPlan = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a saved plan: {e}", path.display()))?;
        if saved.saved_plan_format != SAVED_PLAN_FORMAT {
            return Err(format!(
                "{}: saved plan format {} is not {SAVED_PLAN_FORMAT}; plan again with this version",
                path.display(),
                saved.saved_plan_format
            ));
        }
        Ok(Some(saved))
    }
}
