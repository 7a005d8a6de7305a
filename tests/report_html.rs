//! The HTML controls report renders in headless Chromium (Debian's `chromium`): the page's
//! DOM, as the browser built it, opens with the summary (status counts, one coverage bar per
//! category, the drift heat map of a multi-account plan), has its findings and waivers
//! sections and the table with every criterion; screenshots of it are real, non-blank images.

use std::path::Path;
use std::process::Command;

use baseline::controls::Framework;
use baseline::expand::Address;
use baseline::plan::{Plan, Planned};
use baseline::provider::{Action, AttrDiff, Attrs, Finding};
use baseline::report::Status;
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium(args: &[&str], profile: &Path) -> std::process::Output {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install Debian's chromium (scripts/test does, as root)"
    );
    Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run chromium")
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let baseline = baseline::lang::load(Path::new("examples/sample-org/baseline.kdl"))
        .unwrap_or_else(|_| panic!("the sample organization loads"));
    let trail = Planned {
        address: Address {
            kind: "organization-trail".into(),
            name: "org-trail".into(),
            account: Some("management".into()),
            region: Some("us-east-1".into()),
        },
        account_id: "111111111111".into(),
        region: "us-east-1".into(),
        action: Some(Action::Update),
        diffs: vec![AttrDiff {
            name: "logging".into(),
            before: json!(false),
            after: json!(true),
        }],
        desired: Attrs::new(),
        live: None,
        findings: vec![],
        owner: None,
        waived: None,
        observed: false,
        instance: 0,
        ordinal: 0,
    };
    let plan = Plan {
        items: vec![trail],
        ..Plan::default()
    };
    let report =
        baseline::report::build(Framework::Soc2, &baseline, &plan, "a plan given as values");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("soc2.html");
    std::fs::write(&page, baseline::report::html(&report)).unwrap();
    let url = format!("file://{}", page.display());

    let dom = chromium(&["--dump-dom", &url], &dir.path().join("profile-dom"));
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<table id=\"controls\">"), "{dom}");
    assert_eq!(
        dom.matches("<tr><td class=\"id\">").count(),
        61,
        "one row per criterion"
    );
    assert!(dom.contains("SOC 2: 13 of 61 criteria covered"), "{dom}");
    assert!(dom.contains("<span class=\"s drifted\">drifted</span>"));
    // One account: the summary has no heat map, the per-criterion table says it all.
    assert!(dom.contains("<section id=\"summary\">"));
    assert!(!dom.contains("<section id=\"drift\">"), "{dom}");

    let shot = dir.path().join("soc2.png");
    let out = chromium(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
            &url,
        ],
        &dir.path().join("profile-shot"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert_eq!(png_size(&png), (1280, 1600));
    // A blank page compresses to a few KB; a page of table text does not.
    assert!(
        png.len() > 60_000,
        "screenshot of {} bytes looks blank",
        png.len()
    );
    // Keep it for people to look at.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("soc2-report.png");
    std::fs::copy(&shot, &keep).unwrap();
}

/// An instance of the sample organization as the plan would have it, matching its declaration.
fn planned(kind: &str, account: Option<(&str, &str)>) -> Planned {
    Planned {
        address: Address {
            kind: kind.into(),
            name: match kind {
                "service-control-policy" => "deny-leave-organization".into(),
                _ => "default".into(),
            },
            account: account.map(|(name, _)| name.to_string()),
            region: None,
        },
        account_id: account.map_or("111111111111", |(_, id)| id).into(),
        region: "us-east-1".into(),
        action: None,
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

/// The `<tr>`s of the table with this id, each as its `<th>` text and its cells' (class,
/// title, text), as Chromium serialised them.
type Row = (String, Vec<(String, String, String)>);
fn table_rows(dom: &str, id: &str) -> Vec<Row> {
    let start = dom
        .find(&format!("<table id=\"{id}\""))
        .unwrap_or_else(|| panic!("no table {id}"));
    let table = &dom[start..start + dom[start..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    let text = |html: &str| {
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    };
    let attr = |tag: &str, name: &str| {
        tag.split_once(&format!(" {name}=\""))
            .map(|(_, rest)| rest[..rest.find('"').unwrap()].to_string())
            .unwrap_or_default()
    };
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").unwrap()];
            let head = row
                .split_once("<th")
                .map(|(_, th)| text(&format!("<th{}", &th[..th.find("</th>").unwrap()])))
                .unwrap_or_default();
            let cells = row
                .split("<td")
                .skip(1)
                .map(|td| {
                    let tag = &td[..td.find('>').unwrap()];
                    let inner = &td[td.find('>').unwrap() + 1..td.find("</td>").unwrap()];
                    (attr(tag, "class"), attr(tag, "title"), text(inner))
                })
                .collect();
            (head, cells)
        })
        .collect()
}

#[test]
fn html_summary_shows_counts_bars_the_drift_heat_map_findings_and_waivers() {
    // The sample organization, with one waiver.
    let path = Path::new("examples/sample-org/baseline.kdl");
    let text = std::fs::read_to_string(path).unwrap()
        + r#"
waiver "staging-password-policy" {
    address "password-policy.default[staging-app]"
    owner "platform-team"
    ticket "SEC-123"
    reason "the staging IdP enforces its own policy until the migration"
    expires "2999-12-31"
}
"#;
    let baseline = baseline::lang::load_source(path, text)
        .unwrap_or_else(|_| panic!("the sample organization with a waiver loads"));
    let management = Some(("management", "111111111111"));
    let prod = Some(("prod-app", "222222222222"));
    let staging = Some(("staging-app", "333333333333"));
    // prod-app's Block Public Access drifted; staging-app has two findings and waived drift.
    let mut items = vec![planned("service-control-policy", None)];
    for account in [management, prod, staging] {
        items.push(planned("account-public-access-block", account));
        items.push(planned("mfa", account));
    }
    items[3].action = Some(Action::Update);
    items[3].diffs = vec![AttrDiff {
        name: "block-public-acls".into(),
        before: json!(false),
        after: json!(true),
    }];
    items[6].findings = vec![Finding {
        message: r#"console user "alice" has no MFA device"#.into(),
    }];
    let mut hygiene = planned("credential-hygiene", staging);
    hygiene.findings = vec![Finding {
        message: r#"user "bob" has an access key unused for 120 days"#.into(),
    }];
    let mut waived = planned("password-policy", staging);
    waived.waived = Some("staging-password-policy".into());
    items.extend([hygiene, waived]);
    let plan = Plan {
        items,
        ..Plan::default()
    };
    let report =
        baseline::report::build(Framework::Soc2, &baseline, &plan, "a plan given as values");
    // What the page must show, as the report itself counts it.
    let counts: Vec<(Status, usize)> = Status::ALL.iter().map(|&s| (s, report.count(s))).collect();
    assert_eq!(
        counts,
        [
            (Status::Holds, 10),
            (Status::Justified, 1),
            (Status::Finding, 1),
            (Status::Drifted, 2),
            (Status::NotCovered, 47),
            (Status::NotApplicable, 0),
        ]
    );

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("soc2-summary.html");
    let html = baseline::report::html(&report);
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "self-contained"
    );
    std::fs::write(&page, &html).unwrap();
    let url = format!("file://{}", page.display());
    let dom = chromium(&["--dump-dom", &url], &dir.path().join("profile-dom"));
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);

    // The summary first, then drift, findings, waivers and the per-criterion table.
    let at = |id: &str| {
        dom.find(&format!("<section id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no section {id}"))
    };
    let order = ["summary", "drift", "findings", "waivers", "control-status"].map(at);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    for link in ["#findings", "#waivers", "#drift", "#control-status"] {
        assert!(dom.contains(&format!("<a href=\"{link}\">")), "{link}");
    }

    // Status counts: one figure per status, equal to the report's.
    for (status, n) in &counts {
        let class = status.label().replace(' ', "-");
        assert!(
            dom.contains(&format!(
                "<dt>{}</dt><dd id=\"count-{class}\">{n}</dd>",
                status.label()
            )),
            "{status:?}: {n}"
        );
    }
    assert!(dom.contains("<dd id=\"count-findings\">2</dd>"));
    assert!(dom.contains("<dd id=\"count-waivers\">1</dd>"));
    assert!(dom.contains("<dd id=\"count-drifted-instances\">3</dd>"));

    // One bar per category, its numbers as text, as the report's controls add up.
    let categories = table_rows(&dom, "categories");
    assert_eq!(dom.matches("<div class=\"bar\"").count(), 13);
    let heads: Vec<&str> = categories.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        heads,
        [
            "CC1 Control Environment",
            "CC2 Communication and Information",
            "CC3 Risk Assessment",
            "CC4 Monitoring Activities",
            "CC5 Control Activities",
            "CC6 Logical and Physical Access Controls",
            "CC7 System Operations",
            "CC8 Change Management",
            "CC9 Risk Mitigation",
            "A1 Availability",
            "C1 Confidentiality",
            "PI1 Processing Integrity",
            "P Privacy",
        ]
    );
    let row = |head: &str| {
        let (_, cells) = categories
            .iter()
            .find(|(h, _)| h.starts_with(head))
            .unwrap();
        (cells[0].2.clone(), cells[2].2.clone())
    };
    assert_eq!(
        row("CC1 "),
        ("5".into(), "1 met outside baseline, 4 not covered".into())
    );
    assert_eq!(row("P "), ("18".into(), "18 not covered".into()));
    let cc6: Vec<Status> = report
        .controls
        .iter()
        .filter(|c| c.id.starts_with("CC6."))
        .map(|c| c.status)
        .collect();
    let expected: Vec<String> = Status::ALL
        .iter()
        .map(|&s| (s, cc6.iter().filter(|&&c| c == s).count()))
        .filter(|&(_, n)| n > 0)
        .map(|(s, n)| format!("{n} {}", s.label()))
        .collect();
    assert_eq!(row("CC6 "), ("8".into(), expected.join(", ")));
    assert_eq!(
        row("CC6 ").1,
        "2 holds, 1 finding, 2 drifted, 3 not covered",
        "CC6.1 and CC6.6 drift (prod-app), CC6.2 has a finding (staging-app)"
    );

    // The heat map: the organization's row, then one per account; the drifted cell is
    // prod-app x CC6.6 (its Block Public Access), findings count in staging-app.
    let heat = table_rows(&dom, "drift-heat-map");
    let accounts: Vec<&str> = heat.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(
        accounts,
        [
            "organization111111111111",
            "management111111111111",
            "prod-app222222222222",
            "staging-app333333333333"
        ]
    );
    let start = dom.find("<table id=\"drift-heat-map\"").unwrap();
    let head = &dom[start..start + dom[start..].find("</thead>").unwrap()];
    let columns: Vec<&str> = head
        .split("<th scope=\"col\"")
        .skip(2)
        .map(|th| &th[th.find('>').unwrap() + 1..th.find("</th>").unwrap()])
        .collect();
    assert_eq!(columns, ["CC6.1", "CC6.2", "CC6.6"]);
    let cell = |account: usize, control: &str| {
        let col = columns.iter().position(|c| *c == control).unwrap();
        heat[account].1[col].clone()
    };
    let (class, title, text) = cell(2, "CC6.6");
    assert_eq!((class.as_str(), text.as_str()), ("heat h1", "1"));
    assert_eq!(
        title,
        "prod-app (222222222222), CC6.6: 1 of 1 instance drifted: \
         account-public-access-block.default[prod-app] (update in place)"
    );
    assert_eq!(
        cell(2, "CC6.1").2,
        "1",
        "prod-app: Block Public Access, not MFA"
    );
    assert_eq!(cell(3, "CC6.1").2, "2", "staging-app: the two findings");
    assert_eq!(cell(3, "CC6.1").0, "heat h2");
    assert_eq!(
        cell(3, "CC6.6"),
        (
            "heat h0".into(),
            "staging-app (333333333333), CC6.6: 0 of 1 instance drifted".into(),
            "0".into()
        )
    );
    assert_eq!(
        cell(1, "CC6.2").2,
        "–",
        "nothing serves CC6.2 in the management account"
    );
    for control in ["CC6.1", "CC6.6"] {
        assert_eq!(cell(0, control).2, "0", "the SCP holds");
        assert_eq!(cell(1, control).2, "0", "the management account holds");
    }

    // Findings and waivers, each in its own section.
    let findings = table_rows(&dom, "findings-list");
    let listed: Vec<(String, String)> = findings
        .iter()
        .map(|(_, cells)| (cells[0].2.clone(), cells[3].2.clone()))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "mfa.default[staging-app]".to_string(),
                r#"console user "alice" has no MFA device"#.to_string()
            ),
            (
                "credential-hygiene.default[staging-app]".to_string(),
                r#"user "bob" has an access key unused for 120 days"#.to_string()
            ),
        ]
    );
    let waivers = table_rows(&dom, "exceptions");
    assert_eq!(waivers.len(), 1);
    let waiver: Vec<&str> = waivers[0].1.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(waiver[0], "staging-password-policy");
    assert_eq!(waiver[3], "platform-team (SEC-123)");
    assert_eq!(waiver[4], "2999-12-31");
    assert!(
        waiver[5].ends_with("waives password-policy.default[staging-app]"),
        "{}",
        waiver[5]
    );
    assert_eq!(dom.matches("<tr><td class=\"id\">").count(), 61);

    // A page tall enough for the whole summary, kept for people to look at.
    let shot = dir.path().join("soc2-summary.png");
    let out = chromium(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
            &url,
        ],
        &dir.path().join("profile-shot"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("a screenshot");
    assert_eq!(png_size(&png), (1280, 2000));
    assert!(
        png.len() > 60_000,
        "screenshot of {} bytes looks blank",
        png.len()
    );
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("soc2-report-summary.png");
    std::fs::copy(&shot, &keep).unwrap();
}
