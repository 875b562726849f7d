//! Model stage, exact dispatch of one period given z by min-cost flow: when no share cap and no
//! N-1 rows apply (a held dispatch under emergency rules, a stress test, a risk sample, or the
//! crossover of such a plan), one period is a transportation problem — tranches with capacity
//! A(k,t)·cap(k)·z(k) serve regions' demand over allowed routes at usage + route price, or leave it
//! unserved at the penalty — and successive shortest paths solve it exactly (a vertex) in
//! microseconds, without an LP solver.
//!
//! Hand-written because the graph is tiny and fixed in shape (source → tranches → regions → sink,
//! plus an unserved arc per region), flows are real numbers, and the result must be deterministic
//! and exact; general min-cost-flow crates work on integer capacities.

use crate::facts::{Facts, PeriodId, RegionId, TrancheId};
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

/// The flows of one period given the capacity z each tranche brings (1 for on-demand), with the
/// demand each region leaves unserved implied (demand − served).
pub fn dispatch_period(
    s: &Scenario,
    facts: &Facts,
    t: PeriodId,
    capacity_fraction: &[f64],
) -> Vec<PlanFlow> {
    let n_k = facts.tranches.len();
    let n_r = facts.regions.len();
    // Nodes: 0 source, 1..=K tranches, K+1..=K+R regions, K+R+1 sink.
    let source = 0;
    let sink = n_k + n_r + 1;
    let mut g = Graph::new(n_k + n_r + 2);
    let demand = &facts.demand_tpm[t.0];
    let total: f64 = demand.iter().sum();
    if total <= 0.0 {
        return Vec::new();
    }
    let tiny = 1e-12 * total;
    for (k, z) in capacity_fraction.iter().enumerate().take(n_k) {
        let cap = facts.available_tpm[t.0][k] * z;
        if cap > 0.0 {
            g.add(source, 1 + k, cap, 0.0);
        }
    }
    let mut flow_arcs: Vec<(TrancheId, RegionId, (usize, usize))> = Vec::new();
    for (k, tranche) in facts.tranches.iter().enumerate() {
        if facts.available_tpm[t.0][k] * capacity_fraction[k] <= 0.0 {
            continue;
        }
        for (r, &d) in demand.iter().enumerate().take(n_r) {
            if d <= 0.0 {
                continue;
            }
            if let Some(route) = tranche.route_cost_per_million_tokens[r] {
                let price = s.tranches[k].cost_per_million_tokens + route;
                let arc = g.add(1 + k, 1 + n_k + r, f64::INFINITY, price);
                flow_arcs.push((TrancheId(k), RegionId(r), arc));
            }
        }
    }
    for (r, &d) in demand.iter().enumerate() {
        if d > 0.0 {
            g.add(1 + n_k + r, sink, d, 0.0);
            // Unserved demand: straight from the source at the penalty.
            g.add(
                source,
                1 + n_k + r,
                f64::INFINITY,
                s.policy.unserved_penalty,
            );
        }
    }
    // Successive shortest paths (Bellman–Ford on the residual graph: it has negative arcs).
    let n = g.arcs.len();
    let mut sent = 0.0;
    while sent < total - tiny {
        let mut dist = vec![f64::INFINITY; n];
        let mut prev: Vec<Option<(usize, usize)>> = vec![None; n];
        dist[source] = 0.0;
        for _ in 0..n {
            let mut changed = false;
            for u in 0..n {
                if dist[u] == f64::INFINITY {
                    continue;
                }
                for (i, a) in g.arcs[u].iter().enumerate() {
                    if a.cap > tiny
                        && dist[u] + a.cost
                            < dist[a.to] - 1e-12 * (1.0 + dist[a.to].abs().min(1e300))
                    {
                        dist[a.to] = dist[u] + a.cost;
                        prev[a.to] = Some((u, i));
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        if dist[sink] == f64::INFINITY {
            break;
        }
        let mut push = total - sent;
        let mut v = sink;
        while let Some((u, i)) = prev[v] {
            push = push.min(g.arcs[u][i].cap);
            v = u;
        }
        let mut v = sink;
        while let Some((u, i)) = prev[v] {
            g.arcs[u][i].cap -= push;
            let (to, rev) = (g.arcs[u][i].to, g.arcs[u][i].rev);
            g.arcs[to][rev].cap += push;
            v = u;
        }
        sent += push;
    }
    flow_arcs
        .into_iter()
        .filter_map(|(k, r, (u, i))| {
            let a = &g.arcs[u][i];
            let back = &g.arcs[a.to][a.rev];
            let tpm = back.cap;
            (tpm > 0.0).then_some(PlanFlow {
                period: t,
                tranche: k,
                region: r,
                tokens_per_minute: tpm,
            })
        })
        .collect()
}
