//! The properties baseline's untrusted-input paths must keep, whatever bytes they are given.
//! Shared by the coverage-guided fuzz targets (`fuzz/fuzz_targets/`, run by `scripts/fuzz`)
//! and by `tests/fuzz_corpus.rs`, which runs them in `cargo test` over the corpus in
//! `fuzz/corpus/` and a bounded number of mutations of it. Each function panics when its
//! property does not hold; a panic of the code under test is a finding too.

#![allow(dead_code)] // each fuzz target uses one property

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use baseline::lang::diagnostic::{render, Style};
use baseline::lang::policy::{canonical, is_baseline_sid, merge_owned, owned_statements};
use baseline::lang::LoadError;
use serde_json::Value;

/// A folder to write inputs into, one per process.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("scratch folder"))
        .path()
}

fn scratch_file(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, data).expect("write input");
    path
}

/// What validate says of a text: `Ok(declarations)` or `Err(problem codes)`.
pub fn verdict(text: &str) -> Result<usize, Vec<&'static str>> {
    let root = scratch().join("baseline.kdl");
    match baseline::lang::load_source(&root, text.to_string()) {
        Ok(b) => Ok(b.declarations.len()),
        Err(LoadError::Invalid(invalid)) => {
            // Rendering must not panic either (long lines, many problems, odd spans).
            let _ = render(&invalid.problems, &invalid.sources, Style::Plain);
            let mut codes: Vec<&'static str> = invalid.problems.iter().map(|p| p.code).collect();
            codes.sort_unstable();
            Err(codes)
        }
        Err(LoadError::Unreadable(_)) => Err(vec!["unreadable"]),
    }
}

/// The KDL loader: any text is loaded or refused with problems, and the problems render;
/// a baseline that loads builds its graph and expands against an organization.
pub fn kdl_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let root = scratch().join("baseline.kdl");
    if let Ok(b) = baseline::lang::load_source(&root, text.to_string()) {
        let graph = baseline::graph::ResourceGraph::build(&b);
        let _ = graph.cycles();
        let _ = baseline::expand::expand(&b, &organization());
    } else {
        let _ = verdict(text);
    }
}

/// A small organization to expand against.
fn organization() -> baseline::org::OrgStructure {
    serde_json::from_value(serde_json::json!({
        "management_account_id": "111111111111",
        "ous": ["Security", "Workloads", "Workloads/Production"],
        "accounts": [
            {"id": "111111111111", "name": "management", "ou": "/"},
            {"id": "222222222222", "name": "log-archive", "ou": "Security"},
            {"id": "333333333333", "name": "prod-app", "ou": "Workloads/Production"}
        ]
    }))
    .expect("organization")
}

/// `baseline fmt`: it formats or refuses; what it formats, a second pass leaves alone, and
/// validate says the same of it as of the original (fmt never changes meaning); what it
/// refuses, it refuses with a line and a cause.
pub fn fmt(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(formatted) = baseline::lang::fmt::format_kdl(text) else {
        return;
    };
    let again = baseline::lang::fmt::format_kdl(&formatted).unwrap_or_else(|e| {
        panic!("fmt accepted its own output's input but refuses the output: {e:?}")
    });
    assert_eq!(again, formatted, "fmt is not idempotent");
    assert_eq!(
        verdict(&formatted),
        verdict(text),
        "fmt changed what validate says"
    );
}

/// The policy canonicaliser and the statement merge: canonical forms are fixed points, and
/// merging baseline's statements into a document keeps exactly them and everything else.
pub fn policy(data: &[u8]) {
    let Ok(doc) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let once = canonical(&doc);
    assert_eq!(
        canonical(&once),
        once,
        "the canonical form is not a fixed point"
    );
    let _ = baseline::kinds::service_control_policy::canonical_document(&doc);
    let owned = owned_statements(&doc, is_baseline_sid);
    let merged = merge_owned(Some(&doc), is_baseline_sid, &owned);
    assert_eq!(
        owned_statements(&merged, is_baseline_sid),
        owned,
        "merging lost or changed baseline's statements"
    );
    let others = |d: &Value| -> Vec<Value> {
        let all = match d.get("Statement") {
            Some(Value::Array(a)) => a.clone(),
            Some(one) => vec![one.clone()],
            None => Vec::new(),
        };
        all.into_iter()
            .filter(|s| {
                !s.get("Sid")
                    .and_then(Value::as_str)
                    .is_some_and(is_baseline_sid)
            })
            .collect()
    };
    assert_eq!(
        others(&merged),
        others(&doc),
        "merging changed others' statements"
    );
}

/// A known-good change log (from the corpus), for the tamper property.
const GOOD_LOG: &str = include_str!("corpus/log_verify/good.jsonl");

/// `log verify`: any bytes are verified or refused without a panic, and any change of one
/// byte of a good log fails verify. The input is read as edits of the good log: each three
/// bytes are (position high, position low, new byte).
pub fn log_verify(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = baseline::changelog::verify::verify_text(text);
    }
    assert!(
        baseline::changelog::verify::verify_text(GOOD_LOG)
            .problem
            .is_none(),
        "the corpus log does not verify"
    );
    let mut edited = GOOD_LOG.as_bytes().to_vec();
    for edit in data.chunks_exact(3) {
        let at = usize::from(u16::from_be_bytes([edit[0], edit[1]])) % edited.len();
        edited[at] = edit[2];
    }
    if edited == GOOD_LOG.as_bytes() {
        return;
    }
    let Ok(text) = std::str::from_utf8(&edited) else {
        return;
    };
    let report = baseline::changelog::verify::verify_text(text);
    assert!(
        report.problem.is_some(),
        "a changed log verifies: {:?}",
        report.head
    );
}

/// `show` and `apply FILE`: any file is read as a saved plan or refused, both readers agree
/// on which, and what is read renders in every format.
pub fn saved_plan(data: &[u8]) {
    let path = scratch_file("plan.json", data);
    let shown = baseline::saved::read_for_show(&path);
    let applied = baseline::saved::SavedPlan::read(&path);
    assert_eq!(
        shown.as_ref().map(Option::is_some).ok(),
        applied.as_ref().map(Option::is_some).ok(),
        "show and apply disagree on whether this is a saved plan"
    );
    if let Ok(Some(baseline::saved::PlanFile { plan, .. })) = shown {
        let style = baseline::render::Style { color: false };
        let _ = baseline::render::human(&plan, style);
        let _ = baseline::render::markdown(&plan);
        let _ = serde_json::to_string(&baseline::render::json(&plan));
    }
    if let Ok(Some(saved)) = applied {
        let _ = saved.plan();
    }
}
