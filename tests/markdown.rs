//! The Markdown plan (for pull-request comments): summary first, then the changes rolled up
//! (target sets named as the baseline names them), then drift grouped by account and
//! folded, cut to fit one GitHub comment. A snapshot of a plan given as values, and a plan of
//! 1,000 accounts.

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

/// An organization of 1,000 accounts in three OUs, two regions: a change everywhere, a change
/// in one OU whose value names each account's own id, a different value in each account of
/// a third resource, and a finding everywhere.
fn large_plan() -> Plan {
    let mut items = Vec::new();
    let mut outline = baseline::rollup::Outline::default();
    for n in 0..1_000 {
        let name = format!("acct-{n:04}");
        let id = format!("{:012}", 100_000_000_000u64 + n);
        let ou = match n {
            0..412 => "Workloads/Production",
            412..500 => "Workloads/Staging",
            _ => "Sandbox",
        };
        outline.accounts.insert(name.clone(), ou.into());
        for region in ["us-east-1", "eu-west-1"] {
            let at = |kind: &str, action| {
                let mut i = item(kind, "default", Some(&name), action);
                i.address.region = Some(region.into());
                i.account_id = id.clone();
                i
            };
            let mut pw = at("password-policy", Some(Action::Update));
            pw.diffs = vec![diff("min-length", json!(8), json!(14))];
            items.push(pw);
            if ou == "Workloads/Production" {
                let mut role = at("support-role", Some(Action::Update));
                role.diffs = vec![diff(
                    "trust",
                    json!(null),
                    json!(format!("arn:aws:iam::{id}:root")),
                )];
                items.push(role);
            }
            let mut tag = at("backup-vault", Some(Action::Update));
            tag.diffs = vec![diff(
                "name",
                json!(null),
                json!(format!("vault-{n}-{region}")),
            )];
            items.push(tag);
            let mut mfa = at("mfa", None);
            mfa.findings = vec![Finding {
                message: "root user has no MFA device".into(),
            }];
            items.push(mfa);
        }
    }
    Plan {
        items,
        outline,
        ..Plan::default()
    }
}

#[test]
fn a_large_plan_rolls_up_by_target_set_and_fits_one_comment() {
    let plan = large_plan();
    let md = baseline::render::markdown(&plan);
    let chars = md.chars().count();
    assert!(chars <= 65_536, "{chars} characters");
    // Cut, saying so, with every folded section closed.
    assert!(md.contains("**The plan is cut here** to fit one comment (65,536 characters)"));
    assert!(md.contains("`baseline show FILE`"));
    assert_eq!(
        md.matches("<details>").count(),
        md.matches("</details>").count()
    );
    // The roll-ups come first and name their target sets.
    assert!(
        md.contains(
            "- `~ password-policy.default` (update in place) on all 1,000 accounts x 2 regions\n"
        ),
        "{}",
        &md[..2000]
    );
    assert!(md.contains(
        "- `~ support-role.default` (update in place) on OU Workloads/Production: 412 accounts \
         x 2 regions; <account-id> is each instance's own account id\n"
    ), "{}", &md[..3000]);
    // A set that is no whole OU is counted, with a few of its instances named.
    let mut some = plan.clone();
    some.items.retain(|i| i.address.kind == "password-policy");
    some.items.truncate(37);
    let counted = baseline::render::markdown(&some);
    assert!(
        counted.contains(
            "(update in place) on 37 instances in 19 accounts and 2 regions: acct-0000/us-east-1, "
        ),
        "{counted}"
    );
    assert!(
        counted.contains(", and 29 more (`--format json` lists every one)"),
        "{counted}"
    );
    assert!(md.contains("  - `trust`: `(none)` → `\"arn:aws:iam::<account-id>:root\"`\n"));
    assert!(md.contains(
        "- `! mfa.default` on all 1,000 accounts x 2 regions finding: root user has no MFA device"
    ));
    // Values that differ per account do not roll up, and are counted, not listed in one line.
    assert!(!md.contains("- `~ backup-vault.default` (update in place) on"));

    // The terminal plan rolls up the same way: one entry, its target set named.
    let human = baseline::render::human(&plan, baseline::render::Style { color: false });
    assert!(human.contains(
        "  ~ password-policy.default -> 2,000 instances  (update in place)\n      on all 1,000 accounts x 2 regions\n"
    ));
    assert!(human.contains("support-role.default -> 824 instances"));
}

#[test]
fn a_small_plan_is_not_cut() {
    let mut plan = large_plan();
    plan.items.truncate(40);
    let md = baseline::render::markdown(&plan);
    assert!(!md.contains("cut here"), "{md}");
    assert!(md.contains("<details><summary>acct-0000: "), "{md}");
}
