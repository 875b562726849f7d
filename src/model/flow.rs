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
}

struct Graph {
    arcs: Vec<Vec<Arc>>,
}

impl Graph {
    fn new(nodes: usize) -> Graph {
        Graph {
            arcs: (0..nodes).map(|_| Vec::new()).collect(),
        }
    }

    fn add(&mut self, from: usize, to: usize, cap: f64, cost: f64) -> (usize, usize) {
        let (a, b) = (self.arcs[from].len(), self.arcs[to].len());
        self.arcs[from].push(Arc {
            to,
            cap,
            cost,
            rev: b,
        });
        self.arcs[to].push(Arc {
            to: from,
            cap: 0.0,
            cost: -cost,
            rev: a,
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
    let network = Network {
        s,
        facts,
        t,
        capacity_fraction,
        share_limit,
        lost: None,
        coverage: 1.0,
        penalty: s.policy.unserved_penalty,
        priced: true,
    };
    network.solve().0
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
    let network = Network {
        s,
        facts,
        t,
        capacity_fraction,
        share_limit: None,
        lost: Some(lost),
        coverage: s.policy.loss_coverage,
        penalty: s.policy.resilience_penalty,
        priced: false,
    };
    network.solve().1
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

impl Network<'_> {
    /// The flows and the unserved tokens per minute of each region with demand.
    fn solve(&self) -> (Vec<PlanFlow>, Vec<(RegionId, f64)>) {
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
            return (Vec::new(), Vec::new());
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
        let mut flow_arcs: Vec<(TrancheId, RegionId, (usize, usize))> = Vec::new();
        for (k, tranche) in facts.tranches.iter().enumerate() {
            let cap = facts.available_tpm[t.0][k] * self.capacity_fraction[k];
            if cap <= 0.0 || self.lost == Some(tranche.provider) {
                continue;
            }
            g.add(provider_node(tranche.provider.0), tranche_node(k), cap, 0.0);
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
                    flow_arcs.push((TrancheId(k), RegionId(r), arc));
                }
            }
        }
        let mut unserved_arcs = Vec::new();
        for (r, &d) in demand.iter().enumerate() {
            if d > 0.0 {
                g.add(region_node(r), sink, d, 0.0);
                let arc = g.add(source, region_node(r), f64::INFINITY, self.penalty);
                unserved_arcs.push((RegionId(r), arc));
            }
        }
        g.send(source, sink, total, tiny);
        let carried = |(u, i): (usize, usize)| {
            let a = &g.arcs[u][i];
            g.arcs[a.to][a.rev].cap
        };
        let flows = flow_arcs
            .into_iter()
            .filter_map(|(k, r, arc)| {
                let tpm = carried(arc);
                (tpm > 0.0).then_some(PlanFlow {
                    period: t,
                    tranche: k,
                    region: r,
                    tokens_per_minute: tpm,
                })
            })
            .collect();
        let unserved = unserved_arcs
            .into_iter()
            .map(|(r, arc)| (r, carried(arc)))
            .collect();
        (flows, unserved)
    }
}

impl Graph {
    /// Sends `total` from `source` to `sink` at least cost by successive shortest paths
    /// (Bellman–Ford on the residual graph, which has negative arcs; deterministic order).
    fn send(&mut self, source: usize, sink: usize, total: f64, tiny: f64) {
        let n = self.arcs.len();
        let mut sent = 0.0;
        while sent < total - tiny {
            // Bellman–Ford with a FIFO queue of nodes whose distance dropped: the same labels,
            // in far fewer relaxations on these layered graphs; deterministic order.
            let mut dist = vec![f64::INFINITY; n];
            let mut prev: Vec<Option<(usize, usize)>> = vec![None; n];
            let mut queued = vec![false; n];
            let mut queue = std::collections::VecDeque::with_capacity(n);
            dist[source] = 0.0;
            queue.push_back(source);
            queued[source] = true;
            // No negative cycle exists in the residual graph of an optimal partial flow, so the
            // queue empties; the pop bound only guards against floating-point cycling.
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
            if dist[sink] == f64::INFINITY {
                break;
            }
            let mut push = total - sent;
            let mut v = sink;
            while let Some((u, i)) = prev[v] {
                push = push.min(self.arcs[u][i].cap);
                v = u;
            }
            let mut v = sink;
            while let Some((u, i)) = prev[v] {
                self.arcs[u][i].cap -= push;
                let (to, rev) = (self.arcs[u][i].to, self.arcs[u][i].rev);
                self.arcs[to][rev].cap += push;
                v = u;
            }
            sent += push;
        }
    }
}
