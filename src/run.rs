//! `baseline plan` and `baseline apply`: load, connect, discover, expand, read, and
//! (for apply) change AWS in dependency order.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::apply::{apply, delete_orphans, ChangeView, Observer, Outcome};
use crate::aws::Aws;
use crate::changelog::lock::RunLock;
use crate::changelog::{
    self, anchor, Body, ChangeInfo, ChangeLog, Result_ as ChangeResult, RunContext,
};
use crate::cli::exit;
use crate::discover;
use crate::expand::{expand, Instance};
use crate::graph::ResourceGraph;
use crate::lang::diagnostic::{render, Style as DiagStyle};
use crate::lang::model::Baseline;
use crate::notice::notice;
use crate::org::OrgStructure;
use crate::plan::{plan, Plan, Scope};
use crate::provider::{Ctx, Error, Outputs};
use crate::reach::Reach;
use crate::render::{self, Style};
use crate::saved::{fingerprint, SavedPlan};

/// Output format of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
    /// Compact, for a pull-request comment
    Markdown,
}

/// Options shared by plan and apply.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub scope: Scope,
    pub parallelism: Option<usize>,
    /// The client-side rate limits (`--rate-limit`).
    pub rates: crate::ratelimit::Rates,
    pub verbose: bool,
    pub style: Style,
    pub diag_style: DiagStyle,
}

/// Everything a plan was computed from.
pub struct Session {
    pub baseline: Baseline,
    pub aws: Aws,
    pub org: OrgStructure,
    pub instances: Vec<Instance>,
    /// Accounts and regions the run skips or cannot reach.
    pub reach: Reach,
    pub parallelism: usize,
    /// What providers learned of declared resources (key ARNs), for their dependents.
    pub outputs: Outputs,
}

impl Session {
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            aws: &self.aws,
            baseline: &self.baseline,
            org: &self.org,
            outputs: &self.outputs,
        }
    }
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime")
}

/// Connect to AWS, discover the organization and expand targets; `None` once the reason
/// is reported on stderr.
async fn open(baseline: Baseline, opts: &RunOptions) -> Option<Session> {
    match connect(baseline, opts).await {
        Ok(session) => Some(session),
        Err(message) if message.contains('\n') => {
            // Rendered diagnostics (expansion problems) carry their own layout.
            eprint!("{message}");
            None
        }
        Err(message) => {
            eprintln!("error: {message}");
            None
        }
    }
}

async fn connect(baseline: Baseline, opts: &RunOptions) -> Result<Session, String> {
    let started = Instant::now();
    let aws = Aws::connect_with(&baseline.settings.access_role, opts.rates.clone())
        .await
        .map_err(|e| format!("cannot reach AWS: {e}"))?;
    let parallelism = opts
        .parallelism
        .unwrap_or(baseline.settings.max_concurrency as usize)
        .max(1);
    let org = discover_and_assume(&aws, &baseline, &opts.scope, parallelism)
        .await
        .map_err(|e| format!("cannot read the organization: {e}"))?;
    if opts.verbose {
        eprintln!(
            "discovered {} accounts in {} OUs: {:.2?}",
            org.accounts.len(),
            org.ous.len(),
            started.elapsed()
        );
    }
    let mut instances = expand(&baseline, &org)
        .map_err(|problems| render(&problems, &baseline.sources, opts.diag_style))?;
    if opts.scope.is_narrowed() {
        instances.retain(|i| opts.scope.keeps(&i.address, &i.account_id, &i.region));
        // A shard may hold no account of a small organization: nothing to do there.
        let sharded_only = opts.scope.targets.is_empty()
            && opts.scope.accounts.is_empty()
            && opts.scope.regions.is_empty();
        if instances.is_empty() && !sharded_only {
            return Err(
                "--target / --accounts / --regions select no instance of this baseline".into(),
            );
        }
    }
    let reach = crate::reach::survey(&aws, &org, &instances, parallelism).await;
    reach.retain(&mut instances);
    if opts.verbose {
        eprintln!(
            "reached the accounts ({} unreachable): {:.2?}",
            reach.unreachable.len(),
            started.elapsed()
        );
    }
    for s in &reach.skipped {
        notice(format_args!(
            "notice: skipping {}: {}",
            render::skipped_place(s),
            s.reason
        ));
    }
    for (account, e) in &reach.unchecked {
        eprintln!(
            "warning: cannot tell which opt-in regions account {account} has enabled, so \
             all its regions are read: {e}"
        );
    }
    Ok(Session {
        baseline,
        aws,
        org,
        instances,
        reach,
        parallelism,
        outputs: Outputs::default(),
    })
}

/// Discover the organization and, while its later pages are still being read, assume the
/// access role in each account the run may need as soon as the account is found: discovery
/// waits on Organizations' rate and the role sessions on STS's, so the two overlap instead
/// of adding up. An account whose role cannot be assumed is left for the survey to report.
async fn discover_and_assume(
    aws: &Aws,
    baseline: &Baseline,
    scope: &Scope,
    parallelism: usize,
) -> Result<OrgStructure, crate::aws::AwsError> {
    let filter = crate::expand::AccountFilter::new(baseline);
    let (found, to_assume) = futures::channel::mpsc::unbounded::<String>();
    let discovering = async move {
        discover::organization_with(aws, |account| {
            if account.is_active()
                && account.id != aws.caller.account_id
                && scope.may_keep_account(account)
                && filter.may_target(account)
            {
                // The receiver lives as long as discovery: sending cannot fail.
                let _ = found.unbounded_send(account.id.clone());
            }
        })
        .await
    };
    let assuming = futures::StreamExt::for_each_concurrent(
        to_assume,
        parallelism,
        |account: String| async move {
            // The outcome is cached (a session) or asked again by the survey (an error).
            let _ = aws.reach(&account).await;
        },
    );
    let (org, ()) = futures::join!(discovering, assuming);
    org
}

async fn read(session: &Session, opts: &RunOptions) -> Plan {
    let started = Instant::now();
    let accounts: std::collections::BTreeSet<&str> = session
        .instances
        .iter()
        .map(|i| i.account_id.as_str())
        .collect();
    let read_so_far = AtomicUsize::new(0);
    let cx = session.ctx();
    let reading = plan(
        &cx,
        &session.instances,
        &session.reach,
        session.parallelism,
        &opts.scope,
        &read_so_far,
    );
    let bar = progress_bar(
        session.instances.len(),
        &format!(
            "Reading AWS: {{pos}}/{{len}} instances in {} accounts, about {{eta}} left",
            accounts.len()
        ),
    );
    let plan = {
        tokio::pin!(reading);
        loop {
            tokio::select! {
                plan = &mut reading => break plan,
                _ = tokio::time::sleep(std::time::Duration::from_millis(250)) => {
                    bar.set_position(read_so_far.load(Ordering::Relaxed) as u64);
                }
            }
        }
    };
    bar.finish_and_clear();
    if opts.verbose {
        eprintln!(
            "read {} instances in {} accounts: {} API calls, {:.2?}",
            session.instances.len(),
            accounts.len(),
            session.aws.calls.get(),
            started.elapsed()
        );
        eprintln!("{}", calls_line(&session.aws));
    }
    plan
}

/// `--verbose`: how the calls went (the benchmarks read the first line), and which
/// services' rate limits the calls waited for.
fn calls_line(aws: &Aws) -> String {
    let mut line = format!(
        "calls: {} API calls, {} retries, {} throttling answers, {:.2?} waited for the rate limiter",
        aws.calls.get(),
        aws.calls.retries(),
        aws.calls.throttled(),
        aws.limiter.waited()
    );
    let by_service: Vec<String> = aws
        .limiter
        .waited_by_service()
        .iter()
        .map(|(service, waited)| format!("{service} {waited:.2?}"))
        .collect();
    if !by_service.is_empty() {
        line.push_str(&format!("\nwaited for: {}", by_service.join(", ")));
    }
    let by_operation = aws.calls.by_operation();
    if !by_operation.is_empty() {
        let most: Vec<String> = by_operation
            .iter()
            .take(12)
            .map(|(op, n)| format!("{op} {n}"))
            .collect();
        line.push_str(&format!("\nmost called: {}", most.join(", ")));
    }
    line
}

/// A progress line on stderr: drawn only on a terminal (and not with `--quiet`), redrawn at
/// most a few times a second, and cleared before anything is printed to stdout.
fn progress_bar(total: usize, template: &str) -> ProgressBar {
    if crate::notice::quiet() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// Report on stderr what could not be read; whether anything could not.
fn report_failures(plan: &Plan) -> bool {
    for n in &plan.unreachable {
        eprintln!(
            "error: account {} ({}) cannot be reached, so its {} instance(s) were not read: {}",
            n.account.account,
            n.account.account_id,
            n.instances.len(),
            n.account.error
        );
    }
    for f in &plan.failures {
        eprintln!("error: {}: {}", f.address, f.error);
    }
    plan.has_errors()
}

/// `baseline plan`.
pub fn plan_command(
    baseline: Baseline,
    opts: &RunOptions,
    format: PlanFormat,
    detailed_exitcode: bool,
    out: Option<&Path>,
    publish_findings: bool,
) -> i32 {
    let root = baseline.sources.get(baseline.root).path.clone();
    let digest = changelog::baseline_digest(&baseline.sources);
    runtime().block_on(async {
        let Some(session) = open(baseline, opts).await else {
            return exit::ERROR;
        };
        let plan = read(&session, opts).await;
        render_plan(&plan, format, opts.style);
        if publish_findings && plan.failures.is_empty() {
            match crate::findings::publish(&session.ctx(), &plan).await {
                Ok(p) => eprintln!(
                    "Security Hub: {} new drift finding(s), {} updated, {} resolved.",
                    p.new, p.updated, p.resolved
                ),
                Err(e) => {
                    eprintln!("error: cannot publish the drift to Security Hub: {e}");
                    return exit::ERROR;
                }
            }
        }
        if report_failures(&plan) {
            exit::ERROR
        } else if let Some(err) = out.and_then(|out| {
            SavedPlan::new(&plan, &root, digest.clone(), &opts.scope)
                .write(out)
                .map(|()| {
                    notice(format_args!(
                        "Saved the plan to {0}; apply exactly it with `baseline apply {0}`.",
                        out.display()
                    ))
                })
                .err()
        }) {
            eprintln!("error: cannot save the plan: {err}");
            exit::ERROR
        } else if detailed_exitcode && plan.has_changes() {
            exit::CHANGES
        } else if detailed_exitcode && plan.has_findings() {
            exit::FINDINGS
        } else {
            exit::OK
        }
    })
}

/// Where a baseline's change log lives: `--change-log`, else `settings { change-log }`
/// (relative to the root file), else `baseline-changes.jsonl` next to the root file.
pub fn change_log_path(baseline: &Baseline, flag: Option<&Path>) -> PathBuf {
    if let Some(path) = flag {
        return path.to_path_buf();
    }
    let root = &baseline.sources.get(baseline.root).path;
    let dir = root.parent().unwrap_or(Path::new("."));
    match &baseline.settings.change_log {
        Some(p) => dir.join(&p.value),
        None => dir.join(changelog::DEFAULT_FILE_NAME),
    }
}

/// What the change log records about a run, and the run lock, taken before anything else.
struct Evidence {
    log_path: PathBuf,
    run_id: String,
    baseline_digest: String,
    provenance: changelog::Provenance,
    _lock: RunLock,
}

fn prepare_evidence(baseline: &Baseline, change_log: Option<&Path>) -> Result<Evidence, i32> {
    let log_path = change_log_path(baseline, change_log);
    let run_id = changelog::new_run_id();
    // Refuse at once, before reading AWS, when another apply holds this log.
    let lock = RunLock::acquire(&log_path, &run_id).map_err(|e| {
        eprintln!("error: {e}");
        exit::ERROR
    })?;
    if let Some(h) = &lock.previous {
        notice(format_args!(
            "note: the apply of pid {} on {} (started {}, run {}) ended without releasing the \
             change log lock; `baseline log verify` lists any change it left incomplete",
            h.pid, h.host, h.started, h.run_id
        ));
    }
    // The commit is the baseline's (the repository holding its root file), not the log's.
    let root_dir = baseline
        .sources
        .get(baseline.root)
        .path
        .parent()
        .map(Path::to_path_buf);
    Ok(Evidence {
        log_path,
        run_id,
        baseline_digest: changelog::baseline_digest(&baseline.sources),
        provenance: changelog::provenance(root_dir.as_deref().unwrap_or(Path::new("."))),
        _lock: lock,
    })
}

/// `baseline apply`.
pub fn apply_command(
    baseline: Baseline,
    opts: &RunOptions,
    auto_approve: bool,
    change_log: Option<&Path>,
) -> i32 {
    let evidence = match prepare_evidence(&baseline, change_log) {
        Ok(e) => e,
        Err(code) => return code,
    };
    runtime().block_on(async {
        crate::interrupt::listen();
        let Some(session) = open(baseline, opts).await else {
            return exit::ERROR;
        };
        let plan = read(&session, opts).await;
        print!("{}", render::human(&plan, opts.style));
        // What could not be read is not changed, nor is what depends on it; everything
        // else is, and the run still ends in an error.
        let unread = report_failures(&plan);
        if !plan.has_changes() {
            return if unread { exit::ERROR } else { exit::OK };
        }
        if !auto_approve {
            if !std::io::stdin().is_terminal() {
                eprintln!(
                    "error: apply is not interactive here (stdin is not a terminal); \
                     review the plan and pass --auto-approve"
                );
                return exit::ERROR;
            }
            if !confirm() {
                eprintln!("Apply cancelled; nothing was changed.");
                return exit::ERROR;
            }
        }
        execute(&session, &plan, opts, evidence).await
    })
}

/// `baseline apply FILE`: apply exactly a saved plan's changes, unless it is stale.
pub fn apply_saved_command(
    path: &Path,
    saved: SavedPlan,
    opts: &RunOptions,
    change_log: Option<&Path>,
) -> i32 {
    let baseline = match crate::lang::load(&saved.root) {
        Ok(b) => b,
        Err(_) => {
            eprintln!(
                "error: the saved plan {} is stale: its baseline {} no longer loads; plan again",
                path.display(),
                saved.root.display()
            );
            return exit::ERROR;
        }
    };
    let digest = changelog::baseline_digest(&baseline.sources);
    if digest != saved.baseline_digest {
        eprintln!(
            "error: the saved plan {} is stale: the baseline files changed since it was made \
             (digest {} then, {} now); plan again",
            path.display(),
            &saved.baseline_digest[..12],
            &digest[..12]
        );
        return exit::ERROR;
    }
    let evidence = match prepare_evidence(&baseline, change_log) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut opts = opts.clone();
    opts.scope = saved.scope();
    runtime().block_on(async {
        crate::interrupt::listen();
        let Some(session) = open(baseline, &opts).await else {
            return exit::ERROR;
        };
        let mut plan = match saved.plan() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        };
        let stale = match restale(&session, &saved, &mut plan).await {
            Ok(stale) => stale,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        };
        if !stale.is_empty() {
            eprintln!(
                "error: the saved plan {} is stale: AWS changed since it was made; plan again",
                path.display()
            );
            for s in &stale {
                eprintln!("  {s}");
            }
            return exit::ERROR;
        }
        print!("{}", render::human(&plan, opts.style));
        if !plan.has_changes() {
            return exit::OK;
        }
        execute(&session, &plan, &opts, evidence).await
    })
}

/// Re-read every instance the saved plan changes and compare with its fingerprint; point
/// the saved items at this run's instances. Returns why the plan is stale (empty: fresh).
async fn restale(
    session: &Session,
    saved: &SavedPlan,
    plan: &mut Plan,
) -> Result<Vec<String>, String> {
    let cx = session.ctx();
    let index: HashMap<String, usize> = session
        .instances
        .iter()
        .enumerate()
        .map(|(i, inst)| (inst.address.to_string(), i))
        .collect();
    let mut stale = Vec::new();
    plan.items
        .retain(|item| index.contains_key(&item.address.to_string()));
    for item in plan.items.iter_mut() {
        let address = item.address.to_string();
        item.instance = index[&address];
        if item.action.is_none() {
            continue;
        }
        let inst = &session.instances[item.instance];
        let provider = crate::plan::provider_of(&cx, inst).map_err(|e| e.to_string())?;
        let now = provider
            .read(&cx, inst)
            .await
            .map_err(|e| format!("{address}: {e}"))?;
        if saved.fingerprints.get(&address) != Some(&fingerprint(now.live.as_ref())) {
            stale.push(format!("{address} changed in AWS since the plan"));
        }
    }
    let planned: std::collections::HashSet<String> = plan
        .items
        .iter()
        .filter(|i| i.action.is_some())
        .map(|i| i.address.to_string())
        .collect();
    for address in saved.fingerprints.keys() {
        let is_orphan = plan
            .orphans
            .iter()
            .any(|o| &o.address.to_string() == address);
        if !planned.contains(address) && !is_orphan {
            stale.push(format!(
                "{address} is no longer an instance of the baseline here"
            ));
        }
    }
    for orphan in &plan.orphans {
        let Some(provider) = orphan.kind.provider else {
            continue;
        };
        let declared = session.baseline.names_of(orphan.kind);
        let found = provider
            .undeclared(&cx, &orphan.account_id, &orphan.region, &declared)
            .await
            .map_err(|e| format!("{}: {e}", orphan.address))?;
        let now = found
            .orphans
            .iter()
            .find(|(name, _)| name == &orphan.address.name)
            .map(|(_, live)| fingerprint(Some(live)));
        if now.as_ref() != saved.fingerprints.get(&orphan.address.to_string()) {
            stale.push(format!("{} changed in AWS since the plan", orphan.address));
        }
    }
    Ok(stale)
}

/// Apply `plan`: open the change log, walk the graph, delete orphans, summarise.
async fn execute(session: &Session, plan: &Plan, opts: &RunOptions, evidence: Evidence) -> i32 {
    let anchoring = match prepare_anchor(session).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: nothing was changed: the change log cannot be anchored: {e}");
            return exit::ERROR;
        }
    };
    let log = match ChangeLog::open(&evidence.log_path, &session.org) {
        Ok(log) => log,
        Err(e) => {
            eprintln!("error: nothing was changed: cannot write the change log: {e}");
            return exit::ERROR;
        }
    };
    let plan_json = serde_json::to_string(&render::json(plan)).expect("plan serialises");
    let total = plan.items.iter().filter(|i| i.action.is_some()).count() + plan.orphans.len();
    let recorder = Recorder {
        printer: Printer {
            style: opts.style,
            lock: Mutex::new(()),
            total,
            bar: progress_bar(total, "[{pos}/{len} changes applied, about {eta} left]"),
        },
        log: Mutex::new(log),
        run: RunContext {
            run_id: evidence.run_id.clone(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            caller: session.aws.caller.arn.clone(),
            baseline_digest: evidence.baseline_digest.clone(),
            plan_digest: changelog::sha256_hex(plan_json.as_bytes()),
            provenance: evidence.provenance.clone(),
        },
        aws: &session.aws,
        intents: Mutex::new(HashMap::new()),
    };
    let started = Instant::now();
    let graph = ResourceGraph::build(&session.baseline);
    let applying = crate::interrupt::Applying::start();
    let outcomes = apply(
        &session.ctx(),
        &graph,
        &session.instances,
        plan,
        session.parallelism,
        &recorder,
    )
    .await;
    let deleted = delete_orphans(&session.ctx(), plan, &recorder).await;
    let interrupted = crate::interrupt::stopping();
    drop(applying);
    recorder.printer.bar.finish_and_clear();
    let all: Vec<&Outcome> = outcomes.iter().map(|(_, o)| o).chain(&deleted).collect();
    let count = |f: fn(&Outcome) -> bool| all.iter().filter(|o| f(o)).count();
    let succeeded = count(|o| matches!(o, Outcome::Succeeded(_)));
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let skipped = count(|o| matches!(o, Outcome::Skipped { .. }));
    let not_started = recorder.printer.total - all.len();
    let (headline, rest) = if interrupted {
        ("Apply interrupted:", format!(", {not_started} not started"))
    } else {
        ("Apply complete:", String::new())
    };
    println!(
        "\n{} {succeeded} succeeded, {failed} failed, {skipped} skipped{rest} ({:.1?}).",
        opts.style.bold(headline),
        started.elapsed()
    );
    let (head_seq, head) = {
        let log = recorder.log.lock().expect("change log lock");
        println!(
            "Change log: {} (chain head {})",
            log.path().display(),
            log.head()
        );
        (log.head_seq(), log.head().to_string())
    };
    let mut unanchored = false;
    if let Some((target, key)) = &anchoring {
        let written = anchor::write(
            &session.aws,
            target,
            key,
            &session.org,
            head_seq,
            &head,
            &evidence.run_id,
        )
        .await;
        match written {
            Ok(w) => println!(
                "Anchor: {} (version {}, signed with {}, locked until {})",
                w.uri, w.version_id, key.arn, w.retain_until
            ),
            Err(e) => {
                eprintln!(
                    "error: the changes are recorded but not anchored: {e}; the next apply's \
                     anchor covers them, or keep the chain head above"
                );
                unanchored = true;
            }
        }
    }
    if opts.verbose {
        eprintln!("{} API calls in total", session.aws.calls.get());
        eprintln!("{}", calls_line(&session.aws));
    }
    if plan.has_errors() {
        let accounts: Vec<String> = plan
            .unreachable
            .iter()
            .map(|n| n.account.account.clone())
            .collect();
        let mut why = Vec::new();
        if !accounts.is_empty() {
            why.push(format!("account(s) {} not reached", accounts.join(", ")));
        }
        if !plan.failures.is_empty() {
            why.push(format!("{} instance(s) not read", plan.failures.len()));
        }
        eprintln!(
            "error: the apply is incomplete: {}; see the errors above",
            why.join(", ")
        );
    }
    if interrupted {
        eprintln!(
            "Interrupted: every change started has its outcome in the change log; plan or apply \
             again for the {not_started} not started."
        );
        exit::INTERRUPTED
    } else if failed > 0 || skipped > 0 || plan.has_errors() || unanchored {
        exit::ERROR
    } else {
        exit::OK
    }
}

/// Where the change log's anchors go and the key that signs them, checked before any
/// change (`None`: the baseline anchors nothing).
async fn prepare_anchor(
    session: &Session,
) -> Result<Option<(anchor::Target, anchor::SigningKey)>, String> {
    let Some(settings) = &session.baseline.settings.anchor else {
        return Ok(None);
    };
    let target = anchor::Target::resolve(
        settings,
        Some(&session.org),
        session.aws.management_account(),
        &session.baseline.settings.regions()[0],
    )?;
    let key = anchor::prepare(&session.aws, &target).await?;
    Ok(Some((target, key)))
}

/// `baseline show FILE`.
pub fn show_command(plan: &Plan, format: PlanFormat, style: Style) -> i32 {
    render_plan(plan, format, style);
    exit::OK
}

fn render_plan(plan: &Plan, format: PlanFormat, style: Style) {
    match format {
        PlanFormat::Human => print!("{}", render::human(plan, style)),
        PlanFormat::Markdown => print!("{}", render::markdown(plan)),
        PlanFormat::Json => {
            // Streamed: a large plan's JSON is not held as text too.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let _ = serde_json::to_writer_pretty(&mut out, &render::json(plan))
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
                .and_then(|()| out.flush());
        }
    }
}

fn confirm() -> bool {
    print!("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok() && answer.trim() == "yes"
}

/// Records each change in the change log (intent before, outcome after) and prints it.
struct Recorder<'a> {
    printer: Printer,
    log: Mutex<ChangeLog>,
    run: RunContext,
    aws: &'a Aws,
    /// Address -> seq of its open intent.
    intents: Mutex<HashMap<String, u64>>,
}

impl Observer for Recorder<'_> {
    fn started(&self, change: &ChangeView<'_>) -> Result<(), String> {
        let mut before = serde_json::Map::new();
        let mut after = serde_json::Map::new();
        for d in change.diffs {
            before.insert(d.name.clone(), d.before.clone());
            after.insert(d.name.clone(), d.after.clone());
        }
        let body = Body::Intent {
            run: Box::new(self.run.clone()),
            change: Box::new(ChangeInfo {
                address: change.address.to_string(),
                account_id: change.account_id.to_string(),
                region: change.region.to_string(),
                identity: self.aws.identity_in(change.account_id),
                action: change
                    .action
                    .verb()
                    .split(' ')
                    .next()
                    .unwrap_or("update")
                    .to_string(),
                before: before.into(),
                after: after.into(),
            }),
        };
        let seq = self
            .log
            .lock()
            .expect("change log lock")
            .append(body)
            .map_err(|e| format!("cannot record the intent: {e}"))?;
        self.intents
            .lock()
            .expect("intents lock")
            .insert(change.address.to_string(), seq);
        self.printer.started(change)
    }

    fn finished(&self, change: &ChangeView<'_>, outcome: &Outcome, request_ids: &[String]) {
        let intent = self
            .intents
            .lock()
            .expect("intents lock")
            .remove(&change.address.to_string());
        if let Some(intent) = intent {
            let result = match outcome {
                Outcome::Succeeded(_) => ChangeResult::Success,
                Outcome::Failed(Error::Aws(e)) => ChangeResult::Failure {
                    code: e.code.clone(),
                    message: e.message.clone(),
                },
                Outcome::Failed(e) => ChangeResult::Failure {
                    code: None,
                    message: e.to_string(),
                },
                Outcome::Skipped { because } => ChangeResult::Failure {
                    code: None,
                    message: format!("skipped because {because} failed"),
                },
            };
            let body = Body::Outcome {
                run_id: self.run.run_id.clone(),
                intent,
                address: change.address.to_string(),
                result,
                request_ids: request_ids.to_vec(),
            };
            if let Err(e) = self.log.lock().expect("change log lock").append(body) {
                eprintln!(
                    "error: cannot record the outcome of {}: {e}",
                    change.address
                );
            }
        }
        self.printer.finished(change, outcome, request_ids);
    }
}

/// Prints each change as it starts and ends.
struct Printer {
    style: Style,
    /// Serialises output lines.
    lock: Mutex<()>,
    total: usize,
    /// Changes finished so far, with an estimate of the rest (terminals only).
    bar: ProgressBar,
}

impl Observer for Printer {
    fn started(&self, change: &ChangeView<'_>) -> Result<(), String> {
        let _guard = self.lock.lock();
        self.bar
            .suspend(|| println!("{}: {}...", change.address, change.action.verb()));
        Ok(())
    }

    fn finished(&self, change: &ChangeView<'_>, outcome: &Outcome, _request_ids: &[String]) {
        let _guard = self.lock.lock();
        let address = change.address;
        // stdout stays a plain record: the bar is cleared while a line is printed.
        self.bar.suspend(|| match outcome {
            Outcome::Succeeded(d) => {
                println!("{address}: {} ({d:.1?})", self.style.green("done"))
            }
            Outcome::Failed(e) => println!("{address}: {} {e}", self.style.red("failed:")),
            Outcome::Skipped { because } => println!(
                "{address}: {} because {because} failed",
                self.style.yellow("skipped")
            ),
        });
        self.bar.inc(1);
    }
}

/// `baseline report`.
/// `baseline evidence`: read AWS once, then write the pack (see [`crate::evidence`]).
pub fn evidence_command(
    root: &Path,
    since: &str,
    until: &str,
    out: &Path,
    change_log: Option<&Path>,
    opts: &RunOptions,
    load: impl Fn(&Path) -> Option<Baseline>,
) -> i32 {
    // Bad input changes nothing and reads nothing.
    for bound in [since, until] {
        if let Err(e) = crate::changelog::export::parse_time(bound) {
            eprintln!("error: {e}");
            return exit::ERROR;
        }
    }
    let Some(baseline) = load(root) else {
        return exit::ERROR;
    };
    let log = change_log_path(&baseline, change_log);
    let read_now = runtime().block_on(async {
        let session = open(baseline, opts).await?;
        let plan = read(&session, opts).await;
        let settings = &session.baseline.settings;
        let anchors = match &settings.anchor {
            Some(a) => Some(
                anchor::check_log_with(&session.aws, Some(&session.org), settings, a, &log).await,
            ),
            None => None,
        };
        Some((session.baseline, plan, anchors))
    });
    let Some((baseline, plan, anchors)) = read_now else {
        return exit::ERROR;
    };
    if report_failures(&plan) {
        return exit::ERROR;
    }
    match crate::evidence::write_pack(out, &baseline, &plan, &log, anchors, since, until) {
        Ok(verdict) if verdict.verified => {
            println!("wrote {}: {}", out.display(), verdict.summary);
            exit::OK
        }
        Ok(verdict) => {
            eprintln!(
                "error: wrote {}, but {} (the pack says so)",
                out.display(),
                verdict.summary
            );
            exit::ERROR
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ERROR
        }
    }
}

pub fn report_command(
    root: &Path,
    saved_plans: &[PathBuf],
    framework: crate::controls::Framework,
    format: crate::cli::ReportFormat,
    opts: &RunOptions,
    load: impl Fn(&Path) -> Option<Baseline>,
) -> i32 {
    let (baseline, plan) = if !saved_plans.is_empty() {
        let merged = match crate::saved::read_merged(saved_plans, crate::saved::read_in_full) {
            Ok(merged) => merged,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        };
        let Some(baseline) = load(&merged.root) else {
            return exit::ERROR;
        };
        (baseline, merged.plan)
    } else {
        let Some(baseline) = load(root) else {
            return exit::ERROR;
        };
        let read_now = runtime().block_on(async {
            let session = open(baseline, opts).await?;
            let plan = read(&session, opts).await;
            Some((session.baseline, plan))
        });
        match read_now {
            Some(read_now) => read_now,
            None => return exit::ERROR,
        }
    };
    if report_failures(&plan) {
        return exit::ERROR;
    }
    let source = match saved_plans {
        [] => "live AWS".to_string(),
        [file] => format!("the saved plan {}", file.display()),
        files => format!(
            "the saved plans {}",
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let report = crate::report::build(framework, &baseline, &plan, &source);
    match format {
        crate::cli::ReportFormat::Markdown => print!("{}", crate::report::markdown(&report)),
        crate::cli::ReportFormat::Html => print!("{}", crate::report::html(&report)),
        crate::cli::ReportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serialises")
        ),
    }
    eprintln!("{}", report.coverage_line());
    exit::OK
}
