//! The ready baselines in `baselines/`: each validates on its own, and each validates when an
//! organization's baseline.kdl includes it and supplies what its header asks for (the
//! regions, an account named "log-archive"). Including two of them is reported, as their
//! headers say.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn baseline() -> Command {
    let mut cmd = Command::cargo_bin("baseline").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn baselines_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("baselines")
}

/// Every `.kdl` file directly in `baselines/`, sorted.
fn baseline_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(baselines_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "kdl"))
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for expected in ["soc2.kdl", "iso27001.kdl", "cis-aws-foundations.kdl"] {
        assert!(
            names.iter().any(|n| n == expected),
            "baselines/{expected} is missing: {names:?}"
        );
    }
    files
}

/// Run `baseline ARGS`; return (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let out = baseline().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// A minimal organization's baseline.kdl that includes `includes` and declares what the
/// ready baselines expect of the including file.
/// A temporary folder two levels below the repository's top (in `target/`), from which a
/// baseline may include the shipped ones.
fn repo_tempdir() -> tempfile::TempDir {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    tempfile::tempdir_in(target).unwrap()
}

fn root_including(dir: &Path, includes: &[&Path]) -> PathBuf {
    // `dir` lies in the repository (see `repo_tempdir`): its root folder is the repository's
    // top, so that the shipped baselines may be included.
    let mut text = String::from(
        "settings {\n    root \"../..\"\n    default-regions \"us-east-1\" \"eu-west-1\"\n}\n\
         organizational-unit \"Security\"\n\
         account \"log-archive\" ou=\"Security\"\n\
         account \"audit\" ou=\"Security\"\n",
    );
    for include in includes {
        // A raw string: the absolute path may hold backslashes.
        text.push_str(&format!("include #\"{}\"#\n", path_str(include)));
    }
    let root = dir.join("baseline.kdl");
    std::fs::write(&root, text).unwrap();
    root
}

/// The organization that root expects, for `graph --org`.
fn organization(dir: &Path) -> PathBuf {
    let org = dir.join("organization.json");
    std::fs::write(
        &org,
        r#"{
  "management_account_id": "111111111111",
  "ous": ["Security"],
  "accounts": [
    { "id": "111111111111", "name": "management", "ou": "/" },
    { "id": "222222222222", "name": "log-archive", "ou": "Security" },
    { "id": "333333333333", "name": "audit", "ou": "Security" }
  ]
}
"#,
    )
    .unwrap();
    org
}

#[test]
fn every_baseline_validates_as_a_root() {
    for file in baseline_files() {
        let (code, stdout, stderr) = run(&["validate", path_str(&file)]);
        assert_eq!(code, Some(0), "{}:\n{stderr}", file.display());
        let name = file.file_name().unwrap().to_string_lossy();
        assert!(
            stdout.starts_with("ok  ") && stdout.contains(&format!("{name}: ")),
            "{}: {stdout}",
            file.display()
        );
    }
}

#[test]
fn the_baselines_directory_validates_and_is_formatted() {
    let dir = baselines_dir();
    let (code, stdout, stderr) = run(&["validate", path_str(&dir)]);
    assert_eq!(code, Some(0), "{stderr}");
    // No baseline includes another: each is a root of its own.
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("ok  ")).count(),
        baseline_files().len(),
        "{stdout}"
    );
    let (code, stdout, stderr) = run(&["fmt", "--check", path_str(&dir)]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
}

#[test]
fn every_baseline_validates_when_included() {
    for file in baseline_files() {
        let dir = repo_tempdir();
        let root = root_including(dir.path(), &[&file]);
        let (code, stdout, stderr) = run(&["validate", path_str(&root)]);
        assert_eq!(code, Some(0), "{}:\n{stderr}", file.display());
        assert!(stdout.starts_with("ok  "), "{}: {stdout}", file.display());

        // Expanded against an organization with just those accounts: every account the
        // baseline names exists and no singleton lands twice on one account.
        let org = organization(dir.path());
        let (code, stdout, stderr) = run(&["graph", path_str(&root), "--org", path_str(&org)]);
        assert_eq!(code, Some(0), "{}:\n{stderr}", file.display());
        assert!(
            stdout.contains("[log-archive/us-east-1]"),
            "{}: nothing placed in log-archive\n{stdout}",
            file.display()
        );
    }
}

#[test]
fn two_baselines_in_one_organization_are_reported() {
    let files = baseline_files();
    for (i, a) in files.iter().enumerate() {
        for b in &files[i + 1..] {
            let dir = repo_tempdir();
            let root = root_including(dir.path(), &[a, b]);
            let (code, _, stderr) = run(&["validate", path_str(&root)]);
            let pair = format!("{} + {}", a.display(), b.display());
            assert_eq!(code, Some(1), "{pair}: expected problems\n{stderr}");
            assert!(
                stderr.contains("baseline::duplicate")
                    && stderr.contains("`password-policy.default` is declared more than once"),
                "{pair}: the second password policy is not reported\n{stderr}"
            );
        }
    }
}
