//! Policy documents: `document file="policies/x.json"` or `document #"{ ... }"#`.
//!
//! A document is checked when the baseline loads: it must be JSON, have the shape of an IAM
//! policy, and fit AWS's size limit. Problems inside a document file are reported in that file,
//! at the line and column of the JSON error.

use kdl::KdlValue;
use serde_json::{json, Map, Value};

use super::checks::check_policy_shape;
use super::diagnostic::Problem;
use super::reader::NodeReader;
use super::source::{FileId, Span, Spanned};

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
    let written = Spanned::new(rel.to_string(), file_span);
    let path = r.cx.admit(r.file, &written, super::input::Role::Document)?;
    let text = match super::input::read_text(&path) {
        Ok(t) => t,
        Err(e) => {
            r.report(
                Problem::new(
                    "baseline::file-not-found",
                    file_span,
                    format!("cannot read {}: it {e}", path.display()),
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

/// In a policy document, the name of the role baseline assumes in member accounts
/// (`settings { access-role }`), so that shipped SCPs can exempt whatever role an
/// organization uses instead of a hard-coded one.
pub const ACCESS_ROLE_VARIABLE: &str = "${baseline:access-role}";

/// The first `${baseline:...}` in `text` that baseline does not know.
fn unknown_variable(text: &str) -> Option<String> {
    text.match_indices("${baseline:").find_map(|(at, _)| {
        let rest = &text[at..];
        let end = rest.find('}').map_or(rest.len(), |e| e + 1);
        let variable = &rest[..end];
        (variable != ACCESS_ROLE_VARIABLE).then(|| variable.to_string())
    })
}

/// `doc` with baseline's variables replaced by their values: [`ACCESS_ROLE_VARIABLE`] by
/// the access role. IAM's own variables (`${aws:username}`) are left for IAM.
pub fn resolve_variables(doc: &Value, access_role: &str) -> Value {
    match doc {
        Value::String(s) if s.contains(ACCESS_ROLE_VARIABLE) => {
            Value::String(s.replace(ACCESS_ROLE_VARIABLE, access_role))
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|v| resolve_variables(v, access_role))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), resolve_variables(v, access_role)))
                .collect(),
        ),
        other => other.clone(),
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
    let text = doc.minified();
    if let Some(unknown) = unknown_variable(&text) {
        ok = false;
        r.report(
            Problem::new(
                "baseline::invalid-policy",
                at,
                format!(
                    "the {} document uses an unknown variable {unknown}",
                    rules.what
                ),
            )
            .label("unknown variable")
            .help(format!(
                "baseline replaces {ACCESS_ROLE_VARIABLE} with `settings {{ access-role }}`; \
                 IAM's own variables start with ${{aws:"
            )),
        );
    }
    // Counted with the variable replaced by the longest role name IAM allows (64).
    let size = text.chars().count()
        + text.matches(ACCESS_ROLE_VARIABLE).count() * (64 - ACCESS_ROLE_VARIABLE.len());
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

// --- Comparing and merging policies ------------------------------------------------------

/// A policy document in a form where equal meaning is equal JSON: action, resource,
/// principal and condition-value lists are sets (sorted, deduplicated, a list of one
/// written as its value), scalar condition values are strings, a lone statement is a list
/// of one, and statements are sorted. Applied to the declared and the live document alike,
/// so that a policy AWS stores with other key order or list order is not drift.
pub fn canonical(doc: &Value) -> Value {
    let Value::Object(map) = doc else {
        return doc.clone();
    };
    let mut map = map.clone();
    if let Some(s) = map.get("Statement") {
        let mut statements: Vec<Value> = match s {
            Value::Array(a) => a.iter().map(canonical_statement).collect(),
            one => vec![canonical_statement(one)],
        };
        // Sorted by their text with keys sorted, so that key order (which AWS may change
        // when it stores a policy) cannot reorder them.
        statements.sort_by_cached_key(|s| crate::provider::sort_keys(s).to_string());
        map.insert("Statement".into(), Value::Array(statements));
    }
    Value::Object(map)
}

/// One statement in the form [`canonical`] gives it.
pub fn canonical_statement(s: &Value) -> Value {
    let Value::Object(map) = s else {
        return s.clone();
    };
    let strings_of = |v: &Value| -> Map<String, Value> {
        match v {
            Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), string_set(v))).collect(),
            _ => Map::new(),
        }
    };
    let mut out = Map::new();
    for (k, v) in map {
        let v = match (k.as_str(), v) {
            ("Action" | "NotAction" | "Resource" | "NotResource", v) => string_set(v),
            ("Principal" | "NotPrincipal", Value::Object(_)) => Value::Object(strings_of(v)),
            ("Condition", Value::Object(ops)) => Value::Object(
                ops.iter()
                    .map(|(op, keys)| (op.clone(), Value::Object(strings_of(keys))))
                    .collect(),
            ),
            (_, v) => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

/// A value IAM reads as a set of strings, sorted and deduplicated; one value bare.
fn string_set(v: &Value) -> Value {
    let scalar = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut items: Vec<String> = match v {
        Value::Array(a) => a.iter().map(scalar).collect(),
        other => vec![scalar(other)],
    };
    items.sort();
    items.dedup();
    match items.as_slice() {
        [one] => json!(one),
        _ => json!(items),
    }
}

/// Statements baseline owns in a shared resource policy have a `Sid` with this prefix; all
/// others belong to whoever put them there and are never changed.
pub const OWNED_SID_PREFIX: &str = "Baseline";

/// Whether a statement `Sid` is baseline's own.
pub fn is_baseline_sid(sid: &str) -> bool {
    sid.starts_with(OWNED_SID_PREFIX)
}

/// The statements of `doc` whose `Sid` `owned` accepts, canonical, by Sid: the part of a
/// shared resource policy (a key or bucket policy) that baseline manages.
pub fn owned_statements(doc: &Value, owned: impl Fn(&str) -> bool) -> Map<String, Value> {
    statements(doc)
        .filter_map(|st| {
            let sid = st.get("Sid")?.as_str()?;
            let mut st = canonical_statement(st);
            // The Sid is the key of the map, not part of what is compared.
            if let Value::Object(m) = &mut st {
                m.remove("Sid");
            }
            owned(sid).then(|| (sid.to_string(), st))
        })
        .collect()
}

/// `doc` (a live policy, or none) with the statements `owned` accepts replaced by `wanted`
/// (by Sid): what other producers put into the policy is kept as it is.
pub fn merge_owned(
    doc: Option<&Value>,
    owned: impl Fn(&str) -> bool,
    wanted: &Map<String, Value>,
) -> Value {
    let mut merged = match doc {
        Some(Value::Object(m)) => m.clone(),
        _ => {
            let mut m = Map::new();
            m.insert("Version".into(), json!("2012-10-17"));
            m
        }
    };
    let mut kept: Vec<Value> = doc
        .map(|d| {
            statements(d)
                .filter(|st| !st.get("Sid").and_then(Value::as_str).is_some_and(&owned))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    kept.extend(wanted.iter().map(|(sid, st)| {
        let mut st = st.clone();
        if let Value::Object(m) = &mut st {
            m.insert("Sid".into(), json!(sid));
        }
        st
    }));
    merged.insert("Statement".into(), Value::Array(kept));
    Value::Object(merged)
}

/// The statements of a policy document (a lone statement object counts as one).
fn statements(doc: &Value) -> impl Iterator<Item = &Value> {
    let all: &[Value] = match doc.get("Statement") {
        Some(Value::Array(a)) => a,
        Some(one) => std::slice::from_ref(one),
        None => &[],
    };
    all.iter()
}

#[cfg(test)]
mod canonical_tests {
    use super::{canonical, merge_owned, owned_statements};
    use serde_json::json;

    #[test]
    fn statement_order_does_not_depend_on_key_order() {
        let a = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "A", "Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::b"},
            {"Sid": "B", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}
        ]});
        // As a store might return it: keys reordered, statements swapped.
        let b = json!({"Statement": [
            {"Action": ["s3:*"], "Effect": "Deny", "Resource": "arn:aws:s3:::b/*", "Sid": "B"},
            {"Sid": "A", "Effect": "Allow", "Resource": "arn:aws:s3:::b", "Action": "s3:GetBucketAcl"}
        ], "Version": "2012-10-17"});
        assert_eq!(canonical(&a), canonical(&b));
    }

    #[test]
    fn merging_replaces_only_owned_statements_and_keeps_the_rest() {
        let live = json!({"Version": "2012-10-17", "Id": "theirs", "Statement": [
            {"Sid": "TheirAudit", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"},
             "Action": "kms:*", "Resource": "*"},
            {"Sid": "BaselineOld", "Effect": "Allow", "Principal": {"Service": "x.amazonaws.com"},
             "Action": "kms:Decrypt", "Resource": "*"},
            {"Effect": "Deny", "Principal": "*", "Action": "kms:Delete*", "Resource": "*"}
        ]});
        let owned = |sid: &str| sid.starts_with("Baseline");
        let wanted = owned_statements(
            &json!({"Statement": [{"Sid": "BaselineNew", "Effect": "Allow",
                "Principal": {"Service": ["y.amazonaws.com"]}, "Action": ["kms:Encrypt"], "Resource": "*"}]}),
            owned,
        );
        let merged = merge_owned(Some(&live), owned, &wanted);
        assert_eq!(merged["Id"], "theirs");
        let sids: Vec<_> = merged["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.get("Sid").and_then(|v| v.as_str()).unwrap_or("-"))
            .collect();
        assert_eq!(sids, ["TheirAudit", "-", "BaselineNew"]);
        assert_eq!(owned_statements(&merged, owned), wanted);
        assert_eq!(
            merged["Statement"][2]["Principal"]["Service"],
            "y.amazonaws.com"
        );
    }
}
