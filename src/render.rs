//! Plan renderings: human (Terraform-like, colour only when asked), and JSON (versioned).
//!
//! Identical changes to many instances of one resource are rolled up into one entry that
//! names its instances as the baseline names targets ("on all 1,000 accounts x 2 regions",
//! see [`crate::rollup`]), so an organization-wide parameter change stays one screen. The
//! Markdown plan always fits one pull-request comment. Structured values (policy documents) are shown as a unified diff of
//! their canonical JSON (keys sorted), so key order and whitespace never show up.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use crate::plan::{Plan, Planned, FORMAT_VERSION};
use crate::provider::{sort_keys, Action, AttrDiff};
use crate::reach::Skipped;

/// ANSI styling, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn cyan(&self, t: &str) -> String {
        self.paint("36", t)
    }
    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
}

pub fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Adopt => "<=",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::Delete => "-",
    }
}

fn paint_symbol(style: Style, action: Action) -> String {
    let s = symbol(action);
    match action {
        Action::Create => style.green(s),
        Action::Adopt => style.cyan(s),
        Action::Update => style.yellow(s),
        Action::Replace | Action::Delete => style.red(s),
    }
}

/// A value as one line of text (documents are shown as diffs instead).
pub fn short(v: &Value) -> String {
    match v {
        Value::Null => "(none)".to_string(),
        other => other.to_string(),
    }
}

fn is_structured(v: &Value) -> bool {
    matches!(v, Value::Object(_)) || matches!(v, Value::Array(a) if a.iter().any(|x| x.is_object()))
}

/// Canonical, pretty JSON: object keys sorted at every level.
pub fn canonical_pretty(v: &Value) -> String {
    if v.is_null() {
        return String::new();
    }
    serde_json::to_string_pretty(&sort_keys(v)).unwrap_or_default() + "\n"
}

/// A unified diff of two structured values, each line indented by `indent`.
pub fn unified_diff(before: &Value, after: &Value, indent: &str, style: Style) -> String {
    let (a, b) = (canonical_pretty(before), canonical_pretty(after));
    let diff = TextDiff::from_lines(&a, &b);
    let mut out = String::new();
    for group in diff.grouped_ops(3) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let line = change.value().trim_end_matches('\n');
                let text = match change.tag() {
                    ChangeTag::Delete => style.red(&format!("- {line}")),
                    ChangeTag::Insert => style.green(&format!("+ {line}")),
                    ChangeTag::Equal => format!("  {line}"),
                };
                let _ = writeln!(out, "{indent}{text}");
            }
        }
    }
    out
}

/// The widest attribute name the plan pads others to.
const MAX_NAME_PAD: usize = 40;

fn render_diffs(out: &mut String, action: Action, diffs: &[AttrDiff], style: Style) {
    // Names are aligned up to a point: a longer one (a saved plan is input too) is printed
    // as it is, and a pad wider than 65,535 would panic the formatter.
    let width = diffs
        .iter()
        .map(|d| d.name.chars().count())
        .max()
        .unwrap_or(0)
        .min(MAX_NAME_PAD);
    for d in diffs {
        if is_structured(&d.before) || is_structured(&d.after) {
            let _ = writeln!(out, "      {}:", d.name);
            out.push_str(&unified_diff(&d.before, &d.after, "          ", style));
        } else if action == Action::Create {
            let _ = writeln!(out, "      {:width$} = {}", d.name, short(&d.after));
        } else {
            let _ = writeln!(
                out,
                "      {:width$} : {} -> {}",
                d.name,
                short(&d.before),
                short(&d.after)
            );
        }
    }
}

/// Where an instance lives, as shown in a roll-up: `account/region` or `account`.
fn site(item: &Planned) -> String {
    match (&item.address.account, &item.address.region) {
        (Some(a), Some(r)) => format!("{a}/{r}"),
        (Some(a), None) => a.clone(),
        _ => "organization".to_string(),
    }
}

/// Where a roll-up's instances are: its target set as the baseline names it, then the
/// instances themselves while they are few (or while nothing else names them), and a note
/// when each instance's own account id stands as `<account-id>` in the values.
fn roll_up_sites(group: &crate::rollup::RollUp<'_>, outline: &crate::rollup::Outline) -> String {
    use crate::rollup::{count, target_set, ACCOUNT_ID, LISTED_SITES};
    let mut line = target_set(&group.items, outline);
    let sites: Vec<String> = group.items.iter().map(|i| site(i)).collect();
    if sites.len() <= LISTED_SITES {
        let _ = write!(line, ": {}", sites.join(", "));
    } else if !line.starts_with("all ") && !line.contains("OU") {
        let _ = write!(
            line,
            ": {}, and {} more (`--format json` lists every one)",
            sites[..LISTED_SITES].join(", "),
            count(sites.len() - LISTED_SITES)
        );
    }
    let shows_id = group.diffs.iter().any(|d| {
        d.before.to_string().contains(ACCOUNT_ID) || d.after.to_string().contains(ACCOUNT_ID)
    });
    if shows_id {
        let _ = write!(line, "; {ACCOUNT_ID} is each instance's own account id");
    }
    line
}

/// The plan as a person reads it.
pub fn human(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    let groups = crate::rollup::roll_up(plan);
    if !groups.is_empty() || !plan.orphans.is_empty() {
        let _ = writeln!(out, "baseline will perform these actions:\n");
    }
    for group in &groups {
        let head = if group.items.len() == 1 {
            group.items[0].address.to_string()
        } else {
            format!(
                "{} -> {} instances",
                group.resource,
                crate::rollup::count(group.items.len())
            )
        };
        let _ = writeln!(
            out,
            "  {} {}  ({})",
            paint_symbol(style, group.action),
            style.bold(&head),
            group.action.verb()
        );
        if group.items.len() > 1 {
            let _ = writeln!(out, "      on {}", roll_up_sites(group, &plan.outline));
        }
        render_diffs(&mut out, group.action, &group.diffs, style);
        out.push('\n');
    }
    for orphan in &plan.orphans {
        let _ = writeln!(
            out,
            "  {} {}  (delete: managed by baseline, no longer declared)\n",
            paint_symbol(style, Action::Delete),
            style.bold(&orphan.address.to_string()),
        );
    }
    let findings: Vec<(&Planned, &str)> = plan
        .items
        .iter()
        .flat_map(|i| i.findings.iter().map(move |f| (i, f.message.as_str())))
        .collect();
    if !findings.is_empty() {
        let _ = writeln!(out, "Findings (not remediable through the API):\n");
        for (item, message) in &findings {
            let _ = writeln!(out, "  {} {}: {message}", style.red("!"), item.address);
        }
        out.push('\n');
    }
    for failure in &plan.failures {
        let _ = writeln!(
            out,
            "  {} {}: could not read: {}",
            style.red("x"),
            failure.address,
            failure.error
        );
    }
    for n in &plan.unreachable {
        let _ = writeln!(
            out,
            "  {} account {} ({}): could not be reached, {} instance(s) not read: {}",
            style.red("x"),
            n.account.account,
            n.account.account_id,
            n.instances.len(),
            n.account.error
        );
    }
    if plan.has_errors() {
        out.push('\n');
    }
    let waived: Vec<&Planned> = plan.items.iter().filter(|i| i.waived.is_some()).collect();
    if !waived.is_empty() {
        let _ = writeln!(out, "Waived (accepted deviations, not changed):\n");
        for item in waived {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                style.cyan("~"),
                item.address,
                waived_note(item)
            );
        }
        out.push('\n');
    }
    for e in &plan.expired_waivers {
        let _ = writeln!(
            out,
            "{} waiver \"{}\" expired after {}: the drift of {} is planned again",
            style.yellow("warning:"),
            e.name,
            e.expires,
            e.address
        );
    }
    if !plan.expired_waivers.is_empty() {
        out.push('\n');
    }
    for (heading, items) in [
        (
            "Managed elsewhere (reported, not changed):",
            managed_elsewhere(plan),
        ),
        (
            "Observed (read and reported, never changed):",
            observed(plan),
        ),
    ] {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{heading}\n");
        for item in items {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                style.cyan("="),
                item.address,
                owned_note(item)
            );
        }
        out.push('\n');
    }
    if !plan.others.is_empty() {
        let _ = writeln!(
            out,
            "Other tools' resources (not declared; never touched):\n"
        );
        for o in &plan.others {
            let _ = writeln!(out, "  {} {}: {}", style.cyan("="), other_label(o), o.owner);
        }
        out.push('\n');
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(out, "Skipped (nothing there is read or changed):\n");
        for s in &plan.skipped {
            let _ = writeln!(out, "  - {}: {}", skipped_place(s), s.reason);
        }
        out.push('\n');
    }
    let s = plan.summary();
    if !plan.has_changes() && !plan.has_errors() {
        let _ = write!(
            out,
            "{} AWS matches the baseline ({} instances checked)",
            style.green("No changes."),
            s.unchanged
        );
        let waived = plan.items.iter().filter(|i| i.waived.is_some()).count();
        if waived > 0 {
            let _ = write!(out, ", {waived} of them by waiver");
        }
        if s.findings > 0 {
            let _ = write!(
                out,
                "; {} {} a person",
                s.findings,
                if s.findings == 1 {
                    "finding needs"
                } else {
                    "findings need"
                }
            );
        }
        out.push_str(".\n");
    } else {
        let _ = writeln!(
            out,
            "{} {} to create, {} to adopt, {} to update, {} to replace, {} to delete; {} finding{}.",
            style.bold("Plan:"),
            s.create,
            s.adopt,
            s.update,
            s.replace,
            s.delete,
            s.findings,
            if s.findings == 1 { "" } else { "s" }
        );
    }
    out
}

/// Which waiver accepts an instance's drift, and in what.
fn waived_note(item: &Planned) -> String {
    let names: Vec<&str> = item.diffs.iter().map(|d| d.name.as_str()).collect();
    format!(
        "waived by \"{}\"; differs from the baseline in {}",
        item.waived.as_deref().unwrap_or("a waiver"),
        names.join(", ")
    )
}

/// Instances another tool owns that no `observe` declaration reads.
fn managed_elsewhere(plan: &Plan) -> Vec<&Planned> {
    let owned = |i: &&Planned| i.owner.is_some() && !i.observed;
    plan.items.iter().filter(owned).collect()
}

/// `kind.name` of another tool's resource, with its account when it is not the
/// organization's.
fn other_label(o: &crate::plan::OtherOwned) -> String {
    let org_wide = crate::kinds::by_keyword(&o.kind)
        .is_some_and(|k| k.placing == crate::kinds::Placing::Organization);
    if org_wide {
        format!("{}.{}", o.kind, o.name)
    } else {
        format!(
            "{}.{} (account {}, {})",
            o.kind, o.name, o.account_id, o.region
        )
    }
}

/// Instances of `observe` declarations.
fn observed(plan: &Plan) -> Vec<&Planned> {
    plan.items.iter().filter(|i| i.observed).collect()
}

/// Who manages an instance instead of baseline (or that baseline only observes it), and
/// whether it differs from the baseline.
fn owned_note(item: &Planned) -> String {
    let who = match (&item.owner, item.observed) {
        (Some(owner), true) => format!("managed by {owner}, observed"),
        (Some(owner), false) => format!("managed by {owner}"),
        (None, _) => "observed".to_string(),
    };
    if item.diffs.is_empty() {
        format!("{who}; matches the baseline")
    } else {
        let names: Vec<&str> = item.diffs.iter().map(|d| d.name.as_str()).collect();
        format!("{who}; differs from the baseline in {}", names.join(", "))
    }
}

/// Where a skip applies: `account NAME (ID)` or `region R of account NAME (ID)`.
pub fn skipped_place(s: &Skipped) -> String {
    match &s.region {
        Some(r) => format!("region {r} of account {} ({})", s.account, s.account_id),
        None => format!("account {} ({})", s.account, s.account_id),
    }
}

/// `text`, cut to at most `max` bytes with an ellipsis when it is longer.
pub fn ellipsize(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let cut = text
        .char_indices()
        .nth(max - 3)
        .map_or(text.len(), |(i, _)| i);
    format!("{}…", &text[..cut])
}

fn md_value(v: &Value) -> String {
    format!("`{}`", ellipsize(short(v).replace('`', "'"), 100))
}

/// The most characters a GitHub pull-request comment holds.
pub const MARKDOWN_LIMIT: usize = 65_536;

/// Markdown written a line at a time up to a number of characters: once a line would not
/// fit (with room kept for the closing note), it and every later line are left out and
/// counted, an open `<details>` is closed, and a note says where the rest is.
struct Capped {
    out: String,
    chars: usize,
    limit: usize,
    pending: String,
    left_out: usize,
    open_details: bool,
}

/// Room kept for what closes a cut comment.
const CAPPED_NOTE_ROOM: usize = 400;

impl Capped {
    fn new(limit: usize) -> Capped {
        Capped {
            out: String::new(),
            chars: 0,
            limit,
            pending: String::new(),
            left_out: 0,
            open_details: false,
        }
    }

    fn line(&mut self, line: &str) {
        let n = line.chars().count() + 1;
        if self.left_out > 0 || self.chars + n + CAPPED_NOTE_ROOM > self.limit {
            self.left_out += 1;
            return;
        }
        if line.starts_with("<details>") {
            self.open_details = true;
        } else if line.starts_with("</details>") {
            self.open_details = false;
        }
        self.out.push_str(line);
        self.out.push('\n');
        self.chars += n;
    }

    fn push(&mut self, c: char) {
        let _ = self.write_char(c);
    }

    fn finish(mut self) -> String {
        if !self.pending.is_empty() {
            let rest = std::mem::take(&mut self.pending);
            self.line(&rest);
        }
        if self.left_out > 0 {
            if self.open_details {
                self.out.push_str("\n</details>\n");
            }
            let _ = write!(
                self.out,
                "\n---\n**The plan is cut here** to fit one comment ({} characters): {} more \
                 line{} left out. The saved plan holds all of it: `baseline show FILE` (from \
                 `baseline plan --out FILE`), or `--format json`.\n",
                crate::rollup::count(self.limit),
                crate::rollup::count(self.left_out),
                if self.left_out == 1 { " is" } else { "s are" }
            );
        }
        self.out
    }
}

impl Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.pending.push_str(s);
        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            self.line(&line[..line.len() - 1]);
        }
        Ok(())
    }
}

/// The plan's changes rolled up, and its findings by resource and message: what a reviewer
/// reads first, whatever the size of the organization.
fn markdown_roll_ups(out: &mut Capped, plan: &Plan) {
    let groups = crate::rollup::roll_up(plan);
    let mut findings: Vec<(String, &str, Vec<&Planned>)> = Vec::new();
    let mut index: std::collections::HashMap<(String, &str), usize> = Default::default();
    for item in &plan.items {
        for f in &item.findings {
            let resource = format!("{}.{}", item.address.kind, item.address.name);
            let key = (resource.clone(), f.message.as_str());
            match index.get(&key) {
                Some(&at) => findings[at].2.push(item),
                None => {
                    index.insert(key, findings.len());
                    findings.push((resource, f.message.as_str(), vec![item]));
                }
            }
        }
    }
    if groups.is_empty() && findings.is_empty() && plan.orphans.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "**Changes** (identical changes of one resource as one):\n"
    );
    // What many instances share first, then the findings, then single changes: in a large
    // organization what is cut to fit a comment is the long tail.
    let (shared, single): (Vec<_>, Vec<_>) = groups.iter().partition(|g| g.items.len() > 1);
    for group in shared {
        let _ = writeln!(
            out,
            "- `{} {}` ({}) on {}",
            symbol(group.action),
            group.resource,
            group.action.verb(),
            md_escape(&roll_up_sites(group, &plan.outline))
        );
        md_diffs(out, group.action, &group.diffs);
    }
    for (resource, message, items) in &findings {
        let place = if items.len() == 1 {
            format!("`! {}`", items[0].address)
        } else {
            format!(
                "`! {resource}` on {}",
                md_escape(&crate::rollup::target_set(items, &plan.outline))
            )
        };
        let _ = writeln!(out, "- {place} finding: {}", md_escape(message));
    }
    for group in single {
        let _ = writeln!(
            out,
            "- `{} {}` ({})",
            symbol(group.action),
            group.items[0].address,
            group.action.verb()
        );
        md_diffs(out, group.action, &group.diffs);
    }
    for o in &plan.orphans {
        let _ = writeln!(
            out,
            "- `- {}` (delete: managed by baseline, no longer declared)",
            o.address
        );
    }
    let _ = writeln!(out);
}

/// A change's attributes as Markdown sub-items.
fn md_diffs(out: &mut impl Write, action: Action, diffs: &[AttrDiff]) {
    for d in diffs {
        if action == Action::Create {
            let _ = writeln!(out, "  - `{}` = {}", d.name, md_value(&d.after));
        } else {
            let _ = writeln!(
                out,
                "  - `{}`: {} → {}",
                d.name,
                md_value(&d.before),
                md_value(&d.after)
            );
        }
    }
}

/// Text made safe for one line, or one table cell, of Markdown: `|` escaped, newlines
/// joined (the plan, the change log's export and the controls report all write it).
pub fn md_escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The plan as Markdown for a pull-request comment: the summary first, then one folded
/// section per account with its changes and findings.
pub fn markdown(plan: &Plan) -> String {
    let s = plan.summary();
    let mut out = Capped::new(MARKDOWN_LIMIT);
    let headline = if !plan.has_drift() && !plan.has_errors() {
        format!(
            "No changes: AWS matches the baseline ({} instances).",
            s.unchanged
        )
    } else {
        format!(
            "{} to create, {} to adopt, {} to update, {} to replace, {} to delete; {} finding{}",
            s.create,
            s.adopt,
            s.update,
            s.replace,
            s.delete,
            s.findings,
            if s.findings == 1 { "" } else { "s" }
        )
    };
    let _ = writeln!(out, "### baseline plan: {headline}\n");
    if !plan.failures.is_empty() {
        let _ = writeln!(
            out,
            "**{} instance(s) could not be read:**\n",
            plan.failures.len()
        );
        for f in &plan.failures {
            let _ = writeln!(
                out,
                "- `{}`: {}",
                f.address,
                f.error.to_string().replace('\n', " ")
            );
        }
        out.push('\n');
    }
    if !plan.unreachable.is_empty() {
        let _ = writeln!(
            out,
            "**{} account(s) could not be reached:**\n",
            plan.unreachable.len()
        );
        for n in &plan.unreachable {
            let _ = writeln!(
                out,
                "- {} (`{}`), {} instance(s) not read: {}",
                n.account.account,
                n.account.account_id,
                n.instances.len(),
                n.account.error.to_string().replace('\n', " ")
            );
        }
        out.push('\n');
    }
    markdown_roll_ups(&mut out, plan);
    let waived: Vec<&Planned> = plan.items.iter().filter(|i| i.waived.is_some()).collect();
    if !waived.is_empty() {
        let _ = writeln!(out, "**Waived** (accepted deviations, not changed):\n");
        for item in waived {
            let _ = writeln!(out, "- `{}`: {}", item.address, waived_note(item));
        }
        out.push('\n');
    }
    for e in &plan.expired_waivers {
        let _ = writeln!(
            out,
            "- **warning**: waiver \"{}\" expired after {}: the drift of `{}` is planned again",
            e.name, e.expires, e.address
        );
    }
    if !plan.expired_waivers.is_empty() {
        out.push('\n');
    }
    for (heading, items) in [
        (
            "**Managed elsewhere** (reported, not changed):",
            managed_elsewhere(plan),
        ),
        (
            "**Observed** (read and reported, never changed):",
            observed(plan),
        ),
    ] {
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{heading}\n");
        for item in items {
            let _ = writeln!(out, "- `{}`: {}", item.address, owned_note(item));
        }
        out.push('\n');
    }
    if !plan.others.is_empty() {
        let _ = writeln!(
            out,
            "**Other tools' resources** (not declared; never touched):\n"
        );
        for o in &plan.others {
            let _ = writeln!(out, "- `{}`: {}", other_label(o), o.owner);
        }
        out.push('\n');
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(out, "**Skipped** (nothing there is read or changed):\n");
        for s in &plan.skipped {
            let _ = writeln!(out, "- {}: {}", skipped_place(s), s.reason);
        }
        out.push('\n');
    }
    // Group by account (organization-wide resources first).
    let mut groups: BTreeMap<(bool, String), Vec<String>> = BTreeMap::new();
    for item in &plan.items {
        let key = (
            item.address.account.is_some(),
            item.address
                .account
                .clone()
                .unwrap_or_else(|| "organization".into()),
        );
        if let Some(action) = item.action {
            let mut entry = format!(
                "- `{} {}` ({})\n",
                symbol(action),
                item.address,
                action.verb()
            );
            md_diffs(&mut entry, action, &item.diffs);
            entry.truncate(entry.trim_end().len());
            groups.entry(key.clone()).or_default().push(entry);
        }
        for f in &item.findings {
            groups
                .entry(key.clone())
                .or_default()
                .push(format!("- `! {}` finding: {}", item.address, f.message));
        }
    }
    for o in &plan.orphans {
        let key = (
            o.address.account.is_some(),
            o.address
                .account
                .clone()
                .unwrap_or_else(|| "organization".into()),
        );
        groups.entry(key).or_default().push(format!(
            "- `- {}` (delete: managed by baseline, no longer declared)",
            o.address
        ));
    }
    if !groups.is_empty() {
        let _ = writeln!(out, "| Account | Changes and findings |\n| --- | --- |");
        for ((_, account), entries) in &groups {
            let _ = writeln!(out, "| {account} | {} |", entries.len());
        }
        out.push('\n');
    }
    for ((_, account), entries) in &groups {
        let _ = writeln!(
            out,
            "<details><summary>{account}: {} item{}</summary>\n",
            entries.len(),
            if entries.len() == 1 { "" } else { "s" }
        );
        for e in entries {
            let _ = writeln!(out, "{e}");
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    out.finish()
}

/// The plan as JSON (format documented in docs/plan-format.md): borrowed from the plan, so
/// that a large saved plan is not copied again to be shown.
pub fn json(plan: &Plan) -> JsonPlan<'_> {
    JsonPlan {
        format_version: FORMAT_VERSION,
        drift: plan.has_drift(),
        summary: plan.summary(),
        changes: plan
            .items
            .iter()
            .filter(|i| i.action.is_some())
            .map(|i| JsonChange::new(&i.address, &i.account_id, &i.region, i.action, &i.diffs))
            .chain(plan.orphans.iter().map(|o| {
                JsonChange::new(
                    &o.address,
                    &o.account_id,
                    &o.region,
                    Some(Action::Delete),
                    &[],
                )
            }))
            .collect(),
        findings: plan
            .items
            .iter()
            .flat_map(|i| {
                i.findings.iter().map(move |f| JsonFinding {
                    address: i.address.to_string(),
                    account_id: &i.account_id,
                    region: &i.region,
                    message: &f.message,
                })
            })
            .collect(),
        errors: plan
            .failures
            .iter()
            .map(|f| JsonError {
                address: f.address.to_string(),
                message: f.error.to_string(),
            })
            .collect(),
        unreachable: plan
            .unreachable
            .iter()
            .map(|n| JsonUnreachable {
                account: &n.account.account,
                account_id: &n.account.account_id,
                instances: n.instances.len(),
                message: n.account.error.to_string(),
            })
            .collect(),
        skipped: &plan.skipped,
        managed_elsewhere: managed_elsewhere(plan)
            .into_iter()
            .filter_map(|i| {
                Some(JsonOwned {
                    address: i.address.to_string(),
                    account_id: &i.account_id,
                    region: &i.region,
                    owner: i.owner.as_deref()?,
                    attributes: &i.diffs,
                })
            })
            .collect(),
        other_owned: &plan.others,
        observed: observed(plan)
            .into_iter()
            .map(|i| JsonObserved {
                address: i.address.to_string(),
                account_id: &i.account_id,
                region: &i.region,
                owner: i.owner.as_deref(),
                attributes: &i.diffs,
            })
            .collect(),
        waived: plan
            .items
            .iter()
            .filter_map(|i| {
                Some(JsonWaived {
                    address: i.address.to_string(),
                    account_id: &i.account_id,
                    region: &i.region,
                    waiver: i.waived.as_deref()?,
                    attributes: &i.diffs,
                })
            })
            .collect(),
        expired_waivers: &plan.expired_waivers,
    }
}

/// [`json`]'s document; its fields serialise in this order.
#[derive(Serialize)]
pub struct JsonPlan<'a> {
    format_version: &'static str,
    drift: bool,
    summary: crate::plan::Summary,
    changes: Vec<JsonChange<'a>>,
    findings: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError>,
    unreachable: Vec<JsonUnreachable<'a>>,
    skipped: &'a [Skipped],
    managed_elsewhere: Vec<JsonOwned<'a>>,
    /// Added within format version 1; absent when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    observed: Vec<JsonObserved<'a>>,
    /// Added within format version 1; absent when empty.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    other_owned: &'a [crate::plan::OtherOwned],
    waived: Vec<JsonWaived<'a>>,
    expired_waivers: &'a [crate::plan::ExpiredWaiver],
}

#[derive(Serialize)]
struct JsonWaived<'a> {
    address: String,
    account_id: &'a str,
    region: &'a str,
    waiver: &'a str,
    attributes: &'a [AttrDiff],
}

#[derive(Serialize)]
struct JsonChange<'a> {
    address: String,
    kind: &'a str,
    name: &'a str,
    account: Option<&'a str>,
    account_id: &'a str,
    region: &'a str,
    action: Option<Action>,
    attributes: &'a [AttrDiff],
}

impl<'a> JsonChange<'a> {
    fn new(
        address: &'a crate::expand::Address,
        account_id: &'a str,
        region: &'a str,
        action: Option<Action>,
        attributes: &'a [AttrDiff],
    ) -> Self {
        JsonChange {
            address: address.to_string(),
            kind: &address.kind,
            name: &address.name,
            account: address.account.as_deref(),
            account_id,
            region,
            action,
            attributes,
        }
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    address: String,
    account_id: &'a str,
    region: &'a str,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonError {
    address: String,
    message: String,
}

#[derive(Serialize)]
struct JsonUnreachable<'a> {
    account: &'a str,
    account_id: &'a str,
    instances: usize,
    message: String,
}

#[derive(Serialize)]
struct JsonOwned<'a> {
    address: String,
    account_id: &'a str,
    region: &'a str,
    owner: &'a str,
    attributes: &'a [AttrDiff],
}

#[derive(Serialize)]
struct JsonObserved<'a> {
    address: String,
    account_id: &'a str,
    region: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    owner: Option<&'a str>,
    attributes: &'a [AttrDiff],
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_huge_attribute_name_is_printed_not_padded_to() {
        // A saved plan is input: a 65,536-character name panicked the `{:width$}` pad.
        let name = "x".repeat(65_536);
        let mut out = String::new();
        let diffs = [
            AttrDiff {
                name: name.clone(),
                before: Value::Null,
                after: json!(1),
            },
            AttrDiff {
                name: "short".into(),
                before: Value::Null,
                after: json!(2),
            },
        ];
        render_diffs(&mut out, Action::Create, &diffs, Style { color: false });
        assert!(out.contains(&format!("{name} = 1")));
        assert!(out.contains(&format!("short{} = 2", " ".repeat(MAX_NAME_PAD - 5))));
    }

    #[test]
    fn ellipsize_keeps_short_text_and_cuts_long_text_on_a_character() {
        assert_eq!(ellipsize("short".into(), 10), "short");
        assert_eq!(ellipsize("abcdefghijkl".into(), 10), "abcdefg…");
        assert_eq!(ellipsize("ééééééééééé".into(), 10), "ééééééé…");
    }

    #[test]
    fn reordered_document_keys_give_an_empty_diff_and_changes_show_lines() {
        let a = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "x"}]});
        let b = json!({"Statement": [{"Action": "x", "Effect": "Deny"}], "Version": "2012-10-17"});
        let style = Style { color: false };
        assert!(!unified_diff(&a, &b, "", style).contains("- "));
        let c = json!({"Statement": [{"Action": "y", "Effect": "Deny"}], "Version": "2012-10-17"});
        let diff = unified_diff(&a, &c, "", style);
        assert!(diff.contains("-       \"Action\": \"x\","), "{diff}");
        assert!(diff.contains("+       \"Action\": \"y\","), "{diff}");
    }
}
