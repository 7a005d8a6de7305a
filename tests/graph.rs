//! `baseline graph` on the sample organization: the order, the edges, and the instances a
//! given organization structure expands into.

use assert_cmd::Command;

fn graph(args: &[&str]) -> String {
    let out = Command::cargo_bin("baseline")
        .unwrap()
        .arg("graph")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn position(listing: &str, address: &str) -> usize {
    listing
        .lines()
        .position(|l| l.split_whitespace().nth(1) == Some(address))
        .unwrap_or_else(|| panic!("{address} not listed\n{listing}"))
}

#[test]
fn text_listing_is_topological() {
    let text = graph(&["examples/sample-org"]);
    let before = |a: &str, b: &str| {
        assert!(
            position(&text, a) < position(&text, b),
            "{a} must come before {b}\n{text}"
        );
    };
    before("organization.default", "organizational-unit.Workloads");
    before(
        "organizational-unit.Workloads",
        "organizational-unit.Workloads/Production",
    );
    before(
        "organizational-unit.Workloads/Production",
        "account.prod-app",
    );
    before(
        "organizational-unit.Workloads/Production",
        "service-control-policy.deny-root-user",
    );
    before("kms-key.org-logs", "log-bucket.org-trail-logs");
    before("log-bucket.org-trail-logs", "organization-trail.org-trail");
    before("config-recorder.default", "config-delivery-channel.default");
    before(
        "config-delivery-channel.default",
        "config-recording.default",
    );
    before(
        "log-bucket.org-config-logs",
        "config-delivery-channel.default",
    );
    before("backup-vault.central", "backup-plan.daily");
    before("backup-plan.daily", "backup-selection.daily/tagged-daily");
    insta::assert_snapshot!("sample_org_text", text);
}

#[test]
fn dot_output() {
    let dot = graph(&["examples/sample-org/baseline.kdl", "--format", "dot"]);
    assert!(dot.starts_with("digraph baseline {"));
    assert!(
        dot.contains("\"kms-key.org-logs\" -> \"log-bucket.org-trail-logs\";"),
        "{dot}"
    );
    assert!(
        dot.contains(
            "\"organization.default\" -> \"organization-trail.org-trail\" [style=dashed];"
        ),
        "{dot}"
    );
    insta::assert_snapshot!("sample_org_dot", dot);
}

#[test]
fn instances_for_an_organization_structure() {
    let text = graph(&[
        "examples/sample-org",
        "--org",
        "examples/sample-org/organization.json",
    ]);
    // Six accounts, two regions; staging-app sits at the root in the structure but is declared
    // into Workloads/Staging, so the declared placement counts.
    assert_eq!(
        text.matches("       config-recorder.default[").count(),
        12,
        "{text}"
    );
    assert_eq!(
        text.matches("       password-policy.default[").count(),
        6,
        "{text}"
    );
    assert!(
        text.contains("       kms-key.org-logs[log-archive/us-east-1]"),
        "{text}"
    );
    assert!(
        text.contains("       organization-trail.org-trail[management/us-east-1]"),
        "{text}"
    );
    assert!(
        text.contains("       config-rule.cloudtrail-enabled[staging-app/eu-west-1]"),
        "{text}"
    );
    insta::assert_snapshot!("sample_org_instances", text);
}
