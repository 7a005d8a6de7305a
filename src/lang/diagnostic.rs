//! Problems found in a baseline, reported as miette diagnostics at `file:line:col`.
//!
//! Loading never stops at the first problem: every check pushes onto [`Problems`], and the
//! caller reports them all at once before any AWS call is made.

use std::fmt;

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use super::source::{Sources, Span};

/// A labelled place in a source file.
#[derive(Debug, Clone)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One problem in the user's files.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Stable identifier of the class of problem, e.g. `baseline::unknown-node`.
    pub code: &'static str,
    pub message: String,
    pub primary: Label,
    /// Further places that explain the problem (e.g. the first of two duplicates).
    pub secondary: Vec<Label>,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
            primary: Label {
                span,
                text: "here".into(),
            },
            secondary: Vec::new(),
            help: None,
        }
    }

    pub fn label(mut self, text: impl Into<String>) -> Self {
        self.primary.text = text.into();
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn also(mut self, span: Span, text: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            text: text.into(),
        });
        self
    }
}

/// The problems found so far.
#[derive(Debug, Default)]
pub struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        self.list.push(problem);
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn len(&self) -> usize {
        self.list.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Problem> {
        self.list.iter()
    }

    pub fn extend(&mut self, other: Problems) {
        self.list.extend(other.list);
    }

    /// Sort by file and position, so output reads top to bottom, and drop exact repeats.
    pub fn sort(&mut self) {
        self.list
            .sort_by_key(|p| (p.primary.span.file, p.primary.span.offset));
        self.list.dedup_by(|a, b| {
            a.code == b.code && a.primary.span == b.primary.span && a.message == b.message
        });
    }
}

/// Suggest the closest of `candidates` to `word`, for "did you mean" hints.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// "did you mean `x`?" when a close candidate exists, else a list of what is allowed.
pub fn did_you_mean(word: &str, candidates: &[&str]) -> String {
    match closest(word, candidates.iter().copied()) {
        Some(c) => format!("did you mean `{c}`?"),
        None if candidates.is_empty() => "nothing is allowed here".to_string(),
        None => format!(
            "expected one of: {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A [`Problem`] bound to its source text, which is what miette renders.
struct Rendered<'a> {
    problem: &'a Problem,
    source: NamedSource<std::sync::Arc<String>>,
    /// Labels that point into other files are shown as notes instead.
    notes: Vec<String>,
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.problem.fmt(f)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem.message)
    }
}

impl std::error::Error for Rendered<'_> {}

impl Diagnostic for Rendered<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.problem.code))
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let mut parts: Vec<String> = self.problem.help.iter().cloned().collect();
        parts.extend(self.notes.iter().cloned());
        (!parts.is_empty()).then(|| Box::new(parts.join("\n")) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let file = self.problem.primary.span.file;
        let primary = std::iter::once(LabeledSpan::new_primary_with_span(
            Some(self.problem.primary.text.clone()),
            self.problem.primary.span.source_span(),
        ));
        let secondary = self
            .problem
            .secondary
            .iter()
            .filter(move |l| l.span.file == file)
            .map(|l| LabeledSpan::new_with_span(Some(l.text.clone()), l.span.source_span()));
        Some(Box::new(primary.chain(secondary)))
    }
}

/// How diagnostics are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Color,
    Plain,
}

/// How many problems are drawn in full; the rest are counted. A thousand problems help
/// nobody, and a hostile file can produce tens of thousands.
pub const MAX_RENDERED: usize = 100;

/// The widest column a source snippet is drawn at. A label further right (a minified policy
/// of one long line) is given as `file:line:col` instead: such a line is unreadable drawn,
/// and miette panics on columns past 65,535.
pub const MAX_SNIPPET_COLUMN: usize = 1000;

/// Render every problem (the first [`MAX_RENDERED`]) as a miette report, followed by a
/// one-line count.
pub fn render(problems: &Problems, sources: &Sources, style: Style) -> String {
    let theme = match style {
        Style::Color => GraphicalTheme::unicode(),
        Style::Plain => GraphicalTheme::unicode_nocolor(),
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for problem in problems.iter().take(MAX_RENDERED) {
        let file = sources.get(problem.primary.span.file);
        let far_right = std::iter::once(&problem.primary)
            .chain(&problem.secondary)
            .filter(|l| l.span.file == problem.primary.span.file)
            .any(|l| sources.line_col(l.span).1 > MAX_SNIPPET_COLUMN);
        if far_right {
            out.push_str(&render_without_snippet(problem, sources));
            out.push('\n');
            continue;
        }
        let notes = problem
            .secondary
            .iter()
            .filter(|l| l.span.file != problem.primary.span.file)
            .map(|l| format!("{}: {}", sources.location(l.span), l.text))
            .collect();
        let rendered = Rendered {
            problem,
            // The text is shared, not copied per problem.
            source: NamedSource::new(file.display.clone(), file.text.clone()),
            notes,
        };
        let _ = handler.render_report(&mut out, &rendered);
        out.push('\n');
    }
    let n = problems.len();
    if n > MAX_RENDERED {
        out.push_str(&format!(
            "... and {} more problem(s), not shown: fix these first\n\n",
            n - MAX_RENDERED
        ));
    }
    out.push_str(&format!(
        "{n} problem{} found\n",
        if n == 1 { "" } else { "s" }
    ));
    out
}

/// A problem as text with its location, for labels too far right to draw.
fn render_without_snippet(problem: &Problem, sources: &Sources) -> String {
    let mut out = format!(
        "{}\n\n  × {}\n    at {} ({}; the line is too long to show)\n",
        problem.code,
        problem.message,
        sources.location(problem.primary.span),
        problem.primary.text
    );
    for l in &problem.secondary {
        out.push_str(&format!("    {}: {}\n", sources.location(l.span), l.text));
    }
    if let Some(help) = &problem.help {
        out.push_str(&format!("  help: {help}\n"));
    }
    out
}

/// One line per problem, `file:line:col: error[code]: message`, for logs and tests.
pub fn render_short(problems: &Problems, sources: &Sources) -> String {
    problems
        .iter()
        .map(|p| {
            format!(
                "{}: error[{}]: {}\n",
                sources.location(p.primary.span),
                p.code,
                p.message
            )
        })
        .collect()
}

/// Where a span is, for machines: the file and a range of 1-based lines and columns (in
/// characters) with byte offsets, as `terraform validate -json` gives it.
fn json_place(sources: &Sources, span: Span) -> serde_json::Value {
    let end = Span {
        offset: span.offset + span.len,
        ..span
    };
    let point = |s: Span| {
        let (line, column) = sources.line_col(s);
        serde_json::json!({"line": line, "column": column, "byte": s.offset})
    };
    serde_json::json!({
        "file": sources.get(span.file).display,
        "range": {"start": point(span), "end": point(end)},
    })
}

/// Each problem as a JSON diagnostic (`validate --format json`; docs/language.md).
pub fn to_json(problems: &Problems, sources: &Sources) -> Vec<serde_json::Value> {
    problems
        .iter()
        .map(|p| {
            let mut d = serde_json::json!({
                "severity": "error",
                "code": p.code,
                "message": p.message,
                "label": p.primary.text,
                "help": p.help,
                "related": p.secondary.iter().map(|l| {
                    let mut r = json_place(sources, l.span);
                    r["label"] = l.text.clone().into();
                    r
                }).collect::<Vec<_>>(),
            });
            if let (Some(d), serde_json::Value::Object(place)) =
                (d.as_object_mut(), json_place(sources, p.primary.span))
            {
                d.extend(place);
            }
            d
        })
        .collect()
}

/// GitHub Actions workflow commands: one `::error file=...,line=...::message` line per problem,
/// which GitHub shows as an annotation on that line of the pull request.
pub fn to_github(problems: &Problems, sources: &Sources) -> String {
    problems
        .iter()
        .map(|p| {
            let span = p.primary.span;
            let (line, col) = sources.line_col(span);
            let (end_line, end_col) = sources.line_col(Span {
                offset: span.offset + span.len,
                ..span
            });
            let mut message = p.message.clone();
            if let Some(help) = &p.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            github_command(
                "error",
                &[
                    ("file", sources.get(span.file).display.as_str()),
                    ("line", &line.to_string()),
                    ("col", &col.to_string()),
                    ("endLine", &end_line.to_string()),
                    ("endColumn", &end_col.to_string()),
                    ("title", p.code),
                ],
                &message,
            )
        })
        .collect()
}

/// `::KIND key=value,...::message`, escaped as GitHub's toolkit escapes workflow commands.
pub fn github_command(kind: &str, properties: &[(&str, &str)], message: &str) -> String {
    let data = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let property = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let properties: Vec<String> = properties
        .iter()
        .map(|(k, v)| format!("{k}={}", property(v)))
        .collect();
    let separator = if properties.is_empty() { "" } else { " " };
    format!(
        "::{kind}{separator}{}::{}\n",
        properties.join(","),
        data(message)
    )
}
