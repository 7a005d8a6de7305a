//! `organizational-unit`: an OU, nested to form the tree; named by path (`Workloads/Production`).

use async_trait::async_trait;
use serde_json::json;

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Reference, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{self, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider};

pub static KIND: Kind = Kind {
    keyword: "organizational-unit",
    summary: "an organizational unit; nest them to build the tree",
    naming: Naming::Required,
    placing: Placing::Organization,
    regional: false,
    nests: true,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&OrganizationalUnitProvider),
};

#[derive(Debug, Clone)]
pub struct OrganizationalUnit {
    /// Path of the parent OU; `None` for an OU directly under the root.
    pub parent: Option<Spanned<String>>,
}

impl OrganizationalUnit {
    /// The OU's own name: the last segment of its path.
    pub fn leaf(path: &str) -> &str {
        path.rsplit('/').next().unwrap_or(path)
    }
}

impl Spec for OrganizationalUnit {
    fn references(&self) -> Vec<Reference> {
        self.parent
            .iter()
            .map(|p| Reference::new("organizational-unit", p))
            .collect()
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    let leaf = OrganizationalUnit::leaf(&name.value);
    if leaf.is_empty() || leaf.len() > 128 || name.value.starts_with('/') {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                name.span,
                format!("\"{}\" is not a valid OU name", name.value),
            )
            .label("invalid OU name")
            .help("an OU name has 1 to 128 characters; nest OUs instead of writing a leading `/`"),
        );
    }
    let parent = name
        .value
        .rsplit_once('/')
        .map(|(p, _)| Spanned::new(p.to_string(), name.span));
    Box::new(OrganizationalUnit { parent })
}

// --- AWS -------------------------------------------------------------------------------

/// An OU is identified by its path: read by walking the live tree from the root, created
/// under its parent with baseline's tag, adopted (tagged) when it exists untagged. Never
/// deleted: an OU that is no longer declared may still hold accounts.
pub struct OrganizationalUnitProvider;

/// AWS allows OUs five levels deep; a walk up that goes further is a broken answer.
const MAX_DEPTH: usize = 8;

/// The parent path of an OU path, `/` for a top-level OU.
fn parent_path(path: &str) -> &str {
    path.rsplit_once('/').map_or("/", |(p, _)| p)
}

/// The root's id; `None` when there is no organization (yet).
pub async fn root_id(cx: &Ctx<'_>) -> provider::Result<Option<String>> {
    if let Some(id) = &cx.org.root_id {
        // Discovered from ListRoots at the start of this run; a root never changes id.
        return Ok(Some(id.clone()));
    }
    let client = super::organization::org_client(cx).await?;
    let roots = client.list_roots().send().await.absent_on(
        "organizations:ListRoots",
        &["AWSOrganizationsNotInUseException"],
    )?;
    Ok(roots.and_then(|r| r.roots().first().and_then(|r| r.id()).map(str::to_string)))
}

/// The id of the OU at `path` (`/` is the root), walking the live tree so that an OU
/// created earlier in the same apply is found. `None` when it does not exist.
pub async fn ou_id(cx: &Ctx<'_>, path: &str) -> provider::Result<Option<String>> {
    let Some(mut id) = root_id(cx).await? else {
        return Ok(None);
    };
    let client = super::organization::org_client(cx).await?;
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        match child_ou(&client, &id, segment).await? {
            Some(child) => id = child,
            None => return Ok(None),
        }
    }
    Ok(Some(id))
}

/// The child OU of `parent_id` called `name`.
async fn child_ou(
    client: &aws_sdk_organizations::Client,
    parent_id: &str,
    name: &str,
) -> provider::Result<Option<String>> {
    let mut pages = client
        .list_organizational_units_for_parent()
        .parent_id(parent_id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.ctx("organizations:ListOrganizationalUnitsForParent")?;
        if let Some(ou) = page
            .organizational_units()
            .iter()
            .find(|ou| ou.name() == Some(name))
        {
            return Ok(ou.id().map(str::to_string));
        }
    }
    Ok(None)
}

/// The path of a root or OU id (`/` for the root); `None` when there is no such OU.
pub async fn ou_path(cx: &Ctx<'_>, id: &str) -> provider::Result<Option<String>> {
    if cx.org.root_id.as_deref() == Some(id) {
        return Ok(Some("/".to_string()));
    }
    // The tree discovered at the start of this run is current for reads; an OU created
    // since (during an apply) is not in it, so fall back to walking up the live tree.
    if let Some((path, _)) = cx.org.ou_ids.iter().find(|(_, v)| v.as_str() == id) {
        return Ok(Some(path.clone()));
    }
    // Root ids start with `r-` (AWS's documented id pattern).
    if id.starts_with("r-") {
        return Ok(Some("/".to_string()));
    }
    let client = super::organization::org_client(cx).await?;
    let mut names = Vec::new();
    let mut current = id.to_string();
    for _ in 0..MAX_DEPTH {
        let described = client
            .describe_organizational_unit()
            .organizational_unit_id(&current)
            .send()
            .await
            .absent_on(
                "organizations:DescribeOrganizationalUnit",
                &["OrganizationalUnitNotFoundException"],
            )?;
        let Some(name) = described
            .as_ref()
            .and_then(|d| d.organizational_unit())
            .and_then(|ou| ou.name())
        else {
            return Ok(None);
        };
        names.push(name.to_string());
        let parents = client
            .list_parents()
            .child_id(&current)
            .send()
            .await
            .absent_on("organizations:ListParents", &["ChildNotFoundException"])?;
        let Some(parent) = parents.as_ref().and_then(|p| p.parents().first()) else {
            return Ok(None);
        };
        if parent.r#type() == Some(&aws_sdk_organizations::types::ParentType::Root) {
            names.reverse();
            return Ok(Some(names.join("/")));
        }
        current = parent.id().unwrap_or_default().to_string();
    }
    Err(Error::State(format!(
        "OU {id} lies deeper than {MAX_DEPTH} levels below the root"
    )))
}

fn attrs(path: &str) -> Attrs {
    let mut a = Attrs::new();
    a.insert("parent".into(), json!(parent_path(path)));
    a
}

#[async_trait]
impl Provider for OrganizationalUnitProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        attrs(&cx.decl(inst).name.value)
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let path = &cx.decl(inst).name.value;
        // The tree discovered at the start of this run is current for reads: walking it
        // again would cost a call per level of every OU, on an API AWS throttles per
        // organization.
        let discovered = match cx.org.root_id {
            Some(_) => cx.org.ou_ids.get(path.as_str()).cloned(),
            None => ou_id(cx, path).await?,
        };
        let Some(id) = discovered else {
            return Ok(Observed::absent());
        };
        let client = super::organization::org_client(cx).await?;
        let managed = super::organization::is_managed(&client, &id).await?;
        let mut ids = Attrs::new();
        ids.insert("id".into(), json!(id));
        // Found by walking its path, so its parent is the declared one by construction.
        Ok(Observed::present(attrs(path), ids, Some(managed)))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let path = &cx.decl(inst).name.value;
        let client = super::organization::org_client(cx).await?;
        match change.action {
            Action::Create => {
                let parent = spec_of::<OrganizationalUnit>(cx.decl(inst))
                    .and_then(|ou| ou.parent.as_ref())
                    .map_or("/", |p| p.value.as_str());
                let parent_id = ou_id(cx, parent).await?.ok_or_else(|| {
                    Error::State(format!(
                        "cannot create OU \"{path}\": its parent \"{parent}\" does not exist"
                    ))
                })?;
                client
                    .create_organizational_unit()
                    .parent_id(parent_id)
                    .name(OrganizationalUnit::leaf(path))
                    .tags(super::organization::managed_tag()?)
                    .send()
                    .await
                    .ctx("organizations:CreateOrganizationalUnit")?;
            }
            Action::Adopt => {
                let id = change.id("id").ok_or_else(|| {
                    Error::State(format!("OU \"{path}\": no id was recorded at plan time"))
                })?;
                super::organization::tag_managed(&client, id).await?;
            }
            // The parent is part of the OU's identity (its path): nothing else can differ.
            Action::Update | Action::Replace | Action::Delete => {}
        }
        Ok(())
    }

    /// The OU tree as discovered at the start of the run, nested as the language nests it.
    async fn import(
        &self,
        cx: &Ctx<'_>,
        _site: &crate::import::Site,
        _lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        let mut paths: Vec<&String> = cx.org.ous.iter().collect();
        paths.sort();
        let found = paths
            .iter()
            .filter(|p| !p.contains('/'))
            .map(|p| crate::import::Found::new(ou_node(cx, p, &paths)))
            .collect();
        Ok(Some(crate::import::Imported {
            found,
            skipped: Vec::new(),
        }))
    }
}

/// The node of the OU at `path`, its child OUs nested in it.
fn ou_node(cx: &Ctx<'_>, path: &str, all: &[&String]) -> crate::import::kdl::Node {
    use crate::import::kdl::Node;
    let mut node = Node::new(KIND.keyword).arg(OrganizationalUnit::leaf(path));
    if let Some(id) = cx.org.ou_ids.get(path) {
        node = node.comment(id.clone());
    }
    let children = all
        .iter()
        .filter(|p| parent_path(p) == path)
        .map(|p| ou_node(cx, p, all));
    node.children(children)
}
