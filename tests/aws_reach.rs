//! The corners of a real organization that cannot be reached: a closed account (it stays in
//! the organization, PENDING_CLOSURE then SUSPENDED), an account without the access role (an
//! invited one), and an opt-in region an account has not enabled. The first and last are
//! skipped with a notice, the second is an error scoped to its account; plan and apply go
//! on everywhere else, what depends on the unreachable account is skipped, and the exit code
//! is 1.

mod support;

use serde_json::Value;
use support::*;

const BASELINE: &str = r#"
settings { default-regions "us-east-1" "af-south-1" }
password-policy {
    targets { all-accounts }
    min-length 14
}
security-hub {
    targets { all-accounts }
    standard "aws-foundational-security-best-practices"
}
log-bucket "acquired-logs" {
    account "acquired"
    bucket-name "acquired-config-logs"
}
config-recorder {
    targets { account "prod-app" }
    delivery bucket="acquired-logs"
}
"#;

const OPT_IN: &str = "af-south-1";

/// Enable the opt-in region in an account, as its own administrator would.
async fn enable_opt_in_region(emulator: &Emulator, account: Option<&str>) {
    let client = aws_sdk_account::Client::new(&sdk_config(emulator, account).await);
    client
        .enable_region()
        .region_name(OPT_IN)
        .send()
        .await
        .unwrap();
}

fn plan_json(emulator: &Emulator, root: &str) -> Value {
    baseline(emulator, &["plan", root, "--format", "json"])
        .expect(1)
        .json()
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_corners_are_named_and_everything_else_converges() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let org = aws_sdk_organizations::Client::new(&sdk_config(&emulator, None).await);
    let closed = create_account(&org, "closed", None).await;
    org.close_account()
        .account_id(&closed)
        .send()
        .await
        .unwrap();
    // Invited into the organization with a role of its own, not the access role.
    let acquired = create_account(&org, "acquired", Some("AcquirerAdmin")).await;
    // Every reachable account enables the opt-in region, except staging-app.
    enable_opt_in_region(&emulator, None).await;
    for (name, id) in &accounts {
        if name != "staging-app" {
            enable_opt_in_region(&emulator, Some(id)).await;
        }
    }
    after_consistency_window().await;

    let dir = baseline_dir(BASELINE, &[]);
    let root = dir.path().to_str().unwrap();
    let plan = baseline(&emulator, &["plan", root]).expect(1);
    // The three are named, with why, in the summary and on stderr.
    assert!(
        plan.stdout
            .contains("Skipped (nothing there is read or changed):")
            && plan.stdout.contains(&format!(
                "- account closed ({closed}): the account is SUSPENDED"
            ))
            && plan.stdout.contains(&format!(
                "- region af-south-1 of account staging-app ({}): an opt-in region this \
                 account has not enabled",
                accounts["staging-app"]
            )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "x account acquired ({acquired}): could not be reached, 4 instance(s) not read: \
             sts:AssumeRole: AccessDenied"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stderr.contains(&format!(
            "error: account acquired ({acquired}) cannot be reached"
        )) && plan.stderr.contains("notice: skipping account closed")
            && plan
                .stderr
                .contains("notice: skipping region af-south-1 of account staging-app"),
        "{}",
        plan.stderr
    );
    // Everything reachable is planned: six accounts' password policies, hubs in both
    // regions but staging-app's af-south-1, prod-app's Config.
    assert!(
        plan.stdout
            .contains("password-policy.default -> 6 instances"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("security-hub.default -> 11 instances"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("[closed"), "{}", plan.stdout);
    assert!(
        !plan.stdout.contains("staging-app/af-south-1"),
        "{}",
        plan.stdout
    );

    // The same in JSON, in the documented shape.
    let json = plan_json(&emulator, root);
    assert_eq!(json["unreachable"][0]["account"], "acquired", "{json:#}");
    // Its password policy, its hub in both regions, the bucket.
    assert_eq!(json["unreachable"][0]["instances"], 4, "{json:#}");
    let skipped: Vec<(String, Value)> = json["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["account"].as_str().unwrap().to_string(),
                s["region"].clone(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        vec![
            ("closed".to_string(), Value::Null),
            ("staging-app".to_string(), Value::from(OPT_IN))
        ],
        "{json:#}"
    );

    // Apply changes every account it reaches; what needs the unreachable bucket (prod-app's
    // delivery channel, so its recording, so its Security Hub) is skipped; exit 1.
    let apply = baseline(&emulator, &["apply", root, "--auto-approve"]).expect(1);
    assert!(
        apply.stdout.contains(
            "config-delivery-channel.default[prod-app/us-east-1]: skipped because \
             log-bucket.acquired-logs[acquired/us-east-1] failed"
        ) && apply.stdout.contains(
            "security-hub.default[prod-app/af-south-1]: skipped because \
             log-bucket.acquired-logs[acquired/us-east-1] failed"
        ),
        "{}",
        apply.stdout
    );
    assert!(
        apply
            .stderr
            .contains("error: the apply is incomplete: account(s) acquired not reached"),
        "{}",
        apply.stderr
    );
    let staging = sdk_config(&emulator, Some(&accounts["staging-app"])).await;
    let policy = aws_sdk_iam::Client::new(&staging)
        .get_account_password_policy()
        .send()
        .await
        .unwrap();
    assert_eq!(
        policy.password_policy().unwrap().minimum_password_length(),
        Some(14)
    );
    let prod_data = sdk_config_in(&emulator, Some(&accounts["prod-data"]), OPT_IN).await;
    aws_sdk_securityhub::Client::new(&prod_data)
        .describe_hub()
        .send()
        .await
        .expect("Security Hub enabled in prod-data's opt-in region");

    // Planned again: everything reachable converged; only what waits for the unreachable
    // account is still to do.
    let json = plan_json(&emulator, root);
    let left: Vec<&str> = json["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert!(
        !left.is_empty() && left.iter().all(|a| a.contains("[prod-app/")),
        "{json:#}"
    );
}
