//! `baseline report`: for one framework, every control with the declared resources that
//! serve it (their `controls` tags plus their kind's default mapping) and whether it holds
//! right now (from a fresh read of AWS, or from a saved plan), as Markdown, JSON or a
//! self-contained HTML page for an auditor (`html`, which opens with the `summary`).

mod html;
pub mod summary;

pub use html::html;

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::controls::{self, Framework};
use crate::graph::declarations_by_part;
use crate::lang::model::{Baseline, Declaration};
use crate::plan::Plan;
use crate::render::md_escape as md;

/// Controls each kind serves by default; a declaration's own `controls` tags add to these.
pub fn default_controls(keyword: &str) -> &'static [&'static str] {
    match keyword {
        "organization" | "organizational-unit" | "account" => {
            &["SOC2:CC6.1", "ISO27001:2022:A.5.15"]
        }
        "service-control-policy" => &[
            "SOC2:CC6.1",
            "SOC2:CC6.6",
            "ISO27001:2022:A.5.15",
            "ISO27001:2022:A.8.2",
        ],
        "kms-key" => &["SOC2:CC6.1", "SOC2:CC6.7", "ISO27001:2022:A.8.24"],
        "log-bucket" => &["SOC2:CC7.2", "ISO27001:2022:A.8.15"],
        "organization-trail" => &[
            "SOC2:CC7.2",
            "SOC2:CC7.3",
            "ISO27001:2022:A.8.15",
            "ISO27001:2022:A.8.16",
        ],
        "config-recorder" => &["SOC2:CC7.1", "SOC2:CC8.1", "ISO27001:2022:A.8.9"],
        "security-hub" => &[
            "SOC2:CC4.1",
            "SOC2:CC7.1",
            "ISO27001:2022:A.8.8",
            "ISO27001:2022:A.8.16",
        ],
        "backup-vault" | "backup-plan" => &["SOC2:A1.2", "ISO27001:2022:A.8.13"],
        "kms-rotation" => &["SOC2:CC6.1", "ISO27001:2022:A.8.24"],
        "password-policy" => &["SOC2:CC6.1", "ISO27001:2022:A.5.17"],
        "mfa" => &["SOC2:CC6.1", "ISO27001:2022:A.8.5"],
        // CIS 1.17: someone can open and work AWS Support cases during an incident.
        "support-role" => &["SOC2:CC7.4", "ISO27001:2022:A.5.24", "ISO27001:2022:A.5.26"],
        // Detect and act on anomalies: CloudWatch watching the trail, alerts delivered.
        "log-group" | "security-alarms" | "alert-topic" => &[
            "SOC2:CC7.2",
            "SOC2:CC7.3",
            "ISO27001:2022:A.8.15",
            "ISO27001:2022:A.8.16",
        ],
        "log-retention" => &["SOC2:CC7.2", "ISO27001:2022:A.8.15"],
        "guardduty" => &["SOC2:CC7.2", "SOC2:CC7.3", "ISO27001:2022:A.8.16"],
        "access-analyzer" => &[
            "SOC2:CC6.1",
            "SOC2:CC7.2",
            "ISO27001:2022:A.5.15",
            "ISO27001:2022:A.8.16",
        ],
        "account-public-access-block" => &["SOC2:CC6.1", "SOC2:CC6.6", "ISO27001:2022:A.8.3"],
        "ebs-encryption" => &["SOC2:CC6.1", "SOC2:CC6.7", "ISO27001:2022:A.8.24"],
        "credential-hygiene" => &[
            "SOC2:CC6.1",
            "SOC2:CC6.2",
            "ISO27001:2022:A.5.17",
            "ISO27001:2022:A.5.18",
        ],
        _ => &[],
    }
}

/// The controls a declaration serves: its kind's defaults (unless it opted out) and its own
/// `controls` tags, sorted, each once.
pub fn controls_of(d: &Declaration) -> Vec<String> {
    let defaults: &[&str] = if d.default_controls {
        default_controls(d.kind.keyword())
    } else {
        &[]
    };
    let mut all: Vec<String> = defaults
        .iter()
        .map(|c| c.to_string())
        .chain(d.controls.iter().map(|c| c.value.clone()))
        .collect();
    all.sort();
    all.dedup();
    all
}

/// Whether a control holds right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Holds,
    Drifted,
    /// A requirement no API remediates is not met (root MFA, say).
    Finding,
    NotCovered,
    /// Met outside the technical baseline (a policy, a process), as the statement of
    /// applicability's `justify` says: not enforced here, and not "not covered" either.
    Justified,
    /// Declared not applicable in the statement of applicability.
    NotApplicable,
}

impl Status {
    /// Every status, in the order the summary shows them: met (here or elsewhere), then what
    /// needs attention, then what the baseline does not cover.
    pub const ALL: [Status; 6] = [
        Status::Holds,
        Status::Justified,
        Status::Finding,
        Status::Drifted,
        Status::NotCovered,
        Status::NotApplicable,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Status::Holds => "holds",
            Status::Drifted => "drifted",
            Status::Finding => "finding",
            Status::NotCovered => "not covered",
            Status::Justified => "met outside baseline",
            Status::NotApplicable => "not applicable",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceStatus {
    /// `kind.name` of the declaration.
    pub resource: String,
    pub instances: usize,
    pub status: Status,
    /// Instances that drift or have findings, with what.
    pub details: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlStatus {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub resources: Vec<ResourceStatus>,
    /// Statement of applicability: whether the control applies, and why or how.
    pub applicable: bool,
    pub justification: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub framework: String,
    pub generated: String,
    /// Where the status comes from: "live AWS" or the saved plan's file.
    pub source: String,
    pub controls: Vec<ControlStatus>,
    /// The declared waivers that concern this framework (no control, or one of its own):
    /// the deviations the organization has accepted, and until when.
    pub exceptions: Vec<Exception>,
    /// Every planned instance of a declaration. Not in the JSON report (whose format stays
    /// as it is): per-instance detail is the plan's JSON.
    #[serde(skip)]
    pub instances: Vec<InstanceStatus>,
    /// The framework's groups of controls (SOC 2 series, ISO 27001 themes), from its
    /// catalog, for the coverage bars. Not in the JSON report: the catalog's, not the run's.
    #[serde(skip)]
    pub categories: Vec<summary::Category>,
}

/// A waiver as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Exception {
    pub waiver: String,
    pub address: String,
    pub control: Option<String>,
    pub owner: String,
    pub ticket: Option<String>,
    pub reason: String,
    pub expires: String,
    pub expired: bool,
    /// The instances whose drift it accepts in this report's plan.
    pub waived: Vec<String>,
}

/// One planned instance of a declared resource, with the account it lives in and this
/// framework's controls it serves: what the per-account views are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceStatus {
    /// `kind.name[account/region]`.
    pub address: String,
    /// The account's name as the plan knows it; `None` for an organization-wide instance
    /// (an SCP, the organization itself), which lives in the management account.
    pub account: Option<String>,
    pub account_id: String,
    /// Ids (no framework prefix) of this framework's controls that its declaration serves.
    pub controls: Vec<String>,
    /// What apply would do to it (`update in place`, ...); `None` when it matches or its
    /// drift is waived.
    pub change: Option<String>,
    /// What no API remediates (a console user without MFA), as the plan says it.
    pub findings: Vec<String>,
}

impl InstanceStatus {
    /// Whether it is out of the baseline: a change to make or a finding (which counts as
    /// drift, as in the plan).
    pub fn drifted(&self) -> bool {
        self.change.is_some() || !self.findings.is_empty()
    }
}

impl Report {
    pub fn count(&self, status: Status) -> usize {
        self.controls.iter().filter(|c| c.status == status).count()
    }

    /// What the framework calls its entries: "criteria" (SOC 2) or "controls".
    pub fn entries(&self) -> &'static str {
        if self.framework.starts_with("SOC") {
            "criteria"
        } else {
            "controls"
        }
    }

    /// One line for CI: "SOC 2: 23 of 61 criteria covered, 21 hold, 2 drifted".
    pub fn coverage_line(&self) -> String {
        let total = self.controls.len();
        let covered = total
            - self.count(Status::NotCovered)
            - self.count(Status::NotApplicable)
            - self.count(Status::Justified);
        let mut line = format!(
            "{}: {covered} of {total} {} covered, {} hold, {} drifted",
            self.framework,
            self.entries(),
            self.count(Status::Holds),
            self.count(Status::Drifted)
        );
        let findings = self.count(Status::Finding);
        if findings > 0 {
            let _ = write!(line, ", {findings} with findings");
        }
        let justified = self.count(Status::Justified);
        if justified > 0 {
            let _ = write!(line, ", {justified} met outside baseline");
        }
        let excluded = self.count(Status::NotApplicable);
        if excluded > 0 {
            let _ = write!(line, ", {excluded} not applicable");
        }
        line
    }
}

/// What the plan says of one declaration's instances.
#[derive(Debug, Clone, Default)]
struct DeclarationState {
    instances: usize,
    drifted: Vec<String>,
    findings: Vec<String>,
    /// What does not change its status: another tool owns it, a waiver accepts its drift.
    notes: Vec<String>,
}

/// An instance of an `observe` declaration that differs from the baseline.
fn observed_drift(item: &crate::plan::Planned) -> bool {
    item.observed && !item.diffs.is_empty()
}

/// Build the report of `framework` from a baseline and a plan of it.
pub fn build(framework: Framework, baseline: &Baseline, plan: &Plan, source: &str) -> Report {
    let decl_of = declarations_by_part(baseline);
    let served: Vec<Vec<String>> = baseline.declarations.iter().map(controls_of).collect();
    let mut state: BTreeMap<usize, DeclarationState> = BTreeMap::new();
    let mut instances = Vec::new();
    for item in &plan.items {
        let Some(&d) = decl_of.get(&(item.address.kind.clone(), item.address.name.clone())) else {
            continue;
        };
        instances.push(InstanceStatus {
            address: item.address.to_string(),
            account: item.address.account.clone(),
            account_id: item.account_id.clone(),
            controls: served[d]
                .iter()
                .filter_map(|tag| tag.strip_prefix(framework.prefix()))
                .map(str::to_string)
                .collect(),
            change: match item.action {
                Some(a) => Some(a.verb().to_string()),
                None if observed_drift(item) => Some("observed".to_string()),
                None => None,
            },
            findings: item.findings.iter().map(|f| f.message.clone()).collect(),
        });
        let entry = state.entry(d).or_default();
        entry.instances += 1;
        if let Some(action) = item.action {
            entry
                .drifted
                .push(format!("{} ({})", item.address, action.verb()));
        }
        // What baseline only observes is never changed, but its drift is the control's.
        if observed_drift(item) {
            let names: Vec<&str> = item.diffs.iter().map(|d| d.name.as_str()).collect();
            entry.drifted.push(format!(
                "{} (observed; differs in {})",
                item.address,
                names.join(", ")
            ));
        }
        if let Some(owner) = &item.owner {
            entry
                .notes
                .push(format!("{}: managed by {owner}", item.address));
        }
        if let Some(waiver) = &item.waived {
            entry
                .notes
                .push(format!("{}: drift waived by \"{waiver}\"", item.address));
        }
        for f in &item.findings {
            entry
                .findings
                .push(format!("{}: {}", item.address, f.message));
        }
    }
    let controls = controls::all(framework)
        .iter()
        .map(|control| {
            let tag = format!("{}{}", framework.prefix(), control.id);
            let resources: Vec<ResourceStatus> = baseline
                .declarations
                .iter()
                .enumerate()
                .filter(|(i, _)| served[*i].contains(&tag))
                .map(|(i, d)| {
                    let DeclarationState {
                        instances,
                        drifted,
                        findings,
                        notes,
                    } = state.get(&i).cloned().unwrap_or_default();
                    let status = if !drifted.is_empty() {
                        Status::Drifted
                    } else if !findings.is_empty() {
                        Status::Finding
                    } else {
                        Status::Holds
                    };
                    ResourceStatus {
                        resource: format!("{}.{}", d.kind.keyword(), d.name.value),
                        instances,
                        status,
                        details: drifted.into_iter().chain(findings).chain(notes).collect(),
                    }
                })
                .collect();
            let declared = baseline
                .applicability
                .iter()
                .find(|a| a.control.value == tag);
            let status = resources
                .iter()
                .map(|r| r.status)
                .max_by_key(|s| match s {
                    Status::Drifted => 3,
                    Status::Finding => 2,
                    Status::Holds => 1,
                    Status::NotCovered | Status::Justified | Status::NotApplicable => 0,
                })
                .unwrap_or(match declared {
                    Some(a) if !a.applicable => Status::NotApplicable,
                    Some(_) => Status::Justified,
                    None => Status::NotCovered,
                });
            let justification = match declared {
                Some(a) => a.justification.clone(),
                None if !resources.is_empty() => format!(
                    "Implemented and enforced by baseline: {}",
                    resources
                        .iter()
                        .map(|r| r.resource.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "Applicable; not enforced by this baseline and no justification declared"
                    .to_string(),
            };
            ControlStatus {
                id: control.id.clone(),
                title: control.title.clone(),
                status,
                resources,
                applicable: declared.is_none_or(|a| a.applicable),
                justification,
            }
        })
        .collect();
    let today = crate::lang::model::today();
    let exceptions = baseline
        .waivers
        .iter()
        .filter(|w| {
            w.control
                .as_deref()
                .is_none_or(|c| c.starts_with(framework.prefix()))
        })
        .map(|w| Exception {
            waiver: w.name.value.clone(),
            address: w.address.value.clone(),
            control: w.control.clone(),
            owner: w.owner.clone(),
            ticket: w.ticket.clone(),
            reason: w.reason.clone(),
            expires: w.expires.clone(),
            expired: w.expired(&today),
            waived: plan
                .items
                .iter()
                .filter(|i| i.waived.as_deref() == Some(w.name.value.as_str()))
                .map(|i| i.address.to_string())
                .collect(),
        })
        .collect();
    Report {
        framework: framework.name().to_string(),
        generated: crate::changelog::now_rfc3339(),
        source: source.to_string(),
        controls,
        exceptions,
        instances,
        categories: summary::categories(framework),
    }
}

/// The exceptions as Markdown rows (`| waiver | ... |`), one per waiver.
fn exception_rows(report: &Report) -> Vec<[String; 6]> {
    report
        .exceptions
        .iter()
        .map(|e| {
            [
                e.waiver.clone(),
                e.address.clone(),
                e.control.clone().unwrap_or_else(|| "any".to_string()),
                format!(
                    "{}{}",
                    e.owner,
                    e.ticket
                        .as_ref()
                        .map(|t| format!(" ({t})"))
                        .unwrap_or_default()
                ),
                format!("{}{}", e.expires, if e.expired { " (expired)" } else { "" }),
                format!(
                    "{}{}",
                    e.reason,
                    if e.waived.is_empty() {
                        String::new()
                    } else {
                        format!("; waives {}", e.waived.join(", "))
                    }
                ),
            ]
        })
        .collect()
}

const EXCEPTION_HEAD: [&str; 6] = ["Waiver", "Address", "Control", "Owner", "Expires", "Reason"];

pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {} controls report\n", report.framework);
    let _ = writeln!(
        out,
        "Generated {} from {}.  ",
        report.generated, report.source
    );
    let _ = writeln!(out, "{}\n", report.coverage_line());
    let _ = writeln!(
        out,
        "| Control | Title | Status | Resources |\n| --- | --- | --- | --- |"
    );
    for c in &report.controls {
        let resources: Vec<String> = c
            .resources
            .iter()
            .map(|r| format!("`{}` ({})", r.resource, r.status.label()))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            c.id,
            md(&c.title),
            c.status.label(),
            if c.status == Status::Justified {
                md(&c.justification)
            } else if resources.is_empty() {
                "-".to_string()
            } else {
                resources.join(", ")
            }
        );
    }
    if report.framework.starts_with("ISO") {
        let _ = writeln!(
            out,
            "\n## Statement of Applicability (draft)\n\n| Control | Title | Applicable | Justification |\n| --- | --- | --- | --- |"
        );
        for c in &report.controls {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                c.id,
                md(&c.title),
                if c.applicable { "Yes" } else { "No" },
                md(&c.justification)
            );
        }
    }
    let exceptions = exception_rows(report);
    if !exceptions.is_empty() {
        let _ = writeln!(
            out,
            "\n## Exceptions (waivers)\n\n| {} |\n|{}",
            EXCEPTION_HEAD.join(" | "),
            " --- |".repeat(EXCEPTION_HEAD.len())
        );
        for row in exceptions {
            let cells: Vec<String> = row.iter().map(|c| md(c)).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    let problems: Vec<&ControlStatus> = report
        .controls
        .iter()
        .filter(|c| matches!(c.status, Status::Drifted | Status::Finding))
        .collect();
    if !problems.is_empty() {
        let _ = writeln!(out, "\n## Drift and findings\n");
        for c in problems {
            let _ = writeln!(out, "### {} {}\n", c.id, md(&c.title));
            for r in &c.resources {
                for d in &r.details {
                    let _ = writeln!(out, "- `{}`: {}", r.resource, md(d));
                }
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::default_controls;
    use crate::kinds::KINDS;

    #[test]
    fn every_default_mapping_names_a_real_control() {
        for kind in KINDS {
            let defaults = default_controls(kind.keyword());
            assert!(
                !defaults.is_empty(),
                "{} has no default mapping",
                kind.keyword()
            );
            for tag in defaults {
                assert!(
                    crate::controls::lookup(tag).is_some(),
                    "{}: {tag} is not in the catalog",
                    kind.keyword()
                );
            }
        }
        // The examples.
        assert!(default_controls("organization-trail").contains(&"SOC2:CC7.2"));
        assert!(default_controls("organization-trail").contains(&"ISO27001:2022:A.8.15"));
        assert!(default_controls("backup-plan").contains(&"SOC2:A1.2"));
        assert!(default_controls("backup-plan").contains(&"ISO27001:2022:A.8.13"));
    }
}
