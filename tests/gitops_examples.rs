//! The GitOps pipelines in `examples/gitops/` (GitHub Actions and GitLab CI) are valid YAML,
//! have the structure their README promises (triggers, OIDC, plan / apply / drift flows,
//! artifacts, serialised applies), their shell is valid bash, and every `baseline` command
//! line in them parses with the real CLI: each subcommand exists and each flag (and each
//! `--format` value) appears in that subcommand's `--help`.
//!
//! YAML is parsed by PyYAML in the emulator venv and handed over as JSON.

mod support;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Map, Value};

const GITHUB: &str = "examples/gitops/github-actions.yml";
const GITLAB: &str = "examples/gitops/gitlab-ci.yml";

/// `(subcommand, flag, value)`: parts of the CLI contract the pipelines may use before the
/// CLI has them. `None`: the flag itself is new (it takes one value); `Some(v)`: `v` is a new
/// value of a flag. Every other flag and value must exist. Empty: the pipelines use only
/// what `baseline` has today.
const PENDING_FLAGS: &[(&str, &str, Option<&str>)] = &[];

// ---------------------------------------------------------------------------------------
// Loading the pipelines

/// A YAML file of the repository as JSON, through PyYAML (`yaml.safe_load`). YAML 1.1 reads
/// GitHub's `on:` key as the boolean true: it is renamed back to "on".
fn yaml(path: &str) -> Value {
    const SCRIPT: &str = r#"
import json, sys, yaml
with open(sys.argv[1], encoding="utf-8") as f:
    doc = yaml.safe_load(f)
if isinstance(doc, dict) and True in doc:
    doc["on"] = doc.pop(True)
json.dump(doc, sys.stdout)
"#;
    let out = Command::new(support::venv().join("bin/python"))
        .args(["-c", SCRIPT])
        .arg(support::repo_root().join(path))
        .output()
        .expect("run the venv's python");
    assert!(
        out.status.success(),
        "{path} is not valid YAML:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("PyYAML's JSON")
}

fn obj<'a>(v: &'a Value, what: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what}: expected a mapping, got {v}"))
}

fn arr<'a>(v: &'a Value, what: &str) -> &'a Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("{what}: expected a list, got {v}"))
}

fn string(v: &Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// A value that is a string or a list of strings, as a list.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|x| string(x).to_string()).collect(),
        _ => Vec::new(),
    }
}

/// GitLab `script:` style value: a string or a (possibly nested) list of lines.
fn script_lines(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().flat_map(script_lines).collect(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Finding `baseline` command lines in shell scripts

#[derive(Debug)]
enum Tok {
    Word(String),
    /// Ends a simple command: newline, `;`, `&`, `|`, parentheses, command substitution.
    Sep,
    /// A redirection whose target is the next word (`> plan.md`, `2> plan.err`).
    Redirect,
}

/// Enough of the shell's lexer to find simple commands: quotes, escapes, comments, operators,
/// redirections and command substitution (also inside double quotes).
fn tokens(script: &str) -> Vec<Tok> {
    #[derive(PartialEq)]
    enum Ctx {
        Quote,
        Subst,
    }
    let chars: Vec<char> = script.replace("\\\n", " ").chars().collect();
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut stack: Vec<Ctx> = Vec::new();
    let flush = |word: &mut String, in_word: &mut bool, out: &mut Vec<Tok>| {
        if *in_word {
            out.push(Tok::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if stack.last() == Some(&Ctx::Quote) {
            match c {
                '"' => {
                    stack.pop();
                    i += 1;
                }
                '\\' if matches!(next, Some('"' | '\\' | '$' | '`')) => {
                    word.push(next.unwrap());
                    i += 2;
                }
                '$' if next == Some('(') => {
                    flush(&mut word, &mut in_word, &mut out);
                    out.push(Tok::Sep);
                    stack.push(Ctx::Subst);
                    i += 2;
                }
                _ => {
                    word.push(c);
                    i += 1;
                }
            }
            continue;
        }
        match c {
            '"' => {
                in_word = true;
                stack.push(Ctx::Quote);
                i += 1;
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '\\' => {
                in_word = true;
                word.extend(next);
                i += 2;
            }
            '#' if !in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ' ' | '\t' => {
                flush(&mut word, &mut in_word, &mut out);
                i += 1;
            }
            '$' if next == Some('(') => {
                flush(&mut word, &mut in_word, &mut out);
                out.push(Tok::Sep);
                stack.push(Ctx::Subst);
                i += 2;
            }
            ')' => {
                flush(&mut word, &mut in_word, &mut out);
                out.push(Tok::Sep);
                if stack.last() == Some(&Ctx::Subst) {
                    stack.pop();
                    // Back inside "...$(...)...": the rest of the string is a word.
                    in_word = stack.last() == Some(&Ctx::Quote);
                }
                i += 1;
            }
            '\n' | ';' | '&' | '|' | '(' | '`' => {
                flush(&mut word, &mut in_word, &mut out);
                out.push(Tok::Sep);
                i += 1;
            }
            '>' | '<' => {
                if in_word && !word.is_empty() && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear(); // a file descriptor: `2>`
                    in_word = false;
                } else {
                    flush(&mut word, &mut in_word, &mut out);
                }
                while i < chars.len() && matches!(chars[i], '>' | '<') {
                    i += 1;
                }
                if chars.get(i) == Some(&'&') {
                    i += 1; // `2>&1`: no target word
                    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '-') {
                        i += 1;
                    }
                } else {
                    out.push(Tok::Redirect);
                }
            }
            _ => {
                in_word = true;
                word.push(c);
                i += 1;
            }
        }
    }
    flush(&mut word, &mut in_word, &mut out);
    out
}

/// Words that may precede a command name in a simple command.
const SHELL_KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "do", "while", "until", "!", "{", "time", "exec",
];

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// The arguments of every `baseline` command in a shell script (redirections left out).
fn baseline_commands(script: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut command: Vec<String> = Vec::new();
    let mut redirect_target = false;
    for tok in tokens(script).into_iter().chain([Tok::Sep]) {
        match tok {
            Tok::Word(_) if redirect_target => redirect_target = false,
            Tok::Word(w) => command.push(w),
            Tok::Redirect => redirect_target = true,
            Tok::Sep => {
                redirect_target = false;
                let mut words = command
                    .iter()
                    .skip_while(|w| SHELL_KEYWORDS.contains(&w.as_str()) || is_assignment(w));
                if let Some(program) = words.next() {
                    if program == "baseline" || program.ends_with("/baseline") {
                        found.push(words.cloned().collect());
                    }
                }
                command.clear();
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------
// Checking command lines against the real CLI

/// One option as `--help` documents it.
struct OptionHelp {
    takes_value: bool,
    possible_values: Option<Vec<String>>,
}

/// A `baseline` command line, parsed against the CLI's help.
#[derive(Debug, Default)]
struct Parsed {
    /// The subcommand path, e.g. ["log", "verify"].
    path: Vec<String>,
    flags: Vec<(String, Option<String>)>,
    positionals: Vec<String>,
}

impl Parsed {
    fn is(&self, path: &str) -> bool {
        self.path.join(" ") == path
    }
    fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|(f, _)| f == flag)
    }
    fn value(&self, flag: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|(f, _)| f == flag)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// The real binary's help, cached per subcommand path; records which pending entries the
/// pipelines used.
struct Cli {
    help: RefCell<BTreeMap<Vec<String>, String>>,
    pending_used: RefCell<BTreeSet<usize>>,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            help: RefCell::default(),
            pending_used: RefCell::default(),
        }
    }

    fn help(&self, path: &[String]) -> String {
        if let Some(h) = self.help.borrow().get(path) {
            return h.clone();
        }
        let out = Command::new(env!("CARGO_BIN_EXE_baseline"))
            .args(path)
            .arg("--help")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run baseline --help");
        assert!(
            out.status.success(),
            "baseline {} --help failed:\n{}",
            path.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("utf-8 help");
        self.help.borrow_mut().insert(path.to_vec(), text.clone());
        text
    }

    /// The subcommands a help text lists under `Commands:`.
    fn subcommands(help: &str) -> Vec<String> {
        help.lines()
            .skip_while(|l| l.trim() != "Commands:")
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect()
    }

    /// The options a help text documents: header lines (indented at most 6 columns, starting
    /// with `-`) and their description lines (for `[possible values: ...]`).
    fn options(help: &str) -> BTreeMap<String, OptionHelp> {
        let mut options = BTreeMap::new();
        let lines: Vec<&str> = help.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let indent = line.len() - line.trim_start().len();
            if indent > 6 || !line.trim_start().starts_with('-') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            let names: Vec<String> = words
                .iter()
                .take_while(|w| w.starts_with('-'))
                .map(|w| w.trim_end_matches(',').to_string())
                .collect();
            let takes_value = words.get(names.len()).is_some_and(|w| w.starts_with('<'));
            // Short help: `[possible values: a, b]` on the option's lines. Long help (values
            // with descriptions): `Possible values:` then one `- value: description` a line.
            let mut description = vec![line.trim()];
            for more in &lines[i + 1..] {
                let more_indent = more.len() - more.trim_start().len();
                if more.trim().is_empty()
                    || (more_indent <= 6 && more.trim_start().starts_with('-'))
                {
                    break;
                }
                description.push(more.trim());
            }
            let text = description.join(" ");
            let short = text.split_once("[possible values: ").map(|(_, rest)| {
                rest.split(']')
                    .next()
                    .unwrap_or_default()
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .collect()
            });
            let long = description
                .iter()
                .position(|l| *l == "Possible values:")
                .map(|start| {
                    description[start + 1..]
                        .iter()
                        .map_while(|l| l.strip_prefix("- "))
                        .map(|v| v.split(':').next().unwrap_or_default().trim().to_string())
                        .collect()
                });
            let possible_values: Option<Vec<String>> = short.or(long);
            for name in names {
                options.entry(name).or_insert(OptionHelp {
                    takes_value,
                    possible_values: possible_values.clone(),
                });
            }
        }
        options
    }

    /// Pending entries for (subcommand, flag) whose value matches (`None` matches any value).
    fn pending(&self, path: &str, flag: &str, value: Option<&str>) -> bool {
        let hit = PENDING_FLAGS.iter().position(|(p, f, v)| {
            *p == path && *f == flag && (v.is_none() || value.is_none() || *v == value)
        });
        if let Some(i) = hit {
            self.pending_used.borrow_mut().insert(i);
        }
        hit.is_some()
    }

    /// Parse one command line (the words after `baseline`) against the real help.
    fn parse(&self, words: &[String]) -> Result<Parsed, String> {
        let mut parsed = Parsed::default();
        let mut rest = words;
        loop {
            let subcommands = Self::subcommands(&self.help(&parsed.path));
            match rest.first() {
                Some(w) if !subcommands.is_empty() && !w.starts_with('-') => {
                    if !subcommands.contains(w) {
                        return Err(format!(
                            "`{w}` is not a subcommand of `baseline {}` (it has {subcommands:?})",
                            parsed.path.join(" ")
                        ));
                    }
                    parsed.path.push(w.clone());
                    rest = &rest[1..];
                }
                _ => break,
            }
        }
        let path = parsed.path.join(" ");
        let options = Self::options(&self.help(&parsed.path));
        let mut errors = Vec::new();
        let mut i = 0;
        while i < rest.len() {
            let word = &rest[i];
            i += 1;
            if !word.starts_with('-') || word == "-" {
                parsed.positionals.push(word.clone());
                continue;
            }
            let (flag, inline) = match word.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
                _ => (word.clone(), None),
            };
            let (known, takes_value) = match options.get(&flag) {
                Some(o) => (true, o.takes_value),
                // Pending flags all take a value.
                None if self.pending(&path, &flag, None) => (false, true),
                None => {
                    errors.push(format!("`baseline {path}` has no option `{flag}`"));
                    (false, false)
                }
            };
            let value = match (takes_value, inline) {
                (true, Some(v)) => Some(v),
                (true, None) => {
                    let v = rest.get(i).cloned();
                    if v.is_none() {
                        errors.push(format!("`baseline {path} {flag}` lacks its value"));
                    }
                    i += 1;
                    v
                }
                (false, Some(_)) => {
                    errors.push(format!("`baseline {path} {flag}` takes no value"));
                    None
                }
                (false, None) => None,
            };
            if let Some(v) = value.as_deref().filter(|v| !v.starts_with('$')) {
                let possible = options.get(&flag).and_then(|o| o.possible_values.as_ref());
                let accepted = match possible {
                    Some(values) => values.iter().any(|p| p == v),
                    None => known,
                };
                if !accepted && !self.pending_value(&path, &flag, v) {
                    errors.push(format!(
                        "`baseline {path} {flag} {v}`: not a value it accepts ({possible:?})"
                    ));
                }
            }
            parsed.flags.push((flag, value));
        }
        if errors.is_empty() {
            Ok(parsed)
        } else {
            Err(errors.join("; "))
        }
    }

    /// Whether `value` of `flag` is pending: named by an entry, or the flag itself is new.
    fn pending_value(&self, path: &str, flag: &str, value: &str) -> bool {
        let hit = PENDING_FLAGS
            .iter()
            .position(|(p, f, v)| *p == path && *f == flag && v.is_none_or(|v| v == value));
        if let Some(i) = hit {
            self.pending_used.borrow_mut().insert(i);
        }
        hit.is_some()
    }

    /// Every `baseline` command of a script, parsed; panics naming each that does not parse.
    fn commands(&self, script: &str) -> Vec<Parsed> {
        baseline_commands(script)
            .iter()
            .map(|words| {
                self.parse(words).unwrap_or_else(|e| {
                    panic!("`baseline {}` does not parse: {e}", words.join(" "))
                })
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// GitHub Actions

fn github_jobs(doc: &Value) -> &Map<String, Value> {
    obj(&doc["jobs"], "jobs")
}

fn steps(job: &Value) -> &Vec<Value> {
    arr(&job["steps"], "steps")
}

/// The `run:` scripts of a job's steps.
fn runs(job: &Value) -> Vec<&str> {
    steps(job)
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect()
}

fn uses<'a>(job: &'a Value, action: &str) -> Vec<&'a Value> {
    steps(job)
        .iter()
        .filter(|s| string(&s["uses"]).starts_with(&format!("{action}@")))
        .collect()
}

/// The job whose `if:` names this event.
fn job_for_event<'a>(doc: &'a Value, event: &str) -> (&'a str, &'a Value) {
    let jobs: Vec<_> = github_jobs(doc)
        .iter()
        .filter(|(_, j)| string(&j["if"]).contains(&format!("'{event}'")))
        .collect();
    assert_eq!(jobs.len(), 1, "exactly one job runs on `{event}`");
    (jobs[0].0.as_str(), jobs[0].1)
}

/// The job's permission (job-level permissions replace the workflow's).
fn permission<'a>(doc: &'a Value, job: &'a Value, scope: &str) -> &'a str {
    if job.get("permissions").is_some() {
        string(&job["permissions"][scope])
    } else {
        string(&doc["permissions"][scope])
    }
}

/// Paths an `actions/upload-artifact` step of the job uploads.
fn uploaded(job: &Value) -> Vec<String> {
    uses(job, "actions/upload-artifact")
        .iter()
        .flat_map(|s| {
            string(&s["with"]["path"])
                .lines()
                .map(|l| l.trim().to_string())
        })
        .collect()
}

#[test]
fn github_workflow_triggers_permissions_and_concurrency() {
    let doc = yaml(GITHUB);
    let on = obj(&doc["on"], "on");
    assert!(on.contains_key("pull_request"), "runs on pull requests");
    assert!(
        strings(&on["push"]["branches"]).contains(&"main".to_string()),
        "runs on pushes to main"
    );
    let crons: Vec<&str> = arr(&on["schedule"], "schedule")
        .iter()
        .map(|s| string(&s["cron"]))
        .collect();
    assert!(
        !crons.is_empty() && crons.iter().all(|c| c.split_whitespace().count() == 5),
        "a five-field cron schedule: {crons:?}"
    );

    assert_eq!(doc["permissions"]["id-token"], "write", "OIDC token");
    assert_eq!(doc["permissions"]["contents"], "read");

    // Applies are serialised and never cancelled mid-run.
    let concurrency = &doc["concurrency"];
    assert!(
        string(&concurrency["group"]).contains("main"),
        "runs on main share a concurrency group: {concurrency}"
    );
    assert_ne!(
        concurrency["cancel-in-progress"],
        Value::Bool(true),
        "an apply in progress is never cancelled"
    );

    // Every job that gets AWS credentials does so through OIDC, with an id-token permission.
    let mut roles = BTreeMap::new();
    for (name, job) in github_jobs(&doc) {
        for step in uses(job, "aws-actions/configure-aws-credentials") {
            assert_eq!(
                string(&step["uses"]),
                "aws-actions/configure-aws-credentials@v4"
            );
            let with = &step["with"];
            assert!(
                string(&with["role-to-assume"]).contains("ROLE_ARN"),
                "{name}: role-to-assume from a variable: {with}"
            );
            assert!(with.get("aws-region").is_some(), "{name}: aws-region");
            for key in ["aws-access-key-id", "aws-secret-access-key"] {
                assert!(with.get(key).is_none(), "{name}: no long-lived keys");
            }
            assert_eq!(
                permission(&doc, job, "id-token"),
                "write",
                "{name}: id-token"
            );
            roles.insert(name.as_str(), string(&with["role-to-assume"]));
        }
    }
    assert_eq!(
        roles.len(),
        4,
        "plan, plan-main, apply and drift use AWS: {roles:?}"
    );
    let apply_role = roles["apply"];
    for (job, role) in &roles {
        assert_eq!(
            *job == "apply",
            *role == apply_role,
            "only the apply job assumes the apply role: {roles:?}"
        );
    }

    // No expression is spliced into a shell script (script injection): they go through env.
    for (name, job) in github_jobs(&doc) {
        for run in runs(job) {
            assert!(
                !run.contains("${{"),
                "{name}: `${{{{` in a run: script:\n{run}"
            );
        }
    }
}

#[test]
fn github_pull_request_plans_and_comments() {
    let doc = yaml(GITHUB);
    let cli = Cli::new();
    let (name, job) = job_for_event(&doc, "pull_request");
    assert_eq!(permission(&doc, job, "pull-requests"), "write", "{name}");
    assert_eq!(permission(&doc, job, "contents"), "read", "{name}");
    assert!(
        string(&job["if"]).contains("head.repo.full_name == github.repository"),
        "{name}: no AWS credentials for pull requests from forks"
    );
    assert_eq!(uses(job, "actions/checkout").len(), 1, "{name}: checkout");

    let commands: Vec<Parsed> = runs(job).iter().flat_map(|r| cli.commands(r)).collect();
    assert!(
        commands.iter().any(|c| c.is("validate")),
        "{name}: validate"
    );
    let plan = commands
        .iter()
        .find(|c| c.is("plan"))
        .unwrap_or_else(|| panic!("{name}: baseline plan"));
    assert_eq!(plan.value("--out"), Some("plan.json"), "{name}: saved plan");
    assert_eq!(plan.value("--format"), Some("markdown"), "{name}");
    assert!(
        runs(job).iter().any(|r| r.contains("> plan.md")),
        "{name}: the Markdown plan goes to plan.md"
    );

    let sticky = uses(job, "marocchino/sticky-pull-request-comment");
    assert!(
        sticky
            .iter()
            .any(|s| string(&s["with"]["path"]) == "plan.md")
            || runs(job).iter().any(|r| r.contains("gh pr comment")),
        "{name}: plan.md is posted on the pull request"
    );
    let up = uploaded(job);
    assert!(
        up.contains(&"plan.json".to_string()),
        "{name}: plan artifact: {up:?}"
    );
}

#[test]
fn github_main_applies_the_saved_plan_after_approval() {
    let doc = yaml(GITHUB);
    let cli = Cli::new();
    let (plan_name, plan_job) = job_for_event(&doc, "push");
    let plans: Vec<Parsed> = runs(plan_job)
        .iter()
        .flat_map(|r| cli.commands(r))
        .filter(|c| c.is("plan"))
        .collect();
    assert_eq!(plans.len(), 1, "{plan_name}: one plan");
    assert_eq!(plans[0].value("--out"), Some("plan.json"), "{plan_name}");
    assert!(
        plans[0].has("--detailed-exitcode"),
        "{plan_name}: knows whether there is anything to apply"
    );
    assert!(uploaded(plan_job).contains(&"plan.json".to_string()));

    let (name, job) = github_jobs(&doc)
        .iter()
        .find(|(_, j)| strings(&j["needs"]).contains(&plan_name.to_string()))
        .unwrap_or_else(|| panic!("a job needs {plan_name}"));
    let environment = match &job["environment"] {
        Value::String(s) => s.as_str(),
        e => string(&e["name"]),
    };
    assert_eq!(environment, "production", "{name}: protected environment");
    assert_eq!(
        uses(job, "actions/download-artifact").len(),
        1,
        "{name}: fetches the saved plan"
    );
    let commands: Vec<Parsed> = runs(job).iter().flat_map(|r| cli.commands(r)).collect();
    let apply = commands
        .iter()
        .find(|c| c.is("apply"))
        .unwrap_or_else(|| panic!("{name}: baseline apply"));
    assert_eq!(
        apply.positionals,
        ["plan.json"],
        "{name}: applies the saved plan"
    );
    assert_eq!(
        apply.value("--change-log"),
        Some("baseline-changes.jsonl"),
        "{name}"
    );
    assert!(
        commands
            .iter()
            .any(|c| c.is("log verify") && c.value("--log") == Some("baseline-changes.jsonl")),
        "{name}: baseline log verify"
    );
    assert!(
        uploaded(job).contains(&"baseline-changes.jsonl".to_string()),
        "{name}: change log artifact"
    );
}

#[test]
fn github_nightly_drift_job() {
    let doc = yaml(GITHUB);
    let cli = Cli::new();
    let (name, job) = job_for_event(&doc, "schedule");
    let plans: Vec<Parsed> = runs(job)
        .iter()
        .flat_map(|r| cli.commands(r))
        .filter(|c| c.is("plan"))
        .collect();
    assert_eq!(plans.len(), 1, "{name}: one plan");
    assert!(
        plans[0].has("--detailed-exitcode"),
        "{name}: exit 2 on drift"
    );
    assert_eq!(plans[0].value("--format"), Some("json"), "{name}");
    assert!(
        !plans[0].has("--out"),
        "{name}: drift is reported, never applied"
    );
    assert!(
        runs(job).iter().any(|r| r.contains("> drift.json")),
        "{name}: drift.json"
    );
    assert!(uploaded(job).contains(&"drift.json".to_string()), "{name}");
    let upload = &uses(job, "actions/upload-artifact")[0];
    assert_eq!(
        upload["if"], "always()",
        "{name}: drift.json is uploaded when the job fails on drift"
    );
}

// ---------------------------------------------------------------------------------------
// GitLab CI

/// Deep merge as GitLab's `extends` does: mappings merge, anything else is replaced.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// A job with its `extends` resolved.
fn gitlab_job(doc: &Value, name: &str) -> Value {
    let job = &doc[name];
    let mut resolved = Value::Object(Map::new());
    for base in strings(&job["extends"]) {
        merge(&mut resolved, &gitlab_job(doc, &base));
    }
    merge(&mut resolved, job);
    assert!(resolved.is_object(), "{name}: a job is a mapping");
    resolved.as_object_mut().unwrap().remove("extends");
    resolved
}

const GITLAB_GLOBAL_KEYS: &[&str] = &[
    "stages",
    "variables",
    "workflow",
    "default",
    "include",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
];

/// The visible jobs, resolved.
fn gitlab_jobs(doc: &Value) -> BTreeMap<String, Value> {
    obj(doc, "pipeline")
        .keys()
        .filter(|k| !k.starts_with('.') && !GITLAB_GLOBAL_KEYS.contains(&k.as_str()))
        .map(|k| (k.clone(), gitlab_job(doc, k)))
        .collect()
}

/// before_script + script, as the runner runs them (one shell).
fn gitlab_script(job: &Value) -> String {
    let mut lines = script_lines(&job["before_script"]);
    lines.extend(script_lines(&job["script"]));
    lines.join("\n")
}

fn rule_ifs(job: &Value) -> Vec<&str> {
    job["rules"]
        .as_array()
        .map(|r| r.iter().map(|r| string(&r["if"])).collect())
        .unwrap_or_default()
}

fn artifact_paths(job: &Value) -> Vec<String> {
    strings(&job["artifacts"]["paths"])
}

/// The one job with a rule containing `condition`.
fn gitlab_job_for<'a>(jobs: &'a BTreeMap<String, Value>, condition: &str) -> Vec<&'a str> {
    jobs.iter()
        .filter(|(_, j)| rule_ifs(j).iter().any(|r| r.contains(condition)))
        .map(|(n, _)| n.as_str())
        .collect()
}

#[test]
fn gitlab_pipeline_stages_oidc_and_rules() {
    let doc = yaml(GITLAB);
    let jobs = gitlab_jobs(&doc);
    let stages = strings(&doc["stages"]);
    for stage in ["plan", "apply", "drift"] {
        assert!(
            stages.contains(&stage.to_string()),
            "stage {stage}: {stages:?}"
        );
    }
    for (name, job) in &jobs {
        let stage = string(&job["stage"]);
        assert!(stages.contains(&stage.to_string()), "{name}: stage {stage}");
    }
    let workflow: Vec<&str> = arr(&doc["workflow"]["rules"], "workflow rules")
        .iter()
        .map(|r| string(&r["if"]))
        .collect();
    for condition in [
        r#"$CI_PIPELINE_SOURCE == "merge_request_event""#,
        r#"$CI_PIPELINE_SOURCE == "schedule""#,
        "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH",
    ] {
        assert!(
            workflow.iter().any(|r| r.contains(condition)),
            "workflow rules admit {condition}: {workflow:?}"
        );
    }

    // Every job that talks to AWS: an ID token for STS, a role, the token handed to the SDK
    // as a web identity token file; never static keys.
    let cli = Cli::new();
    let mut roles = BTreeMap::new();
    for (name, job) in &jobs {
        let script = gitlab_script(job);
        let aws = cli
            .commands(&script)
            .iter()
            .any(|c| c.is("plan") || c.is("apply"));
        if !aws {
            continue;
        }
        assert_eq!(
            job["id_tokens"]["AWS_ID_TOKEN"]["aud"], "sts.amazonaws.com",
            "{name}: id_tokens"
        );
        let role = string(&job["variables"]["AWS_ROLE_ARN"]);
        assert!(role.contains("ROLE_ARN"), "{name}: AWS_ROLE_ARN: {role:?}");
        roles.insert(name.clone(), role.to_string());
        assert!(
            script.contains(r#"printf '%s' "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE""#)
                && script.contains("export AWS_WEB_IDENTITY_TOKEN_FILE"),
            "{name}: the ID token goes to AWS_WEB_IDENTITY_TOKEN_FILE"
        );
        assert!(
            !script.contains("AWS_ACCESS_KEY_ID") && !script.contains("AWS_SECRET_ACCESS_KEY"),
            "{name}: no long-lived keys"
        );
    }
    assert_eq!(roles.len(), 4, "four jobs use AWS: {roles:?}");
    let distinct: BTreeSet<&String> = roles.values().collect();
    assert_eq!(
        distinct.len(),
        2,
        "a plan role and an apply role: {roles:?}"
    );
}

#[test]
fn gitlab_merge_request_plan_is_posted() {
    let doc = yaml(GITLAB);
    let jobs = gitlab_jobs(&doc);
    let cli = Cli::new();
    let names = gitlab_job_for(&jobs, r#"$CI_PIPELINE_SOURCE == "merge_request_event""#);
    let mut planned = false;
    for name in names {
        let job = &jobs[name];
        let script = gitlab_script(job);
        for plan in cli.commands(&script).iter().filter(|c| c.is("plan")) {
            planned = true;
            assert_eq!(plan.value("--out"), Some("plan.json"), "{name}");
            assert_eq!(plan.value("--format"), Some("markdown"), "{name}");
            assert!(script.contains("> plan.md"), "{name}: plan.md");
            assert!(
                script.contains("merge_requests/$CI_MERGE_REQUEST_IID/notes")
                    || script.contains("glab mr note"),
                "{name}: posts the plan as a merge request note"
            );
            let paths = artifact_paths(job);
            for file in ["plan.json", "plan.md"] {
                assert!(paths.contains(&file.to_string()), "{name}: artifact {file}");
            }
        }
    }
    assert!(planned, "a merge request job runs baseline plan");
}

#[test]
fn gitlab_default_branch_applies_manually() {
    let doc = yaml(GITLAB);
    let jobs = gitlab_jobs(&doc);
    let cli = Cli::new();
    let (name, job) = jobs
        .iter()
        .find(|(_, j)| {
            j["rules"].as_array().into_iter().flatten().any(|r| {
                string(&r["if"]).contains("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")
                    && r["when"] == "manual"
            })
        })
        .expect("a manual job on the default branch");
    assert_eq!(job["environment"]["name"], "production", "{name}");
    assert!(job["resource_group"].is_string(), "{name}: resource_group");
    assert_eq!(job["interruptible"], false, "{name}: never auto-cancelled");
    let script = gitlab_script(job);
    let commands = cli.commands(&script);
    let apply = commands
        .iter()
        .find(|c| c.is("apply"))
        .unwrap_or_else(|| panic!("{name}: baseline apply"));
    assert_eq!(
        apply.positionals,
        ["plan.json"],
        "{name}: applies the saved plan"
    );
    assert_eq!(apply.value("--change-log"), Some("baseline-changes.jsonl"));
    assert!(
        commands.iter().any(|c| c.is("log verify")),
        "{name}: log verify"
    );
    assert!(artifact_paths(job).contains(&"baseline-changes.jsonl".to_string()));
    assert_eq!(
        job["artifacts"]["when"], "always",
        "{name}: even a failed apply's log"
    );

    // The plan it applies: saved by the job it needs, on the default branch too.
    let needs = strings(&job["needs"]);
    assert_eq!(needs.len(), 1, "{name}: needs the plan job: {needs:?}");
    let plan_job = &jobs[&needs[0]];
    assert!(
        rule_ifs(plan_job)
            .iter()
            .any(|r| r.contains("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH")),
        "{}: runs on the default branch",
        needs[0]
    );
    let plans = cli.commands(&gitlab_script(plan_job));
    assert!(
        plans
            .iter()
            .any(|c| c.is("plan") && c.value("--out") == Some("plan.json")),
        "{}: saves plan.json",
        needs[0]
    );
    assert!(artifact_paths(plan_job).contains(&"plan.json".to_string()));
}

#[test]
fn gitlab_scheduled_drift_job() {
    let doc = yaml(GITLAB);
    let jobs = gitlab_jobs(&doc);
    let cli = Cli::new();
    let names = gitlab_job_for(&jobs, r#"$CI_PIPELINE_SOURCE == "schedule""#);
    assert_eq!(names.len(), 1, "one scheduled job: {names:?}");
    let job = &jobs[names[0]];
    let script = gitlab_script(job);
    let plans: Vec<Parsed> = cli
        .commands(&script)
        .into_iter()
        .filter(|c| c.is("plan"))
        .collect();
    assert_eq!(plans.len(), 1);
    assert!(plans[0].has("--detailed-exitcode"));
    assert_eq!(plans[0].value("--format"), Some("json"));
    assert!(script.contains("> drift.json"));
    assert!(artifact_paths(job).contains(&"drift.json".to_string()));
    assert_eq!(
        job["artifacts"]["when"], "always",
        "drift.json also on drift"
    );
    // No other job runs in scheduled pipelines.
    for (name, other) in &jobs {
        if name != names[0] {
            assert!(
                rule_ifs(other)
                    .iter()
                    .all(|r| !r.contains(r#"== "schedule""#)),
                "{name} runs only outside schedules"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Both

/// Every shell script of both pipelines: (where, script).
fn all_scripts() -> Vec<(String, String)> {
    let mut scripts = Vec::new();
    let github = yaml(GITHUB);
    for (name, job) in github_jobs(&github) {
        for (i, run) in runs(job).into_iter().enumerate() {
            scripts.push((format!("{GITHUB}: {name} run #{i}"), run.to_string()));
        }
    }
    let gitlab = yaml(GITLAB);
    for (name, job) in obj(&gitlab, "pipeline") {
        if !job.is_object() {
            continue;
        }
        for key in ["before_script", "script", "after_script"] {
            let lines = script_lines(&job[key]);
            if !lines.is_empty() {
                scripts.push((format!("{GITLAB}: {name} {key}"), lines.join("\n")));
            }
        }
    }
    scripts
}

#[test]
fn every_baseline_command_parses_with_the_cli() {
    let cli = Cli::new();
    let mut errors = Vec::new();
    let mut used = BTreeSet::new();
    for (place, script) in all_scripts() {
        for words in baseline_commands(&script) {
            match cli.parse(&words) {
                Ok(parsed) => {
                    used.insert(parsed.path.join(" "));
                }
                Err(e) => errors.push(format!("{place}: baseline {}: {e}", words.join(" "))),
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    for sub in ["validate", "fmt", "plan", "apply", "show", "log verify"] {
        assert!(
            used.contains(sub),
            "the pipelines run baseline {sub}: {used:?}"
        );
    }

    // A pending entry is one the pipelines use; say when the CLI has caught up with it.
    let pending_used = cli.pending_used.borrow();
    for (i, entry) in PENDING_FLAGS.iter().enumerate() {
        let (path, flag, value) = entry;
        let path: Vec<String> = path.split(' ').map(str::to_string).collect();
        let options = Cli::options(&cli.help(&path));
        let built = options
            .get(*flag)
            .is_some_and(|o| match (value, &o.possible_values) {
                (Some(v), Some(values)) => values.iter().any(|p| p == *v),
                _ => true,
            });
        if built {
            eprintln!("note: {entry:?} now exists in the CLI: remove it from PENDING_FLAGS");
        } else {
            assert!(
                pending_used.contains(&i),
                "PENDING_FLAGS entry {entry:?} is neither built nor used by the pipelines"
            );
        }
    }
}

#[test]
fn the_command_line_finder_sees_through_shell_syntax() {
    let found = baseline_commands(
        "set +e\n\
         baseline plan \"$P\" --out plan.json --format markdown > plan.md 2> plan.err\n\
         if baseline log verify --log x.jsonl; then echo ok; fi\n\
         X=1 baseline apply plan.json \\\n  --auto-approve 2>&1 | tee out # baseline fmt\n\
         n=\"$(baseline show plan.json --format markdown)\"; cargo install --locked baseline\n\
         echo 'baseline graph' \"baseline graph\"",
    );
    let expected: Vec<Vec<&str>> = vec![
        vec!["plan", "$P", "--out", "plan.json", "--format", "markdown"],
        vec!["log", "verify", "--log", "x.jsonl"],
        vec!["apply", "plan.json", "--auto-approve"],
        vec!["show", "plan.json", "--format", "markdown"],
    ];
    assert_eq!(found, expected);

    let cli = Cli::new();
    let bad = |line: &str| {
        let words: Vec<String> = line.split(' ').map(str::to_string).collect();
        cli.parse(&words).is_err()
    };
    assert!(bad("plan --no-such-flag"), "an unknown flag is caught");
    assert!(bad("plan --format yaml"), "an unknown value is caught");
    assert!(bad("log frobnicate"), "an unknown subcommand is caught");
    assert!(bad("apply --out plan.json"), "pending only where listed");
    assert!(!bad(
        "plan --format=json --detailed-exitcode -v examples/sample-org"
    ));
}

#[test]
fn shell_scripts_are_valid_bash() {
    for (place, script) in all_scripts() {
        let out = Command::new("bash")
            .args(["-n", "-c", &script])
            .output()
            .expect("run bash");
        assert!(
            out.status.success(),
            "{place}: bash -n: {}\n{script}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn pipelines_point_at_a_baseline_of_this_repository() {
    let github = yaml(GITHUB);
    let gitlab = yaml(GITLAB);
    for path in [
        string(&github["env"]["BASELINE_PATH"]),
        string(&gitlab["variables"]["BASELINE_PATH"]),
    ] {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(path)
                .join("baseline.kdl")
                .is_file(),
            "BASELINE_PATH {path:?} holds a baseline.kdl"
        );
    }
}
