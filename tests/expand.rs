//! Expansion of targets into instances, against an organization structure given as data.

use baseline::expand::{expand, Instance};
use baseline::lang::{self, model::Baseline};
use baseline::org::{OrgAccount, OrgStructure};

fn org() -> OrgStructure {
    let account = |id: &str, name: &str, ou: &str| OrgAccount {
        id: id.into(),
        name: name.into(),
        ou: ou.into(),
        state: baseline::org::ACTIVE.into(),
    };
    OrgStructure {
        management_account_id: "111111111111".into(),
        ous: vec![
            "Security".into(),
            "Workloads".into(),
            "Workloads/Production".into(),
            "Workloads/Staging".into(),
        ],
        accounts: vec![
            account("111111111111", "management", "/"),
            account("222222222222", "log-archive", "Security"),
            account("333333333333", "audit", "Security"),
            account("444444444444", "prod-app", "Workloads/Production"),
            account("555555555555", "prod-data", "Workloads/Production"),
            account("666666666666", "staging-app", "Workloads/Staging"),
        ],
        ..OrgStructure::default()
    }
}

const OUS: &str = r#"
organizational-unit "Security"
organizational-unit "Workloads" {
    organizational-unit "Production"
    organizational-unit "Staging"
}
"#;

fn load(text: &str) -> (tempfile::TempDir, Baseline) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("baseline.kdl");
    std::fs::write(&path, format!("{OUS}\n{text}")).unwrap();
    let baseline = match lang::load(&path) {
        Ok(b) => b,
        Err(e) => panic!("{e:?}"),
    };
    (dir, baseline)
}

fn addresses(instances: &[Instance], kind: &str) -> Vec<String> {
    instances
        .iter()
        .filter(|i| i.address.kind == kind)
        .map(|i| i.address.to_string())
        .collect()
}

#[test]
fn all_accounts_times_default_regions() {
    let (_d, b) = load(
        r#"settings { default-regions "us-east-1" "eu-west-1"; }
           security-hub { targets { all-accounts; }; standard "aws-foundational-security-best-practices"; }
           mfa { targets { root; } }"#,
    );
    let instances = expand(&b, &org()).unwrap();
    assert_eq!(addresses(&instances, "security-hub").len(), 12);
    assert_eq!(
        addresses(&instances, "mfa").len(),
        6,
        "mfa is per account, not per region"
    );
    let hub = instances
        .iter()
        .find(|i| i.address.to_string() == "security-hub.default[audit/eu-west-1]")
        .unwrap();
    assert_eq!(
        (hub.account_id.as_str(), hub.region.as_str()),
        ("333333333333", "eu-west-1")
    );
}

#[test]
fn ou_subtrees_and_exclusions() {
    let (_d, b) = load(
        r#"password-policy {
               targets { ou "Workloads"; account "audit"; exclude-account "prod-data"; exclude-ou "Workloads/Staging"; }
               min-length 14
           }"#,
    );
    let instances = expand(&b, &org()).unwrap();
    assert_eq!(
        addresses(&instances, "password-policy"),
        [
            "password-policy.default[audit]",
            "password-policy.default[prod-app]"
        ]
    );
}

#[test]
fn regions_and_excluded_regions() {
    let (_d, b) = load(
        r#"settings { default-regions "us-east-1" "eu-west-1" "eu-central-1"; }
           kms-rotation { targets { account "111111111111"; exclude-regions "eu-west-1"; } }"#,
    );
    let instances = expand(&b, &org()).unwrap();
    assert_eq!(
        addresses(&instances, "kms-rotation"),
        [
            "kms-rotation.default[management/us-east-1]",
            "kms-rotation.default[management/eu-central-1]"
        ]
    );
}

#[test]
fn single_placement_defaults_to_management_and_home_region() {
    let (_d, b) = load(
        r#"settings { default-regions "eu-west-1" "us-east-1"; }
           kms-key "a" { alias "alias/a"; }
           kms-key "b" { alias "alias/b"; account "log-archive"; region "us-east-1"; }"#,
    );
    let instances = expand(&b, &org()).unwrap();
    assert_eq!(
        addresses(&instances, "kms-key"),
        [
            "kms-key.a[management/eu-west-1]",
            "kms-key.b[log-archive/us-east-1]"
        ]
    );
}

#[test]
fn declared_placement_moves_accounts_before_targets_expand() {
    let (_d, b) = load(
        r#"account "audit" ou="Workloads/Staging"
           mfa { targets { ou "Workloads/Staging"; } }"#,
    );
    let instances = expand(&b, &org()).unwrap();
    assert_eq!(
        addresses(&instances, "mfa"),
        ["mfa.default[audit]", "mfa.default[staging-app]"]
    );
    assert_eq!(
        addresses(&instances, "account"),
        ["account.audit"],
        "organization-wide, no instance key"
    );
}

#[test]
fn unknown_account_is_reported_where_it_is_written() {
    let (_d, b) = load(r#"mfa { targets { account "prod-ap"; } }"#);
    let problems = expand(&b, &org()).unwrap_err();
    let p = problems.iter().next().unwrap();
    assert_eq!(p.code, "baseline::unknown-account");
    assert_eq!(p.help.as_deref(), Some("did you mean `prod-app`?"));
    let (line, col) = b.sources.line_col(p.primary.span);
    assert_eq!((line, col), (8, 25));
}

#[test]
fn two_singletons_on_one_account_conflict() {
    let (_d, b) = load(
        r#"password-policy "strict" { targets { ou "Workloads"; }; min-length 14; }
           password-policy "loose" { targets { account "prod-app"; }; min-length 8; }"#,
    );
    let problems = expand(&b, &org()).unwrap_err();
    let p = problems.iter().next().unwrap();
    assert_eq!(p.code, "baseline::conflicting-targets");
    assert!(
        p.message
            .contains("two `password-policy` declarations target prod-app"),
        "{}",
        p.message
    );
}

/// Instance-level dependencies for apply: same account and region where the dependency
/// has instances there, else every instance of the dependency.
#[test]
fn instances_wait_for_same_site_dependencies_or_all_of_them() {
    let (_d, b) = load(
        r#"settings { default-regions "us-east-1" "eu-west-1"; }
           kms-key "k" { account "log-archive"; alias "alias/k"; }
           log-bucket "logs" { account "log-archive"; kms-key "k"; }
           organization-trail "trail" { bucket "logs"; kms-key "k"; }
           config-recorder { targets { ou "Workloads"; }; delivery bucket="logs"; }"#,
    );
    let instances = expand(&b, &org()).unwrap();
    let graph = baseline::graph::ResourceGraph::build(&b);
    let deps = baseline::apply::instance_dependencies(&graph, &instances);
    let index = |address: &str| {
        instances
            .iter()
            .position(|i| i.address.to_string() == address)
            .unwrap_or_else(|| panic!("no {address}"))
    };
    let deps_of = |address: &str| -> Vec<String> {
        deps[index(address)]
            .iter()
            .map(|&d| instances[d].address.to_string())
            .collect()
    };
    assert_eq!(
        deps_of("config-delivery-channel.default[prod-app/eu-west-1]"),
        [
            "log-bucket.logs[log-archive/us-east-1]",
            "config-recorder.default[prod-app/eu-west-1]"
        ]
    );
    assert_eq!(
        deps_of("config-recording.default[staging-app/us-east-1]"),
        ["config-delivery-channel.default[staging-app/us-east-1]"]
    );
    let mut trail = deps_of("organization-trail.trail[management/us-east-1]");
    trail.sort();
    assert_eq!(
        trail,
        [
            "kms-key.k[log-archive/us-east-1]",
            "log-bucket.logs[log-archive/us-east-1]"
        ]
    );
}

/// Security Hub waits for AWS Config in its own account and region only (and for nothing
/// where Config is not declared); a backup selection waits for its account's one service
/// role, whatever its region.
#[test]
fn hubs_wait_for_config_on_their_site_and_selections_for_their_accounts_role() {
    let (_d, b) = load(
        r#"settings { default-regions "us-east-1" "eu-west-1"; }
           log-bucket "logs" { account "log-archive"; }
           config-recorder { targets { ou "Workloads"; }; delivery bucket="logs"; }
           security-hub { targets { all-accounts; }; standard "aws-foundational-security-best-practices"; }
           backup-vault "central" { targets { account "prod-app"; }; }
           backup-plan "daily" {
               targets { account "prod-app"; }
               vault "central"
               rule "daily" schedule="cron(0 5 ? * * *)" delete-after-days=35
               selection "tagged" tag="backup" value="daily"
           }"#,
    );
    let instances = expand(&b, &org()).unwrap();
    let graph = baseline::graph::ResourceGraph::build(&b);
    let deps = baseline::apply::instance_dependencies(&graph, &instances);
    let deps_of = |address: &str| -> Vec<String> {
        let i = instances
            .iter()
            .position(|i| i.address.to_string() == address)
            .unwrap_or_else(|| panic!("no {address}"));
        deps[i]
            .iter()
            .map(|&d| instances[d].address.to_string())
            .collect()
    };
    assert_eq!(
        deps_of("security-hub.default[prod-app/eu-west-1]"),
        ["config-recording.default[prod-app/eu-west-1]"]
    );
    assert!(deps_of("security-hub.default[audit/us-east-1]").is_empty());
    let roles: Vec<&str> = instances
        .iter()
        .filter(|i| i.address.kind == "backup-service-role")
        .map(|i| i.region.as_str())
        .collect();
    assert_eq!(
        roles,
        ["us-east-1"],
        "one role per account, in the home region"
    );
    assert_eq!(
        deps_of("backup-selection.daily/tagged[prod-app/eu-west-1]"),
        [
            "backup-service-role.daily[prod-app]",
            "backup-plan.daily[prod-app/eu-west-1]"
        ]
    );
}

/// Every resource an expansion makes is of a kind the registry knows (a saved plan with any
/// other kind is refused), parts included.
#[test]
fn every_instance_is_of_a_registered_kind() {
    let (_d, b) = load(
        r#"settings { default-regions "us-east-1"; }
           log-bucket "logs" { account "log-archive"; }
           config-recorder { targets { all-accounts; }; delivery bucket="logs"; rule "r" identifier="IAM_PASSWORD_POLICY"; }
           backup-vault "central" { targets { all-accounts; }; }
           backup-plan "daily" {
               targets { all-accounts; }
               vault "central"
               rule "daily" schedule="cron(0 5 ? * * *)" delete-after-days=35
               selection "tagged" tag="backup" value="daily"
           }"#,
    );
    for inst in expand(&b, &org()).unwrap() {
        assert!(
            baseline::kinds::is_resource_kind(&inst.address.kind),
            "{} is not a registered kind",
            inst.address
        );
    }
}

/// The accounts a run assumes its role in while discovery is still going on are decided one
/// account at a time: they are exactly the member accounts the expansion gives instances.
#[test]
fn the_account_filter_keeps_the_accounts_the_expansion_targets() {
    for text in [
        r#"password-policy {
               targets { ou "Workloads"; account "audit"; exclude-account "prod-data"; exclude-ou "Workloads/Staging"; }
               min-length 14
           }"#,
        r#"account "audit" ou="Workloads/Staging"
           mfa { targets { ou "Workloads/Staging"; } }"#,
        r#"mfa { targets { account "444444444444"; } }"#,
        r#"security-hub { targets { all-accounts; exclude-ou "Security"; }; standard "aws-foundational-security-best-practices"; }"#,
        r#"account "prod-app" ou="Security"
           mfa { targets { all-accounts; exclude-ou "Workloads"; } }"#,
    ] {
        let (_d, b) = load(text);
        let org = org();
        let mut expanded: Vec<&str> = expand(&b, &org)
            .unwrap()
            .iter()
            .filter(|i| i.address.account.is_some() && i.account_id != org.management_account_id)
            .filter_map(|i| org.account(&i.account_id).map(|a| a.name.as_str()))
            .collect();
        expanded.sort_unstable();
        expanded.dedup();
        let filter = baseline::expand::AccountFilter::new(&b);
        let mut kept: Vec<&str> = org
            .accounts
            .iter()
            .filter(|a| a.id != org.management_account_id && filter.may_target(a))
            .map(|a| a.name.as_str())
            .collect();
        kept.sort_unstable();
        assert_eq!(kept, expanded, "{text}");
    }
}
