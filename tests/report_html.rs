//! The HTML controls report renders in headless Chromium (Debian's `chromium`): the page's
//! DOM, as the browser built it, holds the table with every criterion, and a screenshot of
//! it is a real, non-blank image.

use std::path::Path;
use std::process::Command;

use baseline::controls::Framework;
use baseline::expand::Address;
use baseline::plan::{Plan, Planned};
use baseline::provider::{Action, AttrDiff, Attrs};
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
        instance: 0,
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
