//! `backup-vault`: an AWS Backup vault, optionally with a vault lock.

use async_trait::async_trait;
use aws_sdk_backup::primitives::{DateTime, DateTimeFormat};
use serde_json::{json, Value};

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::diagnostic::Problem;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::{Span, Spanned};
use crate::provider::{
    self, Action, AttrDiff, Attrs, ChangeRequest, Ctx, Error, Observed, Provider, MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "backup-vault",
    summary: "an AWS Backup vault with an optional vault lock",
    naming: Naming::Required,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&BackupVaultProvider),
};

/// Retention bounds AWS Backup accepts for a vault lock, in days.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 1..=36500;

#[derive(Debug, Clone)]
pub struct VaultLock {
    pub min_retention_days: u32,
    /// Only when declared: with a maximum, AWS fails every backup job whose recovery points
    /// never expire.
    pub max_retention_days: Option<u32>,
    /// Compliance mode: the lock becomes immutable after this many days (at least 3).
    pub changeable_for_days: Option<u32>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct BackupVault {
    pub lock: Option<VaultLock>,
}

impl Spec for BackupVault {
    crate::spec_any!();
}

/// Whether AWS Backup (and so the language) takes `name` as a vault name: 2 to 50 letters,
/// digits, `-` or `_`.
pub fn valid_vault_name(name: &str) -> bool {
    (2..=50).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    if !valid_vault_name(&name.value) {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                name.span,
                format!("\"{}\" is not a valid vault name", name.value),
            )
            .label("invalid vault name")
            .help("a vault name has 2 to 50 letters, digits, `-` or `_`"),
        );
    }
    let lock = r.child("lock").map(|mut c| {
        let min = c.prop_u32("min-retention-days", RETENTION_DAYS);
        let max = c.prop_u32("max-retention-days", RETENTION_DAYS);
        let changeable = c.prop_u32("changeable-for-days", 3..=36500);
        let span = c.name_span();
        if let (Some(lo), Some(hi)) = (&min, &max) {
            if lo.value > hi.value {
                c.report(
                    Problem::new(
                        "baseline::invalid-value",
                        hi.span,
                        "the maximum retention is below the minimum",
                    )
                    .label(format!("{} < {}", hi.value, lo.value))
                    .also(lo.span, "minimum"),
                );
            }
        }
        c.finish();
        VaultLock {
            min_retention_days: min.map_or(1, |m| m.value),
            max_retention_days: max.map(|m| m.value),
            changeable_for_days: changeable.map(|c| c.value),
            span,
        }
    });
    Box::new(BackupVault { lock })
}

// --- AWS -------------------------------------------------------------------------------

/// AWS Backup vaults: tagged at creation, adopted by tagging. The lock is compared as its
/// retention bounds and its mode (compliance mode has a date after which AWS refuses any
/// change; governance mode can change at any time). Vaults are protective: never deleted.
pub struct BackupVaultProvider;

const LOCK_MIN: &str = "lock-min-retention-days";
const LOCK_MAX: &str = "lock-max-retention-days";
const LOCK_MODE: &str = "lock-mode";
const COMPLIANCE: &str = "compliance";
const GOVERNANCE: &str = "governance";

fn lock_attrs(min: Option<i64>, max: Option<i64>, mode: Option<&str>) -> Attrs {
    let mut a = Attrs::new();
    a.insert(LOCK_MIN.into(), json!(min));
    a.insert(LOCK_MAX.into(), json!(max));
    a.insert(LOCK_MODE.into(), json!(mode));
    a
}

fn desired_attrs(v: &BackupVault) -> Attrs {
    match &v.lock {
        Some(l) => lock_attrs(
            Some(l.min_retention_days.into()),
            l.max_retention_days.map(i64::from),
            Some(if l.changeable_for_days.is_some() {
                COMPLIANCE
            } else {
                GOVERNANCE
            }),
        ),
        None => lock_attrs(None, None, None),
    }
}

/// Whether the AWS Backup resource `arn` (vault or plan) carries baseline's ownership tag.
pub(crate) async fn has_managed_tag(
    backup: &aws_sdk_backup::Client,
    arn: &str,
) -> provider::Result<bool> {
    Ok(tags_of(backup, arn)
        .await?
        .iter()
        .any(|(k, v)| k == MANAGED_TAG_KEY && v == MANAGED_TAG_VALUE))
}

/// The tags of the AWS Backup resource `arn`, as (key, value).
async fn tags_of(
    backup: &aws_sdk_backup::Client,
    arn: &str,
) -> provider::Result<Vec<(String, String)>> {
    let mut tags = Vec::new();
    let mut pages = backup.list_tags().resource_arn(arn).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("backup:ListTags")?;
        tags.extend(
            page.tags()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    Ok(tags)
}

/// The tool that owns the AWS Backup resource `arn` called `name`, if another does (by its
/// name and tags).
pub(crate) async fn other_owner(
    backup: &aws_sdk_backup::Client,
    name: &str,
    arn: &str,
) -> provider::Result<Option<String>> {
    let tags = tags_of(backup, arn).await?;
    Ok(crate::coexist::owner_of(
        name,
        tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))
}

/// Tag an existing AWS Backup resource as managed (adoption).
pub(crate) async fn tag_managed(
    backup: &aws_sdk_backup::Client,
    arn: Option<&str>,
    what: &str,
) -> provider::Result<()> {
    let arn = arn.ok_or_else(|| Error::State(format!("{what}: no ARN was read to tag")))?;
    backup
        .tag_resource()
        .resource_arn(arn)
        .tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
        .send()
        .await
        .ctx("backup:TagResource")?;
    Ok(())
}

/// Whether `name` is among the vaults of the account and region.
async fn vault_listed(backup: &aws_sdk_backup::Client, name: &str) -> provider::Result<bool> {
    let mut pages = backup.list_backup_vaults().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("backup:ListBackupVaults")?;
        if page
            .backup_vault_list()
            .iter()
            .any(|v| v.backup_vault_name() == Some(name))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A compliance-mode lock whose date (seconds since the epoch) has passed is immutable:
/// AWS refuses any change, so explain that instead of calling it.
fn refuse_immutable_lock(
    address: &str,
    lock_date: Option<i64>,
    now: i64,
    diffs: &[AttrDiff],
) -> Option<Error> {
    let since = lock_date.filter(|&d| d <= now)?;
    let date = DateTime::from_secs(since)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| since.to_string());
    let wanted: Vec<String> = diffs
        .iter()
        .map(|d| format!("{} {} -> {}", d.name, d.before, d.after))
        .collect();
    Some(Error::State(format!(
        "{address}: the vault lock is in compliance mode and became immutable on {date}; \
         AWS refuses to change or remove it (wanted {}). Declare the lock as it is, or use \
         another vault",
        wanted.join(", ")
    )))
}

fn now_secs() -> i64 {
    DateTime::from(std::time::SystemTime::now()).secs()
}

async fn put_lock(
    backup: &aws_sdk_backup::Client,
    name: &str,
    lock: &VaultLock,
) -> provider::Result<()> {
    backup
        .put_backup_vault_lock_configuration()
        .backup_vault_name(name)
        .min_retention_days(lock.min_retention_days.into())
        .set_max_retention_days(lock.max_retention_days.map(i64::from))
        .set_changeable_for_days(lock.changeable_for_days.map(i64::from))
        .send()
        .await
        .ctx("backup:PutBackupVaultLockConfiguration")?;
    Ok(())
}

async fn delete_lock(backup: &aws_sdk_backup::Client, name: &str) -> provider::Result<()> {
    backup
        .delete_backup_vault_lock_configuration()
        .backup_vault_name(name)
        .send()
        .await
        .ctx("backup:DeleteBackupVaultLockConfiguration")?;
    Ok(())
}

/// A vault's lock as AWS describes it: (min, max) retention days and the date (seconds
/// since the epoch) on which a compliance-mode lock becomes immutable; `None` for a vault
/// without a lock.
pub(crate) struct LiveLock {
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub compliance_from: Option<i64>,
}

/// The lock of the vault `name`; `Ok(None)` without one, `Err` when the vault cannot be read.
pub(crate) async fn live_lock(
    backup: &aws_sdk_backup::Client,
    name: &str,
) -> provider::Result<Option<LiveLock>> {
    let out = backup
        .describe_backup_vault()
        .backup_vault_name(name)
        .send()
        .await
        .ctx("backup:DescribeBackupVault")?;
    let (min, max) = (out.min_retention_days(), out.max_retention_days());
    let locked =
        out.lock_date().is_some() || out.locked() == Some(true) || min.is_some() || max.is_some();
    Ok(locked.then(|| LiveLock {
        min,
        max,
        compliance_from: out.lock_date().map(|d| d.secs()),
    }))
}

/// `baseline import`: the vaults of one account and region that the language can name.
async fn import_site(
    cx: &Ctx<'_>,
    site: &crate::import::Site,
) -> provider::Result<crate::import::Imported> {
    use crate::import::{account_ref, kdl::Node, Found, Imported, Skipped};
    let mut out = Imported::default();
    let backup = cx.aws.backup(&site.account_id, &site.region).await?;
    let mut vaults = Vec::new();
    let mut pages = backup.list_backup_vaults().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("backup:ListBackupVaults")?;
        vaults.extend(page.backup_vault_list().iter().cloned());
    }
    vaults.sort_by(|a, b| a.backup_vault_name().cmp(&b.backup_vault_name()));
    for vault in vaults {
        let name = vault.backup_vault_name().unwrap_or_default();
        let arn = vault.backup_vault_arn().unwrap_or_default();
        let what = format!(
            "{} \"{name}\" in {} ({})",
            KIND.keyword,
            account_ref(cx.org, &site.account_id),
            site.region
        );
        if !valid_vault_name(name) {
            // AWS's own vaults (aws/efs/automatic-backup-vault) among them.
            out.skipped.push(Skipped {
                what,
                why: "a name the language does not accept".to_string(),
            });
            continue;
        }
        if let Some(owner) = other_owner(&backup, name, arn).await? {
            out.skipped.push(Skipped {
                what,
                why: format!("managed by {owner}"),
            });
            continue;
        }
        let mut node = Node::new(KIND.keyword)
            .arg(name)
            .comment("AWS Backup vault");
        let mut notes = Vec::new();
        if let Some(lock) = live_lock(&backup, name).await? {
            let mut l = Node::new("lock").prop("min-retention-days", lock.min.unwrap_or(1));
            if let Some(max) = lock.max {
                l = l.prop("max-retention-days", max);
            }
            if let Some(date) = lock.compliance_from {
                // The days it was given are not kept by AWS, only the date; any number says
                // compliance mode, and none changes a lock while it matches.
                l = l.prop("changeable-for-days", 3u32);
                let date = DateTime::from_secs(date)
                    .fmt(DateTimeFormat::DateTime)
                    .unwrap_or_default();
                notes.push(format!(
                    "the lock is in compliance mode, immutable from {date}; `changeable-for-days` \
                     says compliance mode and only counts when baseline writes the lock again"
                ));
            }
            node = node.child(l);
        }
        let mut found = Found::new(node);
        found.notes = notes;
        out.found.push(found);
    }
    Ok(out)
}

#[async_trait]
impl Provider for BackupVaultProvider {
    async fn import(
        &self,
        cx: &Ctx<'_>,
        site: &crate::import::Site,
        _lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        Ok(Some(import_site(cx, site).await?))
    }

    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        spec_of::<BackupVault>(cx.decl(inst)).map_or_else(Attrs::new, desired_attrs)
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let backup = cx.aws.backup(&inst.account_id, &inst.region).await?;
        let name = inst.address.name.as_str();
        let described = backup
            .describe_backup_vault()
            .backup_vault_name(name)
            .send()
            .await
            .ctx("backup:DescribeBackupVault");
        let out = match described {
            Ok(out) => out,
            Err(e) if e.is("ResourceNotFoundException") => return Ok(Observed::absent()),
            // AWS answers AccessDeniedException for a vault that does not exist; only the
            // list tells that apart from a real lack of permission.
            Err(e) if e.is("AccessDeniedException") => {
                return if vault_listed(&backup, name).await? {
                    Err(e.into())
                } else {
                    Ok(Observed::absent())
                };
            }
            Err(e) => return Err(e.into()),
        };
        let arn = out
            .backup_vault_arn()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                Error::State(format!("backup:DescribeBackupVault gave no ARN for {name}"))
            })?
            .to_string();
        let (min, max) = (out.min_retention_days(), out.max_retention_days());
        let mode = if out.lock_date().is_some() {
            Some(COMPLIANCE)
        } else if out.locked() == Some(true) || min.is_some() || max.is_some() {
            Some(GOVERNANCE)
        } else {
            None
        };
        let mut ids = Attrs::new();
        ids.insert("vault-arn".into(), json!(arn));
        if let Some(date) = out.lock_date() {
            ids.insert("lock-date".into(), json!(date.secs()));
        }
        let tags = tags_of(&backup, &arn).await?;
        let managed = tags
            .iter()
            .any(|(k, v)| k == MANAGED_TAG_KEY && v == MANAGED_TAG_VALUE);
        let owner =
            crate::coexist::owner_of(name, tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok(Observed::present(lock_attrs(min, max, mode), ids, Some(managed)).owned_by(owner))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(vault) = spec_of::<BackupVault>(cx.decl(inst)) else {
            return Ok(());
        };
        let backup = cx.aws.backup(&inst.account_id, &inst.region).await?;
        let name = inst.address.name.as_str();
        match change.action {
            Action::Create => {
                backup
                    .create_backup_vault()
                    .backup_vault_name(name)
                    .backup_vault_tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
                    .send()
                    .await
                    .ctx("backup:CreateBackupVault")?;
                if let Some(lock) = &vault.lock {
                    put_lock(&backup, name, lock).await?;
                }
                return Ok(());
            }
            Action::Adopt => {
                tag_managed(&backup, change.id("vault-arn"), &inst.address.to_string()).await?
            }
            Action::Update | Action::Replace => {}
            Action::Delete => {
                return Err(Error::State(format!(
                    "{}: backup vaults are never deleted by baseline",
                    inst.address
                )))
            }
        }
        if ![LOCK_MIN, LOCK_MAX, LOCK_MODE]
            .iter()
            .any(|a| change.changes(a))
        {
            return Ok(());
        }
        let lock_date = change
            .live
            .and_then(|l| l.ids.get("lock-date"))
            .and_then(Value::as_i64);
        if let Some(e) = refuse_immutable_lock(
            &inst.address.to_string(),
            lock_date,
            now_secs(),
            change.diffs,
        ) {
            return Err(e);
        }
        let live_mode = change
            .live
            .and_then(|l| l.attrs.get(LOCK_MODE))
            .and_then(Value::as_str);
        match &vault.lock {
            None => delete_lock(&backup, name).await?,
            Some(lock) => {
                // Compliance (still changeable) to governance: remove the lock first, so the
                // new one cannot keep the old lock date.
                if live_mode == Some(COMPLIANCE) && lock.changeable_for_days.is_none() {
                    delete_lock(&backup, name).await?;
                }
                put_lock(&backup, name, lock).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_compliance_lock_is_refused_once_its_date_has_passed() {
        let diffs = [AttrDiff {
            name: LOCK_MIN.into(),
            before: json!(3),
            after: json!(7),
        }];
        let at = |date, now| refuse_immutable_lock("backup-vault.v[a/r]", date, now, &diffs);
        // Governance mode (no date) and a compliance lock still in its window can change.
        assert!(at(None, 1_700_000_000).is_none());
        assert!(at(Some(1_700_000_001), 1_700_000_000).is_none());
        let Some(Error::State(message)) = at(Some(1_700_000_000), 1_700_000_000) else {
            panic!("an immutable lock is refused");
        };
        assert!(message.starts_with("backup-vault.v[a/r]: "), "{message}");
        assert!(
            message.contains("immutable on 2023-11-14T22:13:20Z"),
            "{message}"
        );
        assert!(
            message.contains("lock-min-retention-days 3 -> 7"),
            "{message}"
        );
    }
}
