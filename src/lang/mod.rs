//! The baseline language: KDL v2 files to a validated, typed [`Baseline`].
//!
//! [`load`] reads the root file and its includes, parses every node into a [`Declaration`]
//! through the kind registry, then runs the cross-declaration checks in [`validate`]. All
//! problems are collected; none stops the others from being found.

pub mod checks;
pub mod diagnostic;
pub mod fmt;
pub mod input;
pub mod model;
pub mod policy;
pub mod reader;
pub mod source;
pub mod targets;
pub mod validate;

use std::path::{Path, PathBuf};

use kdl::KdlDocument;

use crate::kinds::{self, Naming, Placing};
use diagnostic::{did_you_mean, Problem, Problems};
use model::{AnchorSettings, Applicability, Baseline, Declaration, Placement, Settings, Waiver};
use reader::{Cx, NodeReader};
use source::{FileId, Sources, Span, Spanned};

/// Loading failed: the problems found, with the sources they point into.
#[derive(Debug)]
pub struct Invalid {
    pub sources: Sources,
    pub problems: Problems,
}

/// A file that could not be read at all (before any source existed to point into).
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct Unreadable {
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error("the baseline has {} problem(s)", .0.problems.len())]
    Invalid(Invalid),
}

/// Load and validate the baseline whose root file is `path`.
pub fn load(path: &Path) -> Result<Baseline, LoadError> {
    let text = input::read_text(path).map_err(|e| Unreadable {
        path: path.display().to_string(),
        source: match e {
            input::InputError::Io(e) => e,
            other => std::io::Error::other(other.to_string()),
        },
    })?;
    load_source(path, text)
}

/// Load and validate a baseline whose root file `path` holds `text` (already read). Its
/// includes and documents are read relative to `path`.
pub fn load_source(path: &Path, text: String) -> Result<Baseline, LoadError> {
    let cx = Cx::default();
    let root = cx.sources.borrow_mut().add(path, text);
    let mut loader = Loader {
        cx: &cx,
        settings: None,
        declarations: Vec::new(),
        applicability: Vec::new(),
        waivers: Vec::new(),
        stack: Vec::new(),
        read: std::collections::HashSet::new(),
    };
    loader.file(root);
    let settings = loader.settings.take().map(|(s, _)| s).unwrap_or_default();
    let declarations = std::mem::take(&mut loader.declarations);
    let applicability = std::mem::take(&mut loader.applicability);
    let waivers = std::mem::take(&mut loader.waivers);
    let baseline = Baseline {
        root,
        sources: Sources::default(),
        settings,
        declarations,
        applicability,
        waivers,
    };
    validate::run(&baseline, &cx);
    check_overrides(&cx);
    let Cx {
        sources, problems, ..
    } = cx;
    let (sources, mut problems) = (sources.into_inner(), problems.into_inner());
    if problems.is_empty() {
        Ok(Baseline {
            sources,
            ..baseline
        })
    } else {
        problems.sort();
        Err(LoadError::Invalid(Invalid { sources, problems }))
    }
}

/// The KDL parser's diagnostics, less those that only follow from an earlier one: it reports
/// an unclosed `{` twice (the block, then the nodes in it) and each later problem on the same
/// line again as it recovers (`garbage {{{` gave eight). The first on each line is kept.
fn first_of_each_cascade(
    text: &str,
    mut diagnostics: Vec<kdl::KdlDiagnostic>,
) -> Vec<kdl::KdlDiagnostic> {
    const UNCLOSED: &str = "No closing '}' for child block";
    const UNCLOSED_AGAIN: &str = "Closing '}' was not found after nodes";
    let unclosed = diagnostics
        .iter()
        .any(|d| d.message.as_deref() == Some(UNCLOSED));
    diagnostics.sort_by_key(|d| d.span.offset());
    // Lines counted as the offsets grow, so that many diagnostics cost one pass.
    let (mut counted_to, mut line, mut last_line) = (0, 0, None);
    diagnostics
        .into_iter()
        .filter(|d| !(unclosed && d.message.as_deref() == Some(UNCLOSED_AGAIN)))
        .filter(|d| {
            let offset = d.span.offset().min(text.len());
            line += text.as_bytes()[counted_to..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            counted_to = offset;
            last_line.replace(line) != Some(line)
        })
        .collect()
}

/// The `.kdl` files a path names: the file itself, or every `.kdl` file below a directory,
/// walked as git sees it: hidden files and folders (`.git` among them) and what `.gitignore`
/// or `.ignore` files exclude (`target/`, say) are skipped, and symlinks are followed with
/// loops detected and left out. A file reached through several links is listed once.
pub fn kdl_files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let walk = ignore::WalkBuilder::new(path)
        .follow_links(true)
        .require_git(false)
        .build();
    for entry in walk {
        let entry = match entry.map_err(ignore::Error::into_io_error) {
            Ok(entry) => entry,
            Err(Some(io)) => return Err(io),
            // Not an I/O error: a symlink loop (`sub/loop -> ..`), not walked into.
            Err(None) => continue,
        };
        let p = entry.path();
        if entry.file_type().is_some_and(|t| t.is_file())
            && p.extension().is_some_and(|e| e == "kdl")
            && seen.insert(p.canonicalize()?)
        {
            out.push(p.to_path_buf());
        }
    }
    out.sort();
    Ok(out)
}

/// The root files among `paths`: a file given directly, or every `.kdl` file below a
/// directory that no other file there includes.
pub fn root_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut roots = Vec::new();
    for path in paths {
        if !path.is_dir() {
            roots.push(path.clone());
            continue;
        }
        let files = kdl_files(path)?;
        let included: Vec<PathBuf> = files.iter().flat_map(|f| includes_of(f)).collect();
        roots.extend(files.into_iter().filter(|f| {
            let canon = f.canonicalize().unwrap_or_else(|_| f.clone());
            !included.contains(&canon)
        }));
    }
    Ok(roots)
}

/// Canonical paths a file includes (best effort: unreadable or malformed files include nothing).
fn includes_of(file: &Path) -> Vec<PathBuf> {
    let Ok(text) = input::read_text(file) else {
        return Vec::new();
    };
    if input::too_deep(&text).is_some() {
        return Vec::new();
    }
    let Ok(doc) = KdlDocument::parse_v2(&text) else {
        return Vec::new();
    };
    let dir = file.parent().unwrap_or(Path::new("."));
    doc.nodes()
        .iter()
        .filter(|n| n.name().value() == "include")
        .filter_map(|n| {
            n.entries()
                .first()?
                .value()
                .as_string()
                .map(|s| dir.join(s))
        })
        .filter_map(|p| p.canonicalize().ok())
        .collect()
}

struct Loader<'a> {
    cx: &'a Cx,
    settings: Option<(Settings, Span)>,
    declarations: Vec<Declaration>,
    applicability: Vec<Applicability>,
    waivers: Vec<Waiver>,
    /// Files being read, outermost first, to detect include cycles.
    stack: Vec<(PathBuf, Option<Span>)>,
    /// Every KDL file read (canonical), so that a file included twice is read once.
    read: std::collections::HashSet<PathBuf>,
}

const META_NODES: &[&str] = &[
    "settings",
    "include",
    "param",
    "statement-of-applicability",
    "waiver",
];

/// `param "name" VALUE`, in a baseline or in `settings`: the name, the value and the node's
/// span. The value is taken as written, not through the typed readers: its type is
/// whatever its uses expect, and they check it.
fn param_entry(
    mut r: NodeReader<'_>,
    what: &str,
) -> Option<(Spanned<String>, kdl::KdlValue, Span)> {
    let name = r.arg_str(0, "the parameter's name");
    let value = r.opt_arg_any(1).map(|e| e.value().clone());
    let span = r.span();
    if value.is_none() {
        r.report(
            Problem::new(
                "baseline::missing-value",
                r.name_span(),
                format!("`param` needs a {what}"),
            )
            .label(format!("no {what}"))
            .help("param \"retention-days\" 35"),
        );
    }
    r.finish();
    Some((name?, value?, span))
}

/// A parameter set in `settings` that no baseline declares is a mistake (a typo, most likely).
fn check_overrides(cx: &Cx) {
    let params = cx.params.borrow();
    let known: Vec<&str> = params.defaults.keys().map(String::as_str).collect();
    for (name, (_, span)) in &params.overrides {
        if !params.defaults.contains_key(name) {
            cx.report(
                Problem::new(
                    "baseline::unknown-parameter",
                    *span,
                    format!("no included baseline declares the parameter `{name}`"),
                )
                .label("unknown parameter")
                .help(did_you_mean(name, &known)),
            );
        }
    }
}

impl<'a> Loader<'a> {
    fn file(&mut self, file: FileId) {
        let text = self.cx.sources.borrow().get(file).text.clone();
        let path = self.cx.sources.borrow().get(file).path.clone();
        self.read.insert(path.clone());
        // The KDL parser recurses once per block: refuse what would exhaust its stack.
        if let Some(deep) = input::too_deep(&text) {
            self.cx.report(
                Problem::new(
                    "baseline::too-deep",
                    Span {
                        file,
                        offset: deep.offset,
                        len: 1,
                    },
                    deep.message(),
                )
                .label("too deep")
                .help(deep.help()),
            );
            return;
        }
        let is_root = self.stack.is_empty();
        self.stack.push((path.clone(), None));
        match KdlDocument::parse_v2(&text) {
            Ok(doc) => {
                if is_root {
                    self.root_folder(file, &path, &doc);
                }
                for node in doc.nodes() {
                    self.top_level(NodeReader::new(self.cx, file, node));
                }
            }
            Err(err) => {
                for d in first_of_each_cascade(&text, err.diagnostics) {
                    let message = d.message.unwrap_or_else(|| "malformed KDL".to_string());
                    let range = d.span.offset()..d.span.offset() + d.span.len();
                    // KDL v2 reserves bare true/false/null; say what to write instead.
                    let help = match text.get(range).map(str::trim) {
                        Some(word @ ("true" | "false" | "null")) => {
                            Some(format!("KDL v2 writes this as #{word}"))
                        }
                        _ => d.help,
                    };
                    let mut p =
                        Problem::new("baseline::malformed-kdl", Span::new(file, d.span), message)
                            .label(d.label.unwrap_or_else(|| "here".to_string()));
                    if let Some(help) = help {
                        p = p.help(help);
                    }
                    self.cx.report(p);
                }
            }
        }
        self.stack.pop();
    }

    /// The folder the baseline may read files from: the root file's, or the ancestor its
    /// `settings { root "..." }` names. Read before any include, whatever the node order.
    fn root_folder(&mut self, file: FileId, path: &Path, doc: &KdlDocument) {
        let declared = doc
            .nodes()
            .iter()
            .filter(|n| n.name().value() == "settings")
            .filter_map(|n| n.children())
            .flat_map(|c| c.nodes())
            .find(|n| n.name().value() == "root")
            .and_then(|n| {
                let entry = n.entries().first()?;
                Some((entry.value().as_string()?.to_string(), entry.span()))
            });
        let root = match input::Root::of(path, declared.as_ref().map(|(d, _)| d.as_str())) {
            Ok(root) => root,
            Err(why) => {
                if let Some((_, span)) = declared {
                    self.cx.report(
                        Problem::new("baseline::invalid-value", Span::new(file, span), why)
                            .label("not a root folder for this baseline")
                            .help("name the folder of the root file, or a parent of it inside the same git checkout, e.g. \"..\""),
                    );
                }
                // Files are read from the root file's folder only.
                input::Root::of(path, None).unwrap_or(input::Root {
                    dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
                })
            }
        };
        *self.cx.root.borrow_mut() = Some(root);
    }

    fn top_level(&mut self, r: NodeReader<'_>) {
        match r.name() {
            "settings" => self.settings(r),
            "include" => self.include(r),
            "statement-of-applicability" => self.applicability(r),
            "waiver" => self.waiver(r),
            "param" => self.param(r),
            keyword => match kinds::by_keyword(keyword) {
                Some(_) => self.declaration(r, None),
                None => {
                    let mut known: Vec<&str> = kinds::KINDS.iter().map(|k| k.keyword()).collect();
                    known.extend(META_NODES);
                    r.report(
                        Problem::new(
                            "baseline::unknown-node",
                            r.name_span(),
                            format!("unknown node `{keyword}`"),
                        )
                        .label("not a kind of the language")
                        .help(did_you_mean(keyword, &known)),
                    );
                }
            },
        }
    }

    fn include(&mut self, mut r: NodeReader<'_>) {
        let rel = r.arg_str(0, "the path of a file to include");
        let file = r.file;
        r.finish();
        let Some(rel) = rel else { return };
        let Some(canon) = self.cx.admit(file, &rel, input::Role::Include) else {
            return;
        };
        if let Some(pos) = self.stack.iter().position(|(p, _)| *p == canon) {
            let chain: Vec<String> = self.stack[pos..]
                .iter()
                .map(|(p, _)| source::display_path(p))
                .chain([source::display_path(&canon)])
                .collect();
            return self.cx.report(
                Problem::new(
                    "baseline::include-cycle",
                    rel.span,
                    format!("include cycle: {}", chain.join(" -> ")),
                )
                .label("includes a file that is already being read")
                .help("remove one of the includes in the cycle"),
            );
        }
        if self.read.contains(&canon) {
            // Already included through another path: a diamond, not a cycle. Read it once.
            return;
        }
        let text = match input::read_text(&canon) {
            Ok(t) => t,
            Err(e) => {
                return self.cx.report(
                    Problem::new(
                        "baseline::include-not-found",
                        rel.span,
                        format!("cannot read {}: it {e}", canon.display()),
                    )
                    .label("included here"),
                )
            }
        };
        let id = self.cx.sources.borrow_mut().add(&canon, text);
        if let Some(last) = self.stack.last_mut() {
            last.1 = Some(rel.span);
        }
        self.file(id);
    }

    fn settings(&mut self, mut r: NodeReader<'_>) {
        if let Some((_, first)) = &self.settings {
            r.report(
                Problem::new(
                    "baseline::duplicate",
                    r.name_span(),
                    "`settings` is given more than once",
                )
                .label("second one")
                .also(*first, "first one")
                .help("a baseline has one `settings` node, in its root file"),
            );
        }
        let mut s = Settings {
            span: Some(r.name_span()),
            ..Settings::default()
        };
        if let Some(role) = r.child_str("access-role", "the role name assumed in member accounts") {
            s.access_role = role.value;
        }
        if let Some(regions) = r.child_strs("default-regions", "region names") {
            for region in &regions {
                targets::check_region(&r, region);
            }
            s.default_regions = regions;
        }
        if let Some(n) = r.child_u32("max-concurrency", 1..=256) {
            s.max_concurrency = n.value;
        }
        s.change_log = r.child_str("change-log", "the change log's path");
        s.anchor = r.child("change-log-anchor").and_then(anchor_settings);
        // Read (and checked) before anything else, by `root_folder`.
        let _ = r.child_str("root", "the baseline's root folder");
        for p in r.children("param") {
            if let Some((name, value, span)) = param_entry(p, "value") {
                self.cx
                    .params
                    .borrow_mut()
                    .overrides
                    .insert(name.value, (value, span));
            }
        }
        let span = r.name_span();
        r.finish();
        self.settings.get_or_insert((s, span));
    }

    /// `param "name" default`: a value the including file may set in `settings`.
    fn param(&mut self, r: NodeReader<'_>) {
        let Some((name, default, _)) = param_entry(r, "default value") else {
            return;
        };
        let mut params = self.cx.params.borrow_mut();
        if let Some((_, first)) = params.defaults.get(&name.value) {
            let first = *first;
            drop(params);
            self.cx.report(
                Problem::new(
                    "baseline::duplicate",
                    name.span,
                    format!("the parameter `{}` is declared twice", name.value),
                )
                .label("second declaration")
                .also(first, "first declaration"),
            );
            return;
        }
        params.defaults.insert(name.value, (default, name.span));
    }

    /// `statement-of-applicability { exclude "ISO27001:2022:A.7.1" "why"; justify "..." "how" }`
    fn applicability(&mut self, mut r: NodeReader<'_>) {
        for (verb, applicable) in [("exclude", false), ("justify", true)] {
            for mut c in r.children(verb) {
                let control = c.arg_str(0, "a control id, e.g. \"ISO27001:2022:A.7.1\"");
                let justification = c.arg_str(1, "the justification text");
                c.finish();
                let (Some(control), Some(justification)) = (control, justification) else {
                    continue;
                };
                if let Err(bad) = checks::check_control_id(&control.value) {
                    r.report(
                        Problem::new("baseline::unknown-control", control.span, bad.message)
                            .label(bad.label)
                            .help(bad.help),
                    );
                    continue;
                }
                if let Some(first) = self
                    .applicability
                    .iter()
                    .find(|a| a.control.value == control.value)
                {
                    r.report(
                        Problem::new(
                            "baseline::duplicate",
                            control.span,
                            format!("{} is given applicability twice", control.value),
                        )
                        .label("second time")
                        .also(first.control.span, "first time"),
                    );
                    continue;
                }
                self.applicability.push(Applicability {
                    control,
                    applicable,
                    justification: justification.value,
                });
            }
        }
        r.finish();
    }

    /// `waiver "name" { address "..."; control "..."; owner "..."; ticket "..."; reason "...";
    /// expires "YYYY-MM-DD" }`
    fn waiver(&mut self, mut r: NodeReader<'_>) {
        let name = r.arg_str(0, "the waiver's name");
        let address = r.child_str("address", "an instance address, `*` for any characters");
        let address = r.require(
            address,
            "address",
            "address \"password-policy.default[sandbox]\"",
        );
        let control = r.child_str("control", "a control id, e.g. \"SOC2:CC6.1\"");
        if let Some(c) = &control {
            if let Err(bad) = checks::check_control_id(&c.value) {
                r.report(
                    Problem::new("baseline::unknown-control", c.span, bad.message)
                        .label(bad.label)
                        .help(bad.help),
                );
            }
        }
        let owner = r.child_str("owner", "who answers for it");
        let owner = r.require(owner, "owner", "owner \"platform-team\"");
        let ticket = r.child_str("ticket", "a ticket reference");
        let reason = r.child_str("reason", "why the deviation is accepted");
        let reason = r.require(
            reason,
            "reason",
            "reason \"legacy workload, replaced in Q2\"",
        );
        let expires = r.child_str("expires", "the last day it holds, YYYY-MM-DD");
        let expires = r.require(expires, "expires", "expires \"2027-03-31\"");
        if let Some(e) = expires.as_ref().filter(|e| !checks::is_iso_date(&e.value)) {
            r.report(
                Problem::new(
                    "baseline::invalid-value",
                    e.span,
                    format!("\"{}\" is not a date", e.value),
                )
                .label("not YYYY-MM-DD")
                .help("write the last day the waiver holds as YYYY-MM-DD, e.g. \"2027-03-31\""),
            );
        }
        r.finish();
        let (Some(name), Some(address), Some(owner), Some(reason), Some(expires)) =
            (name, address, owner, reason, expires)
        else {
            return;
        };
        if let Some(first) = self.waivers.iter().find(|w| w.name.value == name.value) {
            self.cx.report(
                Problem::new(
                    "baseline::duplicate",
                    name.span,
                    format!("waiver \"{}\" is declared twice", name.value),
                )
                .label("second time")
                .also(first.name.span, "first time"),
            );
            return;
        }
        self.waivers.push(Waiver {
            name,
            address,
            control: control.map(|c| c.value),
            owner: owner.value,
            ticket: ticket.map(|t| t.value),
            reason: reason.value,
            expires: expires.value,
        });
    }

    fn declaration(&mut self, mut r: NodeReader<'_>, parent: Option<&str>) {
        let kind = kinds::by_keyword(r.name()).expect("caller checked the keyword");
        let name = match kind.naming {
            Naming::Required => r.arg_str(0, "a name"),
            Naming::Singleton => Some(
                r.opt_arg_str(0, "a name")
                    .unwrap_or_else(|| Spanned::new("default".to_string(), r.name_span())),
            ),
        };
        let Some(mut name) = name else {
            return r.finish();
        };
        if let Some(parent) = parent {
            name.value = format!("{parent}/{}", name.value);
        }
        if kind.nests {
            for child in r.children(kind.keyword()) {
                self.declaration(child, Some(&name.value));
            }
        }
        // `controls ... default=#false` replaces the kind's default mapping instead of
        // adding to it.
        let mut default_controls = true;
        let controls = r.children("controls").into_iter().flat_map(|mut c| {
            let ids = c.args_str("control ids");
            if c.prop_bool("default").is_some_and(|b| !b.value) {
                default_controls = false;
            }
            c.finish();
            ids
        });
        let controls: Vec<_> = controls.collect();
        for id in &controls {
            if let Err(bad) = checks::check_control_id(&id.value) {
                r.report(
                    Problem::new("baseline::unknown-control", id.span, bad.message)
                        .label(bad.label)
                        .help(bad.help),
                );
            }
        }
        let depends_on = r
            .child_strs(
                "depends-on",
                "addresses such as \"log-bucket.org-trail-logs\"",
            )
            .unwrap_or_default();
        let prevent_destroy = r.child_bool("prevent-destroy").is_some_and(|b| b.value);
        let observe = r.child_bool("observe").is_some_and(|b| b.value);
        let placement = self.placement(&mut r, kind);
        let spec = (kind.parse)(&mut r, &name);
        let span = r.span();
        r.finish();
        self.declarations.push(Declaration {
            kind,
            name,
            span,
            controls,
            default_controls,
            depends_on,
            prevent_destroy,
            observe,
            placement,
            spec,
        });
    }

    fn placement(&self, r: &mut NodeReader<'_>, kind: &'static kinds::Kind) -> Placement {
        match kind.placing {
            Placing::Organization => Placement::Organization,
            Placing::Single => {
                let account = r.child_str("account", "the account's name or id");
                if let Some(a) = &account {
                    targets::check_account_ref(r, a);
                }
                let region = if kind.regional {
                    r.child_str("region", "a region name")
                } else {
                    None
                };
                if let Some(reg) = &region {
                    targets::check_region(r, reg);
                }
                Placement::Single { account, region }
            }
            Placing::Targets => match r.child("targets") {
                Some(t) => Placement::Targets(targets::parse_targets(t, kind.regional)),
                None => {
                    r.report(
                        Problem::new(
                            "baseline::missing-value",
                            r.name_span(),
                            format!("`{}` needs `targets`", kind.keyword()),
                        )
                        .label("no targets")
                        .help("add, for example: targets { all-accounts }"),
                    );
                    Placement::Targets(targets::Targets {
                        span: r.name_span(),
                        all_accounts: None,
                        ous: Vec::new(),
                        accounts: Vec::new(),
                        exclude_accounts: Vec::new(),
                        exclude_ous: Vec::new(),
                        regions: Vec::new(),
                        exclude_regions: Vec::new(),
                    })
                }
            },
        }
    }
}

/// `change-log-anchor { key "alias/..."; bucket "..."; account; region; retention-days; prefix }`.
fn anchor_settings(mut r: NodeReader<'_>) -> Option<AnchorSettings> {
    let invalid = |r: &NodeReader<'_>, value: &Spanned<String>, what: &str, help: String| {
        r.report(
            Problem::new(
                "baseline::invalid-value",
                value.span,
                format!("\"{}\" is not a valid {what}", value.value),
            )
            .label(format!("invalid {what}"))
            .help(help),
        );
    };
    let key = r.child_str("key", "the KMS signing key: alias/..., key ARN or key id");
    if let Some(k) = &key {
        let checked = if k.value.starts_with("alias/") {
            checks::check_kms_alias(&k.value)
        } else if k.value.starts_with("arn:") && !k.value.contains(":kms:") {
            Err("a key ARN is arn:PARTITION:kms:REGION:ACCOUNT:key/ID".to_string())
        } else if k.value.is_empty() || k.value.contains(char::is_whitespace) {
            Err("name the key by alias/..., key ARN or key id".to_string())
        } else {
            Ok(())
        };
        if let Err(e) = checked {
            invalid(&r, k, "KMS key", e);
        }
    }
    let bucket = r.child_str(
        "bucket",
        "the S3 bucket (with Object Lock) holding the anchors",
    );
    if let Some(b) = &bucket {
        if let Err(e) = checks::check_bucket_name(&b.value) {
            invalid(&r, b, "bucket name", e);
        }
    }
    let account = r.child_str(
        "account",
        "the account (name or id) holding the key and bucket",
    );
    if let Some(a) = &account {
        targets::check_account_ref(&r, a);
    }
    let region = r.child_str("region", "the region of the key and bucket");
    if let Some(region) = &region {
        targets::check_region(&r, region);
    }
    let retention = r.child_u32("retention-days", 1..=36_500);
    let prefix = r.child_str("prefix", "the key prefix of the anchors");
    if let Some(p) = &prefix {
        if p.value.starts_with('/') || p.value.len() > 512 {
            invalid(
                &r,
                p,
                "prefix",
                "a prefix does not start with `/` and has at most 512 characters".into(),
            );
        }
    }
    let key = r.require(key, "key", "key \"alias/baseline-change-log-anchor\"");
    let bucket = r.require(bucket, "bucket", "bucket \"acme-change-log-anchors\"");
    let span = r.name_span();
    r.finish();
    Some(AnchorSettings {
        key: key?.value,
        bucket: bucket?.value,
        account: account.map(|a| a.value),
        region: region.map(|r| r.value),
        retention_days: retention.map_or(AnchorSettings::DEFAULT_RETENTION_DAYS, |d| d.value),
        prefix: prefix.map_or_else(|| AnchorSettings::DEFAULT_PREFIX.to_string(), |p| p.value),
        span,
    })
}
