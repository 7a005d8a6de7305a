//! The planner: read every instance (concurrently, bounded), compare desired with live
//! attribute by attribute, and decide each instance's action.

use futures::stream::{self, StreamExt};
use serde::Serialize;
use serde_json::Value;
use sha2::Digest;

use crate::expand::{glob_match, Address, Instance};
use crate::kinds::{Kind, Placing, KINDS};
use crate::provider::{Action, AttrDiff, Attrs, Ctx, Error, Finding, Live, Observed, Provider};
use crate::reach::{Reach, Skipped, Unreachable};

/// Version of the JSON plan format (`baseline plan --format json`, docs/plan-format.md).
pub const FORMAT_VERSION: &str = "1";

/// The plan for one instance.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Planned {
    pub address: Address,
    pub account_id: String,
    pub region: String,
    /// `None`: the instance matches its declaration.
    pub action: Option<Action>,
    pub diffs: Vec<AttrDiff>,
    pub desired: Attrs,
    pub live: Option<Live>,
    pub findings: Vec<Finding>,
    /// Who else configures the instance: it is reported, never changed (`action` is `None`,
    /// `diffs` say how it differs from the baseline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// The waiver under which its drift is accepted: reported, not applied (`action` is
    /// `None`, `diffs` say what is waived).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived: Option<String>,
    /// Its declaration says `observe`: read and reported, never changed (`action` is `None`,
    /// `diffs` say how it differs from the baseline).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub observed: bool,
    /// Index into the instances the plan was made from.
    #[serde(skip, default)]
    pub instance: usize,
    /// The instance's place in the whole expansion ([`crate::expand::Instance::ordinal`]):
    /// saved, so that shard plans merge into the unsharded plan's order.
    #[serde(default)]
    pub ordinal: usize,
}

/// An instance that could not be read.
#[derive(Debug, Clone)]
pub struct ReadFailure {
    pub address: Address,
    pub error: Error,
    /// The instance, when the failure is one instance's (not a search for orphans): apply
    /// skips what depends on it.
    pub instance: Option<usize>,
}

/// An account that could not be reached, and its instances, none of which was read.
#[derive(Debug, Clone)]
pub struct NotReached {
    pub account: Unreachable,
    /// Index and address of each instance in the account.
    pub instances: Vec<(usize, Address)>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub create: usize,
    pub adopt: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub findings: usize,
    pub unchanged: usize,
}

/// A managed resource that no declaration names any more: deleted by apply.
#[derive(Debug, Clone, Serialize)]
pub struct Orphan {
    pub address: Address,
    #[serde(skip)]
    pub kind: &'static Kind,
    pub account_id: String,
    pub region: String,
    pub live: Live,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub items: Vec<Planned>,
    pub orphans: Vec<Orphan>,
    pub failures: Vec<ReadFailure>,
    /// Accounts whose access role could not be assumed.
    pub unreachable: Vec<NotReached>,
    /// Accounts and regions left out on purpose (closed accounts, disabled opt-in regions).
    pub skipped: Vec<Skipped>,
    /// Waivers that have run out while the drift they covered is still there: that drift is
    /// planned again, and the waiver named.
    pub expired_waivers: Vec<ExpiredWaiver>,
    /// Resources another tool owns that no declaration names (Control Tower's mandatory
    /// controls, say): listed, never touched.
    pub others: Vec<OtherOwned>,
    /// Where the organization's accounts sit, to name a roll-up's accounts by their OUs.
    pub outline: crate::rollup::Outline,
}

/// A resource of a kind baseline knows that another tool owns, undeclared.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct OtherOwned {
    pub kind: String,
    pub name: String,
    pub owner: String,
    pub account_id: String,
    pub region: String,
}

/// A waiver past its expiry that still matches drift.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ExpiredWaiver {
    pub name: String,
    pub expires: String,
    pub address: String,
}

impl Plan {
    /// Put orphans and other tools' resources in one order (kind, then where and what),
    /// which does not depend on how the search was split: shard plans merged list them as
    /// the unsharded plan does.
    pub fn sort_undeclared(&mut self) {
        let kind_rank = |keyword: &str| KINDS.iter().position(|k| k.keyword == keyword);
        self.orphans
            .sort_by_cached_key(|o| (kind_rank(o.kind.keyword), o.address.to_string()));
        self.others.sort_by(|a, b| {
            (kind_rank(&a.kind), &a.account_id, &a.region, &a.name).cmp(&(
                kind_rank(&b.kind),
                &b.account_id,
                &b.region,
                &b.name,
            ))
        });
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for item in &self.items {
            s.findings += item.findings.len();
            match item.action {
                Some(Action::Create) => s.create += 1,
                Some(Action::Adopt) => s.adopt += 1,
                Some(Action::Update) => s.update += 1,
                Some(Action::Replace) => s.replace += 1,
                Some(Action::Delete) => s.delete += 1,
                None => s.unchanged += 1,
            }
        }
        s.delete += self.orphans.len();
        s
    }

    /// Whether anything differs from the baseline (changes or findings).
    pub fn has_drift(&self) -> bool {
        self.has_changes() || self.has_findings()
    }

    /// Whether something needs a person (apply cannot fix a finding).
    pub fn has_findings(&self) -> bool {
        self.items.iter().any(|i| !i.findings.is_empty())
    }

    /// Whether something could not be read (the exit code is then 1).
    pub fn has_errors(&self) -> bool {
        !self.failures.is_empty() || !self.unreachable.is_empty()
    }

    /// The instances that were not read (whatever depends on them is skipped by apply).
    pub fn unread_instances(&self) -> impl Iterator<Item = (usize, &Address)> + '_ {
        let failed = self
            .failures
            .iter()
            .filter_map(|f| Some((f.instance?, &f.address)));
        let unreached = self
            .unreachable
            .iter()
            .flat_map(|n| n.instances.iter().map(|(i, a)| (*i, a)));
        failed.chain(unreached)
    }

    /// Whether apply has anything to do.
    pub fn has_changes(&self) -> bool {
        !self.orphans.is_empty() || self.items.iter().any(|i| i.action.is_some())
    }
}

/// What a run looks at: every instance, or those `--target`, `--accounts`, `--regions` and
/// `--shard` narrow it to. An empty list does not narrow.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Address globs (`*` matches anything).
    pub targets: Vec<String>,
    /// Account names or ids.
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub shard: Option<Shard>,
}

/// `--shard K/N`: the K-th (1-based) of N stable shares of the organization's accounts, so
/// that N machines each plan and apply their share. An account's shard depends on its id
/// alone (the SHA-256 of the id, modulo N): the same on every machine and run, whatever
/// else the organization holds. Organization-wide resources (SCPs, OUs, the organization)
/// belong to shard 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// The most shards a run is split into.
    pub const MAX: u32 = 4096;

    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || {
            format!(
                "--shard takes K/N with 1 <= K <= N <= {}, e.g. 2/4",
                Shard::MAX
            )
        };
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            k.trim().parse::<u32>().map_err(|_| bad())?,
            n.trim().parse::<u32>().map_err(|_| bad())?,
        );
        if index == 0 || index > count || count > Shard::MAX {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the shard holds an instance in `account_id` (`None`: organization-wide).
    pub fn holds(&self, account_id: Option<&str>) -> bool {
        let Some(id) = account_id else {
            return self.index == 1;
        };
        let digest = sha2::Sha256::digest(id.as_bytes());
        let first = u64::from_be_bytes(digest[..8].try_into().expect("eight bytes"));
        first % u64::from(self.count) + 1 == u64::from(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Scope {
    pub fn is_narrowed(&self) -> bool {
        !(self.targets.is_empty()
            && self.accounts.is_empty()
            && self.regions.is_empty()
            && self.shard.is_none())
    }

    /// Whether the scope may hold instances in `account` (its shard, `--accounts`).
    pub fn may_keep_account(&self, account: &crate::org::OrgAccount) -> bool {
        self.shard.is_none_or(|s| s.holds(Some(&account.id)))
            && (self.accounts.is_empty()
                || self
                    .accounts
                    .iter()
                    .any(|a| *a == account.id || *a == account.name))
    }

    /// Whether the instance at `address` in `account_id` / `region` is in scope.
    pub fn keeps(&self, address: &Address, account_id: &str, region: &str) -> bool {
        let text = address.to_string();
        let org_wide = address.account.is_none();
        self.shard
            .is_none_or(|s| s.holds((!org_wide).then_some(account_id)))
            && (self.targets.is_empty() || self.targets.iter().any(|t| glob_match(t, &text)))
            && (self.accounts.is_empty()
                || self
                    .accounts
                    .iter()
                    .any(|a| a == account_id || address.account.as_deref() == Some(a.as_str())))
            && (self.regions.is_empty() || self.regions.iter().any(|r| r == region))
    }
}

/// The provider of an instance's kind.
pub fn provider_of(cx: &Ctx<'_>, inst: &Instance) -> Result<&'static dyn Provider, Error> {
    let kind = cx.decl(inst).kind;
    kind.provider.ok_or_else(|| {
        Error::State(format!(
            "`{}` cannot be read from AWS yet: its provider is not built",
            kind.keyword
        ))
    })
}

/// Read every instance and decide what to do, `parallelism` reads at a time; `read_so_far`
/// counts the instances read (for progress).
pub async fn plan(
    cx: &Ctx<'_>,
    instances: &[Instance],
    reach: &Reach,
    parallelism: usize,
    scope: &Scope,
    read_so_far: &std::sync::atomic::AtomicUsize,
) -> Plan {
    let mut plan = Plan {
        skipped: reach.skipped.clone(),
        outline: crate::rollup::Outline::of(cx.org),
        ..Plan::default()
    };
    let today = crate::lang::model::today();
    for account in &reach.unreachable {
        let instances = instances
            .iter()
            .enumerate()
            .filter(|(_, inst)| inst.account_id == account.account_id)
            .map(|(i, inst)| (i, inst.address.clone()))
            .collect();
        plan.unreachable.push(NotReached {
            account: account.clone(),
            instances,
        });
    }
    let unreachable = reach.unreachable_ids();
    let reachable = instances
        .iter()
        .enumerate()
        .filter(|(_, inst)| !unreachable.contains(inst.account_id.as_str()));
    // The search for undeclared resources runs alongside the reads: neither needs the
    // other, and one after the other they would each wait out their slowest site.
    let mut undeclared = Plan::default();
    let reads = stream::iter(reachable)
        .map(|(i, inst)| async move {
            let (desired, observed, replace_on) = match provider_of(cx, inst) {
                Ok(provider) => (
                    provider.desired(cx, inst),
                    provider.read(cx, inst).await,
                    provider.replace_on(),
                ),
                Err(e) => (Attrs::new(), Err(e), &[][..]),
            };
            read_so_far.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (i, inst, desired, observed, replace_on)
        })
        // Unordered: one slow read (a throttled service, a long page) must not hold
        // `parallelism` finished ones in the window. The plan's order is restored below.
        .buffer_unordered(parallelism.max(1))
        .collect::<Vec<_>>();
    let (mut results, ()) = futures::join!(
        reads,
        find_orphans(cx, reach, scope.shard, parallelism, &mut undeclared)
    );
    results.sort_unstable_by_key(|(i, ..)| *i);
    for (i, inst, desired, observed, replace_on) in results {
        match observed {
            Ok(Observed {
                live,
                findings,
                owner,
            }) => {
                let (mut action, diffs) = decide(&desired, live.as_ref(), replace_on);
                let observed = cx.decl(inst).observe;
                if owner.is_some() || observed {
                    action = None;
                }
                let mut waived = None;
                if action.is_some() {
                    let address = inst.address.to_string();
                    let covering: Vec<_> = cx
                        .baseline
                        .waivers
                        .iter()
                        .filter(|w| w.covers(&address))
                        .collect();
                    match covering.iter().find(|w| !w.expired(&today)) {
                        Some(w) => {
                            waived = Some(w.name.value.clone());
                            action = None;
                        }
                        None => {
                            plan.expired_waivers
                                .extend(covering.iter().map(|w| ExpiredWaiver {
                                    name: w.name.value.clone(),
                                    expires: w.expires.clone(),
                                    address: address.clone(),
                                }))
                        }
                    }
                }
                let decl = cx.decl(inst);
                if action == Some(Action::Replace) && decl.prevent_destroy {
                    let attrs: Vec<&str> = diffs.iter().map(|d| d.name.as_str()).collect();
                    plan.failures.push(ReadFailure {
                        address: inst.address.clone(),
                        error: Error::State(format!(
                            "changing {} means replacing it, and it has `prevent-destroy`; \
                             remove `prevent-destroy` to allow the replacement",
                            attrs.join(", ")
                        )),
                        instance: Some(i),
                    });
                    continue;
                }
                plan.items.push(Planned {
                    address: inst.address.clone(),
                    account_id: inst.account_id.clone(),
                    region: inst.region.clone(),
                    action,
                    diffs,
                    desired,
                    live,
                    findings,
                    owner,
                    waived,
                    observed,
                    instance: i,
                    ordinal: inst.ordinal,
                });
            }
            Err(error) => plan.failures.push(ReadFailure {
                address: inst.address.clone(),
                error,
                instance: Some(i),
            }),
        }
    }
    plan.failures.extend(undeclared.failures);
    plan.others = undeclared.others;
    plan.orphans = undeclared.orphans;
    plan.orphans
        .retain(|o| scope.keeps(&o.address, &o.account_id, &o.region));
    plan
}

/// Ask each kind for managed resources that no declaration names, wherever the kind can
/// live: the management account for organization-wide kinds, every account (and region,
/// for regional kinds) otherwise. Kinds that never delete answer at once, with no call.
async fn find_orphans(
    cx: &Ctx<'_>,
    reach: &Reach,
    shard: Option<Shard>,
    parallelism: usize,
    plan: &mut Plan,
) {
    // Another shard's accounts are not searched at all.
    let in_shard = |account: Option<&str>| shard.is_none_or(|s| s.holds(account));
    let home = cx.baseline.settings.home_region();
    let unreachable = reach.unreachable_ids();
    let skipped = reach.skipped_places();
    // The kinds searched, each with its provider and the names declared of it (found once,
    // not once per site).
    let searched: Vec<(&'static Kind, &'static dyn Provider, Vec<&str>)> = KINDS
        .iter()
        .copied()
        .filter_map(|k| Some((k, k.provider?, cx.baseline.names_of(k))))
        .collect();
    // (index in `searched`, account, region)
    let mut sites: Vec<(usize, String, String)> = Vec::new();
    for (k, (kind, ..)) in searched.iter().enumerate() {
        if kind.placing == Placing::Organization {
            if in_shard(None) {
                sites.push((k, cx.org.management_account_id.clone(), home.clone()));
            }
            continue;
        }
        let regions = if kind.regional {
            cx.baseline.settings.regions()
        } else {
            vec![home.clone()]
        };
        // Only where the run goes: not into closed or unreachable accounts, nor disabled
        // regions.
        let reached = cx.org.accounts.iter().filter(|a| {
            a.is_active()
                && in_shard(Some(&a.id))
                && !unreachable.contains(a.id.as_str())
                && !skipped.contains(&(a.id.as_str(), None))
        });
        for account in reached {
            for region in &regions {
                if !skipped.contains(&(account.id.as_str(), Some(region.as_str()))) {
                    sites.push((k, account.id.clone(), region.clone()));
                }
            }
        }
    }
    // Sites are searched `parallelism` at a time; what they find is put in one order
    // (kind, then address), whatever the shard: merged shard plans list it as the
    // unsharded plan does.
    let searched = &searched;
    let mut found: Vec<_> = stream::iter(sites.into_iter().enumerate())
        .map(|(site, (k, account_id, region))| async move {
            let (kind, provider, declared) = &searched[k];
            let result = provider
                .undeclared(cx, &account_id, &region, declared)
                .await;
            (site, *kind, account_id, region, result)
        })
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    // Failed searches are reported in the sites' order.
    found.sort_unstable_by_key(|(site, ..)| *site);
    for (_, kind, account_id, region, result) in found {
        let org_wide = kind.placing == Placing::Organization;
        let account_name = cx.org.account(&account_id).map(|a| a.name.clone());
        let found = match result {
            Ok(found) => found,
            Err(error) => {
                // A search of a whole site that failed: `kind.*` there could not be read.
                plan.failures.push(ReadFailure {
                    address: Address {
                        kind: kind.keyword.to_string(),
                        name: "*".to_string(),
                        account: account_name,
                        region: Some(region),
                    },
                    error,
                    instance: None,
                });
                continue;
            }
        };
        plan.others
            .extend(found.others.into_iter().map(|(name, owner)| OtherOwned {
                kind: kind.keyword.to_string(),
                name,
                owner,
                account_id: account_id.clone(),
                region: region.clone(),
            }));
        plan.orphans
            .extend(found.orphans.into_iter().map(|(name, live)| Orphan {
                address: Address {
                    kind: kind.keyword.to_string(),
                    name,
                    account: (!org_wide).then(|| account_name.clone()).flatten(),
                    region: (!org_wide && kind.regional).then(|| region.clone()),
                },
                kind,
                account_id: account_id.clone(),
                region: region.clone(),
                live,
            }));
    }
    plan.sort_undeclared();
}

/// Compare desired with live: the action and the attributes that differ.
pub fn decide(
    desired: &Attrs,
    live: Option<&Live>,
    replace_on: &[&str],
) -> (Option<Action>, Vec<AttrDiff>) {
    let Some(live) = live else {
        let diffs = desired
            .iter()
            .map(|(name, after)| AttrDiff {
                name: name.clone(),
                before: Value::Null,
                after: after.clone(),
            })
            .collect();
        return (Some(Action::Create), diffs);
    };
    let diffs: Vec<AttrDiff> = desired
        .iter()
        .filter_map(|(name, after)| {
            let before = live.attrs.get(name).cloned().unwrap_or(Value::Null);
            (before != *after).then(|| AttrDiff {
                name: name.clone(),
                before,
                after: after.clone(),
            })
        })
        .collect();
    let action = if live.managed == Some(false) {
        Some(Action::Adopt)
    } else if diffs.iter().any(|d| replace_on.contains(&d.name.as_str())) {
        Some(Action::Replace)
    } else if !diffs.is_empty() {
        Some(Action::Update)
    } else {
        None
    };
    (action, diffs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_account_is_in_exactly_one_shard_and_the_organization_in_the_first() {
        let ids: Vec<String> = (0..1000)
            .map(|i| format!("{:012}", 100_000_000_000u64 + i))
            .collect();
        for count in [1, 2, 4, 7] {
            let shards: Vec<Shard> = (1..=count).map(|index| Shard { index, count }).collect();
            let mut sizes = vec![0usize; count as usize];
            for id in &ids {
                let holding: Vec<&Shard> = shards.iter().filter(|s| s.holds(Some(id))).collect();
                assert_eq!(holding.len(), 1, "{id} in {count} shards: {holding:?}");
                sizes[holding[0].index as usize - 1] += 1;
            }
            // A fair share each: within a third of the mean for 1,000 accounts.
            let mean = ids.len() / count as usize;
            assert!(
                sizes.iter().all(|&n| n * 3 > mean * 2 && n * 3 < mean * 4),
                "{sizes:?}"
            );
            let org: Vec<u32> = shards
                .iter()
                .filter(|s| s.holds(None))
                .map(|s| s.index)
                .collect();
            assert_eq!(org, vec![1]);
        }
        // Stable: the same answer on every machine and run.
        assert!(Shard { index: 3, count: 4 }.holds(Some("123456789012")));
    }

    #[test]
    fn shards_are_written_k_of_n() {
        assert_eq!(Shard::parse("2/4"), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(
            Shard::parse("1/1").map(|s| s.to_string()),
            Ok("1/1".to_string())
        );
        for bad in ["0/4", "5/4", "4", "a/b", "1/0", "1/5000", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    fn attrs(v: Value) -> Attrs {
        v.as_object().unwrap().clone()
    }

    fn live(v: Value, managed: Option<bool>) -> Live {
        Live {
            attrs: attrs(v),
            ids: Attrs::new(),
            managed,
        }
    }

    #[test]
    fn absent_is_create_with_every_attribute() {
        let (action, diffs) = decide(&attrs(json!({"a": 1, "b": "x"})), None, &[]);
        assert_eq!(action, Some(Action::Create));
        assert_eq!(diffs.len(), 2);
        assert_eq!(diffs[0].before, Value::Null);
    }

    #[test]
    fn equal_documents_in_another_key_order_are_no_change() {
        let desired = attrs(json!({"document": {"Version": "2012-10-17", "Statement": []}}));
        let l = live(
            json!({"document": {"Statement": [], "Version": "2012-10-17"}, "extra": 1}),
            Some(true),
        );
        assert_eq!(decide(&desired, Some(&l), &[]), (None, vec![]));
    }

    #[test]
    fn differing_attribute_is_update_or_replace() {
        let desired = attrs(json!({"min-length": 14, "name": "x"}));
        let l = live(json!({"min-length": 8, "name": "x"}), None);
        let (action, diffs) = decide(&desired, Some(&l), &[]);
        assert_eq!(action, Some(Action::Update));
        assert_eq!(
            diffs,
            vec![AttrDiff {
                name: "min-length".into(),
                before: json!(8),
                after: json!(14)
            }]
        );
        let (action, _) = decide(&desired, Some(&l), &["min-length"]);
        assert_eq!(action, Some(Action::Replace));
    }

    #[test]
    fn untagged_existing_resource_is_adopted() {
        let desired = attrs(json!({"a": 1}));
        let (action, diffs) = decide(&desired, Some(&live(json!({"a": 1}), Some(false))), &[]);
        assert_eq!(action, Some(Action::Adopt));
        assert!(diffs.is_empty());
    }
}
