//! A client-side rate limiter in front of every AWS call: one token bucket per (service,
//! credentials, region), which is per (service, account, region) since each account is
//! called with its own session, and one for AWS Organizations as a whole, which AWS
//! throttles per organization. A large run then waits a little before it sends rather than
//! receiving throttling errors and relying on retries (which it still does: the SDK's
//! standard retry strategy retries what AWS throttles anyway).
//!
//! The limiter sits in the HTTP client, where a request is already signed: the SigV4
//! credential scope (`Credential=AKID/date/region/service/aws4_request`) names the service,
//! the region and the credentials. Retries pass through it too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// tokio's clock (the system's outside tests), so that tests can pause it.
use tokio::time::Instant;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// Requests per second a bucket refills at, and how many it holds (the burst).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

/// The rates baseline keeps to by default, by SigV4 service name; every other service gets
/// [`DEFAULT_RATE`]. Each stays below what AWS documents, or what it is known to serve where
/// it documents nothing (the emulator's `--aws-rate-limits` holds the same knowledge, with
/// sources, in tests/emulator/faults.py):
/// - Organizations: AWS throttles the whole organization and documents no rate
///   (awsdocs/aws-organizations-docs#39 asked for one); a handful of concurrent callers get
///   `TooManyRequestsException` (awslabs/aws-deployment-framework#788). 4/s, burst 4,
///   below the 5/s assumed there (inferred).
/// - IAM: no published rate (AWS's IAM/STS throttling article); 8/s, burst 16, per account
///   (inferred, below the 10/20 assumed).
/// - Security Hub: 10/s, burst 30 for most operations (documented in its API reference);
///   8/s, burst 16.
/// - STS: no published rate; `AssumeRole` is called once per account (all from the
///   caller's credentials, so one bucket) and before a session expires: 40/s, burst 80,
///   below the 50/100 assumed (inferred).
pub const DEFAULT_RATES: &[(&str, Rate)] = &[
    (
        "organizations",
        Rate {
            per_second: 4.0,
            burst: 4.0,
        },
    ),
    (
        "iam",
        Rate {
            per_second: 8.0,
            burst: 16.0,
        },
    ),
    (
        "securityhub",
        Rate {
            per_second: 8.0,
            burst: 16.0,
        },
    ),
    (
        "sts",
        Rate {
            per_second: 40.0,
            burst: 80.0,
        },
    ),
];

/// The rate of every service not in [`DEFAULT_RATES`], per account and region (EC2
/// documents 20/s, burst 100, per action; KMS hundreds per second per operation).
pub const DEFAULT_RATE: Rate = Rate {
    per_second: 20.0,
    burst: 40.0,
};

/// The rates a run keeps to: the defaults, with `--rate-limit` overrides.
#[derive(Debug, Clone)]
pub struct Rates {
    by_service: HashMap<String, Rate>,
    /// The services `--rate-limit` named: their rates are the user's, kept as given.
    given: Vec<String>,
}

impl Default for Rates {
    fn default() -> Self {
        Rates {
            by_service: DEFAULT_RATES
                .iter()
                .map(|(s, r)| (s.to_string(), *r))
                .collect(),
            given: Vec::new(),
        }
    }
}

impl Rates {
    /// The defaults with `overrides` (`SERVICE=RATE` or `SERVICE=RATE/BURST`, e.g.
    /// `organizations=2/4`; `SERVICE=0` turns the limit off).
    pub fn with(overrides: &[String]) -> Result<Rates, String> {
        let mut rates = Rates::default();
        for text in overrides {
            let (service, rate) = parse(text)?;
            rates.given.push(service.clone());
            rates.by_service.insert(service, rate);
        }
        Ok(rates)
    }

    /// The rates of one of `shards` runs made at once: AWS throttles Organizations per
    /// organization, so each shard keeps to its share of the default (a rate `--rate-limit`
    /// gave is kept as given). Every other limit is per account, and shards share no account.
    pub fn for_shard_of(mut self, shards: u32) -> Rates {
        if shards > 1 && !self.given.iter().any(|s| s == "organizations") {
            if let Some(rate) = self.by_service.get_mut("organizations") {
                rate.per_second /= f64::from(shards);
                rate.burst = (rate.burst / f64::from(shards)).max(1.0);
            }
        }
        self
    }

    fn of(&self, service: &str) -> Rate {
        self.by_service
            .get(service)
            .copied()
            .unwrap_or(DEFAULT_RATE)
    }
}

/// `SERVICE=RATE[/BURST]`.
pub fn parse(text: &str) -> Result<(String, Rate), String> {
    let bad = || {
        format!(
            "--rate-limit takes SERVICE=RATE or SERVICE=RATE/BURST (requests per second, the \
             SigV4 service name), e.g. organizations=2/4; not `{text}`"
        )
    };
    let (service, rate) = text.split_once('=').ok_or_else(bad)?;
    let (per_second, burst) = match rate.split_once('/') {
        Some((r, b)) => (r, Some(b)),
        None => (rate, None),
    };
    let number = |t: &str| {
        t.trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite() && *n >= 0.0)
    };
    let per_second = number(per_second).ok_or_else(bad)?;
    let burst = match burst {
        Some(b) => number(b).ok_or_else(bad)?,
        None => (per_second * 2.0).max(1.0),
    };
    let service = service.trim();
    if service.is_empty()
        || !service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(bad());
    }
    Ok((
        service.to_ascii_lowercase(),
        Rate {
            per_second,
            burst: burst.max(1.0),
        },
    ))
}

/// A token bucket.
#[derive(Debug)]
struct Bucket {
    rate: Rate,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// Take a token now, or say how long until one is there.
    fn take(&mut self, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate.per_second).min(self.rate.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            None
        } else {
            Some(Duration::from_secs_f64(
                (1.0 - self.tokens) / self.rate.per_second,
            ))
        }
    }
}

/// The buckets of one run, shared by every client.
#[derive(Debug, Default)]
pub struct Limiter {
    rates: Rates,
    buckets: Mutex<HashMap<String, Bucket>>,
    /// Time spent waiting for a token, in milliseconds, by service (for `--verbose`).
    waited_by_service: Mutex<HashMap<String, u64>>,
}

impl Limiter {
    pub fn new(rates: Rates) -> Limiter {
        Limiter {
            rates,
            ..Limiter::default()
        }
    }

    /// The total time requests waited for the limiter.
    pub fn waited(&self) -> Duration {
        let waits = self.waited_by_service.lock().expect("rate limiter lock");
        Duration::from_millis(waits.values().sum())
    }

    /// The time requests waited, by service, the longest first.
    pub fn waited_by_service(&self) -> Vec<(String, Duration)> {
        let mut waits: Vec<(String, Duration)> = self
            .waited_by_service
            .lock()
            .expect("rate limiter lock")
            .iter()
            .map(|(service, ms)| (service.clone(), Duration::from_millis(*ms)))
            .collect();
        waits.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        waits
    }

    /// Wait until the bucket of this request has a token.
    async fn admit(&self, scope: &Scope) {
        let rate = self.rates.of(&scope.service);
        if rate.per_second <= 0.0 {
            return;
        }
        // AWS Organizations throttles the organization, whoever calls.
        let key = if scope.service == "organizations" {
            scope.service.clone()
        } else {
            format!("{}/{}/{}", scope.service, scope.access_key, scope.region)
        };
        let started = Instant::now();
        loop {
            let wait = {
                let mut buckets = self.buckets.lock().expect("rate limiter lock");
                let now = Instant::now();
                buckets
                    .entry(key.clone())
                    .or_insert_with(|| Bucket {
                        rate,
                        tokens: rate.burst,
                        last: now,
                    })
                    .take(now)
            };
            match wait {
                None => break,
                Some(wait) => tokio::time::sleep(wait).await,
            }
        }
        let waited = started.elapsed().as_millis() as u64;
        if waited > 0 {
            *self
                .waited_by_service
                .lock()
                .expect("rate limiter lock")
                .entry(scope.service.clone())
                .or_default() += waited;
        }
    }
}

/// What the SigV4 credential scope of a signed request says.
#[derive(Debug, PartialEq)]
struct Scope {
    access_key: String,
    region: String,
    service: String,
}

/// The credential scope of an `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/
/// SERVICE/aws4_request, ...` header (`None`: not signed with SigV4, then not limited).
fn scope_of(authorization: &str) -> Option<Scope> {
    let credential = authorization.split("Credential=").nth(1)?;
    let credential = credential.split([',', ' ']).next()?;
    let mut parts = credential.split('/');
    let access_key = parts.next()?.to_string();
    let _date = parts.next()?;
    let region = parts.next()?.to_string();
    let service = parts.next()?.to_string();
    Some(Scope {
        access_key,
        region,
        service,
    })
}

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, the proxy from the
/// environment, as `aws-config` builds it), each request admitted by `limiter` first.
pub fn client(limiter: Arc<Limiter>) -> SharedHttpClient {
    let inner = Builder::new().build_with_connector_fn(|settings, components| {
        let mut builder =
            ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder.build()
    });
    SharedHttpClient::new(Limited { inner, limiter })
}

#[derive(Debug)]
struct Limited {
    inner: SharedHttpClient,
    limiter: Arc<Limiter>,
}

impl HttpClient for Limited {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            limiter: self.limiter.clone(),
        })
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    limiter: Arc<Limiter>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let scope = request.headers().get("authorization").and_then(scope_of);
        let inner = self.inner.clone();
        let limiter = self.limiter.clone();
        HttpConnectorFuture::new(async move {
            if let Some(scope) = scope {
                limiter.admit(&scope).await;
            }
            inner.call(request).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_scope_names_service_region_and_key() {
        let header = "AWS4-HMAC-SHA256 Credential=ASIAXYZ/20261129/eu-west-1/organizations/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            scope_of(header),
            Some(Scope {
                access_key: "ASIAXYZ".into(),
                region: "eu-west-1".into(),
                service: "organizations".into(),
            })
        );
        assert_eq!(scope_of("Bearer token"), None);
        assert_eq!(scope_of("AWS4-HMAC-SHA256 Credential=AKID/20261129"), None);
    }

    #[test]
    fn rates_parse_with_and_without_a_burst() {
        assert_eq!(
            parse("organizations=2/4").unwrap(),
            (
                "organizations".into(),
                Rate {
                    per_second: 2.0,
                    burst: 4.0
                }
            )
        );
        assert_eq!(parse("KMS=10").unwrap().1.burst, 20.0);
        assert_eq!(parse("iam=0").unwrap().1.per_second, 0.0);
        for bad in [
            "organizations",
            "=2",
            "iam=x",
            "iam=-1",
            "iam=1/x",
            "i am=1",
            "iam=inf",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let rates = Rates::with(&["sts=1".into()]).unwrap();
        assert_eq!(rates.of("sts").per_second, 1.0);
        assert_eq!(rates.of("organizations").per_second, 4.0);
        assert_eq!(rates.of("guardduty"), DEFAULT_RATE);
    }

    #[test]
    fn a_bucket_admits_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut bucket = Bucket {
            rate: Rate {
                per_second: 10.0,
                burst: 3.0,
            },
            tokens: 3.0,
            last: start,
        };
        for _ in 0..3 {
            assert_eq!(bucket.take(start), None);
        }
        let wait = bucket.take(start).expect("empty");
        assert!((wait.as_secs_f64() - 0.1).abs() < 1e-9, "{wait:?}");
        // 250 ms later: two tokens back (never more than the burst).
        let later = start + Duration::from_millis(250);
        assert_eq!(bucket.take(later), None);
        assert_eq!(bucket.take(later), None);
        assert!(bucket.take(later).is_some());
        let much_later = later + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(bucket.take(much_later), None);
        }
        assert!(bucket.take(much_later).is_some());
    }

    #[tokio::test(start_paused = true)]
    async fn requests_beyond_the_rate_wait_for_it() {
        let limiter = Limiter::new(Rates::with(&["organizations=10/1".into()]).unwrap());
        let scope = |key: &str| Scope {
            access_key: key.into(),
            region: "us-east-1".into(),
            service: "organizations".into(),
        };
        let started = tokio::time::Instant::now();
        // Organizations is one bucket whoever calls: 11 calls at 10/s take 1 s.
        for i in 0..11 {
            limiter.admit(&scope(&format!("KEY{i}"))).await;
        }
        let took = started.elapsed();
        assert!(
            took >= Duration::from_millis(990) && took < Duration::from_millis(1100),
            "{took:?}"
        );
        // Another service's buckets are per credentials and region: no wait.
        let other = Scope {
            service: "kms".into(),
            ..scope("A")
        };
        let started = tokio::time::Instant::now();
        limiter.admit(&other).await;
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[test]
    fn shards_share_the_organizations_default_but_keep_a_given_rate() {
        let org = |r: &Rates| r.of("organizations");
        let shared = Rates::default().for_shard_of(4);
        assert_eq!(org(&shared).per_second, 1.0);
        assert_eq!(org(&shared).burst, 1.0);
        assert_eq!(
            shared.of("iam"),
            Rates::default().of("iam"),
            "per account: not shared"
        );
        assert_eq!(org(&Rates::default().for_shard_of(1)).per_second, 4.0);
        let given = Rates::with(&["organizations=3/6".to_string()])
            .unwrap()
            .for_shard_of(4);
        assert_eq!(org(&given).per_second, 3.0);
        assert_eq!(org(&given).burst, 6.0);
    }
}
