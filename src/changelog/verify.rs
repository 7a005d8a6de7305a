//! `baseline log verify`: recompute the hash chain and pair intents with outcomes.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{record_hash, Body, Record};

/// The first thing wrong with a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

/// An intent with no outcome: the run stopped (crashed, was killed) during that change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incomplete {
    pub line: usize,
    pub seq: u64,
    pub run_id: String,
    pub address: String,
    pub action: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Records read before the first problem (all of them when there is none).
    pub records: usize,
    pub runs: usize,
    pub changes: usize,
    pub failures: usize,
    pub incomplete: Vec<Incomplete>,
    /// Hash of the last good record.
    pub head: Option<String>,
    pub problem: Option<Problem>,
}

/// Verify a whole log's text.
pub fn verify_text(text: &str) -> Report {
    let mut report = Report::default();
    if text.is_empty() {
        return report;
    }
    // (seq) -> (line, run, address, action) of intents still open.
    let mut open: BTreeMap<u64, Incomplete> = BTreeMap::new();
    let mut runs = std::collections::BTreeSet::new();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (i, raw) in lines.iter().enumerate() {
        let line = i + 1;
        let fail = |report: &mut Report, message: String| {
            report.problem = Some(Problem { line, message });
        };
        let Some(body) = raw.strip_suffix('\n') else {
            fail(
                &mut report,
                "the last line is incomplete (the log was truncated or a write was cut off)".into(),
            );
            break;
        };
        let mut value: Value = match serde_json::from_str(body) {
            Ok(v) => v,
            Err(e) => {
                fail(&mut report, format!("not a JSON record: {e}"));
                break;
            }
        };
        let Some(object) = value.as_object_mut() else {
            fail(&mut report, "not a JSON object".into());
            break;
        };
        let stated = object.shift_remove("hash");
        let Some(Value::String(stated)) = stated else {
            fail(&mut report, "the record has no hash".into());
            break;
        };
        let computed = record_hash(&value);
        if computed != stated {
            fail(
                &mut report,
                "the record's content does not match its hash (the line was changed)".into(),
            );
            break;
        }
        let record: Record = match serde_json::from_value(value) {
            Ok(r) => r,
            Err(e) => {
                fail(&mut report, format!("not a change-log record: {e}"));
                break;
            }
        };
        if record.seq != i as u64 {
            fail(
                &mut report,
                format!(
                    "sequence number {} where {i} was expected (a line was removed, inserted or moved)",
                    record.seq
                ),
            );
            break;
        }
        if record.prev != report.head {
            fail(
                &mut report,
                "the record does not follow the one before it (a line was removed, inserted or moved)"
                    .into(),
            );
            break;
        }
        match &record.body {
            Body::Header { .. } if i != 0 => {
                fail(&mut report, "a second header".into());
                break;
            }
            Body::Header { .. } => {}
            _ if i == 0 => {
                fail(&mut report, "the log does not start with its header".into());
                break;
            }
            Body::Intent { run, change } => {
                runs.insert(run.run_id.clone());
                report.changes += 1;
                open.insert(
                    record.seq,
                    Incomplete {
                        line,
                        seq: record.seq,
                        run_id: run.run_id.clone(),
                        address: change.address.clone(),
                        action: change.action.clone(),
                    },
                );
            }
            Body::Outcome {
                run_id,
                intent,
                address,
                result,
                ..
            } => {
                match open.remove(intent) {
                    Some(o) if &o.run_id == run_id && &o.address == address => {}
                    _ => {
                        fail(
                            &mut report,
                            format!("an outcome for intent {intent}, which is not an open intent of this run"),
                        );
                        break;
                    }
                }
                if matches!(result, super::Result_::Failure { .. }) {
                    report.failures += 1;
                }
            }
        }
        report.records += 1;
        report.head = Some(stated);
    }
    report.runs = runs.len();
    report.incomplete = open.into_values().collect();
    report
}
