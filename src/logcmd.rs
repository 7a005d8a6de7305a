//! `baseline log verify | show | export | unlock`.

use crate::changelog::export::{self, Filter};
use crate::changelog::{lock, verify};
use crate::cli::{exit, ExportFormat, LogCommand, LogFilterArgs};

fn read(path: &std::path::Path) -> Result<String, i32> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        exit::ERROR
    })
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

pub fn run(command: LogCommand) -> i32 {
    match command {
        LogCommand::Verify { log, head } => {
            let text = match read(&log.path) {
                Ok(t) => t,
                Err(code) => return code,
            };
            let report = verify::verify_text(&text);
            let name = log.path.display();
            if let Some(p) = &report.problem {
                eprintln!(
                    "error: {name}:{}: {} ({} records before it verify)",
                    p.line, p.message, report.records
                );
                return exit::ERROR;
            }
            for i in &report.incomplete {
                println!(
                    "incomplete: {name}:{}: {} {} (run {}) has an intent but no outcome: the run stopped during this change; check the resource and run apply again",
                    i.line, i.action, i.address, i.run_id
                );
            }
            let head_now = report.head.clone().unwrap_or_default();
            if let Some(expected) = head {
                if expected != head_now {
                    eprintln!(
                        "error: {name}: the chain ends at {head_now}, not at the expected head {expected} (records were removed, or the whole chain was rewritten)"
                    );
                    return exit::ERROR;
                }
            }
            println!(
                "ok: {name}: {} records, {} changes in {} runs ({} failed, {} incomplete); chain head {head_now}",
                report.records,
                report.changes,
                report.runs,
                report.failures,
                report.incomplete.len()
            );
            exit::OK
        }
        LogCommand::Show { log, filter: args } => {
            let (text, filter) = match (read(&log.path), filter(&args)) {
                (Ok(t), Ok(f)) => (t, f),
                (Err(c), _) | (_, Err(c)) => return c,
            };
            print!("{}", export::table(&export::entries(&text, &filter)));
            exit::OK
        }
        LogCommand::Export {
            log,
            filter: args,
            format,
        } => {
            let (text, filter) = match (read(&log.path), filter(&args)) {
                (Ok(t), Ok(f)) => (t, f),
                (Err(c), _) | (_, Err(c)) => return c,
            };
            let entries = export::entries(&text, &filter);
            match format {
                ExportFormat::Markdown => {
                    let report = verify::verify_text(&text);
                    print!(
                        "{}",
                        export::markdown(
                            &text,
                            &entries,
                            &filter,
                            &log.path.display().to_string(),
                            &report
                        )
                    );
                }
                ExportFormat::Csv => print!("{}", export::csv(&entries)),
                ExportFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&entries).expect("entries serialise")
                ),
            }
            exit::OK
        }
        LogCommand::Unlock { log, force } => match lock::unlock(&log.path, force) {
            Ok(Some(h)) => {
                println!(
                    "unlocked {}: the lock of pid {} on {} (started {}, run {}) is removed",
                    log.path.display(),
                    h.pid,
                    h.host,
                    h.started,
                    h.run_id
                );
                exit::OK
            }
            Ok(None) => {
                println!("unlocked {}", log.path.display());
                exit::OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                exit::ERROR
            }
        },
    }
}
