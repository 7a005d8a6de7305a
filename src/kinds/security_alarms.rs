//! `security-alarms`: the monitoring section of CIS AWS Foundations v3.0 (section 4) in one
//! declaration: for each recommendation a CloudWatch Logs metric filter on the trail's log
//! group, with the pattern the benchmark publishes, and a CloudWatch alarm on its metric
//! that notifies an alert topic (SOC 2 CC7.2, ISO 27001:2022 A.8.16).

use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic, Tag};
use aws_sdk_cloudwatchlogs::types::MetricTransformation;
use serde_json::{json, Value};

use super::{check_beside, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Baseline, Declaration, Reference, Spec};
use crate::lang::reader::{Cx, NodeReader};
use crate::lang::source::Spanned;
use crate::provider::{
    self, Action, Attrs, ChangeRequest, Ctx, Error, Observed, Provider, MANAGED_TAG_KEY,
    MANAGED_TAG_VALUE,
};

pub static KIND: Kind = Kind {
    keyword: "security-alarms",
    summary: "CIS v3.0 section 4 metric filters and alarms on the trail's log group",
    naming: Naming::Singleton,
    placing: Placing::Single,
    regional: true,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: check_beside_log_group,
    provider: Some(&SecurityAlarmsProvider),
};

/// One monitoring recommendation of CIS AWS Foundations v3.0, section 4.
#[derive(Debug)]
pub struct Recommendation {
    /// The benchmark's number, e.g. `4.3`.
    pub number: &'static str,
    /// The metric filter's and the alarm's name, after `cis-<number>-`.
    pub slug: &'static str,
    /// The metric the filter counts, in the declared namespace.
    pub metric: &'static str,
    /// The filter pattern as the benchmark publishes it.
    pub pattern: &'static str,
}

/// CIS AWS Foundations Benchmark v3.0.0, 4.1 to 4.15 (4.16, Security Hub enabled, is the
/// `security-hub` kind). The patterns are the benchmark's, as its remediation sections write
/// them for `aws logs put-metric-filter`.
pub const RECOMMENDATIONS: &[Recommendation] = &[
    Recommendation {
        number: "4.1",
        slug: "unauthorized-api-calls",
        metric: "UnauthorizedAPICalls",
        pattern: r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }"#,
    },
    Recommendation {
        number: "4.2",
        slug: "console-signin-without-mfa",
        metric: "ConsoleSigninWithoutMFA",
        pattern: r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
    },
    Recommendation {
        number: "4.3",
        slug: "root-account-usage",
        metric: "RootAccountUsage",
        pattern: r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    },
    Recommendation {
        number: "4.4",
        slug: "iam-policy-changes",
        metric: "IAMPolicyChanges",
        pattern: "{ ($.eventSource = iam.amazonaws.com) && (($.eventName = DeleteGroupPolicy) || ($.eventName = DeleteRolePolicy) || ($.eventName = DeleteUserPolicy) || ($.eventName = PutGroupPolicy) || ($.eventName = PutRolePolicy) || ($.eventName = PutUserPolicy) || ($.eventName = CreatePolicy) || ($.eventName = DeletePolicy) || ($.eventName = CreatePolicyVersion) || ($.eventName = DeletePolicyVersion) || ($.eventName = AttachRolePolicy) || ($.eventName = DetachRolePolicy) || ($.eventName = AttachUserPolicy) || ($.eventName = DetachUserPolicy) || ($.eventName = AttachGroupPolicy) || ($.eventName = DetachGroupPolicy)) }",
    },
    Recommendation {
        number: "4.5",
        slug: "cloudtrail-changes",
        metric: "CloudTrailConfigChanges",
        pattern: "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    },
    Recommendation {
        number: "4.6",
        slug: "console-authentication-failures",
        metric: "ConsoleSigninFailures",
        pattern: r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
    },
    Recommendation {
        number: "4.7",
        slug: "cmk-disabled-or-scheduled-deletion",
        metric: "DisableOrDeleteCMK",
        pattern: "{ ($.eventSource = kms.amazonaws.com) && (($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion)) }",
    },
    Recommendation {
        number: "4.8",
        slug: "s3-bucket-policy-changes",
        metric: "S3BucketPolicyChanges",
        pattern: "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    },
    Recommendation {
        number: "4.9",
        slug: "config-changes",
        metric: "AWSConfigChanges",
        pattern: "{ ($.eventSource = config.amazonaws.com) && (($.eventName = StopConfigurationRecorder) || ($.eventName = DeleteDeliveryChannel) || ($.eventName = PutDeliveryChannel) || ($.eventName = PutConfigurationRecorder)) }",
    },
    Recommendation {
        number: "4.10",
        slug: "security-group-changes",
        metric: "SecurityGroupChanges",
        pattern: "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    },
    Recommendation {
        number: "4.11",
        slug: "nacl-changes",
        metric: "NACLChanges",
        pattern: "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    },
    Recommendation {
        number: "4.12",
        slug: "network-gateway-changes",
        metric: "NetworkGatewayChanges",
        pattern: "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    },
    Recommendation {
        number: "4.13",
        slug: "route-table-changes",
        metric: "RouteTableChanges",
        pattern: "{ ($.eventSource = ec2.amazonaws.com) && (($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable)) }",
    },
    Recommendation {
        number: "4.14",
        slug: "vpc-changes",
        metric: "VPCChanges",
        pattern: "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    },
    Recommendation {
        number: "4.15",
        slug: "organizations-changes",
        metric: "OrganizationsChanges",
        pattern: r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#,
    },
];

/// The metric namespace the benchmark suggests for all of them.
pub const DEFAULT_NAMESPACE: &str = "CISBenchmark";
/// The prefix of every filter and alarm name: `cis-4.3-root-account-usage`.
const NAME_PREFIX: &str = "cis-4.";

impl Recommendation {
    pub fn name(&self) -> String {
        format!("cis-{}-{}", self.number, self.slug)
    }
    fn filter_attr(&self) -> String {
        format!("filter-{}", self.number)
    }
    fn alarm_attr(&self) -> String {
        format!("alarm-{}", self.number)
    }
}

#[derive(Debug, Clone)]
pub struct SecurityAlarms {
    pub log_group: Option<Spanned<String>>,
    pub alert_topic: Option<Spanned<String>>,
    /// Recommendation numbers left out.
    pub exclude: Vec<String>,
    pub namespace: String,
}

impl SecurityAlarms {
    fn includes(&self, r: &Recommendation) -> bool {
        !self.exclude.iter().any(|e| e == r.number)
    }
}

impl Spec for SecurityAlarms {
    fn references(&self) -> Vec<Reference> {
        let group = self
            .log_group
            .iter()
            .map(|g| Reference::new("log-group", g));
        group
            .chain(
                self.alert_topic
                    .iter()
                    .map(|t| Reference::new("alert-topic", t)),
            )
            .collect()
    }
    crate::spec_any!();
}

/// CloudWatch metric namespaces: 1-255 printable ASCII characters, not starting with `AWS/`
/// (PutMetricData reserves those).
fn is_namespace(ns: &str) -> bool {
    (1..=255).contains(&ns.len())
        && ns.bytes().all(|b| (b' '..=b'~').contains(&b))
        && !ns.starts_with("AWS/")
        && !ns.contains(':')
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let log_group = r.child_str("log-group", "the name of a declared log-group");
    let log_group = r.require(log_group, "log-group", "log-group \"organization-trail\"");
    let alert_topic = r.child_str("alert-topic", "the name of a declared alert-topic");
    let alert_topic = r.require(
        alert_topic,
        "alert-topic",
        "alert-topic \"security-alerts\"",
    );
    let exclude = r
        .child_strs("exclude", "CIS recommendation numbers, such as \"4.10\"")
        .unwrap_or_default();
    for e in &exclude {
        if !RECOMMENDATIONS.iter().any(|rec| rec.number == e.value) {
            let known: Vec<&str> = RECOMMENDATIONS.iter().map(|r| r.number).collect();
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    e.span,
                    format!(
                        "\"{}\" is not a monitoring recommendation of CIS AWS Foundations v3.0",
                        e.value
                    ),
                )
                .label("unknown recommendation")
                .help(format!(
                    "section 4 has metric filters and alarms for {}",
                    known.join(", ")
                )),
            );
        }
    }
    let namespace = r.child_str("namespace", "a CloudWatch metric namespace");
    if let Some(ns) = namespace.as_ref().filter(|n| !is_namespace(&n.value)) {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                ns.span,
                format!("\"{}\" is not a namespace of custom metrics", ns.value),
            )
            .label("not a custom namespace")
            .help("1 to 255 printable characters without `:`, not starting with AWS/"),
        );
    }
    Box::new(SecurityAlarms {
        log_group,
        alert_topic,
        exclude: exclude.into_iter().map(|e| e.value).collect(),
        namespace: namespace.map_or_else(|| DEFAULT_NAMESPACE.to_string(), |n| n.value),
    })
}

/// Metric filters live on their log group, so the alarms are declared where it is (its
/// account and region); an alarm notifies a topic of its own region only.
fn check_beside_log_group(baseline: &Baseline, decls: &[&Declaration], cx: &Cx) {
    const HELP: &str = "metric filters live on their log group and alarms notify topics of \
                        their own region: give `security-alarms` the `account` and `region` of \
                        the log group";
    for decl in decls {
        let Some(spec) = spec_of::<SecurityAlarms>(decl) else {
            continue;
        };
        if let Some(g) = &spec.log_group {
            check_beside(baseline, decl, g, "log-group", true, cx, HELP);
        }
        if let Some(t) = &spec.alert_topic {
            check_beside(baseline, decl, t, "alert-topic", false, cx, HELP);
        }
    }
}

// --- AWS -------------------------------------------------------------------------------

/// The filters and alarms, found by name (`cis-4.N-...`). Alarms are tagged; filters cannot
/// be. A recommendation excluded later has its filter and alarm deleted, as they carry
/// baseline's names; anything else on the log group is left alone.
pub struct SecurityAlarmsProvider;

/// The alarm's settings besides its actions: any matching event in five minutes alarms.
fn alarm_value(namespace: &str, metric: &str, actions: &[String]) -> Value {
    json!({
        "metric": format!("{namespace}/{metric}"),
        "statistic": "Sum",
        "period": 300,
        "evaluation-periods": 1,
        "threshold": 1.0,
        "comparison": "GreaterThanOrEqualToThreshold",
        "treat-missing-data": "notBreaching",
        "actions": actions,
    })
}

fn filter_value(namespace: &str, metric: &str, pattern: &str) -> Value {
    json!({"pattern": pattern, "metric": format!("{namespace}/{metric}")})
}

fn topic_arns(cx: &Ctx<'_>, spec: &SecurityAlarms) -> Vec<String> {
    spec.alert_topic
        .iter()
        .filter_map(|t| super::alert_topic::arn_of(cx, &t.value))
        .collect()
}

fn log_group_name(cx: &Ctx<'_>, spec: &SecurityAlarms) -> provider::Result<String> {
    spec.log_group
        .as_ref()
        .and_then(|g| super::log_group::placed(cx, &g.value))
        .map(|(name, _, _)| name)
        .ok_or_else(|| Error::State("security-alarms names no declared log-group".into()))
}

fn desired(cx: &Ctx<'_>, spec: &SecurityAlarms) -> Attrs {
    let actions = topic_arns(cx, spec);
    let mut a = Attrs::new();
    for rec in RECOMMENDATIONS {
        let (filter, alarm) = if spec.includes(rec) {
            (
                filter_value(&spec.namespace, rec.metric, rec.pattern),
                alarm_value(&spec.namespace, rec.metric, &actions),
            )
        } else {
            (Value::Null, Value::Null)
        };
        a.insert(rec.filter_attr(), filter);
        a.insert(rec.alarm_attr(), alarm);
    }
    a
}

fn by_name(name: &str) -> Option<&'static Recommendation> {
    RECOMMENDATIONS.iter().find(|r| r.name() == name)
}

#[async_trait]
impl Provider for SecurityAlarmsProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        spec_of::<SecurityAlarms>(cx.decl(inst)).map_or_else(Attrs::new, |s| desired(cx, s))
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let Some(spec) = spec_of::<SecurityAlarms>(cx.decl(inst)) else {
            return Ok(Observed::absent());
        };
        let group = log_group_name(cx, spec)?;
        let logs = cx.aws.logs(&inst.account_id, &inst.region).await?;
        let filters = logs
            .describe_metric_filters()
            .log_group_name(&group)
            .filter_name_prefix(NAME_PREFIX)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .absent_on("logs:DescribeMetricFilters", &["ResourceNotFoundException"])?
            .unwrap_or_default();
        let cw = cx.aws.cloudwatch(&inst.account_id, &inst.region).await?;
        let alarms = cw
            .describe_alarms()
            .alarm_name_prefix(NAME_PREFIX)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .ctx("cloudwatch:DescribeAlarms")?;
        let mut live = Attrs::new();
        for f in &filters {
            let Some(rec) = f.filter_name().and_then(by_name) else {
                continue;
            };
            let metric = f
                .metric_transformations()
                .first()
                .map(|t| format!("{}/{}", t.metric_namespace(), t.metric_name()))
                .unwrap_or_default();
            live.insert(
                rec.filter_attr(),
                json!({"pattern": f.filter_pattern().unwrap_or_default(), "metric": metric}),
            );
        }
        for page in &alarms {
            for a in page.metric_alarms() {
                let Some(rec) = a.alarm_name().and_then(by_name) else {
                    continue;
                };
                let mut actions: Vec<String> = a.alarm_actions().to_vec();
                actions.sort();
                live.insert(
                    rec.alarm_attr(),
                    json!({
                        "metric": format!("{}/{}",
                            a.namespace().unwrap_or_default(), a.metric_name().unwrap_or_default()),
                        "statistic": a.statistic().map(|s| s.as_str()),
                        "period": a.period(),
                        "evaluation-periods": a.evaluation_periods(),
                        "threshold": a.threshold(),
                        "comparison": a.comparison_operator().map(|c| c.as_str()),
                        "treat-missing-data": a.treat_missing_data(),
                        "actions": actions,
                    }),
                );
            }
        }
        if live.is_empty() {
            return Ok(Observed::absent());
        }
        let mut ids = Attrs::new();
        ids.insert("log-group".into(), json!(group));
        Ok(Observed::present(live, ids, None))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<SecurityAlarms>(cx.decl(inst)) else {
            return Ok(());
        };
        let group = log_group_name(cx, spec)?;
        let actions = topic_arns(cx, spec);
        let logs = cx.aws.logs(&inst.account_id, &inst.region).await?;
        let cw = cx.aws.cloudwatch(&inst.account_id, &inst.region).await?;
        let create = change.action == Action::Create;
        for rec in RECOMMENDATIONS {
            let name = rec.name();
            let wanted = spec.includes(rec);
            // Deleted only what was read: DeleteAlarms refuses a name it does not know.
            let filter_changes = change.changes(&rec.filter_attr());
            if (create && wanted) || filter_changes {
                if wanted {
                    let transformation = MetricTransformation::builder()
                        .metric_name(rec.metric)
                        .metric_namespace(&spec.namespace)
                        .metric_value("1")
                        .build()
                        .map_err(|e| Error::State(format!("metric transformation: {e}")))?;
                    logs.put_metric_filter()
                        .log_group_name(&group)
                        .filter_name(&name)
                        .filter_pattern(rec.pattern)
                        .metric_transformations(transformation)
                        .send()
                        .await
                        .ctx("logs:PutMetricFilter")?;
                } else {
                    logs.delete_metric_filter()
                        .log_group_name(&group)
                        .filter_name(&name)
                        .send()
                        .await
                        .absent_on("logs:DeleteMetricFilter", &["ResourceNotFoundException"])?;
                }
            }
            let alarm_changes = change.changes(&rec.alarm_attr());
            if (create && wanted) || alarm_changes {
                if wanted {
                    let tag = Tag::builder()
                        .key(MANAGED_TAG_KEY)
                        .value(MANAGED_TAG_VALUE)
                        .build();
                    cw.put_metric_alarm()
                        .alarm_name(&name)
                        .alarm_description(format!(
                            "CIS AWS Foundations v3.0 {}: {} (managed by baseline)",
                            rec.number,
                            rec.slug.replace('-', " ")
                        ))
                        .namespace(&spec.namespace)
                        .metric_name(rec.metric)
                        .statistic(Statistic::Sum)
                        .period(300)
                        .evaluation_periods(1)
                        .threshold(1.0)
                        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
                        .treat_missing_data("notBreaching")
                        .set_alarm_actions(Some(actions.clone()))
                        .tags(tag)
                        .send()
                        .await
                        .ctx("cloudwatch:PutMetricAlarm")?;
                } else {
                    cw.delete_alarms()
                        .alarm_names(&name)
                        .send()
                        .await
                        .ctx("cloudwatch:DeleteAlarms")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recommendations_are_numbered_once_and_patterns_are_balanced() {
        let mut numbers: Vec<&str> = RECOMMENDATIONS.iter().map(|r| r.number).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), 15);
        for r in RECOMMENDATIONS {
            let depth = r.pattern.chars().try_fold(0i32, |d, c| {
                let d = d + match c {
                    '(' | '{' => 1,
                    ')' | '}' => -1,
                    _ => 0,
                };
                (d >= 0).then_some(d)
            });
            assert_eq!(depth, Some(0), "{}", r.number);
            assert_eq!(r.pattern.matches('"').count() % 2, 0, "{}", r.number);
            assert!(r.name().len() <= 255);
        }
        assert!(is_namespace("CISBenchmark"));
        assert!(!is_namespace("AWS/Logs"));
    }
}
