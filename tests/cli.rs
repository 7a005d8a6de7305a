//! Command-line conventions (issue 12): exit codes, each one (0 no changes, 1 error, a usage
//! error included, and with `--detailed-exitcode` 2 changes present, 3 findings only), and
//! colour per stream after `--color`, NO_COLOR and CLICOLOR_FORCE.

mod support;

use support::*;

/// `baseline ARGS` without an emulator: (exit code, stdout, stderr).
fn offline(args: &[&str]) -> (Option<i32>, String, String) {
    offline_with(&[("NO_COLOR", "1")], args)
}

/// [`offline`] with `env` set (and NO_COLOR / CLICOLOR_FORCE only as `env` says).
fn offline_with(env: &[(&str, &str)], args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_baseline"))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_usage_error_is_an_error_not_changes() {
    for args in [
        &["plan", "--detailed-exitcode", "--detailed-exitcod"][..],
        &["plan", "--format", "yaml"],
        &["no-such-command"],
        &[],
    ] {
        let (code, _, stderr) = offline(args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("error:") || stderr.contains("Usage:"),
            "{stderr}"
        );
    }
    let (code, stdout, _) = offline(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("3 no changes but findings"), "{stdout}");
    let (code, stdout, _) = offline(&["--version"]);
    assert_eq!((code, stdout.starts_with("baseline ")), (Some(0), true));
}

#[test]
fn a_baseline_with_problems_is_an_error() {
    let dir = baseline_dir("password-policy { min-length \"x\" }\n", &[]);
    let (code, _, stderr) = offline(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
}

const MFA: &str = r#"
settings { default-regions "us-east-1" }
mfa {
    targets { account "master" }
}
"#;

const PASSWORD_POLICY: &str = r#"
password-policy {
    targets { account "master" }
    min-length 14
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn plan_exits_0_2_or_3_for_no_changes_changes_or_findings_only() {
    let emulator = Emulator::start();
    seed_organization(&emulator).await;

    // The emulator's root user has no MFA device: a finding, which no apply can fix.
    let findings_only = baseline_dir(MFA, &[]);
    let root = findings_only.path().to_str().unwrap();
    let run = baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(3);
    assert!(
        run.stdout.contains("root user has no MFA device"),
        "{}",
        run.stdout
    );
    // Without the flag, a plan that worked exits 0 whatever it found.
    baseline(&emulator, &["plan", root]).expect(0);

    let changes_and_findings = baseline_dir(&format!("{MFA}{PASSWORD_POLICY}"), &[]);
    let root = changes_and_findings.path().to_str().unwrap();
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(2);
    baseline(&emulator, &["apply", root, "--auto-approve"]).expect(0);
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(3);

    let converged = baseline_dir(
        &format!("settings {{ default-regions \"us-east-1\" }}\n{PASSWORD_POLICY}"),
        &[],
    );
    let root = converged.path().to_str().unwrap();
    baseline(&emulator, &["plan", root, "--detailed-exitcode"]).expect(0);

    // Notices go to stderr, and --quiet keeps them (and progress) off it.
    let out = converged.path().join("plan.json");
    let out = out.to_str().unwrap();
    let saved = baseline(&emulator, &["plan", root, "--out", out]).expect(0);
    assert!(saved.stderr.contains("Saved the plan"), "{}", saved.stderr);
    let quiet = baseline(&emulator, &["plan", root, "--out", out, "-q"]).expect(0);
    assert_eq!(quiet.stderr, "");
}

#[test]
fn colour_follows_the_flag_then_no_color_then_clicolor_force_per_stream() {
    let dir = baseline_dir("password-policy { min-length \"x\" }\n", &[]);
    let root = dir.path().to_str().unwrap();
    let stderr_coloured = |env: &[(&str, &str)], flags: &[&str]| {
        let args: Vec<&str> = flags.iter().copied().chain(["validate", root]).collect();
        let (code, _, stderr) = offline_with(env, &args);
        assert_eq!(code, Some(1), "{stderr}");
        stderr.contains("\u{1b}[")
    };
    // Not a terminal: plain, unless forced.
    assert!(!stderr_coloured(&[], &[]));
    assert!(stderr_coloured(&[], &["--color", "always"]));
    assert!(stderr_coloured(&[("CLICOLOR_FORCE", "1")], &[]));
    assert!(!stderr_coloured(&[("CLICOLOR_FORCE", "0")], &[]));
    // An empty NO_COLOR is not set; a non-empty one wins over CLICOLOR_FORCE, not over --color.
    assert!(stderr_coloured(
        &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")],
        &[]
    ));
    assert!(!stderr_coloured(
        &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
        &[]
    ));
    assert!(stderr_coloured(
        &[("NO_COLOR", "1")],
        &["--color", "always"]
    ));
    assert!(!stderr_coloured(
        &[("CLICOLOR_FORCE", "1")],
        &["--no-color"]
    ));
    assert!(!stderr_coloured(
        &[("CLICOLOR_FORCE", "1")],
        &["--color", "never"]
    ));
}

/// Every subcommand path, from the CLI's own definition: `["plan"]`, `["log", "verify"]`, ...
fn subcommand_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands() {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    walk(
        &<baseline::cli::Cli as clap::CommandFactory>::command(),
        &[],
        &mut out,
    );
    out
}

#[test]
fn completions_know_every_subcommand_in_every_shell() {
    let paths = subcommand_paths();
    assert!(paths.len() > 12, "{paths:?}");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (code, script, stderr) = offline(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}: {stderr}");
        for path in &paths {
            let name = path.last().unwrap();
            assert!(script.contains(name.as_str()), "{shell} lacks {path:?}");
        }
        // Options too, and their values where the shell completes values.
        assert!(script.contains("detailed-exitcode"), "{shell}");
        if ["bash", "zsh", "fish"].contains(&shell) {
            assert!(script.contains("iso27001"), "{shell}");
        }
    }
    let (code, _, _) = offline(&["completions", "tcsh"]);
    assert_eq!(code, Some(1));
}

#[test]
fn the_man_pages_cover_every_subcommand() {
    let (code, page, stderr) = offline(&["man"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        page.starts_with(".ie") && page.contains(".TH baseline 1"),
        "{page}"
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, _, stderr) = offline(&["man", "--out-dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(0), "{stderr}");
    for path in subcommand_paths() {
        let name = format!("baseline-{}.1", path.join("-"));
        let text = std::fs::read_to_string(dir.path().join(&name))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            text.contains(&format!(".TH baseline-{} 1", path.join("-"))),
            "{name}"
        );
        // The top page lists each top-level subcommand.
        if path.len() == 1 {
            assert!(
                page.contains(&format!("baseline\\-{}(1)", path[0].replace('-', "\\-"))),
                "{name}"
            );
        }
    }
    let plan = std::fs::read_to_string(dir.path().join("baseline-plan.1")).unwrap();
    assert!(plan.contains("detailed\\-exitcode"), "{plan}");
}

#[test]
fn validate_speaks_json_and_github_annotations() {
    let dir = baseline_dir(
        "organizational-unit \"a\"\npassword-policy {\n    targets { all-accounts }\n    min-lenght 14\n    min-length 14\n}\n",
        &[],
    );
    let root = dir.path().join("baseline.kdl");
    let root = root.to_str().unwrap();
    let (code, stdout, stderr) = offline(&["validate", "--format", "json", root]);
    assert_eq!(code, Some(1), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["error_count"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "baseline::unknown-node");
    assert!(d["file"].as_str().unwrap().ends_with("baseline.kdl"), "{d}");
    assert_eq!(d["range"]["start"]["line"], 4);
    assert_eq!(d["range"]["start"]["column"], 5);
    assert_eq!(d["range"]["end"]["column"], 15);
    assert!(d["help"].as_str().unwrap().contains("min-length"), "{d}");

    let (code, stdout, _) = offline(&["validate", "--format", "github", root]);
    assert_eq!(code, Some(1));
    let line = stdout.lines().next().unwrap();
    assert!(
        line.starts_with("::error file=")
            && line.contains(
                ",line=4,col=5,endLine=4,endColumn=15,title=baseline%3A%3Aunknown-node::"
            ),
        "{line}"
    );
    assert_eq!(
        stdout.lines().count(),
        1,
        "one line per problem, newlines escaped"
    );

    let good = baseline_dir("organizational-unit \"a\"\n", &[]);
    let (code, stdout, _) = offline(&[
        "validate",
        "--format",
        "json",
        good.path().to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0));
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (
            doc["valid"].clone(),
            doc["roots"][0]["declarations"].clone()
        ),
        (true.into(), 1.into())
    );
}
