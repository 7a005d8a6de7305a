//! `baseline evidence`: the package an auditor asks for at the end of a period, written into
//! one folder: the controls reports (HTML, JSON), the change log's entries of the period
//! (Markdown, CSV) with its verification and chain head, the current plan, the waivers, the
//! live configuration behind each control, the change log's anchors and their check (when the
//! baseline anchors it), and a manifest with the SHA-256 of every file.

use std::path::Path;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::changelog::anchor::AnchorsReport;
use crate::changelog::{export, file, verify};
use crate::controls::Framework;
use crate::graph::declarations_by_part;
use crate::lang::model::Baseline;
use crate::plan::Plan;

/// The manifest's file name; every other file of the pack is listed in it.
pub const MANIFEST: &str = "manifest.json";

/// What the pack says of the change log.
#[derive(Debug)]
pub struct LogVerdict {
    pub verified: bool,
    pub summary: String,
}

/// Write the pack for `since`..`until` (RFC 3339 or dates) into `out`, which must not hold
/// anything yet. Returns the change log's verdict: a pack whose log does not verify says so
/// in `change-log-verify.json`, and the command exits 1.
pub fn write_pack(
    out: &Path,
    baseline: &Baseline,
    plan: &Plan,
    log: &Path,
    anchors: Option<Result<AnchorsReport, String>>,
    since: &str,
    until: &str,
) -> Result<LogVerdict, String> {
    let filter = export::Filter {
        since: Some(export::parse_time(since)?),
        until: Some(export::parse_time(until)?),
        account: None,
        address: None,
    };
    if out.exists()
        && std::fs::read_dir(out)
            .map_err(|e| format!("{}: {e}", out.display()))?
            .next()
            .is_some()
    {
        return Err(format!(
            "{} is not empty: an evidence pack is written into a new or empty folder",
            out.display()
        ));
    }
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();

    for framework in [Framework::Soc2, Framework::Iso27001] {
        let report = crate::report::build(framework, baseline, plan, "live AWS");
        let stem = match framework {
            Framework::Soc2 => "controls-soc2",
            Framework::Iso27001 => "controls-iso27001",
        };
        files.push((
            format!("{stem}.html"),
            crate::report::html(&report).into_bytes(),
        ));
        files.push((format!("{stem}.json"), pretty(&report)));
    }
    files.push(("plan.json".into(), pretty(&crate::render::json(plan))));
    files.push(("waivers.json".into(), pretty(&waivers(baseline))));
    files.push((
        "live-configuration.json".into(),
        pretty(&live_configuration(baseline, plan)),
    ));

    let verdict = match file::open_log(log) {
        Err(e) => {
            let why = format!("no change log to verify: {e}");
            files.push((
                "change-log-verify.json".into(),
                pretty(
                    &json!({"log": log.display().to_string(), "verified": false, "problem": why}),
                ),
            ));
            LogVerdict {
                verified: false,
                summary: why,
            }
        }
        Ok(reader) => {
            let report =
                verify::verify_reader(reader).map_err(|e| format!("{}: {e}", log.display()))?;
            let entries = export::entries(file::open_log(log).map_err(|e| e.to_string())?, &filter)
                .map_err(|e| format!("{}: {e}", log.display()))?;
            let name = log.display().to_string();
            files.push((
                "change-log.md".into(),
                export::markdown(&entries, &filter, &[(name.clone(), report.clone())]).into_bytes(),
            ));
            files.push((
                "change-log.csv".into(),
                export::csv(&entries.entries).into_bytes(),
            ));
            let problem = report
                .problem
                .as_ref()
                .map(|p| format!("{}: {}", p.suffix(), p.message));
            let verified = problem.is_none() && report.records > 0;
            files.push((
                "change-log-verify.json".into(),
                pretty(&json!({
                    "log": name,
                    "verified": verified,
                    "records": report.records,
                    "runs": report.runs,
                    "changes": report.changes,
                    "failures": report.failures,
                    "incomplete": report.incomplete.len(),
                    "chain_head": report.head,
                    "problem": problem,
                })),
            ));
            let summary = match &problem {
                Some(p) => format!("the change log does not verify: {name}{p}"),
                None if !verified => format!("the change log {name} holds no record"),
                None => format!(
                    "the change log verifies: {} records, chain head {}",
                    report.records,
                    report.head.clone().unwrap_or_default()
                ),
            };
            LogVerdict { verified, summary }
        }
    };

    // The log's anchors, when the baseline writes them: their check is part of the verdict.
    let verdict = match anchors {
        None => verdict,
        Some(checked) => {
            let (verified, said) = match &checked {
                Ok(report) if report.verified() => {
                    (true, format!("{} anchors verify", report.anchors.len()))
                }
                Ok(_) => (false, "the change log's anchors do not verify".to_string()),
                Err(e) => (
                    false,
                    format!("the change log's anchors cannot be checked: {e}"),
                ),
            };
            let value = match &checked {
                Ok(report) => json!({"verified": verified, "report": report}),
                Err(e) => json!({"verified": false, "problem": e}),
            };
            files.push(("change-log-anchors.json".into(), pretty(&value)));
            LogVerdict {
                verified: verdict.verified && verified,
                summary: format!("{}; {said}", verdict.summary),
            }
        }
    };

    let mut listed = Vec::new();
    for (name, bytes) in &files {
        std::fs::write(out.join(name), bytes).map_err(|e| format!("{name}: {e}"))?;
        listed.push(json!({
            "path": name,
            "bytes": bytes.len(),
            "sha256": hex::encode(Sha256::digest(bytes)),
        }));
    }
    let manifest = json!({
        "generated": crate::changelog::now_rfc3339(),
        "period": {"since": filter.since, "until": filter.until},
        "change_log": {"path": log.display().to_string(), "verified": verdict.verified},
        "files": listed,
    });
    std::fs::write(out.join(MANIFEST), pretty(&manifest))
        .map_err(|e| format!("{MANIFEST}: {e}"))?;
    Ok(verdict)
}

fn pretty(value: &impl serde::Serialize) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(value).expect("evidence serialises");
    text.push(b'\n');
    text
}

/// Every waiver, with whether it has run out today.
fn waivers(baseline: &Baseline) -> Value {
    let today = crate::lang::model::today();
    Value::Array(
        baseline
            .waivers
            .iter()
            .map(|w| {
                json!({
                    "name": w.name.value, "address": w.address.value, "control": w.control,
                    "owner": w.owner, "ticket": w.ticket, "reason": w.reason,
                    "expires": w.expires, "expired": w.expired(&today),
                })
            })
            .collect(),
    )
}

/// Per instance read: its live attributes (as the plan compared them) and the controls its
/// declaration serves: the configuration behind each control, as evidence-collector scripts
/// dump it.
fn live_configuration(baseline: &Baseline, plan: &Plan) -> Value {
    let declaration_of = declarations_by_part(baseline);
    Value::Array(
        plan.items
            .iter()
            .map(|item| {
                let controls = declaration_of
                    .get(&(item.address.kind.clone(), item.address.name.clone()))
                    .map(|&d| crate::report::controls_of(&baseline.declarations[d]))
                    .unwrap_or_default();
                json!({
                    "address": item.address.to_string(),
                    "account_id": item.account_id,
                    "region": item.region,
                    "controls": controls,
                    "live": item.live.as_ref().map(|l| &l.attrs),
                    "matches_baseline": item.action.is_none() && item.waived.is_none(),
                })
            })
            .collect(),
    )
}
