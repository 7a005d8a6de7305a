//! Reading the files a baseline names. They are untrusted input: a pull request can change any
//! of them, and CI validates and plans pull requests before anyone reviews them. So only
//! regular files are read, within a size limit (a FIFO or `/dev/zero` must not hang the tool or
//! exhaust its memory), only KDL (`.kdl`) and policy documents (`.json`), and only inside the
//! baseline's root folder, symlinks resolved: no diagnostic can print a file the baseline does
//! not own, such as the runner's credentials or a token in `.git/config`.

use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The largest KDL file or policy document baseline reads (1 MiB). Policy documents are far
/// smaller where AWS takes them (an SCP: 10,240 characters); baselines of hundreds of
/// declarations fit many times over.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// The deepest nesting of `{ }` blocks baseline parses. Real baselines nest a handful of
/// levels (OUs nest five deep at most in AWS); the KDL parser recurses per level and would
/// exhaust its stack on about a thousand.
pub const MAX_NESTING: usize = 64;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("is larger than {MAX_FILE_BYTES} bytes, the most baseline reads")]
    TooLarge,
    #[error("is not UTF-8 text")]
    NotText,
}

/// The text of the regular file at `path` (symlinks followed), at most [`MAX_FILE_BYTES`].
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let kind = std::fs::metadata(path)?.file_type();
    if !kind.is_file() {
        return Err(InputError::NotRegular(file_kind(&kind)));
    }
    // The size is checked while reading too: a file may grow after its metadata was read.
    let mut bytes = Vec::new();
    File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(InputError::TooLarge);
    }
    String::from_utf8(bytes).map_err(|_| InputError::NotText)
}

/// What a file that is not a regular file is, for messages.
pub fn file_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// The byte offset of the first `{` that opens a block deeper than [`MAX_NESTING`], if any.
/// Braces are counted as written, strings included: JSON inside a raw string is balanced, so
/// it adds its own depth at most, and a limit this far above real baselines leaves room.
pub fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// What a path names, checked against the baseline's root before anything is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `include "file.kdl"`
    Include,
    /// `document file="policy.json"`
    Document,
}

impl Role {
    fn extension(self) -> &'static str {
        match self {
            Role::Include => "kdl",
            Role::Document => "json",
        }
    }
}

/// The folder whose files a baseline may read: the root file's folder, or an ancestor of it
/// named by `settings { root "..." }`, never above the git checkout the baseline lives in.
#[derive(Debug, Clone)]
pub struct Root {
    pub dir: PathBuf,
}

impl Root {
    /// The root of the baseline whose root file is `root_file`, widened to `declared`
    /// (relative to the root file's folder) when given.
    pub fn of(root_file: &Path, declared: Option<&str>) -> Result<Root, String> {
        // The folder of the root file as its includes resolve (symlinks followed); of the
        // path as given when the file is not on disk (a text loaded from elsewhere).
        let base = root_file
            .canonicalize()
            .ok()
            .and_then(|f| f.parent().map(Path::to_path_buf))
            .or_else(|| root_file.parent()?.canonicalize().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        let Some(declared) = declared else {
            return Ok(Root { dir: base });
        };
        let dir = base
            .join(declared)
            .canonicalize()
            .map_err(|e| format!("cannot use {declared} as the root folder: {e}"))?;
        if !base.starts_with(&dir) {
            return Err(format!(
                "the root folder must be the root file's folder or one of its parents, and {} \
                 is neither",
                dir.display()
            ));
        }
        match git_top(&base) {
            Some(top) if !dir.starts_with(&top) => Err(format!(
                "the root folder may not reach above the git checkout {}",
                top.display()
            )),
            Some(_) => Ok(Root { dir }),
            None if dir.parent().is_none() || is_home_or_above(&dir) => Err(format!(
                "{} would let the baseline read every file of the machine or the home folder",
                dir.display()
            )),
            None => Ok(Root { dir }),
        }
    }

    /// Why `path` may not be read as `role`, or `None` when it may. `path` is canonical
    /// (symlinks resolved).
    pub fn refuses(&self, path: &Path, role: Role) -> Option<String> {
        if !path.starts_with(&self.dir) {
            return Some(format!(
                "is outside the baseline's root folder {}",
                self.dir.display()
            ));
        }
        if path
            .components()
            .any(|c| matches!(c, Component::Normal(n) if n == ".git"))
        {
            return Some("is inside a .git folder".to_string());
        }
        if path.extension().and_then(|e| e.to_str()) != Some(role.extension()) {
            return Some(format!(
                "is not a .{} file ({} reads only those)",
                role.extension(),
                match role {
                    Role::Include => "`include`",
                    Role::Document => "`document file=`",
                }
            ));
        }
        None
    }
}

/// The top of the git checkout holding `dir` (the nearest folder with a `.git` entry).
fn git_top(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

fn is_home_or_above(dir: &Path) -> bool {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .and_then(|h| h.canonicalize().ok())
        .is_some_and(|home| home.starts_with(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_found_before_parsing() {
        assert_eq!(too_deep("a { b { c } }"), None);
        let deep = "a {".repeat(MAX_NESTING + 1);
        assert_eq!(too_deep(&deep), Some(deep.len() - 1));
    }

    #[test]
    fn only_regular_files_are_read() {
        assert!(matches!(
            read_text(Path::new("/dev/zero")),
            Err(InputError::NotRegular("a device"))
        ));
        assert!(matches!(
            read_text(Path::new("/")),
            Err(InputError::NotRegular("a directory"))
        ));
    }

    #[test]
    fn the_root_admits_its_own_kdl_and_json_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let root_file = dir.path().join("baseline.kdl");
        std::fs::write(&root_file, "").unwrap();
        let root = Root::of(&root_file, None).unwrap();
        let inside = root.dir.join("policies/x.json");
        assert_eq!(root.refuses(&inside, Role::Document), None);
        assert!(root
            .refuses(&root.dir.join("x.kdl"), Role::Document)
            .is_some());
        assert!(root
            .refuses(&root.dir.join(".git/config.kdl"), Role::Include)
            .is_some());
        assert!(root
            .refuses(Path::new("/etc/passwd.kdl"), Role::Include)
            .is_some());
        assert!(Root::of(&root_file, Some("sub")).is_err(), "not a parent");
    }
}
