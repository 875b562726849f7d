//! Model stage, decomposed solve of the planning LP over the reservations z. The reserved
//! fractions (a few dozen numbers) are all that couple the periods: given z, each period is a
//! small network problem (plus its N-1 copies), solved exactly by `flow::period_value`, which
//! also returns the period cost's subgradient in z from the capacity arcs' duals. A cutting-plane
//! master over z and one cost variable per block of periods (multi-cut) closes the gap between the
//! best plan evaluated (an upper bound) and the master's optimum (a lower bound):
//!
//!   min Σk commit(k)·z(k) + Σb θ(b)   s.t.   θ(b) ≥ F_b(z_i) + g_b(z_i)·(z − z_i)  for every z_i
//!
//! The master is solved by a simplex (microlp, exact vertices; a few hundred rows), and stabilised
//! by in-out steps: the next point is halfway between the best point so far and the master's,
//! and the master's own point whenever the halfway cut fails to cut it off, so convergence
//! is that of Kelley's method, with far fewer iterations when many tranches are partly reserved.
//! Block sums are reduced in a fixed order, so results do not depend on the number of threads.
//!
//! With deferral the periods are coupled by the backlog: the horizon is cut into parts, and the
//! backlog crossing each border is a master variable y beside z (cuts in z and y, one cost
//! variable per part; `waiting::Parts`); with whole blocks or in robust plans the horizon stays
//! one network per cost variable.
//!
//! Three parts: the `Evaluator` (every period's network given z, cuts per block), the `CutPool`
//! (the cuts found so far, idle ones retired) and the `Master` (the LP over z and the block costs);
//! `solve` runs the stabilised loop over them.

use std::time::Instant;

use rayon::prelude::*;

use super::branch;
use super::flow::{LossNetwork, PlanNetwork};
use super::solve::{solve_lp, SolverKind};
use super::waiting::{LossHorizon, Parts, PlanHorizon};
use super::{BuildOptions, Col, Column, Reservations, Row, RowKey, Sense};
use crate::error::{Error, Result};
use crate::facts::{Facts, PeriodId, ProviderId, TrancheId};
use crate::scenario::Scenario;

/// The relative gap (upper − lower bound) / |upper| at which the decomposition stops.
pub const RELATIVE_GAP: f64 = 1e-9;

/// Iterations after which the decomposition gives up (reported as a solver error).
const MAX_ITERATIONS: usize = 1000;

/// At most this many cost variables (blocks of consecutive periods) in the master: more blocks
/// mean fewer iterations but a larger master.
const MAX_BLOCKS: usize = 64;

/// The in-out step: the next point is this far from the best point towards the master's (0.5
/// took the fewest iterations among 0.2–1.0 on the hourly benchmark cases).
const IN_OUT_STEP: f64 = 0.5;

/// Below this relative gap every step is Kelley's (the master's vertex).
const KELLEY_BELOW_GAP: f64 = 1e-4;

/// The same with deferral, where one cut an evaluation describes the whole horizon: in-out steps
/// pay off longer there (iterations 78 → 65 on the synthetic hourly year, 85 → 67 with N-1,
/// 26 → 23 on the bundled hourly batch scenario, against 1e-4).
const HORIZON_KELLEY_BELOW_GAP: f64 = 1e-6;

/// How the decomposition went, for `--timings` and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Convergence {
    pub iterations: usize,
    /// Points at which every period was evaluated.
    pub evaluations: usize,
    pub blocks: usize,
    pub cuts: usize,
    /// The master's optimum and the best plan's objective, $ (the whole objective).
    pub lower_bound: f64,
    pub upper_bound: f64,
    pub relative_gap: f64,
    pub master_seconds: f64,
    pub subproblem_seconds: f64,
    /// The whole-block search after the relaxation, when reservations come in whole blocks.
    pub whole_blocks: Option<branch::Stats>,
}

/// The optimal reservations, per tranche in scenario order (1 for tranches without a decision),
/// and how they were found.
#[derive(Debug, Clone)]
pub struct Decomposed {
    pub z: Vec<f64>,
    pub convergence: Convergence,
    /// With whole blocks: the optimum without the whole-block rule (the LP relaxation), $.
    pub relaxation_objective: Option<f64>,
}

/// One cut of a block: θ ≥ intercept + Σ slope(k)·z(k), in dollars.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    pub(crate) intercept: f64,
    pub(crate) slope: Vec<f64>,
}

impl Cut {
    /// The cut's value at z.
    pub(crate) fn value(&self, z: &[f64]) -> f64 {
        self.intercept + self.slope.iter().zip(z).map(|(g, z)| g * z).sum::<f64>()
    }

    /// The cut as a master row under the cost variable `theta`: Σ g·z − θ ≤ −intercept, in
    /// master units of `dollars_per_unit` (the decisions are the master's first columns).
    pub(crate) fn row(&self, key: RowKey, theta: Col, dollars_per_unit: f64) -> Row {
        let mut terms: Vec<(Col, f64)> = self
            .slope
            .iter()
            .enumerate()
            .filter(|(_, g)| **g != 0.0)
            .map(|(k, g)| (Col(k), g / dollars_per_unit))
            .collect();
        terms.push((theta, -1.0));
        Row {
            key,
            terms,
            sense: Sense::Le,
            rhs: -self.intercept / dollars_per_unit,
        }
    }
}

/// The periods of the build split into consecutive blocks, one cost variable each.
pub(crate) fn blocks(periods: &[PeriodId]) -> Vec<&[PeriodId]> {
    if periods.is_empty() {
        return Vec::new();
    }
    let n = periods.len().min(MAX_BLOCKS);
    let size = periods.len().div_ceil(n);
    periods.chunks(size).collect()
}

/// Every period's cost given the decision fractions, summed per block in period order, with the
/// block's subgradient over the decision tranches: one plan network (and N-1 network) per block,
/// kept across evaluations, each period starting from the one before it in the block (the same
/// on any number of threads: blocks are fixed).
pub(crate) struct Evaluator<'a> {
    facts: &'a Facts,
    tranches: usize,
    /// The tranches with a reservation decision (the master's z, in this order).
    pub(crate) decisions: Vec<usize>,
    pub(crate) blocks: Vec<&'a [PeriodId]>,
    networks: Vec<(PlanNetwork<'a>, Option<LossNetwork<'a>>)>,
    /// With deferral the periods are coupled: the plan's dispatch (over the whole horizon, or
    /// in parts joined by border variables) and each lost provider's block are the cost
    /// variables instead (`waiting`), `blocks` is empty.
    horizon: Option<(Vec<PlanHorizon>, Vec<LossHorizon>)>,
    /// The bound of each border variable (flow units), the master's columns after the
    /// decisions: the backlog each part hands to the next.
    pub(crate) border_bounds: Vec<f64>,
}

/// At most this many parts of the horizon with deferral, when it is cut (`waiting::Parts`).
const MAX_PARTS: usize = 26;

impl<'a> Evaluator<'a> {
    /// The evaluator of `options`; with deferral, `in_parts` cuts the plan's horizon into parts
    /// with border variables (cuts in z and the border variables), else it is one network
    /// (cuts in z only).
    pub(crate) fn new(
        s: &Scenario,
        facts: &'a Facts,
        options: &'a BuildOptions,
        in_parts: bool,
    ) -> Evaluator<'a> {
        let decisions = (0..facts.tranches.len())
            .filter(|&k| facts.tranches[k].has_reservation_decision)
            .collect();
        if facts.defers() {
            debug_assert!(
                !options.share_cap,
                "no network carries a share cap with deferral"
            );
            let unit = options.scale.tokens_per_minute_per_unit;
            let n_1 = options.provider_loss.then_some(&s.policy);
            let parts = in_parts
                .then(|| Parts::new(facts, unit, MAX_PARTS, n_1))
                .flatten();
            let (plans, losses, border_bounds) = match parts {
                // The N-1 blocks are among the parts.
                Some(parts) => (parts.plans, Vec::new(), parts.bounds),
                None => {
                    let losses = (0..facts.providers.len())
                        .filter(|_| options.provider_loss)
                        .map(|q| LossHorizon::new(facts, &s.policy, unit, ProviderId(q)))
                        .collect();
                    (vec![PlanHorizon::new(facts, unit)], losses, Vec::new())
                }
            };
            return Evaluator {
                facts,
                tranches: facts.tranches.len(),
                decisions,
                blocks: Vec::new(),
                networks: Vec::new(),
                horizon: Some((plans, losses)),
                border_bounds,
            };
        }
        let blocks = blocks(&options.periods);
        let networks = blocks
            .iter()
            .map(|_| {
                (
                    PlanNetwork::new(facts, &s.policy, options.share_cap),
                    options
                        .provider_loss
                        .then(|| LossNetwork::new(facts, &s.policy)),
                )
            })
            .collect();
        Evaluator {
            facts,
            tranches: facts.tranches.len(),
            decisions,
            blocks,
            networks,
            horizon: None,
            border_bounds: Vec::new(),
        }
    }

    /// The number of cost variables in the master: blocks of periods, or with deferral the
    /// plan's dispatch and each N-1 block.
    pub(crate) fn block_count(&self) -> usize {
        match &self.horizon {
            Some((plans, losses)) => plans.len() + losses.len(),
            None => self.blocks.len(),
        }
    }

    /// z of every tranche from the decisions' fractions (1 for the others: on-demand).
    pub(crate) fn full_z(&self, zd: &[f64]) -> Vec<f64> {
        let mut z = vec![1.0; self.tranches];
        for (i, &k) in self.decisions.iter().enumerate() {
            z[k] = zd[i];
        }
        z
    }

    /// One cut per block at the decision fractions and border variables `point` (the
    /// decisions first).
    pub(crate) fn evaluate(
        &mut self,
        point: &[f64],
        convergence: &mut Convergence,
    ) -> Result<Vec<Cut>> {
        let started = Instant::now();
        let z = self.full_z(point);
        let (n_k, decisions, facts) = (self.tranches, &self.decisions, self.facts);
        let y = &point[decisions.len()..];
        let n_y = self.border_bounds.len();
        let cut = |dollars: f64, slope: Vec<f64>, border_slope: Vec<f64>| {
            let slope: Vec<f64> = decisions
                .iter()
                .map(|&k| slope[k])
                .chain(border_slope)
                .collect();
            let intercept = dollars - slope.iter().zip(point).map(|(g, z)| g * z).sum::<f64>();
            Cut { intercept, slope }
        };
        let cuts = if let Some((plans, losses)) = &mut self.horizon {
            // The plan's dispatch and the N-1 blocks are separate networks: solved side by side.
            let (plan_cuts, loss_cuts) = rayon::join(
                || {
                    plans
                        .par_iter_mut()
                        .map(|plan| {
                            let mut slope = vec![0.0; n_k];
                            let mut border_slope = vec![0.0; n_y];
                            plan.solve(facts, &z, y)?;
                            plan.add_slope(facts, &mut slope, &mut border_slope);
                            Ok(cut(plan.dollars(), slope, border_slope))
                        })
                        .collect::<Result<Vec<Cut>>>()
                },
                || {
                    losses
                        .par_iter_mut()
                        .map(|block| {
                            let mut slope = vec![0.0; n_k];
                            let shortfall = block.solve(facts, &z)?;
                            block.add_slope(facts, shortfall, &mut slope);
                            Ok(cut(block.dollars(shortfall), slope, vec![0.0; n_y]))
                        })
                        .collect::<Result<Vec<Cut>>>()
                },
            );
            let mut cuts = plan_cuts?;
            cuts.extend(loss_cuts?);
            cuts
        } else {
            self.networks
                .par_iter_mut()
                .zip(self.blocks.par_iter())
                .map(|((plan, loss), periods)| {
                    let mut slope = vec![0.0; n_k];
                    let mut dollars = 0.0;
                    for &t in periods.iter() {
                        dollars +=
                            super::flow::period_value(plan, loss.as_mut(), t, &z, &mut slope)?;
                    }
                    Ok(cut(dollars, slope, Vec::new()))
                })
                .collect::<Result<Vec<Cut>>>()?
        };
        convergence.evaluations += 1;
        convergence.subproblem_seconds += started.elapsed().as_secs_f64();
        Ok(cuts)
    }
}

/// Master solves in a row after which a cut slack at the master's vertex is dropped. The master
/// then has fewer rows; its optimum stays a lower bound (fewer cuts only lower it), so the gap
/// test is unchanged, and a dropped cut that matters again is found again by evaluation.
const CUT_AGE_LIMIT: usize = 5;

/// The cuts of every block found so far, with how many master solves in a row each has been
/// slack at the master's vertex.
struct CutPool {
    blocks: Vec<Vec<(Cut, usize)>>,
}

impl CutPool {
    /// A pool holding one evaluation's cuts.
    fn new(first: Vec<Cut>) -> CutPool {
        CutPool {
            blocks: first.into_iter().map(|c| vec![(c, 0)]).collect(),
        }
    }

    /// Adds an evaluation's cuts (one per block), skipping any a block already has; returns
    /// the (block, index) of those added.
    fn add(&mut self, cuts: Vec<Cut>) -> Vec<(usize, usize)> {
        let mut added = Vec::new();
        for (b, (block, cut)) in self.blocks.iter_mut().zip(cuts).enumerate() {
            if !block.iter().any(|(c, _)| *c == cut) {
                added.push((b, block.len()));
                block.push((cut, 0));
            }
        }
        added
    }

    /// A block's cutting-plane model at z: its highest cut, and at least 0 (θ ≥ 0).
    fn block_value(cuts: &[(Cut, usize)], z: &[f64]) -> f64 {
        cuts.iter().map(|(c, _)| c.value(z)).fold(0.0f64, f64::max)
    }

    /// The cutting-plane model of the dispatch cost at z: every block's model, summed.
    fn model_value(&self, z: &[f64]) -> f64 {
        self.blocks.iter().map(|b| CutPool::block_value(b, z)).sum()
    }

    /// Ages every block's cuts at the master's vertex and drops those slack for
    /// `CUT_AGE_LIMIT` solves (never a block's newest cut).
    fn retire_idle(&mut self, zm: &[f64]) {
        for cuts in &mut self.blocks {
            let top = CutPool::block_value(cuts, zm);
            let tolerance = 1e-9 * top.abs().max(1.0);
            for (c, age) in cuts.iter_mut() {
                if c.value(zm) < top - tolerance {
                    *age += 1;
                } else {
                    *age = 0;
                }
            }
            let newest = cuts.len().saturating_sub(1);
            let mut i = 0;
            cuts.retain(|(_, age)| {
                let keep = *age < CUT_AGE_LIMIT || i == newest;
                i += 1;
                keep
            });
        }
    }

    fn len(&self) -> usize {
        self.blocks.iter().map(Vec::len).sum()
    }
}

/// The master LP: the commitment of the decision fractions plus one cost variable per block,
/// each above every cut of its block; numbers in units of `dollars_per_unit` so the simplex sees
/// numbers near 1.
struct Master {
    /// What reserving all of each decision tranche costs over the built periods, $.
    commit_dollars: Vec<f64>,
    /// The least fraction of each (min_commit).
    lower: Vec<f64>,
    /// The reservation step of each (block_gpus / gpus) where reservations come in whole blocks.
    steps: Vec<Option<f64>>,
    /// The border variables' bounds (flow units): the columns after the decisions.
    borders: Vec<f64>,
    dollars_per_unit: f64,
}

impl Master {
    /// The commitment of decision fractions z, in dollars.
    fn commitment(&self, z: &[f64]) -> f64 {
        self.commit_dollars.iter().zip(z).map(|(c, z)| c * z).sum()
    }

    /// The master's whole model at z, $: commitment plus the pool's model of the dispatch.
    fn value(&self, pool: &CutPool, z: &[f64]) -> f64 {
        self.commitment(z) + pool.model_value(z)
    }

    /// The row of cut `i` of block `b`: Σ g·z − θ(b) ≤ −intercept, in master units.
    fn cut_row(&self, b: usize, i: usize, cut: &Cut) -> Row {
        let theta = Col(self.commit_dollars.len() + self.borders.len() + b);
        cut.row(
            RowKey::Cut { block: b, cut: i },
            theta,
            self.dollars_per_unit,
        )
    }

    /// The master LP within lower ≤ z ≤ upper: the decisions' fractions, then one cost per
    /// block above each of its cuts.
    fn lp(&self, pool: &CutPool, lower: &[f64], upper: &[f64]) -> (Vec<Column>, Vec<Row>) {
        let rows = pool
            .blocks
            .iter()
            .enumerate()
            .flat_map(|(b, cuts)| {
                cuts.iter()
                    .enumerate()
                    .map(move |(i, (cut, _))| self.cut_row(b, i, cut))
            })
            .collect();
        (self.columns(pool.blocks.len(), lower, upper), rows)
    }

    /// The master's columns: the decisions' fractions within lower ≤ z ≤ upper, the border
    /// variables (free of cost, within their bounds), then the cost of each of `blocks` blocks.
    fn columns(&self, blocks: usize, lower: &[f64], upper: &[f64]) -> Vec<Column> {
        let unit = self.dollars_per_unit;
        let mut columns: Vec<Column> = (0..self.commit_dollars.len())
            .map(|i| Column {
                lower: lower[i],
                upper: Some(upper[i]),
                cost: self.commit_dollars[i] / unit,
                integer: false,
            })
            .collect();
        columns.extend(self.borders.iter().map(|&bound| Column {
            lower: 0.0,
            upper: Some(bound),
            cost: 0.0,
            integer: false,
        }));
        // Every period's dispatch cost is ≥ 0 (prices and penalties are), so θ ≥ 0.
        columns.extend((0..blocks).map(|_| Column {
            lower: 0.0,
            upper: None,
            cost: 1.0,
            integer: false,
        }));
        columns
    }

    /// The master's vertex within lower ≤ z ≤ upper and its optimum in dollars (recomputed
    /// from the vertex).
    fn solve(&self, pool: &CutPool, lower: &[f64], upper: &[f64]) -> Result<(Vec<f64>, f64)> {
        let (columns, rows) = self.lp(pool, lower, upper);
        let (values, _) = solve_lp(&columns, &rows, SolverKind::Microlp)?;
        let zm: Vec<f64> = values[..self.commit_dollars.len()]
            .iter()
            .zip(lower.iter().zip(upper))
            .map(|(v, (l, u))| v.clamp(*l, *u))
            .chain(
                values[self.commit_dollars.len()..]
                    .iter()
                    .zip(&self.borders)
                    .map(|(v, b)| v.clamp(0.0, *b)),
            )
            .collect();
        let optimum = self.value(pool, &zm);
        Ok((zm, optimum))
    }
}

/// The decomposition's master under the whole-block search: its LP, the periods' evaluation
/// (whose new cuts join the pool and the rows) and the model.
struct BlockSearch<'m, 'a> {
    master: &'m Master,
    pool: &'m mut CutPool,
    /// The LP rows of the pool's cuts, in the order they were added.
    rows: Vec<Row>,
    evaluator: &'m mut Evaluator<'a>,
    convergence: &'m mut Convergence,
}

impl branch::Master for BlockSearch<'_, '_> {
    fn lp(&self, lower: &[f64], upper: &[f64]) -> (Vec<Column>, Vec<Row>) {
        let columns = self.master.columns(self.pool.blocks.len(), lower, upper);
        (columns, self.rows.clone())
    }

    fn cut_count(&self) -> usize {
        self.rows.len()
    }

    fn cut_rows(&self, since: usize) -> Vec<Row> {
        self.rows[since..].to_vec()
    }

    fn evaluate(&mut self, z: &[f64]) -> Result<f64> {
        let cuts = self.evaluator.evaluate(z, self.convergence)?;
        let value = self.master.commitment(z) + cuts.iter().map(|c| c.value(z)).sum::<f64>();
        for (b, i) in self.pool.add(cuts) {
            let row = self.master.cut_row(b, i, &self.pool.blocks[b][i].0);
            self.rows.push(row);
        }
        Ok(value)
    }

    fn model(&self, z: &[f64]) -> f64 {
        self.master.value(self.pool, z)
    }

    fn kinks(&self, z: &[f64]) -> Vec<Vec<f64>> {
        self.pool
            .blocks
            .iter()
            .flat_map(|cuts| kinks_of(cuts, z))
            .collect()
    }

    fn progress(&self, nodes: usize, gap: f64) {
        progress("whole-block search", nodes, gap);
    }
}

/// The kinks of one cost variable's model at z (`branch::Master::kinks`): the slopes of the cuts
/// that hold it up at z (within 1e-9 of the highest, relative), each minus the first's; or each
/// such cut's own slope where the floor θ ≥ 0 holds it too.
pub(crate) fn kinks_of(cuts: &[(Cut, usize)], z: &[f64]) -> Vec<Vec<f64>> {
    let values: Vec<f64> = cuts.iter().map(|(c, _)| c.value(z)).collect();
    let top = values.iter().copied().fold(0.0f64, f64::max);
    let tolerance = 1e-9 * top.abs().max(1.0);
    let tight: Vec<&Cut> = cuts
        .iter()
        .zip(&values)
        .filter(|(_, v)| **v >= top - tolerance)
        .map(|((c, _), _)| c)
        .collect();
    if top <= tolerance {
        // At the floor: every tight cut's slope is a kink against θ = 0.
        return tight.iter().map(|c| c.slope.clone()).collect();
    }
    tight
        .iter()
        .skip(1)
        .map(|c| {
            c.slope
                .iter()
                .zip(&tight[0].slope)
                .map(|(a, b)| a - b)
                .collect()
        })
        .collect()
}

/// What is told of a decomposition's iterations: `iteration 12: gap 3.1e-3`.
pub type Reporter = Box<dyn Fn(&str)>;

thread_local! {
    /// Told of each iteration of a decomposition on this thread (`with_progress`).
    static PROGRESS: std::cell::RefCell<Option<Reporter>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with `report` told of each iteration of every decomposition it solves on this thread
/// (`iteration 12: gap 3.1e-3`): the CLI's spinner shows how a long solve advances. Solves on
/// other threads (a sweep's points) are not reported.
pub fn with_progress<T>(report: Reporter, f: impl FnOnce() -> T) -> T {
    let before = PROGRESS.with(|p| p.borrow_mut().replace(report));
    let out = f();
    PROGRESS.with(|p| *p.borrow_mut() = before);
    out
}

/// Tells the reporter of this thread, if any, how far a decomposition is.
fn progress(stage: &str, iterations: usize, gap: f64) {
    PROGRESS.with(|p| {
        if let Some(report) = p.borrow().as_ref() {
            report(&format!("{stage} iteration {iterations}: gap {gap:.1e}"));
        }
    });
}

/// The relative gap of bounds.
fn relative_gap(upper: f64, lower: f64) -> f64 {
    (upper - lower) / upper.abs().max(1.0)
}

/// Solves the planning LP of `options` (z decided) by decomposition over z, starting from full
/// reservations, or from `start` (z per tranche, e.g. a monolithic LP's optimum to polish into an
/// exact vertex).
pub fn solve(
    s: &Scenario,
    facts: &Facts,
    options: &BuildOptions,
    start: Option<&[f64]>,
) -> Result<Decomposed> {
    debug_assert!(matches!(options.reservations, Reservations::Decided));
    // Whole blocks branch on the decisions alone: the horizon stays whole there.
    let whole_blocks = options.whole_blocks
        && facts
            .tranches
            .iter()
            .any(|t| t.has_reservation_decision && t.reservation_step.is_some());
    let mut evaluator = Evaluator::new(s, facts, options, !whole_blocks);
    let decisions = evaluator.decisions.clone();
    let mut master = Master {
        commit_dollars: decisions
            .iter()
            .map(|&k| facts.commit_dollars_in(TrancheId(k), &options.periods))
            .collect(),
        lower: decisions
            .iter()
            .map(|&k| facts.tranches[k].min_commit)
            .collect(),
        steps: decisions
            .iter()
            .map(|&k| facts.tranches[k].reservation_step)
            .collect(),
        borders: evaluator.border_bounds.clone(),
        dollars_per_unit: 1.0,
    };
    let mut convergence = Convergence {
        blocks: evaluator.block_count(),
        ..Convergence::default()
    };
    let objective_at = |master: &Master, zd: &[f64], cuts: &[Cut]| -> f64 {
        master.commitment(zd) + cuts.iter().map(|c| c.value(zd)).sum::<f64>()
    };

    // Start with every decision fully reserved (the cuts there price capacity everywhere), or
    // at the given point.
    let mut center: Vec<f64> = match start {
        Some(z) => decisions
            .iter()
            .zip(&master.lower)
            .map(|(&k, &l)| {
                if z[k].is_nan() {
                    1.0
                } else {
                    z[k].clamp(l, 1.0)
                }
            })
            .collect(),
        None => vec![1.0; decisions.len()],
    };
    // Border variables start at nothing crossing.
    center.extend(master.borders.iter().map(|_| 0.0));
    let first = evaluator.evaluate(&center, &mut convergence)?;
    let mut upper = objective_at(&master, &center, &first);
    if decisions.is_empty() {
        convergence.upper_bound = upper;
        convergence.lower_bound = upper;
        return Ok(Decomposed {
            z: evaluator.full_z(&center),
            convergence,
            relaxation_objective: None,
        });
    }
    let mut pool = CutPool::new(first);
    // Master units: dollars over the first upper bound, so the simplex sees numbers near 1.
    master.dollars_per_unit = upper.abs().max(1.0);
    let ones = vec![1.0; decisions.len()];
    let lower_all: Vec<f64> = master
        .lower
        .iter()
        .copied()
        .chain(master.borders.iter().map(|_| 0.0))
        .collect();
    let upper_all: Vec<f64> = ones.iter().chain(&master.borders).copied().collect();
    let mut step = IN_OUT_STEP;
    // One cut describes the whole horizon: in-out steps pay off longer there. In parts (one
    // cut per part), Kelley's steps from 1e-4 took fewer iterations than from 1e-3 or 1e-5.
    let kelley_below_gap = if evaluator.horizon.is_some() && master.borders.is_empty() {
        HORIZON_KELLEY_BELOW_GAP
    } else {
        KELLEY_BELOW_GAP
    };
    let mut lower_bound = f64::NEG_INFINITY;
    let last_master = loop {
        convergence.iterations += 1;
        if convergence.iterations > MAX_ITERATIONS {
            return Err(Error::Solver(format!(
                "the decomposition did not reach a relative gap of {RELATIVE_GAP:e} in {MAX_ITERATIONS} iterations (gap {:.2e}); use --method monolithic",
                relative_gap(upper, lower_bound)
            )));
        }
        let started = Instant::now();
        let (zm, master_value) = master.solve(&pool, &lower_all, &upper_all)?;
        convergence.master_seconds += started.elapsed().as_secs_f64();
        lower_bound = lower_bound.max(master_value);
        // With border variables no cut is dropped: the master then cycled (a year in 48-hour
        // parts stalled at a gap of 5e-7 for hundreds of iterations, dropping and finding again
        // the same cuts). Kelley's method without drops converges in finitely many steps.
        if master.borders.is_empty() {
            pool.retire_idle(&zm);
        }
        let gap = relative_gap(upper, lower_bound);
        progress("decomposition", convergence.iterations, gap);
        if gap <= RELATIVE_GAP {
            break zm;
        }
        // In-out: a point between the best so far and the master's. Close to the optimum the
        // master's cutting-plane model is exact around it, and halving the distance would only
        // converge geometrically: evaluate the master's vertex itself (Kelley), which ends it.
        if gap < kelley_below_gap {
            step = 1.0;
        }
        let query: Vec<f64> = center
            .iter()
            .zip(&zm)
            .map(|(c, m)| c + step * (m - c))
            .collect();
        let cuts = evaluator.evaluate(&query, &mut convergence)?;
        let at_query = objective_at(&master, &query, &cuts);
        pool.add(cuts);
        // Do the new cuts raise the master's model at its own point (separating cuts)?
        let separates =
            master.value(&pool, &zm) > master_value + RELATIVE_GAP * upper.abs().max(1.0);
        if at_query < upper {
            upper = at_query;
            center = query;
        }
        // A cut that misses the master's point leaves the lower bound where it is: evaluate the
        // master's point itself next time (Kelley's step), which always separates.
        step = if separates { IN_OUT_STEP } else { 1.0 };
    };
    // Prefer the master's vertex when it is as good as the best point (exact reservations).
    let mut z = center;
    if last_master != z {
        let cuts = evaluator.evaluate(&last_master, &mut convergence)?;
        let at_master = objective_at(&master, &last_master, &cuts);
        if at_master <= upper + RELATIVE_GAP * upper.abs().max(1.0) {
            upper = upper.min(at_master);
            z = last_master;
        }
    }
    debug_assert_eq!(
        whole_blocks,
        options.whole_blocks && master.steps.iter().any(Option::is_some)
    );
    let mut relaxation_objective = None;
    if whole_blocks {
        // Whole blocks: our branch and bound over the master (`branch`), from the relaxation's
        // cuts, its optimum (the root's bound) and its point rounded (the first plans).
        relaxation_objective = Some(upper);
        let decisions = branch::Decisions {
            lower: &master.lower,
            steps: &master.steps,
        };
        let rows = master.lp(&pool, &master.lower, &ones).1;
        let found = branch::search(
            &mut BlockSearch {
                master: &master,
                pool: &mut pool,
                rows,
                evaluator: &mut evaluator,
                convergence: &mut convergence,
            },
            &decisions,
            &z,
            lower_bound.min(upper),
            RELATIVE_GAP,
            branch::Start::MicrolpFirst,
        )?;
        convergence.master_seconds += found.stats.master_seconds;
        convergence.iterations += found.stats.master_lps;
        convergence.whole_blocks = Some(found.stats);
        z = found.z;
        upper = found.value;
        lower_bound = found.bound;
    }
    convergence.cuts = pool.len();
    convergence.upper_bound = upper;
    convergence.lower_bound = lower_bound;
    convergence.relative_gap = relative_gap(upper, lower_bound).max(0.0);
    Ok(Decomposed {
        z: evaluator.full_z(&z),
        convergence,
        relaxation_objective,
    })
}
