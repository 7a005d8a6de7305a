//! `baseline validate` on every class of bad input: exit code 1, the location and the message
//! of each problem, and (snapshot) the whole rendered report. Then the shipped files validate.

use assert_cmd::Command;

fn baseline() -> Command {
    let mut cmd = Command::cargo_bin("baseline").unwrap();
    cmd.env_remove("NO_COLOR");
    cmd
}

/// One expected problem: where (file relative to the fixtures, line, column), its code and a
/// fragment of its message.
struct Expect {
    at: &'static str,
    code: &'static str,
    message: &'static str,
}

fn check(fixture: &str, expected: &[Expect]) {
    let path = format!("tests/fixtures/invalid/{fixture}");
    let out = baseline().args(["validate", &path]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{fixture}: exit code\n{stderr}");
    assert!(out.stdout.is_empty(), "{fixture}: nothing on stdout");
    for e in expected {
        let location = format!("[tests/fixtures/invalid/{}]", e.at);
        let block = stderr
            .split("\n\n")
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[1].contains(&location))
            // miette wraps long messages at 100 columns; join them back for matching.
            .map(|w| format!("{}\n{}", w[0], w[1]).replace("\n  │ ", ""))
            .unwrap_or_else(|| panic!("{fixture}: no problem at {location}\n{stderr}"));
        assert!(
            block.contains(e.code),
            "{fixture}: {location} is not {}\n{block}",
            e.code
        );
        assert!(
            block.contains(e.message),
            "{fixture}: {location} does not say {:?}\n{block}",
            e.message
        );
    }
    let count = format!(
        "{} problem{} found",
        expected.len(),
        if expected.len() == 1 { "" } else { "s" }
    );
    assert!(
        stderr.trim_end().ends_with(&count),
        "{fixture}: expected {count}\n{stderr}"
    );
    insta::assert_snapshot!(fixture.replace(['/', '.'], "_"), stderr);
}

macro_rules! expect {
    ($at:literal, $code:literal, $message:literal) => {
        Expect {
            at: $at,
            code: concat!("baseline::", $code),
            message: $message,
        }
    };
}

#[test]
fn malformed_kdl() {
    check(
        "malformed-kdl.kdl",
        &[expect!(
            "malformed-kdl.kdl:4:17",
            "malformed-kdl",
            "KDL v2 writes this as #true"
        )],
    );
}

#[test]
fn unknown_node() {
    check(
        "unknown-node.kdl",
        &[expect!(
            "unknown-node.kdl:1:1",
            "unknown-node",
            "did you mean `organization-trail`?"
        )],
    );
}

#[test]
fn unknown_property() {
    check(
        "unknown-property.kdl",
        &[expect!(
            "unknown-property.kdl:4:12",
            "unknown-property",
            "`attach` has no property `organizational-unit`"
        )],
    );
}

#[test]
fn wrong_value_type() {
    check(
        "wrong-type.kdl",
        &[expect!(
            "wrong-type.kdl:3:16",
            "wrong-type",
            "expected a whole number, found the string \"14\""
        )],
    );
}

#[test]
fn missing_required_value() {
    check(
        "missing-value.kdl",
        &[expect!(
            "missing-value.kdl:1:1",
            "missing-value",
            "`organization-trail` needs a `bucket`"
        )],
    );
}

#[test]
fn duplicate_name() {
    check(
        "duplicate-name.kdl",
        &[expect!(
            "duplicate-name.kdl:4:9",
            "duplicate",
            "`kms-key.org-logs` is declared more than once"
        )],
    );
}

#[test]
fn unknown_references() {
    check(
        "unknown-reference.kdl",
        &[
            expect!(
                "unknown-reference.kdl:5:13",
                "unknown-reference",
                "no kms-key named \"org-log\""
            ),
            expect!(
                "unknown-reference.kdl:8:12",
                "unknown-reference",
                "no log-bucket named \"trail-logs\""
            ),
            expect!(
                "unknown-reference.kdl:11:18",
                "unknown-reference",
                "no organizational-unit named \"Workloads/Prod\""
            ),
            expect!(
                "unknown-reference.kdl:12:11",
                "unknown-reference",
                "no backup-vault named \"central\""
            ),
        ],
    );
}

#[test]
fn dependency_cycle_names_every_member() {
    check(
        "dependency-cycle.kdl",
        &[expect!(
            "dependency-cycle.kdl:6:13",
            "dependency-cycle",
            "kms-key.org-logs -> log-bucket.org-trail-logs -> organization-trail.org-trail -> kms-key.org-logs"
        )],
    );
}

#[test]
fn include_cycle() {
    check(
        "include-cycle/baseline.kdl",
        &[expect!("include-cycle/b.kdl:1:9", "include-cycle", "include-cycle/a.kdl -> tests/fixtures/invalid/include-cycle/b.kdl -> tests/fixtures/invalid/include-cycle/a.kdl")],
    );
}

#[test]
fn policy_not_json_is_reported_inside_the_json_file() {
    check(
        "policy-not-json.kdl",
        &[expect!(
            "policies/not-json.json:4:57",
            "invalid-policy",
            "the SCP document is not JSON: trailing comma"
        )],
    );
}

#[test]
fn policy_not_iam_shape() {
    check(
        "policy-not-iam.kdl",
        &[expect!(
            "policy-not-iam.kdl:2:14",
            "invalid-policy",
            "statement 1 has unknown element `Principal`"
        )],
    );
}

#[test]
fn policy_over_size_limit() {
    check(
        "policy-too-large.kdl",
        &[expect!(
            "policy-too-large.kdl:2:14",
            "policy-too-large",
            "11002 characters without whitespace; AWS allows 10240"
        )],
    );
}

#[test]
fn too_many_scps_on_one_target() {
    check(
        "too-many-scps.kdl",
        &[expect!(
            "too-many-scps.kdl:40:12",
            "too-many-scps",
            "OU \"Workloads\" would have 11 SCPs"
        )],
    );
}

#[test]
fn invalid_cron_expression() {
    check(
        "invalid-cron.kdl",
        &[expect!(
            "invalid-cron.kdl:7:18",
            "invalid-schedule",
            "cron hours field `25`: `25` is not within 0-23"
        )],
    );
}

#[test]
fn invalid_rate_expression() {
    check(
        "invalid-rate.kdl",
        &[expect!(
            "invalid-rate.kdl:7:19",
            "invalid-schedule",
            "write `rate(1 hour)`"
        )],
    );
}

#[test]
fn unknown_region() {
    check(
        "unknown-region.kdl",
        &[expect!(
            "unknown-region.kdl:2:33",
            "unknown-region",
            "did you mean `eu-west-1`?"
        )],
    );
}

#[test]
fn invalid_account_id() {
    check(
        "invalid-account-id.kdl",
        &[expect!(
            "invalid-account-id.kdl:2:23",
            "invalid-account-id",
            "an account id has 12 digits, this one 11"
        )],
    );
}

#[test]
fn unknown_controls() {
    check(
        "unknown-control.kdl",
        &[
            expect!(
                "unknown-control.kdl:3:27",
                "unknown-control",
                "did you mean `SOC2:CC6.8`?"
            ),
            expect!(
                "unknown-control.kdl:3:40",
                "unknown-control",
                "did you mean `ISO27001:2022:A.8.15`?"
            ),
            expect!(
                "unknown-control.kdl:8:14",
                "unknown-control",
                "A.9.4.2 of ISO 27001:2013 is `ISO27001:2022:A.8.5` in ISO 27001:2022"
            ),
            expect!(
                "unknown-control.kdl:8:33",
                "unknown-control",
                "did you mean `SOC2:CC6.1`?"
            ),
            expect!(
                "unknown-control.kdl:9:14",
                "unknown-control",
                "a control is written `SOC2:CC6.1`"
            ),
            expect!(
                "unknown-control.kdl:9:30",
                "unknown-control",
                "unknown SOC 2 criterion \"SOC2:ZZ1.1\""
            ),
        ],
    );
}

#[test]
fn conflicting_targets() {
    check(
        "conflicting-targets.kdl",
        &[expect!(
            "conflicting-targets.kdl:5:20",
            "conflicting-targets",
            "OU \"Workloads\" is both targeted and excluded"
        )],
    );
}

#[test]
fn every_problem_in_a_file_is_reported() {
    check(
        "many-problems.kdl",
        &[
            expect!(
                "many-problems.kdl:3:33",
                "unknown-region",
                "unknown region \"mars-north-1\""
            ),
            expect!(
                "many-problems.kdl:7:16",
                "out-of-range",
                "4 is out of range: AWS accepts 6 to 128"
            ),
            expect!(
                "many-problems.kdl:8:23",
                "invalid-value",
                "unknown character class \"emoji\""
            ),
            expect!(
                "many-problems.kdl:11:11",
                "invalid-value",
                "invalid alias \"org-logs\""
            ),
        ],
    );
}

#[test]
fn shipped_baselines_and_examples_validate() {
    let out = baseline()
        .args(["validate", "baselines/", "examples/"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ok  baselines/soc2.kdl"), "{stdout}");
    assert!(
        stdout.contains("ok  examples/sample-org/baseline.kdl"),
        "{stdout}"
    );
}

#[test]
fn shipped_control_tags_are_in_the_catalogs() {
    use std::path::PathBuf;
    let roots =
        baseline::lang::root_files(&[PathBuf::from("baselines"), PathBuf::from("examples")])
            .unwrap();
    let mut tags = 0;
    for root in &roots {
        let Ok(loaded) = baseline::lang::load(root) else {
            panic!("{} does not load", root.display());
        };
        for decl in &loaded.declarations {
            for tag in &decl.controls {
                assert!(
                    baseline::controls::lookup(&tag.value).is_some(),
                    "{}: {} is not in the catalogs",
                    root.display(),
                    tag.value
                );
                tags += 1;
            }
        }
    }
    assert!(tags >= 30, "only {tags} control tags found in {roots:?}");
}

#[test]
fn shipped_files_are_formatted() {
    let out = baseline()
        .args(["fmt", "--check", "baselines/", "examples/"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn fmt_check_reports_unformatted_files_without_changing_them() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("messy.kdl");
    let messy = "mfa   {\ntargets { all-accounts }\n}\n";
    std::fs::write(&file, messy).unwrap();
    let out = baseline()
        .args(["fmt", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), messy);
    let out = baseline().arg("fmt").arg(&file).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "mfa {\n    targets {\n        all-accounts\n    }\n}\n"
    );
}

#[test]
fn plan_reports_bad_input_before_any_aws_call() {
    // No AWS endpoint or credentials are configured: the baseline's problems come first.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("baseline.kdl"),
        "password-policy { min-length 3 }\n",
    )
    .unwrap();
    let out = baseline()
        .arg("plan")
        .arg(dir.path())
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("baseline.kdl:1:"), "{stderr}");
    assert!(!stderr.contains("cannot reach AWS"), "{stderr}");
}

#[test]
fn settings_aws_refuses_or_fails_on_later() {
    check(
        "settings-aws-refuses.kdl",
        &[
            expect!(
                "settings-aws-refuses.kdl:9:10",
                "retention-outside-lock",
                "rule \"forever\" keeps backups forever, but vault \"central\" is locked"
            ),
            expect!(
                "settings-aws-refuses.kdl:13:19",
                "invalid-value",
                "this recorder would record nothing"
            ),
            expect!(
                "settings-aws-refuses.kdl:20:13",
                "invalid-placement",
                "an organization trail lives in the management account"
            ),
        ],
    );
}
