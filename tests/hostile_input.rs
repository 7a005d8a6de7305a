//! Hostile and malformed input (issue 11): a pull request can change every file of a
//! baseline, and CI validates and plans it before anyone reviews. No input may make baseline
//! read or print a file outside the baseline, hang, exhaust its memory, overflow its stack or
//! panic.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// What a secret file holds: it must never appear in any output.
const SECRET: &str = "aws_secret_access_key = AKIAEXAMPLESECRETKEY0";

/// Run `baseline` with `args` in `dir`, killed after 20 s (a hang is a failure). Its output
/// is read while it runs: a child blocked on a full pipe is not a hang of baseline's.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let child = Command::new(env!("CARGO_BIN_EXE_baseline"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || done.send(child.wait_with_output()));
    match finished.recv_timeout(Duration::from_secs(20)) {
        Ok(output) => output.unwrap(),
        Err(_) => {
            // SAFETY: a plain kill(2) of our own child, still unreaped (its waiter is blocked).
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("baseline {args:?} hung");
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A baseline folder (`base/`) next to a folder that is not the baseline's (`outside/`, with
/// a secret in a file called like a policy and in one called like credentials).
fn layout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("base/policies")).unwrap();
    std::fs::create_dir_all(dir.path().join("outside")).unwrap();
    for name in ["secret.json", "credentials", "extra.kdl"] {
        std::fs::write(dir.path().join("outside").join(name), SECRET).unwrap();
    }
    std::fs::write(dir.path().join("base/policies/credentials"), SECRET).unwrap();
    dir
}

fn scp(file: &str) -> String {
    format!(
        "organizational-unit \"a\"\nservice-control-policy \"p\" {{\n    document file=\"{file}\"\n    attach ou=\"a\"\n}}\n"
    )
}

/// Validate `root_text` as `base/baseline.kdl`: exit 1, `expect` said, no secret printed.
fn refused(dir: &Path, root_text: &str, expect: &str) {
    std::fs::write(dir.join("base/baseline.kdl"), root_text).unwrap();
    let out = run_in(dir, &["validate", "base/baseline.kdl"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains(expect), "{all}");
    assert!(!all.contains("AKIA"), "a secret was printed:\n{all}");
}

#[test]
fn documents_and_includes_outside_the_root_are_refused_without_their_content() {
    let dir = layout();
    let d = dir.path();
    let outside = "is outside the baseline's root folder";
    // Relative, absolute, and through a symlink inside the root.
    refused(d, &scp("../outside/secret.json"), outside);
    let absolute = d.join("outside/secret.json");
    refused(d, &scp(absolute.to_str().unwrap()), outside);
    std::os::unix::fs::symlink(
        d.join("outside/secret.json"),
        d.join("base/policies/link.json"),
    )
    .unwrap();
    refused(d, &scp("policies/link.json"), outside);
    refused(d, "include \"../outside/extra.kdl\"\n", outside);
    std::os::unix::fs::symlink(d.join("outside"), d.join("base/shared")).unwrap();
    refused(d, "include \"shared/extra.kdl\"\n", outside);
    // Inside the root, but not a policy document or a KDL file.
    refused(d, &scp("policies/credentials"), "is not a .json file");
    refused(
        d,
        "include \"policies/credentials\"\n",
        "is not a .kdl file",
    );
    // A root widened past the filesystem's top is refused too.
    refused(
        d,
        &format!(
            "settings {{ root \"../../../../../../..\" }}\n{}",
            scp("/etc/passwd")
        ),
        "would let the baseline read every file",
    );
}

#[test]
fn a_policy_document_cannot_also_be_included() {
    let dir = layout();
    let d = dir.path();
    // `include` of a file already read as a document used to be skipped silently.
    std::fs::write(
        d.join("base/policies/deny.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
    )
    .unwrap();
    refused(
        d,
        &format!(
            "{}include \"policies/deny.json\"\n",
            scp("policies/deny.json")
        ),
        "policies/deny.json is not a .kdl file (`include` reads only those)",
    );
}

#[test]
fn git_internals_are_never_read() {
    let dir = layout();
    let d = dir.path();
    std::fs::create_dir_all(d.join("base/.git")).unwrap();
    std::fs::write(d.join("base/.git/config.kdl"), SECRET).unwrap();
    refused(
        d,
        "include \".git/config.kdl\"\n",
        "is inside a .git folder",
    );
}

#[test]
fn files_that_are_not_regular_files_are_refused_at_once() {
    let dir = layout();
    let d = dir.path();
    let fifo = d.join("base/policies/fifo.json");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    refused(
        d,
        &scp("policies/fifo.json"),
        "is a FIFO, not a regular file",
    );
    std::fs::rename(&fifo, d.join("base/fifo.kdl")).unwrap();
    refused(d, "include \"fifo.kdl\"\n", "is a FIFO, not a regular file");
    // The root file itself: a device.
    let out = run_in(d, &["validate", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("not a regular file"), "{}", text(&out));
}

#[test]
fn too_large_files_are_refused() {
    let dir = layout();
    let d = dir.path();
    std::fs::write(
        d.join("base/policies/big.json"),
        " ".repeat((baseline::lang::input::MAX_FILE_BYTES + 1) as usize),
    )
    .unwrap();
    refused(d, &scp("policies/big.json"), "is larger than 1048576 bytes");
}

#[test]
fn deep_nesting_is_refused_before_parsing() {
    let dir = layout();
    let d = dir.path();
    // About 1,300 levels overflowed the KDL parser's stack (SIGABRT).
    let deep = format!("{}{}", "a {".repeat(1300), "}".repeat(1300));
    refused(d, &deep, "blocks nest more than 64 levels deep");
}

#[test]
fn nested_slashdashed_blocks_are_refused_before_parsing() {
    let dir = layout();
    let d = dir.path();
    // The KDL parser reads a slashdashed block twice per slashdashed block around it: 24
    // levels (found by the fuzzer, from `targets /-{ all-accounts }`) took minutes to
    // validate or format, valid or not.
    let nested = format!("{}{}", "a /-{ ".repeat(24), "}".repeat(24));
    let expect = "slashdashed blocks (`/-{ }`) nest more than 2 deep";
    refused(d, &nested, expect);
    let out = run_in(d, &["fmt", "--check", "base/baseline.kdl"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains(expect), "{}", text(&out));
    // Two levels, the most a baseline needs, are read as before.
    std::fs::write(
        d.join("base/baseline.kdl"),
        "organizational-unit \"a\" /-{ b /-{ c } }\n",
    )
    .unwrap();
    let out = run_in(d, &["validate", "base/baseline.kdl"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn symlink_loops_in_a_walked_folder_are_visited_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("baseline.kdl"), "organizational-unit \"a\"\n").unwrap();
    // Two links to the folder itself, and one to its parent from a subfolder: each made the
    // walk revisit every file, exponentially.
    std::os::unix::fs::symlink(".", d.join("again")).unwrap();
    std::os::unix::fs::symlink(".", d.join("and-again")).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", d.join("sub/loop")).unwrap();
    for command in ["validate", "fmt"] {
        let out = run_in(d, &[command, "."]);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(0), "{command}: {all}");
        assert!(all.matches("baseline.kdl").count() <= 1, "{command}: {all}");
    }
}

/// Write `text` as `baseline.kdl` (plus extra files) in a fresh folder and validate it.
fn validate_text(baseline: &str, extra: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("baseline.kdl"), baseline).unwrap();
    for (name, content) in extra {
        std::fs::write(dir.path().join(name), content).unwrap();
    }
    let out = run_in(dir.path(), &["validate", "baseline.kdl"]);
    (out.status.code(), text(&out))
}

#[test]
fn a_problem_far_right_on_a_long_line_is_located_not_drawn() {
    // A minified policy of 84 KB with a trailing comma near its end: miette panicked on the
    // column (past 65,535).
    let actions: Vec<String> = (0..4200)
        .map(|i| format!("\"ec2:Describe{i:05}\""))
        .collect();
    let policy = format!(
        "{{\"Version\":\"2012-10-17\",\"Statement\":[{{\"Effect\":\"Deny\",\"Action\":[{}],\"Resource\":\"*\",}}]}}",
        actions.join(",")
    );
    let (code, all) = validate_text(&scp("p.json"), &[("p.json", &policy)]);
    assert_eq!(code, Some(1), "{all}");
    assert!(
        all.contains("at p.json:1:") && all.contains("the line is too long to show"),
        "{}",
        &all[..all.len().min(2000)]
    );
}

#[test]
fn tens_of_thousands_of_problems_are_counted_not_all_drawn() {
    let many = "nonsense\n".repeat(20_000);
    let (code, all) = validate_text(&many, &[]);
    assert_eq!(code, Some(1));
    assert!(
        all.contains("... and 19900 more problem(s), not shown")
            && all.contains("20000 problems found"),
        "{}",
        &all[all.len().saturating_sub(500)..]
    );
}

#[test]
fn a_cascade_of_parse_errors_from_one_spot_is_reported_once() {
    // One unclosed brace gave eight diagnostics for the same spot.
    let (code, all) = validate_text("garbage {{{\n", &[]);
    assert_eq!(code, Some(1), "{all}");
    assert!(all.contains("1 problem found"), "{all}");
    assert!(all.contains("No closing '}' for child block"), "{all}");
    // Problems on other lines are still each reported.
    let (_, all) = validate_text("a {\n  b 1\n}\nc #bad\nd {\n", &[]);
    assert!(all.contains("2 problems found"), "{all}");
}

#[test]
fn type_annotations_other_than_param_are_reported() {
    let (code, all) = validate_text(
        "(param)organizational-unit \"a\"\npassword-policy {\n    targets { all-accounts }\n    min-length (u8)14\n}\n",
        &[],
    );
    assert_eq!(code, Some(1), "{all}");
    assert!(
        all.contains("`(param)` on a node means nothing to baseline")
            && all.contains("unknown type annotation `(u8)`"),
        "{all}"
    );
}

#[test]
fn an_empty_baseline_is_valid_but_warned_about() {
    let (code, all) = validate_text("// nothing yet\n", &[]);
    assert_eq!(code, Some(0), "{all}");
    assert!(all.contains("declares nothing"), "{all}");
}

#[test]
fn a_device_as_the_baseline_is_named_for_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_in(dir.path(), &["graph", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("/dev/null is a device, not a baseline file"),
        "{}",
        text(&out)
    );
}
