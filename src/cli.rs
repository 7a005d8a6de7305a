//! The command line: argument definitions (clap derive) and one function per subcommand.
//! Every function returns the process exit code; `main` only exits with it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::expand::expand;
use crate::graph::ResourceGraph;
use crate::lang::diagnostic::{render, Style};
use crate::lang::model::Baseline;
use crate::lang::{self, LoadError};
use crate::org::OrgStructure;
use crate::run::{self, PlanFormat, RunOptions};

/// Exit codes: Terraform's (0, 1, 2), and 3 for what only a person can fix.
pub mod exit {
    /// Success, and no changes (with `--detailed-exitcode`).
    pub const OK: i32 = 0;
    /// An error: a usage error, a baseline with problems, a failed AWS call.
    pub const ERROR: i32 = 1;
    /// Success with changes present: apply would change something (with `--detailed-exitcode`).
    pub const CHANGES: i32 = 2;
    /// Success, no changes, but findings that need a person, such as a root user without
    /// MFA (with `--detailed-exitcode`).
    pub const FINDINGS: i32 = 3;
    /// Interrupted (Ctrl-C or SIGTERM), after running changes finished, as shells report it.
    pub const INTERRUPTED: i32 = 130;

    /// What `--help` and the README say about them.
    pub const HELP: &str = "Exit codes: 0 success (no changes); 1 error (usage errors \
        included); with --detailed-exitcode, 2 changes present (apply would change something) \
        and 3 no changes but findings that need a person (apply cannot fix them); 130 \
        interrupted.";
}

#[derive(Debug, Parser)]
#[command(
    name = "baseline",
    version,
    about = "Keep an AWS Organization inside its SOC 2 / ISO 27001 security baseline",
    long_about = "Keep an AWS Organization inside its SOC 2 / ISO 27001 security baseline.\n\n\
        Declare the baseline in KDL files kept in git; `baseline plan` shows how live AWS drifts \
        from it, `baseline apply` remediates the drift in dependency order and records every \
        change in a tamper-evident change log.\n\n\
        AWS credentials and region come from the standard AWS chain (environment, profiles, SSO, \
        instance roles); AWS_ENDPOINT_URL is honoured.",
    after_help = exit::HELP
)]
pub struct Cli {
    /// When to colour output: auto colours a terminal unless NO_COLOR is set (non-empty), or
    /// any stream when CLICOLOR_FORCE is (non-empty, not 0); decided for stdout and stderr apart
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, global = true)]
    pub color: ColorWhen,
    /// Never colour output (the same as --color never)
    #[arg(long, global = true)]
    pub no_color: bool,
    /// What to log on stderr, in RUST_LOG syntax: a level (error, warn, info, debug, trace)
    /// or per-target directives, e.g. `info,aws_smithy_runtime=debug` shows each AWS
    /// attempt and retry, `aws_config=debug` where credentials come from. Debug includes the
    /// SDK's full form of each failed call
    #[arg(
        long,
        global = true,
        env = "BASELINE_LOG",
        value_name = "FILTER",
        default_value = "warn"
    )]
    pub log_level: String,
    /// Quiet: no progress and no notes on stderr, only errors (and the log, if asked)
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check baseline files without calling AWS: syntax, types, references, quotas, cycles
    #[command(
        after_help = "A directory is searched for .kdl files (hidden and .gitignore'd ones \
        skipped); every file that no other file there includes is checked as the root of a \
        baseline.\n\nExample:\n  baseline validate baselines/ examples/"
    )]
    Validate {
        /// Files or directories (default: the current directory)
        paths: Vec<PathBuf>,
        /// human: diagnostics drawn on stderr; json: one document on stdout (file, range, code,
        /// message, help of each, for editors and CI); github: workflow commands that GitHub
        /// Actions shows as annotations on the pull request
        #[arg(long, value_enum, default_value_t = ValidateFormat::Human)]
        format: ValidateFormat,
    },
    /// Rewrite .kdl files in canonical format
    Fmt {
        /// Report files that are not formatted and exit 1, without changing them
        #[arg(long)]
        check: bool,
        /// Files or directories (default: the current directory)
        paths: Vec<PathBuf>,
    },
    /// Write the baseline of an existing organization (OUs, accounts, SCPs, the trail, Config,
    /// Security Hub, backup, key rotation, password policies), so that `plan` against it
    /// changes nothing
    #[command(
        after_help = "Reads the organization (only read calls: nothing is written into AWS) \
        through the access role in every active account and each region of --regions, and \
        writes DIR/baseline.kdl, formatted as `baseline fmt` does, with each SCP's document in \
        DIR/policies/NAME.json. What many accounts hold alike becomes one declaration with \
        `targets` (all accounts, whole OUs, or accounts by name); where accounts differ, each \
        variant gets its own. A comment on each declaration names where it was found. \
        Resources another tool owns (AWS Control Tower, Landing Zone Accelerator, \
        CloudFormation StackSets, Terraform) and AWS's own FullAWSAccess are not declared: a \
        comment lists them, as does the summary on stderr. Imported twice, an unchanged \
        organization gives the same files.\n\n\
        `baseline plan DIR` then adopts the untagged resources (apply tags them \
        managed-by=baseline; only then does baseline treat them as its own) and changes nothing \
        else, except what a `note:` comment says the language cannot leave as it is (a trail \
        without global service events, say). A log bucket's or KMS key's policy without \
        baseline's statements is kept as it is (`keep-policy`). See docs/import.md.\n\n\
        Example:\n  baseline import --out org --regions us-east-1,eu-west-1\n  \
        baseline plan org          # adoptions, and what the notes say\n  \
        baseline apply org         # tags what it adopts"
    )]
    Import {
        /// The folder to write into, the same as --out (default: .)
        #[arg(value_name = "DIR", conflicts_with = "out")]
        dir: Option<PathBuf>,
        /// The folder to write into (created when missing); refused when it already holds
        /// .kdl files, unless --force
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Write into a folder that holds KDL: overwrite baseline.kdl and the policy files
        /// import writes (other files stay)
        #[arg(long)]
        force: bool,
        /// Regions to read, comma-separated (default: the region of the AWS environment or
        /// profile, else us-east-1); written as settings' default-regions
        #[arg(long, value_delimiter = ',', value_name = "REGIONS")]
        regions: Vec<String>,
        /// The role to assume in member accounts (default: OrganizationAccountAccessRole);
        /// written as settings' access-role
        #[arg(long, value_name = "NAME")]
        access_role: Option<String>,
        /// Concurrent AWS reads (default: 16)
        #[arg(long, value_name = "N")]
        parallelism: Option<usize>,
    },
    /// Show the dependency graph, as a topologically ordered listing or Graphviz DOT
    #[command(
        after_help = "Example:\n  baseline graph examples/sample-org --format dot | dot -Tsvg > graph.svg"
    )]
    Graph {
        #[command(flatten)]
        root: RootArg,
        #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
        format: GraphFormat,
        /// Organization structure as JSON (accounts and OUs): also list each resource's instances
        #[arg(long, value_name = "FILE")]
        org: Option<PathBuf>,
    },
    /// Show how live AWS differs from the baseline: what apply would change
    #[command(
        after_help = "Reads every targeted account and region (assuming the access role \
        in member accounts) and compares it with the baseline, attribute by attribute.\n\n\
        Symbols: + create, <= adopt (existing, untagged), ~ update in place, -/+ replace, \
        - delete, ! finding (not remediable through the API).\n\n\
        Examples:\n  baseline plan examples/sample-org\n  \
        baseline plan --detailed-exitcode --format json > drift.json   # exit 2 on drift"
    )]
    Plan {
        #[command(flatten)]
        root: RootArg,
        #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
        format: PlanFormat,
        /// Exit 0 when AWS matches the baseline, 2 when apply would change something, 3 when
        /// nothing would change but findings need a person (root MFA, say), 1 on error
        #[arg(long)]
        detailed_exitcode: bool,
        /// Also save the plan to FILE, for `baseline show FILE` and `baseline apply FILE`
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Publish the drift as Security Hub findings (one per drifted instance, updated on
        /// later runs and resolved once repaired) in the management account's home region
        #[arg(long)]
        publish_findings: bool,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Remediate drift in dependency order
    #[command(
        after_help = "Shows the plan, asks for confirmation on a terminal, then applies \
        it: independent instances concurrently, each only after what it depends on succeeded. \
        When a change fails, what depends on it is skipped and the rest goes on.\n\n\
        Example:\n  baseline apply examples/sample-org --auto-approve"
    )]
    Apply {
        #[command(flatten)]
        root: RootArg,
        /// Apply without asking (required when stdin is not a terminal)
        #[arg(long)]
        auto_approve: bool,
        /// The change log to append to (default: settings' change-log, else
        /// baseline-changes.jsonl next to the root file)
        #[arg(long, value_name = "FILE")]
        change_log: Option<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Render a saved plan file (from `plan --out FILE`), or the saved plans of the shards of
    /// one run (`plan --shard K/N --out FILE`) merged into one plan
    #[command(
        after_help = "Several plans merge only when they come from the same baseline files and \
        are distinct shards of one N (or all unsharded and disjoint); a missing shard is named \
        in a warning. The merged plan lists its items in the order the unsharded plan has.\n\n\
        Examples:\n  baseline show plan.json\n  \
        baseline show plan-1.json plan-2.json plan-3.json plan-4.json --format markdown"
    )]
    Show {
        /// The saved plan(s)
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
        format: PlanFormat,
    },
    /// Verify, show or export the change log (the evidence of every change apply made)
    #[command(subcommand)]
    Log(LogCommand),
    /// Controls report: each SOC 2 criterion or ISO 27001 control, the declared resources
    /// that serve it, and whether it holds in AWS right now
    #[command(
        after_help = "Reads AWS as plan does (or a saved plan with --plan), then prints \
        every control of the framework with its status: holds, drifted, finding, or not \
        covered by this baseline. The last line on stderr is a coverage summary for CI.\n\n\
        Examples:\n  baseline report examples/sample-org --framework soc2 --format html > soc2.html\n  \
        baseline report --plan plan.json --framework iso27001"
    )]
    Report {
        #[command(flatten)]
        root: RootArg,
        #[arg(long, value_enum)]
        framework: ReportFramework,
        #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
        format: ReportFormat,
        /// Report from a saved plan (`plan --out FILE`) instead of reading AWS; repeat it
        /// for the saved plans of the shards of one run, merged as `show` merges them
        #[arg(long, value_name = "FILE")]
        plan: Vec<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Write the evidence pack for an audit period: controls reports, the change log of the
    /// period with its verification, the plan, the waivers, the live configuration, and a
    /// manifest of SHA-256 hashes
    #[command(
        after_help = "Reads AWS as plan does, then writes into --out (a new or empty folder): \
        controls-soc2.html/.json, controls-iso27001.html/.json, plan.json, waivers.json, \
        live-configuration.json (each instance's live attributes and the controls it serves), \
        change-log.md/.csv (the entries of the period), change-log-verify.json (verified or not, \
        the chain head), change-log-anchors.json (when settings anchor the log: each anchor's \
        check) and manifest.json (the SHA-256 of every other file). Exits 1 when the \
        change log (or its anchors) does not verify, after writing the pack, which says so.\n\n\
        Example:\n  baseline evidence examples/sample-org --since 2026-01-01 --until 2026-04-01 --out evidence-q1"
    )]
    Evidence {
        #[command(flatten)]
        root: RootArg,
        /// Start of the period (RFC 3339, or a date: midnight UTC), inclusive
        #[arg(long)]
        since: String,
        /// End of the period (RFC 3339, or a date), exclusive
        #[arg(long)]
        until: String,
        /// The folder to write the pack into (created; must be empty)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The change log (default: the baseline's, as apply finds it)
        #[arg(long, value_name = "FILE")]
        change_log: Option<PathBuf>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Print a shell completion script
    #[command(
        after_help = "Examples:\n  baseline completions bash > ~/.local/share/bash-completion/completions/baseline\n  \
        baseline completions zsh > \"${fpath[1]}/_baseline\"\n  \
        baseline completions fish > ~/.config/fish/completions/baseline.fish\n  \
        baseline completions powershell >> $PROFILE"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page, or write one per command into a folder
    #[command(after_help = "Examples:\n  baseline man | man -l -\n  \
        baseline man --out-dir /usr/local/share/man/man1   # baseline.1, baseline-plan.1, ...")]
    Man {
        /// Write baseline.1 and a page per subcommand (baseline-plan.1, baseline-log-verify.1,
        /// ...) into DIR instead
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Check the hash chain: exit 0 when intact (incomplete changes are listed), 1 naming
    /// the first changed, removed, inserted or reordered line otherwise
    #[command(
        after_help = "Examples:\n  baseline log verify examples/sample-org --head 3f5a...   \
        # the head apply printed, kept in CI logs\n  \
        baseline log verify --log evidence/baseline-changes.jsonl\n  \
        baseline log verify examples/sample-org --anchors   # against the signed anchors in S3"
    )]
    Verify {
        #[command(flatten)]
        log: LogArg,
        /// The chain head recorded elsewhere (apply prints it): the log must end there
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
        /// Also check the log against every anchor apply wrote (settings'
        /// change-log-anchor): each signature with KMS, each Object Lock retention, and that
        /// each anchored head is a record of the log. Reads AWS; needs the baseline
        #[arg(long)]
        anchors: bool,
    },
    /// List changes (intent and outcome), optionally filtered
    Show {
        #[command(flatten)]
        log: LogArg,
        #[command(flatten)]
        filter: LogFilterArgs,
    },
    /// Export changes for an audit period as Markdown, CSV or JSON
    #[command(
        after_help = "Example:\n  baseline log export --since 2026-01-01 --until 2026-04-01 \
        --format markdown > q1-changes.md"
    )]
    Export {
        #[command(flatten)]
        log: LogArg,
        #[command(flatten)]
        filter: LogFilterArgs,
        #[arg(long, value_enum, default_value_t = ExportFormat::Markdown)]
        format: ExportFormat,
    },
    /// Remove a run lock file no process holds (apply takes such a file over anyway: the
    /// lock itself is the kernel's and dies with its process)
    Unlock {
        #[command(flatten)]
        log: LogArg,
        /// Remove it even while a running apply holds it (a second apply can then start)
        #[arg(long)]
        force: bool,
    },
}

/// Which change log: the baseline's, found as apply finds it, or a file named with `--log`.
#[derive(Debug, Args)]
pub struct LogArg {
    /// The baseline whose change log to read: a root .kdl file, or a directory holding
    /// `baseline.kdl` (default: .). Its log is settings' change-log, else
    /// baseline-changes.jsonl next to the root file, as for apply
    #[arg(value_name = "PATH")]
    pub baseline: Option<PathBuf>,
    /// The change log file itself, instead of the baseline's. Repeat it for the logs of
    /// the shards of one run (`apply --shard K/N`): `verify` checks each chain, `show` and
    /// `export` merge the changes by time
    #[arg(long = "log", value_name = "FILE")]
    pub path: Vec<PathBuf>,
}

impl LogCommand {
    fn checks_anchors(&self) -> bool {
        matches!(self, LogCommand::Verify { anchors: true, .. })
    }

    fn log_arg(&self) -> &LogArg {
        match self {
            LogCommand::Verify { log, .. }
            | LogCommand::Show { log, .. }
            | LogCommand::Export { log, .. }
            | LogCommand::Unlock { log, .. } => log,
        }
    }
}

#[derive(Debug, Args)]
pub struct LogFilterArgs {
    /// From this time (RFC 3339, or a date: midnight UTC), inclusive
    #[arg(long)]
    pub since: Option<String>,
    /// Until this time (RFC 3339, or a date), exclusive
    #[arg(long)]
    pub until: Option<String>,
    /// Only this account (id or name)
    #[arg(long)]
    pub account: Option<String>,
    /// Only this address (`*` matches anything), e.g. 'kms-key.*'
    #[arg(long)]
    pub address: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFramework {
    /// SOC 2 Trust Services Criteria (2017, revised 2022)
    Soc2,
    /// ISO/IEC 27001:2022 Annex A
    Iso27001,
}

impl From<ReportFramework> for crate::controls::Framework {
    fn from(f: ReportFramework) -> Self {
        match f {
            ReportFramework::Soc2 => crate::controls::Framework::Soc2,
            ReportFramework::Iso27001 => crate::controls::Framework::Iso27001,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Json,
    /// A self-contained page (no external assets) for an auditor
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Markdown,
    Csv,
    Json,
}

/// Options of the commands that call AWS.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Concurrent AWS operations (default: settings' max-concurrency, else 16)
    #[arg(long, value_name = "N")]
    parallelism: Option<usize>,
    /// Print API call counts and timings on stderr
    #[arg(long, short)]
    verbose: bool,
    /// Only instances whose address matches (repeatable; `*` matches anything), e.g.
    /// --target 'password-policy.*' --target 'kms-key.org-logs[*]'
    #[arg(long = "target", value_name = "ADDRESS")]
    targets: Vec<String>,
    /// Only these accounts (names or ids, comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "ACCOUNTS")]
    accounts: Vec<String>,
    /// Only these regions (comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "REGIONS")]
    regions: Vec<String>,
    /// Only the K-th of N stable shares of the accounts, for a run split across N machines
    /// (each saves its plan and writes its own change log); organization-wide resources are
    /// shard 1's, e.g. --shard 2/4
    #[arg(long, value_name = "K/N", value_parser = crate::plan::Shard::parse)]
    shard: Option<crate::plan::Shard>,
    /// Client-side rate limit of a service (its SigV4 name), in requests per second and an
    /// optional burst, per account and region (for AWS Organizations, per organization):
    /// calls beyond it wait instead of being throttled by AWS. Repeatable; `=0` turns one
    /// off. Defaults: organizations=4/4 (with --shard K/N, each shard's share: 4/N), iam=8/16,
    /// securityhub=8/16, sts=40/80, any other 20/40
    #[arg(long = "rate-limit", value_name = "SERVICE=RATE[/BURST]", value_parser = rate_limit)]
    rate_limits: Vec<String>,
}

/// `--rate-limit`, checked as it is parsed.
fn rate_limit(text: &str) -> Result<String, String> {
    crate::ratelimit::parse(text).map(|_| text.to_string())
}

#[derive(Debug, Args)]
pub struct RootArg {
    /// The baseline: a root .kdl file, or a directory holding `baseline.kdl` (default: .)
    #[arg(default_value = ".")]
    pub path: PathBuf,
}

/// Log events (baseline's and the AWS SDK's) to stderr, filtered as RUST_LOG filters.
fn init_logging(filter: &str, color: bool) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::builder()
        .parse(filter)
        .map_err(|e| e.to_string())?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .try_init()
        .map_err(|e| e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    Human,
    Json,
    Github,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether to colour a stream that is (or is not) a terminal. The flag decides when it
    /// says always or never; auto follows the conventions of no-color.org (NO_COLOR, when
    /// non-empty, turns colour off) and bixense.com/clicolors (CLICOLOR_FORCE, when non-empty
    /// and not 0, turns it on off a terminal), else the terminal decides.
    pub fn colours(self, is_terminal: bool) -> bool {
        let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto if set("NO_COLOR").is_some() => false,
            ColorWhen::Auto if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
            ColorWhen::Auto => is_terminal,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
}

/// Run the parsed command line; returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let when = if cli.no_color {
        ColorWhen::Never
    } else {
        cli.color
    };
    let stderr_color = when.colours(std::io::stderr().is_terminal());
    if let Err(e) = init_logging(&cli.log_level, stderr_color) {
        eprintln!(
            "error: invalid --log-level / BASELINE_LOG {:?}: {e}",
            cli.log_level
        );
        return exit::ERROR;
    }
    crate::notice::set_quiet(cli.quiet);
    let style = if stderr_color {
        Style::Color
    } else {
        Style::Plain
    };
    let cx = Context {
        style,
        stdout_color: when.colours(std::io::stdout().is_terminal()),
    };
    match cli.command {
        Command::Validate { paths, format } => match format {
            ValidateFormat::Human => cx.validate(&default_paths(paths)),
            _ => validate_for_machines(&default_paths(paths), format),
        },
        Command::Fmt { check, paths } => cx.fmt(&default_paths(paths), check),
        Command::Graph { root, format, org } => cx.graph(&root.path, format, org.as_deref()),
        Command::Plan {
            root,
            format,
            detailed_exitcode,
            out,
            publish_findings,
            run,
        } => match cx.load_root(&root.path) {
            Some(b) => run::plan_command(
                b,
                &cx.run_options(&run),
                format,
                detailed_exitcode,
                out.as_deref(),
                publish_findings,
            ),
            None => exit::ERROR,
        },
        Command::Apply {
            root,
            auto_approve,
            change_log,
            run,
        } => match root
            .path
            .is_file()
            .then(|| crate::saved::SavedPlan::read(&root.path))
        {
            Some(Err(e)) => {
                eprintln!("error: {e}");
                exit::ERROR
            }
            Some(Ok(Some(saved))) => run::apply_saved_command(
                &root.path,
                saved,
                &cx.run_options(&run),
                change_log.as_deref(),
            ),
            _ => match cx.load_root(&root.path) {
                Some(b) => run::apply_command(
                    b,
                    &cx.run_options(&run),
                    auto_approve,
                    change_log.as_deref(),
                ),
                None => exit::ERROR,
            },
        },
        Command::Show { files, format } => {
            match crate::saved::read_merged(&files, crate::saved::read_for_show) {
                Ok(merged) => run::show_command(
                    &merged.plan,
                    format,
                    crate::render::Style {
                        color: cx.stdout_color,
                    },
                ),
                Err(e) => {
                    eprintln!("error: {e}");
                    exit::ERROR
                }
            }
        }
        Command::Log(command) if command.checks_anchors() => {
            // The anchors' place and key are the baseline's settings.
            let arg = command.log_arg();
            let Some(baseline) = cx.load_root(arg.baseline.as_deref().unwrap_or(Path::new(".")))
            else {
                return exit::ERROR;
            };
            let paths = match arg.path.as_slice() {
                [] => vec![run::change_log_path(&baseline, None)],
                [_] => arg.path.clone(),
                _ => {
                    eprintln!("error: --anchors checks one change log: name one --log");
                    return exit::ERROR;
                }
            };
            crate::logcmd::run(command, &paths, Some(&baseline))
        }
        Command::Log(command) => match cx.change_logs(command.log_arg()) {
            Some(paths) => crate::logcmd::run(command, &paths, None),
            None => exit::ERROR,
        },
        Command::Report {
            root,
            framework,
            format,
            plan,
            run,
        } => run::report_command(
            &root.path,
            &plan,
            framework.into(),
            format,
            &cx.run_options(&run),
            |p| cx.load_root(p),
        ),
        Command::Evidence {
            root,
            since,
            until,
            out,
            change_log,
            run,
        } => run::evidence_command(
            &root.path,
            &since,
            &until,
            &out,
            change_log.as_deref(),
            &cx.run_options(&run),
            |p| cx.load_root(p),
        ),
        Command::Import {
            dir,
            out,
            force,
            regions,
            access_role,
            parallelism,
        } => crate::import::command(&crate::import::Options {
            out: out.or(dir).unwrap_or_else(|| PathBuf::from(".")),
            force,
            regions,
            access_role,
            parallelism: parallelism.unwrap_or(16).max(1),
        }),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "baseline", &mut std::io::stdout());
            exit::OK
        }
        Command::Man { out_dir } => {
            let command = <Cli as clap::CommandFactory>::command();
            let written = match &out_dir {
                Some(dir) => clap_mangen::generate_to(command, dir),
                None => clap_mangen::Man::new(command).render(&mut std::io::stdout()),
            };
            match written {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("error: cannot write the man page: {e}");
                    exit::ERROR
                }
            }
        }
    }
}

/// What `validate` warns of a baseline without declarations.
const DECLARES_NOTHING: &str = "declares nothing: plan and apply would do nothing";

/// Warnings about a valid baseline: it declares nothing, or a waiver covers no declaration
/// (a typo in its address would otherwise go unnoticed until the drift it meant to waive
/// fails a pipeline).
fn warnings_of(b: &lang::model::Baseline) -> Vec<String> {
    let mut warnings = Vec::new();
    if b.declarations.is_empty() {
        warnings.push(DECLARES_NOTHING.to_string());
    }
    let declared: Vec<String> = (0..b.declarations.len())
        .flat_map(|d| crate::graph::parts(b, d))
        .map(|p| format!("{}.{}", p.kind, p.name))
        .collect();
    for w in &b.waivers {
        if !declared.iter().any(|d| w.may_cover_declaration(d)) {
            warnings.push(format!(
                "waiver \"{}\" covers no declaration: no address of this baseline matches \"{}\"",
                w.name.value, w.address.value
            ));
        }
    }
    warnings
}

/// The root files `validate` checks among `paths`; `Err` says why there are none.
fn roots_to_validate(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let roots = lang::root_files(paths).map_err(|e| e.to_string())?;
    if roots.is_empty() {
        let named: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("no .kdl file found in {}", named.join(", ")));
    }
    Ok(roots)
}

/// `validate --format json|github`: every root's verdict and every problem, on stdout.
fn validate_for_machines(paths: &[PathBuf], format: ValidateFormat) -> i32 {
    let mut report = MachineReport::default();
    match roots_to_validate(paths) {
        Err(e) => report.other("", "error", e),
        Ok(found) => {
            for root in found {
                let file = lang::source::display_path(&root.canonicalize().unwrap_or(root.clone()));
                let verdict = match lang::load(&root) {
                    Ok(b) => {
                        for warning in warnings_of(&b) {
                            report.other(&file, "warning", warning);
                        }
                        serde_json::json!({
                            "file": file, "valid": true,
                            "declarations": b.declarations.len(), "files": b.sources.iter().count(),
                        })
                    }
                    Err(LoadError::Unreadable(e)) => {
                        report.other(&file, "error", e.to_string());
                        serde_json::json!({"file": file, "valid": false})
                    }
                    Err(LoadError::Invalid(invalid)) => {
                        report.invalid(&invalid);
                        serde_json::json!({"file": file, "valid": false})
                    }
                };
                report.roots.push(verdict);
            }
        }
    }
    if format == ValidateFormat::Github {
        print!("{}", report.github);
    } else {
        let document = serde_json::json!({
            "format_version": "1",
            "valid": report.errors == 0,
            "error_count": report.errors,
            "warning_count": report.warnings,
            "roots": report.roots,
            "diagnostics": report.diagnostics,
        });
        println!("{}", serde_json::to_string_pretty(&document).expect("JSON"));
    }
    if report.errors == 0 {
        exit::OK
    } else {
        exit::ERROR
    }
}

/// What `validate --format json|github` prints, gathered over every root.
#[derive(Default)]
struct MachineReport {
    roots: Vec<serde_json::Value>,
    diagnostics: Vec<serde_json::Value>,
    github: String,
    errors: usize,
    warnings: usize,
}

impl MachineReport {
    /// A problem of a whole file (or of the arguments: `file` empty), not at a place in it.
    fn other(&mut self, file: &str, severity: &str, message: String) {
        use crate::lang::diagnostic::github_command;
        self.diagnostics.push(serde_json::json!({
            "severity": severity, "code": null, "message": message, "file": file, "range": null,
        }));
        let properties: &[(&str, &str)] = if file.is_empty() {
            &[]
        } else {
            &[("file", file)]
        };
        self.github
            .push_str(&github_command(severity, properties, &message));
        match severity {
            "warning" => self.warnings += 1,
            _ => self.errors += 1,
        }
    }

    fn invalid(&mut self, invalid: &lang::Invalid) {
        use crate::lang::diagnostic::{to_github, to_json};
        self.errors += invalid.problems.len();
        self.diagnostics
            .extend(to_json(&invalid.problems, &invalid.sources));
        self.github
            .push_str(&to_github(&invalid.problems, &invalid.sources));
    }
}

/// Replace `path`'s content with `text` so that a crash leaves the old file or the new one,
/// never an empty or half-written one: a temporary file in the same folder, synced, renamed
/// over it. The file keeps its permissions; a symlink is followed and its target replaced.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let target = path.canonicalize()?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(&target)?.permissions();
    let mut tmp = tempfile::Builder::new()
        .prefix(".baseline-fmt-")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.as_file().set_permissions(permissions)?;
    tmp.persist(&target).map_err(|e| e.error)?;
    Ok(())
}

fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    }
}

/// Resolve a baseline argument to its root file: a file, or `DIR/baseline.kdl`.
pub fn root_file(path: &Path) -> Result<PathBuf, String> {
    let kind = match std::fs::metadata(path) {
        Ok(m) => m.file_type(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("{} does not exist", path.display()))
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    if kind.is_dir() {
        let root = path.join("baseline.kdl");
        if root.is_file() {
            Ok(root)
        } else {
            Err(format!(
                "{} holds no baseline.kdl; name the root .kdl file instead",
                path.display()
            ))
        }
    } else if kind.is_file() {
        Ok(path.to_path_buf())
    } else {
        Err(format!(
            "{} is {}, not a baseline file",
            path.display(),
            lang::input::file_kind(&kind)
        ))
    }
}

struct Context {
    /// Diagnostics' style (stderr).
    style: Style,
    /// Whether plans and reports on stdout are coloured.
    stdout_color: bool,
}

impl Context {
    /// Load the baseline a path names, reporting problems; `None` when it has any.
    fn load_root(&self, path: &Path) -> Option<Baseline> {
        match root_file(path) {
            Ok(root) => self.load(&root),
            Err(e) => {
                eprintln!("error: {e}");
                None
            }
        }
    }

    /// The change log a `log` subcommand reads: `--log`, else the baseline's, found as apply
    /// finds it. Without a baseline path, a folder without `baseline.kdl` means its
    /// `baseline-changes.jsonl`. `None` once the reason is reported.
    fn change_logs(&self, arg: &LogArg) -> Option<Vec<PathBuf>> {
        if !arg.path.is_empty() {
            return Some(arg.path.clone());
        }
        let baseline = match &arg.baseline {
            Some(path) => path.as_path(),
            None if !Path::new("baseline.kdl").exists() => {
                return Some(vec![PathBuf::from(crate::changelog::DEFAULT_FILE_NAME)])
            }
            None => Path::new("."),
        };
        let Some(loaded) = self.load_root(baseline) else {
            eprintln!(
                "error: the change log is found through the baseline, which does not load; \
                 name the log with --log FILE"
            );
            return None;
        };
        Some(vec![run::change_log_path(&loaded, None)])
    }

    fn run_options(&self, args: &RunArgs) -> RunOptions {
        RunOptions {
            scope: crate::plan::Scope {
                targets: args.targets.clone(),
                accounts: args.accounts.clone(),
                regions: args.regions.clone(),
                shard: args.shard,
            },
            parallelism: args.parallelism,
            rates: crate::ratelimit::Rates::with(&args.rate_limits)
                .expect("--rate-limit values are checked as they are parsed")
                .for_shard_of(args.shard.map_or(1, |s| s.count)),
            verbose: args.verbose,
            style: crate::render::Style {
                color: self.stdout_color,
            },
            diag_style: self.style,
        }
    }
}

impl Context {
    /// Load a baseline, printing its problems; `None` when it has any.
    fn load(&self, root: &Path) -> Option<lang::model::Baseline> {
        match lang::load(root) {
            Ok(b) => Some(b),
            Err(LoadError::Unreadable(e)) => {
                eprintln!("error: {e}");
                None
            }
            Err(LoadError::Invalid(invalid)) => {
                eprint!(
                    "{}",
                    render(&invalid.problems, &invalid.sources, self.style)
                );
                None
            }
        }
    }

    fn validate(&self, paths: &[PathBuf]) -> i32 {
        let roots = match roots_to_validate(paths) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        };
        let mut code = exit::OK;
        for root in roots {
            match self.load(&root) {
                Some(b) => {
                    let files = b.sources.iter().count();
                    for warning in warnings_of(&b) {
                        eprintln!("warning: {} {warning}", root.display());
                    }
                    println!(
                        "ok  {}: {} declarations, {} files",
                        lang::source::display_path(&root.canonicalize().unwrap_or(root.clone())),
                        b.declarations.len(),
                        files
                    );
                }
                None => code = exit::ERROR,
            }
        }
        code
    }

    fn fmt(&self, paths: &[PathBuf], check: bool) -> i32 {
        let mut code = exit::OK;
        for path in paths {
            let files = match lang::kdl_files(path) {
                Ok(f) => f,
                Err(e) => {
                    eprintln!("error: {}: {e}", path.display());
                    code = exit::ERROR;
                    continue;
                }
            };
            for file in files {
                let text = match lang::input::read_text(&file) {
                    Ok(t) => t,
                    Err(e) => {
                        eprintln!("error: {}: {e}", file.display());
                        code = exit::ERROR;
                        continue;
                    }
                };
                match lang::fmt::format_kdl(&text) {
                    Ok(formatted) if formatted == text => {}
                    Ok(_) if check => {
                        println!("would reformat {}", file.display());
                        code = exit::ERROR;
                    }
                    Ok(formatted) => match write_atomically(&file, &formatted) {
                        Ok(()) => println!("formatted {}", file.display()),
                        Err(e) => {
                            eprintln!("error: {}: {e}", file.display());
                            code = exit::ERROR;
                        }
                    },
                    Err(lang::fmt::FmtError::Refused { line, cause }) => {
                        eprintln!("error: {}:{line}: not formatted: {cause}", file.display());
                        code = exit::ERROR;
                    }
                    Err(lang::fmt::FmtError::Invalid) => {
                        // Report malformed KDL the same way validate does.
                        self.load(&file);
                        code = exit::ERROR;
                    }
                }
            }
        }
        code
    }

    fn graph(&self, path: &Path, format: GraphFormat, org: Option<&Path>) -> i32 {
        let root = match root_file(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::ERROR;
            }
        };
        let Some(baseline) = self.load(&root) else {
            return exit::ERROR;
        };
        let graph = ResourceGraph::build(&baseline);
        match format {
            GraphFormat::Dot => print!("{}", graph.to_dot()),
            GraphFormat::Text => {
                let Some(org_path) = org else {
                    print!("{}", graph.to_text());
                    return exit::OK;
                };
                let org: OrgStructure = match std::fs::read_to_string(org_path)
                    .map_err(|e| e.to_string())
                    .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
                {
                    Ok(o) => o,
                    Err(e) => {
                        eprintln!(
                            "error: cannot read organization structure {}: {e}",
                            org_path.display()
                        );
                        return exit::ERROR;
                    }
                };
                let instances = match expand(&baseline, &org) {
                    Ok(i) => i,
                    Err(problems) => {
                        eprint!("{}", render(&problems, &baseline.sources, self.style));
                        return exit::ERROR;
                    }
                };
                for line in graph.to_text().lines() {
                    println!("{line}");
                    let address = line.split_whitespace().nth(1).unwrap_or_default();
                    for inst in instances
                        .iter()
                        .filter(|i| format!("{}.{}", i.address.kind, i.address.name) == address)
                    {
                        if inst.address.account.is_some() {
                            println!("       {}", inst.address);
                        }
                    }
                }
            }
        }
        exit::OK
    }
}
