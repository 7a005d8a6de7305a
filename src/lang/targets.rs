//! `targets { ... }`: which accounts and regions a declaration deploys to.
//!
//! Parsing and the checks that need no AWS live here; expansion into concrete accounts, which
//! needs the organization's structure, lives in [`crate::expand`].

use super::checks::{is_malformed_account_id, is_region};
use super::diagnostic::{did_you_mean, Problem};
use super::reader::NodeReader;
use super::source::{Span, Spanned};

/// A parsed `targets` block.
#[derive(Debug, Clone)]
pub struct Targets {
    pub span: Span,
    /// `all-accounts` (or its synonym `root`): every account of the organization.
    pub all_accounts: Option<Span>,
    /// `ou "Workloads/Production"`: accounts in these OUs and below.
    pub ous: Vec<Spanned<String>>,
    /// `account "prod-app" "111111111111"`: accounts by name or id.
    pub accounts: Vec<Spanned<String>>,
    pub exclude_accounts: Vec<Spanned<String>>,
    pub exclude_ous: Vec<Spanned<String>>,
    /// Empty means the settings' `default-regions`.
    pub regions: Vec<Spanned<String>>,
    pub exclude_regions: Vec<Spanned<String>>,
}

impl Targets {
    /// Every OU path this block names, included or excluded (each is a reference).
    pub fn ou_references(&self) -> impl Iterator<Item = &Spanned<String>> {
        self.ous.iter().chain(&self.exclude_ous)
    }
}

/// Reads a `targets` block. `regional` is false for kinds that exist once per account.
pub fn parse_targets(mut r: NodeReader, regional: bool) -> Targets {
    let all = r.child_bool("all-accounts");
    let root = r.child_bool("root");
    let all_accounts = [all, root]
        .into_iter()
        .flatten()
        .find(|b| b.value)
        .map(|b| b.span);
    let strs = |r: &mut NodeReader, name: &'static str, what: &str| {
        r.children(name)
            .into_iter()
            .flat_map(|mut c| {
                let v = c.args_str(what);
                c.finish();
                v
            })
            .collect::<Vec<_>>()
    };
    let ous = strs(&mut r, "ou", "OU paths");
    let accounts = strs(&mut r, "account", "account names or ids");
    let exclude_accounts = strs(&mut r, "exclude-account", "account names or ids");
    let exclude_ous = strs(&mut r, "exclude-ou", "OU paths");
    let regions = strs(&mut r, "regions", "region names");
    let exclude_regions = strs(&mut r, "exclude-regions", "region names");
    let targets = Targets {
        span: r.name_span(),
        all_accounts,
        ous,
        accounts,
        exclude_accounts,
        exclude_ous,
        regions,
        exclude_regions,
    };
    check(&r, &targets, regional);
    r.finish();
    targets
}

fn check(r: &NodeReader, t: &Targets, regional: bool) {
    if t.all_accounts.is_none() && t.ous.is_empty() && t.accounts.is_empty() {
        r.report(
            Problem::new(
                "baseline::missing-value",
                t.span,
                "`targets` selects no account",
            )
            .label("empty selection")
            .help("add `all-accounts`, `ou \"Path\"` or `account \"name\"`"),
        );
    }
    for region in t.regions.iter().chain(&t.exclude_regions) {
        check_region(r, region);
    }
    if !regional {
        if let Some(first) = t.regions.first().or(t.exclude_regions.first()) {
            r.report(
                Problem::new(
                    "baseline::conflicting-targets",
                    first.span,
                    "this kind exists once per account, not per region",
                )
                .label("regions do not apply")
                .help("remove `regions` and `exclude-regions`"),
            );
        }
    }
    for account in t.accounts.iter().chain(&t.exclude_accounts) {
        check_account_ref(r, account);
    }
    conflict(r, &t.accounts, &t.exclude_accounts, "account");
    conflict(r, &t.ous, &t.exclude_ous, "OU");
    conflict(r, &t.regions, &t.exclude_regions, "region");
    if !t.regions.is_empty()
        && t.regions
            .iter()
            .all(|reg| t.exclude_regions.iter().any(|x| x.value == reg.value))
    {
        r.report(
            Problem::new(
                "baseline::conflicting-targets",
                t.span,
                "every region is excluded",
            )
            .label("no region left"),
        );
    }
}

fn conflict(
    r: &NodeReader,
    included: &[Spanned<String>],
    excluded: &[Spanned<String>],
    what: &str,
) {
    for inc in included {
        if let Some(exc) = excluded.iter().find(|e| e.value == inc.value) {
            r.report(
                Problem::new(
                    "baseline::conflicting-targets",
                    exc.span,
                    format!("{what} \"{}\" is both targeted and excluded", inc.value),
                )
                .label("excluded here")
                .also(inc.span, "targeted here")
                .help("keep one of the two"),
            );
        }
    }
}

/// Reports a region name AWS does not have.
pub fn check_region(r: &NodeReader, region: &Spanned<String>) {
    if !is_region(&region.value) {
        r.report(
            Problem::new(
                "baseline::unknown-region",
                region.span,
                format!("unknown region \"{}\"", region.value),
            )
            .label("not an AWS region")
            .help(did_you_mean(&region.value, super::checks::REGIONS)),
        );
    }
}

/// Reports an all-digit account reference that is not 12 digits long.
pub fn check_account_ref(r: &NodeReader, account: &Spanned<String>) {
    if is_malformed_account_id(&account.value) {
        r.report(
            Problem::new(
                "baseline::invalid-account-id",
                account.span,
                format!(
                    "\"{}\" is not an account id: an account id has 12 digits, this one {}",
                    account.value,
                    account.value.len()
                ),
            )
            .label("invalid account id")
            .help("write the 12-digit id (keep leading zeros) or the account's name"),
        );
    }
}
