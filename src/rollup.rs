//! Roll-ups: the instances of one resource that change the same way, shown as one entry whose
//! instances are named as the baseline names targets ("all 1,000 accounts x 2 regions",
//! "OU Workloads/Production: 412 accounts") rather than listed one by one.
//!
//! Values that differ only by the instance's own account id (a role ARN in each account)
//! still roll up: the id is shown as `<account-id>`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::org::OrgStructure;
use crate::plan::{Plan, Planned};
use crate::provider::{Action, AttrDiff};

/// What stands for an instance's own account id in a rolled-up value.
pub const ACCOUNT_ID: &str = "<account-id>";

/// Where the organization's active accounts sit: what a roll-up's accounts are named by.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outline {
    /// Account name (as addresses name it) -> OU path (`/` for the root).
    pub accounts: BTreeMap<String, String>,
}

impl Outline {
    pub fn of(org: &OrgStructure) -> Outline {
        Outline {
            accounts: org
                .accounts
                .iter()
                .filter(|a| a.is_active())
                .map(|a| (a.name.clone(), a.ou.clone()))
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

/// Instances of one resource with the same action and the same changes.
#[derive(Debug)]
pub struct RollUp<'a> {
    /// `kind.name`.
    pub resource: String,
    pub action: Action,
    /// The changes, with each instance's own account id as [`ACCOUNT_ID`] when there are
    /// several instances.
    pub diffs: Vec<AttrDiff>,
    pub items: Vec<&'a Planned>,
}

/// The plan's changes, rolled up, in the order of their first instance. Linear in the
/// number of instances.
pub fn roll_up(plan: &Plan) -> Vec<RollUp<'_>> {
    let mut groups: Vec<RollUp<'_>> = Vec::new();
    let mut index: HashMap<(String, Action, String), usize> = HashMap::new();
    for item in plan.items.iter() {
        let Some(action) = item.action else { continue };
        let resource = format!("{}.{}", item.address.kind, item.address.name);
        let diffs = without_account_id(&item.diffs, &item.account_id);
        let key = (
            resource.clone(),
            action,
            serde_json::to_string(&diffs).expect("diffs serialise"),
        );
        match index.get(&key) {
            Some(&at) => groups[at].items.push(item),
            None => {
                index.insert(key, groups.len());
                groups.push(RollUp {
                    resource,
                    action,
                    diffs,
                    items: vec![item],
                });
            }
        }
    }
    // One instance: its own values.
    for group in &mut groups {
        if group.items.len() == 1 {
            group.diffs = group.items[0].diffs.clone();
        }
    }
    groups
}

/// `diffs` with every occurrence of `account_id` in a string value replaced by
/// [`ACCOUNT_ID`].
fn without_account_id(diffs: &[AttrDiff], account_id: &str) -> Vec<AttrDiff> {
    fn replace(v: &Value, id: &str) -> Value {
        match v {
            Value::String(s) if s.contains(id) => Value::String(s.replace(id, ACCOUNT_ID)),
            Value::Array(a) => Value::Array(a.iter().map(|x| replace(x, id)).collect()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, x)| (k.clone(), replace(x, id))).collect())
            }
            other => other.clone(),
        }
    }
    diffs
        .iter()
        .map(|d| {
            if account_id.is_empty() {
                return d.clone();
            }
            AttrDiff {
                name: d.name.clone(),
                before: replace(&d.before, account_id),
                after: replace(&d.after, account_id),
            }
        })
        .collect()
}

/// A count as people write it: `1,000`.
pub fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// How many sites a roll-up lists by name before it only counts them.
pub const LISTED_SITES: usize = 8;

/// The instances of a roll-up, named as the baseline names targets: `all 1,000 accounts x
/// 2 regions`, `OU Workloads/Production: 412 accounts in us-east-1`, `OUs Security,
/// Sandbox: 12 accounts`, else `37 accounts x 2 regions`; `organization` for an
/// organization-wide resource.
pub fn target_set(items: &[&Planned], outline: &Outline) -> String {
    let accounts: BTreeSet<&str> = items
        .iter()
        .filter_map(|i| i.address.account.as_deref())
        .collect();
    if accounts.is_empty() {
        return "organization".into();
    }
    let regions: BTreeSet<&str> = items
        .iter()
        .filter_map(|i| i.address.region.as_deref())
        .collect();
    let whole = accounts.len() * regions.len().max(1) == items.len();
    let named = match whole_ous(&accounts, outline) {
        Some(ous) if ous == ["/"] => {
            format!("all {}", plural(accounts.len(), "account", "accounts"))
        }
        Some(ous) if ous.len() == 1 => format!(
            "OU {}: {}",
            ous[0],
            plural(accounts.len(), "account", "accounts")
        ),
        Some(ous) if ous.len() <= 3 => format!(
            "OUs {}: {}",
            ous.join(", "),
            plural(accounts.len(), "account", "accounts")
        ),
        _ => plural(accounts.len(), "account", "accounts"),
    };
    match regions.len() {
        0 => named,
        1 if whole => format!("{named} in {}", regions.first().expect("one")),
        n if whole => format!("{named} x {}", plural(n, "region", "regions")),
        n => format!(
            "{} in {named} and {}",
            plural(items.len(), "instance", "instances"),
            plural(n, "region", "regions")
        ),
    }
}

/// An OU path and its ancestors, the root (`/`) first: `a/b` -> `/`, `a`, `a/b`.
fn ancestors(ou: &str) -> Vec<&str> {
    let mut paths = vec!["/"];
    if ou != "/" && !ou.is_empty() {
        let mut end = 0;
        for part in ou.split('/') {
            end += part.len();
            paths.push(&ou[..end]);
            end += 1;
        }
    }
    paths
}

/// The fewest whole OUs (every active account below them) whose accounts are exactly
/// `accounts`, top-most first; `["/"]` when they are all the organization's accounts;
/// `None` when some OU is only partly in the set, or an account is not in the outline.
fn whole_ous(accounts: &BTreeSet<&str>, outline: &Outline) -> Option<Vec<String>> {
    // Accounts below each OU path (itself and its descendants), in the organization and in
    // the set.
    let mut total: HashMap<&str, usize> = HashMap::new();
    let mut chosen: HashMap<&str, usize> = HashMap::new();
    for (name, ou) in &outline.accounts {
        let in_set = accounts.contains(name.as_str());
        for path in ancestors(ou) {
            *total.entry(path).or_default() += 1;
            if in_set {
                *chosen.entry(path).or_default() += 1;
            }
        }
    }
    if accounts.iter().any(|a| !outline.accounts.contains_key(*a)) {
        return None;
    }
    // Each account's top-most ancestor that the set covers whole.
    let mut tops: BTreeSet<&str> = BTreeSet::new();
    for name in accounts {
        let ou = outline.accounts.get(*name)?;
        let top = ancestors(ou)
            .into_iter()
            .find(|p| chosen.get(p) == total.get(p))?;
        tops.insert(top);
    }
    Some(tops.into_iter().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::Address;
    use serde_json::json;

    fn outline(accounts: &[(&str, &str)]) -> Outline {
        Outline {
            accounts: accounts
                .iter()
                .map(|(n, ou)| (n.to_string(), ou.to_string()))
                .collect(),
        }
    }

    fn item(account: &str, region: Option<&str>, id: &str, after: Value) -> Planned {
        Planned {
            address: Address {
                kind: "support-role".into(),
                name: "default".into(),
                account: Some(account.into()),
                region: region.map(str::to_string),
            },
            account_id: id.into(),
            region: region.unwrap_or("us-east-1").into(),
            action: Some(Action::Update),
            diffs: vec![AttrDiff {
                name: "trust".into(),
                before: Value::Null,
                after,
            }],
            desired: Default::default(),
            live: None,
            findings: vec![],
            owner: None,
            waived: None,
            observed: false,
            instance: 0,
            ordinal: 0,
        }
    }

    const ORG: &[(&str, &str)] = &[
        ("management", "/"),
        ("log-archive", "Security"),
        ("audit", "Security"),
        ("prod-app", "Workloads/Production"),
        ("prod-data", "Workloads/Production"),
        ("staging-app", "Workloads/Staging"),
    ];

    fn set(items: &[Planned]) -> String {
        target_set(&items.iter().collect::<Vec<_>>(), &outline(ORG))
    }

    #[test]
    fn target_sets_are_named_as_the_baseline_names_them() {
        let every = |names: &[&str], regions: &[&str]| -> Vec<Planned> {
            names
                .iter()
                .flat_map(|n| regions.iter().map(move |r| item(n, Some(r), "1", json!(1))))
                .collect()
        };
        let all: Vec<&str> = ORG.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            set(&every(&all, &["us-east-1", "eu-west-1"])),
            "all 6 accounts x 2 regions"
        );
        assert_eq!(
            set(&every(&["prod-app", "prod-data"], &["us-east-1"])),
            "OU Workloads/Production: 2 accounts in us-east-1"
        );
        // A whole OU with its child OUs is named by the parent.
        assert_eq!(
            set(&every(
                &["prod-app", "prod-data", "staging-app"],
                &["eu-west-1"]
            )),
            "OU Workloads: 3 accounts in eu-west-1"
        );
        assert_eq!(
            set(&every(
                &["audit", "log-archive", "staging-app"],
                &["eu-west-1"]
            )),
            "OUs Security, Workloads/Staging: 3 accounts in eu-west-1"
        );
        // Part of an OU: counted, not named.
        assert_eq!(
            set(&every(&["prod-app", "audit"], &["us-east-1", "eu-west-1"])),
            "2 accounts x 2 regions"
        );
        // Not every account in every region.
        let mut ragged = every(&["prod-app", "prod-data"], &["us-east-1", "eu-west-1"]);
        ragged.pop();
        assert_eq!(
            set(&ragged),
            "3 instances in OU Workloads/Production: 2 accounts and 2 regions"
        );
        // Account-wide instances (no region).
        let global: Vec<Planned> = all.iter().map(|n| item(n, None, "1", json!(1))).collect();
        assert_eq!(set(&global), "all 6 accounts");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn values_that_differ_only_by_the_account_id_roll_up() {
        let arn = |id: &str| json!({"Principal": {"AWS": format!("arn:aws:iam::{id}:root")}});
        let plan = Plan {
            items: vec![
                item("prod-app", None, "111111111111", arn("111111111111")),
                item("prod-data", None, "222222222222", arn("222222222222")),
                item("audit", None, "333333333333", json!("other")),
            ],
            ..Plan::default()
        };
        let groups = roll_up(&plan);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].items.len(), 2);
        assert_eq!(
            groups[0].diffs[0].after,
            json!({"Principal": {"AWS": "arn:aws:iam::<account-id>:root"}})
        );
        // Alone, an instance shows its own values.
        assert_eq!(groups[1].diffs[0].after, json!("other"));
    }
}
