//! Waivers against the emulator: an unexpired waiver silences exactly the drift it covers
//! (shown as waived, not applied, not drift for `--detailed-exitcode`); an expired one turns
//! it back into drift and is itself reported; the controls report lists both as exceptions;
//! `validate` refuses a malformed date or an unknown control and warns about a waiver that
//! covers nothing.

mod support;

use support::*;

const WAIVED: &str = r#"
settings { default-regions "us-east-1" }
password-policy {
    targets { account "prod-app" "staging-app" }
    min-length 14
}
waiver "staging-legacy" {
    address "password-policy.default[staging-*]"
    control "SOC2:CC6.1"
    owner "platform-team"
    ticket "SEC-123"
    reason "the staging IdP enforces its own policy until the migration"
    expires "2999-12-31"
}
waiver "prod-exception" {
    address "password-policy.default[prod-app]"
    owner "platform-team"
    reason "ran out"
    expires "2020-01-01"
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_waiver_silences_exactly_its_drift_until_it_expires() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let dir = baseline_dir(WAIVED, &[]);
    let root = dir.path().to_str().unwrap();

    let plan = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    // The expired waiver covers prod-app no more: its drift is planned, and said so.
    assert_eq!(
        plan.planned(),
        vec!["password-policy.default[prod-app]"],
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "waiver \"prod-exception\" expired after 2020-01-01: the drift of \
             password-policy.default[prod-app] is planned again"
        ),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(
            "password-policy.default[staging-app]: waived by \"staging-legacy\"; \
             differs from the baseline in"
        ),
        "{}",
        plan.stdout
    );
    let json = baseline(&emulator, &["plan", root, "--format", "json"]).expect(0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        doc["waived"][0]["address"],
        "password-policy.default[staging-app]"
    );
    assert_eq!(doc["waived"][0]["waiver"], "staging-legacy");
    assert_eq!(doc["expired_waivers"][0]["name"], "prod-exception");

    // Apply changes only what is not waived.
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    let after = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);
    assert!(
        after.stdout.contains("1 of them by waiver"),
        "{}",
        after.stdout
    );
    let staging =
        aws_sdk_iam::Client::new(&sdk_config(&emulator, Some(&accounts["staging-app"])).await);
    let policy = staging.get_account_password_policy().send().await;
    assert!(
        policy.is_err(),
        "the waived account was changed: {policy:?}"
    );

    // The controls report lists both, with owner, ticket and expiry.
    let report = baseline(
        &emulator,
        &["report", root, "--framework", "soc2", "--format", "json"],
    )
    .expect(0);
    let doc: serde_json::Value = serde_json::from_str(&report.stdout).unwrap();
    let exceptions = doc["exceptions"].as_array().unwrap();
    let by_name = |n: &str| {
        exceptions
            .iter()
            .find(|e| e["waiver"] == n)
            .unwrap()
            .clone()
    };
    let staging_waiver = by_name("staging-legacy");
    assert_eq!(staging_waiver["ticket"], "SEC-123");
    assert_eq!(staging_waiver["expired"], false);
    assert_eq!(
        staging_waiver["waived"],
        serde_json::json!(["password-policy.default[staging-app]"])
    );
    assert_eq!(by_name("prod-exception")["expired"], true);
    let html = baseline(
        &emulator,
        &["report", root, "--framework", "soc2", "--format", "html"],
    )
    .expect(0);
    assert!(
        html.stdout.contains("<table id=\"exceptions\">")
            && html.stdout.contains("<td>platform-team (SEC-123)</td>"),
        "{}",
        html.stdout
    );
    let markdown = baseline(&emulator, &["report", root, "--framework", "soc2"]).expect(0);
    assert!(
        markdown.stdout.contains("## Exceptions (waivers)")
            && markdown.stdout.contains("| staging-legacy |"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn validate_refuses_bad_waivers_and_warns_about_one_that_covers_nothing() {
    let bad = baseline_dir(
        "password-policy {\n    targets { all-accounts }\n    min-length 14\n}\nwaiver \"w\" {\n    address \"password-policy.default\"\n    control \"SOC2:CC99.9\"\n    owner \"me\"\n    reason \"r\"\n    expires \"31/03/2027\"\n}\n",
        &[],
    );
    let (code, stderr) = validate(bad.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("baseline.kdl:7:13"), "{stderr}");
    assert!(stderr.contains("baseline::unknown-control"), "{stderr}");
    assert!(stderr.contains("baseline.kdl:10:13"), "{stderr}");
    assert!(stderr.contains("\"31/03/2027\" is not a date"), "{stderr}");

    let unmatched = baseline_dir(
        "password-policy {\n    targets { all-accounts }\n    min-length 14\n}\nwaiver \"typo\" {\n    address \"pasword-policy.default[*]\"\n    owner \"me\"\n    reason \"r\"\n    expires \"2027-03-31\"\n}\n",
        &[],
    );
    let (code, stderr) = validate(unmatched.path());
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "waiver \"typo\" covers no declaration: no address of this baseline \
             matches \"pasword-policy.default[*]\""
        ),
        "{stderr}"
    );
}
