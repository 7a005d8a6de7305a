//! `organizational-unit`: an OU, nested to form the tree; named by path (`Workloads/Production`).

use super::{no_check, Kind, Naming, Placing};
use crate::lang::diagnostic::Problem;
use crate::lang::model::{Reference, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;

pub static KIND: Kind = Kind {
    keyword: "organizational-unit",
    summary: "an organizational unit; nest them to build the tree",
    naming: Naming::Required,
    placing: Placing::Organization,
    regional: false,
    nests: true,
    parse,
    check_all: no_check,
    provider: None,
};

#[derive(Debug, Clone)]
pub struct OrganizationalUnit {
    /// Path of the parent OU; `None` for an OU directly under the root.
    pub parent: Option<Spanned<String>>,
}

impl OrganizationalUnit {
    /// The OU's own name: the last segment of its path.
    pub fn leaf(path: &str) -> &str {
        path.rsplit('/').next().unwrap_or(path)
    }
}

impl Spec for OrganizationalUnit {
    fn references(&self) -> Vec<Reference> {
        self.parent
            .iter()
            .map(|p| Reference::new("organizational-unit", p))
            .collect()
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    let leaf = OrganizationalUnit::leaf(&name.value);
    if leaf.is_empty() || leaf.len() > 128 || name.value.starts_with('/') {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                name.span,
                format!("\"{}\" is not a valid OU name", name.value),
            )
            .label("invalid OU name")
            .help("an OU name has 1 to 128 characters; nest OUs instead of writing a leading `/`"),
        );
    }
    let parent = name
        .value
        .rsplit_once('/')
        .map(|(p, _)| Spanned::new(p.to_string(), name.span));
    Box::new(OrganizationalUnit { parent })
}
