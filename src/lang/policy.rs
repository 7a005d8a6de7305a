//! Policy documents: `document file="policies/x.json"` or `document #"{ ... }"#`.
//!
//! A document is checked when the baseline loads: it must be JSON, have the shape of an IAM
//! policy, and fit AWS's size limit. Problems inside a document file are reported in that file,
//! at the line and column of the JSON error.

use kdl::KdlValue;

use super::checks::check_policy_shape;
use super::diagnostic::Problem;
use super::reader::NodeReader;
use super::source::{FileId, Span};

/// A checked policy document.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    pub json: serde_json::Value,
    /// Where the document was written: the `document` node.
    pub span: Span,
    /// The document's own file, when it came from `file=`.
    pub file: Option<FileId>,
}

impl PolicyDocument {
    /// The document as AWS receives it: compact JSON, keys in the order written.
    pub fn minified(&self) -> String {
        self.json.to_string()
    }
}

/// What the document may contain.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRules {
    /// Resource policies name a principal; SCPs may not.
    pub allow_principal: bool,
    /// Size limit in characters of the minified document.
    pub max_chars: usize,
    /// Name of the policy type in messages.
    pub what: &'static str,
}

/// Reads and checks a `document` node.
pub fn parse_document(mut r: NodeReader, rules: PolicyRules) -> Option<PolicyDocument> {
    let span = r.name_span();
    let file_prop = r.prop_str("file");
    let inline = r.node.entries().iter().find(|e| e.name().is_none());
    let doc = match (file_prop, inline) {
        (Some(_), Some(entry)) => {
            r.report(
                Problem::new(
                    "baseline::conflicting-values",
                    r.entry_span(entry),
                    "a document is either inline or `file=`, not both",
                )
                .label("inline document")
                .help("remove one of the two"),
            );
            None
        }
        (None, None) => {
            r.report(
                Problem::new("baseline::missing-value", span, "`document` needs the policy JSON")
                    .label("no document")
                    .help("write `document file=\"policies/name.json\"` or an inline raw string `document #\"{ ... }\"#`"),
            );
            None
        }
        (Some(file), None) => from_file(&r, &file.value, file.span, span, rules),
        (None, Some(entry)) => {
            let entry_span = r.entry_span(entry);
            r.opt_arg_str(0, "the policy JSON");
            match entry.value() {
                KdlValue::String(text) => from_text(&r, text, entry_span, span, rules),
                _ => None,
            }
        }
    };
    r.finish();
    doc
}

fn from_file(
    r: &NodeReader,
    rel: &str,
    file_span: Span,
    span: Span,
    rules: PolicyRules,
) -> Option<PolicyDocument> {
    let path = r.cx.dir_of(r.file).join(rel);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            r.report(
                Problem::new(
                    "baseline::file-not-found",
                    file_span,
                    format!("cannot read {}: {e}", path.display()),
                )
                .label("policy file")
                .help("paths are relative to the file that names them"),
            );
            return None;
        }
    };
    let id = {
        let mut sources = r.cx.sources.borrow_mut();
        match sources.find(&path) {
            Some(id) => id,
            None => sources.add(&path, text.clone()),
        }
    };
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => {
            let doc = PolicyDocument {
                json,
                span,
                file: Some(id),
            };
            check(r, &doc, file_span, rules).then_some(doc)
        }
        Err(e) => {
            let offset = offset_of(&text, e.line(), e.column());
            r.report(
                Problem::new(
                    "baseline::invalid-policy",
                    Span {
                        file: id,
                        offset,
                        len: 1.min(text.len() - offset),
                    },
                    format!(
                        "the {} document is not JSON: {}",
                        rules.what,
                        strip_position(&e)
                    ),
                )
                .label("invalid JSON")
                .also(file_span, "document named here")
                .help("fix the JSON; a policy document is a JSON object"),
            );
            None
        }
    }
}

fn from_text(
    r: &NodeReader,
    text: &str,
    entry_span: Span,
    span: Span,
    rules: PolicyRules,
) -> Option<PolicyDocument> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(json) => {
            let doc = PolicyDocument {
                json,
                span,
                file: None,
            };
            check(r, &doc, entry_span, rules).then_some(doc)
        }
        Err(e) => {
            r.report(
                Problem::new(
                    "baseline::invalid-policy",
                    entry_span,
                    format!(
                        "the {} document is not JSON: {} (line {} column {} of the document)",
                        rules.what,
                        strip_position(&e),
                        e.line(),
                        e.column()
                    ),
                )
                .label("invalid JSON")
                .help("inline documents are easiest as raw strings: #\"{ ... }\"#"),
            );
            None
        }
    }
}

/// Shape and size checks; reports at `at` and returns whether the document passed.
fn check(r: &NodeReader, doc: &PolicyDocument, at: Span, rules: PolicyRules) -> bool {
    let shape = check_policy_shape(&doc.json, rules.allow_principal);
    let mut ok = true;
    if !shape.is_empty() {
        ok = false;
        r.report(
            Problem::new(
                "baseline::invalid-policy",
                at,
                format!(
                    "the {} document is not an IAM policy: {}",
                    rules.what,
                    shape.join("; ")
                ),
            )
            .label("not an IAM policy")
            .help("see the IAM JSON policy reference: Version \"2012-10-17\" and a Statement list"),
        );
    }
    let size = doc.minified().chars().count();
    if size > rules.max_chars {
        ok = false;
        r.report(
            Problem::new(
                "baseline::policy-too-large",
                at,
                format!(
                    "the {} document has {size} characters without whitespace; AWS allows {}",
                    rules.what, rules.max_chars
                ),
            )
            .label("too large")
            .help("split it into several policies, or use wildcards and NotAction to shorten it"),
        );
    }
    ok
}

/// serde_json's message without its " at line L column C" suffix (we point there instead).
fn strip_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

/// Byte offset of a 1-based line and column (serde_json counts columns in bytes).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (line_start + column.saturating_sub(1)).min(text.len())
}
