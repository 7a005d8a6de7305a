//! The dependency graph of a baseline's resources (`petgraph`), its cycles and its renderings.
//!
//! Nodes are resources (`kind.name`): one per declaration part. Edges point from what is
//! needed to what needs it, so a topological order is an order in which to create things.
//! Edges come from references (`bucket "org-trail-logs"`), from `depends-on`, from the parts
//! of one declaration (recorder -> delivery channel -> recording), and from each kind's
//! implicit needs (the organization before what lives in it).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::kinds::config_recorder::RECORDING;
use crate::kinds::Placing;
use crate::lang::model::{Baseline, Part, Placement};
use crate::lang::source::Span;
use crate::lang::validate::split_address;

/// A resource of the baseline: one part of one declaration.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Index into `Baseline::declarations`.
    pub decl: usize,
    /// Index into the declaration's parts (0 is the primary).
    pub part: usize,
    pub kind: String,
    pub name: String,
}

impl Resource {
    pub fn address(&self) -> String {
        format!("{}.{}", self.kind, self.name)
    }
}

/// Why an edge exists.
#[derive(Debug, Clone)]
pub enum Edge {
    /// Written by the user: a reference or `depends-on`.
    Written(Span),
    /// Implied by the kinds involved.
    Implied(&'static str),
    /// Implied, and only between instances in the same account and region: Security Hub
    /// after AWS Config where both are declared there.
    SameSite(&'static str),
}

/// A cycle among resources.
#[derive(Debug)]
pub struct Cycle {
    pub nodes: Vec<NodeIndex>,
    /// Spans of the written edges inside the cycle.
    pub edge_spans: Vec<Span>,
}

#[derive(Debug)]
pub struct ResourceGraph {
    pub graph: DiGraph<Resource, Edge>,
}

/// Which declaration each part (kind, name) belongs to: how plan items, which name parts,
/// are traced back to what declared them.
pub fn declarations_by_part(
    baseline: &Baseline,
) -> std::collections::BTreeMap<(String, String), usize> {
    (0..baseline.declarations.len())
        .flat_map(|d| {
            parts(baseline, d)
                .into_iter()
                .map(move |p| ((p.kind, p.name), d))
        })
        .collect()
}

/// Every part of a declaration, the primary first.
pub fn parts(baseline: &Baseline, decl: usize) -> Vec<Part> {
    let d = &baseline.declarations[decl];
    let primary = Part {
        kind: d.kind.keyword().to_string(),
        name: d.name.value.clone(),
        after: vec![],
        per_account: false,
    };
    std::iter::once(primary)
        .chain(d.spec.extra_parts(&d.name.value))
        .collect()
}

impl ResourceGraph {
    pub fn build(baseline: &Baseline) -> Self {
        let mut graph = DiGraph::new();
        // (decl, part) -> node
        let mut nodes: HashMap<(usize, usize), NodeIndex> = HashMap::new();
        for decl in 0..baseline.declarations.len() {
            for (i, part) in parts(baseline, decl).into_iter().enumerate() {
                let n = graph.add_node(Resource {
                    decl,
                    part: i,
                    kind: part.kind,
                    name: part.name,
                });
                nodes.insert((decl, i), n);
                for &before in &part.after {
                    graph.add_edge(
                        nodes[&(decl, before)],
                        n,
                        Edge::Implied("part of one declaration"),
                    );
                }
            }
        }
        let primary = |keyword: &str, name: &str| {
            baseline
                .declarations
                .iter()
                .position(|d| d.kind.keyword() == keyword && d.name.value == name)
                .map(|i| nodes[&(i, 0)])
        };
        let organization = baseline
            .declarations
            .iter()
            .position(|d| d.kind.keyword() == "organization");
        for (i, decl) in baseline.declarations.iter().enumerate() {
            let from = |part: usize| nodes.get(&(i, part)).copied().unwrap_or(nodes[&(i, 0)]);
            for r in decl.spec.references() {
                if let Some(to) = primary(r.kind, &r.name.value) {
                    graph.add_edge(to, from(r.part), Edge::Written(r.name.span));
                }
            }
            if let Placement::Targets(t) = &decl.placement {
                for ou in t.ou_references() {
                    if let Some(to) = primary("organizational-unit", &ou.value) {
                        graph.add_edge(to, from(0), Edge::Written(ou.span));
                    }
                }
            }
            for dep in &decl.depends_on {
                if let Some(to) = split_address(&dep.value).and_then(|(k, n)| primary(k, n)) {
                    graph.add_edge(to, from(0), Edge::Written(dep.span));
                }
            }
            let lives_in_org =
                decl.kind.placing == Placing::Organization || decl.kind.needs_organization;
            if let Some(org) = organization.filter(|&o| o != i && lives_in_org) {
                graph.add_edge(
                    nodes[&(org, 0)],
                    from(0),
                    Edge::Implied("organization first"),
                );
            }
            // Security Hub's controls evaluate AWS Config's records: AWS requires Config to
            // be recording before Security Hub is enabled (Security Hub user guide, "Enabling
            // and configuring AWS Config").
            if decl.kind.keyword() == "security-hub" {
                for (c, other) in baseline.declarations.iter().enumerate() {
                    if other.kind.keyword() == "config-recorder" {
                        graph.add_edge(
                            nodes[&(c, RECORDING)],
                            from(0),
                            Edge::SameSite("AWS Config before Security Hub"),
                        );
                    }
                }
            }
        }
        ResourceGraph { graph }
    }

    pub fn address(&self, n: NodeIndex) -> String {
        self.graph[n].address()
    }

    /// Every cycle (strongly connected component with more than one node, or a self-edge).
    pub fn cycles(&self) -> Vec<Cycle> {
        let mut out = Vec::new();
        for mut scc in tarjan_scc(&self.graph) {
            let self_loop = scc.len() == 1 && self.graph.contains_edge(scc[0], scc[0]);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            scc.sort_by_key(|n| (self.graph[*n].decl, self.graph[*n].part));
            let ordered = self.cycle_order(&scc);
            let mut edge_spans = Vec::new();
            for w in ordered.windows(2).chain(std::iter::once(
                [ordered[ordered.len() - 1], ordered[0]].as_slice(),
            )) {
                for e in self.graph.edges_connecting(w[0], w[1]) {
                    if let Edge::Written(span) = e.weight() {
                        edge_spans.push(*span);
                    }
                }
            }
            out.push(Cycle {
                nodes: ordered,
                edge_spans,
            });
        }
        out
    }

    /// Order the members of a strongly connected component along one walk through it.
    fn cycle_order(&self, scc: &[NodeIndex]) -> Vec<NodeIndex> {
        let mut order = vec![scc[0]];
        let mut current = scc[0];
        while order.len() < scc.len() {
            let next = self
                .graph
                .neighbors_directed(current, Direction::Outgoing)
                .filter(|n| scc.contains(n) && !order.contains(n))
                .min_by_key(|n| (self.graph[*n].decl, self.graph[*n].part));
            match next {
                Some(n) => {
                    order.push(n);
                    current = n;
                }
                None => {
                    // A branchy component: list the rest in declaration order.
                    order.extend(
                        scc.iter()
                            .filter(|n| !order.contains(n))
                            .copied()
                            .collect::<Vec<_>>(),
                    );
                }
            }
        }
        order
    }

    /// A topological order, ties broken by declaration order so output is stable.
    /// Nodes on cycles are left out (a validated baseline has none).
    pub fn topological(&self) -> Vec<NodeIndex> {
        let key = |n: NodeIndex| (self.graph[n].decl, self.graph[n].part, n.index());
        let mut indegree: HashMap<NodeIndex, usize> = self
            .graph
            .node_indices()
            .map(|n| {
                (
                    n,
                    self.graph
                        .neighbors_directed(n, Direction::Incoming)
                        .count(),
                )
            })
            .collect();
        let mut ready: BTreeSet<(usize, usize, usize)> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(n, _)| key(*n))
            .collect();
        let mut out = Vec::new();
        while let Some(k) = ready.pop_first() {
            let n = NodeIndex::new(k.2);
            out.push(n);
            for m in self.graph.neighbors_directed(n, Direction::Outgoing) {
                let d = indegree.get_mut(&m).expect("node");
                *d -= 1;
                if *d == 0 {
                    ready.insert(key(m));
                }
            }
        }
        out
    }

    /// What `n` needs, by address, sorted and without repeats.
    pub fn dependencies(&self, n: NodeIndex) -> Vec<String> {
        let set: BTreeSet<String> = self
            .graph
            .neighbors_directed(n, Direction::Incoming)
            .map(|m| self.address(m))
            .collect();
        set.into_iter().collect()
    }

    /// Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph baseline {\n  rankdir=LR;\n  node [shape=box];\n");
        for n in self.topological() {
            let _ = writeln!(out, "  \"{}\";", self.address(n));
        }
        let mut edges: BTreeSet<(String, String, bool)> = BTreeSet::new();
        for e in self.graph.edge_references() {
            let implied = matches!(e.weight(), Edge::Implied(_) | Edge::SameSite(_));
            edges.insert((self.address(e.source()), self.address(e.target()), implied));
        }
        for (from, to, implied) in edges {
            let style = if implied { " [style=dashed]" } else { "" };
            let _ = writeln!(out, "  \"{from}\" -> \"{to}\"{style};");
        }
        out.push_str("}\n");
        out
    }

    /// One resource per line in topological order, each with what it needs.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for (i, n) in self.topological().into_iter().enumerate() {
            let deps = self.dependencies(n);
            let _ = write!(out, "{:>3}. {}", i + 1, self.address(n));
            if !deps.is_empty() {
                let _ = write!(out, "  <- {}", deps.join(", "));
            }
            out.push('\n');
        }
        out
    }
}
