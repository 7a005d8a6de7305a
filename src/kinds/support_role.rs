//! `support-role`: an IAM role that the declared principals may assume to manage incidents
//! with AWS Support, with the AWS managed policy `AWSSupportAccess` (CIS AWS Foundations
//! v3.0, 1.17). The role's trust policy holds baseline's statement (Sid
//! `BaselineSupportTrust`) next to whatever others put there, which is kept.

use async_trait::async_trait;
use serde_json::json;

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::diagnostic::Problem;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{self, Action, Attrs, ChangeRequest, Ctx, Observed, Provider};

pub static KIND: Kind = Kind {
    keyword: "support-role",
    summary: "an IAM role with AWSSupportAccess for the declared principals (CIS 1.17)",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: false,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&SupportRoleProvider),
};

/// The role's name when the declaration names none.
pub const DEFAULT_ROLE_NAME: &str = "baseline-support";
/// The AWS managed policy the role carries, under `arn:PARTITION:iam::aws:policy/`.
const POLICY: &str = "AWSSupportAccess";
/// The Sid of baseline's statement in the role's trust policy.
const TRUST_SID: &str = "BaselineSupportTrust";

const TRUSTED: &str = "trusted";
const POLICIES: &str = "managed-policies";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportRole {
    pub role_name: String,
    /// Who may assume the role: account ids, or IAM role, user or account-root ARNs.
    pub trusted: Vec<String>,
}

impl Spec for SupportRole {
    crate::spec_any!();
}

/// `123456789012`, or `arn:PARTITION:iam::123456789012:root|role/...|user/...`.
fn is_principal(p: &str) -> bool {
    let account = |a: &str| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit());
    if account(p) {
        return true;
    }
    let parts: Vec<&str> = p.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", acct, resource]
        if !partition.is_empty()
            && account(acct)
            && (*resource == "root"
                || resource.strip_prefix("role/").is_some_and(|r| !r.is_empty())
                || resource.strip_prefix("user/").is_some_and(|r| !r.is_empty())))
}

/// IAM role names: 1-64 of `[A-Za-z0-9+=,.@_-]`.
fn is_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let role_name = r.child_str("role-name", "the role's name");
    if let Some(n) = role_name.as_ref().filter(|n| !is_role_name(&n.value)) {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                n.span,
                format!("\"{}\" is not an IAM role name", n.value),
            )
            .label("not a role name")
            .help("IAM role names are 1 to 64 letters, digits and + = , . @ _ -"),
        );
    }
    let trusted = r.child_strs("trusted", "account ids or IAM principal ARNs");
    let trusted = r
        .require(
            trusted,
            "trusted",
            "trusted \"arn:aws:iam::111122223333:root\"",
        )
        .unwrap_or_default();
    // Anything else that is not ARN-shaped or all digits names an account of the
    // organization, resolved against it at plan time.
    let account_name = |p: &str| !p.starts_with("arn:") && !p.bytes().all(|b| b.is_ascii_digit());
    for p in trusted
        .iter()
        .filter(|p| !is_principal(&p.value) && !account_name(&p.value))
    {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                p.span,
                format!(
                    "\"{}\" is not an account id, an account name or an IAM principal ARN",
                    p.value
                ),
            )
            .label("not a principal")
            .help(
                "name an account of the organization (\"audit\"), a 12-digit account id, or an \
                 ARN such as arn:aws:iam::111122223333:root, \
                 arn:aws:iam::111122223333:role/Ops or arn:aws:iam::111122223333:user/alice",
            ),
        );
    }
    let mut trusted: Vec<String> = trusted.into_iter().map(|p| p.value).collect();
    trusted.sort();
    trusted.dedup();
    Box::new(SupportRole {
        role_name: role_name.map_or_else(|| DEFAULT_ROLE_NAME.to_string(), |n| n.value),
        trusted,
    })
}

// --- AWS -------------------------------------------------------------------------------

/// The role, found by name in each targeted account; an untagged one with that name (made
/// by hand) is adopted. Kept when its declaration goes: it may be how someone reaches AWS
/// Support during an incident.
pub struct SupportRoleProvider;

fn desired(role: &SupportRole) -> Attrs {
    let mut a = Attrs::new();
    a.insert(TRUSTED.into(), json!(role.trusted));
    a.insert(POLICIES.into(), json!([POLICY]));
    a
}

/// The declaration with account names replaced by their ids (IAM knows no names).
fn with_account_ids(cx: &Ctx<'_>, role: &SupportRole) -> provider::Result<SupportRole> {
    let mut trusted = Vec::new();
    for p in &role.trusted {
        if p.starts_with("arn:") || p.bytes().all(|b| b.is_ascii_digit()) {
            trusted.push(p.clone());
            continue;
        }
        let account = cx.org.account(p).ok_or_else(|| {
            provider::Error::State(format!(
                "support-role trusts \"{p}\", which is no account of the organization"
            ))
        })?;
        trusted.push(account.id.clone());
    }
    trusted.sort();
    trusted.dedup();
    Ok(SupportRole {
        role_name: role.role_name.clone(),
        trusted,
    })
}

/// IAM writes an account id principal as its root ARN.
fn as_written_by_iam(principal: &str, partition: &str) -> String {
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        format!("arn:{partition}:iam::{principal}:root")
    } else {
        principal.to_string()
    }
}

fn trust_statement(role: &SupportRole, partition: &str) -> serde_json::Value {
    let principals: Vec<String> = role
        .trusted
        .iter()
        .map(|p| as_written_by_iam(p, partition))
        .collect();
    json!({"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"})
}

/// The principals baseline's statement of a trust policy lets assume the role, as the
/// declaration writes them (an account id for its root ARN), sorted.
fn trusted_in(trust: &serde_json::Value, declared: &[String], partition: &str) -> Vec<String> {
    let Some(statement) =
        crate::lang::policy::owned_statements(trust, |sid| sid == TRUST_SID).remove(TRUST_SID)
    else {
        return Vec::new();
    };
    let mut live: Vec<String> = statement
        .get("Principal")
        .and_then(|p| p.get("AWS"))
        .map(crate::iam::string_list)
        .unwrap_or_default()
        .into_iter()
        .map(|arn| {
            // Shown as declared when the declaration names the account by its id.
            declared
                .iter()
                .find(|d| as_written_by_iam(d, partition) == arn)
                .cloned()
                .unwrap_or(arn)
        })
        .collect();
    live.sort();
    live.dedup();
    live
}

#[async_trait]
impl Provider for SupportRoleProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        // An unknown account name is reported by read; until then it is shown as written.
        spec_of::<SupportRole>(cx.decl(inst)).map_or_else(Attrs::new, |r| {
            desired(&with_account_ids(cx, r).unwrap_or_else(|_| r.clone()))
        })
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let Some(spec) = spec_of::<SupportRole>(cx.decl(inst)) else {
            return Ok(Observed::absent());
        };
        let spec = &with_account_ids(cx, spec)?;
        let iam = cx.aws.iam(&inst.account_id, &inst.region).await?;
        let partition = &cx.aws.partition;
        let Some(role) = crate::iam::read_role(&iam, partition, &spec.role_name, &[POLICY]).await?
        else {
            return Ok(Observed::absent());
        };
        let mut live = Attrs::new();
        live.insert(
            TRUSTED.into(),
            json!(trusted_in(&role.trust, &spec.trusted, partition)),
        );
        live.insert(POLICIES.into(), json!(role.policies));
        Ok(Observed::present(live, Attrs::new(), Some(role.managed)).owned_by(role.owner))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<SupportRole>(cx.decl(inst)) else {
            return Ok(());
        };
        let spec = &with_account_ids(cx, spec)?;
        let partition = &cx.aws.partition;
        let iam = cx.aws.iam(&inst.account_id, &inst.region).await?;
        let tag = crate::iam::managed_tag()?;
        let mut wanted = serde_json::Map::new();
        wanted.insert(TRUST_SID.into(), trust_statement(spec, partition));
        if change.action == Action::Create {
            let trust = crate::lang::policy::merge_owned(None, |s| s == TRUST_SID, &wanted);
            crate::iam::create_role(
                &iam,
                &spec.role_name,
                None,
                "AWS Support access for incident management (managed by baseline)",
                &trust,
            )
            .await?;
        } else {
            if change.action == Action::Adopt {
                iam.tag_role()
                    .role_name(&spec.role_name)
                    .tags(tag)
                    .send()
                    .await
                    .ctx("iam:TagRole")?;
            }
            if change.changes(TRUSTED) {
                // Others' statements in the trust policy stay as they are.
                let live = crate::iam::trust_policy(&iam, &spec.role_name).await?;
                let merged =
                    crate::lang::policy::merge_owned(live.as_ref(), |s| s == TRUST_SID, &wanted);
                iam.update_assume_role_policy()
                    .role_name(&spec.role_name)
                    .policy_document(merged.to_string())
                    .send()
                    .await
                    .ctx("iam:UpdateAssumeRolePolicy")?;
            }
        }
        if change.action == Action::Create || change.live_strings(POLICIES).is_empty() {
            let arn = crate::iam::aws_managed_policy_arn(partition, POLICY);
            let just_created = change.action == Action::Create;
            crate::iam::attach_policy(&iam, &spec.role_name, &arn, just_created).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_and_role_names() {
        for ok in [
            "111122223333",
            "arn:aws:iam::111122223333:root",
            "arn:aws-us-gov:iam::111122223333:role/Ops",
            "arn:aws:iam::111122223333:user/alice",
        ] {
            assert!(is_principal(ok), "{ok}");
        }
        for bad in [
            "11112222333",
            "arn:aws:iam::111122223333:group/ops",
            "arn:aws:iam::111122223333:role/",
            "arn:aws:s3:::bucket",
            "*",
        ] {
            assert!(!is_principal(bad), "{bad}");
        }
        assert!(is_role_name("baseline-support"));
        assert!(!is_role_name("has space"));
        assert!(!is_role_name(&"x".repeat(65)));
    }

    #[test]
    fn the_trust_of_another_producer_is_not_baselines() {
        let trust = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "BaselineSupportTrust", "Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:role/Ops"]}},
            {"Sid": "BreakGlass", "Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": "arn:aws:iam::444455556666:root"}}
        ]});
        let declared = vec!["111122223333".to_string()];
        assert_eq!(
            trusted_in(&trust, &declared, "aws"),
            ["111122223333", "arn:aws:iam::111122223333:role/Ops"]
        );
    }
}
