//! `baseline evidence` against the emulator: after an apply, the pack holds the controls
//! reports, the plan, the waivers, the live configuration and the period's change log with
//! its verification; the manifest's SHA-256 of every file is re-checked here independently.
//! A tampered change log is said to be unverifiable in the pack, and the command exits 1.

mod support;

use sha2::{Digest, Sha256};
use support::*;

const BASELINE: &str = r#"
settings { default-regions "us-east-1" }
password-policy {
    targets { account "prod-app" "staging-app" }
    min-length 14
}
waiver "staging-legacy" {
    address "password-policy.default[staging-app]"
    owner "platform-team"
    reason "until the IdP migration"
    expires "2999-12-31"
}
"#;

/// Every file the manifest lists has the hash it says, and nothing else is in the folder.
fn manifest_verifies(dir: &std::path::Path) -> serde_json::Value {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    let listed = manifest["files"].as_array().unwrap();
    for f in listed {
        let bytes = std::fs::read(dir.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(f["bytes"], bytes.len(), "{f}");
        assert_eq!(f["sha256"], hex::encode(Sha256::digest(&bytes)), "{f}");
    }
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "manifest.json")
        .collect();
    on_disk.sort();
    let mut names: Vec<String> = listed
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(on_disk, names);
    manifest
}

#[tokio::test(flavor = "multi_thread")]
async fn the_evidence_pack_holds_what_an_auditor_asks_for_and_its_manifest_verifies() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;
    let dir = baseline_dir(BASELINE, &[]);
    let root = dir.path().to_str().unwrap();
    let log = dir.path().join("changes.jsonl");
    let log = log.to_str().unwrap();
    baseline(
        &emulator,
        &["apply", root, "--auto-approve", "--change-log", log],
    )
    .expect(0);

    let out = tempfile::tempdir().unwrap();
    let pack = out.path().join("q4");
    let pack_str = pack.to_str().unwrap();
    let period = ["--since", "2000-01-01", "--until", "2999-01-01"];
    let mut args = vec!["evidence", root, "--out", pack_str, "--change-log", log];
    args.extend(period);
    let run = baseline(&emulator, &args).expect(0);
    assert!(
        run.stdout.contains("the change log verifies"),
        "{}",
        run.stdout
    );
    let manifest = manifest_verifies(&pack);
    assert_eq!(manifest["change_log"]["verified"], true);
    for expected in [
        "controls-soc2.html",
        "controls-soc2.json",
        "controls-iso27001.html",
        "controls-iso27001.json",
        "plan.json",
        "waivers.json",
        "live-configuration.json",
        "change-log.md",
        "change-log.csv",
        "change-log-verify.json",
    ] {
        assert!(pack.join(expected).is_file(), "{expected}");
    }
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(pack.join(name)).unwrap()).unwrap()
    };
    let verify = read("change-log-verify.json");
    assert_eq!(verify["verified"], true);
    assert_eq!(verify["chain_head"].as_str().unwrap().len(), 64);
    assert_eq!(read("waivers.json")[0]["name"], "staging-legacy");
    let live = read("live-configuration.json");
    let prod = live
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["address"] == "password-policy.default[prod-app]")
        .unwrap();
    assert_eq!(prod["live"]["min-length"], 14);
    assert!(prod["controls"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("SOC2:CC6.1")));
    let changes = std::fs::read_to_string(pack.join("change-log.csv")).unwrap();
    assert!(
        changes.contains("password-policy.default[prod-app]"),
        "{changes}"
    );

    // A second pack into the same folder is refused, and changes nothing there.
    let again = baseline(&emulator, &args).expect(1);
    assert!(again.stderr.contains("is not empty"), "{}", again.stderr);
    manifest_verifies(&pack);

    // A log with one record changed: the pack is written, says so, and the command fails.
    let text = std::fs::read_to_string(log).unwrap();
    std::fs::write(log, text.replacen("\"create\"", "\"update\"", 1)).unwrap();
    let tampered = out.path().join("tampered");
    let mut args = vec![
        "evidence",
        root,
        "--out",
        tampered.to_str().unwrap(),
        "--change-log",
        log,
    ];
    args.extend(period);
    let run = baseline(&emulator, &args).expect(1);
    assert!(
        run.stderr.contains("the change log does not verify"),
        "{}",
        run.stderr
    );
    let manifest = manifest_verifies(&tampered);
    assert_eq!(manifest["change_log"]["verified"], false);
}
