//! `account`: where an existing member account sits in the OU tree.

use async_trait::async_trait;
use serde_json::json;

use super::organization::org_client;
use super::organizational_unit::ou_id;
use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::model::{Reference, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::lang::targets::check_account_ref;
use crate::provider::{self, Attrs, ChangeRequest, Ctx, Error, Observed, Provider};

pub static KIND: Kind = Kind {
    keyword: "account",
    summary: "an existing account, placed in an OU (`ou=\"/\"` is the root)",
    naming: Naming::Required,
    placing: Placing::Organization,
    regional: false,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&AccountProvider),
};

#[derive(Debug, Clone)]
pub struct Account {
    /// OU path, or `/` for the root.
    pub ou: Option<Spanned<String>>,
    /// The account id, when the name alone is ambiguous or may change.
    pub id: Option<Spanned<String>>,
}

impl Account {
    pub const ROOT: &'static str = "/";
}

impl Spec for Account {
    fn references(&self) -> Vec<Reference> {
        self.ou
            .iter()
            .filter(|ou| ou.value != Account::ROOT)
            .map(|ou| Reference::new("organizational-unit", ou))
            .collect()
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    check_account_ref(r, name);
    let ou = r.required_prop_str("ou");
    let id = r.prop_str("id");
    if let Some(id) = &id {
        if !crate::lang::checks::is_account_id(&id.value) {
            r.report(
                crate::lang::diagnostic::Problem::new(
                    "baseline::invalid-account-id",
                    id.span,
                    format!("\"{}\" is not an account id", id.value),
                )
                .label("expected 12 digits"),
            );
        }
    }
    Box::new(Account { ou, id })
}

// --- AWS -------------------------------------------------------------------------------

/// Where an existing member account sits. baseline never creates or deletes accounts, and
/// tagging an account says nothing about who placed it, so there is no adoption
/// (`managed` is `None`): a misplaced account is moved.
pub struct AccountProvider;

fn attrs(ou: &str) -> Attrs {
    let mut a = Attrs::new();
    a.insert("ou".into(), json!(ou));
    a
}

fn declared_ou(cx: &Ctx<'_>, inst: &Instance) -> String {
    spec_of::<Account>(cx.decl(inst))
        .and_then(|a| a.ou.as_ref())
        .map_or_else(|| Account::ROOT.to_string(), |ou| ou.value.clone())
}

/// The account's id: `id=` when given, else the organization's account by that name.
fn account_id(cx: &Ctx<'_>, inst: &Instance) -> provider::Result<String> {
    let decl = cx.decl(inst);
    let reference = spec_of::<Account>(decl)
        .and_then(|a| a.id.as_ref())
        .map_or(decl.name.value.as_str(), |id| id.value.as_str());
    cx.org
        .account(reference)
        .map(|a| a.id.clone())
        .ok_or_else(|| not_in_organization(&decl.name.value))
}

fn not_in_organization(name: &str) -> Error {
    Error::State(format!(
        "account \"{name}\" is not in the organization; baseline places existing accounts \
         but does not create them (create or invite it first)"
    ))
}

/// The account's current parent id.
async fn parent_of(
    client: &aws_sdk_organizations::Client,
    name: &str,
    id: &str,
) -> provider::Result<String> {
    let parents = client
        .list_parents()
        .child_id(id)
        .send()
        .await
        .absent_on(
            "organizations:ListParents",
            &["ChildNotFoundException", "AccountNotFoundException"],
        )?
        .ok_or_else(|| not_in_organization(name))?;
    parents
        .parents()
        .first()
        .and_then(|p| p.id())
        .map(str::to_string)
        .ok_or_else(|| Error::State(format!("account \"{name}\" has no parent")))
}

#[async_trait]
impl Provider for AccountProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        attrs(&declared_ou(cx, inst))
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let name = &cx.decl(inst).name.value;
        let id = account_id(cx, inst)?;
        // Where the account sits was read with the organization at the start of the run
        // (ListAccountsForParent of each OU): no call per account on an API AWS throttles
        // per organization. Apply reads the parent again before it moves the account.
        let account = cx
            .org
            .account(&id)
            .ok_or_else(|| not_in_organization(name))?;
        let path = account.ou.clone();
        let parent = if path == "/" {
            cx.org.root_id.clone()
        } else {
            cx.org.ou_ids.get(&path).cloned()
        }
        .ok_or_else(|| Error::State(format!("account \"{name}\": unknown parent {path}")))?;
        let mut ids = Attrs::new();
        ids.insert("account-id".into(), json!(id));
        ids.insert("parent-id".into(), json!(parent));
        Ok(Observed::present(attrs(&path), ids, None))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        _change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let name = &cx.decl(inst).name.value;
        let id = account_id(cx, inst)?;
        let client = org_client(cx).await?;
        let ou = declared_ou(cx, inst);
        // The destination may have been created earlier in this apply: look it up live.
        let destination = ou_id(cx, &ou).await?.ok_or_else(|| {
            Error::State(format!(
                "cannot move account \"{name}\": OU \"{ou}\" does not exist"
            ))
        })?;
        // MoveAccount names the source parent; read it now rather than trust the plan, so
        // a move made since the plan does not fail the call.
        let source = parent_of(&client, name, &id).await?;
        if source == destination {
            return Ok(());
        }
        client
            .move_account()
            .account_id(&id)
            .source_parent_id(source)
            .destination_parent_id(destination)
            .send()
            .await
            .ctx("organizations:MoveAccount")?;
        Ok(())
    }

    /// Every active account where it sits now, as discovered at the start of the run.
    async fn import(
        &self,
        cx: &Ctx<'_>,
        _site: &crate::import::Site,
        _lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        use crate::import::kdl::Node;
        let mut accounts: Vec<_> = cx.org.accounts.iter().filter(|a| a.is_active()).collect();
        accounts.sort_by(|a, b| (&a.ou, &a.name, &a.id).cmp(&(&b.ou, &b.name, &b.id)));
        let found = accounts
            .into_iter()
            .map(|a| {
                let reference = crate::import::account_ref(cx.org, &a.id);
                let mut node = Node::new(KIND.keyword).arg(&reference).prop("ou", &a.ou);
                if reference != a.id {
                    node = node.prop("id", &a.id);
                }
                if a.id == cx.org.management_account_id {
                    node = node.comment("the management account");
                }
                crate::import::Found::new(node)
            })
            .collect();
        Ok(Some(crate::import::Imported {
            found,
            skipped: Vec::new(),
        }))
    }
}
