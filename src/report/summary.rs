//! What the summary at the top of the HTML report shows, computed from a [`Report`] alone so
//! that it can be checked with plain values: how many controls have each status, the same per
//! category of the framework, drift per account and control, and the plan's findings.

use std::collections::{BTreeMap, BTreeSet};

use super::{InstanceStatus, Report, Status};
use crate::controls::Framework;

/// A group of a framework's controls that the summary gives one coverage bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// `CC6`, `P`, `A.8`.
    pub id: String,
    pub title: String,
    /// Ids of its controls, in catalog order.
    pub controls: Vec<String>,
}

/// The categories of a framework, from its catalog. ISO 27001: its four themes. SOC 2: each
/// series of the common criteria (CC1 to CC9, the Security category), then each additional
/// category with all its series (A1 Availability, C1 Confidentiality, PI1 Processing
/// Integrity, P1 to P8 as P Privacy), the way the Trust Services Criteria are laid out.
pub fn categories(framework: Framework) -> Vec<Category> {
    let catalog = framework.catalog();
    let mut out: Vec<Category> = catalog
        .themes
        .iter()
        .map(|theme| Category {
            id: theme.id.clone(),
            title: theme.title.clone(),
            controls: catalog
                .controls
                .iter()
                .filter(|c| {
                    c.id.strip_prefix(theme.id.as_str())
                        .is_some_and(|rest| rest.starts_with('.'))
                })
                .map(|c| c.id.clone())
                .collect(),
        })
        .collect();
    // Index in `out` of each additional category seen so far.
    let mut additional: BTreeMap<&str, usize> = BTreeMap::new();
    for series in &catalog.series {
        let members = catalog
            .controls
            .iter()
            .filter(|c| c.series.as_deref() == Some(series.id.as_str()))
            .map(|c| c.id.clone());
        match series.category.as_deref() {
            None | Some("Security") => out.push(Category {
                id: series.id.clone(),
                title: series.title.clone(),
                controls: members.collect(),
            }),
            Some(category) => match additional.get(category) {
                Some(&i) => {
                    let joined = &mut out[i];
                    joined.id = common_prefix(&joined.id, &series.id);
                    joined.controls.extend(members);
                }
                None => {
                    additional.insert(category, out.len());
                    out.push(Category {
                        id: series.id.clone(),
                        title: category.to_string(),
                        controls: members.collect(),
                    });
                }
            },
        }
    }
    out
}

fn common_prefix(a: &str, b: &str) -> String {
    a.chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

/// How many of the report's controls have each status, for every status (zeros included:
/// "0 drifted" is worth saying).
pub fn status_counts(report: &Report) -> Vec<(Status, usize)> {
    Status::ALL
        .into_iter()
        .map(|s| (s, report.count(s)))
        .collect()
}

/// One category's controls by status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryCoverage {
    pub id: String,
    pub title: String,
    /// Its controls in this report.
    pub total: usize,
    /// The statuses that occur, with how many controls have each, in [`Status::ALL`] order.
    pub counts: Vec<(Status, usize)>,
}

/// Each category of the report's framework with its controls counted by status.
pub fn coverage_by_category(report: &Report) -> Vec<CategoryCoverage> {
    let status_of: BTreeMap<&str, Status> = report
        .controls
        .iter()
        .map(|c| (c.id.as_str(), c.status))
        .collect();
    report
        .categories
        .iter()
        .map(|category| {
            let statuses: Vec<Status> = category
                .controls
                .iter()
                .filter_map(|id| status_of.get(id.as_str()).copied())
                .collect();
            CategoryCoverage {
                id: category.id.clone(),
                title: category.title.clone(),
                total: statuses.len(),
                counts: Status::ALL
                    .into_iter()
                    .map(|s| (s, statuses.iter().filter(|&&t| t == s).count()))
                    .filter(|&(_, n)| n > 0)
                    .collect(),
            }
        })
        .collect()
}

/// Where an instance lives, as a row of the heat map.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Site {
    /// Organization-wide instances (SCPs, the organization, its OUs), with the management
    /// account's id. A row of their own rather than the management account's: they are one
    /// setting for every account, fixed in the organization, and folding them into the
    /// management account would blame that account for drift that is not its own.
    Organization {
        account_id: String,
    },
    Account {
        name: String,
        account_id: String,
    },
}

impl Site {
    pub fn of(instance: &InstanceStatus) -> Site {
        match &instance.account {
            None => Site::Organization {
                account_id: instance.account_id.clone(),
            },
            Some(name) => Site::Account {
                name: name.clone(),
                account_id: instance.account_id.clone(),
            },
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Site::Organization { .. } => "organization",
            Site::Account { name, .. } => name,
        }
    }

    pub fn account_id(&self) -> &str {
        match self {
            Site::Organization { account_id } | Site::Account { account_id, .. } => account_id,
        }
    }
}

/// One cell of the heat map: a control in one account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeatCell {
    /// Instances serving the control there (0: the control has nothing in that account).
    pub instances: usize,
    /// Those that drifted: a change to make or a finding (as in the plan, findings count as
    /// drift).
    pub drifted: usize,
    /// What is wrong with them, one line per change or finding.
    pub problems: Vec<String>,
}

/// Drift by account and control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeatMap {
    /// Column heads: the controls with at least one instance anywhere, in catalog order.
    pub controls: Vec<String>,
    /// The organization first, then the accounts by name; one cell per control.
    pub rows: Vec<(Site, Vec<HeatCell>)>,
}

/// The heat map of drift, when instances live in more than one account (with one account
/// the per-control table says it all).
pub fn drift_heat_map(report: &Report) -> Option<HeatMap> {
    let accounts: BTreeSet<&str> = report
        .instances
        .iter()
        .filter(|i| i.account.is_some())
        .map(|i| i.account_id.as_str())
        .collect();
    if accounts.len() < 2 {
        return None;
    }
    let used: BTreeSet<&str> = report
        .instances
        .iter()
        .flat_map(|i| i.controls.iter().map(String::as_str))
        .collect();
    let controls: Vec<String> = report
        .controls
        .iter()
        .filter(|c| used.contains(c.id.as_str()))
        .map(|c| c.id.clone())
        .collect();
    let column: BTreeMap<&str, usize> = controls
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    // `Site` orders the organization before the accounts, and accounts by name.
    let mut rows: BTreeMap<Site, Vec<HeatCell>> = BTreeMap::new();
    for instance in &report.instances {
        let cells = rows
            .entry(Site::of(instance))
            .or_insert_with(|| vec![HeatCell::default(); controls.len()]);
        for control in &instance.controls {
            let Some(&col) = column.get(control.as_str()) else {
                continue;
            };
            let cell = &mut cells[col];
            cell.instances += 1;
            if instance.drifted() {
                cell.drifted += 1;
            }
            if let Some(change) = &instance.change {
                cell.problems
                    .push(format!("{} ({change})", instance.address));
            }
            for finding in &instance.findings {
                cell.problems
                    .push(format!("{}: {finding}", instance.address));
            }
        }
    }
    Some(HeatMap {
        controls,
        rows: rows.into_iter().collect(),
    })
}

/// Every finding of the plan (what no API remediates), with the instance it was found on.
pub fn findings(report: &Report) -> Vec<(&InstanceStatus, &str)> {
    report
        .instances
        .iter()
        .flat_map(|i| i.findings.iter().map(move |f| (i, f.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ControlStatus;

    fn control(id: &str, status: Status) -> ControlStatus {
        ControlStatus {
            id: id.into(),
            title: format!("title of {id}"),
            status,
            resources: vec![],
            applicable: status != Status::NotApplicable,
            justification: String::new(),
        }
    }

    fn instance(
        address: &str,
        account: Option<&str>,
        account_id: &str,
        controls: &[&str],
    ) -> InstanceStatus {
        InstanceStatus {
            address: address.into(),
            account: account.map(str::to_string),
            account_id: account_id.into(),
            controls: controls.iter().map(|c| c.to_string()).collect(),
            change: None,
            findings: vec![],
        }
    }

    fn report(controls: Vec<ControlStatus>, instances: Vec<InstanceStatus>) -> Report {
        Report {
            framework: "SOC 2".into(),
            generated: "2026-01-01T00:00:00Z".into(),
            source: "values".into(),
            controls,
            exceptions: vec![],
            instances,
            categories: vec![
                Category {
                    id: "CC6".into(),
                    title: "Access".into(),
                    controls: vec!["CC6.1".into(), "CC6.2".into(), "CC6.3".into()],
                },
                Category {
                    id: "P".into(),
                    title: "Privacy".into(),
                    controls: vec!["P1.1".into(), "P2.1".into()],
                },
            ],
        }
    }

    #[test]
    fn soc2_categories_are_the_common_criteria_series_then_the_additional_categories() {
        let soc2 = categories(Framework::Soc2);
        let heads: Vec<(&str, &str, usize)> = soc2
            .iter()
            .map(|c| (c.id.as_str(), c.title.as_str(), c.controls.len()))
            .collect();
        assert_eq!(
            heads,
            [
                ("CC1", "Control Environment", 5),
                ("CC2", "Communication and Information", 3),
                ("CC3", "Risk Assessment", 4),
                ("CC4", "Monitoring Activities", 2),
                ("CC5", "Control Activities", 3),
                ("CC6", "Logical and Physical Access Controls", 8),
                ("CC7", "System Operations", 5),
                ("CC8", "Change Management", 1),
                ("CC9", "Risk Mitigation", 2),
                ("A1", "Availability", 3),
                ("C1", "Confidentiality", 2),
                ("PI1", "Processing Integrity", 5),
                ("P", "Privacy", 18),
            ]
        );
        assert_eq!(soc2[12].controls.first().map(String::as_str), Some("P1.1"));
        assert_eq!(soc2[12].controls.last().map(String::as_str), Some("P8.1"));
        let iso: Vec<(String, usize)> = categories(Framework::Iso27001)
            .into_iter()
            .map(|c| (format!("{} {}", c.id, c.title), c.controls.len()))
            .collect();
        assert_eq!(
            iso,
            [
                ("A.5 Organizational controls".to_string(), 37),
                ("A.6 People controls".to_string(), 8),
                ("A.7 Physical controls".to_string(), 14),
                ("A.8 Technological controls".to_string(), 34),
            ]
        );
    }

    #[test]
    fn status_counts_cover_every_status_with_zeros() {
        let r = report(
            vec![
                control("CC6.1", Status::Drifted),
                control("CC6.2", Status::Holds),
                control("CC6.3", Status::Holds),
                control("P1.1", Status::NotCovered),
                control("P2.1", Status::Justified),
            ],
            vec![],
        );
        assert_eq!(
            status_counts(&r),
            [
                (Status::Holds, 2),
                (Status::Justified, 1),
                (Status::Finding, 0),
                (Status::Drifted, 1),
                (Status::NotCovered, 1),
                (Status::NotApplicable, 0),
            ]
        );
        assert_eq!(
            coverage_by_category(&r),
            [
                CategoryCoverage {
                    id: "CC6".into(),
                    title: "Access".into(),
                    total: 3,
                    counts: vec![(Status::Holds, 2), (Status::Drifted, 1)],
                },
                CategoryCoverage {
                    id: "P".into(),
                    title: "Privacy".into(),
                    total: 2,
                    counts: vec![(Status::Justified, 1), (Status::NotCovered, 1)],
                },
            ]
        );
    }

    #[test]
    fn heat_map_counts_drifted_instances_per_account_and_control() {
        let mut drifted = instance(
            "password-policy.default[prod]",
            Some("prod"),
            "222222222222",
            &["CC6.1"],
        );
        drifted.change = Some("update in place".into());
        let mut finding = instance(
            "mfa.default[prod]",
            Some("prod"),
            "222222222222",
            &["CC6.1"],
        );
        finding.findings = vec!["root user has no MFA device".into()];
        let r = report(
            vec![
                control("CC6.1", Status::Drifted),
                control("CC6.2", Status::Holds),
                control("CC6.3", Status::NotCovered),
            ],
            vec![
                instance(
                    "service-control-policy.deny",
                    None,
                    "111111111111",
                    &["CC6.2"],
                ),
                instance(
                    "password-policy.default[staging]",
                    Some("staging"),
                    "333333333333",
                    &["CC6.1"],
                ),
                drifted,
                finding,
                instance(
                    "password-policy.default[management]",
                    Some("management"),
                    "111111111111",
                    &["CC6.1"],
                ),
            ],
        );
        let map = drift_heat_map(&r).expect("three accounts");
        // CC6.3 has no instance anywhere: no column.
        assert_eq!(map.controls, ["CC6.1", "CC6.2"]);
        let rows: Vec<_> = map
            .rows
            .iter()
            .map(|(site, cells)| {
                (
                    site.name(),
                    site.account_id(),
                    cells.iter().map(|c| (c.instances, c.drifted)).collect(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("organization", "111111111111", vec![(0, 0), (1, 0)]),
                ("management", "111111111111", vec![(1, 0), (0, 0)]),
                ("prod", "222222222222", vec![(2, 2), (0, 0)]),
                ("staging", "333333333333", vec![(1, 0), (0, 0)]),
            ]
        );
        assert_eq!(
            map.rows[2].1[0].problems,
            [
                "password-policy.default[prod] (update in place)",
                "mfa.default[prod]: root user has no MFA device"
            ]
        );
        let found: Vec<(&str, &str)> = findings(&r)
            .into_iter()
            .map(|(i, f)| (i.address.as_str(), f))
            .collect();
        assert_eq!(
            found,
            [("mfa.default[prod]", "root user has no MFA device")]
        );
    }

    #[test]
    fn no_heat_map_for_one_account() {
        let r = report(
            vec![control("CC6.1", Status::Holds)],
            vec![
                instance("service-control-policy.deny", None, "1", &["CC6.1"]),
                instance("mfa.default[only]", Some("only"), "1", &["CC6.1"]),
            ],
        );
        assert_eq!(drift_heat_map(&r), None);
    }

    #[test]
    fn an_instance_with_a_change_and_a_finding_is_one_drifted_instance() {
        let mut both = instance("mfa.default[a]", Some("a"), "1", &["CC6.1"]);
        both.change = Some("update in place".into());
        both.findings = vec!["root user has no MFA device".into()];
        let r = report(
            vec![control("CC6.1", Status::Drifted)],
            vec![both, instance("mfa.default[b]", Some("b"), "2", &["CC6.1"])],
        );
        let map = drift_heat_map(&r).unwrap();
        assert_eq!(
            (map.rows[0].1[0].instances, map.rows[0].1[0].drifted),
            (1, 1)
        );
        assert_eq!(map.rows[0].1[0].problems.len(), 2);
    }
}
