//! `baseline log show` and `baseline log export`: the log's changes (intent joined with its
//! outcome), filtered by time, account and address, as a table, Markdown (what an auditor
//! reads), CSV (for a spreadsheet) or JSON.

use std::fmt::Write;
use std::io::{self, BufRead};
use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

use super::file::{Line, LineReader};
use super::verify::Report;
use super::{Body, Record, Result_};
use crate::expand::glob_match;
use crate::render::md_escape;

/// One change as an auditor sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub seq: u64,
    pub time: String,
    pub run_id: String,
    pub caller: String,
    pub identity: String,
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub ci_run_url: Option<String>,
    pub address: String,
    pub account_id: String,
    pub region: String,
    pub action: String,
    pub before: Value,
    pub after: Value,
    /// `success`, `failure: CODE: message`, or `incomplete` (no outcome: the run died).
    pub result: String,
    pub request_ids: Vec<String>,
    /// The log it comes from, when several logs are merged (the shards of one run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
}

/// Which entries to keep.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<String>,
    pub until: Option<String>,
    /// Account id or name (as it appears in addresses).
    pub account: Option<String>,
    /// An address, or a pattern with `*`.
    pub address: Option<String>,
}

/// Parse a time bound: RFC 3339 (`2026-11-23T10:00:00Z`) or a date (`2026-11-23`, midnight
/// UTC), normalised to the log's format so bounds compare as text.
pub fn parse_time(text: &str) -> Result<String, String> {
    let full = if text.len() == 10 {
        format!("{text}T00:00:00Z")
    } else {
        text.to_string()
    };
    let t: SystemTime = humantime::parse_rfc3339_weak(full.trim_end_matches('Z'))
        .map_err(|e| format!("`{text}` is not a date or RFC 3339 time ({e})"))?;
    Ok(humantime::format_rfc3339_millis(t).to_string())
}

impl Filter {
    fn keeps(&self, e: &Entry) -> bool {
        self.since
            .as_ref()
            .is_none_or(|s| e.time.as_str() >= s.as_str())
            && self
                .until
                .as_ref()
                .is_none_or(|u| e.time.as_str() < u.as_str())
            && self.account.as_ref().is_none_or(|a| {
                &e.account_id == a
                    || e.address.contains(&format!("[{a}/"))
                    || e.address.ends_with(&format!("[{a}]"))
            })
            && self
                .address
                .as_ref()
                .is_none_or(|p| glob_match(p, &e.address))
    }
}

/// The organization a log's header names.
#[derive(Debug, Clone)]
pub struct Organization {
    pub organization_id: Option<String>,
    pub management_account_id: String,
}

impl Changes {
    /// The organization of the log's header, as a person names it (`o-abc (management
    /// account 111…)`), or `an unknown organization` without a header.
    pub fn organization_label(&self) -> String {
        match &self.organization {
            Some(org) => format!(
                "{} (management account {})",
                org.organization_id.as_deref().unwrap_or("-"),
                org.management_account_id
            ),
            None => "an unknown organization".into(),
        }
    }
}

/// What `show` and `export` read from a log.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// From the header (the first line), when it reads as one.
    pub organization: Option<Organization>,
    pub entries: Vec<Entry>,
}

/// Join intents with their outcomes, in log order, reading the log a line at a time. Lines
/// that are not records are skipped (`log verify` names them).
pub fn entries<R: BufRead>(reader: R, filter: &Filter) -> io::Result<Changes> {
    let mut changes = Changes::default();
    let out = &mut changes.entries;
    let mut lines = LineReader::new(reader);
    while let Some((number, line)) = lines.next_line()? {
        let Line::Complete(bytes) = line else {
            continue;
        };
        let Ok(record) = serde_json::from_slice::<Record>(bytes) else {
            continue;
        };
        match record.body {
            Body::Intent { run, change } => out.push(Entry {
                seq: record.seq,
                time: record.time,
                run_id: run.run_id,
                caller: run.caller,
                identity: change.identity,
                commit: run.provenance.commit,
                branch: run.provenance.branch,
                ci_run_url: run.provenance.ci_run_url,
                address: change.address,
                account_id: change.account_id,
                region: change.region,
                action: change.action,
                before: change.before,
                after: change.after,
                result: "incomplete".into(),
                request_ids: vec![],
                log: None,
            }),
            Body::Outcome {
                intent,
                result,
                request_ids,
                ..
            } => {
                if let Some(e) = out.iter_mut().rev().find(|e| e.seq == intent) {
                    e.result = match result {
                        Result_::Success => "success".into(),
                        Result_::Failure { code, message } => match code {
                            Some(c) => format!("failure: {c}: {message}"),
                            None => format!("failure: {message}"),
                        },
                    };
                    e.request_ids = request_ids;
                }
            }
            Body::Header {
                organization_id,
                management_account_id,
                ..
            } => {
                if number == 1 {
                    changes.organization = Some(Organization {
                        organization_id,
                        management_account_id,
                    });
                }
            }
        }
    }
    changes.entries.retain(|e| filter.keeps(e));
    Ok(changes)
}

/// The first 12 characters of a commit id (record data: any text, not only hex).
fn short_commit(e: &Entry) -> String {
    let short = |c: &str| c.chars().take(12).collect::<String>();
    match (&e.commit, &e.branch) {
        (Some(c), Some(b)) => format!("{} ({b})", short(c)),
        (Some(c), None) => short(c),
        _ => "-".into(),
    }
}

/// A terminal table, one line per change.
pub fn table(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        let _ = writeln!(
            out,
            "{}  {:<8} {}  {}  {}",
            e.time,
            e.action,
            e.address,
            e.result,
            short_commit(e)
        );
    }
    let _ = writeln!(
        out,
        "{} change{}",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" }
    );
    out
}

fn attr_changes(e: &Entry) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = e.before.as_object().unwrap_or(&empty);
    let after = e.after.as_object().unwrap_or(&empty);
    after
        .iter()
        .map(|(k, a)| {
            let b = before.get(k).unwrap_or(&Value::Null);
            format!("`{k}`: `{}` → `{}`", compact(b), compact(a))
        })
        .collect()
}

fn compact(v: &Value) -> String {
    crate::render::ellipsize(crate::render::short(v), 120)
}

/// The auditor's Markdown: the period, whether the log verifies, then who changed what,
/// when, why (commit, CI run) and with which result.
pub fn markdown(changes: &Changes, filter: &Filter, logs: &[(String, Report)]) -> String {
    let mut out = String::new();
    let entries = &changes.entries;
    let names: Vec<&str> = logs.iter().map(|(name, _)| name.as_str()).collect();
    let _ = writeln!(out, "# Change log: {}\n", names.join(", "));
    if let Some(org) = &changes.organization {
        let _ = writeln!(
            out,
            "Organization: {} (management account {})  ",
            md_escape(org.organization_id.as_deref().unwrap_or("-")),
            md_escape(&org.management_account_id)
        );
    }
    let _ = writeln!(
        out,
        "Period: {} to {}  ",
        filter.since.as_deref().unwrap_or("the beginning"),
        filter.until.as_deref().unwrap_or("now")
    );
    for (name, report) in logs {
        // One log: "Integrity: ..."; several (the shards of one run): one line each.
        let (label, end) = if logs.len() == 1 {
            ("Integrity".to_string(), "")
        } else {
            (format!("Integrity of {}", md_escape(name)), "  ")
        };
        match &report.problem {
            None => {
                let _ = writeln!(
                    out,
                    "{label}: the hash chain verifies ({} records, head `{}`){}.{end}",
                    report.records,
                    report.head.as_deref().unwrap_or("-"),
                    if report.incomplete.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; {} change(s) incomplete (the run stopped during them)",
                            report.incomplete.len()
                        )
                    }
                );
            }
            Some(p) => {
                let _ = writeln!(
                    out,
                    "{label}: **the log does not verify**: {}{}.{end}",
                    p.position(),
                    p.message
                );
            }
        }
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "| Time (UTC) | Change | Account / region | Action | Who | Why | Result |\n| --- | --- | --- | --- | --- | --- | --- |"
    );
    for e in entries {
        let why = match &e.ci_run_url {
            Some(url) => format!("{} [CI run]({url})", short_commit(e)),
            None => short_commit(e),
        };
        let _ = writeln!(
            out,
            "| {} | `{}` | {} / {} | {} | {} | {} | {} |",
            md_escape(&e.time),
            md_escape(&e.address),
            md_escape(&e.account_id),
            md_escape(&e.region),
            md_escape(&e.action),
            md_escape(&e.caller),
            md_escape(&why),
            md_escape(&e.result)
        );
    }
    if !entries.is_empty() {
        let _ = writeln!(out, "\n## Details\n");
    }
    for e in entries {
        let _ = writeln!(
            out,
            "### {} `{}` ({})\n",
            e.time,
            md_escape(&e.address),
            e.action
        );
        let _ = writeln!(
            out,
            "- Run: `{}`, as `{}`",
            e.run_id,
            md_escape(&e.identity)
        );
        if let Some(log) = &e.log {
            let _ = writeln!(out, "- Log: {}", md_escape(log));
        }
        for change in attr_changes(e) {
            let _ = writeln!(out, "- {change}");
        }
        let _ = writeln!(out, "- Result: {}", md_escape(&e.result));
        if !e.request_ids.is_empty() {
            let _ = writeln!(out, "- AWS request ids: {}", e.request_ids.join(", "));
        }
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// One row per change, for a spreadsheet.
pub fn csv(entries: &[Entry]) -> String {
    let mut out = String::from(
        "time,run_id,caller,identity,commit,branch,ci_run_url,address,account_id,region,action,before,after,result,request_ids\n",
    );
    for e in entries {
        let row = [
            e.time.clone(),
            e.run_id.clone(),
            e.caller.clone(),
            e.identity.clone(),
            e.commit.clone().unwrap_or_default(),
            e.branch.clone().unwrap_or_default(),
            e.ci_run_url.clone().unwrap_or_default(),
            e.address.clone(),
            e.account_id.clone(),
            e.region.clone(),
            e.action.clone(),
            e.before.to_string(),
            e.after.to_string(),
            e.result.clone(),
            e.request_ids.join(" "),
        ];
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_and_time_bounds() {
        assert!(glob_match(
            "kms-key.*",
            "kms-key.org-logs[log-archive/us-east-1]"
        ));
        assert!(glob_match(
            "*[prod-app*",
            "password-policy.default[prod-app]"
        ));
        assert!(!glob_match("kms-key.*", "log-bucket.x"));
        assert_eq!(
            parse_time("2026-11-23").unwrap(),
            "2026-11-23T00:00:00.000Z"
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn csv_quotes_fields() {
        assert_eq!(csv_field("a \"b\", c"), "\"a \"\"b\"\", c\"");
    }

    fn entry(commit: Option<&str>, branch: Option<&str>) -> Entry {
        Entry {
            seq: 1,
            time: "2026-11-23T10:00:00.000Z".into(),
            run_id: "run-1".into(),
            caller: "alice".into(),
            identity: "role".into(),
            commit: commit.map(str::to_string),
            branch: branch.map(str::to_string),
            ci_run_url: None,
            address: "password-policy.default[prod-app]".into(),
            account_id: "222222222222".into(),
            region: "us-east-1".into(),
            action: "update".into(),
            before: serde_json::json!({"min-length": 8}),
            after: serde_json::json!({"min-length": 14}),
            result: "success".into(),
            request_ids: vec![],
            log: None,
        }
    }

    #[test]
    fn commits_are_cut_on_characters() {
        // The 12th byte falls inside a character: slicing bytes panicked here.
        let commit = "xéééééééééé";
        let e = entry(Some(commit), Some("main"));
        assert_eq!(short_commit(&e), "xéééééééééé (main)");
        assert_eq!(
            short_commit(&entry(Some("0123456789abcdef"), None)),
            "0123456789ab"
        );
        assert_eq!(short_commit(&entry(None, Some("main"))), "-");
        let changes = Changes {
            organization: None,
            entries: vec![e],
        };
        let md = markdown(
            &changes,
            &Filter::default(),
            &[("log".to_string(), Report::default())],
        );
        assert!(md.contains("xéééééééééé (main)"), "{md}");
        assert!(table(&changes.entries).contains("xéééééééééé (main)"));
    }

    #[test]
    fn time_bounds_of_any_text_do_not_panic() {
        for text in ["2026-11-2é", "ééééé", "2026-11-23Té", "", "é"] {
            assert!(parse_time(text).is_err(), "{text}");
        }
    }

    #[test]
    fn lines_that_are_not_records_are_skipped() {
        let long = "x".repeat(crate::changelog::file::MAX_RECORD_BYTES + 1);
        let text = [long.as_bytes(), b"\nnot json\n\xff\n"].concat();
        let changes = entries(&text[..], &Filter::default()).unwrap();
        assert!(changes.entries.is_empty());
        assert!(changes.organization.is_none());
    }
}
