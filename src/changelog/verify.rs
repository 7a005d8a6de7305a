//! `baseline log verify`: check that every line is exactly the record apply wrote, recompute
//! the hash chain, and pair intents with outcomes.
//!
//! A record's hash covers its re-serialised JSON, not the bytes of its line, so the bytes are
//! checked too: a line must be the canonical serialisation of the record it holds (what
//! [`super::encode`] writes: compact, serde_json's escapes, `hash` last, LF). Any other byte
//! (spacing, a `\u0061` escape, `1.0` for `1`, CR LF, a duplicate key) fails. This keeps
//! every log written so far valid, which hashing the raw bytes would not, and is as strict.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, BufRead};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::file::{size, Line, LineReader, MAX_RECORD_BYTES};
use super::{record_hash, Body, Record, LOG_FORMAT};

/// The first thing wrong with a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line of the file; `None` when the whole file is wrong (an empty log).
    pub line: Option<usize>,
    /// 1-based column (in characters) within that line, where there is one.
    pub column: Option<usize>,
    pub message: String,
}

impl Problem {
    /// `:LINE:COLUMN` (or `:LINE`, or nothing) to follow the file's name.
    pub fn suffix(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!(":{l}:{c}"),
            (Some(l), None) => format!(":{l}"),
            _ => String::new(),
        }
    }

    /// `line L, column C: ` (or less) to start a sentence about the problem.
    pub fn position(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("line {l}, column {c}: "),
            (Some(l), None) => format!("line {l}: "),
            _ => String::new(),
        }
    }
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
    verify_reader(text.as_bytes()).expect("reading memory does not fail")
}

/// What is wrong with one line: the column (1-based, characters) and a sentence.
type LineProblem = (Option<usize>, String);

/// Verify a log read a line at a time (only I/O errors are errors; problems are reported).
pub fn verify_reader<R: BufRead>(reader: R) -> io::Result<Report> {
    verify_reader_with(reader, |_, _| {})
}

/// [`verify_reader`], calling `each` with every record that verifies and its hash, in order.
pub fn verify_reader_with<R: BufRead>(
    reader: R,
    mut each: impl FnMut(&Record, &str),
) -> io::Result<Report> {
    let mut report = Report::default();
    // (seq) -> (line, run, address, action) of intents still open.
    let mut open: BTreeMap<u64, Incomplete> = BTreeMap::new();
    let mut runs = BTreeSet::new();
    let mut lines = LineReader::new(reader);
    while let Some((line, raw)) = lines.next_line()? {
        let i = line - 1;
        let fail = |report: &mut Report, message: String| {
            report.problem = Some(Problem {
                line: Some(line),
                column: None,
                message,
            });
        };
        let (value, stated) = match check_line(i, raw) {
            Ok(checked) => checked,
            Err((column, message)) => {
                report.problem = Some(Problem {
                    line: Some(line),
                    column,
                    message,
                });
                break;
            }
        };
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
        each(&record, &stated);
        report.head = Some(stated);
    }
    if report.records == 0 && report.problem.is_none() {
        report.problem = Some(Problem {
            line: None,
            column: None,
            message: "the log is empty: a change log starts with its header line (apply \
                      stopped before writing it, the file was emptied, or it is not a change log)"
                .into(),
        });
    }
    report.runs = runs.len();
    report.incomplete = open.into_values().collect();
    Ok(report)
}

/// Check that line `i` (0-based) holds exactly a record as apply writes it, with the hash it
/// states. Returns the record without its hash, and that hash.
fn check_line(i: usize, raw: Line<'_>) -> Result<(Value, String), LineProblem> {
    let bytes = match raw {
        Line::Complete(bytes) => bytes,
        Line::Unterminated => {
            return Err((
                None,
                "the last line is incomplete (the log was truncated or a write was cut off)".into(),
            ))
        }
        Line::TooLong => {
            return Err((
                None,
                format!(
                    "the line is longer than {}, which no record is",
                    size(MAX_RECORD_BYTES as u64)
                ),
            ))
        }
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default();
        (Some(valid.chars().count() + 1), "not UTF-8 text".into())
    })?;
    if let Some(body) = text.strip_suffix('\r') {
        return Err((
            Some(body.chars().count() + 1),
            "the line ends in CR LF: records end in LF alone (the file was converted)".into(),
        ));
    }
    let Strict(mut value) = serde_json::from_str(text).map_err(|e| json_problem(&e, text))?;
    let Some(object) = value.as_object_mut() else {
        return Err((Some(1), "not a JSON object".into()));
    };
    // Before the hash: a future format may hash differently, and must be named as such.
    if i == 0 && object.get("type").and_then(Value::as_str) == Some("header") {
        match object.get("log_format") {
            Some(f) if f.as_u64() == Some(LOG_FORMAT.into()) => {}
            Some(f) => {
                return Err((
                    None,
                    format!(
                        "log format {f} is not one this version of baseline reads (it reads \
                         log format {LOG_FORMAT}); verify the log with the version that wrote it"
                    ),
                ))
            }
            None => {}
        }
    }
    let Some(Value::String(stated)) = object.shift_remove("hash") else {
        return Err((None, "the record has no hash".into()));
    };
    // The canonical line: the record's compact JSON with `hash` last.
    let mut canonical = serde_json::to_string(&value).expect("JSON value serialises");
    canonical.pop();
    canonical.push_str(",\"hash\":");
    canonical.push_str(&serde_json::to_string(&stated).expect("a string serialises"));
    canonical.push('}');
    if canonical != text {
        let at = canonical
            .bytes()
            .zip(text.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(canonical.len().min(text.len()));
        return Err((
            Some(char_column(text, at)),
            "the line is not the record as apply wrote it (spacing, escapes, number forms or \
             the order of fields were changed)"
                .into(),
        ));
    }
    if record_hash(&value) != stated {
        return Err((
            None,
            "the record's content does not match its hash (the line was changed)".into(),
        ));
    }
    Ok((value, stated))
}

/// The 1-based column, in characters, of the character holding byte `at` (0-based) of `text`;
/// one past the last character when `at` is past the end.
fn char_column(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.chars().count() + 1;
    }
    text.char_indices().take_while(|(i, _)| *i <= at).count()
}

/// A serde_json error as a column of the line and a message without serde_json's position
/// (which counts from the record, not the file).
fn json_problem(e: &serde_json::Error, text: &str) -> LineProblem {
    let message = e.to_string();
    if e.line() == 0 {
        return (None, format!("not a JSON record: {message}"));
    }
    let position = format!(" at line {} column {}", e.line(), e.column());
    let message = message.strip_suffix(&position).unwrap_or(&message);
    // serde_json's column counts the bytes read, up to and including the one at fault.
    (
        Some(char_column(text, e.column().saturating_sub(1))),
        format!("not a JSON record: {message}"),
    )
}

/// A JSON value that refuses duplicate keys (serde_json keeps the last one silently, and a
/// record with two `status` fields must not verify as either).
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            let Strict(v) = map.next_value()?;
            object.insert(key, v);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::changelog::{encode, Result_};

    fn header(log_format: u32) -> Body {
        Body::Header {
            log_format,
            organization_id: Some("o-example".into()),
            management_account_id: "111111111111".into(),
            organization_root: None,
        }
    }

    fn outcome_without_intent() -> Body {
        Body::Outcome {
            run_id: "run-1".into(),
            intent: 0,
            address: "password-policy.default[prod-app]".into(),
            result: Result_::Success,
            request_ids: vec![],
        }
    }

    /// A chained log of `bodies`, as apply writes it.
    fn log(bodies: Vec<Body>) -> String {
        let mut text = String::new();
        let mut prev = None;
        for (seq, body) in bodies.into_iter().enumerate() {
            let record = Record {
                seq: seq as u64,
                time: "2026-11-23T10:00:00.000Z".into(),
                body,
                prev: prev.clone(),
                hash: None,
            };
            let (line, hash) = encode(&record);
            text.push_str(&line);
            text.push('\n');
            prev = Some(hash);
        }
        text
    }

    fn problem(text: &str) -> Problem {
        verify_text(text).problem.expect("a problem")
    }

    #[test]
    fn a_log_as_written_verifies() {
        let report = verify_text(&log(vec![header(LOG_FORMAT)]));
        assert_eq!(report.problem, None);
        assert_eq!(report.records, 1);
    }

    #[test]
    fn an_empty_log_is_not_a_log() {
        let p = problem("");
        assert_eq!((p.line, p.column), (None, None));
        assert!(p.message.starts_with("the log is empty"), "{p:?}");
    }

    #[test]
    fn an_unknown_log_format_is_refused() {
        for format in [0, 2, 99] {
            let p = problem(&log(vec![header(format)]));
            assert_eq!(p.line, Some(1));
            assert!(
                p.message
                    .starts_with(&format!("log format {format} is not")),
                "{p:?}"
            );
        }
    }

    /// Every edit below parses to the same record, so the hash alone would not see it.
    #[test]
    fn a_line_must_be_the_bytes_apply_wrote() {
        let good = log(vec![header(LOG_FORMAT)]);
        let line = good.trim_end();
        let edits = [
            ("space", line.replacen(":0,", ": 0,", 1), 8),
            (
                "escape",
                line.replacen("o-example", "\\u006f-example", 1),
                0,
            ),
            (
                "slash escape",
                line.replacen("o-example", "o\\-example", 1),
                0,
            ),
            ("exponent", line.replacen("\"seq\":0", "\"seq\":0e0", 1), 9),
            (
                "duplicate",
                line.replacen("{\"seq\":0,", "{\"seq\":0,\"seq\":0,", 1),
                0,
            ),
            (
                "trailing space",
                format!("{line} "),
                line.chars().count() + 1,
            ),
            ("leading space", format!(" {line}"), 1),
        ];
        for (name, edited, column) in edits {
            assert_ne!(edited, line, "{name}");
            let p = problem(&format!("{edited}\n"));
            assert_eq!(p.line, Some(1), "{name}: {p:?}");
            if column > 0 {
                assert_eq!(p.column, Some(column), "{name}: {p:?}");
            }
        }
        let p = problem(&good.replace('\n', "\r\n"));
        assert_eq!(p.column, Some(line.chars().count() + 1));
        assert!(p.message.contains("CR LF"), "{p:?}");
    }

    #[test]
    fn the_hash_must_be_the_last_field() {
        let good = log(vec![header(LOG_FORMAT)]);
        let (body, hash) = good.trim_end().rsplit_once(",\"hash\":").unwrap();
        let moved = format!("{{\"hash\":{},{}}}\n", &hash[..hash.len() - 1], &body[1..]);
        let p = problem(&moved);
        assert_eq!((p.line, p.column), (Some(1), Some(3)), "{p:?}");
    }

    #[test]
    fn duplicate_keys_are_named_at_any_depth() {
        let good = log(vec![header(LOG_FORMAT), outcome_without_intent()]);
        let lines: Vec<&str> = good.lines().collect();
        let dup = lines[1].replacen(
            "{\"status\":\"success\"}",
            "{\"status\":\"success\",\"status\":\"failure\"}",
            1,
        );
        let p = problem(&format!("{}\n{dup}\n", lines[0]));
        assert_eq!(p.line, Some(2));
        assert!(p.message.contains("duplicate key `status`"), "{p:?}");
    }

    #[test]
    fn positions_are_the_files_in_characters() {
        let good = log(vec![header(LOG_FORMAT)]);
        let text = format!("{good}{{\"ééé\":tru}}\n");
        let p = problem(&text);
        assert_eq!(p.line, Some(2));
        assert_eq!(p.column, Some(11), "{p:?}");
        assert!(!p.message.contains("line 1"), "{p:?}");
        assert_eq!(p.suffix(), ":2:11");
        let bytes = [good.as_bytes(), b"{\"\xc3\xa9\xff\"}\n"].concat();
        let p = verify_reader(&bytes[..]).unwrap().problem.unwrap();
        assert_eq!((p.line, p.column), (Some(2), Some(4)), "{p:?}");
        assert_eq!(p.message, "not UTF-8 text");
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(char_column("aé b", 0), 1);
        assert_eq!(char_column("aé b", 1), 2);
        assert_eq!(char_column("aé b", 2), 2, "inside é");
        assert_eq!(char_column("aé b", 3), 3);
        assert_eq!(char_column("aé b", 9), 5, "past the end");
    }
}
