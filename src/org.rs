//! The organization's structure (accounts and the OU tree), against which targets expand.
//!
//! It comes from AWS Organizations at plan time; tests and `--org FILE` give it as JSON.

use serde::{Deserialize, Serialize};

/// One member account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// OU path of the account's parent, `/` for the root.
    #[serde(default = "root_path")]
    pub ou: String,
    /// The account's state in the organization (`ACTIVE`, `PENDING_CLOSURE`, `SUSPENDED`,
    /// ...): a closed account stays listed for up to 90 days.
    #[serde(default = "active", skip_serializing_if = "is_active")]
    pub state: String,
}

/// The state of an account that can be reached and changed.
pub const ACTIVE: &str = "ACTIVE";

fn root_path() -> String {
    "/".to_string()
}

fn active() -> String {
    ACTIVE.to_string()
}

fn is_active(state: &str) -> bool {
    state == ACTIVE
}

impl OrgAccount {
    pub fn is_active(&self) -> bool {
        is_active(&self.state)
    }
}

/// Accounts and OUs of one organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgStructure {
    pub management_account_id: String,
    /// OU paths, e.g. `Workloads/Production`.
    #[serde(default)]
    pub ous: Vec<String>,
    pub accounts: Vec<OrgAccount>,
    /// AWS ids, when discovered from AWS: the organization's, the root's and each OU path's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_id: Option<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub ou_ids: std::collections::BTreeMap<String, String>,
}

impl OrgStructure {
    /// The account a reference (name or id) names.
    pub fn account(&self, name_or_id: &str) -> Option<&OrgAccount> {
        self.accounts
            .iter()
            .find(|a| a.id == name_or_id)
            .or_else(|| self.accounts.iter().find(|a| a.name == name_or_id))
    }

    pub fn management(&self) -> Option<&OrgAccount> {
        self.account(&self.management_account_id)
    }

    /// Whether `ou` is `ancestor` or lies below it.
    pub fn ou_within(ou: &str, ancestor: &str) -> bool {
        ou == ancestor
            || ou
                .strip_prefix(ancestor)
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Apply declared account placements, so targets expand as they will be after apply.
    pub fn with_placements<'a>(
        &self,
        placements: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> OrgStructure {
        let mut org = self.clone();
        for (account, ou) in placements {
            let id = org.account(account).map(|a| a.id.clone());
            if let Some(a) = org.accounts.iter_mut().find(|a| Some(&a.id) == id.as_ref()) {
                a.ou = ou.to_string();
            }
            if ou != "/" && !org.ous.iter().any(|o| o == ou) {
                org.ous.push(ou.to_string());
            }
        }
        org
    }
}
