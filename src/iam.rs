//! IAM roles that AWS services assume on an account's behalf (Config's recorder, Backup's
//! selections). IAM is eventually consistent: a service may refuse a role for a moment after
//! it was created, so a refusal is waited out only for a role that is that new.

use std::time::{Duration, SystemTime};

use crate::aws::{AwsError, Context, CONSISTENCY_BUDGET};
use crate::provider::{self, Ctx};

/// The role name of a role ARN (`arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`).
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or(role_arn)
}

/// The account of a role ARN.
pub fn role_account(role_arn: &str) -> Option<&str> {
    role_arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// When the role `role_arn` was created, `None` when it does not exist (or lives in an
/// account baseline does not reach for it).
pub async fn role_created(
    cx: &Ctx<'_>,
    account_id: &str,
    role_arn: &str,
) -> provider::Result<Option<SystemTime>> {
    if role_account(role_arn).is_some_and(|a| a != account_id) {
        return Ok(None);
    }
    let iam = cx
        .aws
        .iam(account_id, &cx.baseline.settings.home_region())
        .await?;
    let role = iam
        .get_role()
        .role_name(role_name(role_arn))
        .send()
        .await
        .absent_on("iam:GetRole", &["NoSuchEntity"])?;
    Ok(role
        .and_then(|r| r.role)
        .and_then(|r| SystemTime::try_from(r.create_date).ok()))
}

/// Whether a service's refusal of `role_arn` may be IAM not having caught up yet: the role
/// exists and was created within [`CONSISTENCY_BUDGET`].
pub async fn is_new_role(cx: &Ctx<'_>, account_id: &str, role_arn: &str) -> bool {
    matches!(
        role_created(cx, account_id, role_arn).await,
        Ok(Some(created)) if SystemTime::now()
            .duration_since(created)
            .unwrap_or(Duration::ZERO)
            < CONSISTENCY_BUDGET
    )
}

/// Run `call` (which hands `role_arn` to a service), waiting out the service's refusal
/// (`refused` says which errors are one) while the role is new; any other error, or a
/// refusal of an older role, is returned at once.
pub async fn with_new_role<T, F, Fut>(
    cx: &Ctx<'_>,
    account_id: &str,
    role_arn: &str,
    refused: impl Fn(&AwsError) -> bool,
    mut call: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    match call().await {
        Err(e) if refused(&e) && is_new_role(cx, account_id, role_arn).await => {
            crate::aws::until_consistent(&refused, call).await
        }
        other => other,
    }
}

/// An IAM role an AWS service assumes in each account, created and kept by baseline: its
/// trust of the service and the AWS managed policies the service needs. Found by name; an
/// existing untagged role (one the console made) is adopted: tagged, and given what it
/// lacks. Nothing else on it (other trusted principals, other policies) is taken away.
#[derive(Debug)]
pub struct ServiceRole {
    pub name: &'static str,
    /// IAM path, e.g. `/service-role/`.
    pub path: &'static str,
    /// The service principal that assumes it.
    pub service: &'static str,
    /// AWS managed policies it needs, by their name under `arn:PARTITION:iam::aws:policy/`.
    pub managed_policies: &'static [&'static str],
    pub description: &'static str,
}

/// AWS Backup's default service role (AWS Backup developer guide, "IAM service roles"):
/// what the console creates the first time someone uses it, so a fresh account has none.
pub const BACKUP_SERVICE_ROLE: ServiceRole = ServiceRole {
    name: "AWSBackupDefaultServiceRole",
    path: "/service-role/",
    service: "backup.amazonaws.com",
    managed_policies: &[
        "service-role/AWSBackupServiceRolePolicyForBackup",
        "service-role/AWSBackupServiceRolePolicyForRestores",
    ],
    description: "Lets AWS Backup back up and restore resources (managed by baseline)",
};

const TRUSTS: &str = "trusts-service";
const POLICIES: &str = "managed-policies";

impl ServiceRole {
    pub fn arn(&self, partition: &str, account_id: &str) -> String {
        format!(
            "arn:{partition}:iam::{account_id}:role{}{}",
            self.path, self.name
        )
    }

    fn trust_statement(&self) -> serde_json::Value {
        serde_json::json!({
            "Sid": format!("{}Trusts{}", crate::lang::policy::OWNED_SID_PREFIX,
                           self.service.split('.').next().unwrap_or_default()),
            "Effect": "Allow",
            "Principal": {"Service": self.service},
            "Action": "sts:AssumeRole"
        })
    }

    /// What baseline keeps true of the role.
    pub fn desired(&self) -> crate::provider::Attrs {
        let mut a = crate::provider::Attrs::new();
        a.insert(TRUSTS.into(), serde_json::json!(self.service));
        let mut policies: Vec<&str> = self.managed_policies.to_vec();
        policies.sort_unstable();
        a.insert(POLICIES.into(), serde_json::json!(policies));
        a
    }

    /// The role as IAM has it in `account_id`.
    pub async fn read(
        &self,
        cx: &Ctx<'_>,
        account_id: &str,
    ) -> provider::Result<crate::provider::Observed> {
        use crate::provider::{Attrs, Observed};
        let iam = self.client(cx, account_id).await?;
        let Some(role) =
            read_role(&iam, &cx.aws.partition, self.name, self.managed_policies).await?
        else {
            return Ok(Observed::absent());
        };
        let mut live = Attrs::new();
        live.insert(
            TRUSTS.into(),
            serde_json::json!(trusts(&role.trust, self.service).then_some(self.service)),
        );
        live.insert(POLICIES.into(), serde_json::json!(role.policies));
        Ok(Observed::present(live, Attrs::new(), Some(role.managed)).owned_by(role.owner))
    }

    /// Create, adopt or complete the role in `account_id`.
    pub async fn apply(
        &self,
        cx: &Ctx<'_>,
        account_id: &str,
        change: &crate::provider::ChangeRequest<'_>,
    ) -> provider::Result<()> {
        use crate::provider::Action;
        let iam = self.client(cx, account_id).await?;
        let tag = managed_tag()?;
        let mut attached: Vec<String> = Vec::new();
        match change.action {
            Action::Create => {
                let trust = serde_json::json!({
                    "Version": "2012-10-17",
                    "Statement": [self.trust_statement()]
                });
                let created =
                    create_role(&iam, self.name, Some(self.path), self.description, &trust).await;
                match created {
                    // Another declaration's part made it in this run: complete it.
                    Err(provider::Error::Aws(e)) if e.is("EntityAlreadyExists") => {}
                    other => {
                        other?;
                    }
                }
            }
            _ => {
                if change.action == Action::Adopt {
                    iam.tag_role()
                        .role_name(self.name)
                        .tags(tag)
                        .send()
                        .await
                        .ctx("iam:TagRole")?;
                }
                attached = change.live_strings(POLICIES).into_iter().collect();
                if change.changes(TRUSTS) {
                    // Keep whoever else the role trusts; add the service.
                    let trust = trust_policy(&iam, self.name).await?;
                    let mut owned = serde_json::Map::new();
                    let mut statement = self.trust_statement();
                    let sid = statement["Sid"].as_str().unwrap_or_default().to_string();
                    statement.as_object_mut().map(|m| m.remove("Sid"));
                    owned.insert(sid.clone(), statement);
                    let merged =
                        crate::lang::policy::merge_owned(trust.as_ref(), |s| s == sid, &owned);
                    iam.update_assume_role_policy()
                        .role_name(self.name)
                        .policy_document(merged.to_string())
                        .send()
                        .await
                        .ctx("iam:UpdateAssumeRolePolicy")?;
                }
            }
        }
        for name in self.managed_policies {
            if attached.iter().any(|a| a == name) {
                continue;
            }
            let arn = aws_managed_policy_arn(&cx.aws.partition, name);
            attach_policy(&iam, self.name, &arn, change.action == Action::Create).await?;
        }
        Ok(())
    }

    async fn client(
        &self,
        cx: &Ctx<'_>,
        account_id: &str,
    ) -> provider::Result<aws_sdk_iam::Client> {
        Ok(cx
            .aws
            .iam(account_id, &cx.baseline.settings.home_region())
            .await?)
    }
}

/// The ARN of the AWS managed policy `name` (`service-role/...` included).
pub fn aws_managed_policy_arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:iam::aws:policy/{name}")
}

/// A role as IAM has it.
pub struct LiveRole {
    /// Its trust policy (`null` when IAM gave none that parses).
    pub trust: serde_json::Value,
    /// Those of the AWS managed policies asked about that are attached, by name, sorted.
    pub policies: Vec<&'static str>,
    /// Whether it carries baseline's ownership tag.
    pub managed: bool,
    /// The tool that owns it, when another does (by its name and tags).
    pub owner: Option<String>,
}

/// The role `role_name` (`None`: there is none), with which of the AWS managed policies
/// `wanted` (names under `arn:PARTITION:iam::aws:policy/`) are attached to it.
pub async fn read_role(
    iam: &aws_sdk_iam::Client,
    partition: &str,
    role_name: &str,
    wanted: &[&'static str],
) -> provider::Result<Option<LiveRole>> {
    let Some(role) = iam
        .get_role()
        .role_name(role_name)
        .send()
        .await
        .absent_on("iam:GetRole", &["NoSuchEntity"])?
        .and_then(|r| r.role)
    else {
        return Ok(None);
    };
    let attached = iam
        .list_attached_role_policies()
        .role_name(role_name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .ctx("iam:ListAttachedRolePolicies")?;
    let mut policies: Vec<&'static str> = wanted
        .iter()
        .copied()
        .filter(|name| {
            let arn = aws_managed_policy_arn(partition, name);
            attached
                .iter()
                .any(|p| p.policy_arn() == Some(arn.as_str()))
        })
        .collect();
    policies.sort_unstable();
    Ok(Some(LiveRole {
        trust: role
            .assume_role_policy_document()
            .and_then(decode_policy)
            .unwrap_or(serde_json::Value::Null),
        policies,
        managed: role
            .tags()
            .iter()
            .any(|t| crate::provider::is_managed_tag(t.key(), t.value())),
        owner: crate::coexist::owner_of(
            role_name,
            role.tags().iter().map(|t| (t.key(), t.value())),
        ),
    }))
}

/// baseline's ownership tag, as IAM takes it.
pub fn managed_tag() -> provider::Result<aws_sdk_iam::types::Tag> {
    use crate::provider::{Error, MANAGED_TAG_KEY, MANAGED_TAG_VALUE};
    aws_sdk_iam::types::Tag::builder()
        .key(MANAGED_TAG_KEY)
        .value(MANAGED_TAG_VALUE)
        .build()
        .map_err(|e| Error::State(format!("iam tag: {e}")))
}

/// Make the role `role_name`, tagged as baseline's, and return it as IAM has it.
///
/// CreateRole takes no idempotency token. When its answer is lost (the connection drops
/// after IAM made the role), the SDK's retry is refused with `EntityAlreadyExists`,
/// though the role is the one this call made. So a role of that name that carries
/// baseline's tag and exactly the trust policy sent is taken as made here. Any other
/// role of that name is refused as IAM refused it: it is not baseline's to take over.
pub async fn create_role(
    iam: &aws_sdk_iam::Client,
    role_name: &str,
    path: Option<&str>,
    description: &str,
    trust: &serde_json::Value,
) -> provider::Result<aws_sdk_iam::types::Role> {
    let created = iam
        .create_role()
        .role_name(role_name)
        .set_path(path.map(str::to_string))
        .description(description)
        .assume_role_policy_document(trust.to_string())
        .tags(managed_tag()?)
        .send()
        .await
        .ctx("iam:CreateRole");
    let refused = match created {
        Ok(out) => {
            return out
                .role
                .ok_or_else(|| provider::Error::State("iam:CreateRole returned no role".into()))
        }
        Err(e) if e.is("EntityAlreadyExists") => e,
        Err(e) => return Err(e.into()),
    };
    // IAM has just said the role exists; its reads may lag behind for a moment.
    let existing = crate::aws::until_consistent(
        |e| e.is("NoSuchEntity"),
        || async {
            iam.get_role()
                .role_name(role_name)
                .send()
                .await
                .ctx("iam:GetRole")
        },
    )
    .await?;
    match existing.role {
        Some(role) if is_made_as(&role, trust) => Ok(role),
        _ => Err(refused.into()),
    }
}

/// Whether `role` is what [`create_role`] makes with `trust`: baseline's tag and that trust
/// policy.
fn is_made_as(role: &aws_sdk_iam::types::Role, trust: &serde_json::Value) -> bool {
    let tagged = role
        .tags()
        .iter()
        .any(|t| crate::provider::is_managed_tag(t.key(), t.value()));
    tagged
        && role
            .assume_role_policy_document()
            .and_then(decode_policy)
            .as_ref()
            == Some(trust)
}

/// The trust policy of the role `role_name`, as IAM has it now.
pub async fn trust_policy(
    iam: &aws_sdk_iam::Client,
    role_name: &str,
) -> provider::Result<Option<serde_json::Value>> {
    let role = iam
        .get_role()
        .role_name(role_name)
        .send()
        .await
        .ctx("iam:GetRole")?;
    Ok(role
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .and_then(decode_policy))
}

/// Attach the managed policy `policy_arn` to the role `role_name`. IAM may not find a role
/// it has just created for a moment: that is waited out when `just_created`.
pub async fn attach_policy(
    iam: &aws_sdk_iam::Client,
    role_name: &str,
    policy_arn: &str,
    just_created: bool,
) -> provider::Result<()> {
    crate::aws::until_consistent(
        |e| just_created && e.is("NoSuchEntity") && e.message.contains(role_name),
        || async {
            iam.attach_role_policy()
                .role_name(role_name)
                .policy_arn(policy_arn)
                .send()
                .await
                .ctx("iam:AttachRolePolicy")
        },
    )
    .await?;
    Ok(())
}

/// A policy element that is one string or a list of them (`Principal.AWS`, `Action`).
pub fn string_list(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        serde_json::Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// An IAM policy document as IAM returns it (URL-encoded JSON), parsed.
pub fn decode_policy(text: &str) -> Option<serde_json::Value> {
    let decoded = percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()?;
    serde_json::from_str(&decoded)
        .ok()
        .or_else(|| serde_json::from_str(text).ok())
}

/// Whether a trust policy lets `service` assume the role.
fn trusts(trust: &serde_json::Value, service: &str) -> bool {
    let as_list = string_list;
    let statements = match trust.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.clone(),
        Some(one) => vec![one.clone()],
        None => Vec::new(),
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(|e| e.as_str()) == Some("Allow")
            && s.get("Principal")
                .and_then(|p| p.get("Service"))
                .is_some_and(|p| as_list(p).iter().any(|p| p == service))
            && s.get("Action").is_some_and(|a| {
                as_list(a)
                    .iter()
                    .any(|a| a == "sts:AssumeRole" || a == "sts:*")
            })
    })
}

#[cfg(test)]
mod tests {
    use super::{decode_policy, role_name, trusts};

    #[test]
    fn role_names_and_trust() {
        assert_eq!(
            role_name("arn:aws:iam::1:role/service-role/AWSBackupDefaultServiceRole"),
            "AWSBackupDefaultServiceRole"
        );
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22backup.amazonaws.com%22%5D%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        let trust = decode_policy(encoded).unwrap();
        assert!(trusts(&trust, "backup.amazonaws.com"));
        assert!(!trusts(&trust, "config.amazonaws.com"));
        assert!(decode_policy("{\"Statement\": []}").is_some());
    }
}
