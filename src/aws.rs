//! The AWS layer: one base configuration from the standard chain (environment, profiles, SSO,
//! instance roles, `AWS_ENDPOINT_URL`), the caller's identity, and one configuration per
//! (account, region), cached. Member accounts are reached by assuming the baseline's access
//! role with a session name that names the tool and the caller, so CloudTrail ties each call
//! to the run. Every client counts its HTTP attempts, for `--verbose` and the benchmarks.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_config::identity::IdentityCache;
use aws_config::retry::RetryConfig;
use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef, InterceptorContext,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::retries::classifiers::{ClassifyRetry, RetryAction};
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::request_id::RequestId;

/// A failed AWS call, with the service's own code, message and request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// `service:Operation`, e.g. `iam:UpdateAccountPasswordPolicy`.
    pub operation: String,
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    /// The HTTP status of AWS's answer, when there was one.
    pub status: Option<u16>,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.operation)?;
        if let Some(code) = &self.code {
            write!(f, ": {code}")?;
        }
        write!(f, ": {}", self.message)?;
        match (self.status, &self.request_id) {
            (Some(status), Some(id)) => write!(f, " (HTTP {status}, request id {id})"),
            (None, Some(id)) => write!(f, " (request id {id})"),
            (Some(status), None) => write!(f, " (HTTP {status})"),
            (None, None) => Ok(()),
        }
    }
}

impl std::error::Error for AwsError {}

impl AwsError {
    pub fn from_sdk<E>(operation: &str, err: SdkError<E, HttpResponse>) -> AwsError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        // The SDK's whole account of the failure, for `--log-level debug`; the message
        // keeps one line of it.
        tracing::debug!(operation, error = ?err, "AWS call failed");
        let status = err.raw_response().map(|r| r.status().as_u16());
        let meta = match &err {
            SdkError::ServiceError(e) => Some(e.err().meta().clone()),
            _ => None,
        };
        let code = meta.as_ref().and_then(|m| m.code()).map(str::to_string);
        let message = meta
            .as_ref()
            .and_then(|m| m.message())
            .map(|m| one_line(m, 500))
            .unwrap_or_else(|| short_description(&err));
        let request_id = meta
            .as_ref()
            .and_then(|m| m.request_id())
            .map(str::to_string);
        AwsError {
            operation: operation.to_string(),
            code,
            message,
            request_id,
            status,
        }
    }

    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// What went wrong when AWS gave no message: an answer that is not an AWS error (an HTML page
/// from a proxy, say) is described by its type, size and title; a failure to send or to read
/// by its causes, on one line. The SDK's full debug form would be kilobytes of its internals.
fn short_description<E>(err: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + 'static,
{
    match err {
        SdkError::ServiceError(e) => unexpected_response(e.raw()),
        SdkError::ResponseError(e) => {
            format!("unreadable response: {}", unexpected_response(e.raw()))
        }
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(e) => match e.as_connector_error() {
            Some(cause) => format!(
                "could not send the request: {}",
                one_line(&DisplayErrorContext(cause).to_string(), 300)
            ),
            None => "could not send the request".into(),
        },
        _ => one_line(&DisplayErrorContext(err).to_string(), 300),
    }
}

/// `unexpected response (text/html, 3064 bytes): 500 Internal Server Error`
fn unexpected_response(raw: &HttpResponse) -> String {
    let content_type = raw
        .headers()
        .get("content-type")
        .unwrap_or("no content type");
    let body = raw.body().bytes().unwrap_or_default();
    let text = String::from_utf8_lossy(body);
    let gist = if content_type.contains("html") {
        html_title(&text)
    } else {
        Some(text.as_ref()).filter(|t| !t.trim().is_empty())
    };
    let mut out = format!("unexpected response ({content_type}, {} bytes)", body.len());
    if let Some(gist) = gist {
        out.push_str(": ");
        out.push_str(&one_line(gist, 200));
    }
    out
}

fn html_title(html: &str) -> Option<&str> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<title>")? + "<title>".len();
    let end = start + lower[start..].find("</title>")?;
    Some(html[start..end].trim()).filter(|t| !t.is_empty())
}

/// `text` on one line (whitespace runs as one space), cut to `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.char_indices().nth(max) {
        Some((cut, _)) => format!("{}...", &joined[..cut]),
        None => joined,
    }
}

/// `.ctx("iam:GetAccountPasswordPolicy")?` turns an SDK error into an [`AwsError`].
pub trait Context<T> {
    fn ctx(self, operation: &str) -> Result<T, AwsError>;
    /// `Ok(None)` when the service answered with one of `codes` (the resource is absent).
    fn absent_on(self, operation: &str, codes: &[&str]) -> Result<Option<T>, AwsError>;
}

impl<T, E> Context<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
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

/// Counts HTTP attempts (retries included) across every client, the retries among them,
/// and the throttling answers received.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    attempts: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    /// Attempts by operation (`service:Operation`), for `-v`.
    by_operation: Mutex<HashMap<String, u64>>,
}

impl CallCounter {
    /// HTTP attempts, retries included.
    pub fn get(&self) -> u64 {
        self.0.attempts.load(Ordering::Relaxed)
    }

    /// Attempts that repeated a call (after throttling, a 5xx, a dropped connection).
    pub fn retries(&self) -> u64 {
        self.0.retries.load(Ordering::Relaxed)
    }

    /// Answers that said the caller was throttled.
    pub fn throttled(&self) -> u64 {
        self.0.throttled.load(Ordering::Relaxed)
    }

    /// Attempts by operation (`iam:GetRole`), the most made first.
    pub fn by_operation(&self) -> Vec<(String, u64)> {
        let mut counts: Vec<(String, u64)> = self
            .0
            .by_operation
            .lock()
            .expect("call counter lock")
            .iter()
            .map(|(op, n)| (op.clone(), *n))
            .collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }
}

/// Whether an answer says the caller is throttled: HTTP 429, or an error whose code is one of
/// the throttling codes AWS services use (in the body or the `x-amzn-ErrorType` /
/// `x-amzn-query-error` header), as the SDK's retry classifier knows them.
fn is_throttling(response: &HttpResponse) -> bool {
    let status = response.status().as_u16();
    if status == 429 {
        return true;
    }
    if !matches!(status, 400 | 403 | 503) {
        return false;
    }
    let headers = response.headers();
    let header_code = headers
        .get("x-amzn-errortype")
        .or_else(|| headers.get("x-amzn-query-error"))
        .unwrap_or_default();
    let body = response.body().bytes().unwrap_or_default();
    THROTTLING_CODES.iter().any(|code| {
        header_code.contains(code) || body.windows(code.len()).any(|w| w == code.as_bytes())
    })
}

/// Whether `code` is one of AWS's throttling error codes ([`THROTTLING_CODES`]).
pub fn is_throttling_code(code: &str) -> bool {
    THROTTLING_CODES.contains(&code)
}

/// The throttling error codes of aws-sdk-rust's retry classifier (aws-runtime's
/// `THROTTLING_ERRORS`), plus SNS's `Throttled`.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "Throttled",
];

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

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Error bodies are read into memory by now; successful ones are never throttling.
        if context.response().is_some_and(is_throttling) {
            self.0.throttled.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.attempts.fetch_add(1, Ordering::Relaxed);
        if let Some(op) = cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>() {
            *self
                .0
                .by_operation
                .lock()
                .expect("call counter lock")
                .entry(format!("{}:{}", op.service(), op.name()))
                .or_default() += 1;
        }
        if cfg
            .load::<RequestAttempts>()
            .is_some_and(|a| a.attempts() > 1)
        {
            self.0.retries.fetch_add(1, Ordering::Relaxed);
        }
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
    /// The caller's partition (`aws`, `aws-us-gov`, `aws-cn`): every ARN baseline writes and
    /// the Organizations endpoint follow it.
    pub partition: String,
    pub access_role: String,
    pub session_name: String,
    pub calls: CallCounter,
    /// The client-side rate limiter every call goes through.
    pub limiter: Arc<crate::ratelimit::Limiter>,
    /// Account -> the access role's credentials there, refreshed before they expire.
    members: Mutex<HashMap<String, Arc<AssumedRole>>>,
    configs: Mutex<HashMap<(String, String), SdkConfig>>,
}

/// Attempts per call for errors AWS marks retryable (throttling, 5xx, transient, a dropped
/// connection), unless AWS_MAX_ATTEMPTS says otherwise. A run makes thousands of calls: with
/// a third of attempts throttled, 6 attempts leave about one call in 400 failed, 10 about one
/// in 20,000 (the AWS provider for Terraform retries up to 25 times). The SDK's backoff
/// (exponential with jitter, at most 20 s) and its retry quota still bound the waiting.
const MAX_ATTEMPTS: u32 = 10;

impl Aws {
    /// Load the standard chain and identify the caller. `access_role` is assumed in member
    /// accounts.
    pub async fn connect(access_role: &str) -> Result<Aws, AwsError> {
        Aws::connect_with(access_role, crate::ratelimit::Rates::default()).await
    }

    /// [`Aws::connect`], keeping to `rates` (the client-side rate limits).
    pub async fn connect_with(
        access_role: &str,
        rates: crate::ratelimit::Rates,
    ) -> Result<Aws, AwsError> {
        let limiter = Arc::new(crate::ratelimit::Limiter::new(rates));
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(crate::ratelimit::client(limiter.clone()))
            // A request waits for the rate limiter inside the HTTP client, before its body
            // is sent, and the SDK's upload stall check (no byte sent for 5 s) takes a long
            // wait in a queue for a stalled upload: at 1,000 accounts, AssumeRole calls
            // queued behind STS's limit failed so. baseline's request bodies are small
            // documents; downloads stay checked.
            .stalled_stream_protection(
                StalledStreamProtectionConfig::enabled()
                    .upload_enabled(false)
                    .build(),
            );
        // AWS_MAX_ATTEMPTS, as the AWS CLI and SDKs read it, overrides baseline's default.
        if std::env::var_os("AWS_MAX_ATTEMPTS").is_none() {
            loader = loader.retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS));
        }
        let base = loader.load().await;
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
        let region = base.region().map(|r| r.to_string()).unwrap_or_default();
        Ok(Aws {
            custom_endpoint: base.endpoint_url().is_some(),
            session_name: session_name(&caller.arn),
            partition: partition_of_arn(&caller.arn)
                .unwrap_or_else(|| partition(&region))
                .to_string(),
            base,
            caller,
            access_role: access_role.to_string(),
            calls,
            limiter,
            members: Mutex::new(HashMap::new()),
            configs: Mutex::new(HashMap::new()),
        })
    }

    /// The identity calls into `account` are made as: the caller in its own account, the
    /// assumed role session elsewhere.
    pub fn identity_in(&self, account: &str) -> String {
        if account == self.caller.account_id {
            return self.caller.arn.clone();
        }
        format!(
            "arn:{}:sts::{account}:assumed-role/{}/{}",
            self.partition, self.access_role, self.session_name
        )
    }

    /// The region of the standard chain (AWS_REGION, the profile), else us-east-1.
    pub fn base_region(&self) -> String {
        self.base
            .region()
            .map_or_else(|| "us-east-1".to_string(), |r| r.to_string())
    }

    pub fn management_account(&self) -> &str {
        &self.caller.account_id
    }

    /// The region that answers AWS Organizations calls in the caller's partition: the
    /// service has one endpoint per partition.
    pub fn organizations_region(&self) -> &'static str {
        match self.partition.as_str() {
            "aws-us-gov" => "us-gov-west-1",
            "aws-cn" => "cn-northwest-1",
            _ => "us-east-1",
        }
    }

    /// The configuration for calls into `account` in `region`: the base credentials for the
    /// caller's own account, the access role assumed there for the others (assumed on first
    /// use, so an account that cannot be reached fails here, and refreshed before the
    /// session expires: a chained role lasts one hour at most).
    pub async fn config(&self, account: &str, region: &str) -> Result<SdkConfig, AwsError> {
        let key = (account.to_string(), region.to_string());
        if let Some(config) = self.configs.lock().expect("config cache lock").get(&key) {
            return Ok(config.clone());
        }
        let mut builder = self.base.to_builder();
        builder.set_region(Some(Region::new(region.to_string())));
        if account != self.caller.account_id {
            let member = self
                .members
                .lock()
                .expect("credential cache lock")
                .entry(account.to_string())
                .or_insert_with(|| {
                    Arc::new(AssumedRole {
                        role_arn: format!(
                            "arn:{}:iam::{account}:role/{}",
                            self.partition, self.access_role
                        ),
                        session_name: self.session_name.clone(),
                        sts: sts_client(&self.base, &self.calls),
                        current: tokio::sync::Mutex::new(None),
                    })
                })
                .clone();
            member.credentials().await?;
            builder.set_credentials_provider(Some(SharedCredentialsProvider::new(Session(member))));
            // The provider keeps and refreshes the session itself.
            builder.set_identity_cache(Some(IdentityCache::no_cache()));
        }
        let config = builder.build();
        self.configs
            .lock()
            .expect("config cache lock")
            .insert(key, config.clone());
        Ok(config)
    }

    /// Whether `account` can be reached: its access role can be assumed (the caller's own
    /// account always can).
    pub async fn reach(&self, account: &str) -> Result<(), AwsError> {
        self.config(
            account,
            self.base.region().map_or("us-east-1", |r| r.as_ref()),
        )
        .await
        .map(|_| ())
    }
}

/// The access role's session in one member account: assumed on first use and again when
/// less than a quarter of the session (at most five minutes) is left, so that a long apply
/// never signs with expired credentials.
#[derive(Debug)]
struct AssumedRole {
    role_arn: String,
    session_name: String,
    sts: aws_sdk_sts::Client,
    /// The current session and when it was issued. One refresh at a time: callers wait for
    /// it instead of each assuming the role.
    current: tokio::sync::Mutex<Option<(Credentials, SystemTime)>>,
}

/// The longest margin before expiry at which a session is renewed.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

impl AssumedRole {
    async fn credentials(&self) -> Result<Credentials, AwsError> {
        let mut current = self.current.lock().await;
        let now = SystemTime::now();
        if let Some((credentials, issued)) = current.as_ref() {
            if !needs_refresh(*issued, credentials.expiry(), now) {
                return Ok(credentials.clone());
            }
        }
        let fresh = self.assume().await?;
        *current = Some((fresh.clone(), now));
        Ok(fresh)
    }

    async fn assume(&self) -> Result<Credentials, AwsError> {
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name(&self.session_name)
            .send()
            .await
            .map_err(|e| {
                let mut e = AwsError::from_sdk("sts:AssumeRole", e);
                e.message = format!("{} (assuming {})", e.message, self.role_arn);
                e
            })?;
        let c = out.credentials().ok_or_else(|| AwsError {
            operation: "sts:AssumeRole".into(),
            code: None,
            message: format!("no credentials returned for {}", self.role_arn),
            request_id: None,
            status: None,
        })?;
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            SystemTime::try_from(*c.expiration()).ok(),
            "baseline-access-role",
        ))
    }
}

/// Whether a session issued at `issued` that expires at `expiry` should be renewed `now`:
/// when less than a quarter of its life, and at most [`REFRESH_MARGIN`], is left.
fn needs_refresh(issued: SystemTime, expiry: Option<SystemTime>, now: SystemTime) -> bool {
    let Some(expiry) = expiry else {
        return false;
    };
    let life = expiry.duration_since(issued).unwrap_or_default();
    let margin = (life / 4).min(REFRESH_MARGIN);
    now + margin >= expiry
}

/// The SDK's handle on one account's [`AssumedRole`].
#[derive(Debug)]
struct Session(Arc<AssumedRole>);

impl ProvideCredentials for Session {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(async move {
            self.0
                .credentials()
                .await
                .map_err(CredentialsError::provider_error)
        })
    }
}

/// How long baseline waits for AWS to become consistent (a new role usable by a service, a
/// new key found, a policy type enabled) before it reports the error AWS keeps giving.
/// AWS documents "a few seconds" to minutes; the AWS provider for Terraform waits two.
pub const CONSISTENCY_BUDGET: Duration = Duration::from_secs(120);

/// Bounded exponential backoff (0.25 s doubling to 8 s) within [`CONSISTENCY_BUDGET`], for
/// waiting until AWS has caught up with a change it just accepted.
#[derive(Debug)]
pub struct Backoff {
    started: std::time::Instant,
    pause: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            started: std::time::Instant::now(),
            pause: Duration::from_millis(250),
        }
    }
}

impl Backoff {
    /// Sleep before the next attempt; `false` (at once) when the budget is spent.
    pub async fn wait(&mut self) -> bool {
        if self.started.elapsed() + self.pause > CONSISTENCY_BUDGET {
            return false;
        }
        tokio::time::sleep(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_secs(8));
        true
    }
}

/// Run `op` until it succeeds or fails with an error that `transient` does not accept,
/// with [`Backoff`] between attempts. For the documented moments in which AWS has not
/// caught up with a change it just accepted: only the errors named by `transient` are
/// waited out, and for [`CONSISTENCY_BUDGET`] at most.
pub async fn until_consistent<T, F, Fut>(
    transient: impl Fn(&AwsError) -> bool,
    mut op: F,
) -> Result<T, AwsError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, AwsError>>,
{
    let mut backoff = Backoff::default();
    loop {
        match op().await {
            Err(e) if transient(&e) && backoff.wait().await => {}
            other => return other,
        }
    }
}

/// The partition named by an ARN (`arn:PARTITION:...`).
pub fn partition_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn"))
        .then(|| parts.next())
        .flatten()
        .filter(|p| !p.is_empty())
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
    client!(account, aws_sdk_account);
    client!(logs, aws_sdk_cloudwatchlogs);
    client!(cloudwatch, aws_sdk_cloudwatch);
    client!(sns, aws_sdk_sns);
    client!(access_analyzer, aws_sdk_accessanalyzer);
    client!(guardduty, aws_sdk_guardduty);
    client!(ec2, aws_sdk_ec2);

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

/// S3 Control at a custom endpoint (a proxy, an emulator), addressed as given. Its endpoint
/// rules put the account id in front of the host (`123456789012.s3-control.<region>...`),
/// which only AWS's own hosts serve.
#[derive(Debug)]
struct S3ControlAsGiven(String);

impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for S3ControlAsGiven {
    fn resolve_endpoint<'a>(
        &'a self,
        _params: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

impl Aws {
    pub async fn s3control(
        &self,
        account: &str,
        region: &str,
    ) -> Result<aws_sdk_s3control::Client, AwsError> {
        let config = self.config(account, region).await?;
        let mut builder =
            aws_sdk_s3control::config::Builder::from(&config).interceptor(self.calls.clone());
        if let Some(url) = config.endpoint_url() {
            builder = builder.endpoint_resolver(S3ControlAsGiven(url.to_string()));
        }
        Ok(aws_sdk_s3control::Client::from_conf(builder.build()))
    }
}

#[cfg(test)]
mod tests {
    use super::{needs_refresh, partition, partition_of_arn, session_name};
    use std::time::{Duration, SystemTime};

    #[test]
    fn sessions_are_renewed_before_they_expire() {
        let issued = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hour = issued + Duration::from_secs(3600);
        // An hour's session: renewed in its last five minutes.
        assert!(!needs_refresh(
            issued,
            Some(hour),
            issued + Duration::from_secs(3000)
        ));
        assert!(needs_refresh(
            issued,
            Some(hour),
            issued + Duration::from_secs(3301)
        ));
        // A session of seconds: in its last quarter.
        let short = issued + Duration::from_secs(4);
        assert!(!needs_refresh(
            issued,
            Some(short),
            issued + Duration::from_secs(2)
        ));
        assert!(needs_refresh(
            issued,
            Some(short),
            issued + Duration::from_secs(3)
        ));
        // Long-lived credentials never are.
        assert!(!needs_refresh(issued, None, hour));
    }

    #[test]
    fn the_partition_comes_from_the_callers_arn() {
        assert_eq!(partition_of_arn("arn:aws-cn:iam::1:user/a"), Some("aws-cn"));
        assert_eq!(
            partition_of_arn("arn:aws-us-gov:sts::1:assumed-role/r/s"),
            Some("aws-us-gov")
        );
        assert_eq!(partition_of_arn("not-an-arn"), None);
    }

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
