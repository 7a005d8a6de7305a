//! `alert-topic`: an SNS topic for security alerts, encrypted with a declared KMS key, with
//! the declared subscriptions, and a topic policy that lets CloudWatch alarms and
//! EventBridge (Security Hub findings) publish to it. `security-alarms` notify it.

use std::collections::BTreeSet;

use async_trait::async_trait;
use aws_sdk_sns::types::Tag;
use serde_json::{json, Map, Value};

use super::kms_key::{alias_of, existing_key_arn, key_arn};
use super::{check_keys_beside, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Baseline, Declaration, Reference, Spec};
use crate::lang::policy::{canonical_statement, is_baseline_sid, merge_owned, owned_statements};
use crate::lang::reader::{Cx, NodeReader};
use crate::lang::source::Spanned;
use crate::provider::{
    self, is_managed_tag, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider,
    MANAGED_TAG_KEY, MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "alert-topic",
    summary: "an encrypted SNS topic for security alerts, with subscriptions",
    naming: Naming::Required,
    placing: Placing::Single,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: check_key_beside,
    provider: Some(&AlertTopicProvider),
};

/// The protocols a subscription may use, and what its endpoint must look like.
const PROTOCOLS: &[(&str, &str)] = &[
    ("email", "an email address"),
    ("email-json", "an email address"),
    ("https", "an https:// URL"),
    ("sqs", "an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)"),
    (
        "lambda",
        "a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)",
    ),
];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subscription {
    pub protocol: String,
    pub endpoint: String,
}

impl Subscription {
    /// How plans show it: `email secops@example.com`.
    fn shown(&self) -> String {
        format!("{} {}", self.protocol, self.endpoint)
    }
}

#[derive(Debug, Clone)]
pub struct AlertTopic {
    pub kms_key: Option<Spanned<String>>,
    pub subscriptions: Vec<Subscription>,
}

impl Spec for AlertTopic {
    fn references(&self) -> Vec<Reference> {
        self.kms_key
            .iter()
            .map(|k| Reference::new("kms-key", k))
            .collect()
    }
    crate::spec_any!();
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:REST` with a non-empty REST that `rest` accepts.
fn is_arn_of(endpoint: &str, service: &str, rest: impl Fn(&str) -> bool) -> bool {
    let parts: Vec<&str> = endpoint.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, s, region, account, r]
        if !partition.is_empty() && *s == service && !region.is_empty()
            && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
            && !r.is_empty() && rest(r))
}

/// Whether `endpoint` is what SNS accepts for `protocol` (Subscribe, `Endpoint`).
pub fn endpoint_is_valid(protocol: &str, endpoint: &str) -> bool {
    match protocol {
        "email" | "email-json" => {
            let mut at = endpoint.splitn(2, '@');
            let (local, domain) = (at.next().unwrap_or(""), at.next().unwrap_or(""));
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !endpoint.contains(char::is_whitespace)
                && !domain.contains('@')
        }
        "https" => endpoint
            .strip_prefix("https://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/')),
        "sqs" => is_arn_of(endpoint, "sqs", |name| !name.contains(':')),
        "lambda" => is_arn_of(endpoint, "lambda", |r| {
            r.strip_prefix("function:").is_some_and(|f| !f.is_empty())
        }),
        _ => false,
    }
}

/// SNS topic names: 1-256 letters, digits, `-` and `_`.
fn is_topic_name(name: &str) -> bool {
    (1..=256).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    if !is_topic_name(&name.value) {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                name.span,
                format!("\"{}\" is not an SNS topic name", name.value),
            )
            .label("not a topic name")
            .help("a topic name has 1 to 256 letters, digits, - and _"),
        );
    }
    let kms_key = r.child_str("kms-key", "the name of a declared kms-key");
    let kms_key = r.require(kms_key, "kms-key", "kms-key \"alerts\"");
    let mut subscriptions = Vec::new();
    for mut s in r.children("subscribe") {
        let protocol = s.arg_str(0, "a protocol (email, https, sqs, lambda)");
        let endpoint = s.arg_str(1, "the endpoint");
        s.finish();
        let (Some(protocol), Some(endpoint)) = (protocol, endpoint) else {
            continue;
        };
        // An empty endpoint subscribes nothing: a shipped baseline leaves the address to a
        // parameter (`subscribe "email" (param)"alert-email"`) whose default is "".
        if endpoint.value.is_empty() {
            continue;
        }
        let Some((_, wanted)) = PROTOCOLS.iter().find(|(p, _)| *p == protocol.value) else {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    protocol.span,
                    format!("\"{}\" is not a protocol alerts can use", protocol.value),
                )
                .label("unknown protocol")
                .help(format!(
                    "use one of {}",
                    PROTOCOLS
                        .iter()
                        .map(|(p, _)| *p)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
            continue;
        };
        if !endpoint_is_valid(&protocol.value, &endpoint.value) {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    endpoint.span,
                    format!(
                        "\"{}\" is not a valid {} endpoint",
                        endpoint.value, protocol.value
                    ),
                )
                .label(format!("not {wanted}"))
                .help(format!(
                    "a {} subscription's endpoint is {wanted}",
                    protocol.value
                )),
            );
            continue;
        }
        subscriptions.push(Subscription {
            protocol: protocol.value,
            endpoint: endpoint.value,
        });
    }
    subscriptions.sort();
    subscriptions.dedup();
    Box::new(AlertTopic {
        kms_key,
        subscriptions,
    })
}

/// A KMS key encrypts only in its own region.
fn check_key_beside(baseline: &Baseline, decls: &[&Declaration], cx: &Cx) {
    fn key_of(d: &Declaration) -> Option<&Spanned<String>> {
        spec_of::<AlertTopic>(d).and_then(|s| s.kms_key.as_ref())
    }
    check_keys_beside(baseline, decls, cx, key_of, "a topic");
}

// --- AWS -------------------------------------------------------------------------------

/// The topic, by name (SNS's natural key: CreateTopic of an existing name returns it).
/// Tagged at creation; an untagged topic of that name is adopted. Never deleted. Only the
/// declared subscriptions are baseline's: others on the topic are kept.
pub struct AlertTopicProvider;

/// `arn:PARTITION:sns:REGION:ACCOUNT:NAME`.
pub fn topic_arn(partition: &str, region: &str, account: &str, name: &str) -> String {
    format!("arn:{partition}:sns:{region}:{account}:{name}")
}

/// The ARN of the declared alert-topic `decl_name`.
pub fn arn_of(cx: &Ctx<'_>, decl_name: &str) -> Option<String> {
    let decl = cx.baseline.find(KIND.keyword, decl_name)?;
    Some(topic_arn(
        &cx.aws.partition,
        &cx.region_of(decl),
        &cx.account_of(decl),
        decl_name,
    ))
}

/// Baseline's statements in the topic policy: CloudWatch alarms of the topic's account, and
/// EventBridge rules of that account (Security Hub findings routed to alerts), may publish
/// (SNS developer guide, "Amazon SNS access policies"; limited with `aws:SourceArn` and
/// `aws:SourceAccount` against the confused deputy).
fn policy_statements(
    partition: &str,
    region: &str,
    account: &str,
    arn: &str,
) -> Map<String, Value> {
    let mut s = Map::new();
    s.insert(
        "BaselineAlarmsPublish".into(),
        json!({
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": arn,
            "Condition": {
                "ArnLike": {"aws:SourceArn": format!("arn:{partition}:cloudwatch:{region}:{account}:alarm:*")}
            }
        }),
    );
    s.insert(
        "BaselineEventsPublish".into(),
        json!({
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account}}
        }),
    );
    s.into_iter()
        .map(|(sid, st)| (sid, canonical_statement(&st)))
        .collect()
}

/// The statements the key policy of the declared kms-key `key` needs for the alert topics
/// encrypted with it: the publishing services must make and read data keys, or their
/// messages to the encrypted topic are dropped (SNS developer guide, "Configure AWS KMS
/// permissions for AWS services").
pub fn key_statements(cx: &Ctx<'_>, key: &str) -> Map<String, Value> {
    let used = cx
        .baseline
        .declarations
        .iter()
        .filter(|d| std::ptr::eq(d.kind, &KIND))
        .filter_map(spec_of::<AlertTopic>)
        .any(|t| t.kms_key.as_ref().is_some_and(|k| k.value == key));
    let mut s = Map::new();
    if used {
        s.insert(
            "BaselineAlertPublishers".into(),
            json!({
                "Effect": "Allow",
                "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*"
            }),
        );
    }
    s
}

fn subscriptions_attr(subs: &[Subscription]) -> Value {
    json!(subs.iter().map(Subscription::shown).collect::<Vec<_>>())
}

fn desired(cx: &Ctx<'_>, inst: &Instance, name: &str, t: &AlertTopic) -> Attrs {
    let arn = topic_arn(&cx.aws.partition, &inst.region, &inst.account_id, name);
    let mut a = Attrs::new();
    a.insert(
        "kms-key".into(),
        json!(t.kms_key.as_ref().map(|k| alias_of(cx, &k.value))),
    );
    a.insert("subscriptions".into(), subscriptions_attr(&t.subscriptions));
    a.insert(
        "policy".into(),
        Value::Object(policy_statements(
            &cx.aws.partition,
            &inst.region,
            &inst.account_id,
            &arn,
        )),
    );
    a
}

fn managed_tag() -> provider::Result<Tag> {
    Tag::builder()
        .key(MANAGED_TAG_KEY)
        .value(MANAGED_TAG_VALUE)
        .build()
        .map_err(|e| Error::State(format!("sns tag: {e}")))
}

/// The subscriptions of the topic, confirmed or pending confirmation (an email address
/// confirms by itself; until then SNS lists it as `PendingConfirmation`).
async fn subscriptions(
    sns: &aws_sdk_sns::Client,
    arn: &str,
) -> provider::Result<BTreeSet<Subscription>> {
    let subs = sns
        .list_subscriptions_by_topic()
        .topic_arn(arn)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .ctx("sns:ListSubscriptionsByTopic")?;
    Ok(subs
        .into_iter()
        .filter_map(|s| {
            Some(Subscription {
                protocol: s.protocol?,
                endpoint: s.endpoint?,
            })
        })
        .collect())
}

#[async_trait]
impl Provider for AlertTopicProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        let decl = cx.decl(inst);
        spec_of::<AlertTopic>(decl)
            .map_or_else(Attrs::new, |t| desired(cx, inst, &decl.name.value, t))
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let decl = cx.decl(inst);
        let Some(spec) = spec_of::<AlertTopic>(decl) else {
            return Ok(Observed::absent());
        };
        let arn = topic_arn(
            &cx.aws.partition,
            &inst.region,
            &inst.account_id,
            &decl.name.value,
        );
        let sns = cx.aws.sns(&inst.account_id, &inst.region).await?;
        let Some(attributes) = sns
            .get_topic_attributes()
            .topic_arn(&arn)
            .send()
            .await
            .absent_on("sns:GetTopicAttributes", &["NotFound", "NotFoundException"])?
        else {
            return Ok(Observed::absent());
        };
        let attributes = attributes.attributes.unwrap_or_default();
        let tags = sns
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await
            .ctx("sns:ListTagsForResource")?;
        let managed = tags
            .tags()
            .iter()
            .any(|t| is_managed_tag(t.key(), t.value()));
        let kms = match attributes.get("KmsMasterKeyId").filter(|k| !k.is_empty()) {
            None => Value::Null,
            Some(id) => match &spec.kms_key {
                Some(k)
                    if key_arn(cx, &k.value).await?.as_deref() == Some(id)
                        || alias_of(cx, &k.value) == *id =>
                {
                    json!(alias_of(cx, &k.value))
                }
                _ => json!(id),
            },
        };
        let live_subs = subscriptions(&sns, &arn).await?;
        // Only the declared subscriptions are compared: others on the topic are not
        // baseline's to judge.
        let declared: Vec<Subscription> = spec
            .subscriptions
            .iter()
            .filter(|s| live_subs.contains(s))
            .cloned()
            .collect();
        let policy = attributes
            .get("Policy")
            .and_then(|p| serde_json::from_str::<Value>(p).ok());
        let mut live = Attrs::new();
        live.insert("kms-key".into(), kms);
        live.insert("subscriptions".into(), subscriptions_attr(&declared));
        live.insert(
            "policy".into(),
            Value::Object(
                policy
                    .as_ref()
                    .map(|p| owned_statements(p, is_baseline_sid))
                    .unwrap_or_default(),
            ),
        );
        let mut ids = Attrs::new();
        ids.insert("arn".into(), json!(arn));
        let owner = crate::coexist::owner_of(
            &decl.name.value,
            tags.tags().iter().map(|t| (t.key(), t.value())),
        );
        Ok(Observed::present(live, ids, Some(managed)).owned_by(owner))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let decl = cx.decl(inst);
        let Some(spec) = spec_of::<AlertTopic>(decl) else {
            return Ok(());
        };
        let name = decl.name.value.as_str();
        let sns = cx.aws.sns(&inst.account_id, &inst.region).await?;
        let key = match &spec.kms_key {
            None => None,
            Some(k) => Some(existing_key_arn(cx, &k.value).await?),
        };
        let arn = topic_arn(&cx.aws.partition, &inst.region, &inst.account_id, name);
        let wanted = policy_statements(&cx.aws.partition, &inst.region, &inst.account_id, &arn);
        if change.action == Action::Create {
            let mut create = sns.create_topic().name(name).tags(managed_tag()?);
            if let Some(key) = &key {
                create = create.attributes("KmsMasterKeyId", key);
            }
            create.send().await.ctx("sns:CreateTopic")?;
        } else if change.action == Action::Adopt {
            sns.tag_resource()
                .resource_arn(&arn)
                .tags(managed_tag()?)
                .send()
                .await
                .ctx("sns:TagResource")?;
        }
        if change.action != Action::Create && change.changes("kms-key") {
            sns.set_topic_attributes()
                .topic_arn(&arn)
                .attribute_name("KmsMasterKeyId")
                .attribute_value(key.clone().unwrap_or_default())
                .send()
                .await
                .ctx("sns:SetTopicAttributes")?;
        }
        if change.action == Action::Create || change.changes("policy") {
            // Merged into the policy as it is now: SNS's default statement and what others
            // added are kept.
            let live = sns
                .get_topic_attributes()
                .topic_arn(&arn)
                .send()
                .await
                .ctx("sns:GetTopicAttributes")?
                .attributes
                .and_then(|a| a.get("Policy").cloned())
                .and_then(|p| serde_json::from_str::<Value>(&p).ok());
            let policy = merge_owned(live.as_ref(), is_baseline_sid, &wanted);
            sns.set_topic_attributes()
                .topic_arn(&arn)
                .attribute_name("Policy")
                .attribute_value(policy.to_string())
                .send()
                .await
                .ctx("sns:SetTopicAttributes")?;
        }
        if change.action == Action::Create || change.changes("subscriptions") {
            let live = subscriptions(&sns, &arn).await?;
            for s in spec.subscriptions.iter().filter(|s| !live.contains(s)) {
                sns.subscribe()
                    .topic_arn(&arn)
                    .protocol(&s.protocol)
                    .endpoint(&s.endpoint)
                    .send()
                    .await
                    .ctx("sns:Subscribe")?;
            }
        }
        let mut values = Attrs::new();
        values.insert("arn".into(), json!(arn));
        cx.outputs
            .publish(KIND.keyword, name, values, change.action == Action::Create);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_per_protocol() {
        for (p, e) in [
            ("email", "secops@example.com"),
            ("https", "https://hooks.example.com/alerts"),
            ("sqs", "arn:aws:sqs:us-east-1:111122223333:alerts"),
            (
                "lambda",
                "arn:aws:lambda:us-east-1:111122223333:function:page",
            ),
            (
                "lambda",
                "arn:aws:lambda:us-east-1:111122223333:function:page:live",
            ),
        ] {
            assert!(endpoint_is_valid(p, e), "{p} {e}");
        }
        for (p, e) in [
            ("email", "secops"),
            ("email", "secops@localhost"),
            ("email", "a b@example.com"),
            ("https", "http://hooks.example.com"),
            ("https", "https://"),
            ("sqs", "arn:aws:sns:us-east-1:111122223333:alerts"),
            (
                "sqs",
                "https://sqs.us-east-1.amazonaws.com/111122223333/alerts",
            ),
            ("lambda", "arn:aws:lambda:us-east-1:111122223333:page"),
            ("sms", "+15555550100"),
        ] {
            assert!(!endpoint_is_valid(p, e), "{p} {e}");
        }
    }
}
