//! Saved plans (`plan --out FILE`, `show FILE`, `apply FILE`): everything apply needs, the
//! digest of the baseline files, and a fingerprint of the live state of every instance the
//! plan changes. Applying refuses a plan whose baseline changed or whose affected instances
//! changed in AWS since (a stale plan); drift elsewhere does not make it stale.
//!
//! A saved plan holds attribute values and identifiers as AWS reported them, never
//! credentials.
//!
//! A saved plan is input too (CI hands it from the plan job to the apply job): it is read only
//! from a regular file within [`MAX_SAVED_PLAN_BYTES`], and refused unless every item is of a
//! known kind and every digest is one.

use std::collections::BTreeMap;
use std::fs::OpenOptions;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::changelog::file::MAX_SAVED_PLAN_BYTES;
use crate::changelog::file::{open_regular, size};
use crate::expand::Address;
use crate::kinds::by_keyword;
use crate::plan::{ExpiredWaiver, Orphan, OtherOwned, Plan, Planned, Scope};
use crate::provider::{Action, AttrDiff, Attrs, Finding, Live};

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
    /// `--shard K/N` (absent in plans saved without one, and before shards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::plan::Shard>,
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
    /// What the plan reported besides its items (absent in files written before them).
    #[serde(default, skip_serializing_if = "Reported::is_empty")]
    pub reported: Reported,
}

/// What a plan reports that is not an item: expired waivers, other tools' resources.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Reported {
    #[serde(default)]
    pub expired_waivers: Vec<ExpiredWaiver>,
    #[serde(default)]
    pub others: Vec<OtherOwned>,
    /// Where the accounts sit, for the roll-ups `show` names by OU.
    #[serde(default, skip_serializing_if = "crate::rollup::Outline::is_empty")]
    pub outline: crate::rollup::Outline,
}

impl Reported {
    fn of(plan: &Plan) -> Reported {
        Reported {
            expired_waivers: plan.expired_waivers.clone(),
            others: plan.others.clone(),
            outline: plan.outline.clone(),
        }
    }

    fn is_empty(&self) -> bool {
        self.expired_waivers.is_empty() && self.others.is_empty() && self.outline.is_empty()
    }
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
                shard: scope.shard,
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
            reported: Reported::of(plan),
        }
    }

    pub fn scope(&self) -> Scope {
        Scope {
            targets: self.scope.targets.clone(),
            accounts: self.scope.accounts.clone(),
            regions: self.scope.regions.clone(),
            shard: self.scope.shard,
        }
    }

    /// The plan as it was computed (for apply, which keeps the saved plan's fingerprints).
    pub fn plan(&self) -> Result<Plan, String> {
        plan_of(
            self.items.clone(),
            self.orphans.clone(),
            self.reported.clone(),
        )
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).expect("saved plan serialises");
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Read a saved plan; `Ok(None)` when `path` is not one (a baseline file, say).
    pub fn read(path: &Path) -> Result<Option<SavedPlan>, String> {
        let at = |e: String| format!("{}: {e}", path.display());
        let Some(text) = read_text(path)? else {
            return Ok(None);
        };
        let saved: SavedPlan = parse(&text).map_err(at)?;
        drop(text);
        check(
            &saved.baseline_digest,
            saved.items.iter().map(|i| &i.address),
            &saved.orphans,
            &saved.fingerprints,
        )
        .map_err(at)?;
        Ok(Some(saved))
    }
}

/// Read a saved plan as `show` renders it; `Ok(None)` when `path` is not one. The file is
/// checked as [`SavedPlan::read`] checks it, but the desired and live state of each item
/// (most of a plan, and several times its size in memory) is not kept: nothing shown uses it.
pub fn read_for_show(path: &Path) -> Result<Option<PlanFile>, String> {
    let at = |e: String| format!("{}: {e}", path.display());
    let Some(text) = read_text(path)? else {
        return Ok(None);
    };
    let shown: Shown = parse(&text).map_err(at)?;
    drop(text);
    check(
        &shown.baseline_digest,
        shown.items.iter().map(|i| &i.address),
        &shown.orphans,
        &shown.fingerprints,
    )
    .map_err(at)?;
    let items = shown
        .items
        .into_iter()
        .map(|i| Planned {
            address: i.address,
            account_id: i.account_id,
            region: i.region,
            action: i.action,
            diffs: i.diffs,
            desired: Attrs::new(),
            live: None,
            findings: i.findings,
            owner: i.owner,
            waived: i.waived,
            observed: i.observed,
            instance: 0,
            ordinal: i.ordinal,
        })
        .collect();
    let plan = plan_of(items, shown.orphans, shown.reported).map_err(at)?;
    Ok(Some(PlanFile {
        path: path.to_path_buf(),
        root: shown.root,
        baseline_digest: shown.baseline_digest,
        scope: shown.scope,
        plan,
    }))
}

/// A saved plan read in full and checked as apply reads it (`report --plan`); `Ok(None)`
/// when `path` is not one.
pub fn read_in_full(path: &Path) -> Result<Option<PlanFile>, String> {
    SavedPlan::read(path)?
        .map(|saved| saved.into_file(path))
        .transpose()
}

/// The saved plans `files`, each read with `read`, merged into one plan as [`merge`]
/// merges them; a warning on stderr names the shards that were not given.
pub fn read_merged(
    files: &[PathBuf],
    read: impl Fn(&Path) -> Result<Option<PlanFile>, String>,
) -> Result<PlanFile, String> {
    let mut plans = Vec::new();
    for file in files {
        match read(file)? {
            Some(plan) => plans.push(plan),
            None => {
                return Err(format!(
                    "{} is not a saved plan (see `baseline plan --out`)",
                    file.display()
                ))
            }
        }
    }
    let (merged, missing) = merge(plans)?;
    if let Some(missing) = missing {
        eprintln!("warning: {missing}");
    }
    Ok(merged)
}

/// A saved plan as `show` and `report` use it, with what merging several needs.
#[derive(Debug)]
pub struct PlanFile {
    pub path: PathBuf,
    pub root: PathBuf,
    pub baseline_digest: String,
    pub scope: SavedScope,
    pub plan: Plan,
}

impl SavedPlan {
    /// The plan with where it came from, for `report`.
    pub fn into_file(self, path: &Path) -> Result<PlanFile, String> {
        let plan = plan_of(self.items, self.orphans, self.reported)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(PlanFile {
            path: path.to_path_buf(),
            root: self.root,
            baseline_digest: self.baseline_digest,
            scope: self.scope,
            plan,
        })
    }
}

/// Several saved plans as one (`show` and `report` of the shards of one run), in the order
/// the unsharded plan has: items by their place in the baseline's expansion, orphans and
/// other tools' resources by kind and address. The plans must come from the same baseline
/// files and the same `--target`/`--accounts`/`--regions`, be distinct shards of one `N`
/// (or all unsharded), and no instance may be in two of them. The second value names the
/// shards that were not given, for a warning: the plan lacks their accounts.
pub fn merge(files: Vec<PlanFile>) -> Result<(PlanFile, Option<String>), String> {
    let mut files = files.into_iter();
    let Some(mut merged) = files.next() else {
        return Err("no saved plan to show".into());
    };
    let first = merged.path.display().to_string();
    let mut shards: BTreeMap<u32, String> = BTreeMap::new();
    if let Some(s) = merged.scope.shard {
        shards.insert(s.index, first.clone());
    }
    let mut rest = false;
    for file in files {
        rest = true;
        let name = file.path.display().to_string();
        if file.baseline_digest != merged.baseline_digest {
            return Err(format!(
                "{name} was planned from other baseline files than {first}: plan every shard \
                 from the same commit"
            ));
        }
        let (a, b) = (&merged.scope, &file.scope);
        if (&a.targets, &a.accounts, &a.regions) != (&b.targets, &b.accounts, &b.regions) {
            return Err(format!(
                "{name} was planned with other --target, --accounts or --regions than {first}"
            ));
        }
        match (a.shard, b.shard) {
            (None, None) => {}
            (Some(x), Some(y)) if x.count == y.count => {
                if let Some(other) = shards.insert(y.index, name.clone()) {
                    return Err(format!("{other} and {name} are both shard {y}"));
                }
            }
            (x, y) => {
                let shard = |s: Option<crate::plan::Shard>| {
                    s.map_or_else(|| "unsharded".to_string(), |s| format!("shard {s}"))
                };
                return Err(format!(
                    "{first} is {} and {name} is {}: only the shards of one --shard K/N run \
                     merge",
                    shard(x),
                    shard(y)
                ));
            }
        }
        merged.plan.items.extend(file.plan.items);
        merged.plan.orphans.extend(file.plan.orphans);
        merged.plan.others.extend(file.plan.others);
        merged
            .plan
            .expired_waivers
            .extend(file.plan.expired_waivers);
    }
    if !rest {
        return Ok((merged, None));
    }
    let mut seen = std::collections::HashSet::new();
    for item in &merged.plan.items {
        if !seen.insert(item.address.to_string()) {
            return Err(format!(
                "{} is in more than one of the saved plans: they overlap, so they are not the \
                 shards of one run",
                item.address
            ));
        }
    }
    let plan = &mut merged.plan;
    plan.items.sort_by_key(|i| i.ordinal);
    let ordinal: std::collections::HashMap<String, usize> = plan
        .items
        .iter()
        .map(|i| (i.address.to_string(), i.ordinal))
        .collect();
    plan.expired_waivers
        .sort_by_key(|e| ordinal.get(&e.address).copied().unwrap_or(usize::MAX));
    plan.sort_undeclared();
    let missing = merged.scope.shard.and_then(|s| {
        let missing: Vec<String> = (1..=s.count)
            .filter(|k| !shards.contains_key(k))
            .map(|k| k.to_string())
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "the merged plan lacks shard {} of {}: the accounts of those shards are not in it",
                missing.join(", "),
                s.count
            )
        })
    });
    merged.scope.shard = None;
    Ok((merged, missing))
}

/// The text of the file at `path` when it looks like a saved plan (`None`: some other file),
/// read only from a regular file within [`MAX_SAVED_PLAN_BYTES`].
fn read_text(path: &Path) -> Result<Option<String>, String> {
    let at = |e: String| format!("{}: {e}", path.display());
    let file =
        open_regular(path, OpenOptions::new().read(true), MAX_SAVED_PLAN_BYTES).map_err(at)?;
    // Bounded while reading too: a file may grow after it was checked.
    let mut bytes = Vec::new();
    file.take(MAX_SAVED_PLAN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| at(e.to_string()))?;
    if bytes.len() as u64 > MAX_SAVED_PLAN_BYTES {
        return Err(at(format!(
            "is larger than {}, the most baseline reads",
            size(MAX_SAVED_PLAN_BYTES)
        )));
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(None);
    };
    if !text.trim_start().starts_with('{') || !text.contains("\"saved_plan_format\"") {
        return Ok(None);
    }
    Ok(Some(text))
}

/// Parse a saved plan of this format, naming another format as such rather than by the
/// first field it lacks.
fn parse<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    #[derive(Deserialize)]
    struct Format {
        saved_plan_format: serde_json::Value,
    }
    let format = serde_json::from_str::<Format>(text)
        .map_err(|e| format!("not a saved plan: {e}"))?
        .saved_plan_format;
    if format.as_str() != Some(SAVED_PLAN_FORMAT) {
        return Err(format!(
            "saved plan format {} is not {SAVED_PLAN_FORMAT}; plan again with this version",
            crate::render::ellipsize(format.to_string(), 20)
        ));
    }
    serde_json::from_str(text).map_err(|e| format!("not a saved plan: {e}"))
}

/// Refuse what `plan --out` never writes: an item or orphan of a kind this version does not
/// know, a digest or fingerprint that is not one. Nothing from the file is echoed beyond the
/// address that names the item.
fn check<'a>(
    baseline_digest: &str,
    items: impl Iterator<Item = &'a Address>,
    orphans: &[SavedOrphan],
    fingerprints: &BTreeMap<String, String>,
) -> Result<(), String> {
    let unknown = |what: &str, n: usize, address: &Address| {
        format!(
            "{what} {n} ({}) is of an unknown kind `{}`; the plan was made by another version \
             of baseline, or edited: plan again",
            crate::render::ellipsize(address.to_string(), 200),
            crate::render::ellipsize(address.kind.clone(), 60)
        )
    };
    if baseline_digest.is_empty() {
        return Err("the baseline digest (`baseline_digest`) is empty: plan again".into());
    }
    if !is_sha256(baseline_digest) {
        return Err(
            "the baseline digest (`baseline_digest`) is not a SHA-256 digest (64 hexadecimal \
             digits): plan again"
                .into(),
        );
    }
    for (n, address) in items.enumerate() {
        if !crate::kinds::is_resource_kind(&address.kind) {
            return Err(unknown("item", n + 1, address));
        }
    }
    for (n, orphan) in orphans.iter().enumerate() {
        if by_keyword(&orphan.kind).is_none() {
            return Err(unknown("orphan", n + 1, &orphan.address));
        }
    }
    for (address, fingerprint) in fingerprints {
        if fingerprint != "absent" && !is_sha256(fingerprint) {
            return Err(format!(
                "the fingerprint of {} is neither `absent` nor a SHA-256 digest: plan again",
                crate::render::ellipsize(address.clone(), 200)
            ));
        }
    }
    Ok(())
}

/// A saved plan as `show` reads it (see [`read_for_show`]). The fields and their types follow
/// [`SavedPlan`] and [`Planned`], so that `show` accepts exactly the files `apply` accepts.
#[derive(Deserialize)]
struct Shown {
    #[serde(rename = "saved_plan_format")]
    _format: String,
    #[serde(rename = "created")]
    _created: String,
    #[serde(rename = "tool_version")]
    _tool_version: String,
    root: PathBuf,
    baseline_digest: String,
    scope: SavedScope,
    items: Vec<ShownItem>,
    orphans: Vec<SavedOrphan>,
    fingerprints: BTreeMap<String, String>,
    #[serde(default)]
    reported: Reported,
}

#[derive(Deserialize)]
struct ShownItem {
    address: Address,
    account_id: String,
    region: String,
    action: Option<Action>,
    diffs: Vec<AttrDiff>,
    #[serde(rename = "desired")]
    _desired: ObjectShape,
    #[serde(rename = "live")]
    _live: Option<LiveShape>,
    findings: Vec<Finding>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    waived: Option<String>,
    #[serde(default)]
    observed: bool,
    #[serde(default)]
    ordinal: usize,
}

/// The shape of [`Live`], its values unread.
#[derive(Deserialize)]
struct LiveShape {
    #[serde(rename = "attrs")]
    _attrs: ObjectShape,
    #[serde(default, rename = "ids")]
    _ids: ObjectShape,
    #[serde(rename = "managed")]
    _managed: Option<bool>,
}

/// A JSON object, its values checked to be JSON and dropped.
#[derive(Default)]
struct ObjectShape;

impl<'de> Deserialize<'de> for ObjectShape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ObjectShape, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ObjectShape;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<ObjectShape, A::Error> {
                use serde::de::IgnoredAny;
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ObjectShape)
            }
        }
        d.deserialize_map(V)
    }
}

/// 64 lower-case hexadecimal digits, as [`crate::changelog::sha256_hex`] writes them.
fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn plan_of(
    items: Vec<Planned>,
    orphans: Vec<SavedOrphan>,
    reported: Reported,
) -> Result<Plan, String> {
    let orphans = orphans
        .into_iter()
        .map(|o| {
            Ok(Orphan {
                kind: by_keyword(&o.kind)
                    .ok_or_else(|| format!("unknown kind `{}` in the saved plan", o.kind))?,
                address: o.address,
                account_id: o.account_id,
                region: o.region,
                live: o.live,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Plan {
        items,
        orphans,
        failures: Vec::new(),
        unreachable: Vec::new(),
        skipped: Vec::new(),
        expired_waivers: reported.expired_waivers,
        others: reported.others,
        outline: reported.outline,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn plan() -> Value {
        json!({
            "saved_plan_format": "1",
            "created": "2026-11-23T10:00:00.000Z",
            "tool_version": "0.1.0",
            "root": "baseline.kdl",
            "baseline_digest": "0".repeat(64),
            "scope": {"targets": [], "accounts": [], "regions": []},
            "items": [{
                "address": {"kind": "password-policy", "name": "default", "account": "a", "region": null},
                "account_id": "222222222222",
                "region": "us-east-1",
                "action": "update",
                "diffs": [{"name": "min-length", "before": 8, "after": 14}],
                "desired": {"min-length": 14},
                "live": {"attrs": {"min-length": 8}, "ids": {"arn": "x"}, "managed": null},
                "findings": []
            }],
            "orphans": [],
            "fingerprints": {"password-policy.default[a]": "absent"}
        })
    }

    /// `show` reads less of a plan than `apply`, but refuses exactly what `apply` refuses.
    #[test]
    fn show_and_apply_accept_the_same_files() {
        type Edit = fn(&mut Value);
        let edits: Vec<(&str, bool, Edit)> = vec![
            ("as written", true, |_| {}),
            ("no live state", true, |p| {
                p["items"][0].as_object_mut().unwrap().remove("live");
            }),
            ("null live state", true, |p| {
                p["items"][0]["live"] = Value::Null
            }),
            ("no ids", true, |p| {
                p["items"][0]["live"].as_object_mut().unwrap().remove("ids");
            }),
            ("an extra field", true, |p| {
                p["items"][0]["extra"] = json!(1)
            }),
            ("attrs not an object", false, |p| {
                p["items"][0]["live"]["attrs"] = json!([1])
            }),
            ("no attrs", false, |p| {
                p["items"][0]["live"]
                    .as_object_mut()
                    .unwrap()
                    .remove("attrs");
            }),
            ("managed not a bool", false, |p| {
                p["items"][0]["live"]["managed"] = json!("yes")
            }),
            ("desired not an object", false, |p| {
                p["items"][0]["desired"] = json!("x")
            }),
            ("no desired", false, |p| {
                p["items"][0].as_object_mut().unwrap().remove("desired");
            }),
            ("no findings", false, |p| {
                p["items"][0].as_object_mut().unwrap().remove("findings");
            }),
            ("no scope", false, |p| {
                p.as_object_mut().unwrap().remove("scope");
            }),
            ("unknown kind", false, |p| {
                p["items"][0]["address"]["kind"] = json!("nope")
            }),
            ("empty digest", false, |p| p["baseline_digest"] = json!("")),
            ("upper-case digest", false, |p| {
                p["baseline_digest"] = json!("A".repeat(64))
            }),
            ("bad fingerprint", false, |p| {
                p["fingerprints"]["password-policy.default[a]"] = json!("")
            }),
            ("another format", false, |p| {
                p["saved_plan_format"] = json!("2")
            }),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        for (name, ok, edit) in edits {
            let mut p = plan();
            edit(&mut p);
            std::fs::write(&path, serde_json::to_string_pretty(&p).unwrap()).unwrap();
            let read = SavedPlan::read(&path);
            let shown = read_for_show(&path);
            assert_eq!(read.is_ok(), ok, "{name}: {:?}", read.err());
            assert_eq!(shown.is_ok(), ok, "{name}: {:?}", shown.err());
            if !ok {
                assert_eq!(read.err(), shown.err(), "{name}");
            }
        }
    }

    #[test]
    fn refusals_name_the_item_or_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        let mut p = plan();
        p["items"][0]["address"]["kind"] = json!("nope");
        std::fs::write(&path, p.to_string()).unwrap();
        let err = read_for_show(&path).unwrap_err();
        assert!(
            err.ends_with("plan.json: item 1 (nope.default[a]) is of an unknown kind `nope`; the plan was made by another version of baseline, or edited: plan again"),
            "{err}"
        );
        let mut p = plan();
        p["baseline_digest"] = json!("");
        std::fs::write(&path, p.to_string()).unwrap();
        let err = SavedPlan::read(&path).unwrap_err();
        assert!(err.contains("`baseline_digest`) is empty"), "{err}");
    }

    #[test]
    fn other_files_are_not_saved_plans() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("baseline.kdl");
        for text in ["password-policy { min-length 14 }", "{}", "\u{ff}"] {
            std::fs::write(&path, text).unwrap();
            assert!(matches!(SavedPlan::read(&path), Ok(None)), "{text}");
        }
        std::fs::write(&path, [0xffu8, b'{']).unwrap();
        assert!(matches!(read_for_show(&path), Ok(None)));
    }
}
