//! `credential-hygiene`: findings (never changes) from each targeted account's IAM credential
//! report: root access keys (CIS AWS Foundations v3.0, 1.4), console users without MFA
//! (1.10), credentials unused for N days (1.12) and access keys older than N days (1.14).
//! No API can give a person MFA or decide whose key to revoke, so these are reported.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_iam::types::ReportStateType;

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::{Backoff, Context};
use crate::expand::Instance;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{self, Attrs, ChangeRequest, Ctx, Error, Finding, Observed, Provider};

pub static KIND: Kind = Kind {
    keyword: "credential-hygiene",
    summary: "findings from the IAM credential report: MFA, unused and old credentials",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: false,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&CredentialHygieneProvider),
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialHygiene {
    pub max_key_age_days: u32,
    pub max_unused_days: u32,
    pub console_mfa: bool,
    pub root_access_keys: bool,
}

impl Spec for CredentialHygiene {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    Box::new(CredentialHygiene {
        max_key_age_days: r
            .child_u32("max-access-key-age-days", 1..=3650)
            .map_or(90, |d| d.value),
        max_unused_days: r
            .child_u32("max-unused-days", 1..=3650)
            .map_or(45, |d| d.value),
        console_mfa: r.child_bool("console-mfa").is_none_or(|b| b.value),
        root_access_keys: r.child_bool("root-access-keys").is_none_or(|b| b.value),
    })
}

/// One row of the credential report, by column name.
struct Row<'a> {
    header: &'a [&'a str],
    cells: Vec<&'a str>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> &str {
        self.header
            .iter()
            .position(|h| *h == column)
            .and_then(|i| self.cells.get(i))
            .copied()
            .unwrap_or("")
    }

    fn yes(&self, column: &str) -> bool {
        self.get(column) == "true"
    }

    /// A timestamp cell (`2024-05-01T10:00:00+00:00`); `None` for `N/A`, `no_information`,
    /// `not_supported` or an empty cell.
    fn time(&self, column: &str) -> Option<SystemTime> {
        let cell = self.get(column);
        let utc = cell
            .strip_suffix("+00:00")
            .map_or_else(|| cell.to_string(), |t| format!("{t}Z"));
        humantime::parse_rfc3339_weak(&utc).ok()
    }
}

fn days(d: u32) -> Duration {
    Duration::from_secs(u64::from(d) * 86_400)
}

fn older_than(t: Option<SystemTime>, limit: u32, now: SystemTime) -> bool {
    t.is_some_and(|t| now.duration_since(t).unwrap_or_default() > days(limit))
}

/// The findings a credential report (CSV, as IAM returns it) holds under `rules` at `now`.
pub fn findings_of(csv: &str, rules: &CredentialHygiene, now: SystemTime) -> Vec<Finding> {
    let mut lines = csv.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let header: Vec<&str> = header.split(',').collect();
    let mut findings = Vec::new();
    let mut finding = |message: String| findings.push(Finding { message });
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let mut cells: Vec<&str> = line.split(',').collect();
        // A user name may hold commas (IAM allows them) and the report does not quote it,
        // nor the ARN that ends with it: the extra cells, half each, belong to those two
        // first columns, which only the name is read from.
        let extra = cells.len().saturating_sub(header.len());
        let user = cells[..=extra / 2].join(",");
        cells.drain(..extra);
        let row = Row {
            header: &header,
            cells,
        };
        if user == "<root_account>" {
            if rules.root_access_keys
                && (row.yes("access_key_1_active") || row.yes("access_key_2_active"))
            {
                finding("the root user has an active access key (CIS 1.4)".into());
            }
            continue;
        }
        let console = row.yes("password_enabled");
        if rules.console_mfa && console && !row.yes("mfa_active") {
            finding(format!(
                "user {user} signs in to the console without MFA (CIS 1.10)"
            ));
        }
        // Unused: never used since it was set, or last used, longer ago than allowed.
        let password_used = row
            .time("password_last_used")
            .or_else(|| row.time("password_last_changed"))
            .or_else(|| row.time("user_creation_time"));
        if console && older_than(password_used, rules.max_unused_days, now) {
            finding(format!(
                "user {user} has a console password unused for more than {} days (CIS 1.12)",
                rules.max_unused_days
            ));
        }
        for key in ["1", "2"] {
            if !row.yes(&format!("access_key_{key}_active")) {
                continue;
            }
            let rotated = row.time(&format!("access_key_{key}_last_rotated"));
            let used = row
                .time(&format!("access_key_{key}_last_used_date"))
                .or(rotated);
            if older_than(used, rules.max_unused_days, now) {
                finding(format!(
                    "user {user} has access key {key} unused for more than {} days (CIS 1.12)",
                    rules.max_unused_days
                ));
            }
            if older_than(rotated, rules.max_key_age_days, now) {
                finding(format!(
                    "user {user} has access key {key} older than {} days (CIS 1.14)",
                    rules.max_key_age_days
                ));
            }
        }
    }
    findings
}

// --- AWS -------------------------------------------------------------------------------

/// One account's report. Nothing to create or change: always present, no attributes,
/// never tagged; the plan holds only the findings.
pub struct CredentialHygieneProvider;

/// The account's credential report, generated first: IAM builds it in the background
/// (GenerateCredentialReport answers STARTED, then INPROGRESS, then COMPLETE; a report at
/// most four hours old is returned at once).
async fn credential_report(iam: &aws_sdk_iam::Client) -> provider::Result<String> {
    let mut backoff = Backoff::default();
    loop {
        let state = iam
            .generate_credential_report()
            .send()
            .await
            .ctx("iam:GenerateCredentialReport")?;
        if state.state() == Some(&ReportStateType::Complete) {
            break;
        }
        if !backoff.wait().await {
            return Err(Error::State(
                "IAM did not finish the credential report in time".into(),
            ));
        }
    }
    let report = iam
        .get_credential_report()
        .send()
        .await
        .ctx("iam:GetCredentialReport")?;
    let content = report.content().map(|b| b.as_ref()).unwrap_or_default();
    Ok(String::from_utf8_lossy(content).into_owned())
}

#[async_trait]
impl Provider for CredentialHygieneProvider {
    fn desired(&self, _cx: &Ctx<'_>, _inst: &Instance) -> Attrs {
        Attrs::new()
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let mut observed = Observed::present(Attrs::new(), Attrs::new(), None);
        let Some(rules) = spec_of::<CredentialHygiene>(cx.decl(inst)) else {
            return Ok(observed);
        };
        let iam = cx.aws.iam(&inst.account_id, &inst.region).await?;
        let csv = credential_report(&iam).await?;
        observed.findings = findings_of(&csv, rules, SystemTime::now());
        Ok(observed)
    }

    async fn apply(
        &self,
        _cx: &Ctx<'_>,
        _inst: &Instance,
        _change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    fn rules() -> CredentialHygiene {
        CredentialHygiene {
            max_key_age_days: 90,
            max_unused_days: 45,
            console_mfa: true,
            root_access_keys: true,
        }
    }

    fn now() -> SystemTime {
        humantime::parse_rfc3339("2026-11-29T00:00:00Z").unwrap()
    }

    #[test]
    fn every_rule_finds_what_it_should_and_nothing_else() {
        let csv = [
            HEADER,
            "<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-01T00:00:00+00:00,not_supported,not_supported,true,true,2026-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            // Console without MFA, password used yesterday.
            "alice,arn:aws:iam::111122223333:user/alice,2026-01-01T00:00:00+00:00,true,2026-11-28T00:00:00+00:00,2026-01-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            // MFA, but the password never used in a year; key 1 old and unused, key 2 fresh.
            "bob,arn:aws:iam::111122223333:user/bob,2025-01-01T00:00:00+00:00,true,no_information,2025-01-01T00:00:00+00:00,N/A,true,true,2025-06-01T00:00:00+00:00,2025-07-01T00:00:00+00:00,us-east-1,s3,true,2026-11-01T00:00:00+00:00,2026-11-28T00:00:00+00:00,us-east-1,sts,false,N/A,false,N/A",
            // A comma in the name; a clean machine user.
            "ci,bot,arn:aws:iam::111122223333:user/ci,bot,2026-11-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2026-11-01T00:00:00+00:00,2026-11-28T00:00:00+00:00,us-east-1,sts,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            // The same with a key from 2025: named whole.
            "ci,old,arn:aws:iam::111122223333:user/ci,old,2025-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2025-01-01T00:00:00+00:00,2026-11-28T00:00:00+00:00,us-east-1,sts,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        ]
        .join("\n");
        let messages: Vec<String> = findings_of(&csv, &rules(), now())
            .into_iter()
            .map(|f| f.message)
            .collect();
        assert_eq!(
            messages,
            [
                "the root user has an active access key (CIS 1.4)",
                "user alice signs in to the console without MFA (CIS 1.10)",
                "user bob has a console password unused for more than 45 days (CIS 1.12)",
                "user bob has access key 1 unused for more than 45 days (CIS 1.12)",
                "user bob has access key 1 older than 90 days (CIS 1.14)",
                "user ci,old has access key 1 older than 90 days (CIS 1.14)",
            ]
        );
        let lenient = CredentialHygiene {
            max_key_age_days: 3650,
            max_unused_days: 3650,
            console_mfa: false,
            root_access_keys: false,
        };
        assert!(findings_of(&csv, &lenient, now()).is_empty());
    }
}
