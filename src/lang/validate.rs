//! Checks across declarations: duplicates, references, `depends-on`, kind-wide quotas and
//! dependency cycles. Run once every file is parsed, before any AWS call.

use std::collections::HashMap;

use super::diagnostic::{did_you_mean, Problem};
use super::model::{Baseline, Placement};
use super::reader::Cx;
use crate::graph::ResourceGraph;
use crate::kinds;

pub fn run(baseline: &Baseline, cx: &Cx) {
    duplicates(baseline, cx);
    references(baseline, cx);
    depends_on(baseline, cx);
    for kind in kinds::KINDS {
        let decls: Vec<_> = baseline
            .declarations
            .iter()
            .filter(|d| d.kind.keyword() == kind.keyword())
            .collect();
        (kind.check_all)(baseline, &decls, cx);
    }
    cycles(baseline, cx);
}

fn duplicates(baseline: &Baseline, cx: &Cx) {
    let mut seen = HashMap::new();
    for decl in &baseline.declarations {
        if let Some(first) = seen.insert(decl.address(), decl.name.span) {
            cx.report(
                Problem::new(
                    "baseline::duplicate",
                    decl.name.span,
                    format!("`{}` is declared more than once", decl.address()),
                )
                .label("second declaration")
                .also(first, "first declared here")
                .help("names are unique per kind; rename or remove one"),
            );
        }
    }
}

/// Report a reference to a `kind` called `name` that no declaration provides.
fn unknown_reference(
    baseline: &Baseline,
    cx: &Cx,
    kind: &str,
    name: &super::source::Spanned<String>,
) {
    let candidates: Vec<&str> = baseline
        .declarations
        .iter()
        .filter(|d| d.kind.keyword() == kind)
        .map(|d| d.name.value.as_str())
        .collect();
    let help = if candidates.is_empty() {
        format!("declare it: {kind} \"{}\" {{ ... }}", name.value)
    } else {
        did_you_mean(&name.value, &candidates)
    };
    cx.report(
        Problem::new(
            "baseline::unknown-reference",
            name.span,
            format!("no {kind} named \"{}\" is declared", name.value),
        )
        .label(format!("unknown {kind}"))
        .help(help),
    );
}

fn references(baseline: &Baseline, cx: &Cx) {
    for decl in &baseline.declarations {
        for r in decl.spec.references() {
            if baseline.find(r.kind, &r.name.value).is_none() {
                unknown_reference(baseline, cx, r.kind, &r.name);
            }
        }
        if let Placement::Targets(t) = &decl.placement {
            for ou in t.ou_references() {
                if baseline.find("organizational-unit", &ou.value).is_none() {
                    unknown_reference(baseline, cx, "organizational-unit", ou);
                }
            }
        }
    }
}

/// Split `kind.name` as written in `depends-on`.
pub fn split_address(address: &str) -> Option<(&str, &str)> {
    address
        .split_once('.')
        .filter(|(k, n)| !k.is_empty() && !n.is_empty())
}

fn depends_on(baseline: &Baseline, cx: &Cx) {
    let keywords: Vec<&str> = kinds::KINDS.iter().map(|k| k.keyword()).collect();
    for decl in &baseline.declarations {
        for dep in &decl.depends_on {
            match split_address(&dep.value) {
                None => cx.report(
                    Problem::new(
                        "baseline::invalid-address",
                        dep.span,
                        format!("\"{}\" is not an address", dep.value),
                    )
                    .label("expected kind.name")
                    .help("write the address as kind.name, e.g. \"log-bucket.org-trail-logs\""),
                ),
                Some((kind, _)) if kinds::by_keyword(kind).is_none() => cx.report(
                    Problem::new(
                        "baseline::unknown-node",
                        dep.span,
                        format!("unknown kind `{kind}`"),
                    )
                    .label("not a kind of the language")
                    .help(did_you_mean(kind, &keywords)),
                ),
                Some((kind, name)) if baseline.find(kind, name).is_none() => {
                    let name = super::source::Spanned::new(name.to_string(), dep.span);
                    unknown_reference(baseline, cx, kind, &name);
                }
                Some(_) => {}
            }
        }
    }
}

fn cycles(baseline: &Baseline, cx: &Cx) {
    let graph = ResourceGraph::build(baseline);
    for cycle in graph.cycles() {
        let members: Vec<String> = cycle.nodes.iter().map(|n| graph.address(*n)).collect();
        let mut spans = cycle.edge_spans.iter();
        let Some(first) = spans.next() else { continue };
        let mut p = Problem::new(
            "baseline::dependency-cycle",
            *first,
            format!(
                "dependency cycle: {} -> {}",
                members.join(" -> "),
                members[0]
            ),
        )
        .label("this reference closes a cycle")
        .help("every resource in a cycle waits for another; remove one of these references");
        for span in spans {
            p = p.also(*span, "part of the cycle");
        }
        cx.report(p);
    }
}
