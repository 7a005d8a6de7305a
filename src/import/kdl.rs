//! The KDL that `baseline import` writes: a small node tree and its text, already in the
//! layout `baseline fmt` gives (four spaces per level, one node per line, strings quoted).

use std::fmt::Write;

/// A value written after a node's name or as a property.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Self {
        Value::Str(s.clone())
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Value::Int(n.into())
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

/// One KDL node: `name arg... key=value... { children }`, with comment lines before it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Node {
    pub comments: Vec<String>,
    pub name: String,
    pub args: Vec<Value>,
    pub props: Vec<(String, Value)>,
    pub children: Vec<Node>,
}

impl Node {
    pub fn new(name: &str) -> Node {
        Node {
            name: name.to_string(),
            ..Node::default()
        }
    }

    /// Append an argument.
    pub fn arg(mut self, v: impl Into<Value>) -> Node {
        self.args.push(v.into());
        self
    }

    /// Append arguments.
    pub fn args<V: Into<Value>>(mut self, vs: impl IntoIterator<Item = V>) -> Node {
        self.args.extend(vs.into_iter().map(Into::into));
        self
    }

    /// Append a property.
    pub fn prop(mut self, key: &str, v: impl Into<Value>) -> Node {
        self.props.push((key.to_string(), v.into()));
        self
    }

    /// Append a child node.
    pub fn child(mut self, c: Node) -> Node {
        self.children.push(c);
        self
    }

    /// Append child nodes.
    pub fn children(mut self, cs: impl IntoIterator<Item = Node>) -> Node {
        self.children.extend(cs);
        self
    }

    /// Append a comment line, written `// line` before the node.
    pub fn comment(mut self, line: impl Into<String>) -> Node {
        self.comments.push(line.into());
        self
    }

    /// The node's text at `depth` levels of indentation, with a final newline.
    pub fn to_text(&self, depth: usize) -> String {
        let mut out = String::new();
        self.write(&mut out, depth);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = "    ".repeat(depth);
        out.push_str(&comments(&self.comments, depth));
        out.push_str(&indent);
        out.push_str(&identifier(&self.name));
        for a in &self.args {
            out.push(' ');
            out.push_str(&value(a));
        }
        for (k, v) in &self.props {
            let _ = write!(out, " {}={}", identifier(k), value(v));
        }
        if self.children.is_empty() {
            out.push('\n');
            return;
        }
        out.push_str(" {\n");
        for c in &self.children {
            c.write(out, depth + 1);
        }
        let _ = writeln!(out, "{indent}}}");
    }
}

/// `lines` as `//` comments at `depth` levels of indentation, wrapped.
pub fn comments(lines: &[String], depth: usize) -> String {
    let indent = "    ".repeat(depth);
    let mut out = String::new();
    for c in lines {
        for line in c.lines() {
            let line = comment_text(line);
            if line.is_empty() {
                let _ = writeln!(out, "{indent}//");
            }
            for part in wrap(&line, COMMENT_WIDTH.saturating_sub(indent.len() + 3)) {
                let _ = writeln!(out, "{indent}// {part}");
            }
        }
    }
    out
}

/// Comment lines are wrapped to this many columns (a longer word stays whole).
const COMMENT_WIDTH: usize = 100;

/// `text` in lines of at most `width` characters, broken at spaces; leading spaces (an
/// indented list item) are kept on the first line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let lead = &text[..text.len() - text.trim_start().len()];
    let mut lines = Vec::new();
    let mut line = lead.to_string();
    for word in text.split_whitespace() {
        let empty = line.trim().is_empty();
        if !empty && line.chars().count() + 1 + word.chars().count() > width.max(20) {
            lines.push(std::mem::replace(&mut line, lead.to_string()));
        }
        if !line.trim().is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.trim().is_empty() {
        lines.push(line);
    }
    lines
}

/// A comment's text, without what would end the comment line or read as another newline.
fn comment_text(line: &str) -> String {
    line.chars()
        .map(|c| if needs_escape(c) { ' ' } else { c })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// A node or property name: bare when KDL reads it as a plain identifier, else quoted.
fn identifier(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !name.starts_with(['-', '.'])
        && !matches!(name, "true" | "false" | "null" | "inf" | "nan");
    if bare {
        name.to_string()
    } else {
        quote(name)
    }
}

fn value(v: &Value) -> String {
    match v {
        Value::Str(s) => quote(s),
        Value::Int(n) => n.to_string(),
        Value::Bool(true) => "#true".to_string(),
        Value::Bool(false) => "#false".to_string(),
    }
}

/// Characters a KDL v2 quoted string (or a comment line) may not hold as they are: newlines
/// of every kind, other control characters, direction controls and the byte-order mark.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// A KDL v2 quoted string holding exactly `s`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_written_as_fmt_lays_them_out() {
        let node = Node::new("service-control-policy")
            .arg("deny \"all\"")
            .comment("from p-123")
            .child(Node::new("document").prop("file", "policies/x.json"))
            .child(Node::new("attach").prop("root", true))
            .child(Node::new("min-length").arg(14u32));
        let text = node.to_text(0);
        assert_eq!(
            text,
            "// from p-123\nservice-control-policy \"deny \\\"all\\\"\" {\n    document file=\"policies/x.json\"\n    attach root=#true\n    min-length 14\n}\n"
        );
        assert_eq!(crate::lang::fmt::format_kdl(&text).unwrap(), text);
    }

    #[test]
    fn long_comments_are_wrapped_at_spaces() {
        let long = "word ".repeat(40);
        let text = Node::new("n").comment(long.trim()).to_text(1);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() > 2, "{text}");
        assert!(lines.iter().all(|l| l.chars().count() <= 100), "{text}");
        assert!(lines[..lines.len() - 1]
            .iter()
            .all(|l| l.starts_with("    // word")));
        assert_eq!(
            wrap("  indented item", 80),
            vec!["  indented item".to_string()]
        );
    }

    #[test]
    fn strings_round_trip_through_the_kdl_parser() {
        for s in [
            "plain",
            "tab\there",
            "line\nbreak",
            "back\\slash",
            "nel\u{85}ls\u{2028}",
            "bom\u{feff}",
            "#raw\"#",
            "",
        ] {
            let text = format!("n {}\n", quote(s));
            let doc = kdl::KdlDocument::parse_v2(&text).unwrap();
            assert_eq!(doc.nodes()[0].entries()[0].value().as_string(), Some(s));
        }
    }
}
