//! Which accounts and regions a run can reach, found before anything is read.
//!
//! A real organization always has corners that cannot be read: a closed account stays in the
//! organization as PENDING_CLOSURE or SUSPENDED for up to 90 days, an opt-in region may be
//! disabled in an account, and an invited account may lack the access role. The first two
//! are expected and are skipped with a notice; the third is an error scoped to its account.
//! Either way, the run goes on for every other account.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use aws_sdk_account::types::RegionOptStatus;
use futures::stream::{self, StreamExt};

use crate::aws::{Aws, AwsError, Context};
use crate::expand::Instance;
use crate::org::OrgStructure;

/// Instances left out on purpose: an account that is not active, or a region the account
/// has not enabled.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub account_id: String,
    pub account: String,
    /// `None`: the whole account.
    pub region: Option<String>,
    pub reason: String,
}

/// An account whose access role could not be assumed: none of its instances is read.
#[derive(Debug, Clone)]
pub struct Unreachable {
    pub account_id: String,
    pub account: String,
    pub error: AwsError,
}

/// What [`survey`] found.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub skipped: Vec<Skipped>,
    pub unreachable: Vec<Unreachable>,
    /// Opt-in status that could not be checked (the role may lack `account:ListRegions`):
    /// the account's regions are read as if enabled.
    pub unchecked: Vec<(String, AwsError)>,
}

impl Reach {
    /// The ids of the unreachable accounts, for one probe per look-up however many there are.
    pub fn unreachable_ids(&self) -> HashSet<&str> {
        self.unreachable
            .iter()
            .map(|u| u.account_id.as_str())
            .collect()
    }

    /// The places skipped, for one probe per look-up however many there are: (account,
    /// `None`) for a whole account, (account, region) for one of its regions.
    pub fn skipped_places(&self) -> HashSet<(&str, Option<&str>)> {
        self.skipped
            .iter()
            .map(|s| (s.account_id.as_str(), s.region.as_deref()))
            .collect()
    }

    /// Drop the instances that live where the run does not go.
    pub fn retain(&self, instances: &mut Vec<Instance>) {
        if self.skipped.is_empty() {
            return;
        }
        let skipped = self.skipped_places();
        instances.retain(|i| {
            !skipped.contains(&(i.account_id.as_str(), None))
                && !skipped.contains(&(i.account_id.as_str(), Some(i.region.as_str())))
        });
    }
}

/// Regions every account has enabled from the start; any other region is opt-in and is
/// checked with `account:ListRegions` before it is read. (AWS General Reference, "Enable or
/// disable AWS Regions in your account": regions introduced after 20 March 2019 are opt-in.)
pub const ENABLED_BY_DEFAULT: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-southeast-1",
    "ap-southeast-2",
    "ca-central-1",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-north-1",
    "sa-east-1",
    "us-gov-west-1",
    "us-gov-east-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// Look at every account and region the instances live in: skip inactive accounts and
/// disabled opt-in regions, and assume the access role once in every other member account.
/// `parallelism` accounts are looked at a time.
pub async fn survey(
    aws: &Aws,
    org: &OrgStructure,
    instances: &[Instance],
    parallelism: usize,
) -> Reach {
    let mut regions_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for inst in instances {
        regions_of
            .entry(inst.account_id.as_str())
            .or_default()
            .insert(inst.region.as_str());
    }
    let mut reach = Reach::default();
    let name_of = |id: &str| {
        org.account(id)
            .map_or_else(|| id.to_string(), |a| a.name.clone())
    };
    let mut active = Vec::new();
    for (&account_id, regions) in &regions_of {
        match org.account(account_id) {
            Some(a) if !a.is_active() => reach.skipped.push(Skipped {
                account_id: account_id.to_string(),
                account: a.name.clone(),
                region: None,
                reason: format!(
                    "the account is {}: a closed account stays in the organization for up to \
                     90 days and cannot be changed",
                    a.state
                ),
            }),
            _ => active.push((account_id, regions)),
        }
    }
    let looked: Vec<_> = stream::iter(active)
        .map(|(account_id, regions)| async move {
            if let Err(e) = aws.reach(account_id).await {
                return (account_id, Err(e));
            }
            let opt_in: Vec<&str> = regions
                .iter()
                .copied()
                .filter(|r| !ENABLED_BY_DEFAULT.contains(r))
                .collect();
            if opt_in.is_empty() {
                return (account_id, Ok(Ok(Vec::new())));
            }
            let disabled = enabled_regions(aws, account_id).await.map(|enabled| {
                opt_in
                    .into_iter()
                    .filter(|r| !enabled.contains(*r))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            });
            (account_id, Ok(disabled))
        })
        .buffer_unordered(parallelism.max(1))
        .collect()
        .await;
    for (account_id, looked) in looked {
        match looked {
            Err(error) => reach.unreachable.push(Unreachable {
                account_id: account_id.to_string(),
                account: name_of(account_id),
                error,
            }),
            Ok(Err(error)) => reach.unchecked.push((account_id.to_string(), error)),
            Ok(Ok(disabled)) => reach
                .skipped
                .extend(disabled.into_iter().map(|region| Skipped {
                    account_id: account_id.to_string(),
                    account: name_of(account_id),
                    region: Some(region),
                    reason: "an opt-in region this account has not enabled".to_string(),
                })),
        }
    }
    let key = |account: &str, region: Option<&String>| (account.to_string(), region.cloned());
    reach
        .skipped
        .sort_by_key(|s| key(&s.account, s.region.as_ref()));
    reach.unreachable.sort_by(|a, b| a.account.cmp(&b.account));
    reach
}

/// The regions `account_id` may be called in (enabled, or enabled by default), asked of the
/// account itself: passing `AccountId` from the management account would need trusted
/// access for the Account Management service, which baseline does not turn on by itself.
async fn enabled_regions(aws: &Aws, account_id: &str) -> Result<BTreeSet<String>, AwsError> {
    let client = aws.account(account_id, aws.organizations_region()).await?;
    let mut pages = client
        .list_regions()
        .region_opt_status_contains(RegionOptStatus::Enabled)
        .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
        .into_paginator()
        .send();
    let mut enabled = BTreeSet::new();
    while let Some(page) = pages.next().await {
        let page = page.ctx("account:ListRegions")?;
        enabled.extend(
            page.regions()
                .iter()
                .filter_map(|r| r.region_name().map(str::to_string)),
        );
    }
    Ok(enabled)
}
