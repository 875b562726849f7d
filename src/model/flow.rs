//! Model stage, capplan's period networks on the network engine (`mcf`). Given z, one period of
//! the planning LP is a min-cost flow, and each of its N-1 blocks a max flow:
//!
//! - **plan network**: source → provider (the share cap, when one applies) → supply group (one
//!   arc per tranche: capacity A(k,t)·cap(k)·z(k), its usage price) → demand region (one arc per
//!   allowed route: the route price) ; source → region at the unserved penalty; every region
//!   receives its demand. A supply group is the tranches with the same allowed routes and route
//!   prices (in practice: one supply region), so routes are arcs between groups and regions, not
//!   between every tranche and every region — the same flows, far fewer arcs.
//! - **N-1 block** of a lost provider q: source → supply group (the other providers' capacity) →
//!   region (allowed routes) → sink (loss_coverage × demand). Its flows are free and its shortfall
//!   priced uniformly, so its cost is the resilience penalty × (demand − max flow).
//!
//! The shape of both networks is the same in every period (tranches not available there get
//! capacity 0), so one network object is reloaded period after period and warm-started from
//! the previous period's optimal flow. Prices and capacities are read from the facts (`flow_price`,
//! `available_tpm`), never from the scenario.
//!
//! Units: flows in the scale's tokens per minute per unit (a power of ten near the largest demand
//! cell), so the engine sees numbers near 1 whether demand is 1e-300 or 1e15; capacities above
//! twice a period's demand are cut to that (no arc can carry more than the demand, so such an
//! arc is never binding and its marginal value is 0 either way).

use super::mcf::{ArcId, FlowError, MaxFlow, Mcf, Node, Shape};
use crate::error::{Error, Result};
use crate::facts::{ClassId, Facts, PeriodId, ProviderId, TrancheId};
use crate::plan::PlanFlow;
use crate::scenario::Policy;
use crate::units::TOKENS_PER_MILLION;

/// Tranches grouped by what they may serve and at what route price: group g's tranches serve
/// the same demand classes at the same route price (in practice: one supply region and model).
#[derive(Debug, Clone)]
pub(super) struct SupplyGroups {
    /// The group of each tranche, None for a tranche that can serve no class.
    pub(super) of_tranche: Vec<Option<usize>>,
    /// Per group: (class, route price) of every class it may serve.
    pub(super) routes: Vec<Vec<(ClassId, f64)>>,
}

impl SupplyGroups {
    pub(super) fn of(facts: &Facts) -> SupplyGroups {
        let mut keys: Vec<Vec<Option<u64>>> = Vec::new();
        let mut routes = Vec::new();
        let mut of_tranche = Vec::with_capacity(facts.tranches.len());
        for f in &facts.tranches {
            let served: Vec<(ClassId, f64)> = facts
                .classes
                .iter()
                .enumerate()
                .filter(|(_, class)| f.serves(class))
                .map(|(c, class)| {
                    let route = f.route_cost_per_million_tokens[class.region.0]
                        .expect("a class served is on an allowed route");
                    (ClassId(c), route)
                })
                .collect();
            if served.is_empty() {
                of_tranche.push(None);
                continue;
            }
            let key: Vec<Option<u64>> = (0..facts.classes.len())
                .map(|c| {
                    served
                        .iter()
                        .find(|(s, _)| s.0 == c)
                        .map(|(_, p)| p.to_bits())
                })
                .collect();
            let g = match keys.iter().position(|k| *k == key) {
                Some(g) => g,
                None => {
                    keys.push(key);
                    routes.push(served);
                    keys.len() - 1
                }
            };
            of_tranche.push(Some(g));
        }
        SupplyGroups { of_tranche, routes }
    }

    pub(super) fn len(&self) -> usize {
        self.routes.len()
    }
}

/// A supply group's flow per (tranche, class): the group's inflow from its tranches (in the order
/// given) split over its routes (in the order given). Every tranche and every route gets its
/// optimal total, and any split costs the same, since a group's tranches share its route prices.
pub(super) fn split_group(
    inflow: impl Iterator<Item = (TrancheId, f64)>,
    outflow: impl Iterator<Item = (ClassId, f64)>,
) -> Vec<(TrancheId, ClassId, f64)> {
    let mut outflow: Vec<(ClassId, f64)> = outflow.filter(|&(_, f)| f > 0.0).collect();
    let mut out = Vec::new();
    let mut next = 0;
    for (k, flow) in inflow {
        let mut left = flow;
        while left > 0.0 && next < outflow.len() {
            let take = left.min(outflow[next].1);
            if take > 0.0 {
                out.push((k, outflow[next].0, take));
            }
            left -= take;
            outflow[next].1 -= take;
            if outflow[next].1 <= 0.0 {
                next += 1;
            }
        }
    }
    out
}

/// The flows' unit, tokens per minute: a power of ten near the largest demand cell.
fn flow_unit(facts: &Facts) -> f64 {
    super::Scale::of(facts).tokens_per_minute_per_unit
}

/// A solver error for a network that stalled (never a spin: the engine bounds every loop).
fn network_error(t: PeriodId, e: FlowError) -> Error {
    Error::Solver(format!(
        "the dispatch network of period {} could not be solved: {e}; try --method monolithic",
        t.0 + 1
    ))
}

/// The plan network of one period at a time (see the module doc), kept between periods.
pub struct PlanNetwork<'a> {
    facts: &'a Facts,
    unit: f64,
    penalty: f64,
    share_fraction: Option<f64>,
    mcf: Mcf,
    source: Node,
    /// Per provider: source → provider arc (share cap), when a cap applies.
    provider_arcs: Vec<Option<ArcId>>,
    /// Per tranche: its capacity arc into its supply group, None when it never serves.
    tranche_arcs: Vec<Option<ArcId>>,
    groups: SupplyGroups,
    /// Per group: (class, route arc).
    route_arcs: Vec<Vec<(ClassId, ArcId)>>,
    /// Per class: its node and its unserved arc.
    class_nodes: Vec<Node>,
    unserved_arcs: Vec<ArcId>,
    /// The period loaded last, and whether its solve is current.
    period: Option<PeriodId>,
    solved: bool,
}

impl<'a> PlanNetwork<'a> {
    /// The plan network of a scenario's facts: with the share cap when `share_cap`, at the
    /// policy's unserved penalty.
    pub fn new(facts: &'a Facts, policy: &Policy, share_cap: bool) -> PlanNetwork<'a> {
        let groups = SupplyGroups::of(facts);
        let n_p = facts.providers.len();
        let n_c = facts.classes.len();
        let share_fraction = share_cap.then_some(policy.max_provider_share);
        // Nodes: source, providers (with a share cap), groups, classes.
        let source = 0;
        let provider_node = |p: usize| 1 + p;
        let first_group = if share_fraction.is_some() { 1 + n_p } else { 1 };
        let group_node = |g: usize| first_group + g;
        let class_node = |c: usize| first_group + groups.len() + c;
        let mut shape = Shape::new(first_group + groups.len() + n_c);
        let provider_arcs = (0..n_p)
            .map(|p| share_fraction.map(|_| shape.arc(source, provider_node(p), 0.0)))
            .collect();
        let tranche_arcs = facts
            .tranches
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let g = groups.of_tranche[k]?;
                let ever = facts.available_tpm.iter().any(|row| row[k] > 0.0);
                ever.then(|| {
                    let from = if share_fraction.is_some() {
                        provider_node(f.provider.0)
                    } else {
                        source
                    };
                    shape.arc(from, group_node(g), f.usage_cost_per_million_tokens)
                })
            })
            .collect();
        let route_arcs = groups
            .routes
            .iter()
            .enumerate()
            .map(|(g, routes)| {
                routes
                    .iter()
                    .map(|&(c, price)| (c, shape.arc(group_node(g), class_node(c.0), price)))
                    .collect()
            })
            .collect();
        let unserved_arcs = facts
            .classes
            .iter()
            .enumerate()
            .map(|(c, class)| shape.arc(source, class_node(c), class.unserved_penalty))
            .collect();
        PlanNetwork {
            facts,
            unit: flow_unit(facts),
            penalty: policy.unserved_penalty,
            share_fraction,
            mcf: Mcf::new(&shape),
            source,
            provider_arcs,
            tranche_arcs,
            route_arcs,
            class_nodes: (0..n_c).map(class_node).collect(),
            unserved_arcs,
            groups,
            period: None,
            solved: false,
        }
    }

    /// Loads period t with the capacity fraction z of every tranche (1 for on-demand ones) and
    /// solves it, warm-started from the period solved before.
    pub fn solve(&mut self, t: PeriodId, capacity_fraction: &[f64]) -> Result<()> {
        let facts = self.facts;
        let unit = self.unit;
        let demand = &facts.class_demand_tpm[t.0];
        let total: f64 = demand.iter().sum::<f64>() / unit;
        let room = 2.0 * total;
        for (k, arc) in self.tranche_arcs.iter().enumerate() {
            if let Some(arc) = *arc {
                let cap = facts.available_tpm[t.0][k] * capacity_fraction[k].max(0.0);
                self.mcf.set_capacity(arc, (cap / unit).min(room));
            }
        }
        for arc in self.provider_arcs.iter().flatten() {
            let limit = self.share_fraction.unwrap_or(1.0) * total;
            self.mcf.set_capacity(*arc, limit);
        }
        for arcs in &self.route_arcs {
            for &(_, arc) in arcs {
                self.mcf.set_capacity(arc, room);
            }
        }
        for (c, &arc) in self.unserved_arcs.iter().enumerate() {
            self.mcf.set_capacity(arc, room);
            self.mcf.set_supply(self.class_nodes[c], -demand[c] / unit);
        }
        self.mcf.set_supply(self.source, total);
        self.period = Some(t);
        self.mcf.reoptimize().map_err(|e| network_error(t, e))?;
        self.solved = true;
        Ok(())
    }

    /// The dispatch cost of the period solved last (usage, route and unserved penalty), $.
    pub fn dollars(&self) -> f64 {
        let t = self.period.expect("a period was solved");
        self.mcf.total_cost() * self.unit * self.facts.period_minutes[t.0] / TOKENS_PER_MILLION
    }

    /// Adds the period's subgradient in z to `slope` (d dollars / d z(k) ≤ 0 per tranche): minus
    /// the marginal value of each tranche's capacity, from the marginal node prices.
    pub fn add_slope(&mut self, slope: &mut [f64]) {
        let t = self.period.expect("a period was solved");
        self.mcf.marginal_potentials(self.source);
        let million = self.facts.period_minutes[t.0] / TOKENS_PER_MILLION;
        for (k, arc) in self.tranche_arcs.iter().enumerate() {
            let Some(arc) = *arc else { continue };
            let available = self.facts.available_tpm[t.0][k];
            if available <= 0.0 {
                continue;
            }
            let value = -self.mcf.reduced_cost(arc);
            if value > 0.0 {
                slope[k] -= value * available * million;
            }
        }
    }

    /// The flows of the period solved last, per (tranche, region): each group's inflow from its
    /// tranches (in tranche order) split over its routes (in region order), which gives every
    /// tranche and every route its optimal total (any split costs the same: a group's tranches
    /// share its route prices).
    pub fn flows(&self) -> Vec<PlanFlow> {
        let t = self.period.expect("a period was solved");
        let unit = self.unit;
        let mut out = Vec::new();
        for (g, routes) in self.route_arcs.iter().enumerate() {
            let outflow = routes.iter().map(|&(c, arc)| (c, self.mcf.flow(arc)));
            let inflow = self.tranche_arcs.iter().enumerate().filter_map(|(k, arc)| {
                let arc = (*arc)?;
                (self.groups.of_tranche[k] == Some(g)).then(|| (TrancheId(k), self.mcf.flow(arc)))
            });
            for (k, class, flow) in split_group(inflow, outflow) {
                out.push(PlanFlow {
                    period: t,
                    arrival: t,
                    tranche: k,
                    class,
                    region: self.facts.classes[class.0].region,
                    tokens_per_minute: flow * unit,
                });
            }
        }
        out.sort_by_key(|x| (x.tranche, x.class));
        out
    }

    /// The penalty the network prices unserved demand at, $ per million tokens.
    pub fn penalty(&self) -> f64 {
        self.penalty
    }
}

/// The N-1 blocks of one period at a time: a max flow per lost provider.
pub struct LossNetwork<'a> {
    facts: &'a Facts,
    unit: f64,
    coverage: f64,
    penalty: f64,
    maxflow: MaxFlow,
    source: Node,
    sink: Node,
    groups: SupplyGroups,
    /// Per group: source → group arc.
    group_arcs: Vec<ArcId>,
    route_arcs: Vec<ArcId>,
    /// Per class: class → sink arc.
    class_arcs: Vec<ArcId>,
    group_nodes: Vec<Node>,
}

/// One N-1 block solved: the lost provider, what the others' capacity cannot carry per region
/// (tokens per minute), and which groups' capacity is binding (their tranches' capacity has
/// marginal value = the penalty).
pub struct LossBlock {
    pub lost: ProviderId,
    pub shortfall_tpm: f64,
    binding_groups: Vec<bool>,
}

impl<'a> LossNetwork<'a> {
    pub fn new(facts: &'a Facts, policy: &Policy) -> LossNetwork<'a> {
        let groups = SupplyGroups::of(facts);
        let n_g = groups.len();
        let n_c = facts.classes.len();
        let source = 0;
        let group_node = |g: usize| 1 + g;
        let class_node = |c: usize| 1 + n_g + c;
        let sink = 1 + n_g + n_c;
        let mut shape = Shape::new(sink + 1);
        let group_arcs = (0..n_g)
            .map(|g| shape.arc(source, group_node(g), 0.0))
            .collect();
        let mut route_arcs = Vec::new();
        for (g, routes) in groups.routes.iter().enumerate() {
            for &(c, _) in routes {
                route_arcs.push(shape.arc(group_node(g), class_node(c.0), 0.0));
            }
        }
        let class_arcs = (0..n_c)
            .map(|c| shape.arc(class_node(c), sink, 0.0))
            .collect();
        LossNetwork {
            facts,
            unit: flow_unit(facts),
            coverage: policy.loss_coverage,
            penalty: policy.resilience_penalty,
            maxflow: MaxFlow::new(&shape),
            source,
            sink,
            group_nodes: (0..n_g).map(group_node).collect(),
            groups,
            group_arcs,
            route_arcs,
            class_arcs,
        }
    }

    /// Solves the N-1 block of period t for losing `lost`, given z. With `per_class`, also
    /// returns the shortfall of each class (one of the optimal splits; the total is unique).
    pub fn solve(
        &mut self,
        t: PeriodId,
        capacity_fraction: &[f64],
        lost: ProviderId,
        per_class: Option<&mut Vec<(ClassId, f64)>>,
    ) -> LossBlock {
        let facts = self.facts;
        let unit = self.unit;
        let demand = &facts.class_demand_tpm[t.0];
        let need: f64 = demand.iter().map(|d| d * self.coverage).sum::<f64>() / unit;
        let room = 2.0 * need;
        let mut group_capacity = vec![0.0; self.groups.len()];
        for (k, f) in facts.tranches.iter().enumerate() {
            if f.provider == lost {
                continue;
            }
            if let Some(g) = self.groups.of_tranche[k] {
                group_capacity[g] +=
                    facts.available_tpm[t.0][k] * capacity_fraction[k].max(0.0) / unit;
            }
        }
        for (g, &arc) in self.group_arcs.iter().enumerate() {
            self.maxflow.set_capacity(arc, group_capacity[g].min(room));
        }
        for &arc in &self.route_arcs {
            self.maxflow.set_capacity(arc, room);
        }
        for (c, &arc) in self.class_arcs.iter().enumerate() {
            self.maxflow
                .set_capacity(arc, demand[c] * self.coverage / unit);
        }
        let tiny = 1e-12 * need;
        let carried = if need > 0.0 {
            self.maxflow.solve(self.source, self.sink, tiny)
        } else {
            0.0
        };
        let short = (need - carried).max(0.0);
        let binding_groups = if short > tiny {
            // The capacity of a group that can still reach an unmet region is worth the penalty
            // (the right derivative: one more unit of it is carried).
            let reaches = self.maxflow.reaches_sink(self.sink, tiny);
            self.group_nodes.iter().map(|&v| reaches[v]).collect()
        } else {
            vec![false; self.groups.len()]
        };
        if let Some(out) = per_class {
            out.clear();
            for (c, &arc) in self.class_arcs.iter().enumerate() {
                let need = demand[c] * self.coverage;
                let got = self.maxflow.flow(arc) * unit;
                if need > 0.0 {
                    out.push((ClassId(c), (need - got).max(0.0)));
                }
            }
        }
        LossBlock {
            lost,
            shortfall_tpm: short * unit,
            binding_groups,
        }
    }

    /// A solved block's cost in $ over period t (the resilience penalty on its shortfall), and
    /// its subgradient in z added to `slope`.
    pub fn dollars_and_slope(&self, t: PeriodId, block: &LossBlock, slope: &mut [f64]) -> f64 {
        let facts = self.facts;
        let million = facts.period_minutes[t.0] / TOKENS_PER_MILLION;
        for (k, f) in facts.tranches.iter().enumerate() {
            if f.provider == block.lost {
                continue;
            }
            let Some(g) = self.groups.of_tranche[k] else {
                continue;
            };
            if block.binding_groups[g] {
                slope[k] -= self.penalty * facts.available_tpm[t.0][k] * million;
            }
        }
        self.penalty * block.shortfall_tpm * million
    }
}

/// The flows of one period given the capacity z each tranche brings (1 for on-demand), with the
/// share cap when `share_cap`; the demand each region leaves unserved is demand − served.
pub fn dispatch_period(
    network: &mut PlanNetwork,
    t: PeriodId,
    capacity_fraction: &[f64],
) -> Result<Vec<PlanFlow>> {
    network.solve(t, capacity_fraction)?;
    Ok(network.flows())
}

/// One period's optimal dispatch cost given z, in dollars — the plan network (usage, route and
/// unserved penalty) plus, with `loss`, every N-1 block's resilience penalty — with its
/// subgradient in z added to `slope`. The decomposition's subproblem: exact, from the same
/// networks as the dispatch.
pub fn period_value(
    plan: &mut PlanNetwork,
    loss: Option<&mut LossNetwork>,
    t: PeriodId,
    capacity_fraction: &[f64],
    slope: &mut [f64],
) -> Result<f64> {
    plan.solve(t, capacity_fraction)?;
    let mut dollars = plan.dollars();
    plan.add_slope(slope);
    if let Some(loss) = loss {
        for q in 0..plan.facts.providers.len() {
            let block = loss.solve(t, capacity_fraction, ProviderId(q), None);
            dollars += loss.dollars_and_slope(t, &block, slope);
        }
    }
    Ok(dollars)
}
