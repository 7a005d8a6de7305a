//! The applier: walk the instances in dependency order, independent ones concurrently
//! (bounded), each change only after what it depends on succeeded. A failure skips its
//! dependents (transitively) while everything else goes on.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use petgraph::visit::EdgeRef;
use petgraph::Direction;

use crate::aws::with_request_ids;
use crate::expand::{Address, Instance};
use crate::graph::{Edge, ResourceGraph};
use crate::plan::{provider_of, Plan, Planned};
use crate::provider::{Action, AttrDiff, ChangeRequest, Ctx, Error};

/// The result of one planned change.
#[derive(Debug, Clone)]
pub enum Outcome {
    Succeeded(Duration),
    Failed(Error),
    /// Not attempted: something it depends on failed.
    Skipped {
        because: Address,
    },
}

/// One change, as observers see it.
#[derive(Debug, Clone, Copy)]
pub struct ChangeView<'a> {
    pub address: &'a Address,
    pub account_id: &'a str,
    pub region: &'a str,
    pub action: Action,
    pub diffs: &'a [AttrDiff],
}

impl<'a> ChangeView<'a> {
    fn of(item: &'a Planned) -> ChangeView<'a> {
        ChangeView {
            address: &item.address,
            account_id: &item.account_id,
            region: &item.region,
            action: item.action.unwrap_or(Action::Update),
            diffs: &item.diffs,
        }
    }
}

/// Receives each change as it starts and finishes: the CLI prints it, the change log
/// records it.
pub trait Observer: Sync {
    /// Called before the change's first AWS call. An error stops the change: it fails
    /// without any call (the change log could not record the intent, say).
    fn started(&self, change: &ChangeView<'_>) -> Result<(), String>;
    /// `request_ids` are those of every AWS call the change made.
    fn finished(&self, change: &ChangeView<'_>, outcome: &Outcome, request_ids: &[String]);
}

/// Instance-level dependencies: `deps[i]` are the instances that instance `i` waits for.
///
/// A resource-level edge X -> Y makes each instance of Y wait for the instances of X on the
/// same account and region when there are any (a recorder's delivery channel waits for that
/// account-region's recorder), else for those in the same account (a backup selection waits
/// for its account's one service role), else for every instance of X (an organization trail
/// waits for its one log bucket in the log-archive account).
pub fn instance_dependencies(graph: &ResourceGraph, instances: &[Instance]) -> Vec<Vec<usize>> {
    // Each resource's instances, all of them and by account and by site: every look-up
    // below is one hash probe, so the whole is linear in the instances and their
    // dependencies, whatever the size of the organization.
    #[derive(Default)]
    struct Placed<'a> {
        all: Vec<usize>,
        by_account: HashMap<&'a str, Vec<usize>>,
        by_site: HashMap<(&'a str, &'a str), Vec<usize>>,
    }
    let mut by_resource: HashMap<(usize, usize), Placed<'_>> = HashMap::new();
    for (i, inst) in instances.iter().enumerate() {
        let placed = by_resource.entry((inst.decl, inst.part)).or_default();
        placed.all.push(i);
        placed
            .by_account
            .entry(inst.account_id.as_str())
            .or_default()
            .push(i);
        placed
            .by_site
            .entry((inst.account_id.as_str(), inst.region.as_str()))
            .or_default()
            .push(i);
    }
    let node_of: HashMap<(usize, usize), _> = graph
        .graph
        .node_indices()
        .map(|n| ((graph.graph[n].decl, graph.graph[n].part), n))
        .collect();
    let none: Vec<usize> = Vec::new();
    instances
        .iter()
        .map(|inst| {
            let Some(&node) = node_of.get(&(inst.decl, inst.part)) else {
                return Vec::new();
            };
            let mut deps = Vec::new();
            for edge in graph.graph.edges_directed(node, Direction::Incoming) {
                let pred = edge.source();
                let same_site_only = matches!(edge.weight(), Edge::SameSite(_));
                let r = &graph.graph[pred];
                let Some(placed) = by_resource.get(&(r.decl, r.part)) else {
                    continue;
                };
                let same_site = placed
                    .by_site
                    .get(&(inst.account_id.as_str(), inst.region.as_str()))
                    .unwrap_or(&none);
                let same_account = placed
                    .by_account
                    .get(inst.account_id.as_str())
                    .unwrap_or(&none);
                deps.extend(if !same_site.is_empty() || same_site_only {
                    same_site
                } else if !same_account.is_empty() {
                    same_account
                } else {
                    &placed.all
                });
            }
            deps.sort_unstable();
            deps.dedup();
            deps
        })
        .collect()
}

/// Apply every change of `plan`, at most `parallelism` at a time. Returns, per plan item
/// with an action, its outcome, in plan order; none for a change not started because an
/// interrupt stopped the run.
pub async fn apply(
    cx: &Ctx<'_>,
    graph: &ResourceGraph,
    instances: &[Instance],
    plan: &Plan,
    parallelism: usize,
    observer: &dyn Observer,
) -> Vec<(usize, Outcome)> {
    let deps = instance_dependencies(graph, instances);
    let item_of: HashMap<usize, usize> = plan
        .items
        .iter()
        .enumerate()
        .map(|(k, item)| (item.instance, k))
        .collect();
    let mut walk = Walk::new(&deps);
    // What could not be read is not changed, and neither is anything that depends on it.
    for (i, address) in plan.unread_instances() {
        walk.failed_because.insert(i, address.clone());
    }
    let mut outcomes: HashMap<usize, Outcome> = HashMap::new();
    let mut running = FuturesUnordered::new();
    let limit = parallelism.max(1);

    loop {
        // Once interrupted, nothing new starts; what runs finishes and is recorded.
        while running.len() < limit && !crate::interrupt::stopping() {
            let Some(i) = walk.ready.pop() else { break };
            let item = item_of.get(&i).map(|&k| &plan.items[k]);
            match (item, walk.failed_because.get(&i)) {
                (Some(item), Some(because)) if item.action.is_some() => {
                    let outcome = Outcome::Skipped {
                        because: because.clone(),
                    };
                    observer.finished(&ChangeView::of(item), &outcome, &[]);
                    outcomes.insert(i, outcome);
                    walk.release(i);
                }
                (Some(item), None) if item.action.is_some() => {
                    let refused = observer.started(&ChangeView::of(item)).err();
                    running.push(Box::pin(async move {
                        if let Some(why) = refused {
                            let error = Error::State(format!("not started: {why}"));
                            return (i, Err(error), Vec::new());
                        }
                        let started = Instant::now();
                        let (result, ids) =
                            with_request_ids(apply_one(cx, &instances[i], item)).await;
                        (i, result.map(|()| started.elapsed()), ids)
                    }));
                }
                // Nothing to do here: readiness (or a failure) only passes through.
                _ => walk.release(i),
            }
        }
        let Some((i, result, request_ids)) = running.next().await else {
            break;
        };
        let item = &plan.items[item_of[&i]];
        let outcome = match result {
            Ok(elapsed) => Outcome::Succeeded(elapsed),
            Err(e) => Outcome::Failed(e),
        };
        observer.finished(&ChangeView::of(item), &outcome, &request_ids);
        if !matches!(outcome, Outcome::Succeeded(_)) {
            walk.failed_because.insert(i, item.address.clone());
        }
        outcomes.insert(i, outcome);
        walk.release(i);
    }
    let mut result: Vec<(usize, Outcome)> = outcomes
        .into_iter()
        .map(|(i, o)| (item_of[&i], o))
        .collect();
    result.sort_by_key(|(k, _)| *k);
    result
}

/// The state of the walk over the instance graph.
struct Walk {
    /// `dependents[i]`: the instances that wait for instance `i`.
    dependents: Vec<Vec<usize>>,
    /// How many unfinished dependencies each instance still waits for.
    waiting: Vec<usize>,
    /// Instances whose dependencies are all finished, next last.
    ready: Vec<usize>,
    /// Instance -> the failed change it is, or depends on (it is then skipped).
    failed_because: HashMap<usize, Address>,
}

impl Walk {
    fn new(deps: &[Vec<usize>]) -> Walk {
        let mut dependents = vec![Vec::new(); deps.len()];
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                dependents[d].push(i);
            }
        }
        let waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
        let ready = (0..deps.len()).rev().filter(|&i| waiting[i] == 0).collect();
        Walk {
            dependents,
            waiting,
            ready,
            failed_because: HashMap::new(),
        }
    }

    /// Instance `i` is finished: its dependents wait for one thing less, and inherit its
    /// failure if it has one.
    fn release(&mut self, i: usize) {
        let cause = self.failed_because.get(&i).cloned();
        for d in std::mem::take(&mut self.dependents[i]) {
            if let Some(cause) = &cause {
                self.failed_because
                    .entry(d)
                    .or_insert_with(|| cause.clone());
            }
            self.waiting[d] -= 1;
            if self.waiting[d] == 0 {
                self.ready.push(d);
            }
        }
    }
}

/// Delete the managed orphans of `plan`, one at a time, after every other change: nothing
/// declared depends on them. Returns each orphan's outcome, in plan order, up to an
/// interrupt.
pub async fn delete_orphans(cx: &Ctx<'_>, plan: &Plan, observer: &dyn Observer) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for orphan in &plan.orphans {
        if crate::interrupt::stopping() {
            break;
        }
        let view = ChangeView {
            address: &orphan.address,
            account_id: &orphan.account_id,
            region: &orphan.region,
            action: Action::Delete,
            diffs: &[],
        };
        if let Err(why) = observer.started(&view) {
            let outcome = Outcome::Failed(Error::State(format!("not started: {why}")));
            observer.finished(&view, &outcome, &[]);
            outcomes.push(outcome);
            continue;
        }
        let started = Instant::now();
        let (result, request_ids) = with_request_ids(async {
            match orphan.kind.provider {
                Some(p) => {
                    p.delete(
                        cx,
                        &orphan.account_id,
                        &orphan.region,
                        &orphan.address.name,
                        &orphan.live,
                    )
                    .await
                }
                None => Err(Error::State("no provider".into())),
            }
        })
        .await;
        let outcome = match result {
            Ok(()) => Outcome::Succeeded(started.elapsed()),
            Err(e) => Outcome::Failed(e),
        };
        observer.finished(&view, &outcome, &request_ids);
        outcomes.push(outcome);
    }
    outcomes
}

async fn apply_one(cx: &Ctx<'_>, inst: &Instance, item: &Planned) -> Result<(), Error> {
    let provider = provider_of(cx, inst)?;
    let action = item.action.unwrap_or(Action::Update);
    let request = ChangeRequest {
        action,
        desired: &item.desired,
        live: item.live.as_ref(),
        diffs: &item.diffs,
    };
    provider.apply(cx, inst, &request).await
}
