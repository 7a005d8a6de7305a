//! `password-policy`: the IAM account password policy of every targeted account.

use async_trait::async_trait;
use serde_json::json;

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::diagnostic::{did_you_mean, Problem};
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{self, Attrs, ChangeRequest, Ctx, Observed, Provider};

pub static KIND: Kind = Kind {
    keyword: "password-policy",
    summary: "the IAM account password policy",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: false,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&PasswordPolicyProvider),
};

pub const CHARACTER_CLASSES: &[&str] = &["symbols", "numbers", "uppercase", "lowercase"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub require_symbols: bool,
    pub require_numbers: bool,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    /// Number of previous passwords that cannot be reused; `None` allows reuse.
    pub reuse_prevention: Option<u32>,
    /// Days before a password expires; `None` never expires.
    pub max_age_days: Option<u32>,
    pub allow_users_to_change: bool,
    pub hard_expiry: bool,
}

impl Spec for PasswordPolicy {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let min_length = r.child_u32("min-length", 6..=128);
    let min_length = r
        .require(min_length, "min-length", "min-length 14")
        .map_or(14, |m| m.value);
    let require = r
        .child_strs("require", "character classes")
        .unwrap_or_default();
    for class in &require {
        if !CHARACTER_CLASSES.contains(&class.value.as_str()) {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    class.span,
                    format!("unknown character class \"{}\"", class.value),
                )
                .label("unknown class")
                .help(did_you_mean(&class.value, CHARACTER_CLASSES)),
            );
        }
    }
    let requires = |c: &str| require.iter().any(|r| r.value == c);
    Box::new(PasswordPolicy {
        min_length,
        require_symbols: requires("symbols"),
        require_numbers: requires("numbers"),
        require_uppercase: requires("uppercase"),
        require_lowercase: requires("lowercase"),
        reuse_prevention: r.child_u32("reuse-prevention", 1..=24).map(|v| v.value),
        max_age_days: r.child_u32("max-age-days", 1..=1095).map(|v| v.value),
        allow_users_to_change: r
            .child_bool("allow-users-to-change")
            .is_none_or(|b| b.value),
        hard_expiry: r.child_bool("hard-expiry").is_some_and(|b| b.value),
    })
}

// --- AWS -------------------------------------------------------------------------------

/// IAM's account password policy: one per account, untaggable, so never adopted or deleted;
/// an absent policy is created, a weaker one updated.
pub struct PasswordPolicyProvider;

fn attrs(p: &PasswordPolicy) -> Attrs {
    let mut a = Attrs::new();
    a.insert("min-length".into(), json!(p.min_length));
    a.insert("require-symbols".into(), json!(p.require_symbols));
    a.insert("require-numbers".into(), json!(p.require_numbers));
    a.insert("require-uppercase".into(), json!(p.require_uppercase));
    a.insert("require-lowercase".into(), json!(p.require_lowercase));
    a.insert("reuse-prevention".into(), json!(p.reuse_prevention));
    a.insert("max-age-days".into(), json!(p.max_age_days));
    a.insert(
        "allow-users-to-change".into(),
        json!(p.allow_users_to_change),
    );
    a.insert("hard-expiry".into(), json!(p.hard_expiry));
    a
}

/// The account's password policy as IAM has it; `None` when it has none.
async fn live(
    cx: &Ctx<'_>,
    account_id: &str,
    region: &str,
) -> provider::Result<Option<PasswordPolicy>> {
    let iam = cx.aws.iam(account_id, region).await?;
    let out = iam
        .get_account_password_policy()
        .send()
        .await
        .absent_on("iam:GetAccountPasswordPolicy", &["NoSuchEntity"])?;
    let Some(p) = out.and_then(|o| o.password_policy) else {
        return Ok(None);
    };
    Ok(Some(PasswordPolicy {
        min_length: p.minimum_password_length.map_or(0, |v| v as u32),
        require_symbols: p.require_symbols,
        require_numbers: p.require_numbers,
        require_uppercase: p.require_uppercase_characters,
        require_lowercase: p.require_lowercase_characters,
        // AWS documents 0 (what it reports for an unset value) as "no limit".
        reuse_prevention: p
            .password_reuse_prevention
            .filter(|&v| v > 0)
            .map(|v| v as u32),
        max_age_days: p.max_password_age.filter(|&v| v > 0).map(|v| v as u32),
        allow_users_to_change: p.allow_users_to_change_password,
        hard_expiry: p.hard_expiry.unwrap_or(false),
    }))
}

/// The declaration of `p` (without its targets): what differs from the language's defaults.
fn node(p: &PasswordPolicy) -> crate::import::kdl::Node {
    use crate::import::kdl::Node;
    let mut n = Node::new(KIND.keyword)
        .comment("the IAM account password policy")
        .child(Node::new("min-length").arg(p.min_length));
    let required: Vec<&str> = [
        p.require_symbols,
        p.require_numbers,
        p.require_uppercase,
        p.require_lowercase,
    ]
    .iter()
    .zip(CHARACTER_CLASSES)
    .filter(|(on, _)| **on)
    .map(|(_, class)| *class)
    .collect();
    if !required.is_empty() {
        n = n.child(Node::new("require").args(required));
    }
    if let Some(r) = p.reuse_prevention {
        n = n.child(Node::new("reuse-prevention").arg(r));
    }
    if let Some(d) = p.max_age_days {
        n = n.child(Node::new("max-age-days").arg(d));
    }
    if !p.allow_users_to_change {
        n = n.child(Node::new("allow-users-to-change").arg(false));
    }
    if p.hard_expiry {
        n = n.child(Node::new("hard-expiry").arg(true));
    }
    n
}

#[async_trait]
impl Provider for PasswordPolicyProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        spec_of::<PasswordPolicy>(cx.decl(inst)).map_or_else(Attrs::new, attrs)
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        Ok(match live(cx, &inst.account_id, &inst.region).await? {
            Some(p) => Observed::present(attrs(&p), Attrs::new(), None),
            None => Observed::absent(),
        })
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        _change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(p) = spec_of::<PasswordPolicy>(cx.decl(inst)) else {
            return Ok(());
        };
        let iam = cx.aws.iam(&inst.account_id, &inst.region).await?;
        iam.update_account_password_policy()
            .minimum_password_length(p.min_length as i32)
            .require_symbols(p.require_symbols)
            .require_numbers(p.require_numbers)
            .require_uppercase_characters(p.require_uppercase)
            .require_lowercase_characters(p.require_lowercase)
            .set_password_reuse_prevention(p.reuse_prevention.map(|v| v as i32))
            .set_max_password_age(p.max_age_days.map(|v| v as i32))
            .allow_users_to_change_password(p.allow_users_to_change)
            .hard_expiry(p.hard_expiry)
            .send()
            .await
            .ctx("iam:UpdateAccountPasswordPolicy")?;
        Ok(())
    }

    async fn import(
        &self,
        cx: &Ctx<'_>,
        site: &crate::import::Site,
        _lookups: &crate::import::Lookups,
    ) -> provider::Result<Option<crate::import::Imported>> {
        let found = live(cx, &site.account_id, &site.region)
            .await?
            .map(|p| crate::import::Found::new(node(&p)));
        Ok(Some(crate::import::Imported {
            found: found.into_iter().collect(),
            skipped: Vec::new(),
        }))
    }
}
