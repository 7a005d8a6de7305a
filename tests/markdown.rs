//! The Markdown plan (for pull-request comments): summary first, drift grouped by account
//! and folded. A snapshot of a plan given as values.

use baseline::expand::Address;
use baseline::plan::{Plan, Planned};
use baseline::provider::{Action, AttrDiff, Attrs, Finding};
use serde_json::{json, Value};

fn item(kind: &str, name: &str, account: Option<&str>, action: Option<Action>) -> Planned {
    Planned {
        address: Address {
            kind: kind.into(),
            name: name.into(),
            account: account.map(str::to_string),
            region: account.map(|_| "us-east-1".to_string()),
        },
        account_id: "123456789012".into(),
        region: "us-east-1".into(),
        action,
        diffs: vec![],
        desired: Attrs::new(),
        live: None,
        findings: vec![],
        owner: None,
        waived: None,
        observed: false,
        instance: 0,
        ordinal: 0,
    }
}

fn diff(name: &str, before: Value, after: Value) -> AttrDiff {
    AttrDiff {
        name: name.into(),
        before,
        after,
    }
}

#[test]
fn markdown_plan_snapshot() {
    let mut scp = item(
        "service-control-policy",
        "deny-root",
        None,
        Some(Action::Adopt),
    );
    scp.diffs = vec![diff("targets", json!([]), json!(["root"]))];
    let mut pw = item(
        "password-policy",
        "default",
        Some("prod-app"),
        Some(Action::Update),
    );
    pw.diffs = vec![diff("min-length", json!(8), json!(14))];
    let mut hub = item(
        "security-hub",
        "default",
        Some("audit"),
        Some(Action::Create),
    );
    hub.diffs = vec![diff(
        "standards",
        Value::Null,
        json!(["aws-foundational-security-best-practices/1.0.0"]),
    )];
    let mut mfa = item("mfa", "default", Some("audit"), None);
    mfa.findings = vec![Finding {
        message: "root user has no MFA device".into(),
    }];
    let unchanged = item("kms-key", "org-logs", Some("log-archive"), None);
    let plan = Plan {
        items: vec![scp, pw, hub, mfa, unchanged],
        ..Plan::default()
    };
    insta::assert_snapshot!(baseline::render::markdown(&plan));
}
