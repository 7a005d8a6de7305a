//! `baseline fmt`: canonical formatting of KDL files (the `kdl` crate's formatter, comments kept).

use kdl::KdlDocument;

/// The formatted text of a KDL v2 document, or the parse error.
pub fn format_kdl(text: &str) -> Result<String, kdl::KdlError> {
    let mut doc = KdlDocument::parse_v2(text)?;
    doc.autoformat();
    let mut out = doc.to_string();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::format_kdl;

    #[test]
    fn formats_and_keeps_comments() {
        let messy =
            "// the trail\norganization-trail   \"t\"{bucket \"b\";   multi-region #true}\n";
        let formatted = format_kdl(messy).unwrap();
        assert!(formatted.contains("// the trail"), "{formatted}");
        assert!(
            formatted.contains("    bucket b\n") || formatted.contains("    bucket \"b\"\n"),
            "{formatted}"
        );
        assert_eq!(
            format_kdl(&formatted).unwrap(),
            formatted,
            "formatting is idempotent"
        );
    }
}
