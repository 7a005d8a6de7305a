//! Parameters: a baseline declares `param "name" default`, uses it as `(param)"name"`, and
//! the including file tunes it in `settings { param "name" value }`.

use baseline::kinds::backup_plan::BackupPlan;
use baseline::kinds::kms_key::KmsKey;
use baseline::kinds::spec_of;
use baseline::lang::{self, LoadError};

const INCLUDED: &str = r#"
param "retention-days" 35
param "key-period-days" 365
kms-key "logs" {
    alias "alias/logs"
    rotation period-days=(param)"key-period-days"
}
backup-vault "central" {
    targets { all-accounts }
}
backup-plan "daily" {
    targets { all-accounts }
    vault "central"
    rule "daily" schedule="cron(0 5 ? * * *)" delete-after-days=(param)"retention-days"
}
"#;

fn load(settings: &str) -> Result<baseline::lang::model::Baseline, LoadError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("base.kdl"), INCLUDED).unwrap();
    let root = dir.path().join("baseline.kdl");
    std::fs::write(&root, format!("{settings}\ninclude \"base.kdl\"\n")).unwrap();
    lang::load(&root)
}

fn values(b: &baseline::lang::model::Baseline) -> (u32, u32) {
    let plan = b.find("backup-plan", "daily").unwrap();
    let key = b.find("kms-key", "logs").unwrap();
    (
        spec_of::<BackupPlan>(plan).unwrap().rules[0]
            .delete_after_days
            .as_ref()
            .unwrap()
            .value,
        spec_of::<KmsKey>(key).unwrap().rotation_period_days,
    )
}

#[test]
fn defaults_apply_and_the_including_file_tunes_them() {
    let Ok(defaults) = load("") else {
        panic!("loads")
    };
    assert_eq!(values(&defaults), (35, 365));
    let Ok(tuned) =
        load("settings {\n    param \"retention-days\" 90\n    param \"key-period-days\" 180\n}")
    else {
        panic!("loads")
    };
    assert_eq!(values(&tuned), (90, 180));
}

#[test]
fn a_tuned_value_is_checked_like_a_written_one() {
    // 5 days is below the KMS minimum rotation period (90).
    match load("settings {\n    param \"key-period-days\" 5\n}") {
        Err(LoadError::Invalid(invalid)) => {
            let text = format!("{:?}", invalid.problems);
            assert!(text.contains("out-of-range"), "{text}");
        }
        _ => panic!("5 days must be refused"),
    }
    match load("settings {\n    param \"retention-dayz\" 5\n}") {
        Err(LoadError::Invalid(invalid)) => {
            let text = format!("{:?}", invalid.problems);
            assert!(text.contains("unknown-parameter"), "{text}");
        }
        _ => panic!("an unknown parameter must be refused"),
    }
}

#[test]
fn a_param_without_a_value_is_refused_in_settings_too() {
    match load("settings {\n    param \"retention-days\"\n}") {
        Err(LoadError::Invalid(invalid)) => {
            let text = format!("{:?}", invalid.problems);
            assert!(text.contains("`param` needs a value"), "{text}");
        }
        _ => panic!("a param without a value must be refused"),
    }
}
