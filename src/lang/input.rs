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

/// The most slashdashed children blocks (`/-{ }`) nested inside one another that baseline
/// parses. The KDL parser reads such a block twice for each one it sits in, so its time doubles
/// per level: 20 levels in a 1 KB file take half a minute, 4 levels around a 1 MB file 13 times
/// as long as without them. Commenting out a block inside a commented-out block is already rare.
pub const MAX_SLASHDASHED_NESTING: usize = 2;

/// A block nested deeper than the KDL parser is given: where it opens, and which limit it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep {
    /// The byte offset of the `{`.
    pub offset: usize,
    /// Whether the limit broken is [`MAX_SLASHDASHED_NESTING`] rather than [`MAX_NESTING`].
    pub slashdashed: bool,
}

impl TooDeep {
    pub fn message(&self) -> String {
        if self.slashdashed {
            format!(
                "slashdashed blocks (`/-{{ }}`) nest more than {MAX_SLASHDASHED_NESTING} deep inside one another"
            )
        } else {
            format!("blocks nest more than {MAX_NESTING} levels deep")
        }
    }

    pub fn help(&self) -> &'static str {
        if self.slashdashed {
            "a block commented out inside a commented-out block is commented out already: \
             remove its `/-`, or close the blocks that are open here"
        } else {
            "a baseline nests a few levels; close the blocks that are open here"
        }
    }
}

/// The first `{` that opens a block deeper than [`MAX_NESTING`], or a slashdashed block inside
/// more than [`MAX_SLASHDASHED_NESTING`] others, if any. Braces are counted as written, strings
/// and comments included: JSON inside a raw string is balanced, so it adds its own depth at
/// most, and limits above what real baselines write leave room.
pub fn too_deep(text: &str) -> Option<TooDeep> {
    // For each open block, whether it is slashdashed.
    let mut open: Vec<bool> = Vec::new();
    let mut slashdashed_open = 0usize;
    let mut slashdash = Slashdash::None;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'-' if i > 0 && bytes[i - 1] == b'/' => match brace_after_space(text, i + 1) {
                // A `/-` inside a comment between another `/-` and its `{` decides nothing.
                Lookahead::NotBrace => {}
                Lookahead::Brace(at) => slashdash = Slashdash::At(at),
                Lookahead::Unknown => slashdash = Slashdash::NextBrace,
            },
            b'{' => {
                let slashdashed = match slashdash {
                    Slashdash::At(at) => at == i,
                    Slashdash::NextBrace => true,
                    Slashdash::None => false,
                };
                if slashdash == Slashdash::NextBrace || slashdashed {
                    slashdash = Slashdash::None;
                }
                open.push(slashdashed);
                slashdashed_open += usize::from(slashdashed);
                if open.len() > MAX_NESTING || slashdashed_open > MAX_SLASHDASHED_NESTING {
                    return Some(TooDeep {
                        offset: i,
                        slashdashed: open.len() <= MAX_NESTING,
                    });
                }
            }
            b'}' => slashdashed_open -= usize::from(open.pop() == Some(true)),
            _ => {}
        }
    }
    None
}

/// Which `{` the last `/-` applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slashdash {
    None,
    At(usize),
    /// The next one, whatever comes before it (the lookahead gave up, so count it).
    NextBrace,
}

enum Lookahead {
    Brace(usize),
    NotBrace,
    Unknown,
}

/// How far past a `/-` [`brace_after_space`] looks, so that the scan stays linear.
const SLASHDASH_LOOKAHEAD: usize = 256;

/// Whether a `{` follows `from` with only what a slashdash may skip before it (whitespace,
/// newlines, line continuations, comments), looking at most [`SLASHDASH_LOOKAHEAD`] bytes.
fn brace_after_space(text: &str, from: usize) -> Lookahead {
    let window = &text[from..];
    let mut chars = window.char_indices().peekable();
    let mut comment_depth = 0usize;
    let mut line_comment = false;
    while let Some((i, c)) = chars.next() {
        if i > SLASHDASH_LOOKAHEAD {
            return Lookahead::Unknown;
        }
        let next = chars.peek().map(|&(_, c)| c);
        if line_comment {
            line_comment = !matches!(
                c,
                '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
            );
        } else if c == '/' && next == Some('*') {
            comment_depth += 1;
            chars.next();
        } else if comment_depth > 0 {
            if c == '*' && next == Some('/') {
                comment_depth -= 1;
                chars.next();
            }
        } else if c == '/' && next == Some('/') {
            line_comment = true;
            chars.next();
        } else if c == '{' {
            return Lookahead::Brace(from + i);
        } else if !(c.is_whitespace() || c == '\\') {
            return Lookahead::NotBrace;
        }
    }
    if comment_depth > 0 {
        Lookahead::Unknown
    } else {
        Lookahead::NotBrace
    }
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
        assert_eq!(
            too_deep(&deep),
            Some(TooDeep {
                offset: deep.len() - 1,
                slashdashed: false
            })
        );
    }

    #[test]
    fn nested_slashdashed_blocks_are_found_before_parsing() {
        // The spellings a slashdash allows between `/-` and `{`, each one level over the limit.
        let base = "a /-{ ".repeat(MAX_SLASHDASHED_NESTING);
        for spelling in [
            "/-{",
            "/-\n{",
            "/- /* x /* y */ */ {",
            "/- // z\u{2028} \\\n{",
        ] {
            assert_eq!(
                too_deep(&format!("{base}}} b {spelling}")),
                None,
                "{spelling}"
            );
            let over = format!("{base}b {spelling}");
            assert_eq!(
                too_deep(&over),
                Some(TooDeep {
                    offset: over.len() - 1,
                    slashdashed: true
                }),
                "{spelling}"
            );
        }
        // A slashdash the lookahead cannot see through counts, a slashdashed argument does not.
        let long_comment = format!("{base}b /- /* {} */ {{", "x".repeat(300));
        assert!(too_deep(&long_comment).is_some_and(|deep| deep.slashdashed));
        assert_eq!(too_deep(&format!("{base}b /-1 {{")), None);
        // Slashdashed blocks side by side, and slashdashed nodes, do not add up.
        assert_eq!(too_deep(&"a /-{ } ".repeat(40)), None);
        assert_eq!(too_deep(&"/-a { ".repeat(40)), None);
        let over = "a /-{ ".repeat(MAX_SLASHDASHED_NESTING + 1);
        assert_eq!(
            too_deep(&over),
            Some(TooDeep {
                offset: over.len() - 2,
                slashdashed: true
            })
        );
        // Closing a slashdashed block makes room for another.
        let reopened = format!("{}}} a /-{{", "a /-{ ".repeat(MAX_SLASHDASHED_NESTING));
        assert_eq!(too_deep(&reopened), None);
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
