//! `baseline plan` and `baseline apply`: load, connect, discover, expand, read, and
//! (for apply) change AWS in dependency order.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

use crate::apply::{apply, delete_orphans, Observer, Outcome};
use crate::aws::Aws;
use crate::cli::exit;
use crate::discover;
use crate::expand::Address;
use crate::expand::{expand, Instance};
use crate::graph::ResourceGraph;
use crate::lang::diagnostic::{render, Style as DiagStyle};
use crate::lang::model::Baseline;
use crate::org::OrgStructure;
use crate::plan::{plan, Plan};
use crate::provider::Action;
use crate::provider::Ctx;
use crate::render::{self, Style};

/// Output format of `plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
}

/// Options shared by plan and apply.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub parallelism: Option<usize>,
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
    pub parallelism: usize,
}

impl Session {
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            aws: &self.aws,
            baseline: &self.baseline,
            org: &self.org,
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime")
}

/// Load the baseline, connect to AWS, discover the organization and expand targets.
async fn open(baseline: Baseline, opts: &RunOptions) -> Result<Session, String> {
    let aws = Aws::connect(&baseline.settings.access_role)
        .await
        .map_err(|e| format!("cannot reach AWS: {e}"))?;
    let org = discover::organization(&aws)
        .await
        .map_err(|e| format!("cannot read the organization: {e}"))?;
    let instances = expand(&baseline, &org)
        .map_err(|problems| render(&problems, &baseline.sources, opts.diag_style))?;
    let parallelism = opts
        .parallelism
        .unwrap_or(baseline.settings.max_concurrency as usize)
        .max(1);
    Ok(Session {
        baseline,
        aws,
        org,
        instances,
        parallelism,
    })
}

async fn read(session: &Session, opts: &RunOptions) -> Plan {
    let started = Instant::now();
    let accounts: std::collections::BTreeSet<&str> = session
        .instances
        .iter()
        .map(|i| i.account_id.as_str())
        .collect();
    if std::io::stderr().is_terminal() {
        eprintln!(
            "Reading {} instances in {} accounts...",
            session.instances.len(),
            accounts.len()
        );
    }
    let plan = plan(&session.ctx(), &session.instances, session.parallelism).await;
    if opts.verbose {
        eprintln!(
            "read {} instances in {} accounts: {} API calls, {:.2?}",
            session.instances.len(),
            accounts.len(),
            session.aws.calls.get(),
            started.elapsed()
        );
    }
    plan
}

fn report_failures(plan: &Plan) -> bool {
    for f in &plan.failures {
        eprintln!("error: {}: {}", f.address, f.error);
    }
    !plan.failures.is_empty()
}

/// `baseline plan`.
pub fn plan_command(
    baseline: Baseline,
    opts: &RunOptions,
    format: PlanFormat,
    detailed_exitcode: bool,
) -> i32 {
    runtime().block_on(async {
        let session = match open(baseline, opts).await {
            Ok(s) => s,
            Err(e) => {
                eprint!("{}", with_prefix(&e));
                return exit::ERROR;
            }
        };
        let plan = read(&session, opts).await;
        match format {
            PlanFormat::Human => print!("{}", render::human(&plan, opts.style)),
            PlanFormat::Json => println!(
                "{}",
                serde_json::to_string_pretty(&render::json(&plan)).expect("plan serialises")
            ),
        }
        if report_failures(&plan) {
            exit::ERROR
        } else if detailed_exitcode && plan.has_drift() {
            exit::CHANGES
        } else {
            exit::OK
        }
    })
}

/// `baseline apply`.
pub fn apply_command(baseline: Baseline, opts: &RunOptions, auto_approve: bool) -> i32 {
    runtime().block_on(async {
        let session = match open(baseline, opts).await {
            Ok(s) => s,
            Err(e) => {
                eprint!("{}", with_prefix(&e));
                return exit::ERROR;
            }
        };
        let plan = read(&session, opts).await;
        print!("{}", render::human(&plan, opts.style));
        if report_failures(&plan) {
            eprintln!("error: nothing was changed: some instances could not be read");
            return exit::ERROR;
        }
        if !plan.has_changes() {
            return exit::OK;
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
        let started = Instant::now();
        let graph = ResourceGraph::build(&session.baseline);
        let printer = Printer {
            style: opts.style,
            lock: Mutex::new(()),
        };
        let outcomes = apply(
            &session.ctx(),
            &graph,
            &session.instances,
            &plan,
            session.parallelism,
            &printer,
        )
        .await;
        let deleted = delete_orphans(&session.ctx(), &plan, &printer).await;
        let all: Vec<&Outcome> = outcomes.iter().map(|(_, o)| o).chain(&deleted).collect();
        let count = |f: fn(&Outcome) -> bool| all.iter().filter(|o| f(o)).count();
        let succeeded = count(|o| matches!(o, Outcome::Succeeded(_)));
        let failed = count(|o| matches!(o, Outcome::Failed(_)));
        let skipped = count(|o| matches!(o, Outcome::Skipped { .. }));
        println!(
            "\n{} {succeeded} succeeded, {failed} failed, {skipped} skipped ({:.1?}).",
            opts.style.bold("Apply complete:"),
            started.elapsed()
        );
        if opts.verbose {
            eprintln!("{} API calls in total", session.aws.calls.get());
        }
        if failed > 0 || skipped > 0 {
            exit::ERROR
        } else {
            exit::OK
        }
    })
}

fn with_prefix(message: &str) -> String {
    if message.contains('\n') {
        message.to_string()
    } else {
        format!("error: {message}\n")
    }
}

fn confirm() -> bool {
    print!("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).is_ok() && answer.trim() == "yes"
}

/// Prints each change as it starts and ends.
struct Printer {
    style: Style,
    lock: Mutex<()>,
}

impl Observer for Printer {
    fn started(&self, address: &Address, action: Action) {
        let _guard = self.lock.lock();
        println!("{address}: {}...", action.verb());
    }

    fn finished(&self, address: &Address, outcome: &Outcome) {
        let _guard = self.lock.lock();
        match outcome {
            Outcome::Succeeded(d) => {
                println!("{address}: {} ({d:.1?})", self.style.green("done"))
            }
            Outcome::Failed(e) => println!("{address}: {} {e}", self.style.red("failed:")),
            Outcome::Skipped { because } => println!(
                "{address}: {} because {because} failed",
                self.style.yellow("skipped")
            ),
        }
    }
}
