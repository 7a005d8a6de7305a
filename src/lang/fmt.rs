//! `baseline fmt`: canonical layout of KDL files.
//!
//! The `kdl` crate's formatter lays out nodes and entries (indentation, spacing); values keep
//! the form they were written in (quoted strings stay quoted). The text before each node
//! (comments, blank lines) is re-indented here rather than by the crate, so that the blank
//! lines people use to group declarations survive (runs of them become one).

use kdl::{FormatConfig, KdlDocument};

const INDENT: &str = "    ";

/// Why a file was not formatted.
#[derive(Debug)]
pub enum FmtError {
    Parse(kdl::KdlError),
    /// The parser does not keep some text on `line` (a comment after a closing `}`), so
    /// formatting would silently delete it.
    WouldLoseText {
        line: usize,
    },
}

/// The formatted text of a KDL v2 document.
pub fn format_kdl(text: &str) -> Result<String, FmtError> {
    let mut doc = KdlDocument::parse_v2(text).map_err(FmtError::Parse)?;
    let unchanged = doc.to_string();
    if unchanged != text {
        let line = unchanged
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| unchanged.lines().count().min(text.lines().count()))
            + 1;
        return Err(FmtError::WouldLoseText { line });
    }
    let trailing = doc
        .format()
        .map_or_else(String::new, |f| f.trailing.clone());
    let mut originals = Vec::new();
    collect_originals(&doc, &mut originals);
    let mut config = FormatConfig::default();
    config.indent = INDENT;
    config.entry_autoformate_keep = true;
    doc.autoformat_config(&config);
    tidy(&mut doc, 0, &mut originals.into_iter());
    // Comments after the last node: re-indented, one blank line before them if any.
    let comments: Vec<&str> = trailing
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(format) = doc.format_mut() {
        format.trailing = if comments.is_empty() {
            String::new()
        } else {
            let gap = trailing.lines().next().is_some_and(|l| l.trim().is_empty());
            format!("{}{}\n", if gap { "\n" } else { "" }, comments.join("\n"))
        };
    }
    let mut out = doc.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// What the crate's formatter would lose about a node: its leading text and its terminator
/// (an end-of-line `// comment` is the node's terminator in KDL v2).
struct Original {
    leading: String,
    terminator: String,
}

/// Every node's original text around it, depth first.
fn collect_originals(doc: &KdlDocument, out: &mut Vec<Original>) {
    for node in doc.nodes() {
        let format = node.format();
        out.push(Original {
            leading: format.map_or_else(String::new, |f| f.leading.clone()),
            terminator: format.map_or_else(String::new, |f| f.terminator.clone()),
        });
        if let Some(children) = node.children() {
            collect_originals(children, out);
        }
    }
}

/// The text before a node: its comment lines re-indented, one blank line where there were
/// any (none before a first node), then the node's own indentation.
fn relead(original: &str, indent: &str, first: bool) -> String {
    let mut lines: Vec<&str> = original.split('\n').map(str::trim).collect();
    let same_line = lines.pop().unwrap_or_default();
    let mut out = String::new();
    let mut blank = false;
    for line in lines {
        if line.is_empty() {
            blank = !(first && out.is_empty());
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(indent);
        out.push_str(line);
        out.push('\n');
    }
    if blank {
        out.push('\n');
    }
    out.push_str(indent);
    if !same_line.is_empty() {
        out.push_str(same_line);
        out.push(' ');
    }
    out
}

/// Put back each node's leading text and end-of-line comment, and one space before each
/// entry (kept entries keep their own spacing otherwise).
fn tidy(doc: &mut KdlDocument, depth: usize, originals: &mut impl Iterator<Item = Original>) {
    let indent = INDENT.repeat(depth);
    for (i, node) in doc.nodes_mut().iter_mut().enumerate() {
        let original = originals.next().unwrap_or(Original {
            leading: String::new(),
            terminator: String::new(),
        });
        if let Some(format) = node.format_mut() {
            format.leading = relead(&original.leading, &indent, i == 0);
            let comment = original.terminator.trim();
            if comment.starts_with("//") {
                format.before_terminator = " ".into();
                format.terminator = format!("{comment}\n");
            }
        }
        for entry in node.entries_mut() {
            if let Some(format) = entry.format_mut() {
                format.leading = " ".into();
            }
        }
        if let Some(children) = node.children_mut() {
            tidy(children, depth + 1, originals);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::format_kdl;

    #[test]
    fn formats_keeps_comments_quotes_and_blank_lines() {
        let messy = "// header\n\n  // the trail\norganization-trail   \"t\"{\n  bucket \"b\";   multi-region #true}\n\n\n\nkms-key \"k\" {\n// why\nalias \"alias/k\"   // end of line\n}\nc // after\n\n  // the end\n";
        let formatted = format_kdl(messy).unwrap();
        let expected = "// header\n\n// the trail\norganization-trail \"t\" {\n    bucket \"b\"\n    multi-region #true\n}\n\nkms-key \"k\" {\n    // why\n    alias \"alias/k\" // end of line\n}\nc // after\n\n// the end\n";
        assert_eq!(formatted, expected);
        assert_eq!(
            format_kdl(&formatted).unwrap(),
            formatted,
            "formatting is idempotent"
        );
    }

    #[test]
    fn refuses_to_drop_a_comment_the_parser_loses() {
        let text = "a {\n    b 1\n} // lost by the parser\nc\n";
        assert!(matches!(
            format_kdl(text),
            Err(super::FmtError::WouldLoseText { line: 3 })
        ));
    }
}
