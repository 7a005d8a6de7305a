//! Load harness (issue 15): a no-op `baseline plan` of a large organization against the
//! emulator with an injected round trip per request, per-service rate limits and,
//! optionally, a fault mix; unsharded and as N shards run at once.
//!
//! Run with `scripts/load [options]` (or `cargo bench --bench load -- [options]`); `--help`
//! lists the options. Steps: start the emulator (tests/emulator/router.py over several
//! server.py processes, so that the emulator is not what is measured), seed an organization
//! of `--accounts` accounts over nested OUs through the Organizations API, write a baseline
//! that declares that tree and the SOC 2 resources of benches/baselines/ten-accounts.kdl in
//! `--regions` regions, apply it once (no latency, no faults, to save time), then turn on the
//! round trip, rate limits and faults and time:
//!
//!   (a) `baseline plan` of the whole organization;
//!   (b) `baseline plan --shard K/N` for every K at once.
//!
//! For each run it prints the release binary's wall time, CPU time and peak RSS (wait4), its
//! API calls and instances (`-v`), calls per instance, what the emulator answered (requests,
//! throttling and rate-limit answers, server errors, dropped connections; each is an SDK
//! retry unless the attempts ran out), Organizations' requests and throttles, and the CPU the
//! emulator's processes and the router spent meanwhile (from /proc), so that it shows whether
//! the product or the emulator was the bottleneck.

#[path = "common/measure.rs"]
mod measure;
#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use measure::Sample;
use serde_json::Value;

const HELP: &str = "\
baseline load harness (issue 15)

usage: scripts/load [options]        (or: cargo bench --bench load -- [options])

  --accounts N          member accounts to seed (default 1000; at least 3)
  --regions N           regions of the baseline, 1 to 4 (default 2)
  --latency-ms MS       round trip injected per request during the plans (default 50)
  --processes N         emulator processes behind the router (default 2)
  --no-router           one server.py process, without the router
  --shards N            shards of scenario (b), run at once (default 4; 0 skips it)
  --parallelism N       the baseline's max-concurrency, 1 to 256 (default 256)
  --faults              add a fault mix to the plans: 1% throttling, 0.5% HTTP 500,
                        0.2% dropped connections (seeded)
  --no-rate-limits      no per-service rate limits (default: AWS-like, faults.py's)
  --runs N              plans per scenario; the median is printed (default 1)
  --keep DIR            write the generated baseline to DIR (kept) instead of a temp dir
  --rate-limit S=R[/B]  passed to the plans (baseline's client-side rate limit); repeatable
";

struct Options {
    accounts: usize,
    regions: usize,
    latency_ms: u64,
    processes: usize,
    router: bool,
    shards: usize,
    parallelism: usize,
    faults: bool,
    rate_limits: bool,
    runs: usize,
    keep: Option<PathBuf>,
    rate_limit: Vec<String>,
}

impl Options {
    fn parse() -> Options {
        let mut o = Options {
            accounts: 1000,
            regions: 2,
            latency_ms: 50,
            processes: 2,
            router: true,
            shards: 4,
            parallelism: 256,
            faults: false,
            rate_limits: true,
            runs: 1,
            keep: None,
            rate_limit: Vec::new(),
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> usize {
                args.next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| fail(&format!("{name} wants a number")))
            };
            match arg.as_str() {
                "--bench" => {} // added by `cargo bench`
                "--accounts" => o.accounts = number("--accounts"),
                "--regions" => o.regions = number("--regions"),
                "--latency-ms" => o.latency_ms = number("--latency-ms") as u64,
                "--processes" => o.processes = number("--processes"),
                "--no-router" => o.router = false,
                "--shards" => o.shards = number("--shards"),
                "--parallelism" => o.parallelism = number("--parallelism"),
                "--faults" => o.faults = true,
                "--no-faults" => o.faults = false,
                "--no-rate-limits" => o.rate_limits = false,
                "--runs" => o.runs = number("--runs"),
                "--keep" => {
                    o.keep = Some(PathBuf::from(
                        args.next().unwrap_or_else(|| fail("--keep wants a folder")),
                    ))
                }
                "--rate-limit" => o.rate_limit.push(
                    args.next()
                        .unwrap_or_else(|| fail("--rate-limit wants SERVICE=RATE[/BURST]")),
                ),
                "-h" | "--help" => {
                    print!("{HELP}");
                    std::process::exit(0);
                }
                other => fail(&format!("unknown option {other:?}")),
            }
        }
        if o.accounts < 3 || !(1..=4).contains(&o.regions) || !(1..=256).contains(&o.parallelism) {
            fail("--accounts is at least 3, --regions 1 to 4, --parallelism 1 to 256");
        }
        if o.processes == 0 || o.runs == 0 {
            fail("--processes and --runs are at least 1");
        }
        o
    }
}

fn fail(message: &str) -> ! {
    eprintln!("load: {message}\n\n{HELP}");
    std::process::exit(2);
}

const REGIONS: [&str; 4] = ["us-east-1", "eu-west-1", "us-west-2", "eu-central-1"];

// ------------------------------------------------------------------------------------------
// The emulator
// ------------------------------------------------------------------------------------------

/// The router over server.py processes (or one server.py), stopped when dropped.
struct Emulator {
    server: support::Emulator,
    router: bool,
}

impl Emulator {
    fn start(o: &Options) -> Emulator {
        let dir = support::repo_root().join("tests/emulator");
        let mut command = Command::new(support::venv().join("bin/python"));
        if o.router {
            command
                .arg(dir.join("router.py"))
                .args(["--processes", &o.processes.to_string()])
                // The accounts that hold organization-level resources other accounts' calls
                // look up (the log bucket Config delivers to, the delegated administrator).
                .args(["--pin", "log-archive", "--pin", "audit"]);
        } else {
            command.arg(dir.join("server.py")).arg("--keep-alive");
        }
        // moto loads some 1,300 default AMIs (with a volume and a snapshot each) into every
        // account and region's EC2 the first time it is used: 72 ms of CPU and 4 MiB each,
        // for images baseline never reads.
        command.env("MOTO_EC2_LOAD_DEFAULT_AMIS", "false");
        Emulator {
            server: support::Emulator::spawn(command),
            router: o.router,
        }
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.server.env();
        env.push(("NO_COLOR", "1".into()));
        env
    }

    /// faults.py's control endpoint: GET with no body, POST with one. None when the
    /// emulator has no faults.py (it answers 404).
    fn faults(&self, update: Option<&Value>) -> Option<Value> {
        let (status, body) = self.server.http(
            if update.is_some() { "POST" } else { "GET" },
            "/_baseline/faults",
            update.map(|u| u.to_string()).as_deref(),
        )?;
        (status == 200).then(|| serde_json::from_str(&body).ok())?
    }

    /// CPU seconds of each emulator process (and the router's own, last), from /proc.
    fn cpu(&self) -> EmulatorCpu {
        if !self.router {
            return EmulatorCpu {
                processes: vec![proc_cpu(self.server.pid()).unwrap_or(0.0)],
                router: 0.0,
                requests: vec![],
                router_requests: 0,
                rss_mib: vec![proc_rss_mib(self.server.pid()).unwrap_or(0.0)],
                connections: 0,
            };
        }
        let stats: Value = self
            .server
            .http("GET", "/_router", None)
            .and_then(|(_, body)| serde_json::from_str(&body).ok())
            .expect("the router's /_router");
        let processes = stats["processes"].as_array().cloned().unwrap_or_default();
        EmulatorCpu {
            processes: processes
                .iter()
                .map(|p| p["cpu_seconds"].as_f64().unwrap_or(0.0))
                .collect(),
            router: proc_cpu(self.server.pid()).unwrap_or(0.0),
            requests: processes
                .iter()
                .map(|p| p["requests"].as_u64().unwrap_or(0))
                .collect(),
            router_requests: stats["router"]["requests"].as_u64().unwrap_or(0),
            rss_mib: processes
                .iter()
                .map(|p| p["rss_bytes"].as_f64().unwrap_or(0.0) / 1048576.0)
                .collect(),
            connections: stats["router"]["client_connections"].as_u64().unwrap_or(0),
        }
    }
}

#[derive(Clone)]
struct EmulatorCpu {
    processes: Vec<f64>,
    router: f64,
    requests: Vec<u64>,
    router_requests: u64,
    /// Resident memory of each process, MiB.
    rss_mib: Vec<f64>,
    /// Client connections the router accepted.
    connections: u64,
}

/// User + system CPU seconds of a process, from /proc/PID/stat.
fn proc_cpu(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().ok()? + fields[12].parse::<f64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some(ticks / hz)
}

/// Resident memory of a process, MiB, from /proc/PID/statm.
fn proc_rss_mib(pid: u32) -> Option<f64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as f64;
    Some(pages * page / 1048576.0)
}

// ------------------------------------------------------------------------------------------
// The organization: nested OUs of uneven sizes
// ------------------------------------------------------------------------------------------

/// OU path, short name of its accounts, share of the accounts (in thousandths).
const TREE: &[(&str, &str, u32)] = &[
    ("Infrastructure", "infra", 25),
    ("Workloads/Production/Payments", "pay-prod", 140),
    ("Workloads/Production/Platform", "plat-prod", 190),
    ("Workloads/Production/Data", "data-prod", 95),
    ("Workloads/Staging/Payments", "pay-stg", 70),
    ("Workloads/Staging/Platform", "plat-stg", 110),
    ("Workloads/Development", "dev", 125),
    ("Sandbox/Research", "research", 160),
    ("Sandbox/Training", "training", 45),
    ("Suspended", "suspended", 10),
    ("/", "legacy", 30),
];

/// Every OU path, parents first.
fn ou_paths() -> Vec<String> {
    let mut paths = vec!["Security".to_string()];
    for (path, _, _) in TREE {
        if *path == "/" {
            continue;
        }
        let parts: Vec<&str> = path.split('/').collect();
        for i in 1..=parts.len() {
            let p = parts[..i].join("/");
            if !paths.contains(&p) {
                paths.push(p);
            }
        }
    }
    paths
}

/// (account name, OU path) for `n` accounts: log-archive and audit in Security, the rest
/// spread over TREE by its shares.
fn accounts(n: usize) -> Vec<(String, String)> {
    let mut out = vec![
        ("log-archive".to_string(), "Security".to_string()),
        ("audit".to_string(), "Security".to_string()),
    ];
    let rest = n - 2;
    let total: u32 = TREE.iter().map(|t| t.2).sum();
    let mut counts: Vec<usize> = TREE
        .iter()
        .map(|t| rest * t.2 as usize / total as usize)
        .collect();
    let short = rest - counts.iter().sum::<usize>();
    counts[2] += short; // the largest OU takes the rounding
    for ((path, short, _), count) in TREE.iter().zip(counts) {
        for i in 1..=count {
            out.push((format!("{short}-{i:04}"), path.to_string()));
        }
    }
    out
}

async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "testing", "testing", None, None, "load",
        ))
        .load()
        .await
}

/// Create the organization, its OU tree and the accounts, each in its OU.
async fn seed(endpoint: &str, accounts: &[(String, String)]) {
    use aws_sdk_organizations::types::OrganizationFeatureSet;
    let org = aws_sdk_organizations::Client::new(&sdk_config(endpoint).await);
    org.create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .expect("create organization");
    let root = org.list_roots().send().await.expect("list roots").roots()[0]
        .id()
        .expect("root id")
        .to_string();
    let mut ids = BTreeMap::from([("/".to_string(), root.clone())]);
    for path in ou_paths() {
        let (parent, name) = path.rsplit_once('/').unwrap_or(("/", &path));
        let ou = org
            .create_organizational_unit()
            .parent_id(&ids[parent])
            .name(name)
            .send()
            .await
            .expect("create OU");
        let id = ou
            .organizational_unit()
            .and_then(|u| u.id())
            .expect("OU id");
        ids.insert(path.clone(), id.to_string());
    }
    let org = &org;
    let ids = &ids;
    let root = &root;
    futures::stream::iter(accounts)
        .map(|(name, ou)| async move {
            let made = org
                .create_account()
                .account_name(name)
                .email(format!("{name}@example.com"))
                .send()
                .await
                .expect("create account");
            let id = made
                .create_account_status()
                .and_then(|s| s.account_id())
                .expect("account id")
                .to_string();
            if ou != "/" {
                org.move_account()
                    .account_id(&id)
                    .source_parent_id(root)
                    .destination_parent_id(&ids[ou])
                    .send()
                    .await
                    .expect("move account");
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
}

// ------------------------------------------------------------------------------------------
// The baseline
// ------------------------------------------------------------------------------------------

/// The baseline of the bench: the OU tree and every account in it, and the SOC 2 resources
/// of benches/baselines/ten-accounts.kdl, the log archive in `log-archive`, the analyzer in
/// `audit`, an SCP and the backups targeted by OU.
fn baseline_kdl(o: &Options, accounts: &[(String, String)]) -> String {
    let regions: Vec<String> = REGIONS[..o.regions]
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect();
    let mut k = String::new();
    k.push_str(&format!(
        "// Generated by benches/load.rs: {} member accounts over nested OUs, {} region(s).\n\
         settings {{\n    default-regions {}\n    max-concurrency {}\n}}\n\n",
        accounts.len(),
        o.regions,
        regions.join(" "),
        o.parallelism
    ));
    k.push_str(
        r#"organization {
    feature-set "ALL"
    policy-types "SERVICE_CONTROL_POLICY"
    trusted-services "cloudtrail.amazonaws.com" "config.amazonaws.com" "access-analyzer.amazonaws.com"
    delegated-administrator "access-analyzer.amazonaws.com" account="audit"
}

"#,
    );
    // The tree, nested as written by hand.
    fn tree(k: &mut String, paths: &[String], parent: &str, depth: usize) {
        for p in paths {
            let (up, name) = p.rsplit_once('/').unwrap_or(("", p));
            if up != parent {
                continue;
            }
            let pad = "    ".repeat(depth);
            let children: Vec<&String> = paths
                .iter()
                .filter(|c| c.rsplit_once('/').is_some_and(|(u, _)| u == p))
                .collect();
            if children.is_empty() {
                k.push_str(&format!("{pad}organizational-unit \"{name}\"\n"));
            } else {
                k.push_str(&format!("{pad}organizational-unit \"{name}\" {{\n"));
                tree(k, paths, p, depth + 1);
                k.push_str(&format!("{pad}}}\n"));
            }
        }
    }
    tree(&mut k, &ou_paths(), "", 0);
    k.push('\n');
    for (name, ou) in accounts {
        k.push_str(&format!("account \"{name}\" ou=\"{ou}\"\n"));
    }
    k.push_str(
        r##"
service-control-policy "deny-leave-organization" {
    document #"{"Version":"2012-10-17","Statement":[{"Sid":"DenyLeave","Effect":"Deny","Action":"organizations:LeaveOrganization","Resource":"*"}]}"#
    attach root=#true
}

service-control-policy "deny-sandbox-regions" {
    document #"{"Version":"2012-10-17","Statement":[{"Sid":"DenyOutsideRegions","Effect":"Deny","NotAction":["iam:*","organizations:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}]}"#
    attach ou="Sandbox"
}

kms-key "org-logs" {
    account "log-archive"
    alias "alias/org-logs"
    rotation period-days=365
}

log-bucket "org-trail-logs" {
    account "log-archive"
    bucket-name "load-org-trail-logs"
    kms-key "org-logs"
}

organization-trail "org-trail" {
    bucket "org-trail-logs"
    kms-key "org-logs"
    cloudwatch-logs "org-trail"
}

config-recorder {
    targets {
        all-accounts
    }
    delivery bucket="org-trail-logs"
}

backup-vault "central" {
    targets {
        ou "Workloads"
    }
}

backup-plan "daily" {
    targets {
        ou "Workloads/Production"
    }
    vault "central"
    rule "daily" schedule="cron(0 5 ? * * *)" delete-after-days=35
}

password-policy {
    targets {
        all-accounts
    }
    min-length 14
    require "symbols" "numbers" "uppercase" "lowercase"
}

kms-key "monitoring" {
    alias "alias/monitoring"
}

log-group "org-trail" {
    name "/baseline/org-trail"
    retention-days 365
    kms-key "monitoring"
}

alert-topic "security-alerts" {
    kms-key "monitoring"
    subscribe "email" "secops@example.com"
}

security-alarms {
    log-group "org-trail"
    alert-topic "security-alerts"
}

access-analyzer "organization" {
    account "audit"
    type "organization"
}

guardduty {
    targets {
        all-accounts
    }
    features "S3_DATA_EVENTS" "EBS_MALWARE_PROTECTION"
}

account-public-access-block {
    targets {
        all-accounts
    }
}

ebs-encryption {
    targets {
        all-accounts
    }
}

log-retention {
    targets {
        all-accounts
    }
    retention-days 365
}

support-role {
    targets {
        all-accounts
    }
    trusted "arn:aws:iam::123456789012:root"
}

credential-hygiene {
    targets {
        all-accounts
    }
}
"##,
    );
    k
}

// ------------------------------------------------------------------------------------------
// Measured runs of the release binary
// ------------------------------------------------------------------------------------------

/// Start `baseline` with `args`; a thread that waits for it (measure::wait).
fn spawn(
    binary: &std::path::Path,
    emulator: &Emulator,
    args: &[&str],
    started: Instant,
) -> std::thread::JoinHandle<(Sample, String, String)> {
    let child = Command::new(binary)
        .args(args)
        .envs(emulator.env())
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run baseline");
    std::thread::spawn(move || measure::wait(child, started))
}

/// What the emulator counted during one scenario (faults.py's counters, differences).
#[derive(Default)]
struct Counted {
    requests: u64,
    throttled: u64,
    rate_limited: u64,
    server_errors: u64,
    dropped: u64,
    org_requests: u64,
    org_throttles: u64,
}

fn counted(before: &Option<Value>, after: &Option<Value>) -> Option<Counted> {
    let (b, a) = (before.as_ref()?, after.as_ref()?);
    let n = |v: &Value, path: &[&str]| {
        path.iter()
            .try_fold(v, |v, k| v.get(*k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let d = |path: &[&str]| n(a, path).saturating_sub(n(b, path));
    let org = ["counters", "services", "organizations"];
    let at = |k: &'static str| [org[0], org[1], org[2], k];
    Some(Counted {
        requests: d(&["counters", "requests"]),
        throttled: d(&["counters", "throttled"]),
        rate_limited: d(&["counters", "rate_limited"]),
        server_errors: d(&["counters", "server_errors"]),
        dropped: d(&["counters", "dropped_before"]) + d(&["counters", "dropped_after"]),
        org_requests: d(&at("requests")),
        org_throttles: d(&at("throttled")) + d(&at("rate_limited")),
    })
}

fn mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Print one scenario's figures: the product's (summed over `samples` run at once) and the
/// emulator's.
fn report(
    name: &str,
    samples: &[Sample],
    emulator: (&EmulatorCpu, &EmulatorCpu),
    faults: Option<Counted>,
) {
    let wall = samples.iter().map(|s| s.wall).max().unwrap_or_default();
    let cpu: Duration = samples.iter().map(|s| s.cpu).sum();
    let rss = samples.iter().map(|s| s.max_rss_kib).max().unwrap_or(0);
    let calls: u64 = samples.iter().map(|s| s.calls).sum();
    let instances: u64 = samples.iter().map(|s| s.instances).sum();
    println!("== {name}");
    if samples.len() > 1 {
        for (k, s) in samples.iter().enumerate() {
            println!(
                "   shard {}/{}: wall {:.1} s, CPU {:.1} s, peak RSS {:.1} MiB, {} API calls, \
                 {} instances in {} accounts, exit {}",
                k + 1,
                samples.len(),
                secs(s.wall),
                secs(s.cpu),
                mib(s.max_rss_kib),
                s.calls,
                s.instances,
                s.accounts,
                s.code
            );
        }
    }
    println!(
        "   baseline: wall {:.1} s{}, CPU {:.1} s{}, peak RSS {:.1} MiB{}",
        secs(wall),
        if samples.len() > 1 { " (slowest)" } else { "" },
        secs(cpu),
        if samples.len() > 1 { " (sum)" } else { "" },
        mib(rss),
        if samples.len() > 1 { " (max)" } else { "" },
    );
    println!(
        "   API calls: {calls} for {instances} instances ({:.2} per instance)",
        calls as f64 / instances.max(1) as f64,
    );
    let sum = |f: fn(&Sample) -> Option<u64>| samples.iter().filter_map(f).reduce(|a, b| a + b);
    if let Some(retries) = sum(|s| s.retries) {
        let waited: Duration = samples.iter().filter_map(|s| s.limiter_wait).sum();
        println!(
            "   baseline -v: {retries} retries, {} throttling answers received, {:.1} s waited \
             for its rate limiter{}",
            sum(|s| s.throttled).unwrap_or(0),
            secs(waited),
            if samples.len() > 1 {
                " (summed over shards)"
            } else {
                ""
            },
        );
    }
    match faults {
        Some(c) => {
            println!(
                "   emulator answered {} requests: {} throttled (fault mix), {} rate-limited, \
                 {} server errors, {} dropped connections; {} retries at most (one per \
                 refused answer)",
                c.requests,
                c.throttled,
                c.rate_limited,
                c.server_errors,
                c.dropped,
                c.throttled + c.rate_limited + c.server_errors + c.dropped
            );
            println!(
                "   Organizations: {} requests, {} throttling answers ({:.2} per 1,000)",
                c.org_requests,
                c.org_throttles,
                c.org_throttles as f64 * 1000.0 / c.org_requests.max(1) as f64
            );
        }
        None => println!("   (no faults.py in this emulator: no latency, throttling or counters)"),
    }
    let (before, after) = emulator;
    let per: Vec<String> = before
        .processes
        .iter()
        .zip(&after.processes)
        .enumerate()
        .map(|(i, (b, a))| {
            let requests = match (before.requests.get(i), after.requests.get(i)) {
                (Some(b), Some(a)) => format!(", {} requests", a - b),
                _ => String::new(),
            };
            format!("#{i} {:.1} s{requests}", a - b)
        })
        .collect();
    let total: f64 = after.processes.iter().sum::<f64>() - before.processes.iter().sum::<f64>();
    println!(
        "   emulator CPU: {:.1} s over {} process(es) ({}) = {:.0}% of one core over the wall \
         time; router {:.1} s for {} requests ({:.0} µs each) on {} new client connections",
        total,
        after.processes.len(),
        per.join("; "),
        100.0 * total / secs(wall).max(1e-9),
        after.router - before.router,
        after.router_requests - before.router_requests,
        1e6 * (after.router - before.router)
            / (after.router_requests - before.router_requests).max(1) as f64,
        after.connections - before.connections,
    );
    println!(
        "   emulator memory: {} MiB resident",
        after
            .rss_mib
            .iter()
            .map(|m| format!("{m:.0}"))
            .collect::<Vec<_>>()
            .join(" + ")
    );
    let mut failed = false;
    for s in samples {
        failed |= s.code != 0;
    }
    if failed {
        println!(
            "   WARNING: a run did not exit 0 (a no-op plan exits 0 with --detailed-exitcode)"
        );
    }
}

/// Where a run happens: the binary under test, the emulator, and the folder the runs'
/// stderr is kept in (with --keep).
struct Bench<'a> {
    binary: PathBuf,
    emulator: &'a Emulator,
    keep: Option<PathBuf>,
}

fn run_scenario(
    bench: &Bench<'_>,
    name: &str,
    runs: &[Vec<String>],
    repeats: usize,
) -> Vec<Sample> {
    let emulator = bench.emulator;
    let mut best: Vec<(Vec<Sample>, EmulatorCpu, EmulatorCpu, Option<Counted>)> = Vec::new();
    for _ in 0..repeats {
        let cpu_before = emulator.cpu();
        let faults_before = emulator.faults(None);
        let started = Instant::now();
        let waiters: Vec<_> = runs
            .iter()
            .map(|args| {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                spawn(&bench.binary, emulator, &args, started)
            })
            .collect();
        let mut samples = Vec::new();
        for (i, w) in waiters.into_iter().enumerate() {
            let (s, stdout, stderr) = w.join().expect("waiter");
            if let Some(dir) = &bench.keep {
                let label: String = name
                    .chars()
                    .take_while(|c| *c != ',')
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                let file = dir.join(format!("{}-{}", label.trim_matches('-'), i + 1));
                std::fs::write(file.with_extension("stderr"), &stderr).ok();
                std::fs::write(file.with_extension("stdout"), &stdout).ok();
            }
            if s.code != 0 {
                let tail = |text: &str| {
                    let lines: Vec<&str> = text.lines().rev().take(20).collect();
                    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
                };
                eprintln!(
                    "{name}: baseline exited {}; the end of its stdout:\n{}\nand of its stderr:\n{}",
                    s.code,
                    tail(&stdout),
                    tail(&stderr)
                );
            }
            samples.push(s);
        }
        let faults_after = emulator.faults(None);
        let cpu_after = emulator.cpu();
        best.push((
            samples,
            cpu_before,
            cpu_after,
            counted(&faults_before, &faults_after),
        ));
    }
    best.sort_by_key(|(s, ..)| s.iter().map(|s| s.wall).max());
    let (samples, before, after, faults) = best.swap_remove(best.len() / 2);
    report(
        &format!(
            "{name}{}",
            if repeats > 1 {
                format!(" (median of {repeats})")
            } else {
                String::new()
            }
        ),
        &samples,
        (&before, &after),
        faults,
    );
    samples
}

fn main() {
    let o = Options::parse();
    let accounts = accounts(o.accounts);
    println!(
        "load: {} accounts (+ the management account) over {} OUs, {} region(s); {}; \
         plans with {} ms round trip, {}rate limits, {}; max-concurrency {}",
        accounts.len(),
        ou_paths().len(),
        o.regions,
        if o.router {
            format!("emulator: router over {} server.py processes", o.processes)
        } else {
            "emulator: one server.py process".into()
        },
        o.latency_ms,
        if o.rate_limits { "AWS-like " } else { "no " },
        if o.faults {
            "fault mix 1% throttling, 0.5% HTTP 500, 0.2% dropped"
        } else {
            "no fault mix"
        },
        o.parallelism,
    );
    // The binary under test is the release build cargo bench made; the emulator's venv.
    support::venv();
    let emulator = Emulator::start(&o);
    let has_faults = emulator.faults(None).is_some();
    if !has_faults {
        println!(
            "load: WARNING: this emulator has no faults.py (GET /_baseline/faults): no round \
             trip, rate limits or faults are injected, and no throttling is counted"
        );
    }

    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(seed(&emulator.server.endpoint, &accounts));
    println!(
        "seed: organization, {} OUs, {} accounts in {:.1} s",
        ou_paths().len(),
        accounts.len(),
        secs(started.elapsed())
    );

    let temp = tempfile::tempdir().expect("temp dir");
    let dir = o.keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).expect("baseline folder");
    let root = dir.join("baseline.kdl");
    std::fs::write(&root, baseline_kdl(&o, &accounts)).expect("write the baseline");
    let root = root.to_str().expect("utf-8 path").to_string();
    let log = temp.path().join("changes.jsonl");
    let log = log.to_str().expect("utf-8 path").to_string();
    if o.keep.is_some() {
        println!("baseline: {root} (each run's stderr is kept beside it)");
    }
    // A copy of the release binary: the shared target folder may be rebuilt meanwhile.
    let binary = temp.path().join("baseline");
    std::fs::copy(env!("CARGO_BIN_EXE_baseline"), &binary).expect("copy the binary");
    let bench = Bench {
        binary,
        emulator: &emulator,
        keep: o.keep.clone(),
    };

    // Apply once, without latency or faults, and without baseline's client-side rate limits
    // for the services it calls most (the emulator throttles nothing yet): a setup step.
    let mut apply = vec![
        "apply".into(),
        root.clone(),
        "--auto-approve".into(),
        "-v".into(),
        "--change-log".into(),
        log,
    ];
    for service in ["organizations", "sts", "iam"] {
        apply.push("--rate-limit".into());
        apply.push(format!("{service}=0"));
    }
    let apply = run_scenario(
        &bench,
        "apply (no round trip, no faults, --rate-limit organizations=0 sts=0 iam=0)",
        &[apply],
        1,
    );
    if apply[0].code != 0 {
        eprintln!("load: the apply failed; the plans would not be no-op plans");
        std::process::exit(1);
    }

    if has_faults {
        let mut knobs = serde_json::json!({
            "latency_ms": o.latency_ms,
            "reset_counters": true,
        });
        if o.rate_limits {
            knobs["rate_limits"] = "aws".into();
        }
        if o.faults {
            knobs["throttle_rate"] = 0.01.into();
            knobs["server_error_rate"] = 0.005.into();
            knobs["drop_rate"] = 0.002.into();
            knobs["fault_seed"] = 15.into();
        }
        emulator
            .faults(Some(&knobs))
            .expect("set the round trip and faults");
    }

    let plan = |shard: Option<(usize, usize)>| {
        let mut args = vec![
            "plan".to_string(),
            root.clone(),
            "--detailed-exitcode".into(),
            "-v".into(),
        ];
        if let Some((k, n)) = shard {
            args.push("--shard".into());
            args.push(format!("{k}/{n}"));
        }
        for r in &o.rate_limit {
            args.push("--rate-limit".into());
            args.push(r.clone());
        }
        args
    };
    run_scenario(
        &bench,
        &format!("(a) no-op plan, {} ms round trip", o.latency_ms),
        &[plan(None)],
        o.runs,
    );
    if o.shards > 0 {
        let shards: Vec<Vec<String>> = (1..=o.shards).map(|k| plan(Some((k, o.shards)))).collect();
        run_scenario(
            &bench,
            &format!(
                "(b) {} shards at once (plan --shard K/{}), {} ms round trip",
                o.shards, o.shards, o.latency_ms
            ),
            &shards,
            o.runs,
        );
    }
}
