//! `baseline report` against the emulator: after applying the sample organization, its
//! SOC 2 controls hold (MFA findings aside); drift made out of band turns exactly the
//! controls that the drifted resource serves into "drifted".

mod support;

use serde_json::Value;
use support::*;

fn statuses(run: &Run) -> Vec<(String, String)> {
    let report: Value = serde_json::from_str(&run.stdout).expect("report JSON");
    report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn with_status(all: &[(String, String)], status: &str) -> Vec<String> {
    all.iter()
        .filter(|(_, s)| s == status)
        .map(|(id, _)| id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn report_shows_holding_controls_then_exactly_the_drifted_ones() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let root = repo_root().join("examples/sample-org");
    let root = root.to_str().unwrap();
    let evidence = tempfile::tempdir().unwrap();
    let log = evidence.path().join("log.jsonl");
    baseline(
        &emulator,
        &[
            "apply",
            root,
            "--auto-approve",
            "--change-log",
            log.to_str().unwrap(),
        ],
    )
    .expect(0);

    let soc2 = baseline(
        &emulator,
        &["report", root, "--framework", "soc2", "--format", "json"],
    )
    .expect(0);
    let all = statuses(&soc2);
    assert_eq!(all.len(), 61, "every criterion is listed");
    assert!(with_status(&all, "drifted").is_empty(), "{}", soc2.stdout);
    for held in ["CC7.2", "CC7.3", "CC8.1", "A1.2", "CC6.6"] {
        assert!(
            with_status(&all, "holds").contains(&held.to_string()),
            "{held}"
        );
    }
    // Root MFA is a finding the emulator always reports (no API sets it).
    assert_eq!(with_status(&all, "finding"), ["CC6.1"]);
    // Met by the organization, as the statement of applicability justifies it.
    assert_eq!(with_status(&all, "justified"), ["CC1.1"]);
    assert!(
        soc2.stderr
            .contains("SOC 2: 13 of 61 criteria covered, 12 hold, 0 drifted, 1 with findings, 1 met outside baseline"),
        "{}",
        soc2.stderr
    );
    let iso = baseline(
        &emulator,
        &[
            "report",
            root,
            "--framework",
            "iso27001",
            "--format",
            "json",
        ],
    )
    .expect(0);
    assert_eq!(statuses(&iso).len(), 93);
    // The statement of applicability: every control, applicable or not, with a justification.
    let soa: Value = serde_json::from_str(&iso.stdout).unwrap();
    let control = |id: &str| {
        soa["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(control("A.7.1")["applicable"], false);
    assert_eq!(control("A.7.1")["status"], "not-applicable");
    assert!(control("A.7.1")["justification"]
        .as_str()
        .unwrap()
        .contains("AWS's"));
    assert_eq!(control("A.5.1")["applicable"], true);
    assert!(control("A.5.1")["justification"]
        .as_str()
        .unwrap()
        .contains("ISMS-POL-001"));
    assert!(control("A.8.15")["justification"]
        .as_str()
        .unwrap()
        .starts_with("Implemented and enforced by baseline: "));
    assert!(iso.stderr.contains("2 not applicable"), "{}", iso.stderr);
    let md = baseline(&emulator, &["report", root, "--framework", "iso27001"]).expect(0);
    assert!(md.stdout.contains("## Statement of Applicability (draft)"));

    // Out of band: the organization trail stops logging.
    let config = sdk_config(&emulator, None).await;
    aws_sdk_cloudtrail::Client::new(&config)
        .stop_logging()
        .name("org-trail")
        .send()
        .await
        .unwrap();
    let soc2 = baseline(
        &emulator,
        &["report", root, "--framework", "soc2", "--format", "json"],
    )
    .expect(0);
    assert_eq!(
        with_status(&statuses(&soc2), "drifted"),
        ["CC7.2", "CC7.3"],
        "{}",
        soc2.stdout
    );
    let iso = baseline(
        &emulator,
        &[
            "report",
            root,
            "--framework",
            "iso27001",
            "--format",
            "json",
        ],
    )
    .expect(0);
    assert_eq!(
        with_status(&statuses(&iso), "drifted"),
        ["A.8.15", "A.8.16"],
        "{}",
        iso.stdout
    );
    // The same from a saved plan, without reading AWS again.
    let saved = evidence.path().join("plan.json");
    baseline(&emulator, &["plan", root, "--out", saved.to_str().unwrap()]).expect(0);
    let from_plan = baseline(
        &emulator,
        &[
            "report",
            "--plan",
            saved.to_str().unwrap(),
            "--framework",
            "soc2",
            "--format",
            "json",
        ],
    )
    .expect(0);
    assert_eq!(
        with_status(&statuses(&from_plan), "drifted"),
        ["CC7.2", "CC7.3"]
    );
    assert!(
        from_plan.stdout.contains("the saved plan"),
        "{}",
        from_plan.stdout
    );
    let md = baseline(&emulator, &["report", root, "--framework", "soc2"]).expect(0);
    assert!(
        md.stdout
            .contains("organization-trail.org-trail[master/us-east-1] (update in place)"),
        "{}",
        md.stdout
    );
    let html = baseline(
        &emulator,
        &["report", root, "--framework", "soc2", "--format", "html"],
    )
    .expect(0);
    assert!(html.stdout.starts_with("<!doctype html>"));
    assert!(
        !html.stdout.contains("http"),
        "self-contained: no external assets"
    );
}
