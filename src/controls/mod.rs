//! The compliance frameworks a `controls` tag can name, as catalogs built into the binary.
//!
//! A tag is the framework's prefix and a control id: `SOC2:CC6.1` for a 2017 Trust Services
//! Criterion, `ISO27001:2022:A.5.15` for an ISO/IEC 27001:2022 Annex A control. The catalogs
//! are JSON files next to this module, parsed once on first use.

use std::sync::LazyLock;

use serde::Deserialize;

/// A compliance framework with a catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Framework {
    /// AICPA 2017 Trust Services Criteria (revised points of focus, 2022).
    Soc2,
    /// ISO/IEC 27001:2022 Annex A.
    Iso27001,
}

impl Framework {
    pub const ALL: [Framework; 2] = [Framework::Soc2, Framework::Iso27001];

    /// What every tag of this framework starts with.
    pub fn prefix(self) -> &'static str {
        match self {
            Framework::Soc2 => "SOC2:",
            Framework::Iso27001 => "ISO27001:2022:",
        }
    }

    /// The framework's name for people: "SOC 2", "ISO 27001:2022".
    pub fn name(self) -> &'static str {
        match self {
            Framework::Soc2 => "SOC 2",
            Framework::Iso27001 => "ISO 27001:2022",
        }
    }

    /// What one entry of the catalog is called: "criterion", "control".
    pub fn noun(self) -> &'static str {
        match self {
            Framework::Soc2 => "criterion",
            Framework::Iso27001 => "control",
        }
    }

    pub fn catalog(self) -> &'static Catalog {
        match self {
            Framework::Soc2 => &SOC2,
            Framework::Iso27001 => &ISO27001,
        }
    }

    /// The framework whose prefix `tag` starts with, and the id after it.
    pub fn split(tag: &str) -> Option<(Framework, &str)> {
        Framework::ALL
            .into_iter()
            .find_map(|f| tag.strip_prefix(f.prefix()).map(|id| (f, id)))
    }
}

/// One framework's controls, in the order the framework lists them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub framework: String,
    pub version: String,
    /// Where the list comes from.
    pub source: String,
    /// SOC 2: the criteria series (`CC1` Control Environment, ...).
    #[serde(default)]
    pub series: Vec<Group>,
    /// ISO 27001: the four themes (`A.5` Organizational controls, ...).
    #[serde(default)]
    pub themes: Vec<Group>,
    pub controls: Vec<Control>,
    /// Every control's tag, in catalog order (filled in on load).
    #[serde(skip)]
    tags: Vec<String>,
}

/// A heading that controls are grouped under.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub category: Option<String>,
}

/// One control (ISO) or criterion (SOC 2).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// `CC6.1`, `A.5.15`: the id without the framework prefix.
    pub id: String,
    /// ISO: the control's name. SOC 2: the criterion as stated.
    pub title: String,
    /// SOC 2: the trust services category (Security, Availability, Confidentiality,
    /// Processing Integrity, Privacy).
    #[serde(default)]
    pub category: Option<String>,
    /// SOC 2: the series (`CC6`, `PI1`, `P4`).
    #[serde(default)]
    pub series: Option<String>,
    /// SOC 2 CC1–CC5: the COSO 2013 principle the criterion restates.
    #[serde(default)]
    pub coso_principle: Option<u8>,
    /// ISO: Organizational, People, Physical or Technological.
    #[serde(default)]
    pub theme: Option<String>,
    /// ISO: the ISO 27001:2013 Annex A controls this one replaces (none if new in 2022).
    #[serde(default)]
    pub replaces_2013: Vec<String>,
}

impl Catalog {
    fn load(framework: Framework, json: &str) -> Catalog {
        let mut catalog: Catalog = serde_json::from_str(json)
            .unwrap_or_else(|e| panic!("the built-in {} catalog: {e}", framework.name()));
        catalog.tags = catalog
            .controls
            .iter()
            .map(|c| format!("{}{}", framework.prefix(), c.id))
            .collect();
        catalog
    }

    /// The control with this id (no prefix).
    pub fn get(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id == id)
    }

    /// Every control's tag, `SOC2:CC1.1` ..., in catalog order.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.tags.iter().map(String::as_str)
    }

    /// The ids in compact form, series by series: `CC1.1–CC1.5, CC2.1–CC2.3, ...`.
    pub fn ranges(&self) -> String {
        let mut out: Vec<(String, String)> = Vec::new();
        for c in &self.controls {
            let head = c.id.rsplit_once('.').map_or("", |(h, _)| h);
            match out.last_mut() {
                Some((first, last)) if first.rsplit_once('.').map(|(h, _)| h) == Some(head) => {
                    *last = c.id.clone()
                }
                _ => out.push((c.id.clone(), c.id.clone())),
            }
        }
        out.iter()
            .map(|(a, b)| {
                if a == b {
                    a.clone()
                } else {
                    format!("{a}–{b}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

static SOC2: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(Framework::Soc2, include_str!("soc2-tsc-2017.json")));
static ISO27001: LazyLock<Catalog> =
    LazyLock::new(|| Catalog::load(Framework::Iso27001, include_str!("iso27001-2022.json")));

/// The control a tag such as `SOC2:CC6.1` or `ISO27001:2022:A.5.15` names.
pub fn lookup(tag: &str) -> Option<(Framework, &'static Control)> {
    let (framework, id) = Framework::split(tag)?;
    framework.catalog().get(id).map(|c| (framework, c))
}

/// Every control of a framework, in catalog order.
pub fn all(framework: Framework) -> &'static [Control] {
    &framework.catalog().controls
}

/// Why a tag names no control, with what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagError {
    /// The prefix is a framework's, the id is not in its catalog.
    Unknown {
        framework: Framework,
        /// The tag it probably means (other letter case, or the closest of that framework's
        /// tags), if any is close.
        suggestion: Option<String>,
    },
    /// An ISO 27001:2013 Annex A id (`A.12.4.1`), with or without a prefix.
    Iso2013 {
        id: String,
        /// The tags of the 2022 controls that replace it.
        replaced_by: Vec<String>,
    },
    /// No framework's prefix.
    Malformed {
        /// A tag it probably means (other letter case, missing prefix), if any.
        suggestion: Option<String>,
    },
}

/// Check a tag against the catalogs.
pub fn check_tag(tag: &str) -> Result<(Framework, &'static Control), TagError> {
    if let Some(found) = lookup(tag) {
        return Ok(found);
    }
    let upper = tag.trim().to_ascii_uppercase().replace(' ', "");
    let id = [
        "ISO27001:2022:",
        "ISO27001:2013:",
        "ISO27001:",
        "ISO:",
        "SOC2:",
        "SOC:",
    ]
    .iter()
    .find_map(|p| upper.strip_prefix(p))
    .unwrap_or(&upper);
    let replaced_by: Vec<String> = all(Framework::Iso27001)
        .iter()
        .filter(|c| c.replaces_2013.iter().any(|old| old == id))
        .map(|c| format!("{}{}", Framework::Iso27001.prefix(), c.id))
        .collect();
    if !replaced_by.is_empty() {
        return Err(TagError::Iso2013 {
            id: id.to_string(),
            replaced_by,
        });
    }
    // The same id, written with the right prefix and letter case.
    let fixed = Framework::ALL
        .into_iter()
        .find(|f| f.catalog().get(id).is_some())
        .map(|f| format!("{}{id}", f.prefix()));
    match Framework::split(tag) {
        Some((framework, _)) => {
            // The id may be the other framework's: suggest that before a near miss. Near misses
            // compare ids, not tags, so that the shared prefix does not make everything close.
            let suggestion = fixed.or_else(|| {
                let ids = all(framework).iter().map(|c| c.id.as_str());
                crate::lang::diagnostic::closest(&tag[framework.prefix().len()..], ids)
                    .map(|id| format!("{}{id}", framework.prefix()))
            });
            Err(TagError::Unknown {
                framework,
                suggestion,
            })
        }
        None => Err(TagError::Malformed { suggestion: fixed }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(framework: Framework) -> Vec<&'static str> {
        all(framework).iter().map(|c| c.id.as_str()).collect()
    }

    #[test]
    fn iso_has_93_controls_in_four_themes() {
        let controls = all(Framework::Iso27001);
        assert_eq!(controls.len(), 93);
        for (theme, number, count) in [
            ("Organizational", 5, 37),
            ("People", 6, 8),
            ("Physical", 7, 14),
            ("Technological", 8, 34),
        ] {
            let in_theme: Vec<&str> = controls
                .iter()
                .filter(|c| c.theme.as_deref() == Some(theme))
                .map(|c| c.id.as_str())
                .collect();
            let expected: Vec<String> = (1..=count).map(|n| format!("A.{number}.{n}")).collect();
            assert_eq!(in_theme, expected, "{theme}");
        }
        assert_eq!(Framework::Iso27001.catalog().themes.len(), 4);
    }

    #[test]
    fn soc2_has_61_criteria() {
        let criteria = all(Framework::Soc2);
        assert_eq!(criteria.len(), 61);
        let cc = criteria.iter().filter(|c| c.id.starts_with("CC")).count();
        assert_eq!(cc, 33);
        let series: BTreeSet<&str> = criteria
            .iter()
            .map(|c| c.series.as_deref().expect("every criterion has a series"))
            .collect();
        let expected = [
            "CC1", "CC2", "CC3", "CC4", "CC5", "CC6", "CC7", "CC8", "CC9", "A1", "C1", "PI1", "P1",
            "P2", "P3", "P4", "P5", "P6", "P7", "P8",
        ];
        assert_eq!(series, expected.into_iter().collect());
        let listed: Vec<&str> = Framework::Soc2
            .catalog()
            .series
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(listed, expected);
        for c in criteria {
            let series = c.series.as_deref().unwrap();
            assert!(c.id.starts_with(&format!("{series}.")), "{}", c.id);
            assert!(c.category.is_some(), "{}", c.id);
        }
        assert_eq!(
            Framework::Soc2.catalog().ranges(),
            "CC1.1–CC1.5, CC2.1–CC2.3, CC3.1–CC3.4, CC4.1–CC4.2, CC5.1–CC5.3, CC6.1–CC6.8, \
             CC7.1–CC7.5, CC8.1, CC9.1–CC9.2, A1.1–A1.3, C1.1–C1.2, PI1.1–PI1.5, P1.1, P2.1, \
             P3.1–P3.2, P4.1–P4.3, P5.1–P5.2, P6.1–P6.7, P7.1, P8.1"
        );
        let coso: BTreeSet<u8> = criteria.iter().filter_map(|c| c.coso_principle).collect();
        assert_eq!(coso, (1..=17).collect());
    }

    #[test]
    fn ids_are_unique_and_titles_present() {
        for framework in Framework::ALL {
            let ids = ids(framework);
            let unique: BTreeSet<&str> = ids.iter().copied().collect();
            assert_eq!(unique.len(), ids.len(), "{}", framework.name());
            for c in all(framework) {
                assert!(!c.title.trim().is_empty(), "{}", c.id);
            }
        }
    }

    #[test]
    fn iso_2013_mapping_is_well_formed_and_complete() {
        let well_formed = regex::Regex::new(r"^A\.([5-9]|1[0-8])\.[1-9][0-9]?\.[1-9][0-9]?$")
            .expect("static pattern");
        let mut mapped = BTreeSet::new();
        for c in all(Framework::Iso27001) {
            for old in &c.replaces_2013 {
                assert!(well_formed.is_match(old), "{}: {old}", c.id);
                mapped.insert(old.clone());
            }
        }
        // ISO 27001:2013 Annex A: 114 controls, by clause, objective and count.
        let clauses: &[(u8, &[u8])] = &[
            (5, &[2]),
            (6, &[5, 2]),
            (7, &[2, 3, 1]),
            (8, &[4, 3, 3]),
            (9, &[2, 6, 1, 5]),
            (10, &[2]),
            (11, &[6, 9]),
            (12, &[4, 1, 1, 4, 1, 2, 1]),
            (13, &[3, 4]),
            (14, &[3, 9, 1]),
            (15, &[3, 2]),
            (16, &[7]),
            (17, &[3, 1]),
            (18, &[5, 3]),
        ];
        let all_2013: BTreeSet<String> = clauses
            .iter()
            .flat_map(|(clause, objectives)| {
                objectives.iter().enumerate().flat_map(move |(i, n)| {
                    (1..=*n).map(move |c| format!("A.{clause}.{}.{c}", i + 1))
                })
            })
            .collect();
        assert_eq!(all_2013.len(), 114);
        assert_eq!(
            mapped, all_2013,
            "every 2013 control maps to 2022, and no other id"
        );
    }

    #[test]
    fn the_eleven_new_iso_controls_replace_nothing() {
        let new: Vec<&str> = all(Framework::Iso27001)
            .iter()
            .filter(|c| c.replaces_2013.is_empty())
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(
            new,
            [
                "A.5.7", "A.5.23", "A.5.30", "A.7.4", "A.8.9", "A.8.10", "A.8.11", "A.8.12",
                "A.8.16", "A.8.23", "A.8.28"
            ]
        );
    }

    #[test]
    fn lookup_by_tag() {
        let (f, c) = lookup("SOC2:CC6.1").unwrap();
        assert_eq!(f, Framework::Soc2);
        assert!(c
            .title
            .starts_with("The entity implements logical access security"));
        let (f, c) = lookup("ISO27001:2022:A.8.15").unwrap();
        assert_eq!(f, Framework::Iso27001);
        assert_eq!(c.title, "Logging");
        assert_eq!(c.replaces_2013, ["A.12.4.1", "A.12.4.2", "A.12.4.3"]);
        assert_eq!(
            lookup("ISO27001:2022:A.5.15").unwrap().1.title,
            "Access control"
        );
        assert!(lookup("SOC2:CC6.9").is_none());
        assert!(lookup("ISO27001:A.5.15").is_none());
        assert!(lookup("CC6.1").is_none());
    }

    #[test]
    fn suggestions_for_unknown_tags() {
        let unknown = |tag: &str| match check_tag(tag) {
            Err(TagError::Unknown { suggestion, .. }) => suggestion,
            other => panic!("{tag}: {other:?}"),
        };
        let malformed = |tag: &str| match check_tag(tag) {
            Err(TagError::Malformed { suggestion }) => suggestion,
            other => panic!("{tag}: {other:?}"),
        };
        let iso2013 = |tag: &str| match check_tag(tag) {
            Err(TagError::Iso2013 { id, replaced_by }) => (id, replaced_by),
            other => panic!("{tag}: {other:?}"),
        };
        assert_eq!(unknown("SOC2:CC6.10").as_deref(), Some("SOC2:CC6.1"));
        assert_eq!(unknown("SOC2:cc6.1").as_deref(), Some("SOC2:CC6.1"));
        assert_eq!(
            unknown("SOC2:A.5.15").as_deref(),
            Some("ISO27001:2022:A.5.15")
        );
        assert_eq!(
            unknown("ISO27001:2022:A.8.51").as_deref(),
            Some("ISO27001:2022:A.8.15")
        );
        assert_eq!(unknown("SOC2:ZZ"), None);
        assert_eq!(malformed("CC6.1").as_deref(), Some("SOC2:CC6.1"));
        assert_eq!(
            malformed("iso27001:a.5.15").as_deref(),
            Some("ISO27001:2022:A.5.15")
        );
        assert_eq!(malformed("PCI:1.2.3"), None);
        let (id, by) = iso2013("ISO27001:A.12.4.1");
        assert_eq!(
            (id.as_str(), by.as_slice()),
            ("A.12.4.1", &["ISO27001:2022:A.8.15".to_string()][..])
        );
        assert_eq!(iso2013("ISO27001:2022:A.9.2.4").1, ["ISO27001:2022:A.5.17"]);
        assert_eq!(
            iso2013("ISO27001:2013:A.18.2.3").1,
            ["ISO27001:2022:A.5.36", "ISO27001:2022:A.8.8"]
        );
        assert!(check_tag("SOC2:A1.2").is_ok());
    }
}
