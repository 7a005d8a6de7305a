//! Discovery of the organization's structure (accounts and the OU tree) from AWS
//! Organizations, against which targets expand.

use std::collections::BTreeMap;

use crate::aws::{Aws, AwsError, Context};
use crate::org::{OrgAccount, OrgStructure};

/// Name given to the caller's account when it is not in an organization yet.
pub const STANDALONE_ACCOUNT_NAME: &str = "management";

/// Read the organization: the management account, every OU by path, every account and the
/// path of its parent. An account outside any organization is its own, one-account org.
pub async fn organization(aws: &Aws) -> Result<OrgStructure, AwsError> {
    organization_with(aws, |_| {}).await
}

/// [`organization`], telling `found` of each account as its page arrives (before the rest
/// of the organization is read: discovery waits on Organizations' rate, and what else a run
/// needs per account can start meanwhile).
pub async fn organization_with(
    aws: &Aws,
    mut found: impl FnMut(&OrgAccount),
) -> Result<OrgStructure, AwsError> {
    let mgmt = aws.management_account();
    let region = aws.organizations_region();
    let client = aws.organizations(mgmt, region).await?;
    let described = client.describe_organization().send().await.absent_on(
        "organizations:DescribeOrganization",
        &["AWSOrganizationsNotInUseException"],
    )?;
    let Some(described) = described else {
        return Ok(OrgStructure {
            management_account_id: mgmt.to_string(),
            ous: vec![],
            accounts: vec![OrgAccount {
                id: mgmt.to_string(),
                name: STANDALONE_ACCOUNT_NAME.to_string(),
                ou: "/".to_string(),
                state: crate::org::ACTIVE.to_string(),
            }],
            organization_id: None,
            root_id: None,
            ou_ids: BTreeMap::new(),
        });
    };
    let management_account_id = described
        .organization()
        .and_then(|o| o.master_account_id())
        .unwrap_or(mgmt)
        .to_string();
    let roots = client
        .list_roots()
        .send()
        .await
        .ctx("organizations:ListRoots")?;
    let root_id = roots
        .roots()
        .first()
        .and_then(|r| r.id())
        .unwrap_or_default()
        .to_string();

    // Breadth first over the OU tree: (parent id, parent path).
    let mut pending = vec![(root_id.clone(), "/".to_string())];
    let mut ou_ids = BTreeMap::new();
    let mut accounts = Vec::new();
    while let Some((parent_id, parent_path)) = pending.pop() {
        let mut children = client
            .list_organizational_units_for_parent()
            .parent_id(&parent_id)
            .max_results(20)
            .into_paginator()
            .send();
        while let Some(page) = children.next().await {
            let page = page.ctx("organizations:ListOrganizationalUnitsForParent")?;
            for ou in page.organizational_units() {
                let name = ou.name().unwrap_or_default();
                let path = if parent_path == "/" {
                    name.to_string()
                } else {
                    format!("{parent_path}/{name}")
                };
                let id = ou.id().unwrap_or_default().to_string();
                ou_ids.insert(path.clone(), id.clone());
                pending.push((id, path));
            }
        }
        let mut members = client
            .list_accounts_for_parent()
            .parent_id(&parent_id)
            // The most a page holds: fewer calls on an API AWS throttles per organization.
            .max_results(20)
            .into_paginator()
            .send();
        while let Some(page) = members.next().await {
            let page = page.ctx("organizations:ListAccountsForParent")?;
            for a in page.accounts() {
                // `State` supersedes the deprecated `Status` (which lacks the newer states).
                let state = a
                    .state()
                    .map(|s| s.as_str().to_string())
                    .or_else(|| a.status().map(|s| s.as_str().to_string()))
                    .unwrap_or_else(|| crate::org::ACTIVE.to_string());
                let account = OrgAccount {
                    id: a.id().unwrap_or_default().to_string(),
                    name: a.name().unwrap_or_default().to_string(),
                    ou: parent_path.clone(),
                    state,
                };
                found(&account);
                accounts.push(account);
            }
        }
    }
    // The management account first, then by name: a stable order for plans.
    accounts.sort_by(|a, b| {
        (a.id != management_account_id, &a.name).cmp(&(b.id != management_account_id, &b.name))
    });
    Ok(OrgStructure {
        management_account_id,
        ous: ou_ids.keys().cloned().collect(),
        accounts,
        organization_id: described
            .organization()
            .and_then(|o| o.id())
            .map(str::to_string),
        root_id: Some(root_id),
        ou_ids,
    })
}
