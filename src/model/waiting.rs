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
//! The decomposition cuts these networks into parts joined by border variables (`Parts`): the
//! backlog arc crossing a border becomes a supply at the end of the part before it and a demand
//! at the start of the part after it, both set by the master (docs/solving.md).
//!
//! Units: tokens over the mean period in the scale's flow unit, so capacities are near 1 at any
//! grain. Costs are $ per million tokens, the same per unit in every period.

use std::collections::BTreeMap;

use super::flow::{split_group, SupplyGroups};
use super::mcf::{ArcId, ExactSum, Mcf, Node, Shape};
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
    /// The first period of the network, and nodes per period (groups, then classes).
    first_period: usize,
    per_period: usize,
    groups: usize,
}

/// Tokens per unit of flow over the horizon: unit tpm × the mean period's minutes (the same in
/// every part of it, so flows across a border mean the same on both sides).
fn tokens_per_unit(facts: &Facts, unit_tpm: f64) -> f64 {
    let n_t = facts.period_count();
    unit_tpm * facts.period_minutes.iter().sum::<f64>() / n_t.max(1) as f64
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
        let room = waiting_room_tokens(facts, coverage);
        let periods = 0..facts.period_count();
        Network::build_part(
            facts,
            tokens_per_unit(facts, unit_tpm),
            lost,
            &room,
            periods,
        )
    }

    /// The same over the periods `periods` of the horizon only (no backlog arc leaves it):
    /// `room` is `waiting_room_tokens` of the whole horizon, `tokens_per_unit` the horizon's.
    fn build_part(
        facts: &Facts,
        tokens_per_unit: f64,
        lost: Option<ProviderId>,
        room: &[Vec<f64>],
        periods: std::ops::Range<usize>,
    ) -> Network {
        let groups = SupplyGroups::of(facts);
        let n_c = facts.classes.len();
        let t0 = periods.start;
        // Nodes: source, then per period its groups and classes, then the sink.
        let source = 0;
        let per_period = groups.len() + n_c;
        let group_node = |t: usize, g: usize| 1 + (t - t0) * per_period + g;
        let class_node = |t: usize, c: usize| 1 + (t - t0) * per_period + groups.len() + c;
        let sink = 1 + periods.len() * per_period;
        let mut shape = Shape::new(sink + 1);
        let mut tranche_arcs = Vec::new();
        let mut tranche_heads = Vec::new();
        let mut route_arcs = Vec::new();
        let mut class_nodes = Vec::new();
        let mut backlog_arcs = Vec::new();
        for t in periods.clone() {
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
                if room[c][t] > 0.0 && t + 1 < periods.end {
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
            first_period: t0,
            per_period,
            groups: groups.len(),
        }
    }

    /// An N-1 block's arcs from every class node to the sink, each with its capacity (the
    /// class's covered demand, flow units), and their total.
    fn sink_arcs(&mut self, facts: &Facts, coverage: f64) -> (Vec<(ArcId, f64)>, f64) {
        let mut total = 0.0;
        let mut arcs = Vec::with_capacity(self.class_nodes.len());
        for &(t, c, v) in &self.class_nodes {
            let d = self.demand(facts, t, c, coverage);
            total += d;
            arcs.push((self.shape.arc(v, self.sink, 0.0), d));
        }
        (arcs, total)
    }

    /// Sets the capacities that never change: route arcs at `room`, backlog arcs at their W.
    fn set_fixed_capacities(&self, mcf: &mut Mcf, room: f64) {
        for (_, _, arcs) in &self.route_arcs {
            for &(_, arc) in arcs {
                mcf.set_capacity(arc, room);
            }
        }
        for &(arc, bound) in &self.backlog_arcs {
            mcf.set_capacity(arc, bound);
        }
    }

    /// The node of class c in period t (of the network's periods).
    fn class_node(&self, t: usize, c: ClassId) -> Node {
        1 + (t - self.first_period) * self.per_period + self.groups + c.0
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

/// The plan's own dispatch over the horizon, or over one part of it, as one min-cost flow, kept
/// between solves (each warm-started from the last: only tranche capacities and the backlog
/// crossing the part's borders change). A part of an N-1 block is one too (`with_borders`).
pub(crate) struct PlanHorizon {
    net: Network,
    mcf: Mcf,
    /// Twice the horizon's demand, flow units: no arc needs more.
    room: f64,
    /// The part's demand, flow units: what the source supplies with nothing crossing a border.
    demand: f64,
    /// Dollars per unit of the network's cost: tokens per unit over a million, times the
    /// resilience penalty in an N-1 block (whose costs are 1 per uncovered unit).
    dollars_per_cost: f64,
    /// The backlog the next part serves: (border variable, class node of the part's last period,
    /// its supply with nothing crossing), flow units. That node receives the variable's flow.
    end: Vec<(usize, Node, f64)>,
    /// The backlog this part serves for the previous one: (border variable, class node of the
    /// part's first period, its supply with nothing crossing). That node sends the variable's
    /// flow; its unserved arc is wider by the variable's bound, so any border flow is feasible.
    start: Vec<(usize, Node, f64)>,
}

/// The horizon cut into consecutive parts, each longer than the longest wait, so the backlog
/// crossing a border is all from the part just before it: per border and class that can wait
/// across it, one border variable, the tokens (flow units) the part after the border serves of
/// the arrivals before it, at most W(c, p − 1).
pub(crate) struct Parts {
    /// Every part of the plan's dispatch, then of each lost provider's N-1 block, in order.
    pub(crate) plans: Vec<PlanHorizon>,
    /// Each border variable's bound, flow units.
    pub(crate) bounds: Vec<f64>,
}

impl Parts {
    /// The horizon in at most `most` parts of equal length, each longer than the longest
    /// wait, or None when that leaves fewer than two parts.
    /// With `n_1` (the policy), each lost provider's N-1 block is cut the same way.
    pub(crate) fn new(
        facts: &Facts,
        unit_tpm: f64,
        most: usize,
        n_1: Option<&Policy>,
    ) -> Option<Parts> {
        let n_t = facts.period_count();
        let periods_per_part = n_t.div_ceil(most.max(1));
        let longest_wait = facts
            .service_last
            .iter()
            .flat_map(|last| last.iter().enumerate().map(|(t, &l)| l.saturating_sub(t)))
            .max()
            .unwrap_or(0);
        let len = periods_per_part.max(longest_wait + 1).max(1);
        if n_t < 2 * len {
            return None;
        }
        let starts: Vec<usize> = (0..n_t)
            .step_by(len)
            .filter(|&p| n_t - p >= len / 2 || p == 0)
            .collect();
        let ranges: Vec<std::ops::Range<usize>> = starts
            .iter()
            .enumerate()
            .map(|(i, &p)| p..starts.get(i + 1).copied().unwrap_or(n_t))
            .collect();
        let tokens_per_unit = tokens_per_unit(facts, unit_tpm);
        let mut plans = Vec::new();
        let mut bounds = Vec::new();
        // The plan's own dispatch, then each lost provider's N-1 block: each its parts and its
        // own border variables.
        let networks = std::iter::once(None).chain(n_1.into_iter().flat_map(|policy| {
            (0..facts.providers.len()).map(move |q| Some((ProviderId(q), policy)))
        }));
        for network in networks {
            let coverage = network.map_or(1.0, |(_, p)| p.loss_coverage);
            let loss = network.map(|(_, p)| (p.loss_coverage, p.resilience_penalty));
            let room = waiting_room_tokens(facts, coverage);
            // Border variables at each part's start but the first: (period, class) in order.
            let first = bounds.len();
            let mut vars = Vec::new();
            for range in &ranges[1..] {
                let p = range.start;
                for (c, room) in room.iter().enumerate() {
                    if room[p - 1] > 0.0 {
                        vars.push((p, ClassId(c)));
                        bounds.push(room[p - 1] / tokens_per_unit);
                    }
                }
            }
            for range in &ranges {
                let lost = network.map(|(q, _)| q);
                let net = Network::build_part(facts, tokens_per_unit, lost, &room, range.clone());
                let border = |p: usize, t: usize| {
                    vars.iter()
                        .enumerate()
                        .filter(move |(_, &(q, _))| q == p)
                        .map(move |(i, &(_, c))| (first + i, c, t))
                };
                let end: Vec<_> = border(range.end, range.end - 1).collect();
                let start: Vec<_> = border(range.start, range.start).collect();
                plans.push(PlanHorizon::with_borders(
                    facts, net, &end, &start, &bounds, loss,
                ));
            }
        }
        Some(Parts { plans, bounds })
    }
}

impl PlanHorizon {
    pub(crate) fn new(facts: &Facts, unit_tpm: f64) -> PlanHorizon {
        let net = Network::build(facts, unit_tpm, None, 1.0);
        PlanHorizon::with_borders(facts, net, &[], &[], &[], None)
    }

    /// The dispatch network of `net` (a part of the horizon) with its border variables: `end`
    /// and `start` as (variable, class, period of its node), `bounds` every variable's bound.
    /// `loss` None: the plan's own dispatch (prices, unserved arcs at each class's penalty).
    /// `loss` Some((coverage, penalty)): an N-1 block, `net` built without the lost provider:
    /// every class node sends its covered demand to the sink, what no tranche carries goes by a
    /// bypass from the source to the sink at 1 per unit, and what a border variable takes out of
    /// the part's first period may come from the source at 1 per unit too (uncovered).
    fn with_borders(
        facts: &Facts,
        mut net: Network,
        end: &[(usize, ClassId, usize)],
        start: &[(usize, ClassId, usize)],
        bounds: &[f64],
        loss: Option<(f64, f64)>,
    ) -> PlanHorizon {
        // Unserved arcs, at each class's penalty, for at most its demand (and what a border
        // variable may take out of the part's first period); or an N-1 block's sink arcs.
        let mut unserved: BTreeMap<Node, (ArcId, f64)> = BTreeMap::new();
        let mut supply: BTreeMap<Node, f64> = BTreeMap::new();
        let (mut capacities, demand) = match loss {
            Some((coverage, _)) => net.sink_arcs(facts, coverage),
            None => {
                // The source supplies what every class node receives. Summed plainly over an
                // hourly quarter's 13,000 nodes it came out 1.8e-10 flow units short, which no
                // flow can make up: a period showed 107 tokens never served.
                let mut demand = ExactSum::default();
                for &(t, c, v) in &net.class_nodes {
                    let d = net.demand(facts, t, c, 1.0);
                    let penalty = facts.classes[c.0].unserved_penalty;
                    unserved.insert(v, (net.shape.arc(net.source, v, penalty), d));
                    supply.insert(v, -d);
                    demand.add(d);
                }
                (Vec::new(), demand.value())
            }
        };
        let start: Vec<(usize, Node, f64)> = start
            .iter()
            .map(|&(i, c, t)| {
                let v = net.class_node(t, c);
                let price = loss.map_or(facts.classes[c.0].unserved_penalty, |_| 1.0);
                let arc = unserved
                    .entry(v)
                    .or_insert_with(|| (net.shape.arc(net.source, v, price), 0.0));
                arc.1 += bounds[i];
                (i, v, supply.get(&v).copied().unwrap_or(0.0))
            })
            .collect();
        let end: Vec<(usize, Node, f64)> = end
            .iter()
            .map(|&(i, c, t)| {
                let v = net.class_node(t, c);
                (i, v, supply.get(&v).copied().unwrap_or(0.0))
            })
            .collect();
        if loss.is_some() {
            capacities.push((net.shape.arc(net.source, net.sink, 1.0), demand));
        }
        let mut mcf = Mcf::new(&net.shape).over_time();
        for (&v, &b) in &supply {
            mcf.set_supply(v, b);
        }
        for (arc, cap) in unserved.values().chain(&capacities) {
            mcf.set_capacity(*arc, *cap);
        }
        mcf.set_supply(net.source, demand);
        if loss.is_some() {
            mcf.set_supply(net.sink, -demand);
        }
        let room = 2.0 * (demand + bounds.iter().sum::<f64>());
        net.set_fixed_capacities(&mut mcf, room);
        PlanHorizon {
            dollars_per_cost: loss.map_or(1.0, |(_, penalty)| penalty) * net.tokens_per_unit
                / TOKENS_PER_MILLION,
            net,
            mcf,
            room,
            demand,
            end,
            start,
        }
    }

    /// Solves the dispatch given the capacity fraction z of every tranche and, for a part, the
    /// border variables `y` (flow units; empty for the whole horizon).
    pub(crate) fn solve(&mut self, facts: &Facts, z: &[f64], y: &[f64]) -> Result<()> {
        for &(t, k, arc) in &self.net.tranche_arcs {
            let cap = self.net.tranche_capacity(facts, t, k, z);
            self.mcf.set_capacity(arc, cap.min(self.room));
        }
        let mut source = self.demand;
        for &(i, v, base) in &self.end {
            self.mcf.set_supply(v, base + y[i]);
            source -= y[i];
        }
        for &(i, v, base) in &self.start {
            self.mcf.set_supply(v, base - y[i]);
            source += y[i];
        }
        self.mcf.set_supply(self.net.source, source);
        self.mcf.reoptimize().map_err(network_error)
    }

    /// The dispatch's cost (usage, route and unserved penalty), $.
    pub(crate) fn dollars(&self) -> f64 {
        self.mcf.total_cost() * self.dollars_per_cost
    }

    /// Adds the subgradient in z to `slope` (d dollars / d z(k) ≤ 0 per tranche): minus the
    /// marginal value of each tranche's capacity in each period, from marginal node prices;
    /// and, for a part, the subgradient in its border variables to `border_slope`: what one
    /// more unit served here of the previous part's arrivals costs, and what one more unit of
    /// this part's arrivals served by the next part saves, at the same prices (one optimal
    /// dual, so the cut is valid in z and y together).
    pub(crate) fn add_slope(&mut self, facts: &Facts, slope: &mut [f64], border_slope: &mut [f64]) {
        self.mcf.marginal_potentials(self.net.source);
        for &(t, k, arc) in &self.net.tranche_arcs {
            let value = -self.mcf.reduced_cost(arc);
            if value > 0.0 {
                // Capacity A·z·Δt / (tokens per unit), in units of flow.
                let capacity = facts.available_tpm[t.0][k.0] * facts.period_minutes[t.0]
                    / self.net.tokens_per_unit;
                slope[k.0] -= value * capacity * self.dollars_per_cost;
            }
        }
        let base = self.mcf.potential(self.net.source);
        for &(i, v, _) in &self.start {
            border_slope[i] += (self.mcf.potential(v) - base) * self.dollars_per_cost;
        }
        for &(i, v, _) in &self.end {
            border_slope[i] -= (self.mcf.potential(v) - base) * self.dollars_per_cost;
        }
    }

    /// Settles the last solve's imbalances to 1e-18 of the horizon's demand (`Mcf::polish`), for
    /// a read-back: every token a period's cell is short of is then below the read-back's noise.
    pub(crate) fn polish(&mut self) {
        self.mcf.polish(1e-18, 16);
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
        let (sink_arcs, total) = net.sink_arcs(facts, coverage);
        let bypass = net.shape.arc(net.source, net.sink, 1.0);
        let mut mcf = Mcf::new(&net.shape).over_time();
        for &(arc, d) in &sink_arcs {
            mcf.set_capacity(arc, d);
        }
        mcf.set_supply(net.source, total);
        mcf.set_supply(net.sink, -total);
        mcf.set_capacity(bypass, total);
        let room = 2.0 * total;
        net.set_fixed_capacities(&mut mcf, room);
        let sink_arcs = sink_arcs.into_iter().map(|(arc, _)| arc).collect();
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

    /// As `PlanHorizon::polish`, for the block's read-back.
    pub(crate) fn polish(&mut self) {
        self.mcf.polish(1e-18, 16);
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
