//! `security-hub`: Security Hub enabled, with the declared standards subscribed.

use super::{no_check, Kind, Naming, Placing};
use crate::lang::diagnostic::{did_you_mean, Problem};
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;

pub static KIND: Kind = Kind {
    keyword: "security-hub",
    summary: "Security Hub enabled with the declared standards",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: true,
    nests: false,
    parse,
    check_all: no_check,
    provider: None,
};

/// Standards Security Hub offers, with their versions; the last version is the default.
pub const STANDARDS: &[(&str, &[&str])] = &[
    ("aws-foundational-security-best-practices", &["1.0.0"]),
    (
        "cis-aws-foundations-benchmark",
        &["1.2.0", "1.4.0", "3.0.0"],
    ),
    ("pci-dss", &["3.2.1", "4.0.1"]),
    ("nist-800-53", &["5.0.0"]),
    ("aws-resource-tagging-standard", &["1.0.0"]),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standard {
    pub id: String,
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct SecurityHub {
    pub standards: Vec<Standard>,
}

impl Spec for SecurityHub {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let mut standards = Vec::new();
    for mut c in r.children("standard") {
        let id = c.arg_str(0, "the standard's name");
        let version = c.prop_str("version");
        let (id_span, version_span) = (
            id.as_ref().map(|i| i.span),
            version.as_ref().map(|v| v.span),
        );
        c.finish();
        let Some(id) = id else { continue };
        let names: Vec<&str> = STANDARDS.iter().map(|(n, _)| *n).collect();
        let Some((_, versions)) = STANDARDS.iter().find(|(n, _)| *n == id.value) else {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    id.span,
                    format!("unknown standard \"{}\"", id.value),
                )
                .label("unknown standard")
                .help(did_you_mean(&id.value, &names)),
            );
            continue;
        };
        let version = version.map_or_else(|| versions[versions.len() - 1].to_string(), |v| v.value);
        if !versions.contains(&version.as_str()) {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    version_span.or(id_span).expect("span"),
                    format!("{} has no version \"{version}\"", id.value),
                )
                .label("unknown version")
                .help(format!("versions: {}", versions.join(", "))),
            );
            continue;
        }
        standards.push(Standard {
            id: id.value,
            version,
        });
    }
    Box::new(SecurityHub { standards })
}
