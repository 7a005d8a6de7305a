//! Monitoring against the emulator: the organization trail delivering to a log group,
//! an encrypted alert topic, and the CIS v3.0 section 4 metric filters and alarms
//! (security-alarms); drift made out of band (an alarm deleted, a filter pattern changed,
//! a subscription removed, a retention shortened) found exactly and repaired; what the AWS
//! CLI sees afterwards; and the log-retention rule.

mod support;

use support::*;

const LOG_GROUP: &str = "/baseline/cloudtrail";
const TOPIC: &str = "security-alerts";

fn monitoring(management: &str, exclude: &str) -> String {
    format!(
        r#"
settings {{ default-regions "us-east-1" }}
organization {{ trusted-services "cloudtrail.amazonaws.com" }}
kms-key "org-logs" {{
    account "log-archive"
    alias "alias/org-logs"
}}
log-bucket "org-trail-logs" {{
    account "log-archive"
    bucket-name "acme-org-trail-logs"
    kms-key "org-logs"
}}
kms-key "monitoring" {{
    alias "alias/monitoring"
}}
log-group "trail" {{
    name "{LOG_GROUP}"
    retention-days 365
    kms-key "monitoring"
}}
organization-trail "org-trail" {{
    bucket "org-trail-logs"
    kms-key "org-logs"
    cloudwatch-logs "trail"
}}
alert-topic "{TOPIC}" {{
    kms-key "monitoring"
    subscribe "email" "secops@example.com"
    subscribe "sqs" "arn:aws:sqs:us-east-1:{management}:security-alerts"
}}
security-alarms {{
    log-group "trail"
    alert-topic "{TOPIC}"
    {exclude}
}}
"#
    )
}

const GROUP_ADDRESS: &str = "log-group.trail[master/us-east-1]";
const TOPIC_ADDRESS: &str = "alert-topic.security-alerts[master/us-east-1]";
const ALARMS_ADDRESS: &str = "security-alarms.default[master/us-east-1]";
const TRAIL_ADDRESS: &str = "organization-trail.org-trail[master/us-east-1]";

/// The status of control `id` in a JSON report, and the status of each resource serving it.
fn control(report: &Run, id: &str) -> (String, Vec<(String, String)>) {
    let json: serde_json::Value = serde_json::from_str(&report.stdout).expect("report JSON");
    let c = json["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no control {id}"));
    let resources = c["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["resource"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (c["status"].as_str().unwrap().to_string(), resources)
}

/// What an auditor checks with the AWS CLI: on `log_group`, a metric filter with the
/// benchmark's pattern for every CIS 4.x recommendation, and an alarm on its metric that
/// notifies `topic_arn`.
fn the_cli_sees_every_filter_and_alarm(emulator: &Emulator, log_group: &str, topic_arn: &str) {
    let filters = aws_cli(
        emulator,
        None,
        &[
            "logs",
            "describe-metric-filters",
            "--log-group-name",
            log_group,
        ],
    );
    let alarms = aws_cli(emulator, None, &["cloudwatch", "describe-alarms"]);
    for rec in baseline::kinds::security_alarms::RECOMMENDATIONS {
        let filter = filters["metricFilters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["filterName"] == rec.name().as_str())
            .unwrap_or_else(|| panic!("no filter for {}: {filters}", rec.number));
        assert_eq!(filter["filterPattern"], rec.pattern, "{}", rec.number);
        let metric = &filter["metricTransformations"][0];
        assert_eq!(metric["metricName"], rec.metric);
        assert_eq!(metric["metricNamespace"], "CISBenchmark");
        let alarm = alarms["MetricAlarms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["MetricName"] == rec.metric && a["Namespace"] == "CISBenchmark")
            .unwrap_or_else(|| panic!("no alarm on {}: {alarms}", rec.metric));
        assert_eq!(alarm["AlarmActions"], serde_json::json!([topic_arn]));
    }
}

async fn management_id(emulator: &Emulator) -> String {
    let sts = aws_sdk_sts::Client::new(&sdk_config(emulator, None).await);
    sts.get_caller_identity()
        .send()
        .await
        .unwrap()
        .account()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn monitoring_converges_repairs_drift_and_the_cli_sees_every_alarm() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let management = management_id(&emulator).await;
    let dir = baseline_dir(&monitoring(&management, ""), &[]);
    let root = dir.path().to_str().unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    for address in [GROUP_ADDRESS, TOPIC_ADDRESS, ALARMS_ADDRESS] {
        assert!(
            plan.planned().iter().any(|p| p == address),
            "{address}\n{}",
            plan.stdout
        );
    }
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    let converged = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    assert!(
        converged.stdout.contains("No changes"),
        "{}",
        converged.stdout
    );

    // The independent client: every CIS 4.x filter and alarm.
    let topic_arn = format!("arn:aws:sns:us-east-1:{management}:{TOPIC}");
    the_cli_sees_every_filter_and_alarm(&emulator, LOG_GROUP, &topic_arn);
    let trail = aws_cli(
        &emulator,
        None,
        &["cloudtrail", "get-trail", "--name", "org-trail"],
    );
    assert_eq!(
        trail["Trail"]["CloudWatchLogsLogGroupArn"],
        format!("arn:aws:logs:us-east-1:{management}:log-group:{LOG_GROUP}:*")
    );
    assert_eq!(
        trail["Trail"]["CloudWatchLogsRoleArn"],
        format!("arn:aws:iam::{management}:role/baseline-cloudtrail-to-cloudwatch-logs")
    );

    // The controls report: detection (SOC 2 CC7.2, ISO 27001 A.8.16) served by the new
    // kinds, holding.
    let soc2 = ["report", root, "--framework", "soc2", "--format", "json"];
    let iso = [
        "report",
        root,
        "--framework",
        "iso27001",
        "--format",
        "json",
    ];
    let (status, resources) = control(&baseline(&emulator, &soc2).expect(0), "CC7.2");
    assert_eq!(status, "holds");
    for served_by in [
        "security-alarms.default",
        "alert-topic.security-alerts",
        "log-group.trail",
    ] {
        assert!(
            resources.contains(&(served_by.to_string(), "holds".to_string())),
            "{served_by}: {resources:?}"
        );
    }
    let (status, resources) = control(&baseline(&emulator, &iso).expect(0), "A.8.16");
    assert_eq!(status, "holds");
    assert!(resources
        .iter()
        .any(|(r, _)| r == "security-alarms.default"));

    // Drift, out of band: an alarm deleted, a filter's pattern changed, the SQS
    // subscription removed, the retention shortened.
    let config = sdk_config(&emulator, None).await;
    let cw = aws_sdk_cloudwatch::Client::new(&config);
    cw.delete_alarms()
        .alarm_names("cis-4.3-root-account-usage")
        .send()
        .await
        .unwrap();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    logs.put_metric_filter()
        .log_group_name(LOG_GROUP)
        .filter_name("cis-4.1-unauthorized-api-calls")
        .filter_pattern("{ $.errorCode = \"AccessDenied\" }")
        .metric_transformations(
            aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                .metric_name("UnauthorizedAPICalls")
                .metric_namespace("CISBenchmark")
                .metric_value("1")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name(LOG_GROUP)
        .retention_in_days(30)
        .send()
        .await
        .unwrap();
    let sns = aws_sdk_sns::Client::new(&config);
    let subs = sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic_arn)
        .send()
        .await
        .unwrap();
    let sqs = subs
        .subscriptions()
        .iter()
        .find(|s| s.protocol() == Some("sqs"))
        .and_then(|s| s.subscription_arn())
        .expect("the sqs subscription")
        .to_string();
    sns.unsubscribe()
        .subscription_arn(sqs)
        .send()
        .await
        .unwrap();
    // ... and the trail's delivery to CloudWatch Logs stopped (both ARNs empty).
    aws_sdk_cloudtrail::Client::new(&config)
        .update_trail()
        .name("org-trail")
        .cloud_watch_logs_log_group_arn("")
        .cloud_watch_logs_role_arn("")
        .send()
        .await
        .unwrap();

    let drift = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        sorted(drift.planned()),
        sorted(vec![
            ALARMS_ADDRESS.to_string(),
            GROUP_ADDRESS.to_string(),
            TOPIC_ADDRESS.to_string(),
            TRAIL_ADDRESS.to_string()
        ]),
        "{}",
        drift.stdout
    );
    for changed in [
        "alarm-4.3",
        "filter-4.1",
        "retention-days",
        "subscriptions",
        "cloudwatch-logs",
    ] {
        assert!(drift.shows_changed(changed), "{changed}\n{}", drift.stdout);
    }
    for unchanged in [
        "alarm-4.1",
        "filter-4.3",
        "kms-key",
        "policy",
        "cloudwatch-logs-role",
    ] {
        assert!(
            !drift.shows_changed(unchanged),
            "{unchanged}\n{}",
            drift.stdout
        );
    }
    // The report, live: CC7.2 drifted, through exactly the drifted resources.
    let (status, resources) = control(&baseline(&emulator, &soc2).expect(0), "CC7.2");
    assert_eq!(status, "drifted");
    assert!(resources.contains(&("security-alarms.default".to_string(), "drifted".to_string())));
    assert!(resources.contains(&("log-bucket.org-trail-logs".to_string(), "holds".to_string())));
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let (status, _) = control(&baseline(&emulator, &soc2).expect(0), "CC7.2");
    assert_eq!(status, "holds");

    // Excluding a recommendation deletes its filter and alarm, and nothing else.
    std::fs::write(
        dir.path().join("baseline.kdl"),
        monitoring(&management, "exclude \"4.14\""),
    )
    .unwrap();
    let excluded = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert_eq!(
        excluded.planned(),
        vec![ALARMS_ADDRESS],
        "{}",
        excluded.stdout
    );
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let left = cw
        .describe_alarms()
        .alarm_names("cis-4.14-vpc-changes")
        .send()
        .await
        .unwrap();
    assert!(left.metric_alarms().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn log_retention_gives_groups_without_one_the_declared_retention() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let config = sdk_config(&emulator, Some(&accounts["prod-app"])).await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    for name in ["/app/forever", "/app/kept-a-week", "/tmp/excluded"] {
        logs.create_log_group()
            .log_group_name(name)
            .send()
            .await
            .unwrap();
    }
    logs.put_retention_policy()
        .log_group_name("/app/kept-a-week")
        .retention_in_days(7)
        .send()
        .await
        .unwrap();
    let dir = baseline_dir(
        r#"
settings { default-regions "us-east-1" }
log-retention {
    targets { account "prod-app" }
    retention-days 400
    exclude-prefixes "/tmp/"
}
"#,
        &[],
    );
    let root = dir.path().to_str().unwrap();
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    assert!(plan.stdout.contains("/app/forever"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("kept-a-week"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("/tmp/excluded"), "{}", plan.stdout);
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    let groups = logs.describe_log_groups().send().await.unwrap();
    let retention = |n: &str| {
        groups
            .log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(n))
            .and_then(|g| g.retention_in_days())
    };
    assert_eq!(retention("/app/forever"), Some(400));
    assert_eq!(retention("/app/kept-a-week"), Some(7));
    assert_eq!(retention("/tmp/excluded"), None);
}

#[test]
fn validate_names_bad_monitoring_input() {
    let dir = baseline_dir(
        r#"log-group "trail" {
    retention-days 366
}
alert-topic "alerts" {
    kms-key "k"
    subscribe "email" "not-an-address"
    subscribe "https" "http://hooks.example.com"
}
kms-key "k" { alias "alias/k"; region "eu-west-1"; }
security-alarms {
    log-group "trail"
    alert-topic "alerts"
    exclude "4.16" "4.3"
}
"#,
        &[],
    );
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, Some(1), "{stderr}");
    for (at, what) in [
        (
            "baseline.kdl:2:20",
            "CloudWatch Logs does not offer a retention of 366 days",
        ),
        (
            "baseline.kdl:6:23",
            "\"not-an-address\" is not a valid email endpoint",
        ),
        ("baseline.kdl:7:23", "is not a valid https endpoint"),
        (
            "baseline.kdl:13:13",
            "\"4.16\" is not a monitoring recommendation",
        ),
        (
            "baseline.kdl:5:13",
            "kms-key \"k\" is placed elsewhere than this alert-topic",
        ),
    ] {
        assert!(stderr.contains(at), "{at}\n{stderr}");
        assert!(stderr.contains(what), "{what}\n{stderr}");
    }
    // "4.3" is a recommendation: nothing else is reported.
    assert!(stderr.contains("5 problems found"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cis_baseline_applies_and_the_cli_sees_its_monitoring() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let management = management_id(&emulator).await;
    // In the repository (its top is the root folder), so that the shipped baseline may be
    // included.
    let dir = tempfile::tempdir_in(repo_root().join("target")).unwrap();
    std::fs::write(
        dir.path().join("baseline.kdl"),
        r#"
settings {
    root "../.."
    default-regions "us-east-1"
    param "alert-email" "secops@example.com"
}
organizational-unit "Security"
account "log-archive" ou="Security"
account "audit" ou="Security"
include "../../baselines/cis-aws-foundations.kdl"
"#,
    )
    .unwrap();
    let root = dir.path().to_str().unwrap();
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    // Converged; what is left are findings no API remedies (the root user's MFA).
    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(3);
    assert!(plan.planned().is_empty(), "{}", plan.stdout);

    let topic_arn = format!("arn:aws:sns:us-east-1:{management}:cis-security-alerts");
    the_cli_sees_every_filter_and_alarm(&emulator, "/baseline/cis-org-trail", &topic_arn);
    let subscriptions = aws_cli(
        &emulator,
        None,
        &[
            "sns",
            "list-subscriptions-by-topic",
            "--topic-arn",
            &topic_arn,
        ],
    );
    let email = &subscriptions["Subscriptions"][0];
    assert_eq!(email["Endpoint"], "secops@example.com");
    // Until its owner confirms it.
    assert_eq!(email["SubscriptionArn"], "PendingConfirmation");
}
