//! The AWS layer: one base configuration from the standard chain (environment, profiles, SSO,
//! instance roles, `AWS_ENDPOINT_URL`), the caller's identity, and one configuration per
//! (account, region), cached. Member accounts are reached by assuming the baseline's access
//! role with a session name that names the tool and the caller, so CloudTrail ties each call
//! to the run. Every client counts its HTTP attempts, for `--verbose` and the benchmarks.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    InterceptorContext,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;
use tokio::sync::OnceCell;

/// A failed AWS call, with the service's own code, message and request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// `service:Operation`, e.g. `iam:UpdateAccountPasswordPolicy`.
    pub operation: String,
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.operation)?;
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

impl AwsError {
    pub fn from_sdk<E, R>(operation: &str, err: SdkError<E, R>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug,
    {
        let meta = match &err {
            SdkError::ServiceError(e) => Some(e.err().meta().clone()),
            _ => None,
        };
        let code = meta.as_ref().and_then(|m| m.code()).map(str::to_string);
        let message = meta
            .as_ref()
            .and_then(|m| m.message())
            .map(str::to_string)
            .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
        let request_id = meta
            .as_ref()
            .and_then(|m| m.request_id())
            .map(str::to_string);
        AwsError {
            operation: operation.to_string(),
            code,
            message,
            request_id,
        }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// `.ctx("iam:GetAccountPasswordPolicy")?` turns an SDK error into an [`AwsError`].
pub trait Context<T> {
    fn ctx(self, operation: &str) -> Result<T, AwsError>;
    /// `Ok(None)` when the service answered with one of `codes` (the resource is absent).
    fn absent_on(self, operation: &str, codes: &[&str]) -> Result<Option<T>, AwsError>;
}

impl<T, E, R> Context<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    fn ctx(self, operation: &str) -> Result<T, AwsError> {
        self.map_err(|e| AwsError::from_sdk(operation, e))
    }

    fn absent_on(self, operation: &str, codes: &[&str]) -> Result<Option<T>, AwsError> {
        match self.ctx(operation) {
            Ok(v) => Ok(Some(v)),
            Err(e) if codes.iter().any(|c| e.is(c)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Counts HTTP attempts (retries included) across every client.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<AtomicU64>);

impl CallCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "baseline-call-counter"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.response().headers();
        if let Some(id) = headers
            .get("x-amzn-requestid")
            .or_else(|| headers.get("x-amz-request-id"))
        {
            // Outside a change (reads), there is no collector: nothing to record.
            let _ = REQUEST_IDS.try_with(|ids| {
                ids.lock().expect("request id lock").push(id.to_string());
            });
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Classifies Organizations' `ConcurrentModificationException` as transient, so the SDK's
/// standard retry strategy (backoff with jitter, bounded attempts) retries it.
#[derive(Debug)]
struct ConcurrentModificationIsTransient;

impl ClassifyRetry for ConcurrentModificationIsTransient {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        // awsJson error responses name their type in the body (`"__type"`).
        let is_it = matches!(ctx.output_or_error(), Some(Err(_)))
            && ctx
                .response()
                .and_then(|r| r.body().bytes())
                .is_some_and(|body| {
                    body.windows(CONCURRENT_MODIFICATION.len())
                        .any(|w| w == CONCURRENT_MODIFICATION)
                });
        if is_it {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "organizations-concurrent-modification"
    }
}

const CONCURRENT_MODIFICATION: &[u8] = b"ConcurrentModificationException";

tokio::task_local! {
    static REQUEST_IDS: Arc<Mutex<Vec<String>>>;
}

/// Run `f`, collecting the request ids of every AWS call it makes (for the change log).
pub async fn with_request_ids<F: std::future::Future>(f: F) -> (F::Output, Vec<String>) {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let out = REQUEST_IDS.scope(ids.clone(), f).await;
    let ids = ids.lock().expect("request id lock").clone();
    (out, ids)
}

/// Who runs baseline (STS GetCallerIdentity of the base credentials).
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub arn: String,
}

/// The AWS session of one run.
pub struct Aws {
    base: SdkConfig,
    /// A custom endpoint (the emulator) wants path-style S3 addressing.
    custom_endpoint: bool,
    pub caller: Caller,
    pub access_role: String,
    pub session_name: String,
    pub calls: CallCounter,
    member_credentials: Mutex<HashMap<String, Arc<OnceCell<Credentials>>>>,
    configs: Mutex<HashMap<(String, String), SdkConfig>>,
    /// Account -> ARN of the assumed role session there.
    identities: Mutex<HashMap<String, String>>,
}

/// Attempts per call for errors AWS marks retryable (throttling, 5xx, transient).
const MAX_ATTEMPTS: u32 = 6;

impl Aws {
    /// Load the standard chain and identify the caller. `access_role` is assumed in member
    /// accounts.
    pub async fn connect(access_role: &str) -> Result<Aws, AwsError> {
        let base = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .load()
            .await;
        let base = if base.region().is_none() {
            base.into_builder()
                .region(Region::new(crate::lang::model::Settings::FALLBACK_REGION))
                .build()
        } else {
            base
        };
        let calls = CallCounter::default();
        let sts = sts_client(&base, &calls);
        let identity = sts
            .get_caller_identity()
            .send()
            .await
            .ctx("sts:GetCallerIdentity")?;
        let caller = Caller {
            account_id: identity.account().unwrap_or_default().to_string(),
            arn: identity.arn().unwrap_or_default().to_string(),
        };
        Ok(Aws {
            custom_endpoint: base.endpoint_url().is_some(),
            session_name: session_name(&caller.arn),
            base,
            caller,
            access_role: access_role.to_string(),
            calls,
            member_credentials: Mutex::new(HashMap::new()),
            configs: Mutex::new(HashMap::new()),
            identities: Mutex::new(HashMap::new()),
        })
    }

    /// The identity calls into `account` are made as: the caller in its own account, the
    /// assumed role session elsewhere.
    pub fn identity_in(&self, account: &str) -> String {
        if account == self.caller.account_id {
            return self.caller.arn.clone();
        }
        self.identities
            .lock()
            .expect("identity lock")
            .get(account)
            .cloned()
            .unwrap_or_else(|| {
                format!(
                    "arn:aws:sts::{account}:assumed-role/{}/{}",
                    self.access_role, self.session_name
                )
            })
    }

    pub fn management_account(&self) -> &str {
        &self.caller.account_id
    }

    /// The configuration for calls into `account` in `region`: the base credentials for the
    /// caller's own account, the assumed access role (once per account) for the others.
    pub async fn config(&self, account: &str, region: &str) -> Result<SdkConfig, AwsError> {
        let key = (account.to_string(), region.to_string());
        if let Some(config) = self.configs.lock().expect("config cache lock").get(&key) {
            return Ok(config.clone());
        }
        let mut builder = self.base.to_builder();
        builder.set_region(Some(Region::new(region.to_string())));
        if account != self.caller.account_id {
            let cell = self
                .member_credentials
                .lock()
                .expect("credential cache lock")
                .entry(account.to_string())
                .or_default()
                .clone();
            let credentials = cell
                .get_or_try_init(|| self.assume_access_role(account))
                .await?;
            builder.set_credentials_provider(Some(SharedCredentialsProvider::new(
                credentials.clone(),
            )));
        }
        let config = builder.build();
        self.configs
            .lock()
            .expect("config cache lock")
            .insert(key, config.clone());
        Ok(config)
    }

    async fn assume_access_role(&self, account: &str) -> Result<Credentials, AwsError> {
        let role_arn = format!("arn:aws:iam::{account}:role/{}", self.access_role);
        let out = sts_client(&self.base, &self.calls)
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(&self.session_name)
            .send()
            .await
            .map_err(|e| {
                let mut e = AwsError::from_sdk("sts:AssumeRole", e);
                e.message = format!("{} (assuming {role_arn})", e.message);
                e
            })?;
        if let Some(user) = out.assumed_role_user() {
            self.identities
                .lock()
                .expect("identity lock")
                .insert(account.to_string(), user.arn().to_string());
        }
        let c = out.credentials().ok_or_else(|| AwsError {
            operation: "sts:AssumeRole".into(),
            code: None,
            message: format!("no credentials returned for {role_arn}"),
            request_id: None,
        })?;
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            std::time::SystemTime::try_from(*c.expiration()).ok(),
            "baseline-access-role",
        ))
    }
}

/// The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`), for the ARNs baseline
/// writes into policies and role references.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// `baseline-<caller>`: the caller's user or session name, as far as STS allows
/// (`[\w+=,.@-]`, at most 64 characters).
fn session_name(caller_arn: &str) -> String {
    let who: String = caller_arn
        .rsplit('/')
        .next()
        .unwrap_or("unknown")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c))
        .collect();
    let mut name = format!("baseline-{who}");
    name.truncate(64);
    name
}

fn sts_client(config: &SdkConfig, calls: &CallCounter) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(config)
            .interceptor(calls.clone())
            .build(),
    )
}

macro_rules! client {
    ($method:ident, $krate:ident) => {
        pub async fn $method(
            &self,
            account: &str,
            region: &str,
        ) -> Result<$krate::Client, AwsError> {
            let config = self.config(account, region).await?;
            Ok($krate::Client::from_conf(
                $krate::config::Builder::from(&config)
                    .interceptor(self.calls.clone())
                    .build(),
            ))
        }
    };
}

impl Aws {
    client!(iam, aws_sdk_iam);
    client!(cloudtrail, aws_sdk_cloudtrail);
    client!(config_service, aws_sdk_config);
    client!(securityhub, aws_sdk_securityhub);
    client!(backup, aws_sdk_backup);
    client!(kms, aws_sdk_kms);
    client!(sts, aws_sdk_sts);

    /// Organizations, with `ConcurrentModificationException` retried as AWS advises ("try
    /// again later"): concurrent attachments of one policy hit it in large organizations.
    pub async fn organizations(
        &self,
        account: &str,
        region: &str,
    ) -> Result<aws_sdk_organizations::Client, AwsError> {
        let config = self.config(account, region).await?;
        Ok(aws_sdk_organizations::Client::from_conf(
            aws_sdk_organizations::config::Builder::from(&config)
                .retry_classifier(ConcurrentModificationIsTransient)
                .interceptor(self.calls.clone())
                .build(),
        ))
    }

    pub async fn s3(&self, account: &str, region: &str) -> Result<aws_sdk_s3::Client, AwsError> {
        let config = self.config(account, region).await?;
        Ok(aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(self.custom_endpoint)
                .interceptor(self.calls.clone())
                .build(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::{partition, session_name};

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-north-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn session_name_names_the_caller_within_sts_limits() {
        assert_eq!(
            session_name("arn:aws:iam::123456789012:user/alice"),
            "baseline-alice"
        );
        assert_eq!(
            session_name("arn:aws:sts::1:assumed-role/Admin/bob@example.com"),
            "baseline-bob@example.com"
        );
        assert_eq!(
            session_name(&format!("arn:x/{}", "a".repeat(100))).len(),
            64
        );
    }
}
