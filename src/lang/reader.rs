//! Typed, checked access to KDL nodes.
//!
//! A kind's parser asks a [`NodeReader`] for the values and children it expects; the reader
//! reports missing values and wrong types on the spot and, in [`NodeReader::finish`], every
//! property, argument or child that nobody asked for, with a "did you mean" hint drawn from
//! what was asked for. The schema of a node is therefore exactly what its parser reads.

use std::cell::RefCell;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use kdl::{KdlEntry, KdlNode, KdlValue};

use super::diagnostic::{did_you_mean, Problem, Problems};
use super::source::{FileId, Sources, Span, Spanned};

/// Shared state while loading: the files read so far and the problems found.
#[derive(Debug, Default)]
pub struct Cx {
    pub sources: RefCell<Sources>,
    pub problems: RefCell<Problems>,
    /// Parameters (`param "name" default` in a baseline, `settings { param "name" value }`
    /// in the including file), resolved where a value is written `(param)"name"`.
    pub params: RefCell<Params>,
    /// The folder whose files the baseline may read (set once the root file is parsed).
    pub root: RefCell<Option<super::input::Root>>,
}

/// Parameter values, as far as loading has read them.
#[derive(Debug, Default)]
pub struct Params {
    /// name -> (default, where declared)
    pub defaults: std::collections::BTreeMap<String, (KdlValue, Span)>,
    /// name -> (value, where set), from the root file's `settings`.
    pub overrides: std::collections::BTreeMap<String, (KdlValue, Span)>,
}

impl Cx {
    pub fn report(&self, problem: Problem) {
        self.problems.borrow_mut().push(problem);
    }

    /// Check that `path` (as written, relative to `file`'s folder) may be read as `role`:
    /// inside the root folder, of the right extension, outside `.git`. Returns the canonical
    /// path, or reports why not (naming the path, never its content) at `at`.
    pub fn admit(
        &self,
        file: FileId,
        written: &Spanned<String>,
        role: super::input::Role,
    ) -> Option<PathBuf> {
        let path = self.dir_of(file).join(&written.value);
        let (code, what) = match role {
            super::input::Role::Include => ("baseline::include-not-found", "included file"),
            super::input::Role::Document => ("baseline::file-not-found", "policy file"),
        };
        let canon = match path.canonicalize() {
            Ok(p) => p,
            Err(e) => {
                self.report(
                    Problem::new(
                        code,
                        written.span,
                        format!("cannot read {}: {e}", path.display()),
                    )
                    .label(what)
                    .help("paths are relative to the file that names them"),
                );
                return None;
            }
        };
        let refusal = self
            .root
            .borrow()
            .as_ref()
            .and_then(|root| root.refuses(&canon, role));
        if let Some(why) = refusal {
            self.report(
                Problem::new(
                    "baseline::file-refused",
                    written.span,
                    format!("{} {why}", path.display()),
                )
                .label(what)
                .help(
                    "a baseline reads only .kdl includes and .json policy documents inside its \
                     root folder (the root file's folder, or `settings { root \"..\" }` up to \
                     the git checkout's top)",
                ),
            );
            return None;
        }
        Some(canon)
    }

    /// Directory of a source file, against which `file=` and `include` paths resolve.
    pub fn dir_of(&self, file: FileId) -> PathBuf {
        let sources = self.sources.borrow();
        sources
            .get(file)
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// Reads one KDL node, tracking what was consumed.
pub struct NodeReader<'a> {
    pub cx: &'a Cx,
    pub file: FileId,
    pub node: &'a KdlNode,
    asked_props: Vec<&'static str>,
    asked_children: Vec<&'static str>,
    args_consumed: usize,
    children_used: Vec<bool>,
}

/// How a value is described in messages: "a string", "an integer", ...
pub fn describe(value: &KdlValue) -> String {
    match value {
        KdlValue::String(s) => format!("the string \"{s}\""),
        KdlValue::Integer(i) => format!("the integer {i}"),
        KdlValue::Float(f) => format!("the number {f}"),
        KdlValue::Bool(b) => format!("#{b}"),
        KdlValue::Null => "#null".to_string(),
    }
}

fn bool_hint(value: &KdlValue) -> Option<&'static str> {
    match value.as_string() {
        Some("true" | "false" | "yes" | "no") => Some("KDL v2 writes booleans as #true and #false"),
        _ => None,
    }
}

impl<'a> NodeReader<'a> {
    pub fn new(cx: &'a Cx, file: FileId, node: &'a KdlNode) -> Self {
        // A type annotation on a node means nothing to baseline: say so rather than ignore it.
        if let Some(ty) = node.ty() {
            cx.report(
                Problem::new(
                    "baseline::unknown-annotation",
                    Span::new(file, ty.span()),
                    format!("`({})` on a node means nothing to baseline", ty.value()),
                )
                .label("ignored annotation")
                .help(
                    "remove it; `(param)` annotates a value, e.g. min-length (param)\"min-length\"",
                ),
            );
        }
        let n = node.children().map_or(0, |c| c.nodes().len());
        NodeReader {
            cx,
            file,
            node,
            asked_props: Vec::new(),
            asked_children: Vec::new(),
            args_consumed: 0,
            children_used: vec![false; n],
        }
    }

    pub fn name(&self) -> &'a str {
        self.node.name().value()
    }

    /// Span of the node's name, where most problems about the node are reported.
    pub fn name_span(&self) -> Span {
        Span::new(self.file, self.node.name().span())
    }

    /// Span of the whole node, children included.
    pub fn span(&self) -> Span {
        Span::new(self.file, self.node.span())
    }

    pub fn entry_span(&self, entry: &KdlEntry) -> Span {
        Span::new(self.file, entry.span())
    }

    pub fn report(&self, problem: Problem) {
        self.cx.report(problem);
    }

    fn args(&self) -> impl Iterator<Item = &'a KdlEntry> {
        self.node.entries().iter().filter(|e| e.name().is_none())
    }

    fn prop_entry(&mut self, key: &'static str) -> Option<&'a KdlEntry> {
        self.asked_props.push(key);
        // KDL allows a repeated property; the last one wins, as the spec says.
        self.node
            .entries()
            .iter()
            .rev()
            .find(|e| e.name().is_some_and(|n| n.value() == key))
    }

    // ---- positional arguments ----

    /// The `index`th positional argument as a string; reports it missing or mistyped.
    pub fn arg_str(&mut self, index: usize, what: &str) -> Option<Spanned<String>> {
        self.args_consumed = self.args_consumed.max(index + 1);
        match self.args().nth(index) {
            Some(entry) => self.expect_str(entry, what),
            None => {
                self.report(
                    Problem::new(
                        "baseline::missing-value",
                        self.name_span(),
                        format!("`{}` needs {what}", self.name()),
                    )
                    .label(format!("{what} missing")),
                );
                None
            }
        }
    }

    /// The `index`th positional argument as a string, if present.
    pub fn opt_arg_str(&mut self, index: usize, what: &str) -> Option<Spanned<String>> {
        self.args_consumed = self.args_consumed.max(index + 1);
        let entry = self.args().nth(index)?;
        self.expect_str(entry, what)
    }

    /// Every positional argument as a string; at least one is required.
    pub fn args_str(&mut self, what: &str) -> Vec<Spanned<String>> {
        self.args_consumed = usize::MAX;
        let entries: Vec<_> = self.args().collect();
        if entries.is_empty() {
            self.report(
                Problem::new(
                    "baseline::missing-value",
                    self.name_span(),
                    format!("`{}` needs at least one value: {what}", self.name()),
                )
                .label("no value given"),
            );
        }
        entries
            .into_iter()
            .filter_map(|e| self.expect_str(e, what))
            .collect()
    }

    /// A single boolean argument; a bare node (`multi-region`) means `#true`.
    /// Mark argument `index` as read, whatever its type (the caller reads the entry itself).
    pub fn opt_arg_any(&mut self, index: usize) -> Option<&'a KdlEntry> {
        let entry = self.args().nth(index)?;
        self.args_consumed = self.args_consumed.max(index + 1);
        Some(entry)
    }

    pub fn arg_bool_or_flag(&mut self) -> Option<Spanned<bool>> {
        self.args_consumed = self.args_consumed.max(1);
        match self.args().next() {
            None => Some(Spanned::new(true, self.name_span())),
            Some(entry) => self.expect_bool(entry),
        }
    }

    pub fn arg_u32(&mut self, index: usize, range: RangeInclusive<u32>) -> Option<Spanned<u32>> {
        self.args_consumed = self.args_consumed.max(index + 1);
        match self.args().nth(index) {
            Some(entry) => self.expect_u32(entry, range),
            None => {
                self.report(
                    Problem::new(
                        "baseline::missing-value",
                        self.name_span(),
                        format!("`{}` needs a number", self.name()),
                    )
                    .label("number missing"),
                );
                None
            }
        }
    }

    // ---- properties ----

    pub fn has_prop(&self, key: &str) -> bool {
        self.node
            .entries()
            .iter()
            .any(|e| e.name().is_some_and(|n| n.value() == key))
    }

    pub fn prop_str(&mut self, key: &'static str) -> Option<Spanned<String>> {
        let entry = self.prop_entry(key)?;
        self.expect_str(entry, &format!("`{key}`"))
    }

    pub fn prop_bool(&mut self, key: &'static str) -> Option<Spanned<bool>> {
        let entry = self.prop_entry(key)?;
        self.expect_bool(entry)
    }

    pub fn prop_u32(
        &mut self,
        key: &'static str,
        range: RangeInclusive<u32>,
    ) -> Option<Spanned<u32>> {
        let entry = self.prop_entry(key)?;
        self.expect_u32(entry, range)
    }

    /// A property that must be present.
    pub fn required_prop_str(&mut self, key: &'static str) -> Option<Spanned<String>> {
        let value = self.prop_str(key);
        if value.is_none() && !self.has_prop(key) {
            self.report(
                Problem::new(
                    "baseline::missing-value",
                    self.name_span(),
                    format!("`{}` needs the property `{key}=`", self.name()),
                )
                .label(format!("`{key}` missing")),
            );
        }
        value
    }

    // ---- children ----

    fn find_children(&mut self, name: &'static str) -> Vec<(usize, &'a KdlNode)> {
        self.asked_children.push(name);
        let Some(doc) = self.node.children() else {
            return Vec::new();
        };
        let found: Vec<_> = doc
            .nodes()
            .iter()
            .enumerate()
            .filter(|(_, n)| n.name().value() == name)
            .collect();
        for (i, _) in &found {
            self.children_used[*i] = true;
        }
        found
    }

    /// Every child node called `name`.
    pub fn children(&mut self, name: &'static str) -> Vec<NodeReader<'a>> {
        self.find_children(name)
            .into_iter()
            .map(|(_, n)| NodeReader::new(self.cx, self.file, n))
            .collect()
    }

    /// The single child node called `name`; a second one is reported as a duplicate.
    pub fn child(&mut self, name: &'static str) -> Option<NodeReader<'a>> {
        let mut found = self.children(name).into_iter();
        let first = found.next()?;
        for dup in found {
            self.report(
                Problem::new(
                    "baseline::duplicate",
                    dup.name_span(),
                    format!("`{name}` is given more than once"),
                )
                .label("second one")
                .also(first.name_span(), "first one")
                .help("keep one of them"),
            );
        }
        Some(first)
    }

    /// `name "value"`: a child with exactly one string argument.
    pub fn child_str(&mut self, name: &'static str, what: &str) -> Option<Spanned<String>> {
        let mut c = self.child(name)?;
        let value = c.arg_str(0, what);
        c.finish();
        value
    }

    /// `name "a" "b" ...`: a child with one or more string arguments.
    pub fn child_strs(&mut self, name: &'static str, what: &str) -> Option<Vec<Spanned<String>>> {
        let mut c = self.child(name)?;
        let values = c.args_str(what);
        c.finish();
        Some(values)
    }

    /// `name #true`, `name #false`, or a bare `name` meaning `#true`.
    pub fn child_bool(&mut self, name: &'static str) -> Option<Spanned<bool>> {
        let mut c = self.child(name)?;
        let value = c.arg_bool_or_flag();
        c.finish();
        value
    }

    pub fn child_u32(
        &mut self,
        name: &'static str,
        range: RangeInclusive<u32>,
    ) -> Option<Spanned<u32>> {
        let mut c = self.child(name)?;
        let value = c.arg_u32(0, range);
        c.finish();
        value
    }

    /// Report a child node that must be present but is not. A child that is present with a
    /// bad value was reported already, when it was read.
    pub fn require<T>(&self, value: Option<T>, name: &str, example: &str) -> Option<T> {
        let present = self
            .node
            .children()
            .is_some_and(|c| c.nodes().iter().any(|n| n.name().value() == name));
        if value.is_none() && !present {
            self.report(
                Problem::new(
                    "baseline::missing-value",
                    self.name_span(),
                    format!("`{}` needs a `{name}`", self.name()),
                )
                .label(format!("`{name}` missing"))
                .help(format!("add, for example: {example}")),
            );
        }
        value
    }

    // ---- typed values ----

    /// The value an entry stands for: itself, or a parameter's value when it is written
    /// `(param)"name"`. `None` (reported) for an unknown parameter.
    fn value_of(&self, entry: &KdlEntry) -> Option<KdlValue> {
        match entry.ty() {
            None => return Some(entry.value().clone()),
            Some(t) if t.value() == "param" => {}
            // (u8)300 and the like: KDL allows them, baseline would silently ignore them.
            Some(t) => {
                self.report(
                    Problem::new(
                        "baseline::unknown-annotation",
                        Span::new(self.file, t.span()),
                        format!("unknown type annotation `({})`", t.value()),
                    )
                    .label("not understood")
                    .help("baseline understands only (param), which names a parameter"),
                );
                return None;
            }
        }
        let Some(name) = entry.value().as_string() else {
            self.report(
                Problem::new(
                    "baseline::wrong-type",
                    self.entry_span(entry),
                    "a parameter reference is a name in quotes, e.g. (param)\"retention-days\"",
                )
                .label("expected a parameter name"),
            );
            return None;
        };
        let params = self.cx.params.borrow();
        match params
            .overrides
            .get(name)
            .or_else(|| params.defaults.get(name))
        {
            Some((value, _)) => Some(value.clone()),
            None => {
                let known: Vec<&str> = params.defaults.keys().map(String::as_str).collect();
                self.report(
                    Problem::new(
                        "baseline::unknown-parameter",
                        self.entry_span(entry),
                        format!("no parameter `{name}` is declared (before this use)"),
                    )
                    .label("unknown parameter")
                    .help(did_you_mean(name, &known)),
                );
                None
            }
        }
    }

    pub fn expect_str(&self, entry: &KdlEntry, what: &str) -> Option<Spanned<String>> {
        match &self.value_of(entry)? {
            KdlValue::String(s) => Some(Spanned::new(s.clone(), self.entry_span(entry))),
            other => {
                self.report(
                    Problem::new(
                        "baseline::wrong-type",
                        self.entry_span(entry),
                        format!("expected a string for {what}, found {}", describe(other)),
                    )
                    .label("expected a string")
                    .help("quote the value, e.g. \"value\""),
                );
                None
            }
        }
    }

    pub fn expect_bool(&self, entry: &KdlEntry) -> Option<Spanned<bool>> {
        match &self.value_of(entry)? {
            KdlValue::Bool(b) => Some(Spanned::new(*b, self.entry_span(entry))),
            other => {
                let mut p = Problem::new(
                    "baseline::wrong-type",
                    self.entry_span(entry),
                    format!("expected #true or #false, found {}", describe(other)),
                )
                .label("expected a boolean");
                if let Some(hint) = bool_hint(other) {
                    p = p.help(hint);
                }
                self.report(p);
                None
            }
        }
    }

    pub fn expect_u32(&self, entry: &KdlEntry, range: RangeInclusive<u32>) -> Option<Spanned<u32>> {
        let span = self.entry_span(entry);
        let (lo, hi) = (*range.start(), *range.end());
        match &self.value_of(entry)? {
            KdlValue::Integer(i) if (lo as i128..=hi as i128).contains(i) => {
                Some(Spanned::new(*i as u32, span))
            }
            KdlValue::Integer(i) => {
                self.report(
                    Problem::new(
                        "baseline::out-of-range",
                        span,
                        format!("{i} is out of range: AWS accepts {lo} to {hi}"),
                    )
                    .label("out of range"),
                );
                None
            }
            other => {
                let mut p = Problem::new(
                    "baseline::wrong-type",
                    span,
                    format!("expected a whole number, found {}", describe(other)),
                )
                .label("expected a number");
                if other.as_string().is_some_and(|s| s.parse::<u32>().is_ok()) {
                    p = p.help("write the number without quotes");
                }
                self.report(p);
                None
            }
        }
    }

    /// Report whatever was not read: unknown properties, extra arguments, unknown children.
    pub fn finish(self) {
        let this = self.name();
        for entry in self.node.entries() {
            match entry.name() {
                Some(key) if !self.asked_props.contains(&key.value()) => {
                    let help = did_you_mean(key.value(), &self.asked_props);
                    self.report(
                        Problem::new(
                            "baseline::unknown-property",
                            self.entry_span(entry),
                            format!("`{this}` has no property `{}`", key.value()),
                        )
                        .label("unknown property")
                        .help(help),
                    );
                }
                _ => {}
            }
        }
        for entry in self.args().skip(self.args_consumed) {
            self.report(
                Problem::new(
                    "baseline::unexpected-value",
                    self.entry_span(entry),
                    format!("`{this}` takes no further value here"),
                )
                .label("unexpected value")
                .help("remove it"),
            );
        }
        if let Some(doc) = self.node.children() {
            for (node, used) in doc.nodes().iter().zip(&self.children_used) {
                if !used {
                    let name = node.name().value();
                    let help = did_you_mean(name, &self.asked_children);
                    self.report(
                        Problem::new(
                            "baseline::unknown-node",
                            Span::new(self.file, node.name().span()),
                            format!("`{this}` has no child `{name}`"),
                        )
                        .label("unknown here")
                        .help(help),
                    );
                }
            }
        }
    }
}
