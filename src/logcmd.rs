//! `baseline log verify | show | export | unlock`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use crate::changelog::export::{self, Changes, Filter};
use crate::changelog::{anchor, file, lock, verify};
use crate::cli::{exit, ExportFormat, LogCommand, LogFilterArgs};
use crate::lang::model::{AnchorSettings, Baseline};

/// The log at `path`, opened to be read a line at a time (a regular file, within the limit).
fn open(path: &Path) -> Result<impl BufRead, i32> {
    file::open_log(path).map_err(|e| {
        eprintln!("error: {e}");
        exit::ERROR
    })
}

fn io_error(path: &Path, e: std::io::Error) -> i32 {
    eprintln!("error: {}: {e}", path.display());
    exit::ERROR
}

fn verify_log(path: &Path) -> Result<verify::Report, i32> {
    verify::verify_reader(open(path)?).map_err(|e| io_error(path, e))
}

/// Check the log against its anchors, printing each; `Ok` is the end of the summary line.
fn verify_anchors(
    baseline: &Baseline,
    settings: &AnchorSettings,
    path: &Path,
) -> Result<String, i32> {
    let checked =
        crate::run::runtime().block_on(anchor::check_log(&baseline.settings, settings, path));
    let report = checked.map_err(|e| {
        eprintln!("error: --anchors: {e}");
        exit::ERROR
    })?;
    let name = path.display();
    for a in &report.anchors {
        let what = match &a.anchor {
            Some(anchor) => format!(
                "record {}, head {}, {} by {}",
                anchor.seq, anchor.head, anchor.time, anchor.run_id
            ),
            None => "unreadable".into(),
        };
        let retention = match (&a.retention_mode, &a.retain_until) {
            (Some(mode), Some(until)) => format!("{mode} until {until}"),
            _ => "no retention".into(),
        };
        if a.problems.is_empty() {
            println!(
                "anchor ok: {} (version {}): {what}; {retention}",
                a.uri, a.version_id
            );
        } else {
            eprintln!(
                "error: {name}: anchor {} (version {}): {}",
                a.uri,
                a.version_id,
                a.problems.join("; ")
            );
        }
        for note in &a.notes {
            println!("note: anchor {} (version {}): {note}", a.uri, a.version_id);
        }
    }
    for p in &report.problems {
        eprintln!("error: {name}: {p}");
    }
    if !report.verified() {
        return Err(exit::ERROR);
    }
    Ok(format!(
        "; {} anchors verify with {} ({} records after the last)",
        report.anchors.len(),
        report.key_arn,
        report.unanchored_records
    ))
}

/// The changes of every log in `paths`, merged by time (a change of an earlier log first
/// when two have the same time); each names its log when there are several. The logs must
/// be of one organization.
fn changes(paths: &[PathBuf], args: &LogFilterArgs) -> Result<(Changes, Filter), i32> {
    let filter = filter(args)?;
    let mut merged = Changes::default();
    let mut first: Option<(&Path, String)> = None;
    for path in paths {
        let mut changes = export::entries(open(path)?, &filter).map_err(|e| io_error(path, e))?;
        let org = changes.organization_label();
        match &first {
            None => {
                first = Some((path, org));
                merged.organization = changes.organization.take();
            }
            Some((first_path, first_org)) if *first_org != org => {
                eprintln!(
                    "error: {} is the log of {org}, {} of {first_org}: only the logs of one \
                     organization merge",
                    path.display(),
                    first_path.display()
                );
                return Err(exit::ERROR);
            }
            Some(_) => {}
        }
        if paths.len() > 1 {
            let name = path.display().to_string();
            for e in &mut changes.entries {
                e.log = Some(name.clone());
            }
        }
        merged.entries.append(&mut changes.entries);
    }
    // Stable: within one time, the order of the logs as named, and each log's own order.
    merged.entries.sort_by(|a, b| a.time.cmp(&b.time));
    Ok((merged, filter))
}

fn filter(args: &LogFilterArgs) -> Result<Filter, i32> {
    let time = |t: &Option<String>| -> Result<Option<String>, i32> {
        t.as_deref()
            .map(export::parse_time)
            .transpose()
            .map_err(|e| {
                eprintln!("error: {e}");
                exit::ERROR
            })
    };
    Ok(Filter {
        since: time(&args.since)?,
        until: time(&args.until)?,
        account: args.account.clone(),
        address: args.address.clone(),
    })
}

/// Verify one log (and its anchors when asked), printing the verdict; the exit code.
fn verify_one(
    path: &Path,
    head: Option<&str>,
    anchoring: Option<(&Baseline, &AnchorSettings)>,
) -> i32 {
    let report = match verify_log(path) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let name = path.display();
    if let Some(p) = &report.problem {
        let verified = match p.line {
            Some(_) => format!(" ({} records before it verify)", report.records),
            None => String::new(),
        };
        eprintln!("error: {name}{}: {}{verified}", p.suffix(), p.message);
        return exit::ERROR;
    }
    for i in &report.incomplete {
        println!(
            "incomplete: {name}:{}: {} {} (run {}) has an intent but no outcome: the run stopped during this change; check the resource and run apply again",
            i.line, i.action, i.address, i.run_id
        );
    }
    // A log that verifies has its header at least, so a head.
    let head_now = report.head.clone().unwrap_or_default();
    if let Some(expected) = head {
        if expected != head_now {
            eprintln!(
                "error: {name}: the chain ends at {head_now}, not at the expected head {expected} (records were removed, or the whole chain was rewritten)"
            );
            return exit::ERROR;
        }
    }
    let anchored = match anchoring {
        Some((baseline, settings)) => match verify_anchors(baseline, settings, path) {
            Ok(line) => line,
            Err(code) => return code,
        },
        None => String::new(),
    };
    println!(
        "ok: {name}: {} records, {} changes in {} runs ({} failed, {} incomplete); chain head {head_now}{anchored}",
        report.records,
        report.changes,
        report.runs,
        report.failures,
        report.incomplete.len()
    );
    exit::OK
}

/// Run `command` on the change logs at `paths` (found by the CLI as apply finds the log);
/// `baseline` is loaded when the command needs its settings (`verify --anchors`).
pub fn run(command: LogCommand, paths: &[PathBuf], baseline: Option<&Baseline>) -> i32 {
    match command {
        LogCommand::Verify {
            log: _,
            head,
            anchors,
        } => {
            if head.is_some() && paths.len() > 1 {
                eprintln!("error: --head is the head of one change log: name one --log");
                return exit::ERROR;
            }
            // Asked for anchors the baseline does not write: an error, before reading the log.
            let anchoring = match (anchors, baseline) {
                (true, Some(b)) => match &b.settings.anchor {
                    Some(settings) => Some((b, settings)),
                    None => {
                        eprintln!(
                            "error: --anchors: the baseline has no `change-log-anchor` in its \
                             settings, so no anchor to check the log against"
                        );
                        return exit::ERROR;
                    }
                },
                _ => None,
            };
            // Each log is its own chain: every one is checked, and all must verify.
            let mut code = exit::OK;
            for path in paths {
                let verified = verify_one(path, head.as_deref(), anchoring);
                if verified != exit::OK {
                    code = verified;
                }
            }
            code
        }
        LogCommand::Show {
            log: _,
            filter: args,
        } => {
            let (changes, _) = match changes(paths, &args) {
                Ok(c) => c,
                Err(code) => return code,
            };
            print!("{}", export::table(&changes.entries));
            exit::OK
        }
        LogCommand::Export {
            log: _,
            filter: args,
            format,
        } => {
            let (changes, filter) = match changes(paths, &args) {
                Ok(c) => c,
                Err(code) => return code,
            };
            match format {
                ExportFormat::Markdown => {
                    // A second pass over each file: both are streamed, neither holds the log.
                    let mut verified = Vec::new();
                    for path in paths {
                        match verify_log(path) {
                            Ok(report) => verified.push((path.display().to_string(), report)),
                            Err(code) => return code,
                        }
                    }
                    print!("{}", export::markdown(&changes, &filter, &verified));
                }
                ExportFormat::Csv => print!("{}", export::csv(&changes.entries)),
                ExportFormat::Json => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    let written = serde_json::to_writer_pretty(&mut out, &changes.entries)
                        .map_err(std::io::Error::from)
                        .and_then(|()| writeln!(out))
                        .and_then(|()| out.flush());
                    if let Err(e) = written {
                        eprintln!("error: cannot write the export: {e}");
                        return exit::ERROR;
                    }
                }
            }
            exit::OK
        }
        LogCommand::Unlock { log: _, force } => {
            let [path] = paths else {
                eprintln!("error: unlock takes one change log: name one --log");
                return exit::ERROR;
            };
            unlock(path, force)
        }
    }
}

/// `log unlock`: remove the run lock of the log at `path`.
fn unlock(path: &Path, force: bool) -> i32 {
    match lock::unlock(path, force) {
        Ok(Some(h)) => {
            println!(
                "unlocked {}: the lock of pid {} on {} (started {}, run {}) is removed",
                path.display(),
                h.pid,
                h.host,
                h.started,
                h.run_id
            );
            exit::OK
        }
        Ok(None) => {
            println!("unlocked {}", path.display());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}
