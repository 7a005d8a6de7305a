//! The GitOps pipelines in `examples/gitops/` (GitHub Actions and GitLab CI) are valid YAML,
//! have the structure their README promises (triggers, OIDC, plan / apply / drift flows,
//! artifacts, serialised applies), their shell is valid bash, and every `baseline` command
//! line in them parses with the real CLI: each subcommand exists, each flag (and each
//! `--format` value) appears in that subcommand's `--help`, and a flag is given twice, or
//! several files, only where the CLI takes several.
//!
//! The sharded examples in `examples/sharded/` (a GitHub Actions matrix, Kubernetes Indexed
//! Jobs) are checked the same way, and more: every shard 1..N is planned and applied exactly
//! once with the same N everywhere, each apply has its own change log, and the scripts that
//! merge plans and change logs are run (with a stand-in `baseline` that records its
//! arguments) to see that they pass every shard's file.
//!
//! YAML is parsed by PyYAML in the emulator venv and handed over as JSON.

mod support;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Stdio};

use clap::CommandFactory;
use serde_json::{Map, Value};

const GITHUB: &str = "examples/gitops/github-actions.yml";
const GITLAB: &str = "examples/gitops/gitlab-ci.yml";
const SHARDED_GITHUB: &str = "examples/sharded/github-actions.yml";
const SHARDED_K8S: &str = "examples/sharded/kubernetes-indexed-job.yaml";

/// `(subcommand, flag, value)`: parts of the CLI contract the pipelines may use before the
/// CLI has them. `None`: the flag itself is new (it takes one value); `Some(v)`: `v` is a new
/// value of a flag. Every other flag and value must exist. Empty: the pipelines use only
/// what `baseline` has today.
const PENDING_FLAGS: &[(&str, &str, Option<&str>)] = &[];

/// `(subcommand, argument)`: arguments the examples give several times before the CLI takes
/// several: a flag (`--log`) repeated, or a positional (`<FILE>`) given several files (or a
/// glob). Every other flag is given at most once, and no more files than the CLI takes.
/// Empty: the CLI takes all of them (`show FILE...`, `report --plan`, `log verify|export
/// --log`, which the sharded examples repeat, are built).
const PENDING_REPEATS: &[(&str, &str)] = &[];

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
    python_json(SCRIPT, path)
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
    /// Every value of a flag given several times, in order.
    fn values(&self, flag: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(f, _)| f == flag)
            .filter_map(|(_, v)| v.as_deref())
            .collect()
    }
}

/// The real binary's help, cached per subcommand path; records which pending entries the
/// pipelines used.
struct Cli {
    help: RefCell<BTreeMap<Vec<String>, String>>,
    pending_used: RefCell<BTreeSet<usize>>,
    pending_repeats_used: RefCell<BTreeSet<usize>>,
}

/// The CLI's own definition (clap) of a subcommand path, for what `--help` does not say:
/// whether a flag may be repeated, how many positionals there are.
fn clap_command(path: &[String]) -> clap::Command {
    let mut command = baseline::cli::Cli::command();
    command.build();
    for name in path {
        command = command
            .find_subcommand(name)
            .unwrap_or_else(|| panic!("clap has no subcommand {name}"))
            .clone();
    }
    command
}

fn repeatable(arg: &clap::Arg) -> bool {
    matches!(
        arg.get_action(),
        clap::ArgAction::Append | clap::ArgAction::Count
    ) || arg.get_num_args().is_some_and(|n| n.max_values() > 1)
}

/// How a positional is written in PENDING_REPEATS: `<FILE>`.
fn positional_name(arg: &clap::Arg) -> String {
    let name = arg
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
    format!("<{name}>")
}

/// A word the shell may expand to several files.
fn is_glob(word: &str) -> bool {
    word.contains(['*', '?', '['])
}

impl Cli {
    fn new() -> Cli {
        Cli {
            help: RefCell::default(),
            pending_used: RefCell::default(),
            pending_repeats_used: RefCell::default(),
        }
    }

    fn pending_repeat(&self, path: &str, argument: &str) -> bool {
        let hit = PENDING_REPEATS
            .iter()
            .position(|(p, a)| *p == path && *a == argument);
        if let Some(i) = hit {
            self.pending_repeats_used.borrow_mut().insert(i);
        }
        hit.is_some()
    }

    /// Flags given more than once must be repeatable, and the positionals (a glob counting
    /// as several) must fit the CLI's, unless PENDING_REPEATS names them.
    fn check_arity(&self, parsed: &Parsed, errors: &mut Vec<String>) {
        let path = parsed.path.join(" ");
        let command = clap_command(&parsed.path);
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (flag, _) in &parsed.flags {
            *counts.entry(flag.as_str()).or_default() += 1;
        }
        for (flag, count) in counts.into_iter().filter(|(_, n)| *n > 1) {
            let arg = command.get_arguments().find(|a| {
                a.get_long().is_some_and(|l| format!("--{l}") == flag)
                    || a.get_short().is_some_and(|c| format!("-{c}") == flag)
            });
            if !arg.is_some_and(repeatable) && !self.pending_repeat(&path, flag) {
                errors.push(format!(
                    "`baseline {path} {flag}` is given {count} times but taken once"
                ));
            }
        }
        let given: usize = parsed
            .positionals
            .iter()
            .map(|w| if is_glob(w) { 2 } else { 1 })
            .sum();
        let positionals: Vec<&clap::Arg> = command.get_positionals().collect();
        let capacity = positionals
            .iter()
            .map(|a| a.get_num_args().map_or(1, |n| n.max_values()))
            .fold(0usize, usize::saturating_add);
        if given > capacity {
            let last = positionals.last().map(|a| positional_name(a));
            if !last.is_some_and(|name| self.pending_repeat(&path, &name)) {
                errors.push(format!(
                    "`baseline {path}` takes {capacity} positional argument(s), given {:?}",
                    parsed.positionals
                ));
            }
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
        self.check_arity(&parsed, &mut errors);
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

/// Every shell script of the pipelines and the sharded examples: (where, script).
fn all_scripts() -> Vec<(String, String)> {
    let mut scripts = Vec::new();
    for path in [GITHUB, SHARDED_GITHUB] {
        let github = yaml(path);
        for (name, job) in github_jobs(&github) {
            for (i, run) in runs(job).into_iter().enumerate() {
                scripts.push((format!("{path}: {name} run #{i}"), run.to_string()));
            }
        }
    }
    for (job, container, script) in k8s_scripts(&yaml_documents(SHARDED_K8S)) {
        scripts.push((
            format!("{SHARDED_K8S}: Job {job} container {container}"),
            script,
        ));
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
    for sub in [
        "validate",
        "fmt",
        "plan",
        "apply",
        "show",
        "report",
        "log verify",
        "log export",
    ] {
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
    let repeats_used = cli.pending_repeats_used.borrow();
    for (i, entry) in PENDING_REPEATS.iter().enumerate() {
        let (path, argument) = entry;
        let path: Vec<String> = path.split(' ').map(str::to_string).collect();
        let command = clap_command(&path);
        let built = command.get_arguments().any(|a| {
            let name = match a.get_long() {
                Some(long) => format!("--{long}"),
                None if a.is_positional() => positional_name(a),
                None => return false,
            };
            name == *argument && repeatable(a)
        });
        if built {
            eprintln!("note: {entry:?} now takes several: remove it from PENDING_REPEATS");
        } else {
            assert!(
                repeats_used.contains(&i),
                "PENDING_REPEATS entry {entry:?} is neither built nor used by the pipelines"
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
    assert!(bad("plan --out a.json --out b.json"), "a flag taken once");
    assert!(bad("apply a b"), "one positional");
    assert!(bad("apply dir-*"), "a glob may give several");
    assert!(!bad("validate a b"), "several positionals");
    assert!(!bad("plan --target a --target b"), "a repeatable flag");
    assert!(!bad("show plan-*.json"), "several plans (built or pending)");
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

// ---------------------------------------------------------------------------------------
// Sharded runs: examples/sharded/

/// What a Python `script` (run by the emulator venv's python on the repository's `path`)
/// prints as JSON; the file is not valid YAML when it fails.
fn python_json(script: &str, path: &str) -> Value {
    let out = Command::new(support::venv().join("bin/python"))
        .args(["-c", script])
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

/// A YAML file of several documents (`---`), as JSON; empty documents left out.
fn yaml_documents(path: &str) -> Vec<Value> {
    const SCRIPT: &str = r#"
import json, sys, yaml
with open(sys.argv[1], encoding="utf-8") as f:
    docs = [d for d in yaml.safe_load_all(f) if d is not None]
json.dump(docs, sys.stdout)
"#;
    serde_json::from_value(python_json(SCRIPT, path)).expect("a list of documents")
}

/// `$NAME` and `${NAME}` replaced by their values in `env`; other text left as it is.
fn expand(word: &str, env: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = word;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, len) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (&braced[..end], end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (&after[..end], end)
            }
        };
        match env.get(name) {
            Some(value) if !name.is_empty() => out.push_str(value),
            _ => out.push_str(&rest[at..at + 1 + len]),
        }
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

/// Whether a shell glob (`*`, `?`) matches a name.
fn glob_matches(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

const MATRIX_SHARD: &str = "${{ matrix.shard }}";

/// The variables a GitHub job's scripts see: the workflow's `env`, then the job's.
fn github_env(doc: &Value, job: &Value) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for scope in [&doc["env"], &job["env"]] {
        for (k, v) in scope.as_object().into_iter().flatten() {
            let v = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            env.insert(k.clone(), v);
        }
    }
    env
}

/// N, as the workflow's `SHARDS` says.
fn github_shards(doc: &Value) -> u32 {
    string(&doc["env"]["SHARDS"])
        .parse()
        .expect("env SHARDS is a number")
}

/// A matrix job's shards: 1..=N, each exactly once; fail-fast off.
fn assert_shard_matrix(name: &str, job: &Value, n: u32) {
    let strategy = &job["strategy"];
    let shards: Vec<u64> = arr(&strategy["matrix"]["shard"], "matrix.shard")
        .iter()
        .map(|s| s.as_u64().unwrap_or_else(|| panic!("{name}: shard {s}")))
        .collect();
    let mut sorted = shards.clone();
    sorted.sort_unstable();
    let expected: Vec<u64> = (1..=u64::from(n)).collect();
    assert_eq!(
        sorted, expected,
        "{name}: the matrix covers shards 1..={n} exactly once: {shards:?}"
    );
    assert_eq!(
        strategy["fail-fast"],
        Value::Bool(false),
        "{name}: one shard's failure does not cancel the others"
    );
    let dimensions = obj(&strategy["matrix"], "matrix");
    assert_eq!(
        dimensions.keys().collect::<Vec<_>>(),
        ["shard"],
        "{name}: the shard is the only dimension (else each shard runs several times)"
    );
}

/// A `baseline show` of several plans (a glob or several files): a merge.
fn merges_plans(c: &Parsed) -> bool {
    c.is("show") && (c.positionals.len() > 1 || c.positionals.iter().any(|p| is_glob(p)))
}

/// The one job with a `baseline` command that `what` describes.
fn job_where<'a>(
    cli: &Cli,
    doc: &'a Value,
    what: &str,
    pred: impl Fn(&Parsed) -> bool,
) -> (&'a str, &'a Value) {
    let jobs: Vec<_> = github_jobs(doc)
        .iter()
        .filter(|(_, j)| {
            runs(j)
                .iter()
                .flat_map(|r| cli.commands(r))
                .any(|c| pred(&c))
        })
        .collect();
    assert_eq!(jobs.len(), 1, "one job runs {what}");
    (jobs[0].0.as_str(), jobs[0].1)
}

/// The one job running `baseline <sub>`.
fn job_running<'a>(cli: &Cli, doc: &'a Value, sub: &str) -> (&'a str, &'a Value) {
    job_where(cli, doc, &format!("baseline {sub}"), |c| c.is(sub))
}

/// The one job merging the shards' plans.
fn merge_job<'a>(cli: &Cli, doc: &'a Value) -> (&'a str, &'a Value) {
    job_where(cli, doc, "baseline show of several plans", merges_plans)
}

fn commands_of(cli: &Cli, job: &Value, sub: &str) -> Vec<Parsed> {
    runs(job)
        .iter()
        .flat_map(|r| cli.commands(r))
        .filter(|c| c.is(sub))
        .collect()
}

#[test]
fn sharded_github_plans_every_shard_once() {
    let doc = yaml(SHARDED_GITHUB);
    let cli = Cli::new();
    let n = github_shards(&doc);
    assert!(n >= 2, "a sharded run has several shards: {n}");
    let (name, job) = job_running(&cli, &doc, "plan");
    assert_shard_matrix(name, job, n);
    let max_parallel = job["strategy"]["max-parallel"]
        .as_u64()
        .unwrap_or_else(|| panic!("{name}: max-parallel is set, considered"));
    assert!(
        (1..=u64::from(n)).contains(&max_parallel),
        "{name}: max-parallel {max_parallel}"
    );
    let env = github_env(&doc, job);
    assert_eq!(
        env.get("SHARD").map(String::as_str),
        Some(MATRIX_SHARD),
        "{name}: the shard reaches the script through env"
    );

    let plans = commands_of(&cli, job, "plan");
    assert_eq!(plans.len(), 1, "{name}: one plan");
    let plan = &plans[0];
    let shard = expand(plan.value("--shard").expect("--shard"), &env);
    assert_eq!(
        shard,
        format!("{MATRIX_SHARD}/{n}"),
        "{name}: --shard K/N with N the matrix size"
    );
    let mut planned = BTreeSet::new();
    for k in 1..=n {
        let parsed = baseline::plan::Shard::parse(&shard.replace(MATRIX_SHARD, &k.to_string()))
            .unwrap_or_else(|e| panic!("{name}: shard {k}: {e}"));
        assert_eq!((parsed.index, parsed.count), (k, n));
        planned.insert(parsed.index);
    }
    assert_eq!(planned.len(), n as usize);
    let out = expand(plan.value("--out").expect("--out: the saved plan"), &env);
    assert_eq!(out, format!("plan-{MATRIX_SHARD}.json"), "{name}");

    let uploads = uses(job, "actions/upload-artifact");
    assert_eq!(uploads.len(), 1, "{name}: uploads the saved plan");
    assert_eq!(string(&uploads[0]["with"]["path"]), out, "{name}");
    assert!(
        string(&uploads[0]["with"]["name"]).contains(MATRIX_SHARD),
        "{name}: one artifact per shard"
    );

    let credentials = uses(job, "aws-actions/configure-aws-credentials");
    assert_eq!(credentials.len(), 1, "{name}: OIDC credentials");
    assert!(string(&credentials[0]["with"]["role-to-assume"]).contains("PLAN_ROLE_ARN"));
    assert_eq!(permission(&doc, job, "id-token"), "write", "{name}");
    assert!(
        job.get("environment").is_none(),
        "{name}: plans need no approval"
    );
}

#[test]
fn sharded_github_merge_needs_the_matrix_and_shows_every_plan() {
    let doc = yaml(SHARDED_GITHUB);
    let cli = Cli::new();
    let n = github_shards(&doc);
    let (plan_name, plan_job) = job_running(&cli, &doc, "plan");
    let plan_artifact = string(&uses(plan_job, "actions/upload-artifact")[0]["with"]["name"]);
    let (name, job) = merge_job(&cli, &doc);
    let (apply_name, _) = job_running(&cli, &doc, "apply");
    assert_ne!(name, apply_name, "the merge job is not an apply shard");
    assert!(
        strings(&job["needs"]).contains(&plan_name.to_string()),
        "{name} needs the plan matrix {plan_name}"
    );
    assert!(
        job.get("strategy").is_none(),
        "{name}: one merge, not a matrix"
    );
    assert!(
        job.get("if").is_none() || !string(&job["if"]).contains("always()"),
        "{name}: merges only once every shard planned"
    );

    // It downloads every shard's artifact into one folder.
    let downloads = uses(job, "actions/download-artifact");
    assert_eq!(downloads.len(), 1, "{name}: one download");
    let with = &downloads[0]["with"];
    assert_eq!(with["merge-multiple"], true, "{name}: one folder");
    let pattern = string(&with["pattern"]);
    for k in 1..=n {
        let artifact = plan_artifact.replace(MATRIX_SHARD, &k.to_string());
        assert!(
            glob_matches(pattern, &artifact),
            "{name}: pattern {pattern:?} downloads {artifact}"
        );
    }

    // Every show and report is given every shard's plan, exactly.
    let files: BTreeSet<String> = (1..=n).map(|k| format!("plan-{k}.json")).collect();
    let shows = commands_of(&cli, job, "show");
    let mut formats = BTreeSet::new();
    for show in &shows {
        let given: BTreeSet<String> = files
            .iter()
            .filter(|f| show.positionals.iter().any(|p| glob_matches(p, f)))
            .cloned()
            .collect();
        assert_eq!(given, files, "{name}: show {:?}", show.positionals);
        assert!(
            show.positionals
                .iter()
                .all(|p| files.iter().any(|f| glob_matches(p, f))),
            "{name}: show is given plans only: {:?}",
            show.positionals
        );
        formats.insert(show.value("--format").unwrap_or("human").to_string());
    }
    assert!(
        formats.contains("markdown") && formats.contains("json"),
        "{name}: Markdown for the comment, JSON for machines: {formats:?}"
    );
    for report in commands_of(&cli, job, "report") {
        let given: BTreeSet<String> = report
            .values("--plan")
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(given, files, "{name}: report --plan each shard's plan");
        assert_eq!(report.values("--plan").len(), n as usize, "{name}");
    }
    let script = runs(job).join("\n");
    assert!(
        script.contains("--format markdown > plan.md"),
        "{name}: plan.md"
    );
    let sticky = uses(job, "marocchino/sticky-pull-request-comment");
    assert!(
        sticky
            .iter()
            .any(|s| string(&s["with"]["path"]) == "plan.md"
                && string(&s["if"]).contains("pull_request")),
        "{name}: the merged plan is the pull request comment"
    );
    assert_eq!(permission(&doc, job, "pull-requests"), "write", "{name}");
    assert!(
        uses(job, "aws-actions/configure-aws-credentials").is_empty()
            && permission(&doc, job, "id-token") != "write",
        "{name}: merging needs no AWS credentials"
    );
    assert!(
        job["outputs"]["changes"].is_string(),
        "{name}: tells the apply whether anything changes"
    );
}

#[test]
fn sharded_github_applies_each_shard_with_its_own_change_log() {
    let doc = yaml(SHARDED_GITHUB);
    let cli = Cli::new();
    let n = github_shards(&doc);
    let (plan_name, plan_job) = job_running(&cli, &doc, "plan");
    let (merge_name, _) = merge_job(&cli, &doc);
    let (name, job) = job_running(&cli, &doc, "apply");
    assert_shard_matrix(name, job, n);
    if let Some(max) = job["strategy"].get("max-parallel") {
        assert!(
            max.as_u64().is_some_and(|m| m >= u64::from(n)),
            "{name}: every shard reaches the environment at once (one approval): {max}"
        );
    }
    let needs = strings(&job["needs"]);
    assert!(
        needs.contains(&merge_name.to_string()),
        "{name} needs {merge_name}: {needs:?}"
    );
    let condition = string(&job["if"]);
    assert!(
        condition.contains("'push'")
            && condition.contains(&format!("needs.{merge_name}.outputs.changes")),
        "{name}: on main, when something changes: {condition}"
    );
    let environment = match &job["environment"] {
        Value::String(s) => s.as_str(),
        e => string(&e["name"]),
    };
    assert_eq!(environment, "production", "{name}: after approval");
    assert!(
        job.get("concurrency").is_none(),
        "{name}: a shared group would serialise the shards and cancel waiting ones"
    );
    let concurrency = &doc["concurrency"];
    assert!(string(&concurrency["group"]).contains("main"));
    assert_ne!(concurrency["cancel-in-progress"], Value::Bool(true));

    // It downloads its own shard's plan, the one the plan matrix uploaded.
    let plan_artifact = string(&uses(plan_job, "actions/upload-artifact")[0]["with"]["name"]);
    let downloads = uses(job, "actions/download-artifact");
    assert_eq!(downloads.len(), 1, "{name}: one download");
    assert_eq!(
        string(&downloads[0]["with"]["name"]),
        plan_artifact,
        "{name}: this shard's plan from {plan_name}"
    );

    let env = github_env(&doc, job);
    let applies = commands_of(&cli, job, "apply");
    assert_eq!(applies.len(), 1, "{name}: one apply");
    let apply = &applies[0];
    let positionals: Vec<String> = apply.positionals.iter().map(|p| expand(p, &env)).collect();
    assert_eq!(
        positionals,
        [format!("plan-{MATRIX_SHARD}.json")],
        "{name}: applies this shard's saved plan"
    );
    assert!(
        !apply.has("--shard"),
        "{name}: the saved plan carries its shard"
    );
    assert!(apply.has("--auto-approve"), "{name}");
    let log = expand(apply.value("--change-log").expect("--change-log"), &env);
    let logs: BTreeSet<String> = (1..=n)
        .map(|k| log.replace(MATRIX_SHARD, &k.to_string()))
        .collect();
    assert_eq!(
        logs.len(),
        n as usize,
        "{name}: a change log per shard: {log}"
    );
    assert!(
        uploaded(job).contains(&log),
        "{name}: uploads {log}: {:?}",
        uploaded(job)
    );
    let upload = &uses(job, "actions/upload-artifact")[0];
    assert!(
        string(&upload["with"]["name"]).contains(MATRIX_SHARD),
        "{name}: one artifact per shard"
    );
    assert!(
        string(&upload["if"]).contains("always()"),
        "{name}: a failed apply's log too"
    );
    assert!(
        commands_of(&cli, job, "log verify").iter().any(|c| c
            .values("--log")
            .iter()
            .map(|l| expand(l, &env))
            .eq([log.clone()])),
        "{name}: verifies its own log"
    );

    // Roles: the apply role here only; no expression spliced into a script anywhere.
    let mut roles = BTreeMap::new();
    for (job_name, j) in github_jobs(&doc) {
        for step in uses(j, "aws-actions/configure-aws-credentials") {
            roles.insert(job_name.as_str(), string(&step["with"]["role-to-assume"]));
            assert_eq!(permission(&doc, j, "id-token"), "write", "{job_name}");
        }
        for run in runs(j) {
            assert!(
                !run.contains("${{"),
                "{job_name}: `${{{{` in a run: script:\n{run}"
            );
        }
    }
    assert_eq!(roles.len(), 2, "plan and apply use AWS: {roles:?}");
    assert!(roles[name].contains("APPLY_ROLE_ARN") && roles[plan_name].contains("PLAN_ROLE_ARN"));
}

// Running the merge scripts -------------------------------------------------------------

/// A stand-in for `baseline` on PATH: records each call's arguments (one line, tab-separated)
/// in $STUB_CALLS; `show` prints its first file (a fixture that is its own JSON rendering);
/// `apply` creates the file it is given as --change-log.
const STUB: &str = r#"#!/bin/bash
(IFS=$'\t'; printf '%s\n' "$*") >> "$STUB_CALLS"
case "$1" in
  show)
    shift
    while [ "$#" -gt 0 ]; do
      case "$1" in
        --*) shift 2 ;;
        *) cat "$1"; exit 0 ;;
      esac
    done ;;
  apply)
    while [ "$#" -gt 0 ]; do
      if [ "$1" = --change-log ]; then : > "$2"; fi
      shift
    done ;;
esac
"#;

/// A scratch folder with the stub on PATH.
struct Sandbox {
    dir: tempfile::TempDir,
}

struct Ran {
    success: bool,
    calls: Vec<Vec<String>>,
    output: String,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        let stub = dir.path().join("bin/baseline");
        std::fs::write(&stub, STUB).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::create_dir(dir.path().join("work")).unwrap();
        Sandbox { dir }
    }

    fn work(&self) -> std::path::PathBuf {
        self.dir.path().join("work")
    }

    /// A plan fixture (relative to the working folder) with `changes` updates.
    fn plan(&self, file: &str, changes: u32) {
        let path = self.work().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let summary = serde_json::json!({"summary": {"create": 0, "adopt": 0, "update": changes,
            "replace": 0, "delete": 0, "findings": 0, "unchanged": 3}});
        std::fs::write(path, summary.to_string()).unwrap();
    }

    fn file(&self, file: &str) {
        let path = self.work().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    /// Run a script as `shell` runs it, in the working folder, with `env`.
    fn run(&self, shell: &[&str], script: &str, env: &BTreeMap<String, String>) -> Ran {
        let calls = self.dir.path().join("calls");
        let _ = std::fs::remove_file(&calls);
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new(shell[0])
            .args(&shell[1..])
            .arg(script)
            .current_dir(self.work())
            .env_clear()
            .env("PATH", path)
            .env("STUB_CALLS", &calls)
            .env("GITHUB_STEP_SUMMARY", self.dir.path().join("summary"))
            .env("GITHUB_OUTPUT", self.dir.path().join("output"))
            .envs(env)
            .output()
            .expect("run the script");
        let calls = std::fs::read_to_string(&calls).unwrap_or_default();
        Ran {
            success: out.status.success(),
            calls: calls
                .lines()
                .map(|l| l.split('\t').map(str::to_string).collect())
                .collect(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }

    fn github_output(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("output")).unwrap_or_default()
    }
}

const GITHUB_SHELL: &[&str] = &["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"];
const K8S_SHELL: &[&str] = &["bash", "-c"];

/// The calls of one subcommand, each parsed with the CLI (the contract, on real arguments).
fn calls_of(cli: &Cli, ran: &Ran, sub: &str) -> Vec<Parsed> {
    ran.calls
        .iter()
        .map(|words| {
            cli.parse(words)
                .unwrap_or_else(|e| panic!("`baseline {}`: {e}", words.join(" ")))
        })
        .filter(|c| c.is(sub))
        .collect()
}

/// Run a change-log script three ways: every shard has a log; one shard has none and its
/// plan no changes (fine); one shard has none although its plan has changes (a failure,
/// after the others are verified).
fn check_change_log_script(
    what: &str,
    shell: &[&str],
    script: &str,
    env: &BTreeMap<String, String>,
    n: u32,
    plan: impl Fn(u32) -> String,
    log: impl Fn(u32) -> String,
) {
    let cli = Cli::new();
    let logs = |skip: Option<u32>| -> Vec<String> {
        (1..=n).filter(|k| Some(*k) != skip).map(&log).collect()
    };
    for (case, skip, changes_in_skipped) in [
        ("every shard has a log", None, 0),
        ("shard 2 had nothing to change", Some(2), 0),
        ("shard 2 lost its log", Some(2), 1),
    ] {
        let sandbox = Sandbox::new();
        for k in 1..=n {
            sandbox.plan(
                &plan(k),
                if Some(k) == skip {
                    changes_in_skipped
                } else {
                    1
                },
            );
        }
        for file in logs(skip) {
            sandbox.file(&file);
        }
        let ran = sandbox.run(shell, script, env);
        let expected_success = changes_in_skipped == 0;
        assert_eq!(
            ran.success, expected_success,
            "{what}, {case}: exit status\n{}",
            ran.output
        );
        for sub in ["log verify", "log export"] {
            let calls = calls_of(&cli, &ran, sub);
            assert_eq!(calls.len(), 1, "{what}, {case}: one {sub}: {:?}", ran.calls);
            assert_eq!(
                calls[0].values("--log"),
                logs(skip),
                "{what}, {case}: {sub} is given every shard's log"
            );
        }
        let export = &calls_of(&cli, &ran, "log export")[0];
        assert_eq!(export.value("--format"), Some("markdown"), "{what}");
    }
}

#[test]
fn sharded_github_verifies_and_exports_every_change_log() {
    let doc = yaml(SHARDED_GITHUB);
    let cli = Cli::new();
    let n = github_shards(&doc);
    let (apply_name, _) = job_running(&cli, &doc, "apply");
    let jobs: Vec<_> = github_jobs(&doc)
        .iter()
        .filter(|(_, j)| !commands_of(&cli, j, "log export").is_empty())
        .collect();
    assert_eq!(jobs.len(), 1, "one job exports the change logs");
    let (name, job) = jobs[0];
    assert!(
        strings(&job["needs"]).contains(&apply_name.to_string()),
        "{name} needs {apply_name}"
    );
    assert!(
        string(&job["if"]).contains("always()"),
        "{name}: also after a failed apply"
    );
    let patterns: Vec<&str> = uses(job, "actions/download-artifact")
        .iter()
        .map(|s| string(&s["with"]["pattern"]))
        .collect();
    let (_, apply_job) = job_running(&cli, &doc, "apply");
    let log_artifact = string(&uses(apply_job, "actions/upload-artifact")[0]["with"]["name"]);
    for k in 1..=n {
        let artifact = log_artifact.replace(MATRIX_SHARD, &k.to_string());
        assert!(
            patterns.iter().any(|p| glob_matches(p, &artifact)),
            "{name} downloads {artifact}: {patterns:?}"
        );
    }
    let script = runs(job)
        .into_iter()
        .find(|r| r.contains("log verify"))
        .expect("the verify step");
    check_change_log_script(
        &format!("{SHARDED_GITHUB}: {name}"),
        GITHUB_SHELL,
        script,
        &github_env(&doc, job),
        n,
        |k| format!("plan-{k}.json"),
        |k| format!("changes-{k}.jsonl"),
    );
}

#[test]
fn sharded_github_merge_decides_whether_to_apply() {
    let doc = yaml(SHARDED_GITHUB);
    let cli = Cli::new();
    let n = github_shards(&doc);
    let (name, job) = merge_job(&cli, &doc);
    let script = runs(job)
        .into_iter()
        .find(|r| r.contains("baseline show"))
        .expect("the merge step");
    for (changes, expected) in [(0, "changes=false"), (2, "changes=true")] {
        let sandbox = Sandbox::new();
        for k in 1..=n {
            sandbox.plan(&format!("plan-{k}.json"), changes);
        }
        let ran = sandbox.run(GITHUB_SHELL, script, &github_env(&doc, job));
        assert!(ran.success, "{name}: {}", ran.output);
        assert!(
            sandbox.github_output().lines().any(|l| l == expected),
            "{name}: {expected}: {:?}",
            sandbox.github_output()
        );
        let files: Vec<String> = (1..=n).map(|k| format!("plan-{k}.json")).collect();
        for show in calls_of(&cli, &ran, "show") {
            assert_eq!(show.positionals, files, "{name}: show every plan");
        }
        for report in calls_of(&cli, &ran, "report") {
            assert_eq!(report.values("--plan"), files, "{name}: report every plan");
        }
    }
}

// Kubernetes --------------------------------------------------------------------------

fn k8s_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn k8s_named<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    k8s_kind(docs, kind)
        .into_iter()
        .find(|d| d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {SHARDED_K8S}"))
}

fn containers(job: &Value) -> &Vec<Value> {
    arr(&job["spec"]["template"]["spec"]["containers"], "containers")
}

/// Each Job container's shell script: (job, container, script). Containers run
/// `bash -c SCRIPT`.
fn k8s_scripts(docs: &[Value]) -> Vec<(String, String, String)> {
    let mut scripts = Vec::new();
    for job in k8s_kind(docs, "Job") {
        let job_name = string(&job["metadata"]["name"]);
        for container in containers(job) {
            let name = string(&container["name"]);
            let command = strings(&container["command"]);
            let args = strings(&container["args"]);
            assert!(
                command.len() == 2 && command[0].ends_with("/bash") && command[1] == "-c",
                "{job_name}/{name}: runs bash -c: {command:?}"
            );
            assert_eq!(args.len(), 1, "{job_name}/{name}: one script");
            scripts.push((job_name.to_string(), name.to_string(), args[0].clone()));
        }
    }
    scripts
}

fn container_env(container: &Value) -> BTreeMap<String, String> {
    container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                string(&e["name"]).to_string(),
                string(&e["value"]).to_string(),
            )
        })
        .collect()
}

/// A quantity in MiB (`128Mi`, `1Gi`).
fn mebibytes(quantity: &str) -> u64 {
    if let Some(mi) = quantity.strip_suffix("Mi") {
        mi.parse().expect("Mi")
    } else if let Some(gi) = quantity.strip_suffix("Gi") {
        gi.parse::<u64>().expect("Gi") * 1024
    } else {
        panic!("a quantity in Mi or Gi: {quantity}")
    }
}

/// The Job whose container has a `baseline` command that `what` describes, with its
/// container and script.
fn k8s_job_where<'a>(
    cli: &Cli,
    docs: &'a [Value],
    what: &str,
    pred: impl Fn(&Parsed) -> bool,
) -> (&'a Value, &'a Value, String) {
    let mut found = Vec::new();
    for job in k8s_kind(docs, "Job") {
        for container in containers(job) {
            let script = strings(&container["args"]).concat();
            if cli.commands(&script).iter().any(&pred) {
                found.push((job, container, script));
            }
        }
    }
    assert_eq!(found.len(), 1, "one Job runs {what}");
    found.pop().unwrap()
}

fn k8s_job_running<'a>(cli: &Cli, docs: &'a [Value], sub: &str) -> (&'a Value, &'a Value, String) {
    k8s_job_where(cli, docs, &format!("baseline {sub}"), |c| c.is(sub))
}

/// What every pod of the file shares: non-root, no restarts, the volume, the limits.
fn assert_pod_basics(docs: &[Value], job: &Value) {
    let name = string(&job["metadata"]["name"]);
    assert_eq!(job["apiVersion"], "batch/v1", "{name}");
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(
        pod["restartPolicy"], "Never",
        "{name}: a failed shard is a new pod"
    );
    assert!(
        job["spec"]["backoffLimitPerIndex"].is_u64() || job["spec"]["backoffLimit"].is_u64(),
        "{name}: a retry limit"
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
    for container in containers(job) {
        let resources = &container["resources"];
        let limit = mebibytes(string(&resources["limits"]["memory"]));
        let request = mebibytes(string(&resources["requests"]["memory"]));
        assert!(
            (64..=1024).contains(&limit) && request <= limit,
            "{name}: memory {request}Mi..{limit}Mi (a no-op plan of 10 accounts peaks at 42 MiB)"
        );
        assert!(
            resources["requests"]["cpu"].is_string(),
            "{name}: a CPU request"
        );
        assert_eq!(
            container["securityContext"]["allowPrivilegeEscalation"], false,
            "{name}"
        );
        for mount in arr(&container["volumeMounts"], "volumeMounts") {
            let volume = arr(&pod["volumes"], "volumes")
                .iter()
                .find(|v| v["name"] == mount["name"])
                .unwrap_or_else(|| panic!("{name}: volume {}", mount["name"]));
            if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
                let pvc = k8s_named(docs, "PersistentVolumeClaim", claim);
                assert!(
                    strings(&pvc["spec"]["accessModes"]).contains(&"ReadWriteMany".to_string()),
                    "{claim}: the shards' pods share it from any node"
                );
                assert_eq!(
                    string(&container["workingDir"]),
                    string(&mount["mountPath"]),
                    "{name}: works in the shared volume"
                );
            }
        }
    }
}

/// N, as the plan container's `SHARDS` says.
fn k8s_shards(cli: &Cli, docs: &[Value]) -> u32 {
    let (_, container, _) = k8s_job_running(cli, docs, "plan");
    container_env(container)["SHARDS"]
        .parse()
        .expect("SHARDS is a number")
}

/// The ServiceAccount of a Job's pods and the IAM role IRSA gives it.
fn irsa_role<'a>(docs: &'a [Value], job: &Value) -> &'a str {
    let name = string(&job["metadata"]["name"]);
    let account = string(&job["spec"]["template"]["spec"]["serviceAccountName"]);
    assert!(!account.is_empty(), "{name}: a service account");
    let sa = k8s_named(docs, "ServiceAccount", account);
    assert_eq!(
        sa["metadata"]["namespace"], job["metadata"]["namespace"],
        "{name}: {account} in the Job's namespace"
    );
    let role = string(&sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]);
    assert!(
        role.starts_with("arn:aws:iam::"),
        "{account}: IRSA role {role:?}"
    );
    role
}

#[test]
fn kubernetes_indexed_jobs_run_every_shard_once() {
    let docs = yaml_documents(SHARDED_K8S);
    let cli = Cli::new();
    let n = k8s_shards(&cli, &docs);
    assert!(n >= 2, "several shards: {n}");
    let mut roles = BTreeMap::new();
    for sub in ["plan", "apply"] {
        let (job, container, script) = k8s_job_running(&cli, &docs, sub);
        let name = string(&job["metadata"]["name"]);
        let spec = &job["spec"];
        assert_eq!(spec["completionMode"], "Indexed", "{name}");
        assert_eq!(spec["completions"], n, "{name}: completions == N");
        assert_eq!(spec["parallelism"], n, "{name}: parallelism == N");
        assert_pod_basics(&docs, job);
        roles.insert(sub, irsa_role(&docs, job));
        assert!(
            script.contains("JOB_COMPLETION_INDEX"),
            "{name}: the shard comes from the pod's index"
        );

        // Each pod, by its index, takes one shard; together they take every shard once.
        let env = container_env(container);
        let sandbox = Sandbox::new();
        for k in 1..=n {
            sandbox.plan(&format!("plans/plan-{k}.json"), 1);
        }
        let mut shards = BTreeSet::new();
        let mut logs = BTreeSet::new();
        for index in 0..n {
            let mut env = env.clone();
            env.insert("JOB_COMPLETION_INDEX".into(), index.to_string());
            let ran = sandbox.run(K8S_SHELL, &script, &env);
            assert!(ran.success, "{name} index {index}: {}", ran.output);
            let calls = calls_of(&cli, &ran, sub);
            assert_eq!(calls.len(), 1, "{name} index {index}: {:?}", ran.calls);
            let call = &calls[0];
            let k = index + 1;
            if sub == "plan" {
                let shard = baseline::plan::Shard::parse(call.value("--shard").expect("--shard"))
                    .unwrap_or_else(|e| panic!("{name} index {index}: {e}"));
                assert_eq!(
                    (shard.index, shard.count),
                    (k, n),
                    "{name}: index {index} plans shard {k}/{n}"
                );
                shards.insert(shard.index);
                assert_eq!(
                    call.value("--out"),
                    Some(format!("plans/plan-{k}.json").as_str()),
                    "{name} index {index}"
                );
            } else {
                assert_eq!(
                    call.positionals,
                    [format!("plans/plan-{k}.json")],
                    "{name}: index {index} applies shard {k}'s saved plan"
                );
                assert!(!call.has("--shard"), "{name}: the plan carries its shard");
                assert!(call.has("--auto-approve"), "{name}");
                let log = call
                    .value("--change-log")
                    .expect("--change-log")
                    .to_string();
                assert!(logs.insert(log.clone()), "{name}: {log} used twice");
                shards.insert(k);
                let verified = calls_of(&cli, &ran, "log verify");
                assert!(
                    verified.iter().any(|v| v.values("--log") == [log.as_str()]),
                    "{name} index {index}: verifies {log}"
                );
            }
        }
        assert_eq!(shards, (1..=n).collect(), "{name}: every shard once");
    }
    assert_ne!(
        roles["plan"], roles["apply"],
        "plan pods get the read-only role, apply pods the apply role"
    );
    let (plan_job, _, _) = k8s_job_running(&cli, &docs, "plan");
    let (apply_job, _, _) = k8s_job_running(&cli, &docs, "apply");
    assert_eq!(
        apply_job["spec"]["backoffLimitPerIndex"], 0,
        "an apply is never retried by Kubernetes (a partly applied plan is stale)"
    );
    assert!(
        plan_job["spec"]["backoffLimitPerIndex"]
            .as_u64()
            .is_some_and(|b| b >= 1),
        "a failed plan shard is retried on its own"
    );
}

#[test]
fn kubernetes_merge_jobs_read_every_shard() {
    let docs = yaml_documents(SHARDED_K8S);
    let cli = Cli::new();
    let n = k8s_shards(&cli, &docs);

    // show: every plan of plans/, and nothing else there.
    let (job, container, script) =
        k8s_job_where(&cli, &docs, "baseline show of several plans", merges_plans);
    let name = string(&job["metadata"]["name"]);
    assert!(
        job["spec"].get("completionMode").is_none(),
        "{name}: one pod"
    );
    assert_pod_basics(&docs, job);
    assert!(
        job["spec"]["template"]["spec"]
            .get("serviceAccountName")
            .is_none(),
        "{name}: no AWS role to merge plans"
    );
    let sandbox = Sandbox::new();
    for k in 1..=n {
        sandbox.plan(&format!("plans/plan-{k}.json"), 1);
    }
    sandbox.file("plans/plan.md");
    sandbox.plan("plans/merged-plan.json", 1);
    let ran = sandbox.run(K8S_SHELL, &script, &container_env(container));
    assert!(ran.success, "{name}: {}", ran.output);
    let files: Vec<String> = (1..=n).map(|k| format!("plans/plan-{k}.json")).collect();
    let shows = calls_of(&cli, &ran, "show");
    assert!(!shows.is_empty(), "{name}: baseline show");
    let mut formats = BTreeSet::new();
    for show in &shows {
        assert_eq!(
            show.positionals, files,
            "{name}: show every plan, only plans"
        );
        formats.insert(show.value("--format").unwrap_or("human").to_string());
    }
    assert!(
        formats.contains("markdown") && formats.contains("json"),
        "{formats:?}"
    );

    // change logs: verified and exported together.
    let (job, container, script) = k8s_job_running(&cli, &docs, "log export");
    let name = string(&job["metadata"]["name"]);
    assert_pod_basics(&docs, job);
    let env = container_env(container);
    assert_eq!(env["SHARDS"], n.to_string(), "{name}: SHARDS is N");
    check_change_log_script(
        &format!("{SHARDED_K8S}: {name}"),
        K8S_SHELL,
        &script,
        &env,
        n,
        |k| format!("plans/plan-{k}.json"),
        |k| format!("logs/changes-{k}.jsonl"),
    );
}

#[test]
fn kubernetes_objects_are_labelled_by_step_and_share_a_namespace() {
    let docs = yaml_documents(SHARDED_K8S);
    let header = std::fs::read_to_string(support::repo_root().join(SHARDED_K8S)).unwrap();
    let namespace = k8s_kind(&docs, "Namespace");
    assert_eq!(namespace.len(), 1, "one namespace");
    let namespace = string(&namespace[0]["metadata"]["name"]);
    let mut steps = BTreeSet::new();
    for doc in &docs {
        let kind = string(&doc["kind"]);
        let name = string(&doc["metadata"]["name"]);
        if kind != "Namespace" {
            assert_eq!(doc["metadata"]["namespace"], namespace, "{kind} {name}");
        }
        let step = string(&doc["metadata"]["labels"]["app.kubernetes.io/component"]);
        assert!(!step.is_empty(), "{kind} {name}: a step label");
        if kind == "Job" {
            assert_eq!(
                doc["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"], step,
                "{name}: its pods carry the step too"
            );
        }
        steps.insert(step.to_string());
    }
    // The header's commands apply each step by its label.
    for step in &steps {
        assert!(
            header.contains(&format!("-l app.kubernetes.io/component={step}")),
            "the header applies step {step}"
        );
    }
}

#[test]
fn sharded_github_points_at_a_baseline_of_this_repository() {
    let doc = yaml(SHARDED_GITHUB);
    let path = string(&doc["env"]["BASELINE_PATH"]);
    assert!(
        support::repo_root()
            .join(path)
            .join("baseline.kdl")
            .is_file(),
        "BASELINE_PATH {path:?} holds a baseline.kdl"
    );
}
