//! Source files of a baseline, and spans that point into them.
//!
//! Every value read from KDL (or from a policy document next to it) keeps a [`Span`], so that a
//! problem found later, even after AWS was read, can still be reported at `file:line:col`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::SourceSpan;

/// Index of a file in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub usize);

/// A byte range in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub fn new(file: FileId, span: SourceSpan) -> Self {
        Span {
            file,
            offset: span.offset(),
            len: span.len(),
        }
    }

    pub fn source_span(&self) -> SourceSpan {
        SourceSpan::new(self.offset.into(), self.len)
    }
}

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// One file read while loading a baseline.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user would recognise it (relative to the working directory when possible).
    pub display: String,
    /// The canonical path, used to detect include cycles and to resolve relative paths.
    pub path: PathBuf,
    pub text: Arc<String>,
}

/// All files of one baseline: the root, its includes, and the policy documents they name.
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: &Path, text: String) -> FileId {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let display = display_path(&path);
        self.files.push(SourceFile {
            display,
            path,
            text: Arc::new(text),
        });
        FileId(self.files.len() - 1)
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    pub fn find(&self, path: &Path) -> Option<FileId> {
        let path = path.canonicalize().ok()?;
        self.files.iter().position(|f| f.path == path).map(FileId)
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i), f))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        line_col(&self.get(span.file).text, span.offset)
    }

    /// `file:line:col` of a span.
    pub fn location(&self, span: Span) -> String {
        let (line, col) = self.line_col(span);
        format!("{}:{line}:{col}", self.get(span.file).display)
    }
}

/// 1-based line and column (in characters) of a byte offset into `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// A path relative to the working directory when it lies below it, else as given.
pub fn display_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.canonicalize().ok())
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let text = "a\nλx = 1\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 2), (2, 1));
        // 'x' follows a two-byte character
        assert_eq!(line_col(text, 4), (2, 2));
    }
}
