//! Expansion of declarations into instances: one per targeted account (and region).
//!
//! This is a pure function of the baseline and the organization's structure. References to
//! accounts that the organization does not have, and two singleton declarations that land on
//! the same account and region, are reported here with the span that caused them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::graph::parts;
use crate::kinds::{account::Account, spec_of, Naming};
use crate::lang::diagnostic::{did_you_mean, Problem, Problems};
use crate::lang::model::{Baseline, Placement};
use crate::lang::source::{Span, Spanned};
use crate::lang::targets::Targets;
use crate::org::{OrgAccount, OrgStructure};

/// The printable, stable identity of one instance: `kind.name[account/region]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Address {
    pub kind: String,
    pub name: String,
    /// Account name, for instances that live in one account (not organization-wide ones).
    pub account: Option<String>,
    pub region: Option<String>,
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)?;
        match (&self.account, &self.region) {
            (Some(a), Some(r)) => write!(f, "[{a}/{r}]"),
            (Some(a), None) => write!(f, "[{a}]"),
            _ => Ok(()),
        }
    }
}

/// One concrete resource to read and reconcile.
#[derive(Debug, Clone)]
pub struct Instance {
    pub address: Address,
    pub decl: usize,
    pub part: usize,
    /// The account it lives in (the management account for organization-wide kinds).
    pub account_id: String,
    /// The region its API calls go to.
    pub region: String,
    /// Its place in the whole expansion (before `--target`, `--shard` and the like narrow
    /// it): the order of a plan's items, which merged shard plans keep.
    pub ordinal: usize,
}

/// Expand every declaration against `org`. Problems point at the offending references.
pub fn expand(baseline: &Baseline, org: &OrgStructure) -> Result<Vec<Instance>, Problems> {
    let mut problems = Problems::default();
    let org = org.with_placements(placements(baseline));
    let Some(management) = org.management() else {
        problems.push(Problem::new(
            "baseline::organization",
            Span {
                file: baseline.root,
                offset: 0,
                len: 0,
            },
            format!(
                "the management account {} is not among the organization's accounts",
                org.management_account_id
            ),
        ));
        return Err(problems);
    };
    let home = baseline.settings.home_region();
    let mut out = Vec::new();
    // (kind, account, region) -> span of the singleton declaration that claimed it
    let mut claimed: HashMap<(String, String, String), Span> = HashMap::new();
    // (declaration, part, account) of the account-wide parts already expanded.
    let mut per_account_done: HashSet<(usize, usize, String)> = HashSet::new();
    for (i, decl) in baseline.declarations.iter().enumerate() {
        let kind = decl.kind;
        let sites: Vec<(&OrgAccount, Option<String>)> = match &decl.placement {
            Placement::Organization => vec![(management, None)],
            Placement::Single { account, region } => {
                let account = match account {
                    Some(a) => match resolve(&org, a, &mut problems) {
                        Some(acc) => acc,
                        None => continue,
                    },
                    None => management,
                };
                let region = region
                    .as_ref()
                    .map_or_else(|| home.clone(), |r| r.value.clone());
                vec![(account, Some(region))]
            }
            Placement::Targets(t) => {
                let accounts = target_accounts(&org, t, &mut problems);
                let regions: Vec<Option<String>> = if kind.regional {
                    target_regions(baseline, t).into_iter().map(Some).collect()
                } else {
                    vec![None]
                };
                accounts
                    .into_iter()
                    .flat_map(|a| regions.iter().map(move |r| (a, r.clone())))
                    .collect()
            }
        };
        for (account, region) in sites {
            if kind.naming == Naming::Singleton {
                let key = (
                    kind.keyword.to_string(),
                    account.id.clone(),
                    region.clone().unwrap_or_default(),
                );
                if let Some(first) = claimed.insert(key, decl.name.span) {
                    let place = match &region {
                        Some(r) => format!("{}/{r}", account.name),
                        None => account.name.clone(),
                    };
                    problems.push(
                        Problem::new(
                            "baseline::conflicting-targets",
                            decl.name.span,
                            format!(
                                "two `{}` declarations target {place}; AWS holds one per account{}",
                                kind.keyword,
                                if kind.regional { " and region" } else { "" }
                            ),
                        )
                        .label("second declaration")
                        .also(first, "first declaration")
                        .help("exclude the account from one of them with `exclude-account`"),
                    );
                }
            }
            let org_wide = matches!(decl.placement, Placement::Organization);
            for (p, part) in parts(baseline, i).into_iter().enumerate() {
                // An account-wide part: once per account, in the home region.
                if part.per_account && !per_account_done.insert((i, p, account.id.clone())) {
                    continue;
                }
                let region = if part.per_account {
                    None
                } else {
                    region.clone()
                };
                out.push(Instance {
                    address: Address {
                        kind: part.kind,
                        name: part.name,
                        account: (!org_wide).then(|| account.name.clone()),
                        region: if org_wide { None } else { region.clone() },
                    },
                    decl: i,
                    part: p,
                    account_id: account.id.clone(),
                    region: region.unwrap_or_else(|| home.clone()),
                    ordinal: out.len(),
                });
            }
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        problems.sort();
        Err(problems)
    }
}

/// The declared placements: (account name or id, the OU its `account` declaration puts it in).
fn placements(baseline: &Baseline) -> impl Iterator<Item = (&str, &str)> {
    baseline.declarations.iter().filter_map(|d| {
        Some((
            d.name.value.as_str(),
            spec_of::<Account>(d)?.ou.as_ref()?.value.as_str(),
        ))
    })
}

/// Which accounts the baseline may have instances in, decided one account at a time from
/// its name, id and OU (its declared placement first), as discovery finds them: before the
/// whole organization is known, the accounts whose access role is worth assuming. It errs
/// towards yes: an account it keeps may still have no instance (the expansion decides).
pub struct AccountFilter<'b> {
    baseline: &'b Baseline,
    /// Account name or id -> the OU its `account` declaration places it in.
    placed: HashMap<&'b str, &'b str>,
}

impl<'b> AccountFilter<'b> {
    pub fn new(baseline: &'b Baseline) -> AccountFilter<'b> {
        AccountFilter {
            baseline,
            placed: placements(baseline).collect(),
        }
    }

    /// Whether a declaration targets `account` (the management account's own declarations
    /// aside: the caller is there already).
    pub fn may_target(&self, account: &OrgAccount) -> bool {
        let names = |r: &Spanned<String>| r.value == account.id || r.value == account.name;
        let ou = self
            .placed
            .get(account.id.as_str())
            .or_else(|| self.placed.get(account.name.as_str()))
            .copied()
            .unwrap_or(account.ou.as_str());
        let within = |o: &Spanned<String>| OrgStructure::ou_within(ou, &o.value);
        self.baseline
            .declarations
            .iter()
            .any(|d| match &d.placement {
                Placement::Organization => false,
                Placement::Single { account, .. } => account.as_ref().is_some_and(names),
                Placement::Targets(t) => {
                    (t.all_accounts.is_some()
                        || t.accounts.iter().any(names)
                        || t.ous.iter().any(within))
                        && !t.exclude_accounts.iter().any(names)
                        && !t.exclude_ous.iter().any(within)
                }
            })
    }
}

fn resolve<'o>(
    org: &'o OrgStructure,
    r: &Spanned<String>,
    problems: &mut Problems,
) -> Option<&'o OrgAccount> {
    let found = org.account(&r.value);
    if found.is_none() {
        let names: Vec<&str> = org.accounts.iter().map(|a| a.name.as_str()).collect();
        problems.push(
            Problem::new(
                "baseline::unknown-account",
                r.span,
                format!("the organization has no account \"{}\"", r.value),
            )
            .label("unknown account")
            .help(did_you_mean(&r.value, &names)),
        );
    }
    found
}

/// Accounts selected by a `targets` block, in the organization's order.
pub fn target_accounts<'o>(
    org: &'o OrgStructure,
    t: &Targets,
    problems: &mut Problems,
) -> Vec<&'o OrgAccount> {
    let named: BTreeSet<&str> = t
        .accounts
        .iter()
        .filter_map(|a| resolve(org, a, problems))
        .map(|a| a.id.as_str())
        .collect();
    let excluded: BTreeSet<&str> = t
        .exclude_accounts
        .iter()
        .filter_map(|a| resolve(org, a, problems))
        .map(|a| a.id.as_str())
        .collect();
    org.accounts
        .iter()
        .filter(|a| {
            t.all_accounts.is_some()
                || named.contains(a.id.as_str())
                || t.ous
                    .iter()
                    .any(|ou| OrgStructure::ou_within(&a.ou, &ou.value))
        })
        .filter(|a| !excluded.contains(a.id.as_str()))
        .filter(|a| {
            !t.exclude_ous
                .iter()
                .any(|ou| OrgStructure::ou_within(&a.ou, &ou.value))
        })
        .collect()
}

/// Regions selected by a `targets` block (settings' default regions when it names none).
pub fn target_regions(baseline: &Baseline, t: &Targets) -> Vec<String> {
    let regions: Vec<String> = if t.regions.is_empty() {
        baseline.settings.regions()
    } else {
        t.regions.iter().map(|r| r.value.clone()).collect()
    };
    regions
        .into_iter()
        .filter(|r| !t.exclude_regions.iter().any(|x| &x.value == r))
        .collect()
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (addresses
/// contain `[`, `/` and `.`, so no other character is special).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().expect("split yields one part at least");
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn address_globs() {
        assert!(glob_match(
            "kms-key.*",
            "kms-key.org-logs[log-archive/us-east-1]"
        ));
        assert!(glob_match(
            "*[prod-app*",
            "password-policy.default[prod-app]"
        ));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("a*b*c", "a-x-b-y-c"));
        assert!(!glob_match("a*b*c", "a-x-c"));
        assert!(!glob_match("kms-key.*", "log-bucket.x"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
    }
}
