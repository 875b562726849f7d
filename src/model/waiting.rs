//! Model stage, the dispatch given z with deferral as network flows over the whole horizon. With z
//! fixed, the LP with deferral (its storage form, `define_waiting`) falls apart into the plan's own
//! dispatch and one block per lost provider, and each is a network on the periods glued by
//! backlog arcs:
//!
//! - **plan** (no share cap): per period t, source → supply group (one arc per tranche: capacity
//!   A(k,t)·cap(k)·z(k)·Δt, its usage price) → class (route arcs, their price), source → class at
//!   the class's unserved penalty (at most its demand), and for a class that waits a backlog arc
//!   class(t + 1) → class(t) carrying at most W(c,t), the tokens that arrived by t and may still be
//!   served after t; every class node receives d(c,t)·Δt. A min-cost flow.
//! - **N-1 block** of lost provider q: the same without q's tranches and without prices, each
//!   class node sending loss_coverage · d(c,t)·Δt to a sink; its flows are free and its shortfall
//!   priced uniformly, so it is a max flow and the shortfall is what the sink arcs do not carry.
//!
//! The backlog arc's bound W(c,t) counts every arrival, not only the served part: the service
//! schedules it admits are exactly those of the LP (an interval schedule is feasible when the
//! Hall conditions over raw arrivals hold, and the never-served tokens are then whatever earliest-
//! first leaves), and the costs depend only on the schedule and the total never served, so the
//! optimum is the LP's. The share cap's base depends on which arrivals go unserved, so a plan
//! with a share cap is dispatched by the LP instead (`deferred`).
//!
//! Units: tokens over the mean period in the scale's flow unit, so capacities are near 1 at any
//! grain. Costs are $ per million tokens, the same per unit in every period.

use std::collections::BTreeMap;

use super::flow::{split_group, SupplyGroups};
use super::mcf::{ArcId, Mcf, Node, Shape};
use crate::error::{Error, Result};
use crate::facts::{ClassId, Facts, PeriodId, ProviderId, TrancheId};
use crate::plan::ResilienceShortfall;
use crate::scenario::Policy;
use crate::units::TOKENS_PER_MILLION;

/// A supply group's route arcs in one period: (class, arc).
type Routes = Vec<(ClassId, ArcId)>;

/// The time-expanded network's shape and the arcs read back.
struct Network {
    shape: Shape,
    source: Node,
    /// The N-1 block's sink (a node without arcs in the plan's network).
    sink: Node,
    /// Per (period, tranche): its capacity arc, where the tranche is available and may serve.
    tranche_arcs: Vec<(PeriodId, TrancheId, ArcId)>,
    /// The supply-group node each tranche arc enters, in the same order.
    tranche_heads: Vec<Node>,
    /// Per (period, group): (class, route arc) of each route.
    route_arcs: Vec<(PeriodId, usize, Routes)>,
    /// Per (period, class) with demand: the class node.
    class_nodes: Vec<(PeriodId, ClassId, Node)>,
    /// Per (period, class) that waits past t: the backlog arc into it and its bound W.
    backlog_arcs: Vec<(ArcId, f64)>,
    /// Tokens per unit of flow, per period: unit tpm × the mean period's minutes, over Δt.
    tokens_per_unit: f64,
}

/// What each arrival of class c that may still be served after t amounts to, over t: W(c,t) =
/// Σ(τ ≤ t, last(τ) > t) d(c,τ)·Δτ, in tokens. Indexed [class][period].
fn waiting_room_tokens(facts: &Facts, coverage: f64) -> Vec<Vec<f64>> {
    let n_t = facts.period_count();
    (0..facts.classes.len())
        .map(|c| {
            let last = &facts.service_last[c];
            // Arrivals ordered by window end (they already are: windows end in arrival order),
            // so a running sum and a pointer to the first arrival still open give W in one pass.
            let mut room = vec![0.0; n_t];
            let mut open = std::collections::VecDeque::new();
            let mut sum = 0.0;
            for t in 0..n_t {
                let tokens = facts.class_demand_tpm[t][c] * coverage * facts.period_minutes[t];
                if tokens > 0.0 {
                    open.push_back((t, tokens));
                    sum += tokens;
                }
                while let Some(&(tau, tokens)) = open.front() {
                    if last[tau] > t {
                        break;
                    }
                    open.pop_front();
                    sum -= tokens;
                }
                room[t] = if open.is_empty() { 0.0 } else { sum.max(0.0) };
            }
            room
        })
        .collect()
}

impl Network {
    /// The shape of the plan's network (`lost` None: prices and penalties) or of lost provider
    /// q's N-1 block (free flows of the other providers' tranches); capacities are set on the
    /// solver built from it.
    fn build(facts: &Facts, unit_tpm: f64, lost: Option<ProviderId>, coverage: f64) -> Network {
        let groups = SupplyGroups::of(facts);
        let n_t = facts.period_count();
        let n_c = facts.classes.len();
        let mean_minutes = facts.period_minutes.iter().sum::<f64>() / n_t.max(1) as f64;
        let tokens_per_unit = unit_tpm * mean_minutes;
        let room = waiting_room_tokens(facts, coverage);
        // Nodes: source, then per period its groups and classes, then the sink.
        let source = 0;
        let per_period = groups.len() + n_c;
        let group_node = |t: usize, g: usize| 1 + t * per_period + g;
        let class_node = |t: usize, c: usize| 1 + t * per_period + groups.len() + c;
        let sink = 1 + n_t * per_period;
        let mut shape = Shape::new(sink + 1);
        let mut tranche_arcs = Vec::new();
        let mut tranche_heads = Vec::new();
        let mut route_arcs = Vec::new();
        let mut class_nodes = Vec::new();
        let mut backlog_arcs = Vec::new();
        for t in 0..n_t {
            for (k, f) in facts.tranches.iter().enumerate() {
                let Some(g) = groups.of_tranche[k] else {
                    continue;
                };
                if facts.available_tpm[t][k] <= 0.0 || lost.is_some_and(|q| f.provider == q) {
                    continue;
                }
                let price = if lost.is_some() {
                    0.0
                } else {
                    f.usage_cost_per_million_tokens
                };
                let arc = shape.arc(source, group_node(t, g), price);
                tranche_arcs.push((PeriodId(t), TrancheId(k), arc));
                tranche_heads.push(group_node(t, g));
            }
            for (g, routes) in groups.routes.iter().enumerate() {
                let arcs = routes
                    .iter()
                    .map(|&(c, price)| {
                        let price = if lost.is_some() { 0.0 } else { price };
                        (c, shape.arc(group_node(t, g), class_node(t, c.0), price))
                    })
                    .collect();
                route_arcs.push((PeriodId(t), g, arcs));
            }
            for c in 0..n_c {
                if facts.class_demand_tpm[t][c] > 0.0 {
                    class_nodes.push((PeriodId(t), ClassId(c), class_node(t, c)));
                }
                if room[c][t] > 0.0 && t + 1 < n_t {
                    let arc = shape.arc(class_node(t + 1, c), class_node(t, c), 0.0);
                    backlog_arcs.push((arc, room[c][t] / tokens_per_unit));
                }
            }
        }
        Network {
            shape,
            source,
            sink,
            tranche_arcs,
            tranche_heads,
            route_arcs,
            class_nodes,
            backlog_arcs,
            tokens_per_unit,
        }
    }

    /// A tranche arc's capacity in flow units: A(k,t)·z(k)·Δt.
    fn tranche_capacity(&self, facts: &Facts, t: PeriodId, k: TrancheId, z: &[f64]) -> f64 {
        facts.available_tpm[t.0][k.0] * z[k.0].max(0.0) * facts.period_minutes[t.0]
            / self.tokens_per_unit
    }

    /// Demand of a class node in flow units, times `coverage`.
    fn demand(&self, facts: &Facts, t: PeriodId, c: ClassId, coverage: f64) -> f64 {
        facts.class_demand_tpm[t.0][c.0] * coverage * facts.period_minutes[t.0]
            / self.tokens_per_unit
    }
}

fn network_error(e: super::mcf::FlowError) -> Error {
    Error::Solver(format!(
        "the dispatch network of the horizon with deferral could not be solved: {e}; try --method monolithic"
    ))
}

/// The plan's own dispatch over the horizon as one min-cost flow, kept between solves (each
/// warm-started from the last: only tranche capacities change with z).
pub(crate) struct PlanHorizon {
    net: Network,
    mcf: Mcf,
    /// Twice the horizon's demand, flow units: no arc needs more.
    room: f64,
}

impl PlanHorizon {
    pub(crate) fn new(facts: &Facts, unit_tpm: f64) -> PlanHorizon {
        let mut net = Network::build(facts, unit_tpm, None, 1.0);
        // Unserved arcs, at each class's penalty, for at most its demand.
        let unserved: Vec<ArcId> = net
            .class_nodes
            .iter()
            .map(|&(_, c, v)| {
                let penalty = facts.classes[c.0].unserved_penalty;
                net.shape.arc(net.source, v, penalty)
            })
            .collect();
        let mut mcf = Mcf::new(&net.shape);
        let mut total = 0.0;
        for (i, &(t, c, v)) in net.class_nodes.iter().enumerate() {
            let d = net.demand(facts, t, c, 1.0);
            mcf.set_supply(v, -d);
            mcf.set_capacity(unserved[i], d);
            total += d;
        }
        mcf.set_supply(net.source, total);
        let room = 2.0 * total;
        for (_, _, arcs) in &net.route_arcs {
            for &(_, arc) in arcs {
                mcf.set_capacity(arc, room);
            }
        }
        for &(arc, bound) in &net.backlog_arcs {
            mcf.set_capacity(arc, bound);
        }
        PlanHorizon { net, mcf, room }
    }

    /// Solves the dispatch given the capacity fraction z of every tranche.
    pub(crate) fn solve(&mut self, facts: &Facts, z: &[f64]) -> Result<()> {
        for &(t, k, arc) in &self.net.tranche_arcs {
            let cap = self.net.tranche_capacity(facts, t, k, z);
            self.mcf.set_capacity(arc, cap.min(self.room));
        }
        self.mcf.reoptimize().map_err(network_error)
    }

    /// The dispatch's cost (usage, route and unserved penalty), $.
    pub(crate) fn dollars(&self) -> f64 {
        self.mcf.total_cost() * self.net.tokens_per_unit / TOKENS_PER_MILLION
    }

    /// Adds the subgradient in z to `slope` (d dollars / d z(k) ≤ 0 per tranche): minus the
    /// marginal value of each tranche's capacity in each period, from marginal node prices.
    pub(crate) fn add_slope(&mut self, facts: &Facts, slope: &mut [f64]) {
        self.mcf.marginal_potentials(self.net.source);
        for &(t, k, arc) in &self.net.tranche_arcs {
            let value = -self.mcf.reduced_cost(arc);
            if value > 0.0 {
                // Capacity A·z·Δt / (tokens per unit), cost in $/M per unit of flow.
                slope[k.0] -= value * facts.available_tpm[t.0][k.0] * facts.period_minutes[t.0]
                    / TOKENS_PER_MILLION;
            }
        }
    }

    /// What each (period, tranche, class) serves, tokens per minute over the period (any
    /// arrival; `deferred` assigns them).
    pub(crate) fn service(&self, facts: &Facts) -> BTreeMap<(usize, usize, usize), f64> {
        let groups = SupplyGroups::of(facts);
        let mut inflow: BTreeMap<(usize, usize), Vec<(TrancheId, f64)>> = BTreeMap::new();
        for &(t, k, arc) in &self.net.tranche_arcs {
            let g = groups.of_tranche[k.0].expect("a tranche arc has a group");
            inflow
                .entry((t.0, g))
                .or_default()
                .push((k, self.mcf.flow(arc)));
        }
        let mut service = BTreeMap::new();
        for (t, g, arcs) in &self.net.route_arcs {
            let Some(tranches) = inflow.get(&(t.0, *g)) else {
                continue;
            };
            let outflow = arcs.iter().map(|&(c, arc)| (c, self.mcf.flow(arc)));
            for (k, c, flow) in split_group(tranches.iter().copied(), outflow) {
                let tpm = flow * self.net.tokens_per_unit / facts.period_minutes[t.0];
                *service.entry((t.0, k.0, c.0)).or_default() += tpm;
            }
        }
        service
    }
}

/// Lost provider q's N-1 block over the horizon as one max flow: the other providers' reserved
/// capacity against loss_coverage of every arrival, within the windows. Solved as a min-cost
/// flow with every arc free but a bypass from the source to the sink at 1 per unit, whose flow
/// is the shortfall: the same engine as the plan's, warm-started between evaluations (only
/// tranche capacities change with z), where a max flow starts from nothing each time.
pub(crate) struct LossHorizon {
    lost: ProviderId,
    coverage: f64,
    penalty: f64,
    net: Network,
    mcf: Mcf,
    /// Per class node (as `net.class_nodes`): its arc to the sink, capacity its covered demand.
    sink_arcs: Vec<ArcId>,
    /// Source → sink at 1 per unit: what the others' capacity does not carry.
    bypass: ArcId,
    room: f64,
    tiny: f64,
}

impl LossHorizon {
    pub(crate) fn new(facts: &Facts, policy: &Policy, unit_tpm: f64, q: ProviderId) -> LossHorizon {
        let coverage = policy.loss_coverage;
        let mut net = Network::build(facts, unit_tpm, Some(q), coverage);
        let sink = net.sink;
        let sink_arcs: Vec<ArcId> = net
            .class_nodes
            .iter()
            .map(|&(_, _, v)| net.shape.arc(v, sink, 0.0))
            .collect();
        let bypass = net.shape.arc(net.source, sink, 1.0);
        let mut mcf = Mcf::new(&net.shape);
        let mut total = 0.0;
        for (i, &(t, c, _)) in net.class_nodes.iter().enumerate() {
            let d = net.demand(facts, t, c, coverage);
            mcf.set_capacity(sink_arcs[i], d);
            total += d;
        }
        mcf.set_supply(net.source, total);
        mcf.set_supply(sink, -total);
        mcf.set_capacity(bypass, total);
        let room = 2.0 * total;
        for (_, _, arcs) in &net.route_arcs {
            for &(_, arc) in arcs {
                mcf.set_capacity(arc, room);
            }
        }
        for &(arc, bound) in &net.backlog_arcs {
            mcf.set_capacity(arc, bound);
        }
        LossHorizon {
            lost: q,
            coverage,
            penalty: policy.resilience_penalty,
            net,
            mcf,
            sink_arcs,
            bypass,
            room,
            tiny: 1e-12 * total.max(f64::MIN_POSITIVE),
        }
    }

    /// Solves the block given the capacity fraction z of every tranche; returns the shortfall,
    /// flow units.
    pub(crate) fn solve(&mut self, facts: &Facts, z: &[f64]) -> Result<f64> {
        for &(t, k, arc) in &self.net.tranche_arcs {
            let cap = self.net.tranche_capacity(facts, t, k, z);
            self.mcf.set_capacity(arc, cap.min(self.room));
        }
        self.mcf.reoptimize().map_err(network_error)?;
        Ok(self.mcf.flow(self.bypass).max(0.0))
    }

    /// The block's cost given its shortfall (flow units), $: the resilience penalty on it.
    pub(crate) fn dollars(&self, shortfall: f64) -> f64 {
        self.penalty * shortfall * self.net.tokens_per_unit / TOKENS_PER_MILLION
    }

    /// Adds the subgradient in z to `slope`: a tranche whose supply group can still reach an
    /// unmet class in the residual graph carries one more unit of capacity, worth the penalty
    /// (the right derivative).
    pub(crate) fn add_slope(&mut self, facts: &Facts, shortfall: f64, slope: &mut [f64]) {
        if shortfall <= self.tiny {
            return;
        }
        let reaches = self.mcf.reaching(self.net.sink, self.bypass);
        for (&(t, k, _), &group) in self.net.tranche_arcs.iter().zip(&self.net.tranche_heads) {
            if reaches[group] {
                slope[k.0] -=
                    self.penalty * facts.available_tpm[t.0][k.0] * facts.period_minutes[t.0]
                        / TOKENS_PER_MILLION;
            }
        }
    }

    /// What of loss_coverage · demand is not covered, per (arrival period, class), tokens per
    /// minute over the arrival period.
    pub(crate) fn shortfalls(&self, facts: &Facts) -> Vec<ResilienceShortfall> {
        self.net
            .class_nodes
            .iter()
            .zip(&self.sink_arcs)
            .filter_map(|(&(t, c, _), &arc)| {
                let d = self.net.demand(facts, t, c, self.coverage);
                let short = (d - self.mcf.flow(arc)).max(0.0);
                (short > 0.0).then(|| ResilienceShortfall {
                    lost: self.lost,
                    period: t,
                    class: c,
                    region: facts.classes[c.0].region,
                    tokens_per_minute: short * self.net.tokens_per_unit / facts.period_minutes[t.0],
                })
            })
            .collect()
    }
}
