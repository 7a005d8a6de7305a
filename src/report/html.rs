//! The controls report as one HTML page for an auditor's evidence pack: a summary first (the
//! controls by status, coverage per category as bars, drift per account and control), then the
//! findings, the waivers and every control. Self-contained (inline CSS, no script, nothing
//! fetched) and printable; every colour comes with its number or label as text.

use std::fmt::Write;

use super::summary::{self, CategoryCoverage, HeatCell, HeatMap, Site};
use super::{exception_rows, Report, Status, EXCEPTION_HEAD};

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The CSS class of a status: its label, hyphenated.
fn class(status: Status) -> String {
    status.label().replace(' ', "-")
}

/// A self-contained page (inline CSS, no scripts, no external assets).
pub fn html(report: &Report) -> String {
    let heat_map = summary::drift_heat_map(report);
    let findings = summary::findings(report);
    let mut nav = vec![("summary", "Summary".to_string())];
    if heat_map.is_some() {
        nav.push(("drift", "Drift by account".to_string()));
    }
    nav.push(("findings", format!("Findings ({})", findings.len())));
    nav.push(("waivers", format!("Waivers ({})", report.exceptions.len())));
    nav.push((
        "control-status",
        format!("All {} ({})", report.entries(), report.controls.len()),
    ));
    let nav: String = nav
        .iter()
        .map(|(id, text)| format!("<li><a href=\"#{id}\">{}</a></li>", esc(text)))
        .collect();
    let mut body = String::new();
    body.push_str(&summary_section(report, findings.len()));
    if let Some(map) = &heat_map {
        body.push_str(&heat_map_section(report, map));
    }
    body.push_str(&findings_section(report, &findings));
    body.push_str(&waivers_section(report));
    body.push_str(&controls_section(report));
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{framework} controls report</title>
<style>{STYLE}</style></head>
<body>
<header>
<h1>{framework} controls report</h1>
<p>Generated {generated} from {source}. <strong id="coverage">{coverage}</strong></p>
<nav aria-label="Contents"><ul>{nav}</ul></nav>
</header>
<main>
{body}</main>
</body></html>
"#,
        framework = esc(&report.framework),
        generated = esc(&report.generated),
        source = esc(&report.source),
        coverage = esc(&report.coverage_line()),
    )
}

/// Controls by status as a row of figures, what the plan found and waived (linked to their
/// sections), and the coverage bars.
fn summary_section(report: &Report, findings: usize) -> String {
    let statuses: String = summary::status_counts(report)
        .into_iter()
        .map(|(status, n)| {
            format!(
                "<div class=\"figure {c}\"><dt>{label}</dt><dd id=\"count-{c}\">{n}</dd></div>",
                c = class(status),
                label = status.label()
            )
        })
        .collect();
    let drifted = report.instances.iter().filter(|i| i.drifted()).count();
    let expired = report.exceptions.iter().filter(|e| e.expired).count();
    let waivers = if expired > 0 {
        format!("{} ({expired} expired)", report.exceptions.len())
    } else {
        report.exceptions.len().to_string()
    };
    let legend: String = Status::ALL
        .into_iter()
        .map(|s| {
            format!(
                "<li><span class=\"swatch seg {}\"></span>{}</li>",
                class(s),
                s.label()
            )
        })
        .collect();
    let rows: String = summary::coverage_by_category(report)
        .iter()
        .map(category_row)
        .collect();
    let entries = report.entries();
    format!(
        r##"<section id="summary">
<h2>Summary</h2>
<h3>The {total} {entries} by status</h3>
<dl class="figures" id="status-counts">{statuses}</dl>
<h3>In this plan</h3>
<dl class="figures" id="plan-counts"><div class="figure"><dt>instances read</dt><dd id="count-instances">{instances}</dd></div><div class="figure drifted" title="instances with a change to make or a finding"><dt>drifted instances</dt><dd id="count-drifted-instances">{drifted}</dd></div><div class="figure finding"><dt><a href="#findings">findings</a></dt><dd id="count-findings">{findings}</dd></div><div class="figure"><dt><a href="#waivers">waivers</a></dt><dd id="count-waivers">{waivers}</dd></div></dl>
<h3 id="coverage-by-category">Coverage by category</h3>
<ul class="legend" aria-label="Colours">{legend}</ul>
<table id="categories">
<thead><tr><th scope="col">Category</th><th scope="col">{entries_title}</th><th scope="col">Share by status</th><th scope="col">By status</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
</section>
"##,
        total = report.controls.len(),
        instances = report.instances.len(),
        entries_title = capitalised(entries),
    )
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// One category's bar: a segment per status as wide as its share, and the counts as text.
fn category_row(category: &CategoryCoverage) -> String {
    let text = category
        .counts
        .iter()
        .map(|(s, n)| format!("{n} {}", s.label()))
        .collect::<Vec<_>>()
        .join(", ");
    let segments: String = category
        .counts
        .iter()
        .map(|&(s, n)| {
            format!(
                "<span class=\"seg {}\" style=\"width: {:.2}%\" title=\"{n} of {} {}\"></span>",
                class(s),
                n as f64 * 100.0 / category.total as f64,
                category.total,
                s.label()
            )
        })
        .collect();
    format!(
        "<tr><th scope=\"row\"><span class=\"cat\">{id}</span> {title}</th><td class=\"num\">{total}</td><td><div class=\"bar\" role=\"img\" aria-label=\"{id}: {text}\">{segments}</div></td><td class=\"counts\">{text}</td></tr>\n",
        id = esc(&category.id),
        title = esc(&category.title),
        total = category.total,
        text = esc(&text),
    )
}

/// The account x control table of drifted instances, in a box of its own that scrolls
/// sideways (the account column stays put) when the organization is wide.
fn heat_map_section(report: &Report, map: &HeatMap) -> String {
    let title_of = |id: &str| {
        report
            .controls
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.title.as_str())
            .unwrap_or("")
    };
    let head: String = map
        .controls
        .iter()
        .map(|c| {
            format!(
                "<th scope=\"col\" title=\"{}\">{}</th>",
                esc(title_of(c)),
                esc(c)
            )
        })
        .collect();
    let mut rows = String::new();
    for (site, cells) in &map.rows {
        let _ = write!(
            rows,
            "<tr><th scope=\"row\">{}<span class=\"acct\">{}</span></th>",
            esc(site.name()),
            esc(site.account_id())
        );
        for (control, cell) in map.controls.iter().zip(cells) {
            rows.push_str(&heat_cell(site, control, cell));
        }
        rows.push_str("</tr>\n");
    }
    let entries = report.entries();
    format!(
        r#"<section id="drift">
<h2>Drift by account</h2>
<p>Drifted instances (a change to make or a finding) of each of the {entries} that declared resources serve, per account: 0 means every instance there holds, &ndash; that nothing there serves it. Organization-wide resources (the organization, its OUs and SCPs) have a row of their own, beside the management account's.</p>
<div class="scroll" role="region" aria-label="Drift by account and {entries}" tabindex="0">
<table id="drift-heat-map" class="heat">
<thead><tr><th scope="col">Account</th>{head}</tr></thead>
<tbody>
{rows}</tbody>
</table>
</div>
</section>
"#
    )
}

fn heat_cell(site: &Site, control: &str, cell: &HeatCell) -> String {
    let place = format!("{} ({})", site.name(), site.account_id());
    if cell.instances == 0 {
        return format!(
            "<td class=\"heat none\" title=\"{}\">&ndash;</td>",
            esc(&format!("{place}, {control}: nothing here serves it"))
        );
    }
    // Shades by count, so that a bad account stands out; the number says the same.
    let shade = match cell.drifted {
        0 => "h0",
        1 => "h1",
        2..=4 => "h2",
        _ => "h3",
    };
    let mut title = format!(
        "{place}, {control}: {} of {} instance{} drifted",
        cell.drifted,
        cell.instances,
        if cell.instances == 1 { "" } else { "s" }
    );
    if !cell.problems.is_empty() {
        let _ = write!(title, ": {}", cell.problems.join("; "));
    }
    format!(
        "<td class=\"heat {shade}\" title=\"{}\">{}</td>",
        esc(&title),
        cell.drifted
    )
}

fn findings_section(report: &Report, findings: &[(&super::InstanceStatus, &str)]) -> String {
    let entries = report.entries();
    if findings.is_empty() {
        return "<section id=\"findings\">\n<h2>Findings</h2>\n<p>No findings in this plan.</p>\n</section>\n".to_string();
    }
    let rows: String = findings
        .iter()
        .map(|(instance, finding)| {
            format!(
                "<tr><td><code>{}</code></td><td>{}<span class=\"acct\">{}</span></td><td>{}</td><td>{}</td></tr>\n",
                esc(&instance.address),
                esc(Site::of(instance).name()),
                esc(&instance.account_id),
                esc(&instance.controls.join(", ")),
                esc(finding)
            )
        })
        .collect();
    format!(
        r#"<section id="findings">
<h2>Findings</h2>
<p>What no API call remediates (a root user or console user without MFA, say): a person acts on it, and the next plan no longer reports it.</p>
<table id="findings-list">
<thead><tr><th scope="col">Instance</th><th scope="col">Account</th><th scope="col">{entries_title}</th><th scope="col">Finding</th></tr></thead>
<tbody>
{rows}</tbody>
</table>
</section>
"#,
        entries_title = capitalised(entries)
    )
}

fn waivers_section(report: &Report) -> String {
    let rows = exception_rows(report);
    if rows.is_empty() {
        return format!(
            "<section id=\"waivers\">\n<h2>Waivers (exceptions)</h2>\n<p>No waiver concerns {}.</p>\n</section>\n",
            esc(&report.framework)
        );
    }
    let head: String = EXCEPTION_HEAD
        .iter()
        .map(|h| format!("<th scope=\"col\">{h}</th>"))
        .collect();
    let body: String = rows
        .iter()
        .map(|row| {
            let cells: String = row.iter().map(|c| format!("<td>{}</td>", esc(c))).collect();
            format!("<tr>{cells}</tr>\n")
        })
        .collect();
    format!(
        "<section id=\"waivers\">\n<h2>Waivers (exceptions)</h2>\n<p>Deviations the organization has accepted, with who owns them and until when: their drift is reported here rather than as drift.</p>\n<table id=\"exceptions\">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>\n</section>\n"
    )
}

/// Every control with its declared resources (and, for ISO 27001, the statement of
/// applicability).
fn controls_section(report: &Report) -> String {
    let iso = report.framework.starts_with("ISO");
    let mut rows = String::new();
    for c in &report.controls {
        let resources: Vec<String> = c
            .resources
            .iter()
            .map(|r| {
                let details = if r.details.is_empty() {
                    String::new()
                } else {
                    format!(
                        "<ul>{}</ul>",
                        r.details
                            .iter()
                            .map(|d| format!("<li>{}</li>", esc(d)))
                            .collect::<String>()
                    )
                };
                format!(
                    "<div><code>{}</code> <span class=\"s {}\">{}</span>{details}</div>",
                    esc(&r.resource),
                    class(r.status),
                    r.status.label()
                )
            })
            .collect();
        let soa = if iso {
            format!(
                "<td>{}</td><td>{}</td>",
                if c.applicable { "Yes" } else { "No" },
                esc(&c.justification)
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            rows,
            "<tr><td class=\"id\">{}</td><td>{}</td><td><span class=\"s {}\">{}</span></td><td>{}</td>{soa}</tr>",
            esc(&c.id),
            esc(&c.title),
            class(c.status),
            c.status.label(),
            if c.status == Status::Justified {
                esc(&c.justification)
            } else if resources.is_empty() {
                "&ndash;".to_string()
            } else {
                resources.join("")
            }
        );
    }
    format!(
        r#"<section id="control-status">
<h2>All {entries}</h2>
<table id="controls">
<thead><tr><th scope="col">{noun}</th><th scope="col">Title</th><th scope="col">Status</th><th scope="col">Declared resources</th>{soa_head}</tr></thead>
<tbody>
{rows}</tbody>
</table>
</section>
"#,
        entries = report.entries(),
        noun = if iso { "Control" } else { "Criterion" },
        soa_head = if iso {
            "<th scope=\"col\">Applicable</th><th scope=\"col\">Justification (statement of applicability)</th>"
        } else {
            ""
        },
    )
}

/// Colours: each fill or text colour has at least 4.5:1 contrast with what it sits on (bar
/// segments at least 3:1 against white), and a label or number says the same in text.
const STYLE: &str = r#"
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f23; }
h1 { font-size: 1.5rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 0.5rem; }
a { color: #0550ae; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.4rem 1.2rem; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
th, td { border: 1px solid #d0d7de; padding: 0.4rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.id { white-space: nowrap; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.acct { display: block; font-size: 0.75rem; font-weight: normal; color: #57606a; font-variant-numeric: tabular-nums; }
.s { border-radius: 0.8rem; padding: 0.05rem 0.5rem; font-size: 0.8rem; white-space: nowrap; }
.s.holds { background: #dafbe1; color: #116329; }
.s.drifted { background: #ffebe9; color: #a40e26; }
.s.finding { background: #fff8c5; color: #7d4e00; }
.s.not-covered, .s.not-applicable { background: #eaeef2; color: #57606a; }
.s.met-outside-baseline { background: #ddf4ff; color: #0550ae; }
ul { margin: 0.2rem 0 0.2rem 1rem; padding: 0; }
.figures { display: flex; flex-wrap: wrap; gap: 0.6rem; margin: 0; }
.figure { border: 1px solid #d0d7de; border-left: 0.4rem solid #8c959f; border-radius: 0.3rem; padding: 0.4rem 0.8rem; min-width: 7.5rem; }
.figure dt { font-size: 0.8rem; color: #57606a; }
.figure dd { margin: 0; font-size: 1.6rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.figure.holds { border-left-color: #1a7f37; }
.figure.met-outside-baseline { border-left-color: #0969da; }
.figure.finding { border-left-color: #9a6700; }
.figure.drifted { border-left-color: #cf222e; }
.figure.not-applicable { border-left-color: #d0d7de; }
#categories th[scope=row] { white-space: nowrap; font-weight: normal; }
#categories td:nth-child(3) { width: 40%; }
.cat { font-weight: 600; display: inline-block; min-width: 2.6rem; }
.bar { display: flex; height: 1.1rem; min-width: 10rem; border: 1px solid #57606a; background: #fff; }
.seg { display: block; height: 100%; }
.seg + .seg { border-left: 2px solid #fff; }
.seg.holds { background: #1a7f37; }
.seg.met-outside-baseline { background: #0969da; }
.seg.finding { background: #9a6700; }
.seg.drifted { background: #cf222e; }
.seg.not-covered { background: #8c959f; }
.seg.not-applicable { background: repeating-linear-gradient(45deg, #d0d7de 0 3px, #fff 3px 6px); }
.legend { list-style: none; margin: 0 0 0.5rem; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3rem 1rem; font-size: 0.8rem; }
.swatch { display: inline-block; width: 0.9rem; height: 0.9rem; margin-right: 0.3rem; vertical-align: -0.1rem; border: 1px solid #57606a; }
.counts { font-size: 0.85rem; }
.scroll { overflow: auto; max-height: 80vh; width: fit-content; max-width: 100%; border: 1px solid #d0d7de; }
.heat { width: auto; }
.heat th, .heat td { white-space: nowrap; }
.heat thead th { position: sticky; top: 0; z-index: 1; }
.heat th[scope=row] { position: sticky; left: 0; z-index: 1; font-weight: 600; }
.heat thead th:first-child { left: 0; z-index: 2; }
td.heat { text-align: center; min-width: 2.8rem; font-variant-numeric: tabular-nums; }
.heat.none { color: #57606a; }
.heat.h0 { background: #dafbe1; color: #116329; }
.heat.h1 { background: #ffebe9; color: #a40e26; font-weight: 600; }
.heat.h2 { background: #ffaba8; color: #6e011a; font-weight: 600; }
.heat.h3 { background: #a40e26; color: #fff; font-weight: 600; }
@media print {
  body { margin: 0; font-size: 10pt; }
  nav { display: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
  h2, h3 { break-after: avoid; }
  thead { display: table-header-group; }
  tr, .figure { break-inside: avoid; }
  .scroll { overflow: visible; max-height: none; border: none; }
  .heat { font-size: 7pt; }
  .heat th, .heat td { padding: 0.1rem 0.25rem; }
  .heat thead th, .heat th[scope=row] { position: static; }
}
"#;
