//! `account-public-access-block`: S3 Block Public Access for a whole account (S3 Control),
//! which every bucket of the account inherits, whatever its own settings (CIS AWS
//! Foundations v3.0, 2.1.4).

use async_trait::async_trait;
use aws_sdk_s3control::types::PublicAccessBlockConfiguration;
use serde_json::json;

use super::{no_check, spec_of, Kind, Naming, Placing};
use crate::aws::Context;
use crate::expand::Instance;
use crate::lang::model::Spec;
use crate::lang::reader::NodeReader;
use crate::lang::source::Spanned;
use crate::provider::{self, Attrs, ChangeRequest, Ctx, Observed, Provider};

pub static KIND: Kind = Kind {
    keyword: "account-public-access-block",
    summary: "S3 Block Public Access at the account level (CIS 2.1.4)",
    naming: Naming::Singleton,
    placing: Placing::Targets,
    regional: false,
    nests: false,
    needs_organization: false,
    parts: &[],
    parse,
    check_all: no_check,
    provider: Some(&AccountPublicAccessBlockProvider),
};

/// The four settings, as the declaration and the plan name them; each defaults to on.
const SETTINGS: [&str; 4] = [
    "block-public-acls",
    "ignore-public-acls",
    "block-public-policy",
    "restrict-public-buckets",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPublicAccessBlock {
    /// In the order of [`SETTINGS`].
    pub settings: [bool; 4],
}

impl Spec for AccountPublicAccessBlock {
    crate::spec_any!();
}

fn parse(r: &mut NodeReader, _name: &Spanned<String>) -> Box<dyn Spec> {
    let settings = SETTINGS.map(|name| r.child_bool(name).is_none_or(|b| b.value));
    Box::new(AccountPublicAccessBlock { settings })
}

// --- AWS -------------------------------------------------------------------------------

/// One account's configuration. An account without one has every setting off; it cannot
/// be tagged, and is never deleted by baseline (turning the protection off is a decision
/// for a person).
pub struct AccountPublicAccessBlockProvider;

fn attrs(settings: [bool; 4]) -> Attrs {
    SETTINGS
        .iter()
        .zip(settings)
        .map(|(name, on)| (name.to_string(), json!(on)))
        .collect()
}

#[async_trait]
impl Provider for AccountPublicAccessBlockProvider {
    fn desired(&self, cx: &Ctx<'_>, inst: &Instance) -> Attrs {
        spec_of::<AccountPublicAccessBlock>(cx.decl(inst))
            .map_or_else(Attrs::new, |b| attrs(b.settings))
    }

    async fn read(&self, cx: &Ctx<'_>, inst: &Instance) -> provider::Result<Observed> {
        let s3control = cx.aws.s3control(&inst.account_id, &inst.region).await?;
        let out = s3control
            .get_public_access_block()
            .account_id(&inst.account_id)
            .send()
            .await
            .absent_on(
                "s3control:GetPublicAccessBlock",
                &["NoSuchPublicAccessBlockConfiguration"],
            )?;
        let c = out.and_then(|o| o.public_access_block_configuration);
        let live = [
            c.as_ref().and_then(|c| c.block_public_acls()),
            c.as_ref().and_then(|c| c.ignore_public_acls()),
            c.as_ref().and_then(|c| c.block_public_policy()),
            c.as_ref().and_then(|c| c.restrict_public_buckets()),
        ]
        .map(|v| v.unwrap_or(false));
        Ok(Observed::present(attrs(live), Attrs::new(), None))
    }

    async fn apply(
        &self,
        cx: &Ctx<'_>,
        inst: &Instance,
        _change: &ChangeRequest<'_>,
    ) -> provider::Result<()> {
        let Some(spec) = spec_of::<AccountPublicAccessBlock>(cx.decl(inst)) else {
            return Ok(());
        };
        let [block_acls, ignore_acls, block_policy, restrict] = spec.settings;
        let s3control = cx.aws.s3control(&inst.account_id, &inst.region).await?;
        s3control
            .put_public_access_block()
            .account_id(&inst.account_id)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(block_acls)
                    .ignore_public_acls(ignore_acls)
                    .block_public_policy(block_policy)
                    .restrict_public_buckets(restrict)
                    .build(),
            )
            .send()
            .await
            .ctx("s3control:PutPublicAccessBlock")?;
        Ok(())
    }
}
