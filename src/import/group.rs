//! Grouping what `baseline import` found per account (and region) into as few declarations
//! as the language allows: the accounts that hold the same thing share one declaration with
//! `targets`, written with the OUs whose accounts all hold it, and `all-accounts` (with
//! exclusions, when that is shorter) where most do.

use std::collections::{BTreeMap, BTreeSet};

use crate::org::OrgStructure;

use super::kdl::Node;

/// Which accounts (and regions) one declaration targets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    pub all_accounts: bool,
    /// OU paths.
    pub ous: Vec<String>,
    /// Account ids.
    pub accounts: Vec<String>,
    pub exclude_ous: Vec<String>,
    pub exclude_accounts: Vec<String>,
    /// `None`: every region of the baseline (`default-regions`); for regional kinds only.
    pub regions: Option<Vec<String>>,
}

impl Targets {
    /// How many entries the block lists (what a shorter form saves).
    fn entries(&self) -> usize {
        usize::from(self.all_accounts)
            + self.ous.len()
            + self.accounts.len()
            + self.exclude_ous.len()
            + self.exclude_accounts.len()
    }

    /// The `targets { ... }` node, accounts named as `account_ref` says.
    pub fn node(&self, account_ref: &dyn Fn(&str) -> String) -> Node {
        let mut n = Node::new("targets");
        if self.all_accounts {
            n = n.child(Node::new("all-accounts"));
        }
        if !self.ous.is_empty() {
            n = n.child(Node::new("ou").args(&self.ous));
        }
        if !self.accounts.is_empty() {
            n = n.child(Node::new("account").args(self.accounts.iter().map(|a| account_ref(a))));
        }
        if !self.exclude_ous.is_empty() {
            n = n.child(Node::new("exclude-ou").args(&self.exclude_ous));
        }
        if !self.exclude_accounts.is_empty() {
            n = n.child(
                Node::new("exclude-account")
                    .args(self.exclude_accounts.iter().map(|a| account_ref(a))),
            );
        }
        if let Some(regions) = &self.regions {
            n = n.child(Node::new("regions").args(regions));
        }
        n
    }

    /// A short, stable name for a declaration with these targets (when the kind's default
    /// name is taken): the one OU or account it names, else the first with a count.
    pub fn label(&self, account_name: &dyn Fn(&str) -> String) -> String {
        let mut names: Vec<String> = self
            .ous
            .iter()
            .map(|o| o.to_lowercase().replace('/', "-"))
            .chain(self.accounts.iter().map(|a| account_name(a)))
            .collect();
        if self.all_accounts {
            names.insert(0, "most-accounts".to_string());
        }
        let mut label = match names.len() {
            0 => "none".to_string(),
            1 => names.remove(0),
            n => format!("{}-and-{}-more", names[0], n - 1),
        };
        if let Some(regions) = &self.regions {
            label.push('-');
            label.push_str(&regions.join("-"));
        }
        label
    }
}

/// One declaration's worth of sites: the same thing (`key`) held by `targets`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<K> {
    pub key: K,
    pub targets: Targets,
    /// The account ids it holds, in order.
    pub accounts: Vec<String>,
    /// How many (account, region) sites it covers.
    pub sites: usize,
}

/// The active accounts below (or in) the OU at `path`.
fn accounts_under<'o>(org: &'o OrgStructure, path: &str) -> BTreeSet<&'o str> {
    org.accounts
        .iter()
        .filter(|a| a.is_active() && OrgStructure::ou_within(&a.ou, path))
        .map(|a| a.id.as_str())
        .collect()
}

/// `chosen` written as the fewest OUs (each holding only chosen accounts, and at least one)
/// plus the accounts no such OU covers.
fn cover(org: &OrgStructure, chosen: &BTreeSet<&str>) -> (Vec<String>, Vec<String>) {
    let mut ous: Vec<String> = Vec::new();
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    let mut paths: Vec<&String> = org.ous.iter().collect();
    // Parents before children, so that the widest OU is taken.
    paths.sort_by_key(|p| (p.matches('/').count(), p.as_str()));
    for path in paths {
        if ous.iter().any(|o| OrgStructure::ou_within(path, o)) {
            continue;
        }
        let under = accounts_under(org, path);
        if !under.is_empty() && under.is_subset(chosen) {
            covered.extend(&under);
            ous.push(path.clone());
        }
    }
    ous.sort();
    let accounts = chosen
        .iter()
        .filter(|a| !covered.contains(*a))
        .map(|a| a.to_string())
        .collect();
    (ous, accounts)
}

/// The shortest targets for exactly `chosen` among the organization's active accounts.
pub fn targets_for(org: &OrgStructure, chosen: &BTreeSet<&str>) -> Targets {
    let active: BTreeSet<&str> = org
        .accounts
        .iter()
        .filter(|a| a.is_active())
        .map(|a| a.id.as_str())
        .collect();
    if active.is_subset(chosen) {
        return Targets {
            all_accounts: true,
            ..Targets::default()
        };
    }
    let (ous, accounts) = cover(org, chosen);
    let included = Targets {
        ous,
        accounts,
        ..Targets::default()
    };
    let rest: BTreeSet<&str> = active.difference(chosen).copied().collect();
    let (exclude_ous, exclude_accounts) = cover(org, &rest);
    let excluded = Targets {
        all_accounts: true,
        exclude_ous,
        exclude_accounts,
        ..Targets::default()
    };
    if excluded.entries() < included.entries() {
        excluded
    } else {
        included
    }
}

/// Group what was found per site: `found` maps (account id, region) to what that site holds
/// (region `None` for kinds that exist once per account). Sites with equal values that hold
/// them in the same regions share a group. `regions` are the baseline's regions: a group
/// present in all of them names none. Groups come largest first, then in key order.
pub fn group<K: Ord + Clone>(
    org: &OrgStructure,
    regions: &[String],
    found: &BTreeMap<(String, Option<String>), K>,
) -> Vec<Group<K>> {
    // key -> account -> regions holding it
    let mut by_key: BTreeMap<&K, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    for ((account, region), key) in found {
        let regions = by_key.entry(key).or_default().entry(account).or_default();
        if let Some(r) = region {
            regions.insert(r);
        }
    }
    let all_regions: BTreeSet<&str> = regions.iter().map(String::as_str).collect();
    let mut groups = Vec::new();
    for (key, accounts) in by_key {
        // region set -> accounts holding the key in exactly those regions
        let mut by_regions: BTreeMap<BTreeSet<&str>, BTreeSet<&str>> = BTreeMap::new();
        for (account, regions) in accounts {
            by_regions.entry(regions).or_default().insert(account);
        }
        for (in_regions, accounts) in by_regions {
            let mut targets = targets_for(org, &accounts);
            if !in_regions.is_empty() && in_regions != all_regions {
                // In the baseline's order of regions.
                targets.regions = Some(
                    regions
                        .iter()
                        .filter(|r| in_regions.contains(r.as_str()))
                        .cloned()
                        .collect(),
                );
            }
            groups.push(Group {
                key: key.clone(),
                targets,
                sites: accounts.len() * in_regions.len().max(1),
                accounts: accounts.iter().map(|a| a.to_string()).collect(),
            });
        }
    }
    // Largest first; the sort is stable, so equal sizes keep key order.
    groups.sort_by_key(|g| std::cmp::Reverse(g.sites));
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::OrgAccount;

    fn org() -> OrgStructure {
        let account = |id: &str, name: &str, ou: &str| OrgAccount {
            id: id.into(),
            name: name.into(),
            ou: ou.into(),
            state: "ACTIVE".into(),
        };
        OrgStructure {
            management_account_id: "000000000000".into(),
            ous: vec![
                "Security".into(),
                "Workloads".into(),
                "Workloads/Production".into(),
                "Workloads/Staging".into(),
                "Empty".into(),
            ],
            accounts: vec![
                account("000000000000", "management", "/"),
                account("111111111111", "log-archive", "Security"),
                account("222222222222", "audit", "Security"),
                account("333333333333", "prod-app", "Workloads/Production"),
                account("444444444444", "prod-data", "Workloads/Production"),
                account("555555555555", "staging-app", "Workloads/Staging"),
            ],
            ..OrgStructure::default()
        }
    }

    fn set<'a>(ids: &[&'a str]) -> BTreeSet<&'a str> {
        ids.iter().copied().collect()
    }

    #[test]
    fn every_account_is_all_accounts() {
        let o = org();
        let all: Vec<&str> = o.accounts.iter().map(|a| a.id.as_str()).collect();
        let t = targets_for(&o, &set(&all));
        assert!(t.all_accounts);
        assert_eq!(t.entries(), 1);
    }

    #[test]
    fn whole_ous_are_named_by_the_widest_path() {
        let o = org();
        let t = targets_for(
            &o,
            &set(&[
                "333333333333",
                "444444444444",
                "555555555555",
                "111111111111",
            ]),
        );
        assert_eq!(t.ous, vec!["Workloads".to_string()]);
        assert_eq!(t.accounts, vec!["111111111111".to_string()]);
        assert!(!t.all_accounts);
        // Part of an OU is named account by account.
        let t = targets_for(&o, &set(&["333333333333"]));
        assert!(t.ous.is_empty());
        assert_eq!(t.accounts, vec!["333333333333".to_string()]);
    }

    #[test]
    fn most_accounts_are_all_accounts_with_exclusions() {
        let o = org();
        let all_but = |but: &[&str]| -> BTreeSet<&str> {
            o.accounts
                .iter()
                .map(|a| a.id.as_str())
                .filter(|id| !but.contains(id))
                .collect()
        };
        let t = targets_for(&o, &all_but(&["333333333333"]));
        assert!(t.all_accounts);
        assert!(t.exclude_ous.is_empty());
        assert_eq!(t.exclude_accounts, vec!["333333333333".to_string()]);
        let t = targets_for(&o, &all_but(&["555555555555"]));
        assert_eq!(t.exclude_ous, vec!["Workloads/Staging".to_string()]);
        assert!(t.exclude_accounts.is_empty());
        // As long as including says it as shortly, it is preferred.
        let t = targets_for(&o, &all_but(&["333333333333", "555555555555"]));
        assert!(!t.all_accounts);
        assert_eq!(t.ous, vec!["Security".to_string()]);
    }

    #[test]
    fn closed_accounts_do_not_count() {
        let mut o = org();
        o.accounts[5].state = "SUSPENDED".into();
        let t = targets_for(&o, &set(&["333333333333", "444444444444"]));
        // Staging holds only a closed account: Workloads is wholly chosen.
        assert_eq!(t.ous, vec!["Workloads".to_string()]);
    }

    #[test]
    fn sites_group_by_value_then_by_regions() {
        let o = org();
        let regions = vec!["us-east-1".to_string(), "eu-west-1".to_string()];
        let mut found = BTreeMap::new();
        for a in &o.accounts {
            found.insert((a.id.clone(), Some("us-east-1".to_string())), "A");
        }
        // prod-app holds A in both regions, staging-app B in eu-west-1.
        found.insert(("333333333333".into(), Some("eu-west-1".into())), "A");
        found.insert(("555555555555".into(), Some("eu-west-1".into())), "B");
        let groups = group(&o, &regions, &found);
        assert_eq!(groups.len(), 3, "{groups:#?}");
        // Largest first: A in us-east-1 only, in every account but prod-app.
        assert_eq!(groups[0].key, "A");
        assert_eq!(groups[0].sites, 5);
        assert!(groups[0].targets.all_accounts);
        assert_eq!(
            groups[0].targets.exclude_accounts,
            vec!["333333333333".to_string()]
        );
        assert_eq!(
            groups[0].targets.regions,
            Some(vec!["us-east-1".to_string()])
        );
        assert_eq!(
            groups[0].targets.label(&|id| id.to_string()),
            "most-accounts-us-east-1"
        );
        // A in every region: no `regions`.
        assert_eq!(groups[1].key, "A");
        assert_eq!(groups[1].sites, 2);
        assert_eq!(groups[1].targets.accounts, vec!["333333333333".to_string()]);
        assert_eq!(groups[1].targets.regions, None);
        assert_eq!(groups[2].key, "B");
        assert_eq!(
            groups[2].targets.regions,
            Some(vec!["eu-west-1".to_string()])
        );
        assert_eq!(
            groups[2].targets.label(&|id| id.to_string()),
            "workloads-staging-eu-west-1"
        );
    }

    #[test]
    fn per_account_values_without_regions() {
        let o = org();
        let mut found = BTreeMap::new();
        for a in &o.accounts {
            let v = if a.name == "prod-app" { 8 } else { 14 };
            found.insert((a.id.clone(), None), v);
        }
        let groups = group(&o, &["us-east-1".to_string()], &found);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].key, 14);
        assert!(groups[0].targets.all_accounts);
        assert_eq!(
            groups[0].targets.exclude_accounts,
            vec!["333333333333".to_string()]
        );
        assert_eq!(groups[1].key, 8);
        assert_eq!(groups[1].targets.accounts, vec!["333333333333".to_string()]);
        assert_eq!(
            groups[1].targets.node(&|id| format!("a{id}")).to_text(0),
            "targets {\n    account \"a333333333333\"\n}\n"
        );
    }
}
