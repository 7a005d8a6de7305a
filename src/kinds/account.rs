//! `account`: where an existing member account sits in the OU tree.

use super::{no_check, Kind, Naming, Placing};
use crate::lang::model::{Reference, Spec};
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::lang::targets::check_account_ref;

pub static KIND: Kind = Kind {
    keyword: "account",
    summary: "an existing account, placed in an OU (`ou=\"/\"` is the root)",
    naming: Naming::Required,
    placing: Placing::Organization,
    regional: false,
    nests: false,
    parse,
    check_all: no_check,
    provider: None,
};

#[derive(Debug, Clone)]
pub struct Account {
    /// OU path, or `/` for the root.
    pub ou: Option<Spanned<String>>,
    /// The account id, when the name alone is ambiguous or may change.
    pub id: Option<Spanned<String>>,
}

impl Account {
    pub const ROOT: &'static str = "/";
}

impl Spec for Account {
    fn references(&self) -> Vec<Reference> {
        self.ou
            .iter()
            .filter(|ou| ou.value != Account::ROOT)
            .map(|ou| Reference::new("organizational-unit", ou))
            .collect()
    }
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, name: &Spanned<String>) -> Box<dyn Spec> {
    check_account_ref(r, name);
    let ou = r.required_prop_str("ou");
    let id = r.prop_str("id");
    if let Some(id) = &id {
        if !crate::lang::checks::is_account_id(&id.value) {
            r.report(
                crate::lang::diagnostic::Problem::new(
                    "baseline::invalid-account-id",
                    id.span,
                    format!("\"{}\" is not an account id", id.value),
                )
                .label("expected 12 digits"),
            );
        }
    }
    Box::new(Account { ou, id })
}
