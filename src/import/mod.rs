//! `baseline import`: read an existing organization and write the baseline that describes it,
//! so that `baseline plan` against it changes nothing.
//!
//! Each kind knows how its live resources read back as KDL ([`Provider::import`], in the
//! kind's file, built on the same reads as its `read`); this module decides where to look
//! (the organization's active accounts and the chosen regions, through the access role as
//! plan does), groups what many accounts hold alike into one declaration with `targets`
//! ([`group`]), and writes the files ([`kdl`]) in `baseline fmt`'s layout. Nothing is written
//! into AWS: every call is a read, and no tag is added until an apply adopts.
//!
//! [`Provider::import`]: crate::provider::Provider::import

pub mod group;
pub mod kdl;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use futures::stream::{self, StreamExt};

use crate::aws::Aws;
use crate::cli::exit;
use crate::expand::{Address, Instance};
use crate::kinds::{Kind, Naming, Placing, KINDS};
use crate::lang::model::{Baseline, Settings};
use crate::lang::source::{FileId, Sources, Span, Spanned};
use crate::notice::notice;
use crate::org::OrgStructure;
use crate::provider::{Ctx, Outputs};
use kdl::Node;

/// Where a kind is asked what it holds: an account and a region. Kinds placed
/// organization-wide are asked once, in the management account and the home region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Site {
    pub account_id: String,
    pub region: String,
}

/// One declaration import found.
#[derive(Debug, Clone)]
pub struct Found {
    /// The declaration: `kind "name" { ... }` (a singleton without a name). Kinds placed with
    /// `targets` leave them out: import groups the sites and writes them. Single-placed kinds
    /// write their own `account` and `region`.
    pub node: Node,
    /// Files the declaration refers to (policy documents): path relative to the baseline's
    /// folder, content.
    pub files: Vec<(String, String)>,
    /// What the live resource has that the language cannot say: written as comments on the
    /// declaration and listed on stderr.
    pub notes: Vec<String>,
}

impl Found {
    pub fn new(node: Node) -> Found {
        Found {
            node,
            files: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// A resource import leaves out on purpose, and why (another tool owns it, say).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    /// `kind "name"` and its AWS id, as the comment names it.
    pub what: String,
    pub why: String,
}

/// What one kind holds at one site.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub found: Vec<Found>,
    pub skipped: Vec<Skipped>,
}

/// What several kinds ask while importing, answered once per run.
pub struct Lookups {
    /// The accounts import reads (active, reachable), in order.
    accounts: Vec<String>,
    /// Where import reads.
    sites: BTreeSet<Site>,
    /// Bucket name -> the account that owns it, among `accounts`.
    buckets: tokio::sync::OnceCell<Result<BTreeMap<String, String>, crate::provider::Error>>,
}

impl Lookups {
    pub fn new(sites: BTreeSet<Site>) -> Lookups {
        let accounts: BTreeSet<String> = sites.iter().map(|s| s.account_id.clone()).collect();
        Lookups {
            accounts: accounts.into_iter().collect(),
            sites,
            buckets: tokio::sync::OnceCell::new(),
        }
    }

    /// The regions import reads in `account_id`, in the baseline's order.
    pub fn regions_of(&self, cx: &Ctx<'_>, account_id: &str) -> Vec<String> {
        cx.baseline
            .settings
            .regions()
            .into_iter()
            .filter(|r| {
                self.sites
                    .iter()
                    .any(|s| s.account_id == account_id && &s.region == r)
            })
            .collect()
    }

    /// The account (among those import reads) that owns the S3 bucket `name`: every
    /// account's buckets are listed once (ListBuckets), the first time one is asked for.
    pub async fn bucket_owner(
        &self,
        cx: &Ctx<'_>,
        name: &str,
    ) -> crate::provider::Result<Option<String>> {
        let owners = self
            .buckets
            .get_or_init(|| async {
                let home = cx.baseline.settings.home_region();
                let mut owners = BTreeMap::new();
                for account in &self.accounts {
                    let s3 = cx.aws.s3(account, &home).await?;
                    let mut pages = s3.list_buckets().into_paginator().send();
                    while let Some(page) = pages.next().await {
                        let page = crate::aws::Context::ctx(page, "s3:ListBuckets")?;
                        for b in page.buckets() {
                            if let Some(n) = b.name() {
                                owners.insert(n.to_string(), account.clone());
                            }
                        }
                    }
                }
                Ok(owners)
            })
            .await;
        match owners {
            Ok(o) => Ok(o.get(name).cloned()),
            Err(e) => Err(e.clone()),
        }
    }
}

/// How an account is named in what import writes: by its name, unless another account has
/// the same one or the name reads as an account id; then by its id.
pub fn account_ref(org: &OrgStructure, id: &str) -> String {
    let Some(account) = org.accounts.iter().find(|a| a.id == id) else {
        return id.to_string();
    };
    let unique = org
        .accounts
        .iter()
        .filter(|a| a.name == account.name)
        .count()
        == 1;
    let digits = account.name.bytes().all(|b| b.is_ascii_digit());
    if unique && !digits && !account.name.is_empty() {
        account.name.clone()
    } else {
        account.id.clone()
    }
}

/// The placement children of a single-placed declaration at `account_id` / `region`: none
/// where the language's defaults (the management account, the home region) say it.
pub fn placement(cx: &Ctx<'_>, account_id: &str, region: &str) -> Vec<Node> {
    let mut out = Vec::new();
    if account_id != cx.org.management_account_id {
        out.push(Node::new("account").arg(account_ref(cx.org, account_id)));
    }
    if region != cx.baseline.settings.home_region() {
        out.push(Node::new("region").arg(region));
    }
    out
}

/// The account and region of an ARN (`arn:partition:service:region:account:...`).
pub fn arn_site(arn: &str) -> Option<(String, String)> {
    let mut parts = arn.split(':');
    let (_, _, _, region, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    Some((account.to_string(), region.to_string()))
}

/// What `baseline import` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// The folder to write into.
    pub out: PathBuf,
    /// Write even where KDL files are already (overwriting what import writes).
    pub force: bool,
    /// Regions to read; empty: the caller's region.
    pub regions: Vec<String>,
    pub access_role: Option<String>,
    pub parallelism: usize,
}

/// The root file import writes.
pub const ROOT_FILE: &str = "baseline.kdl";

/// `baseline import`.
pub fn command(opts: &Options) -> i32 {
    if let Err(e) = check_out(&opts.out, opts.force) {
        eprintln!("error: {e}");
        return exit::ERROR;
    }
    for r in &opts.regions {
        if !crate::lang::checks::is_region(r) {
            eprintln!("error: --regions: \"{r}\" is not a known AWS region");
            return exit::ERROR;
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime");
    runtime.block_on(async {
        match import(opts).await {
            Ok(result) => write(opts, &result),
            Err(e) => {
                eprintln!("error: {e}");
                exit::ERROR
            }
        }
    })
}

/// Refuse a folder that already holds KDL, unless forced: import writes a new baseline.
fn check_out(out: &Path, force: bool) -> Result<(), String> {
    if !out.exists() {
        return Ok(());
    }
    if !out.is_dir() {
        return Err(format!("--out {} is not a folder", out.display()));
    }
    if force {
        return Ok(());
    }
    let found =
        crate::lang::kdl_files(out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
    if let Some(first) = found.first() {
        return Err(format!(
            "{} already holds KDL ({}{}); import writes a new baseline: choose a new or empty \
             folder, or add --force to overwrite {ROOT_FILE} and the policy files import \
             writes there",
            out.display(),
            first.display(),
            if found.len() > 1 {
                format!(" and {} more", found.len() - 1)
            } else {
                String::new()
            }
        ));
    }
    Ok(())
}

/// Everything import read: the declarations to write, with what it left out.
struct Result_ {
    org: OrgStructure,
    settings: Settings,
    /// Per kind, in the registry's order: the declarations.
    declarations: Vec<(&'static Kind, Vec<Found>)>,
    skipped: Vec<Skipped>,
    /// Accounts and regions not read (closed accounts, disabled opt-in regions), with why.
    not_read: Vec<String>,
}

fn settings(regions: &[String], access_role: &str) -> Settings {
    let span = Span {
        file: FileId(0),
        offset: 0,
        len: 0,
    };
    Settings {
        access_role: access_role.to_string(),
        default_regions: regions
            .iter()
            .map(|r| Spanned::new(r.clone(), span))
            .collect(),
        ..Settings::default()
    }
}

async fn import(opts: &Options) -> Result<Result_, String> {
    let access_role = opts
        .access_role
        .clone()
        .unwrap_or_else(|| Settings::default().access_role);
    let aws = Aws::connect(&access_role)
        .await
        .map_err(|e| format!("cannot reach AWS: {e}"))?;
    let regions = if opts.regions.is_empty() {
        vec![aws.base_region()]
    } else {
        opts.regions.clone()
    };
    let org = crate::discover::organization(&aws)
        .await
        .map_err(|e| format!("cannot read the organization: {e}"))?;
    let settings = settings(&regions, &access_role);
    let baseline = Baseline {
        root: FileId(0),
        sources: Sources::default(),
        settings: settings.clone(),
        declarations: Vec::new(),
        applicability: Vec::new(),
        waivers: Vec::new(),
    };
    let home = settings.home_region();

    // Where to look: every active account in every region, minus what cannot be read.
    let mut probes = Vec::new();
    for account in org.accounts.iter().filter(|a| a.is_active()) {
        for region in &regions {
            probes.push(Instance {
                address: Address {
                    kind: "import".into(),
                    name: "probe".into(),
                    account: Some(account.name.clone()),
                    region: Some(region.clone()),
                },
                decl: 0,
                part: 0,
                account_id: account.id.clone(),
                region: region.clone(),
                ordinal: probes.len(),
            });
        }
    }
    let reach = crate::reach::survey(&aws, &org, &probes, opts.parallelism).await;
    if let Some(u) = reach.unreachable.first() {
        return Err(format!(
            "account {} ({}) cannot be reached through the access role {access_role}: {}; \
             import reads every account, so nothing was written (name the role with \
             --access-role)",
            u.account, u.account_id, u.error
        ));
    }
    let mut not_read: Vec<String> = reach
        .skipped
        .iter()
        .map(|s| format!("{}: {}", crate::render::skipped_place(s), s.reason))
        .collect();
    for a in org.accounts.iter().filter(|a| !a.is_active()) {
        not_read.push(format!("account {} ({}): {}", a.name, a.id, a.state));
    }
    not_read.sort();
    not_read.dedup();
    reach.retain(&mut probes);
    let sites: BTreeSet<Site> = probes
        .iter()
        .map(|p| Site {
            account_id: p.account_id.clone(),
            region: p.region.clone(),
        })
        .collect();

    let outputs = Outputs::default();
    let cx = Ctx {
        aws: &aws,
        baseline: &baseline,
        org: &org,
        outputs: &outputs,
    };
    let management = Site {
        account_id: org.management_account_id.clone(),
        region: home.clone(),
    };
    let mut calls: Vec<(&'static Kind, Site)> = Vec::new();
    for kind in KINDS.iter().copied().filter(|k| k.provider.is_some()) {
        match kind.placing {
            Placing::Organization => calls.push((kind, management.clone())),
            Placing::Targets | Placing::Single => {
                for site in &sites {
                    if kind.regional || site.region == home {
                        calls.push((kind, site.clone()));
                    }
                }
            }
        }
    }
    let lookups = Lookups::new(sites.clone());
    let (cx, lookups) = (&cx, &lookups);
    let results: Vec<_> = stream::iter(calls)
        .map(|(kind, site)| async move {
            let provider = kind.provider.expect("filtered on providers");
            let result = provider.import(cx, &site, lookups).await;
            (kind, site, result)
        })
        .buffered(opts.parallelism.max(1))
        .collect()
        .await;

    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    // kind -> site -> what it holds there
    let mut by_kind: BTreeMap<usize, (&'static Kind, Vec<FoundAt>)> = BTreeMap::new();
    for (kind, site, result) in results {
        match result {
            Ok(None) => {}
            Ok(Some(imported)) => {
                skipped.extend(imported.skipped);
                // A kind may find what another kind declares (the trail, its bucket and key).
                for f in imported.found {
                    let Some(index) = KINDS.iter().position(|k| k.keyword == f.node.name) else {
                        continue;
                    };
                    by_kind
                        .entry(index)
                        .or_insert_with(|| (KINDS[index], Vec::new()))
                        .1
                        .push((site.clone(), f));
                }
            }
            Err(e) => failures.push(format!(
                "{} in {} ({}): {e}",
                kind.keyword,
                account_ref(&org, &site.account_id),
                site.region
            )),
        }
    }
    if !failures.is_empty() {
        return Err(format!(
            "import could not read everything, so nothing was written:\n  {}",
            failures.join("\n  ")
        ));
    }
    skipped.sort();
    skipped.dedup();

    let mut declarations = Vec::new();
    for (_, (kind, found)) in by_kind {
        let decls = match kind.placing {
            Placing::Targets => grouped(kind, &org, &regions, found, &mut skipped),
            Placing::Organization | Placing::Single => distinct(found),
        };
        if !decls.is_empty() {
            declarations.push((kind, decls));
        }
    }
    Ok(Result_ {
        org,
        settings,
        declarations,
        skipped,
        not_read,
    })
}

/// A declaration and the site it was found at.
type FoundAt = (Site, Found);

/// Declarations of kinds placed once (organization-wide or in one account): as found, in the
/// order found, the same declaration found twice written once.
fn distinct(found: Vec<(Site, Found)>) -> Vec<Found> {
    // (name and arguments) -> index in `out`
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out: Vec<Found> = Vec::new();
    for (_, f) in found {
        let head = Node {
            args: f.node.args.clone(),
            ..Node::new(&f.node.name)
        }
        .to_text(0);
        match seen.get(&head) {
            None => {
                seen.insert(head, out.len());
                out.push(f);
            }
            Some(&i) if out[i].node == f.node => {}
            Some(&i) => out[i].notes.push(format!(
                "found again with other settings, which are not imported:\n{}",
                f.node.to_text(0).trim_end()
            )),
        }
    }
    out
}

/// Declarations of kinds placed with `targets`: one per group of accounts (and regions) that
/// hold the same thing. The largest group of a singleton kind keeps the default name; the
/// others are named after their targets.
fn grouped(
    kind: &'static Kind,
    org: &OrgStructure,
    regions: &[String],
    found: Vec<(Site, Found)>,
    skipped: &mut Vec<Skipped>,
) -> Vec<Found> {
    // The text of the declaration is what groups: equal text, equal declaration.
    let mut texts: BTreeMap<String, Found> = BTreeMap::new();
    let mut at: BTreeMap<(String, Option<String>), String> = BTreeMap::new();
    for (site, f) in found {
        let text = f.node.to_text(0);
        let region = kind.regional.then(|| site.region.clone());
        at.insert((site.account_id.clone(), region), text.clone());
        texts.entry(text).or_insert(f);
    }
    let groups = group::group(org, regions, &at);
    let account = |id: &str| account_ref(org, id);
    let mut names_taken: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for g in groups {
        let mut f = texts[&g.key].clone();
        let mut holders: Vec<String> = g.accounts.iter().map(|a| account(a)).collect();
        holders.sort();
        if let Some(kdl::Value::Str(name)) = f.node.args.first() {
            // A name is a natural key (a vault's, a plan's): one declaration each. Where it
            // differs between accounts, the most common variant is declared.
            if !names_taken.insert(name.clone()) {
                let regions = g
                    .targets
                    .regions
                    .as_ref()
                    .map(|r| format!(" ({})", r.join(", ")))
                    .unwrap_or_default();
                skipped.push(Skipped {
                    what: format!(
                        "{} \"{name}\" in {}{regions}",
                        kind.keyword,
                        holders.join(", ")
                    ),
                    why: format!(
                        "it differs there from the declared one (the most common), reading:\n{}",
                        Node {
                            comments: Vec::new(),
                            ..f.node.clone()
                        }
                        .to_text(1)
                        .trim_end()
                    ),
                });
                continue;
            }
        } else if kind.naming == Naming::Singleton {
            let name = if names_taken.is_empty() {
                "default".to_string()
            } else {
                g.targets.label(&|id| account(id))
            };
            let mut unique = name.clone();
            let mut n = 2;
            while names_taken.contains(&unique) {
                unique = format!("{name}-{n}");
                n += 1;
            }
            if unique != "default" {
                f.node.args.push(kdl::Value::Str(unique.clone()));
            }
            names_taken.insert(unique);
        }
        let exact = g.targets.all_accounts
            && g.targets.exclude_accounts.is_empty()
            && g.targets.exclude_ous.is_empty();
        f.node.comments.push(if exact {
            "found in every account".to_string()
        } else if holders.len() > 12 {
            format!(
                "found in {} and {} more accounts",
                holders[..10].join(", "),
                holders.len() - 10
            )
        } else {
            format!("found in {}", holders.join(", "))
        });
        f.node.children.insert(0, g.targets.node(&|id| account(id)));
        out.push(f);
    }
    out
}

/// The baseline's text: header, settings, then every declaration, one blank line apart.
fn baseline_text(result: &Result_) -> String {
    let org = &result.org;
    let mut out = String::new();
    let org_id = org.organization_id.as_deref().unwrap_or("(none)");
    out.push_str(&kdl::comments(
        &[format!(
            "The organization {org_id} (management account {}), as `baseline import` read it. \
             `baseline plan` against this folder adopts the untagged resources (apply tags them \
             as baseline's) and changes nothing else, except where a note says so.",
            org.management_account_id
        )],
        0,
    ));
    out.push('\n');
    let mut settings = Node::new("settings");
    if result.settings.access_role != Settings::default().access_role {
        settings = settings.child(Node::new("access-role").arg(&result.settings.access_role));
    }
    settings = settings.child(Node::new("default-regions").args(result.settings.regions()));
    out.push_str(&settings.to_text(0));
    if !result.not_read.is_empty() {
        out.push('\n');
        let mut lines = vec!["Not read (nothing of these is imported):".to_string()];
        lines.extend(result.not_read.iter().map(|n| format!("  {n}")));
        out.push_str(&kdl::comments(&lines, 0));
    }
    for (kind, decls) in &result.declarations {
        let skipped: Vec<&Skipped> = result
            .skipped
            .iter()
            .filter(|s| s.what.starts_with(&format!("{} ", kind.keyword)))
            .collect();
        if !skipped.is_empty() {
            out.push('\n');
            out.push_str(&skipped_comment(&skipped));
        }
        // One-line declarations (accounts) follow each other; the others stand apart.
        let mut previous_plain = false;
        for d in decls {
            let mut node = d.node.clone();
            for n in &d.notes {
                node.comments.push(format!("note: {n}"));
            }
            let plain = node.children.is_empty() && node.comments.is_empty();
            if !(plain && previous_plain) {
                out.push('\n');
            }
            previous_plain = node.children.is_empty();
            out.push_str(&node.to_text(0));
        }
    }
    // Skipped resources of kinds with nothing imported.
    let shown: BTreeSet<&str> = result.declarations.iter().map(|(k, _)| k.keyword).collect();
    let rest: Vec<&Skipped> = result
        .skipped
        .iter()
        .filter(|s| !shown.iter().any(|k| s.what.starts_with(&format!("{k} "))))
        .collect();
    if !rest.is_empty() {
        out.push('\n');
        out.push_str(&skipped_comment(&rest));
    }
    out
}

fn skipped_comment(skipped: &[&Skipped]) -> String {
    let lines: Vec<String> = skipped
        .iter()
        .map(|s| format!("{}, not imported: {}", s.what, s.why))
        .collect();
    kdl::comments(&lines, 0)
}

/// Write the baseline and its files, check it loads, and say what was done.
fn write(opts: &Options, result: &Result_) -> i32 {
    let text = baseline_text(result);
    let text = match crate::lang::fmt::format_kdl(&text) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: import wrote KDL that `baseline fmt` refuses ({e}); this is a bug");
            return exit::ERROR;
        }
    };
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    files.insert(ROOT_FILE.to_string(), text);
    for (_, decls) in &result.declarations {
        for d in decls {
            for (path, content) in &d.files {
                files.insert(path.clone(), content.clone());
            }
        }
    }
    for (path, content) in &files {
        let target = opts.out.join(path);
        let written = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&target, content));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", target.display());
            return exit::ERROR;
        }
    }
    let root = opts.out.join(ROOT_FILE);
    if let Err(e) = crate::lang::load(&root) {
        eprintln!(
            "error: the imported baseline {} does not load ({e}); this is a bug in import: \
             `baseline validate {}` shows where",
            root.display(),
            opts.out.display()
        );
        return exit::ERROR;
    }
    summary(opts, result, files.len());
    exit::OK
}

fn summary(opts: &Options, result: &Result_, files: usize) {
    let counts: Vec<String> = result
        .declarations
        .iter()
        .map(|(k, d)| format!("{} {}", d.len(), k.keyword))
        .collect();
    notice(format_args!(
        "Imported {} accounts in {} region(s) ({}) into {}: {} file(s).",
        result.org.accounts.iter().filter(|a| a.is_active()).count(),
        result.settings.regions().len(),
        result.settings.regions().join(", "),
        opts.out.display(),
        files
    ));
    if !counts.is_empty() {
        notice(format_args!("  declared: {}", counts.join(", ")));
    }
    for s in &result.skipped {
        notice(format_args!("  not imported: {}: {}", s.what, s.why));
    }
    for (kind, decls) in &result.declarations {
        for d in decls {
            for n in &d.notes {
                let name = d
                    .node
                    .args
                    .first()
                    .map(|a| match a {
                        kdl::Value::Str(s) => format!(" \"{s}\""),
                        _ => String::new(),
                    })
                    .unwrap_or_default();
                eprintln!("note: {}{name}: {n}", kind.keyword);
            }
        }
    }
    for n in &result.not_read {
        notice(format_args!("  not read: {n}"));
    }
    notice(format_args!(
        "Next: review {0}, then `baseline plan {0}`: it should change nothing but adopt \
         (tag) the untagged resources it lists.",
        opts.out.display()
    ));
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
            ous: vec!["Workloads".into()],
            accounts: vec![
                account("000000000000", "management", "/"),
                account("111111111111", "app", "Workloads"),
                account("222222222222", "app", "Workloads"),
                account("333333333333", "2024", "Workloads"),
                account("444444444444", "data", "/"),
            ],
            ..OrgStructure::default()
        }
    }

    fn site(account: &str) -> Site {
        Site {
            account_id: account.into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn accounts_are_named_unless_the_name_is_ambiguous() {
        let o = org();
        assert_eq!(account_ref(&o, "000000000000"), "management");
        // Two accounts called app, and a name that reads as a number: their ids.
        assert_eq!(account_ref(&o, "111111111111"), "111111111111");
        assert_eq!(account_ref(&o, "333333333333"), "333333333333");
        assert_eq!(account_ref(&o, "999999999999"), "999999999999");
    }

    #[test]
    fn singletons_keep_the_default_name_for_the_largest_group() {
        let o = org();
        let strict = Node::new("password-policy").child(Node::new("min-length").arg(14u32));
        let weak = Node::new("password-policy").child(Node::new("min-length").arg(8u32));
        let found = [
            "000000000000",
            "111111111111",
            "222222222222",
            "333333333333",
        ]
        .iter()
        .map(|a| (site(a), Found::new(strict.clone())))
        .chain([(site("444444444444"), Found::new(weak.clone()))])
        .collect();
        let mut skipped = Vec::new();
        let decls = grouped(
            &crate::kinds::password_policy::KIND,
            &o,
            &["us-east-1".to_string()],
            found,
            &mut skipped,
        );
        let texts: Vec<String> = decls.iter().map(|d| d.node.to_text(0)).collect();
        assert_eq!(
            texts,
            vec![
                "// found in 111111111111, 222222222222, 333333333333, management\npassword-policy {\n    targets {\n        ou \"Workloads\"\n        account \"management\"\n    }\n    min-length 14\n}\n",
                "// found in data\npassword-policy \"data\" {\n    targets {\n        account \"data\"\n    }\n    min-length 8\n}\n",
            ]
        );
        assert!(skipped.is_empty());
    }

    #[test]
    fn a_name_that_differs_between_accounts_is_declared_once() {
        let o = org();
        let locked = Node::new("backup-vault")
            .arg("central")
            .child(Node::new("lock").prop("min-retention-days", 7u32));
        let open = Node::new("backup-vault").arg("central");
        let found = vec![
            (site("111111111111"), Found::new(locked.clone())),
            (site("222222222222"), Found::new(locked)),
            (site("444444444444"), Found::new(open)),
        ];
        let mut skipped = Vec::new();
        let decls = grouped(
            &crate::kinds::backup_vault::KIND,
            &o,
            &["us-east-1".to_string()],
            found,
            &mut skipped,
        );
        assert_eq!(decls.len(), 1);
        assert!(decls[0]
            .node
            .to_text(0)
            .contains("lock min-retention-days=7"));
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].what, "backup-vault \"central\" in data");
        assert!(
            skipped[0]
                .why
                .ends_with("reading:\n    backup-vault \"central\""),
            "{}",
            skipped[0].why
        );
    }

    #[test]
    fn the_same_declaration_found_twice_is_written_once() {
        let bucket = Node::new("log-bucket").arg("logs");
        let other = Node::new("log-bucket")
            .arg("logs")
            .child(Node::new("versioning").arg(false));
        let decls = distinct(vec![
            (site("000000000000"), Found::new(bucket.clone())),
            (site("111111111111"), Found::new(bucket)),
            (site("222222222222"), Found::new(other)),
        ]);
        assert_eq!(decls.len(), 1);
        assert_eq!(decls[0].notes.len(), 1, "{:?}", decls[0].notes);
    }

    #[test]
    fn a_folder_holding_kdl_is_refused_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        assert!(check_out(&dir.path().join("new"), false).is_ok());
        std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
        assert!(check_out(dir.path(), false).is_ok());
        std::fs::write(dir.path().join("old.kdl"), "").unwrap();
        let refused = check_out(dir.path(), false).unwrap_err();
        assert!(refused.contains("already holds KDL"), "{refused}");
        assert!(check_out(dir.path(), true).is_ok());
    }
}
