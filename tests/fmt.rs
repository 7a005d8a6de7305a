//! `baseline fmt` never loses or changes a character of meaning or commentary, or refuses
//! naming the line and the cause; a second pass changes nothing; `validate`'s verdict is the
//! same before and after (issue 11, findings 1, 2 and fmt's message in 8).

use std::path::{Path, PathBuf};

use baseline::lang::fmt::{format_kdl, verify, FmtError};
use baseline::lang::{self, LoadError};

/// Declarations (addresses) and problems (code and message, positions aside) of a baseline.
type Verdict = (Vec<String>, Vec<(String, String)>);

fn verdict(root: &Path) -> Verdict {
    match lang::load(root) {
        Ok(b) => {
            let mut declarations: Vec<String> =
                b.declarations.iter().map(|d| d.address()).collect();
            declarations.sort();
            (declarations, Vec::new())
        }
        Err(LoadError::Invalid(invalid)) => {
            let mut problems: Vec<(String, String)> = invalid
                .problems
                .iter()
                .map(|p| (p.code.to_string(), p.message.clone()))
                .collect();
            problems.sort();
            (Vec::new(), problems)
        }
        Err(e) => (Vec::new(), vec![("unreadable".into(), e.to_string())]),
    }
}

/// Format `text`, which must be accepted, and check the properties: a second pass changes
/// nothing, and `validate` reads the same declarations and problems from both.
fn format_ok(text: &str) -> String {
    let out = format_kdl(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        format_kdl(&out).as_ref(),
        Ok(&out),
        "not idempotent:\n{out}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baseline.kdl");
    std::fs::write(&file, text).unwrap();
    let before = verdict(&file);
    std::fs::write(&file, &out).unwrap();
    assert_eq!(
        verdict(&file),
        before,
        "verdict changed:\n{text}\n---\n{out}"
    );
    out
}

/// The KDL v2 newlines other than LF.
const NEWLINES: &[&str] = &[
    "\r", "\r\n", "\u{85}", "\u{b}", "\u{c}", "\u{2028}", "\u{2029}",
];

#[test]
fn a_comment_ends_at_every_kdl_newline() {
    // Finding 1: the line after `// note` moved into the comment when the comment ended in
    // anything but LF.
    for nl in NEWLINES {
        let text = format!("organizational-unit \"a\"\n// note{nl}account \"x\" ou=\"a\"\n");
        let out = format_ok(&text);
        assert_eq!(
            out, "organizational-unit \"a\"\n// note\naccount \"x\" ou=\"a\"\n",
            "{nl:?}"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("baseline.kdl"), &out).unwrap();
        let (declarations, problems) = verdict(&dir.path().join("baseline.kdl"));
        assert_eq!(declarations.len(), 2, "{nl:?}: {problems:?}");
    }
}

#[test]
fn every_newline_becomes_lf() {
    let lf = r#"// a
mfa {
  /* b
     c */
  targets { all-accounts } // d
}
"#;
    for nl in NEWLINES {
        assert_eq!(
            format_ok(&lf.replace('\n', nl)),
            r#"// a
mfa {
    /* b
       c */
    targets {
        all-accounts
    } // d
}
"#,
            "{nl:?}"
        );
    }
}

#[test]
fn slashdashed_arguments_properties_and_blocks_are_kept() {
    // Finding 2: `/-"x"` and `/-{ ... }` before the real block were dropped.
    let text = r#"organizational-unit "a"
account  "x" /-"y"   ou="a" /-ou="b"
mfa /-{ targets { ou "a" } } {
  targets { all-accounts }
}
"#;
    assert_eq!(
        format_ok(text),
        r#"organizational-unit "a"
account "x" /-"y" ou="a" /-ou="b"
mfa /-{
    targets {
        ou "a"
    }
} {
    targets {
        all-accounts
    }
}
"#
    );
    // A slashdash may be followed by blanks, newlines and comments before what it comments out.
    let text = r#"organizational-unit "a"
account "x" /-  // gone
  "y" ou="a"
/-
organizational-unit "b"
"#;
    assert_eq!(
        format_ok(text),
        r#"organizational-unit "a"
account "x" /- // gone
    "y" ou="a"
/-organizational-unit "b"
"#
    );
}

#[test]
fn comments_between_entries_and_before_a_block_are_kept() {
    // Finding 2: `/* why */` between entries and `/* c */` before `{` were dropped.
    let text = r#"organizational-unit "a"
account "x"/* why */ou="a"
mfa   /* c */{
  targets /* t */ { all-accounts }
} /* after */ // end
"#;
    assert_eq!(
        format_ok(text),
        r#"organizational-unit "a"
account "x" /* why */ ou="a"
mfa /* c */ {
    targets /* t */ {
        all-accounts
    }
} /* after */ // end
"#
    );
    // Between a type and its value, around `=`, and after `;`.
    let text = r#"organizational-unit "a"; // ou
account (/* t */string) "x" ou /* k */ = /* v */ "a"; /* next */ organizational-unit "b"
"#;
    assert_eq!(
        format_ok(text),
        r#"organizational-unit "a" // ou
account ( /* t */ string)"x" ou /* k */ = /* v */ "a"
/* next */ organizational-unit "b"
"#
    );
}

#[test]
fn line_continuations_and_their_comments_are_kept() {
    // Finding 2: `// continued` after a `\` was dropped.
    let text = r#"organizational-unit "a"
account "x" \ // continued
  ou="a"
account "y" \
\ /* twice */
        ou="a"
"#;
    assert_eq!(
        format_ok(text),
        r#"organizational-unit "a"
account "x" \ // continued
    ou="a"
account "y" \
    \ /* twice */
    ou="a"
"#
    );
}

#[test]
fn multi_line_comments_keep_their_indentation() {
    // Finding 2: the lines of a `/* */` comment lost their indentation.
    let text = r#"mfa {
  /* first
   * second
   *   indented more
   */
  targets { all-accounts }
}
/*
    top
*/
"#;
    assert_eq!(
        format_ok(text),
        r#"mfa {
    /* first
     * second
     *   indented more
     */
    targets {
        all-accounts
    }
}
/*
    top
*/
"#
    );
}

#[test]
fn a_slashdashed_block_formats_idempotently() {
    // Finding 2: `targets /-{ all-accounts }` changed again on a second pass.
    let text = r#"mfa {
    targets /-{ all-accounts } { all-accounts }
}
"#;
    assert_eq!(
        format_ok(text),
        r#"mfa {
    targets /-{
        all-accounts
    } {
        all-accounts
    }
}
"#
    );
    let text = r#"mfa {
    targets { all-accounts } /-{ all-accounts }
}
"#;
    assert_eq!(
        format_ok(text),
        r#"mfa {
    targets {
        all-accounts
    } /-{
        all-accounts
    }
}
"#
    );
}

#[test]
fn what_the_fuzzer_found_formats() {
    // A double slashdash before an entry, which the KDL parser takes.
    let text = "organizational-unit \"a\"\naccount \"x\" /-/-\"y\" ou=\"a\"\n";
    assert_eq!(format_ok(text), text);
    // A `;` on the line after a continuation ends the node: the next node must not join it.
    let text = r#"organizational-unit "a" \ // c
; organizational-unit "b"
"#;
    assert_eq!(
        format_ok(text),
        r#"organizational-unit "a" \ // c

organizational-unit "b"
"#
    );
}

#[test]
fn a_comment_after_a_closing_brace_is_kept() {
    // The case fmt used to refuse.
    let text = r#"mfa {
    targets {
        all-accounts
    } // every one
} // done
"#;
    assert_eq!(format_ok(text), text);
}

#[test]
fn a_refusal_names_the_line_and_what_would_be_lost() {
    // Finding 8: the message always blamed a comment after `}`. `verify` is the check fmt
    // runs on its own output; here it is given outputs that lose something.
    let before = "organizational-unit \"a\"\naccount \"x\" /-\"y\" ou=\"a\"\n";
    let refused = |after: &str| match verify(before, after) {
        Err(FmtError::Refused { line, cause }) => (line, cause),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        refused("organizational-unit \"a\"\naccount \"x\" ou=\"a\"\n"),
        (
            2,
            "formatting would drop the `/-` that comments out what follows it".into()
        )
    );
    assert_eq!(
        refused("organizational-unit \"a\" account \"x\" /-\"y\" ou=\"a\"\n"),
        (
            1,
            "formatting would change the meaning of the node `organizational-unit`".into()
        )
    );
    let before = "organizational-unit \"a\"\n// note\raccount \"x\" ou=\"a\"\n";
    assert_eq!(
        verify(before, "organizational-unit \"a\"\n// note account \"x\" ou=\"a\"\n"),
        Err(FmtError::Refused {
            line: 2,
            cause: "formatting would change the comment `// note` into the comment `// note account \"x\" ou=\"a\"`".into()
        })
    );
    assert_eq!(
        format_kdl("a {\n").unwrap_err(),
        FmtError::Invalid,
        "malformed KDL is reported by validate"
    );
}

#[test]
fn the_cli_formats_what_it_used_to_refuse_or_mangle() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baseline.kdl");
    std::fs::write(
        &file,
        "organizational-unit \"a\"\r\n// note\raccount \"x\" ou=\"a\" /-\"y\"\r\nmfa {\r\n  targets { all-accounts } // all\r\n} // done\r\n",
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("baseline")
        .unwrap()
        .arg("fmt")
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "organizational-unit \"a\"\n// note\naccount \"x\" ou=\"a\" /-\"y\"\nmfa {\n    targets {\n        all-accounts\n    } // all\n} // done\n"
    );
}

/// `baseline ARGS`: (exit code, stdout and stderr).
fn cli(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let out = assert_cmd::Command::cargo_bin("baseline")
        .unwrap()
        .args(args)
        .env("NO_COLOR", "1")
        .timeout(std::time::Duration::from_secs(30))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn fmt_replaces_a_file_atomically_keeping_its_permissions() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("baseline.kdl");
    std::fs::write(&file, "organizational-unit   \"a\"\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let before = std::fs::metadata(&file).unwrap();
    let (code, out) = cli(&["fmt".as_ref(), file.as_os_str()]);
    assert_eq!(code, Some(0), "{out}");
    let after = std::fs::metadata(&file).unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "organizational-unit \"a\"\n"
    );
    // A new file renamed over the old one (a plain write would keep the inode, and a crash
    // in the middle would leave it empty or cut).
    assert_ne!(before.ino(), after.ino());
    assert_eq!(after.permissions().mode() & 0o777, 0o640);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["baseline.kdl"], "no temporary file is left");
}

#[test]
fn a_folder_is_walked_as_git_sees_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("baseline.kdl"), "organizational-unit \"a\"\n").unwrap();
    // Not baseline files: git's own folder, hidden folders, and what .gitignore excludes.
    for skipped in [".git", ".cache", "target"] {
        std::fs::create_dir_all(d.join(skipped)).unwrap();
        std::fs::write(d.join(skipped).join("junk.kdl"), "not { valid").unwrap();
    }
    std::fs::write(d.join(".gitignore"), "target/\n").unwrap();
    // A symlink loop is not followed round.
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", d.join("sub/loop")).unwrap();
    let (code, out) = cli(&["validate".as_ref(), d.as_os_str()]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.matches("ok  ").count(), 1, "{out}");
    let (code, out) = cli(&["fmt".as_ref(), "--check".as_ref(), d.as_os_str()]);
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("junk"), "{out}");
}

/// Every `.kdl` file below `dir`.
fn kdl_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(kdl_files(&path));
        } else if path.extension().is_some_and(|e| e == "kdl") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn shipped_files() -> Vec<PathBuf> {
    ["baselines", "examples", "tests/fixtures"]
        .iter()
        .flat_map(|d| kdl_files(Path::new(d)))
        .collect()
}

#[test]
fn shipped_files_format_to_themselves_or_idempotently() {
    let mut formatted = 0;
    for file in shipped_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        match format_kdl(&text) {
            Ok(out) => {
                if !file.starts_with("tests") {
                    assert_eq!(out, text, "{}", file.display());
                }
                assert_eq!(format_kdl(&out), Ok(out.clone()), "{}", file.display());
                formatted += 1;
            }
            // The fixture of malformed KDL.
            Err(FmtError::Invalid) => assert!(
                kdl::KdlDocument::parse_v2(&text).is_err(),
                "{}",
                file.display()
            ),
            Err(e) => panic!("{}: {e}", file.display()),
        }
    }
    assert!(formatted > 20, "only {formatted} files formatted");
}

#[test]
fn formatting_the_fixtures_keeps_their_verdicts() {
    // In a copy of the fixtures, so that includes and policy documents resolve alike.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("fixtures");
    copy_dir(Path::new("tests/fixtures"), &copy);
    let files = kdl_files(&copy);
    let before: Vec<Verdict> = files.iter().map(|f| verdict(f)).collect();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        if let Ok(out) = format_kdl(&text) {
            std::fs::write(file, out).unwrap();
        }
    }
    for (file, before) in files.iter().zip(before) {
        assert_eq!(verdict(file), before, "{}", file.display());
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// What the mutations insert: comments, slashdashes, continuations, newlines of every kind,
/// terminators and blocks, alone or in the places a fuzzer finds.
const INSERTIONS: &[&str] = &[
    "/* c */",
    " /* c */ ",
    "/* a\n      b\n  */",
    "// c\n",
    " // c\n",
    "\r",
    "\r\n",
    "\u{85}",
    "\u{b}",
    "\u{c}",
    "\u{2028}",
    "\u{2029}",
    "/-",
    " /-",
    "/- ",
    " /-x ",
    " /-k=1 ",
    " /-(t)v ",
    " \\\n",
    " \\ // c\n",
    " \\ /* c */ // d\n",
    ";",
    "; ",
    " /-{ y }",
    " /-{\n}",
    " { }",
    "\n\n\n",
    "\t",
    "\u{a0}",
    "  ",
    "{",
    "}",
    " k=(t)1 ",
    "/-\n",
    "/- // c\n",
    "/-/-",
    "\\",
    "/",
    "*",
    "\"",
    "#",
    "=",
    "(",
    ")",
    "\n",
    "\"\"\"\n  x\n  \"\"\"",
    "#\"\"\"\n  x\n  \"\"\"#",
    " \"a\\\n  b\" ",
    "/*/**/*/",
    "#true",
    "  /* x\n y */ z",
    "\t/* x\n\t * y */\n",
];

/// A small deterministic fuzzer over the shipped files (insertions, deletions, other newlines):
/// whatever still parses formats without loss (checked by `verify`) and idempotently.
#[test]
fn mutated_files_keep_everything_or_are_refused() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let sources: Vec<String> = shipped_files()
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .filter(|t| t.len() < 3_000)
        .collect();
    let mut parsed = 0;
    for _ in 0..2000 {
        let mut text = sources[next(sources.len())].clone();
        for _ in 0..1 + next(4) {
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let k = next(boundaries.len());
            match next(6) {
                0 => {
                    let end = boundaries[(k + 1 + next(3)).min(boundaries.len() - 1)];
                    text.replace_range(boundaries[k]..end, "");
                }
                1 => text = text.replace('\n', NEWLINES[next(NEWLINES.len())]),
                _ => text.insert_str(boundaries[k], INSERTIONS[next(INSERTIONS.len())]),
            }
        }
        if kdl::KdlDocument::parse_v2(&text).is_err() {
            continue;
        }
        parsed += 1;
        match format_kdl(&text) {
            Ok(out) => {
                assert_eq!(verify(&text, &out), Ok(()), "{text}");
                assert_eq!(format_kdl(&out).as_ref(), Ok(&out), "{text}");
            }
            // A refusal would be safe, but every mutant here can be laid out without loss.
            Err(FmtError::Refused { line, cause }) => panic!("refused at {line}: {cause}\n{text}"),
            Err(FmtError::Invalid) => panic!("parses, yet invalid:\n{text}"),
        }
    }
    assert!(parsed > 500, "only {parsed} mutants parse");
}
