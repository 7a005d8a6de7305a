//! The sample organization end to end: the shipped SOC 2 baseline plus the example's own
//! OUs, accounts and SCPs, applied to a seeded emulator across six accounts and two regions,
//! then confirmed with the AWS CLI (an independent client) rather than baseline's own code.

mod support;

use support::*;

fn changes(run: &Run) -> u64 {
    let plan = run.json();
    let s = &plan["summary"];
    ["create", "adopt", "update", "replace", "delete"]
        .iter()
        .map(|k| s[k].as_u64().unwrap())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn sample_organization_converges_and_the_aws_cli_confirms_it() {
    let emulator = Emulator::start();
    let accounts = seed_organization(&emulator).await;
    let root = repo_root().join("examples/sample-org");
    let root = root.to_str().unwrap();

    let first = baseline(&emulator, &["plan", root, "--format", "json"]).expect(0);
    assert!(changes(&first) > 0);
    let evidence = tempfile::tempdir().unwrap();
    let log = evidence.path().join("changes.jsonl");
    let log = log.to_str().unwrap();
    baseline(
        &emulator,
        &["apply", root, "--auto-approve", "--change-log", log],
    )
    .expect(0);
    let verified = baseline(&emulator, &["log", "verify", "--log", log]).expect(0);
    assert!(
        verified.stdout.contains("0 failed, 0 incomplete"),
        "{}",
        verified.stdout
    );
    let again = baseline(&emulator, &["plan", root, "--format", "json"]).expect(0);
    assert_eq!(changes(&again), 0, "{}", again.stdout);

    // SCPs, by name, through the CLI.
    let policies = aws_cli(
        &emulator,
        None,
        &[
            "organizations",
            "list-policies",
            "--filter",
            "SERVICE_CONTROL_POLICY",
        ],
    );
    let names: Vec<&str> = policies["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["Name"].as_str())
        .collect();
    for scp in [
        "deny-leave-organization",
        "protect-security-services",
        "deny-outside-approved-regions",
        "deny-root-user",
    ] {
        assert!(names.contains(&scp), "{scp} missing from {names:?}");
    }

    // prod-app and prod-data sit in Workloads/Production.
    let roots = aws_cli(&emulator, None, &["organizations", "list-roots"]);
    let root_id = roots["Roots"][0]["Id"].as_str().unwrap().to_string();
    let ou_named = |parent: &str, name: &str| -> String {
        let ous = aws_cli(
            &emulator,
            None,
            &[
                "organizations",
                "list-organizational-units-for-parent",
                "--parent-id",
                parent,
            ],
        );
        ous["OrganizationalUnits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["Name"] == name)
            .and_then(|o| o["Id"].as_str())
            .unwrap_or_else(|| panic!("OU {name} missing"))
            .to_string()
    };
    let production = ou_named(&ou_named(&root_id, "Workloads"), "Production");
    let members = aws_cli(
        &emulator,
        None,
        &[
            "organizations",
            "list-accounts-for-parent",
            "--parent-id",
            &production,
        ],
    );
    let mut member_names: Vec<&str> = members["Accounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["Name"].as_str())
        .collect();
    member_names.sort();
    assert_eq!(member_names, ["prod-app", "prod-data"]);

    // The organization trail logs.
    let status = aws_cli(
        &emulator,
        None,
        &["cloudtrail", "get-trail-status", "--name", "org-trail"],
    );
    assert_eq!(status["IsLogging"], true);

    // A member account's password policy, through the assumed access role.
    let policy = aws_cli(
        &emulator,
        Some(&accounts["staging-app"]),
        &["iam", "get-account-password-policy"],
    );
    assert_eq!(policy["PasswordPolicy"]["MinimumPasswordLength"], 14);
}
