//! Model stage, exact dispatch of one period given z by min-cost flow. Given z, one period is a
//! network problem: tranches with capacity A(k,t)·cap(k)·z(k), grouped under their provider (the
//! share cap is the provider's arc), serve regions' demand over allowed routes at usage + route
//! price, or leave it unserved at the penalty; each N-1 block is the same network without the
//! lost provider, at no price, covering loss_coverage of demand. Successive shortest paths solve
//! them exactly (a vertex) in microseconds, without an LP solver: held dispatches, stress tests
//! and risk samples are solved this way, and so is the crossover of an interior-point plan.
//!
//! Hand-written because the graph is tiny and fixed in shape (source → tranches → regions → sink,
//! plus an unserved arc per region), flows are real numbers, and the result must be deterministic
//! and exact; general min-cost-flow crates work on integer capacities.

use crate::facts::{Facts, PeriodId, ProviderId, RegionId, TrancheId};
use crate::plan::PlanFlow;
use crate::scenario::Scenario;

struct Arc {
    to: usize,
    /// Residual capacity, tokens per minute.
    cap: f64,
    /// $ per million tokens.
    cost: f64,
    rev: usize,
    /// An arc of the network (not the reverse arc of one).
    forward: bool,
}

#[derive(Default)]
struct Graph {
    arcs: Vec<Vec<Arc>>,
    // Work buffers of the shortest-path passes, kept with the graph so they are reused.
    dist: Vec<f64>,
    prev: Vec<Option<(usize, usize)>>,
    queued: Vec<bool>,
    queue: std::collections::VecDeque<usize>,
    stack: Vec<(usize, usize)>,
    path: Vec<(usize, usize)>,
}

thread_local! {
    /// One graph per thread, reused period after period: a period's network has a few dozen
    /// nodes, and allocating them afresh cost as much as solving it.
    static SPARE: std::cell::RefCell<Option<Graph>> = const { std::cell::RefCell::new(None) };
}

impl Graph {
    /// An empty graph of `nodes` nodes, reusing this thread's spare one.
    fn new(nodes: usize) -> Graph {
        let mut g = SPARE
            .with(|spare| spare.borrow_mut().take())
            .unwrap_or_default();
        for a in &mut g.arcs {
            a.clear();
        }
        g.arcs.resize_with(nodes, Vec::new);
        g
    }

    /// Gives the graph back to this thread for the next period.
    fn recycle(self) {
        SPARE.with(|spare| *spare.borrow_mut() = Some(self));
    }

    fn add(&mut self, from: usize, to: usize, cap: f64, cost: f64) -> (usize, usize) {
        let (a, b) = (self.arcs[from].len(), self.arcs[to].len());
        self.arcs[from].push(Arc {
            to,
            cap,
            cost,
            rev: b,
            forward: true,
        });
        self.arcs[to].push(Arc {
            to: from,
            cap: 0.0,
            cost: -cost,
            rev: a,
            forward: false,
        });
        (from, a)
    }
}

/// The flows of one period given the capacity z each tranche brings (1 for on-demand), at most
/// `share_limit` tokens per minute per provider when a share cap applies; the demand each region
/// leaves unserved is demand − served.
pub fn dispatch_period(
    s: &Scenario,
    facts: &Facts,
    t: PeriodId,
    capacity_fraction: &[f64],
    share_limit: Option<f64>,
) -> Vec<PlanFlow> {
    Network::plan(s, facts, t, capacity_fraction, share_limit)
        .solve()
        .0
}

/// The N-1 shortfall of one period if provider `lost` went down: the demand × loss_coverage the
/// other providers' reserved capacity cannot carry, per region (routes apply; no prices, no
/// share cap; the total is unique, its split over regions one of the optimal ones).
pub fn loss_shortfalls(
    s: &Scenario,
    facts: &Facts,
    t: PeriodId,
    capacity_fraction: &[f64],
    lost: ProviderId,
) -> Vec<(RegionId, f64)> {
    Network::plan(s, facts, t, capacity_fraction, None)
        .without(lost)
        .solve()
        .1
}

/// The network of the period evaluated last on this thread's run of consecutive periods, with
/// its potentials: the warm start of the next period's plan network (see `Network::value`).
#[derive(Default)]
pub struct WarmStart {
    previous: Option<(Graph, Vec<f64>)>,
}

/// One period's optimal dispatch cost given z, in dollars — the plan's network (usage, route
/// and unserved penalty) plus, with `provider_loss`, every N-1 block's resilience penalty — and
/// its subgradient in z: `slope[k]` gains d(dollars)/d z(k) (≤ 0) for every tranche available in
/// t. The decomposition's subproblem: exact, a vertex, from the same networks as the dispatch.
// The scenario, its facts, the period and z, the policy rows in force, and two outputs: a flat
// list reads better at the one call site than a struct made for it.
#[allow(clippy::too_many_arguments)]
pub fn period_value(
    s: &Scenario,
    facts: &Facts,
    t: PeriodId,
    capacity_fraction: &[f64],
    share_limit: Option<f64>,
    provider_loss: bool,
    slope: &mut [f64],
    warm: &mut WarmStart,
) -> f64 {
    let million_per_tpm = facts.period_minutes[t.0] / crate::units::TOKENS_PER_MILLION;
    let mut mu = Vec::new();
    let network = Network::plan(s, facts, t, capacity_fraction, share_limit);
    let mut cost = 0.0;
    let mut add = |cost_units: f64, mu: &[(TrancheId, f64)], cost: &mut f64| {
        *cost += cost_units * million_per_tpm;
        for &(k, value) in mu {
            slope[k.0] -= value * facts.available_tpm[t.0][k.0] * million_per_tpm;
        }
    };
    let c = network.value(&mut mu, Some(warm));
    add(c, &mu, &mut cost);
    if provider_loss {
        for q in 0..facts.providers.len() {
            let loss = network.without(ProviderId(q));
            let by_cuts = loss_value_by_cuts(
                facts,
                t,
                capacity_fraction,
                (loss.coverage, loss.penalty),
                ProviderId(q),
                &mut mu,
            );
            let c = by_cuts.unwrap_or_else(|| loss.value(&mut mu, None));
            add(c, &mu, &mut cost);
        }
    }
    cost
}

/// Regions with demand up to which an N-1 block is solved by enumerating cuts (2^n of them).
const MAX_CUT_REGIONS: usize = 10;

/// An N-1 block's cost (penalty × shortfall, in $/M × tokens per minute) by max-flow = min-cut,
/// with `mu` set to the marginal value of capacity (the penalty) of each tranche on a minimum cut;
/// None
/// when there are too many regions to enumerate cuts. The block's flows are free and its
/// shortfall priced uniformly, so its cost is the penalty × (demand − max flow), and the max flow
/// from tranches to regions is the least, over sets S of regions, of the demand outside S plus
/// the capacity of every tranche that can serve a region in S.
fn loss_value_by_cuts(
    facts: &Facts,
    t: PeriodId,
    capacity_fraction: &[f64],
    (coverage, penalty): (f64, f64),
    lost: ProviderId,
    mu: &mut Vec<(TrancheId, f64)>,
) -> Option<f64> {
    mu.clear();
    let demand: Vec<(usize, f64)> = facts.demand_tpm[t.0]
        .iter()
        .enumerate()
        .map(|(r, d)| (r, d * coverage))
        .filter(|&(_, d)| d > 0.0)
        .collect();
    let n = demand.len();
    if n > MAX_CUT_REGIONS {
        return None;
    }
    if n == 0 {
        return Some(0.0);
    }
    // Each tranche's capacity and the set of demand regions its routes reach, as a bit mask.
    let tranches: Vec<(usize, f64, u32)> = facts
        .tranches
        .iter()
        .enumerate()
        .filter(|(k, f)| f.provider != lost && facts.available_tpm[t.0][*k] > 0.0)
        .map(|(k, f)| {
            let mask = demand
                .iter()
                .enumerate()
                .filter(|(_, (r, _))| f.route_cost_per_million_tokens[*r].is_some())
                .fold(0u32, |m, (i, _)| m | (1 << i));
            (k, facts.available_tpm[t.0][k] * capacity_fraction[k], mask)
        })
        .filter(|&(_, _, mask)| mask != 0)
        .collect();
    let total: f64 = demand.iter().map(|(_, d)| d).sum();
    let mut best = (f64::INFINITY, 0u32);
    for set in 0..(1u32 << n) {
        let outside: f64 = demand
            .iter()
            .enumerate()
            .filter(|(i, _)| set & (1 << i) == 0)
            .map(|(_, (_, d))| d)
            .sum();
        let reaching: f64 = tranches
            .iter()
            .filter(|(_, _, mask)| mask & set != 0)
            .map(|(_, cap, _)| cap)
            .sum();
        let cut = outside + reaching;
        if cut < best.0 {
            best = (cut, set);
        }
    }
    let (max_flow, set) = best;
    for &(k, _, mask) in &tranches {
        if mask & set != 0 {
            mu.push((TrancheId(k), penalty));
        }
    }
    Some((total - max_flow).max(0.0) * penalty)
}

/// One period's transportation network: source → provider (the share cap) → tranche
/// (A·cap·z) → region (usage + route price, or nothing for N-1) → sink (demand × coverage), and
/// source → region at the penalty for what is left unserved.
struct Network<'a> {
    s: &'a Scenario,
    facts: &'a Facts,
    t: PeriodId,
    capacity_fraction: &'a [f64],
    share_limit: Option<f64>,
    lost: Option<ProviderId>,
    coverage: f64,
    penalty: f64,
    priced: bool,
}

/// A network built for one period: the graph and the arcs whose flow or dual is read back.
struct Built {
    g: Graph,
    /// Tranche → region arcs with their price ($/M).
    flow_arcs: Vec<(TrancheId, RegionId, (usize, usize), f64)>,
    /// Source → region arcs (what is left unserved) with their penalty ($/M).
    unserved_arcs: Vec<(RegionId, (usize, usize), f64)>,
    /// Provider → tranche arcs (capacity A·cap·z), with the provider node and the tranche node.
    tranche_arcs: Vec<(TrancheId, usize, usize)>,
    source: usize,
    sink: usize,
    total: f64,
    tiny: f64,
}

impl Built {
    fn carried(&self, (u, i): (usize, usize)) -> f64 {
        let a = &self.g.arcs[u][i];
        self.g.arcs[a.to][a.rev].cap
    }
}

impl<'a> Network<'a> {
    /// The plan's network of period t: usage and route prices, the unserved penalty, the share
    /// limit when one applies.
    fn plan(
        s: &'a Scenario,
        facts: &'a Facts,
        t: PeriodId,
        capacity_fraction: &'a [f64],
        share_limit: Option<f64>,
    ) -> Network<'a> {
        Network {
            s,
            facts,
            t,
            capacity_fraction,
            share_limit,
            lost: None,
            coverage: 1.0,
            penalty: s.policy.unserved_penalty,
            priced: true,
        }
    }

    /// The N-1 block of the same period for losing `lost`: free flows, no share cap,
    /// loss_coverage of demand, the resilience penalty.
    fn without(&self, lost: ProviderId) -> Network<'a> {
        Network {
            share_limit: None,
            lost: Some(lost),
            coverage: self.s.policy.loss_coverage,
            penalty: self.s.policy.resilience_penalty,
            priced: false,
            ..*self
        }
    }
}

impl Network<'_> {
    /// The graph of this period, or None when it has no demand. With `every_tranche`, tranches
    /// with no capacity at this z still get their (empty) arc, so their capacity has a dual.
    fn build(&self, every_tranche: bool) -> Option<Built> {
        let (s, facts, t) = (self.s, self.facts, self.t);
        let n_p = facts.providers.len();
        let n_k = facts.tranches.len();
        let n_r = facts.regions.len();
        // Nodes: 0 source, then providers, tranches, regions, and the sink last.
        let provider_node = |p: usize| 1 + p;
        let tranche_node = |k: usize| 1 + n_p + k;
        let region_node = |r: usize| 1 + n_p + n_k + r;
        let source = 0;
        let sink = 1 + n_p + n_k + n_r;
        let mut g = Graph::new(sink + 1);
        let demand: Vec<f64> = facts.demand_tpm[t.0]
            .iter()
            .map(|d| d * self.coverage)
            .collect();
        let total: f64 = demand.iter().sum();
        if total <= 0.0 {
            return None;
        }
        let tiny = 1e-12 * total;
        for p in 0..n_p {
            if self.lost != Some(ProviderId(p)) {
                g.add(
                    source,
                    provider_node(p),
                    self.share_limit.unwrap_or(f64::INFINITY),
                    0.0,
                );
            }
        }
        let mut flow_arcs = Vec::new();
        let mut tranche_arcs = Vec::new();
        for (k, tranche) in facts.tranches.iter().enumerate() {
            let available = facts.available_tpm[t.0][k];
            let cap = available * self.capacity_fraction[k];
            if self.lost == Some(tranche.provider) || available <= 0.0 {
                continue;
            }
            if cap <= 0.0 && !every_tranche {
                continue;
            }
            let p = tranche.provider.0;
            g.add(provider_node(p), tranche_node(k), cap.max(0.0), 0.0);
            tranche_arcs.push((TrancheId(k), provider_node(p), tranche_node(k)));
            for (r, &d) in demand.iter().enumerate() {
                if d <= 0.0 {
                    continue;
                }
                if let Some(route) = tranche.route_cost_per_million_tokens[r] {
                    let price = if self.priced {
                        s.tranches[k].cost_per_million_tokens + route
                    } else {
                        0.0
                    };
                    let arc = g.add(tranche_node(k), region_node(r), f64::INFINITY, price);
                    flow_arcs.push((TrancheId(k), RegionId(r), arc, price));
                }
            }
        }
        let mut unserved_arcs = Vec::new();
        for (r, &d) in demand.iter().enumerate() {
            if d > 0.0 {
                g.add(region_node(r), sink, d, 0.0);
                let arc = g.add(source, region_node(r), f64::INFINITY, self.penalty);
                unserved_arcs.push((RegionId(r), arc, self.penalty));
            }
        }
        Some(Built {
            g,
            flow_arcs,
            unserved_arcs,
            tranche_arcs,
            source,
            sink,
            total,
            tiny,
        })
    }

    /// The flows and the unserved tokens per minute of each region with demand.
    fn solve(&self) -> (Vec<PlanFlow>, Vec<(RegionId, f64)>) {
        let Some(mut b) = self.build(false) else {
            return (Vec::new(), Vec::new());
        };
        b.g.send(b.source, b.sink, b.total, b.tiny);
        let t = self.t;
        let flows = b
            .flow_arcs
            .iter()
            .filter_map(|&(k, r, arc, _)| {
                let tpm = b.carried(arc);
                (tpm > 0.0).then_some(PlanFlow {
                    period: t,
                    tranche: k,
                    region: r,
                    tokens_per_minute: tpm,
                })
            })
            .collect();
        let unserved = b
            .unserved_arcs
            .iter()
            .map(|&(r, arc, _)| (r, b.carried(arc)))
            .collect();
        b.g.recycle();
        (flows, unserved)
    }

    /// The optimal cost of this network, in $/M × tokens per minute, and the marginal value μ(k)
    /// of each tranche's capacity arc in the same units per token per minute (≥ 0): minus the
    /// LP dual of its capacity row, read from node potentials of the optimal residual graph.
    ///
    /// With `warm`, the previous period's network of the same shape (and its potentials) starts
    /// this one: consecutive periods differ in a few capacities (demand, share limits, outages),
    /// so moving its optimal flow onto this period's capacities and repairing it takes a few
    /// paths instead of a solve from nothing. This network is then kept in `warm` for the next.
    fn value(&self, mu: &mut Vec<(TrancheId, f64)>, warm: Option<&mut WarmStart>) -> f64 {
        mu.clear();
        let Some(mut b) = self.build(true) else {
            return 0.0;
        };
        let mut warm = warm;
        let previous = warm.as_mut().and_then(|w| w.previous.take());
        match previous {
            Some((old, pi)) if old.same_shape(&b.g) => {
                b.g.adopt(&old, &pi, (b.source, b.sink, b.total), b.tiny);
                old.recycle();
            }
            other => {
                if let Some((old, _)) = other {
                    old.recycle();
                }
                b.g.send(b.source, b.sink, b.total, b.tiny);
            }
        }
        let cost: f64 = b
            .flow_arcs
            .iter()
            .map(|&(_, _, arc, price)| b.carried(arc) * price)
            .chain(
                b.unserved_arcs
                    .iter()
                    .map(|&(_, arc, penalty)| b.carried(arc) * penalty),
            )
            .sum();
        let pi = b.g.potentials(b.tiny);
        for &(k, provider, tranche) in &b.tranche_arcs {
            // Reduced cost c + π(u) − π(v) is ≥ 0 on every residual arc; on a saturated capacity
            // arc it may be negative, and its negative is the capacity's marginal value.
            let value = pi[tranche] - pi[provider];
            if value > 0.0 {
                mu.push((k, value));
            }
        }
        match warm {
            Some(w) => {
                let pi = pi.to_vec();
                w.previous = Some((b.g, pi));
            }
            None => b.g.recycle(),
        }
        cost
    }
}

impl Graph {
    /// Sends `total` from `source` to `sink` at least cost by successive shortest paths
    /// (Bellman–Ford on the residual graph, which has negative arcs; deterministic order), each
    /// labelling followed by pushes along every tight path it admits (the primal-dual method).
    fn send(&mut self, source: usize, sink: usize, total: f64, tiny: f64) {
        let mut sent = 0.0;
        while sent < total - tiny {
            self.label(|v| v == source, tiny);
            if self.dist[sink] == f64::INFINITY {
                break;
            }
            let room = |v: usize| (v == sink).then_some(f64::INFINITY);
            let mut pushed_any = false;
            while sent < total - tiny {
                let Some((_, push)) = self.push_tight(source, room, total - sent, tiny) else {
                    break;
                };
                sent += push;
                pushed_any = true;
            }
            if !pushed_any {
                sent += self.push_labelled(sink, total - sent).1;
            }
        }
    }

    /// Sends every excess (balance > 0) to the deficits (balance < 0) along shortest paths of
    /// the residual graph: labels from every excess node at once, then pushes along every tight
    /// path from an excess to a deficit, as `send` does.
    fn settle(&mut self, balance: &mut [f64], tiny: f64) {
        let n = self.arcs.len();
        loop {
            if !(0..n).any(|v| balance[v] > tiny) {
                break;
            }
            self.label(|v| balance[v] > tiny, tiny);
            let mut pushed_any = false;
            for origin in 0..n {
                while balance[origin] > tiny {
                    let room = |v: usize| (balance[v] < -tiny).then(|| -balance[v]);
                    let Some((target, push)) = self.push_tight(origin, room, balance[origin], tiny)
                    else {
                        break;
                    };
                    balance[origin] -= push;
                    balance[target] += push;
                    pushed_any = true;
                }
            }
            if !pushed_any {
                // Nothing tight under these labels (rounding): push along the labelled path to
                // the nearest deficit, or stop when none is reachable.
                let target = (0..n)
                    .filter(|&v| balance[v] < -tiny && self.dist[v] < f64::INFINITY)
                    .min_by(|&a, &b| self.dist[a].total_cmp(&self.dist[b]));
                let Some(target) = target else {
                    break;
                };
                let origin = self.path_origin(target);
                let (origin, push) =
                    self.push_labelled(target, balance[origin].min(-balance[target]));
                balance[origin] -= push;
                balance[target] += push;
            }
        }
    }

    /// Node potentials π with c(u,v) + π(u) − π(v) ≥ 0 on every arc with residual capacity:
    /// shortest distances from a virtual root joined to every node at no cost. With the optimal
    /// flow they are an optimal LP dual, so capacity duals read from them are exact.
    fn potentials(&mut self, tiny: f64) -> &[f64] {
        self.label(|_| true, tiny);
        &self.dist
    }

    /// Shortest distances over arcs with residual capacity from every node `origin` admits (at
    /// distance 0), into `self.dist`, with the arc into each node in `self.prev`: Bellman–Ford
    /// with a FIFO queue of nodes whose distance dropped, in deterministic order. The residual
    /// graph of an optimal (pseudo-)flow has no negative cycle, so the queue empties; the pop
    /// bound only guards against floating-point cycling.
    fn label(&mut self, origin: impl Fn(usize) -> bool, tiny: f64) {
        let n = self.arcs.len();
        let (mut dist, mut prev, mut queued, mut queue) = (
            std::mem::take(&mut self.dist),
            std::mem::take(&mut self.prev),
            std::mem::take(&mut self.queued),
            std::mem::take(&mut self.queue),
        );
        dist.clear();
        prev.clear();
        prev.resize(n, None);
        queued.clear();
        queue.clear();
        for v in 0..n {
            let start = origin(v);
            dist.push(if start { 0.0 } else { f64::INFINITY });
            queued.push(start);
            if start {
                queue.push_back(v);
            }
        }
        let mut pops = 0usize;
        while let Some(u) = queue.pop_front() {
            queued[u] = false;
            pops += 1;
            if pops > n * n + n {
                break;
            }
            for (i, a) in self.arcs[u].iter().enumerate() {
                if a.cap > tiny && dist[u] + a.cost < dist[a.to] - 1e-12 {
                    dist[a.to] = dist[u] + a.cost;
                    prev[a.to] = Some((u, i));
                    if !queued[a.to] {
                        queued[a.to] = true;
                        queue.push_back(a.to);
                    }
                }
            }
        }
        (self.dist, self.prev, self.queued, self.queue) = (dist, prev, queued, queue);
    }

    /// Finds, by depth-first search from `origin`, a path of arcs with residual capacity that
    /// are tight under the labels (dist(u) + cost = dist(v)) to a node `room` accepts, and
    /// pushes as much as the path, `limit` and that room allow. Every such path is a shortest
    /// path, and stays one as flow moves along such paths (their reverse arcs are tight too), so
    /// one labelling serves many pushes: prices repeat (every reserved tranche has the same usage
    /// price). Returns the target and the amount, or None when there is no such path.
    fn push_tight(
        &mut self,
        origin: usize,
        room: impl Fn(usize) -> Option<f64>,
        limit: f64,
        tiny: f64,
    ) -> Option<(usize, f64)> {
        let n = self.arcs.len();
        let mut visited = std::mem::take(&mut self.queued);
        visited.clear();
        visited.resize(n, false);
        // The search stack: (node, next arc to try); `self.prev` records the arc into each node.
        let mut stack = std::mem::take(&mut self.stack);
        stack.clear();
        stack.push((origin, 0));
        visited[origin] = true;
        let mut found = None;
        while let Some(&mut (u, ref mut next)) = stack.last_mut() {
            if u != origin {
                if let Some(r) = room(u) {
                    found = Some((u, r));
                    break;
                }
            }
            let arcs = &self.arcs[u];
            let mut advanced = None;
            while *next < arcs.len() {
                let i = *next;
                *next += 1;
                let a = &arcs[i];
                if a.cap > tiny && !visited[a.to] && self.dist[a.to] < f64::INFINITY {
                    let slack = self.dist[u] + a.cost - self.dist[a.to];
                    if slack.abs() <= 1e-12 * (1.0 + self.dist[a.to].abs()) {
                        advanced = Some((a.to, i));
                        break;
                    }
                }
            }
            match advanced {
                Some((v, i)) => {
                    visited[v] = true;
                    self.prev[v] = Some((u, i));
                    stack.push((v, 0));
                }
                None => {
                    stack.pop();
                }
            }
        }
        self.queued = visited;
        let result = found.map(|(target, room)| {
            let mut path = std::mem::take(&mut self.path);
            path.clear();
            path.extend(
                stack[1..]
                    .iter()
                    .map(|&(v, _)| self.prev[v].expect("on the path")),
            );
            let push = self.push_along(&path, limit.min(room));
            self.path = path;
            (target, push)
        });
        self.stack = stack;
        result
    }

    /// The node the labelled path into `target` (by `self.prev`) starts from.
    fn path_origin(&self, target: usize) -> usize {
        let mut v = target;
        while let Some((u, _)) = self.prev[v] {
            v = u;
        }
        v
    }

    /// Pushes along the labelled path into `target` (by `self.prev`), at most `limit`: the
    /// path's origin and the amount pushed.
    fn push_labelled(&mut self, target: usize, limit: f64) -> (usize, f64) {
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        let mut v = target;
        while let Some((u, i)) = self.prev[v] {
            path.push((u, i));
            v = u;
        }
        let push = self.push_along(&path, limit);
        self.path = path;
        (v, push)
    }

    /// Pushes as much as the arcs of `path` carry, at most `limit`; returns the amount.
    fn push_along(&mut self, path: &[(usize, usize)], limit: f64) -> f64 {
        let push = path
            .iter()
            .map(|&(u, i)| self.arcs[u][i].cap)
            .fold(limit, f64::min);
        for &(u, i) in path {
            self.arcs[u][i].cap -= push;
            let (to, rev) = (self.arcs[u][i].to, self.arcs[u][i].rev);
            self.arcs[to][rev].cap += push;
        }
        push
    }
}

impl Graph {
    /// Whether `other` has the same nodes and arcs (the same tranches available and regions
    /// with demand), so flows can be carried over arc by arc.
    fn same_shape(&self, other: &Graph) -> bool {
        self.arcs.len() == other.arcs.len()
            && self.arcs.iter().zip(&other.arcs).all(|(a, b)| {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.to == y.to && x.cost == y.cost)
            })
    }

    /// Takes over the optimal flow of `old` (same shape; `pi` its potentials) onto this graph's
    /// capacities and repairs it to an optimal flow of `total` from `source` to `sink`. Each
    /// arc keeps its old flow where that fits and reduced-cost optimality allows; a flow above
    /// the new capacity is cut to it, an arc of negative reduced cost is filled to it, and every
    /// demand arc into the sink carries its new demand (no cycle passes a saturated sink, so
    /// those need no optimality). The imbalances left are settled by shortest paths.
    fn adopt(
        &mut self,
        old: &Graph,
        pi: &[f64],
        (source, sink, total): (usize, usize, f64),
        tiny: f64,
    ) {
        let n = self.arcs.len();
        let mut balance = vec![0.0f64; n];
        for u in 0..n {
            for i in 0..self.arcs[u].len() {
                let a = &self.arcs[u][i];
                if !a.forward {
                    continue;
                }
                let (to, rev, cap) = (a.to, a.rev, a.cap);
                let old_flow = old.arcs[to][rev].cap;
                let reduced = a.cost + pi[u] - pi[to];
                let flow = if to == sink || old_flow > cap || (reduced < 0.0 && cap.is_finite()) {
                    cap
                } else {
                    old_flow
                };
                self.arcs[u][i].cap = cap - flow;
                self.arcs[to][rev].cap = flow;
                balance[u] -= flow;
                balance[to] += flow;
            }
        }
        // What each node must still send on: the source all of `total`, the sink nothing.
        balance[source] += total;
        balance[sink] -= total;
        self.settle(&mut balance, tiny);
    }
}
